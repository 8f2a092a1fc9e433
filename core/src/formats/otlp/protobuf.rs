//! OTLP protobuf decoded straight into core's model.
//!
//! `prost` with `opentelemetry-proto`'s generated types allocates a `Vec<u8>` for every id and a
//! message for every attribute and value, and the conversion to core's model then moves it all
//! again. Here the wire format is read once: ids go from the borrowed bytes into arrays, and
//! strings are allocated once, where the model keeps them. This is the receiver's hot path (every
//! `POST /v1/traces` in protobuf) and the upload worker's for `.pb` files.
//!
//! It accepts exactly what the generated types accept (differential tests below compare the two
//! on arbitrary batches, on truncated and corrupted encodings, and on the real fixtures): unknown
//! fields are skipped (groups too), a known field with another wire type is an error, a message
//! field given twice is merged and a scalar replaced, strings must be UTF-8, and nesting deeper
//! than prost's recursion limit (100) is an error. Errors name the byte offset and the field.

use super::decoded::{Decoded, OtlpError};
use super::ids::{link_ids, span_ids};
#[cfg(test)]
use crate::formats::otlp;
use crate::ids::{SpanId, TraceId};
use crate::model::{
    AnyValue, Dropped, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status, StatusCode,
};

/// prost's default: how deeply messages may nest (arrays of arrays of attribute values).
const RECURSION_LIMIT: u32 = 100;

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LENGTH_DELIMITED: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;

/// Decodes an `ExportTraceServiceRequest` in protobuf.
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded, OtlpError> {
    let mut decoded = Decoded::default();
    let mut request = Reader {
        bytes,
        pos: 0,
        base: 0,
        depth: 0,
    };
    let result = (|| {
        while let Some((number, wire)) = request.key()? {
            match number {
                1 => resource_spans(
                    request.message(wire, "ExportTraceServiceRequest.resource_spans")?,
                    &mut decoded,
                )?,
                _ => request.skip(wire, number)?,
            }
        }
        Ok(())
    })();
    result.map_err(|error: WireError| OtlpError::Protobuf {
        offset: error.offset,
        message: error.message,
    })?;
    Ok(decoded)
}

struct WireError {
    offset: usize,
    message: String,
}

type Wire<T> = Result<T, WireError>;

