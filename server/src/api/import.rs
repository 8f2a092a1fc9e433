//! `POST /api/import`: store a trace file sent as the request body.
//!
//! Bounded like exports: at most [`crate::Limits::max_pending_imports`] imports read, decode
//! and store at once (others wait up to [`IMPORT_QUEUE_WAIT`], then get `503` with
//! `Retry-After`), the body and its decompression
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

/// How long an import waits for another one to finish before it is answered 503.
pub const IMPORT_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Longer than mimalloc's purge delay (`MIMALLOC_PURGE_DELAY`, 1,000 ms in v3).
const ALLOCATOR_PURGE_DELAY: Duration = Duration::from_millis(1_200);

pub async fn import_post(State(state): State<AppState>, body: Body) -> Response {
    // The permit is taken before the body is read, so that the memory imports can take is
    // bounded by the number of permits, not by the number of connections.
    // Imports wait a little for their turn (a page saving several files at once), then are
    // told to come back; only their connections wait, their bodies are not read yet.
    let permit = tokio::time::timeout(
        IMPORT_QUEUE_WAIT,
        state.import_permits.clone().acquire_owned(),
    )
    .await;
    let Ok(Ok(permit)) = permit else {
        let mut response = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "another import is under way: retry later",
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
        return response;
    };
    let limit = state.limits.max_import_bytes;
    let store = state.store.clone();
    let redactor = state.redactor.clone();
    let runtime = tokio::runtime::Handle::current();
    // The permit moves into the work: a client that goes away does not free it while its file
    // is still being decoded. The body is read, decoded and stored on a thread of its own that
    // ends with the import, so every large allocation of an import is made and freed by that
    // thread and the allocator returns it to the system when the thread ends (read on a
    // runtime thread or decoded on a pooled blocking thread, hundreds of MB stayed resident).
    let (reply, outcome) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("spanview-import".into())
        .spawn(move || {
            let permit = permit;
            // The deadline's timer is made inside the runtime's context.
            let read = runtime.block_on(async move {
                tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, limit)).await
            });
            let outcome = match read {
                Ok(Ok(body)) => {
                    let limits = DecodeLimits {
                        max_decompressed_bytes: limit as u64,
                    };
                    import_bytes_with_limits(store.as_ref(), &redactor, &body, &limits)
                        .map_err(Failure::Import)
                }
                Ok(Err(error)) if is_length_limit(&error) => Err(Failure::TooLarge),
                Ok(Err(error)) => Err(Failure::Body(error.to_string())),
                Err(_) => Err(Failure::Timeout),
            };
            // The next import may start as soon as this one is answered.
            drop(permit);
            let _ = reply.send(outcome);
            // mimalloc (v3) returns freed memory to the system only once it has been free for
            // its purge delay (1 s), and only when an allocator event looks for expired purges,
            // such as a thread ending. Ending this thread after the delay returns the import's
            // hundreds of MB at once instead of whenever another thread happens to end.
            std::thread::sleep(ALLOCATOR_PURGE_DELAY);
        });
    if let Err(error) = spawned {
        return ApiError::Internal(format!("cannot start the import: {error}")).into_response();
    }
    let Ok(outcome) = outcome.await else {
        return ApiError::Internal("the import thread ended without an answer".into())
            .into_response();
    };
    match outcome {
        Ok(mut outcome) => {
            state.metrics.spans_stored.inc_by(outcome.n_spans_added);
            state
                .live
                .publish(std::mem::take(&mut outcome.updated_traces));
            Json(outcome).into_response()
        }
        Err(Failure::TooLarge) => too_large(limit),
        Err(Failure::Body(error)) => refuse(
            StatusCode::BAD_REQUEST,
            &format!("cannot read the request body: {error}"),
        ),
        Err(Failure::Timeout) => refuse(
            StatusCode::REQUEST_TIMEOUT,
            &format!(
                "the file did not arrive within {} s",
                BODY_DEADLINE.as_secs()
            ),
        ),
        Err(Failure::Import(ImportError::Store(StoreError::Unavailable(reason)))) => {
            let mut response = refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("the file was not stored: {reason}; retry later"),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
            response
        }
        Err(Failure::Import(ImportError::Store(error))) => ApiError::Store(error).into_response(),
        Err(Failure::Import(ImportError::TooLarge { .. })) => too_large(limit),
        Err(Failure::Import(error)) => refuse(
            StatusCode::BAD_REQUEST,
            &format!("cannot import the file: {error}"),
        ),
    }
}

enum Failure {
    TooLarge,
    Body(String),
    Timeout,
    Import(ImportError),
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
        &format!(
            "the file exceeds the import limit of {limit} bytes (before or after decompression; \
             see --max-import-bytes)"
        ),
    )
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
