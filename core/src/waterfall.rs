//! Everything a waterfall shows, computed once per trace: rows in tree order with their bars,
//! durations, share of the total and self time. The UI only places these values.

use std::collections::HashSet;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::analysis::self_times;
use crate::clock_skew::{DepthFirstRows, SkewAdjustment};
use crate::critical_path::CriticalPath;
use crate::layout::{Bar, TimeWindow, percent_of};
use crate::model::{SpanKind, StatusCode, Trace};
use crate::normalize::NameTable;
use crate::sibling_groups::{self, RowKey, SiblingGroup};
use crate::tree::{RootKind, SpanTree, TreeLinks, child_rows};

#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallRow {
    pub span_idx: u32,
    pub depth: u32,
    /// Row index of the parent, `None` at the top level.
    pub parent_row: Option<u32>,
    pub n_descendants: u32,
    pub root_kind: Option<RootKind>,
    /// Shared by every row of the service (rows of a 100,000-span trace would otherwise
    /// allocate 100,000 copies of a handful of names).
    pub service: Arc<str>,
    /// Index into [`Waterfall::services`], for the colour and the legend.
    pub service_idx: u32,
    /// Shared by every row with the same name.
    pub name: Arc<str>,
    /// The name with literals replaced (`loop ?`), as an index into
    /// [`Waterfall::normalized_names`]: rows with equal keys are the same operation.
    pub name_key: u32,
    pub kind: SpanKind,
    pub is_error: bool,
    /// Start, from the start of the trace (the bar's position: [`Waterfall::bar`]).
    pub offset_nanos: u64,
    pub duration_nanos: u64,
    /// Share of the whole trace's duration; the root is 100 %.
    pub percent_of_total: f64,
    pub self_nanos: u64,
    /// Time this span spent on the critical path (its own work that the trace waited for).
    pub critical_nanos: u64,
    pub on_critical_path: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waterfall {
    pub window: TimeWindow,
    pub rows: Vec<WaterfallRow>,
    /// Services in order of first appearance in the rows.
    pub services: Vec<String>,
    pub n_errors: usize,
    /// Normalised span names, indexed by [`WaterfallRow::name_key`].
    pub normalized_names: Vec<Arc<str>>,
    /// Repeated siblings, shown as one row each unless expanded.
    pub groups: Vec<SiblingGroup>,
    /// Per row, its index into `groups`, or [`NO_GROUP`].
    group_of_row: Vec<u32>,
    /// The stretches of each row's bar on the critical path: row `r`'s are
    /// `critical_bars[critical_bar_start[r]..critical_bar_start[r + 1]]` (most rows have none, so
    /// one list for all instead of one per row).
    critical_bars: Vec<Bar>,
    critical_bar_start: Vec<u32>,
    /// Facts the page shows at once, found while the rows are built instead of by a pass over
    /// 100,000 rows each when the page is mounted.
    pub facts: Facts,
    /// Spans moved by the clock-skew adjustment, in span order (empty when built from recorded
    /// times: see [`Self::build_adjusted`]).
    pub skew: Vec<SkewAdjustment>,
}

/// What the header and the toolbar show about the whole waterfall.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The deepest row's depth (the root's is 0).
    pub max_depth: u32,
    pub n_on_critical_path: usize,
    /// See [`Waterfall::slowest_row`].
    pub slowest_row: Option<u32>,
    /// The row with the most self time (the first of equals).
    pub largest_self_time_row: Option<u32>,
}

const NO_GROUP: u32 = u32::MAX;

impl DepthFirstRows for Waterfall {
    fn n_rows(&self) -> usize {
        self.rows.len()
    }

    fn span_and_parent(&self, row_idx: usize) -> (u32, Option<u32>) {
        let row = &self.rows[row_idx];
        (row.span_idx, row.parent_row)
    }
}

impl Waterfall {
    pub fn build(trace: &Trace) -> Option<Self> {
        Some(Building::new(trace)?.finish())
    }

