//! What a comparison of two traces says: the totals and one row per group of spans, as the API
//! serves it and the reports print it.

use serde::Serialize;

use crate::ids::TraceId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Matched,
    Moved,
    /// No span with the same path or name is left, but one of the same service under the same
    /// parent reads alike (`SELECT categories WHERE id=?` run 20 times, then one
    /// `SELECT * FROM categories WHERE id IN (?)` batch): matched by similarity.
    Renamed,
    Added,
    Removed,
}

/// Whether a span's place on the critical path changed: the trace now waits on it, or no longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CriticalPathChange {
    /// On the path in both traces.
    Stayed,
    /// Off the path in both traces (or on one side only because the span was added or removed).
    Off,
    Entered,
    Left,
}

/// An attribute whose value differs between the sides (`inventory.cache_hit: false → true`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeChange {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComparisonRow {
    pub service: String,
    /// The span name (normalised when several spans with different literals were grouped).
    pub name: String,
    /// For [`Change::Renamed`], the name in the second trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_to: Option<String>,
    pub depth: u32,
    pub change: Change,
    pub count_before: u64,
    pub count_after: u64,
    pub total_before_nanos: u64,
    pub total_after_nanos: u64,
    pub self_before_nanos: u64,
    pub self_after_nanos: u64,
    /// Wall-clock share of the trace (the union of the group's spans), never above 100 %.
    pub percent_of_total_before: f64,
    pub percent_of_total_after: f64,
    pub delta_nanos: i64,
    /// `None` when the span is new (nothing to compare against).
    pub delta_percent: Option<f64>,
    pub attribute_changes: Vec<AttributeChange>,
    /// Time these spans spent on the critical path on each side.
    pub critical_before_nanos: u64,
    pub critical_after_nanos: u64,
    pub critical_path: CriticalPathChange,
    /// Where these spans lie in each trace, from its start: the earliest start and the latest end
    /// (`None` on the side without them). Drawn as aligned side-by-side waterfalls.
    pub extent_before: Option<Extent>,
    pub extent_after: Option<Extent>,
}

/// A stretch of a trace's timeline, in nanoseconds from the trace's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extent {
    pub start_nanos: u64,
    pub end_nanos: u64,
}

/// A resource attribute of a service in both traces that differs between them
/// (`checkout-service service.version: 1.4.0 -> 1.5.0`, often what explains a deploy). A
/// service with several resources (instances) that disagree shows their distinct values joined
/// by ", ".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChange {
    pub service: String,
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub total_before_nanos: u64,
    pub total_after_nanos: u64,
    pub delta_nanos: i64,
    pub delta_percent: Option<f64>,
    pub spans_before: usize,
    pub spans_after: usize,
    /// Spans with a `db.statement` attribute.
    pub queries_before: usize,
    pub queries_after: usize,
    /// The traces compared, for reports that link back to them.
    pub trace_id_before: TraceId,
    pub trace_id_after: TraceId,
    /// Resource attributes changed for the services in both traces, by service and key.
    pub resource_changes: Vec<ResourceChange>,
    /// In tree order: the first trace's rows, with each row only the second trace has placed
    /// after the rows of its parent's subtree, so that both waterfalls line up. Biggest change
    /// first is [`Comparison::rows_by_impact`].
    pub rows: Vec<ComparisonRow>,
}

impl Comparison {
    /// Rows sorted by the size of their change, largest first.
    pub fn rows_by_impact(&self) -> Vec<&ComparisonRow> {
        let mut rows: Vec<&ComparisonRow> = self.rows.iter().collect();
        crate::sort::by_u64_key_descending(&mut rows, |row| row.delta_nanos.unsigned_abs());
        rows
    }

    /// Whether the second trace is more than `percent` % slower than the first.
    pub fn is_slower_by_more_than(&self, percent: f64) -> bool {
        self.total_after_nanos as f64 > self.total_before_nanos as f64 * (1.0 + percent / 100.0)
    }
}

/// The change from `before` to `after` in percent of `before`; `None` when there was nothing
/// before.
pub(crate) fn delta_percent(before: u64, after: u64) -> Option<f64> {
    (before > 0).then(|| (after as f64 - before as f64) * 100.0 / before as f64)
}
