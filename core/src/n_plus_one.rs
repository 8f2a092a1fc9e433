//! N+1 detection: the same statement run again and again under one parent, directly or each
//! inside its own near-identical wrapper span (a loop body), as in the scenario's product list.

use std::collections::HashMap;

use crate::layout::percent_of;
use crate::model::Trace;
use crate::normalize::normalize_literals;
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
    pub total_nanos: u64,
    pub percent_of_trace: f64,
}

/// Findings, largest total time first.
pub fn detect(trace: &Trace, waterfall: &Waterfall) -> Vec<NPlusOne> {
    let rows = &waterfall.rows;
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); rows.len()];
    for (row_idx, row) in rows.iter().enumerate() {
        if let Some(parent) = row.parent_row {
            children[parent as usize].push(row_idx as u32);
        }
    }
    let key_of = |row_idx: u32| -> (String, String) {
        let row = &rows[row_idx as usize];
        let span = &trace.batch.spans[row.span_idx as usize];
        let statement = span
            .attributes
            .iter()
            .find(|kv| kv.key == "db.statement")
            .map_or_else(|| row.name.clone(), |kv| kv.value.to_display_string());
        (row.service.clone(), normalize_literals(&statement))
    };
    let mut findings = Vec::new();
    for (parent_idx, direct) in children.iter().enumerate() {
        // Repetitions directly under the parent, or one level down inside wrapper spans whose
        // names are equal once numbers are replaced.
        let mut groups: HashMap<(String, String, String), Vec<u32>> = HashMap::new();
        for &child in direct {
            groups
                .entry((String::new(), key_of(child).0, key_of(child).1))
                .or_default()
                .push(child);
            let wrapper_name = normalize_literals(&rows[child as usize].name);
            for &grandchild in &children[child as usize] {
                let (service, statement) = key_of(grandchild);
                groups
                    .entry((wrapper_name.clone(), service, statement))
                    .or_default()
                    .push(grandchild);
            }
        }
        for ((_, service, statement), mut group_rows) in groups {
            if group_rows.len() < MIN_REPETITIONS {
                continue;
            }
            group_rows.sort_unstable();
            let total_nanos = group_rows
                .iter()
                .map(|row| rows[*row as usize].duration_nanos)
                .sum();
            findings.push(NPlusOne {
                parent_row: parent_idx as u32,
                service,
                statement,
                rows: group_rows,
                total_nanos,
                percent_of_trace: percent_of(total_nanos, waterfall.duration_nanos()),
            });
        }
    }
    // A direct group of loop wrappers is itself repetition, but the queries inside say why.
    let query_rows: Vec<u32> = findings
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
    findings.sort_by(|a, b| {
        b.total_nanos
            .cmp(&a.total_nanos)
            .then(a.parent_row.cmp(&b.parent_row))
    });
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
            waterfall.rows[finding.parent_row as usize].name,
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
