//! The critical path: the chain of work that determined the trace's end-to-end duration.
//!
//! Walking back from the end of a span, the work that finished last before that moment is what
//! the span was waiting for; the span itself is critical only where no child was running. This is
//! the algorithm of Jaeger UI's critical path (children clipped to their parent, so async work
//! that outlives its parent and clock skew cannot extend the path), made iterative so that deep
//! traces do not overflow the stack.

use crate::model::Span;
use crate::tree::SpanTree;

/// A stretch of time during which one span was the critical work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub span_idx: u32,
    pub start_nanos: u64,
    pub end_nanos: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CriticalPath {
    /// Segments from the end of the trace backwards.
    pub segments: Vec<Segment>,
    /// Per span index: time that span spent on the critical path (0 for most spans).
    pub critical_nanos: Vec<u64>,
    /// Per span index: whether the span lies on the path (including spans whose whole time is
    /// covered by a critical child, such as a thin wrapper).
    pub on_path: Vec<bool>,
}

impl CriticalPath {
    pub fn compute(spans: &[Span], tree: &SpanTree) -> Self {
        let mut path = CriticalPath {
            segments: Vec::new(),
            critical_nanos: vec![0; spans.len()],
            on_path: vec![false; spans.len()],
        };
        let children = ChildrenByEnd::of(spans, tree);
        // The top-level span that ends last decides the trace's end; several roots are walked
        // as children of a virtual root spanning the whole trace.
        let Some(last_root) = tree
            .rows
            .iter()
            .filter(|row| row.parent_row.is_none())
            .max_by_key(|row| (spans[row.span_idx as usize].end_nanos, row.span_idx))
        else {
            return path;
        };
        let root_span = &spans[last_root.span_idx as usize];
        path.walk(spans, &children, last_root.span_idx, root_span.end_nanos);
        path
    }

    /// Walks one span's subtree back from `cursor`, with an explicit stack of frames. Each
    /// frame holds the span's interval clipped to its parent (`floor` is the clipped start).
    fn walk(&mut self, spans: &[Span], children: &ChildrenByEnd, top: u32, cursor: u64) {
        let top_start = spans[top as usize].start_nanos.min(cursor);
        let mut stack = vec![Frame {
            span_idx: top,
            floor: top_start,
            cursor,
            next_child: 0,
        }];
        while let Some(frame) = stack.last_mut() {
            let span = &spans[frame.span_idx as usize];
            self.on_path[frame.span_idx as usize] = true;
            let mut chosen = None;
            for (position, &child) in children
                .of_span(frame.span_idx)
                .iter()
                .enumerate()
                .skip(frame.next_child)
            {
                let child_span = &spans[child as usize];
                let child_end = child_span.end_nanos.min(span.end_nanos);
                if child_end <= frame.floor {
                    break; // sorted by end: no later child overlaps the span either
                }
                if child_end <= frame.cursor {
                    let child_start = child_span.start_nanos.max(frame.floor);
                    chosen = Some((position, child, child_start, child_end));
                    break;
                }
            }
            let (span_idx, floor, cursor) = (frame.span_idx, frame.floor, frame.cursor);
            match chosen {
                Some((position, child, child_start, child_end)) => {
                    frame.cursor = child_start;
                    frame.next_child = position + 1;
                    self.push_segment(span_idx, child_end, cursor);
                    stack.push(Frame {
                        span_idx: child,
                        floor: child_start,
                        cursor: child_end,
                        next_child: 0,
                    });
                }
                None => {
                    self.push_segment(span_idx, floor, cursor);
                    stack.pop();
                }
            }
        }
    }

    fn push_segment(&mut self, span_idx: u32, start_nanos: u64, end_nanos: u64) {
        if end_nanos > start_nanos {
            self.segments.push(Segment {
                span_idx,
                start_nanos,
                end_nanos,
            });
            self.critical_nanos[span_idx as usize] += end_nanos - start_nanos;
        }
    }

    /// Total time covered by the path; equals the walked root's duration.
    pub fn total_nanos(&self) -> u64 {
        self.segments
            .iter()
            .map(|segment| segment.end_nanos - segment.start_nanos)
            .sum()
    }
}

/// The children of each span that overlap it, latest (clipped) end first: as the cursor moves
/// back in time, a forward-only index finds the last child finishing before it. One array for
/// all spans (a list per span would be 100,000 allocations for a large trace).
struct ChildrenByEnd {
    /// `flat[range_of_span[span]]` are the span's children.
    flat: Vec<u32>,
    range_of_span: Vec<(u32, u32)>,
}

