//! The embedded store: one SQLite database in WAL mode with `synchronous=FULL`, so that a
//! committed write survives `kill -9` and power loss.
//!
//! Layout: resources and scopes are stored once each (deduplicated by content hash); a span row
//! holds indexed columns plus the whole span as JSON; `traces` holds one mergeable summary per
//! trace, updated in the same transaction as its spans.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use spanview_core::{Batch, Span, Trace, TraceId, TraceSummary};
use xxhash_rust::xxh3::xxh3_64;

use super::{StoreError, TraceStore, WriteOutcome};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resources (
    id INTEGER PRIMARY KEY,
    content_hash INTEGER NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scopes (
    id INTEGER PRIMARY KEY,
    content_hash INTEGER NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS spans (
    trace_id BLOB NOT NULL,
    span_id BLOB NOT NULL,
    -- Distinct spans may share an id (Zipkin shared spans); identical ones are retries.
    content_hash INTEGER NOT NULL,
    parent_span_id BLOB,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    is_error INTEGER NOT NULL,
    resource_id INTEGER NOT NULL,
    scope_id INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (trace_id, span_id, content_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS traces (
    trace_id BLOB PRIMARY KEY,
    start_ns INTEGER NOT NULL,
    duration_ns INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_ns DESC);
";

pub struct SqliteStore {
    // One connection serialises writers; reads share it for now (a read pool can follow).
    connection: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) `spans.sqlite` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Open {
            path: data_dir.display().to_string(),
            source,
        })?;
        let connection = Connection::open(data_dir.join("spans.sqlite"))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.execute_batch(SCHEMA)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-applied (SQLite rolls
        // back), so a poisoned lock is safe to reuse.
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TraceStore for SqliteStore {
    fn write(&self, batch: &Batch) -> Result<WriteOutcome, StoreError> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let resource_ids = intern_all(&transaction, "resources", &batch.resources)?;
        let scope_ids = intern_all(&transaction, "scopes", &batch.scopes)?;

        let mut added_by_trace: HashMap<TraceId, Vec<&Span>> = HashMap::new();
        {
            let mut insert = transaction.prepare_cached(
                "INSERT OR IGNORE INTO spans (trace_id, span_id, content_hash, parent_span_id,
                     service, name, start_ns, end_ns, is_error, resource_id, scope_id, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for span in &batch.spans {
                let body = serde_json::to_string(&span_without_indexes(span))?;
                let inserted = insert.execute(params![
                    span.trace_id.0,
                    span.span_id.0,
                    xxh3_64(body.as_bytes()) as i64,
                    span.parent_span_id.map(|parent| parent.0),
                    batch.service_of(span),
                    span.name,
                    span.start_nanos as i64,
                    span.end_nanos as i64,
                    span.is_error(),
                    resource_ids[span.resource_idx as usize],
                    scope_ids[span.scope_idx as usize],
                    body,
                ])?;
                if inserted == 1 {
                    added_by_trace.entry(span.trace_id).or_default().push(span);
                }
            }
        }

        let mut n_spans_added = 0u64;
        for (trace_id, added) in &added_by_trace {
            n_spans_added += added.len() as u64;
            let Some(mut summary) = TraceSummary::of_spans(*trace_id, batch, added.iter().copied())
            else {
                continue;
            };
            let stored: Option<String> = transaction
                .query_row(
                    "SELECT summary FROM traces WHERE trace_id = ?1",
                    [trace_id.0],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(stored) = stored {
                let mut merged: TraceSummary = serde_json::from_str(&stored)?;
                merged.merge(summary);
                summary = merged;
            }
            transaction.execute(
                "INSERT INTO traces (trace_id, start_ns, duration_ns, summary)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (trace_id) DO UPDATE SET start_ns = excluded.start_ns,
                     duration_ns = excluded.duration_ns, summary = excluded.summary",
                params![
                    trace_id.0,
                    summary.start_nanos as i64,
                    summary.duration_nanos() as i64,
                    serde_json::to_string(&summary)?,
                ],
            )?;
        }
        transaction.commit()?;
        Ok(WriteOutcome { n_spans_added })
    }

    fn trace(&self, trace_id: TraceId) -> Result<Option<Trace>, StoreError> {
        let connection = self.lock();
        let mut select = connection.prepare_cached(
            "SELECT resource_id, scope_id, body FROM spans WHERE trace_id = ?1 ORDER BY start_ns",
        )?;
        let mut rows = select.query([trace_id.0])?;
        let mut batch = Batch::default();
        let mut resource_idx_of: HashMap<i64, u32> = HashMap::new();
        let mut scope_idx_of: HashMap<i64, u32> = HashMap::new();
        while let Some(row) = rows.next()? {
            let resource_id: i64 = row.get(0)?;
            let scope_id: i64 = row.get(1)?;
            let body: String = row.get(2)?;
            let mut span: Span = serde_json::from_str(&body)?;
            span.resource_idx = local_index(
                &connection,
                "resources",
                resource_id,
                &mut resource_idx_of,
                &mut batch.resources,
            )?;
            span.scope_idx = local_index(
                &connection,
                "scopes",
                scope_id,
                &mut scope_idx_of,
                &mut batch.scopes,
            )?;
            batch.spans.push(span);
        }
        if batch.spans.is_empty() {
            return Ok(None);
        }
        Ok(Some(Trace { trace_id, batch }))
    }

    fn recent_traces(&self, limit: usize) -> Result<Vec<TraceSummary>, StoreError> {
        let connection = self.lock();
        let mut select = connection
            .prepare_cached("SELECT summary FROM traces ORDER BY start_ns DESC LIMIT ?1")?;
        let summaries = select
            .query_map([limit as i64], |row| row.get::<_, String>(0))?
            .map(|body| Ok(serde_json::from_str(&body?)?))
            .collect::<Result<Vec<TraceSummary>, StoreError>>()?;
        Ok(summaries)
    }
}

/// Stored spans carry their resource and scope as row ids, not as batch indexes.
fn span_without_indexes(span: &Span) -> Span {
    Span {
        resource_idx: 0,
        scope_idx: 0,
        ..span.clone()
    }
}

/// Stores each resource or scope once and returns its row id, in input order.
fn intern_all<T: serde::Serialize>(
    transaction: &Transaction<'_>,
    table: &str,
    items: &[T],
) -> Result<Vec<i64>, StoreError> {
    let mut insert = transaction.prepare_cached(&format!(
        "INSERT OR IGNORE INTO {table} (content_hash, body) VALUES (?1, ?2)"
    ))?;
    let mut select =
        transaction.prepare_cached(&format!("SELECT id FROM {table} WHERE content_hash = ?1"))?;
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let body = serde_json::to_string(item)?;
        let hash = xxh3_64(body.as_bytes()) as i64;
        insert.execute(params![hash, body])?;
        ids.push(select.query_row([hash], |row| row.get(0))?);
    }
    Ok(ids)
}

/// Maps a stored resource or scope row id to its index in the trace being assembled, loading
/// the row the first time it is seen.
fn local_index<T: serde::de::DeserializeOwned>(
    connection: &Connection,
    table: &str,
    row_id: i64,
    index_of: &mut HashMap<i64, u32>,
    items: &mut Vec<T>,
) -> Result<u32, StoreError> {
    if let Some(idx) = index_of.get(&row_id) {
        return Ok(*idx);
    }
    let body: String = connection
        .prepare_cached(&format!("SELECT body FROM {table} WHERE id = ?1"))?
        .query_row([row_id], |row| row.get(0))?;
    items.push(serde_json::from_str(&body)?);
    let idx = (items.len() - 1) as u32;
    index_of.insert(row_id, idx);
    Ok(idx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spanview_core::scenario;

    #[test]
    fn a_trace_written_in_pieces_reads_back_whole_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_700_000_000_000_000_001);
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            let mut late_half = trace.batch.clone();
            let early_half = late_half.spans.drain(..4).collect();
            store.write(&late_half).unwrap();
            store
                .write(&Batch {
                    spans: early_half,
                    ..trace.batch.clone()
                })
                .unwrap();
            // An exporter retry adds nothing.
            assert_eq!(store.write(&trace.batch).unwrap().n_spans_added, 0);
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        let stored = store.trace(trace.trace_id).unwrap().unwrap();
        let mut expected: Vec<(String, String, u64)> = trace
            .batch
            .spans
            .iter()
            .map(|span| {
                (
                    trace.batch.service_of(span).to_owned(),
                    span.name.clone(),
                    span.start_nanos,
                )
            })
            .collect();
        let mut actual: Vec<(String, String, u64)> = stored
            .batch
            .spans
            .iter()
            .map(|span| {
                (
                    stored.batch.service_of(span).to_owned(),
                    span.name.clone(),
                    span.start_nanos,
                )
            })
            .collect();
        expected.sort();
        actual.sort();
        assert_eq!(actual, expected);

        let summaries = store.recent_traces(10).unwrap();
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].n_spans, 10);
        assert_eq!(
            summaries[0].root.as_ref().unwrap().name,
            "GET /orders/12345"
        );
        assert_eq!(summaries[0].duration_nanos(), 3_200_000_000);
    }

    #[test]
    fn unknown_traces_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        assert!(store.trace(TraceId([7; 16])).unwrap().is_none());
    }
}
