//! order-service: `GET /orders/{order_id}`, the order-detail page. It loads the order, then calls
//! user-, product-, inventory- and promotion-service. 1.4.0 calls them one after the other;
//! 1.5.0 fetches the user and the products concurrently.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Router, middleware};
use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt;

use crate::db::Query;
use crate::instrumentation::{
    CallError, Downstream, RequestContext, ServiceContext, record_exception, trace_requests,
};

/// The services an order page needs.
pub struct Downstreams {
    pub users: Downstream,
    pub products: Downstream,
    pub inventory: Downstream,
    pub promotions: Downstream,
}

struct OrderService {
    service: Arc<ServiceContext>,
    downstreams: Downstreams,
    concurrent_fetch: bool,
}

pub fn router(service: Arc<ServiceContext>, downstreams: Downstreams, fixed: bool) -> Router {
    let state = Arc::new(OrderService {
        service: service.clone(),
        downstreams,
        concurrent_fetch: fixed,
    });
    Router::new()
        .route("/orders/{order_id}", get(order_get))
        .route_layer(middleware::from_fn_with_state(service, trace_requests))
        .route("/healthz", get(super::healthz))
        .with_state(state)
}

/// The customer of an order (the scenario's order 12345 belongs to user 6789).
pub fn user_of(order_id: u64) -> u64 {
    if order_id == 12345 {
        6789
    } else {
        6000 + order_id % 1000
    }
}

const PRODUCT_IDS: &str = "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,\
                           26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50";

async fn order_get(
    State(order): State<Arc<OrderService>>,
    Path(order_id): Path<u64>,
    Extension(request): Extension<RequestContext>,
) -> (StatusCode, String) {
    match order_page(&order, order_id, &request).await {
        Ok(()) => (StatusCode::OK, format!("order {order_id}: 50 items")),
        Err(error) => {
            record_exception(
                &request.cx,
                "order_service::UpstreamError",
                &error.to_string(),
            );
            (StatusCode::BAD_GATEWAY, error.to_string())
        }
    }
}

async fn order_page(
    order: &OrderService,
    order_id: u64,
    request: &RequestContext,
) -> Result<(), CallError> {
    let service = &order.service;
    let downstreams = &order.downstreams;
    let user_id = user_of(order_id);
    let mut timeline = service.pace.timeline();

    timeline.after(5.0).await;
    let query_ms = service.latency(request, 50.0);
    Query::mysql(
        "orders",
        "SELECT",
        "orders",
        "SELECT * FROM orders WHERE id = ?",
    )
    .with([KeyValue::new("db.rows_returned", 1)])
    .run_for(service, request, query_ms)
    .await;
    timeline.took(query_ms);
    request.cx.span().add_event(
        "order loaded",
        vec![
            KeyValue::new("order.id", order_id as i64),
            KeyValue::new("order.items", 50),
        ],
    );

    let user_path = format!("/users/{user_id}");
    let products_path = format!("/products/batch?ids={PRODUCT_IDS}");
    timeline.after(5.0).await;
    let user = if order.concurrent_fetch {
        let (user, products) = tokio::join!(
            service.get(request, &downstreams.users, &user_path),
            service.get(request, &downstreams.products, &products_path),
        );
        let (user, products) = (user?, products?);
        // Together they take as long as the slower one, planned at 120 ms.
        let slower = user.server_time.max(products.server_time);
        timeline.took_remote(120.0, slower);
        user
    } else {
        let user = service.get(request, &downstreams.users, &user_path).await?;
        timeline.took_remote(80.0, user.server_time);
        timeline.after(5.0).await;
        let products = service
            .get(request, &downstreams.products, &products_path)
            .await?;
        timeline.took_remote(120.0, products.server_time);
        user
    };
    let tier = user.body;
    // Downstream services see the customer's tier in the baggage from here on.
    let request = request.with_baggage(vec![KeyValue::new("customer.tier", tier)]);

    timeline.after(5.0).await;
    let stock = service
        .get(
            &request,
            &downstreams.inventory,
            &format!("/stock?product_ids={PRODUCT_IDS}"),
        )
        .await?;
    timeline.took_remote(60.0, stock.server_time);

    timeline.after(5.0).await;
    let discounts = service
        .get(
            &request,
            &downstreams.promotions,
            &format!("/discounts?user_id={user_id}&order_id={order_id}"),
        )
        .await;
    match discounts {
        Ok(discounts) => timeline.took_remote(60.0, discounts.server_time),
        Err(error) => {
            timeline.took(40.0);
            timeline.after(5.0).await;
            return Err(error);
        }
    }

    // Rendering the page.
    let render_ms = service.latency(&request, if order.concurrent_fetch { 40.0 } else { 65.0 });
    timeline.after(render_ms).await;
    Ok(())
}
