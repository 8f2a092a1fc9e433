//! Where the time went: self time per span.

use crate::model::Span;
use crate::tree::SpanTree;

/// Each span's self time: its duration minus the union of its children's intervals, clipped to
/// the span. Overlapping (parallel) children are not subtracted twice.
pub fn self_times(spans: &[Span], tree: &SpanTree) -> Vec<u64> {
    let mut self_nanos = vec![0; spans.len()];
    for (row_idx, row) in tree.rows.iter().enumerate() {
        let span = &spans[row.span_idx as usize];
        // The tree orders siblings by start time, as the union needs.
        let children = tree.children(row_idx as u32).map(|child_row| {
            let child = &spans[tree.rows[child_row as usize].span_idx as usize];
            (child.start_nanos, child.end_nanos)
        });
        let covered = covered_nanos(span.start_nanos, span.end_nanos, children);
        self_nanos[row.span_idx as usize] = span.duration_nanos().saturating_sub(covered);
    }
    self_nanos
}

/// Length of the union of `intervals` (in order of their start) inside `[start, end)`.
fn covered_nanos(start: u64, end: u64, intervals: impl Iterator<Item = (u64, u64)>) -> u64 {
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
            covered_nanos(0, 100, [(10, 50), (20, 60), (90, 200)].into_iter()),
            60
        );
    }
}
