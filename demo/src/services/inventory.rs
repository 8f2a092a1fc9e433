//! inventory-service: `GET /api/v1/inventory/stock`. Version 2.3.0 reads the cache with one key
//! pattern that always misses and queries MySQL without an index on `product_id` (2800 ms, the
//! scenario's hot spot); 2.4.0 batch-reads the cache (48 of 50 hit) and queries the two misses
//! through the new index (60 ms).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Router, middleware};
use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, TraceContextExt};

use crate::db::Query;
use crate::instrumentation::{RequestContext, ServiceContext, trace_requests};

/// Where the service's API is mounted; spans are named by the path inside it (`GET /stock`).
pub const PREFIX: &str = "/api/v1/inventory";

/// Background requests (after the fix) whose cache entries had expired.
const CACHE_EXPIRY_RATE: f64 = 0.12;
/// Background requests (after the fix) that wait for a row lock.
const LOCK_WAIT_RATE: f64 = 0.08;

const SLOW_STATEMENT: &str = "SELECT product_id, quantity, warehouse_id\n  FROM inventory\n \
                              WHERE product_id IN (1, 2, 3, ..., 50)\n   AND deleted_at IS NULL";

pub fn router(service: Arc<ServiceContext>, fixed: bool) -> Router {
    let stock = if fixed {
        get(stock_get_fixed)
    } else {
        get(stock_get_unindexed)
    };
    let api = Router::new()
        .route("/stock", stock)
        .route_layer(middleware::from_fn_with_state(
            service.clone(),
            trace_requests,
        ))
        .with_state(service);
    Router::new()
        .nest(PREFIX, api)
        .route("/healthz", get(super::healthz))
}

/// The scenario's attributes of the request span, read by a person looking for the cause.
fn stock_attributes(request: &RequestContext, cache_hit: bool) {
    request.cx.span().set_attributes([
        KeyValue::new("db.system", "mysql"),
        KeyValue::new(
            "db.statement",
            "SELECT * FROM inventory WHERE product_ids IN (1,2,3,...,50)",
        ),
        KeyValue::new("db.rows_affected", 50),
        KeyValue::new("inventory.cache_hit", cache_hit),
    ]);
}

/// 2.3.0: cache miss (10 ms), then a full scan of 1.5 M rows (2750 ms).
async fn stock_get_unindexed(
    State(service): State<Arc<ServiceContext>>,
    Extension(request): Extension<RequestContext>,
) -> &'static str {
    stock_attributes(&request, false);
    let mut timeline = service.pace.timeline();
    timeline.after(5.0).await;
    let cache_ms = service.latency(&request, 10.0);
    Query::redis(
        "GET cache:inventory:*",
        "GET",
        "GET cache:inventory:products:1-50",
    )
    .with([
        KeyValue::new("cache.hit", false),
        KeyValue::new("cache.hits", 0),
        KeyValue::new("cache.misses", 50),
    ])
    .run_for(&service, &request, cache_ms)
    .await;
    timeline.took(cache_ms);
    request.cx.span().add_event(
        "cache miss",
        vec![
            KeyValue::new("cache.key", "cache:inventory:products:1-50"),
            KeyValue::new("cache.misses", 50),
        ],
    );
    timeline.after(5.0).await;

    let execution_ms = service.latency(&request, 2700.0);
    let fetch_ms = service.latency(&request, 50.0);
    let mysql = Query::mysql("inventory", "SELECT", "inventory", SLOW_STATEMENT)
        .with([
            KeyValue::new("db.execution_time_ms", execution_ms.round() as i64),
            KeyValue::new("db.rows_examined", 1_500_000),
            KeyValue::new("db.rows_returned", 50),
        ])
        .start(&service, &request.cx);
    let execution = service.child_span(&mysql, "Query Execution", SpanKind::Internal, vec![]);
    service.pace.work(execution_ms).await;
    execution.span().end();
    let fetch = service.child_span(&mysql, "Result Fetch", SpanKind::Internal, vec![]);
    service.pace.work(fetch_ms).await;
    fetch.span().end();
    mysql.span().end();
    timeline.took(execution_ms + fetch_ms);
    timeline.after(30.0).await;
    "50 stock levels"
}

/// 2.4.0: batched cache read (48 of 50 hit, 50 ms), the 2 misses through the index (8 ms).
async fn stock_get_fixed(
    State(service): State<Arc<ServiceContext>>,
    Extension(request): Extension<RequestContext>,
) -> &'static str {
    let expired = request.is_background() && service.rng.chance(CACHE_EXPIRY_RATE);
    let lock_wait_ms = if request.is_background() && service.rng.chance(LOCK_WAIT_RATE) {
        service.rng.between(900, 2200) as f64
    } else {
        0.0
    };
    let (hits, misses) = if expired { (0, 50) } else { (48, 2) };
    stock_attributes(&request, !expired);
    let mut timeline = service.pace.timeline();
    timeline.after(1.0).await;
    let cache_ms = service.latency(&request, 50.0);
    Query::redis(
        "GET cache:inventory:*",
        "MGET",
        "MGET cache:inventory:1 cache:inventory:2 … cache:inventory:50",
    )
    .with([
        KeyValue::new("cache.hit", !expired),
        KeyValue::new("cache.hits", hits),
        KeyValue::new("cache.misses", misses),
    ])
    .run_for(&service, &request, cache_ms)
    .await;
    timeline.took(cache_ms);
    if expired {
        request.cx.span().add_event(
            "cache miss",
            vec![
                KeyValue::new("cache.key", "cache:inventory:*"),
                KeyValue::new("cache.misses", 50),
            ],
        );
    }
    let statement = if expired {
        "SELECT product_id, quantity, warehouse_id\n  FROM inventory\n \
         WHERE product_id IN (1, 2, 3, ..., 50)\n   AND deleted_at IS NULL"
    } else {
        "SELECT product_id, quantity, warehouse_id\n  FROM inventory\n \
         WHERE product_id IN (7, 31)\n   AND deleted_at IS NULL"
    };
    let query_ms = service.latency(&request, if expired { 35.0 } else { 8.0 }) + lock_wait_ms;
    let mysql = Query::mysql("inventory", "SELECT", "inventory", statement)
        .with([
            KeyValue::new("db.rows_examined", misses),
            KeyValue::new("db.rows_returned", misses),
            KeyValue::new("db.index", "idx_inventory_product_id"),
        ])
        .start(&service, &request.cx);
    if lock_wait_ms > 0.0 {
        mysql.span().add_event(
            "lock wait",
            vec![KeyValue::new("db.lock_wait_ms", lock_wait_ms as i64)],
        );
    }
    service.pace.work(query_ms).await;
    mysql.span().end();
    timeline.took(query_ms);
    timeline.after(1.0).await;
    "50 stock levels"
}
