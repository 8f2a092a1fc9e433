//! Repeated work: the same operation run again and again under one parent, directly or each
//! inside its own near-identical wrapper span (a loop body), as in the scenario's product list.
//! What repeats is named from the span's semantic-convention attributes:
//!
//! - a database or cache statement (`db.*`, the statement text when present) is an N+1 query;
//! - a call to one endpoint (`http.*`/`url.*`, `rpc.*`, or a client span) is repeated calls;
//! - anything else is repeated spans, keyed by name.
//!
//! Members that never overlap ran one after another (a loop: batch them); members that overlap
//! are a fan-out (fewer calls, or a bulk endpoint). A pattern is reported once: the server halves
//! of repeated calls, an enclosing span seeing the same rows, and the same statement under
//! several parents all fold into one finding. Shares are wall-clock time ([`crate::intervals`]).

use std::borrow::Cow;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::layout::{format_duration, format_percent, percent_of};
use crate::model::{AnyValue, KeyValue, Span, SpanKind, Trace};
use crate::normalize::normalize_literals;
use crate::waterfall::Waterfall;

/// Fewer repetitions than this are not reported.
pub const MIN_REPETITIONS: usize = 5;

/// What the repeated spans do, from their attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkKind {
    /// A database or cache statement: an N+1 query.
    Query,
    /// An HTTP or RPC call to one endpoint (or a client span without those attributes).
    Call,
    /// A span with nothing more specific to say, keyed by its name.
    Span,
}

/// How the repetitions ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// One after another (no two overlap): a loop.
    Serial,
    /// At least two overlap: a fan-out.
    Parallel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepeatedWork {
    pub kind: WorkKind,
    pub timing: Timing,
    /// The rows the repetitions hang under, in row order (usually one).
    pub parent_rows: Vec<u32>,
    pub service: String,
    /// What repeats, normalised: the statement (`SELECT * FROM categories WHERE id = ?`), the
    /// endpoint (`GET 0.0.0.0:8083/route`) or the span name.
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

impl RepeatedWork {
    /// The first parent, for "under …".
    pub fn parent_row(&self) -> u32 {
        self.parent_rows[0]
    }

    /// `N+1 query: 20 × SELECT …`, `Repeated calls: 10 × GET …/route, in parallel`.
    pub fn headline(&self) -> String {
        let what = match self.kind {
            WorkKind::Query => "N+1 query",
            WorkKind::Call => "Repeated calls",
            WorkKind::Span => "Repeated spans",
        };
        let how = match self.timing {
            Timing::Serial => "one after another",
            Timing::Parallel => "in parallel",
        };
        format!("{what}: {} × {}, {how}", self.rows.len(), self.statement)
    }

    /// `20 calls, 3.6 s busy, 85.7 % of the trace's time`.
    pub fn cost(&self) -> String {
        let noun = match self.kind {
            WorkKind::Query => "queries",
            WorkKind::Call => "calls",
            WorkKind::Span => "spans",
        };
        format!(
            "{} {noun}, {} busy, {} of the trace's time",
            self.rows.len(),
            format_duration(self.total_nanos),
            format_percent(self.percent_of_trace)
        )
    }

    /// What to do about it.
    pub fn advice(&self) -> &'static str {
        match (self.kind, self.timing) {
            (WorkKind::Query, Timing::Serial) => "Batch them into one query.",
            (WorkKind::Query, Timing::Parallel) => {
                "They run at once: fetch the rows with one query instead."
            }
            (_, Timing::Serial) => "A loop: batch them into one call.",
            (_, Timing::Parallel) => "A fan-out: make fewer calls, or use a bulk endpoint.",
        }
    }
}

/// Marks a repetition directly under the parent, in place of a wrapper's name key.
const DIRECT: u32 = u32::MAX;

/// Attributes that hold a statement's text: the semantic conventions' (current, then older),
/// then names real instrumentations used before them (HotROD's `sql.query`, Zipkin's Cassandra
/// `cassandra.query`).
const STATEMENT_KEYS: [&str; 4] = [
    "db.query.text",
    "db.statement",
    "sql.query",
    "cassandra.query",
];

fn string_attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match &kv.value {
            AnyValue::String(text) if !text.is_empty() => Some(text.as_str()),
            _ => None,
        })
}

