//! Trace search over the summary rows and the per-block postings.
//!
//! Two plans, chosen per query from how common its rarest term is in the newest blocks:
//!
//! - **By start time** (no term, or only common ones such as a service every trace passes
//!   through): walk `traces` newest first with the trace-level filters in SQL, and check each
//!   term in the postings of the blocks the trace was written in. Stops at `limit` matches.
//! - **By postings** (a rare term, say `user.id:6789`): walk blocks newest first, take the
//!   traces the rarest term's posting names, check the rest, keep the newest `limit`; stop once
//!   no older block can hold a newer trace than those kept (a block records the latest start of
//!   its traces, and starts only move earlier).
//!
//! A `key!=value` term has no term of its own: the key's term finds candidates, and the trace's
//! spans are read to check that some value differs (`passes_exact`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use rusqlite::Connection;
use spanview_core::TraceSummary;
use spanview_core::query::{MAX_LIMIT, TraceQuery};

use spanview_core::attribute_filter::{AttributeFilter, Condition};

use super::chunks::ChunkCodec;
use super::open_block::SharedOpenBlock;
use super::rows::{ServiceNames, TRACE_COLUMNS, TraceRow, trace_row_by_seq};
use super::schema::clamp;
use super::terms::{self, decode_ascending};
use crate::store::StoreError;

/// A term in more than this share of the newest blocks' traces is searched by start time.
const COMMON_TERM_SHARE: f64 = 0.2;
/// How many of the newest blocks estimate a term's share.
const SAMPLE_BLOCKS: i64 = 4;

pub fn search(
    connection: &Connection,
    names: &ServiceNames,
    open_block: &SharedOpenBlock,
    codec: &ChunkCodec,
    query: &TraceQuery,
) -> Result<Vec<TraceSummary>, StoreError> {
    let limit = query.limit.clamp(1, MAX_LIMIT);
    let wanted = query_terms(query);
    let mut postings = PostingCache {
        open_block,
        codec,
        lists: HashMap::new(),
    };
    let rows = if wanted.is_empty() {
        by_start(connection, query, limit, &[], &mut postings)?
    } else {
        let shares = wanted
            .iter()
            .map(|term| term_share(connection, open_block, *term))
            .collect::<Result<Vec<f64>, StoreError>>()?;
        let (rarest, share) = shares
            .iter()
            .copied()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("at least one term");
        if share > COMMON_TERM_SHARE {
            by_start(connection, query, limit, &wanted, &mut postings)?
        } else {
            let others: Vec<u64> = wanted
                .iter()
                .enumerate()
                .filter(|(idx, _)| *idx != rarest)
                .map(|(_, term)| *term)
                .collect();
            by_postings(
                connection,
                query,
                limit,
                wanted[rarest],
                &others,
                &mut postings,
            )?
        }
    };
    rows.iter()
        .map(|row| row.summary(names, connection))
        .collect()
}

/// One term per span-level filter; a trace matches when it has all of them (and, for `!=`,
/// passes [`passes_exact`]).
fn query_terms(query: &TraceQuery) -> Vec<u64> {
    let mut wanted = Vec::new();
    if query.kind.is_some() || query.status.is_some() {
        // One span of that service and operation with that kind and status.
        wanted.push(terms::shape(terms::Shape {
            service: query.service.as_deref(),
            name: query.operation.as_deref(),
            kind: query.kind,
            status: query.status,
        }));
    } else {
        match (&query.service, &query.operation) {
            (Some(service), Some(operation)) => wanted.push(terms::operation(service, operation)),
            (Some(service), None) => wanted.push(terms::service(service)),
            (None, Some(operation)) => wanted.push(terms::name(operation)),
            (None, None) => {}
        }
    }
    for filter in &query.attributes {
        wanted.push(match &filter.condition {
            Condition::Equals(value) => terms::attribute(&filter.key, value),
            Condition::NotEquals(_) | Condition::Exists => terms::attribute_key(&filter.key),
        });
    }
    wanted
}

/// The terms the postings cannot answer exactly (`key!=value`): checked on the trace's spans.
fn exact_filters(query: &TraceQuery) -> Vec<&AttributeFilter> {
    query
        .attributes
        .iter()
        .filter(|filter| matches!(filter.condition, Condition::NotEquals(_)))
        .collect()
}

