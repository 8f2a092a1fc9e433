//! `POST /api/compare`: two stored traces compared span by span.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use spanview_core::TraceId;
use spanview_core::compare::{Comparison, compare};

use super::error::{ApiError, blocking};
use crate::AppState;

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
