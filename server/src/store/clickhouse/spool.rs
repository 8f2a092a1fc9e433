//! Durable, batched inserts.
//!
//! Durability rule: a write is answered `Ok` only once its rows are in ClickHouse (the insert
//! returned) or in the spool: a file in the data directory, fsynced and renamed into place
//! (then the directory fsynced). Spool files are inserted again, oldest first, by a thread of
//! their own, and deleted only after their insert returned; after a crash the next start finds
//! them. An insert that is retried may store rows twice: reads drop duplicate spans by
//! fingerprint, so that is harmless.
//!
//! Batching (group commit): writes queue; whenever the inserter is free it takes everything
//! queued (up to [`MAX_BATCH_BYTES`]) and sends one insert per table for them all, the five
//! tables at once (`attribute_index`'s rows derived from the `spans` rows then). A write that finds the inserter idle is inserted at once; the writes that
//! arrive during an insert go together in the next one, so inserts grow with the load and
//! ClickHouse sees few large ones exactly when there are many writes. (A fixed wait for company
//! before each insert, 100 ms until 2026-12-07, only added latency: it capped 4 concurrent
//! exporters at 14.6k spans/s.)
//! While the spool holds anything (ClickHouse was unreachable), new batches go to the spool too,
//! so writes are answered at disk speed during an outage; once the spool is drained, inserts go
//! straight to ClickHouse again. A full spool fails the write with
//! [`StoreError::Unavailable`], which the receiver answers with `503` and `Retry-After`.
//!
//! A batch that ClickHouse keeps refusing (its tables dropped under it, say) stays first in the
//! spool and is retried every second; the spool then fills and writes fail with `503`: never a
//! silent loss. Note that ClickHouse itself does not fsync inserted parts by default: "in
//! ClickHouse" is as durable as its server's settings make it.
//!
//! Spool file: `SVSPOOL1`, the chunk rows' length (u64 LE) and bytes, the span rows' length and
//! bytes, the operation-minute and edge-minute rows' lengths and bytes (absent in files of
//! spanviews before the service aggregates), the span rows' version (length 1, `[2]`: rows with
//! `Kind` and `StatusCode`; absent in older files, whose span rows are converted on reading),
//! then an xxh3 of everything before it (a damaged file is set aside, never inserted).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use xxhash_rust::xxh3::xxh3_64;

use super::attribute_index::{self, ATTRIBUTE_INDEX_COLUMNS, SPAN_COLUMNS_WITHOUT_ATTRIBUTES};
use super::client::{Client, ClientError};
use super::readiness::SchemaGate;
use super::schema::Layout;
use super::write::{
    CHUNK_INSERT_COLUMNS, EDGE_MINUTE_COLUMNS, OPERATION_MINUTE_COLUMNS, Rows, span_rows_from_v1,
};
use crate::store::StoreError;

/// An insert takes at most this many bytes of rows (more when one write alone is larger).
pub const MAX_BATCH_BYTES: usize = 16 << 20;
/// With [`Acknowledge::Spooled`], how long the replayer lets spool files gather between
/// inserts (unless [`MAX_REPLAY_BYTES`] are waiting): about two inserts a second per table,
/// however many writes come.
const SPOOLED_INSERT_INTERVAL: Duration = Duration::from_millis(500);
/// How long the replayer waits after a failed insert before trying again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);
/// Spool files inserted together when draining.
const MAX_REPLAY_BYTES: usize = 32 << 20;

const MAGIC: &[u8; 8] = b"SVSPOOL1";
/// The version of the span rows this spanview writes (see the module doc).
const SPAN_ROWS_VERSION: u8 = 2;

/// Inserts rows into the two tables; the same for direct inserts and replays.
#[derive(Clone)]
pub struct Inserter {
    pub client: Client,
    pub layout: Layout,
}

