//! Messages between the page and the format worker: included by both the UI binary and the worker
//! binary (`src/bin/parse-worker.rs`), so the two cannot disagree. All file-format code (decoders
//! and encoders) runs in the worker, which also keeps it out of the page's own bundle.
//!
//! Page to worker: a `Uint8Array` (a file to parse) or JSON text of a [`WorkerRequest`].
//! Worker to page: the text [`READY`] once it listens, then JSON text of one [`WorkerReply`].

use serde::{Deserialize, Serialize};
use spanview_core::Trace;

/// Sent by the worker when it can take a request (messages sent earlier would be lost).
pub const READY: &str = "ready";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WorkerRequest {
    /// Encode a trace for download.
    Export { format: ExportFormat, trace: Trace },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExportFormat {
    OtlpJson,
    JaegerJson,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WorkerReply {
    Parsed {
        /// E.g. `Zipkin v2 JSON (gzip)`.
        format: String,
        traces: Vec<Trace>,
        skipped_lines: usize,
        rejected_spans: u64,
        rejected_reason: Option<String>,
        /// Time spent in `decode_file`, for the parse benchmark (docs/benchmarks.md).
        parse_millis: f64,
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
