//! The OTLP JSON mapping decoded straight into core's model.
//!
//! `opentelemetry-proto`'s serde types decode every id into a hex `String` and then bytes,
//! every attribute into an intermediate message, every `AnyValue` key into a `String`; the
//! conversion to core's model then moves or copies it all again. Here ids are decoded from the
//! borrowed text into arrays, keys are matched without allocating, and strings are allocated
//! once, where the model keeps them. That halves the allocations per span, which is what the
//! browser's wasm pays for most (uploads are decoded there).
//!
//! It accepts what the generated types accept (differential tests below compare the two on
//! arbitrary batches and on the real fixtures): fields in lowerCamelCase, unknown fields
//! ignored, missing fields default (except an attribute's `key`, and `values` of arrays and
//! maps), 64-bit integers as numbers or strings, bytes as base64. And, deliberately more
//! lenient, what real exporters and tools write beyond the canonical form (the reference
//! conversion the tests compare with rewrites these into it first, see
//! `otlp::reference::reference_json`):
//!
//! - enum values by name (`"kind": "SPAN_KIND_SERVER"`, `"code": "STATUS_CODE_ERROR"`), as the
//!   proto3 JSON mapping and the Collector allow; an unknown name fails the request, as in the
//!   Collector;
//! - ids as hex or as base64 (the protobuf JSON mapping's default for bytes, which older
//!   exporters and Grafana Tempo write), see [`JsonId`]; an id that is neither, or an all-zero
//!   id, rejects its span with the field, the value and what was expected;
//! - pre-1.0 OTLP JSON: `instrumentationLibrarySpans` holding an `instrumentationLibrary` (read
//!   as scope spans and their scope);
//! - Grafana Tempo's trace responses, `{"batches": [ResourceSpans…]}` and the v2 API's
//!   `{"trace": {"resourceSpans": …}}` ([`TempoTraceJson`], used only by file import: the
//!   receiver takes `ExportTraceServiceRequest`s).

use std::fmt;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Unexpected, Visitor};

use super::decoded::Decoded;
use super::ids::{link_ids, span_ids};
#[cfg(test)]
use crate::formats::otlp;
use crate::ids::{IdError, MAX_QUOTED_ID_CHARS, SpanId, TraceId};
use crate::model::{
    AnyValue, Dropped, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status, StatusCode,
};

#[derive(Deserialize, Default)]
#[serde(expecting = "an OTLP request: an object of \"resourceSpans\"")]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RequestJson {
    resource_spans: Vec<ResourceSpansJson>,
}

/// Grafana Tempo's trace (and Grafana's trace download): the resource spans under `batches`
/// (API v1, often pre-1.0, with base64 ids and enum names), or under `resourceSpans` inside
/// the v2 API's `{"trace": …}`.
#[derive(Deserialize, Default)]
#[serde(expecting = "a Grafana Tempo trace: an object of \"batches\" or \"resourceSpans\"")]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct TempoTraceJson {
    batches: Vec<ResourceSpansJson>,
    resource_spans: Vec<ResourceSpansJson>,
}

/// Tempo's API v2 answer to "trace by id": `{"trace": {"resourceSpans": …}, "status": …}`.
#[derive(Deserialize, Default)]
#[serde(expecting = "a Grafana Tempo API v2 answer: an object with a \"trace\"")]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct TempoTraceV2Json {
    pub(crate) trace: TempoTraceJson,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "resource spans: an object of \"resource\" and \"scopeSpans\"")]
#[serde(rename_all = "camelCase", default)]
struct ResourceSpansJson {
    resource: Option<ResourceJson>,
    scope_spans: Vec<ScopeSpansJson>,
    /// Before OTLP 1.0 (proto 0.15) scopes were "instrumentation libraries"; read after
    /// `scopeSpans` if a file has both.
    instrumentation_library_spans: Vec<ScopeSpansJson>,
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a resource: an object of \"attributes\"")]
#[serde(rename_all = "camelCase", default)]
struct ResourceJson {
    attributes: Vec<KeyValueJson>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "scope spans: an object of \"scope\" and \"spans\"")]
