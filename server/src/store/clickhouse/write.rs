//! A write's rows, prepared in the caller's thread: spans grouped by trace, re-sent spans
//! (fingerprints already stored) left out, one `chunks` row per trace and one `spans` row per
//! span, both in `RowBinary`.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use spanview_core::formats::compact;
use spanview_core::{AnyValue, Batch, KeyValue, Span, TraceId, TraceSummary};
use xxhash_rust::xxh3::xxh3_64;

use super::read::StoredTrace;
use super::rowbinary::RowWriter;

/// Attribute values longer than this are stored but not searchable (as in the embedded store).
const MAX_INDEXED_VALUE_BYTES: usize = 256;

pub const CHUNK_INSERT_COLUMNS: &str = "TraceId, StartNs, EndNs, Fingerprints, \
    ErrorFingerprints, Services, RootService, RootName, RootStartNs, RootIsTrue, Body";
pub const SPAN_INSERT_COLUMNS: &str =
    "Service, Name, StartNs, DurationNs, TraceId, IsError, `Attributes.Key`, `Attributes.Value`";

/// Rows ready for `INSERT ... FORMAT RowBinary`; several writes concatenate into one insert.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rows {
    pub chunks: Vec<u8>,
    pub spans: Vec<u8>,
}

impl Rows {
    pub fn len_bytes(&self) -> usize {
        self.chunks.len() + self.spans.len()
    }

    pub fn append(&mut self, other: &Rows) {
        self.chunks.extend_from_slice(&other.chunks);
        self.spans.extend_from_slice(&other.spans);
    }
}

pub struct PreparedWrite {
    pub rows: Rows,
    pub n_spans_added: u64,
    /// The summaries of the traces that gained spans: what was stored merged with this write.
    pub updated_traces: Vec<TraceSummary>,
}

pub fn fingerprint(span: &Span, scratch: &mut Vec<u8>) -> u64 {
    scratch.clear();
    compact::span_fingerprint_bytes(span, scratch);
    xxh3_64(scratch)
}

/// The trace ids of the batch, in order of first appearance, with their spans' indices.
pub fn group_by_trace(batch: &Batch) -> Vec<(TraceId, Vec<usize>)> {
    let mut position_of: HashMap<TraceId, usize> = HashMap::default();
    let mut groups: Vec<(TraceId, Vec<usize>)> = Vec::new();
    for (idx, span) in batch.spans.iter().enumerate() {
        let position = *position_of.entry(span.trace_id).or_insert_with(|| {
            groups.push((span.trace_id, Vec::new()));
            groups.len() - 1
        });
        groups[position].1.push(idx);
    }
    groups
}

/// Prepares the rows of every span of `batch` that `stored` does not already hold.
pub fn prepare(
    batch: &Batch,
    stored: &std::collections::HashMap<TraceId, StoredTrace>,
) -> PreparedWrite {
    let mut rows = Rows::default();
    let mut chunk_writer = RowWriter::default();
    let mut span_writer = RowWriter::default();
    let mut n_spans_added = 0u64;
    let mut updated_traces = Vec::new();
    let mut scratch = Vec::new();
    let no_fingerprints = HashSet::default();
    for (trace_id, indices) in group_by_trace(batch) {
        let already = stored
            .get(&trace_id)
            .map_or(&no_fingerprints, |trace| &trace.fingerprints);
        let mut kept: Vec<usize> = Vec::with_capacity(indices.len());
        let mut fingerprints: Vec<u64> = Vec::with_capacity(indices.len());
        let mut error_fingerprints: Vec<u64> = Vec::new();
        let mut seen: HashSet<u64> = HashSet::default();
        for idx in indices {
            let span = &batch.spans[idx];
            let fingerprint = fingerprint(span, &mut scratch);
            if already.contains(&fingerprint) || !seen.insert(fingerprint) {
                continue;
            }
            kept.push(idx);
            fingerprints.push(fingerprint);
            if span.is_error() {
                error_fingerprints.push(fingerprint);
            }
        }
        if kept.is_empty() {
            continue;
        }
        let summary =
            TraceSummary::of_spans(trace_id, batch, kept.iter().map(|&i| &batch.spans[i]))
                .expect("a trace with spans has a summary");
        let root = summary.root.clone().expect("a summary of spans has a root");
        chunk_writer.fixed(&trace_id.0);
        chunk_writer.u64(summary.start_nanos);
        chunk_writer.u64(summary.end_nanos);
        chunk_writer.u64s(&fingerprints);
        chunk_writer.u64s(&error_fingerprints);
        chunk_writer.strings(summary.services.iter().map(String::as_str));
        chunk_writer.string(&root.service);
        chunk_writer.string(&root.name);
        chunk_writer.u64(root.start_nanos);
        chunk_writer.u8(u8::from(root.is_true_root));
        chunk_writer.bytes(&compact::encode_spans(batch, &kept));

        for &idx in &kept {
            write_span_row(&mut span_writer, batch, &batch.spans[idx]);
        }
        n_spans_added += kept.len() as u64;
        updated_traces.push(match stored.get(&trace_id) {
            Some(before) => {
                let mut merged = before.summary.clone();
                merged.merge(summary);
                merged
            }
            None => summary,
        });
    }
    rows.chunks = chunk_writer.out;
    rows.spans = span_writer.out;
    PreparedWrite {
        rows,
        n_spans_added,
        updated_traces,
    }
}

fn write_span_row(writer: &mut RowWriter, batch: &Batch, span: &Span) {
    writer.string(batch.service_of(span));
    writer.string(&span.name);
    writer.u64(span.start_nanos);
    writer.u64(span.duration_nanos());
    writer.fixed(&span.trace_id.0);
    writer.u8(u8::from(span.is_error()));
    let resource_attributes = batch
        .resources
        .get(span.resource_idx as usize)
        .map_or(&[][..], |resource| &resource.attributes[..]);
    let searchable: Vec<(&str, String)> = span
        .attributes
        .iter()
        .chain(resource_attributes)
        .filter_map(|attribute| Some((attribute.key.as_str(), searchable_text(attribute)?)))
        .collect();
    writer.strings(searchable.iter().map(|(key, _)| *key));
    writer.strings(searchable.iter().map(|(_, value)| value.as_str()));
}

/// An attribute's value as a search names it, when searchable: strings, booleans and numbers as
/// text (`http.status_code=500`); long texts and composites are not.
pub fn searchable_text(attribute: &KeyValue) -> Option<String> {
    match &attribute.value {
        AnyValue::String(text) if text.len() <= MAX_INDEXED_VALUE_BYTES => Some(text.clone()),
        AnyValue::Bool(_) | AnyValue::Int(_) | AnyValue::Double(_) => {
            Some(attribute.value.to_display_string())
        }
        _ => None,
    }
}
