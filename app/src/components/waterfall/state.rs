//! The trace view's state: which rows are collapsed and selected, and the share filter. Shared
//! through context by the header, the rows, the detail panel and the keyboard handler.

use std::collections::HashSet;
use std::sync::Arc;

use leptos::prelude::*;
use spanview_core::Trace;
use spanview_core::repeated_work::RepeatedWork;
use spanview_core::waterfall::Waterfall;

#[derive(Clone)]
pub struct WaterfallState {
    pub trace: Arc<Trace>,
    pub waterfall: Arc<Waterfall>,
    /// Row indexes whose children are hidden.
    pub collapsed: RwSignal<HashSet<u32>>,
    /// Sibling groups (indexes into `waterfall.groups`) shown as their members; the others
    /// fold into one "×N" row.
    pub expanded_groups: RwSignal<HashSet<u32>>,
    /// The part of the trace the timeline shows, in percent of the whole (`None`: all of it).
    pub zoom: RwSignal<Option<(f64, f64)>>,
    /// Whether rows on the critical path are highlighted.
    pub show_critical_path: RwSignal<bool>,
    pub selected: RwSignal<Option<u32>>,
    /// Rows below this share of the total are hidden ("only spans above X %").
    pub min_percent: RwSignal<f64>,
    pub show_help: RwSignal<bool>,
    /// Search within the trace: the text typed, and whether to show only matching rows.
    pub search: RwSignal<String>,
    pub matches_only: RwSignal<bool>,
    pub matches: Memo<Vec<u32>>,
    /// When set, only these rows are shown (an N+1 banner's "show them").
    pub pinned_rows: RwSignal<Option<Vec<u32>>>,
    pub visible_rows: Memo<Vec<u32>>,
    /// Repeated work found after the first paint (`None` until then): the banners show it and
    /// the header's call-outs rank it with single spans.
    pub repeated_work: RwSignal<Option<Arc<Vec<RepeatedWork>>>>,
    /// Whether the trace is drawn as recorded instead of adjusted for clock skew (owned by the
    /// page, which rebuilds the waterfall when it changes); `None` when nothing needs adjusting.
    pub recorded_times: Option<RwSignal<bool>>,
}

impl WaterfallState {
    pub fn new(
        trace: Arc<Trace>,
        waterfall: Arc<Waterfall>,
        recorded_times: Option<RwSignal<bool>>,
    ) -> Self {
        let collapsed = RwSignal::new(HashSet::new());
        let expanded_groups = RwSignal::new(HashSet::new());
        let min_percent = RwSignal::new(0.0);
        let search = RwSignal::new(String::new());
        let matches_only = RwSignal::new(false);
        let (for_matches, trace_for_matches) = (waterfall.clone(), trace.clone());
        let matches = Memo::new(move |_| {
            search.with(|needle| for_matches.search(&trace_for_matches, needle))
        });
        let for_memo = waterfall.clone();
        let pinned_rows: RwSignal<Option<Vec<u32>>> = RwSignal::new(None);
        let visible_rows = Memo::new(move |_| {
            if let Some(pinned) = pinned_rows.get() {
                return pinned;
            }
            let showing_matches =
                matches_only.get() && !search.with(|needle| needle.trim().is_empty());
            if showing_matches {
                return matches.get();
            }
            collapsed.with(|collapsed| {
                expanded_groups
                    .with(|expanded| for_memo.visible_rows(collapsed, expanded, min_percent.get()))
            })
        });
        Self {
            trace,
            waterfall,
            collapsed,
            expanded_groups,
            zoom: RwSignal::new(None),
            show_critical_path: RwSignal::new(false),
            selected: RwSignal::new(None),
            min_percent,
            show_help: RwSignal::new(false),
            search,
            matches_only,
            matches,
            pinned_rows,
            visible_rows,
            repeated_work: RwSignal::new(None),
            recorded_times,
        }
    }

    pub fn has_children(&self, row_idx: u32) -> bool {
        self.waterfall
            .rows
            .get(row_idx as usize)
            .is_some_and(|row| row.n_descendants > 0)
    }

    pub fn toggle(&self, row_idx: u32) {
        self.collapsed.update(|collapsed| {
            if !collapsed.remove(&row_idx) {
                collapsed.insert(row_idx);
            }
        });
    }

