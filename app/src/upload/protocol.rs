//! Messages between the page and the format worker: included by both the UI binary and the worker
//! binary (`src/bin/parse-worker.rs`), so the two cannot disagree. All file-format code (decoders
//! and encoders) runs in the worker, which also keeps it out of the page's own bundle.
//!
//! Traces cross in core's compact binary encoding, in `ArrayBuffer`s that are transferred, not
//! copied (JSON text there and back cost more than the parse itself):
//!
//! - page to worker: the JS array `[kind, bytes]`: [`PARSE`] and a file's bytes, or
//!   [`EXPORT_OTLP_JSON`] / [`EXPORT_JAEGER_JSON`] and a trace in the compact encoding;
//! - worker to page: the text [`READY`] once it listens; while it parses a large file, numbers:
//!   the fraction decoded so far (see `core::formats::progress`); then `[reply, bytes]`: JSON text of one
//!   [`WorkerReply`], and for `Parsed` the file's traces as `core::formats::compact::encode_batch_by_trace` writes them.

// Compiled into both binaries, each of which uses its half.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// Sent by the worker when it can take a request (messages sent earlier would be lost).
pub const READY: &str = "ready";

pub const PARSE: &str = "parse";
pub const EXPORT_OTLP_JSON: &str = "export-otlp-json";
pub const EXPORT_JAEGER_JSON: &str = "export-jaeger-json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    OtlpJson,
    JaegerJson,
}

impl ExportFormat {
    pub fn kind(self) -> &'static str {
        match self {
            Self::OtlpJson => EXPORT_OTLP_JSON,
            Self::JaegerJson => EXPORT_JAEGER_JSON,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WorkerReply {
    /// The traces follow in the reply's bytes.
    Parsed {
        /// E.g. `Zipkin v2 JSON (gzip)`.
        format: String,
        skipped_lines: usize,
        rejected_spans: u64,
        rejected_reason: Option<String>,
        /// The file's ids were base64, not hex (OTLP JSON from older exporters, Grafana Tempo).
        base64_ids: bool,
        /// Time spent in `decode_file`, for the parse benchmark (docs/benchmarks.md).
        parse_millis: f64,
        /// The traces of the reply's bytes, in their order: the page lists them without
        /// decoding any, and decodes one when it is opened.
        traces: Vec<TraceListing>,
    },
    /// The format tried and where the problem is, e.g.
    /// `Jaeger JSON: line 3 column 17: missing field `spanID``.
    Failed {
        message: String,
    },
    Exported {
        text: String,
    },
}

/// How the opened-files panel lists a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceListing {
    pub trace_id: String,
    /// "service: root span name".
    pub label: String,
    pub n_spans: usize,
}

impl TraceListing {
    /// The listing of the batch's spans at `indices` (one trace).
    pub fn of(batch: &spanview_core::Batch, indices: &[usize]) -> Self {
        let root = indices
            .iter()
            .map(|idx| &batch.spans[*idx])
            .min_by_key(|span| (span.parent_span_id.is_some(), span.start_nanos));
        Self {
            trace_id: root.map_or_else(String::new, |span| span.trace_id.to_string()),
            label: root.map_or_else(String::new, |span| {
                format!("{}: {}", batch.service_of(span), span.name)
            }),
            n_spans: indices.len(),
        }
    }
}
