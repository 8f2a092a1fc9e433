//! `POST /v1/traces`: the OTLP/HTTP trace receiver.
//!
//! Follows the OTLP/HTTP specification: JSON or protobuf bodies, optionally compressed (gzip,
//! deflate or zstd); answers in the request's encoding; `400` with a Status message for
//! undecodable bodies, `413` over the size limit, `415` for other content types, `503` with
//! `Retry-After` when saturated or when the store cannot take writes (a full disk);
//! `partialSuccess` for spans that were dropped. A `200` is sent only after the store has made
//! the spans durable (see `ingest`, which the gRPC and Zipkin receivers share).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use spanview_core::formats::otlp::RejectedSpans;

use super::body;
use crate::AppState;
use crate::ingest::{self, IngestError, RETRY_AFTER_SECONDS, Wire};

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

pub async fn traces_export(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Errors are answered in the request's encoding where it is known, JSON otherwise.
    let (label, encoding, outcome) = match request_encoding(&headers) {
        Ok(encoding) => (
            encoding.label(),
            encoding,
            receive(&state, &headers, body, encoding).await,
        ),
        Err(error) => ("unknown", Encoding::Json, Err(error)),
    };
    let response = match outcome {
        Ok(rejected) => {
            let partial_success = (rejected.count > 0).then(|| ExportTracePartialSuccess {
                rejected_spans: i64::try_from(rejected.count).unwrap_or(i64::MAX),
                error_message: rejected.first_reason.unwrap_or_default(),
            });
            encode(
                encoding,
                StatusCode::OK,
                &ExportTraceServiceResponse { partial_success },
            )
        }
        Err(error) => error_response(encoding, &error),
    };
    state
        .metrics
        .record_export(label, response.status().as_u16());
    response
}

/// Reads the body (holding nothing shared), then stores it under an export permit.
async fn receive(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    encoding: Encoding,
) -> Result<RejectedSpans, IngestError> {
    let compression = body::compression(headers)?;
    let raw = body::read(body, &state.limits).await?;
    let _permit = ingest::admit(state)?;
    let wire = match encoding {
        Encoding::Json => Wire::OtlpJson,
        Encoding::Protobuf => Wire::OtlpProtobuf,
    };
    ingest::store_payload(state, raw, compression, wire).await
}

fn request_encoding(headers: &HeaderMap) -> Result<Encoding, IngestError> {
    match body::media_type(headers).as_str() {
        "application/json" => Ok(Encoding::Json),
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        _ => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .map(|value| value.to_str().unwrap_or("(not text)"))
                .unwrap_or("");
            Err(IngestError::Unsupported(format!(
                "unsupported content type {content_type:?}: \
                 send application/json or application/x-protobuf"
            )))
        }
    }
}

/// The HTTP status an ingest error is answered with (OTLP/HTTP: 503 and 429 are retried).
pub fn http_status(error: &IngestError) -> StatusCode {
    match error {
        IngestError::Invalid(_) => StatusCode::BAD_REQUEST,
        IngestError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        IngestError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        IngestError::TimedOut { .. } => StatusCode::REQUEST_TIMEOUT,
        IngestError::Saturated | IngestError::StoreUnavailable(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        IngestError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Logs an ingest failure at the level it deserves: the server's own failures are errors,
/// a full store a warning, the client's mistakes debug lines.
pub fn log_rejection(protocol: &str, error: &IngestError) {
    match error {
        IngestError::Internal(_) => tracing::error!(protocol, %error, "export failed"),
        IngestError::StoreUnavailable(_) => tracing::warn!(protocol, %error, "export deferred"),
        _ => tracing::debug!(protocol, %error, "export rejected"),
    }
}

fn error_response(encoding: Encoding, error: &IngestError) -> Response {
    log_rejection("otlp/http", error);
    let status = http_status(error);
    let code = match error {
        IngestError::TooLarge { .. } => GRPC_RESOURCE_EXHAUSTED,
        IngestError::Saturated | IngestError::StoreUnavailable(_) => GRPC_UNAVAILABLE,
        IngestError::Internal(_) => GRPC_INTERNAL,
        _ => GRPC_INVALID_ARGUMENT,
    };
    let mut response = encode(
        encoding,
        status,
        &RpcStatus {
            code,
            message: error.to_string(),
        },
    );
    if error.is_retryable() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    }
    response
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
