//! The per-minute service aggregates of `core::service_metrics` in two tables of counters
//! (`operation_minutes`, `edge_minutes`), added to in the writer's transaction with each write,
//! so they are exactly as durable as the spans; retention deletes the minutes before the
//! earliest remaining trace.

use rusqlite::{Connection, params};
use spanview_core::formats::compact;
use spanview_core::service_metrics::{Aggregates, Counters, EdgeKey, OperationKey};

use super::chunks::ChunkCodec;
use super::schema::clamp;
use crate::store::{MinuteRange, StoreError};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS operation_minutes (
    minute INTEGER NOT NULL,
    service TEXT NOT NULL,
    operation TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL,
    n_errors INTEGER NOT NULL,
    PRIMARY KEY (minute, service, operation, bucket)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS edge_minutes (
    minute INTEGER NOT NULL,
    caller TEXT NOT NULL,
    callee TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL,
    n_errors INTEGER NOT NULL,
    PRIMARY KEY (minute, caller, callee, bucket)
) WITHOUT ROWID;
";

/// Adds `aggregates` to the tables (inside the caller's transaction).
pub fn add(connection: &Connection, aggregates: &Aggregates) -> Result<(), StoreError> {
    let mut upsert_operation = connection.prepare_cached(
        "INSERT INTO operation_minutes (minute, service, operation, bucket, n, n_errors)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO UPDATE SET n = n + excluded.n, n_errors = n_errors + excluded.n_errors",
    )?;
    for (key, counters) in &aggregates.operations {
        upsert_operation.execute(params![
            clamp(key.minute),
            key.service,
            key.operation,
            key.bucket,
            clamp(counters.n),
            clamp(counters.n_errors),
        ])?;
    }
    let mut upsert_edge = connection.prepare_cached(
        "INSERT INTO edge_minutes (minute, caller, callee, bucket, n, n_errors)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO UPDATE SET n = n + excluded.n, n_errors = n_errors + excluded.n_errors",
    )?;
    for (key, counters) in &aggregates.edges {
        upsert_edge.execute(params![
            clamp(key.minute),
            key.caller,
            key.callee,
            key.bucket,
            clamp(counters.n),
            clamp(counters.n_errors),
        ])?;
    }
    Ok(())
}

/// Deletes the minutes before `minute`.
pub fn delete_before(connection: &Connection, minute: i64) -> Result<(), StoreError> {
    connection.execute("DELETE FROM operation_minutes WHERE minute < ?1", [minute])?;
    connection.execute("DELETE FROM edge_minutes WHERE minute < ?1", [minute])?;
    Ok(())
}

/// Recomputes the tables from every stored chunk (a store of schema version 2, written before
/// there were aggregates). Chunks are a trace's spans one write added, as the writer saw them.
pub fn rebuild(connection: &Connection, codec: &ChunkCodec) -> Result<u64, StoreError> {
    connection.execute_batch("DELETE FROM operation_minutes; DELETE FROM edge_minutes;")?;
    let mut select = connection.prepare("SELECT dictionary_id, raw_len, body FROM chunks")?;
    let mut rows = select.query([])?;
    let mut n_chunks = 0;
    let mut pending = Aggregates::default();
    while let Some(row) = rows.next()? {
        let dictionary_id: i64 = row.get(0)?;
        let raw_len: i64 = row.get(1)?;
        let body: Vec<u8> = row.get(2)?;
        let raw = codec.decompress(dictionary_id, usize::try_from(raw_len).unwrap_or(0), &body)?;
        let batch = compact::decode(&raw).map_err(StoreError::Chunk)?;
        let all: Vec<usize> = (0..batch.spans.len()).collect();
        pending.merge(Aggregates::of_spans(&batch, &all));
        n_chunks += 1;
        if pending.operations.len() + pending.edges.len() > 100_000 {
            add(connection, &std::mem::take(&mut pending))?;
        }
    }
    add(connection, &pending)?;
    Ok(n_chunks)
}

/// The operation rows of the range, each minute rounded down to a step, summed.
pub fn operations(
    connection: &Connection,
    range: MinuteRange,
    service: Option<&str>,
) -> Result<Vec<(OperationKey, Counters)>, StoreError> {
    summed_rows(
        connection,
        "SELECT minute / ?3 * ?3 AS step, service, operation, bucket, SUM(n), SUM(n_errors)
           FROM operation_minutes
          WHERE minute BETWEEN ?1 AND ?2 AND (?4 IS NULL OR service = ?4)
          GROUP BY step, service, operation, bucket",
        params![
            clamp(range.start_minute),
            clamp(range.end_minute),
            clamp(range.step_minutes.max(1)),
            service
        ],
        |minute, service, operation, bucket| OperationKey {
            minute,
            service,
            operation,
            bucket,
        },
    )
}

/// The edge rows of the range, each minute rounded down to a step, summed.
pub fn edges(
    connection: &Connection,
    range: MinuteRange,
) -> Result<Vec<(EdgeKey, Counters)>, StoreError> {
    summed_rows(
        connection,
        "SELECT minute / ?3 * ?3 AS step, caller, callee, bucket, SUM(n), SUM(n_errors)
           FROM edge_minutes
          WHERE minute BETWEEN ?1 AND ?2
          GROUP BY step, caller, callee, bucket",
        params![
            clamp(range.start_minute),
            clamp(range.end_minute),
            clamp(range.step_minutes.max(1))
        ],
        |minute, caller, callee, bucket| EdgeKey {
            minute,
            caller,
            callee,
            bucket,
        },
    )
}

/// The rows of a summing query over one of the tables, whose columns are (step minute, the
/// table's two names, bucket, SUM(n), SUM(n_errors)); `key` makes each row's key.
fn summed_rows<K>(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    key: impl Fn(u64, String, String, u16) -> K,
) -> Result<Vec<(K, Counters)>, StoreError> {
    let mut select = connection.prepare_cached(sql)?;
    let rows = select
        .query_map(params, |row| {
            Ok((
                key(
                    row.get::<_, i64>(0)? as u64,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                ),
                Counters {
                    n: row.get::<_, i64>(4)? as u64,
                    n_errors: row.get::<_, i64>(5)? as u64,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
