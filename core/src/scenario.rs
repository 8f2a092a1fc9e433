//! The reference traces of `shared/scenario.md` (the slow order page and its fix), built in
//! memory. They feed the demo data and the tests, so that both reproduce the scenario's figures.

use crate::ids::{SpanId, TraceId};
use crate::model::{Batch, KeyValue, Resource, Scope, Span, SpanKind, Status, StatusCode, Trace};

pub const SLOW_ORDER_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const FIXED_ORDER_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4737";
pub const N_PLUS_ONE_TRACE_ID: &str = "7a3e5c1d9b2f40e8a6c4d2b0f8e61f01";
pub const BATCHED_PRODUCTS_TRACE_ID: &str = "7a3e5c1d9b2f40e8a6c4d2b0f8e61f02";

const MS: u64 = 1_000_000;

/// The 3.2 s order page: `inventory-service GET /stock` takes 2800 ms, 87.5 % of the total.
pub fn slow_order(trace_id: &str, start_unix_nanos: u64) -> Trace {
    let mut trace = TraceBuilder::new(trace_id, start_unix_nanos);
    let root = trace.span(
        None,
        "order-service",
        "GET /orders/12345",
        SpanKind::Server,
        0,
        3200,
    );
    trace.attributes(root, http_attributes("GET", "/orders/12345", 200));
    let select = trace.span(
        Some(root),
        "database",
        "SELECT orders",
        SpanKind::Client,
        5,
        50,
    );
    trace.attributes(
        select,
        vec![
            KeyValue::new("db.system", "mysql"),
            KeyValue::new("db.statement", "SELECT * FROM orders WHERE id = ?"),
        ],
    );
    let users = trace.span(
        Some(root),
        "user-service",
        "GET /users/6789",
        SpanKind::Server,
        60,
        80,
    );
    trace.attributes(users, http_attributes("GET", "/users/6789", 200));
    let products = trace.span(
        Some(root),
        "product-service",
        "GET /products/batch",
        SpanKind::Server,
        145,
        120,
    );
    trace.attributes(products, http_attributes("GET", "/products/batch", 200));

    let stock = trace.span(
        Some(root),
        "inventory-service",
        "GET /stock",
        SpanKind::Server,
        270,
        2800,
    );
    let mut stock_attributes = http_attributes("GET", "/api/v1/inventory/stock", 200);
    stock_attributes.extend([
        KeyValue::new("db.system", "mysql"),
        KeyValue::new(
            "db.statement",
            "SELECT * FROM inventory WHERE product_ids IN (1,2,3,...,50)",
        ),
        KeyValue::new("db.rows_affected", 50),
        KeyValue::new("inventory.cache_hit", false),
    ]);
    trace.attributes(stock, stock_attributes);
    let cache = trace.span(
        Some(stock),
        "redis",
        "GET cache:inventory:*",
        SpanKind::Client,
        275,
        10,
    );
    trace.attributes(
        cache,
        vec![
            KeyValue::new("db.system", "redis"),
            KeyValue::new("cache.hit", false),
        ],
    );
    let mysql = trace.span(
        Some(stock),
        "mysql",
        "SELECT FROM inventory",
        SpanKind::Client,
        290,
        2750,
    );
    trace.attributes(
        mysql,
        vec![
            KeyValue::new("db.system", "mysql"),
            KeyValue::new(
                "db.statement",
                "SELECT product_id, quantity, warehouse_id\n  FROM inventory\n \
             WHERE product_id IN (1, 2, 3, ..., 50)\n   AND deleted_at IS NULL",
            ),
            KeyValue::new("db.execution_time_ms", 2700),
            KeyValue::new("db.rows_examined", 1_500_000),
            KeyValue::new("db.rows_returned", 50),
        ],
    );
    trace.span(
        Some(mysql),
        "mysql",
        "Query Execution",
        SpanKind::Internal,
        290,
        2700,
    );
    trace.span(
        Some(mysql),
        "mysql",
        "Result Fetch",
        SpanKind::Internal,
        2990,
        50,
    );
    let discounts = trace.span(
        Some(root),
        "promotion-service",
        "GET /discounts",
        SpanKind::Server,
        3075,
        60,
    );
    trace.attributes(discounts, http_attributes("GET", "/discounts", 200));
    trace.finish()
}