/// `text` up to its query string or fragment.
fn without_query(text: &str) -> &str {
    text.split(['?', '#']).next().unwrap_or(text)
}

/// How a span's raw text becomes its operation's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Normalize {
    /// Literals replaced throughout (statements, names, paths).
    Literals,
    /// `METHOD host/path`: literals replaced in the path only (hosts and ports stay).
    UrlPath,
    /// As written (routes and templates, RPC methods).
    AsIs,
}

/// What a span does, before normalising: borrowed from the span except where two attributes
/// are joined (a call's method and endpoint).
fn describe(span: &Span) -> (WorkKind, Normalize, Cow<'_, str>) {
    let attributes = &span.attributes;
    if let Some(statement) = STATEMENT_KEYS
        .iter()
        .find_map(|key| string_attribute(attributes, key))
    {
        return (
            WorkKind::Query,
            Normalize::Literals,
            Cow::Borrowed(statement),
        );
    }
    if attributes.iter().any(|kv| kv.key.starts_with("db.")) {
        let operation = ["db.operation.name", "db.operation"]
            .iter()
            .find_map(|key| string_attribute(attributes, key));
        let target = [
            "db.collection.name",
            "db.sql.table",
            "db.redis.database_index",
        ]
        .iter()
        .find_map(|key| string_attribute(attributes, key));
        let text = match (operation, target) {
            (Some(operation), Some(target)) => Cow::Owned(format!("{operation} {target}")),
            _ => Cow::Borrowed(span.name.as_str()),
        };
        return (WorkKind::Query, Normalize::Literals, text);
    }
    if let Some(method) = string_attribute(attributes, "rpc.method") {
        let text = match string_attribute(attributes, "rpc.service") {
            Some(service) if !method.contains(service) => Cow::Owned(format!("{service}/{method}")),
            _ => Cow::Borrowed(method),
        };
        return (WorkKind::Call, Normalize::AsIs, text);
    }
    let method = ["http.request.method", "http.method"]
        .iter()
        .find_map(|key| string_attribute(attributes, key));
    if let Some(method) = method {
        // The endpoint: a route or template as written, else a URL or path with its literals
        // replaced (ids in paths), else the span's name.
        if let Some(route) = ["url.template", "http.route"]
            .iter()
            .find_map(|key| string_attribute(attributes, key))
        {
            return (
                WorkKind::Call,
                Normalize::AsIs,
                Cow::Owned(format!("{method} {route}")),
            );
        }
        if let Some(url) = ["url.full", "http.url"]
            .iter()
            .find_map(|key| string_attribute(attributes, key))
        {
            let url = without_query(url);
            let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
            let text = format!("{method} {after_scheme}");
            return (WorkKind::Call, Normalize::UrlPath, Cow::Owned(text));
        }
        let path = ["url.path", "http.target", "http.path"]
            .iter()
            .find_map(|key| string_attribute(attributes, key))
            .map_or(span.name.as_str(), without_query);
        return (
            WorkKind::Call,
            Normalize::Literals,
            Cow::Owned(format!("{method} {path}")),
        );
    }
    let kind = if span.kind == SpanKind::Client
        || attributes.iter().any(|kv| kv.key.starts_with("url."))
    {
        WorkKind::Call
    } else {
        WorkKind::Span
    };
    (kind, Normalize::Literals, Cow::Borrowed(span.name.as_str()))
}

fn normalize(how: Normalize, text: &str) -> String {
    match how {
        Normalize::Literals => normalize_literals(text),
        Normalize::AsIs => text.to_owned(),
        Normalize::UrlPath => match text.find('/') {
            Some(slash) => format!("{}{}", &text[..slash], normalize_literals(&text[slash..])),
            None => text.to_owned(),
        },
    }
}

/// What a span does, as (kind, normalised text): equal pairs are the same operation.
pub fn classify(span: &Span) -> (WorkKind, String) {
    let (kind, how, text) = describe(span);
    (kind, normalize(how, &text))
}

/// Findings, largest wall-clock time first.
pub fn detect(trace: &Trace, waterfall: &Waterfall) -> Vec<RepeatedWork> {
    let mut detection = Detection::new(trace, waterfall);
    while !detection.step(usize::MAX) {}
    detection.finish()
}

