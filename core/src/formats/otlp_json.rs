//! The OTLP JSON mapping decoded straight into core's model.
//!
//! `opentelemetry-proto`'s serde types decode every id into a hex `String` and then bytes,
//! every attribute into an intermediate message, every `AnyValue` key into a `String`; the
//! conversion to core's model then moves or copies it all again. Here ids are decoded from the
//! borrowed text into arrays, keys are matched without allocating, and strings are allocated
//! once, where the model keeps them. That halves the allocations per span, which is what the
//! browser's wasm pays for most (uploads are decoded there).
//!
//! It accepts exactly what the generated types accept (differential tests below compare the two
//! on arbitrary batches and on the real fixtures): fields in lowerCamelCase, unknown fields
//! ignored, missing fields default (except an attribute's `key`, and `values` of arrays and
//! maps), 64-bit integers as numbers or strings, ids as hex (an invalid digit fails the
//! request; a wrong length or an all-zero id rejects the span), bytes as base64.

use std::fmt;

use base64::Engine;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use super::otlp::{self, Decoded};
use crate::ids::{IdError, SpanId, TraceId};
use crate::model::{
    AnyValue, Dropped, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status, StatusCode,
};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RequestJson {
    resource_spans: Vec<ResourceSpansJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ResourceSpansJson {
    resource: Option<ResourceJson>,
    scope_spans: Vec<ScopeSpansJson>,
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ResourceJson {
    attributes: Vec<KeyValueJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ScopeSpansJson {
    scope: Option<ScopeJson>,
    #[serde(deserialize_with = "super::progress::counted")]
    spans: Vec<SpanJson>,
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ScopeJson {
    name: String,
    version: String,
    attributes: Vec<KeyValueJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SpanJson {
    trace_id: HexId,
    span_id: HexId,
    trace_state: String,
    parent_span_id: HexId,
    flags: u32,
    name: String,
    kind: i32,
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
#[serde(rename_all = "camelCase", default)]
struct EventJson {
    time_unix_nano: U64,
    name: String,
    attributes: Vec<KeyValueJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct LinkJson {
    trace_id: HexId,
    span_id: HexId,
    trace_state: String,
    attributes: Vec<KeyValueJson>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StatusJson {
    message: String,
    code: i32,
}

/// An attribute: `key` is required, a missing `value` is empty.
#[derive(Deserialize)]
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
                u64::try_from(value).map(U64).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<U64, E> {
                value.parse().map(U64).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(U64Visitor)
    }
}

/// Hex-encoded id bytes, decoded without allocating (ids longer than 16 bytes only keep their
/// length, for the error).
#[derive(Default, Clone, Copy)]
struct HexId {
    bytes: [u8; 16],
    len: usize,
}

impl HexId {
    fn trace_id(self) -> Result<TraceId, IdError> {
        match self.len {
            16 => TraceId::from_bytes(&self.bytes),
            actual => Err(IdError::WrongByteLength {
                expected: 16,
                actual,
            }),
        }
    }

    fn span_id(self) -> Result<SpanId, IdError> {
        match self.len {
            8 => SpanId::from_bytes(&self.bytes[..8]),
            actual => Err(IdError::WrongByteLength {
                expected: 8,
                actual,
            }),
        }
    }
}

impl<'de> Deserialize<'de> for HexId {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;
        impl Visitor<'_> for HexVisitor {
            type Value = HexId;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a string representing hex-encoded bytes")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<HexId, E> {
                let digits = text.strip_prefix("0x").unwrap_or(text).as_bytes();
                if digits.len() % 2 == 1 {
                    return Err(E::custom("odd number of digits"));
                }
                let mut id = HexId {
                    bytes: [0; 16],
                    len: digits.len() / 2,
                };
                for (idx, pair) in digits.chunks_exact(2).enumerate() {
                    let digit = |at: usize| {
                        let c = pair[at];
                        (c as char).to_digit(16).map(|d| d as u8).ok_or_else(|| {
                            E::custom(format!(
                                "invalid character {:?} at position {}",
                                c as char,
                                idx * 2 + at
                            ))
                        })
                    };
                    let byte = (digit(0)? << 4) | digit(1)?;
                    if let Some(slot) = id.bytes.get_mut(idx) {
                        *slot = byte;
                    }
                }
                Ok(id)
            }
        }
        deserializer.deserialize_str(HexVisitor)
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
                i64::try_from(value).map(I64).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<I64, E> {
                value.parse().map(I64).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(I64Visitor)
    }
}

/// `{"values": [...]}` of an `arrayValue`.
#[derive(Deserialize)]
struct ArrayJson {
    values: Vec<AnyValueOrEmpty>,
}

/// `{"values": [...]}` of a `kvlistValue`.
#[derive(Deserialize)]
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

/// Flattens a request into a batch, rejecting spans with bad ids (as `otlp::from_request`).
pub(crate) fn into_decoded(request: RequestJson) -> Decoded {
    let mut decoded = Decoded::default();
    for resource_spans in request.resource_spans {
        let resource = resource_spans.resource.unwrap_or_default();
        let resource_idx = decoded.push_resource(Resource {
            attributes: attributes(resource.attributes),
            schema_url: resource_spans.schema_url,
        });
        for scope_spans in resource_spans.scope_spans {
            let scope = scope_spans.scope.unwrap_or_default();
            let scope_idx = decoded.push_scope(Scope {
                name: scope.name,
                version: scope.version,
                attributes: attributes(scope.attributes),
                schema_url: scope_spans.schema_url,
            });
            for span in scope_spans.spans {
                decoded.keep_or_reject(convert_span(span, resource_idx, scope_idx));
                super::progress::advance(CONVERSION_UNITS);
            }
        }
    }
    decoded
}

fn convert_span(
    span: SpanJson,
    resource_idx: u32,
    scope_idx: u32,
) -> Result<Span, (String, String)> {
    let fail = |problem: String| (span.name.clone(), problem);
    let (trace_id, span_id, parent_span_id) = otlp::span_ids(
        span.trace_id.trace_id(),
        span.span_id.span_id(),
        span.parent_span_id.span_id(),
    )
    .map_err(fail)?;
    let mut links = Vec::with_capacity(span.links.len());
    for link in span.links {
        let (trace_id, span_id) =
            otlp::link_ids(link.trace_id.trace_id(), link.span_id.span_id()).map_err(fail)?;
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
        kind: SpanKind::from_otlp(span.kind),
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
        otlp::tests::same_outcome(
            serde_json::from_str::<
                opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
            >(text)
            .map(otlp::from_request),
            serde_json::from_str::<RequestJson>(text).map(into_decoded),
        )
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
