//! Reading traces back: a trace's chunks decompressed, decoded and merged into one batch.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};
use spanview_core::formats::compact;
use spanview_core::service_overview::{OverviewBuilder, ServiceOverview, ServiceSpan};
use spanview_core::{Batch, SpanId, Trace};

use super::chunks::ChunkCodec;
use super::rows::TraceRow;
use crate::store::StoreError;

/// The trace of `row`, spans in start order.
pub fn assemble(
    connection: &Connection,
    codec: &ChunkCodec,
    row: &TraceRow,
) -> Result<Trace, StoreError> {
    let mut select = connection
        .prepare_cached("SELECT dictionary_id, raw_len, body FROM chunks WHERE chunk_id = ?1")?;
    let mut batch = Batch::default();
    for chunk_id in &row.chunk_ids {
        let chunk: Option<(i64, i64, Vec<u8>)> = select
            .query_row([chunk_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?;
        let Some((dictionary_id, raw_len, body)) = chunk else {
            continue;
        };
        let raw = codec.decompress(dictionary_id, usize::try_from(raw_len).unwrap_or(0), &body)?;
        append(
            &mut batch,
            compact::decode(&raw).map_err(StoreError::Chunk)?,
        );
    }
    batch.spans.sort_by_key(|span| span.start_nanos);
    Ok(Trace {
        trace_id: row.trace_id,
        batch,
    })
}

/// Appends `part` to `batch`, sharing resources and scopes that are equal.
fn append(batch: &mut Batch, part: Batch) {
    let resource_at: Vec<u32> = part
        .resources
        .into_iter()
        .map(|resource| position_or_push(&mut batch.resources, resource))
        .collect();
    let scope_at: Vec<u32> = part
        .scopes
        .into_iter()
        .map(|scope| position_or_push(&mut batch.scopes, scope))
        .collect();
    batch.spans.extend(part.spans.into_iter().map(|mut span| {
        span.resource_idx = resource_at[span.resource_idx as usize];
        span.scope_idx = scope_at[span.scope_idx as usize];
        span
    }));
}

fn position_or_push<T: PartialEq>(table: &mut Vec<T>, item: T) -> u32 {
    match table.iter().position(|existing| *existing == item) {
        Some(position) => position as u32,
        None => {
            table.push(item);
            (table.len() - 1) as u32
        }
    }
}

/// The services overview over the traces that started in the range: each trace is read whole,
/// because whether a span is an entry span depends on its parent's service.
pub fn service_overview(
    connection: &Connection,
    codec: &ChunkCodec,
    start_after_nanos: u64,
    start_before_nanos: u64,
) -> Result<Vec<ServiceOverview>, StoreError> {
    let mut select = connection.prepare_cached(&format!(
        "SELECT {} FROM traces WHERE start_ns >= ?1 AND start_ns <= ?2",
        super::rows::TRACE_COLUMNS
    ))?;
    let rows = select
        .query_map(
            [clamp(start_after_nanos), clamp(start_before_nanos)],
            TraceRow::from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let mut builder = OverviewBuilder::default();
    for row in rows {
        let trace = assemble(connection, codec, &row)?;
        let batch = &trace.batch;
        let service_of: HashMap<SpanId, &str> = batch
            .spans
            .iter()
            .map(|span| (span.span_id, batch.service_of(span)))
            .collect();
        for span in &batch.spans {
            let service = batch.service_of(span);
            let parent_service = span
                .parent_span_id
                .and_then(|parent| service_of.get(&parent));
            builder.add(ServiceSpan {
                is_entry: parent_service != Some(&service),
                service: service.to_owned(),
                trace_id: trace.trace_id,
                duration_nanos: span.duration_nanos(),
                is_error: span.is_error(),
            });
        }
    }
    Ok(builder.finish())
}

pub fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
