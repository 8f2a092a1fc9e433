//! The one path from a received request's bytes to durable spans, shared by every receiver:
//! OTLP/HTTP (`api/otlp.rs`), OTLP/gRPC (`grpc.rs`) and Zipkin (`api/zipkin.rs`).
//!
//! A receiver reads its request (without holding anything shared, so a slow client costs only
//! itself), asks for an export permit ([`admit`]), then hands the bytes to [`store_payload`],
//! which inflates, decodes, redacts and writes them on a blocking thread: decoding a 20 MB
//! request is CPU work that must not stall the async runtime's threads. Each receiver turns an
//! [`IngestError`] into its own protocol's answer.
//!
//! Invariant: `store_payload` returns `Ok` only once the store has made the spans durable.

use std::io::Read;

use axum::body::Bytes;
use spanview_core::formats::otlp::{self, Decoded, RejectedSpans};
use spanview_core::formats::zipkin;
use tokio::sync::OwnedSemaphorePermit;

use crate::AppState;
use crate::store::StoreError;

/// How long an exporter is asked to wait before retrying (`Retry-After`, gRPC `RetryInfo`).
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// What a request's payload is, after decompression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OtlpJson,
    OtlpProtobuf,
    ZipkinJson,
}

/// How a payload is compressed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Deflate,
    Zstd,
}

impl Compression {
    /// Reads an HTTP `Content-Encoding` value (absent means none).
    pub fn from_content_encoding(value: Option<&str>) -> Result<Self, IngestError> {
        let value = value.unwrap_or("identity").trim().to_ascii_lowercase();
        match value.as_str() {
            "" | "identity" => Ok(Self::None),
            "gzip" | "x-gzip" => Ok(Self::Gzip),
            "deflate" => Ok(Self::Deflate),
            "zstd" => Ok(Self::Zstd),
            other => Err(IngestError::Unsupported(format!(
                "unsupported content encoding {other:?}: send gzip, deflate, zstd or no encoding"
            ))),
        }
    }
}

/// Why a request's spans were not stored. Receivers map each to their protocol's status.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The request cannot be decoded (HTTP 400, gRPC INVALID_ARGUMENT).
    #[error("{0}")]
    Invalid(String),
    /// A content type or encoding this receiver does not take (HTTP 415).
    #[error("{0}")]
    Unsupported(String),
    /// The body, after decompression, is larger than the limit (HTTP 413).
    #[error("request body exceeds the limit of {limit} bytes (after decompression)")]
    TooLarge { limit: usize },
    /// The client did not send its body in time (HTTP 408).
    #[error("the request body did not arrive within {seconds} s")]
    TimedOut { seconds: u64 },
    /// Too many exports in flight (HTTP 503 + Retry-After, gRPC RESOURCE_EXHAUSTED + RetryInfo).
    #[error("spanview is saturated: retry later")]
    Saturated,
    /// The store cannot take writes now, e.g. its disk is full (HTTP 503 + Retry-After, gRPC
    /// UNAVAILABLE + RetryInfo): exporters keep the spans and retry.
    #[error("{0}: retry later")]
    StoreUnavailable(String),
    /// Anything else (HTTP 500, gRPC INTERNAL).
    #[error("storing the spans failed: {0}")]
    Internal(String),
}

impl IngestError {
    /// Whether the exporter should keep the data and send it again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Saturated | Self::StoreUnavailable(_))
    }
}

