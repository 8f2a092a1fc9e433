//! Repeated siblings: spans under one parent with the same service and normalised name (`fetch
//! category for product 7` and `… 8`), shown as one expandable "×20" row with their count, summed
//! ("busy") and longest duration and the wall-clock time they cover (their share of the trace, see
//! [`crate::intervals`]), so that a loop of 500 calls takes one line instead of 500.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::tree::child_rows;

/// Fewer repetitions than this stay as separate rows: two or three retries read better apart.
pub const MIN_GROUP_SIZE: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct SiblingGroup {
    /// Member rows in row order; the first one stands for the group while it is collapsed.
    pub rows: Vec<u32>,
    pub service: String,
    /// The members' name with literals replaced by `?`.
    pub name: String,
    /// The members' durations summed ("busy" time: overlapping members count twice).
    pub total_nanos: u64,
    /// The wall-clock time the members cover (the union of their intervals): their share of the
    /// trace is this over the trace's duration, never above 100 %.
    pub wall_nanos: u64,
    pub max_nanos: u64,
    pub n_errors: usize,
}

impl SiblingGroup {
    pub fn first_row(&self) -> u32 {
        self.rows[0]
    }
}

/// What grouping needs to know about a row.
#[derive(Debug, Clone, Copy)]
pub struct RowKey {
    /// Rows below this one (its whole subtree): rows are in depth-first order, so a row's
    /// children are found by skipping each child's subtree (see [`crate::tree::child_rows`]).
    pub n_descendants: u32,
    pub service_idx: u32,
    /// The row's normalised name, as a key of a [`crate::normalize::NameTable`].
    pub name_key: u32,
    /// Start, from the start of the trace.
    pub offset_nanos: u64,
    pub duration_nanos: u64,
    pub is_error: bool,
}

/// Siblings seen so far under one key; most keys have one row, which needs no list.
struct Candidate {
    rows: Vec<u32>,
    first_row: u32,
    service_idx: u32,
    name_key: u32,
    total_nanos: u64,
    max_nanos: u64,
    n_errors: usize,
}

/// Groups of at least [`MIN_GROUP_SIZE`] repeated siblings, by parent (the top level first, then
/// parents in row order) and by first row under one parent, among
/// `n_rows` rows in depth-first order described by `key_of`; `services` and `names` resolve the
/// rows' service indexes and name keys.
///
/// Each parent's children are grouped on their own, with one small map reused from parent to
/// parent: a map of every row in the trace cost more than the rest of the waterfall (100,000
/// rows) in the browser, where each fresh megabyte of memory is slow to touch.
pub fn find(
    n_rows: usize,
    key_of: impl Fn(u32) -> RowKey,
    services: &[String],
    names: &[Arc<str>],
) -> Vec<SiblingGroup> {
    // Walking from child to child reads only subtree sizes, gathered once (the children of
    // every parent are walked, so each row is stepped over a few times).
    let subtree_sizes: Vec<u32> = (0..n_rows as u32)
        .map(|row| key_of(row).n_descendants)
        .collect();
    let n_descendants = |row: usize| subtree_sizes[row];
    let mut by_key: FxHashMap<(u32, u32), usize> = FxHashMap::default();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut groups = Vec::new();
    let mut group_siblings = |siblings: &mut dyn Iterator<Item = u32>| {
        by_key.clear();
        candidates.clear();
        for row_idx in siblings {
            let row = key_of(row_idx);
            let at = *by_key
                .entry((row.service_idx, row.name_key))
                .or_insert_with(|| {
                    candidates.push(Candidate {
                        rows: Vec::new(),
                        first_row: row_idx,
                        service_idx: row.service_idx,
                        name_key: row.name_key,
                        total_nanos: 0,
                        max_nanos: 0,
                        n_errors: 0,
                    });
                    candidates.len() - 1
                });
            let candidate = &mut candidates[at];
            if candidate.first_row != row_idx {
                if candidate.rows.is_empty() {
                    candidate.rows.push(candidate.first_row);
                }
                candidate.rows.push(row_idx);
            }
            candidate.total_nanos += row.duration_nanos;
            candidate.max_nanos = candidate.max_nanos.max(row.duration_nanos);
            candidate.n_errors += usize::from(row.is_error);
        }
        groups.extend(
            candidates
                .drain(..)
                .filter(|candidate| candidate.rows.len() >= MIN_GROUP_SIZE)
                .map(|candidate| SiblingGroup {
                    service: services[candidate.service_idx as usize].clone(),
                    name: names[candidate.name_key as usize].to_string(),
                    wall_nanos: wall_nanos(&candidate.rows, &key_of),
                    rows: candidate.rows,
                    total_nanos: candidate.total_nanos,
                    max_nanos: candidate.max_nanos,
                    n_errors: candidate.n_errors,
                }),
        );
    };
    // The top-level rows are siblings too (under no parent).
    group_siblings(&mut top_level_rows(n_rows, n_descendants));
    for parent in 0..n_rows {
        // A row with fewer rows below it than a group has cannot hold one.
        if (n_descendants(parent) as usize) < MIN_GROUP_SIZE {
            continue;
        }
        if child_rows(parent as u32, n_rows, n_descendants)
            .nth(MIN_GROUP_SIZE - 1)
            .is_none()
        {
            continue;
        }
        group_siblings(&mut child_rows(parent as u32, n_rows, n_descendants));
    }
    groups
}

