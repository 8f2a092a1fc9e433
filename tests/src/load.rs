//! The synthetic OTLP traffic of the ingest and query benchmarks: batches shaped like real
//! HTTP service traffic, with random-looking ids derived from a run seed, so that a query
//! benchmark can name the traces an ingest run stored.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

/// Spans per trace.
pub const SPANS_PER_TRACE: u64 = 8;

fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A batch shaped like real HTTP service traffic: 8 spans per trace, 6 attributes per span.
pub fn batch(batch_idx: usize, batch_size: usize, run_seed: u64) -> ExportTraceServiceRequest {
    let services = [
        "order-service",
        "user-service",
        "inventory-service",
        "product-service",
    ];
    let mut resource_spans = Vec::new();
    for (service_idx, service) in services.iter().enumerate() {
        let mut spans = Vec::new();
        for span_in_batch in (service_idx..batch_size).step_by(services.len()) {
            let global = (batch_idx * batch_size + span_in_batch) as u64;
            let trace_number = global / SPANS_PER_TRACE;
            // Random-looking ids, as W3C trace context makes them: stores must not rely on
            // ids arriving in order.
            let trace_id = trace_id(run_seed, trace_number);
            let span_id = |n: u64| {
                mix(run_seed.wrapping_mul(31) ^ n)
                    .max(1)
                    .to_be_bytes()
                    .to_vec()
            };
            let start = 1_800_000_000_000_000_000 + global * 1_000_000;
            spans.push(Span {
                trace_id: trace_id.to_vec(),
                span_id: span_id(global),
                parent_span_id: if global.is_multiple_of(8) {
                    Vec::new()
                } else {
                    span_id(global - global % 8)
                },
                name: format!("GET /api/v1/items/{}", global % 20),
                kind: 2,
                start_time_unix_nano: start,
                end_time_unix_nano: start + 1_000_000 + (global % 97) * 10_000,
                attributes: vec![
                    attribute("http.method", any_value::Value::StringValue("GET".into())),
                    attribute(
                        "http.route",
                        any_value::Value::StringValue("/api/v1/items/{id}".into()),
                    ),
                    attribute("http.status_code", any_value::Value::IntValue(200)),
                    attribute(
                        "net.peer.ip",
                        any_value::Value::StringValue(format!("10.0.0.{}", global % 250)),
                    ),
                    attribute(
                        "user.id",
                        any_value::Value::IntValue((global % 5000) as i64),
                    ),
                    attribute(
                        "cache.hit",
                        any_value::Value::BoolValue(global.is_multiple_of(3)),
                    ),
                ],
                status: Some(Status {
                    code: if global.is_multiple_of(50) { 2 } else { 0 },
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        resource_spans.push(ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    attribute(
                        "service.name",
                        any_value::Value::StringValue((*service).into()),
                    ),
                    attribute(
                        "service.version",
                        any_value::Value::StringValue("1.4.2".into()),
                    ),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    ExportTraceServiceRequest { resource_spans }
}

/// splitmix64: a cheap, well-mixed 64-bit hash.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The id of trace number `trace_number` (0-based) of the run with `run_seed`.
pub fn trace_id(run_seed: u64, trace_number: u64) -> [u8; 16] {
    let mut trace_id = [0u8; 16];
    trace_id[..8].copy_from_slice(&mix(run_seed ^ trace_number).to_be_bytes());
    trace_id[8..].copy_from_slice(&mix(trace_number.wrapping_add(run_seed)).to_be_bytes());
    trace_id
}