    /// The waterfall of `trace` adjusted by `skew` (from [`crate::clock_skew::find`]), with the
    /// adjusted trace (`trace` itself when nothing moved): rows the adjustment moved say so
    /// ([`Self::skew_of_row`]).
    pub fn build_adjusted(
        trace: &Arc<Trace>,
        skew: Vec<SkewAdjustment>,
    ) -> Option<(Self, Arc<Trace>)> {
        if skew.is_empty() {
            return Some((Self::build(trace)?, trace.clone()));
        }
        let adjusted = Arc::new(crate::clock_skew::apply(trace, &skew));
        let mut waterfall = Self::build(&adjusted)?;
        waterfall.skew = skew;
        Some((waterfall, adjusted))
    }

    /// How far the clock-skew adjustment moved the row's span, if it did.
    pub fn skew_of_row(&self, row_idx: u32) -> Option<i64> {
        let span_idx = self.rows.get(row_idx as usize)?.span_idx;
        self.skew
            .binary_search_by_key(&span_idx, |adjustment| adjustment.span_idx)
            .ok()
            .map(|at| self.skew[at].delta_nanos)
    }

    /// The row's bar on the timeline, in percent of the trace.
    pub fn bar(&self, row: &WaterfallRow) -> Bar {
        let start_nanos = self.window.start_nanos + row.offset_nanos;
        let left_percent = self.window.percent_at(start_nanos);
        Bar {
            left_percent,
            width_percent: self.window.percent_at(start_nanos + row.duration_nanos) - left_percent,
        }
    }

    /// The stretches of the row's bar that are on the critical path.
    pub fn critical_bars(&self, row_idx: u32) -> &[Bar] {
        let row_idx = row_idx as usize;
        match (
            self.critical_bar_start.get(row_idx),
            self.critical_bar_start.get(row_idx + 1),
        ) {
            (Some(start), Some(end)) => &self.critical_bars[*start as usize..*end as usize],
            _ => &[],
        }
    }