/// The wall-clock time covered by the rows' spans.
fn wall_nanos(rows: &[u32], key_of: impl Fn(u32) -> RowKey) -> u64 {
    crate::intervals::occupancy(rows.iter().map(|row| {
        let key = key_of(*row);
        (key.offset_nanos, key.offset_nanos + key.duration_nanos)
    }))
    .wall_nanos
}

/// The top-level rows of `n_rows` rows in depth-first order: the first, then each one after the
/// previous one's subtree.
fn top_level_rows(
    n_rows: usize,
    n_descendants: impl Fn(usize) -> u32,
) -> impl Iterator<Item = u32> {
    let mut next = 0usize;
    std::iter::from_fn(move || {
        if next >= n_rows {
            return None;
        }
        let row = next;
        next += n_descendants(row) as usize + 1;
        Some(row as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::normalize::NameTable;

    /// Rows as (parent row, name, duration), in depth-first order.
    fn find_in(rows: &[(Option<u32>, &str, u64)]) -> Vec<SiblingGroup> {
        let mut names = NameTable::default();
        let mut n_descendants = vec![0u32; rows.len()];
        for (row_idx, (parent_row, _, _)) in rows.iter().enumerate().rev() {
            if let Some(parent) = parent_row {
                n_descendants[*parent as usize] += n_descendants[row_idx] + 1;
            }
        }
        let keys: Vec<RowKey> = rows
            .iter()
            .zip(&n_descendants)
            .map(|((_, name, duration_nanos), n_descendants)| RowKey {
                n_descendants: *n_descendants,
                service_idx: 0,
                name_key: names.key(name),
                offset_nanos: 0,
                duration_nanos: *duration_nanos,
                is_error: false,
            })
            .collect();
        find(
            keys.len(),
            |row| keys[row as usize],
            &["api".to_owned()],
            &names.into_texts(),
        )
    }

    #[test]
    fn groups_siblings_that_differ_only_in_literals() {
        let names: Vec<String> = (0..6).map(|n| format!("fetch product {n}")).collect();
        let mut rows = vec![(None, "root", 100)];
        rows.extend(names.iter().map(|name| (Some(0), name.as_str(), 10)));
        rows.push((Some(0), "render", 5));
        let groups = find_in(&rows);
        assert_eq!(groups.len(), 1);
        let group = &groups[0];
        assert_eq!(group.rows, [1, 2, 3, 4, 5, 6]);
        assert_eq!(group.name, "fetch product ?");
        assert_eq!((group.total_nanos, group.max_nanos), (60, 10));
        assert_eq!(group.wall_nanos, 10, "all six start together in this test");
    }

    #[test]
    fn few_repetitions_or_different_parents_stay_apart() {
        let rows = [
            (None, "root", 100),
            (Some(0), "retry 1", 10),
            (Some(0), "retry 2", 10),
            (Some(0), "retry 3", 10),
            (Some(1), "retry 4", 10),
            (Some(2), "retry 5", 10),
        ];
        assert!(find_in(&rows).is_empty());
    }

    #[test]
    fn siblings_between_subtrees_and_top_level_rows_group() {
        // Loop spans each with a child, under the root, and repeated top-level rows.
        let mut rows = vec![(None, "root", 100)];
        for n in 0..5 {
            let wrapper = rows.len() as u32;
            rows.push((Some(0), "loop", 10));
            rows.push((Some(wrapper), if n == 4 { "other" } else { "query" }, 8));
        }
        rows.extend((0..5).map(|_| (None, "late batch", 1)));
        let groups = find_in(&rows);
        let rows_of: Vec<&[u32]> = groups.iter().map(|group| group.rows.as_slice()).collect();
        // The top level's groups come first.
        assert_eq!(rows_of, [&[11, 12, 13, 14, 15][..], &[1, 3, 5, 7, 9][..]]);
        assert_eq!(groups[1].total_nanos, 50);
    }

    /// The obvious definition: one map over every row, keyed by parent, service and name.
    fn reference(
        parents: &[Option<u32>],
        keys: &[RowKey],
        names: &[Arc<str>],
    ) -> Vec<SiblingGroup> {
        let mut by_key: FxHashMap<(Option<u32>, u32, u32), Vec<u32>> = FxHashMap::default();
        for (row_idx, (parent, key)) in parents.iter().zip(keys).enumerate() {
            by_key
                .entry((*parent, key.service_idx, key.name_key))
                .or_default()
                .push(row_idx as u32);
        }
        let mut groups: Vec<SiblingGroup> = by_key
            .into_values()
            .filter(|rows| rows.len() >= MIN_GROUP_SIZE)
            .map(|rows| {
                let first = keys[rows[0] as usize];
                let members = || rows.iter().map(|row| keys[*row as usize]);
                SiblingGroup {
                    service: format!("svc{}", first.service_idx),
                    name: names[first.name_key as usize].to_string(),
                    total_nanos: members().map(|key| key.duration_nanos).sum(),
                    wall_nanos: crate::intervals::occupancy(
                        members()
                            .map(|key| (key.offset_nanos, key.offset_nanos + key.duration_nanos)),
                    )
                    .wall_nanos,
                    max_nanos: members().map(|key| key.duration_nanos).max().unwrap_or(0),
                    n_errors: members().filter(|key| key.is_error).count(),
                    rows,
                }
            })
            .collect();
        groups.sort_by_key(|group| (parents[group.rows[0] as usize], group.first_row()));
        groups
    }

    /// Groups found by the property test, so that it is known to compare more than empty lists.
    static FOUND_GROUPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    #[test]
    fn the_property_test_finds_groups() {
        matches_one_map_over_every_row();
        assert!(FOUND_GROUPS.load(std::sync::atomic::Ordering::Relaxed) > 0);
    }

    proptest::proptest! {
        #[test]
        fn matches_one_map_over_every_row(
            shape in proptest::collection::vec((proptest::num::u32::ANY, 0u32..2, 0u32..3, 0u64..50, proptest::bool::ANY, 0u64..100), 1..200),
        ) {
            // Each row's parent is any row above it, or none for one row in ten: a few rows
            // gather many children (and the top level many rows), so groups form.
            let mut parent_of: Vec<Option<u32>> = Vec::new();
            for (row_idx, (choice, ..)) in shape.iter().enumerate() {
                let is_top = row_idx == 0 || choice % 10 == 0;
                parent_of.push((!is_top).then(|| choice % row_idx as u32));
            }
            let mut children: Vec<Vec<u32>> = vec![Vec::new(); shape.len()];
            let mut top = Vec::new();
            for (row_idx, parent) in parent_of.iter().enumerate() {
                match parent {
                    Some(parent) => children[*parent as usize].push(row_idx as u32),
                    None => top.push(row_idx as u32),
                }
            }
            let mut order = Vec::new();
            let mut stack: Vec<u32> = top.into_iter().rev().collect();
            while let Some(node) = stack.pop() {
                order.push(node);
                stack.extend(children[node as usize].iter().rev());
            }
            let mut row_of = vec![0u32; shape.len()];
            for (row_idx, node) in order.iter().enumerate() {
                row_of[*node as usize] = row_idx as u32;
            }
            let parents: Vec<Option<u32>> =
                order.iter().map(|node| parent_of[*node as usize].map(|p| row_of[p as usize])).collect();
            let mut n_descendants = vec![0u32; order.len()];
            for row_idx in (0..order.len()).rev() {
                if let Some(parent) = parents[row_idx] {
                    n_descendants[parent as usize] += n_descendants[row_idx] + 1;
                }
            }
            let keys: Vec<RowKey> = order
                .iter()
                .zip(&n_descendants)
                .map(|(node, n_descendants)| {
                    let (_, service_idx, name_key, duration_nanos, is_error, offset_nanos) = shape[*node as usize];
                    RowKey { n_descendants: *n_descendants, service_idx, name_key, offset_nanos, duration_nanos, is_error }
                })
                .collect();
            let names: Vec<Arc<str>> = ["a", "b", "c"].into_iter().map(Arc::from).collect();
            let services = ["svc0".to_owned(), "svc1".to_owned()];
            let found = find(keys.len(), |row| keys[row as usize], &services, &names);
            proptest::prop_assert_eq!(&found, &reference(&parents, &keys, &names));
            FOUND_GROUPS.fetch_add(found.len(), std::sync::atomic::Ordering::Relaxed);
        }
    }
}