/// One message's bytes: `base` is where they start in the request (for error offsets), `depth`
/// how many messages enclose it.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, at: usize, message: impl Into<String>) -> Wire<T> {
        Err(WireError {
            offset: self.base + at,
            message: message.into(),
        })
    }

    /// The next field's number and wire type, or `None` at the end of the message.
    fn key(&mut self) -> Wire<Option<(u32, u8)>> {
        if self.pos == self.bytes.len() {
            return Ok(None);
        }
        let at = self.pos;
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return self.fail(at, format!("field key {key} is out of range"));
        }
        let wire = (key & 7) as u8;
        if wire > FIXED32 {
            return self.fail(at, format!("wire type {wire} is invalid"));
        }
        let number = (key >> 3) as u32;
        if number == 0 {
            return self.fail(at, "field number 0 is invalid");
        }
        Ok(Some((number, wire)))
    }

    #[inline]
    fn varint(&mut self) -> Wire<u64> {
        let mut value = 0u64;
        for shift in 0..10 {
            let Some(&byte) = self.bytes.get(self.pos + shift) else {
                return self.fail(self.pos, "truncated varint");
            };
            // The tenth byte holds only bit 63.
            if shift == 9 && byte > 1 {
                return self.fail(self.pos, "varint longer than 64 bits");
            }
            value |= u64::from(byte & 0x7f) << (7 * shift);
            if byte < 0x80 {
                self.pos += shift + 1;
                return Ok(value);
            }
        }
        self.fail(self.pos, "varint longer than 64 bits")
    }

    fn take(&mut self, len: u64) -> Wire<&'a [u8]> {
        let remaining = self.bytes.len() - self.pos;
        if len > remaining as u64 {
            return self.fail(
                self.pos,
                format!("truncated: {len} bytes expected, {remaining} left"),
            );
        }
        let start = self.pos;
        self.pos += len as usize;
        Ok(&self.bytes[start..self.pos])
    }

    fn expect(&self, wire: u8, expected: u8, field: &str) -> Wire<()> {
        if wire == expected {
            return Ok(());
        }
        let name = |wire| match wire {
            VARINT => "varint",
            FIXED64 => "64-bit",
            LENGTH_DELIMITED => "length-delimited",
            START_GROUP => "start group",
            END_GROUP => "end group",
            _ => "32-bit",
        };
        self.fail(
            self.pos,
            format!(
                "{field}: wire type {} where {} is expected",
                name(wire),
                name(expected)
            ),
        )
    }

    fn uint(&mut self, wire: u8, field: &str) -> Wire<u64> {
        self.expect(wire, VARINT, field)?;
        self.varint()
    }

    fn fixed64(&mut self, wire: u8, field: &str) -> Wire<u64> {
        self.expect(wire, FIXED64, field)?;
        let bytes = self.take(8)?;
        Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

    fn fixed32(&mut self, wire: u8, field: &str) -> Wire<u32> {
        self.expect(wire, FIXED32, field)?;
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("4 bytes")))
    }

    fn bytes(&mut self, wire: u8, field: &str) -> Wire<&'a [u8]> {
        self.expect(wire, LENGTH_DELIMITED, field)?;
        let len = self.varint()?;
        self.take(len)
    }

    fn string(&mut self, wire: u8, field: &str) -> Wire<String> {
        let bytes = self.bytes(wire, field)?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(error) => self.fail(
                self.pos - bytes.len() + error.valid_up_to(),
                format!("{field}: not UTF-8"),
            ),
        }
    }

    /// The embedded message of a length-delimited field.
    fn message(&mut self, wire: u8, field: &str) -> Wire<Reader<'a>> {
        if self.depth >= RECURSION_LIMIT {
            return self.fail(
                self.pos,
                format!("{field}: messages nested more than {RECURSION_LIMIT} deep"),
            );
        }
        let bytes = self.bytes(wire, field)?;
        Ok(Reader {
            bytes,
            pos: 0,
            base: self.base + self.pos - bytes.len(),
            depth: self.depth + 1,
        })
    }

    /// Skips an unknown field (prost counts skipped groups against the recursion limit too).
    fn skip(&mut self, wire: u8, number: u32) -> Wire<()> {
        self.skip_at(wire, number, self.depth)
    }

    fn skip_at(&mut self, wire: u8, number: u32, depth: u32) -> Wire<()> {
        if depth >= RECURSION_LIMIT {
            return self.fail(
                self.pos,
                format!("field {number}: nested more than {RECURSION_LIMIT} deep"),
            );
        }
        match wire {
            VARINT => {
                self.varint()?;
            }
            FIXED64 => {
                self.take(8)?;
            }
            FIXED32 => {
                self.take(4)?;
            }
            LENGTH_DELIMITED => {
                let len = self.varint()?;
                self.take(len)?;
            }
            START_GROUP => loop {
                let at = self.pos;
                let Some((inner, inner_wire)) = self.key()? else {
                    return self.fail(at, format!("group {number} has no end"));
                };
                if inner_wire == END_GROUP {
                    if inner != number {
                        return self.fail(at, format!("group {number} ends as {inner}"));
                    }
                    break;
                }
                self.skip_at(inner_wire, inner, depth + 1)?;
            },
            _ => {
                return self.fail(
                    self.pos,
                    format!("field {number}: end of a group not begun"),
                );
            }
        }
        Ok(())
    }
}

fn resource_spans(mut message: Reader<'_>, decoded: &mut Decoded) -> Wire<()> {
    // The resource comes first in the batch, as the generated types' conversion has it, however
    // the fields are ordered on the wire.
    let resource_idx = decoded.push_resource(Resource::default());
    while let Some((number, wire)) = message.key()? {
        match number {
            1 => {
                let mut resource = message.message(wire, "ResourceSpans.resource")?;
                let attributes = &mut decoded.batch.resources[resource_idx as usize].attributes;
                while let Some((number, wire)) = resource.key()? {
                    match number {
                        1 => attributes
                            .push(key_value(resource.message(wire, "Resource.attributes")?)?),
                        2 => {
                            resource.uint(wire, "Resource.dropped_attributes_count")?;
                        }
                        3 => entity_ref(resource.message(wire, "Resource.entity_refs")?)?,
                        _ => resource.skip(wire, number)?,
                    }
                }
            }
            2 => scope_spans(
                message.message(wire, "ResourceSpans.scope_spans")?,
                resource_idx,
                decoded,
            )?,
            3 => {
                decoded.batch.resources[resource_idx as usize].schema_url =
                    message.string(wire, "ResourceSpans.schema_url")?;
            }
            _ => message.skip(wire, number)?,
        }
    }
    Ok(())
}