/// The same page after the index and the batched cache read: 350 ms.
pub fn fixed_order(trace_id: &str, start_unix_nanos: u64) -> Trace {
    let mut trace = TraceBuilder::new(trace_id, start_unix_nanos);
    let root = trace.span(
        None,
        "order-service",
        "GET /orders/12345",
        SpanKind::Server,
        0,
        350,
    );
    trace.attributes(root, http_attributes("GET", "/orders/12345", 200));
    let select = trace.span(
        Some(root),
        "database",
        "SELECT orders",
        SpanKind::Client,
        5,
        50,
    );
    trace.attributes(
        select,
        vec![
            KeyValue::new("db.system", "mysql"),
            KeyValue::new("db.statement", "SELECT * FROM orders WHERE id = ?"),
        ],
    );
    let users = trace.span(
        Some(root),
        "user-service",
        "GET /users/6789",
        SpanKind::Server,
        60,
        80,
    );
    trace.attributes(users, http_attributes("GET", "/users/6789", 200));
    let products = trace.span(
        Some(root),
        "product-service",
        "GET /products/batch",
        SpanKind::Server,
        60,
        120,
    );
    trace.attributes(products, http_attributes("GET", "/products/batch", 200));
    let stock = trace.span(
        Some(root),
        "inventory-service",
        "GET /stock",
        SpanKind::Server,
        185,
        60,
    );
    let mut stock_attributes = http_attributes("GET", "/api/v1/inventory/stock", 200);
    stock_attributes.extend([
        KeyValue::new("db.system", "mysql"),
        KeyValue::new("inventory.cache_hit", true),
    ]);
    trace.attributes(stock, stock_attributes);
    let cache = trace.span(
        Some(stock),
        "redis",
        "GET cache:inventory:*",
        SpanKind::Client,
        186,
        50,
    );
    trace.attributes(
        cache,
        vec![
            KeyValue::new("db.system", "redis"),
            KeyValue::new("cache.hits", 48),
            KeyValue::new("cache.misses", 2),
        ],
    );
    let mysql = trace.span(
        Some(stock),
        "mysql",
        "SELECT FROM inventory",
        SpanKind::Client,
        236,
        8,
    );
    trace.attributes(
        mysql,
        vec![
            KeyValue::new("db.system", "mysql"),
            KeyValue::new(
                "db.statement",
                "SELECT product_id, quantity, warehouse_id\n  FROM inventory\n \
             WHERE product_id IN (7, 31)\n   AND deleted_at IS NULL",
            ),
            KeyValue::new("db.rows_examined", 2),
            KeyValue::new("db.rows_returned", 2),
        ],
    );
    let discounts = trace.span(
        Some(root),
        "promotion-service",
        "GET /discounts",
        SpanKind::Server,
        250,
        60,
    );
    trace.attributes(discounts, http_attributes("GET", "/discounts", 200));
    trace.finish()
}

/// The product list with an N+1 query: 20 category lookups, each in its own loop span, 4200 ms.
pub fn n_plus_one_products(trace_id: &str, start_unix_nanos: u64) -> Trace {
    let (mut trace, root) = product_list_request(trace_id, start_unix_nanos, 4200);
    for product in 1..=20u64 {
        let loop_start = 50 + (product - 1) * 200;
        let body = trace.span(
            Some(root),
            "loop",
            &format!("fetch category for product {product}"),
            SpanKind::Internal,
            loop_start,
            200,
        );
        let query = trace.span(
            Some(body),
            "database",
            &format!("SELECT categories WHERE id={product}"),
            SpanKind::Client,
            loop_start + 10,
            180,
        );
        trace.attributes(
            query,
            vec![
                KeyValue::new("db.system", "mysql"),
                KeyValue::new(
                    "db.statement",
                    format!("SELECT * FROM categories WHERE id = {product}"),
                ),
            ],
        );
    }
    trace.finish()
}

