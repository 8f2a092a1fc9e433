//! OTLP trace payloads (`ExportTraceServiceRequest`) in the JSON mapping and in protobuf: the
//! front of the OTLP decoders and encoders, and the only way into them from the rest of core.
//!
//! - `json.rs`: the JSON mapping decoded straight into the model (also the shapes real exporters
//!   write beyond the canonical form, and Grafana Tempo's responses).
//! - `protobuf.rs`: the protobuf wire format read straight into the model.
//! - `decoded.rs`: what a decode gives ([`Decoded`]: the spans kept, those rejected and why),
//!   its errors, and the time check every decoder (OTLP, Jaeger, Zipkin) shares (`span_times`).
//! - `ids.rs`: the id checks every decoder shares.
//! - `encode.rs`: encoding through `opentelemetry-proto`'s generated types.
//! - `reference.rs` (tests only): the generated types' decoding, the reference both direct
//!   decoders are held to.

mod decoded;
mod encode;
mod ids;
mod json;
mod protobuf;
#[cfg(any(test, feature = "test-support"))]
pub mod reference;
#[cfg(test)]
mod tests;

use serde::Deserialize;

pub(crate) use decoded::span_times;
pub use decoded::{Decoded, OtlpError, RejectedSpans, TIME_LIMIT_NANOS};
pub use encode::{encode_json, encode_protobuf, to_request};
pub(crate) use json::CONVERSION_UNITS;

/// Decodes an `ExportTraceServiceRequest` in the OTLP JSON mapping.
pub fn decode_json(bytes: &[u8]) -> Result<Decoded, OtlpError> {
    // A request is an object: serde would also read a struct from an array of its fields in
    // order, and take `[]` for an empty request.
    if let Some(at) = bytes.iter().position(|byte| !byte.is_ascii_whitespace())
        && bytes[at] == b'['
    {
        let line = 1 + bytes[..at].iter().filter(|&&byte| byte == b'\n').count();
        let line_start = bytes[..at]
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |i| i + 1);
        return Err(OtlpError::Json {
            line,
            column: at - line_start + 1,
            message: "a JSON array where an OTLP request is an object of \"resourceSpans\""
                .to_owned(),
        });
    }
    // Straight into the model (see `json`): what the generated types accept, with far fewer
    // allocations.
    let request: json::RequestJson =
        serde_json::from_slice(bytes).map_err(|error| OtlpError::Json {
            line: error.line(),
            column: error.column(),
            message: super::strip_position(&error.to_string()),
        })?;
    Ok(json::into_decoded(request))
}

/// Decodes an `ExportTraceServiceRequest` in protobuf.
pub fn decode_protobuf(bytes: &[u8]) -> Result<Decoded, OtlpError> {
    // Straight into the model (see `protobuf`): what the generated types accept, without their
    // intermediate messages.
    protobuf::decode(bytes)
}

/// Grafana Tempo's trace by id (`{"batches": [resource spans]}`, also Grafana's download).
pub(crate) fn decode_tempo_json(bytes: &[u8]) -> Result<Decoded, serde_json::Error> {
    let trace: json::TempoTraceJson = serde_json::from_slice(bytes)?;
    Ok(json::tempo_into_decoded(trace))
}

/// Grafana Tempo's API v2 trace by id (`{"trace": {"resourceSpans" or "batches": …}}`).
pub(crate) fn decode_tempo_v2_json(bytes: &[u8]) -> Result<Decoded, serde_json::Error> {
    let response: json::TempoTraceV2Json = serde_json::from_slice(bytes)?;
    Ok(json::tempo_into_decoded(response.trace))
}

/// Jaeger's API v3 `GetTrace` response: an OTLP JSON request under `result`.
pub(crate) fn decode_jaeger_v3_json(bytes: &[u8]) -> Result<Decoded, serde_json::Error> {
    #[derive(Deserialize)]
    #[serde(expecting = "a Jaeger API v3 answer: an object with a \"result\"")]
    struct GetTraceResponse {
        result: json::RequestJson,
    }
    let response: GetTraceResponse = serde_json::from_slice(bytes)?;
    Ok(json::into_decoded(response.result))
}
