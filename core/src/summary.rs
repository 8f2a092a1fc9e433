//! Trace summaries: what the trace list shows for each trace, mergeable because spans of one
//! trace arrive in many batches.

use serde::{Deserialize, Serialize};

use crate::ids::TraceId;
use crate::model::{Batch, Span};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceSummary {
    pub trace_id: TraceId,
    /// The span shown as the trace's name; `None` only for a summary of no spans.
    pub root: Option<RootSpanInfo>,
    #[serde(with = "crate::model::u64_as_string")]
    pub start_nanos: u64,
    #[serde(with = "crate::model::u64_as_string")]
    pub end_nanos: u64,
    pub n_spans: u64,
    pub n_errors: u64,
    /// Distinct service names, sorted.
    pub services: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootSpanInfo {
    pub service: String,
    pub name: String,
    #[serde(with = "crate::model::u64_as_string")]
    pub start_nanos: u64,
    /// False when the trace has no span without a parent and its earliest span stands in.
    pub is_true_root: bool,
}

impl RootSpanInfo {
    /// True roots win over stand-ins; among equals the earlier span wins.
    fn is_better_than(&self, other: &RootSpanInfo) -> bool {
        (self.is_true_root, std::cmp::Reverse(self.start_nanos))
            > (other.is_true_root, std::cmp::Reverse(other.start_nanos))
    }
}

impl TraceSummary {
    /// Summarises the spans of `batch` that belong to `trace_id`.
    pub fn of_spans<'a>(
        trace_id: TraceId,
        batch: &Batch,
        spans: impl IntoIterator<Item = &'a Span>,
    ) -> Option<Self> {
        let mut summary: Option<TraceSummary> = None;
        for span in spans.into_iter().filter(|span| span.trace_id == trace_id) {
            let single = Self::of_one_span(batch.service_of(span), span);
            match &mut summary {
                Some(existing) => existing.merge(single),
                None => summary = Some(single),
            }
        }
        summary
    }

    fn of_one_span(service: &str, span: &Span) -> Self {
        TraceSummary {
            trace_id: span.trace_id,
            root: Some(RootSpanInfo {
                service: service.to_owned(),
                name: span.name.clone(),
                start_nanos: span.start_nanos,
                is_true_root: span.parent_span_id.is_none(),
            }),
            start_nanos: span.start_nanos,
            end_nanos: span.end_nanos.max(span.start_nanos),
            n_spans: 1,
            n_errors: u64::from(span.is_error()),
            services: vec![service.to_owned()],
        }
    }

    /// Combines the summaries of two disjoint sets of spans of the same trace.
    pub fn merge(&mut self, other: TraceSummary) {
        debug_assert_eq!(self.trace_id, other.trace_id);
        self.start_nanos = self.start_nanos.min(other.start_nanos);
        self.end_nanos = self.end_nanos.max(other.end_nanos);
        self.n_spans += other.n_spans;
        self.n_errors += other.n_errors;
        for service in other.services {
            if let Err(position) = self.services.binary_search(&service) {
                self.services.insert(position, service);
            }
        }
        match (&self.root, other.root) {
            (Some(mine), Some(theirs)) if theirs.is_better_than(mine) => self.root = Some(theirs),
            (None, theirs) => self.root = theirs,
            _ => {}
        }
    }

    pub fn duration_nanos(&self) -> u64 {
        self.end_nanos.saturating_sub(self.start_nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    #[test]
    fn summarises_the_slow_order() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let summary =
            TraceSummary::of_spans(trace.trace_id, &trace.batch, &trace.batch.spans).unwrap();
        let root = summary.root.as_ref().unwrap();
        assert_eq!(
            (root.service.as_str(), root.name.as_str()),
            ("order-service", "GET /orders/12345")
        );
        assert_eq!(summary.duration_nanos(), 3_200_000_000);
        assert_eq!(summary.n_spans, 10);
        assert_eq!(summary.services.len(), 8);
    }

    #[test]
    fn merging_in_any_split_gives_the_same_summary() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let spans = &trace.batch.spans;
        let whole = TraceSummary::of_spans(trace.trace_id, &trace.batch, spans).unwrap();
        for cut in 1..spans.len() {
            // The late half first, as when the root span arrives last.
            let mut merged =
                TraceSummary::of_spans(trace.trace_id, &trace.batch, &spans[cut..]).unwrap();
            merged.merge(
                TraceSummary::of_spans(trace.trace_id, &trace.batch, &spans[..cut]).unwrap(),
            );
            assert_eq!(merged, whole, "split at {cut}");
        }
    }
}