/// Whether each of `filters` holds on some span of the trace (read from its chunks).
fn passes_exact(
    connection: &Connection,
    codec: &ChunkCodec,
    row: &TraceRow,
    filters: &[&AttributeFilter],
) -> Result<bool, StoreError> {
    if filters.is_empty() {
        return Ok(true);
    }
    let trace = super::read::assemble(connection, codec, row)?;
    let batch = &trace.batch;
    Ok(filters.iter().all(|filter| {
        batch
            .spans
            .iter()
            .any(|span| filter.matches_span(batch, span))
    }))
}

/// The trace-level filters: duration, start range, errors.
fn passes_trace_filters(row: &TraceRow, query: &TraceQuery) -> bool {
    let duration = row.end_ns.saturating_sub(row.start_ns);
    query.min_duration_nanos.is_none_or(|min| duration >= min)
        && query.max_duration_nanos.is_none_or(|max| duration <= max)
        && query
            .start_after_nanos
            .is_none_or(|after| row.start_ns >= after)
        && query
            .start_before_nanos
            .is_none_or(|before| row.start_ns <= before)
        && (!query.errors_only || row.n_errors > 0)
}

fn by_start(
    connection: &Connection,
    query: &TraceQuery,
    limit: usize,
    wanted: &[u64],
    postings: &mut PostingCache<'_>,
) -> Result<Vec<TraceRow>, StoreError> {
    let mut sql = format!("SELECT {TRACE_COLUMNS} FROM traces WHERE 1 = 1");
    let mut values: Vec<i64> = Vec::new();
    if let Some(min) = query.min_duration_nanos {
        sql.push_str(" AND end_ns - start_ns >= ?");
        values.push(clamp(min));
    }
    if let Some(max) = query.max_duration_nanos {
        sql.push_str(" AND end_ns - start_ns <= ?");
        values.push(clamp(max));
    }
    if let Some(after) = query.start_after_nanos {
        sql.push_str(" AND start_ns >= ?");
        values.push(clamp(after));
    }
    if let Some(before) = query.start_before_nanos {
        sql.push_str(" AND start_ns <= ?");
        values.push(clamp(before));
    }
    if query.errors_only {
        sql.push_str(" AND n_errors > 0");
    }
    sql.push_str(" ORDER BY start_ns DESC");
    if wanted.is_empty() {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let exact = exact_filters(query);
    let mut select = connection.prepare_cached(&sql)?;
    let mut rows = select.query(rusqlite::params_from_iter(values))?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let row = TraceRow::from_row(row)?;
        if has_all(connection, &row, wanted, postings)?
            && passes_exact(connection, postings.codec, &row, &exact)?
        {
            found.push(row);
            if found.len() == limit {
                break;
            }
        }
    }
    Ok(found)
}

fn by_postings(
    connection: &Connection,
    query: &TraceQuery,
    limit: usize,
    driver: u64,
    others: &[u64],
    postings: &mut PostingCache<'_>,
) -> Result<Vec<TraceRow>, StoreError> {
    let start_after = query.start_after_nanos.unwrap_or(0);
    let exact = exact_filters(query);
    let mut blocks = connection.prepare_cached(
        "SELECT block_id, max_start_ns FROM blocks WHERE max_start_ns >= ?1 ORDER BY max_start_ns DESC",
    )?;
    let mut blocks = blocks
        .query_map([clamp(start_after)], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)? as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    {
        let open = postings.open_block.read();
        if !open.is_empty()
            && open.max_start_ns >= start_after
            && !blocks.iter().any(|(id, _)| *id == open.block_id)
        {
            blocks.push((open.block_id, open.max_start_ns));
            blocks.sort_by_key(|block| Reverse(block.1));
        }
    }
    // The newest `limit` matches so far, oldest on top.
    let mut kept: BinaryHeap<Reverse<(u64, i64)>> = BinaryHeap::new();
    let mut rows: HashMap<i64, TraceRow> = HashMap::new();
    let mut seen: HashSet<u64> = HashSet::new();
    for (block_id, max_start) in blocks {
        if kept.len() == limit
            && kept
                .peek()
                .is_some_and(|Reverse((oldest, _))| max_start < *oldest)
        {
            break;
        }
        let candidates = postings.get(connection, block_id, driver)?.to_vec();
        for trace_seq in candidates {
            if !seen.insert(trace_seq) {
                continue;
            }
            let Some(row) = trace_row_by_seq(connection, trace_seq as i64)? else {
                continue; // deleted by retention; its postings go with its block
            };
            if !passes_trace_filters(&row, query)
                || !has_all(connection, &row, others, postings)?
                || !passes_exact(connection, postings.codec, &row, &exact)?
            {
                continue;
            }
            kept.push(Reverse((row.start_ns, row.trace_seq)));
            rows.insert(row.trace_seq, row);
            if kept.len() > limit
                && let Some(Reverse((_, dropped))) = kept.pop()
            {
                rows.remove(&dropped);
            }
        }
    }
    let mut newest_first: Vec<(u64, i64)> = kept.into_iter().map(|Reverse(entry)| entry).collect();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    Ok(newest_first
        .into_iter()
        .filter_map(|(_, trace_seq)| rows.remove(&trace_seq))
        .collect())
}

