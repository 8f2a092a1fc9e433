//! The one thread that writes: it takes prepared writes from a queue and commits all that are
//! waiting in one transaction (group commit), so the cost of a durable commit is shared by
//! every request that arrived while the previous one was being made durable.
//!
//! Invariant: a write's caller is answered only after the transaction holding it committed
//! with `synchronous=FULL`; in-memory state (sequence numbers, caches, the open block) changes
//! only after a commit succeeded.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use rustc_hash::{FxHashMap, FxHashSet as HashSet};
use spanview_core::formats::compact;
use spanview_core::summary::RootSpanInfo;
use spanview_core::{TraceId, TraceSummary};

use super::chunks::{ChunkCodec, DictionaryTrainer};
use super::health::{WriteHealth, classify, unavailability};
use super::open_block::{BLOCK_SPANS, OpenBlock, SharedOpenBlock};
use spanview_core::service_metrics::Aggregates;

use super::prepare::{PreparedTrace, PreparedWrite, prepare_trace, terms_of};
use super::rows::{RootRow, ServiceNames, TraceRow, trace_row_by_id, trace_row_by_seq};
use crate::store::{StoreError, WriteOutcome};

/// At most this many queued writes go into one transaction...
const MAX_JOBS_PER_COMMIT: usize = 64;
/// ...and at most about this many spans.
const MAX_SPANS_PER_COMMIT: usize = 50_000;
/// Writes waiting for the writer; callers block (in their own threads) beyond it.
const QUEUE_LEN: usize = 256;

struct Job {
    write: PreparedWrite,
    reply: SyncSender<Result<WriteOutcome, StoreError>>,
}

pub struct Writer {
    jobs: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer; first writes the block a previous run left open, if any.
    pub fn start(
        connection: Connection,
        codec: Arc<ChunkCodec>,
        names: Arc<ServiceNames>,
        health: Arc<WriteHealth>,
    ) -> Result<(Self, SharedOpenBlock), StoreError> {
        let state = WriterState::load(connection, codec, names, health)?;
        let open_block = state.open_block.clone();
        let (jobs, queue) = sync_channel(QUEUE_LEN);
        let thread = std::thread::Builder::new()
            .name("spanview-store-writer".into())
            .spawn(move || state.run(&queue))
            .map_err(|source| StoreError::Open {
                path: "the store's writer thread".into(),
                source,
            })?;
        let writer = Self {
            jobs: Some(jobs),
            thread: Some(thread),
        };
        Ok((writer, open_block))
    }

