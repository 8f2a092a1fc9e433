//! user-service: `GET /users/{user_id}`, one indexed query, 80 ms.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Router, middleware};
use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt;

use crate::db::Query;
use crate::instrumentation::{RequestContext, ServiceContext, trace_requests};

pub fn router(service: Arc<ServiceContext>) -> Router {
    Router::new()
        .route("/users/{user_id}", get(user_get))
        .route_layer(middleware::from_fn_with_state(
            service.clone(),
            trace_requests,
        ))
        .route("/healthz", get(super::healthz))
        .with_state(service)
}

/// The customer tier: the body the order-service reads, and its `customer.tier` baggage.
pub fn tier_of(user_id: u64) -> &'static str {
    if user_id % 2 == 1 { "gold" } else { "standard" }
}

async fn user_get(
    State(service): State<Arc<ServiceContext>>,
    Path(user_id): Path<u64>,
    Extension(request): Extension<RequestContext>,
) -> &'static str {
    let mut timeline = service.pace.timeline();
    timeline.after(5.0).await;
    let query_ms = service.latency(&request, 60.0);
    Query::mysql(
        "users",
        "SELECT",
        "users",
        "SELECT id, name, email_hash, tier FROM users WHERE id = ?",
    )
    .with([KeyValue::new("db.rows_returned", 1)])
    .run_for(&service, &request, query_ms)
    .await;
    timeline.took(query_ms);
    request.cx.span().add_event(
        "user found",
        vec![
            KeyValue::new("user.id", user_id as i64),
            KeyValue::new("customer.tier", tier_of(user_id)),
        ],
    );
    timeline.after(15.0).await;
    tier_of(user_id)
}
