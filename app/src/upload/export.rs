//! Exports: a trace encoded as OTLP JSON or Jaeger JSON in the format worker, offered as a
//! download.

use spanview_core::Trace;

use super::protocol::{ExportFormat, WorkerReply};
use super::worker::run_in_worker;

/// Encodes `trace` in the worker and offers it as a download.
pub fn export_trace(trace: &Trace, format: ExportFormat) {
    let encoded = spanview_core::formats::compact::encode(&trace.batch);
    let payload = js_sys::Uint8Array::from(encoded.as_slice());
    let extension = match format {
        ExportFormat::OtlpJson => "otlp",
        ExportFormat::JaegerJson => "jaeger",
    };
    let file_name = format!("trace-{}.{extension}.json", trace.trace_id);
    run_in_worker(format.kind(), &payload, move |reply| {
        if let Ok((WorkerReply::Exported { text }, _)) = reply {
            crate::download::download(&file_name, "application/json", &text);
        }
    });
}
