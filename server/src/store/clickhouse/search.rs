//! Trace search in two statements:
//!
//! 1. Which traces: the trace-level filters (start range, duration, errors) over the chunks'
//!    time ranges grouped by trace id, restricted by one `IN` subquery per span-level filter on
//!    `spans` (service and operation are the primary key's prefix; kind and status hold on the
//!    same span as them) and one per attribute term on `attribute_index` (each on a span of its
//!    own), newest start first. The subqueries name the shard-local table: a trace lives on one
//!    shard, so each shard answers for its own traces.
//! 2. Their summaries, folded from their chunk rows (`read::stored_traces`).
//!
//! Searches want the newest traces, so the first statement looks at a window of recent rows
//! first (rows that started after `newest - window`), widening it sixteenfold until it holds
//! `limit` matches or is unbounded. A trace that started before the window but has rows in it
//! looks younger there than it is; its exact summary (step 2) shows that, and it is dropped, so
//! that only traces wholly inside the window count, and those are exact.

use spanview_core::query::{MAX_LIMIT, TraceQuery};
use spanview_core::{TraceId, TraceSummary};

use super::client::{Client, quote};
use super::read::stored_traces;
use super::rowbinary::RowReader;
use super::schema::{Layout, MINUTE_NANOS, TRACE_HASH};
use super::write::{kind_number, status_number};
use crate::store::StoreError;
use spanview_core::attribute_filter::Condition;

/// The first window, in ns; each next one is [`WIDENING`] times larger.
const FIRST_WINDOW_NANOS: u64 = 60_000_000_000;
const WIDENING: u64 = 16;

pub fn search(
    client: &Client,
    layout: &Layout,
    query: &TraceQuery,
) -> Result<Vec<TraceSummary>, StoreError> {
    let limit = query.limit.clamp(1, MAX_LIMIT);
    let text = client.query(&format!(
        "SELECT max(StartNs) FROM {} FORMAT TabSeparated",
        layout.table("chunks")
    ))?;
    let newest: u64 = String::from_utf8_lossy(&text).trim().parse().unwrap_or(0);
    let anchor = query
        .start_before_nanos
        .map_or(newest, |before| before.min(newest));
    let floor = query.start_after_nanos.unwrap_or(0);
    let mut window = FIRST_WINDOW_NANOS;
    let mut sql_limit = limit;
    loop {
        let lower = anchor.saturating_sub(window).max(floor);
        let found = candidates(client, layout, query, sql_limit, lower)?;
        let n_found = found.len();
        let mut stored = stored_traces(client, layout, &found)?;
        let mut summaries: Vec<TraceSummary> = found
            .into_iter()
            .filter_map(|trace_id| stored.remove(&trace_id).map(|trace| trace.summary))
            .filter(|summary| summary.start_nanos >= lower)
            .collect();
        if summaries.len() >= limit {
            summaries.truncate(limit);
            return Ok(summaries);
        }
        if lower == floor {
            // As wide as the query allows: done, unless traces that started earlier took
            // places in the statement's LIMIT; then ask for more.
            if n_found < sql_limit {
                return Ok(summaries);
            }
            sql_limit = sql_limit.saturating_mul(2);
        } else {
            window = window.saturating_mul(WIDENING);
        }
    }
}

