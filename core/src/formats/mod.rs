//! Trace file and wire formats, decoded into the [`crate::Batch`] model.
//!
//! Every decoder is shared by the OTLP receiver, `POST /api/import`, `spanview import` and the
//! browser's upload, so all of them accept and reject exactly the same inputs.

pub mod otlp;

pub use otlp::{Decoded, OtlpError, RejectedSpans};
