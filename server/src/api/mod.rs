//! HTTP endpoints, one module per area.

pub mod error;
pub mod otlp;
pub mod traces;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::cors::{Any, CorsLayer};

use crate::AppState;

pub fn router(state: AppState) -> Router {
    // Browser SDKs (the OTel web exporter) export cross-origin.
    let otlp_cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any);
    // Compressed bodies are bounded here; decompressed size is bounded while inflating.
    let body_limit = DefaultBodyLimit::max(state.limits.max_body_bytes);
    Router::new()
        .route("/v1/traces", post(otlp::traces_export).layer(otlp_cors))
        .route("/api/traces", get(traces::traces_list))
        .route("/api/traces/{trace_id}", get(traces::trace_get))
        .route("/healthz", get(|| async { "ok" }))
        .layer(body_limit)
        .with_state(state)
}