#[serde(rename_all = "camelCase", default)]
struct ScopeSpansJson {
    scope: Option<ScopeJson>,
    /// Pre-1.0 name of `scope` (used where `scope` is absent).
    instrumentation_library: Option<ScopeJson>,
    #[serde(deserialize_with = "crate::formats::progress::counted")]
    spans: Vec<SpanJson>,
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a scope: an object of \"name\", \"version\" and \"attributes\"")]
#[serde(rename_all = "camelCase", default)]
struct ScopeJson {
    name: String,
    version: String,
    attributes: Vec<KeyValueJson>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a span: an object of \"traceId\", \"spanId\", \"name\" and the rest")]
#[serde(rename_all = "camelCase", default)]
struct SpanJson {
    trace_id: JsonId<16>,
    span_id: JsonId<8>,
    trace_state: String,
    parent_span_id: JsonId<8>,
    flags: u32,
    name: String,
    kind: SpanKindJson,
    start_time_unix_nano: U64,
    end_time_unix_nano: U64,
    attributes: Vec<KeyValueJson>,
    dropped_attributes_count: u32,
    events: Vec<EventJson>,
    dropped_events_count: u32,
    links: Vec<LinkJson>,
    dropped_links_count: u32,
    status: Option<StatusJson>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "an event: an object of \"timeUnixNano\", \"name\" and \"attributes\"")]
#[serde(rename_all = "camelCase", default)]
struct EventJson {
    time_unix_nano: U64,
    name: String,
    attributes: Vec<KeyValueJson>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a link: an object of \"traceId\", \"spanId\" and \"attributes\"")]
#[serde(rename_all = "camelCase", default)]
struct LinkJson {
    trace_id: JsonId<16>,
    span_id: JsonId<8>,
    trace_state: String,
    attributes: Vec<KeyValueJson>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a status: an object of \"code\" and \"message\"")]
#[serde(rename_all = "camelCase", default)]
struct StatusJson {
    message: String,
    code: StatusCodeJson,
}

/// An attribute: `key` is required, a missing `value` is empty.
#[derive(Deserialize)]
#[serde(expecting = "an attribute: an object of \"key\" and \"value\"")]
struct KeyValueJson {
    key: String,
    #[serde(default)]
    value: Option<AnyValueJson>,
}

impl KeyValueJson {
    fn into_model(self) -> KeyValue {
        KeyValue {
            key: self.key,
            value: self.value.map_or(AnyValue::Empty, |value| value.0),
        }
    }
}

fn attributes(list: Vec<KeyValueJson>) -> Vec<KeyValue> {
    list.into_iter().map(KeyValueJson::into_model).collect()
}

/// A 64-bit unsigned integer as a JSON number or a decimal string.
#[derive(Default, Clone, Copy)]
struct U64(u64);

impl<'de> Deserialize<'de> for U64 {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct U64Visitor;
        impl Visitor<'_> for U64Visitor {
            type Value = U64;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an unsigned 64-bit integer, as a number or a string")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<U64, E> {
                Ok(U64(value))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<U64, E> {
                u64::try_from(value)
                    .map(U64)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(value), &self))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<U64, E> {
                value
                    .parse()
                    .map(U64)
                    .map_err(|_| E::invalid_value(Unexpected::Str(value), &self))
            }
        }
        deserializer.deserialize_any(U64Visitor)
    }
}

/// An id of `N` bytes, decoded from the borrowed text without allocating (unless unreadable).
///
/// Hex, as OTLP JSON specifies (any case, an optional `0x`), or base64, standard or URL-safe,
/// padded or not, as the protobuf JSON mapping writes bytes. Never ambiguous: `2N` hex digits
/// are hex (read as base64 they would be 1.5N bytes); any other text is base64 if it decodes
/// to exactly `N` bytes, and unreadable otherwise.
#[derive(Default)]
enum JsonId<const N: usize> {
    /// `""` (or absent): no parent, for a parent span id.
    #[default]
    Empty,
    Hex([u8; N]),
    Base64([u8; N]),
    /// Neither: the text, cut to `MAX_QUOTED_ID_CHARS`, for the rejection reason.
    Unreadable(String),
}

/// Base64 decoders for ids: the standard and the URL-safe alphabet, with or without padding,
/// as the proto3 JSON mapping accepts.
const BASE64_ENGINES: [GeneralPurpose; 2] = [
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    ),
    GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    ),
];

