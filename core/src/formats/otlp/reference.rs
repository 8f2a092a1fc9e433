//! The generated types' decoding (`opentelemetry-proto`, ids validated, the nested
//! resource/scope/span structure flattened into a [`Batch`](crate::model::Batch)): not used to
//! decode anything, only the reference the direct decoders (`json`, `protobuf`) are tested
//! against. Compiled for core's tests and, with the `test-support` feature, for its
//! integration tests.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as proto_common;
use opentelemetry_proto::tonic::trace::v1 as proto_trace;

use super::decoded::Decoded;
use super::ids::{link_ids, span_ids};
use crate::ids::{SpanId, TraceId};
use crate::model::{
    AnyValue, Dropped, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status, StatusCode,
};

pub fn from_request(request: ExportTraceServiceRequest) -> Decoded {
    let mut decoded = Decoded::default();
    for resource_spans in request.resource_spans {
        let resource = resource_spans.resource.unwrap_or_default();
        let resource_idx = decoded.push_resource(Resource {
            attributes: convert_attributes(resource.attributes),
            schema_url: resource_spans.schema_url,
        });
        for scope_spans in resource_spans.scope_spans {
            let scope = scope_spans.scope.unwrap_or_default();
            let scope_idx = decoded.push_scope(Scope {
                name: scope.name,
                version: scope.version,
                attributes: convert_attributes(scope.attributes),
                schema_url: scope_spans.schema_url,
            });
            for span in scope_spans.spans {
                decoded.keep_or_reject(convert_span(span, resource_idx, scope_idx));
            }
        }
    }
    decoded
}

/// The span in the model, or its name and what is wrong with it (the name is copied only then).
fn convert_span(
    span: proto_trace::Span,
    resource_idx: u32,
    scope_idx: u32,
) -> Result<Span, (String, String)> {
    let fail = |problem: String| (span.name.clone(), problem);
    let (trace_id, span_id, parent_span_id) = span_ids(
        TraceId::from_bytes(&span.trace_id),
        SpanId::from_bytes(&span.span_id),
        SpanId::from_bytes(&span.parent_span_id),
    )
    .map_err(fail)?;
    let mut links = Vec::with_capacity(span.links.len());
    for link in span.links {
        let (trace_id, span_id) = link_ids(
            TraceId::from_bytes(&link.trace_id),
            SpanId::from_bytes(&link.span_id),
        )
        .map_err(fail)?;
        links.push(Link {
            trace_id,
            span_id,
            trace_state: link.trace_state,
            attributes: convert_attributes(link.attributes),
        });
    }
    let events = span
        .events
        .into_iter()
        .map(|event| Event {
            name: event.name,
            time_nanos: event.time_unix_nano,
            attributes: convert_attributes(event.attributes),
        })
        .collect();
    let status = span.status.unwrap_or_default();
    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        name: span.name,
        kind: SpanKind::from_otlp(span.kind),
        start_nanos: span.start_time_unix_nano,
        end_nanos: span.end_time_unix_nano,
        attributes: convert_attributes(span.attributes),
        events,
        links,
        status: Status {
            code: StatusCode::from_otlp(status.code),
            message: status.message,
        },
        trace_state: span.trace_state,
        flags: span.flags,
        dropped: Dropped {
            attributes: span.dropped_attributes_count,
            events: span.dropped_events_count,
            links: span.dropped_links_count,
        },
        resource_idx,
        scope_idx,
    })
}

fn convert_attributes(attributes: Vec<proto_common::KeyValue>) -> Vec<KeyValue> {
    attributes
        .into_iter()
        .map(|attribute| KeyValue {
            key: attribute.key,
            value: attribute.value.map_or(AnyValue::Empty, convert_value),
        })
        .collect()
}

fn convert_value(value: proto_common::AnyValue) -> AnyValue {
    use proto_common::any_value::Value;
    match value.value {
        Some(Value::StringValue(text)) => AnyValue::String(text),
        Some(Value::BoolValue(flag)) => AnyValue::Bool(flag),
        Some(Value::IntValue(number)) => AnyValue::Int(number),
        Some(Value::DoubleValue(number)) => AnyValue::Double(number),
        Some(Value::BytesValue(bytes)) => AnyValue::Bytes(bytes),
        Some(Value::ArrayValue(array)) => {
            AnyValue::Array(array.values.into_iter().map(convert_value).collect())
        }
        Some(Value::KvlistValue(list)) => AnyValue::KvList(convert_attributes(list.values)),
        // Newer OTLP versions add value kinds (e.g. string table references) we do not know yet.
        #[allow(unreachable_patterns)]
        Some(_) | None => AnyValue::Empty,
    }
}

