//! Rewriting a written block's postings without the traces that retention deleted.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{Connection, params};

use super::terms::{decode_ascending, encode_ascending};
use crate::store::StoreError;

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
