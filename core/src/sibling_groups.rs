//! Repeated siblings: spans under one parent with the same service and normalised name (`fetch
//! category for product 7` and `… 8`), shown as one expandable "×20" row with their count, summed
//! and longest duration, so that a loop of 500 calls takes one line instead of 500.

use std::sync::Arc;

use rustc_hash::FxHashMap;

/// Fewer repetitions than this stay as separate rows: two or three retries read better apart.
pub const MIN_GROUP_SIZE: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct SiblingGroup {
    /// Member rows in row order; the first one stands for the group while it is collapsed.
    pub rows: Vec<u32>,
    pub service: String,
    /// The members' name with literals replaced by `?`.
    pub name: String,
    pub total_nanos: u64,
    pub max_nanos: u64,
    pub n_errors: usize,
}

impl SiblingGroup {
    pub fn first_row(&self) -> u32 {
        self.rows[0]
    }
}

/// What grouping needs to know about a row.
pub struct RowKey {
    pub parent_row: Option<u32>,
    pub service_idx: u32,
    /// The row's normalised name, as a key of a [`crate::normalize::NameTable`].
    pub name_key: u32,
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

/// Groups of at least [`MIN_GROUP_SIZE`] repeated siblings, ordered by their first row;
/// `services` and `names` resolve the rows' service indexes and name keys.
pub fn find(
    rows: impl Iterator<Item = RowKey>,
    services: &[String],
    names: &[Arc<str>],
) -> Vec<SiblingGroup> {
    let mut by_key: FxHashMap<(Option<u32>, u32, u32), usize> = FxHashMap::default();
    let mut candidates: Vec<Candidate> = Vec::new();
    for (row_idx, row) in rows.enumerate() {
        let row_idx = row_idx as u32;
        let at = *by_key
            .entry((row.parent_row, row.service_idx, row.name_key))
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
    // Candidates are in order of their first row already.
    candidates
        .into_iter()
        .filter(|candidate| candidate.rows.len() >= MIN_GROUP_SIZE)
        .map(|candidate| SiblingGroup {
            service: services[candidate.service_idx as usize].clone(),
            name: names[candidate.name_key as usize].to_string(),
            rows: candidate.rows,
            total_nanos: candidate.total_nanos,
            max_nanos: candidate.max_nanos,
            n_errors: candidate.n_errors,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::normalize::NameTable;

    fn find_in(rows: &[(Option<u32>, &str, u64)]) -> Vec<SiblingGroup> {
        let mut names = NameTable::default();
        let keys: Vec<RowKey> = rows
            .iter()
            .map(|(parent_row, name, duration_nanos)| RowKey {
                parent_row: *parent_row,
                service_idx: 0,
                name_key: names.key(name),
                duration_nanos: *duration_nanos,
                is_error: false,
            })
            .collect();
        find(keys.into_iter(), &["api".to_owned()], &names.into_texts())
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
}
