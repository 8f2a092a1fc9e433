//! spanview's compact binary encoding of a [`Batch`]: how the store keeps spans on disk, how the
//! API sends a trace to the browser, and how the upload worker hands decoded files to the page.
//!
//! JSON costs the browser most of the time it takes to open a large trace (a 100,000-span trace
//! is 26 MB of JSON); this encoding is a fifth of that before compression and decodes without a
//! parser: varints, length-prefixed UTF-8 and a string table, so names and attribute keys that
//! repeat on every span are written once.
//!
//! Layout (all integers are LEB128 varints unless noted):
//!
//! ```text
//! "SVB1"
//! resources: n, then per resource: attributes, schema_url
//! scopes:    n, then per scope: name, version, attributes, schema_url
//! trace ids: n, then 16 raw bytes each
//! spans:     n, then per span: trace id index, span id (8 raw bytes), parent flag (+ 8 raw
//!            bytes), name, kind, start, end - start (zigzag), attributes, events, links,
//!            status code, status message, trace state, flags, dropped counts, resource index,
//!            scope index
//! string:    2 * len, then the bytes (remembered when short), or 2 * i + 1 for the i-th
//!            remembered string
//! ```
//!
//! The decoder trusts nothing: every length is checked against the remaining input, nesting is
//! bounded, and indexes must point inside their tables.

use crate::ids::{SpanId, TraceId};
use crate::model::{
    AnyValue, Batch, Dropped, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status,
    StatusCode,
};

/// The HTTP media type of this encoding (`Accept` it from `GET /api/traces/{id}`).
pub const MEDIA_TYPE: &str = "application/vnd.spanview.batch";

const MAGIC: &[u8; 4] = b"SVB1";
/// Strings up to this length go into the string table; longer ones (SQL, stack traces) rarely
/// repeat exactly and would only grow it.
const MAX_REMEMBERED_STRING_BYTES: usize = 256;
/// Arrays and maps inside attribute values nest at most this deep (OTLP decoders stop earlier).
const MAX_VALUE_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid spanview binary batch at byte {offset}: {problem}")]
pub struct CompactError {
    pub offset: usize,
    pub problem: &'static str,
}

/// Encodes the whole batch.
pub fn encode(batch: &Batch) -> Vec<u8> {
    let all: Vec<usize> = (0..batch.spans.len()).collect();
    encode_spans(batch, &all)
}

/// Encodes the spans of `batch` at `span_indices`, with only the resources and scopes they use.
pub fn encode_spans(batch: &Batch, span_indices: &[usize]) -> Vec<u8> {
    let mut encoder = Encoder::new(true);
    encoder.out.extend_from_slice(MAGIC);

    // Resource and scope tables holding only what these spans use, in first-use order.
    let mut resource_slot = vec![u32::MAX; batch.resources.len()];
    let mut scope_slot = vec![u32::MAX; batch.scopes.len()];
    let mut resources: Vec<&Resource> = Vec::new();
    let mut scopes: Vec<&Scope> = Vec::new();
    let mut trace_ids: Vec<TraceId> = Vec::new();
    let mut span_refs: Vec<(&Span, u32, u32, u32)> = Vec::with_capacity(span_indices.len());
    for &idx in span_indices {
        let span = &batch.spans[idx];
        let resource = slot_of(
            &mut resource_slot,
            &mut resources,
            &batch.resources,
            span.resource_idx,
        );
        let scope = slot_of(&mut scope_slot, &mut scopes, &batch.scopes, span.scope_idx);
        let trace = match trace_ids.iter().rposition(|id| *id == span.trace_id) {
            Some(position) => position as u32,
            None => {
                trace_ids.push(span.trace_id);
                (trace_ids.len() - 1) as u32
            }
        };
        span_refs.push((span, trace, resource, scope));
    }

    encoder.varint(resources.len() as u64);
    for resource in resources {
        encoder.attributes(&resource.attributes);
        encoder.string(&resource.schema_url);
    }
    encoder.varint(scopes.len() as u64);
    for scope in scopes {
        encoder.string(&scope.name);
        encoder.string(&scope.version);
        encoder.attributes(&scope.attributes);
        encoder.string(&scope.schema_url);
    }
    encoder.varint(trace_ids.len() as u64);
    for trace_id in &trace_ids {
        encoder.out.extend_from_slice(&trace_id.0);
    }
    encoder.varint(span_refs.len() as u64);
    for (span, trace, resource, scope) in span_refs {
        encoder.varint(u64::from(trace));
        encoder.span_body(span);
        encoder.varint(u64::from(resource));
        encoder.varint(u64::from(scope));
    }
    encoder.out
}

