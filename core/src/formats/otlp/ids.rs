//! The id checks every decoder shares (OTLP JSON and protobuf, Jaeger, Zipkin), so that all of
//! them reject the same spans with the same reasons.

use crate::ids::{IdError, SpanId, TraceId};

/// A span's ids checked as every OTLP decoder checks them, in this order (the first problem is
/// the rejection reason): the trace id, the span id, then the parent, where an empty or all-zero
/// id means "no parent".
pub(crate) fn span_ids(
    trace_id: Result<TraceId, IdError>,
    span_id: Result<SpanId, IdError>,
    parent_span_id: Result<SpanId, IdError>,
) -> Result<(TraceId, SpanId, Option<SpanId>), String> {
    let trace_id = trace_id.map_err(|error| id_problem("trace id", &error))?;
    let span_id = span_id.map_err(|error| id_problem("span id", &error))?;
    let parent_span_id = match parent_span_id {
        Ok(parent) => Some(parent),
        // Empty and all-zero parent ids both mean "no parent" in practice.
        Err(IdError::WrongByteLength { actual: 0, .. } | IdError::AllZero) => None,
        Err(error) => return Err(id_problem("parent span id", &error)),
    };
    Ok((trace_id, span_id, parent_span_id))
}

/// E.g. `trace id: an all-zero id is invalid`, `span id "abc": expected 16 hex digits or base64
/// of 8 bytes` (an unreadable id's message starts with the value).
fn id_problem(field: &str, error: &IdError) -> String {
    match error {
        IdError::Unreadable { .. } => format!("{field} {error}"),
        _ => format!("{field}: {error}"),
    }
}

/// A link's ids, checked after its span's (see [`span_ids`]).
pub(crate) fn link_ids(
    trace_id: Result<TraceId, IdError>,
    span_id: Result<SpanId, IdError>,
) -> Result<(TraceId, SpanId), String> {
    let trace_id = trace_id.map_err(|error| id_problem("link trace id", &error))?;
    let span_id = span_id.map_err(|error| id_problem("link span id", &error))?;
    Ok((trace_id, span_id))
}
