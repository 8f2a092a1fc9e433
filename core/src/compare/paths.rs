//! Tree paths and the groups of spans that share one: what both a two-trace comparison and a
//! group comparison ([`crate::group_compare`]) count and match.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::comparison::Extent;
use crate::model::Trace;
use crate::waterfall::Waterfall;

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
    pub(super) fn get(&self, id: KeyId) -> &(Arc<str>, Arc<str>) {
        &self.keys[id as usize]
    }
}

/// All spans of one trace that share a tree path.
pub(crate) struct Group {
    /// The group of the spans' parents, `None` at the top level.
    pub(super) parent: Option<u32>,
    pub(super) key: KeyId,
    /// Waterfall rows, in start order.
    pub(super) rows: Vec<u32>,
}

/// One trace as groups of spans by tree path. Outside `compare`, only [`Side::new`],
/// [`Side::duration_nanos`] and [`Side::path_totals`] are used.
pub(crate) struct Side<'a> {
    pub(super) trace: &'a Trace,
    pub(super) waterfall: Waterfall,
    /// In order of first appearance, so a parent comes before its children.
    pub(super) groups: Vec<Group>,
    /// (parent group, key) -> group.
    pub(super) group_index: FxHashMap<(Option<u32>, KeyId), u32>,
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

    /// The trace's duration as the waterfall shows it (adjusted for clock skew).
    pub(crate) fn duration_nanos(&self) -> u64 {
        self.waterfall.duration_nanos()
    }

    /// Every group's path and totals, parents before their children.
    pub(crate) fn path_totals<'s>(
        &'s self,
        keys: &'s KeyTable,
    ) -> impl Iterator<Item = (Vec<KeyId>, GroupTotals)> + 's {
        (0..self.groups.len() as u32).map(move |group| {
            (
                self.path(group),
                totals(keys, self, &self.groups[group as usize]),
            )
        })
    }

    /// The keys from the top level down to `group` (paths identify a place across traces).
    fn path(&self, group: u32) -> Vec<KeyId> {
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
    pub(super) critical_nanos: u64,
    pub(crate) on_critical_path: bool,
    pub(crate) name: String,
    pub(crate) service: String,
    pub(crate) depth: u32,
    pub(super) extent: Extent,
}

pub(super) fn totals(keys: &KeyTable, side: &Side<'_>, group: &Group) -> GroupTotals {
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