    /// The row's children in row order (no list is stored: see [`child_rows`]).
    pub fn children(&self, row_idx: u32) -> impl Iterator<Item = u32> + '_ {
        child_rows(row_idx, self.rows.len(), |row| self.rows[row].n_descendants)
    }

    /// The sibling group (index into [`Self::groups`]) the row belongs to, if any.
    pub fn group_of(&self, row_idx: u32) -> Option<u32> {
        self.group_of_row
            .get(row_idx as usize)
            .copied()
            .filter(|group| *group != NO_GROUP)
    }

    pub fn duration_nanos(&self) -> u64 {
        self.window.duration_nanos()
    }

    /// Rows to show, in order: those not inside a collapsed row (`collapsed` holds row
    /// indexes) and at or above `min_percent` of the total. A row kept by the share filter is
    /// shown even when an ancestor is filtered out, so nothing slow can hide; for the same
    /// reason sibling groups apply only without the filter. A group not in `expanded_groups`
    /// shows as its first row alone (see [`Self::collapsed_group_at`]).
    pub fn visible_rows(
        &self,
        collapsed: &HashSet<u32>,
        expanded_groups: &HashSet<u32>,
        min_percent: f64,
    ) -> Vec<u32> {
        let mut visible = Vec::with_capacity(self.rows.len());
        let mut row_idx = 0usize;
        while row_idx < self.rows.len() {
            let row = &self.rows[row_idx];
            let folded_group = self
                .group_of(row_idx as u32)
                .filter(|group| min_percent <= 0.0 && !expanded_groups.contains(group));
            if let Some(group) = folded_group {
                if self.groups[group as usize].first_row() == row_idx as u32 {
                    visible.push(row_idx as u32);
                }
                row_idx += row.n_descendants as usize + 1; // members' subtrees fold away
                continue;
            }
            if row.percent_of_total >= min_percent || row_idx == 0 {
                visible.push(row_idx as u32);
            }
            if collapsed.contains(&(row_idx as u32)) {
                row_idx += row.n_descendants as usize + 1; // skip the subtree
            } else {
                row_idx += 1;
            }
        }
        visible
    }

    /// Rows with children that are deeper than `max_depth`: collapsing them shows the tree to
    /// that depth ("expand to depth N").
    pub fn rows_to_collapse_for_depth(&self, max_depth: u32) -> HashSet<u32> {
        let mut collapsed = HashSet::new();
        for (row_idx, row) in self.rows.iter().enumerate() {
            if row.depth >= max_depth && row.n_descendants > 0 {
                collapsed.insert(row_idx as u32);
            }
        }
        collapsed
    }

    /// The longest span below the top level (the root is always 100 %), or the root alone. A
    /// client span that only waits for its call is followed into the called service's server
    /// span (`order-service GET /stock` → `inventory-service GET /stock`): that is where the time
    /// went.
    pub fn slowest_row(&self) -> Option<u32> {
        self.facts.slowest_row
    }

    /// A client span that only waits for its call, followed into the called service's server
    /// span (and so on down a chain of calls).
    fn follow_calls(&self, mut row: u32) -> u32 {
        while let Some(server) = self.called_server_row(row) {
            row = server;
        }
        row
    }

    /// For a client span, the longest server span of another service directly under it, when
    /// that call takes at least 90 % of the client's time (the rest is the network).
    fn called_server_row(&self, client_row: u32) -> Option<u32> {
        let client = &self.rows[client_row as usize];
        if client.kind != SpanKind::Client {
            return None;
        }
        // Children follow their parent in tree order, before the parent's next sibling.
        let children = self.rows[client_row as usize + 1..]
            .iter()
            .enumerate()
            .take_while(|(_, row)| row.depth > client.depth)
            .filter(|(_, row)| row.parent_row == Some(client_row))
            .map(|(offset, row)| (client_row + 1 + offset as u32, row));
        children
            .filter(|(_, row)| row.kind == SpanKind::Server && row.service != client.service)
            .filter(|(_, row)| row.duration_nanos as f64 >= client.duration_nanos as f64 * 0.9)
            .max_by_key(|(_, row)| row.duration_nanos)
            .map(|(row_idx, _)| row_idx)
    }

    /// The row whose own work (not its children's) took longest.
    pub fn largest_self_time_row(&self) -> Option<u32> {
        self.facts.largest_self_time_row
    }

    /// Rows whose span name, service, attribute values or event names contain `needle`
    /// (case-insensitive), in row order. An empty needle matches nothing.
    pub fn search(&self, trace: &Trace, needle: &str) -> Vec<u32> {
        let needle = needle.trim().to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        let contains = |text: &str| text.to_lowercase().contains(&needle);
        let mut matches = Vec::new();
        for (row_idx, row) in self.rows.iter().enumerate() {
            let span = &trace.batch.spans[row.span_idx as usize];
            let found = contains(&row.name)
                || contains(&row.service)
                || span.attributes.iter().any(|attribute| {
                    contains(&attribute.key) || contains(&attribute.value.to_display_string())
                })
                || span.events.iter().any(|event| contains(&event.name));
            if found {
                matches.push(row_idx as u32);
            }
        }
        matches
    }

    /// The group that `row_idx` stands for, when it is the first row of a group shown folded.
    pub fn collapsed_group_at(&self, row_idx: u32, expanded_groups: &HashSet<u32>) -> Option<u32> {
        let group = self.group_of(row_idx)?;
        (self.groups[group as usize].first_row() == row_idx && !expanded_groups.contains(&group))
            .then_some(group)
    }

    /// Groups that must be expanded for `row_idx` to show: its own and its ancestors'.
    pub fn groups_around(&self, row_idx: u32) -> Vec<u32> {
        std::iter::once(row_idx)
            .chain(self.ancestors(row_idx))
            .filter_map(|row| self.group_of(row))
            .collect()
    }

    /// Rows from the top level down to `row_idx` (for expanding the way to a selected span).
    pub fn ancestors(&self, row_idx: u32) -> Vec<u32> {
        let mut chain = Vec::new();
        let mut current = self
            .rows
            .get(row_idx as usize)
            .and_then(|row| row.parent_row);
        while let Some(parent) = current {
            chain.push(parent);
            current = self.rows[parent as usize].parent_row;
        }
        chain.reverse();
        chain
    }
}