/// An `EntityRef` of a resource: not kept, but checked as the generated types check it.
fn entity_ref(mut message: Reader<'_>) -> Wire<()> {
    while let Some((number, wire)) = message.key()? {
        match number {
            1..=4 => {
                message.string(wire, "EntityRef")?;
            }
            _ => message.skip(wire, number)?,
        }
    }
    Ok(())
}

fn scope_spans(mut message: Reader<'_>, resource_idx: u32, decoded: &mut Decoded) -> Wire<()> {
    let scope_idx = decoded.push_scope(Scope::default());
    while let Some((number, wire)) = message.key()? {
        match number {
            1 => {
                let mut fields = message.message(wire, "ScopeSpans.scope")?;
                let scope = &mut decoded.batch.scopes[scope_idx as usize];
                while let Some((number, wire)) = fields.key()? {
                    match number {
                        1 => scope.name = fields.string(wire, "InstrumentationScope.name")?,
                        2 => scope.version = fields.string(wire, "InstrumentationScope.version")?,
                        3 => scope.attributes.push(key_value(
                            fields.message(wire, "InstrumentationScope.attributes")?,
                        )?),
                        4 => {
                            fields.uint(wire, "InstrumentationScope.dropped_attributes_count")?;
                        }
                        _ => fields.skip(wire, number)?,
                    }
                }
            }
            2 => {
                let span = span(
                    message.message(wire, "ScopeSpans.spans")?,
                    resource_idx,
                    scope_idx,
                )?;
                decoded.keep_or_reject(span);
                crate::formats::progress::reach((message.base + message.pos) as u64);
            }
            3 => {
                decoded.batch.scopes[scope_idx as usize].schema_url =
                    message.string(wire, "ScopeSpans.schema_url")?;
            }
            _ => message.skip(wire, number)?,
        }
    }
    Ok(())
}

/// A link as it came, its ids checked once the span is complete.
struct WireLink<'a> {
    trace_id: &'a [u8],
    span_id: &'a [u8],
    trace_state: String,
    attributes: Vec<KeyValue>,
}

