//! Comparing two groups of traces, N before against M after (say, every order-service trace
//! before a deploy and after it): per span path, how its time per trace is distributed on each
//! side. The median says what a typical request pays; the 95th percentile next to it tells a
//! systemic slowness (every trace slow: a missing index, a service down) from an intermittent
//! one (some traces slow: cache expiry, GC pauses).
//!
//! Spans are keyed by tree path exactly as in [`crate::compare`]; repeated siblings add up within
//! a trace, so 20 queries of 10 ms are 200 ms of that path in that trace.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::compare::paths::{KeyId, KeyTable, Side};
use crate::compare::{delta_percent, escape_markdown, format_delta, format_delta_percent};
use crate::layout::{format_duration, percent_of};
use crate::model::Trace;
use crate::statistics::percentile;

/// A p95 above this many medians makes a side "intermittent".
const INTERMITTENT_SPREAD: f64 = 2.0;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GroupCompareError {
    #[error("the {0} group has no trace with spans")]
    EmptySide(&'static str),
}

/// Durations over the traces of one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Distribution {
    /// How many traces the values come from.
    pub n: usize,
    pub min_nanos: u64,
    pub median_nanos: u64,
    pub p95_nanos: u64,
    pub max_nanos: u64,
}

impl Distribution {
    /// Nearest-rank statistics; `None` without values.
    pub fn of(mut values: Vec<u64>) -> Option<Self> {
        values.sort_unstable();
        Some(Self {
            n: values.len(),
            min_nanos: *values.first()?,
            median_nanos: percentile(&values, 50.0)?,
            p95_nanos: percentile(&values, 95.0)?,
            max_nanos: *values.last()?,
        })
    }