/// [`Waterfall::build`] in steps, for a page that must not hold its thread for long (a
/// million-span trace takes about a second in the browser): each [`Building::step`] does one
/// stage (the tree, self times, the critical path) or about `budget` rows, and
/// [`Building::finish`] returns exactly what `build` does (which is this run in one go).
pub struct Building<'a> {
    trace: &'a Trace,
    window: TimeWindow,
    stage: Stage,
    links: Option<TreeLinks>,
    tree: Option<SpanTree>,
    self_nanos: Vec<u64>,
    critical_path: Option<CriticalPath>,
    critical_bars: Vec<Bar>,
    critical_bar_start: Vec<u32>,
    services: Vec<String>,
    service_names: Vec<Arc<str>>,
    service_idx_of: FxHashMap<&'a str, u32>,
    /// Per resource, its service's index: spans share a few resources, so each resource's
    /// attributes are searched for `service.name` once, not once per span.
    service_idx_of_resource: Vec<Option<u32>>,
    /// Per distinct span name: the shared name and its normalised key (one lookup per row).
    name_of: FxHashMap<&'a str, (Arc<str>, u32)>,
    name_table: NameTable<'a>,
    rows: Vec<WaterfallRow>,
    facts: Facts,
    slowest: Option<(u64, u32)>,
    largest_self: Option<(u64, u32)>,
    normalized_names: Vec<Arc<str>>,
    groups: Vec<SiblingGroup>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Links,
    Tree,
    SelfTimes,
    CriticalPath,
    CriticalBars,
    Rows,
    Groups,
    Done,
}

impl<'a> Building<'a> {
    /// `None` for a trace without spans.
    pub fn new(trace: &'a Trace) -> Option<Self> {
        let window = TimeWindow::of_spans(&trace.batch.spans)?;
        Some(Self {
            trace,
            window,
            stage: Stage::Links,
            links: None,
            tree: None,
            self_nanos: Vec::new(),
            critical_path: None,
            critical_bars: Vec::new(),
            critical_bar_start: Vec::new(),
            services: Vec::new(),
            service_names: Vec::new(),
            service_idx_of: FxHashMap::default(),
            service_idx_of_resource: vec![None; trace.batch.resources.len()],
            name_of: FxHashMap::default(),
            name_table: NameTable::default(),
            rows: Vec::new(),
            facts: Facts::default(),
            slowest: None,
            largest_self: None,
            normalized_names: Vec::new(),
            groups: Vec::new(),
        })
    }

    /// Does one stage, or about `budget` rows (at least one); true once all is done but
    /// [`Self::finish`].
    pub fn step(&mut self, budget: usize) -> bool {
        let spans = &self.trace.batch.spans;
        match self.stage {
            Stage::Links => {
                self.links = Some(SpanTree::links(spans));
                self.stage = Stage::Tree;
            }
            Stage::Tree => {
                let links = self.links.take().expect("linked first");
                let tree = links.lay_out(spans);
                self.rows = Vec::with_capacity(tree.rows.len());
                self.tree = Some(tree);
                self.stage = Stage::SelfTimes;
            }
            Stage::SelfTimes => {
                self.self_nanos = self_times(spans, self.tree());
                self.stage = Stage::CriticalPath;
            }
            Stage::CriticalPath => {
                self.critical_path = Some(CriticalPath::compute(spans, self.tree()));
                self.stage = Stage::CriticalBars;
            }
            Stage::CriticalBars => {
                let critical_path = self.critical_path.as_ref().expect("computed");
                (self.critical_bars, self.critical_bar_start) =
                    critical_bars_by_row(critical_path, self.tree(), self.window);
                self.stage = Stage::Rows;
            }
            Stage::Rows => {
                let n_rows = self.tree().rows.len();
                let end = self.rows.len().saturating_add(budget.max(1)).min(n_rows);
                for row_idx in self.rows.len()..end {
                    self.push_row(row_idx);
                }
                if end == n_rows {
                    self.stage = Stage::Groups;
                }
            }
            Stage::Groups => {
                self.normalized_names = std::mem::take(&mut self.name_table).into_texts();
                let rows = &self.rows;
                self.groups = sibling_groups::find(
                    rows.len(),
                    |row_idx| {
                        let row = &rows[row_idx as usize];
                        RowKey {
                            n_descendants: row.n_descendants,
                            service_idx: row.service_idx,
                            name_key: row.name_key,
                            offset_nanos: row.offset_nanos,
                            duration_nanos: row.duration_nanos,
                            is_error: row.is_error,
                        }
                    },
                    &self.services,
                    &self.normalized_names,
                );
                self.stage = Stage::Done;
            }
            Stage::Done => {}
        }
        self.stage == Stage::Done
    }