/// The outcome of a direct decoder against the generated types' on the same input: the same
/// batch and rejections, or both an error. Rejection reasons are compared up to the span
/// they name: the JSON decoder quotes an unreadable id's text, where the generated types
/// only have its bytes.
#[cfg(test)]
pub(crate) fn same_outcome<E: std::fmt::Debug, F: std::fmt::Debug>(
    reference: Result<Decoded, E>,
    direct: Result<Decoded, F>,
) -> Result<(), proptest::test_runner::TestCaseError> {
    use proptest::{prop_assert, prop_assert_eq};
    fn which_span(reason: &Option<String>) -> Option<&str> {
        reason
            .as_deref()
            .map(|reason| reason.split("): ").next().unwrap_or(reason))
    }
    match (reference, direct) {
        (Ok(reference), Ok(direct)) => {
            prop_assert_eq!(&direct.batch, &reference.batch);
            prop_assert_eq!(direct.rejected.count, reference.rejected.count);
            prop_assert_eq!(
                which_span(&direct.rejected.first_reason),
                which_span(&reference.rejected.first_reason)
            );
            prop_assert_eq!(direct.base64_ids, reference.base64_ids);
        }
        (Err(_), Err(_)) => {}
        (reference, direct) => prop_assert!(
            false,
            "generated types: {:?}, direct: {:?}",
            reference.map(|_| "ok"),
            direct.map(|_| "ok")
        ),
    }
    Ok(())
}

/// The reference for the JSON decoder's leniency (see `otlp_json`'s module doc): the
/// lenient shapes rewritten into the canonical JSON mapping, written apart from the direct
/// decoder, then read by the generated types. Tempo's `batches` are `resourceSpans` here.
pub fn reference_json(text: &str) -> Result<Decoded, serde_json::Error> {
    use serde_json::Value;
    let mut document: Value = serde_json::from_str(text)?;
    if let Some(object) = document.as_object_mut()
        && let Some(batches) = object.remove("batches")
    {
        object.insert(String::from("resourceSpans"), batches);
    }
    let mut base64_ids = false;
    for resource_spans in array_at(&mut document, "resourceSpans") {
        let old_name = resource_spans
            .as_object_mut()
            .and_then(|object| object.remove("instrumentationLibrarySpans"));
        if let Some(Value::Array(old_spans)) = old_name {
            match resource_spans.get_mut("scopeSpans") {
                Some(Value::Array(scope_spans)) => scope_spans.extend(old_spans),
                _ => resource_spans["scopeSpans"] = Value::Array(old_spans),
            }
        }
        for scope_spans in array_at(resource_spans, "scopeSpans") {
            let library = scope_spans
                .as_object_mut()
                .and_then(|object| object.remove("instrumentationLibrary"));
            if let Some(library) = library
                && scope_spans.get("scope").is_none_or(Value::is_null)
            {
                scope_spans["scope"] = library;
            }
            for span in array_at(scope_spans, "spans") {
                canonical_enum(
                    span,
                    "kind",
                    "SPAN_KIND_",
                    &[
                        "UNSPECIFIED",
                        "INTERNAL",
                        "SERVER",
                        "CLIENT",
                        "PRODUCER",
                        "CONSUMER",
                    ],
                );
                if let Some(status) = span.get_mut("status") {
                    canonical_enum(status, "code", "STATUS_CODE_", &["UNSET", "OK", "ERROR"]);
                }
                base64_ids |= canonical_id(span, "traceId", 16);
                base64_ids |= canonical_id(span, "spanId", 8);
                base64_ids |= canonical_id(span, "parentSpanId", 8);
                for link in array_at(span, "links") {
                    base64_ids |= canonical_id(link, "traceId", 16);
                    base64_ids |= canonical_id(link, "spanId", 8);
                }
            }
        }
    }
    let request: ExportTraceServiceRequest = serde_json::from_value(document)?;
    let mut decoded = from_request(request);
    decoded.base64_ids = base64_ids;
    Ok(decoded)
}

fn array_at<'a>(
    parent: &'a mut serde_json::Value,
    key: &str,
) -> impl Iterator<Item = &'a mut serde_json::Value> {
    parent
        .get_mut(key)
        .and_then(serde_json::Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// A known enum name as its number; `null` as absent; anything else as it is.
fn canonical_enum(parent: &mut serde_json::Value, key: &str, prefix: &str, names: &[&str]) {
    match parent.get(key) {
        Some(serde_json::Value::Null) => {
            parent.as_object_mut().unwrap().remove(key);
        }
        Some(serde_json::Value::String(name)) => {
            let known = name
                .strip_prefix(prefix)
                .and_then(|short| names.iter().position(|known| *known == short));
            if let Some(number) = known {
                parent[key] = serde_json::Value::from(number);
            }
        }
        _ => {}
    }
}

/// An id in hex: hex of the right length stays, base64 of `byte_len` bytes becomes hex
/// (returns true), anything else becomes a one-byte id, which the conversion rejects.
fn canonical_id(parent: &mut serde_json::Value, key: &str, byte_len: usize) -> bool {
    use base64::Engine;
    let Some(serde_json::Value::String(text)) = parent.get(key) else {
        return false;
    };
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if text.is_empty()
        || (digits.len() == byte_len * 2 && digits.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return false;
    }
    let standard: String = text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    let (hex, base64) = match base64::engine::general_purpose::STANDARD_NO_PAD.decode(standard) {
        Ok(bytes) if bytes.len() == byte_len => (
            bytes.iter().map(|byte| format!("{byte:02x}")).collect(),
            true,
        ),
        _ => (String::from("00"), false),
    };
    parent[key] = serde_json::Value::String(hex);
    base64
}
