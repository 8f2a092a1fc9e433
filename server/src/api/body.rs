//! Reading an ingest request's body over HTTP: bounded in size and in time, and without holding
//! an export permit, so that a client sending one byte a second costs only its own connection.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};

use crate::Limits;
use crate::ingest::{Compression, IngestError};

/// The body as sent (still compressed), read within `limits.body_read_timeout`.
pub async fn read(body: Body, limits: &Limits) -> Result<Bytes, IngestError> {
    // Compressed bodies are bounded here; decompressed size is bounded while inflating.
    let limit = limits.max_body_bytes;
    let deadline = limits.body_read_timeout;
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => {
            let error = error.into_inner();
            if error.is::<http_body_util::LengthLimitError>() {
                Err(IngestError::TooLarge { limit })
            } else {
                Err(IngestError::Invalid(format!(
                    "reading the request body failed: {error}"
                )))
            }
        }
        Err(_) => Err(IngestError::TimedOut {
            seconds: deadline.as_secs(),
        }),
    }
}

/// The request's `Content-Encoding`.
pub fn compression(headers: &HeaderMap) -> Result<Compression, IngestError> {
    let value = headers
        .get(header::CONTENT_ENCODING)
        .map(|value| value.to_str().unwrap_or("(not text)"));
    Compression::from_content_encoding(value)
}

/// The request's media type, lower-case and without parameters (`""` when absent).
pub fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}