    fn tree(&self) -> &SpanTree {
        self.tree.as_ref().expect("the tree is the first stage")
    }

    fn push_row(&mut self, row_idx: usize) {
        let trace = self.trace;
        let spans = &trace.batch.spans;
        let tree = self.tree.as_ref().expect("built");
        let critical_path = self.critical_path.as_ref().expect("computed");
        let tree_row = &tree.rows[row_idx];
        let span = &spans[tree_row.span_idx as usize];
        let cached_service = self
            .service_idx_of_resource
            .get(span.resource_idx as usize)
            .copied()
            .flatten();
        let service_idx = match cached_service {
            Some(service_idx) => service_idx,
            None => {
                let service = trace.batch.service_of(span);
                let (services, service_names) = (&mut self.services, &mut self.service_names);
                let service_idx = *self.service_idx_of.entry(service).or_insert_with(|| {
                    services.push(service.to_owned());
                    service_names.push(Arc::from(service));
                    (services.len() - 1) as u32
                });
                if let Some(slot) = self
                    .service_idx_of_resource
                    .get_mut(span.resource_idx as usize)
                {
                    *slot = Some(service_idx);
                }
                service_idx
            }
        };
        let name_table = &mut self.name_table;
        let (name, name_key) = self
            .name_of
            .entry(span.name.as_str())
            .or_insert_with(|| {
                (
                    Arc::from(span.name.as_str()),
                    name_table.key(span.name.as_str()),
                )
            })
            .clone();
        let row_idx = row_idx as u32;
        let duration_nanos = span.duration_nanos();
        let self_nanos = self.self_nanos[tree_row.span_idx as usize];
        let on_critical_path = critical_path.on_path[tree_row.span_idx as usize];
        let facts = &mut self.facts;
        facts.max_depth = facts.max_depth.max(tree_row.depth);
        facts.n_on_critical_path += usize::from(on_critical_path);
        // The root is always 100 %: the slowest span is looked for below the top level
        // (unless the root is all there is).
        if (tree_row.depth > 0 || tree.rows.len() == 1)
            && self
                .slowest
                .is_none_or(|(longest, _)| duration_nanos > longest)
        {
            self.slowest = Some((duration_nanos, row_idx));
        }
        if self
            .largest_self
            .is_none_or(|(largest, _)| self_nanos > largest)
        {
            self.largest_self = Some((self_nanos, row_idx));
        }
        let window = self.window;
        self.rows.push(WaterfallRow {
            span_idx: tree_row.span_idx,
            depth: tree_row.depth,
            parent_row: tree_row.parent_row,
            n_descendants: tree_row.n_descendants,
            root_kind: tree_row.root_kind,
            service: self.service_names[service_idx as usize].clone(),
            service_idx,
            name,
            name_key,
            kind: span.kind,
            is_error: span.status.code == StatusCode::Error,
            offset_nanos: span.start_nanos.saturating_sub(window.start_nanos),
            duration_nanos,
            percent_of_total: percent_of(duration_nanos, window.duration_nanos()),
            self_nanos,
            critical_nanos: critical_path.critical_nanos[tree_row.span_idx as usize],
            on_critical_path,
        });
    }

