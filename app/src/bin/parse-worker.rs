//! The format worker: decodes uploaded trace files and encodes exports off the page's thread,
//! with the same core code as the server, so that a 100 MB file never freezes the page. Trunk
//! builds it as a worker (`data-type="worker"` in app/index.html); see `protocol` for the messages.

use spanview_core::formats::{DecodeLimits, decode_file, jaeger, otlp};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[path = "../upload/protocol.rs"]
mod protocol;

use protocol::{ExportFormat, READY, WorkerReply, WorkerRequest};

fn main() {
    console_error_panic_hook::set_once();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_to = scope.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let data = event.data();
            let reply = match data.as_string() {
                Some(text) => handle_request(&text),
                None => parse(&js_sys::Uint8Array::new(&data).to_vec()),
            };
            let text = serde_json::to_string(&reply).unwrap_or_else(|error| {
                format!(r#"{{"failed":{{"message":"cannot send the result: {error}"}}}}"#)
            });
            let _ = reply_to.post_message(&JsValue::from_str(&text));
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let _ = scope.post_message(&JsValue::from_str(READY));
}

fn parse(bytes: &[u8]) -> WorkerReply {
    let started = js_sys::Date::now();
    match decode_file(bytes, &DecodeLimits::default()) {
        Ok(decoded) => WorkerReply::Parsed {
            parse_millis: js_sys::Date::now() - started,
            format: decoded.format_label(),
            skipped_lines: decoded.skipped_lines,
            rejected_spans: decoded.rejected.count,
            rejected_reason: decoded.rejected.first_reason.clone(),
            traces: decoded.batch.split_by_trace(),
        },
        Err(error) => WorkerReply::Failed {
            message: error.to_string(),
        },
    }
}

fn handle_request(text: &str) -> WorkerReply {
    match serde_json::from_str::<WorkerRequest>(text) {
        Ok(WorkerRequest::Export { format, trace }) => WorkerReply::Exported {
            text: match format {
                ExportFormat::OtlpJson => otlp::encode_json(&trace.batch),
                ExportFormat::JaegerJson => jaeger::encode_json(&trace.batch),
            },
        },
        Err(error) => WorkerReply::Failed {
            message: format!("unreadable request: {error}"),
        },
    }
}
