//! Trace search in two statements:
//!
//! 1. Which traces: the trace-level filters (start range, duration, errors) over the chunks'
//!    time ranges grouped by trace id, restricted by one `IN` subquery per span-level filter on
//!    `spans` (service and operation are the primary key's prefix), newest start first. The
//!    subqueries name the shard-local table: a trace lives on one shard, so each shard answers
//!    for its own traces.
//! 2. Their summaries, folded from their chunk rows (`read::stored_traces`).

use spanview_core::query::{MAX_LIMIT, TraceQuery};
use spanview_core::{TraceId, TraceSummary};

use super::client::{Client, quote};
use super::read::stored_traces;
use super::rowbinary::RowReader;
use super::schema::Layout;
use crate::store::StoreError;

pub fn search(
    client: &Client,
    layout: &Layout,
    query: &TraceQuery,
) -> Result<Vec<TraceSummary>, StoreError> {
    let limit = query.limit.clamp(1, MAX_LIMIT);
    let spans = layout.local("spans");
    let mut conditions: Vec<String> = Vec::new();
    let mut span_filter = |condition: String| {
        conditions.push(format!(
            "TraceId IN (SELECT TraceId FROM {spans} WHERE {condition})"
        ));
    };
    match (&query.service, &query.operation) {
        (Some(service), Some(operation)) => span_filter(format!(
            "Service = {} AND Name = {}",
            quote(service),
            quote(operation)
        )),
        (Some(service), None) => span_filter(format!("Service = {}", quote(service))),
        (None, Some(operation)) => span_filter(format!("Name = {}", quote(operation))),
        (None, None) => {}
    }
    for (key, value) in &query.attributes {
        span_filter(format!(
            "arrayExists((k, v) -> k = {} AND v = {}, Attributes.Key, Attributes.Value)",
            quote(key),
            quote(value)
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
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT TraceId, min(StartNs) AS trace_start, max(EndNs) AS trace_end,
                max(notEmpty(ErrorFingerprints)) AS has_errors
           FROM {chunks} {where_clause}
          GROUP BY TraceId
         HAVING {having}
          ORDER BY trace_start DESC, TraceId DESC
          LIMIT {limit}
         FORMAT RowBinary",
        chunks = layout.table("chunks"),
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
    let mut stored = stored_traces(client, layout, &found)?;
    Ok(found
        .into_iter()
        .filter_map(|trace_id| stored.remove(&trace_id).map(|trace| trace.summary))
        .collect())
}