/// The span's content in a canonical form without references to a batch's tables: equal bytes
/// mean equal spans (used to recognise re-sent spans).
pub fn span_fingerprint_bytes(span: &Span, out: &mut Vec<u8>) {
    let mut encoder = Encoder::new(false);
    encoder.out = std::mem::take(out);
    encoder.out.extend_from_slice(&span.trace_id.0);
    encoder.span_body(span);
    *out = encoder.out;
}

/// The upload worker's hand-over: the batch's traces, in order of first appearance, one after
/// another, each as its length (4 bytes, little-endian) and its [`encode_spans`]d spans (only
/// the resources and scopes it uses, as [`Batch::split_by_trace`] would keep, without moving
/// any span). Returns each trace's span indices and the bytes.
pub fn encode_batch_by_trace(batch: &Batch) -> (Vec<Vec<usize>>, Vec<u8>) {
    let mut position_of: rustc_hash::FxHashMap<crate::TraceId, usize> = Default::default();
    let mut traces: Vec<Vec<usize>> = Vec::new();
    for (idx, span) in batch.spans.iter().enumerate() {
        let position = *position_of.entry(span.trace_id).or_insert_with(|| {
            traces.push(Vec::new());
            traces.len() - 1
        });
        traces[position].push(idx);
    }
    let mut out = Vec::new();
    for indices in &traces {
        let bytes = encode_spans(batch, indices);
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    (traces, out)
}

/// Where each trace of an [`encode_batch_by_trace`] hand-over lies (after its length), so that
/// each can be [`decode`]d when it is needed.
pub fn trace_ranges(bytes: &[u8]) -> Result<Vec<std::ops::Range<usize>>, CompactError> {
    let mut ranges = Vec::new();
    let mut offset = 0usize;
    while let Some(rest) = bytes.get(offset..).filter(|rest| !rest.is_empty()) {
        let truncated = CompactError {
            offset,
            problem: "truncated trace",
        };
        let (length, body) = rest.split_first_chunk::<4>().ok_or(truncated.clone())?;
        let length = u32::from_le_bytes(*length) as usize;
        if body.len() < length {
            return Err(truncated);
        }
        ranges.push(offset + 4..offset + 4 + length);
        offset += 4 + length;
    }
    Ok(ranges)
}

/// Decodes a batch written by [`encode`] or [`encode_spans`].
pub fn decode(bytes: &[u8]) -> Result<Batch, CompactError> {
    Decoding::new(bytes)?.finish()
}

/// [`decode`] in steps, for a page that must not hold its thread for long (a million spans
/// take about half a second in the browser): the tables first, then about `budget` spans per
/// [`Decoding::step`]. The result is `decode`'s, which is this run in one go.
pub struct Decoding<'a> {
    decoder: Decoder<'a>,
    batch: Batch,
    trace_ids: Vec<TraceId>,
    n_spans: usize,
}

