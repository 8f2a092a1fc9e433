//! Comparing two traces span by span: what got faster, slower, added or removed.
//!
//! Spans are matched by their tree path (service and normalised name of every ancestor and
//! itself), so that the same call in the same place matches even when ids and timings differ.
//! Repeated siblings with the same path form one row with counts on both sides (20 queries
//! against 1), and spans left over on both sides with the same service and name are matched as
//! "moved" (re-parented).

mod comparison;
mod matching;
pub(crate) mod paths;
mod report;
mod resources;
mod rows;
#[cfg(test)]
mod tests;

use crate::model::Trace;

use matching::Node;
use paths::{KeyTable, Side};
use rows::RowContext;

pub(crate) use comparison::delta_percent;
pub use comparison::{
    AttributeChange, Change, Comparison, ComparisonRow, CriticalPathChange, Extent, ResourceChange,
};
pub use report::{
    escape_markdown, format_delta, format_delta_percent, render_markdown, render_markdown_linked,
    render_table,
};
pub use resources::resource_changes;

pub fn compare(before: &Trace, after: &Trace) -> Option<Comparison> {
    let mut keys = KeyTable::default();
    let before_side = Side::new(before, &mut keys)?;
    let after_side = Side::new(after, &mut keys)?;
    let matched = matching::match_groups(&keys, &before_side, &after_side);
    let context = RowContext {
        keys: &keys,
        before: &before_side,
        after: &after_side,
    };
    let rows = matching::aligned_order(&before_side, &after_side, &matched.before_of_after)
        .into_iter()
        .map(|node| match node {
            Node::Before(before_idx) => {
                let before_group = &before_side.groups[before_idx as usize];
                let after_group = matched.after_of_before[before_idx as usize]
                    .map(|after_idx| &after_side.groups[after_idx as usize]);
                context.row(
                    matched.change_of_before[before_idx as usize],
                    Some(before_group),
                    after_group,
                )
            }
            Node::Added(after_idx) => context.row(
                Change::Added,
                None,
                Some(&after_side.groups[after_idx as usize]),
            ),
        })
        .collect();
    let total_before_nanos = before_side.duration_nanos();
    let total_after_nanos = after_side.duration_nanos();
    Some(Comparison {
        total_before_nanos,
        total_after_nanos,
        delta_nanos: total_after_nanos as i64 - total_before_nanos as i64,
        delta_percent: delta_percent(total_before_nanos, total_after_nanos),
        spans_before: before.batch.spans.len(),
        spans_after: after.batch.spans.len(),
        queries_before: count_queries(before),
        queries_after: count_queries(after),
        trace_id_before: before.trace_id,
        trace_id_after: after.trace_id,
        resource_changes: resource_changes(before, after),
        rows,
    })
}

fn count_queries(trace: &Trace) -> usize {
    trace
        .batch
        .spans
        .iter()
        .filter(|span| span.attributes.iter().any(|kv| kv.key == "db.statement"))
        .count()
}
