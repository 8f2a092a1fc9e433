//! The model as OTLP, through `opentelemetry-proto`'s generated types: "Export as OTLP" (JSON or
//! protobuf), and the tests' requests.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as proto_common;
use opentelemetry_proto::tonic::trace::v1 as proto_trace;
use prost::Message;

use crate::model::{AnyValue, Batch, KeyValue, Span};

/// The batch as an `ExportTraceServiceRequest`: spans grouped by resource, then scope, in order of
/// first appearance. The reference decoding (`reference::from_request`) reads it back to the same spans.
pub fn to_request(batch: &Batch) -> ExportTraceServiceRequest {
    use std::collections::HashMap;
    let mut request = ExportTraceServiceRequest::default();
    let mut resource_position: HashMap<u32, usize> = HashMap::new();
    let mut scope_position: HashMap<(u32, u32), usize> = HashMap::new();
    for span in &batch.spans {
        let resource_at = position(
            &mut resource_position,
            span.resource_idx,
            &mut request.resource_spans,
            || {
                let resource = batch
                    .resources
                    .get(span.resource_idx as usize)
                    .cloned()
                    .unwrap_or_default();
                proto_trace::ResourceSpans {
                    resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                        attributes: proto_attributes(&resource.attributes),
                        ..Default::default()
                    }),
                    scope_spans: Vec::new(),
                    schema_url: resource.schema_url,
                }
            },
        );
        let resource_spans = &mut request.resource_spans[resource_at];
        let scope_at = position(
            &mut scope_position,
            (span.resource_idx, span.scope_idx),
            &mut resource_spans.scope_spans,
            || {
                let scope = batch
                    .scopes
                    .get(span.scope_idx as usize)
                    .cloned()
                    .unwrap_or_default();
                proto_trace::ScopeSpans {
                    scope: Some(proto_common::InstrumentationScope {
                        name: scope.name,
                        version: scope.version,
                        attributes: proto_attributes(&scope.attributes),
                        ..Default::default()
                    }),
                    spans: Vec::new(),
                    schema_url: scope.schema_url,
                }
            },
        );
        resource_spans.scope_spans[scope_at]
            .spans
            .push(proto_span(span));
    }
    request
}

/// Where `key`'s entry sits in `list`, appending `make()` on the key's first appearance.
fn position<K: std::hash::Hash + Eq, T>(
    positions: &mut std::collections::HashMap<K, usize>,
    key: K,
    list: &mut Vec<T>,
    make: impl FnOnce() -> T,
) -> usize {
    *positions.entry(key).or_insert_with(|| {
        list.push(make());
        list.len() - 1
    })
}

/// The batch in the OTLP JSON mapping (hex ids, 64-bit integers as strings): "Export as OTLP".
pub fn encode_json(batch: &Batch) -> String {
    serde_json::to_string(&to_request(batch)).unwrap_or_default()
}

pub fn encode_protobuf(batch: &Batch) -> Vec<u8> {
    to_request(batch).encode_to_vec()
}

fn proto_span(span: &Span) -> proto_trace::Span {
    proto_trace::Span {
        trace_id: span.trace_id.0.to_vec(),
        span_id: span.span_id.0.to_vec(),
        trace_state: span.trace_state.clone(),
        parent_span_id: span
            .parent_span_id
            .map_or_else(Vec::new, |parent| parent.0.to_vec()),
        flags: span.flags,
        name: span.name.clone(),
        kind: span.kind.to_otlp(),
        start_time_unix_nano: span.start_nanos,
        end_time_unix_nano: span.end_nanos,
        attributes: proto_attributes(&span.attributes),
        dropped_attributes_count: span.dropped.attributes,
        events: span
            .events
            .iter()
            .map(|event| proto_trace::span::Event {
                time_unix_nano: event.time_nanos,
                name: event.name.clone(),
                attributes: proto_attributes(&event.attributes),
                ..Default::default()
            })
            .collect(),
        dropped_events_count: span.dropped.events,
        links: span
            .links
            .iter()
            .map(|link| proto_trace::span::Link {
                trace_id: link.trace_id.0.to_vec(),
                span_id: link.span_id.0.to_vec(),
                trace_state: link.trace_state.clone(),
                attributes: proto_attributes(&link.attributes),
                ..Default::default()
            })
            .collect(),
        dropped_links_count: span.dropped.links,
        status: Some(proto_trace::Status {
            message: span.status.message.clone(),
            code: span.status.code.to_otlp(),
        }),
    }
}

fn proto_attributes(attributes: &[KeyValue]) -> Vec<proto_common::KeyValue> {
    attributes
        .iter()
        .map(|attribute| proto_common::KeyValue {
            key: attribute.key.clone(),
            value: Some(proto_value(&attribute.value)),
            ..Default::default()
        })
        .collect()
}

fn proto_value(value: &AnyValue) -> proto_common::AnyValue {
    use proto_common::any_value::Value;
    let value = match value {
        AnyValue::String(text) => Some(Value::StringValue(text.clone())),
        AnyValue::Bool(flag) => Some(Value::BoolValue(*flag)),
        AnyValue::Int(number) => Some(Value::IntValue(*number)),
        AnyValue::Double(number) => Some(Value::DoubleValue(*number)),
        AnyValue::Bytes(bytes) => Some(Value::BytesValue(bytes.clone())),
        AnyValue::Array(values) => Some(Value::ArrayValue(proto_common::ArrayValue {
            values: values.iter().map(proto_value).collect(),
        })),
        AnyValue::KvList(pairs) => Some(Value::KvlistValue(proto_common::KeyValueList {
            values: proto_attributes(pairs),
        })),
        AnyValue::Empty => None,
    };
    proto_common::AnyValue { value }
}
