//! Span storage behind one small trait, so that the embedded SQLite store and a ClickHouse store
//! are interchangeable.
//!
//! Architecture invariant: `write` returns only after the spans are durable; the receiver's
//! `200` relies on it.

pub mod clickhouse;
#[cfg(test)]
pub mod conformance;
pub mod sqlite;

use spanview_core::query::TraceQuery;
use spanview_core::service_metrics::{Counters, EdgeKey, MINUTE_NANOS, OperationKey};
use spanview_core::service_overview::ServiceOverview;
use spanview_core::{Batch, Trace, TraceId, TraceSummary};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a stored chunk is unreadable: {0}")]
    Chunk(spanview_core::formats::compact::CompactError),
    #[error("zstd: {0}")]
    Compression(std::io::Error),
    #[error("a stored chunk names compression dictionary {0}, which the store lacks")]
    MissingDictionary(i64),
    #[error("the write was not stored: {0}")]
    Write(String),
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] clickhouse::client::ClientError),
    #[error("the store's writer has stopped")]
    WriterStopped,
    #[error("the store is unavailable now: {0}")]
    Unavailable(String),
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("the store at {path} has schema version {found}, this spanview needs {expected}")]
    SchemaVersion {
        path: String,
        found: i64,
        expected: i64,
    },
}

/// What a write added; exact duplicates of stored spans (exporter retries) are not added twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    pub n_spans_added: u64,
    /// The summaries of the traces that gained spans, as now stored.
    pub updated_traces: Vec<TraceSummary>,
}

/// Minutes (Unix time / 60 s) from `start_minute` to `end_minute` inclusive, read back in steps
/// of `step_minutes` (each row's minute rounded down to a multiple of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteRange {
    pub start_minute: u64,
    pub end_minute: u64,
    pub step_minutes: u64,
}

impl MinuteRange {
    /// The minutes a range of Unix ns touches (open ends when `None`), summed into one step.
    pub fn whole(start_nanos: Option<u64>, end_nanos: Option<u64>) -> Self {
        MinuteRange {
            start_minute: start_nanos.unwrap_or(0) / MINUTE_NANOS,
            end_minute: end_nanos.unwrap_or(u64::MAX) / MINUTE_NANOS,
            // Stores round each minute down to a multiple of the step: one step this wide
            // holds every minute a store can hold.
            step_minutes: u64::from(u32::MAX),
        }
    }
}

/// Blocking trace storage; async callers use `tokio::task::spawn_blocking`.
pub trait TraceStore: Send + Sync + 'static {
    /// Stores the batch durably; spans of one trace may come in any number of writes.
    fn write(&self, batch: &Batch) -> Result<WriteOutcome, StoreError>;
    /// All stored spans of a trace, or `None` when no span of it is stored.
    fn trace(&self, trace_id: TraceId) -> Result<Option<Trace>, StoreError>;
    /// Summaries of the traces matching `query`, most recently started first.
    fn search(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError>;
    /// Every service that sent a span, sorted.
    fn services(&self) -> Result<Vec<String>, StoreError>;
    /// Every span name seen for `service`, sorted.
    fn operations(&self, service: &str) -> Result<Vec<String>, StoreError>;
    /// Per service, its requests, error rate and latency percentiles over the minutes the range
    /// touches (Unix ns, open ends when `None`), from the per-minute aggregates: every store
    /// answers it the same way, without reading spans.
    fn service_overview(
        &self,
        start_nanos: Option<u64>,
        end_nanos: Option<u64>,
    ) -> Result<Vec<ServiceOverview>, StoreError> {
        let minutes = MinuteRange::whole(start_nanos, end_nanos);
        let operations = self.operation_aggregates(minutes, None)?;
        let edges = self.edge_aggregates(minutes)?;
        Ok(ServiceOverview::from_rows(operations, edges))
    }
    /// The per-minute request aggregates (`core::service_metrics`) of the range, summed per
    /// step, of one service or all.
    fn operation_aggregates(
        &self,
        range: MinuteRange,
        service: Option<&str>,
    ) -> Result<Vec<(OperationKey, Counters)>, StoreError>;
    /// The per-minute call aggregates (edges) of the range, summed per step.
    fn edge_aggregates(&self, range: MinuteRange) -> Result<Vec<(EdgeKey, Counters)>, StoreError>;
    /// Bytes the stored data occupies (space freed by deletions is reused, not counted).
    fn size_bytes(&self) -> Result<u64, StoreError>;
    /// Deletes every trace that started before `unix_nanos`, whole; returns how many.
    fn delete_traces_started_before(&self, unix_nanos: u64) -> Result<u64, StoreError>;
    /// Deletes the `count` traces that started first, whole; returns how many.
    fn delete_oldest_traces(&self, count: u64) -> Result<u64, StoreError>;
    /// Publishes the store's own health (writable or not, write failures by reason) in
    /// `metrics` from now on; stores without such state report nothing.
    fn report_to(&self, _metrics: std::sync::Arc<crate::metrics::Metrics>) {}
    /// Whether other spanviews write to this store too: their writes are not pushed to this
    /// process, so its live feed polls [`TraceStore::recently_ended_traces`].
    fn is_shared(&self) -> bool {
        false
    }
    /// The summaries of up to `limit` traces with spans that ended at or after
    /// `end_after_nanos`, latest first (empty for a store that is not shared).
    fn recently_ended_traces(
        &self,
        _end_after_nanos: u64,
        _limit: usize,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        Ok(Vec::new())
    }
    /// `Ok` when the store can answer queries now, else why not (`GET /readyz`); a store in
    /// the process itself always can.
    fn readiness(&self) -> Result<(), String> {
        Ok(())
    }
}