/// One pattern before it becomes a finding: (its parent rows, its rows) and its (service,
/// operation).
type Pattern = ((Vec<u32>, Vec<u32>), (u32, u32));

/// [`detect`] in steps, for a page that must not hold its thread for long: each
/// [`Detection::step`] does about `budget` rows' worth of work, and the findings are those of
/// `detect` (which is this run in one step). A million-span trace with attributes takes seconds.
pub struct Detection<'a> {
    trace: &'a Trace,
    waterfall: &'a Waterfall,
    /// What each row does, as a key into `texts`; each distinct operation once.
    texts: Vec<(WorkKind, String)>,
    key_of_text: FxHashMap<(WorkKind, String), u32>,
    /// Raw texts are looked up first: a loop's 500 spans share one, normalised once.
    key_of_raw: FxHashMap<(WorkKind, Normalize, Cow<'a, str>), u32>,
    /// Per row so far, its operation.
    operation_of: Vec<u32>,
    /// The next row to look under for repetitions.
    next_parent: usize,
    /// (parent row, rows) per group of repetitions found under one parent.
    found: Vec<(u32, Vec<u32>)>,
    /// (wrapper name key or DIRECT, service, operation) -> rows; reused for every parent.
    groups: FxHashMap<(u32, u32, u32), Vec<u32>>,
    /// Once every row is read: per pattern, (parent rows, rows) and its (service, operation).
    merged: Option<Vec<Pattern>>,
    findings: Vec<RepeatedWork>,
}

impl<'a> Detection<'a> {
    pub fn new(trace: &'a Trace, waterfall: &'a Waterfall) -> Self {
        Self {
            trace,
            waterfall,
            texts: Vec::new(),
            key_of_text: FxHashMap::default(),
            key_of_raw: FxHashMap::default(),
            operation_of: Vec::with_capacity(waterfall.rows.len()),
            next_parent: 0,
            found: Vec::new(),
            groups: FxHashMap::default(),
            merged: None,
            findings: Vec::new(),
        }
    }

    /// Does about `budget` rows' worth of the work (at least one row's); true when all rows
    /// have been read and [`Self::finish`] can be called.
    pub fn step(&mut self, budget: usize) -> bool {
        let (trace, rows) = (self.trace, &self.waterfall.rows);
        let mut work = 0usize;
        while self.operation_of.len() < rows.len() {
            if work >= budget {
                return false;
            }
            work += 1;
            let row = &rows[self.operation_of.len()];
            let raw = describe(&trace.batch.spans[row.span_idx as usize]);
            let key = match self.key_of_raw.get(&raw) {
                Some(key) => *key,
                None => {
                    let normalized = (raw.0, normalize(raw.1, &raw.2));
                    let texts = &mut self.texts;
                    let key = *self
                        .key_of_text
                        .entry(normalized.clone())
                        .or_insert_with(|| {
                            texts.push(normalized);
                            (texts.len() - 1) as u32
                        });
                    self.key_of_raw.insert(raw, key);
                    key
                }
            };
            self.operation_of.push(key);
        }
        let waterfall = self.waterfall;
        let operation_of = &self.operation_of;
        while self.next_parent < rows.len() {
            if work >= budget {
                return false;
            }
            let parent_idx = self.next_parent;
            self.next_parent += 1;
            work += 1;
            // At least five rows below, directly or inside wrappers, or there is nothing to find.
            if (rows[parent_idx].n_descendants as usize) < MIN_REPETITIONS {
                continue;
            }
            let groups = &mut self.groups;
            groups.clear();
            // Repetitions directly under the parent, or one level down inside wrapper spans whose
            // names are equal once numbers are replaced.
            for child in waterfall.children(parent_idx as u32) {
                let key_of =
                    |row: u32| (rows[row as usize].service_idx, operation_of[row as usize]);
                let (service, operation) = key_of(child);
                groups
                    .entry((DIRECT, service, operation))
                    .or_default()
                    .push(child);
                work += 1;
                let wrapper_name = rows[child as usize].name_key;
                for grandchild in waterfall.children(child) {
                    let (service, operation) = key_of(grandchild);
                    groups
                        .entry((wrapper_name, service, operation))
                        .or_default()
                        .push(grandchild);
                    work += 1;
                }
            }
            for (_, mut group_rows) in groups.drain() {
                if group_rows.len() < MIN_REPETITIONS {
                    continue;
                }
                group_rows.sort_unstable();
                self.found.push((parent_idx as u32, group_rows));
            }
        }
        let Some(merged) = self.merged.as_mut() else {
            self.merged = Some(self.merge());
            return false;
        };
        while let Some(((parent_rows, group_rows), pattern)) = merged.pop() {
            work += group_rows.len();
            let finding = Self::finding(
                &self.texts,
                self.waterfall,
                parent_rows,
                group_rows,
                pattern,
            );
            self.findings.push(finding);
            if work >= budget {
                return false;
            }
        }
        true
    }