impl Inserter {
    pub fn insert(&self, rows: &Rows) -> Result<(), ClientError> {
        // On a cluster, return only once every shard has its rows (not when they are queued
        // on this node), so that a read that follows finds them.
        let settings: &[(&str, &str)] = if self.layout.cluster.is_some() {
            &[("insert_distributed_sync", "1")]
        } else {
            &[]
        };
        let split = attribute_index::split(&rows.spans)
            .map_err(|error| ClientError::Unexpected(error.to_string()))?;
        let tables = [
            ("chunks", CHUNK_INSERT_COLUMNS, &rows.chunks),
            ("spans", SPAN_COLUMNS_WITHOUT_ATTRIBUTES, &split.spans),
            ("attribute_index", ATTRIBUTE_INDEX_COLUMNS, &split.index),
            (
                "operation_minutes",
                OPERATION_MINUTE_COLUMNS,
                &rows.operation_minutes,
            ),
            ("edge_minutes", EDGE_MINUTE_COLUMNS, &rows.edge_minutes),
        ];
        // The tables are independent: insert them side by side, so that a batch takes as long
        // as its largest insert rather than the sum of five. The batch succeeds only if all do
        // (a failed batch is spooled whole and inserted again; see the module doc).
        std::thread::scope(|scope| {
            let inserts: Vec<_> = tables
                .into_iter()
                .filter(|(_, _, part)| !part.is_empty())
                .map(|(table, columns, part)| {
                    scope.spawn(move || {
                        self.client.insert(
                            &format!(
                                "INSERT INTO {} ({columns}) FORMAT RowBinary",
                                self.layout.table(table)
                            ),
                            settings,
                            part,
                        )
                    })
                })
                .collect();
            inserts
                .into_iter()
                .map(|insert| insert.join().expect("an insert thread panicked"))
                .collect::<Result<Vec<()>, ClientError>>()
                .map(drop)
        })
    }
}

struct Pending {
    rows: Rows,
    reply: mpsc::SyncSender<Result<(), StoreError>>,
}

#[derive(Default)]
struct Queue {
    items: Vec<Pending>,
    n_bytes: usize,
}

/// When a write is answered: the trade between acknowledgement latency (and so the ingest rate
/// of exporters that wait for answers) and how soon a search finds the spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Acknowledge {
    /// Once ClickHouse took the insert (or, while it cannot, once the batch is spooled): a
    /// search right after the answer finds the spans.
    #[default]
    Inserted,
    /// Once the batch is in the fsynced spool, always: writes are answered at disk speed and
    /// ClickHouse gets few large inserts (the replayer's, about two a second), but a search
    /// finds the spans up to about a second later. Re-sent spans are not looked up while the
    /// spool holds batches, so an exporter's retry may count twice in the service aggregates
    /// (traces and searches drop the duplicates).
    Spooled,
}

struct Shared {
    acknowledge: Acknowledge,
    queue: Mutex<Queue>,
    queued: Condvar,
    spool: Spool,
    inserter: Inserter,
    /// Closed until the schema is migrated: then every batch is spooled, none inserted.
    gate: Arc<SchemaGate>,
    stopping: AtomicBool,
}

/// The write path: a batching inserter thread and a spool replayer thread.
pub struct WritePath {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl WritePath {
    pub fn start(
        inserter: Inserter,
        spool: Spool,
        gate: Arc<SchemaGate>,
        acknowledge: Acknowledge,
    ) -> Result<Self, StoreError> {
        let shared = Arc::new(Shared {
            acknowledge,
            queue: Mutex::new(Queue::default()),
            queued: Condvar::new(),
            spool,
            inserter,
            gate,
            stopping: AtomicBool::new(false),
        });
        let mut threads = Vec::new();
        for (name, run) in [
            ("clickhouse-inserter", run_inserter as fn(&Shared)),
            ("clickhouse-spool", run_replayer as fn(&Shared)),
        ] {
            let shared = shared.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(name.to_owned())
                    .spawn(move || run(&shared))
                    .map_err(|error| StoreError::Write(format!("cannot start {name}: {error}")))?,
            );
        }
        Ok(Self { shared, threads })
    }

