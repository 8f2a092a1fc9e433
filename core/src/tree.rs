//! The span tree of one trace, normalised once into a flat depth-first list of rows.
//!
//! Architecture invariant: every span appears in exactly one row, whatever the input: missing
//! parents become orphan roots, cycles are broken, duplicate span ids keep both spans. Building
//! is iterative, so a 100,000-deep chain does not overflow the stack.

use rustc_hash::FxHashMap;

use crate::ids::SpanId;
use crate::model::Span;

/// Why a span is shown at the top level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// The span has no parent id: a true root.
    Root,
    /// Its parent id names a span that is not in the trace.
    Orphan,
    /// It sits on a parent cycle; the cycle was cut here.
    CycleBreak,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Index into the trace's span list.
    pub span_idx: u32,
    pub depth: u32,
    /// Index of the parent's row, `None` at the top level.
    pub parent_row: Option<u32>,
    /// Number of rows below this one (its whole subtree), for collapsing.
    pub n_descendants: u32,
    /// Set on top-level rows.
    pub root_kind: Option<RootKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanTree {
    /// Rows in depth-first order: parents before children, siblings by start time.
    pub rows: Vec<Row>,
    /// `row_of_span[span_idx]` is the span's row.
    pub row_of_span: Vec<u32>,
}

/// A tree's links before it is laid out: each span's children in start order and the
/// top-level spans. [`SpanTree::build`] is [`SpanTree::links`] then [`TreeLinks::lay_out`]; a
/// page that must not hold its thread for long runs the two in separate tasks.
pub struct TreeLinks {
    children: Children,
    /// Top-level spans in start order, with why each is one.
    top_level: Vec<(u32, RootKind)>,
}

impl TreeLinks {
    /// The rows in depth-first order.
    pub fn lay_out(self, spans: &[Span]) -> SpanTree {
        let n_spans = spans.len();
        let by_start = by_start(spans);
        let mut tree = SpanTree {
            rows: Vec::with_capacity(n_spans),
            row_of_span: vec![u32::MAX; n_spans],
        };
        for (span_idx, root_kind) in self.top_level {
            tree.push_subtree(span_idx, root_kind, &self.children);
        }
        // Spans not reached from any top-level span sit on parent cycles: cut each cycle at its
        // earliest span and lay out what hangs below it.
        if tree.rows.len() < n_spans {
            let mut unreached: Vec<u32> = (0..n_spans as u32)
                .filter(|idx| tree.row_of_span[*idx as usize] == u32::MAX)
                .collect();
            // `&by_start`, as for the children: one copy of the sort for both.
            unreached.sort_by(&by_start);
            for span_idx in unreached {
                if tree.row_of_span[span_idx as usize] == u32::MAX {
                    tree.push_subtree(span_idx, RootKind::CycleBreak, &self.children);
                }
            }
        }
        tree
    }
}

impl SpanTree {
    pub fn build(spans: &[Span]) -> Self {
        Self::links(spans).lay_out(spans)
    }

    /// The first half of [`Self::build`]: who is whose child.
    pub fn links(spans: &[Span]) -> TreeLinks {
        let n_spans = spans.len();
        // With duplicate ids, children attach to the first span carrying the id.
        let mut idx_of_id: FxHashMap<SpanId, u32> =
            FxHashMap::with_capacity_and_hasher(n_spans, Default::default());
        for (span_idx, span) in spans.iter().enumerate() {
            idx_of_id.entry(span.span_id).or_insert(span_idx as u32);
        }

        // Each span's parent, then children grouped per parent in one array (no list per span).
        let mut parent_of: Vec<u32> = vec![NO_PARENT; n_spans];
        let mut top_level: Vec<(u32, RootKind)> = Vec::new();
        for (span_idx, span) in spans.iter().enumerate() {
            let span_idx = span_idx as u32;
            match span.parent_span_id {
                None => top_level.push((span_idx, RootKind::Root)),
                Some(parent_id) => match idx_of_id.get(&parent_id) {
                    Some(&parent_idx) if parent_idx != span_idx => {
                        parent_of[span_idx as usize] = parent_idx;
                    }
                    // A span that is its own parent is a one-span cycle.
                    Some(_) => top_level.push((span_idx, RootKind::CycleBreak)),
                    None => top_level.push((span_idx, RootKind::Orphan)),
                },
            }
        }
        drop(idx_of_id);
        let by_start = by_start(spans);
        let children = Children::of(&parent_of, &by_start);
        top_level.sort_by(|(a, _), (b, _)| by_start(a, b));
        TreeLinks {
            children,
            top_level,
        }
    }

    /// The row's children in row order (see [`child_rows`]).
    pub fn children(&self, row_idx: u32) -> impl Iterator<Item = u32> + '_ {
        child_rows(row_idx, self.rows.len(), |row| self.rows[row].n_descendants)
    }

    fn push_subtree(&mut self, top_idx: u32, root_kind: RootKind, children: &Children) {
        // Explicit stack of (span, parent row); children pushed in reverse keep start order.
        let mut stack: Vec<(u32, Option<u32>)> = vec![(top_idx, None)];
        let first_row = self.rows.len();
        while let Some((span_idx, parent_row)) = stack.pop() {
            if self.row_of_span[span_idx as usize] != u32::MAX {
                continue; // already placed: the back edge of a cycle
            }
            let row_idx = self.rows.len() as u32;
            let depth = parent_row.map_or(0, |parent| self.rows[parent as usize].depth + 1);
            self.row_of_span[span_idx as usize] = row_idx;
            self.rows.push(Row {
                span_idx,
                depth,
                parent_row,
                n_descendants: 0,
                root_kind: parent_row.is_none().then_some(root_kind),
            });
            for &child in children.of_span(span_idx).iter().rev() {
                stack.push((child, Some(row_idx)));
            }
        }
        // Rows after their parents: one backward pass sums subtree sizes.
        for row_idx in (first_row..self.rows.len()).rev() {
            if let Some(parent) = self.rows[row_idx].parent_row {
                let subtree = self.rows[row_idx].n_descendants + 1;
                self.rows[parent as usize].n_descendants += subtree;
            }
        }
    }

    pub fn span_row(&self, span_idx: usize) -> &Row {
        &self.rows[self.row_of_span[span_idx] as usize]
    }
}