/// The span, or (once it is read whole) its name and what is wrong with its ids.
fn span(
    mut message: Reader<'_>,
    resource_idx: u32,
    scope_idx: u32,
) -> Wire<Result<Span, (String, String)>> {
    let (mut trace_id, mut span_id, mut parent_span_id): (&[u8], &[u8], &[u8]) = (&[], &[], &[]);
    let mut name = String::new();
    let mut trace_state = String::new();
    let (mut kind, mut flags) = (0i32, 0u32);
    let (mut start_nanos, mut end_nanos) = (0u64, 0u64);
    let mut attributes = Vec::new();
    let mut events = Vec::new();
    let mut links: Vec<WireLink<'_>> = Vec::new();
    let mut dropped = Dropped::default();
    let mut status = Status::default();
    while let Some((number, wire)) = message.key()? {
        match number {
            1 => trace_id = message.bytes(wire, "Span.trace_id")?,
            2 => span_id = message.bytes(wire, "Span.span_id")?,
            3 => trace_state = message.string(wire, "Span.trace_state")?,
            4 => parent_span_id = message.bytes(wire, "Span.parent_span_id")?,
            5 => name = message.string(wire, "Span.name")?,
            6 => kind = message.uint(wire, "Span.kind")? as i32,
            7 => start_nanos = message.fixed64(wire, "Span.start_time_unix_nano")?,
            8 => end_nanos = message.fixed64(wire, "Span.end_time_unix_nano")?,
            9 => attributes.push(key_value(message.message(wire, "Span.attributes")?)?),
            10 => dropped.attributes = message.uint(wire, "Span.dropped_attributes_count")? as u32,
            11 => events.push(event(message.message(wire, "Span.events")?)?),
            12 => dropped.events = message.uint(wire, "Span.dropped_events_count")? as u32,
            13 => links.push(link(message.message(wire, "Span.links")?)?),
            14 => dropped.links = message.uint(wire, "Span.dropped_links_count")? as u32,
            15 => merge_status(message.message(wire, "Span.status")?, &mut status)?,
            16 => flags = message.fixed32(wire, "Span.flags")?,
            _ => message.skip(wire, number)?,
        }
    }
    // The checks every OTLP decoder makes, so the rejection reasons are the same.
    let fail = |problem: String| (name.clone(), problem);
    let checked = span_ids(
        TraceId::from_bytes(trace_id),
        SpanId::from_bytes(span_id),
        SpanId::from_bytes(parent_span_id),
    );
    let (trace_id, span_id, parent_span_id) = match checked {
        Ok(ids) => ids,
        Err(problem) => return Ok(Err(fail(problem))),
    };
    let mut model_links = Vec::with_capacity(links.len());
    for link in links {
        let checked = link_ids(
            TraceId::from_bytes(link.trace_id),
            SpanId::from_bytes(link.span_id),
        );
        let (trace_id, span_id) = match checked {
            Ok(ids) => ids,
            Err(problem) => return Ok(Err(fail(problem))),
        };
        model_links.push(Link {
            trace_id,
            span_id,
            trace_state: link.trace_state,
            attributes: link.attributes,
        });
    }
    Ok(Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        name,
        kind: SpanKind::from_otlp(kind),
        start_nanos,
        end_nanos,
        attributes,
        events,
        links: model_links,
        status,
        trace_state,
        flags,
        dropped,
        resource_idx,
        scope_idx,
    }))
}

fn event(mut message: Reader<'_>) -> Wire<Event> {
    let mut event = Event {
        name: String::new(),
        time_nanos: 0,
        attributes: Vec::new(),
    };
    while let Some((number, wire)) = message.key()? {
        match number {
            1 => event.time_nanos = message.fixed64(wire, "Event.time_unix_nano")?,
            2 => event.name = message.string(wire, "Event.name")?,
            3 => event
                .attributes
                .push(key_value(message.message(wire, "Event.attributes")?)?),
            4 => {
                message.uint(wire, "Event.dropped_attributes_count")?;
            }
            _ => message.skip(wire, number)?,
        }
    }
    Ok(event)
}

fn link<'a>(mut message: Reader<'a>) -> Wire<WireLink<'a>> {
    let mut link = WireLink {
        trace_id: &[],
        span_id: &[],
        trace_state: String::new(),
        attributes: Vec::new(),
    };
    while let Some((number, wire)) = message.key()? {
        match number {
            1 => link.trace_id = message.bytes(wire, "Link.trace_id")?,
            2 => link.span_id = message.bytes(wire, "Link.span_id")?,
            3 => link.trace_state = message.string(wire, "Link.trace_state")?,
            4 => link
                .attributes
                .push(key_value(message.message(wire, "Link.attributes")?)?),
            5 => {
                message.uint(wire, "Link.dropped_attributes_count")?;
            }
            6 => {
                message.fixed32(wire, "Link.flags")?;
            }
            _ => message.skip(wire, number)?,
        }
    }
    Ok(link)
}

fn merge_status(mut message: Reader<'_>, status: &mut Status) -> Wire<()> {
    while let Some((number, wire)) = message.key()? {
        match number {
            2 => status.message = message.string(wire, "Status.message")?,
            3 => status.code = StatusCode::from_otlp(message.uint(wire, "Status.code")? as i32),
            _ => message.skip(wire, number)?,
        }
    }
    Ok(())
}

fn key_value(mut message: Reader<'_>) -> Wire<KeyValue> {
    let mut key_value = KeyValue {
        key: String::new(),
        value: AnyValue::Empty,
    };
    while let Some((number, wire)) = message.key()? {
        match number {
            1 => key_value.key = message.string(wire, "KeyValue.key")?,
            2 => merge_value(
                message.message(wire, "KeyValue.value")?,
                &mut key_value.value,
            )?,
            3 => {
                message.uint(wire, "KeyValue.key_strindex")?;
            }
            _ => message.skip(wire, number)?,
        }
    }
    Ok(key_value)
}

