//! The tables of the embedded store and the version that guards them.
//!
//! Chosen so that writing appends and reading touches one trace:
//!
//! - `traces`: one row per trace, keyed by `trace_seq`, a number given in arrival order, with the
//!   summary the trace list shows and the ids of the trace's chunks and blocks. The unique index
//!   on `trace_id` is the only structure written in random order.
//! - `chunks`: the spans one write added to one trace, in core's compact encoding, compressed
//!   with zstd (with a dictionary trained on this store's own spans once there are enough), and
//!   a fingerprint per span to recognise spans sent again (exporter retries).
//! - `blocks` and `postings`: consecutive writes are grouped into blocks of about
//!   [`super::open_block::BLOCK_SPANS`] spans; a posting lists, for one block and one search
//!   term (a service, an operation, an attribute key=value), the traces that gained a span with
//!   that term in that block. A block is written whole when it is full (until then its postings
//!   are in memory, see [`super::open_block`]), so postings are appended, and a search walks
//!   blocks newest first.
//! - `services`, `operations`: the names the search form offers.
//! - `operation_minutes`, `edge_minutes` (version 3): the service aggregates, in
//!   [`super::aggregates`]; a version 2 store gains them, rebuilt from its chunks, when opened.
//!
//! Version 4 has the same tables with more search terms in `postings` (attribute keys, event
//! attributes, span kinds and statuses: [`super::terms`]); a version 2 or 3 store has its
//! written blocks' postings rebuilt from its chunks when opened for writing (read-only, it is
//! searched with the terms it has).

use std::path::Path;

use rusqlite::Connection;

use crate::store::StoreError;

/// Bumped on any incompatible change; a store of another version is refused, not guessed at.
pub const SCHEMA_VERSION: i64 = 4;

/// A connection to the store's file as every reader and the writer use it: WAL, and
/// `synchronous=FULL` so that a commit is on disk before it is acknowledged.
pub fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(connection)
}

/// A u64 time or count as SQLite's i64, saturating at `i64::MAX` (a cast would wrap times at
/// or past 2^63 ns, year 2262, to negative numbers that sort before every real time).
pub fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS services (
    service_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS operations (
    service_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (service_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS traces (
    trace_seq INTEGER PRIMARY KEY,
    trace_id BLOB NOT NULL UNIQUE,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    n_spans INTEGER NOT NULL,
    n_errors INTEGER NOT NULL,
    root_service_id INTEGER,
    root_name TEXT,
    root_start_ns INTEGER,
    root_is_true INTEGER,
    -- Varint lists: the service ids of the trace, its chunk ids, its block ids (ascending).
    service_ids BLOB NOT NULL,
    chunk_ids BLOB NOT NULL,
    block_ids BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_ns);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY,
    trace_seq INTEGER NOT NULL,
    block_id INTEGER NOT NULL,
    dictionary_id INTEGER NOT NULL,
    raw_len INTEGER NOT NULL,
    -- 8 bytes per span, little-endian xxh3 of its canonical bytes.
    fingerprints BLOB NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (
    block_id INTEGER PRIMARY KEY,
    -- Earliest and latest start of the traces touched in the block, as known when written;
    -- a trace's start only moves earlier later, so max_start_ns stays an upper bound.
    min_start_ns INTEGER NOT NULL,
    max_start_ns INTEGER NOT NULL,
    n_spans INTEGER NOT NULL,
    -- Traces written in the block, counted once per write (for estimating how common a term is).
    n_traces INTEGER NOT NULL,
    -- Chunks up to this id belong to written blocks; later ones to the open block.
    last_chunk_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS blocks_by_max_start ON blocks (max_start_ns);
CREATE TABLE IF NOT EXISTS postings (
    block_id INTEGER NOT NULL,
    term INTEGER NOT NULL,
    -- Ascending trace_seqs as varint deltas.
    trace_seqs BLOB NOT NULL,
    PRIMARY KEY (block_id, term)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dictionaries (
    dictionary_id INTEGER PRIMARY KEY,
    body BLOB NOT NULL
);
";
