//! Comparing two traces span by span: what got faster, slower, added or removed.
//!
//! Spans are matched by their tree path (service and normalised name of every ancestor and
//! itself), so that the same call in the same place matches even when ids and timings differ.
//! Repeated siblings with the same path form one row with counts on both sides (20 queries
//! against 1), and spans left over on both sides with the same service and name are matched as
//! "moved" (re-parented).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use serde::Serialize;

use crate::ids::TraceId;
use crate::layout::{format_duration, percent_of};
use crate::model::{AnyValue, Trace};
use crate::waterfall::Waterfall;

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

/// Resource attributes that differ between any two processes and explain nothing.
const IGNORED_RESOURCE_KEYS: [&str; 3] = ["service.name", "service.instance.id", "process.pid"];

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

pub fn compare(before: &Trace, after: &Trace) -> Option<Comparison> {
    let mut keys = KeyTable::default();
    let before_side = Side::new(before, &mut keys)?;
    let after_side = Side::new(after, &mut keys)?;
    let n_after = after_side.groups.len();

    // Exact path matches first, so that a re-parented span never takes another's partner. A
    // group's path matches when its parent's does and its own key is equal; parents come
    // before their children in group order.
    let mut before_of_after: Vec<Option<u32>> = vec![None; n_after];
    let mut after_of_before: Vec<Option<u32>> = vec![None; before_side.groups.len()];
    for (after_idx, group) in after_side.groups.iter().enumerate() {
        let parent_in_before = match group.parent {
            None => Some(None),
            Some(parent) => before_of_after[parent as usize].map(Some),
        };
        if let Some(parent_in_before) = parent_in_before
            && let Some(&before_idx) = before_side.group_index.get(&(parent_in_before, group.key))
        {
            before_of_after[after_idx] = Some(before_idx);
            after_of_before[before_idx as usize] = Some(after_idx as u32);
        }
    }
    // Re-parented spans: same service and name (the last path element) left on both sides,
    // taken in group order.
    let mut unmatched_after_by_key: FxHashMap<KeyId, std::collections::VecDeque<u32>> =
        FxHashMap::default();
    for (after_idx, group) in after_side.groups.iter().enumerate() {
        if before_of_after[after_idx].is_none() {
            unmatched_after_by_key
                .entry(group.key)
                .or_default()
                .push_back(after_idx as u32);
        }
    }
    let mut change_of_before: Vec<Change> = vec![Change::Removed; before_side.groups.len()];
    for (before_idx, group) in before_side.groups.iter().enumerate() {
        if after_of_before[before_idx].is_some() {
            change_of_before[before_idx] = Change::Matched;
            continue;
        }
        if let Some(after_idx) = unmatched_after_by_key
            .get_mut(&group.key)
            .and_then(std::collections::VecDeque::pop_front)
        {
            after_of_before[before_idx] = Some(after_idx);
            before_of_after[after_idx as usize] = Some(before_idx as u32);
            change_of_before[before_idx] = Change::Moved;
        }
    }
    match_by_similarity(
        &keys,
        &before_side,
        &after_side,
        &mut before_of_after,
        &mut after_of_before,
        &mut change_of_before,
    );

    let context = RowContext {
        keys: &keys,
        before: &before_side,
        after: &after_side,
    };
    let rows = aligned_order(&before_side, &after_side, &before_of_after)
        .into_iter()
        .map(|node| match node {
            Node::Before(before_idx) => {
                let before_group = &before_side.groups[before_idx as usize];
                let after_group = after_of_before[before_idx as usize]
                    .map(|after_idx| &after_side.groups[after_idx as usize]);
                context.row(
                    change_of_before[before_idx as usize],
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
    let total_before_nanos = before_side.waterfall.duration_nanos();
    let total_after_nanos = after_side.waterfall.duration_nanos();
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

/// Each service's resource attributes: key to its distinct values in display form.
fn resource_attributes(trace: &Trace) -> BTreeMap<&str, BTreeMap<&str, BTreeSet<String>>> {
    let mut used = vec![false; trace.batch.resources.len()];
    for span in &trace.batch.spans {
        if let Some(used) = used.get_mut(span.resource_idx as usize) {
            *used = true;
        }
    }
    let mut services: BTreeMap<&str, BTreeMap<&str, BTreeSet<String>>> = BTreeMap::new();
    for (resource, _) in trace
        .batch
        .resources
        .iter()
        .zip(&used)
        .filter(|(_, used)| **used)
    {
        let attributes = services.entry(resource.service_name()).or_default();
        for attribute in &resource.attributes {
            if !IGNORED_RESOURCE_KEYS.contains(&attribute.key.as_str()) {
                attributes
                    .entry(attribute.key.as_str())
                    .or_default()
                    .insert(display(&attribute.value));
            }
        }
    }
    services
}

/// The resource attributes that differ for each service present in both traces.
pub fn resource_changes(before: &Trace, after: &Trace) -> Vec<ResourceChange> {
    let (before, after) = (resource_attributes(before), resource_attributes(after));
    let joined = |values: Option<&BTreeSet<String>>| {
        values.map(|values| values.iter().cloned().collect::<Vec<_>>().join(", "))
    };
    let mut changes = Vec::new();
    for (service, before_attributes) in &before {
        let Some(after_attributes) = after.get(service) else {
            continue;
        };
        let keys: BTreeSet<&str> = before_attributes
            .keys()
            .chain(after_attributes.keys())
            .copied()
            .collect();
        for key in keys {
            let (was, now) = (before_attributes.get(key), after_attributes.get(key));
            if was != now {
                changes.push(ResourceChange {
                    service: (*service).to_owned(),
                    key: key.to_owned(),
                    before: joined(was),
                    after: joined(now),
                });
            }
        }
    }
    changes
}

/// Candidates beyond this many under one parent and service are not compared pairwise (two
/// unrelated traces would cost millions of comparisons for no useful match).
const MAX_SIMILARITY_CANDIDATES: usize = 64;
/// Shared words over all words (of the normalised names and `db.statement`s) for a match.
const MIN_SIMILARITY: f64 = 0.5;

/// The fuzzy fallback: an unmatched group of the second trace takes the most similar unmatched
/// group of the first with the same service under the same matched ancestor.
fn match_by_similarity(
    keys: &KeyTable,
    before: &Side<'_>,
    after: &Side<'_>,
    before_of_after: &mut [Option<u32>],
    after_of_before: &mut [Option<u32>],
    change_of_before: &mut [Change],
) {
    // The nearest ancestor with a partner (its before-side group), or the top level.
    fn anchor(side: &Side<'_>, group: u32, partner: impl Fn(u32) -> Option<u32>) -> Option<u32> {
        let mut current = side.groups[group as usize].parent;
        while let Some(ancestor) = current {
            if let Some(partner) = partner(ancestor) {
                return Some(partner);
            }
            current = side.groups[ancestor as usize].parent;
        }
        None
    }
    let service = |key: KeyId| -> &str { &keys.get(key).0 };
    let mut buckets: FxHashMap<(Option<u32>, &str), Vec<u32>> = FxHashMap::default();
    for (before_idx, group) in before.groups.iter().enumerate() {
        if after_of_before[before_idx].is_none() {
            let anchor = anchor(before, before_idx as u32, |ancestor| {
                after_of_before[ancestor as usize].map(|_| ancestor)
            });
            buckets
                .entry((anchor, service(group.key)))
                .or_default()
                .push(before_idx as u32);
        }
    }
    let words_of = |side: &Side<'_>, group: &Group| -> FxHashSet<String> {
        let row = &side.waterfall.rows[group.rows[0] as usize];
        let span = &side.trace.batch.spans[row.span_idx as usize];
        let statement = span
            .attributes
            .iter()
            .find(|kv| kv.key == "db.statement")
            .map(|kv| display(&kv.value))
            .unwrap_or_default();
        format!(
            "{} {}",
            keys.get(group.key).1,
            crate::normalize::normalize_literals(&statement)
        )
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
    };
    for (after_idx, group) in after.groups.iter().enumerate() {
        if before_of_after[after_idx].is_some() {
            continue;
        }
        let anchor = anchor(after, after_idx as u32, |ancestor| {
            before_of_after[ancestor as usize]
        });
        let Some(candidates) = buckets.get_mut(&(anchor, service(group.key))) else {
            continue;
        };
        if candidates.is_empty() || candidates.len() > MAX_SIMILARITY_CANDIDATES {
            continue;
        }
        let after_words = words_of(after, group);
        let best = candidates
            .iter()
            .enumerate()
            .map(|(position, before_idx)| {
                let before_words = words_of(before, &before.groups[*before_idx as usize]);
                let shared = before_words.intersection(&after_words).count();
                let all = before_words.union(&after_words).count().max(1);
                (position, shared as f64 / all as f64)
            })
            .filter(|(_, score)| *score >= MIN_SIMILARITY)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        if let Some((position, _)) = best {
            let before_idx = candidates.remove(position);
            after_of_before[before_idx as usize] = Some(after_idx as u32);
            before_of_after[after_idx] = Some(before_idx);
            change_of_before[before_idx as usize] = Change::Renamed;
        }
    }
}

/// A row of the comparison: a group of the first trace (with its partner, if any) or a group
/// only the second trace has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    Before(u32),
    Added(u32),
}

/// Both traces as one tree, depth first: the first trace's groups in tree order, and under each
/// group, after its own children, the groups only the second trace has there (under their
/// parent's partner when the parent was matched, else under their added parent, else at the
/// end), so that both waterfalls line up row for row.
fn aligned_order(
    before: &Side<'_>,
    after: &Side<'_>,
    before_of_after: &[Option<u32>],
) -> Vec<Node> {
    let mut children: FxHashMap<Option<Node>, Vec<Node>> = FxHashMap::default();
    for (before_idx, group) in before.groups.iter().enumerate() {
        children
            .entry(group.parent.map(Node::Before))
            .or_default()
            .push(Node::Before(before_idx as u32));
    }
    for (after_idx, group) in after.groups.iter().enumerate() {
        if before_of_after[after_idx].is_some() {
            continue;
        }
        let parent = group
            .parent
            .map(|parent| match before_of_after[parent as usize] {
                Some(partner) => Node::Before(partner),
                None => Node::Added(parent),
            });
        children
            .entry(parent)
            .or_default()
            .push(Node::Added(after_idx as u32));
    }
    let mut order = Vec::with_capacity(before.groups.len() + after.groups.len());
    let mut stack: Vec<Node> = children.remove(&None).unwrap_or_default();
    stack.reverse();
    while let Some(node) = stack.pop() {
        order.push(node);
        if let Some(below) = children.remove(&Some(node)) {
            stack.extend(below.into_iter().rev());
        }
    }
    order
}

fn delta_percent(before: u64, after: u64) -> Option<f64> {
    (before > 0).then(|| (after as f64 - before as f64) * 100.0 / before as f64)
}

fn count_queries(trace: &Trace) -> usize {
    trace
        .batch
        .spans
        .iter()
        .filter(|span| span.attributes.iter().any(|kv| kv.key == "db.statement"))
        .count()
}

/// One step of a tree path, a service and a normalised span name, numbered in a [`KeyTable`]
/// that both sides (or all traces of a group comparison) share, so keys compare as integers.
pub(crate) type KeyId = u32;

#[derive(Default)]
pub(crate) struct KeyTable {
    id_of: FxHashMap<(Arc<str>, Arc<str>), KeyId>,
    keys: Vec<(Arc<str>, Arc<str>)>,
}

impl KeyTable {
    fn id(&mut self, service: &Arc<str>, name: &Arc<str>) -> KeyId {
        if let Some(&id) = self.id_of.get(&(service.clone(), name.clone())) {
            return id;
        }
        let id = self.keys.len() as KeyId;
        self.keys.push((service.clone(), name.clone()));
        self.id_of.insert((service.clone(), name.clone()), id);
        id
    }

    /// The service and normalised name of a key.
    pub(crate) fn get(&self, id: KeyId) -> &(Arc<str>, Arc<str>) {
        &self.keys[id as usize]
    }
}

/// All spans of one trace that share a tree path.
pub(crate) struct Group {
    /// The group of the spans' parents, `None` at the top level.
    pub(crate) parent: Option<u32>,
    pub(crate) key: KeyId,
    /// Waterfall rows, in start order.
    rows: Vec<u32>,
}

pub(crate) struct Side<'a> {
    trace: &'a Trace,
    pub(crate) waterfall: Waterfall,
    /// In order of first appearance, so a parent comes before its children.
    pub(crate) groups: Vec<Group>,
    /// (parent group, key) -> group.
    group_index: FxHashMap<(Option<u32>, KeyId), u32>,
}

impl<'a> Side<'a> {
    pub(crate) fn new(trace: &'a Trace, keys: &mut KeyTable) -> Option<Self> {
        // Compared as the waterfall shows them: adjusted for clock skew (same spans, same order,
        // so `trace` still describes the rows' attributes).
        let mut waterfall = Waterfall::build(trace)?;
        let skew = crate::clock_skew::find_in_waterfall(trace, &waterfall);
        if !skew.is_empty() {
            waterfall = Waterfall::build(&crate::clock_skew::apply(trace, &skew))?;
        }
        // Keys by the waterfall's own service and name numbers: strings are hashed once per
        // distinct pair, not once per row.
        let mut key_of: FxHashMap<(u32, u32), KeyId> = FxHashMap::default();
        let mut group_of_row: Vec<u32> = Vec::with_capacity(waterfall.rows.len());
        let mut groups: Vec<Group> = Vec::new();
        let mut group_index: FxHashMap<(Option<u32>, KeyId), u32> = FxHashMap::default();
        for (row_idx, row) in waterfall.rows.iter().enumerate() {
            let key = *key_of
                .entry((row.service_idx, row.name_key))
                .or_insert_with(|| {
                    keys.id(
                        &row.service,
                        &waterfall.normalized_names[row.name_key as usize],
                    )
                });
            let parent = row.parent_row.map(|parent| group_of_row[parent as usize]);
            let group_idx = *group_index.entry((parent, key)).or_insert_with(|| {
                groups.push(Group {
                    parent,
                    key,
                    rows: Vec::new(),
                });
                (groups.len() - 1) as u32
            });
            groups[group_idx as usize].rows.push(row_idx as u32);
            group_of_row.push(group_idx);
        }
        Some(Self {
            trace,
            waterfall,
            groups,
            group_index,
        })
    }

    /// The keys from the top level down to `group` (paths identify a place across traces).
    pub(crate) fn path(&self, group: u32) -> Vec<KeyId> {
        let mut path = Vec::new();
        let mut current = Some(group);
        while let Some(group) = current {
            let group = &self.groups[group as usize];
            path.push(group.key);
            current = group.parent;
        }
        path.reverse();
        path
    }
}

pub(crate) struct GroupTotals {
    pub(crate) count: u64,
    pub(crate) total_nanos: u64,
    /// The wall-clock time the group's spans cover: its share of the trace.
    pub(crate) wall_nanos: u64,
    pub(crate) self_nanos: u64,
    critical_nanos: u64,
    pub(crate) on_critical_path: bool,
    pub(crate) name: String,
    pub(crate) service: String,
    pub(crate) depth: u32,
    extent: Extent,
}

pub(crate) fn totals(keys: &KeyTable, side: &Side<'_>, group: &Group) -> GroupTotals {
    let first = &side.waterfall.rows[group.rows[0] as usize];
    let all_same_name = group
        .rows
        .iter()
        .all(|row| side.waterfall.rows[*row as usize].name == first.name);
    GroupTotals {
        count: group.rows.len() as u64,
        total_nanos: group
            .rows
            .iter()
            .map(|row| side.waterfall.rows[*row as usize].duration_nanos)
            .sum(),
        wall_nanos: crate::intervals::occupancy(group.rows.iter().map(|row| {
            let row = &side.waterfall.rows[*row as usize];
            (row.offset_nanos, row.offset_nanos + row.duration_nanos)
        }))
        .wall_nanos,
        self_nanos: group
            .rows
            .iter()
            .map(|row| side.waterfall.rows[*row as usize].self_nanos)
            .sum(),
        critical_nanos: group
            .rows
            .iter()
            .map(|row| side.waterfall.rows[*row as usize].critical_nanos)
            .sum(),
        on_critical_path: group
            .rows
            .iter()
            .any(|row| side.waterfall.rows[*row as usize].on_critical_path),
        name: if all_same_name {
            first.name.to_string()
        } else {
            keys.get(group.key).1.to_string()
        },
        service: first.service.to_string(),
        depth: first.depth,
        extent: Extent {
            start_nanos: group
                .rows
                .iter()
                .map(|row| side.waterfall.rows[*row as usize].offset_nanos)
                .min()
                .unwrap_or(0),
            end_nanos: group
                .rows
                .iter()
                .map(|row| {
                    let row = &side.waterfall.rows[*row as usize];
                    row.offset_nanos + row.duration_nanos
                })
                .max()
                .unwrap_or(0),
        },
    }
}

/// What building a row needs: the key table and both sides.
struct RowContext<'a> {
    keys: &'a KeyTable,
    before: &'a Side<'a>,
    after: &'a Side<'a>,
}

impl RowContext<'_> {
    fn row(&self, change: Change, before: Option<&Group>, after: Option<&Group>) -> ComparisonRow {
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

/// A signed duration, e.g. `-2850 ms` or `+12 ms`.
pub fn format_delta(nanos: i64) -> String {
    if nanos == 0 {
        return String::from("0");
    }
    let sign = if nanos < 0 { "-" } else { "+" };
    format!("{sign}{}", format_duration(nanos.unsigned_abs()))
}

/// A signed percentage with one decimal, e.g. `-89.1 %`; `new` when there was nothing before.
pub fn format_delta_percent(percent: Option<f64>) -> String {
    match percent {
        Some(0.0) => String::from("0 %"),
        Some(percent) => format!("{percent:+.1} %"),
        None => String::from("new"),
    }
}

/// A plain-text report for terminals: the header, then rows by impact.
pub fn render_table(comparison: &Comparison) -> String {
    let mut lines = header_lines(comparison);
    lines.extend(resource_change_lines(comparison, |text| text.to_owned()));
    let mut out = lines.join("\n");
    out.push_str("\n\n");
    let mut lines = vec![[
        "span".to_owned(),
        "before".to_owned(),
        "after".to_owned(),
        "change".to_owned(),
        "change %".to_owned(),
        "count".to_owned(),
        "what".to_owned(),
    ]];
    for row in comparison.rows_by_impact() {
        lines.push(row_cells(row, |text| text.to_owned()));
    }
    let widths: Vec<usize> = (0..7)
        .map(|column| {
            lines
                .iter()
                .map(|line| line[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(column, cell)| {
                if column == 0 || column == 6 {
                    format!("{cell:<width$}", width = widths[column])
                } else {
                    format!("{cell:>width$}", width = widths[column])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A Markdown report for pull requests, naming both traces.
pub fn render_markdown(comparison: &Comparison) -> String {
    render_markdown_linked(comparison, None)
}

/// [`render_markdown`] whose trace ids link back to spanview at `base_url` (e.g.
/// `http://localhost:4318`), with a link to the comparison itself.
pub fn render_markdown_linked(comparison: &Comparison, base_url: Option<&str>) -> String {
    let (before, after) = (comparison.trace_id_before, comparison.trace_id_after);
    let mut out = String::from("### Trace comparison\n\n");
    match base_url.map(|base| base.trim_end_matches('/')) {
        Some(base) => out.push_str(&format!(
            "- traces: [`{before}`]({base}/trace/{before}) -> [`{after}`]({base}/trace/{after}) ([side by side]({base}/compare/{before}/{after}))\n"
        )),
        None => out.push_str(&format!("- traces: `{before}` -> `{after}`\n")),
    }
    for line in header_lines(comparison) {
        out.push_str(&format!("- {line}\n"));
    }
    for line in resource_change_lines(comparison, escape_markdown) {
        out.push_str(&format!("- {line}\n"));
    }
    out.push_str("\n| span | before | after | change | change % | count | what |\n|---|---:|---:|---:|---:|---:|---|\n");
    for row in comparison.rows_by_impact() {
        let cells = row_cells(row, escape_markdown);
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// Text from spans (names, attribute keys and values) made inert in a Markdown table cell and
/// in the HTML a Markdown renderer makes of it: on one line (a line break would end the row),
/// `<`, `>` and `&` as HTML entities (no tags, no autolinks), and Markdown's punctuation
/// backslash-escaped (no cell breaks, emphasis, code spans, links or math).
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        match character {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '|' | '~' | '$' | '!' | '#' => {
                out.push('\\');
                out.push(character);
            }
            // Line breaks of every kind, and other control characters, become spaces.
            character if character.is_control() || matches!(character, '\u{2028}' | '\u{2029}') => {
                out.push(' ');
            }
            character => out.push(character),
        }
    }
    out
}

/// Longest attribute value shown in a report cell.
const MAX_VALUE_CHARS: usize = 48;

/// A value on one line (SQL keeps its words, not its line breaks), shortened for a table cell.
fn one_line(value: &str) -> String {
    let single: String = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if single.chars().count() <= MAX_VALUE_CHARS {
        return single;
    }
    let mut short: String = single.chars().take(MAX_VALUE_CHARS - 1).collect();
    short.push('…');
    short
}

fn header_lines(comparison: &Comparison) -> Vec<String> {
    vec![
        format!(
            "total: {} -> {} ({}, {})",
            format_duration(comparison.total_before_nanos),
            format_duration(comparison.total_after_nanos),
            format_delta(comparison.delta_nanos),
            format_delta_percent(comparison.delta_percent)
        ),
        format!(
            "spans: {} -> {}",
            comparison.spans_before, comparison.spans_after
        ),
        format!(
            "queries: {} -> {}",
            comparison.queries_before, comparison.queries_after
        ),
    ]
}

/// One line per changed resource attribute; `escape` is applied to the text from the traces.
fn resource_change_lines(comparison: &Comparison, escape: fn(&str) -> String) -> Vec<String> {
    comparison
        .resource_changes
        .iter()
        .map(|change| {
            format!(
                "resource of {}: {}: {} -> {}",
                escape(&change.service),
                escape(&change.key),
                escape(&one_line(change.before.as_deref().unwrap_or("(none)"))),
                escape(&one_line(change.after.as_deref().unwrap_or("(none)")))
            )
        })
        .collect()
}

/// The cells of a report row; `escape` is applied to the text that comes from the spans.
fn row_cells(row: &ComparisonRow, escape: fn(&str) -> String) -> [String; 7] {
    let mut what = match row.change {
        Change::Added => String::from("added"),
        Change::Removed => String::from("removed"),
        Change::Moved => String::from("moved"),
        Change::Renamed => format!(
            "now {}",
            escape(&one_line(row.renamed_to.as_deref().unwrap_or_default()))
        ),
        Change::Matched => row
            .attribute_changes
            .iter()
            .map(|change| {
                format!(
                    "{}: {} -> {}",
                    escape(&change.key),
                    escape(&one_line(change.before.as_deref().unwrap_or("(none)"))),
                    escape(&one_line(change.after.as_deref().unwrap_or("(none)")))
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    };
    let path_note = match row.critical_path {
        CriticalPathChange::Entered => Some("entered the critical path"),
        CriticalPathChange::Left => Some("left the critical path"),
        CriticalPathChange::Stayed | CriticalPathChange::Off => None,
    };
    if let Some(note) = path_note {
        if !what.is_empty() {
            what.push_str("; ");
        }
        what.push_str(note);
    }
    [
        format!("{}: {}", escape(&row.service), escape(&row.name)),
        if row.count_before == 0 {
            String::from("-")
        } else {
            format_duration(row.total_before_nanos)
        },
        if row.count_after == 0 {
            String::from("-")
        } else {
            format_duration(row.total_after_nanos)
        },
        format_delta(row.delta_nanos),
        format_delta_percent(row.delta_percent),
        format!("{} -> {}", row.count_before, row.count_after),
        what,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyValue;
    use crate::scenario;
    use proptest::prelude::*;

    #[test]
    fn spans_entering_and_leaving_the_critical_path_are_named() {
        use crate::scenario::{SpanSpec, spans_from_specs};
        let trace = |specs: &[SpanSpec]| Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: crate::Batch {
                resources: vec![Default::default()],
                scopes: vec![Default::default()],
                spans: spans_from_specs(specs),
            },
        };
        // Two parallel calls: the slower one is what the request waits for.
        let before = trace(&[
            SpanSpec::new(1, None, "GET /page", 0, 100),
            SpanSpec::new(2, Some(1), "GET /prices", 0, 90),
            SpanSpec::new(3, Some(1), "GET /reviews", 0, 50),
        ]);
        let after = trace(&[
            SpanSpec::new(1, None, "GET /page", 0, 100),
            SpanSpec::new(2, Some(1), "GET /prices", 0, 40),
            SpanSpec::new(3, Some(1), "GET /reviews", 0, 95),
        ]);
        let comparison = compare(&before, &after).unwrap();
        let change = |name: &str| {
            let row = comparison.rows.iter().find(|row| row.name == name).unwrap();
            (
                row.critical_path,
                row_cells(row, |text| text.to_owned())[6].clone(),
            )
        };
        assert_eq!(
            change("GET /prices"),
            (
                CriticalPathChange::Left,
                "left the critical path".to_owned()
            )
        );
        assert_eq!(
            change("GET /reviews"),
            (
                CriticalPathChange::Entered,
                "entered the critical path".to_owned()
            )
        );
        assert_eq!(change("GET /page").0, CriticalPathChange::Stayed);
    }

    #[test]
    fn rows_line_up_as_one_tree_with_added_spans_under_their_parent() {
        use crate::scenario::{SpanSpec, spans_from_specs};
        let trace = |specs: &[SpanSpec]| Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: crate::Batch {
                resources: vec![Default::default()],
                scopes: vec![Default::default()],
                spans: spans_from_specs(specs),
            },
        };
        let before = trace(&[
            SpanSpec::new(1, None, "GET /page", 0, 100),
            SpanSpec::new(2, Some(1), "load", 0, 60),
            SpanSpec::new(3, Some(2), "SELECT a", 0, 50),
            SpanSpec::new(4, Some(2), "old step", 50, 60),
            SpanSpec::new(5, Some(1), "render", 60, 100),
        ]);
        let after = trace(&[
            SpanSpec::new(1, None, "GET /page", 0, 80),
            SpanSpec::new(2, Some(1), "load", 0, 40),
            SpanSpec::new(3, Some(2), "SELECT a", 0, 30),
            SpanSpec::new(6, Some(2), "cache get", 30, 40),
            SpanSpec::new(5, Some(1), "render", 40, 80),
        ]);
        let comparison = compare(&before, &after).unwrap();
        let order: Vec<(&str, Change)> = comparison
            .rows
            .iter()
            .map(|row| (row.name.as_str(), row.change))
            .collect();
        assert_eq!(
            order,
            [
                ("GET /page", Change::Matched),
                ("load", Change::Matched),
                ("SELECT a", Change::Matched),
                ("old step", Change::Removed),
                ("cache get", Change::Added),
                ("render", Change::Matched),
            ]
        );
        let cache = &comparison.rows[4];
        assert_eq!(cache.extent_before, None);
        assert_eq!(
            cache.extent_after,
            Some(Extent {
                start_nanos: 30,
                end_nanos: 40
            })
        );
    }

    fn scenario_pair() -> Comparison {
        let before = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_000);
        let after = scenario::fixed_order(scenario::FIXED_ORDER_TRACE_ID, 9_000_000_000);
        compare(&before, &after).unwrap()
    }

    /// The pair with `inventory-service` deployed from 1.4.0 to 1.5.0 (and a new pid, ignored).
    fn deployed_pair() -> (Trace, Trace) {
        let mut before = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_000);
        let mut after = scenario::fixed_order(scenario::FIXED_ORDER_TRACE_ID, 9_000_000_000);
        for (trace, version, pid) in [(&mut before, "1.4.0", 7_i64), (&mut after, "1.5.0", 8)] {
            for resource in &mut trace.batch.resources {
                if resource.service_name() == "inventory-service" {
                    for attribute in &mut resource.attributes {
                        if attribute.key == "service.version" {
                            attribute.value = AnyValue::from(version);
                        }
                    }
                    resource.attributes.push(KeyValue::new("process.pid", pid));
                }
            }
        }
        (before, after)
    }

    #[test]
    fn a_deployed_service_shows_its_version_change() {
        let (before, after) = deployed_pair();
        let comparison = compare(&before, &after).unwrap();
        assert_eq!(
            comparison.resource_changes,
            vec![ResourceChange {
                service: String::from("inventory-service"),
                key: String::from("service.version"),
                before: Some(String::from("1.4.0")),
                after: Some(String::from("1.5.0")),
            }]
        );
        let table = render_table(&comparison);
        assert!(
            table.contains("resource of inventory-service: service.version: 1.4.0 -> 1.5.0"),
            "{table}"
        );
        // Identical resources: nothing to show.
        assert!(scenario_pair().resource_changes.is_empty());
    }

    #[test]
    fn the_markdown_report_names_both_traces_and_links_back() {
        let (before, after) = deployed_pair();
        let comparison = compare(&before, &after).unwrap();
        let (before_id, after_id) = (
            scenario::SLOW_ORDER_TRACE_ID,
            scenario::FIXED_ORDER_TRACE_ID,
        );
        let plain = render_markdown(&comparison);
        assert!(
            plain.contains(&format!("- traces: `{before_id}` -> `{after_id}`\n")),
            "{plain}"
        );
        assert!(
            plain.contains("- resource of inventory-service: service.version: 1.4.0 -> 1.5.0\n"),
            "{plain}"
        );
        let linked = render_markdown_linked(&comparison, Some("http://127.0.0.1:4318/"));
        assert!(
            linked.contains(&format!(
                "- traces: [`{before_id}`](http://127.0.0.1:4318/trace/{before_id}) -> [`{after_id}`](http://127.0.0.1:4318/trace/{after_id}) ([side by side](http://127.0.0.1:4318/compare/{before_id}/{after_id}))\n"
            )),
            "{linked}"
        );
    }

    #[test]
    fn the_fix_is_89_1_percent_faster() {
        let comparison = scenario_pair();
        assert_eq!(comparison.total_before_nanos, 3_200_000_000);
        assert_eq!(comparison.total_after_nanos, 350_000_000);
        assert_eq!(format_delta(comparison.delta_nanos), "-2850 ms");
        assert_eq!(format_delta_percent(comparison.delta_percent), "-89.1 %");
        assert!(!comparison.is_slower_by_more_than(0.0));
    }

    #[test]
    fn inventory_goes_from_2800_to_60_ms_and_says_why() {
        let comparison = scenario_pair();
        let stock = comparison
            .rows
            .iter()
            .find(|row| row.name == "GET /stock")
            .unwrap();
        assert_eq!(
            (stock.total_before_nanos, stock.total_after_nanos),
            (2_800_000_000, 60_000_000)
        );
        assert_eq!(format_delta_percent(stock.delta_percent), "-97.9 %");
        let cache_hit = stock
            .attribute_changes
            .iter()
            .find(|c| c.key == "inventory.cache_hit")
            .unwrap();
        assert_eq!(
            (cache_hit.before.as_deref(), cache_hit.after.as_deref()),
            (Some("false"), Some("true"))
        );
        let mysql = comparison
            .rows
            .iter()
            .find(|row| row.name == "SELECT FROM inventory")
            .unwrap();
        let rows_examined = mysql
            .attribute_changes
            .iter()
            .find(|c| c.key == "db.rows_examined")
            .unwrap();
        assert_eq!(
            (
                rows_examined.before.as_deref(),
                rows_examined.after.as_deref()
            ),
            (Some("1500000"), Some("2"))
        );
        // The fixed MySQL call lost its Query Execution and Result Fetch children.
        let removed: Vec<&str> = comparison
            .rows
            .iter()
            .filter(|row| row.change == Change::Removed)
            .map(|row| row.name.as_str())
            .collect();
        assert_eq!(removed, ["Query Execution", "Result Fetch"]);
        assert_eq!(comparison.rows_by_impact()[0].name, "GET /orders/12345");
    }

    #[test]
    fn repeated_siblings_are_compared_as_groups() {
        use scenario::{SpanSpec, spans_from_specs};
        let mut before_specs = vec![SpanSpec::new(0, None, "GET /products", 0, 4_200)];
        for n in 1..=20u64 {
            before_specs.push(SpanSpec::new(
                n,
                Some(0),
                "SELECT categories WHERE id=1",
                n * 200,
                n * 200 + 180,
            ));
        }
        let after_specs = [
            SpanSpec::new(0, None, "GET /products", 0, 280),
            SpanSpec::new(1, Some(0), "SELECT categories WHERE id=7", 10, 200),
        ];
        let trace = |specs: &[SpanSpec]| Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: crate::Batch {
                resources: vec![Default::default()],
                scopes: vec![Default::default()],
                spans: spans_from_specs(specs),
            },
        };
        let comparison = compare(&trace(&before_specs), &trace(&after_specs)).unwrap();
        let query = comparison
            .rows
            .iter()
            .find(|row| row.name.starts_with("SELECT"))
            .unwrap();
        assert_eq!((query.count_before, query.count_after), (20, 1));
        assert_eq!(query.total_before_nanos, 20 * 180);
        assert_eq!(comparison.rows.len(), 2);
    }

    #[test]
    fn batching_the_n_plus_one_takes_21_queries_to_2() {
        let before = scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, 0);
        let after = scenario::batched_products(scenario::BATCHED_PRODUCTS_TRACE_ID, 0);
        let comparison = compare(&before, &after).unwrap();
        assert_eq!(
            (comparison.queries_before, comparison.queries_after),
            (21, 2)
        );
        assert_eq!(
            (comparison.total_before_nanos, comparison.total_after_nanos),
            (4_200_000_000, 280_000_000)
        );
        assert_eq!(format_delta_percent(comparison.delta_percent), "-93.3 %");
        // The 20 loop bodies are one row with counts, not 20 rows.
        let loops = comparison
            .rows
            .iter()
            .find(|row| row.service == "loop")
            .unwrap();
        assert_eq!(
            (loops.count_before, loops.count_after, loops.change),
            (20, 0, Change::Removed)
        );
        assert_eq!(loops.name, "fetch category for product ?");
        // The 20 queries and the one batch that replaced them are one row: matched by what they
        // run, although name and place changed.
        let queries = comparison
            .rows
            .iter()
            .find(|row| row.change == Change::Renamed)
            .unwrap();
        assert_eq!(queries.service, "database");
        assert_eq!(
            queries.renamed_to.as_deref(),
            Some("mysql.query.categories")
        );
        assert_eq!((queries.count_before, queries.count_after), (20, 1));
        assert_eq!(
            (queries.total_before_nanos, queries.total_after_nanos),
            (20 * 180 * 1_000_000, 200 * 1_000_000)
        );
        assert!(
            comparison
                .rows
                .iter()
                .all(|row| row.change != Change::Added),
            "nothing is left unmatched in the fixed trace"
        );
    }

    const HOSTILE: &str = "<img src=x onerror=alert(1)>\n| injected | row | a | b | c | d | e |\r\n**bold** _em_ `code` [link](javascript:alert(1)) ~~s~~ $x$ & \\| \u{2028}end";

    /// The `|` that separate cells: those not escaped with a backslash.
    fn cell_separators(line: &str) -> usize {
        let mut count = 0;
        let mut escaped = false;
        for character in line.chars() {
            match character {
                '\\' if !escaped => escaped = true,
                '|' if !escaped => count += 1,
                _ => escaped = false,
            }
            if character != '\\' {
                escaped = false;
            }
        }
        count
    }

    #[test]
    fn markdown_escaping_leaves_no_markup_and_no_line_break() {
        let escaped = escape_markdown(HOSTILE);
        assert!(
            !escaped.contains(['<', '>', '\n', '\r', '\u{2028}']),
            "{escaped}"
        );
        assert!(escaped.starts_with("&lt;img src=x onerror=alert\\(1\\)&gt; \\| injected"));
        assert!(escaped.contains("\\*\\*bold\\*\\* \\_em\\_ \\`code\\` \\[link\\]"));
        assert!(escaped.contains("\\$x\\$ &amp; \\\\\\|"), "{escaped}");
        assert_eq!(cell_separators(&escaped), 0);
        assert_eq!(escape_markdown("GET /orders/{id}"), "GET /orders/{id}");
    }

    #[test]
    fn hostile_span_names_stay_inside_their_cell_of_the_markdown_report() {
        let rename = |mut trace: Trace| {
            for span in &mut trace.batch.spans {
                if span.name == "GET /stock" {
                    span.name = HOSTILE.to_owned();
                }
                span.attributes
                    .push(crate::KeyValue::new("db.statement", HOSTILE));
            }
            trace
        };
        let before = rename(scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_000));
        let mut after = rename(scenario::fixed_order(
            scenario::FIXED_ORDER_TRACE_ID,
            9_000_000_000,
        ));
        // A changed attribute value is shown too.
        for span in &mut after.batch.spans {
            span.attributes
                .push(crate::KeyValue::new("<b>key</b>", "<script>x</script>"));
        }
        let comparison = compare(&before, &after).unwrap();
        let markdown = render_markdown(&comparison);
        assert!(!markdown.contains('<'), "{markdown}");
        let table: Vec<&str> = markdown
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .collect();
        assert_eq!(
            table.len(),
            comparison.rows_by_impact().len() + 2,
            "{markdown}"
        );
        for line in &table {
            assert_eq!(cell_separators(line), 8, "{line}");
        }
        assert!(
            markdown.contains("&lt;img src=x onerror=alert\\(1\\)&gt;"),
            "{markdown}"
        );
    }

    #[test]
    fn reports_lead_with_the_total_and_the_biggest_change() {
        let comparison = scenario_pair();
        let table = render_table(&comparison);
        assert!(
            table.starts_with(
                "total: 3200 ms -> 350 ms (-2850 ms, -89.1 %)\nspans: 10 -> 8\nqueries: 3 -> 2"
            ),
            "{table}"
        );
        let first_row = table.lines().nth(5).unwrap();
        assert!(
            first_row.starts_with("order-service: GET /orders/12345"),
            "{table}"
        );
        let markdown = render_markdown(&comparison);
        assert!(
            markdown.contains(
                "| inventory-service: GET /stock | 2800 ms | 60 ms | -2740 ms | -97.9 % | 1 -> 1 |"
            ),
            "{markdown}"
        );
    }

    proptest! {
        #[test]
        fn a_trace_compared_with_itself_has_no_deltas_and_swapping_negates(
            durations in proptest::collection::vec(1u64..1_000_000, 1..30)
        ) {
            use scenario::{SpanSpec, spans_from_specs};
            let mut specs = vec![SpanSpec::new(0, None, "root", 0, 10_000_000)];
            for (n, duration) in durations.iter().enumerate() {
                let n = n as u64 + 1;
                specs.push(SpanSpec::new(n, Some(n / 3), "work", n * 100, n * 100 + duration));
            }
            let trace = Trace {
                trace_id: crate::TraceId([1; 16]),
                batch: crate::Batch { resources: vec![Default::default()], scopes: vec![Default::default()], spans: spans_from_specs(&specs) },
            };
            let same = compare(&trace, &trace).unwrap();
            prop_assert_eq!(same.delta_nanos, 0);
            prop_assert!(same.rows.iter().all(|row| row.delta_nanos == 0 && row.change == Change::Matched));

            let before = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
            let forward = compare(&before, &trace).unwrap();
            let backward = compare(&trace, &before).unwrap();
            prop_assert_eq!(forward.delta_nanos, -backward.delta_nanos);
        }
    }
}
