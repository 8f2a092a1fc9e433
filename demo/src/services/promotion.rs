//! promotion-service: `GET /discounts`, 60 ms; fails with recorded exceptions when its database
//! connection drops (the `promotion-outage` scenario, and now and then in background traffic).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Router, middleware};
use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt;

use crate::db::Query;
use crate::instrumentation::{RequestContext, ServiceContext, record_exception, trace_requests};
use crate::scenario::Scenario;

/// Share of background requests that fail.
const FAILURE_RATE: f64 = 0.08;

pub fn router(service: Arc<ServiceContext>) -> Router {
    Router::new()
        .route("/discounts", get(discounts_get))
        .route_layer(middleware::from_fn_with_state(
            service.clone(),
            trace_requests,
        ))
        .route("/healthz", get(super::healthz))
        .with_state(service)
}

async fn discounts_get(
    State(service): State<Arc<ServiceContext>>,
    Extension(request): Extension<RequestContext>,
) -> (StatusCode, &'static str) {
    let mut timeline = service.pace.timeline();
    timeline.after(5.0).await;
    let fails = request.scenario == Some(Scenario::PromotionOutage)
        || (request.is_background() && service.rng.chance(FAILURE_RATE));
    let query = Query::mysql(
        "promotions",
        "SELECT",
        "discounts",
        "SELECT rule_id, percent FROM discounts WHERE customer_tier = ? AND active = 1",
    );
    if fails {
        let query_ms = service.latency(&request, 30.0);
        let cx = query.start(&service, &request.cx);
        service.pace.work(query_ms).await;
        record_exception(
            &cx,
            "mysql::Error",
            "ERROR 2013 (HY000): Lost connection to MySQL server during query",
        );
        cx.span().end();
        timeline.took(query_ms);
        timeline.after(5.0).await;
        record_exception(
            &request.cx,
            "promotion_service::DiscountError",
            "discount rules unavailable: lost connection to MySQL server during query",
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "discount rules unavailable",
        );
    }
    let query_ms = service.latency(&request, 45.0);
    query
        .with([KeyValue::new("db.rows_returned", 2)])
        .run_for(&service, &request, query_ms)
        .await;
    timeline.took(query_ms);
    timeline.after(10.0).await;
    (StatusCode::OK, "2 discounts")
}