/// The longest base64 text of an id: 16 bytes padded.
const MAX_BASE64_ID_CHARS: usize = 24;

impl<const N: usize> JsonId<N> {
    fn parse(text: &str) -> Self {
        if text.is_empty() {
            return Self::Empty;
        }
        let digits = text.strip_prefix("0x").unwrap_or(text).as_bytes();
        if digits.len() == 2 * N {
            let mut bytes = [0u8; N];
            let mut all_hex = true;
            for (slot, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
                match (hex_value(pair[0]), hex_value(pair[1])) {
                    (Some(high), Some(low)) => *slot = (high << 4) | low,
                    _ => {
                        all_hex = false;
                        break;
                    }
                }
            }
            if all_hex {
                return Self::Hex(bytes);
            }
        }
        if text.len() <= MAX_BASE64_ID_CHARS {
            let mut buffer = [0u8; MAX_BASE64_ID_CHARS];
            for engine in &BASE64_ENGINES {
                if let Ok(len) = engine.decode_slice(text.as_bytes(), &mut buffer)
                    && len == N
                {
                    let mut bytes = [0u8; N];
                    bytes.copy_from_slice(&buffer[..N]);
                    return Self::Base64(bytes);
                }
            }
        }
        Self::Unreadable(text.chars().take(MAX_QUOTED_ID_CHARS).collect())
    }

    fn is_base64(&self) -> bool {
        matches!(self, Self::Base64(_))
    }

    fn bytes(self) -> Result<[u8; N], IdError> {
        match self {
            Self::Empty => Err(IdError::WrongByteLength {
                expected: N,
                actual: 0,
            }),
            Self::Hex(bytes) | Self::Base64(bytes) => Ok(bytes),
            Self::Unreadable(value) => Err(IdError::Unreadable { value, byte_len: N }),
        }
    }
}

impl JsonId<16> {
    fn trace_id(self) -> Result<TraceId, IdError> {
        TraceId::from_bytes(&self.bytes()?)
    }
}

impl JsonId<8> {
    fn span_id(self) -> Result<SpanId, IdError> {
        SpanId::from_bytes(&self.bytes()?)
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

impl<'de, const N: usize> Deserialize<'de> for JsonId<N> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor<const N: usize>;
        impl<const N: usize> Visitor<'_> for IdVisitor<N> {
            type Value = JsonId<N>;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an id as a hex or base64 string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<JsonId<N>, E> {
                Ok(JsonId::parse(text))
            }
        }
        deserializer.deserialize_str(IdVisitor::<N>)
    }
}

/// A span's `kind`: a number, or a name as the proto3 JSON mapping allows.
#[derive(Default, Clone, Copy)]
struct SpanKindJson(i32);

/// A status `code`: a number, or a name as the proto3 JSON mapping allows.
#[derive(Default, Clone, Copy)]
struct StatusCodeJson(i32);

/// The names of `Span.SpanKind`'s values, in number order.
const SPAN_KIND_NAMES: &[&str] = &[
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

/// The names of `Status.StatusCode`'s values, in number order.
const STATUS_CODE_NAMES: &[&str] = &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

/// An enum value as the Collector's pdata reads it: any 32-bit number (unknown numbers are
/// kept, as protobuf keeps them), or one of `names` (an unknown name fails the request, as in
/// the Collector and the official protobuf JSON decoders); `null` is the default, 0.
fn deserialize_enum<'de, D: de::Deserializer<'de>>(
    deserializer: D,
    what: &'static str,
    names: &'static [&'static str],
) -> Result<i32, D::Error> {
    struct EnumVisitor {
        what: &'static str,
        names: &'static [&'static str],
    }
    impl Visitor<'_> for EnumVisitor {
        type Value = i32;
        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            write!(
                formatter,
                "a {} as a 32-bit number or one of {}",
                self.what,
                self.names.join(", ")
            )
        }
        fn visit_i64<E: de::Error>(self, value: i64) -> Result<i32, E> {
            i32::try_from(value).map_err(|_| E::invalid_value(Unexpected::Signed(value), &self))
        }
        fn visit_u64<E: de::Error>(self, value: u64) -> Result<i32, E> {
            i32::try_from(value).map_err(|_| E::invalid_value(Unexpected::Unsigned(value), &self))
        }
        fn visit_str<E: de::Error>(self, name: &str) -> Result<i32, E> {
            match self.names.iter().position(|known| *known == name) {
                Some(number) => Ok(number as i32),
                None => Err(E::custom(format!(
                    "unknown {} {name:?}: expected a number or one of {}",
                    self.what,
                    self.names.join(", ")
                ))),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<i32, E> {
            Ok(0)
        }
    }
    deserializer.deserialize_any(EnumVisitor { what, names })
}

