//! Issue 4: the OpenTelemetry Rust SDK (crates.io `opentelemetry_sdk` + `opentelemetry-otlp`)
//! exports over OTLP/HTTP, protobuf and JSON, and (issue 20) over OTLP/gRPC with tonic,
//! gzip-compressed, to a real spanview; everything is read back
//! exactly: ids, ns times, every attribute type the API has (including arrays and 64-bit
//! integers past 2^53), events with attributes, links with attributes, kinds and error status.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Link, Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, KeyValue, StringValue, Value as OtelValue};
use opentelemetry_otlp::{Compression, Protocol, WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Value, json};
use spanview_e2e::Spanview;

/// 2023-11-14T22:13:20.000000001Z plus `offset_nanos`.
fn at(offset_nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_001 + offset_nanos)
}

fn nanos(time: SystemTime) -> String {
    time.duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .to_string()
}

struct Exported {
    trace_id: String,
    root_span_id: String,
    child_span_id: String,
    linked_trace_id: String,
    linked_span_id: String,
}

/// How the test's spans leave the SDK.
#[derive(Clone, Copy)]
enum Transport {
    Http(Protocol),
    /// OTLP/gRPC with tonic, gzip-compressed.
    Grpc,
}

fn export(spanview: &Spanview, transport: Transport) -> Exported {
    // tonic's channel runs on a tokio runtime; the SDK's simple processor blocks on each export
    // from this thread.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let _entered = matches!(transport, Transport::Grpc).then(|| runtime.enter());
    let exporter = match transport {
        Transport::Http(protocol) => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(spanview.url("/v1/traces"))
            .with_protocol(protocol)
            .build(),
        Transport::Grpc => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(format!("http://{}", spanview.grpc_address()))
            .with_compression(Compression::Gzip)
            .build(),
    }
    .expect("exporter");
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name("rust-checkout")
                .with_attribute(KeyValue::new("deployment.environment", "e2e"))
                .build(),
        )
        // One export per ended span, so the spans of the trace arrive in separate requests.
        .with_simple_exporter(exporter)
        .build();
    let tracer = provider.tracer("spanview-e2e-rust");

    // A span of another trace, for the link.
    let mut other = tracer
        .span_builder("background job")
        .with_start_time(at(0))
        .start(&tracer);
    let linked = other.span_context().clone();
    other.end_with_timestamp(at(1_000));

    let mut root = tracer
        .span_builder("GET /checkout")
        .with_kind(SpanKind::Server)
        .with_start_time(at(10))
        .with_attributes([
            KeyValue::new("http.method", "GET"),
            KeyValue::new("http.status_code", 500i64),
            KeyValue::new("big.int", 9_007_199_254_740_993i64),
            KeyValue::new("cart.total", 12.5f64),
            KeyValue::new("cache.hit", false),
            KeyValue::new(
                "tags",
                OtelValue::Array(Array::String(vec![
                    StringValue::from("a"),
                    StringValue::from("<b>"),
                ])),
            ),
            KeyValue::new("ids", OtelValue::Array(Array::I64(vec![1, -2, 3]))),
            KeyValue::new("ratios", OtelValue::Array(Array::F64(vec![0.5, 1.25]))),
            KeyValue::new("flags", OtelValue::Array(Array::Bool(vec![true, false]))),
        ])
        .start(&tracer);
    root.add_event_with_timestamp(
        "cache miss",
        at(500),
        vec![
            KeyValue::new("cache.key", "cart:42"),
            KeyValue::new("attempt", 2i64),
        ],
    );
    root.set_status(Status::error("payment declined"));
    let root_context = opentelemetry::Context::current_with_span(root);
    let mut child = tracer
        .span_builder("SELECT carts")
        .with_kind(SpanKind::Client)
        .with_start_time(at(100))
        .with_links(vec![Link::new(
            linked.clone(),
            vec![KeyValue::new("link.reason", "retry of")],
            0,
        )])
        .start_with_context(&tracer, &root_context);
    let child_span_id = child.span_context().span_id().to_string();
    child.end_with_timestamp(at(2_000_000_123));
    let root_span = root_context.span();
    let root_span_id = root_span.span_context().span_id().to_string();
    let trace_id = root_span.span_context().trace_id().to_string();
    root_span.end_with_timestamp(at(3_000_000_000));
    provider.force_flush().expect("flush");
    provider.shutdown().expect("shutdown");
    Exported {
        trace_id,
        root_span_id,
        child_span_id,
        linked_trace_id: linked.trace_id().to_string(),
        linked_span_id: linked.span_id().to_string(),
    }
}

