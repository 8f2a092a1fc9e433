//! Trace file and wire formats, decoded into the [`crate::Batch`] model.
//!
//! Every decoder is shared by the OTLP receiver, `POST /api/import`, `spanview import` and the
//! browser's upload, so all of them accept and reject exactly the same inputs. [`decode_file`]
//! recognises a file by its content: OTLP JSON (also wrapped as Jaeger's API v3 response), OTLP
//! JSON Lines (the Collector's file exporter; metrics and logs lines are skipped), OTLP protobuf,
//! Jaeger JSON (query API, UI download, bare trace, array of traces), Zipkin v2 JSON and
//! Grafana Tempo's trace responses, each optionally gzip-compressed. Every decoder rejects a
//! span with unusable ids or times (`otlp/ids.rs`, `otlp::span_times`) and keeps the rest. Encoders write OTLP JSON/protobuf and Jaeger JSON for export.

pub mod compact;
pub mod file;
pub mod jaeger;
pub mod otlp;
pub mod progress;
pub mod zipkin;

pub use file::{DecodeLimits, DecodedFile, FileError, Format, decode_file};
pub use otlp::{Decoded, OtlpError, RejectedSpans, TIME_LIMIT_NANOS};

/// serde_json appends " at line L column C"; we report the position in our own fields.
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}