    /// The groups found, each pattern once: the same rows seen from an ancestor, wrappers
    /// around another group's rows and the same operation under several parents fold together.
    fn merge(&mut self) -> Vec<Pattern> {
        let rows = &self.waterfall.rows;
        let operation_of = &self.operation_of;
        let mut found = std::mem::take(&mut self.found);
        // The same rows seen from an ancestor through a single wrapper: keep the nearest parent.
        crate::sort::by_u64_key_descending(&mut found, |(parent, _)| u64::from(*parent));
        let mut seen_rows: FxHashSet<Vec<u32>> = FxHashSet::default();
        found.retain(|(_, group_rows)| seen_rows.insert(group_rows.clone()));
        drop(seen_rows);
        // A group of wrappers around another group's rows is the same pattern seen twice. Calls
        // (client spans) around the called service's server spans: the calls say it. Loop bodies
        // around queries: the queries say why.
        let is_wrapped = |parent: u32, group_rows: &[u32]| {
            group_rows
                .iter()
                .any(|row| rows[*row as usize].parent_row != Some(parent))
        };
        let mut dropped = vec![false; found.len()];
        for inner in 0..found.len() {
            let (inner_parent, inner_rows) = &found[inner];
            if !is_wrapped(*inner_parent, inner_rows) {
                continue;
            }
            let wrappers: FxHashSet<u32> = inner_rows
                .iter()
                .filter_map(|row| rows[*row as usize].parent_row)
                .collect();
            for outer in 0..found.len() {
                let (outer_parent, outer_rows) = &found[outer];
                if outer == inner
                    || outer_parent != inner_parent
                    || !outer_rows.iter().all(|row| wrappers.contains(row))
                {
                    continue;
                }
                let server_halves = inner_rows.iter().all(|row| {
                    let row = &rows[*row as usize];
                    row.kind == SpanKind::Server
                        && row
                            .parent_row
                            .is_some_and(|call| rows[call as usize].kind == SpanKind::Client)
                });
                if server_halves {
                    dropped[inner] = true;
                } else {
                    dropped[outer] = true;
                }
            }
        }
        // One finding per pattern: the same operation of one service under several parents.
        let mut by_pattern: FxHashMap<(u32, u32), usize> = FxHashMap::default();
        let mut merged: Vec<Pattern> = Vec::new();
        for (index, (parent, group_rows)) in found.into_iter().enumerate() {
            if dropped[index] {
                continue;
            }
            let first = group_rows[0] as usize;
            let pattern = (rows[first].service_idx, operation_of[first]);
            match by_pattern.get(&pattern) {
                Some(at) => {
                    merged[*at].0.0.push(parent);
                    merged[*at].0.1.extend(group_rows);
                }
                None => {
                    by_pattern.insert(pattern, merged.len());
                    merged.push(((vec![parent], group_rows), pattern));
                }
            }
        }
        // Taken from the end, one by one: reversed, they come out in this order.
        merged.reverse();
        merged
    }

    /// The finding of one pattern: (parent rows, rows) of its `(service, operation)`.
    fn finding(
        texts: &[(WorkKind, String)],
        waterfall: &Waterfall,
        mut parent_rows: Vec<u32>,
        mut group_rows: Vec<u32>,
        (service_idx, operation): (u32, u32),
    ) -> RepeatedWork {
        let rows = &waterfall.rows;
        parent_rows.sort_unstable();
        group_rows.sort_unstable();
        group_rows.dedup();
        let occupancy = crate::intervals::occupancy(group_rows.iter().map(|row| {
            let row = &rows[*row as usize];
            (row.offset_nanos, row.offset_nanos + row.duration_nanos)
        }));
        let (kind, statement) = texts[operation as usize].clone();
        RepeatedWork {
            kind,
            timing: if occupancy.overlapping {
                Timing::Parallel
            } else {
                Timing::Serial
            },
            parent_rows,
            service: waterfall.services[service_idx as usize].clone(),
            statement,
            rows: group_rows,
            total_nanos: occupancy.busy_nanos,
            wall_nanos: occupancy.wall_nanos,
            percent_of_trace: percent_of(occupancy.wall_nanos, waterfall.duration_nanos()),
        }
    }

