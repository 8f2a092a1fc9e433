//! What decoding an OTLP payload gives: the spans kept, the spans rejected and why, or an error
//! for a payload that cannot be read at all; and the time check every decoder shares.

use crate::model::{Batch, Resource, Scope, Span};

#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("invalid OTLP JSON at line {line} column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid OTLP protobuf at byte {offset}: {message}")]
    Protobuf { offset: usize, message: String },
}

/// Spans the decoder dropped, reported to exporters as OTLP `partialSuccess`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RejectedSpans {
    pub count: u64,
    /// The first reason, e.g. `span 3 ("GET /"): trace id: an all-zero id is invalid`.
    pub first_reason: Option<String>,
}

impl RejectedSpans {
    pub(crate) fn record(&mut self, reason: impl FnOnce() -> String) {
        self.count += 1;
        if self.first_reason.is_none() {
            self.first_reason = Some(reason());
        }
    }
}

/// The spans a payload decoded into, and those it could not keep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    pub batch: Batch,
    pub rejected: RejectedSpans,
    /// Some ids were base64 rather than hex (OTLP JSON only: the protobuf JSON mapping's
    /// default, written by older exporters and Grafana Tempo), worth telling whoever opened it.
    pub base64_ids: bool,
}

impl Decoded {
    /// Adds a request's resource; returns its index for the spans under it.
    pub(crate) fn push_resource(&mut self, resource: Resource) -> u32 {
        self.batch.resources.push(resource);
        (self.batch.resources.len() - 1) as u32
    }

    /// Adds a request's scope; returns its index for the spans under it.
    pub(crate) fn push_scope(&mut self, scope: Scope) -> u32 {
        self.batch.scopes.push(scope);
        (self.batch.scopes.len() - 1) as u32
    }

    /// Keeps the next span of the request, or records why it was rejected: its name and the
    /// problem (its ids, see `ids::span_ids`, then its times, see [`span_times`]). Its position in
    /// the request is the count of spans kept or rejected before it.
    pub(crate) fn keep_or_reject(&mut self, converted: Result<Span, (String, String)>) {
        let checked = converted.and_then(|span| match span_times(&span) {
            Ok(()) => Ok(span),
            Err(problem) => Err((span.name, problem)),
        });
        match checked {
            Ok(span) => self.batch.spans.push(span),
            Err((name, problem)) => {
                let position = self.batch.spans.len() as u64 + self.rejected.count;
                self.rejected
                    .record(|| format!("span {position} ({name:?}): {problem}"));
            }
        }
    }
}

/// Times at or above this, 2^63 ns (the year 2262), are refused: downstream (the store, the
/// UI's maths) times are signed 64-bit nanoseconds, where such a time, typically a negative
/// number written as unsigned, would turn negative.
pub const TIME_LIMIT_NANOS: u64 = 1 << 63;

/// A span's times checked as every decoder checks them, after its ids: the start, the end and
/// each event's time below [`TIME_LIMIT_NANOS`], and the end not before the start. A span
/// failing them is rejected (never clamped: a partial-success reason says what was wrong, and
/// the sender's data is not silently changed).
pub(crate) fn span_times(span: &Span) -> Result<(), String> {
    let too_late =
        |what: &str, nanos: u64| format!("{what} {nanos} ns is not below 2^63 ns (the year 2262)");
    if span.start_nanos >= TIME_LIMIT_NANOS {
        return Err(too_late("start time", span.start_nanos));
    }
    if span.end_nanos >= TIME_LIMIT_NANOS {
        return Err(too_late("end time", span.end_nanos));
    }
    if span.end_nanos < span.start_nanos {
        return Err(format!(
            "end time {} ns is before start time {} ns",
            span.end_nanos, span.start_nanos
        ));
    }
    for (event_idx, event) in span.events.iter().enumerate() {
        if event.time_nanos >= TIME_LIMIT_NANOS {
            return Err(too_late(
                &format!("event {event_idx} time"),
                event.time_nanos,
            ));
        }
    }
    Ok(())
}
