//! One row of a comparison: the figures of a group on each side and what changed.

use super::comparison::{
    AttributeChange, Change, ComparisonRow, CriticalPathChange, delta_percent,
};
use super::paths::{Group, KeyTable, Side, totals};
use crate::layout::percent_of;
use crate::model::AnyValue;

/// What building a row needs: the key table and both sides.
pub(super) struct RowContext<'a> {
    pub(super) keys: &'a KeyTable,
    pub(super) before: &'a Side<'a>,
    pub(super) after: &'a Side<'a>,
}

impl RowContext<'_> {
    pub(super) fn row(
        &self,
        change: Change,
        before: Option<&Group>,
        after: Option<&Group>,
    ) -> ComparisonRow {
        row(
            self.keys,
            change,
            before.map(|group| (self.before, group)),
            after.map(|group| (self.after, group)),
        )
    }
}

fn row(
    keys: &KeyTable,
    change: Change,
    before: Option<(&Side<'_>, &Group)>,
    after: Option<(&Side<'_>, &Group)>,
) -> ComparisonRow {
    let before_totals = before.map(|(side, group)| totals(keys, side, group));
    let after_totals = after.map(|(side, group)| totals(keys, side, group));
    let described = before_totals
        .as_ref()
        .or(after_totals.as_ref())
        .expect("a row has a side");
    let total_before = before_totals.as_ref().map_or(0, |t| t.total_nanos);
    let total_after = after_totals.as_ref().map_or(0, |t| t.total_nanos);
    let attribute_changes = match (before, after) {
        (Some((before_side, before_group)), Some((after_side, after_group)))
            if before_group.rows.len() == 1 && after_group.rows.len() == 1 =>
        {
            attribute_changes(
                before_side,
                before_group.rows[0],
                after_side,
                after_group.rows[0],
            )
        }
        _ => Vec::new(),
    };
    let critical_path = match (
        before_totals.as_ref().map(|t| t.on_critical_path),
        after_totals.as_ref().map(|t| t.on_critical_path),
    ) {
        (Some(true), Some(true)) => CriticalPathChange::Stayed,
        (Some(false), Some(true)) => CriticalPathChange::Entered,
        (Some(true), Some(false)) => CriticalPathChange::Left,
        _ => CriticalPathChange::Off,
    };
    ComparisonRow {
        service: described.service.clone(),
        name: described.name.clone(),
        renamed_to: match (change, &after_totals) {
            (Change::Renamed, Some(after)) => Some(after.name.clone()),
            _ => None,
        },
        depth: described.depth,
        change,
        count_before: before_totals.as_ref().map_or(0, |t| t.count),
        count_after: after_totals.as_ref().map_or(0, |t| t.count),
        total_before_nanos: total_before,
        total_after_nanos: total_after,
        self_before_nanos: before_totals.as_ref().map_or(0, |t| t.self_nanos),
        self_after_nanos: after_totals.as_ref().map_or(0, |t| t.self_nanos),
        // Shares are wall-clock time (never above 100 %), the totals beside them busy time.
        percent_of_total_before: before.map_or(0.0, |(side, _)| {
            let wall = before_totals.as_ref().map_or(0, |t| t.wall_nanos);
            percent_of(wall, side.waterfall.duration_nanos())
        }),
        percent_of_total_after: after.map_or(0.0, |(side, _)| {
            let wall = after_totals.as_ref().map_or(0, |t| t.wall_nanos);
            percent_of(wall, side.waterfall.duration_nanos())
        }),
        delta_nanos: total_after as i64 - total_before as i64,
        delta_percent: if before.is_some() {
            delta_percent(total_before, total_after)
        } else {
            None
        },
        attribute_changes,
        critical_before_nanos: before_totals.as_ref().map_or(0, |t| t.critical_nanos),
        critical_after_nanos: after_totals.as_ref().map_or(0, |t| t.critical_nanos),
        critical_path,
        extent_before: before_totals.as_ref().map(|t| t.extent),
        extent_after: after_totals.as_ref().map(|t| t.extent),
    }
}

fn attribute_changes(
    before: &Side<'_>,
    before_row: u32,
    after: &Side<'_>,
    after_row: u32,
) -> Vec<AttributeChange> {
    let before_attributes = attributes_of(before, before_row);
    let after_attributes = attributes_of(after, after_row);
    // Most matched spans have equal attributes: compare values first, format only changes.
    let mut changes = Vec::new();
    for kv in before_attributes {
        let other = after_attributes.iter().find(|other| other.key == kv.key);
        let same = other.is_some_and(|other| {
            other.value == kv.value || display(&other.value) == display(&kv.value)
        });
        if !same {
            changes.push(AttributeChange {
                key: kv.key.clone(),
                before: Some(display(&kv.value)),
                after: other.map(|other| display(&other.value)),
            });
        }
    }
    for kv in after_attributes {
        if !before_attributes.iter().any(|other| other.key == kv.key) {
            changes.push(AttributeChange {
                key: kv.key.clone(),
                before: None,
                after: Some(display(&kv.value)),
            });
        }
    }
    changes
}

fn attributes_of<'a>(side: &Side<'a>, row: u32) -> &'a [crate::model::KeyValue] {
    let span_idx = side.waterfall.rows[row as usize].span_idx as usize;
    &side.trace.batch.spans[span_idx].attributes
}

fn display(value: &AnyValue) -> String {
    value.to_display_string()
}