    /// The findings, largest wall-clock time first (runs the remaining steps, if any).
    pub fn finish(mut self) -> Vec<RepeatedWork> {
        while !self.step(usize::MAX) {}
        let mut findings = self.findings;
        // Instants (a consumer's zero-length receive spans) cost nothing: nothing to fix.
        findings.retain(|finding| finding.total_nanos > 0);
        // Largest wall-clock time first, then by parent: two passes of the page's one stable sort.
        crate::sort::by_u64_key(&mut findings, |finding| u64::from(finding.parent_row()));
        crate::sort::by_u64_key_descending(&mut findings, |finding| finding.wall_nanos);
        findings
    }
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
            &*waterfall.rows[finding.parent_row() as usize].name,
            "GET /products"
        );
        assert_eq!(
            (finding.kind, finding.timing),
            (WorkKind::Query, Timing::Serial)
        );
        assert_eq!(
            finding.headline(),
            "N+1 query: 20 × SELECT * FROM categories WHERE id = ?, one after another"
        );
        assert_eq!(
            finding.cost(),
            "20 queries, 3600 ms busy, 85.7 % of the trace's time"
        );
        assert_eq!(finding.advice(), "Batch them into one query.");
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
        let trace = crate::scenario::trace_of_spans(spans_from_specs(&specs));
        let waterfall = Waterfall::build(&trace).unwrap();
        let findings = detect(&trace, &waterfall);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rows.len(), 6);
        assert_eq!(findings[0].statement, "SELECT price WHERE sku=?");
        assert_eq!(
            findings[0].kind,
            WorkKind::Span,
            "no attributes say what it is"
        );
    }

    fn with_attributes(mut span: Span, attributes: &[(&str, &str)]) -> Span {
        for (key, value) in attributes {
            span.attributes.push(KeyValue::new(*key, *value));
        }
        span
    }

    /// A frontend calling one endpoint six times at once, each call answered by a server span
    /// (the HotROD shape), and a redis lookup run six times in a row under another parent and
    /// the same lookup under a third.
    fn fan_out_and_loops() -> (Trace, Waterfall) {
        use scenario::{SpanSpec, spans_from_specs};
        let mut specs = vec![
            SpanSpec::new(1, None, "GET /dispatch", 0, 1_000),
            SpanSpec::new(2, Some(1), "find", 0, 300),
            SpanSpec::new(3, Some(1), "find again", 300, 600),
        ];
        for n in 0..6u64 {
            specs.push(SpanSpec::new(10 + n, Some(1), "HTTP GET", 600 + n, 700 + n));
            specs.push(SpanSpec::new(
                20 + n,
                Some(10 + n),
                "GET /route",
                601 + n,
                699 + n,
            ));
            specs.push(SpanSpec::new(
                30 + n,
                Some(2),
                "GetDriver",
                n * 40,
                n * 40 + 30,
            ));
        }
        for n in 0..5u64 {
            specs.push(SpanSpec::new(
                40 + n,
                Some(3),
                "GetDriver",
                300 + n * 40,
                330 + n * 40,
            ));
        }
        let mut spans = spans_from_specs(&specs);
        for span in &mut spans {
            let id = span.span_id.0[7] - 1; // spans_from_specs numbers ids from 1
            *span = match id {
                10..=15 => {
                    span.kind = SpanKind::Client;
                    let url = format!("http://0.0.0.0:8083/route?pickup={id}");
                    with_attributes(
                        span.clone(),
                        &[("http.request.method", "GET"), ("url.full", &url)],
                    )
                }
                20..=25 => {
                    span.kind = SpanKind::Server;
                    with_attributes(
                        span.clone(),
                        &[("http.request.method", "GET"), ("http.route", "/route")],
                    )
                }
                30..=44 => {
                    span.kind = SpanKind::Client;
                    span.clone()
                }
                _ => span.clone(),
            };
        }
        let trace = crate::scenario::trace_of_spans(spans);
        let waterfall = Waterfall::build(&trace).unwrap();
        (trace, waterfall)
    }

    #[test]
    fn parallel_calls_are_a_fan_out_and_loops_are_serial_each_once() {
        let (trace, waterfall) = fan_out_and_loops();
        let findings = detect(&trace, &waterfall);
        let headlines: Vec<String> = findings.iter().map(RepeatedWork::headline).collect();
        assert_eq!(
            headlines,
            [
                "Repeated calls: 11 × GetDriver, one after another",
                "Repeated calls: 6 × GET 0.0.0.0:8083/route, in parallel",
            ],
            "the server halves and the second parent fold into these two"
        );
        assert_eq!(findings[0].parent_rows.len(), 2);
        assert_eq!(findings[0].advice(), "A loop: batch them into one call.");
        assert_eq!(
            findings[1].advice(),
            "A fan-out: make fewer calls, or use a bulk endpoint."
        );
        // Six overlapping 100 ns calls over 105 ns of a 1,000 ns trace.
        assert_eq!(
            (findings[1].total_nanos, findings[1].wall_nanos),
            (600, 105)
        );
        for finding in &findings {
            assert!(finding.percent_of_trace <= 100.0);
        }
    }

    /// Findings seen by the property test, so that it is known to check more than empty lists.
    static FOUND: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    #[test]
    fn the_property_test_finds_patterns() {
        shares_stay_within_the_trace_and_each_pattern_is_reported_once();
        assert!(FOUND.load(std::sync::atomic::Ordering::Relaxed) > 0);
    }

    proptest::proptest! {
        /// Random trees of a few repeated names, some of them client spans, some calling an
        /// HTTP endpoint: no share above 100 %, wall time within busy time and the trace, and
        /// never two findings that read the same.
        #[test]
        fn shares_stay_within_the_trace_and_each_pattern_is_reported_once(
            shape in proptest::collection::vec(
                (proptest::num::u32::ANY, 0usize..4, 0u64..1_000, 0u64..300, 0u8..3),
                1..80,
            ),
        ) {
            use scenario::{SpanSpec, spans_from_specs};
            const NAMES: [&str; 4] = ["SELECT x WHERE id=1", "GET", "loop 1", "work"];
            let mut specs = vec![SpanSpec::new(0, None, "root", 0, 1_300)];
            for (n, (choice, name, start, length, _)) in shape.iter().enumerate() {
                // A parent among the spans before, so that siblings pile up.
                let parent = u64::from(*choice) % (n as u64 + 1).min(6);
                specs.push(SpanSpec::new(n as u64 + 1, Some(parent), NAMES[*name], *start, start + length));
            }
            let mut spans = spans_from_specs(&specs);
            for (span, (_, _, _, _, flavour)) in spans.iter_mut().skip(1).zip(&shape) {
                match flavour {
                    1 => span.kind = SpanKind::Client,
                    2 => span.attributes.push(KeyValue::new("http.request.method", "GET")),
                    _ => {}
                }
            }
            let trace = crate::scenario::trace_of_spans(spans);
            let waterfall = Waterfall::build(&trace).unwrap();
            let findings = detect(&trace, &waterfall);
            // In steps (as the page runs it), the same findings.
            for budget in [1, 7] {
                let mut detection = Detection::new(&trace, &waterfall);
                while !detection.step(budget) {}
                proptest::prop_assert_eq!(&detection.finish(), &findings);
            }
            let mut seen = FxHashSet::default();
            for finding in &findings {
                proptest::prop_assert!(finding.percent_of_trace <= 100.0);
                proptest::prop_assert!(finding.wall_nanos <= waterfall.duration_nanos());
                proptest::prop_assert!(finding.wall_nanos <= finding.total_nanos);
                let reads = (finding.service.clone(), finding.headline());
                proptest::prop_assert!(seen.insert(reads), "{:#?}", findings);
            }
            FOUND.fetch_add(findings.len(), std::sync::atomic::Ordering::Relaxed);
        }
    }
}
