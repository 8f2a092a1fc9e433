//! Jaeger JSON, as the Jaeger query API and Jaeger UI's "Download JSON" write it: `{"data":
//! [trace, …]}`, a bare trace object, or an array of traces. Times are microseconds; services
//! live in a `processes` map; parents are `CHILD_OF` references; tags are typed.
//!
//! Decoding maps a process to a resource (`service.name` plus its tags), the first `CHILD_OF`
//! reference in the same trace to the parent (a lone `FOLLOWS_FROM` too, as Jaeger UI does),
//! every other reference to a link, `span.kind` to the kind, `error=true` / `otel.status_code`
//! to the status, and logs to events. Encoding is the inverse, so an export reads back the same.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{SpanId, TraceId};
use crate::model::{
    AnyValue, Batch, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status, StatusCode,
};

use super::otlp::RejectedSpans;

#[derive(Debug, Deserialize, Serialize)]
#[serde(expecting = "a Jaeger trace: an object of \"traceID\", \"spans\" and \"processes\"")]
#[serde(rename_all = "camelCase")]
pub struct JaegerTrace {
    #[serde(rename = "traceID", default)]
    pub trace_id: String,
    #[serde(deserialize_with = "super::progress::counted")]
    pub spans: Vec<JaegerSpan>,
    #[serde(default)]
    pub processes: BTreeMap<String, JaegerProcess>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(
    expecting = "a Jaeger span: an object of \"traceID\", \"spanID\", \"operationName\" and the rest"
)]
#[serde(rename_all = "camelCase")]
pub struct JaegerSpan {
    #[serde(rename = "traceID")]
    pub trace_id: String,
    #[serde(rename = "spanID")]
    pub span_id: String,
    pub operation_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub references: Vec<JaegerReference>,
    /// Microseconds since the Unix epoch.
    pub start_time: u64,
    /// Microseconds.
    pub duration: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<JaegerTag>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub logs: Vec<JaegerLog>,
    #[serde(rename = "processID", default)]
    pub process_id: String,
    /// Some exports embed the process in each span instead of the trace's map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<JaegerProcess>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub flags: u32,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(expecting = "a Jaeger reference: an object of \"refType\", \"traceID\" and \"spanID\"")]
#[serde(rename_all = "camelCase")]
pub struct JaegerReference {
    pub ref_type: String,
    #[serde(rename = "traceID")]
    pub trace_id: String,
    #[serde(rename = "spanID")]
    pub span_id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(expecting = "a Jaeger process: an object of \"serviceName\" and \"tags\"")]
#[serde(rename_all = "camelCase")]
pub struct JaegerProcess {
    pub service_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<JaegerTag>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(expecting = "a Jaeger tag: an object of \"key\", \"type\" and \"value\"")]
pub struct JaegerTag {
    pub key: String,
    #[serde(rename = "type", default = "string_type")]
    pub tag_type: String,
    pub value: Value,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(expecting = "a Jaeger log: an object of \"timestamp\" and \"fields\"")]
pub struct JaegerLog {
    pub timestamp: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub fields: Vec<JaegerTag>,
}

fn string_type() -> String {
    String::from("string")
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The work of converting a span against reading it (`progress::READ_UNITS`): a little more
/// than half of the decode of a Jaeger file (tags become typed attributes), measured.
pub(crate) const CONVERSION_UNITS: u64 = 5;

/// Decodes Jaeger traces into one batch; spans with unusable ids are rejected and counted.
pub fn from_traces(traces: Vec<JaegerTrace>) -> (Batch, RejectedSpans) {
    let mut batch = Batch::default();
    let mut rejected = RejectedSpans::default();
    batch.scopes.push(Scope::default());
    let mut position = 0usize;
    for trace in traces {
        let mut resource_of_process: HashMap<String, u32> = HashMap::new();
        for jaeger_span in trace.spans {
            let at = position;
            position += 1;
            let process_key = if jaeger_span.process.is_some() {
                format!("inline:{}", jaeger_span.span_id)
            } else {
                jaeger_span.process_id.clone()
            };
            let resource_idx = *resource_of_process.entry(process_key).or_insert_with(|| {
                let process = jaeger_span
                    .process
                    .clone()
                    .or_else(|| trace.processes.get(&jaeger_span.process_id).cloned());
                batch.resources.push(resource_from(process));
                (batch.resources.len() - 1) as u32
            });
            let name = jaeger_span.operation_name.clone();
            match span_from(jaeger_span, resource_idx) {
                Ok(span) => batch.spans.push(span),
                Err(problem) => rejected.record(|| format!("span {at} ({name:?}): {problem}")),
            }
            super::progress::advance(CONVERSION_UNITS);
        }
    }
    (batch, rejected)
}

fn resource_from(process: Option<JaegerProcess>) -> Resource {
    let Some(process) = process else {
        return Resource::default();
    };
    let mut attributes = vec![KeyValue::new("service.name", process.service_name)];
    attributes.extend(process.tags.into_iter().map(tag_to_attribute));
    Resource {
        attributes,
        schema_url: String::new(),
    }
}

/// Jaeger trace ids may be 64-bit (16 hex digits); OTLP ids are 128-bit, zero-padded on the left.
pub fn parse_trace_id(hex: &str) -> Result<TraceId, String> {
    let padded = format!("{hex:0>32}");
    padded
        .parse()
        .map_err(|error| format!("trace id {hex:?}: {error}"))
}

/// Span ids shorter than 16 hex digits are zero-padded on the left, as Jaeger does.
pub fn parse_span_id(hex: &str) -> Result<SpanId, String> {
    let padded = format!("{hex:0>16}");
    padded
        .parse()
        .map_err(|error| format!("span id {hex:?}: {error}"))
}

fn span_from(span: JaegerSpan, resource_idx: u32) -> Result<Span, String> {
    let trace_id = parse_trace_id(&span.trace_id)?;
    let span_id = parse_span_id(&span.span_id)?;
    // The parent: the first CHILD_OF within the trace, else a lone FOLLOWS_FROM.
    let mut parent: Option<(usize, SpanId)> = None;
    for (ref_idx, reference) in span.references.iter().enumerate() {
        let same_trace = parse_trace_id(&reference.trace_id).is_ok_and(|id| id == trace_id);
        if same_trace && reference.ref_type == "CHILD_OF" {
            parent = Some((ref_idx, parse_span_id(&reference.span_id)?));
            break;
        }
    }
    if parent.is_none()
        && let [only] = span.references.as_slice()
        && only.ref_type == "FOLLOWS_FROM"
        && parse_trace_id(&only.trace_id).is_ok_and(|id| id == trace_id)
    {
        parent = Some((0, parse_span_id(&only.span_id)?));
    }
    let mut links = Vec::new();
    for (ref_idx, reference) in span.references.iter().enumerate() {
        if parent.is_some_and(|(parent_idx, _)| parent_idx == ref_idx) {
            continue;
        }
        links.push(Link {
            trace_id: parse_trace_id(&reference.trace_id)?,
            span_id: parse_span_id(&reference.span_id)?,
            trace_state: String::new(),
            attributes: vec![KeyValue::new(
                "jaeger.ref_type",
                reference.ref_type.to_lowercase(),
            )],
        });
    }
    let mut kind = SpanKind::Unspecified;
    let mut status = Status::default();
    let mut attributes = Vec::with_capacity(span.tags.len());
    for tag in span.tags {
        match (tag.key.as_str(), &tag.value) {
            ("span.kind", Value::String(text)) => kind = kind_from(text),
            ("error", Value::Bool(true)) => status.code = StatusCode::Error,
            ("error", Value::String(text)) if text == "true" => status.code = StatusCode::Error,
            ("otel.status_code", Value::String(text)) => {
                status.code = match text.as_str() {
                    "ERROR" => StatusCode::Error,
                    "OK" => StatusCode::Ok,
                    _ => status.code,
                }
            }
            ("otel.status_description", Value::String(text)) => status.message = text.clone(),
            _ => attributes.push(tag_to_attribute(tag)),
        }
    }
    let events = span
        .logs
        .into_iter()
        .map(|log| {
            let mut name = String::from("log");
            let mut attributes = Vec::new();
            for field in log.fields {
                match (field.key.as_str(), &field.value) {
                    ("event", Value::String(text)) => name = text.clone(),
                    _ => attributes.push(tag_to_attribute(field)),
                }
            }
            Event {
                name,
                time_nanos: log.timestamp.saturating_mul(1_000),
                attributes,
            }
        })
        .collect();
    let start_nanos = span.start_time.saturating_mul(1_000);
    let converted = Span {
        trace_id,
        span_id,
        parent_span_id: parent.map(|(_, id)| id),
        name: span.operation_name,
        kind,
        start_nanos,
        end_nanos: start_nanos.saturating_add(span.duration.saturating_mul(1_000)),
        attributes,
        events,
        links,
        status,
        trace_state: String::new(),
        flags: span.flags,
        dropped: Default::default(),
        resource_idx,
        scope_idx: 0,
    };
    // Times out of range are refused as by every decoder (see `otlp::span_times`).
    super::otlp::span_times(&converted)?;
    Ok(converted)
}

fn kind_from(text: &str) -> SpanKind {
    match text {
        "server" => SpanKind::Server,
        "client" => SpanKind::Client,
        "producer" => SpanKind::Producer,
        "consumer" => SpanKind::Consumer,
        "internal" => SpanKind::Internal,
        _ => SpanKind::Unspecified,
    }
}

fn kind_name(kind: SpanKind) -> Option<&'static str> {
    match kind {
        SpanKind::Server => Some("server"),
        SpanKind::Client => Some("client"),
        SpanKind::Producer => Some("producer"),
        SpanKind::Consumer => Some("consumer"),
        SpanKind::Internal => Some("internal"),
        SpanKind::Unspecified => None,
    }
}

/// A typed Jaeger tag as an attribute; int64 given as text (beyond 2^53) stays exact.
fn tag_to_attribute(tag: JaegerTag) -> KeyValue {
    let value = match (tag.tag_type.as_str(), tag.value) {
        ("bool", Value::Bool(flag)) => AnyValue::Bool(flag),
        ("bool", Value::String(text)) => AnyValue::Bool(text == "true"),
        ("int64", Value::Number(number)) => number
            .as_i64()
            .map_or_else(|| AnyValue::String(number.to_string()), AnyValue::Int),
        ("int64", Value::String(text)) => text
            .parse()
            .map_or_else(|_| AnyValue::String(text), AnyValue::Int),
        ("float64", Value::Number(number)) => AnyValue::Double(number.as_f64().unwrap_or(0.0)),
        ("float64", Value::String(text)) => text
            .parse()
            .map_or_else(|_| AnyValue::String(text), AnyValue::Double),
        ("binary", Value::String(text)) => base64::engine::general_purpose::STANDARD
            .decode(&text)
            .map_or_else(|_| AnyValue::String(text), AnyValue::Bytes),
        (_, Value::String(text)) => AnyValue::String(text),
        (_, Value::Bool(flag)) => AnyValue::Bool(flag),
        (_, Value::Number(number)) => match number.as_i64() {
            Some(int) => AnyValue::Int(int),
            None => AnyValue::Double(number.as_f64().unwrap_or(0.0)),
        },
        (_, Value::Null) => AnyValue::Empty,
        (_, other) => AnyValue::String(other.to_string()),
    };
    KeyValue {
        key: tag.key,
        value,
    }
}

fn attribute_to_tag(attribute: &KeyValue) -> JaegerTag {
    let (tag_type, value) = match &attribute.value {
        AnyValue::Bool(flag) => ("bool", Value::Bool(*flag)),
        AnyValue::Int(int) => ("int64", Value::from(*int)),
        AnyValue::Double(number) => ("float64", Value::from(*number)),
        AnyValue::Bytes(bytes) => (
            "binary",
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ),
        AnyValue::String(text) => ("string", Value::String(text.clone())),
        other => ("string", Value::String(other.to_display_string())),
    };
    JaegerTag {
        key: attribute.key.clone(),
        tag_type: tag_type.to_owned(),
        value,
    }
}

/// The batch as Jaeger JSON (`{"data":[…]}`, one trace per trace id), for "Export as Jaeger".
pub fn encode_json(batch: &Batch) -> String {
    #[derive(Serialize)]
    struct Envelope {
        data: Vec<JaegerTrace>,
    }
    let mut traces: Vec<JaegerTrace> = Vec::new();
    let mut trace_of_id: HashMap<TraceId, usize> = HashMap::new();
    for span in &batch.spans {
        let trace_idx = *trace_of_id.entry(span.trace_id).or_insert_with(|| {
            traces.push(JaegerTrace {
                trace_id: span.trace_id.to_hex(),
                spans: Vec::new(),
                processes: BTreeMap::new(),
            });
            traces.len() - 1
        });
        let trace = &mut traces[trace_idx];
        let process_id = format!("p{}", span.resource_idx + 1);
        if !trace.processes.contains_key(&process_id) {
            let resource = batch
                .resources
                .get(span.resource_idx as usize)
                .cloned()
                .unwrap_or_default();
            trace.processes.insert(
                process_id.clone(),
                JaegerProcess {
                    service_name: resource.service_name().to_owned(),
                    tags: resource
                        .attributes
                        .iter()
                        .filter(|attribute| attribute.key != "service.name")
                        .map(attribute_to_tag)
                        .collect(),
                },
            );
        }
        trace.spans.push(span_to_jaeger(span, process_id));
    }
    serde_json::to_string(&Envelope { data: traces }).unwrap_or_default()
}

fn span_to_jaeger(span: &Span, process_id: String) -> JaegerSpan {
    let mut references: Vec<JaegerReference> = span
        .parent_span_id
        .map(|parent| JaegerReference {
            ref_type: String::from("CHILD_OF"),
            trace_id: span.trace_id.to_hex(),
            span_id: parent.to_hex(),
        })
        .into_iter()
        .collect();
    references.extend(span.links.iter().map(|link| {
        let follows = link.attributes.iter().any(|attribute| {
            attribute.key == "jaeger.ref_type"
                && attribute.value == AnyValue::String("follows_from".into())
        });
        JaegerReference {
            ref_type: String::from(if follows { "FOLLOWS_FROM" } else { "CHILD_OF" }),
            trace_id: link.trace_id.to_hex(),
            span_id: link.span_id.to_hex(),
        }
    }));
    let mut tags: Vec<JaegerTag> = span.attributes.iter().map(attribute_to_tag).collect();
    if let Some(kind) = kind_name(span.kind) {
        tags.push(JaegerTag {
            key: String::from("span.kind"),
            tag_type: string_type(),
            value: Value::String(kind.to_owned()),
        });
    }
    match span.status.code {
        StatusCode::Error => tags.push(JaegerTag {
            key: String::from("error"),
            tag_type: String::from("bool"),
            value: Value::Bool(true),
        }),
        StatusCode::Ok => tags.push(JaegerTag {
            key: String::from("otel.status_code"),
            tag_type: string_type(),
            value: Value::String(String::from("OK")),
        }),
        StatusCode::Unset => {}
    }
    if !span.status.message.is_empty() {
        tags.push(JaegerTag {
            key: String::from("otel.status_description"),
            tag_type: string_type(),
            value: Value::String(span.status.message.clone()),
        });
    }
    let logs = span
        .events
        .iter()
        .map(|event| {
            let mut fields = vec![JaegerTag {
                key: String::from("event"),
                tag_type: string_type(),
                value: Value::String(event.name.clone()),
            }];
            fields.extend(event.attributes.iter().map(attribute_to_tag));
            JaegerLog {
                timestamp: event.time_nanos / 1_000,
                fields,
            }
        })
        .collect();
    JaegerSpan {
        trace_id: span.trace_id.to_hex(),
        span_id: span.span_id.to_hex(),
        operation_name: span.name.clone(),
        references,
        start_time: span.start_nanos / 1_000,
        duration: span.duration_nanos() / 1_000,
        tags,
        logs,
        process_id,
        process: None,
        flags: span.flags,
    }
}
