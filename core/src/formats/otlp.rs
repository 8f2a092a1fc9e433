//! OTLP trace payloads (`ExportTraceServiceRequest`) in the JSON mapping and in protobuf.
//!
//! Decoding goes straight into the model (`otlp_json`, `otlp_protobuf`); `opentelemetry-proto`'s
//! generated types are the reference those decoders are tested against ([`from_request`]: ids
//! validated, the nested resource/scope/span structure flattened into a [`Batch`]) and do the
//! encoding.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as proto_common;
use opentelemetry_proto::tonic::trace::v1 as proto_trace;
use prost::Message;

use crate::ids::{IdError, SpanId, TraceId};
use crate::model::{
    AnyValue, Batch, Dropped, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status,
    StatusCode,
};

#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("invalid OTLP JSON at line {line} column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid OTLP protobuf at byte {offset}: {message}")]
    Protobuf { offset: usize, message: String },
}

/// Spans the decoder dropped, reported to exporters as OTLP `partialSuccess`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RejectedSpans {
    pub count: u64,
    /// The first reason, e.g. `span 3 ("GET /"): trace id: an all-zero id is invalid`.
    pub first_reason: Option<String>,
}

impl RejectedSpans {
    pub(crate) fn record(&mut self, reason: impl FnOnce() -> String) {
        self.count += 1;
        if self.first_reason.is_none() {
            self.first_reason = Some(reason());
        }
    }
}

/// The spans a payload decoded into, and those it could not keep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    pub batch: Batch,
    pub rejected: RejectedSpans,
    /// Some ids were base64 rather than hex (OTLP JSON only: the protobuf JSON mapping's
    /// default, written by older exporters and Grafana Tempo), worth telling whoever opened it.
    pub base64_ids: bool,
}

impl Decoded {
    /// Adds a request's resource; returns its index for the spans under it.
    pub(crate) fn push_resource(&mut self, resource: Resource) -> u32 {
        self.batch.resources.push(resource);
        (self.batch.resources.len() - 1) as u32
    }

    /// Adds a request's scope; returns its index for the spans under it.
    pub(crate) fn push_scope(&mut self, scope: Scope) -> u32 {
        self.batch.scopes.push(scope);
        (self.batch.scopes.len() - 1) as u32
    }

    /// Keeps the next span of the request, or records why it was rejected: its name and the
    /// problem (its ids, see [`span_ids`], then its times, see [`span_times`]). Its position in
    /// the request is the count of spans kept or rejected before it.
    pub(crate) fn keep_or_reject(&mut self, converted: Result<Span, (String, String)>) {
        let checked = converted.and_then(|span| match span_times(&span) {
            Ok(()) => Ok(span),
            Err(problem) => Err((span.name, problem)),
        });
        match checked {
            Ok(span) => self.batch.spans.push(span),
            Err((name, problem)) => {
                let position = self.batch.spans.len() as u64 + self.rejected.count;
                self.rejected
                    .record(|| format!("span {position} ({name:?}): {problem}"));
            }
        }
    }
}

/// Decodes an `ExportTraceServiceRequest` in the OTLP JSON mapping.
pub fn decode_json(bytes: &[u8]) -> Result<Decoded, OtlpError> {
    // Straight into the model (see `otlp_json`): what the generated types accept, with far
    // fewer allocations.
    let request: super::otlp_json::RequestJson =
        serde_json::from_slice(bytes).map_err(|error| OtlpError::Json {
            line: error.line(),
            column: error.column(),
            message: strip_position(&error.to_string()),
        })?;
    Ok(super::otlp_json::into_decoded(request))
}

/// Decodes an `ExportTraceServiceRequest` in protobuf.
pub fn decode_protobuf(bytes: &[u8]) -> Result<Decoded, OtlpError> {
    // Straight into the model (see `otlp_protobuf`): what the generated types accept, without
    // their intermediate messages.
    super::otlp_protobuf::decode(bytes)
}

/// serde_json appends " at line L column C"; we report the position in our own fields.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}

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