    /// Steady when the slow tail stays near the typical value, intermittent when it does not.
    pub fn variability(&self) -> Variability {
        if self.p95_nanos as f64 > self.median_nanos as f64 * INTERMITTENT_SPREAD {
            Variability::Intermittent
        } else {
            Variability::Steady
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variability {
    /// p95 within twice the median: the time is paid by (nearly) every trace.
    Steady,
    /// p95 above twice the median: some traces pay much more than the typical one.
    Intermittent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupComparisonRow {
    pub service: String,
    pub name: String,
    pub depth: u32,
    /// Traces on each side in which this span path occurs.
    pub traces_before: usize,
    pub traces_after: usize,
    /// Spans of this path per trace (median over the traces that have it): 20 -> 1 queries.
    pub median_count_before: u64,
    pub median_count_after: u64,
    /// Time of this path per trace (its spans added up), over the traces that have it.
    pub before: Option<Distribution>,
    pub after: Option<Distribution>,
    /// Median share of the trace's total, in % of each trace's duration.
    pub median_percent_before: f64,
    pub median_percent_after: f64,
    pub median_delta_nanos: i64,
    /// `None` when the path is new.
    pub median_delta_percent: Option<f64>,
    pub p95_delta_nanos: i64,
    /// Steady (every trace pays it) or intermittent (some do), per side that has the path.
    pub variability_before: Option<Variability>,
    pub variability_after: Option<Variability>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupComparison {
    pub traces_before: usize,
    pub traces_after: usize,
    /// Trace durations on each side.
    pub total_before: Distribution,
    pub total_after: Distribution,
    pub median_delta_nanos: i64,
    pub median_delta_percent: Option<f64>,
    pub p95_delta_nanos: i64,
    pub p95_delta_percent: Option<f64>,
    pub variability_before: Variability,
    pub variability_after: Variability,
    /// Span paths in order of first appearance (tree order of the first traces), then those only
    /// the after group has.
    pub rows: Vec<GroupComparisonRow>,
}

impl GroupComparison {
    /// Rows by the size of the change of their median, largest first.
    pub fn rows_by_impact(&self) -> Vec<&GroupComparisonRow> {
        let mut rows: Vec<&GroupComparisonRow> = self.rows.iter().collect();
        crate::sort::by_u64_key_descending(&mut rows, |row| row.median_delta_nanos.unsigned_abs());
        rows
    }
}

/// One span path's figures in one trace.
#[derive(Clone, Copy)]
struct PathInTrace {
    count: u64,
    total_nanos: u64,
    percent_of_trace: f64,
}

/// Everything one side knows about one span path.
#[derive(Default)]
struct PathSamples {
    counts: Vec<u64>,
    totals: Vec<u64>,
    percents: Vec<f64>,
}

impl PathSamples {
    fn push(&mut self, sample: PathInTrace) {
        self.counts.push(sample.count);
        self.totals.push(sample.total_nanos);
        self.percents.push(sample.percent_of_trace);
    }
}

struct PathInfo {
    service: String,
    name: String,
    depth: u32,
}

/// Per path, the samples of each side, with the paths in first-seen order.
struct Collected {
    /// Shared by every trace, so that equal paths are equal key lists.
    keys: KeyTable,
    order: Vec<Vec<KeyId>>,
    info: HashMap<Vec<KeyId>, PathInfo>,
    sides: [HashMap<Vec<KeyId>, PathSamples>; 2],
    trace_totals: [Vec<u64>; 2],
}

impl Collected {
    fn add(&mut self, side_idx: usize, trace: &Trace) {
        let Some(side) = Side::new(trace, &mut self.keys) else {
            return;
        };
        let duration = side.duration_nanos();
        self.trace_totals[side_idx].push(duration);
        for (path, group_totals) in side.path_totals(&self.keys) {
            if !self.info.contains_key(&path) {
                self.order.push(path.clone());
                self.info.insert(
                    path.clone(),
                    PathInfo {
                        service: group_totals.service.clone(),
                        name: group_totals.name.clone(),
                        depth: group_totals.depth,
                    },
                );
            }
            self.sides[side_idx]
                .entry(path)
                .or_default()
                .push(PathInTrace {
                    count: group_totals.count,
                    total_nanos: group_totals.total_nanos,
                    percent_of_trace: percent_of(group_totals.wall_nanos, duration),
                });
        }
    }
}

/// Compares every trace in `before` with every trace in `after`, path by path.
pub fn compare_groups(
    before: &[Trace],
    after: &[Trace],
) -> Result<GroupComparison, GroupCompareError> {
    let mut collected = Collected {
        keys: KeyTable::default(),
        order: Vec::new(),
        info: HashMap::new(),
        sides: [HashMap::new(), HashMap::new()],
        trace_totals: [Vec::new(), Vec::new()],
    };
    for trace in before {
        collected.add(0, trace);
    }
    for trace in after {
        collected.add(1, trace);
    }
    let [before_totals, after_totals] = std::mem::take(&mut collected.trace_totals);
    let total_before =
        Distribution::of(before_totals).ok_or(GroupCompareError::EmptySide("before"))?;
    let total_after =
        Distribution::of(after_totals).ok_or(GroupCompareError::EmptySide("after"))?;
    let rows = collected
        .order
        .iter()
        .map(|path| path_row(&collected, path))
        .collect();
    Ok(GroupComparison {
        traces_before: total_before.n,
        traces_after: total_after.n,
        median_delta_nanos: signed_delta(total_before.median_nanos, total_after.median_nanos),
        median_delta_percent: delta_percent(total_before.median_nanos, total_after.median_nanos),
        p95_delta_nanos: signed_delta(total_before.p95_nanos, total_after.p95_nanos),
        p95_delta_percent: delta_percent(total_before.p95_nanos, total_after.p95_nanos),
        variability_before: total_before.variability(),
        variability_after: total_after.variability(),
        total_before,
        total_after,
        rows,
    })
}

fn path_row(collected: &Collected, path: &Vec<KeyId>) -> GroupComparisonRow {
    let info = &collected.info[path];
    let before = collected.sides[0].get(path);
    let after = collected.sides[1].get(path);
    let distribution = |samples: Option<&PathSamples>| {
        samples.and_then(|samples| Distribution::of(samples.totals.clone()))
    };
    let median_count = |samples: Option<&PathSamples>| {
        samples.map_or(0, |samples| {
            let mut counts = samples.counts.clone();
            counts.sort_unstable();
            percentile(&counts, 50.0).unwrap_or(0)
        })
    };
    let median_percent = |samples: Option<&PathSamples>| {
        samples.map_or(0.0, |samples| {
            let mut percents = samples.percents.clone();
            percents.sort_by(f64::total_cmp);
            let rank = (percents.len() as f64 / 2.0).ceil() as usize;
            percents[rank.clamp(1, percents.len()) - 1]
        })
    };
    let before_distribution = distribution(before);
    let after_distribution = distribution(after);
    let median = |d: Option<Distribution>| d.map_or(0, |d| d.median_nanos);
    let p95 = |d: Option<Distribution>| d.map_or(0, |d| d.p95_nanos);
    GroupComparisonRow {
        service: info.service.clone(),
        name: info.name.clone(),
        depth: info.depth,
        traces_before: before.map_or(0, |samples| samples.totals.len()),
        traces_after: after.map_or(0, |samples| samples.totals.len()),
        median_count_before: median_count(before),
        median_count_after: median_count(after),
        median_percent_before: median_percent(before),
        median_percent_after: median_percent(after),
        median_delta_nanos: signed_delta(median(before_distribution), median(after_distribution)),
        median_delta_percent: before_distribution
            .and_then(|d| delta_percent(d.median_nanos, median(after_distribution))),
        p95_delta_nanos: signed_delta(p95(before_distribution), p95(after_distribution)),
        variability_before: before_distribution.map(|d| d.variability()),
        variability_after: after_distribution.map(|d| d.variability()),
        before: before_distribution,
        after: after_distribution,
    }
}

fn signed_delta(before: u64, after: u64) -> i64 {
    after as i64 - before as i64
}

/// A Markdown report for pull requests: the totals, then every path by the change of its median.
pub fn render_group_markdown(comparison: &GroupComparison) -> String {
    let mut out = String::from("### Group comparison\n\n");
    out.push_str(&format!(
        "- traces: {} before, {} after\n",
        comparison.traces_before, comparison.traces_after
    ));
    out.push_str(&format!(
        "- median: {} -> {} ({}, {})\n",
        format_duration(comparison.total_before.median_nanos),
        format_duration(comparison.total_after.median_nanos),
        format_delta(comparison.median_delta_nanos),
        format_delta_percent(comparison.median_delta_percent)
    ));
    out.push_str(&format!(
        "- p95: {} -> {} ({}, {})\n\n",
        format_duration(comparison.total_before.p95_nanos),
        format_duration(comparison.total_after.p95_nanos),
        format_delta(comparison.p95_delta_nanos),
        format_delta_percent(comparison.p95_delta_percent)
    ));
    out.push_str("| span | median before | median after | change | p95 before | p95 after | in traces | count | before is | after is |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
    let shown = |d: Option<Distribution>, pick: fn(&Distribution) -> u64| {
        d.map_or_else(|| String::from("-"), |d| format_duration(pick(&d)))
    };
    let variability = |variability: Option<Variability>| match variability {
        Some(Variability::Steady) => "steady",
        Some(Variability::Intermittent) => "intermittent",
        None => "-",
    };
    for row in comparison.rows_by_impact() {
        let cells = [
            format!(
                "{}: {}",
                escape_markdown(&row.service),
                escape_markdown(&row.name)
            ),
            shown(row.before, |d| d.median_nanos),
            shown(row.after, |d| d.median_nanos),
            format!(
                "{} ({})",
                format_delta(row.median_delta_nanos),
                format_delta_percent(row.median_delta_percent)
            ),
            shown(row.before, |d| d.p95_nanos),
            shown(row.after, |d| d.p95_nanos),
            format!("{} -> {}", row.traces_before, row.traces_after),
            format!("{} -> {}", row.median_count_before, row.median_count_after),
            variability(row.variability_before).to_owned(),
            variability(row.variability_after).to_owned(),
        ];
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{SpanSpec, spans_from_specs};
    use proptest::prelude::*;

    /// An order request: `GET /order` with a stock call of `stock_ms` and `n_queries` queries of
    /// 10 ms each.
    fn order(seed: u8, total_ms: u64, stock_ms: u64, n_queries: u64) -> Trace {
        const MS: u64 = 1_000_000;
        let mut specs = vec![
            SpanSpec::new(1, None, "GET /order", 0, total_ms * MS),
            SpanSpec::new(2, Some(1), "GET /stock", 0, stock_ms * MS),
        ];
        for query in 0..n_queries {
            let start = (stock_ms + query * 10) * MS;
            specs.push(SpanSpec::new(
                10 + query,
                Some(1),
                "SELECT price WHERE id=?",
                start,
                start + 10 * MS,
            ));
        }
        Trace {
            trace_id: crate::TraceId([seed; 16]),
            batch: crate::Batch {
                resources: vec![Default::default()],
                scopes: vec![Default::default()],
                spans: spans_from_specs(&specs),
            },
        }
    }

    fn row<'a>(comparison: &'a GroupComparison, name: &str) -> &'a GroupComparisonRow {
        comparison
            .rows
            .iter()
            .find(|row| row.name == name)
            .unwrap_or_else(|| panic!("no row {name}"))
    }

    #[test]
    fn hostile_span_names_stay_inside_their_cell_of_the_group_report() {
        let hostile = "<script>alert(1)</script>\n| x | y |\n`a` *b* [c](d)";
        let rename = |mut trace: Trace| {
            for span in &mut trace.batch.spans {
                span.name = format!("{hostile} {}", span.name);
            }
            trace
        };
        let before = vec![rename(order(1, 100, 50, 2)), rename(order(2, 110, 60, 2))];
        let after = vec![rename(order(3, 90, 40, 2))];
        let comparison = compare_groups(&before, &after).unwrap();
        let markdown = render_group_markdown(&comparison);
        assert!(!markdown.contains('<'), "{markdown}");
        assert!(markdown.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt; \\| x \\| y \\|"));
        let rows: Vec<&str> = markdown
            .lines()
            .filter(|line| line.starts_with('|'))
            .collect();
        assert_eq!(
            rows.len(),
            comparison.rows_by_impact().len() + 2,
            "{markdown}"
        );
        for row in rows {
            assert!(row.ends_with(" |") || row.ends_with("---|"), "{row}");
        }
    }

    #[test]
    fn a_systemic_slowness_is_steady_and_its_fix_shows_in_the_median() {
        // Before: every request waits 2800 ms on stock. After the fix: 60 ms, one slow outlier.
        let before: Vec<Trace> = (0..5).map(|i| order(i, 3_000, 2_800, 3)).collect();
        let mut after: Vec<Trace> = (0..9).map(|i| order(10 + i, 300, 60, 3)).collect();
        after.push(order(30, 1_400, 1_200, 3));
        let comparison = compare_groups(&before, &after).unwrap();
        assert_eq!((comparison.traces_before, comparison.traces_after), (5, 10));
        assert_eq!(comparison.total_before.median_nanos, 3_000_000_000);
        assert_eq!(comparison.total_after.median_nanos, 300_000_000);
        assert_eq!(comparison.median_delta_nanos, -2_700_000_000);
        assert_eq!(
            format_delta_percent(comparison.median_delta_percent),
            "-90.0 %"
        );
        let stock = row(&comparison, "GET /stock");
        let (before, after) = (stock.before.unwrap(), stock.after.unwrap());
        assert_eq!(before.variability(), Variability::Steady);
        assert_eq!(
            (after.median_nanos, after.p95_nanos),
            (60_000_000, 1_200_000_000)
        );
        assert_eq!(after.variability(), Variability::Intermittent);
        assert_eq!(comparison.rows_by_impact()[0].name, "GET /stock");
    }

    #[test]
    fn repeated_queries_add_up_per_trace_and_count_per_trace() {
        let before: Vec<Trace> = (0..3).map(|i| order(i, 500, 50, 20)).collect();
        let after: Vec<Trace> = (0..3).map(|i| order(10 + i, 100, 50, 1)).collect();
        let comparison = compare_groups(&before, &after).unwrap();
        let queries = row(&comparison, "SELECT price WHERE id=?");
        assert_eq!(
            (queries.median_count_before, queries.median_count_after),
            (20, 1)
        );
        assert_eq!(queries.before.unwrap().median_nanos, 200_000_000);
        assert_eq!(queries.after.unwrap().median_nanos, 10_000_000);
        assert_eq!((queries.traces_before, queries.traces_after), (3, 3));
        assert_eq!(queries.median_percent_before, 40.0);
    }

    #[test]
    fn paths_on_one_side_only_are_present_in_no_trace_of_the_other() {
        let before = vec![order(1, 100, 50, 0)];
        let after = vec![order(2, 100, 50, 2)];
        let comparison = compare_groups(&before, &after).unwrap();
        let queries = row(&comparison, "SELECT price WHERE id=?");
        assert_eq!((queries.traces_before, queries.traces_after), (0, 1));
        assert_eq!(queries.before, None);
        assert_eq!(queries.median_delta_percent, None);
        assert!(render_group_markdown(&comparison).contains("| - | 20 ms |"));
    }

    #[test]
    fn an_empty_side_is_an_error_that_names_it() {
        let traces = vec![order(1, 100, 50, 0)];
        assert_eq!(
            compare_groups(&[], &traces).unwrap_err().to_string(),
            "the before group has no trace with spans"
        );
        assert_eq!(
            compare_groups(&traces, &[]),
            Err(GroupCompareError::EmptySide("after"))
        );
    }

    proptest! {
        #[test]
        fn a_group_compared_with_itself_changes_nothing(
            shapes in proptest::collection::vec((100u64..5_000, 1u64..99, 0u64..6), 1..8)
        ) {
            let traces: Vec<Trace> = shapes
                .iter()
                .enumerate()
                .map(|(i, (total, stock_percent, queries))| {
                    order(i as u8, *total, total * stock_percent / 100, *queries)
                })
                .collect();
            let comparison = compare_groups(&traces, &traces).unwrap();
            prop_assert_eq!(comparison.median_delta_nanos, 0);
            prop_assert_eq!(comparison.p95_delta_nanos, 0);
            for row in &comparison.rows {
                prop_assert_eq!(row.median_delta_nanos, 0);
                prop_assert_eq!(row.p95_delta_nanos, 0);
                prop_assert_eq!(row.traces_before, row.traces_after);
            }
        }

        #[test]
        fn swapping_the_groups_negates_the_changes(
            before in proptest::collection::vec((100u64..5_000, 1u64..99, 0u64..6), 1..6),
            after in proptest::collection::vec((100u64..5_000, 1u64..99, 0u64..6), 1..6),
        ) {
            let build = |shapes: &[(u64, u64, u64)], offset: u8| -> Vec<Trace> {
                shapes
                    .iter()
                    .enumerate()
                    .map(|(i, (total, stock_percent, queries))| {
                        order(offset + i as u8, *total, total * stock_percent / 100, *queries)
                    })
                    .collect()
            };
            let (before, after) = (build(&before, 0), build(&after, 100));
            let forward = compare_groups(&before, &after).unwrap();
            let backward = compare_groups(&after, &before).unwrap();
            prop_assert_eq!(forward.median_delta_nanos, -backward.median_delta_nanos);
            for row in &forward.rows {
                let other = backward
                    .rows
                    .iter()
                    .find(|other| other.name == row.name && other.depth == row.depth)
                    .unwrap();
                prop_assert_eq!(row.median_delta_nanos, -other.median_delta_nanos);
                prop_assert_eq!(row.p95_delta_nanos, -other.p95_delta_nanos);
            }
        }
    }
}
