//! Repeated siblings: spans under one parent with the same service and normalised name (`fetch
//! category for product 7` and `… 8`), shown as one expandable "×20" row with their count, summed
//! and longest duration, so that a loop of 500 calls takes one line instead of 500.

use std::collections::HashMap;

use crate::normalize::normalize_literals;

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
pub struct RowKey<'a> {
    pub parent_row: Option<u32>,
    pub service_idx: u32,
    pub service: &'a str,
    pub name: &'a str,
    pub duration_nanos: u64,
    pub is_error: bool,
}

/// Groups of at least [`MIN_GROUP_SIZE`] repeated siblings, ordered by their first row.
pub fn find<'a>(rows: impl Iterator<Item = RowKey<'a>>) -> Vec<SiblingGroup> {
    let mut by_key: HashMap<(Option<u32>, u32, String), SiblingGroup> = HashMap::new();
    for (row_idx, row) in rows.enumerate() {
        let name = normalize_literals(row.name);
        let group = by_key
            .entry((row.parent_row, row.service_idx, name.clone()))
            .or_insert_with(|| SiblingGroup {
                rows: Vec::new(),
                service: row.service.to_owned(),
                name,
                total_nanos: 0,
                max_nanos: 0,
                n_errors: 0,
            });
        group.rows.push(row_idx as u32);
        group.total_nanos += row.duration_nanos;
        group.max_nanos = group.max_nanos.max(row.duration_nanos);
        group.n_errors += usize::from(row.is_error);
    }
    let mut groups: Vec<SiblingGroup> = by_key
        .into_values()
        .filter(|group| group.rows.len() >= MIN_GROUP_SIZE)
        .collect();
    groups.sort_by_key(SiblingGroup::first_row);
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(parent_row: Option<u32>, name: &str, duration_nanos: u64) -> RowKey<'_> {
        RowKey {
            parent_row,
            service_idx: 0,
            service: "api",
            name,
            duration_nanos,
            is_error: false,
        }
    }

    #[test]
    fn groups_siblings_that_differ_only_in_literals() {
        let names: Vec<String> = (0..6).map(|n| format!("fetch product {n}")).collect();
        let mut rows = vec![key(None, "root", 100)];
        rows.extend(names.iter().map(|name| key(Some(0), name, 10)));
        rows.push(key(Some(0), "render", 5));
        let groups = find(rows.into_iter());
        assert_eq!(groups.len(), 1);
        let group = &groups[0];
        assert_eq!(group.rows, [1, 2, 3, 4, 5, 6]);
        assert_eq!(group.name, "fetch product ?");
        assert_eq!((group.total_nanos, group.max_nanos), (60, 10));
    }

    #[test]
    fn few_repetitions_or_different_parents_stay_apart() {
        let rows = vec![
            key(None, "root", 100),
            key(Some(0), "retry 1", 10),
            key(Some(0), "retry 2", 10),
            key(Some(0), "retry 3", 10),
            key(Some(1), "retry 4", 10),
            key(Some(2), "retry 5", 10),
        ];
        assert!(find(rows.into_iter()).is_empty());
    }
}
