use super::report::row_cells;
use super::*;
use crate::model::{AnyValue, KeyValue};
use crate::scenario;
use expect_test::{Expect, expect};
use proptest::prelude::*;

/// A report against its snapshot (`UPDATE_EXPECT=1 cargo test` rewrites it), with the padding
/// at the ends of the table's lines left out.
fn check_report(report: &str, expected: &Expect) {
    let lines: Vec<&str> = report.lines().map(str::trim_end).collect();
    expected.assert_eq(&lines.join("\n"));
}

/// A trace of `specs` (see [`scenario::spans_from_specs`]).
fn trace(specs: &[scenario::SpanSpec]) -> Trace {
    scenario::trace_of_spans(scenario::spans_from_specs(specs))
}

/// The report's lines before its table of rows (plain or Markdown).
fn report_header(report: &str) -> String {
    let lines: Vec<&str> = report
        .lines()
        .take_while(|line| !line.starts_with("span ") && !line.starts_with('|'))
        .collect();
    lines.join("\n").trim_end().to_owned()
}

#[test]
fn spans_entering_and_leaving_the_critical_path_are_named() {
    use crate::scenario::SpanSpec;
    // Two parallel calls: the slower one is what the request waits for.
    let before = trace(&[
        SpanSpec::new(1, None, "GET /page", 0, 100),
        SpanSpec::new(2, Some(1), "GET /prices", 0, 90),
        SpanSpec::new(3, Some(1), "GET /reviews", 0, 50),
    ]);
    let after = trace(&[
        SpanSpec::new(1, None, "GET /page", 0, 100),
        SpanSpec::new(2, Some(1), "GET /prices", 0, 40),
        SpanSpec::new(3, Some(1), "GET /reviews", 0, 95),
    ]);
    let comparison = compare(&before, &after).unwrap();
    let change = |name: &str| {
        let row = comparison.rows.iter().find(|row| row.name == name).unwrap();
        (
            row.critical_path,
            row_cells(row, |text| text.to_owned())[6].clone(),
        )
    };
    assert_eq!(
        change("GET /prices"),
        (
            CriticalPathChange::Left,
            "left the critical path".to_owned()
        )
    );
    assert_eq!(
        change("GET /reviews"),
        (
            CriticalPathChange::Entered,
            "entered the critical path".to_owned()
        )
    );
    assert_eq!(change("GET /page").0, CriticalPathChange::Stayed);
}

#[test]
fn rows_line_up_as_one_tree_with_added_spans_under_their_parent() {
    use crate::scenario::SpanSpec;
    let before = trace(&[
        SpanSpec::new(1, None, "GET /page", 0, 100),
        SpanSpec::new(2, Some(1), "load", 0, 60),
        SpanSpec::new(3, Some(2), "SELECT a", 0, 50),
        SpanSpec::new(4, Some(2), "old step", 50, 60),
        SpanSpec::new(5, Some(1), "render", 60, 100),
    ]);
    let after = trace(&[
        SpanSpec::new(1, None, "GET /page", 0, 80),
        SpanSpec::new(2, Some(1), "load", 0, 40),
        SpanSpec::new(3, Some(2), "SELECT a", 0, 30),
        SpanSpec::new(6, Some(2), "cache get", 30, 40),
        SpanSpec::new(5, Some(1), "render", 40, 80),
    ]);
    let comparison = compare(&before, &after).unwrap();
    let order: Vec<(&str, Change)> = comparison
        .rows
        .iter()
        .map(|row| (row.name.as_str(), row.change))
        .collect();
    assert_eq!(
        order,
        [
            ("GET /page", Change::Matched),
            ("load", Change::Matched),
            ("SELECT a", Change::Matched),
            ("old step", Change::Removed),
            ("cache get", Change::Added),
            ("render", Change::Matched),
        ]
    );
    let cache = &comparison.rows[4];
    assert_eq!(cache.extent_before, None);
    assert_eq!(
        cache.extent_after,
        Some(Extent {
            start_nanos: 30,
            end_nanos: 40
        })
    );
}

