//! The format worker: decodes uploaded trace files and encodes exports off the page's thread,
//! with the same core code as the server, so that a 100 MB file never freezes the page. Trunk
//! builds it as a worker (`data-type="worker"` in app/index.html); see `protocol` for the messages.

use spanview_core::formats::{DecodeLimits, compact, decode_file, jaeger, otlp, progress};
use spanview_core::scenario;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[path = "../upload/protocol.rs"]
mod protocol;

use protocol::{EXPORT_JAEGER_JSON, EXPORT_OTLP_JSON, PARSE, READY, TraceListing, WorkerReply};
use spanview_core::formats::compact::encode_batch_by_trace;

// Decoding a file allocates a few strings and vectors per span: talc instead of wasm32's default
// dlmalloc is smaller and measured a little faster here (docs/benchmarks.md, upload).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    console_error_panic_hook::set_once();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_to = scope.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let request: js_sys::Array = event.data().unchecked_into();
            let kind = request.get(0).as_string().unwrap_or_default();
            let payload = js_sys::Uint8Array::new(&request.get(1)).to_vec();
            let (reply, bytes) = match kind.as_str() {
                PARSE => parse(&payload, &reply_to),
                EXPORT_OTLP_JSON | EXPORT_JAEGER_JSON => (export(&kind, &payload), Vec::new()),
                other => (failed(format!("unknown request {other:?}")), Vec::new()),
            };
            std::mem::forget(payload);
            let text = serde_json::to_string(&reply).unwrap_or_else(|error| {
                format!(r#"{{"failed":{{"message":"cannot send the result: {error}"}}}}"#)
            });
            let buffer = js_sys::Uint8Array::from(bytes.as_slice()).buffer();
            let message = js_sys::Array::of2(&JsValue::from_str(&text), &buffer);
            let _ = reply_to.post_message_with_transfer(&message, &js_sys::Array::of1(&buffer));
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    warm_up();
    let _ = scope.post_message(&JsValue::from_str(READY));
}

/// Decodes a small file of each format once, before the worker says it is ready.
///
/// The browser compiles a WebAssembly function when it is first called and optimises it only
/// once it has run a while, and each call keeps the code it started with: the first file a
/// worker decodes ran at a fraction of the decoder's speed (a 50 MB OTLP JSON file: about
/// 520-730 ms, against 330-500 ms once the decoder had run on a small file first). Workers are
/// started ahead of need (the spare, see `upload`), so this costs the user no wait.
fn warm_up() {
    let mut batch = spanview_core::Batch::default();
    for copy in 0..8u64 {
        for trace in [
            scenario::slow_order(&format!("{:032x}", 4 * copy + 1), copy),
            scenario::fixed_order(&format!("{:032x}", 4 * copy + 2), copy),
            scenario::n_plus_one_products(&format!("{:032x}", 4 * copy + 3), copy),
            scenario::batched_products(&format!("{:032x}", 4 * copy + 4), copy),
        ] {
            batch.append(trace.batch);
        }
    }
    let files = [
        otlp::encode_json(&batch).into_bytes(),
        otlp::encode_protobuf(&batch),
        jaeger::encode_json(&batch).into_bytes(),
    ];
    for file in files {
        if let Ok(decoded) = decode_file(&file, &DecodeLimits::default()) {
            let _ = encode_batch_by_trace(&decoded.batch);
        }
    }
}

/// Files smaller than this are decoded in a blink: their progress would only flicker.
const REPORT_PROGRESS_FROM_BYTES: usize = 1 << 20;

fn parse(bytes: &[u8], page: &web_sys::DedicatedWorkerGlobalScope) -> (WorkerReply, Vec<u8>) {
    let started = js_sys::Date::now();
    let decode = || decode_file(bytes, &DecodeLimits::default());
    let decoded = if bytes.len() >= REPORT_PROGRESS_FROM_BYTES {
        let page = page.clone();
        progress::reporting(
            move |fraction| _ = page.post_message(&JsValue::from_f64(fraction)),
            decode,
        )
    } else {
        decode()
    };
    match decoded {
        Ok(decoded) => {
            let parse_millis = js_sys::Date::now() - started;
            // Grouped by trace and encoded straight from the decoded batch (no span moves).
            let (traces, encoded) = encode_batch_by_trace(&decoded.batch);
            let reply = WorkerReply::Parsed {
                parse_millis,
                format: decoded.format_label(),
                skipped_lines: decoded.skipped_lines,
                rejected_spans: decoded.rejected.count,
                rejected_reason: decoded.rejected.first_reason.clone(),
                base64_ids: decoded.base64_ids,
                traces: traces
                    .iter()
                    .map(|indices| TraceListing::of(&decoded.batch, indices))
                    .collect(),
            };
            // The worker is stopped after this one reply: freeing every string of the spans
            // one by one would only delay it.
            std::mem::forget(decoded);
            (reply, encoded)
        }
        Err(error) => (failed(error.to_string()), Vec::new()),
    }
}

fn export(kind: &str, trace: &[u8]) -> WorkerReply {
    match compact::decode(trace) {
        Ok(batch) => WorkerReply::Exported {
            text: if kind == EXPORT_OTLP_JSON {
                otlp::encode_json(&batch)
            } else {
                jaeger::encode_json(&batch)
            },
        },
        Err(error) => failed(format!("unreadable trace: {error}")),
    }
}

fn failed(message: String) -> WorkerReply {
    WorkerReply::Failed { message }
}
