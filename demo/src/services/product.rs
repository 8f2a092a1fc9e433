//! product-service: `GET /products/batch?ids=…`, a cache read and a query for the misses, 120 ms.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Router, middleware};
use opentelemetry::KeyValue;

use crate::db::Query;
use crate::instrumentation::{RequestContext, ServiceContext, trace_requests};

pub fn router(service: Arc<ServiceContext>) -> Router {
    Router::new()
        .route("/products/batch", get(products_batch_get))
        .route_layer(middleware::from_fn_with_state(
            service.clone(),
            trace_requests,
        ))
        .route("/healthz", get(super::healthz))
        .with_state(service)
}

async fn products_batch_get(
    State(service): State<Arc<ServiceContext>>,
    Extension(request): Extension<RequestContext>,
) -> &'static str {
    let mut timeline = service.pace.timeline();
    timeline.after(5.0).await;
    let cache_ms = service.latency(&request, 20.0);
    Query::redis(
        "MGET product:*",
        "MGET",
        "MGET product:1 product:2 … product:50",
    )
    .with([
        KeyValue::new("cache.hits", 38),
        KeyValue::new("cache.misses", 12),
    ])
    .run_for(&service, &request, cache_ms)
    .await;
    timeline.took(cache_ms);
    timeline.after(5.0).await;
    let query_ms = service.latency(&request, 80.0);
    Query::mysql(
        "catalog",
        "SELECT",
        "products",
        "SELECT id, name, price_cents FROM products WHERE id IN (?)",
    )
    .with([KeyValue::new("db.rows_returned", 12)])
    .run_for(&service, &request, query_ms)
    .await;
    timeline.took(query_ms);
    timeline.after(10.0).await;
    "50 products"
}
