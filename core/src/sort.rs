//! Sorting by an integer key, with one copy of the sort for all callers.
//!
//! Each `sort_by_key` with its own closure is a copy of the standard library's sort in the
//! page's wasm (2-5 KB of code each; sorting was the largest piece of the standard library
//! there). Lists sorted by an integer key go through here instead: their keys and positions are
//! sorted as `(u64, u32)` pairs, by one shared copy, and the list is put in that order.

/// Sorts `items` by `key`, stably (items with equal keys keep their order).
pub fn by_u64_key<T>(items: &mut Vec<T>, key: impl Fn(&T) -> u64) {
    let mut order: Vec<(u64, u32)> = items
        .iter()
        .enumerate()
        .map(|(idx, item)| (key(item), idx as u32))
        .collect();
    order.sort_unstable();
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(
        order
            .into_iter()
            .filter_map(|(_, idx)| slots[idx as usize].take()),
    );
}

/// Sorts `items` by `key`, largest first, stably.
pub fn by_u64_key_descending<T>(items: &mut Vec<T>, key: impl Fn(&T) -> u64) {
    by_u64_key(items, |item| u64::MAX - key(item));
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn sorts_as_the_standard_stable_sort(items in proptest::collection::vec((0u64..8, any::<u16>()), 0..60)) {
            let mut expected = items.clone();
            expected.sort_by_key(|item| item.0);
            let mut sorted = items.clone();
            by_u64_key(&mut sorted, |item| item.0);
            prop_assert_eq!(sorted, expected);

            let mut expected = items.clone();
            expected.sort_by_key(|item| std::cmp::Reverse(item.0));
            let mut sorted = items;
            by_u64_key_descending(&mut sorted, |item| item.0);
            prop_assert_eq!(sorted, expected);
        }
    }
}
