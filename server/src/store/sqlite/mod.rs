//! The embedded store: one SQLite database in WAL mode with `synchronous=FULL`, so that a
//! committed write survives `kill -9` and power loss.
//!
//! One writer thread commits (see [`writer`]); requests prepare their writes in their own
//! threads ([`prepare`]) and read through a small pool of connections, which WAL lets run
//! beside the writer. The layout is in [`schema`].

mod aggregates;
mod chunks;
mod health;
mod open_block;
mod postings;
mod prepare;
mod read;
mod rows;
mod schema;
mod search;
mod terms;
mod writer;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use spanview_core::query::TraceQuery;
use spanview_core::service_metrics::{Counters, EdgeKey, OperationKey};
use spanview_core::{Batch, Trace, TraceId, TraceSummary};

use self::chunks::ChunkCodec;
use self::health::WriteHealth;
use self::open_block::SharedOpenBlock;
use self::rows::{ServiceNames, trace_row_by_id};
use self::schema::{SCHEMA, SCHEMA_VERSION, clamp, open_connection};
use self::writer::Writer;
use super::{MinuteRange, StoreError, TraceStore, WriteOutcome};

pub use self::open_block::BLOCK_SPANS;

/// Read connections open at once: each holds a page cache of up to 16 MiB, and SQLite reads
/// are CPU-bound, so more would cost memory without answering sooner (1,000 concurrent
/// searches once opened 93 and took 1.3 GB).
const MAX_READERS: usize = 8;
/// How long a read waits for a connection before it is refused as unavailable.
const READER_WAIT: Duration = Duration::from_secs(10);

/// While the store is open read-only (it could not be opened for writing: disk full), a write
/// tries to open it for writing again at most this often.
const REOPEN_INTERVAL: Duration = Duration::from_secs(2);

pub struct SqliteStore {
    data_dir: PathBuf,
    /// Swapped when a store opened read-only is reopened for writing.
    inner: RwLock<Arc<Inner>>,
    health: Arc<WriteHealth>,
    last_reopen: Mutex<Instant>,
}

struct Inner {
    /// `None` when the store is open read-only.
    writer: Option<Writer>,
    readers: ReaderPool,
    codec: Arc<ChunkCodec>,
    names: Arc<ServiceNames>,
    open_block: SharedOpenBlock,
}

impl SqliteStore {
    /// Opens (creating if needed) `spans.sqlite` in `data_dir`. When an existing store cannot
    /// be opened for writing because its disk is full or it is read-only, it is opened
    /// read-only: reads are served, writes answered [`StoreError::Unavailable`] until a write
    /// finds that the store can be opened for writing again.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Open {
            path: data_dir.display().to_string(),
            source,
        })?;
        let health = Arc::new(WriteHealth::default());
        let inner = match Inner::open(data_dir, &health) {
            Ok(inner) => inner,
            Err(error) if health::unavailability(&error).is_some() => {
                // A store that was never written (created on a full disk) has nothing to serve:
                // the error that prevented writing is the one to report.
                let Ok(read_only) = Inner::open_read_only(data_dir) else {
                    return Err(error);
                };
                let reason = health::unavailability(&error).unwrap_or("io");
                health.failed(reason, &error);
                tracing::warn!(%error, "opened the store read-only: reads are served, writes wait for space");
                read_only
            }
            Err(error) => return Err(error),
        };
        Ok(Self {
            data_dir: data_dir.to_owned(),
            inner: RwLock::new(Arc::new(inner)),
            health,
            last_reopen: Mutex::new(Instant::now()),
        })
    }

    /// Whether the store is open read-only (until space returns).
    pub fn is_read_only(&self) -> bool {
        self.inner().writer.is_none()
    }

    fn inner(&self) -> Arc<Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The store open for writing: reopened if it was read-only and may be writable again.
    fn writable(&self) -> Result<Arc<Inner>, StoreError> {
        let inner = self.inner();
        if inner.writer.is_some() {
            return Ok(inner);
        }
        let unavailable = || {
            StoreError::Unavailable(
                "the store is open read-only (its disk was full when spanview started)".into(),
            )
        };
        {
            let mut last_reopen = self
                .last_reopen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last_reopen.elapsed() < REOPEN_INTERVAL {
                self.health.failed("read_only", &unavailable());
                return Err(unavailable());
            }
            *last_reopen = Instant::now();
        }
        match Inner::open(&self.data_dir, &self.health) {
            Ok(reopened) => {
                let reopened = Arc::new(reopened);
                *self
                    .inner
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = reopened.clone();
                tracing::info!("reopened the store for writing");
                Ok(reopened)
            }
            Err(error) => {
                self.health
                    .failed(health::unavailability(&error).unwrap_or("io"), &error);
                let reason = match health::classify(error) {
                    StoreError::Unavailable(reason) => reason,
                    other => other.to_string(),
                };
                Err(StoreError::Unavailable(format!(
                    "the store is open read-only: {reason}"
                )))
            }
        }
    }

    /// Deletes the traces whose `trace_seq`s `select_doomed` returns for `parameter`, their
    /// chunks, and the blocks (with their postings) that no remaining trace started before.
    fn delete_traces_where(&self, select_doomed: &str, parameter: i64) -> Result<u64, StoreError> {
        let inner = self.writable()?;
        inner
            .delete_traces_where(select_doomed, parameter)
            .map_err(health::classify)
    }
}