impl<'de> Deserialize<'de> for SpanKindJson {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_enum(deserializer, "span kind", SPAN_KIND_NAMES).map(SpanKindJson)
    }
}

impl<'de> Deserialize<'de> for StatusCodeJson {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_enum(deserializer, "status code", STATUS_CODE_NAMES).map(StatusCodeJson)
    }
}

/// An `AnyValue` object: its one set field (the last, if several), empty when none is set.
struct AnyValueJson(AnyValue);

enum ValueKey {
    String,
    Bool,
    Int,
    Double,
    Array,
    KvList,
    Bytes,
    Other,
}

impl<'de> Deserialize<'de> for ValueKey {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = ValueKey;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an AnyValue field")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<ValueKey, E> {
                Ok(match key {
                    "stringValue" => ValueKey::String,
                    "boolValue" => ValueKey::Bool,
                    "intValue" => ValueKey::Int,
                    "doubleValue" => ValueKey::Double,
                    "arrayValue" => ValueKey::Array,
                    "kvlistValue" => ValueKey::KvList,
                    "bytesValue" => ValueKey::Bytes,
                    _ => ValueKey::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// An `intValue`: a number or a decimal string.
struct I64(i64);

impl<'de> Deserialize<'de> for I64 {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct I64Visitor;
        impl Visitor<'_> for I64Visitor {
            type Value = I64;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a 64-bit integer, as a number or a string")
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<I64, E> {
                Ok(I64(value))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<I64, E> {
                i64::try_from(value)
                    .map(I64)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(value), &self))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<I64, E> {
                value
                    .parse()
                    .map(I64)
                    .map_err(|_| E::invalid_value(Unexpected::Str(value), &self))
            }
        }
        deserializer.deserialize_any(I64Visitor)
    }
}

/// `{"values": [...]}` of an `arrayValue`.
#[derive(Deserialize)]
#[serde(expecting = "an array value: an object of \"values\"")]
struct ArrayJson {
    values: Vec<AnyValueOrEmpty>,
}

/// `{"values": [...]}` of a `kvlistValue`.
#[derive(Deserialize)]
#[serde(expecting = "a key-value list: an object of \"values\"")]
struct KvListJson {
    values: Vec<KeyValueJson>,
}

/// An element of an array: an `AnyValue` object.
struct AnyValueOrEmpty(AnyValue);

impl<'de> Deserialize<'de> for AnyValueOrEmpty {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        AnyValueJson::deserialize(deserializer).map(|value| AnyValueOrEmpty(value.0))
    }
}

impl<'de> Deserialize<'de> for AnyValueJson {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = AnyValueJson;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a JSON object for AnyValue")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyValueJson, A::Error> {
                let mut value = AnyValue::Empty;
                while let Some(key) = map.next_key::<ValueKey>()? {
                    let next = match key {
                        ValueKey::String => {
                            map.next_value::<Option<String>>()?.map(AnyValue::String)
                        }
                        ValueKey::Bool => map.next_value::<Option<bool>>()?.map(AnyValue::Bool),
                        ValueKey::Int => map
                            .next_value::<Option<I64>>()?
                            .map(|int| AnyValue::Int(int.0)),
                        ValueKey::Double => map.next_value::<Option<f64>>()?.map(AnyValue::Double),
                        ValueKey::Array => map.next_value::<Option<ArrayJson>>()?.map(|array| {
                            AnyValue::Array(array.values.into_iter().map(|item| item.0).collect())
                        }),
                        ValueKey::KvList => map
                            .next_value::<Option<KvListJson>>()?
                            .map(|list| AnyValue::KvList(attributes(list.values))),
                        ValueKey::Bytes => {
                            match map.next_value::<Option<std::borrow::Cow<'_, str>>>()? {
                                Some(text) => Some(AnyValue::Bytes(
                                    base64::engine::general_purpose::STANDARD
                                        .decode(text.as_bytes())
                                        .map_err(de::Error::custom)?,
                                )),
                                None => None,
                            }
                        }
                        ValueKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                            None
                        }
                    };
                    if let Some(next) = next {
                        value = next;
                    }
                }
                Ok(AnyValueJson(value))
            }
        }
        deserializer.deserialize_map(ValueVisitor)
    }
}