/// The same list after batching: one category query for all 20 products, 280 ms.
pub fn batched_products(trace_id: &str, start_unix_nanos: u64) -> Trace {
    let (mut trace, root) = product_list_request(trace_id, start_unix_nanos, 280);
    let categories = trace.span(
        Some(root),
        "database",
        "mysql.query.categories",
        SpanKind::Client,
        60,
        200,
    );
    trace.attributes(
        categories,
        vec![
            KeyValue::new("db.system", "mysql"),
            KeyValue::new("db.statement", "SELECT * FROM categories WHERE id IN (?)"),
            KeyValue::new("batch_size", 20),
        ],
    );
    trace.finish()
}

/// The product list's request span and its `SELECT products` query, shared by both versions.
fn product_list_request(
    trace_id: &str,
    start_unix_nanos: u64,
    duration_ms: u64,
) -> (TraceBuilder, SpanId) {
    let mut trace = TraceBuilder::new(trace_id, start_unix_nanos);
    let root = trace.span(
        None,
        "product-list",
        "GET /products",
        SpanKind::Server,
        0,
        duration_ms,
    );
    trace.attributes(root, http_attributes("GET", "/products", 200));
    let products = trace.span(
        Some(root),
        "database",
        "SELECT products",
        SpanKind::Client,
        0,
        50,
    );
    trace.attributes(
        products,
        vec![
            KeyValue::new("db.system", "mysql"),
            KeyValue::new("db.statement", "SELECT * FROM products LIMIT 20"),
            KeyValue::new("db.rows_returned", 20),
        ],
    );
    (trace, root)
}

fn http_attributes(method: &str, url: &str, status_code: i64) -> Vec<KeyValue> {
    vec![
        KeyValue::new("http.method", method),
        KeyValue::new("http.url", url),
        KeyValue::new("http.status_code", status_code),
    ]
}

/// Builds one trace span by span, with one resource per service.
struct TraceBuilder {
    trace_id: TraceId,
    start_unix_nanos: u64,
    batch: Batch,
}

impl TraceBuilder {
    fn new(trace_id: &str, start_unix_nanos: u64) -> Self {
        let batch = Batch {
            scopes: vec![Scope {
                name: "spanview-scenario".into(),
                ..Scope::default()
            }],
            ..Batch::default()
        };
        let trace_id = trace_id.parse().expect("scenario trace ids are valid");
        Self {
            trace_id,
            start_unix_nanos,
            batch,
        }
    }

    fn span(
        &mut self,
        parent: Option<SpanId>,
        service: &str,
        name: &str,
        kind: SpanKind,
        offset_ms: u64,
        duration_ms: u64,
    ) -> SpanId {
        let resource_idx = self.resource_for(service);
        // Span ids: the trace id's last 6 bytes, then a counter, so ids are stable and distinct.
        let mut id_bytes = [0u8; 8];
        id_bytes[..6].copy_from_slice(&self.trace_id.0[10..]);
        id_bytes[7] = (self.batch.spans.len() + 1) as u8;
        let span_id = SpanId(id_bytes);
        let start_nanos = self.start_unix_nanos + offset_ms * MS;
        self.batch.spans.push(Span {
            trace_id: self.trace_id,
            span_id,
            parent_span_id: parent,
            name: name.to_owned(),
            kind,
            start_nanos,
            end_nanos: start_nanos + duration_ms * MS,
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
            status: Status {
                code: StatusCode::Unset,
                message: String::new(),
            },
            trace_state: String::new(),
            flags: 1,
            dropped: Default::default(),
            resource_idx,
            scope_idx: 0,
        });
        span_id
    }

