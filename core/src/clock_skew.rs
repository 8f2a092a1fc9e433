//! Clock-skew adjustment: spans recorded on another host's clock, shifted to fit inside the span
//! that called them, as Jaeger's query service and Zipkin Lens do.
//!
//! Rules (Jaeger's `clockskew` adjuster, with Zipkin's even split of an RPC's network time):
//!
//! - Only a span whose service differs from its parent's is checked: spans of one service share
//!   a clock, and a span of the parent's service inherits the parent's shift.
//! - Only impossible times are moved: a child that starts before its parent, or a server half
//!   (server span under a client span) that ends after its client half. A child of another
//!   service that merely outlives its parent (async work, a consumer) is left as recorded, and
//!   so is a server span after a client span without duration (a one-way send or a redirect,
//!   answered later: Zipkin's messaging spans).
//! - A server half is centred in its client half (the network time split evenly before and
//!   after); any other span is moved just far enough to start with its parent (or end with it).
//! - A span longer than its parent cannot fit and is left as recorded (Zipkin and Jaeger do the
//!   same): trace health reports it as outliving its parent.
//! - A sibling of the same service under the same parent (another span of the called service
//!   hung under the client half, Zipkin's shared span ids) takes the shift already found for
//!   that service there, when that makes it possible.
//!
//! Invariant: an adjusted trace has the same spans in the same order with the same ids; only
//! start, end and event times change, by the listed deltas.

use rustc_hash::FxHashMap;

use crate::model::{SpanKind, Trace};
use crate::tree::SpanTree;

/// A span moved by the adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkewAdjustment {
    /// Index into the trace's spans.
    pub span_idx: u32,
    /// Added to the span's start, end and event times.
    pub delta_nanos: i64,
}

/// The shifts that make the trace's recorded times possible, in span order; empty when they
/// already are.
pub fn find(trace: &Trace) -> Vec<SkewAdjustment> {
    if has_one_service(trace) {
        return Vec::new();
    }
    let tree = SpanTree::build(&trace.batch.spans);
    find_over_rows(trace, tree.rows.len(), |row| {
        let row = &tree.rows[row];
        (row.span_idx, row.parent_row)
    })
}

/// A trace's spans as tree rows in depth-first order, which is all [`find_in_waterfall`] reads:
/// `crate::waterfall::Waterfall` implements it (in `waterfall.rs`, which uses this module, so
/// this module does not name it back).
pub trait DepthFirstRows {
    fn n_rows(&self) -> usize;
    /// The span index of row `row_idx` and the row of its parent.
    fn span_and_parent(&self, row_idx: usize) -> (u32, Option<u32>);
}

/// [`find`] over the tree of the trace's recorded waterfall, which the page builds anyway (no
/// second tree for a trace whose clocks agree).
pub fn find_in_waterfall(trace: &Trace, waterfall: &impl DepthFirstRows) -> Vec<SkewAdjustment> {
    if has_one_service(trace) {
        return Vec::new();
    }
    find_over_rows(trace, waterfall.n_rows(), |row_idx| {
        waterfall.span_and_parent(row_idx)
    })
}

/// One service is one clock: nothing to check.
fn has_one_service(trace: &Trace) -> bool {
    let first_service = trace.batch.resources.first().map(|r| r.service_name());
    trace
        .batch
        .resources
        .iter()
        .all(|resource| Some(resource.service_name()) == first_service)
}