impl ChildrenByEnd {
    fn of(spans: &[Span], tree: &SpanTree) -> Self {
        let mut flat = Vec::with_capacity(spans.len());
        let mut range_of_span = vec![(0, 0); spans.len()];
        // (clipped end, clipped start, child) of one parent's children, sorted before keeping.
        let mut siblings: Vec<(u64, u64, u32)> = Vec::new();
        for (row_idx, row) in tree.rows.iter().enumerate() {
            let parent = &spans[row.span_idx as usize];
            siblings.clear();
            siblings.extend(tree.children(row_idx as u32).filter_map(|child_row| {
                let child = tree.rows[child_row as usize].span_idx;
                let (start, end) = clip(&spans[child as usize], parent)?;
                Some((end, start, child))
            }));
            siblings.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
            let first = flat.len() as u32;
            flat.extend(siblings.iter().map(|(_, _, child)| *child));
            range_of_span[row.span_idx as usize] = (first, flat.len() as u32);
        }
        Self {
            flat,
            range_of_span,
        }
    }

    fn of_span(&self, span_idx: u32) -> &[u32] {
        let (first, end) = self.range_of_span[span_idx as usize];
        &self.flat[first as usize..end as usize]
    }
}

struct Frame {
    span_idx: u32,
    floor: u64,
    cursor: u64,
    next_child: usize,
}

/// A child's interval clipped to its parent's, or `None` when it covers none of the parent's time
/// (zero-length spans never hold up anything).
fn clip(child: &Span, parent: &Span) -> Option<(u64, u64)> {
    let start = child.start_nanos.max(parent.start_nanos);
    let end = child.end_nanos.min(parent.end_nanos);
    (end > start).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::scenario::{self, SpanSpec};

    fn on_path_names(spans: &[Span], path: &CriticalPath) -> Vec<String> {
        let tree = SpanTree::build(spans);
        tree.rows
            .iter()
            .filter(|row| path.on_path[row.span_idx as usize])
            .map(|row| spans[row.span_idx as usize].name.clone())
            .collect()
    }

    #[test]
    fn the_slow_order_waits_on_the_stock_query() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let spans = &trace.batch.spans;
        let path = CriticalPath::compute(spans, &SpanTree::build(spans));
        assert_eq!(path.total_nanos(), 3_200_000_000);
        let critical_ms = |name: &str| {
            let idx = spans.iter().position(|span| span.name == name).unwrap();
            path.critical_nanos[idx] / 1_000_000
        };
        assert_eq!(critical_ms("Query Execution"), 2700);
        assert_eq!(
            critical_ms("GET /stock"),
            40,
            "its own time around its calls"
        );
        let names = on_path_names(spans, &path);
        // Every call of the order page runs in sequence, so all are on the path.
        assert_eq!(names.len(), spans.len());
    }

    #[test]
    fn parallel_children_only_the_last_to_finish_is_critical() {
        let specs = [
            SpanSpec::new(1, None, "root", 0, 100),
            SpanSpec::new(2, Some(1), "fast", 10, 40),
            SpanSpec::new(3, Some(1), "slow", 10, 90),
            SpanSpec::new(4, Some(1), "after", 92, 98),
        ];
        let spans = scenario::spans_from_specs(&specs);
        let path = CriticalPath::compute(&spans, &SpanTree::build(&spans));
        assert_eq!(on_path_names(&spans, &path), ["root", "slow", "after"]);
        assert_eq!(path.critical_nanos, [10 + 2 + 2, 0, 80, 6]);
    }

    #[test]
    fn children_outliving_their_parent_are_clipped() {
        let specs = [
            SpanSpec::new(1, None, "root", 0, 100),
            SpanSpec::new(2, Some(1), "async", 50, 500),
            SpanSpec::new(3, Some(1), "skewed", 0, 10),
        ];
        let spans = scenario::spans_from_specs(&specs);
        let path = CriticalPath::compute(&spans, &SpanTree::build(&spans));
        assert_eq!(path.total_nanos(), 100);
        assert_eq!(path.critical_nanos, [40, 50, 10]);
    }

    #[test]
    fn a_child_starting_before_its_parent_is_clipped() {
        let specs = [
            SpanSpec::new(1, None, "root", 10, 100),
            SpanSpec::new(2, Some(1), "early", 0, 50),
        ];
        let spans = scenario::spans_from_specs(&specs);
        let path = CriticalPath::compute(&spans, &SpanTree::build(&spans));
        assert_eq!(path.critical_nanos, [50, 40]);
    }

    proptest! {
        /// Whatever the shape, the path covers the walked root exactly once, without overlaps.
        #[test]
        fn the_path_tiles_the_root(
            shape in proptest::collection::vec((0u64..8, 0u64..1000, 0u64..300), 1..40),
        ) {
            let mut specs = vec![SpanSpec::new(1, None, "root", 0, 1000)];
            for (n, (parent, start, length)) in shape.into_iter().enumerate() {
                let id = n as u64 + 2;
                let parent = 1 + parent.min(id - 2);
                specs.push(SpanSpec::new(id, Some(parent), "child", start, start + length));
            }
            let spans = scenario::spans_from_specs(&specs);
            let path = CriticalPath::compute(&spans, &SpanTree::build(&spans));
            prop_assert_eq!(path.total_nanos(), 1000);
            let mut segments = path.segments;
            segments.sort_by_key(|segment| segment.start_nanos);
            for pair in segments.windows(2) {
                prop_assert!(pair[0].end_nanos <= pair[1].start_nanos);
            }
        }
    }
}
