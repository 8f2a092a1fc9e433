//! Where the time went: self time per span.

use crate::model::Span;
use crate::tree::SpanTree;

/// Each span's self time: its duration minus the union of its children's intervals, clipped to
/// the span. Overlapping (parallel) children are not subtracted twice.
pub fn self_times(spans: &[Span], tree: &SpanTree) -> Vec<u64> {
    let mut child_intervals: Vec<Vec<(u64, u64)>> = vec![Vec::new(); spans.len()];
    for row in &tree.rows {
        if let Some(parent_row) = row.parent_row {
            let parent_idx = tree.rows[parent_row as usize].span_idx as usize;
            let child = &spans[row.span_idx as usize];
            child_intervals[parent_idx].push((child.start_nanos, child.end_nanos));
        }
    }
    spans
        .iter()
        .zip(child_intervals)
        .map(|(span, intervals)| {
            let covered = covered_nanos(span.start_nanos, span.end_nanos, intervals);
            span.duration_nanos().saturating_sub(covered)
        })
        .collect()
}

/// Length of the union of `intervals` inside `[start, end)`.
fn covered_nanos(start: u64, end: u64, mut intervals: Vec<(u64, u64)>) -> u64 {
    intervals.sort_unstable();
    let mut covered = 0u64;
    let mut reached = start;
    for (interval_start, interval_end) in intervals {
        let from = interval_start.max(reached);
        let to = interval_end.min(end);
        if to > from {
            covered += to - from;
            reached = to;
        }
    }
    covered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    #[test]
    fn self_time_of_the_slow_order() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let spans = &trace.batch.spans;
        let tree = SpanTree::build(spans);
        let self_times = self_times(spans, &tree);
        let ms = |name: &str| {
            let idx = spans.iter().position(|span| span.name == name).unwrap();
            self_times[idx] / 1_000_000
        };
        // 3200 - (50 + 80 + 120 + 2800 + 60)
        assert_eq!(ms("GET /orders/12345"), 90);
        assert_eq!(ms("GET /stock"), 40);
        assert_eq!(ms("SELECT FROM inventory"), 0);
        assert_eq!(ms("Query Execution"), 2700);
    }

    #[test]
    fn parallel_children_are_not_counted_twice() {
        assert_eq!(
            covered_nanos(0, 100, vec![(10, 50), (20, 60), (90, 200)]),
            60
        );
    }
}