fn attribute(attributes: &Value, key: &str) -> Value {
    attributes
        .as_array()
        .and_then(|all| all.iter().find(|kv| kv["key"] == key))
        .map(|kv| kv["value"].clone())
        .unwrap_or(Value::Null)
}

fn check(transport: Transport) {
    let spanview = Spanview::start(&[]);
    let sent = export(&spanview, transport);
    let trace = spanview.get_json(&format!("/api/traces/{}", sent.trace_id));
    let spans = trace["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 2, "{trace:#}");
    let span = |id: &str| {
        spans
            .iter()
            .find(|span| span["spanId"] == id)
            .expect("span by id")
    };

    let root = span(&sent.root_span_id);
    assert_eq!(root["traceId"], sent.trace_id.as_str());
    assert_eq!(root["name"], "GET /checkout");
    assert_eq!(root["kind"], "server");
    assert!(root.get("parentSpanId").is_none());
    assert_eq!(root["startNanos"], nanos(at(10)));
    assert_eq!(root["endNanos"], nanos(at(3_000_000_000)));
    assert_eq!(
        root["status"],
        json!({ "code": "error", "message": "payment declined" })
    );
    let attributes = &root["attributes"];
    assert_eq!(
        attribute(attributes, "http.method"),
        json!({ "stringValue": "GET" })
    );
    assert_eq!(
        attribute(attributes, "http.status_code"),
        json!({ "intValue": 500 })
    );
    assert_eq!(
        attribute(attributes, "big.int"),
        json!({ "intValue": 9_007_199_254_740_993i64 })
    );
    assert_eq!(
        attribute(attributes, "cart.total"),
        json!({ "doubleValue": 12.5 })
    );
    assert_eq!(
        attribute(attributes, "cache.hit"),
        json!({ "boolValue": false })
    );
    assert_eq!(
        attribute(attributes, "tags"),
        json!({ "arrayValue": [{ "stringValue": "a" }, { "stringValue": "<b>" }] })
    );
    assert_eq!(
        attribute(attributes, "ids"),
        json!({ "arrayValue": [{ "intValue": 1 }, { "intValue": -2 }, { "intValue": 3 }] })
    );
    assert_eq!(
        attribute(attributes, "ratios"),
        json!({ "arrayValue": [{ "doubleValue": 0.5 }, { "doubleValue": 1.25 }] })
    );
    assert_eq!(
        attribute(attributes, "flags"),
        json!({ "arrayValue": [{ "boolValue": true }, { "boolValue": false }] })
    );
    assert_eq!(
        root["events"],
        json!([{
            "name": "cache miss",
            "timeNanos": nanos(at(500)),
            "attributes": [
                { "key": "cache.key", "value": { "stringValue": "cart:42" } },
                { "key": "attempt", "value": { "intValue": 2 } },
            ],
        }])
    );

    let child = span(&sent.child_span_id);
    assert_eq!(child["parentSpanId"], sent.root_span_id.as_str());
    assert_eq!(child["kind"], "client");
    assert_eq!(child["startNanos"], nanos(at(100)));
    assert_eq!(child["endNanos"], nanos(at(2_000_000_123)));
    assert_eq!(
        child["links"],
        json!([{
            "traceId": sent.linked_trace_id,
            "spanId": sent.linked_span_id,
            "attributes": [{ "key": "link.reason", "value": { "stringValue": "retry of" } }],
        }])
    );
    let resource = &trace["resources"][root["resourceIdx"].as_u64().unwrap() as usize];
    assert_eq!(
        attribute(&resource["attributes"], "service.name"),
        json!({ "stringValue": "rust-checkout" })
    );
    assert_eq!(
        attribute(&resource["attributes"], "deployment.environment"),
        json!({ "stringValue": "e2e" })
    );
    let scope = &trace["scopes"][root["scopeIdx"].as_u64().unwrap() as usize];
    assert_eq!(scope["name"], "spanview-e2e-rust");
}

#[test]
fn otlp_http_protobuf_from_rust_round_trips_exactly() {
    check(Transport::Http(Protocol::HttpBinary));
}

#[test]
fn otlp_http_json_from_rust_round_trips_exactly() {
    check(Transport::Http(Protocol::HttpJson));
}

#[test]
fn otlp_grpc_gzip_from_rust_tonic_round_trips_exactly() {
    check(Transport::Grpc);
}