/// The ids of the newest `limit` traces that match, among the rows that started at or after
/// `lower` (all of them when it is 0).
fn candidates(
    client: &Client,
    layout: &Layout,
    query: &TraceQuery,
    limit: usize,
    lower: u64,
) -> Result<Vec<TraceId>, StoreError> {
    let spans = layout.local("spans");
    let index = layout.local("attribute_index");
    // The index's rows know the minute their spans started in: one from `lower`'s minute may
    // have started before `lower`, and then so did its trace, which `search` drops.
    let index_window = if lower > 0 {
        format!(" AND Minute >= {}", lower / MINUTE_NANOS)
    } else {
        String::new()
    };
    let in_window = if lower > 0 {
        format!(" AND StartNs >= {lower}")
    } else {
        String::new()
    };
    let mut conditions: Vec<String> = vec![format!("1{in_window}")];
    let span_filter = |condition: String| {
        format!("TraceId IN (SELECT TraceId FROM {spans} WHERE {condition}{in_window})")
    };
    // Service, operation, kind and status hold on one span; each attribute term on its own.
    let mut same_span: Vec<String> = Vec::new();
    if let Some(service) = &query.service {
        same_span.push(format!("Service = {}", quote(service)));
    }
    if let Some(operation) = &query.operation {
        same_span.push(format!("Name = {}", quote(operation)));
    }
    if let Some(kind) = query.kind {
        same_span.push(format!("Kind = {}", kind_number(kind)));
    }
    if let Some(status) = query.status {
        same_span.push(format!("StatusCode = {}", status_number(status)));
    }
    if !same_span.is_empty() {
        conditions.push(span_filter(same_span.join(" AND ")));
    }
    // Every attribute term is looked up in the index, by its primary key's prefix (`Key`, then
    // `Value` for `=`): a rare value costs a granule or two, not a read of every span's
    // attributes. Its trace hashes are then matched against the chunks'.
    for filter in &query.attributes {
        let key = quote(&filter.key);
        let term = match &filter.condition {
            Condition::Equals(value) => format!("Key = {key} AND Value = {}", quote(value)),
            Condition::NotEquals(value) => format!("Key = {key} AND Value != {}", quote(value)),
            Condition::Exists => format!("Key = {key}"),
        };
        conditions.push(format!(
            "{TRACE_HASH} IN (SELECT TraceHash FROM {index} WHERE {term}{index_window})"
        ));
    }
    let mut having: Vec<String> = vec!["1".to_owned()];
    if let Some(after) = query.start_after_nanos {
        having.push(format!("trace_start >= {after}"));
    }
    if let Some(before) = query.start_before_nanos {
        having.push(format!("trace_start <= {before}"));
    }
    if let Some(min) = query.min_duration_nanos {
        having.push(format!("trace_end - trace_start >= {min}"));
    }
    if let Some(max) = query.max_duration_nanos {
        having.push(format!("trace_end - trace_start <= {max}"));
    }
    if query.errors_only {
        having.push("has_errors".to_owned());
    }
    let sql = format!(
        "SELECT TraceId, min(StartNs) AS trace_start, max(EndNs) AS trace_end,
                max(notEmpty(ErrorFingerprints)) AS has_errors
           FROM {chunks} WHERE {conditions}
          GROUP BY TraceId
         HAVING {having}
          ORDER BY trace_start DESC, TraceId DESC
          LIMIT {limit}
         FORMAT RowBinary",
        chunks = layout.table("chunks"),
        conditions = conditions.join(" AND "),
        having = having.join(" AND "),
    );
    let bytes = client.query(&sql)?;
    let mut reader = RowReader::new(&bytes);
    let mut found: Vec<TraceId> = Vec::new();
    while !reader.is_empty() {
        found.push(TraceId(reader.fixed::<16>()?));
        reader.u64()?;
        reader.u64()?;
        reader.u8()?;
    }
    Ok(found)
}

/// The ids of the traces with chunks that ended at or after `end_after_nanos`, latest first
/// (the live feed's poll). Only chunks that started within the hour before are looked at, so
/// that the statement reads the newest partitions alone.
pub fn recently_ended(
    client: &Client,
    layout: &Layout,
    end_after_nanos: u64,
    limit: usize,
) -> Result<Vec<TraceSummary>, StoreError> {
    let bytes = client.query(&format!(
        "SELECT TraceId, max(EndNs) AS trace_end FROM {}
          WHERE StartNs >= {} AND EndNs >= {end_after_nanos}
          GROUP BY TraceId ORDER BY trace_end DESC LIMIT {limit} FORMAT RowBinary",
        layout.table("chunks"),
        end_after_nanos.saturating_sub(super::schema::HOUR_NANOS),
    ))?;
    let mut reader = RowReader::new(&bytes);
    let mut found: Vec<TraceId> = Vec::new();
    while !reader.is_empty() {
        found.push(TraceId(reader.fixed::<16>()?));
        reader.u64()?;
    }
    let mut stored = stored_traces(client, layout, &found)?;
    Ok(found
        .into_iter()
        .filter_map(|trace_id| stored.remove(&trace_id).map(|trace| trace.summary))
        .collect())
}
