//! `POST /api/import`: store a trace file sent as the request body.
//!
//! Bounded like exports: at most [`crate::Limits::max_pending_imports`] imports read, decode
//! and store at once (others get `503` with `Retry-After`), the body and its decompression
//! stop at [`crate::Limits::max_import_bytes`] (`413`), and a body that does not arrive within
//! [`BODY_DEADLINE`] frees the permit (`408`).

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use spanview_core::formats::DecodeLimits;

use super::error::ApiError;
use crate::AppState;
use crate::import::{ImportError, import_bytes_with_limits};
use crate::store::StoreError;

/// The whole body must have arrived by then: the permit is held while it is read.
pub const BODY_DEADLINE: Duration = Duration::from_secs(60);

const RETRY_AFTER_SECONDS: &str = "2";

pub async fn import_post(State(state): State<AppState>, body: Body) -> Response {
    // The permit is taken before the body is read, so that the memory imports can take is
    // bounded by the number of permits, not by the number of connections.
    let Ok(permit) = state.import_permits.clone().try_acquire_owned() else {
        let mut response = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "another import is under way: retry later".to_owned(),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
        return response;
    };
    let limit = state.limits.max_import_bytes;
    let body = match tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(body)) => body,
        Ok(Err(error)) if is_length_limit(&error) => return too_large(limit),
        Ok(Err(error)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {error}"),
            );
        }
        Err(_) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the file did not arrive within {} s",
                    BODY_DEADLINE.as_secs()
                ),
            );
        }
    };
    let store = state.store.clone();
    let redactor = state.redactor.clone();
    let limits = DecodeLimits {
        max_decompressed_bytes: limit as u64,
    };
    // The permit moves into the blocking work: a client that goes away does not free it while
    // its file is still being decoded.
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        import_bytes_with_limits(store.as_ref(), &redactor, &body, &limits)
    })
    .await;
    match outcome {
        Ok(Ok(mut outcome)) => {
            state.metrics.spans_stored.inc_by(outcome.n_spans_added);
            state
                .live
                .publish(std::mem::take(&mut outcome.updated_traces));
            Json(outcome).into_response()
        }
        Ok(Err(ImportError::Store(StoreError::Unavailable(reason)))) => {
            let mut response = refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the file was not stored: {reason}; retry later"),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
            response
        }
        Ok(Err(ImportError::Store(error))) => ApiError::Store(error).into_response(),
        Ok(Err(ImportError::TooLarge { .. })) => too_large(limit),
        Ok(Err(error)) => refuse(
            StatusCode::BAD_REQUEST,
            format!("cannot import the file: {error}"),
        ),
        Err(join_error) => ApiError::Internal(join_error.to_string()).into_response(),
    }
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

fn too_large(limit: usize) -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the file exceeds the import limit of {limit} bytes (before or after decompression; \
             see --max-import-bytes)"
        ),
    )
}

fn refuse(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
