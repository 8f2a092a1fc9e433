//! A write's rows, prepared in the caller's thread: spans grouped by trace, re-sent spans
//! (fingerprints already stored) left out, one `chunks` row per trace and one `spans` row per
//! span, both in `RowBinary`; and the rows the write adds to the per-minute service aggregates
//! (`core::service_metrics`), summed by the tables' SummingMergeTree engine.
//!
//! A span row's attributes are what `core::attribute_filter` searches: the span's own, its
//! resource's and its events' (scalar values up to 256 bytes, as text); the insert turns them
//! into `attribute_index` rows (`attribute_index.rs`).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use spanview_core::attribute_filter::for_each_searchable;
use spanview_core::formats::compact;
use spanview_core::service_metrics::Aggregates;
use spanview_core::{Batch, Span, SpanKind, StatusCode, TraceId, TraceSummary};
use xxhash_rust::xxh3::xxh3_64;

use super::read::StoredTrace;
use super::rowbinary::{RowError, RowReader, RowWriter};

pub const CHUNK_INSERT_COLUMNS: &str = "TraceId, StartNs, EndNs, Fingerprints, \
    ErrorFingerprints, Services, RootService, RootName, RootStartNs, RootIsTrue, Body";
pub const OPERATION_MINUTE_COLUMNS: &str = "Minute, Service, Operation, Bucket, N, NErrors";
pub const EDGE_MINUTE_COLUMNS: &str = "Minute, Caller, Callee, Bucket, N, NErrors";

/// Rows ready for `INSERT ... FORMAT RowBinary`; several writes concatenate into one insert.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rows {
    pub chunks: Vec<u8>,
    /// One row per span: `Service, Name, StartNs, DurationNs, TraceId, IsError,
    /// Attributes.Key, Attributes.Value, Kind, StatusCode`, which the insert splits into the
    /// `spans` and `attribute_index` tables' rows (`attribute_index::split`). `Kind` and
    /// `StatusCode` (schema 3) come last, so that a row of an older spanview (in a spool file)
    /// becomes one of these by appending them ([`span_rows_from_v1`]).
    pub spans: Vec<u8>,
    pub operation_minutes: Vec<u8>,
    pub edge_minutes: Vec<u8>,
}

impl Rows {
    pub fn len_bytes(&self) -> usize {
        self.chunks.len()
            + self.spans.len()
            + self.operation_minutes.len()
            + self.edge_minutes.len()
    }

    /// The rows of `parts` one after another, in buffers sized once.
    pub fn concat(parts: &[Rows]) -> Rows {
        let sized = |part: fn(&Rows) -> &Vec<u8>| {
            Vec::with_capacity(parts.iter().map(|rows| part(rows).len()).sum())
        };
        let mut all = Rows {
            chunks: sized(|rows| &rows.chunks),
            spans: sized(|rows| &rows.spans),
            operation_minutes: sized(|rows| &rows.operation_minutes),
            edge_minutes: sized(|rows| &rows.edge_minutes),
        };
        for part in parts {
            all.append(part);
        }
        all
    }

    pub fn append(&mut self, other: &Rows) {
        self.chunks.extend_from_slice(&other.chunks);
        self.spans.extend_from_slice(&other.spans);
        self.operation_minutes
            .extend_from_slice(&other.operation_minutes);
        self.edge_minutes.extend_from_slice(&other.edge_minutes);
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
    // Every trace's kept spans, for the aggregates (one pass for the write: they key spans by
    // trace and span id).
    let mut all_kept: Vec<usize> = Vec::with_capacity(batch.spans.len());
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
        all_kept.extend_from_slice(&kept);
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
    let aggregates = Aggregates::of_spans(batch, &all_kept);
    let mut operation_writer = RowWriter::default();
    for (key, counters) in &aggregates.operations {
        operation_writer.u64(key.minute);
        operation_writer.string(&key.service);
        operation_writer.string(&key.operation);
        operation_writer.u64(u64::from(key.bucket));
        operation_writer.u64(counters.n);
        operation_writer.u64(counters.n_errors);
    }
    rows.operation_minutes = operation_writer.out;
    let mut edge_writer = RowWriter::default();
    for (key, counters) in &aggregates.edges {
        edge_writer.u64(key.minute);
        edge_writer.string(&key.caller);
        edge_writer.string(&key.callee);
        edge_writer.u64(u64::from(key.bucket));
        edge_writer.u64(counters.n);
        edge_writer.u64(counters.n_errors);
    }
    rows.edge_minutes = edge_writer.out;
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
    let mut keys: Vec<String> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    for_each_searchable(batch, span, |key, value_text| {
        keys.push(key.to_owned());
        values.push(value_text.to_owned());
    });
    writer.strings(keys.iter().map(String::as_str));
    writer.strings(values.iter().map(String::as_str));
    writer.u8(kind_number(span.kind));
    writer.u8(status_number(span.status.code));
}

/// A span kind as its OTLP number, the `Kind` column (core's numbering, 0 to 5).
pub fn kind_number(kind: SpanKind) -> u8 {
    kind.to_otlp() as u8
}

/// A status code as its OTLP number, the `StatusCode` column (core's numbering, 0 to 2).
pub fn status_number(code: StatusCode) -> u8 {
    code.to_otlp() as u8
}

/// `spans` rows as spanviews before schema 3 wrote them (no `Kind`, `StatusCode`) in today's
/// columns: unspecified kind, and a status of error or unset as `IsError` says.
pub fn span_rows_from_v1(bytes: &[u8]) -> Result<Vec<u8>, RowError> {
    let mut reader = RowReader::new(bytes);
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    while !reader.is_empty() {
        let start = reader.offset();
        reader.bytes()?; // Service
        reader.bytes()?; // Name
        reader.u64()?; // StartNs
        reader.u64()?; // DurationNs
        reader.fixed::<16>()?; // TraceId
        let is_error = reader.u8()?;
        for _ in 0..2 {
            // Attributes.Key, Attributes.Value
            let n = reader.length()?;
            for _ in 0..n {
                reader.bytes()?;
            }
        }
        out.extend_from_slice(&bytes[start..reader.offset()]);
        out.push(kind_number(SpanKind::Unspecified));
        out.push(if is_error != 0 {
            status_number(StatusCode::Error)
        } else {
            status_number(StatusCode::Unset)
        });
    }
    Ok(out)
}
