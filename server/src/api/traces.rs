//! The trace query API: recent traces and one trace by id.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use spanview_core::{Trace, TraceId, TraceSummary};

use super::error::{ApiError, blocking};
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct TracesQuery {
    limit: Option<usize>,
}

#[derive(Debug, serde::Serialize)]
pub struct TracesResponse {
    traces: Vec<TraceSummary>,
}

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 1000;

pub async fn traces_list(
    State(state): State<AppState>,
    Query(query): Query<TracesQuery>,
) -> Result<Json<TracesResponse>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let store = state.store.clone();
    let traces = blocking(move || store.recent_traces(limit)).await?;
    Ok(Json(TracesResponse { traces }))
}

pub async fn trace_get(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
) -> Result<Json<Trace>, ApiError> {
    let trace_id: TraceId = trace_id
        .parse()
        .map_err(|error| ApiError::BadRequest(format!("invalid trace id {trace_id:?}: {error}")))?;
    let store = state.store.clone();
    match blocking(move || store.trace(trace_id)).await? {
        Some(trace) => Ok(Json(trace)),
        None => Err(ApiError::NotFound(format!(
            "trace {trace_id} is not stored"
        ))),
    }
}
