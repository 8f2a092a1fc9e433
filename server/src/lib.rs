//! spanview's server: the OTLP/HTTP receiver, the query API and the embedded web UI on one
//! address. `main.rs` parses the command line; everything testable lives here.

pub mod api;
pub mod demo;
pub mod store;
pub mod ui;

use std::sync::Arc;

use axum::Router;

use crate::store::TraceStore;

/// Limits that protect the server from oversized input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body, after decompression.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 20 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn TraceStore>,
    pub limits: Limits,
}

/// The whole HTTP application: receiver, API, health check and UI.
pub fn app(state: AppState) -> Router {
    api::router(state)
        .fallback(ui::serve_asset)
        .layer(tower_http::trace::TraceLayer::new_for_http())
}