/// The shifts, over `n_rows` tree rows in depth-first order given as (span index, parent row).
fn find_over_rows(
    trace: &Trace,
    n_rows: usize,
    row_of: impl Fn(usize) -> (u32, Option<u32>),
) -> Vec<SkewAdjustment> {
    let spans = &trace.batch.spans;
    // Each resource's service looked up once, not twice per span.
    let services: Vec<&str> = trace
        .batch
        .resources
        .iter()
        .map(|resource| resource.service_name())
        .collect();
    let service_of = |span: &crate::model::Span| {
        services
            .get(span.resource_idx as usize)
            .copied()
            .unwrap_or(crate::model::UNKNOWN_SERVICE)
    };
    let mut delta_of_span = vec![0i64; spans.len()];
    // (parent row, service) -> the shift found for that service's spans under that parent.
    let mut shift_under_parent: FxHashMap<(u32, &str), i64> = FxHashMap::default();
    for row_idx in 0..n_rows {
        let (span_idx, parent_row) = row_of(row_idx);
        let Some(parent_row) = parent_row else {
            continue;
        };
        let span_idx = span_idx as usize;
        let parent_idx = row_of(parent_row as usize).0 as usize;
        let (span, parent) = (&spans[span_idx], &spans[parent_idx]);
        let service = service_of(span);
        let parent_delta = delta_of_span[parent_idx];
        if service == service_of(parent) {
            delta_of_span[span_idx] = parent_delta; // one clock
            continue;
        }
        // The parent as adjusted, the child as recorded.
        let parent_start = i128::from(parent.start_nanos) + i128::from(parent_delta);
        let parent_end = i128::from(parent.end_nanos) + i128::from(parent_delta);
        let start = i128::from(span.start_nanos);
        let end = i128::from(span.end_nanos).max(start);
        let is_server_half = span.kind == SpanKind::Server
            && parent.kind == SpanKind::Client
            && parent_end > parent_start;
        let impossible = |shift: i128| {
            start + shift < parent_start || (is_server_half && end + shift > parent_end)
        };
        let (duration, parent_duration) = (end - start, parent_end - parent_start);
        if !impossible(0) || duration > parent_duration {
            continue;
        }
        let sibling_shift = shift_under_parent
            .get(&(parent_row, service))
            .map(|shift| i128::from(*shift))
            .filter(|shift| !impossible(*shift));
        let shift = sibling_shift.unwrap_or_else(|| {
            if is_server_half {
                // Centred: the same margin (network time for an RPC) on both sides.
                parent_start + (parent_duration - duration) / 2 - start
            } else if start < parent_start {
                parent_start - start
            } else {
                parent_end - end
            }
        });
        let shift = i64::try_from(shift).unwrap_or(0);
        delta_of_span[span_idx] = shift;
        shift_under_parent.insert((parent_row, service), shift);
    }
    delta_of_span
        .into_iter()
        .enumerate()
        .filter(|(_, delta)| *delta != 0)
        .map(|(span_idx, delta_nanos)| SkewAdjustment {
            span_idx: span_idx as u32,
            delta_nanos,
        })
        .collect()
}

/// `trace` with `adjustments` applied to its spans' start, end and event times.
pub fn apply(trace: &Trace, adjustments: &[SkewAdjustment]) -> Trace {
    let mut adjusted = trace.clone();
    let shift = |nanos: u64, delta: i64| -> u64 {
        let moved = i128::from(nanos) + i128::from(delta);
        u64::try_from(moved.max(0)).unwrap_or(u64::MAX)
    };
    for adjustment in adjustments {
        let Some(span) = adjusted.batch.spans.get_mut(adjustment.span_idx as usize) else {
            continue;
        };
        span.start_nanos = shift(span.start_nanos, adjustment.delta_nanos);
        span.end_nanos = shift(span.end_nanos, adjustment.delta_nanos);
        for event in &mut span.events {
            event.time_nanos = shift(event.time_nanos, adjustment.delta_nanos);
        }
    }
    adjusted
}

