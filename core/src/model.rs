//! The trace model: a flat list of spans that point into shared resource and scope tables
//! (the shape of an OTLP export, without its nesting).
//!
//! Times are absolute Unix nanoseconds (`u64`), exact to the nanosecond end to end.

use serde::{Deserialize, Serialize};

use crate::ids::{SpanId, TraceId};

/// Spans with the resources and scopes they refer to. Spans may belong to several traces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    pub resources: Vec<Resource>,
    pub scopes: Vec<Scope>,
    pub spans: Vec<Span>,
}

/// All stored spans of one trace. Spans of a trace may arrive in many requests and out of order,
/// so a `Trace` is assembled on read and its span order carries no meaning (see [`crate::SpanTree`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    pub trace_id: TraceId,
    #[serde(flatten)]
    pub batch: Batch,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub attributes: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub schema_url: String,
}

impl Resource {
    /// `service.name`, or OTLP's documented fallback when a resource has none.
    pub fn service_name(&self) -> &str {
        find_string(&self.attributes, "service.name").unwrap_or(UNKNOWN_SERVICE)
    }
}

pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// An instrumentation scope (library) that produced spans.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub schema_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// `None` for a root span. A parent id that names no stored span makes an orphan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<SpanId>,
    pub name: String,
    pub kind: SpanKind,
    /// Serialised as strings so that JavaScript readers of the API keep all 64 bits.
    #[serde(with = "u64_as_string")]
    pub start_nanos: u64,
    #[serde(with = "u64_as_string")]
    pub end_nanos: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trace_state: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub flags: u32,
    #[serde(default, skip_serializing_if = "Dropped::is_empty")]
    pub dropped: Dropped,
    /// Index into the enclosing [`Batch::resources`].
    pub resource_idx: u32,
    /// Index into the enclosing [`Batch::scopes`].
    pub scope_idx: u32,
}

impl Span {
    /// Duration, zero when the end precedes the start (seen in real, clock-skewed data).
    pub fn duration_nanos(&self) -> u64 {
        self.end_nanos.saturating_sub(self.start_nanos)
    }

    pub fn is_error(&self) -> bool {
        self.status.code == StatusCode::Error
    }
}

impl Batch {
    pub fn resource_of(&self, span: &Span) -> &Resource {
        &self.resources[span.resource_idx as usize]
    }

    pub fn service_of(&self, span: &Span) -> &str {
        self.resources
            .get(span.resource_idx as usize)
            .map_or(UNKNOWN_SERVICE, Resource::service_name)
    }

    /// Appends `other`'s spans, resources and scopes, re-pointing its spans at the moved
    /// resources and scopes.
    pub fn append(&mut self, other: Batch) {
        let resource_offset = self.resources.len() as u32;
        let scope_offset = self.scopes.len() as u32;
        self.resources.extend(other.resources);
        self.scopes.extend(other.scopes);
        self.spans.extend(other.spans.into_iter().map(|mut span| {
            span.resource_idx += resource_offset;
            span.scope_idx += scope_offset;
            span
        }));
    }

    /// Splits the batch into one batch per trace id, in order of first appearance, keeping only
    /// the resources and scopes each trace uses.
    pub fn split_by_trace(self) -> Vec<Trace> {
        let mut trace_order: Vec<TraceId> = Vec::new();
        let mut spans_by_trace: rustc_hash::FxHashMap<TraceId, Vec<Span>> =
            rustc_hash::FxHashMap::default();
        for span in self.spans {
            let entry = spans_by_trace.entry(span.trace_id).or_default();
            if entry.is_empty() {
                trace_order.push(span.trace_id);
            }
            entry.push(span);
        }
        let mut traces = Vec::with_capacity(trace_order.len());
        for trace_id in trace_order {
            let spans = spans_by_trace.remove(&trace_id).unwrap_or_default();
            traces.push(Trace {
                trace_id,
                batch: reindex(&self.resources, &self.scopes, spans),
            });
        }
        traces
    }
}