impl<'a> Decoding<'a> {
    /// Reads everything before the spans (resources, scopes, trace ids).
    pub fn new(bytes: &'a [u8]) -> Result<Self, CompactError> {
        let mut decoder = Decoder {
            bytes,
            at: 0,
            strings: Vec::new(),
        };
        if decoder.take(MAGIC.len())? != MAGIC {
            return Err(decoder.error_at(0, "not a spanview binary batch (bad magic)"));
        }
        let mut batch = Batch::default();
        let n_resources = decoder.count()?;
        batch.resources.reserve(n_resources);
        for _ in 0..n_resources {
            batch.resources.push(Resource {
                attributes: decoder.attributes(0)?,
                schema_url: decoder.string()?,
            });
        }
        let n_scopes = decoder.count()?;
        batch.scopes.reserve(n_scopes);
        for _ in 0..n_scopes {
            batch.scopes.push(Scope {
                name: decoder.string()?,
                version: decoder.string()?,
                attributes: decoder.attributes(0)?,
                schema_url: decoder.string()?,
            });
        }
        let n_trace_ids = decoder.count()?;
        let mut trace_ids = Vec::with_capacity(n_trace_ids);
        for _ in 0..n_trace_ids {
            trace_ids.push(TraceId(decoder.array::<16>()?));
        }
        let n_spans = decoder.count()?;
        batch.spans.reserve(n_spans);
        Ok(Self {
            decoder,
            batch,
            trace_ids,
            n_spans,
        })
    }

    /// Decodes up to `budget` more spans (at least one); true once every span is read.
    pub fn step(&mut self, budget: usize) -> Result<bool, CompactError> {
        let decoder = &mut self.decoder;
        let batch = &mut self.batch;
        let end = batch
            .spans
            .len()
            .saturating_add(budget.max(1))
            .min(self.n_spans);
        while batch.spans.len() < end {
            let trace_idx = decoder.index(self.trace_ids.len(), "trace id index out of range")?;
            let mut span = decoder.span_body(self.trace_ids[trace_idx])?;
            span.resource_idx =
                decoder.index(batch.resources.len(), "resource index out of range")? as u32;
            span.scope_idx = decoder.index(batch.scopes.len(), "scope index out of range")? as u32;
            batch.spans.push(span);
        }
        Ok(batch.spans.len() == self.n_spans)
    }

    /// The batch (decoding the remaining spans, if any).
    pub fn finish(mut self) -> Result<Batch, CompactError> {
        while !self.step(usize::MAX)? {}
        if self.decoder.at != self.decoder.bytes.len() {
            return Err(self.decoder.error("trailing bytes after the last span"));
        }
        Ok(self.batch)
    }
}

fn slot_of<'a, T>(slots: &mut [u32], used: &mut Vec<&'a T>, table: &'a [T], idx: u32) -> u32 {
    let idx = idx as usize;
    // A span pointing past its batch's tables is a bug upstream; keep it pointing at slot 0.
    let Some(slot) = slots.get_mut(idx) else {
        return 0;
    };
    if *slot == u32::MAX {
        used.push(&table[idx]);
        *slot = (used.len() - 1) as u32;
    }
    *slot
}

struct Encoder<'a> {
    out: Vec<u8>,
    strings: rustc_hash::FxHashMap<&'a str, u32>,
    /// False for fingerprints, which must not depend on what was written before.
    remember: bool,
}

