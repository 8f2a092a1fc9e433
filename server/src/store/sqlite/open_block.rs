//! The open block: the postings of the newest writes, kept in memory until the block holds
//! [`BLOCK_SPANS`] spans and is written whole, in one row per term.
//!
//! Writing postings with every request would cost a row per distinct term per request (most
//! attribute values are rare, so most rows would name one trace); postings are derived data,
//! so they can wait. Chunks are the durable record: each chunk row carries its block id, and a
//! block left open by a crash or a restart is rebuilt from its chunks when the store opens.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rusqlite::{Connection, params};
use rustc_hash::FxHashMap;

use super::schema::clamp;
use super::terms::encode_ascending;
use crate::store::StoreError;

/// A block is written once it holds this many spans; searches read one posting per block.
pub const BLOCK_SPANS: u64 = 20_000;

#[derive(Debug, Clone, PartialEq)]
pub struct OpenBlock {
    pub block_id: i64,
    pub min_start_ns: u64,
    pub max_start_ns: u64,
    pub n_spans: u64,
    /// Traces written in the block, counted once per write.
    pub n_traces: u64,
    /// Trace seqs by term, in the order they were added (not necessarily ascending).
    postings: FxHashMap<u64, Vec<u64>>,
}

impl OpenBlock {
    pub fn new(block_id: i64) -> Self {
        Self {
            block_id,
            min_start_ns: u64::MAX,
            max_start_ns: 0,
            n_spans: 0,
            n_traces: 0,
            postings: FxHashMap::default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.n_spans == 0
    }

    pub fn add_postings(&mut self, postings: impl IntoIterator<Item = (u64, u64)>) {
        for (term, trace_seq) in postings {
            self.postings.entry(term).or_default().push(trace_seq);
        }
    }

    pub fn add_counts(
        &mut self,
        n_spans: u64,
        n_traces: u64,
        min_start_ns: u64,
        max_start_ns: u64,
    ) {
        self.n_spans += n_spans;
        self.n_traces += n_traces;
        self.min_start_ns = self.min_start_ns.min(min_start_ns);
        self.max_start_ns = self.max_start_ns.max(max_start_ns);
    }

    /// The traces with `term`, ascending and distinct.
    pub fn list(&self, term: u64) -> Vec<u64> {
        let mut list = self.postings.get(&term).cloned().unwrap_or_default();
        list.sort_unstable();
        list.dedup();
        list
    }

    /// Writes the block and its postings; it is closed from then on.
    pub fn write(&self, connection: &Connection, last_chunk_id: i64) -> Result<(), StoreError> {
        connection
            .prepare_cached(
                "INSERT OR REPLACE INTO blocks
                     (block_id, min_start_ns, max_start_ns, n_spans, n_traces, last_chunk_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                self.block_id,
                clamp(self.min_start_ns.min(self.max_start_ns)),
                clamp(self.max_start_ns),
                self.n_spans as i64,
                self.n_traces as i64,
                last_chunk_id,
            ])?;
        let mut insert = connection.prepare_cached(
            "INSERT OR REPLACE INTO postings (block_id, term, trace_seqs) VALUES (?1, ?2, ?3)",
        )?;
        for term in self.postings.keys() {
            insert.execute(params![
                self.block_id,
                *term as i64,
                encode_ascending(&self.list(*term))
            ])?;
        }
        Ok(())
    }
}

/// The open block as the writer and the readers share it.
#[derive(Clone)]
pub struct SharedOpenBlock(Arc<RwLock<OpenBlock>>);

impl SharedOpenBlock {
    pub fn new(block: OpenBlock) -> Self {
        Self(Arc::new(RwLock::new(block)))
    }

    pub fn read(&self) -> RwLockReadGuard<'_, OpenBlock> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, OpenBlock> {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
