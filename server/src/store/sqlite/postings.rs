//! Rewriting a written block's postings: without the traces that retention deleted, or anew
//! from the block's chunks when the terms change (schema version 4).

use std::collections::{BTreeMap, HashSet};

use rusqlite::{Connection, params};
use rustc_hash::FxHashMap;
use spanview_core::formats::compact;

use super::chunks::ChunkCodec;
use super::prepare::terms_of;
use super::terms::{decode_ascending, encode_ascending};
use crate::store::StoreError;

/// Replaces the postings of every written block with the terms of its chunks as this
/// spanview computes them (the open block's are rebuilt from its chunks at every start);
/// returns how many chunks were read. Chunks are read in id order, in which their block ids
/// never decrease, so one block's lists are in memory at a time.
pub fn rebuild_written(connection: &Connection, codec: &ChunkCodec) -> Result<u64, StoreError> {
    let last_written_chunk: i64 = connection.query_row(
        "SELECT COALESCE(MAX(last_chunk_id), 0) FROM blocks",
        [],
        |row| row.get(0),
    )?;
    connection.execute(
        "DELETE FROM postings WHERE block_id IN (SELECT block_id FROM blocks)",
        [],
    )?;
    let mut select = connection.prepare(
        "SELECT trace_seq, block_id, dictionary_id, raw_len, body FROM chunks
          WHERE chunk_id <= ?1 ORDER BY chunk_id",
    )?;
    let mut rows = select.query([last_written_chunk])?;
    let mut n_chunks = 0u64;
    let mut block: Option<i64> = None;
    let mut lists: FxHashMap<u64, Vec<u64>> = FxHashMap::default();
    while let Some(row) = rows.next()? {
        let (trace_seq, block_id): (i64, i64) = (row.get(0)?, row.get(1)?);
        if block != Some(block_id) {
            if let Some(done) = block {
                add_lists(connection, done, std::mem::take(&mut lists))?;
            }
            block = Some(block_id);
        }
        let raw = codec.decompress(
            row.get(2)?,
            usize::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
            &row.get::<_, Vec<u8>>(4)?,
        )?;
        let batch = compact::decode(&raw).map_err(StoreError::Chunk)?;
        let all: Vec<usize> = (0..batch.spans.len()).collect();
        for term in terms_of(&batch, &all) {
            lists.entry(term).or_default().push(trace_seq as u64);
        }
        n_chunks += 1;
    }
    if let Some(done) = block {
        add_lists(connection, done, lists)?;
    }
    Ok(n_chunks)
}

/// Adds trace_seqs to the block's postings, merged with any already there.
fn add_lists(
    connection: &Connection,
    block_id: i64,
    lists: FxHashMap<u64, Vec<u64>>,
) -> Result<(), StoreError> {
    let mut select = connection
        .prepare_cached("SELECT trace_seqs FROM postings WHERE block_id = ?1 AND term = ?2")?;
    let mut upsert = connection.prepare_cached(
        "INSERT OR REPLACE INTO postings (block_id, term, trace_seqs) VALUES (?1, ?2, ?3)",
    )?;
    for (term, mut seqs) in lists {
        let term = term as i64;
        let mut rows = select.query(params![block_id, term])?;
        while let Some(row) = rows.next()? {
            seqs.extend(decode_ascending(&row.get::<_, Vec<u8>>(0)?));
        }
        seqs.sort_unstable();
        seqs.dedup();
        upsert.execute(params![block_id, term, encode_ascending(&seqs)])?;
    }
    Ok(())
}

/// Rewrites the block's postings without `deleted` trace_seqs.
pub fn remove_deleted(
    connection: &Connection,
    block_id: i64,
    deleted: &HashSet<u64>,
) -> Result<(), StoreError> {
    let mut merged: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    {
        let mut select = connection
            .prepare_cached("SELECT term, trace_seqs FROM postings WHERE block_id = ?1")?;
        let mut rows = select.query([block_id])?;
        while let Some(row) = rows.next()? {
            let seqs = decode_ascending(&row.get::<_, Vec<u8>>(1)?);
            merged
                .entry(row.get(0)?)
                .or_default()
                .extend(seqs.into_iter().filter(|seq| !deleted.contains(seq)));
        }
    }
    connection
        .prepare_cached("DELETE FROM postings WHERE block_id = ?1")?
        .execute([block_id])?;
    let mut insert = connection
        .prepare_cached("INSERT INTO postings (block_id, term, trace_seqs) VALUES (?1, ?2, ?3)")?;
    for (term, mut seqs) in merged {
        seqs.sort_unstable();
        seqs.dedup();
        if !seqs.is_empty() {
            insert.execute(params![block_id, term, encode_ascending(&seqs)])?;
        }
    }
    Ok(())
}