impl<'a> Encoder<'a> {
    fn new(remember: bool) -> Self {
        Self {
            out: Vec::new(),
            strings: rustc_hash::FxHashMap::default(),
            remember,
        }
    }

    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.out.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.out.push(value as u8);
    }

    fn zigzag(&mut self, value: i128) {
        // Differences of two u64 fit in 65 bits; the zigzag form fits in a u128.
        let mut encoded = ((value << 1) ^ (value >> 127)) as u128;
        while encoded >= 0x80 {
            self.out.push((encoded as u8) | 0x80);
            encoded >>= 7;
        }
        self.out.push(encoded as u8);
    }

    fn string(&mut self, text: &'a str) {
        if self.remember {
            if let Some(&index) = self.strings.get(text) {
                self.varint(u64::from(index) * 2 + 1);
                return;
            }
            if text.len() <= MAX_REMEMBERED_STRING_BYTES {
                let index = self.strings.len() as u32;
                self.strings.insert(text, index);
            }
        }
        self.varint(text.len() as u64 * 2);
        self.out.extend_from_slice(text.as_bytes());
    }

    fn attributes(&mut self, attributes: &'a [KeyValue]) {
        self.varint(attributes.len() as u64);
        for attribute in attributes {
            self.string(&attribute.key);
            self.value(&attribute.value);
        }
    }

    fn value(&mut self, value: &'a AnyValue) {
        match value {
            AnyValue::Empty => self.out.push(0),
            AnyValue::String(text) => {
                self.out.push(1);
                self.string(text);
            }
            AnyValue::Bool(false) => self.out.push(2),
            AnyValue::Bool(true) => self.out.push(3),
            AnyValue::Int(number) => {
                self.out.push(4);
                self.zigzag(i128::from(*number));
            }
            AnyValue::Double(number) => {
                self.out.push(5);
                self.out.extend_from_slice(&number.to_le_bytes());
            }
            AnyValue::Bytes(bytes) => {
                self.out.push(6);
                self.varint(bytes.len() as u64);
                self.out.extend_from_slice(bytes);
            }
            AnyValue::Array(items) => {
                self.out.push(7);
                self.varint(items.len() as u64);
                for item in items {
                    self.value(item);
                }
            }
            AnyValue::KvList(entries) => {
                self.out.push(8);
                self.attributes(entries);
            }
        }
    }

    /// Everything of a span but its trace id and its resource and scope indexes.
    fn span_body(&mut self, span: &'a Span) {
        self.out.extend_from_slice(&span.span_id.0);
        match span.parent_span_id {
            Some(parent) => {
                self.out.push(1);
                self.out.extend_from_slice(&parent.0);
            }
            None => self.out.push(0),
        }
        self.string(&span.name);
        // The OTLP number (0..=5) fits a byte.
        self.out.push(span.kind.to_otlp() as u8);
        self.varint(span.start_nanos);
        self.zigzag(i128::from(span.end_nanos) - i128::from(span.start_nanos));
        self.attributes(&span.attributes);
        self.varint(span.events.len() as u64);
        for event in &span.events {
            self.string(&event.name);
            self.zigzag(i128::from(event.time_nanos) - i128::from(span.start_nanos));
            self.attributes(&event.attributes);
        }
        self.varint(span.links.len() as u64);
        for link in &span.links {
            self.out.extend_from_slice(&link.trace_id.0);
            self.out.extend_from_slice(&link.span_id.0);
            self.string(&link.trace_state);
            self.attributes(&link.attributes);
        }
        self.out.push(span.status.code.to_otlp() as u8);
        self.string(&span.status.message);
        self.string(&span.trace_state);
        self.varint(u64::from(span.flags));
        self.varint(u64::from(span.dropped.attributes));
        self.varint(u64::from(span.dropped.events));
        self.varint(u64::from(span.dropped.links));
    }
}

struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
    strings: Vec<&'a str>,
}

impl<'a> Decoder<'a> {
    fn error(&self, problem: &'static str) -> CompactError {
        self.error_at(self.at, problem)
    }

    fn error_at(&self, offset: usize, problem: &'static str) -> CompactError {
        CompactError { offset, problem }
    }

    // The small readers below are forced inline: the page's wasm is built for size, where they
    // would stay calls, and they run several times per span (about a third of decoding).
    #[inline(always)]
    fn take(&mut self, n: usize) -> Result<&'a [u8], CompactError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.error("unexpected end of input"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    #[inline(always)]
    fn byte(&mut self) -> Result<u8, CompactError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CompactError> {
        let slice = self.take(N)?;
        let mut array = [0u8; N];
        array.copy_from_slice(slice);
        Ok(array)
    }

    fn varint128(&mut self) -> Result<u128, CompactError> {
        let start = self.at;
        let mut value: u128 = 0;
        for shift in (0..128).step_by(7) {
            let byte = self.byte()?;
            value |= u128::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error_at(start, "varint too long"))
    }

