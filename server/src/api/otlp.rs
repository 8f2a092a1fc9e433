//! `POST /v1/traces`: the OTLP/HTTP trace receiver.
//!
//! Follows the OTLP/HTTP specification: JSON or protobuf bodies, optionally compressed (gzip,
//! deflate or zstd); answers in the request's encoding; `400` with a Status message for undecodable bodies,
//! `413` over the size limit, `415` for other content types; `partialSuccess` for spans that
//! were dropped. A `200` is sent only after the store has made the spans durable.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use spanview_core::formats::otlp;

use super::error::blocking;
use crate::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    Protobuf,
}

impl Encoding {
    fn label(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Protobuf => "protobuf",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Protobuf => "application/x-protobuf",
        }
    }
}

/// google.rpc.Status, the error body OTLP/HTTP prescribes.
#[derive(Clone, PartialEq, Message, serde::Serialize)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// gRPC status codes used in error bodies.
const GRPC_INVALID_ARGUMENT: i32 = 3;
const GRPC_RESOURCE_EXHAUSTED: i32 = 8;
const GRPC_INTERNAL: i32 = 13;
const GRPC_UNAVAILABLE: i32 = 14;

struct Rejection {
    status: StatusCode,
    message: String,
}

impl Rejection {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

pub async fn traces_export(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Errors are answered in the request's encoding where it is known, JSON otherwise.
    let encoding = match request_encoding(&headers) {
        Ok(encoding) => encoding,
        Err(rejection) => {
            state
                .metrics
                .record_export("unknown", rejection.status.as_u16());
            return error_response(Encoding::Json, rejection);
        }
    };
    // Admission control: past the limit, exporters are told to retry later instead of
    // queueing without bound (OTLP/HTTP: 503 with Retry-After is retryable).
    let Ok(_permit) = state.export_permits.clone().try_acquire_owned() else {
        state
            .metrics
            .record_export(encoding.label(), StatusCode::SERVICE_UNAVAILABLE.as_u16());
        let mut response = error_response(
            encoding,
            Rejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "spanview is saturated: retry later",
            ),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
        return response;
    };
    let started = std::time::Instant::now();
    let metrics = state.metrics.clone();
    let response = match receive(state, &headers, body, encoding).await {
        Ok(response) => encode(encoding, StatusCode::OK, &response),
        Err(rejection) => error_response(encoding, rejection),
    };
    metrics
        .export_duration_seconds
        .observe(started.elapsed().as_secs_f64());
    metrics.record_export(encoding.label(), response.status().as_u16());
    response
}

const RETRY_AFTER_SECONDS: &str = "1";

async fn receive(
    state: AppState,
    headers: &HeaderMap,
    body: Body,
    encoding: Encoding,
) -> Result<ExportTraceServiceResponse, Rejection> {
    let limit = state.limits.max_body_bytes;
    let raw = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit))?;
    let payload = decompress(headers, raw, limit)?;
    let decoded = match encoding {
        Encoding::Json => otlp::decode_json(&payload),
        Encoding::Protobuf => otlp::decode_protobuf(&payload),
    }
    .map_err(|error| Rejection::new(StatusCode::BAD_REQUEST, error.to_string()))?;
    let metrics = state.metrics.clone();
    metrics
        .spans_received
        .inc_by(decoded.batch.spans.len() as u64);
    metrics.spans_rejected.inc_by(decoded.rejected.count);

    if !decoded.batch.spans.is_empty() {
        let store = state.store.clone();
        let mut batch = decoded.batch;
        state.redactor.redact_batch(&mut batch);
        let outcome = blocking(move || store.write(&batch))
            .await
            .map_err(|error| {
                Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
            })?;
        metrics.spans_stored.inc_by(outcome.n_spans_added);
        state.live.publish(outcome.updated_traces);
    }
    let partial_success = (decoded.rejected.count > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: decoded.rejected.count as i64,
        error_message: decoded.rejected.first_reason.unwrap_or_default(),
    });
    Ok(ExportTraceServiceResponse { partial_success })
}

fn request_encoding(headers: &HeaderMap) -> Result<Encoding, Rejection> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/json" => Ok(Encoding::Json),
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        _ => Err(Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "unsupported content type {content_type:?}: \
                 send application/json or application/x-protobuf"
            ),
        )),
    }
}

/// Decompresses gzip, deflate (zlib) and zstd bodies, stopping as soon as the output passes
/// `limit` (so a compression bomb costs at most `limit` bytes of memory).
fn decompress(headers: &HeaderMap, raw: Bytes, limit: usize) -> Result<Bytes, Rejection> {
    let content_encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match content_encoding.as_str() {
        "" | "identity" => Ok(raw),
        "gzip" | "x-gzip" => {
            read_limited("gzip", flate2::read::GzDecoder::new(raw.as_ref()), limit)
        }
        "deflate" => read_limited(
            "deflate",
            flate2::read::ZlibDecoder::new(raw.as_ref()),
            limit,
        ),
        "zstd" => {
            let decoder = zstd::stream::read::Decoder::new(raw.as_ref()).map_err(|error| {
                Rejection::new(
                    StatusCode::BAD_REQUEST,
                    format!("invalid zstd body: {error}"),
                )
            })?;
            read_limited("zstd", decoder, limit)
        }
        other => Err(Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "unsupported content encoding {other:?}: send gzip, deflate, zstd or no encoding"
            ),
        )),
    }
}

/// Reads a decompressing reader to the end, or to one byte past `limit`.
fn read_limited(encoding: &str, decoder: impl Read, limit: usize) -> Result<Bytes, Rejection> {
    let mut inflated = Vec::new();
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|error| {
            Rejection::new(
                StatusCode::BAD_REQUEST,
                format!("invalid {encoding} body: {error}"),
            )
        })?;
    if inflated.len() > limit {
        return Err(too_large(limit));
    }
    Ok(Bytes::from(inflated))
}

fn too_large(limit: usize) -> Rejection {
    Rejection::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body exceeds the limit of {limit} bytes (after decompression)"),
    )
}

fn error_response(encoding: Encoding, rejection: Rejection) -> Response {
    let code = match rejection.status {
        StatusCode::PAYLOAD_TOO_LARGE => GRPC_RESOURCE_EXHAUSTED,
        StatusCode::SERVICE_UNAVAILABLE => GRPC_UNAVAILABLE,
        status if status.is_server_error() => GRPC_INTERNAL,
        _ => GRPC_INVALID_ARGUMENT,
    };
    if rejection.status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %rejection.message, "otlp export failed");
    } else {
        tracing::debug!(status = %rejection.status, error = %rejection.message, "otlp export rejected");
    }
    encode(
        encoding,
        rejection.status,
        &RpcStatus {
            code,
            message: rejection.message,
        },
    )
}

fn encode<T: Message + serde::Serialize>(
    encoding: Encoding,
    status: StatusCode,
    body: &T,
) -> Response {
    let bytes = match encoding {
        Encoding::Json => json_without_nulls(body),
        Encoding::Protobuf => body.encode_to_vec(),
    };
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    response
}

/// Proto-generated serde writes absent message fields as `null`; OTLP JSON omits them.
fn json_without_nulls<T: serde::Serialize>(body: &T) -> Vec<u8> {
    let mut value = serde_json::to_value(body).unwrap_or_default();
    if let serde_json::Value::Object(fields) = &mut value {
        fields.retain(|_, field| !field.is_null());
    }
    serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec())
}
