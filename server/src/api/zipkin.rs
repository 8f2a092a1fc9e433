//! `POST /api/v2/spans`: Zipkin v2 ingest, so apps instrumented with Zipkin (Brave, zipkin-js,
//! OpenTelemetry's Zipkin exporter) send to spanview unchanged. Also served on its own
//! `--zipkin-listen` address (Zipkin's 9411) by `main.rs`.
//!
//! Answers as Zipkin's collector does: `202 Accepted` with no body once the spans are durable;
//! errors are plain text. Spans the decoder could not keep are counted in `/metrics` and named
//! in the `X-Spanview-Rejected` header.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::body;
use super::otlp::{http_status, log_rejection};
use crate::AppState;
use crate::ingest::{self, IngestError, RETRY_AFTER_SECONDS, Wire};

pub async fn spans_post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let response = match receive(&state, &headers, body).await {
        Ok(rejected) => {
            let mut response = StatusCode::ACCEPTED.into_response();
            if let Some(reason) = rejected.first_reason {
                let summary = format!("{} spans rejected; first: {reason}", rejected.count);
                if let Ok(value) = HeaderValue::from_str(&summary) {
                    response.headers_mut().insert("x-spanview-rejected", value);
                }
            }
            response
        }
        Err(error) => {
            log_rejection("zipkin", &error);
            let mut response = (http_status(&error), format!("{error}\n")).into_response();
            if error.is_retryable() {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            response
        }
    };
    state
        .metrics
        .record_export("zipkin", response.status().as_u16());
    response
}

async fn receive(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<spanview_core::formats::otlp::RejectedSpans, IngestError> {
    // Zipkin's senders label JSON as application/json (some send none at all); its thrift and
    // protobuf encodings are not taken.
    let media_type = body::media_type(headers);
    if !matches!(media_type.as_str(), "" | "application/json") {
        return Err(IngestError::Unsupported(format!(
            "unsupported content type {media_type:?}: send Zipkin v2 JSON as application/json"
        )));
    }
    let compression = body::compression(headers)?;
    let raw = body::read(body, &state.limits).await?;
    let _permit = ingest::admit(state)?;
    ingest::store_payload(state, raw, compression, Wire::ZipkinJson).await
}