    /// Up to 63 bits (nine bytes) in 64-bit arithmetic, `None` (nothing consumed) for longer
    /// varints: 128-bit shifts are calls in wasm, and only unusual values need them.
    #[inline(always)]
    fn short_varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for (position, &byte) in self.bytes[self.at..].iter().take(9).enumerate() {
            value |= u64::from(byte & 0x7f) << (7 * position);
            if byte & 0x80 == 0 {
                self.at += position + 1;
                return Some(value);
            }
        }
        None
    }

    #[inline(always)]
    fn varint(&mut self) -> Result<u64, CompactError> {
        if let Some(value) = self.short_varint() {
            return Ok(value);
        }
        let start = self.at;
        u64::try_from(self.varint128()?).map_err(|_| self.error_at(start, "varint too large"))
    }

    fn zigzag(&mut self) -> Result<i128, CompactError> {
        if let Some(encoded) = self.short_varint() {
            return Ok(i128::from((encoded >> 1) as i64 ^ -((encoded & 1) as i64)));
        }
        let encoded = self.varint128()?;
        Ok((encoded >> 1) as i128 ^ -((encoded & 1) as i128))
    }

    /// A count of items that each take at least one byte, so it cannot exceed what is left.
    #[inline(always)]
    fn count(&mut self) -> Result<usize, CompactError> {
        let start = self.at;
        let count = self.varint()?;
        usize::try_from(count)
            .ok()
            .filter(|count| *count <= self.bytes.len() - self.at)
            .ok_or_else(|| self.error_at(start, "count larger than the input"))
    }

    #[inline(always)]
    fn index(&mut self, len: usize, problem: &'static str) -> Result<usize, CompactError> {
        let start = self.at;
        let index = self.varint()?;
        usize::try_from(index)
            .ok()
            .filter(|index| *index < len)
            .ok_or_else(|| self.error_at(start, problem))
    }

    #[inline(always)]
    fn u32(&mut self) -> Result<u32, CompactError> {
        let start = self.at;
        u32::try_from(self.varint()?).map_err(|_| self.error_at(start, "number too large"))
    }

    fn str(&mut self) -> Result<&'a str, CompactError> {
        let start = self.at;
        let tag = self.varint()?;
        if tag % 2 == 1 {
            let index = usize::try_from(tag / 2).unwrap_or(usize::MAX);
            return self
                .strings
                .get(index)
                .copied()
                .ok_or_else(|| self.error_at(start, "string reference out of range"));
        }
        let len = usize::try_from(tag / 2).map_err(|_| self.error_at(start, "string too long"))?;
        let text = std::str::from_utf8(self.take(len)?)
            .map_err(|_| self.error_at(start, "string is not UTF-8"))?;
        if text.len() <= MAX_REMEMBERED_STRING_BYTES {
            self.strings.push(text);
        }
        Ok(text)
    }

    fn string(&mut self) -> Result<String, CompactError> {
        self.str().map(str::to_owned)
    }

    fn time(&mut self, base: u64) -> Result<u64, CompactError> {
        let start = self.at;
        if let Some(encoded) = self.short_varint() {
            let offset = (encoded >> 1) as i64 ^ -((encoded & 1) as i64);
            return base
                .checked_add_signed(offset)
                .ok_or_else(|| self.error_at(start, "time out of range"));
        }
        let offset = self.zigzag()?;
        u64::try_from(i128::from(base) + offset)
            .map_err(|_| self.error_at(start, "time out of range"))
    }

    fn attributes(&mut self, depth: usize) -> Result<Vec<KeyValue>, CompactError> {
        let n = self.count()?;
        let mut attributes = Vec::with_capacity(n);
        for _ in 0..n {
            attributes.push(KeyValue {
                key: self.string()?,
                value: self.value(depth)?,
            });
        }
        Ok(attributes)
    }

    fn value(&mut self, depth: usize) -> Result<AnyValue, CompactError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(self.error("attribute values nested too deeply"));
        }
        let start = self.at;
        Ok(match self.byte()? {
            0 => AnyValue::Empty,
            1 => AnyValue::String(self.string()?),
            2 => AnyValue::Bool(false),
            3 => AnyValue::Bool(true),
            4 => {
                let number = self.zigzag()?;
                AnyValue::Int(
                    i64::try_from(number)
                        .map_err(|_| self.error_at(start, "integer out of range"))?,
                )
            }
            5 => AnyValue::Double(f64::from_le_bytes(self.array::<8>()?)),
            6 => {
                let len = self.count()?;
                AnyValue::Bytes(self.take(len)?.to_vec())
            }
            7 => {
                let n = self.count()?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                AnyValue::Array(items)
            }
            8 => AnyValue::KvList(self.attributes(depth + 1)?),
            _ => return Err(self.error_at(start, "unknown attribute value type")),
        })
    }

    fn span_body(&mut self, trace_id: TraceId) -> Result<Span, CompactError> {
        let span_id = SpanId(self.array::<8>()?);
        let parent_span_id = match self.byte()? {
            0 => None,
            1 => Some(SpanId(self.array::<8>()?)),
            _ => return Err(self.error("invalid parent flag")),
        };
        let name = self.string()?;
        let kind = SpanKind::from_otlp(i32::from(self.byte()?));
        let start_nanos = self.varint()?;
        let end_nanos = self.time(start_nanos)?;
        let attributes = self.attributes(0)?;
        let n_events = self.count()?;
        let mut events = Vec::with_capacity(n_events);
        for _ in 0..n_events {
            events.push(Event {
                name: self.string()?,
                time_nanos: self.time(start_nanos)?,
                attributes: self.attributes(0)?,
            });
        }
        let n_links = self.count()?;
        let mut links = Vec::with_capacity(n_links);
        for _ in 0..n_links {
            links.push(Link {
                trace_id: TraceId(self.array::<16>()?),
                span_id: SpanId(self.array::<8>()?),
                trace_state: self.string()?,
                attributes: self.attributes(0)?,
            });
        }
        let code = match self.byte()? {
            0 => StatusCode::Unset,
            1 => StatusCode::Ok,
            2 => StatusCode::Error,
            _ => return Err(self.error("invalid status code")),
        };
        Ok(Span {
            trace_id,
            span_id,
            parent_span_id,
            name,
            kind,
            start_nanos,
            end_nanos,
            attributes,
            events,
            links,
            status: Status {
                code,
                message: self.string()?,
            },
            trace_state: self.string()?,
            flags: self.u32()?,
            dropped: Dropped {
                attributes: self.u32()?,
                events: self.u32()?,
                links: self.u32()?,
            },
            resource_idx: 0,
            scope_idx: 0,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::scenario;

    fn value(depth: u32) -> BoxedStrategy<AnyValue> {
        let leaf = prop_oneof![
            Just(AnyValue::Empty),
            "[a-z <>&\"é]{0,12}".prop_map(AnyValue::String),
            any::<bool>().prop_map(AnyValue::Bool),
            any::<i64>().prop_map(AnyValue::Int),
            any::<f64>()
                .prop_filter("NaN never equals itself", |n| !n.is_nan())
                .prop_map(AnyValue::Double),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(AnyValue::Bytes),
        ];
        if depth == 0 {
            return leaf.boxed();
        }
        prop_oneof![
            leaf,
            proptest::collection::vec(value(depth - 1), 0..3).prop_map(AnyValue::Array),
            proptest::collection::vec(("[a-z]{1,4}", value(depth - 1)), 0..3).prop_map(|entries| {
                AnyValue::KvList(
                    entries
                        .into_iter()
                        .map(|(key, value)| KeyValue { key, value })
                        .collect(),
                )
            }),
        ]
        .boxed()
    }

    fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
        proptest::collection::vec(("[a-z.]{1,6}", value(2)), 0..4).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(key, value)| KeyValue { key, value })
                .collect()
        })
    }

    fn span() -> impl Strategy<Value = Span> {
        (
            (1u8..4, 1u64..u64::MAX, proptest::option::of(1u64..u64::MAX)),
            ("[a-zA-Z /{}]{0,16}", 0u8..6, any::<u64>(), any::<u64>()),
            attributes(),
            proptest::collection::vec(("[a-z]{0,6}", any::<u64>(), attributes()), 0..2),
            proptest::collection::vec((1u8..=255, 1u64..u64::MAX, attributes()), 0..2),
            (0u8..3, "[a-z]{0,5}", any::<u32>(), any::<(u32, u32, u32)>()),
            (0u32..2, 0u32..2),
        )
            .prop_map(
                |(ids, basics, attributes, events, links, status, tables)| Span {
                    trace_id: TraceId([ids.0; 16]),
                    span_id: SpanId(ids.1.to_be_bytes()),
                    parent_span_id: ids.2.map(|parent| SpanId(parent.to_be_bytes())),
                    name: basics.0,
                    kind: SpanKind::from_otlp(i32::from(basics.1)),
                    start_nanos: basics.2,
                    end_nanos: basics.3,
                    attributes,
                    events: events
                        .into_iter()
                        .map(|(name, time_nanos, attributes)| Event {
                            name,
                            time_nanos,
                            attributes,
                        })
                        .collect(),
                    links: links
                        .into_iter()
                        .map(|(trace, span, attributes)| Link {
                            trace_id: TraceId([trace; 16]),
                            span_id: SpanId(span.to_be_bytes()),
                            trace_state: "k=v".into(),
                            attributes,
                        })
                        .collect(),
                    status: Status {
                        code: match status.0 {
                            0 => StatusCode::Unset,
                            1 => StatusCode::Ok,
                            _ => StatusCode::Error,
                        },
                        message: status.1.clone(),
                    },
                    trace_state: status.1,
                    flags: status.2,
                    dropped: Dropped {
                        attributes: status.3.0,
                        events: status.3.1,
                        links: status.3.2,
                    },
                    resource_idx: tables.0,
                    scope_idx: tables.1,
                },
            )
    }

    pub(crate) fn batch() -> impl Strategy<Value = Batch> {
        (
            proptest::collection::vec((attributes(), "[a-z:/]{0,8}"), 2..3),
            proptest::collection::vec(("[a-z]{0,6}", "[0-9.]{0,4}", attributes()), 2..3),
            proptest::collection::vec(span(), 0..10),
        )
            .prop_map(|(resources, scopes, spans)| Batch {
                resources: resources
                    .into_iter()
                    .map(|(attributes, schema_url)| Resource {
                        attributes,
                        schema_url,
                    })
                    .collect(),
                scopes: scopes
                    .into_iter()
                    .map(|(name, version, attributes)| Scope {
                        name,
                        version,
                        attributes,
                        schema_url: String::new(),
                    })
                    .collect(),
                spans,
            })
    }

    /// Each span with its resource and scope, independent of how the tables are laid out.
    fn resolved(batch: &Batch) -> Vec<(Span, Resource, Scope)> {
        batch
            .spans
            .iter()
            .map(|span| {
                let mut plain = span.clone();
                plain.resource_idx = 0;
                plain.scope_idx = 0;
                (
                    plain,
                    batch.resources[span.resource_idx as usize].clone(),
                    batch.scopes[span.scope_idx as usize].clone(),
                )
            })
            .collect()
    }

    #[test]
    fn the_scenario_round_trips_and_is_smaller_than_json() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_700_000_000_000_000_001);
        let bytes = encode(&trace.batch);
        assert_eq!(decode(&bytes).unwrap(), trace.batch);
        let json = serde_json::to_vec(&trace.batch).unwrap();
        assert!(
            bytes.len() * 3 < json.len(),
            "{} vs {} bytes of JSON",
            bytes.len(),
            json.len()
        );
    }

    #[test]
    fn a_subset_keeps_only_the_tables_it_uses() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let last = trace.batch.spans.len() - 1;
        let decoded = decode(&encode_spans(&trace.batch, &[last])).unwrap();
        assert_eq!(decoded.spans.len(), 1);
        assert_eq!((decoded.resources.len(), decoded.scopes.len()), (1, 1));
        assert_eq!(resolved(&decoded)[0], resolved(&trace.batch)[last]);
    }

    #[test]
    fn a_batch_hands_over_by_trace_as_its_split_would() {
        let mut batch = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0).batch;
        let other = scenario::fixed_order(scenario::FIXED_ORDER_TRACE_ID, 0).batch;
        let offset = batch.resources.len() as u32;
        batch.resources.extend(other.resources.iter().cloned());
        let scope_offset = batch.scopes.len() as u32;
        batch.scopes.extend(other.scopes.iter().cloned());
        // Interleaved, so that grouping matters.
        for (n, mut span) in other.spans.into_iter().enumerate() {
            span.resource_idx += offset;
            span.scope_idx += scope_offset;
            batch.spans.insert((2 * n + 1).min(batch.spans.len()), span);
        }
        let (indices, bytes) = encode_batch_by_trace(&batch);
        let split = batch.clone().split_by_trace();
        assert_eq!(indices.len(), 2);
        let ranges = trace_ranges(&bytes).unwrap();
        assert_eq!(ranges.len(), 2);
        for ((range, trace), indices) in ranges.iter().zip(&split).zip(&indices) {
            assert_eq!(decode(&bytes[range.clone()]).unwrap(), trace.batch);
            assert_eq!(indices.len(), trace.batch.spans.len());
        }
        assert!(trace_ranges(&bytes[..bytes.len() - 1]).is_err());
        assert!(trace_ranges(&[]).unwrap().is_empty());
    }

    #[test]
    fn damage_is_reported_with_its_offset() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let bytes = encode(&trace.batch);
        let error = decode(&bytes[..bytes.len() - 3]).unwrap_err();
        assert_eq!(error.problem, "unexpected end of input");
        assert!(error.offset > 100);
        assert_eq!(decode(b"JSON").unwrap_err().offset, 0);
        let mut trailing = bytes;
        trailing.push(0);
        assert_eq!(
            decode(&trailing).unwrap_err().problem,
            "trailing bytes after the last span"
        );
    }

    #[test]
    fn fingerprints_tell_spans_apart_whatever_was_encoded_before() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let fingerprint = |span: &Span| {
            let mut out = Vec::new();
            span_fingerprint_bytes(span, &mut out);
            out
        };
        let first = fingerprint(&trace.batch.spans[1]);
        let mut buffer = Vec::new();
        span_fingerprint_bytes(&trace.batch.spans[0], &mut buffer);
        buffer.clear();
        span_fingerprint_bytes(&trace.batch.spans[1], &mut buffer);
        assert_eq!(buffer, first);
        assert_ne!(fingerprint(&trace.batch.spans[0]), first);
    }

    proptest! {
        #[test]
        fn batches_round_trip(batch in batch()) {
            let bytes = encode(&batch);
            let decoded = decode(&bytes).unwrap();
            prop_assert_eq!(resolved(&decoded), resolved(&batch));
            // In steps of one span (as the page decodes a large trace), the same batch.
            let mut decoding = Decoding::new(&bytes).unwrap();
            while !decoding.step(1).unwrap() {}
            prop_assert_eq!(&decoding.finish().unwrap(), &decoded);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut input = MAGIC.to_vec();
            input.extend_from_slice(&bytes);
            let _ = decode(&input);
        }

        #[test]
        fn truncation_is_always_an_error(batch in batch(), cut in any::<prop::sample::Index>()) {
            let bytes = encode(&batch);
            let cut = cut.index(bytes.len());
            prop_assert!(decode(&bytes[..cut]).is_err());
        }
    }
}
