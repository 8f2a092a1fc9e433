//! `POST /api/import`: store a trace file sent as the request body.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;

use super::error::ApiError;
use crate::AppState;
use crate::import::{ImportError, ImportOutcome, import_bytes};

pub async fn import_post(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<ImportOutcome>, ApiError> {
    let store = state.store.clone();
    let redactor = state.redactor.clone();
    let outcome =
        tokio::task::spawn_blocking(move || import_bytes(store.as_ref(), &redactor, &body))
            .await
            .map_err(|join_error| ApiError::Internal(join_error.to_string()))?;
    match outcome {
        Ok(mut outcome) => {
            state.metrics.spans_stored.inc_by(outcome.n_spans_added);
            state
                .live
                .publish(std::mem::take(&mut outcome.updated_traces));
            Ok(Json(outcome))
        }
        Err(ImportError::Store(error)) => Err(ApiError::Store(error)),
        Err(error) => Err(ApiError::BadRequest(format!(
            "cannot import the file: {error}"
        ))),
    }
}
