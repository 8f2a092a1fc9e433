//! The CPU side of a write, done in the caller's thread so that concurrent requests use every
//! core and the single writer thread only runs SQL: spans grouped by trace, each span's
//! fingerprint, the chunk encoded and compressed, the summary and the search terms.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use spanview_core::attribute_filter::searchable_text;
use spanview_core::formats::compact;
use spanview_core::service_metrics::Aggregates;
use spanview_core::{Batch, KeyValue, SpanKind, StatusCode, TraceId, TraceSummary};
use xxhash_rust::xxh3::xxh3_64;

use super::chunks::{ChunkCodec, CompressedChunk};
use super::terms;
use crate::store::StoreError;

/// What one write adds to one trace.
pub struct PreparedTrace {
    pub trace_id: TraceId,
    /// One per span of the chunk, in chunk order.
    pub fingerprints: Vec<u64>,
    /// The chunk in the compact encoding, uncompressed (for re-filtering and for training).
    pub raw: Vec<u8>,
    pub chunk: CompressedChunk,
    pub summary: TraceSummary,
    /// Distinct search terms of the spans.
    pub terms: Vec<u64>,
    /// What the spans add to the per-minute service aggregates.
    pub aggregates: Aggregates,
}

/// A whole write, prepared.
pub struct PreparedWrite {
    pub traces: Vec<PreparedTrace>,
    /// Distinct (service, span name) pairs of the batch, for the search form's lists.
    pub operations: Vec<(String, String)>,
}

impl PreparedWrite {
    pub fn n_spans(&self) -> usize {
        self.traces.iter().map(PreparedTrace::n_spans).sum()
    }
}

impl PreparedTrace {
    pub fn n_spans(&self) -> usize {
        self.fingerprints.len()
    }
}

/// Prepares every trace of the batch, in order of first appearance; spans repeated within the
/// batch are kept once.
pub fn prepare_batch(batch: &Batch, codec: &ChunkCodec) -> Result<PreparedWrite, StoreError> {
    let mut order: Vec<TraceId> = Vec::new();
    let mut spans_of: HashMap<TraceId, Vec<usize>> = HashMap::default();
    for (idx, span) in batch.spans.iter().enumerate() {
        spans_of
            .entry(span.trace_id)
            .or_insert_with(|| {
                order.push(span.trace_id);
                Vec::new()
            })
            .push(idx);
    }
    let mut scratch = Vec::new();
    let mut traces = Vec::with_capacity(order.len());
    for trace_id in order {
        let indices = &spans_of[&trace_id];
        traces.extend(prepare_trace(
            batch,
            indices,
            &HashSet::default(),
            codec,
            &mut scratch,
        )?);
    }
    let operations: HashSet<(&str, &str)> = batch
        .spans
        .iter()
        .map(|span| (batch.service_of(span), span.name.as_str()))
        .collect();
    Ok(PreparedWrite {
        traces,
        operations: operations
            .into_iter()
            .map(|(service, name)| (service.to_owned(), name.to_owned()))
            .collect(),
    })
}

pub fn fingerprint(span: &spanview_core::Span, scratch: &mut Vec<u8>) -> u64 {
    scratch.clear();
    compact::span_fingerprint_bytes(span, scratch);
    xxh3_64(scratch)
}

/// Prepares the spans at `indices` (all of one trace) that are not `already_stored`; `None`
/// when nothing is left.
pub fn prepare_trace(
    batch: &Batch,
    indices: &[usize],
    already_stored: &HashSet<u64>,
    codec: &ChunkCodec,
    scratch: &mut Vec<u8>,
) -> Result<Option<PreparedTrace>, StoreError> {
    let mut kept: Vec<usize> = Vec::with_capacity(indices.len());
    let mut fingerprints: Vec<u64> = Vec::with_capacity(indices.len());
    let mut seen: HashSet<u64> =
        HashSet::with_capacity_and_hasher(indices.len(), Default::default());
    for &idx in indices {
        let fingerprint = fingerprint(&batch.spans[idx], scratch);
        if !already_stored.contains(&fingerprint) && seen.insert(fingerprint) {
            kept.push(idx);
            fingerprints.push(fingerprint);
        }
    }
    let Some(&first) = kept.first() else {
        return Ok(None);
    };
    let trace_id = batch.spans[first].trace_id;
    let summary =
        TraceSummary::of_spans(trace_id, batch, kept.iter().map(|&idx| &batch.spans[idx]))
            .expect("a trace with spans has a summary");

    let terms = terms_of(batch, &kept);
    let aggregates = Aggregates::of_spans(batch, &kept);
    let raw = compact::encode_spans(batch, &kept);
    let chunk = codec.compress(&raw)?;
    Ok(Some(PreparedTrace {
        trace_id,
        fingerprints,
        raw,
        chunk,
        summary,
        terms,
        aggregates,
    }))
}

/// The distinct search terms of the spans at `indices`.
pub fn terms_of(batch: &Batch, indices: &[usize]) -> Vec<u64> {
    let mut term_set: HashSet<u64> = HashSet::default();
    let mut shape_set: HashSet<(&str, &str, SpanKind, StatusCode)> = HashSet::default();
    let mut resources_seen: HashSet<u32> = HashSet::default();
    for &idx in indices {
        let span = &batch.spans[idx];
        let service = batch.service_of(span);
        if shape_set.insert((service, span.name.as_str(), span.kind, span.status.code)) {
            term_set.insert(terms::service(service));
            term_set.insert(terms::operation(service, &span.name));
            term_set.insert(terms::name(&span.name));
            term_set.extend(terms::shapes_of(
                service,
                &span.name,
                span.kind,
                span.status.code,
            ));
        }
        // What `core::attribute_filter::for_each_searchable` visits, resources once each.
        let event_attributes = span.events.iter().flat_map(|event| &event.attributes);
        let own = span.attributes.iter().chain(event_attributes);
        add_attribute_terms(&mut term_set, own);
        if resources_seen.insert(span.resource_idx)
            && let Some(resource) = batch.resources.get(span.resource_idx as usize)
        {
            add_attribute_terms(&mut term_set, resource.attributes.iter());
        }
    }
    term_set.into_iter().collect()
}

fn add_attribute_terms<'a>(
    term_set: &mut HashSet<u64>,
    attributes: impl Iterator<Item = &'a KeyValue>,
) {
    for attribute in attributes {
        if let Some(value_text) = searchable_text(attribute) {
            term_set.insert(terms::attribute_key(&attribute.key));
            term_set.insert(terms::attribute(&attribute.key, &value_text));
        }
    }
}