    fn attributes(&mut self, span_id: SpanId, attributes: Vec<KeyValue>) {
        if let Some(span) = self
            .batch
            .spans
            .iter_mut()
            .find(|span| span.span_id == span_id)
        {
            span.attributes.extend(attributes);
        }
    }

    fn resource_for(&mut self, service: &str) -> u32 {
        if let Some(idx) = self
            .batch
            .resources
            .iter()
            .position(|r| r.service_name() == service)
        {
            return idx as u32;
        }
        self.batch.resources.push(Resource {
            attributes: vec![
                KeyValue::new("service.name", service),
                KeyValue::new("service.version", "1.4.2"),
                KeyValue::new("deployment.environment", "demo"),
            ],
            schema_url: String::new(),
        });
        (self.batch.resources.len() - 1) as u32
    }

    fn finish(self) -> Trace {
        Trace {
            trace_id: self.trace_id,
            batch: self.batch,
        }
    }
}

/// A compact span description for tests: ids are small numbers, times are nanosecond offsets.
#[derive(Debug, Clone)]
pub struct SpanSpec {
    pub id: u64,
    pub parent: Option<u64>,
    pub name: &'static str,
    pub start_nanos: u64,
    pub end_nanos: u64,
}

impl SpanSpec {
    pub fn new(id: u64, parent: Option<u64>, name: &'static str, start: u64, end: u64) -> Self {
        Self {
            id,
            parent,
            name,
            start_nanos: start,
            end_nanos: end,
        }
    }
}

/// A trace (id `…01`) of `spans` (from [`spans_from_specs`] or built by hand), with one empty
/// resource and scope.
pub fn trace_of_spans(spans: Vec<Span>) -> Trace {
    Trace {
        trace_id: TraceId([1; 16]),
        batch: Batch {
            resources: vec![Default::default()],
            scopes: vec![Default::default()],
            spans,
        },
    }
}

/// Spans of one trace (id `…01`) with resource and scope index 0.
pub fn spans_from_specs(specs: &[SpanSpec]) -> Vec<Span> {
    let trace_id = TraceId([1; 16]);
    let span_id = |n: u64| SpanId((n + 1).to_be_bytes());
    specs
        .iter()
        .map(|spec| Span {
            trace_id,
            span_id: span_id(spec.id),
            parent_span_id: spec.parent.map(span_id),
            name: spec.name.to_owned(),
            kind: SpanKind::Internal,
            start_nanos: spec.start_nanos,
            end_nanos: spec.end_nanos,
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
            status: Status::default(),
            trace_state: String::new(),
            flags: 0,
            dropped: Default::default(),
            resource_idx: 0,
            scope_idx: 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{format_percent, percent_of};

    #[test]
    fn stock_is_87_5_percent_of_the_slow_order() {
        let trace = slow_order(SLOW_ORDER_TRACE_ID, 1_700_000_000_000_000_000);
        let spans = &trace.batch.spans;
        let total = spans[0].duration_nanos();
        let stock = spans.iter().find(|span| span.name == "GET /stock").unwrap();
        assert_eq!(trace.batch.service_of(stock), "inventory-service");
        assert_eq!(stock.duration_nanos(), 2_800 * MS);
        assert_eq!(
            format_percent(percent_of(stock.duration_nanos(), total)),
            "87.5 %"
        );
    }

    #[test]
    fn the_fix_takes_350_ms() {
        let trace = fixed_order(FIXED_ORDER_TRACE_ID, 0);
        assert_eq!(trace.batch.spans[0].duration_nanos(), 350 * MS);
        assert!(
            trace
                .batch
                .spans
                .iter()
                .all(|span| span.end_nanos <= 350 * MS)
        );
    }
}
