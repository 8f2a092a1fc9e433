//! spanview's server: the OTLP/HTTP receiver, the query API and the embedded web UI on one
//! address. `main.rs` parses the command line; everything testable lives here.

pub mod api;
pub mod demo;
pub mod grpc;
pub mod import;
pub mod ingest;
pub mod live_feed;
pub mod metrics;
pub mod origin_policy;
pub mod retention;
pub mod state;
pub mod store;
pub mod tls;
pub mod ui;

// The tests crate's rule for tests that need something from outside (fail under `CI`, else
// skip loudly), shared as a file: this crate cannot depend on the tests crate.
#[cfg(test)]
#[path = "../../tests/src/skip.rs"]
mod test_skip;

use axum::Router;

pub use crate::state::{AppState, Limits};

/// The whole HTTP application: receiver, API, health check and UI.
pub fn app(state: AppState) -> Router {
    let origin_guard = axum::middleware::from_fn_with_state(state.clone(), api::origin::guard);
    api::router(state)
        .fallback(ui::serve_asset)
        .layer(origin_guard)
        .layer(
            // Failures are logged where they are understood (a store failure once in
            // `api::error`, a full disk once per episode by the store), not per response here.
            tower_http::trace::TraceLayer::new_for_http().on_failure(
                tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG),
            ),
        )
}
