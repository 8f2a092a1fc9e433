//! HTTP endpoints, one module per area.

pub mod auth;
pub mod body;
pub mod compare;
pub mod demo;
pub mod error;
pub mod import;
pub mod live;
pub mod origin;
pub mod otlp;
pub mod services;
pub mod traces;
pub mod zipkin;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::AppState;

pub fn router(state: AppState) -> Router {
    // CORS (only ingest, only for --cors-origins) and the Host check are in `origin::guard`.
    // Compressed bodies are bounded here; decompressed size is bounded while inflating.
    let body_limit = DefaultBodyLimit::max(state.limits.max_body_bytes);
    let protected = Router::new()
        .route("/v1/traces", post(otlp::traces_export))
        .route("/api/v2/spans", post(zipkin::spans_post))
        .route("/api/services", get(services::services_list))
        .route("/api/services/overview", get(services::services_overview))
        .route("/api/services/map", get(services::services_map))
        .route(
            "/api/services/{service}/performance",
            get(services::service_performance),
        )
        .route(
            "/api/services/{service}/operations",
            get(services::operations_list),
        )
        .route("/api/traces", get(traces::traces_search))
        .route("/api/traces/{trace_id}", get(traces::trace_get))
        .route("/api/import", post(import::import_post))
        .route("/api/compare", post(compare::compare_post))
        .route("/api/compare/groups", post(compare::compare_groups_post))
        .route("/api/live", get(live::live_get))
        .route("/api/demo", get(demo::demo_get).post(demo::demo_post))
        .route("/metrics", get(metrics_get))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .merge(protected)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz_get))
        .layer(body_limit)
        .with_state(state)
}

/// Zipkin's collector API alone, for `--zipkin-listen` (Zipkin's port 9411), so apps configured
/// for a Zipkin server send to spanview unchanged; the same host, origin and CORS rules as the
/// main address.
pub fn zipkin_router(state: AppState) -> Router {
    Router::new()
        .route("/api/v2/spans", post(zipkin::spans_post))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), origin::guard))
        .with_state(state)
}

/// OTLP/HTTP ingest alone (`POST /v1/traces`), with the main address's host, origin, token and
/// body rules: what the demo services export to when the main address serves TLS (they speak
/// plain HTTP), on a loopback listener of its own.
pub fn otlp_router(state: AppState) -> Router {
    let body_limit = DefaultBodyLimit::max(state.limits.max_body_bytes);
    Router::new()
        .route("/v1/traces", post(otlp::traces_export))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(body_limit)
        .layer(middleware::from_fn_with_state(state.clone(), origin::guard))
        .with_state(state)
}

/// Whether the store answers queries now (`/healthz` only says the process is up): `503` with
/// the reason while a ClickHouse store waits for its server.
async fn readyz_get(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.store.clone();
    let readiness = tokio::task::spawn_blocking(move || store.readiness())
        .await
        .unwrap_or_else(|join_error| Err(join_error.to_string()));
    match readiness {
        Ok(()) => (axum::http::StatusCode::OK, "ready".to_owned()),
        Err(reason) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}

async fn metrics_get(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.store.clone();
    let store_bytes = error::blocking(move || store.size_bytes())
        .await
        .unwrap_or(0);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(store_bytes),
    )
}
