//! Which group of one trace is which group of the other: by exact tree path, then re-parented
//! ("moved": same service and name left on both sides), then by similarity ("renamed").

use rustc_hash::{FxHashMap, FxHashSet};

use super::comparison::Change;
use super::paths::{Group, KeyId, KeyTable, Side};

/// The partners found: a group's index on the other side, and what became of each group of the
/// first trace.
pub(super) struct Matching {
    pub(super) before_of_after: Vec<Option<u32>>,
    pub(super) after_of_before: Vec<Option<u32>>,
    pub(super) change_of_before: Vec<Change>,
}

pub(super) fn match_groups(
    keys: &KeyTable,
    before_side: &Side<'_>,
    after_side: &Side<'_>,
) -> Matching {
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
        keys,
        before_side,
        after_side,
        &mut before_of_after,
        &mut after_of_before,
        &mut change_of_before,
    );
    Matching {
        before_of_after,
        after_of_before,
        change_of_before,
    }
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
            .map(|kv| kv.value.to_display_string())
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
pub(super) enum Node {
    Before(u32),
    Added(u32),
}

/// Both traces as one tree, depth first: the first trace's groups in tree order, and under each
/// group, after its own children, the groups only the second trace has there (under their
/// parent's partner when the parent was matched, else under their added parent, else at the
/// end), so that both waterfalls line up row for row.
pub(super) fn aligned_order(
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
