//! `POST /api/compare`: two stored traces compared span by span; `POST /api/compare/groups`:
//! two groups of stored traces compared by per-span medians and p95.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use spanview_core::TraceId;
use spanview_core::compare::{Comparison, compare};
use spanview_core::group_compare::{GroupComparison, compare_groups};

use super::error::{ApiError, blocking};
use crate::AppState;
use crate::store::StoreError;

#[derive(Debug, Deserialize)]
pub struct CompareRequest {
    before: String,
    after: String,
}

pub async fn compare_post(
    State(state): State<AppState>,
    Json(request): Json<CompareRequest>,
) -> Result<Json<Comparison>, ApiError> {
    let parse = |text: &str| {
        text.parse::<TraceId>()
            .map_err(|error| ApiError::BadRequest(format!("invalid trace id {text:?}: {error}")))
    };
    let (before_id, after_id) = (parse(&request.before)?, parse(&request.after)?);
    let store = state.store.clone();
    let (before, after) =
        blocking(move || Ok((store.trace(before_id)?, store.trace(after_id)?))).await?;
    let missing = |id: TraceId| ApiError::NotFound(format!("trace {id} is not stored"));
    let before = before.ok_or_else(|| missing(before_id))?;
    let after = after.ok_or_else(|| missing(after_id))?;
    compare(&before, &after).map(Json).ok_or_else(|| {
        ApiError::BadRequest(String::from("a trace without spans cannot be compared"))
    })
}

/// Most traces per side of a group comparison: each is read and analysed in full.
pub const MAX_GROUP_TRACES: usize = 1000;

#[derive(Debug, Deserialize)]
pub struct GroupCompareRequest {
    before: Vec<String>,
    after: Vec<String>,
}

/// `POST /api/compare/groups`: N stored traces against M, per span path medians and p95.
pub async fn compare_groups_post(
    State(state): State<AppState>,
    Json(request): Json<GroupCompareRequest>,
) -> Result<Json<GroupComparison>, ApiError> {
    let parse_side = |side: &str, ids: &[String]| -> Result<Vec<TraceId>, ApiError> {
        if ids.is_empty() || ids.len() > MAX_GROUP_TRACES {
            return Err(ApiError::BadRequest(format!(
                "the {side} group has {} trace ids; give 1 to {MAX_GROUP_TRACES}",
                ids.len()
            )));
        }
        ids.iter()
            .map(|text| {
                text.parse::<TraceId>().map_err(|error| {
                    ApiError::BadRequest(format!("invalid trace id {text:?} in {side}: {error}"))
                })
            })
            .collect()
    };
    let before_ids = parse_side("before", &request.before)?;
    let after_ids = parse_side("after", &request.after)?;
    let store = state.store.clone();
    let read = move |ids: Vec<TraceId>| -> Result<Result<Vec<_>, TraceId>, StoreError> {
        let mut traces = Vec::with_capacity(ids.len());
        for id in ids {
            match store.trace(id)? {
                Some(trace) => traces.push(trace),
                None => return Ok(Err(id)),
            }
        }
        Ok(Ok(traces))
    };
    let (before, after) = blocking(move || Ok((read(before_ids)?, read(after_ids)?))).await?;
    let missing = |id: TraceId| ApiError::NotFound(format!("trace {id} is not stored"));
    let before = before.map_err(missing)?;
    let after = after.map_err(missing)?;
    let comparison = tokio::task::spawn_blocking(move || compare_groups(&before, &after))
        .await
        .map_err(|join_error| ApiError::Internal(join_error.to_string()))?
        .map_err(|error| ApiError::BadRequest(error.to_string()))?;
    Ok(Json(comparison))
}
