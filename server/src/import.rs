//! Importing trace files into the store: shared by `POST /api/import` and `spanview import`, so
//! both accept and refuse exactly the same files.

use spanview_core::formats::{DecodeLimits, DecodedFile, FileError, decode_file};
use spanview_core::redact::Redactor;
use spanview_core::{Batch, TraceId};

use crate::store::{StoreError, TraceStore};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Decode(String),
    #[error("the file is empty")]
    Empty,
    #[error("the file inflates beyond the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportOutcome {
    pub format: &'static str,
    pub trace_ids: Vec<TraceId>,
    pub n_spans: usize,
    pub n_spans_added: u64,
    pub n_rejected_spans: u64,
    /// Summaries of the traces that gained spans (for live updates; not serialised).
    #[serde(skip)]
    pub updated_traces: Vec<spanview_core::TraceSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_reason: Option<String>,
}

/// Decodes a file's bytes in any format core recognises (OTLP JSON, JSON Lines, protobuf, Jaeger,
/// Zipkin, each possibly gzip-compressed).
pub fn decode(bytes: &[u8]) -> Result<DecodedFile, ImportError> {
    decode_with_limits(bytes, &DecodeLimits::default())
}

fn decode_with_limits(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedFile, ImportError> {
    decode_file(bytes, limits).map_err(|error| match error {
        FileError::Empty => ImportError::Empty,
        FileError::TooLarge { limit } => ImportError::TooLarge { limit },
        other => ImportError::Decode(other.to_string()),
    })
}

/// Decodes, redacts and stores a file; nothing is stored unless the whole file decodes.
pub fn import_bytes(
    store: &dyn TraceStore,
    redactor: &Redactor,
    bytes: &[u8],
) -> Result<ImportOutcome, ImportError> {
    import_bytes_with_limits(store, redactor, bytes, &DecodeLimits::default())
}

/// [`import_bytes`] with a file's decompression bounded by `limits`.
pub fn import_bytes_with_limits(
    store: &dyn TraceStore,
    redactor: &Redactor,
    bytes: &[u8],
    limits: &DecodeLimits,
) -> Result<ImportOutcome, ImportError> {
    let decoded = decode_with_limits(bytes, limits)?;
    let format = decoded.format.id();
    let mut batch: Batch = decoded.batch;
    redactor.redact_batch(&mut batch);
    // In first-appearance order; a set beside the list keeps this linear in traces.
    let mut trace_ids: Vec<TraceId> = Vec::new();
    let mut seen: rustc_hash::FxHashSet<TraceId> = rustc_hash::FxHashSet::default();
    for span in &batch.spans {
        if seen.insert(span.trace_id) {
            trace_ids.push(span.trace_id);
        }
    }
    let outcome = store.write(&batch)?;
    Ok(ImportOutcome {
        format,
        trace_ids,
        n_spans: batch.spans.len(),
        n_spans_added: outcome.n_spans_added,
        n_rejected_spans: decoded.rejected.count,
        updated_traces: outcome.updated_traces,
        rejected_reason: decoded.rejected.first_reason,
    })
}
