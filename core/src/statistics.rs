//! Per-service and per-operation statistics of one trace: where the time went, summed.

use rustc_hash::FxHashMap;

use crate::layout::percent_of;
use crate::waterfall::Waterfall;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Service,
    /// Service and span name.
    Operation,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatisticsRow {
    pub service: String,
    /// Empty when grouped by service.
    pub operation: String,
    pub count: u64,
    pub total_nanos: u64,
    pub max_nanos: u64,
    /// Time spent in these spans' own work (not in their children).
    pub self_total_nanos: u64,
    /// `self_total_nanos` as a share of the trace's duration: these shares add up to about
    /// 100 % for a sequential trace, and they say who did the work.
    pub self_percent_of_trace: f64,
}

/// Rows sorted by self time, largest first.
pub fn statistics(waterfall: &Waterfall, group_by: GroupBy) -> Vec<StatisticsRow> {
    let mut by_key: FxHashMap<(&str, &str), StatisticsRow> = FxHashMap::default();
    for row in &waterfall.rows {
        let operation: &str = match group_by {
            GroupBy::Service => "",
            GroupBy::Operation => &row.name,
        };
        let entry = by_key
            .entry((&row.service, operation))
            .or_insert_with(|| StatisticsRow {
                service: row.service.to_string(),
                operation: operation.to_owned(),
                count: 0,
                total_nanos: 0,
                max_nanos: 0,
                self_total_nanos: 0,
                self_percent_of_trace: 0.0,
            });
        entry.count += 1;
        entry.total_nanos += row.duration_nanos;
        entry.max_nanos = entry.max_nanos.max(row.duration_nanos);
        entry.self_total_nanos += row.self_nanos;
    }
    let trace_nanos = waterfall.duration_nanos();
    let mut rows: Vec<StatisticsRow> = by_key.into_values().collect();
    for row in &mut rows {
        row.self_percent_of_trace = percent_of(row.self_total_nanos, trace_nanos);
    }
    rows.sort_by(|a, b| {
        b.self_total_nanos
            .cmp(&a.self_total_nanos)
            .then_with(|| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)))
    });
    rows
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `p` % of the
/// values at or below it.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::format_percent;
    use crate::scenario;

    #[test]
    fn mysql_did_most_of_the_slow_orders_work() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let waterfall = Waterfall::build(&trace).unwrap();
        let by_service = statistics(&waterfall, GroupBy::Service);
        let mysql = &by_service[0];
        assert_eq!((mysql.service.as_str(), mysql.count), ("mysql", 3));
        assert_eq!(mysql.total_nanos, (2750 + 2700 + 50) * 1_000_000);
        assert_eq!(mysql.self_total_nanos, 2750 * 1_000_000);
        assert_eq!(format_percent(mysql.self_percent_of_trace), "85.9 %");
        let self_total: u64 = by_service.iter().map(|row| row.self_total_nanos).sum();
        assert_eq!(
            self_total,
            3200 * 1_000_000,
            "a sequential trace's self times add up"
        );

        let by_operation = statistics(&waterfall, GroupBy::Operation);
        assert_eq!(by_operation.len(), 10);
        assert_eq!(by_operation[0].operation, "Query Execution");
    }

    #[test]
    fn percentile_of_nothing_is_none_and_of_one_is_that_one() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
    }

    proptest::proptest! {
        #[test]
        fn percentiles_are_ordered_values_of_the_input(mut values in proptest::collection::vec(0u64..1_000_000, 1..200)) {
            values.sort_unstable();
            let p50 = percentile(&values, 50.0).unwrap();
            let p95 = percentile(&values, 95.0).unwrap();
            let p99 = percentile(&values, 99.0).unwrap();
            proptest::prop_assert!(p50 <= p95 && p95 <= p99);
            proptest::prop_assert!(values.contains(&p50) && values.contains(&p99));
            let at_or_below = values.iter().filter(|v| **v <= p95).count();
            proptest::prop_assert!(at_or_below as f64 >= 0.95 * values.len() as f64);
        }
    }
}