const STORE_FILE: &str = "spans.sqlite";

impl Inner {
    fn open(data_dir: &Path, health: &Arc<WriteHealth>) -> Result<Self, StoreError> {
        let path = data_dir.join(STORE_FILE);
        let connection = open_connection(&path)?;
        // The writer's cache holds the randomly written trace-id index.
        connection.pragma_update(None, "cache_size", -65536)?;
        // Checkpoint less often: pages written many times between checkpoints (the trace-id
        // index) are copied to the database once.
        connection.pragma_update(None, "wal_autocheckpoint", 8192)?;
        let found: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let is_new = found == 0;
        // Version 2 lacks the service aggregates, versions 2 and 3 the search terms of
        // version 4: both are rebuilt from the chunks below.
        let needs_aggregates = found == 2;
        let needs_postings = found == 2 || found == 3;
        if !needs_postings {
            check_version(data_dir, found, is_new)?;
        }
        connection.execute_batch(SCHEMA)?;
        connection.execute_batch(aggregates::SCHEMA)?;
        if is_new {
            connection.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        // Stores written before times saturated hold starts past 2^63 ns as negative numbers,
        // which search skipped and retention deleted first; both are indexed, so this is cheap.
        connection.execute_batch(
            "UPDATE traces SET start_ns = 9223372036854775807 WHERE start_ns < 0;
             UPDATE blocks SET max_start_ns = 9223372036854775807 WHERE max_start_ns < 0;",
        )?;
        let codec = Arc::new(ChunkCodec::load(&connection)?);
        if needs_postings {
            let transaction = rusqlite::Transaction::new_unchecked(
                &connection,
                rusqlite::TransactionBehavior::Immediate,
            )?;
            if needs_aggregates {
                let n_chunks = aggregates::rebuild(&transaction, &codec)?;
                tracing::info!(
                    n_chunks,
                    "service aggregates rebuilt from a version 2 store"
                );
            }
            let n_chunks = postings::rebuild_written(&transaction, &codec)?;
            transaction.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            transaction.commit()?;
            tracing::info!(
                n_chunks,
                from_version = found,
                "search terms rebuilt from the chunks"
            );
        }
        let names = Arc::new(ServiceNames::default());
        let (writer, open_block) =
            Writer::start(connection, codec.clone(), names.clone(), health.clone())?;
        Ok(Self {
            writer: Some(writer),
            readers: ReaderPool::new(path, false, None),
            codec,
            names,
            open_block,
        })
    }

    /// The store as it is on disk, without a writer and without writing anything (not even
    /// SQLite's shared-memory index, which a full disk cannot grow).
    fn open_read_only(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(STORE_FILE);
        let connection = open_read_only_connection(&path)?;
        let found: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if found == 0 {
            return Err(StoreError::Unavailable(
                "the store was never created".into(),
            ));
        }
        // A version 3 store differs only in having fewer search terms: searchable as it is.
        if found != 3 {
            check_version(data_dir, found, false)?;
        }
        let codec = Arc::new(ChunkCodec::load(&connection)?);
        let (left_open, next_block_id) = writer::left_open_block(&connection, &codec)?;
        let open_block = match left_open {
            Some((block, _)) => block,
            None => open_block::OpenBlock::new(next_block_id),
        };
        Ok(Self {
            writer: None,
            readers: ReaderPool::new(path, true, Some(connection)),
            codec,
            names: Arc::new(ServiceNames::default()),
            open_block: SharedOpenBlock::new(open_block),
        })
    }

    fn delete_traces_where(&self, select_doomed: &str, parameter: i64) -> Result<u64, StoreError> {
        let connection = self.readers.get()?;
        let transaction = rusqlite::Transaction::new_unchecked(
            &connection,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        let doomed: Vec<(i64, Vec<u8>, Vec<u8>)> = transaction
            .prepare(&format!(
                "SELECT trace_seq, chunk_ids, block_ids FROM traces WHERE trace_seq IN ({select_doomed})"
            ))?
            .query_map([parameter], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut deleted_seqs: HashSet<u64> = HashSet::new();
        let mut touched_blocks: BTreeSet<i64> = BTreeSet::new();
        {
            let mut delete_chunk = transaction.prepare("DELETE FROM chunks WHERE chunk_id = ?1")?;
            let mut delete_trace =
                transaction.prepare("DELETE FROM traces WHERE trace_seq = ?1")?;
            for (trace_seq, chunk_ids, block_ids) in &doomed {
                for chunk_id in terms::read_varints(chunk_ids) {
                    delete_chunk.execute([chunk_id as i64])?;
                }
                delete_trace.execute([trace_seq])?;
                deleted_seqs.insert(*trace_seq as u64);
                touched_blocks.extend(
                    terms::read_varints(block_ids)
                        .into_iter()
                        .map(|id| id as i64),
                );
            }
        }
        // A block whose latest start is before every remaining trace's start holds only
        // deleted traces (starts only move earlier, so the block's bound stays above them).
        let earliest_left: Option<i64> =
            transaction.query_row("SELECT MIN(start_ns) FROM traces", [], |row| row.get(0))?;
        let cutoff = earliest_left.unwrap_or(i64::MAX);
        // Minutes before the earliest remaining trace hold only deleted spans; the minute it
        // starts in may keep some of theirs (documented in core::service_metrics' users).
        aggregates::delete_before(
            &transaction,
            cutoff / spanview_core::service_metrics::MINUTE_NANOS as i64,
        )?;
        transaction.execute(
            "DELETE FROM postings WHERE block_id IN (SELECT block_id FROM blocks WHERE max_start_ns < ?1)",
            [cutoff],
        )?;
        transaction.execute("DELETE FROM blocks WHERE max_start_ns < ?1", [cutoff])?;
        // Blocks that keep some traces lose the postings of the deleted ones.
        for block_id in touched_blocks {
            postings::remove_deleted(&transaction, block_id, &deleted_seqs)?;
        }
        transaction.commit()?;
        Ok(doomed.len() as u64)
    }
}

fn check_version(data_dir: &Path, found: i64, is_new: bool) -> Result<(), StoreError> {
    if !is_new && found != SCHEMA_VERSION {
        return Err(StoreError::SchemaVersion {
            path: data_dir.display().to_string(),
            found,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// `immutable=1`: no locks and no shared-memory file (which a full disk cannot create or grow);
/// right while no writer of this process has the store open, which is when it is used.
fn open_read_only_connection(path: &Path) -> Result<Connection, StoreError> {
    let mut uri = String::from("file:");
    for byte in path.to_string_lossy().bytes() {
        match byte {
            b'?' | b'#' | b'%' | 0x80.. => uri.push_str(&format!("%{byte:02X}")),
            _ => uri.push(char::from(byte)),
        }
    }
    uri.push_str("?immutable=1");
    let connection = Connection::open_with_flags(
        &uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    Ok(connection)
}

impl TraceStore for SqliteStore {
    /// Counts write failures and the writable state in `metrics` from now on.
    fn report_to(&self, metrics: Arc<crate::metrics::Metrics>) {
        self.health.report_to(metrics);
    }

    fn write(&self, batch: &Batch) -> Result<WriteOutcome, StoreError> {
        let inner = self.writable()?;
        let prepared = prepare::prepare_batch(batch, &inner.codec)?;
        if prepared.traces.is_empty() {
            return Ok(WriteOutcome::default());
        }
        match &inner.writer {
            Some(writer) => writer.write(prepared),
            None => Err(StoreError::Unavailable(
                "the store is open read-only".into(),
            )),
        }
    }

    fn trace(&self, trace_id: TraceId) -> Result<Option<Trace>, StoreError> {
        let inner = self.inner();
        let connection = inner.readers.get()?;
        match trace_row_by_id(&connection, trace_id)? {
            Some(row) => Ok(Some(read::assemble(&connection, &inner.codec, &row)?)),
            None => Ok(None),
        }
    }

    fn search(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        let inner = self.inner();
        let connection = inner.readers.get()?;
        search::search(
            &connection,
            &inner.names,
            &inner.open_block,
            &inner.codec,
            query,
        )
    }

    fn services(&self) -> Result<Vec<String>, StoreError> {
        let inner = self.inner();
        let connection = inner.readers.get()?;
        let mut select = connection.prepare_cached(
            "SELECT name FROM services s
              WHERE EXISTS (SELECT 1 FROM operations o WHERE o.service_id = s.service_id)
              ORDER BY name",
        )?;
        let services = select
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(services)
    }

    fn operations(&self, service: &str) -> Result<Vec<String>, StoreError> {
        let inner = self.inner();
        let connection = inner.readers.get()?;
        let mut select = connection.prepare_cached(
            "SELECT o.name FROM operations o JOIN services s ON s.service_id = o.service_id
              WHERE s.name = ?1 ORDER BY o.name",
        )?;
        let operations = select
            .query_map([service], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(operations)
    }

    fn operation_aggregates(
        &self,
        range: MinuteRange,
        service: Option<&str>,
    ) -> Result<Vec<(OperationKey, Counters)>, StoreError> {
        let inner = self.inner();
        let connection = inner.readers.get()?;
        aggregates::operations(&connection, range, service)
    }

    fn edge_aggregates(&self, range: MinuteRange) -> Result<Vec<(EdgeKey, Counters)>, StoreError> {
        let inner = self.inner();
        let connection = inner.readers.get()?;
        aggregates::edges(&connection, range)
    }

    fn size_bytes(&self) -> Result<u64, StoreError> {
        let inner = self.inner();
        let connection = inner.readers.get()?;
        let page_count: i64 =
            connection.pragma_query_value(None, "page_count", |row| row.get(0))?;
        let free_pages: i64 =
            connection.pragma_query_value(None, "freelist_count", |row| row.get(0))?;
        let page_size: i64 = connection.pragma_query_value(None, "page_size", |row| row.get(0))?;
        Ok(u64::try_from((page_count - free_pages) * page_size).unwrap_or(0))
    }

    fn delete_traces_started_before(&self, unix_nanos: u64) -> Result<u64, StoreError> {
        self.delete_traces_where(
            "SELECT trace_seq FROM traces WHERE start_ns < ?1",
            clamp(unix_nanos),
        )
    }

    fn delete_oldest_traces(&self, count: u64) -> Result<u64, StoreError> {
        self.delete_traces_where(
            "SELECT trace_seq FROM traces ORDER BY start_ns ASC LIMIT ?1",
            clamp(count),
        )
    }
}

/// At most [`MAX_READERS`] read connections, opened on demand and reused; a read waits up to
/// [`READER_WAIT`] for one.
struct ReaderPool {
    path: PathBuf,
    /// Connections are opened with [`open_read_only_connection`].
    read_only: bool,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Connection>,
    /// Connections open, idle or lent.
    n_open: usize,
}

impl ReaderPool {
    fn new(path: PathBuf, read_only: bool, first: Option<Connection>) -> Self {
        let n_open = usize::from(first.is_some());
        Self {
            path,
            read_only,
            state: Mutex::new(PoolState {
                idle: first.into_iter().collect(),
                n_open,
            }),
            returned: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self) -> Result<PooledConnection<'_>, StoreError> {
        let deadline = Instant::now() + READER_WAIT;
        let mut state = self.lock();
        loop {
            if let Some(connection) = state.idle.pop() {
                return Ok(self.lend(connection));
            }
            if state.n_open < MAX_READERS {
                state.n_open += 1;
                drop(state);
                return match self.open() {
                    Ok(connection) => Ok(self.lend(connection)),
                    Err(error) => {
                        self.lock().n_open -= 1;
                        self.returned.notify_one();
                        Err(error)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::Unavailable(format!(
                    "all {MAX_READERS} read connections stayed busy for {} s",
                    READER_WAIT.as_secs()
                )));
            }
            state = self
                .returned
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    fn open(&self) -> Result<Connection, StoreError> {
        if self.read_only {
            return open_read_only_connection(&self.path);
        }
        let connection = open_connection(&self.path)?;
        connection.pragma_update(None, "cache_size", -16384)?;
        Ok(connection)
    }

    fn lend(&self, connection: Connection) -> PooledConnection<'_> {
        PooledConnection {
            connection: Some(connection),
            pool: self,
        }
    }
}

struct PooledConnection<'a> {
    connection: Option<Connection>,
    pool: &'a ReaderPool,
}

impl std::ops::Deref for PooledConnection<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.connection.as_ref().expect("present until dropped")
    }
}

impl Drop for PooledConnection<'_> {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        let mut state = self.pool.lock();
        // A connection left inside a transaction (a panic mid-way) is closed, not reused.
        if connection.is_autocommit() {
            state.idle.push(connection);
        } else {
            state.n_open -= 1;
        }
        drop(state);
        self.pool.returned.notify_one();
    }
}

#[cfg(test)]
mod tests;