impl From<StoreError> for IngestError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) | StoreError::WriterStopped => {
                Self::StoreUnavailable(error.to_string())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Admission control: past `--max-pending-exports` requests decoding or storing at once,
/// exporters are told to retry later instead of queueing without bound.
pub fn admit(state: &AppState) -> Result<OwnedSemaphorePermit, IngestError> {
    state
        .export_permits
        .clone()
        .try_acquire_owned()
        .map_err(|_| IngestError::Saturated)
}

/// Inflates, decodes, redacts and durably stores one request's payload; returns the spans the
/// decoder rejected (for OTLP `partialSuccess`). The caller holds an export permit.
pub async fn store_payload(
    state: &AppState,
    raw: Bytes,
    compression: Compression,
    wire: Wire,
) -> Result<RejectedSpans, IngestError> {
    let started = std::time::Instant::now();
    let store = state.store.clone();
    let redactor = state.redactor.clone();
    let limit = state.limits.max_body_bytes;
    let stored = tokio::task::spawn_blocking(move || {
        let payload = inflate(raw, compression, limit)?;
        let mut decoded = decode(&payload, wire)?;
        drop(payload);
        if decoded.batch.spans.is_empty() {
            return Ok((decoded, None));
        }
        redactor.redact_batch(&mut decoded.batch);
        let outcome = store.write(&decoded.batch)?;
        Ok::<_, IngestError>((decoded, Some(outcome)))
    })
    .await
    .map_err(|join_error| IngestError::Internal(join_error.to_string()))
    .and_then(|stored| stored);
    let metrics = &state.metrics;
    metrics
        .export_duration_seconds
        .observe(started.elapsed().as_secs_f64());
    let (decoded, written) = stored?;
    metrics
        .spans_received
        .inc_by(decoded.batch.spans.len() as u64);
    metrics.spans_rejected.inc_by(decoded.rejected.count);
    if let Some(outcome) = written {
        metrics.spans_stored.inc_by(outcome.n_spans_added);
        state.live.publish(outcome.updated_traces);
    }
    Ok(decoded.rejected)
}

fn decode(payload: &[u8], wire: Wire) -> Result<Decoded, IngestError> {
    let invalid = |error: &dyn std::fmt::Display| IngestError::Invalid(error.to_string());
    match wire {
        Wire::OtlpJson => otlp::decode_json(payload).map_err(|error| invalid(&error)),
        Wire::OtlpProtobuf => otlp::decode_protobuf(payload).map_err(|error| invalid(&error)),
        Wire::ZipkinJson => {
            let (batch, rejected) =
                zipkin::decode_json(payload).map_err(|error| invalid(&error))?;
            Ok(Decoded {
                batch,
                rejected,
                ..Decoded::default()
            })
        }
    }
}

/// Decompresses a body, stopping as soon as the output passes `limit` (so a compression bomb
/// costs at most `limit` bytes of memory). Every gzip member is read: a body of several
/// concatenated members is one stream to HTTP, and dropping the later ones would lose spans.
pub fn inflate(raw: Bytes, compression: Compression, limit: usize) -> Result<Bytes, IngestError> {
    match compression {
        Compression::None if raw.len() > limit => Err(IngestError::TooLarge { limit }),
        Compression::None => Ok(raw),
        Compression::Gzip => read_limited(
            "gzip",
            flate2::read::MultiGzDecoder::new(raw.as_ref()),
            limit,
        ),
        Compression::Deflate => read_limited(
            "deflate",
            flate2::read::ZlibDecoder::new(raw.as_ref()),
            limit,
        ),
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::new(raw.as_ref())
                .map_err(|error| IngestError::Invalid(format!("invalid zstd body: {error}")))?;
            read_limited("zstd", decoder, limit)
        }
    }
}

/// Reads a decompressing reader to the end, or to one byte past `limit`.
fn read_limited(encoding: &str, decoder: impl Read, limit: usize) -> Result<Bytes, IngestError> {
    let mut inflated = Vec::new();
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|error| IngestError::Invalid(format!("invalid {encoding} body: {error}")))?;
    if inflated.len() > limit {
        return Err(IngestError::TooLarge { limit });
    }
    Ok(Bytes::from(inflated))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn every_member_of_a_multi_member_gzip_body_is_read() {
        // Issue 21 item 5: the bytes after the first member were dropped with a 200.
        let mut body = gzip(b"first half, ");
        body.extend(gzip(b"second half"));
        let inflated = inflate(Bytes::from(body), Compression::Gzip, 1024).unwrap();
        assert_eq!(&inflated[..], b"first half, second half");
    }

    #[test]
    fn a_compression_bomb_stops_at_the_limit() {
        let body = gzip(&vec![0u8; 10 * 1024 * 1024]);
        let error = inflate(Bytes::from(body), Compression::Gzip, 1024 * 1024).unwrap_err();
        assert!(matches!(error, IngestError::TooLarge { limit: 1_048_576 }));
    }

    #[test]
    fn an_uncompressed_body_over_the_limit_is_too_large() {
        let error = inflate(Bytes::from(vec![b' '; 11]), Compression::None, 10).unwrap_err();
        assert!(matches!(error, IngestError::TooLarge { limit: 10 }));
    }

    #[test]
    fn a_truncated_gzip_body_is_invalid_and_says_so() {
        let mut body = gzip(b"some spans that will be cut off");
        body.truncate(body.len() - 6);
        let error = inflate(Bytes::from(body), Compression::Gzip, 1024).unwrap_err();
        assert!(
            matches!(&error, IngestError::Invalid(message) if message.starts_with("invalid gzip body")),
            "{error}"
        );
    }

    #[test]
    fn content_encodings_are_read_case_insensitively_and_unknown_ones_refused() {
        assert_eq!(
            Compression::from_content_encoding(Some(" GZIP ")).unwrap(),
            Compression::Gzip
        );
        assert_eq!(
            Compression::from_content_encoding(None).unwrap(),
            Compression::None
        );
        let error = Compression::from_content_encoding(Some("br")).unwrap_err();
        assert!(matches!(error, IngestError::Unsupported(_)));
    }

    #[test]
    fn zipkin_json_errors_name_the_format_and_position() {
        let error = decode(b"[{\"traceId\": 5}]", Wire::ZipkinJson).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("invalid Zipkin v2 JSON at line 1 column"),
            "{message}"
        );
    }

    #[test]
    fn a_full_store_is_retryable_and_other_store_failures_are_not() {
        let full = IngestError::from(StoreError::Unavailable("disk full".into()));
        assert!(full.is_retryable());
        let broken = IngestError::from(StoreError::Write("constraint".into()));
        assert!(!broken.is_retryable());
    }
}