    /// Commits the prepared traces durably; blocks until then.
    pub fn write(&self, write: PreparedWrite) -> Result<WriteOutcome, StoreError> {
        let (reply, answer) = sync_channel(1);
        self.jobs
            .as_ref()
            .ok_or(StoreError::WriterStopped)?
            .send(Job { write, reply })
            .map_err(|_| StoreError::WriterStopped)?;
        answer.recv().map_err(|_| StoreError::WriterStopped)?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue ends the thread after the writes already queued.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct WriterState {
    connection: Connection,
    codec: Arc<ChunkCodec>,
    names: Arc<ServiceNames>,
    /// `None` once the store has a dictionary.
    trainer: Option<DictionaryTrainer>,
    store_path: PathBuf,
    next_trace_seq: i64,
    service_ids: HashMap<String, i64>,
    next_service_id: i64,
    operations: HashMap<i64, HashSet<String>>,
    open_block: SharedOpenBlock,
    health: Arc<WriteHealth>,
}

/// A trace as this transaction leaves it.
struct TouchedTrace {
    row: TraceRow,
    summary: TraceSummary,
    /// Fingerprints of its spans, loaded from the store only when a second chunk arrives.
    fingerprints: Option<HashSet<u64>>,
}

/// What one transaction changes, applied to the writer's state once it committed.
#[derive(Default)]
struct Pending {
    next_trace_seq: i64,
    new_services: Vec<(String, i64)>,
    new_operations: Vec<(i64, String)>,
    postings: Vec<(u64, u64)>,
    n_spans: u64,
    n_traces: u64,
    min_start_ns: u64,
    max_start_ns: u64,
    /// The open block was full and has been written in this transaction.
    closed_block: bool,
    raw_samples: Vec<Vec<u8>>,
}

impl WriterState {
    fn load(
        connection: Connection,
        codec: Arc<ChunkCodec>,
        names: Arc<ServiceNames>,
        health: Arc<WriteHealth>,
    ) -> Result<Self, StoreError> {
        let max_seq: Option<i64> =
            connection.query_row("SELECT MAX(trace_seq) FROM traces", [], |row| row.get(0))?;
        let mut service_ids = HashMap::new();
        {
            let mut select = connection.prepare("SELECT service_id, name FROM services")?;
            let mut rows = select.query([])?;
            while let Some(row) = rows.next()? {
                let (id, name): (i64, String) = (row.get(0)?, row.get(1)?);
                names.remember(id, &name);
                service_ids.insert(name, id);
            }
        }
        let mut operations: HashMap<i64, HashSet<String>> = HashMap::new();
        {
            let mut select = connection.prepare("SELECT service_id, name FROM operations")?;
            let mut rows = select.query([])?;
            while let Some(row) = rows.next()? {
                operations
                    .entry(row.get(0)?)
                    .or_default()
                    .insert(row.get(1)?);
            }
        }
        let next_service_id = service_ids.values().max().map_or(1, |max| max + 1);
        let store_path = connection.path().map(PathBuf::from).unwrap_or_default();
        let open_block = close_left_open_block(&connection, &codec)?;
        Ok(Self {
            trainer: (!codec.has_dictionary()).then(DictionaryTrainer::default),
            connection,
            codec,
            names,
            store_path,
            next_trace_seq: max_seq.map_or(1, |max| max + 1),
            service_ids,
            next_service_id,
            operations,
            open_block: SharedOpenBlock::new(open_block),
            health,
        })
    }

    fn run(mut self, queue: &Receiver<Job>) {
        while let Ok(first) = queue.recv() {
            let mut jobs = vec![first];
            let mut n_spans: usize = jobs[0].write.n_spans();
            while jobs.len() < MAX_JOBS_PER_COMMIT && n_spans < MAX_SPANS_PER_COMMIT {
                match queue.try_recv() {
                    Ok(job) => {
                        n_spans += job.write.n_spans();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            let (inputs, replies): (Vec<_>, Vec<_>) =
                jobs.into_iter().map(|job| (job.write, job.reply)).unzip();
            let started = std::time::Instant::now();
            let n_jobs = inputs.len();
            let result = self.commit(inputs);
            tracing::trace!(
                n_jobs,
                n_spans,
                micros = started.elapsed().as_micros() as u64,
                "group commit"
            );
            match result {
                Ok(outcomes) => {
                    self.health.succeeded();
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(Ok(outcome));
                    }
                }
                Err(error) => {
                    // A full disk fails every write until space returns: logged once by
                    // `health`, answered as retryable.
                    let reason = unavailability(&error);
                    let error = classify(error);
                    match reason {
                        Some(reason) => self.health.failed(reason, &error),
                        None => {
                            tracing::error!(%error, "store write failed; nothing of it was kept");
                        }
                    }
                    let message = error.to_string();
                    for reply in replies {
                        let error = match &error {
                            StoreError::Unavailable(reason) => {
                                StoreError::Unavailable(reason.clone())
                            }
                            _ => StoreError::Write(message.clone()),
                        };
                        let _ = reply.send(Err(error));
                    }
                }
            }
        }
    }

    /// One transaction for all `jobs`; one outcome per job.
    fn commit(&mut self, jobs: Vec<PreparedWrite>) -> Result<Vec<WriteOutcome>, StoreError> {
        let transaction =
            Transaction::new_unchecked(&self.connection, TransactionBehavior::Immediate)?;
        let block_id = self.open_block.read().block_id;
        let mut pending = Pending {
            next_trace_seq: self.next_trace_seq,
            min_start_ns: u64::MAX,
            ..Pending::default()
        };
        let mut touched: Vec<TouchedTrace> = Vec::new();
        let mut touched_index: FxHashMap<TraceId, usize> = FxHashMap::default();
        let mut touched_by_job: Vec<(u64, Vec<usize>)> = Vec::with_capacity(jobs.len());
        let mut scratch = Vec::new();
        let mut aggregates = Aggregates::default();
        let mut insert_chunk = transaction.prepare_cached(
            "INSERT INTO chunks (trace_seq, block_id, dictionary_id, raw_len, fingerprints, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;

        for write in jobs {
            for (service, name) in &write.operations {
                self.note_operation(&transaction, service, name, &mut pending)?;
            }
            let mut n_spans_added = 0u64;
            let mut job_traces: Vec<usize> = Vec::new();
            for prepared in write.traces {
                let position = match touched_index.get(&prepared.trace_id) {
                    Some(position) => *position,
                    None => {
                        let trace = self.touch(&transaction, &prepared, &mut pending)?;
                        touched.push(trace);
                        touched_index.insert(prepared.trace_id, touched.len() - 1);
                        touched.len() - 1
                    }
                };
                let trace = &mut touched[position];
                let Some(prepared) =
                    self.without_stored_spans(&transaction, trace, prepared, &mut scratch)?
                else {
                    continue;
                };
                let fingerprints: Vec<u8> = prepared
                    .fingerprints
                    .iter()
                    .flat_map(|fingerprint| fingerprint.to_le_bytes())
                    .collect();
                insert_chunk.execute(params![
                    trace.row.trace_seq,
                    block_id,
                    prepared.chunk.dictionary_id,
                    prepared.chunk.raw_len as i64,
                    fingerprints,
                    prepared.chunk.body,
                ])?;
                trace.row.chunk_ids.push(transaction.last_insert_rowid());
                if trace.row.block_ids.last() != Some(&block_id) {
                    trace.row.block_ids.push(block_id);
                }
                if let Some(fingerprints) = &mut trace.fingerprints {
                    fingerprints.extend(prepared.fingerprints.iter().copied());
                }
                if trace.row.chunk_ids.len() > 1 {
                    trace.summary.merge(prepared.summary.clone());
                }
                let trace_seq = trace.row.trace_seq as u64;
                pending
                    .postings
                    .extend(prepared.terms.iter().map(|term| (*term, trace_seq)));
                n_spans_added += prepared.fingerprints.len() as u64;
                aggregates.merge(prepared.aggregates);
                if self.trainer.is_some() {
                    pending.raw_samples.push(prepared.raw);
                }
                job_traces.push(position);
            }
            pending.n_spans += n_spans_added;
            touched_by_job.push((n_spans_added, job_traces));
        }
        drop(insert_chunk);
        super::aggregates::add(&transaction, &aggregates)?;

        pending.n_traces = touched.len() as u64;
        for trace in &mut touched {
            self.fill_row_from_summary(&transaction, trace, &mut pending)?;
            trace.row.upsert(&transaction)?;
            pending.min_start_ns = pending.min_start_ns.min(trace.row.start_ns);
            pending.max_start_ns = pending.max_start_ns.max(trace.row.start_ns);
        }
        let full = {
            let open = self.open_block.read();
            open.n_spans + pending.n_spans >= BLOCK_SPANS
        };
        if full {
            let mut closing = self.open_block.read().clone();
            closing.add_postings(pending.postings.iter().copied());
            closing.add_counts(
                pending.n_spans,
                pending.n_traces,
                pending.min_start_ns,
                pending.max_start_ns,
            );
            closing.write(&transaction, last_chunk_id(&transaction)?)?;
            pending.closed_block = true;
        }
        transaction.commit()?;

        let outcomes = touched_by_job
            .into_iter()
            .map(|(n_spans_added, positions)| {
                let mut seen = HashSet::default();
                WriteOutcome {
                    n_spans_added,
                    updated_traces: positions
                        .into_iter()
                        .filter(|position| seen.insert(*position))
                        .map(|position| touched[position].summary.clone())
                        .collect(),
                }
            })
            .collect();
        self.apply(pending);
        Ok(outcomes)
    }

    /// The trace as stored, or a new one with the next sequence number.
    fn touch(
        &self,
        connection: &Connection,
        prepared: &PreparedTrace,
        pending: &mut Pending,
    ) -> Result<TouchedTrace, StoreError> {
        Ok(match trace_row_by_id(connection, prepared.trace_id)? {
            Some(row) => TouchedTrace {
                summary: row.summary(&self.names, connection)?,
                row,
                fingerprints: None,
            },
            None => {
                let trace_seq = pending.next_trace_seq;
                pending.next_trace_seq += 1;
                TouchedTrace {
                    row: empty_row(trace_seq, prepared.trace_id),
                    summary: prepared.summary.clone(),
                    fingerprints: Some(HashSet::default()),
                }
            }
        })
    }

    /// Drops the spans of `prepared` that the trace already has (an exporter sending a batch
    /// again), re-preparing the chunk when some were dropped; `None` when none is new.
    fn without_stored_spans(
        &self,
        connection: &Connection,
        trace: &mut TouchedTrace,
        prepared: PreparedTrace,
        scratch: &mut Vec<u8>,
    ) -> Result<Option<PreparedTrace>, StoreError> {
        if trace.row.chunk_ids.is_empty() {
            return Ok(Some(prepared));
        }
        let fingerprints = match &mut trace.fingerprints {
            Some(fingerprints) => fingerprints,
            None => trace
                .fingerprints
                .insert(stored_fingerprints(connection, &trace.row.chunk_ids)?),
        };
        if !prepared
            .fingerprints
            .iter()
            .any(|fp| fingerprints.contains(fp))
        {
            return Ok(Some(prepared));
        }
        let batch = compact::decode(&prepared.raw).map_err(StoreError::Chunk)?;
        let all: Vec<usize> = (0..batch.spans.len()).collect();
        prepare_trace(&batch, &all, fingerprints, &self.codec, scratch)
    }

    fn note_operation(
        &self,
        connection: &Connection,
        service: &str,
        name: &str,
        pending: &mut Pending,
    ) -> Result<(), StoreError> {
        let service_id = self.service_id(connection, service, pending)?;
        let known = self
            .operations
            .get(&service_id)
            .is_some_and(|names| names.contains(name))
            || pending
                .new_operations
                .iter()
                .any(|(id, known)| *id == service_id && known == name);
        if !known {
            connection
                .prepare_cached(
                    "INSERT OR IGNORE INTO operations (service_id, name) VALUES (?1, ?2)",
                )?
                .execute(params![service_id, name])?;
            pending.new_operations.push((service_id, name.to_owned()));
        }
        Ok(())
    }

    fn service_id(
        &self,
        connection: &Connection,
        service: &str,
        pending: &mut Pending,
    ) -> Result<i64, StoreError> {
        if let Some(id) = self.service_ids.get(service) {
            return Ok(*id);
        }
        if let Some((_, id)) = pending
            .new_services
            .iter()
            .find(|(name, _)| name == service)
        {
            return Ok(*id);
        }
        let id = self.next_service_id + pending.new_services.len() as i64;
        connection
            .prepare_cached("INSERT INTO services (service_id, name) VALUES (?1, ?2)")?
            .execute(params![id, service])?;
        pending.new_services.push((service.to_owned(), id));
        Ok(id)
    }

    /// Copies the merged summary into the row's columns.
    fn fill_row_from_summary(
        &self,
        connection: &Connection,
        trace: &mut TouchedTrace,
        pending: &mut Pending,
    ) -> Result<(), StoreError> {
        let summary = &trace.summary;
        trace.row.start_ns = summary.start_nanos;
        trace.row.end_ns = summary.end_nanos;
        trace.row.n_spans = summary.n_spans;
        trace.row.n_errors = summary.n_errors;
        trace.row.root = match &summary.root {
            Some(RootSpanInfo {
                service,
                name,
                start_nanos,
                is_true_root,
            }) => Some(RootRow {
                service_id: self.service_id(connection, service, pending)?,
                name: name.clone(),
                start_ns: *start_nanos,
                is_true_root: *is_true_root,
            }),
            None => None,
        };
        trace.row.service_ids = summary
            .services
            .iter()
            .map(|service| self.service_id(connection, service, pending))
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    fn apply(&mut self, pending: Pending) {
        self.next_trace_seq = pending.next_trace_seq;
        for (name, id) in pending.new_services {
            self.names.remember(id, &name);
            self.service_ids.insert(name, id);
            self.next_service_id = self.next_service_id.max(id + 1);
        }
        for (service_id, name) in pending.new_operations {
            self.operations.entry(service_id).or_default().insert(name);
        }
        {
            let mut open = self.open_block.write();
            if pending.closed_block {
                *open = OpenBlock::new(open.block_id + 1);
            } else if pending.n_spans > 0 {
                open.add_postings(pending.postings);
                open.add_counts(
                    pending.n_spans,
                    pending.n_traces,
                    pending.min_start_ns,
                    pending.max_start_ns,
                );
            }
        }
        if self.codec.has_dictionary() {
            self.trainer = None;
        }
        if let Some(trainer) = &mut self.trainer {
            for sample in pending.raw_samples {
                trainer.add(sample, &self.codec, &self.store_path);
            }
        }
    }
}

fn empty_row(trace_seq: i64, trace_id: TraceId) -> TraceRow {
    TraceRow {
        trace_seq,
        trace_id,
        start_ns: 0,
        end_ns: 0,
        n_spans: 0,
        n_errors: 0,
        root: None,
        service_ids: Vec::new(),
        chunk_ids: Vec::new(),
        block_ids: Vec::new(),
    }
}

fn last_chunk_id(connection: &Connection) -> Result<i64, StoreError> {
    Ok(
        connection.query_row("SELECT COALESCE(MAX(chunk_id), 0) FROM chunks", [], |row| {
            row.get(0)
        })?,
    )
}

fn stored_fingerprints(
    connection: &Connection,
    chunk_ids: &[i64],
) -> Result<HashSet<u64>, StoreError> {
    let mut select =
        connection.prepare_cached("SELECT fingerprints FROM chunks WHERE chunk_id = ?1")?;
    let mut fingerprints = HashSet::default();
    for chunk_id in chunk_ids {
        let bytes: Option<Vec<u8>> = select.query_row([chunk_id], |row| row.get(0)).optional()?;
        for word in bytes.unwrap_or_default().chunks_exact(8) {
            fingerprints.insert(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
    }
    Ok(fingerprints)
}

/// Writes the block a previous run left open (its postings were only in memory) from its
/// chunks, and returns the id the next block gets.
/// The open block to start with: a fresh one after writing out the block the last run left
/// open, or, when there is no room to write it (a full disk), that block itself, kept open in
/// memory and written when it fills like any other.
fn close_left_open_block(
    connection: &Connection,
    codec: &ChunkCodec,
) -> Result<OpenBlock, StoreError> {
    let (left_open, next_block_id) = left_open_block(connection, codec)?;
    let Some((block, last_chunk)) = left_open else {
        return Ok(OpenBlock::new(next_block_id));
    };
    let written = Transaction::new_unchecked(connection, TransactionBehavior::Immediate)
        .map_err(StoreError::from)
        .and_then(|transaction| {
            block.write(&transaction, last_chunk)?;
            transaction.commit().map_err(StoreError::from)
        });
    match written {
        Ok(()) => {
            tracing::info!(
                block = block.block_id,
                spans = block.n_spans,
                "indexed the writes of the last run's open block"
            );
            Ok(OpenBlock::new(next_block_id.max(block.block_id + 1)))
        }
        Err(error) if super::health::unavailability(&error).is_some() => {
            tracing::warn!(%error, block = block.block_id, "no room to index the last run's open block: it stays open");
            Ok(block)
        }
        Err(error) => Err(error),
    }
}

/// The block a previous run left open (rebuilt from its chunks, with its last chunk id), if
/// any, and the next block id; reads only, so a read-only store can search that block too.
pub fn left_open_block(
    connection: &Connection,
    codec: &ChunkCodec,
) -> Result<(Option<(OpenBlock, i64)>, i64), StoreError> {
    let (last_written_block, last_written_chunk): (i64, i64) = connection.query_row(
        "SELECT COALESCE(MAX(block_id), 0), COALESCE(MAX(last_chunk_id), 0) FROM blocks",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let mut select = connection.prepare(
        "SELECT chunk_id, trace_seq, block_id, dictionary_id, raw_len, body FROM chunks
          WHERE chunk_id > ?1 ORDER BY chunk_id",
    )?;
    let mut rows = select.query([last_written_chunk])?;
    let mut left_open: Option<OpenBlock> = None;
    let mut last_chunk = last_written_chunk;
    let mut traces_seen: HashSet<i64> = HashSet::default();
    while let Some(row) = rows.next()? {
        let (chunk_id, trace_seq, block_id): (i64, i64, i64) =
            (row.get(0)?, row.get(1)?, row.get(2)?);
        let raw = codec.decompress(
            row.get(3)?,
            row.get::<_, i64>(4)? as usize,
            &row.get::<_, Vec<u8>>(5)?,
        )?;
        let batch = compact::decode(&raw).map_err(StoreError::Chunk)?;
        let all: Vec<usize> = (0..batch.spans.len()).collect();
        let terms = terms_of(&batch, &all);
        let block = left_open.get_or_insert_with(|| OpenBlock::new(block_id));
        block.add_postings(terms.into_iter().map(|term| (term, trace_seq as u64)));
        let start = trace_row_by_seq(connection, trace_seq)?.map_or(0, |trace| trace.start_ns);
        block.add_counts(
            batch.spans.len() as u64,
            u64::from(traces_seen.insert(trace_seq)),
            start,
            start,
        );
        last_chunk = chunk_id;
    }
    Ok((
        left_open.map(|block| (block, last_chunk)),
        last_written_block + 1,
    ))
}