    /// Returns once the rows are inserted or spooled.
    pub fn write(&self, rows: Rows) -> Result<(), StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        {
            let mut queue = lock(&self.shared.queue);
            queue.n_bytes += rows.len_bytes();
            queue.items.push(Pending { rows, reply });
        }
        self.shared.queued.notify_all();
        answer.recv().map_err(|_| StoreError::WriterStopped)?
    }

    /// Whether the spool holds batches not yet in ClickHouse.
    pub fn is_spooling(&self) -> bool {
        self.shared.spool.n_files() > 0
    }
}

impl Drop for WritePath {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.queued.notify_all();
        self.shared.spool.wake.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn run_inserter(shared: &Shared) {
    loop {
        let batch = {
            let mut queue = lock(&shared.queue);
            while queue.items.is_empty() {
                if shared.stopping.load(Ordering::SeqCst) {
                    return;
                }
                queue = shared
                    .queued
                    .wait_timeout(queue, Duration::from_millis(200))
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
            // The oldest writes up to the batch size (at least one); the rest wait their turn.
            let mut n_taken = 0;
            let mut n_bytes = 0;
            for pending in &queue.items {
                if n_taken > 0 && n_bytes + pending.rows.len_bytes() > MAX_BATCH_BYTES {
                    break;
                }
                n_taken += 1;
                n_bytes += pending.rows.len_bytes();
            }
            queue.n_bytes -= n_bytes;
            queue.items.drain(..n_taken).collect::<Vec<Pending>>()
        };
        let mut rows = Rows::default();
        for pending in &batch {
            rows.append(&pending.rows);
        }
        let outcome = store_rows(shared, &rows);
        for pending in batch {
            let answer = match &outcome {
                Ok(()) => Ok(()),
                Err(StoreError::Unavailable(reason)) => {
                    Err(StoreError::Unavailable(reason.clone()))
                }
                Err(error) => Err(StoreError::Write(error.to_string())),
            };
            let _ = pending.reply.send(answer);
        }
    }
}

/// Inserts the rows, or spools them when ClickHouse cannot take them (or others wait before
/// them in the spool).
fn store_rows(shared: &Shared, rows: &Rows) -> Result<(), StoreError> {
    if shared.acknowledge == Acknowledge::Inserted
        && shared.spool.n_files() == 0
        && shared.gate.is_ready()
    {
        match shared.inserter.insert(rows) {
            Ok(()) => return Ok(()),
            Err(error) => {
                tracing::warn!(%error, "clickhouse insert failed: spooling the batch");
            }
        }
    }
    shared.spool.append(rows)?;
    shared.spool.wake.notify_all();
    Ok(())
}

fn run_replayer(shared: &Shared) {
    // Failures are logged once per outage, not once per retry.
    let mut failing = false;
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let files = if shared.gate.is_ready() {
            shared.spool.oldest(MAX_REPLAY_BYTES)
        } else {
            Vec::new()
        };
        if files.is_empty() {
            let idle = lock(&shared.spool.state);
            let _ = shared
                .spool
                .wake
                .wait_timeout(idle, Duration::from_millis(500));
            continue;
        }
        let mut parts = Vec::new();
        let mut readable = Vec::new();
        for file in files {
            match shared.spool.read(&file) {
                Ok(part) => {
                    parts.push(part);
                    readable.push(file);
                }
                Err(error) => {
                    tracing::error!(%error, file = %file.display(), "a spool file is damaged: set aside");
                    shared.spool.set_aside(&file);
                }
            }
        }
        let rows = Rows::concat(&parts);
        drop(parts);
        match shared.inserter.insert(&rows) {
            Ok(()) => {
                for file in &readable {
                    shared.spool.remove(file);
                }
                failing = false;
                if shared.acknowledge == Acknowledge::Spooled {
                    tracing::debug!(files = readable.len(), "spooled batches inserted");
                    // Let the next insert gather: few large inserts are what ClickHouse wants.
                    let inserted_at = Instant::now();
                    while inserted_at.elapsed() < SPOOLED_INSERT_INTERVAL
                        && !shared.stopping.load(Ordering::SeqCst)
                        && shared.spool.n_bytes() < MAX_REPLAY_BYTES as u64
                    {
                        let idle = lock(&shared.spool.state);
                        let left = SPOOLED_INSERT_INTERVAL.saturating_sub(inserted_at.elapsed());
                        let _ = shared.spool.wake.wait_timeout(idle, left);
                    }
                } else {
                    tracing::info!(
                        files = readable.len(),
                        left = shared.spool.n_files(),
                        "spooled batches inserted into clickhouse"
                    );
                }
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, files = shared.spool.n_files(), "clickhouse cannot take the spooled batches: retrying every second");
                }
                failing = true;
                // Sleep the whole interval: new spool files must not hurry the retries.
                let failed_at = Instant::now();
                while failed_at.elapsed() < RETRY_AFTER_FAILURE
                    && !shared.stopping.load(Ordering::SeqCst)
                {
                    let idle = lock(&shared.spool.state);
                    let left = RETRY_AFTER_FAILURE.saturating_sub(failed_at.elapsed());
                    let _ = shared.spool.wake.wait_timeout(idle, left);
                }
            }
        }
    }
}

