//! Reading back: a trace from its chunks (duplicates dropped by fingerprint), trace summaries
//! folded from chunk rows, and the services overview.

use std::collections::HashMap;

use rustc_hash::FxHashSet as HashSet;
use spanview_core::formats::compact;
use spanview_core::summary::RootSpanInfo;
use spanview_core::{Batch, Trace, TraceId, TraceSummary};

use super::client::{Client, quote_bytes};
use super::rowbinary::RowReader;
use super::schema::Layout;
use crate::store::StoreError;

/// What is stored of a trace, without its spans.
#[derive(Debug, Clone)]
pub struct StoredTrace {
    pub fingerprints: HashSet<u64>,
    pub summary: TraceSummary,
}

/// Trace ids in one `IN` list: 1,000 take about 70 KB of SQL.
const MAX_IDS_PER_QUERY: usize = 1000;

const SUMMARY_COLUMNS: &str = "TraceId, StartNs, EndNs, Fingerprints, ErrorFingerprints, \
    Services, RootService, RootName, RootStartNs, RootIsTrue";

/// `TraceId IN (...)` of the ids.
pub fn id_list(trace_ids: &[TraceId]) -> String {
    let literals: Vec<String> = trace_ids.iter().map(|id| quote_bytes(&id.0)).collect();
    format!("({})", literals.join(", "))
}

/// The stored part of each of `trace_ids` that has one.
pub fn stored_traces(
    client: &Client,
    layout: &Layout,
    trace_ids: &[TraceId],
) -> Result<HashMap<TraceId, StoredTrace>, StoreError> {
    let mut stored: HashMap<TraceId, StoredTrace> = HashMap::new();
    if trace_ids.is_empty() {
        return Ok(stored);
    }
    let mut error_fingerprints: HashMap<TraceId, HashSet<u64>> = HashMap::new();
    // In parts, to stay under the server's max_query_size (256 KiB by default).
    let mut answers = Vec::new();
    for part in trace_ids.chunks(MAX_IDS_PER_QUERY) {
        answers.push(client.query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM {} WHERE TraceId IN {} FORMAT RowBinary",
            layout.table("chunks"),
            id_list(part)
        ))?);
    }
    let bytes = answers.concat();
    let mut reader = RowReader::new(&bytes);
    while !reader.is_empty() {
        let trace_id = TraceId(reader.fixed::<16>()?);
        let start_nanos = reader.u64()?;
        let end_nanos = reader.u64()?;
        let fingerprints = reader.u64s()?;
        let errors = reader.u64s()?;
        let services = reader.strings()?;
        let root = RootSpanInfo {
            service: reader.string()?,
            name: reader.string()?,
            start_nanos: reader.u64()?,
            is_true_root: reader.u8()? != 0,
        };
        let chunk = TraceSummary {
            trace_id,
            root: Some(root),
            start_nanos,
            end_nanos,
            n_spans: 0,
            n_errors: 0,
            services,
        };
        error_fingerprints
            .entry(trace_id)
            .or_default()
            .extend(errors);
        match stored.get_mut(&trace_id) {
            Some(trace) => {
                trace.summary.merge(chunk);
                trace.fingerprints.extend(fingerprints);
            }
            None => {
                stored.insert(
                    trace_id,
                    StoredTrace {
                        fingerprints: fingerprints.into_iter().collect(),
                        summary: chunk,
                    },
                );
            }
        }
    }
    // Counted from distinct fingerprints: a span stored twice (a retried insert) counts once.
    for (trace_id, trace) in &mut stored {
        trace.summary.n_spans = trace.fingerprints.len() as u64;
        trace.summary.n_errors = error_fingerprints.get(trace_id).map_or(0, |set| set.len()) as u64;
    }
    Ok(stored)
}

/// Decodes `(TraceId, Fingerprints, Body)` rows into one batch per trace, each span once.
fn traces_from_rows(bytes: &[u8]) -> Result<HashMap<TraceId, Batch>, StoreError> {
    let mut batches: HashMap<TraceId, (Batch, HashSet<u64>)> = HashMap::new();
    let mut reader = RowReader::new(bytes);
    while !reader.is_empty() {
        let trace_id = TraceId(reader.fixed::<16>()?);
        let fingerprints = reader.u64s()?;
        let body = reader.bytes()?;
        let part = compact::decode(body).map_err(StoreError::Chunk)?;
        let (batch, seen) = batches.entry(trace_id).or_default();
        append_new(batch, seen, part, &fingerprints);
    }
    Ok(batches
        .into_iter()
        .map(|(trace_id, (mut batch, _))| {
            // Chunks come in no particular order: sort so that reads are repeatable.
            batch
                .spans
                .sort_by_key(|span| (span.start_nanos, span.span_id.0));
            (trace_id, batch)
        })
        .collect())
}

/// Appends the spans of `part` whose fingerprints are not in `seen`, sharing equal resources and
/// scopes.
fn append_new(batch: &mut Batch, seen: &mut HashSet<u64>, part: Batch, fingerprints: &[u64]) {
    let mut resource_at: Vec<Option<u32>> = vec![None; part.resources.len()];
    let mut scope_at: Vec<Option<u32>> = vec![None; part.scopes.len()];
    for (position, mut span) in part.spans.into_iter().enumerate() {
        // A chunk's fingerprints are its spans' in order; one without them is kept whole.
        if let Some(fingerprint) = fingerprints.get(position)
            && !seen.insert(*fingerprint)
        {
            continue;
        }
        let resource = span.resource_idx as usize;
        span.resource_idx = match resource_at.get(resource).copied().flatten() {
            Some(at) => at,
            None => {
                let at = position_or_push(&mut batch.resources, &part.resources[resource]);
                resource_at[resource] = Some(at);
                at
            }
        };
        let scope = span.scope_idx as usize;
        span.scope_idx = match scope_at.get(scope).copied().flatten() {
            Some(at) => at,
            None => {
                let at = position_or_push(&mut batch.scopes, &part.scopes[scope]);
                scope_at[scope] = Some(at);
                at
            }
        };
        batch.spans.push(span);
    }
}

fn position_or_push<T: PartialEq + Clone>(table: &mut Vec<T>, item: &T) -> u32 {
    match table.iter().position(|existing| existing == item) {
        Some(position) => position as u32,
        None => {
            table.push(item.clone());
            (table.len() - 1) as u32
        }
    }
}

pub fn trace(
    client: &Client,
    layout: &Layout,
    trace_id: TraceId,
) -> Result<Option<Trace>, StoreError> {
    let bytes = client.query(&format!(
        "SELECT TraceId, Fingerprints, Body FROM {} WHERE TraceId = {} FORMAT RowBinary",
        layout.table("chunks"),
        quote_bytes(&trace_id.0)
    ))?;
    Ok(traces_from_rows(&bytes)?
        .remove(&trace_id)
        .map(|batch| Trace { trace_id, batch }))
}