fn scenario_pair() -> Comparison {
    let before = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_000);
    let after = scenario::fixed_order(scenario::FIXED_ORDER_TRACE_ID, 9_000_000_000);
    compare(&before, &after).unwrap()
}

/// The pair with `inventory-service` deployed from 1.4.0 to 1.5.0 (and a new pid, ignored).
fn deployed_pair() -> (Trace, Trace) {
    let mut before = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_000);
    let mut after = scenario::fixed_order(scenario::FIXED_ORDER_TRACE_ID, 9_000_000_000);
    for (trace, version, pid) in [(&mut before, "1.4.0", 7_i64), (&mut after, "1.5.0", 8)] {
        for resource in &mut trace.batch.resources {
            if resource.service_name() == "inventory-service" {
                for attribute in &mut resource.attributes {
                    if attribute.key == "service.version" {
                        attribute.value = AnyValue::from(version);
                    }
                }
                resource.attributes.push(KeyValue::new("process.pid", pid));
            }
        }
    }
    (before, after)
}

#[test]
fn a_deployed_service_shows_its_version_change() {
    let (before, after) = deployed_pair();
    let comparison = compare(&before, &after).unwrap();
    assert_eq!(
        comparison.resource_changes,
        vec![ResourceChange {
            service: String::from("inventory-service"),
            key: String::from("service.version"),
            before: Some(String::from("1.4.0")),
            after: Some(String::from("1.5.0")),
        }]
    );
    check_report(
        &render_table(&comparison),
        &expect![[r#"
            total: 3200 ms -> 350 ms (-2850 ms, -89.1 %)
            spans: 10 -> 8
            queries: 3 -> 2
            resource of inventory-service: service.version: 1.4.0 -> 1.5.0

            span                                   before   after    change  change %   count  what
            order-service: GET /orders/12345      3200 ms  350 ms  -2850 ms   -89.1 %  1 -> 1
            mysql: SELECT FROM inventory          2750 ms    8 ms  -2742 ms   -99.7 %  1 -> 1  db.statement: SELECT product_id, quantity, warehouse_id FROM … -> SELECT product_id, quantity, warehouse_id FROM …; db.execution_time_ms: 2700 -> (none); db.rows_examined: 1500000 -> 2; db.rows_returned: 50 -> 2
            inventory-service: GET /stock         2800 ms   60 ms  -2740 ms   -97.9 %  1 -> 1  db.statement: SELECT * FROM inventory WHERE product_ids IN (1… -> (none); db.rows_affected: 50 -> (none); inventory.cache_hit: false -> true
            mysql: Query Execution                2700 ms       -  -2700 ms  -100.0 %  1 -> 0  removed
            mysql: Result Fetch                     50 ms       -    -50 ms  -100.0 %  1 -> 0  removed
            redis: GET cache:inventory:*            10 ms   50 ms    +40 ms  +400.0 %  1 -> 1  cache.hit: false -> (none); cache.hits: (none) -> 48; cache.misses: (none) -> 2
            database: SELECT orders                 50 ms   50 ms         0       0 %  1 -> 1
            user-service: GET /users/6789           80 ms   80 ms         0       0 %  1 -> 1  left the critical path
            product-service: GET /products/batch   120 ms  120 ms         0       0 %  1 -> 1
            promotion-service: GET /discounts       60 ms   60 ms         0       0 %  1 -> 1"#]],
    );
    // Identical resources: nothing to show.
    assert!(scenario_pair().resource_changes.is_empty());
}

#[test]
fn the_markdown_report_names_both_traces_and_links_back() {
    let (before, after) = deployed_pair();
    let comparison = compare(&before, &after).unwrap();
    check_report(
        &render_markdown(&comparison),
        &expect![[r#"
        ### Trace comparison

        - traces: `4bf92f3577b34da6a3ce929d0e0e4736` -> `4bf92f3577b34da6a3ce929d0e0e4737`
        - total: 3200 ms -> 350 ms (-2850 ms, -89.1 %)
        - spans: 10 -> 8
        - queries: 3 -> 2
        - resource of inventory-service: service.version: 1.4.0 -> 1.5.0

        | span | before | after | change | change % | count | what |
        |---|---:|---:|---:|---:|---:|---|
        | order-service: GET /orders/12345 | 3200 ms | 350 ms | -2850 ms | -89.1 % | 1 -> 1 |  |
        | mysql: SELECT FROM inventory | 2750 ms | 8 ms | -2742 ms | -99.7 % | 1 -> 1 | db.statement: SELECT product\_id, quantity, warehouse\_id FROM … -> SELECT product\_id, quantity, warehouse\_id FROM …; db.execution\_time\_ms: 2700 -> \(none\); db.rows\_examined: 1500000 -> 2; db.rows\_returned: 50 -> 2 |
        | inventory-service: GET /stock | 2800 ms | 60 ms | -2740 ms | -97.9 % | 1 -> 1 | db.statement: SELECT \* FROM inventory WHERE product\_ids IN \(1… -> \(none\); db.rows\_affected: 50 -> \(none\); inventory.cache\_hit: false -> true |
        | mysql: Query Execution | 2700 ms | - | -2700 ms | -100.0 % | 1 -> 0 | removed |
        | mysql: Result Fetch | 50 ms | - | -50 ms | -100.0 % | 1 -> 0 | removed |
        | redis: GET cache:inventory:\* | 10 ms | 50 ms | +40 ms | +400.0 % | 1 -> 1 | cache.hit: false -> \(none\); cache.hits: \(none\) -> 48; cache.misses: \(none\) -> 2 |
        | database: SELECT orders | 50 ms | 50 ms | 0 | 0 % | 1 -> 1 |  |
        | user-service: GET /users/6789 | 80 ms | 80 ms | 0 | 0 % | 1 -> 1 | left the critical path |
        | product-service: GET /products/batch | 120 ms | 120 ms | 0 | 0 % | 1 -> 1 |  |
        | promotion-service: GET /discounts | 60 ms | 60 ms | 0 | 0 % | 1 -> 1 |  |"#]],
    );
    // Linked, only the line naming the traces changes.
    let linked = render_markdown_linked(&comparison, Some("http://127.0.0.1:4318/"));
    check_report(
        &report_header(&linked),
        &expect![[r#"
        ### Trace comparison

        - traces: [`4bf92f3577b34da6a3ce929d0e0e4736`](http://127.0.0.1:4318/trace/4bf92f3577b34da6a3ce929d0e0e4736) -> [`4bf92f3577b34da6a3ce929d0e0e4737`](http://127.0.0.1:4318/trace/4bf92f3577b34da6a3ce929d0e0e4737) ([side by side](http://127.0.0.1:4318/compare/4bf92f3577b34da6a3ce929d0e0e4736/4bf92f3577b34da6a3ce929d0e0e4737))
        - total: 3200 ms -> 350 ms (-2850 ms, -89.1 %)
        - spans: 10 -> 8
        - queries: 3 -> 2
        - resource of inventory-service: service.version: 1.4.0 -> 1.5.0"#]],
    );
}

#[test]
fn the_fix_is_89_1_percent_faster() {
    let comparison = scenario_pair();
    assert_eq!(comparison.total_before_nanos, 3_200_000_000);
    assert_eq!(comparison.total_after_nanos, 350_000_000);
    assert_eq!(format_delta(comparison.delta_nanos), "-2850 ms");
    assert_eq!(format_delta_percent(comparison.delta_percent), "-89.1 %");
    assert!(!comparison.is_slower_by_more_than(0.0));
}

#[test]
fn inventory_goes_from_2800_to_60_ms_and_says_why() {
    let comparison = scenario_pair();
    let stock = comparison
        .rows
        .iter()
        .find(|row| row.name == "GET /stock")
        .unwrap();
    assert_eq!(
        (stock.total_before_nanos, stock.total_after_nanos),
        (2_800_000_000, 60_000_000)
    );
    assert_eq!(format_delta_percent(stock.delta_percent), "-97.9 %");
    let cache_hit = stock
        .attribute_changes
        .iter()
        .find(|c| c.key == "inventory.cache_hit")
        .unwrap();
    assert_eq!(
        (cache_hit.before.as_deref(), cache_hit.after.as_deref()),
        (Some("false"), Some("true"))
    );
    let mysql = comparison
        .rows
        .iter()
        .find(|row| row.name == "SELECT FROM inventory")
        .unwrap();
    let rows_examined = mysql
        .attribute_changes
        .iter()
        .find(|c| c.key == "db.rows_examined")
        .unwrap();
    assert_eq!(
        (
            rows_examined.before.as_deref(),
            rows_examined.after.as_deref()
        ),
        (Some("1500000"), Some("2"))
    );
    // The fixed MySQL call lost its Query Execution and Result Fetch children.
    let removed: Vec<&str> = comparison
        .rows
        .iter()
        .filter(|row| row.change == Change::Removed)
        .map(|row| row.name.as_str())
        .collect();
    assert_eq!(removed, ["Query Execution", "Result Fetch"]);
    assert_eq!(comparison.rows_by_impact()[0].name, "GET /orders/12345");
}

#[test]
fn repeated_siblings_are_compared_as_groups() {
    use scenario::SpanSpec;
    let mut before_specs = vec![SpanSpec::new(0, None, "GET /products", 0, 4_200)];
    for n in 1..=20u64 {
        before_specs.push(SpanSpec::new(
            n,
            Some(0),
            "SELECT categories WHERE id=1",
            n * 200,
            n * 200 + 180,
        ));
    }
    let after_specs = [
        SpanSpec::new(0, None, "GET /products", 0, 280),
        SpanSpec::new(1, Some(0), "SELECT categories WHERE id=7", 10, 200),
    ];
    let comparison = compare(&trace(&before_specs), &trace(&after_specs)).unwrap();
    let query = comparison
        .rows
        .iter()
        .find(|row| row.name.starts_with("SELECT"))
        .unwrap();
    assert_eq!((query.count_before, query.count_after), (20, 1));
    assert_eq!(query.total_before_nanos, 20 * 180);
    assert_eq!(comparison.rows.len(), 2);
}

#[test]
fn batching_the_n_plus_one_takes_21_queries_to_2() {
    let before = scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, 0);
    let after = scenario::batched_products(scenario::BATCHED_PRODUCTS_TRACE_ID, 0);
    let comparison = compare(&before, &after).unwrap();
    assert_eq!(
        (comparison.queries_before, comparison.queries_after),
        (21, 2)
    );
    assert_eq!(
        (comparison.total_before_nanos, comparison.total_after_nanos),
        (4_200_000_000, 280_000_000)
    );
    assert_eq!(format_delta_percent(comparison.delta_percent), "-93.3 %");
    // The 20 loop bodies are one row with counts, not 20 rows.
    let loops = comparison
        .rows
        .iter()
        .find(|row| row.service == "loop")
        .unwrap();
    assert_eq!(
        (loops.count_before, loops.count_after, loops.change),
        (20, 0, Change::Removed)
    );
    assert_eq!(loops.name, "fetch category for product ?");
    // The 20 queries and the one batch that replaced them are one row: matched by what they
    // run, although name and place changed.
    let queries = comparison
        .rows
        .iter()
        .find(|row| row.change == Change::Renamed)
        .unwrap();
    assert_eq!(queries.service, "database");
    assert_eq!(
        queries.renamed_to.as_deref(),
        Some("mysql.query.categories")
    );
    assert_eq!((queries.count_before, queries.count_after), (20, 1));
    assert_eq!(
        (queries.total_before_nanos, queries.total_after_nanos),
        (20 * 180 * 1_000_000, 200 * 1_000_000)
    );
    assert!(
        comparison
            .rows
            .iter()
            .all(|row| row.change != Change::Added),
        "nothing is left unmatched in the fixed trace"
    );
}

const HOSTILE: &str = "<img src=x onerror=alert(1)>\n| injected | row | a | b | c | d | e |\r\n**bold** _em_ `code` [link](javascript:alert(1)) ~~s~~ $x$ & \\| \u{2028}end";

/// The `|` that separate cells: those not escaped with a backslash.
fn cell_separators(line: &str) -> usize {
    let mut count = 0;
    let mut escaped = false;
    for character in line.chars() {
        match character {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => count += 1,
            _ => escaped = false,
        }
        if character != '\\' {
            escaped = false;
        }
    }
    count
}

#[test]
fn markdown_escaping_leaves_no_markup_and_no_line_break() {
    let escaped = escape_markdown(HOSTILE);
    assert!(
        !escaped.contains(['<', '>', '\n', '\r', '\u{2028}']),
        "{escaped}"
    );
    assert!(escaped.starts_with("&lt;img src=x onerror=alert\\(1\\)&gt; \\| injected"));
    assert!(escaped.contains("\\*\\*bold\\*\\* \\_em\\_ \\`code\\` \\[link\\]"));
    assert!(escaped.contains("\\$x\\$ &amp; \\\\\\|"), "{escaped}");
    assert_eq!(cell_separators(&escaped), 0);
    assert_eq!(escape_markdown("GET /orders/{id}"), "GET /orders/{id}");
}

#[test]
fn hostile_span_names_stay_inside_their_cell_of_the_markdown_report() {
    let rename = |mut trace: Trace| {
        for span in &mut trace.batch.spans {
            if span.name == "GET /stock" {
                span.name = HOSTILE.to_owned();
            }
            span.attributes
                .push(crate::KeyValue::new("db.statement", HOSTILE));
        }
        trace
    };
    let before = rename(scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_000));
    let mut after = rename(scenario::fixed_order(
        scenario::FIXED_ORDER_TRACE_ID,
        9_000_000_000,
    ));
    // A changed attribute value is shown too.
    for span in &mut after.batch.spans {
        span.attributes
            .push(crate::KeyValue::new("<b>key</b>", "<script>x</script>"));
    }
    let comparison = compare(&before, &after).unwrap();
    let markdown = render_markdown(&comparison);
    assert!(!markdown.contains('<'), "{markdown}");
    let table: Vec<&str> = markdown
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .collect();
    assert_eq!(
        table.len(),
        comparison.rows_by_impact().len() + 2,
        "{markdown}"
    );
    for line in &table {
        assert_eq!(cell_separators(line), 8, "{line}");
    }
    assert!(
        markdown.contains("&lt;img src=x onerror=alert\\(1\\)&gt;"),
        "{markdown}"
    );
}

#[test]
fn reports_lead_with_the_total_and_the_biggest_change() {
    let comparison = scenario_pair();
    let table = render_table(&comparison);
    check_report(
        &report_header(&table),
        &expect![[r#"
            total: 3200 ms -> 350 ms (-2850 ms, -89.1 %)
            spans: 10 -> 8
            queries: 3 -> 2"#]],
    );
    let first_row = table.lines().nth(5).unwrap();
    assert!(
        first_row.starts_with("order-service: GET /orders/12345"),
        "{table}"
    );
}

proptest! {
    #[test]
    fn a_trace_compared_with_itself_has_no_deltas_and_swapping_negates(
        durations in proptest::collection::vec(1u64..1_000_000, 1..30)
    ) {
        use scenario::SpanSpec;
        let mut specs = vec![SpanSpec::new(0, None, "root", 0, 10_000_000)];
        for (n, duration) in durations.iter().enumerate() {
            let n = n as u64 + 1;
            specs.push(SpanSpec::new(n, Some(n / 3), "work", n * 100, n * 100 + duration));
        }
        let trace = trace(&specs);
        let same = compare(&trace, &trace).unwrap();
        prop_assert_eq!(same.delta_nanos, 0);
        prop_assert!(same.rows.iter().all(|row| row.delta_nanos == 0 && row.change == Change::Matched));

        let before = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let forward = compare(&before, &trace).unwrap();
        let backward = compare(&trace, &before).unwrap();
        prop_assert_eq!(forward.delta_nanos, -backward.delta_nanos);
    }
}