/// The work of converting a span against reading it (`progress::READ_UNITS`): a fifth of the
/// decode of an OTLP JSON file, measured.
pub(crate) const CONVERSION_UNITS: u64 = 1;

/// Flattens a request into a batch, rejecting spans with bad ids (as `otlp::reference::from_request`).
pub(crate) fn into_decoded(request: RequestJson) -> Decoded {
    flatten(request.resource_spans)
}

/// Flattens a Tempo trace into a batch, as [`into_decoded`].
pub(crate) fn tempo_into_decoded(trace: TempoTraceJson) -> Decoded {
    let mut all_resource_spans = trace.batches;
    all_resource_spans.extend(trace.resource_spans);
    flatten(all_resource_spans)
}

fn flatten(all_resource_spans: Vec<ResourceSpansJson>) -> Decoded {
    let mut decoded = Decoded::default();
    for resource_spans in all_resource_spans {
        let resource = resource_spans.resource.unwrap_or_default();
        let resource_idx = decoded.push_resource(Resource {
            attributes: attributes(resource.attributes),
            schema_url: resource_spans.schema_url,
        });
        let all_scope_spans = resource_spans
            .scope_spans
            .into_iter()
            .chain(resource_spans.instrumentation_library_spans);
        for scope_spans in all_scope_spans {
            let scope = scope_spans
                .scope
                .or(scope_spans.instrumentation_library)
                .unwrap_or_default();
            let scope_idx = decoded.push_scope(Scope {
                name: scope.name,
                version: scope.version,
                attributes: attributes(scope.attributes),
                schema_url: scope_spans.schema_url,
            });
            for span in scope_spans.spans {
                decoded.base64_ids |= span.has_base64_ids();
                decoded.keep_or_reject(convert_span(span, resource_idx, scope_idx));
                crate::formats::progress::advance(CONVERSION_UNITS);
            }
        }
    }
    decoded
}

impl SpanJson {
    fn has_base64_ids(&self) -> bool {
        self.trace_id.is_base64()
            || self.span_id.is_base64()
            || self.parent_span_id.is_base64()
            || self
                .links
                .iter()
                .any(|link| link.trace_id.is_base64() || link.span_id.is_base64())
    }
}