#[derive(Default)]
struct SpoolState {
    /// Files in the spool, oldest first, with their sizes.
    files: Vec<(PathBuf, u64)>,
    n_bytes: u64,
    next_seq: u64,
}

/// A spool file's bytes: the magic, each part with its length (u64, little-endian) in front,
/// and an xxh3 checksum of all that.
fn file_bytes(parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|part| part.len() + 8).sum();
    let mut bytes = Vec::with_capacity(MAGIC.len() + len + 8);
    bytes.extend_from_slice(MAGIC);
    for part in parts {
        bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
        bytes.extend_from_slice(part);
    }
    let checksum = xxh3_64(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes
}

/// The write-ahead spool: one file per batch in a directory.
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<SpoolState>,
    wake: Condvar,
}

impl Spool {
    /// Opens the spool in `dir`, finding the files a previous run left.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open {
            path: dir.display().to_string(),
            source,
        };
        fs::create_dir_all(dir).map_err(open_error)?;
        let mut state = SpoolState::default();
        let mut found: Vec<(u64, PathBuf, u64)> = Vec::new();
        for entry in fs::read_dir(dir).map_err(open_error)? {
            let entry = entry.map_err(open_error)?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(seq) = name
                .strip_suffix(".batch")
                .and_then(|s| s.parse::<u64>().ok())
            {
                let size = entry.metadata().map_err(open_error)?.len();
                found.push((seq, path, size));
            } else if name.ends_with(".tmp") {
                // Never renamed into place, so never acknowledged.
                let _ = fs::remove_file(&path);
            }
        }
        found.sort();
        for (seq, path, size) in found {
            state.next_seq = state.next_seq.max(seq + 1);
            state.n_bytes += size;
            state.files.push((path, size));
        }
        if !state.files.is_empty() {
            tracing::info!(
                files = state.files.len(),
                bytes = state.n_bytes,
                "spooled batches from a previous run will be inserted"
            );
        }
        Ok(Self {
            dir: dir.to_owned(),
            max_bytes,
            state: Mutex::new(state),
            wake: Condvar::new(),
        })
    }

    pub fn n_files(&self) -> usize {
        lock(&self.state).files.len()
    }

    fn n_bytes(&self) -> u64 {
        lock(&self.state).n_bytes
    }

    /// Writes the rows as the newest spool file, durably.
    pub fn append(&self, rows: &Rows) -> Result<(), StoreError> {
        let bytes = file_bytes(&[
            &rows.chunks,
            &rows.spans,
            &rows.operation_minutes,
            &rows.edge_minutes,
            &[SPAN_ROWS_VERSION],
        ]);
        // One writer at a time: the lock also orders the files.
        let mut state = lock(&self.state);
        if state.n_bytes + bytes.len() as u64 > self.max_bytes {
            return Err(StoreError::Unavailable(format!(
                "ClickHouse is not taking inserts and the spool is full ({} of {} bytes)",
                state.n_bytes, self.max_bytes
            )));
        }
        let seq = state.next_seq;
        let path = self.dir.join(format!("{seq:020}.batch"));
        let temporary = self.dir.join(format!("{seq:020}.tmp"));
        let io_error =
            |error: std::io::Error| StoreError::Write(format!("spool {}: {error}", path.display()));
        let mut file = File::create(&temporary).map_err(io_error)?;
        file.write_all(&bytes).map_err(io_error)?;
        file.sync_all().map_err(io_error)?;
        drop(file);
        fs::rename(&temporary, &path).map_err(io_error)?;
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error)?;
        state.next_seq += 1;
        state.n_bytes += bytes.len() as u64;
        state.files.push((path, bytes.len() as u64));
        Ok(())
    }

    /// The oldest files, up to about `max_bytes` together (at least one).
    fn oldest(&self, max_bytes: usize) -> Vec<PathBuf> {
        let state = lock(&self.state);
        let mut taken = Vec::new();
        let mut n_bytes = 0u64;
        for (path, size) in &state.files {
            if !taken.is_empty() && n_bytes + size > max_bytes as u64 {
                break;
            }
            n_bytes += size;
            taken.push(path.clone());
        }
        taken
    }

    fn read(&self, path: &Path) -> Result<Rows, String> {
        let bytes = fs::read(path).map_err(|error| error.to_string())?;
        let damaged = |problem: &str| format!("{problem} ({} bytes)", bytes.len());
        if bytes.len() < MAGIC.len() + 24 || &bytes[..MAGIC.len()] != MAGIC {
            return Err(damaged("not a spool file"));
        }
        let (body, checksum) = bytes.split_at(bytes.len() - 8);
        if xxh3_64(body) != u64::from_le_bytes(checksum.try_into().expect("8 bytes")) {
            return Err(damaged("checksum mismatch"));
        }
        let mut at = MAGIC.len();
        let part = |at: &mut usize| -> Result<Vec<u8>, String> {
            let length = body
                .get(*at..*at + 8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
                .ok_or_else(|| damaged("truncated"))?;
            let data = body
                .get(*at + 8..*at + 8 + length)
                .ok_or_else(|| damaged("truncated"))?
                .to_vec();
            *at += 8 + length;
            Ok(data)
        };
        let chunks = part(&mut at)?;
        let mut spans = part(&mut at)?;
        let (operation_minutes, edge_minutes) = if at < body.len() {
            (part(&mut at)?, part(&mut at)?)
        } else {
            (Vec::new(), Vec::new())
        };
        let span_rows_version = if at < body.len() {
            part(&mut at)?
        } else {
            vec![1]
        };
        match span_rows_version[..] {
            [SPAN_ROWS_VERSION] => {}
            [1] => {
                spans = span_rows_from_v1(&spans)
                    .map_err(|error| damaged(&format!("old span rows unreadable: {error}")))?
            }
            _ => return Err(damaged("unknown span rows version")),
        }
        Ok(Rows {
            chunks,
            spans,
            operation_minutes,
            edge_minutes,
        })
    }

    fn forget(&self, path: &Path) {
        let mut state = lock(&self.state);
        if let Some(position) = state.files.iter().position(|(p, _)| p == path) {
            let (_, size) = state.files.remove(position);
            state.n_bytes -= size;
        }
    }

    fn remove(&self, path: &Path) {
        if let Err(error) = fs::remove_file(path) {
            tracing::error!(%error, file = %path.display(), "cannot delete an inserted spool file");
        }
        self.forget(path);
    }

    fn set_aside(&self, path: &Path) {
        let _ = fs::rename(path, path.with_extension("damaged"));
        self.forget(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spool_files_survive_a_reopen_and_a_full_spool_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let rows = Rows {
            chunks: vec![1, 2, 3],
            spans: vec![4, 5],
            operation_minutes: vec![6],
            edge_minutes: vec![],
        };
        let spool = Spool::open(dir.path(), 200).unwrap();
        spool.append(&rows).unwrap();
        spool.append(&rows).unwrap();
        drop(spool);
        // Two files of 63 bytes each.
        let spool = Spool::open(dir.path(), 140).unwrap();
        assert_eq!(spool.n_files(), 2);
        let oldest = spool.oldest(1);
        assert_eq!(oldest.len(), 1);
        assert_eq!(spool.read(&oldest[0]).unwrap(), rows);
        assert!(matches!(
            spool.append(&rows),
            Err(StoreError::Unavailable(_))
        ));
        spool.remove(&oldest[0]);
        assert_eq!(spool.n_files(), 1);
        spool.append(&rows).unwrap();
    }

    /// A span row as spanviews before schema 3 wrote it, and the same row now.
    fn old_and_new_span_row() -> (Vec<u8>, Vec<u8>) {
        use super::super::rowbinary::RowWriter;
        let mut writer = RowWriter::default();
        writer.string("order-service");
        writer.string("GET /orders");
        writer.u64(1);
        writer.u64(2);
        writer.fixed(&[7; 16]);
        writer.u8(1);
        writer.strings(["http.status_code"].into_iter());
        writer.strings(["500"].into_iter());
        let old = writer.out.clone();
        writer.u8(0); // unspecified kind
        writer.u8(2); // status error, from IsError
        (old, writer.out)
    }

    #[test]
    fn a_spool_file_without_aggregate_rows_is_read() {
        // As spanviews before the service aggregates wrote them: chunks and spans only.
        let (old_span_row, new_span_row) = old_and_new_span_row();
        let dir = tempfile::tempdir().unwrap();
        let bytes = file_bytes(&[&[1, 2], &old_span_row]);
        fs::write(dir.path().join(format!("{:020}.batch", 0)), bytes).unwrap();
        let spool = Spool::open(dir.path(), 1 << 20).unwrap();
        let oldest = spool.oldest(1);
        assert_eq!(
            spool.read(&oldest[0]).unwrap(),
            Rows {
                chunks: vec![1, 2],
                spans: new_span_row,
                ..Rows::default()
            }
        );
    }

    #[test]
    fn old_span_rows_in_a_spool_file_gain_kind_and_status() {
        // As spanviews before schema 3 wrote them: four parts, span rows without the columns.
        let (old_span_row, new_span_row) = old_and_new_span_row();
        let dir = tempfile::tempdir().unwrap();
        let two_rows = [old_span_row.clone(), old_span_row].concat();
        let bytes = file_bytes(&[&[1], &two_rows, &[6], &[]]);
        fs::write(dir.path().join(format!("{:020}.batch", 0)), bytes).unwrap();
        let spool = Spool::open(dir.path(), 1 << 20).unwrap();
        let oldest = spool.oldest(1);
        assert_eq!(
            spool.read(&oldest[0]).unwrap(),
            Rows {
                chunks: vec![1],
                spans: [new_span_row.clone(), new_span_row].concat(),
                operation_minutes: vec![6],
                edge_minutes: vec![],
            }
        );
    }

    #[test]
    fn a_damaged_spool_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20).unwrap();
        spool
            .append(&Rows {
                chunks: vec![9; 10],
                ..Rows::default()
            })
            .unwrap();
        let path = spool.oldest(1).remove(0);
        let mut bytes = fs::read(&path).unwrap();
        bytes[12] ^= 1;
        fs::write(&path, bytes).unwrap();
        assert!(spool.read(&path).unwrap_err().contains("checksum"));
    }
}
