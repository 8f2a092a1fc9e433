//! The embedded store: one SQLite database in WAL mode with `synchronous=FULL`, so that a
//! committed write survives `kill -9` and power loss.
//!
//! Layout: resources and scopes are stored once each (deduplicated by content hash); a span row
//! holds indexed columns plus the whole span as JSON; `traces` holds one mergeable summary per
//! trace, updated in the same transaction as its spans.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use spanview_core::query::{MAX_LIMIT, TraceQuery};
use spanview_core::service_overview::{OverviewBuilder, ServiceOverview, ServiceSpan};
use spanview_core::{AnyValue, Batch, Span, Trace, TraceId, TraceSummary};
use xxhash_rust::xxh3::xxh3_64;

use super::{StoreError, TraceStore, WriteOutcome};

/// Bumped on any incompatible schema change; a store of another version is refused, not guessed at.
const SCHEMA_VERSION: i64 = 1;

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
-- One mergeable summary per trace; the columns are copies of summary fields, for filtering.
CREATE TABLE IF NOT EXISTS traces (
    trace_id BLOB PRIMARY KEY,
    start_ns INTEGER NOT NULL,
    duration_ns INTEGER NOT NULL,
    n_errors INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_ns DESC);
-- Search indexes: which traces contain a (service, span name) and an attribute key=value.
CREATE TABLE IF NOT EXISTS trace_operations (
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    trace_id BLOB NOT NULL,
    PRIMARY KEY (service, name, trace_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_operations_by_name ON trace_operations (name);
CREATE INDEX IF NOT EXISTS trace_operations_by_trace ON trace_operations (trace_id);
CREATE TABLE IF NOT EXISTS trace_attributes (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    trace_id BLOB NOT NULL,
    PRIMARY KEY (key, value, trace_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_attributes_by_trace ON trace_attributes (trace_id);
-- The service and operation lists, kept small for the search form.
CREATE TABLE IF NOT EXISTS operations (
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (service, name)
) WITHOUT ROWID;
";

/// Attribute values longer than this are stored but not indexed for search.
const MAX_INDEXED_VALUE_BYTES: usize = 256;

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
        let found: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let is_new = found == 0;
        if !is_new && found != SCHEMA_VERSION {
            return Err(StoreError::SchemaVersion {
                path: data_dir.display().to_string(),
                found,
                expected: SCHEMA_VERSION,
            });
        }
        connection.execute_batch(SCHEMA)?;
        if is_new {
            connection.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    /// Deletes whole traces (spans, summary, search entries) whose ids `select_trace_ids`
    /// returns for `parameter`, in one transaction.
    fn delete_traces_where(
        &self,
        select_trace_ids: &str,
        parameter: i64,
    ) -> Result<u64, StoreError> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        transaction.execute(
            "CREATE TEMP TABLE IF NOT EXISTS doomed_traces (trace_id BLOB PRIMARY KEY)",
            [],
        )?;
        transaction.execute("DELETE FROM doomed_traces", [])?;
        let n_traces = transaction.execute(
            &format!("INSERT INTO doomed_traces (trace_id) {select_trace_ids}"),
            [parameter],
        )?;
        for table in ["spans", "trace_operations", "trace_attributes", "traces"] {
            transaction.execute(
                &format!(
                    "DELETE FROM {table} WHERE trace_id IN (SELECT trace_id FROM doomed_traces)"
                ),
                [],
            )?;
        }
        transaction.execute("DELETE FROM doomed_traces", [])?;
        transaction.commit()?;
        Ok(n_traces as u64)
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
        let mut updated_traces = Vec::with_capacity(added_by_trace.len());
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
                "INSERT INTO traces (trace_id, start_ns, duration_ns, n_errors, summary)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (trace_id) DO UPDATE SET start_ns = excluded.start_ns,
                     duration_ns = excluded.duration_ns, n_errors = excluded.n_errors,
                     summary = excluded.summary",
                params![
                    trace_id.0,
                    summary.start_nanos as i64,
                    summary.duration_nanos() as i64,
                    summary.n_errors as i64,
                    serde_json::to_string(&summary)?,
                ],
            )?;
            updated_traces.push(summary);
        }
        index_for_search(&transaction, batch, &added_by_trace)?;
        transaction.commit()?;
        Ok(WriteOutcome {
            n_spans_added,
            updated_traces,
        })
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

    fn search(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        let (sql, values) = search_sql(query);
        let connection = self.lock();
        let mut select = connection.prepare_cached(&sql)?;
        let summaries = select
            .query_map(rusqlite::params_from_iter(values), |row| {
                row.get::<_, String>(0)
            })?
            .map(|body| Ok(serde_json::from_str(&body?)?))
            .collect::<Result<Vec<TraceSummary>, StoreError>>()?;
        Ok(summaries)
    }

    fn services(&self) -> Result<Vec<String>, StoreError> {
        let connection = self.lock();
        let mut select = connection
            .prepare_cached("SELECT DISTINCT service FROM operations ORDER BY service")?;
        let services = select
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(services)
    }

    fn operations(&self, service: &str) -> Result<Vec<String>, StoreError> {
        let connection = self.lock();
        let mut select = connection
            .prepare_cached("SELECT name FROM operations WHERE service = ?1 ORDER BY name")?;
        let operations = select
            .query_map([service], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(operations)
    }

    fn service_overview(
        &self,
        start_after_nanos: Option<u64>,
        start_before_nanos: Option<u64>,
    ) -> Result<Vec<ServiceOverview>, StoreError> {
        // Traces in range (the start index), then their spans by primary-key prefix; a span is an
        // entry span when its parent is missing or in another service.
        let connection = self.lock();
        let mut select = connection.prepare_cached(
            "SELECT s.service, s.trace_id, s.end_ns - s.start_ns, s.is_error,
                    (SELECT p.service FROM spans p
                      WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id LIMIT 1)
               FROM traces t JOIN spans s ON s.trace_id = t.trace_id
              WHERE t.start_ns >= ?1 AND t.start_ns <= ?2",
        )?;
        let range = (
            clamp_to_i64(start_after_nanos.unwrap_or(0)),
            clamp_to_i64(start_before_nanos.unwrap_or(u64::MAX)),
        );
        let mut rows = select.query(range)?;
        let mut builder = OverviewBuilder::default();
        while let Some(row) = rows.next()? {
            let service: String = row.get(0)?;
            let trace_id: Vec<u8> = row.get(1)?;
            let parent_service: Option<String> = row.get(4)?;
            // Ids are validated before they are stored; a row that still fails is not counted.
            let Ok(trace_id) = TraceId::from_bytes(&trace_id) else {
                continue;
            };
            builder.add(ServiceSpan {
                is_entry: parent_service.as_ref() != Some(&service),
                service,
                trace_id,
                duration_nanos: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                is_error: row.get(3)?,
            });
        }
        Ok(builder.finish())
    }

    fn size_bytes(&self) -> Result<u64, StoreError> {
        let connection = self.lock();
        let page_count: i64 =
            connection.pragma_query_value(None, "page_count", |row| row.get(0))?;
        let free_pages: i64 =
            connection.pragma_query_value(None, "freelist_count", |row| row.get(0))?;
        let page_size: i64 = connection.pragma_query_value(None, "page_size", |row| row.get(0))?;
        Ok(u64::try_from((page_count - free_pages) * page_size).unwrap_or(0))
    }

    fn delete_traces_started_before(&self, unix_nanos: u64) -> Result<u64, StoreError> {
        self.delete_traces_where(
            "SELECT trace_id FROM traces WHERE start_ns < ?1",
            clamp_to_i64(unix_nanos),
        )
    }

    fn delete_oldest_traces(&self, count: u64) -> Result<u64, StoreError> {
        self.delete_traces_where(
            "SELECT trace_id FROM traces ORDER BY start_ns ASC LIMIT ?1",
            clamp_to_i64(count),
        )
    }
}

/// The SQL and parameters for a search. Every span-level filter is a semi-join on an index
/// table, so the outer scan stays on `traces` in start order.
fn search_sql(query: &TraceQuery) -> (String, Vec<Value>) {
    let mut sql = String::from("SELECT summary FROM traces WHERE 1 = 1");
    let mut values: Vec<Value> = Vec::new();
    if let Some(min) = query.min_duration_nanos {
        sql.push_str(" AND duration_ns >= ?");
        values.push(Value::Integer(clamp_to_i64(min)));
    }
    if let Some(max) = query.max_duration_nanos {
        sql.push_str(" AND duration_ns <= ?");
        values.push(Value::Integer(clamp_to_i64(max)));
    }
    if let Some(after) = query.start_after_nanos {
        sql.push_str(" AND start_ns >= ?");
        values.push(Value::Integer(clamp_to_i64(after)));
    }
    if let Some(before) = query.start_before_nanos {
        sql.push_str(" AND start_ns <= ?");
        values.push(Value::Integer(clamp_to_i64(before)));
    }
    if query.errors_only {
        sql.push_str(" AND n_errors > 0");
    }
    match (&query.service, &query.operation) {
        (Some(service), Some(operation)) => {
            sql.push_str(
                " AND trace_id IN (SELECT trace_id FROM trace_operations WHERE service = ? AND name = ?)",
            );
            values.push(Value::Text(service.clone()));
            values.push(Value::Text(operation.clone()));
        }
        (Some(service), None) => {
            sql.push_str(
                " AND trace_id IN (SELECT trace_id FROM trace_operations WHERE service = ?)",
            );
            values.push(Value::Text(service.clone()));
        }
        (None, Some(operation)) => {
            sql.push_str(" AND trace_id IN (SELECT trace_id FROM trace_operations WHERE name = ?)");
            values.push(Value::Text(operation.clone()));
        }
        (None, None) => {}
    }
    for (key, value) in &query.attributes {
        sql.push_str(
            " AND trace_id IN (SELECT trace_id FROM trace_attributes WHERE key = ? AND value = ?)",
        );
        values.push(Value::Text(key.clone()));
        values.push(Value::Text(value.clone()));
    }
    sql.push_str(" ORDER BY start_ns DESC LIMIT ?");
    values.push(Value::Integer(query.limit.clamp(1, MAX_LIMIT) as i64));
    (sql, values)
}

fn clamp_to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Records, for the spans just added, which traces contain each (service, name) and each
/// indexable attribute key=value (span and resource attributes).
fn index_for_search(
    transaction: &Transaction<'_>,
    batch: &Batch,
    added_by_trace: &HashMap<TraceId, Vec<&Span>>,
) -> Result<(), StoreError> {
    let mut operations: HashSet<(&str, &str)> = HashSet::new();
    let mut trace_operations: HashSet<(&str, &str, TraceId)> = HashSet::new();
    let mut trace_attributes: HashSet<(&str, String, TraceId)> = HashSet::new();
    for (trace_id, spans) in added_by_trace {
        for span in spans {
            let service = batch.service_of(span);
            operations.insert((service, span.name.as_str()));
            trace_operations.insert((service, span.name.as_str(), *trace_id));
            let resource_attributes = batch
                .resources
                .get(span.resource_idx as usize)
                .map_or(&[][..], |resource| resource.attributes.as_slice());
            for attribute in span.attributes.iter().chain(resource_attributes) {
                if let Some(text) = indexable_text(&attribute.value) {
                    trace_attributes.insert((attribute.key.as_str(), text, *trace_id));
                }
            }
        }
    }
    let mut insert = transaction
        .prepare_cached("INSERT OR IGNORE INTO operations (service, name) VALUES (?1, ?2)")?;
    for (service, name) in operations {
        insert.execute(params![service, name])?;
    }
    let mut insert = transaction.prepare_cached(
        "INSERT OR IGNORE INTO trace_operations (service, name, trace_id) VALUES (?1, ?2, ?3)",
    )?;
    for (service, name, trace_id) in trace_operations {
        insert.execute(params![service, name, trace_id.0])?;
    }
    let mut insert = transaction.prepare_cached(
        "INSERT OR IGNORE INTO trace_attributes (key, value, trace_id) VALUES (?1, ?2, ?3)",
    )?;
    for (key, value, trace_id) in trace_attributes {
        insert.execute(params![key, value, trace_id.0])?;
    }
    Ok(())
}

/// Scalar values as searched for (`http.status_code:500`); long texts and composites are not
/// indexed.
fn indexable_text(value: &AnyValue) -> Option<String> {
    let text = match value {
        AnyValue::String(text) => text.clone(),
        AnyValue::Bool(_) | AnyValue::Int(_) | AnyValue::Double(_) => value.to_display_string(),
        _ => return None,
    };
    (text.len() <= MAX_INDEXED_VALUE_BYTES).then_some(text)
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

        let summaries = store
            .search(&TraceQuery {
                limit: 10,
                ..TraceQuery::default()
            })
            .unwrap();
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