fn convert_span(
    span: SpanJson,
    resource_idx: u32,
    scope_idx: u32,
) -> Result<Span, (String, String)> {
    let fail = |problem: String| (span.name.clone(), problem);
    let (trace_id, span_id, parent_span_id) = span_ids(
        span.trace_id.trace_id(),
        span.span_id.span_id(),
        span.parent_span_id.span_id(),
    )
    .map_err(fail)?;
    let mut links = Vec::with_capacity(span.links.len());
    for link in span.links {
        let (trace_id, span_id) =
            link_ids(link.trace_id.trace_id(), link.span_id.span_id()).map_err(fail)?;
        links.push(Link {
            trace_id,
            span_id,
            trace_state: link.trace_state,
            attributes: attributes(link.attributes),
        });
    }
    let status = span.status.unwrap_or_default();
    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        kind: SpanKind::from_otlp(span.kind.0),
        start_nanos: span.start_time_unix_nano.0,
        end_nanos: span.end_time_unix_nano.0,
        attributes: attributes(span.attributes),
        events: span
            .events
            .into_iter()
            .map(|event| Event {
                name: event.name,
                time_nanos: event.time_unix_nano.0,
                attributes: attributes(event.attributes),
            })
            .collect(),
        links,
        status: Status {
            code: StatusCode::from_otlp(status.code.0),
            message: status.message,
        },
        trace_state: span.trace_state,
        flags: span.flags,
        dropped: Dropped {
            attributes: span.dropped_attributes_count,
            events: span.dropped_events_count,
            links: span.dropped_links_count,
        },
        name: span.name,
        resource_idx,
        scope_idx,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Both decoders on the same text: the same batch and rejections, or both an error.
    fn same_as_generated_types(text: &str) -> Result<(), TestCaseError> {
        otlp::reference::same_outcome(
            otlp::reference::reference_json(text),
            serde_json::from_str::<RequestJson>(text).map(into_decoded),
        )
    }

    fn decode(text: &str) -> Decoded {
        same_as_generated_types(text)
            .map_err(|error| format!("{text}: {error}"))
            .unwrap();
        otlp::decode_json(text.as_bytes()).unwrap()
    }

    /// One span named "a" in a request, with `fields` after hex ids.
    fn one_span(fields: &str) -> String {
        with_ids(
            "5b8efff798038103d269b633813fc60c",
            "eee19b7ec3c1b174",
            fields,
        )
    }

    fn with_ids(trace_id: &str, span_id: &str, fields: &str) -> String {
        let comma = if fields.is_empty() { "" } else { "," };
        format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{trace_id}","spanId":"{span_id}","name":"a"{comma}{fields}}}]}}]}}]}}"#
        )
    }

    #[test]
    fn enum_names_are_read_as_their_numbers() {
        let decoded = decode(&one_span(
            r#""kind":"SPAN_KIND_SERVER","status":{"code":"STATUS_CODE_ERROR","message":"boom"}"#,
        ));
        let span = &decoded.batch.spans[0];
        assert_eq!(span.kind, SpanKind::Server);
        assert_eq!(span.status.code, StatusCode::Error);
        for (kind, expected) in [
            ("SPAN_KIND_UNSPECIFIED", SpanKind::Unspecified),
            ("SPAN_KIND_INTERNAL", SpanKind::Internal),
            ("SPAN_KIND_CLIENT", SpanKind::Client),
            ("SPAN_KIND_PRODUCER", SpanKind::Producer),
            ("SPAN_KIND_CONSUMER", SpanKind::Consumer),
            ("3", SpanKind::Client),
        ] {
            let value = if kind.starts_with('S') {
                format!("{kind:?}")
            } else {
                kind.to_owned()
            };
            let decoded = decode(&one_span(&format!(r#""kind":{value}"#)));
            assert_eq!(decoded.batch.spans[0].kind, expected, "{kind}");
        }
        for (code, expected) in [
            ("STATUS_CODE_OK", StatusCode::Ok),
            ("STATUS_CODE_UNSET", StatusCode::Unset),
        ] {
            let decoded = decode(&one_span(&format!(r#""status":{{"code":"{code}"}}"#)));
            assert_eq!(decoded.batch.spans[0].status.code, expected, "{code}");
        }
        let decoded = decode(&one_span(r#""kind":null,"status":{"code":null}"#));
        assert_eq!(decoded.batch.spans[0].kind, SpanKind::Unspecified);
    }

    #[test]
    fn a_json_array_is_no_request() {
        for (body, position) in [
            ("[]", "line 1 column 1"),
            ("\n  [{\"resourceSpans\": []}]", "line 2 column 3"),
        ] {
            let error = otlp::decode_json(body.as_bytes()).unwrap_err().to_string();
            assert_eq!(
                error,
                format!(
                    "invalid OTLP JSON at {position}: a JSON array where an OTLP request is an \
                     object of \"resourceSpans\""
                )
            );
        }
        // An object, however empty, is a request (of nothing).
        assert!(otlp::decode_json(b" {}").unwrap().batch.spans.is_empty());
    }

    #[test]
    fn unknown_enum_names_fail_the_request_with_the_name_and_the_known_ones() {
        let mut messages = String::new();
        for field in [
            r#""kind":"SERVER""#,
            r#""status":{"code":"ERROR"}"#,
            r#""kind":4294967296"#,
        ] {
            let text = one_span(field);
            same_as_generated_types(&text).unwrap();
            let error = otlp::decode_json(text.as_bytes()).unwrap_err();
            messages.push_str(&format!("{field}:\n    {error}\n"));
        }
        expect_test::expect![[r#"
            "kind":"SERVER":
                invalid OTLP JSON at line 1 column 143: unknown span kind "SERVER": expected a number or one of SPAN_KIND_UNSPECIFIED, SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER
            "status":{"code":"ERROR"}:
                invalid OTLP JSON at line 1 column 152: unknown status code "ERROR": expected a number or one of STATUS_CODE_UNSET, STATUS_CODE_OK, STATUS_CODE_ERROR
            "kind":4294967296:
                invalid OTLP JSON at line 1 column 145: invalid value: integer `4294967296`, expected a span kind as a 32-bit number or one of SPAN_KIND_UNSPECIFIED, SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER
        "#]].assert_eq(&messages);
    }

    /// The ids of `TWO_SPANS`-like requests in base64, standard and URL-safe, padded or not.
    const BASE64_IDS: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","name":"root"},
        {"traceId":"W47_95gDgQPSabYzgT_GDA","spanId":"AAAAAAAAAAE","parentSpanId":"7uGbfsPBsXQ=","name":"child",
         "links":[{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ"}]}
    ]}]}]}"#;

    #[test]
    fn base64_ids_are_read_and_noted() {
        let decoded = decode(BASE64_IDS);
        assert!(decoded.base64_ids);
        assert_eq!(decoded.rejected, otlp::RejectedSpans::default());
        let [root, child] = &decoded.batch.spans[..] else {
            panic!("{:?}", decoded.batch.spans)
        };
        assert_eq!(root.trace_id.to_hex(), "5b8efff798038103d269b633813fc60c");
        assert_eq!(root.span_id.to_hex(), "eee19b7ec3c1b174");
        assert_eq!(child.trace_id, root.trace_id);
        assert_eq!(child.span_id.to_hex(), "0000000000000001");
        assert_eq!(child.parent_span_id, Some(root.span_id));
        assert_eq!(child.links[0].span_id, root.span_id);
        // Hex ids are not noted.
        assert!(!decode(&one_span(r#""kind":1"#)).base64_ids);
    }

    #[test]
    fn hex_wins_where_the_text_is_hex_of_the_right_length() {
        // 32 hex digits are also valid base64 (of 24 bytes): hex, as OTLP JSON specifies.
        let decoded = decode(&one_span(r#""parentSpanId":"00000000000000ab""#));
        assert_eq!(
            decoded.batch.spans[0].parent_span_id.map(|id| id.to_hex()),
            Some(String::from("00000000000000ab"))
        );
        assert!(!decoded.base64_ids);
        let decoded = decode(&with_ids(
            "0123456789abcdef0123456789ABCDEF",
            "0123456789abcdef",
            "",
        ));
        assert!(!decoded.base64_ids);
        let span = &decoded.batch.spans[0];
        assert_eq!(span.trace_id.to_hex(), "0123456789abcdef0123456789abcdef");
        assert_eq!(span.span_id.to_hex(), "0123456789abcdef");
        // No text of hex digits but the right length is base64 of the right length (its last
        // digit would need zero low bits), so the rule above is the only one needed.
    }

    #[test]
    fn unreadable_ids_reject_their_span_naming_field_value_and_expectation() {
        for (field, value, reason) in [
            (
                "traceId",
                "abc",
                r#"span 0 ("a"): trace id "abc": expected 32 hex digits or base64 of 16 bytes"#,
            ),
            (
                "traceId",
                "5b8e",
                r#"span 0 ("a"): trace id "5b8e": expected 32 hex digits or base64 of 16 bytes"#,
            ),
            (
                "traceId",
                "zz8efff798038103d269b633813fc60c",
                r#"span 0 ("a"): trace id "zz8efff798038103d269b633813fc60c": expected 32 hex digits or base64 of 16 bytes"#,
            ),
            (
                "spanId",
                "7uGbfsPBsXQAAA==",
                r#"span 0 ("a"): span id "7uGbfsPBsXQAAA==": expected 16 hex digits or base64 of 8 bytes"#,
            ),
            (
                "parentSpanId",
                "not an id",
                r#"span 0 ("a"): parent span id "not an id": expected 16 hex digits or base64 of 8 bytes"#,
            ),
            (
                "traceId",
                "AAAAAAAAAAAAAAAAAAAAAA==",
                r#"span 0 ("a"): trace id: an all-zero id is invalid"#,
            ),
        ] {
            let text = match field {
                "traceId" => with_ids(value, "eee19b7ec3c1b174", ""),
                "spanId" => with_ids("5b8efff798038103d269b633813fc60c", value, ""),
                _ => one_span(&format!(r#""{field}":"{value}""#)),
            };
            let decoded = decode(&text);
            assert_eq!(decoded.batch.spans.len(), 0, "{text}");
            assert_eq!(decoded.rejected.count, 1);
            assert_eq!(decoded.rejected.first_reason.as_deref(), Some(reason));
        }
        let text =
            one_span(r#""links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"x"}]"#);
        assert_eq!(
            decode(&text).rejected.first_reason.as_deref(),
            Some(r#"span 0 ("a"): link span id "x": expected 16 hex digits or base64 of 8 bytes"#)
        );
        // A huge id is quoted in part.
        let long = "g".repeat(10_000);
        let text = with_ids("5b8efff798038103d269b633813fc60c", &long, "");
        let reason = decode(&text).rejected.first_reason.unwrap();
        assert!(reason.len() < 200, "{reason}");
    }

    #[test]
    fn pre_1_0_instrumentation_library_spans_are_scope_spans() {
        let text = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"old"}}]},
            "instrumentationLibrarySpans":[{"instrumentationLibrary":{"name":"io.opentelemetry.auto","version":"0.9"},
              "spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"GET","kind":"SPAN_KIND_SERVER"}]}]}]}"#;
        let decoded = decode(text);
        let span = &decoded.batch.spans[0];
        assert_eq!(decoded.batch.service_of(span), "old");
        let scope = &decoded.batch.scopes[span.scope_idx as usize];
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("io.opentelemetry.auto", "0.9")
        );
        // Both generations in one resource: scopeSpans first, then the old ones.
        let both = r#"{"resourceSpans":[{"scopeSpans":[{"scope":{"name":"new"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000001"}]}],
            "instrumentationLibrarySpans":[{"instrumentationLibrary":{"name":"old"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000002"}]}]}]}"#;
        let decoded = decode(both);
        let scopes: Vec<&str> = decoded
            .batch
            .spans
            .iter()
            .map(|span| decoded.batch.scopes[span.scope_idx as usize].name.as_str())
            .collect();
        assert_eq!(scopes, ["new", "old"]);
    }

    #[test]
    fn edge_cases_decode_like_the_generated_types() {
        let cases = [
            r#"{}"#,
            r#"{"resourceSpans":[]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","name":"a","kind":2,"startTimeUnixNano":1,"endTimeUnixNano":"2","unknown":{"x":[1,2]}}]}]}]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000000","spanId":"eee19b7ec3c1b174","name":"zero"}]}]}]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8e","spanId":"eee19b7ec3c1b174","name":"short"}]}]}]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"0000000000000000","attributes":[{"key":"i","value":{"intValue":"-12"}},{"key":"b","value":{"bytesValue":"AAH+/w=="}},{"key":"e","value":{}},{"key":"n"},{"key":"a","value":{"arrayValue":{"values":[{"stringValue":"x"},{}]}}},{"key":"m","value":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":true}}]}}},{"key":"d","value":{"doubleValue":1.5,"stringValue":"last"}},{"key":"z","value":{"stringValue":null}}]}]}]}]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[{"value":{"intValue":1}}]}]}]}]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[{"key":"a","value":{"arrayValue":{}}}]}]}]}]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"01"}]}]}]}]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","startTimeUnixNano":-1}]}]}]}"#,
            r#"{"resourceSpans":null}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0x5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c5b","spanId":"eee19b7ec3c1b1"}]}]}]}"#,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","status":{"code":2,"message":"boom"},"events":[{"timeUnixNano":"3","name":"e","attributes":[{"key":"x","value":{"doubleValue":2}}]}],"flags":257,"droppedAttributesCount":3}]}]}]}"#,
            r#"{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":{"name":"s","version":"1"},"spans":[]}]}]}"#,
        ];
        for case in cases {
            same_as_generated_types(case)
                .map_err(|error| format!("{case}: {error}"))
                .unwrap();
        }
    }

    proptest! {
        #[test]
        fn exports_decode_like_the_generated_types(batch in crate::formats::compact::tests::batch()) {
            same_as_generated_types(&otlp::encode_json(&batch))?;
        }
    }
}
