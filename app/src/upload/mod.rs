//! Trace files opened in the browser: read with progress, parsed in a Web Worker by core's
//! decoders, and kept in memory (not on the server, unless the user saves them). Uploaded traces
//! open in the same trace and comparison views as stored ones: [`load_trace`] looks here first.
//!
//! `state.rs` keeps the files ([`Uploads`]), `worker.rs` runs the format worker, `export.rs`
//! encodes a trace for download there, `saved.rs` keeps files in the browser's database, and
//! `protocol.rs` is the page/worker message contract.

mod export;
pub mod protocol;
mod saved;
mod state;
mod worker;

use std::sync::Arc;

use spanview_core::Trace;

use crate::api::{self, ApiError};
pub use export::export_trace;
pub use state::{FileState, LoadedFile, UploadedFile, Uploads};
pub use worker::warm_up_format_worker;

/// A trace from this browser's uploads, else from the server.
pub async fn load_trace(uploads: Uploads, trace_id: String) -> Result<Arc<Trace>, ApiError> {
    // A deep link may carry a 64-bit id (16 hex digits) or upper case: files and the server
    // know the trace by its 32-digit lower-case form.
    let trace_id = trace_id
        .parse::<spanview_core::TraceId>()
        .map_or(trace_id, |id| id.to_hex());
    if let Some(trace) = uploads.trace(&trace_id) {
        return Ok(trace);
    }
    // After a reload, the files kept from before may hold it once they have loaded again.
    if uploads.restored().await
        && let Some(trace) = uploads.trace(&trace_id)
    {
        return Ok(trace);
    }
    api::trace(&trace_id).await.map(Arc::new)
}
