//! product-list: `GET /products`, the catalogue page. 2.0.0 looks up each product's category in
//! its own query, inside a loop (the N+1 pattern: 21 queries, 4200 ms); 2.1.0 reads all 20
//! categories in one batched query (2 queries, 280 ms).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Router, middleware};
use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, TraceContextExt};

use crate::db::Query;
use crate::instrumentation::{RequestContext, ServiceContext, trace_requests};

const N_PRODUCTS: u64 = 20;

pub fn router(service: Arc<ServiceContext>, batched: bool) -> Router {
    let products = if batched {
        get(products_get_batched)
    } else {
        get(products_get_one_by_one)
    };
    Router::new()
        .route("/products", products)
        .route_layer(middleware::from_fn_with_state(
            service.clone(),
            trace_requests,
        ))
        .route("/healthz", get(super::healthz))
        .with_state(service)
}

async fn select_products(service: &ServiceContext, request: &RequestContext) -> f64 {
    let query_ms = service.latency(request, 50.0);
    Query::mysql(
        "catalog",
        "SELECT",
        "products",
        "SELECT * FROM products LIMIT 20",
    )
    .with([KeyValue::new("db.rows_returned", N_PRODUCTS as i64)])
    .run_for(service, request, query_ms)
    .await;
    query_ms
}

/// 2.0.0: one query per product, each inside its loop iteration's span.
async fn products_get_one_by_one(
    State(service): State<Arc<ServiceContext>>,
    Extension(request): Extension<RequestContext>,
) -> &'static str {
    let mut timeline = service.pace.timeline();
    let products_ms = select_products(&service, &request).await;
    timeline.took(products_ms);
    for product_id in 1..=N_PRODUCTS {
        let iteration = service.child_span(
            &request.cx,
            format!("fetch category for product {product_id}"),
            SpanKind::Internal,
            vec![KeyValue::new("product.id", product_id as i64)],
        );
        timeline.after(10.0).await;
        let query_ms = service.latency(&request, 180.0);
        Query::mysql(
            "catalog",
            "SELECT",
            "categories",
            format!("SELECT * FROM categories WHERE id = {product_id}"),
        )
        .with([KeyValue::new("db.rows_returned", 1)])
        .run(&service, &iteration, query_ms)
        .await;
        timeline.took(query_ms);
        timeline.after(10.0).await;
        iteration.span().end();
    }
    timeline.after(150.0).await;
    "20 products"
}

/// 2.1.0: one batched category query.
async fn products_get_batched(
    State(service): State<Arc<ServiceContext>>,
    Extension(request): Extension<RequestContext>,
) -> &'static str {
    let mut timeline = service.pace.timeline();
    let products_ms = select_products(&service, &request).await;
    timeline.took(products_ms);
    timeline.after(10.0).await;
    let query_ms = service.latency(&request, 200.0);
    Query::mysql(
        "catalog",
        "SELECT",
        "categories",
        "SELECT * FROM categories WHERE id IN (?)",
    )
    .named("mysql.query.categories")
    .with([
        KeyValue::new("batch_size", N_PRODUCTS as i64),
        KeyValue::new("db.rows_returned", N_PRODUCTS as i64),
    ])
    .run_for(&service, &request, query_ms)
    .await;
    timeline.took(query_ms);
    timeline.after(20.0).await;
    "20 products"
}