/// Builds a batch holding `spans` and only the resources and scopes they reference.
fn reindex(resources: &[Resource], scopes: &[Scope], mut spans: Vec<Span>) -> Batch {
    let mut new_resource_idx: Vec<Option<u32>> = vec![None; resources.len()];
    let mut new_scope_idx: Vec<Option<u32>> = vec![None; scopes.len()];
    let mut batch = Batch::default();
    for span in &mut spans {
        let old = span.resource_idx as usize;
        span.resource_idx = *new_resource_idx[old].get_or_insert_with(|| {
            batch.resources.push(resources[old].clone());
            (batch.resources.len() - 1) as u32
        });
        let old = span.scope_idx as usize;
        span.scope_idx = *new_scope_idx[old].get_or_insert_with(|| {
            batch.scopes.push(scopes[old].clone());
            (batch.scopes.len() - 1) as u32
        });
    }
    batch.spans = spans;
    batch
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    #[default]
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    /// The OTLP enum number (`SPAN_KIND_*`); unknown numbers map to `Unspecified`.
    pub fn from_otlp(number: i32) -> Self {
        match number {
            1 => Self::Internal,
            2 => Self::Server,
            3 => Self::Client,
            4 => Self::Producer,
            5 => Self::Consumer,
            _ => Self::Unspecified,
        }
    }

    /// The OTLP enum number, as [`SpanKind::from_otlp`] reads it (also the compact encoding's).
    pub fn to_otlp(self) -> i32 {
        match self {
            Self::Unspecified => 0,
            Self::Internal => 1,
            Self::Server => 2,
            Self::Client => 3,
            Self::Producer => 4,
            Self::Consumer => 5,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub code: StatusCode,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusCode {
    #[default]
    Unset,
    Ok,
    Error,
}

impl StatusCode {
    pub fn from_otlp(number: i32) -> Self {
        match number {
            1 => Self::Ok,
            2 => Self::Error,
            _ => Self::Unset,
        }
    }

    /// The OTLP enum number, as [`StatusCode::from_otlp`] reads it.
    pub fn to_otlp(self) -> i32 {
        match self {
            Self::Unset => 0,
            Self::Ok => 1,
            Self::Error => 2,
        }
    }
}

/// Counts of attributes, events and links the producer dropped (OTLP `dropped_*_count`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dropped {
    #[serde(default)]
    pub attributes: u32,
    #[serde(default)]
    pub events: u32,
    #[serde(default)]
    pub links: u32,
}

impl Dropped {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub name: String,
    #[serde(with = "u64_as_string")]
    pub time_nanos: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trace_state: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: AnyValue,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: impl Into<AnyValue>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// A typed attribute value, serialised like OTLP JSON (`{"intValue": 5}`), except that
/// integers are JSON numbers and bytes are base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AnyValue {
    #[serde(rename = "stringValue")]
    String(String),
    #[serde(rename = "boolValue")]
    Bool(bool),
    #[serde(rename = "intValue")]
    Int(i64),
    #[serde(rename = "doubleValue")]
    Double(f64),
    #[serde(rename = "bytesValue", with = "bytes_as_base64")]
    Bytes(Vec<u8>),
    #[serde(rename = "arrayValue")]
    Array(Vec<AnyValue>),
    #[serde(rename = "kvlistValue")]
    KvList(Vec<KeyValue>),
    #[serde(rename = "empty")]
    Empty,
}

impl AnyValue {
    /// The value as a person reads it: strings unquoted, arrays and maps in JSON-like form.
    pub fn to_display_string(&self) -> String {
        match self {
            Self::String(text) => text.clone(),
            Self::Bool(value) => value.to_string(),
            Self::Int(value) => value.to_string(),
            Self::Double(value) => value.to_string(),
            Self::Bytes(bytes) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(bytes)
            }
            Self::Array(items) => {
                let parts: Vec<String> = items.iter().map(Self::to_display_string).collect();
                format!("[{}]", parts.join(", "))
            }
            Self::KvList(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|entry| format!("{}: {}", entry.key, entry.value.to_display_string()))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
            Self::Empty => String::new(),
        }
    }

    /// The name of the value's type as shown next to it in the UI.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::String(_) => "string",
            Self::Bool(_) => "bool",
            Self::Int(_) => "int",
            Self::Double(_) => "double",
            Self::Bytes(_) => "bytes",
            Self::Array(_) => "array",
            Self::KvList(_) => "map",
            Self::Empty => "empty",
        }
    }
}

impl From<&str> for AnyValue {
    fn from(value: &str) -> Self {
        Self::String(value.to_owned())
    }
}
impl From<String> for AnyValue {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}
impl From<i64> for AnyValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}
impl From<bool> for AnyValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}
impl From<f64> for AnyValue {
    fn from(value: f64) -> Self {
        Self::Double(value)
    }
}

/// The first string attribute named `key`.
pub fn find_string<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find_map(|attribute| match &attribute.value {
            AnyValue::String(text) if attribute.key == key => Some(text.as_str()),
            _ => None,
        })
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

pub(crate) mod u64_as_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    /// Accepts a string or an integer, as the proto3 JSON mapping does for 64-bit values.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum StringOrNumber {
            Number(u64),
            Text(String),
        }
        match StringOrNumber::deserialize(deserializer)? {
            StringOrNumber::Number(value) => Ok(value),
            StringOrNumber::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

mod bytes_as_base64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}