/// A span's ids checked as every OTLP decoder checks them, in this order (the first problem is
/// the rejection reason): the trace id, the span id, then the parent, where an empty or all-zero
/// id means "no parent".
pub(crate) fn span_ids(
    trace_id: Result<TraceId, IdError>,
    span_id: Result<SpanId, IdError>,
    parent_span_id: Result<SpanId, IdError>,
) -> Result<(TraceId, SpanId, Option<SpanId>), String> {
    let trace_id = trace_id.map_err(|error| id_problem("trace id", &error))?;
    let span_id = span_id.map_err(|error| id_problem("span id", &error))?;
    let parent_span_id = match parent_span_id {
        Ok(parent) => Some(parent),
        // Empty and all-zero parent ids both mean "no parent" in practice.
        Err(IdError::WrongByteLength { actual: 0, .. } | IdError::AllZero) => None,
        Err(error) => return Err(id_problem("parent span id", &error)),
    };
    Ok((trace_id, span_id, parent_span_id))
}

/// E.g. `trace id: an all-zero id is invalid`, `span id "abc": expected 16 hex digits or base64
/// of 8 bytes` (an unreadable id's message starts with the value).
fn id_problem(field: &str, error: &IdError) -> String {
    match error {
        IdError::Unreadable { .. } => format!("{field} {error}"),
        _ => format!("{field}: {error}"),
    }
}

/// Times at or above this, 2^63 ns (the year 2262), are refused: downstream (the store, the
/// UI's maths) times are signed 64-bit nanoseconds, where such a time, typically a negative
/// number written as unsigned, would turn negative.
pub const TIME_LIMIT_NANOS: u64 = 1 << 63;

/// A span's times checked as every decoder checks them, after its ids: the start, the end and
/// each event's time below [`TIME_LIMIT_NANOS`], and the end not before the start. A span
/// failing them is rejected (never clamped: a partial-success reason says what was wrong, and
/// the sender's data is not silently changed).
pub(crate) fn span_times(span: &Span) -> Result<(), String> {
    let too_late =
        |what: &str, nanos: u64| format!("{what} {nanos} ns is not below 2^63 ns (the year 2262)");
    if span.start_nanos >= TIME_LIMIT_NANOS {
        return Err(too_late("start time", span.start_nanos));
    }
    if span.end_nanos >= TIME_LIMIT_NANOS {
        return Err(too_late("end time", span.end_nanos));
    }
    if span.end_nanos < span.start_nanos {
        return Err(format!(
            "end time {} ns is before start time {} ns",
            span.end_nanos, span.start_nanos
        ));
    }
    for (event_idx, event) in span.events.iter().enumerate() {
        if event.time_nanos >= TIME_LIMIT_NANOS {
            return Err(too_late(
                &format!("event {event_idx} time"),
                event.time_nanos,
            ));
        }
    }
    Ok(())
}