/// Reads an `AnyValue` into `value`: its `oneof` as prost merges it (the last kind given wins;
/// arrays and maps given twice are concatenated).
fn merge_value(mut message: Reader<'_>, value: &mut AnyValue) -> Wire<()> {
    while let Some((number, wire)) = message.key()? {
        match number {
            1 => *value = AnyValue::String(message.string(wire, "AnyValue.string_value")?),
            2 => *value = AnyValue::Bool(message.uint(wire, "AnyValue.bool_value")? != 0),
            3 => *value = AnyValue::Int(message.uint(wire, "AnyValue.int_value")? as i64),
            4 => {
                let bits = message.fixed64(wire, "AnyValue.double_value")?;
                *value = AnyValue::Double(f64::from_bits(bits));
            }
            5 => {
                let mut array = message.message(wire, "AnyValue.array_value")?;
                if !matches!(value, AnyValue::Array(_)) {
                    *value = AnyValue::Array(Vec::new());
                }
                let AnyValue::Array(values) = value else {
                    unreachable!("just made an array")
                };
                while let Some((number, wire)) = array.key()? {
                    match number {
                        1 => {
                            let mut item = AnyValue::Empty;
                            merge_value(array.message(wire, "ArrayValue.values")?, &mut item)?;
                            values.push(item);
                        }
                        _ => array.skip(wire, number)?,
                    }
                }
            }
            6 => {
                let mut list = message.message(wire, "AnyValue.kvlist_value")?;
                if !matches!(value, AnyValue::KvList(_)) {
                    *value = AnyValue::KvList(Vec::new());
                }
                let AnyValue::KvList(pairs) = value else {
                    unreachable!("just made a list")
                };
                while let Some((number, wire)) = list.key()? {
                    match number {
                        1 => pairs.push(key_value(list.message(wire, "KeyValueList.values")?)?),
                        _ => list.skip(wire, number)?,
                    }
                }
            }
            7 => *value = AnyValue::Bytes(message.bytes(wire, "AnyValue.bytes_value")?.to_vec()),
            // A reference into a profile's string table: a kind of value spans do not use.
            8 => {
                message.uint(wire, "AnyValue.string_value_strindex")?;
                *value = AnyValue::Empty;
            }
            _ => message.skip(wire, number)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use proptest::prelude::*;
    use prost::Message;

    use super::*;

    /// Both decoders on the same bytes: the same batch and rejections, or both an error.
    fn same_as_generated_types(bytes: &[u8]) -> Result<(), TestCaseError> {
        otlp::reference::same_outcome(
            ExportTraceServiceRequest::decode(bytes).map(otlp::reference::from_request),
            decode(bytes),
        )
    }

    fn varint(mut value: u64, out: &mut Vec<u8>) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    /// `bytes` wrapped as field `number` (length-delimited).
    fn field(number: u32, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(u64::from(number) << 3 | 2, &mut out);
        varint(bytes.len() as u64, &mut out);
        out.extend_from_slice(bytes);
        out
    }

    /// A request with one span whose body is `span`.
    fn request_with_span(span: &[u8]) -> Vec<u8> {
        field(1, &field(2, &field(2, span)))
    }

    const TRACE_ID: [u8; 16] = [7; 16];
    const SPAN_ID: [u8; 8] = [9; 8];

    fn ids() -> Vec<u8> {
        [field(1, &TRACE_ID), field(2, &SPAN_ID)].concat()
    }

    #[test]
    fn edge_cases_decode_like_the_generated_types() {
        let nested_array = |depth: usize| {
            let mut value = field(1, b"leaf");
            for _ in 0..depth {
                value = field(5, &field(1, &value));
            }
            request_with_span(
                &[
                    ids(),
                    field(9, &[field(1, b"k"), field(2, &value)].concat()),
                ]
                .concat(),
            )
        };
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xff; 64],
            vec![0x0a],
            vec![0x0a, 0x05, 0x12],
            // Unknown fields of every wire type, a group among them.
            [
                vec![0x10, 0x01, 0x19],
                vec![0; 8],
                vec![0x25, 0, 0, 0, 0, 0x2b, 0x08, 0x01, 0x2c],
            ]
            .concat(),
            // A group that ends with another number, and one never begun.
            vec![0x2b, 0x08, 0x01, 0x34],
            vec![0x2c],
            // Field number 0, wire types 6 and 7, an over-long varint.
            vec![0x02, 0x00],
            vec![0x0e],
            vec![0x0f],
            [vec![0x08], vec![0xff; 10], vec![0x01]].concat(),
            [vec![0x08], vec![0xff; 9], vec![0x01]].concat(),
            // A span with ids, a name, times, every kind of value, events, links, status.
            request_with_span(
                &[
                    ids(),
                    field(4, &[0; 8]),
                    field(5, b"GET /"),
                    vec![0x30, 0x02, 0x39],
                    7u64.to_le_bytes().to_vec(),
                    vec![0x41],
                    9u64.to_le_bytes().to_vec(),
                    field(9, &[field(1, b"s"), field(2, &field(1, b"text"))].concat()),
                    field(9, &[field(1, b"i"), field(2, &[0x18, 0x7f])].concat()),
                    field(9, &[field(1, b"n")].concat()),
                    field(
                        9,
                        &[
                            field(1, b"m"),
                            field(2, &field(6, &field(1, &field(1, b"k")))),
                        ]
                        .concat(),
                    ),
                    field(
                        9,
                        &[field(1, b"b"), field(2, &field(7, &[0, 1, 255]))].concat(),
                    ),
                    field(
                        9,
                        &[
                            field(1, b"x"),
                            field(2, &[field(1, b"a"), vec![0x40, 0x05]].concat()),
                        ]
                        .concat(),
                    ),
                    field(
                        9,
                        &[
                            field(1, b"y"),
                            field(
                                2,
                                &[
                                    field(5, &field(1, &field(1, b"a"))),
                                    field(5, &field(1, &[0x10, 0x01])),
                                ]
                                .concat(),
                            ),
                        ]
                        .concat(),
                    ),
                    field(
                        11,
                        &[vec![0x09], 3u64.to_le_bytes().to_vec(), field(2, b"retry")].concat(),
                    ),
                    field(
                        13,
                        &[
                            field(1, &TRACE_ID),
                            field(2, &[1; 8]),
                            field(3, b"k=v"),
                            vec![0x35, 1, 0, 0, 0],
                        ]
                        .concat(),
                    ),
                    field(15, &[field(2, b"boom"), vec![0x18, 0x02]].concat()),
                    field(15, &[vec![0x18, 0x01]].concat()),
                    vec![0x85, 0x01, 1, 1, 0, 0],
                ]
                .concat(),
            ),
            // Bad ids: the span is rejected, with the reasons prost's path gives.
            request_with_span(&[field(1, &[0; 16]), field(2, &SPAN_ID)].concat()),
            request_with_span(&[field(1, &TRACE_ID), field(2, &[1; 3])].concat()),
            request_with_span(&[ids(), field(4, &[1; 3])].concat()),
            request_with_span(&[ids(), field(13, &field(1, &[1; 2]))].concat()),
            // A known field with the wrong wire type, a string that is not UTF-8.
            request_with_span(&[ids(), vec![0x28, 0x01]].concat()),
            request_with_span(&[ids(), field(5, &[0xff, 0xfe])].concat()),
            // Resource and scope given twice (merged), with schema URLs, before and after spans.
            field(
                1,
                &[
                    field(
                        2,
                        &[
                            field(2, &ids()),
                            field(1, &field(1, b"lib")),
                            field(3, b"s1"),
                        ]
                        .concat(),
                    ),
                    field(
                        1,
                        &field(
                            1,
                            &[field(1, b"service.name"), field(2, &field(1, b"a"))].concat(),
                        ),
                    ),
                    field(
                        1,
                        &[
                            field(1, &[field(1, b"k"), field(2, &[0x10, 0x01])].concat()),
                            field(3, &field(1, b"t")),
                        ]
                        .concat(),
                    ),
                    field(3, b"url"),
                ]
                .concat(),
            ),
            // An entity ref whose string is not UTF-8.
            field(1, &field(1, &field(3, &field(1, &[0xc3])))),
            nested_array(40),
            nested_array(97),
            nested_array(98),
            nested_array(120),
        ];
        for case in cases {
            same_as_generated_types(&case)
                .map_err(|error| format!("{case:02x?}: {error}"))
                .unwrap();
        }
    }

    #[test]
    fn errors_name_the_offset_and_the_field() {
        let name_not_utf8 = request_with_span(&[ids(), field(5, &[0xff])].concat());
        // Span.start_time_unix_nano (fixed64) sent as a varint.
        let start_as_varint = request_with_span(&[ids(), vec![7 << 3, 1]].concat());
        // Unknown field 15 (skipped) as groups within groups.
        let nested_groups = [vec![0x7b; 200], vec![0x7c; 200]].concat();
        let cases: [(&str, &[u8]); 11] = [
            ("a span name not UTF-8", &name_not_utf8),
            (
                "the same cut by a byte",
                &name_not_utf8[..name_not_utf8.len() - 1],
            ),
            ("a field of wire type 7", &[0x0f]),
            ("field number 0", &[0x02, 0x00]),
            (
                "a field key beyond 32 bits",
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
            ("a cut varint", &[0x78, 0x80]),
            (
                "an 11-byte varint",
                &[
                    0x78, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                ],
            ),
            ("a fixed64 sent as a varint", &start_as_varint),
            ("a group never ended", &[0x7b]),
            ("a group ended as another", &[0x7b, 0x74]),
            ("groups nested 200 deep", &nested_groups),
        ];
        let mut messages = String::new();
        for (what, body) in cases {
            let error = decode(body).unwrap_err();
            messages.push_str(&format!("{what}:\n    {error}\n"));
        }
        expect_test::expect![[r#"
            a span name not UTF-8:
                invalid OTLP protobuf at byte 36: Span.name: not UTF-8
            the same cut by a byte:
                invalid OTLP protobuf at byte 2: truncated: 35 bytes expected, 34 left
            a field of wire type 7:
                invalid OTLP protobuf at byte 0: wire type 7 is invalid
            field number 0:
                invalid OTLP protobuf at byte 0: field number 0 is invalid
            a field key beyond 32 bits:
                invalid OTLP protobuf at byte 0: field key 68719476735 is out of range
            a cut varint:
                invalid OTLP protobuf at byte 1: truncated varint
            an 11-byte varint:
                invalid OTLP protobuf at byte 1: varint longer than 64 bits
            a fixed64 sent as a varint:
                invalid OTLP protobuf at byte 35: Span.start_time_unix_nano: wire type varint where 64-bit is expected
            a group never ended:
                invalid OTLP protobuf at byte 1: group 15 has no end
            a group ended as another:
                invalid OTLP protobuf at byte 1: group 15 ends as 14
            groups nested 200 deep:
                invalid OTLP protobuf at byte 101: field 15: nested more than 100 deep
        "#]].assert_eq(&messages);
    }

    #[test]
    fn rejection_reasons_match_the_generated_types_path() {
        let body = request_with_span(
            &[field(1, &[0; 16]), field(2, &SPAN_ID), field(5, b"GET /")].concat(),
        );
        let decoded = decode(&body).unwrap();
        assert_eq!(decoded.rejected.count, 1);
        assert_eq!(
            decoded.rejected.first_reason.as_deref(),
            Some("span 0 (\"GET /\"): trace id: an all-zero id is invalid")
        );
    }

    proptest! {
        #[test]
        fn exports_decode_like_the_generated_types(batch in crate::formats::compact::tests::batch()) {
            same_as_generated_types(&otlp::encode_protobuf(&batch))?;
        }

        #[test]
        fn damaged_exports_fail_or_decode_like_the_generated_types(
            batch in crate::formats::compact::tests::batch(),
            cut in any::<prop::sample::Index>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        ) {
            let mut bytes = otlp::encode_protobuf(&batch);
            for (at, byte) in flips {
                if !bytes.is_empty() {
                    let at = at.index(bytes.len());
                    bytes[at] = byte;
                }
            }
            let cut = cut.index(bytes.len() + 1);
            same_as_generated_types(&bytes[..cut])?;
        }
    }
}
