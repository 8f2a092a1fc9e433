//! N+1 detection: the same statement run again and again under one parent, directly or each
//! inside its own near-identical wrapper span (a loop body), as in the scenario's product list.

use rustc_hash::FxHashMap;

use crate::layout::percent_of;
use crate::model::{AnyValue, Trace};
use crate::normalize::NameTable;
use crate::waterfall::Waterfall;

/// Fewer repetitions than this are not reported.
pub const MIN_REPETITIONS: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct NPlusOne {
    /// The row all repetitions hang under.
    pub parent_row: u32,
    pub service: String,
    /// The normalised statement (or span name), e.g. `SELECT * FROM categories WHERE id = ?`.
    pub statement: String,
    /// The repeated rows, in row order.
    pub rows: Vec<u32>,
    /// The repetitions' durations summed ("busy": overlapping ones count twice).
    pub total_nanos: u64,
    /// The wall-clock time they cover (the union of their intervals).
    pub wall_nanos: u64,
    /// `wall_nanos` over the trace's duration: never above 100 %.
    pub percent_of_trace: f64,
}

/// Marks a repetition directly under the parent, in place of a wrapper's name key.
const DIRECT: u32 = u32::MAX;

/// Findings, largest total time first.
pub fn detect(trace: &Trace, waterfall: &Waterfall) -> Vec<NPlusOne> {
    let rows = &waterfall.rows;
    // What a row runs: its `db.statement`, else its name; normalised, each distinct text once.
    let mut statements = NameTable::default();
    let statement_of: Vec<u32> = rows
        .iter()
        .map(|row| {
            let span = &trace.batch.spans[row.span_idx as usize];
            let statement = span
                .attributes
                .iter()
                .find(|kv| kv.key == "db.statement")
                .and_then(|kv| match &kv.value {
                    AnyValue::String(text) => Some(text.as_str()),
                    _ => None,
                })
                .unwrap_or(&row.name);
            statements.key(statement)
        })
        .collect();
    let mut findings = Vec::new();
    // (wrapper name key or DIRECT, service, statement) -> rows; reused for every parent.
    let mut groups: FxHashMap<(u32, u32, u32), Vec<u32>> = FxHashMap::default();
    for (parent_idx, parent) in rows.iter().enumerate() {
        // At least five rows below, directly or inside wrappers, or there is nothing to find.
        if (parent.n_descendants as usize) < MIN_REPETITIONS {
            continue;
        }
        groups.clear();
        // Repetitions directly under the parent, or one level down inside wrapper spans whose
        // names are equal once numbers are replaced.
        for child in waterfall.children(parent_idx as u32) {
            let key_of = |row: u32| (rows[row as usize].service_idx, statement_of[row as usize]);
            let (service, statement) = key_of(child);
            groups
                .entry((DIRECT, service, statement))
                .or_default()
                .push(child);
            let wrapper_name = rows[child as usize].name_key;
            for grandchild in waterfall.children(child) {
                let (service, statement) = key_of(grandchild);
                groups
                    .entry((wrapper_name, service, statement))
                    .or_default()
                    .push(grandchild);
            }
        }
        for ((_, service_idx, statement), group_rows) in groups.drain() {
            if group_rows.len() < MIN_REPETITIONS {
                continue;
            }
            let mut group_rows = group_rows;
            group_rows.sort_unstable();
            let occupancy = crate::intervals::occupancy(group_rows.iter().map(|row| {
                let row = &rows[*row as usize];
                (row.offset_nanos, row.offset_nanos + row.duration_nanos)
            }));
            findings.push(NPlusOne {
                parent_row: parent_idx as u32,
                service: waterfall.services[service_idx as usize].clone(),
                statement: statements.text(statement).to_string(),
                rows: group_rows,
                total_nanos: occupancy.busy_nanos,
                wall_nanos: occupancy.wall_nanos,
                percent_of_trace: percent_of(occupancy.wall_nanos, waterfall.duration_nanos()),
            });
        }
    }
    // A direct group of loop wrappers is itself repetition, but the queries inside say why.
    let query_rows: rustc_hash::FxHashSet<u32> = findings
        .iter()
        .filter(|finding| {
            finding
                .rows
                .iter()
                .any(|row| rows[*row as usize].parent_row != Some(finding.parent_row))
        })
        .flat_map(|finding| {
            finding
                .rows
                .iter()
                .map(|row| rows[*row as usize].parent_row.unwrap_or(u32::MAX))
        })
        .collect();
    findings.retain(|finding| !finding.rows.iter().all(|row| query_rows.contains(row)));
    // Largest total first, then by parent: two passes of the page's one stable sort.
    crate::sort::by_u64_key(&mut findings, |finding| u64::from(finding.parent_row));
    crate::sort::by_u64_key_descending(&mut findings, |finding| finding.total_nanos);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    #[test]
    fn twenty_queries_under_loop_spans_are_one_finding() {
        let trace = scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, 0);
        let waterfall = Waterfall::build(&trace).unwrap();
        let findings = detect(&trace, &waterfall);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let finding = &findings[0];
        assert_eq!(finding.rows.len(), 20);
        assert_eq!(finding.statement, "SELECT * FROM categories WHERE id = ?");
        assert_eq!(finding.service, "database");
        assert_eq!(finding.total_nanos, 20 * 180 * 1_000_000);
        assert_eq!(
            crate::layout::format_percent(finding.percent_of_trace),
            "85.7 %"
        );
        assert_eq!(
            &*waterfall.rows[finding.parent_row as usize].name,
            "GET /products"
        );
    }

    #[test]
    fn the_batched_fix_and_the_order_page_have_none() {
        for trace in [
            scenario::batched_products(scenario::BATCHED_PRODUCTS_TRACE_ID, 0),
            scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0),
            scenario::fixed_order(scenario::FIXED_ORDER_TRACE_ID, 0),
        ] {
            let waterfall = Waterfall::build(&trace).unwrap();
            assert!(
                detect(&trace, &waterfall).is_empty(),
                "{}",
                waterfall.rows[0].name
            );
        }
    }

    #[test]
    fn direct_repetitions_count_too() {
        use scenario::{SpanSpec, spans_from_specs};
        let mut specs = vec![SpanSpec::new(0, None, "GET /cart", 0, 1_000)];
        for n in 1..=6u64 {
            specs.push(SpanSpec::new(
                n,
                Some(0),
                "SELECT price WHERE sku=1",
                n * 100,
                n * 100 + 50,
            ));
        }
        let trace = Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: crate::Batch {
                resources: vec![Default::default()],
                scopes: vec![Default::default()],
                spans: spans_from_specs(&specs),
            },
        };
        let waterfall = Waterfall::build(&trace).unwrap();
        let findings = detect(&trace, &waterfall);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rows.len(), 6);
        assert_eq!(findings[0].statement, "SELECT price WHERE sku=?");
    }
}