/// Whether the trace has every term: some block it was written in lists it for the term.
fn has_all(
    connection: &Connection,
    row: &TraceRow,
    wanted: &[u64],
    postings: &mut PostingCache<'_>,
) -> Result<bool, StoreError> {
    for term in wanted {
        let mut found = false;
        for block_id in &row.block_ids {
            if postings
                .get(connection, *block_id, *term)?
                .binary_search(&(row.trace_seq as u64))
                .is_ok()
            {
                found = true;
                break;
            }
        }
        if !found {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The share of the newest blocks' traces that have `term` (approximate: a trace written twice
/// in a block counts twice on both sides); the open block when no block is written yet.
fn term_share(
    connection: &Connection,
    open_block: &SharedOpenBlock,
    term: u64,
) -> Result<f64, StoreError> {
    let n_traces: i64 = connection
        .prepare_cached(
            "SELECT COALESCE(SUM(n_traces), 0) FROM
                 (SELECT n_traces FROM blocks ORDER BY block_id DESC LIMIT ?1)",
        )?
        .query_row([SAMPLE_BLOCKS], |row| row.get(0))?;
    if n_traces == 0 {
        let open = open_block.read();
        return Ok(open.list(term).len() as f64 / open.n_traces.max(1) as f64);
    }
    let mut select = connection.prepare_cached(
        "SELECT p.trace_seqs FROM (SELECT block_id FROM blocks ORDER BY block_id DESC LIMIT ?1) b
           JOIN postings p ON p.block_id = b.block_id AND p.term = ?2",
    )?;
    let mut with_term = 0usize;
    let mut rows = select.query(rusqlite::params![SAMPLE_BLOCKS, term as i64])?;
    while let Some(row) = rows.next()? {
        with_term += decode_ascending(&row.get::<_, Vec<u8>>(0)?).len();
    }
    Ok(with_term as f64 / n_traces as f64)
}

/// Posting lists read during one search, by (block, term), ascending; the open block's
/// come from memory.
struct PostingCache<'a> {
    open_block: &'a SharedOpenBlock,
    /// For reading the spans of a candidate ([`passes_exact`]).
    codec: &'a ChunkCodec,
    lists: HashMap<(i64, u64), Vec<u64>>,
}

impl PostingCache<'_> {
    fn get(
        &mut self,
        connection: &Connection,
        block_id: i64,
        term: u64,
    ) -> Result<&[u64], StoreError> {
        if !self.lists.contains_key(&(block_id, term)) {
            {
                let open = self.open_block.read();
                if open.block_id == block_id {
                    self.lists.insert((block_id, term), open.list(term));
                    return Ok(&self.lists[&(block_id, term)]);
                }
            }
            let mut select = connection.prepare_cached(
                "SELECT trace_seqs FROM postings WHERE block_id = ?1 AND term = ?2",
            )?;
            let mut merged: Vec<u64> = Vec::new();
            let mut rows = select.query(rusqlite::params![block_id, term as i64])?;
            while let Some(row) = rows.next()? {
                merged.extend(decode_ascending(&row.get::<_, Vec<u8>>(0)?));
            }
            merged.sort_unstable();
            merged.dedup();
            self.lists.insert((block_id, term), merged);
        }
        Ok(&self.lists[&(block_id, term)])
    }
}