    /// The waterfall (runs the remaining steps, if any).
    pub fn finish(mut self) -> Waterfall {
        while !self.step(usize::MAX) {}
        let Self {
            window,
            critical_bars,
            critical_bar_start,
            services,
            rows,
            mut facts,
            slowest,
            largest_self,
            normalized_names,
            groups,
            ..
        } = self;
        facts.largest_self_time_row = largest_self.map(|(_, row)| row);
        let n_errors = rows.iter().filter(|row| row.is_error).count();
        let mut group_of_row = vec![NO_GROUP; rows.len()];
        for (group_idx, group) in groups.iter().enumerate() {
            for row in &group.rows {
                group_of_row[*row as usize] = group_idx as u32;
            }
        }
        let mut waterfall = Waterfall {
            window,
            rows,
            services,
            n_errors,
            normalized_names,
            groups,
            group_of_row,
            critical_bars,
            critical_bar_start,
            facts,
            skew: Vec::new(),
        };
        waterfall.facts.slowest_row = slowest.map(|(_, row)| waterfall.follow_calls(row));
        waterfall
    }
}

/// The critical path's segments as bars, grouped by row: the bars, and where each row's begin
/// (one more entry than rows).
fn critical_bars_by_row(
    critical_path: &CriticalPath,
    tree: &SpanTree,
    window: TimeWindow,
) -> (Vec<Bar>, Vec<u32>) {
    let mut start = vec![0u32; tree.rows.len() + 1];
    for segment in &critical_path.segments {
        start[tree.row_of_span[segment.span_idx as usize] as usize + 1] += 1;
    }
    for row in 1..start.len() {
        start[row] += start[row - 1];
    }
    let mut filled = start.clone();
    let mut bars = vec![Bar::default(); critical_path.segments.len()];
    for segment in &critical_path.segments {
        let row = tree.row_of_span[segment.span_idx as usize] as usize;
        let left_percent = window.percent_at(segment.start_nanos);
        bars[filled[row] as usize] = Bar {
            left_percent,
            width_percent: window.percent_at(segment.end_nanos) - left_percent,
        };
        filled[row] += 1;
    }
    (bars, start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::format_percent;
    use crate::scenario;

    #[test]
    fn the_slow_order_waterfall() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_700_000_000_000_000_000);
        let waterfall = Waterfall::build(&trace).unwrap();
        assert_eq!(waterfall.duration_nanos(), 3_200_000_000);
        let stock = waterfall
            .rows
            .iter()
            .find(|row| &*row.name == "GET /stock")
            .unwrap();
        assert_eq!((&*stock.service, stock.depth), ("inventory-service", 1));
        assert_eq!(format_percent(stock.percent_of_total), "87.5 %");
        let bar = waterfall.bar(stock);
        assert_eq!(format_percent(bar.width_percent), "87.5 %");
        assert!((bar.left_percent - 270.0 / 32.0).abs() < 1e-9);
        assert_eq!(waterfall.rows[0].percent_of_total, 100.0);
        assert_eq!(waterfall.services[0], "order-service");
    }

    #[test]
    fn building_in_steps_gives_the_same_waterfall() {
        for trace in [
            scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0),
            scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, 0),
            scenario::batched_products(scenario::BATCHED_PRODUCTS_TRACE_ID, 0),
        ] {
            let whole = Waterfall::build(&trace).unwrap();
            for budget in [1, 3, 1_000] {
                let mut building = Building::new(&trace).unwrap();
                let mut steps = 0;
                while !building.step(budget) {
                    steps += 1;
                }
                assert!(steps >= 4, "one step per stage at least");
                assert_eq!(building.finish(), whole);
            }
        }
    }

    #[test]
    fn the_slowest_span_is_the_called_service_not_the_client_waiting_for_it() {
        use crate::scenario::{SpanSpec, spans_from_specs};
        let mut spans = spans_from_specs(&[
            SpanSpec::new(1, None, "GET /orders", 0, 3_200),
            SpanSpec::new(2, Some(1), "GET /stock", 300, 3_101),
            SpanSpec::new(3, Some(2), "GET /stock", 301, 3_100),
            SpanSpec::new(4, Some(3), "SELECT", 310, 3_050),
        ]);
        spans[1].kind = SpanKind::Client;
        spans[2].kind = SpanKind::Server;
        spans[3].kind = SpanKind::Client;
        // The called span runs in another service: its own resource.
        spans[2].resource_idx = 1;
        spans[3].resource_idx = 1;
        let mut inventory = crate::model::Resource::default();
        inventory.attributes.push(crate::model::KeyValue {
            key: "service.name".into(),
            value: crate::model::AnyValue::String("inventory-service".into()),
        });
        let trace = Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: crate::Batch {
                resources: vec![Default::default(), inventory],
                scopes: vec![Default::default()],
                spans,
            },
        };
        let waterfall = Waterfall::build(&trace).unwrap();
        let slowest = &waterfall.rows[waterfall.slowest_row().unwrap() as usize];
        assert_eq!(
            (&*slowest.service, &*slowest.name, slowest.kind),
            ("inventory-service", "GET /stock", SpanKind::Server)
        );
    }

    #[test]
    fn call_outs_name_the_slowest_span_and_the_largest_self_time() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let waterfall = Waterfall::build(&trace).unwrap();
        let slowest = &waterfall.rows[waterfall.slowest_row().unwrap() as usize];
        assert_eq!(
            (&*slowest.service, &*slowest.name),
            ("inventory-service", "GET /stock")
        );
        let busiest = &waterfall.rows[waterfall.largest_self_time_row().unwrap() as usize];
        assert_eq!(&*busiest.name, "Query Execution");
        let query_row = waterfall.largest_self_time_row().unwrap();
        let names: Vec<&str> = waterfall
            .ancestors(query_row)
            .into_iter()
            .map(|row| &*waterfall.rows[row as usize].name)
            .collect();
        assert_eq!(
            names,
            ["GET /orders/12345", "GET /stock", "SELECT FROM inventory"]
        );
    }

    #[test]
    fn collapsing_and_filtering_choose_the_visible_rows() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let waterfall = Waterfall::build(&trace).unwrap();
        let names = |rows: Vec<u32>| -> Vec<String> {
            rows.into_iter()
                .map(|row| waterfall.rows[row as usize].name.to_string())
                .collect()
        };
        let none = HashSet::new();
        assert_eq!(waterfall.visible_rows(&none, &none, 0.0).len(), 10);
        // Collapse all, then expand the root: one level shows, not the whole tree.
        let mut collapsed = waterfall.rows_to_collapse_for_depth(0);
        assert_eq!(
            names(waterfall.visible_rows(&collapsed, &none, 0.0)),
            ["GET /orders/12345"]
        );
        collapsed.remove(&0);
        assert_eq!(waterfall.visible_rows(&collapsed, &none, 0.0).len(), 6);
        // Only spans above 50 % of the total.
        assert_eq!(
            names(waterfall.visible_rows(&none, &none, 50.0)),
            [
                "GET /orders/12345",
                "GET /stock",
                "SELECT FROM inventory",
                "Query Execution"
            ]
        );
    }

    #[test]
    fn search_finds_names_services_and_attribute_values() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let waterfall = Waterfall::build(&trace).unwrap();
        let names = |rows: Vec<u32>| -> Vec<String> {
            rows.into_iter()
                .map(|row| waterfall.rows[row as usize].name.to_string())
                .collect()
        };
        assert_eq!(
            names(waterfall.search(&trace, "CACHE")),
            ["GET /stock", "GET cache:inventory:*"]
        );
        assert_eq!(
            names(waterfall.search(&trace, "1500000")),
            ["SELECT FROM inventory"]
        );
        assert_eq!(
            waterfall.search(&trace, "mysql").len(),
            5,
            "service and db.system values"
        );
        assert!(waterfall.search(&trace, "  ").is_empty());
    }

    #[test]
    fn the_n_plus_one_loop_folds_into_one_group_row() {
        let trace = scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, 0);
        let waterfall = Waterfall::build(&trace).unwrap();
        assert_eq!(waterfall.groups.len(), 1);
        let group = &waterfall.groups[0];
        assert_eq!(group.name, "fetch category for product ?");
        assert_eq!((group.rows.len(), group.total_nanos), (20, 4_000_000_000));
        // One loop body after another: wall time equals busy time, below the trace's.
        assert_eq!(group.wall_nanos, 4_000_000_000);
        assert!(group.wall_nanos <= waterfall.duration_nanos());
        let none = HashSet::new();
        let folded = waterfall.visible_rows(&none, &none, 0.0);
        assert_eq!(folded.len(), 3, "request, SELECT products, the group");
        assert_eq!(
            waterfall.collapsed_group_at(folded[2], &none),
            Some(0),
            "the group's first row stands for it"
        );
        let expanded = HashSet::from([0]);
        assert_eq!(waterfall.visible_rows(&none, &expanded, 0.0).len(), 42);
        let last_query = waterfall.rows.len() as u32 - 1;
        assert_eq!(waterfall.groups_around(last_query), [0]);
    }

    #[test]
    fn the_critical_path_is_marked_on_rows() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let waterfall = Waterfall::build(&trace).unwrap();
        let query_row = waterfall
            .rows
            .iter()
            .position(|row| &*row.name == "Query Execution")
            .unwrap();
        let query = &waterfall.rows[query_row];
        assert!(query.on_critical_path);
        assert_eq!(query.critical_nanos, 2_700_000_000);
        let bars = waterfall.critical_bars(query_row as u32);
        assert_eq!(bars.len(), 1);
        assert!((bars[0].width_percent - 2700.0 / 32.0).abs() < 1e-9);
        // Every span of the slow order is on its path; each row's bars add up to its critical
        // time (none for a span whose children cover it).
        assert_eq!(waterfall.facts.n_on_critical_path, waterfall.rows.len());
        for (row_idx, row) in waterfall.rows.iter().enumerate() {
            let percent: f64 = waterfall
                .critical_bars(row_idx as u32)
                .iter()
                .map(|bar| bar.width_percent)
                .sum();
            let expected = row.critical_nanos as f64 * 100.0 / 3_200_000_000.0;
            assert!((percent - expected).abs() < 1e-9, "{}", row.name);
        }
        assert!(waterfall.critical_bars(u32::MAX).is_empty());
    }

    #[test]
    fn rows_moved_for_clock_skew_say_by_how_much() {
        use crate::scenario::{SpanSpec, spans_from_specs};
        let mut spans = spans_from_specs(&[
            SpanSpec::new(1, None, "GET /", 1_000, 2_000),
            SpanSpec::new(2, Some(1), "call", 1_100, 1_900),
            SpanSpec::new(3, Some(2), "serve", 150, 850),
        ]);
        spans[1].kind = SpanKind::Client;
        spans[2].kind = SpanKind::Server;
        spans[2].resource_idx = 1;
        let mut other = crate::model::Resource::default();
        other
            .attributes
            .push(crate::model::KeyValue::new("service.name", "b"));
        let trace = std::sync::Arc::new(Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: crate::Batch {
                resources: vec![Default::default(), other],
                scopes: vec![Default::default()],
                spans,
            },
        });
        let recorded = Waterfall::build(&trace).unwrap();
        assert_eq!(
            recorded.duration_nanos(),
            1_850,
            "drawn from 150 as recorded"
        );
        let skew = crate::clock_skew::find(&trace);
        let (adjusted, adjusted_trace) = Waterfall::build_adjusted(&trace, skew).unwrap();
        assert_eq!(adjusted.duration_nanos(), 1_000);
        assert_eq!(adjusted.skew_of_row(2), Some(1_000));
        assert_eq!(adjusted.skew_of_row(1), None);
        assert_eq!(adjusted_trace.batch.spans[2].start_nanos, 1_150);
    }

    #[test]
    fn an_empty_trace_has_no_waterfall() {
        let trace = Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: Default::default(),
        };
        assert!(Waterfall::build(&trace).is_none());
    }
}