    /// The folded sibling group that a visible row stands for, if any (untracked: for event
    /// handlers; rendering reads `visible_rows`' groups reactively).
    pub fn folded_group_at(&self, row_idx: u32) -> Option<u32> {
        self.expanded_groups
            .with_untracked(|expanded| self.waterfall.collapsed_group_at(row_idx, expanded))
    }

    pub fn toggle_group(&self, group: u32) {
        self.expanded_groups.update(|expanded| {
            if !expanded.remove(&group) {
                expanded.insert(group);
            }
        });
    }

    /// Selects a row and expands the way to it (rows and sibling groups), so that it is visible.
    pub fn reveal_and_select(&self, row_idx: u32) {
        let ancestors = self.waterfall.ancestors(row_idx);
        self.collapsed.update(|collapsed| {
            for ancestor in ancestors {
                collapsed.remove(&ancestor);
            }
        });
        let groups = self.waterfall.groups_around(row_idx);
        if !groups.is_empty() {
            self.expanded_groups
                .update(|expanded| expanded.extend(groups));
        }
        if self.waterfall.rows[row_idx as usize].percent_of_total < self.min_percent.get_untracked()
        {
            self.min_percent.set(0.0);
        }
        self.selected.set(Some(row_idx));
    }

    pub fn collapse_all(&self) {
        self.collapsed
            .set(self.waterfall.rows_to_collapse_for_depth(0));
        self.expanded_groups.set(HashSet::new());
    }

    /// Expands every row and every sibling group.
    pub fn expand_all(&self) {
        self.collapsed.set(HashSet::new());
        self.expanded_groups
            .set((0..self.waterfall.groups.len() as u32).collect());
    }

    pub fn expand_to_depth(&self, depth: u32) {
        self.collapsed
            .set(self.waterfall.rows_to_collapse_for_depth(depth));
    }

    /// Moves the selection `step` visible rows down (negative: up).
    pub fn move_selection(&self, step: i32) {
        let current = self.selected.get_untracked();
        let next = self.visible_rows.with_untracked(|visible| {
            let position = current.and_then(|row| visible.iter().position(|v| *v == row));
            let next = match position {
                None => 0,
                Some(position) => {
                    (position as i64 + i64::from(step)).clamp(0, visible.len() as i64 - 1) as usize
                }
            };
            visible.get(next).copied()
        });
        if let Some(next) = next {
            self.selected.set(Some(next));
        }
    }

    /// Selects the next (or, with `step` -1, previous) search match after the selection.
    pub fn go_to_match(&self, step: i32) {
        let matches = self.matches.get_untracked();
        if matches.is_empty() {
            return;
        }
        let current = self.selected.get_untracked();
        let next = if step >= 0 {
            matches
                .iter()
                .copied()
                .find(|row| current.is_none_or(|current| *row > current))
                .unwrap_or(matches[0])
        } else {
            matches
                .iter()
                .rev()
                .copied()
                .find(|row| current.is_none_or(|current| *row < current))
                .unwrap_or(matches[matches.len() - 1])
        };
        self.reveal_and_select(next);
    }

    /// Left arrow: collapse the selected row, fold the group it belongs to, or go to its parent.
    pub fn collapse_or_go_to_parent(&self) {
        let Some(row_idx) = self.selected.get_untracked() else {
            return;
        };
        let is_expanded = !self
            .collapsed
            .with_untracked(|collapsed| collapsed.contains(&row_idx));
        let expanded_group = self
            .waterfall
            .group_of(row_idx)
            .filter(|group| self.expanded_groups.with_untracked(|e| e.contains(group)));
        if self.has_children(row_idx) && is_expanded && self.folded_group_at(row_idx).is_none() {
            self.toggle(row_idx);
        } else if let Some(group) = expanded_group {
            self.toggle_group(group);
            self.selected
                .set(Some(self.waterfall.groups[group as usize].first_row()));
        } else if let Some(parent) = self.waterfall.rows[row_idx as usize].parent_row {
            self.selected.set(Some(parent));
        }
    }

    /// Right arrow: unfold a group, expand the selected row, or go to its first child.
    pub fn expand_or_go_to_child(&self) {
        let Some(row_idx) = self.selected.get_untracked() else {
            return;
        };
        if let Some(group) = self.folded_group_at(row_idx) {
            self.toggle_group(group);
            return;
        }
        if !self.has_children(row_idx) {
            return;
        }
        if self
            .collapsed
            .with_untracked(|collapsed| collapsed.contains(&row_idx))
        {
            self.toggle(row_idx);
        } else {
            self.move_selection(1);
        }
    }
}