const NO_PARENT: u32 = u32::MAX;

/// Spans (by index) in start order, ties by index; one closure type, so that the children's
/// sort and the cycles' sort share one copy of the sort in the page's wasm.
fn by_start(spans: &[Span]) -> impl Fn(&u32, &u32) -> std::cmp::Ordering + '_ {
    |a: &u32, b: &u32| {
        let (span_a, span_b) = (&spans[*a as usize], &spans[*b as usize]);
        span_a.start_nanos.cmp(&span_b.start_nanos).then(a.cmp(b))
    }
}

/// The children of row `row_idx` of a depth-first list of `n_rows` rows: each child's subtree
/// is skipped to reach the next one, so no list of children is stored.
pub(crate) fn child_rows(
    row_idx: u32,
    n_rows: usize,
    n_descendants: impl Fn(usize) -> u32,
) -> impl Iterator<Item = u32> {
    let row_idx = row_idx as usize;
    let end = if row_idx < n_rows {
        row_idx + 1 + n_descendants(row_idx) as usize
    } else {
        row_idx
    };
    let mut next = row_idx + 1;
    std::iter::from_fn(move || {
        if next >= end {
            return None;
        }
        let child = next;
        next += n_descendants(child) as usize + 1;
        Some(child as u32)
    })
}

/// Every span's children in start order, stored per parent in one array (compressed rows).
struct Children {
    offsets: Vec<u32>,
    spans: Vec<u32>,
}

impl Children {
    fn of(parent_of: &[u32], by_start: impl Fn(&u32, &u32) -> std::cmp::Ordering) -> Self {
        let mut offsets = vec![0u32; parent_of.len() + 1];
        for &parent in parent_of.iter().filter(|parent| **parent != NO_PARENT) {
            offsets[parent as usize + 1] += 1;
        }
        for idx in 1..offsets.len() {
            offsets[idx] += offsets[idx - 1];
        }
        let mut filled = offsets.clone();
        let mut spans = vec![0u32; offsets[parent_of.len()] as usize];
        for (span_idx, &parent) in parent_of.iter().enumerate() {
            if parent != NO_PARENT {
                spans[filled[parent as usize] as usize] = span_idx as u32;
                filled[parent as usize] += 1;
            }
        }
        for window in offsets.windows(2) {
            spans[window[0] as usize..window[1] as usize].sort_by(&by_start);
        }
        Self { offsets, spans }
    }

    fn of_span(&self, span_idx: u32) -> &[u32] {
        let span_idx = span_idx as usize;
        &self.spans[self.offsets[span_idx] as usize..self.offsets[span_idx + 1] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{self, SpanSpec};

    fn tree_picture(spans: &[Span], tree: &SpanTree) -> String {
        let mut out = String::new();
        for row in &tree.rows {
            let marker = match row.root_kind {
                Some(RootKind::Orphan) => " (orphan)",
                Some(RootKind::CycleBreak) => " (cycle)",
                _ => "",
            };
            let name = &spans[row.span_idx as usize].name;
            out.push_str(&format!(
                "{}{name}{marker}\n",
                "  ".repeat(row.depth as usize)
            ));
        }
        out
    }

    #[test]
    fn orders_depth_first_by_start_time() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let tree = SpanTree::build(&trace.batch.spans);
        let picture = tree_picture(&trace.batch.spans, &tree);
        assert_eq!(
            picture,
            "GET /orders/12345\n  SELECT orders\n  GET /users/6789\n  GET /products/batch\n  \
             GET /stock\n    GET cache:inventory:*\n    SELECT FROM inventory\n      \
             Query Execution\n      Result Fetch\n  GET /discounts\n"
        );
        assert_eq!(tree.rows[0].n_descendants, 9);
        assert_eq!(tree.rows[4].n_descendants, 4);
    }

    #[test]
    fn keeps_orphans_cycles_and_duplicates() {
        let specs = [
            SpanSpec::new(1, None, "root", 0, 10),
            SpanSpec::new(2, Some(99), "lost child", 1, 2),
            SpanSpec::new(3, Some(4), "cycle a", 3, 4),
            SpanSpec::new(4, Some(3), "cycle b", 5, 6),
            SpanSpec::new(5, Some(5), "self parent", 7, 8),
            SpanSpec::new(1, Some(1), "duplicate of root", 8, 9),
        ];
        let spans = scenario::spans_from_specs(&specs);
        let tree = SpanTree::build(&spans);
        assert_eq!(tree.rows.len(), spans.len());
        assert_eq!(
            tree_picture(&spans, &tree),
            "root\n  duplicate of root\nlost child (orphan)\nself parent (cycle)\n\
             cycle a (cycle)\n  cycle b\n"
        );
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let specs: Vec<SpanSpec> = (1..=100_000u64)
            .map(|n| SpanSpec::new(n, (n > 1).then(|| n - 1), "deep", n, 200_000))
            .collect();
        let spans = scenario::spans_from_specs(&specs);
        let tree = SpanTree::build(&spans);
        assert_eq!(tree.rows.last().unwrap().depth, 99_999);
        assert_eq!(tree.rows[0].n_descendants, 99_999);
    }
}
