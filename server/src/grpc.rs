//! OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export`, the OpenTelemetry
//! Collector's default exporter protocol, on its own listener (`--grpc-listen`, port 4317).
//!
//! tonic does the protocol (HTTP/2 framing, gzip and zstd, message size limits, status codes);
//! the message itself is not decoded by prost: a pass-through codec hands its bytes to the same
//! `ingest` path as OTLP/HTTP, so there is one protobuf decoder and one store path. Statuses
//! follow the OTLP specification: INVALID_ARGUMENT for bad data, RESOURCE_EXHAUSTED with
//! `RetryInfo` when saturated, UNAVAILABLE with `RetryInfo` when the store cannot take writes,
//! `partial_success` for rejected spans; `OK` means durable, as HTTP's `200` does.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Buf;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use subtle::ConstantTimeEq;
use tonic::codec::{
    Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder,
};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::AppState;
use crate::api::otlp::{http_status, log_rejection};
use crate::ingest::{self, Compression, IngestError, RETRY_AFTER_SECONDS, Wire};

/// The gRPC method's path, as OTLP exporters call it.
pub const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// The gRPC service alone, for `--grpc-listen`; every other path is UNIMPLEMENTED.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(EXPORT_PATH, post(export))
        .fallback(unimplemented)
        .with_state(state)
}

async fn export(State(state): State<AppState>, request: Request) -> Response {
    let mut accepted = EnabledCompressionEncodings::default();
    accepted.enable(CompressionEncoding::Gzip);
    accepted.enable(CompressionEncoding::Zstd);
    // tonic bounds the message both as sent and while inflating it.
    let mut grpc = tonic::server::Grpc::new(RawRequestCodec)
        .apply_compression_config(accepted, EnabledCompressionEncodings::default())
        .apply_max_message_size_config(Some(state.limits.max_body_bytes), None);
    grpc.unary(ExportService { state }, request)
        .await
        .into_response()
}

async fn unimplemented(request: Request) -> Response {
    let message = format!(
        "{} is not served here: spanview takes {EXPORT_PATH}",
        request.uri().path()
    );
    Status::unimplemented(message)
        .into_http::<axum::body::Body>()
        .into_response()
}

/// One Export call: the message's bytes, already unframed and inflated by tonic.
struct ExportService {
    state: AppState,
}

impl tonic::server::UnaryService<Bytes> for ExportService {
    type Response = ExportTraceServiceResponse;
    type Future =
        Pin<Box<dyn Future<Output = Result<tonic::Response<Self::Response>, Status>> + Send>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let state = self.state.clone();
        Box::pin(async move {
            let outcome = receive(&state, request).await;
            // Recorded with the HTTP status OTLP/HTTP would have answered, so one metric
            // covers both transports.
            let (equivalent_status, answer) = match outcome {
                Ok(rejected) => {
                    let partial_success = (rejected.count > 0).then(|| ExportTracePartialSuccess {
                        rejected_spans: i64::try_from(rejected.count).unwrap_or(i64::MAX),
                        error_message: rejected.first_reason.unwrap_or_default(),
                    });
                    (
                        StatusCode::OK,
                        Ok(tonic::Response::new(ExportTraceServiceResponse {
                            partial_success,
                        })),
                    )
                }
                Err(Refusal::Unauthenticated(message)) => (
                    StatusCode::UNAUTHORIZED,
                    Err(Status::unauthenticated(message)),
                ),
                Err(Refusal::Ingest(error)) => {
                    log_rejection("otlp/grpc", &error);
                    (http_status(&error), Err(grpc_status(&error)))
                }
            };
            state
                .metrics
                .record_export("grpc", equivalent_status.as_u16());
            answer
        })
    }
}

enum Refusal {
    Unauthenticated(&'static str),
    Ingest(IngestError),
}

impl From<IngestError> for Refusal {
    fn from(error: IngestError) -> Self {
        Self::Ingest(error)
    }
}

async fn receive(
    state: &AppState,
    request: tonic::Request<Bytes>,
) -> Result<spanview_core::formats::otlp::RejectedSpans, Refusal> {
    check_token(state, request.metadata())?;
    let _permit = ingest::admit(state)?;
    let message = request.into_inner();
    Ok(ingest::store_payload(state, message, Compression::None, Wire::OtlpProtobuf).await?)
}

/// The same bearer token as HTTP, in the `authorization` metadata (RFC 6750: the scheme is
/// case-insensitive).
fn check_token(state: &AppState, metadata: &tonic::metadata::MetadataMap) -> Result<(), Refusal> {
    let Some(expected) = state.auth_token.as_deref() else {
        return Ok(());
    };
    let presented = metadata
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    match presented {
        Some(token) if bool::from(token.as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
        Some(_) => Err(Refusal::Unauthenticated("the bearer token is wrong")),
        None => Err(Refusal::Unauthenticated(
            "this spanview requires an authorization: Bearer token",
        )),
    }
}

/// The OTLP/gRPC status of an ingest error. RESOURCE_EXHAUSTED and UNAVAILABLE carry
/// `RetryInfo`: OTLP exporters retry RESOURCE_EXHAUSTED only when it is present.
fn grpc_status(error: &IngestError) -> Status {
    let message = error.to_string();
    let retry_info =
        || ErrorDetails::with_retry_info(Some(Duration::from_secs(RETRY_AFTER_SECONDS)));
    match error {
        IngestError::Invalid(_) | IngestError::Unsupported(_) | IngestError::TimedOut { .. } => {
            Status::invalid_argument(message)
        }
        // Not retryable: the same message would be too large again.
        IngestError::TooLarge { .. } => Status::resource_exhausted(message),
        IngestError::Saturated => {
            Status::with_error_details(Code::ResourceExhausted, message, retry_info())
        }
        IngestError::StoreUnavailable(_) => {
            Status::with_error_details(Code::Unavailable, message, retry_info())
        }
        IngestError::Internal(_) => Status::internal(message),
    }
}

/// Takes the request message as bytes (for core's protobuf decoder) and encodes the response
/// with prost.
#[derive(Debug, Clone, Copy, Default)]
struct RawRequestCodec;

impl Codec for RawRequestCodec {
    type Encode = ExportTraceServiceResponse;
    type Decode = Bytes;
    type Encoder = ResponseEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        ResponseEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawDecoder
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct ResponseEncoder;

impl Encoder for ResponseEncoder {
    type Item = ExportTraceServiceResponse;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        item.encode(dst)
            .map_err(|error| Status::internal(format!("encoding the response: {error}")))
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct RawDecoder;

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_and_a_full_store_carry_retry_info_and_bad_data_does_not() {
        for (error, code) in [
            (IngestError::Saturated, Code::ResourceExhausted),
            (
                IngestError::StoreUnavailable("disk full".into()),
                Code::Unavailable,
            ),
        ] {
            let status = grpc_status(&error);
            assert_eq!(status.code(), code);
            let retry = status.get_error_details().retry_info().cloned();
            assert_eq!(
                retry.and_then(|info| info.retry_delay),
                Some(Duration::from_secs(RETRY_AFTER_SECONDS))
            );
        }
        let invalid = grpc_status(&IngestError::Invalid("bad".into()));
        assert_eq!(invalid.code(), Code::InvalidArgument);
        assert!(invalid.get_error_details().retry_info().is_none());
    }
}