/// The trace adjusted for clock skew, with what moved (the trace itself when nothing did).
pub fn adjust(trace: &Trace) -> (Trace, Vec<SkewAdjustment>) {
    let adjustments = find(trace);
    if adjustments.is_empty() {
        return (trace.clone(), adjustments);
    }
    (apply(trace, &adjustments), adjustments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AnyValue, KeyValue, Resource};
    use crate::scenario::{self, SpanSpec, spans_from_specs};
    use crate::waterfall::Waterfall;

    fn service(name: &str) -> Resource {
        Resource {
            attributes: vec![KeyValue {
                key: "service.name".into(),
                value: AnyValue::String(name.into()),
            }],
            ..Default::default()
        }
    }

    /// `a` calls `b`: the client half in `a`, `b`'s server half and its own child on `b`'s clock,
    /// which runs `b_offset` ahead or behind.
    fn call(b_offset: i64, server_kind: SpanKind) -> Trace {
        let at = |nanos: i64| (nanos + b_offset) as u64;
        let mut spans = spans_from_specs(&[
            SpanSpec::new(1, None, "GET /", 1_000, 2_000),
            SpanSpec::new(2, Some(1), "call b", 1_100, 1_900),
            SpanSpec::new(3, Some(2), "serve", at(1_150), at(1_850)),
            SpanSpec::new(4, Some(3), "work", at(1_200), at(1_800)),
        ]);
        spans[1].kind = SpanKind::Client;
        spans[2].kind = server_kind;
        spans[2].resource_idx = 1;
        spans[3].resource_idx = 1;
        Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: crate::Batch {
                resources: vec![service("a"), service("b")],
                scopes: vec![Default::default()],
                spans,
            },
        }
    }

    #[test]
    fn a_server_half_before_its_client_is_centred_with_its_subtree() {
        let trace = call(-500, SpanKind::Server);
        let (adjusted, moved) = adjust(&trace);
        // Centred in the 800 ns call: 50 ns of network time each side, as recorded on a right clock.
        assert_eq!(
            moved,
            [
                SkewAdjustment {
                    span_idx: 2,
                    delta_nanos: 500
                },
                SkewAdjustment {
                    span_idx: 3,
                    delta_nanos: 500
                },
            ]
        );
        assert_eq!(adjusted.batch.spans[2].start_nanos, 1_150);
        assert_eq!(adjusted.batch.spans[3].end_nanos, 1_800);
    }

    #[test]
    fn a_server_half_ending_after_its_client_moves_back() {
        let (_, moved) = adjust(&call(700, SpanKind::Server));
        assert_eq!(moved[0].delta_nanos, -700);
    }

    #[test]
    fn a_server_span_after_a_one_way_send_stays() {
        let mut trace = call(700, SpanKind::Server);
        trace.batch.spans[1].end_nanos = trace.batch.spans[1].start_nanos;
        trace.batch.spans[2].end_nanos = trace.batch.spans[2].start_nanos;
        assert!(find(&trace).is_empty(), "received after it was sent");
    }

    #[test]
    fn a_span_longer_than_its_parent_cannot_fit_and_stays() {
        let mut trace = call(-500, SpanKind::Server);
        trace.batch.spans[2].end_nanos += 1_000; // 1,700 ns of serving in an 800 ns call
        assert!(find(&trace).is_empty());
    }

    #[test]
    fn possible_times_and_outliving_async_work_stay_as_recorded() {
        // 30 ns off but still inside the call: nothing is impossible, nothing moves.
        assert!(find(&call(30, SpanKind::Server)).is_empty());
        // A consumer in another service may run on after its producer.
        assert!(find(&call(700, SpanKind::Consumer)).is_empty());
        // Before its parent is impossible for any kind: moved just enough.
        let moved = find(&call(-500, SpanKind::Consumer));
        assert_eq!(moved[0].delta_nanos, 1_100 - (1_150 - 500));
        for trace in [
            scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0),
            scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, 0),
        ] {
            assert!(find(&trace).is_empty(), "the scenario's clocks agree");
        }
    }

    #[test]
    fn the_waterfalls_tree_finds_the_same_shifts() {
        for trace in [
            call(-500, SpanKind::Server),
            call(700, SpanKind::Server),
            call(-500, SpanKind::Consumer),
        ] {
            let waterfall = Waterfall::build(&trace).unwrap();
            assert_eq!(find_in_waterfall(&trace, &waterfall), find(&trace));
        }
    }
}