/// A link's ids, checked after its span's (see [`span_ids`]).
pub(crate) fn link_ids(
    trace_id: Result<TraceId, IdError>,
    span_id: Result<SpanId, IdError>,
) -> Result<(TraceId, SpanId), String> {
    let trace_id = trace_id.map_err(|error| id_problem("link trace id", &error))?;
    let span_id = span_id.map_err(|error| id_problem("link span id", &error))?;
    Ok((trace_id, span_id))
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

/// The batch as an `ExportTraceServiceRequest`: spans grouped by resource, then scope, in order of
/// first appearance. [`from_request`] reads it back to the same spans.
pub fn to_request(batch: &Batch) -> ExportTraceServiceRequest {
    use std::collections::HashMap;
    let mut request = ExportTraceServiceRequest::default();
    let mut resource_position: HashMap<u32, usize> = HashMap::new();
    let mut scope_position: HashMap<(u32, u32), usize> = HashMap::new();
    for span in &batch.spans {
        let resource_at = *resource_position
            .entry(span.resource_idx)
            .or_insert_with(|| {
                let resource = batch
                    .resources
                    .get(span.resource_idx as usize)
                    .cloned()
                    .unwrap_or_default();
                request.resource_spans.push(proto_trace::ResourceSpans {
                    resource: Some(opentelemetry_proto::tonic::resource::v1::Resource {
                        attributes: proto_attributes(&resource.attributes),
                        ..Default::default()
                    }),
                    scope_spans: Vec::new(),
                    schema_url: resource.schema_url,
                });
                request.resource_spans.len() - 1
            });
        let resource_spans = &mut request.resource_spans[resource_at];
        let scope_at = *scope_position
            .entry((span.resource_idx, span.scope_idx))
            .or_insert_with(|| {
                let scope = batch
                    .scopes
                    .get(span.scope_idx as usize)
                    .cloned()
                    .unwrap_or_default();
                resource_spans.scope_spans.push(proto_trace::ScopeSpans {
                    scope: Some(proto_common::InstrumentationScope {
                        name: scope.name,
                        version: scope.version,
                        attributes: proto_attributes(&scope.attributes),
                        ..Default::default()
                    }),
                    spans: Vec::new(),
                    schema_url: scope.schema_url,
                });
                resource_spans.scope_spans.len() - 1
            });
        resource_spans.scope_spans[scope_at]
            .spans
            .push(proto_span(span));
    }
    request
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
        kind: match span.kind {
            SpanKind::Unspecified => 0,
            SpanKind::Internal => 1,
            SpanKind::Server => 2,
            SpanKind::Client => 3,
            SpanKind::Producer => 4,
            SpanKind::Consumer => 5,
        },
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
            code: match span.status.code {
                StatusCode::Unset => 0,
                StatusCode::Ok => 1,
                StatusCode::Error => 2,
            },
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

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The outcome of a direct decoder against the generated types' on the same input: the same
    /// batch and rejections, or both an error. Rejection reasons are compared up to the span
    /// they name: the JSON decoder quotes an unreadable id's text, where the generated types
    /// only have its bytes.
    pub(crate) fn same_outcome<E: std::fmt::Debug, F: std::fmt::Debug>(
        reference: Result<Decoded, E>,
        direct: Result<Decoded, F>,
    ) -> Result<(), TestCaseError> {
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
    pub(crate) fn reference_json(text: &str) -> Result<Decoded, serde_json::Error> {
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
        let (hex, base64) = match base64::engine::general_purpose::STANDARD_NO_PAD.decode(standard)
        {
            Ok(bytes) if bytes.len() == byte_len => (
                bytes.iter().map(|byte| format!("{byte:02x}")).collect(),
                true,
            ),
            _ => (String::from("00"), false),
        };
        parent[key] = serde_json::Value::String(hex);
        base64
    }

    const TWO_SPANS: &str = r#"{"resourceSpans":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"order-service"}}]},
      "scopeSpans":[{"scope":{"name":"demo","version":"1.0"},"spans":[
        {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
         "name":"GET /orders/{id}","kind":2,
         "startTimeUnixNano":"1544712660000000001","endTimeUnixNano":1544712661000000000,
         "attributes":[{"key":"http.status_code","value":{"intValue":"200"}},
                       {"key":"ratio","value":{"doubleValue":0.5}},
                       {"key":"ids","value":{"arrayValue":{"values":[{"intValue":1},{"boolValue":true}]}}}],
         "status":{"code":2,"message":"boom"},"unknownField":42},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000001",
         "parentSpanId":"eee19b7ec3c1b174","name":"SELECT","kind":3,
         "startTimeUnixNano":"1544712660100000000","endTimeUnixNano":"1544712660200000000"}
      ]}]}]}"#;

    #[test]
    fn decodes_json_mapping_exactly() {
        let decoded = decode_json(TWO_SPANS.as_bytes()).unwrap();
        assert_eq!(decoded.rejected, RejectedSpans::default());
        let batch = decoded.batch;
        assert_eq!(batch.spans.len(), 2);
        let root = &batch.spans[0];
        assert_eq!(
            root.trace_id.to_string(),
            "5b8efff798038103d269b633813fc60c"
        );
        assert_eq!(root.start_nanos, 1_544_712_660_000_000_001);
        assert_eq!(root.end_nanos, 1_544_712_661_000_000_000);
        assert_eq!(root.kind, SpanKind::Server);
        assert_eq!(root.status.code, StatusCode::Error);
        assert_eq!(root.attributes[0].value, AnyValue::Int(200));
        assert_eq!(
            root.attributes[2].value,
            AnyValue::Array(vec![AnyValue::Int(1), AnyValue::Bool(true)])
        );
        assert_eq!(batch.service_of(root), "order-service");
        assert_eq!(batch.spans[1].parent_span_id, Some(root.span_id));
    }

    #[test]
    fn rejects_spans_with_bad_ids_and_keeps_the_rest() {
        let payload = TWO_SPANS.replace("EEE19B7EC3C1B174", "00000000000000000000");
        let decoded = decode_json(payload.as_bytes()).unwrap();
        assert_eq!(decoded.batch.spans.len(), 1);
        assert_eq!(decoded.rejected.count, 1);
        let reason = decoded.rejected.first_reason.unwrap();
        assert!(
            reason.contains("span 0") && reason.contains("span id"),
            "{reason}"
        );
    }

    #[test]
    fn reports_where_json_is_broken() {
        let error = decode_json(&TWO_SPANS.as_bytes()[..200]).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("invalid OTLP JSON at line 4 column"),
            "{message}"
        );
    }

    /// Spans whose times are at the limits: the first and last are kept, the rest rejected.
    const TIMES: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000001","name":"last storable",
         "startTimeUnixNano":"9223372036854775806","endTimeUnixNano":"9223372036854775807",
         "events":[{"timeUnixNano":"9223372036854775807","name":"e"}]},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000002","name":"late start",
         "startTimeUnixNano":"9223372036854775808","endTimeUnixNano":"9223372036854775808"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000003","name":"late end",
         "startTimeUnixNano":"1","endTimeUnixNano":"18446744073709551615"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000004","name":"backwards",
         "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712659000000000"},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000005","name":"late event",
         "startTimeUnixNano":"1","endTimeUnixNano":"2","events":[{"timeUnixNano":"1"},{"timeUnixNano":"18446744073709551615"}]},
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000006","name":"instant",
         "startTimeUnixNano":"7","endTimeUnixNano":"7"}
    ]}]}]}"#;

    /// Every reason `TIMES` gives, one request per rejected span.
    fn time_reasons(decode: impl Fn(&str) -> Decoded) -> Vec<String> {
        let all = decode(TIMES);
        assert_eq!(all.rejected.count, 4);
        let kept: Vec<&str> = all
            .batch
            .spans
            .iter()
            .map(|span| span.name.as_str())
            .collect();
        assert_eq!(kept, ["last storable", "instant"]);
        let document: serde_json::Value = serde_json::from_str(TIMES).unwrap();
        let spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap();
        spans[1..5]
            .iter()
            .map(|span| {
                let mut one = document.clone();
                one["resourceSpans"][0]["scopeSpans"][0]["spans"] = serde_json::json!([span]);
                let decoded = decode(&one.to_string());
                assert_eq!(decoded.batch.spans.len(), 0);
                decoded.rejected.first_reason.unwrap()
            })
            .collect()
    }

    const TIME_REASONS: [&str; 4] = [
        r#"span 0 ("late start"): start time 9223372036854775808 ns is not below 2^63 ns (the year 2262)"#,
        r#"span 0 ("late end"): end time 18446744073709551615 ns is not below 2^63 ns (the year 2262)"#,
        r#"span 0 ("backwards"): end time 1544712659000000000 ns is before start time 1544712660000000000 ns"#,
        r#"span 0 ("late event"): event 1 time 18446744073709551615 ns is not below 2^63 ns (the year 2262)"#,
    ];

    #[test]
    fn json_spans_with_times_out_of_range_are_rejected_with_the_value() {
        assert_eq!(
            time_reasons(|text| decode_json(text.as_bytes()).unwrap()),
            TIME_REASONS
        );
        // The reference conversion checks the same.
        same_outcome(reference_json(TIMES), decode_json(TIMES.as_bytes())).unwrap();
        let all = decode_json(TIMES.as_bytes()).unwrap();
        assert_eq!(
            all.rejected.first_reason.as_deref(),
            Some(
                r#"span 1 ("late start"): start time 9223372036854775808 ns is not below 2^63 ns (the year 2262)"#
            )
        );
        assert_eq!(all.batch.spans[0].end_nanos, (1 << 63) - 1);
    }

    #[test]
    fn protobuf_spans_with_times_out_of_range_are_rejected_with_the_value() {
        let protobuf = |text: &str| {
            let request: ExportTraceServiceRequest = serde_json::from_str(text).unwrap();
            decode_protobuf(&request.encode_to_vec()).unwrap()
        };
        assert_eq!(time_reasons(protobuf), TIME_REASONS);
    }

    #[test]
    fn jaeger_spans_with_times_out_of_range_are_rejected_with_the_value() {
        use crate::formats::{DecodeLimits, decode_file};
        let span = |id: &str, name: &str, start_us: u64, duration_us: u64| {
            serde_json::json!({"traceID": "5b8efff798038103d269b633813fc60c", "spanID": id,
                "operationName": name, "startTime": start_us, "duration": duration_us,
                "processID": "p1"})
        };
        let mut late_log = span("0000000000000004", "late log", 1, 1);
        late_log["logs"] = serde_json::json!([{"timestamp": u64::MAX / 1000, "fields": []}]);
        let file = serde_json::json!({"data": [{"traceID": "5b8efff798038103d269b633813fc60c",
        "processes": {"p1": {"serviceName": "api"}},
        "spans": [
            span("0000000000000001", "last storable", 9_223_372_036_854_774, 1),
            span("0000000000000002", "late start", 9_223_372_036_854_776, 0),
            span("0000000000000003", "late end", 9_223_372_036_854_775, 1),
            late_log,
        ]}]});
        let decoded = decode_file(file.to_string().as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.batch.spans.len(), 1);
        assert_eq!(decoded.batch.spans[0].end_nanos, 9_223_372_036_854_775_000);
        assert_eq!(decoded.rejected.count, 3);
        assert_eq!(
            decoded.rejected.first_reason.as_deref(),
            Some(
                r#"span 1 ("late start"): start time 9223372036854776000 ns is not below 2^63 ns (the year 2262)"#
            )
        );
        // A start in microseconds so large that nanoseconds overflow u64 is refused too.
        let mut overflow = file;
        overflow["data"][0]["spans"] =
            serde_json::json!([span("0000000000000001", "overflow", u64::MAX, 0)]);
        let decoded =
            decode_file(overflow.to_string().as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(
            decoded.rejected.first_reason.as_deref(),
            Some(
                r#"span 0 ("overflow"): start time 18446744073709551615 ns is not below 2^63 ns (the year 2262)"#
            )
        );
    }

    #[test]
    fn zipkin_spans_with_times_out_of_range_are_rejected_with_the_value() {
        use crate::formats::{DecodeLimits, decode_file};
        let file = serde_json::json!([
            {"traceId": "5b8efff798038103d269b633813fc60c", "id": "0000000000000001", "name": "ok",
             "timestamp": 1_544_712_660_000_000u64, "duration": 5},
            {"traceId": "5b8efff798038103d269b633813fc60c", "id": "0000000000000002", "name": "late start",
             "timestamp": 9_223_372_036_854_776u64},
            {"traceId": "5b8efff798038103d269b633813fc60c", "id": "0000000000000003", "name": "late end",
             "timestamp": 1, "duration": u64::MAX / 1000},
            {"traceId": "5b8efff798038103d269b633813fc60c", "id": "0000000000000004", "name": "late annotation",
             "timestamp": 1, "annotations": [{"timestamp": 9_223_372_036_854_776u64, "value": "cs"}]},
        ]);
        let decoded = decode_file(file.to_string().as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.format, crate::formats::Format::ZipkinJson);
        let kept: Vec<&str> = decoded
            .batch
            .spans
            .iter()
            .map(|span| span.name.as_str())
            .collect();
        assert_eq!(kept, ["ok"]);
        assert_eq!(decoded.rejected.count, 3);
        assert_eq!(
            decoded.rejected.first_reason.as_deref(),
            Some(
                r#"span 1 ("late start"): start time 9223372036854776000 ns is not below 2^63 ns (the year 2262)"#
            )
        );
    }

    #[test]
    fn protobuf_round_trip_matches_json() {
        let request: ExportTraceServiceRequest = serde_json::from_str(TWO_SPANS).unwrap();
        let from_protobuf = decode_protobuf(&request.encode_to_vec()).unwrap();
        assert_eq!(from_protobuf, decode_json(TWO_SPANS.as_bytes()).unwrap());
    }
}
