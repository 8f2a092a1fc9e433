//! Issue 6: the dashboard's search, driven in headless Chromium: scenario step 1 (service =
//! order-service, duration > 2 s) lists exactly the slow trace, and the URL round-trips the search.

use spanview_core::scenario::{
    BATCHED_PRODUCTS_TRACE_ID, FIXED_ORDER_TRACE_ID, N_PLUS_ONE_TRACE_ID, SLOW_ORDER_TRACE_ID,
};
use spanview_e2e::{Spanview, now_nanos, run_node_script_json};

#[test]
fn searching_by_service_and_duration_finds_the_slow_trace_and_the_url_keeps_it() {
    let spanview = Spanview::start(&["--demo"]);
    let seen = run_node_script_json("dashboard-interactions.mjs", &[&spanview.base_url]);
    assert_eq!(
        seen["allTraces"],
        serde_json::json!([
            FIXED_ORDER_TRACE_ID,
            SLOW_ORDER_TRACE_ID,
            BATCHED_PRODUCTS_TRACE_ID,
            N_PLUS_ONE_TRACE_ID
        ]),
        "{seen:#}"
    );
    assert_eq!(
        seen["url"],
        "?service=order-service&minDuration=2s&limit=50"
    );
    assert_eq!(
        seen["searchTraces"],
        serde_json::json!([SLOW_ORDER_TRACE_ID])
    );
    assert_eq!(
        seen["reloadedTraces"],
        serde_json::json!([SLOW_ORDER_TRACE_ID])
    );
    assert_eq!(seen["reloadedService"], "order-service");
    assert_eq!(seen["reloadedMinDuration"], "2s");
    assert_eq!(seen["slowestFirst"], N_PLUS_ONE_TRACE_ID);
    assert_eq!(seen["fastestFirst"], BATCHED_PRODUCTS_TRACE_ID);
    assert_eq!(seen["compareButtonWithOne"], false);
    assert_eq!(
        seen["compareUrl"],
        format!("/compare/{SLOW_ORDER_TRACE_ID}/{FIXED_ORDER_TRACE_ID}")
    );
    assert_eq!(seen["compareTotal"], "3200 ms → 350 ms");
    assert_eq!(seen["compareDelta"], "-2850 ms (-89.1 %)");
    assert_eq!(seen["compareFirstRow"], "order-service GET /orders/12345");
    // Side by side: every row of the table, in tree order, removed spans as ghosts on the right.
    assert_eq!(seen["tableHiddenSideBySide"], true);
    assert_eq!(seen["alignedRows"], seen["tableRows"], "{seen:#}");
    assert_eq!(
        seen["alignedNames"],
        serde_json::json!([
            "order-service GET /orders/12345",
            "database SELECT orders",
            "user-service GET /users/6789"
        ])
    );
    assert_eq!(
        seen["ghosts"],
        serde_json::json!(["not in after", "not in after"])
    );
    assert_eq!(seen["afterRootWidthSameScale"], 10.9, "350 ms of 3200 ms");
    assert_eq!(seen["afterRootWidthOwnScale"], 100.0);
    assert_eq!(seen["stockLabels"], serde_json::json!(["2800 ms", "60 ms"]));
    let stock = seen["compareStockRow"]
        .as_array()
        .expect("a GET /stock row");
    assert_eq!(
        stock[1..6],
        ["2800 ms", "60 ms", "-2740 ms", "-97.9 %", "1 → 1"].map(serde_json::Value::from)
    );
    assert!(
        stock[7]
            .as_str()
            .unwrap()
            .contains("inventory.cache_hit: false → true"),
        "{stock:?}"
    );
    // The services overview over the demo's four traces, from the per-minute histograms: each
    // percentile is its bucket's middle, within 12.5 % of the exact one.
    assert_eq!(seen["overviewOpenAtFirst"], false);
    assert_eq!(
        seen["overviewHeadline"], "slowest p99: product-list 4027 ms · no errors",
        "product-list's slowest request lasts 4200 ms: its bucket is 3758-4295 ms"
    );
    assert_eq!(
        seen["overviewInventoryRow"],
        serde_json::json!([
            // The service's cell links to its performance page ("over time").
            "inventory-service over time",
            "2",
            "0.0 %",
            // GET /stock lasts 60 ms after the fix and 2800 ms before.
            "62.9 ms",
            "2953 ms",
            "2953 ms"
        ])
    );
    assert_eq!(
        seen["overviewFilteredTraces"],
        serde_json::json!([FIXED_ORDER_TRACE_ID, SLOW_ORDER_TRACE_ID]),
        "the link searched for the mysql service"
    );
    assert_eq!(seen["overviewOpenRemembered"], true);
    // Brushing the two oldest traces (the product lists) narrows the search to them.
    assert_eq!(seen["brushVisible"], 1, "the brush is drawn while dragging");
    assert_eq!(seen["brushedHasStartAndEnd"], true);
    assert_eq!(
        seen["brushedTraces"],
        serde_json::json!([BATCHED_PRODUCTS_TRACE_ID, N_PLUS_ONE_TRACE_ID])
    );
    assert_ne!(
        seen["brushedFormStart"], "",
        "the form shows the custom range"
    );
    assert_eq!(seen["themeAfterOneClick"], "light");
    assert_eq!(seen["themeAfterReload"], "light");
}

#[test]
fn a_trace_exported_while_the_page_is_open_appears_without_reload_unless_paused() {
    let spanview = Spanview::start(&["--demo"]);
    let seen = run_node_script_json("dashboard-live.mjs", &[&spanview.base_url]);
    assert_eq!(seen["rowsBefore"], 4, "{seen:#}");
    assert_eq!(seen["liveTraceListed"], true, "{seen:#}");
    assert_eq!(seen["rowsAfterLive"], 5);
    assert_eq!(seen["toggleText"], "Live: paused");
    assert_eq!(
        seen["pausedTraceListed"], false,
        "a paused dashboard does not change"
    );
    // Issue 24: a live update keeps the sort, the ticks and the scroll position; resuming
    // catches up with the trace sent while paused.
    assert_eq!(seen["durationSort"], "descending");
    assert_eq!(seen["orderKept"], true, "{seen:#}");
    assert_eq!(seen["ticked"], seen["tickedBefore"], "{seen:#}");
    assert_eq!(seen["compareEnabled"], true);
    assert_eq!(seen["scrollBefore"], 200, "the list scrolls at 500 px high");
    assert_eq!(seen["scrollAfter"], seen["scrollBefore"]);
    assert_eq!(seen["caughtUp"], true, "{seen:#}");
}

/// Issue 6 and 8: select a before group on the dashboard, then the after group, and compare them
/// by median and p95. Before: two slow orders and a fast one (median 3200 ms, every stock call
/// slow but one); after: four fixed orders.
#[test]
fn a_group_of_traces_is_compared_with_another_from_the_dashboard() {
    use spanview_core::scenario::{fixed_order, slow_order};
    let spanview = Spanview::start(&[]);
    let id = |n: u32| format!("{n:032x}");
    let second = 1_000_000_000u64;
    let now = now_nanos();
    let traces = (1..=7).map(|n| {
        let start = now - u64::from(10 - n) * 60 * second;
        if n <= 2 {
            slow_order(&id(n), start)
        } else {
            fixed_order(&id(n), start)
        }
    });
    for trace in traces {
        spanview.export(&trace.batch);
    }
    let before = [id(1), id(2), id(3)].join(",");
    let after = [id(4), id(5), id(6), id(7)].join(",");
    let seen = run_node_script_json("group-compare.mjs", &[&spanview.base_url, &before, &after]);
    assert_eq!(seen["rows"], 7, "{seen:#}");
    assert_eq!(
        seen["keepLabelAll"],
        "Use the 7 selected as the before group"
    );
    assert_eq!(seen["keepLabel"], "Use the 3 selected as the before group");
    assert_eq!(seen["beforeGroup"], "Before group: 3 traces");
    assert_eq!(seen["checkedAfterKeeping"], 0);
    assert_eq!(
        seen["url"],
        format!("/compare/groups?before={before}&after={after}")
    );
    assert_eq!(seen["median"], "Median 3200 ms → 350 ms -2850 ms (-89.1 %)");
    assert_eq!(
        seen["notes"],
        serde_json::json!([
            "Before: steady (3 traces, p95 3200 ms = 1.0× median)",
            "After: steady (4 traces, p95 350 ms = 1.0× median)"
        ])
    );
    let stock = seen["stockRow"].as_str().unwrap();
    assert!(
        stock.starts_with(
            "inventory-service GET /stock | 2800 ms | 60 ms | -2740 ms (-97.9 %) | 2800 ms | 60 ms | 3 → 4 | 1 → 1"
        ),
        "{stock}"
    );
}

/// Issue 24's small ones: no failed request on load (the favicon), "1 span" in singular, the
/// group detail's button and the date inputs styled like the rest, and "Expand to depth" going
/// back to "—" once the rows no longer show that depth.
#[test]
fn small_things_a_daily_user_sees_are_right() {
    use spanview_core::scenario::{N_PLUS_ONE_TRACE_ID, fixed_order};
    let spanview = Spanview::start(&["--demo"]);
    let now = now_nanos();
    let one_span_id = format!("{:032x}", 0x51u32);
    let mut trace = fixed_order(&one_span_id, now - 60_000_000_000);
    trace.batch.spans.truncate(1);
    spanview.export(&trace.batch);

    let seen = run_node_script_json(
        "small-polish.mjs",
        &[&spanview.base_url, &one_span_id, N_PLUS_ONE_TRACE_ID],
    );
    assert_eq!(seen["failedRequests"], serde_json::json!([]), "{seen:#}");
    assert_eq!(seen["hasIcon"], true);
    let tooltips = seen["oneSpanTooltip"].as_array().unwrap();
    assert!(
        tooltips
            .iter()
            .any(|tooltip| tooltip.as_str().unwrap().contains(" · 1 span · ")),
        "{tooltips:?}"
    );
    assert!(
        !tooltips
            .iter()
            .any(|tooltip| tooltip.as_str().unwrap().contains(" 1 spans")),
        "{tooltips:?}"
    );
    assert_eq!(seen["dateInput"], seen["textInput"], "{seen:#}");
    assert_eq!(seen["showButton"], seen["toolbarButton"], "{seen:#}");
    assert_eq!(seen["depthChosen"], "1");
    assert_eq!(seen["depthAfterExpandAll"], "", "{seen:#}");
    assert_eq!(seen["depthChosenAgain"], "2");
}

/// Issue 24: a trace id pasted in the dashboard's box opens its trace (16 hex digits are the
/// zero-padded 64-bit id); a list cut by its limit says that more match and loads more.
#[test]
fn a_pasted_trace_id_opens_and_a_cut_list_says_more_match_and_loads_more() {
    use spanview_core::scenario::{SLOW_ORDER_TRACE_ID, fixed_order};
    let spanview = Spanview::start(&["--demo"]);
    let now = now_nanos();
    let short_id = "00c0ffee00c0ffee";
    let trace = fixed_order(&format!("{short_id:0>32}"), now - 60_000_000_000);
    spanview.export(&trace.batch);

    let seen = run_node_script_json(
        "trace-id-and-more.mjs",
        &[&spanview.base_url, short_id, SLOW_ORDER_TRACE_ID],
    );
    assert_eq!(seen["rowsAtLimit2"], 2, "{seen:#}");
    assert_eq!(seen["countAtLimit2"], "2 traces; more match");
    assert_eq!(seen["urlAfterMore"], "?limit=4");
    assert_eq!(seen["rowsAfterMore"], 4);
    assert_eq!(
        seen["countAfterMore"], "4 traces; more match",
        "5 are stored"
    );
    assert_eq!(seen["limitShown"], "4");
    assert_eq!(seen["loadMoreLeft"], 1);
    assert_eq!(
        seen["badIdError"],
        "a trace id is 32 hex digits, or 16 for a 64-bit id"
    );
    assert_eq!(seen["shortIdPath"], format!("/trace/{short_id:0>32}"));
    assert_eq!(seen["shortIdTitle"], "order-service: GET /orders/12345");
    assert_eq!(seen["longIdPath"], format!("/trace/{SLOW_ORDER_TRACE_ID}"));
}

/// Issue 24: the list and the trace page show the absolute start time with its zone, local (with
/// the offset) or UTC, a setting that survives a reload.
#[test]
fn start_times_show_in_local_time_or_utc_as_chosen_and_remembered() {
    use spanview_core::scenario::fixed_order;
    let spanview = Spanview::start(&[]);
    let trace_id = format!("{:032x}", 0x7u32);
    // 2026-01-02 03:04:05.678 UTC
    let trace = fixed_order(&trace_id, 1_767_323_045_678_000_000);
    spanview.export(&trace.batch);

    let seen = run_node_script_json("time-zone.mjs", &[&spanview.base_url, &trace_id]);
    assert_eq!(seen["switchFirst"], "Times: local", "{seen:#}");
    assert_eq!(seen["listLocal"], "2026-01-02 08:34:05 UTC+05:30");
    assert_eq!(seen["switchAfterClick"], "Times: UTC");
    assert_eq!(seen["listUtc"], "2026-01-02 03:04:05 UTC");
    assert_eq!(seen["listUtcAfterReload"], "2026-01-02 03:04:05 UTC");
    assert_eq!(seen["traceUtc"], "2026-01-02 03:04:05.678 UTC");
    assert_eq!(seen["traceLocal"], "2026-01-02 08:34:05.678 UTC+05:30");
}

/// Issue 24: the scatter plot has a time axis of round times, and a log scale on which a 100 s
/// outlier no longer squashes the other traces against the axis.
#[test]
fn the_scatter_plot_has_a_time_axis_and_a_log_scale() {
    use spanview_core::scenario::{fixed_order, slow_order};
    let spanview = Spanview::start(&[]);
    let minute = 60_000_000_000u64;
    // Five traces a minute apart from 2026-01-02 03:00:30 UTC: 350 ms, 3200 ms, and one whose
    // root lasts 100 s.
    let first = 1_767_322_830_000_000_000u64;
    for n in 0..5u64 {
        let id = format!("{:032x}", n + 1);
        let mut trace = if n == 1 {
            slow_order(&id, first + n * minute)
        } else {
            fixed_order(&id, first + n * minute)
        };
        if n == 4 {
            let root = &mut trace.batch.spans[0];
            root.end_nanos = root.start_nanos + 100 * 1_000_000_000;
        }
        spanview.export(&trace.batch);
    }
    let seen = run_node_script_json("scatter-axes.mjs", &[&spanview.base_url]);
    assert_eq!(
        seen["timeLabels"],
        serde_json::json!(["03:01", "03:02", "03:03", "03:04"]),
        "{seen:#}"
    );
    assert_eq!(seen["labelsInside"], true);
    assert_eq!(seen["bottomLinear"], "0");
    let linear: Vec<f64> = serde_json::from_value(seen["linearHeights"].clone()).unwrap();
    let log: Vec<f64> = serde_json::from_value(seen["logHeights"].clone()).unwrap();
    assert_eq!(linear.len(), 5);
    assert!(
        linear[3] < 0.05,
        "on a linear scale the 3.2 s trace is flat: {linear:?}"
    );
    assert_eq!(seen["logPressed"], "true");
    assert_eq!(seen["bottomLog"], "350 ms");
    assert_eq!(log[0], 0.0, "{log:?}");
    assert_eq!(log[4], 1.0, "{log:?}");
    assert!(
        log[3] > 0.3,
        "on a log scale the 3.2 s trace stands clear: {log:?}"
    );
}

/// Issue 24: the trace page offers to compare with the previous trace of its root operation, or
/// with one picked from a search.
#[test]
fn a_trace_is_compared_with_the_previous_of_its_operation_or_one_picked_from_a_search() {
    use spanview_core::scenario::{fixed_order, slow_order};
    let spanview = Spanview::start(&[]);
    let now = now_nanos();
    let minute = 60_000_000_000u64;
    let ids: Vec<String> = (0xa1..=0xa3u32).map(|n| format!("{n:032x}")).collect();
    let traces = [
        fixed_order(&ids[0], now - 30 * minute),
        slow_order(&ids[1], now - 20 * minute),
        fixed_order(&ids[2], now - 10 * minute),
    ];
    for trace in traces {
        spanview.export(&trace.batch);
    }
    let seen = run_node_script_json(
        "compare-with.mjs",
        &[&spanview.base_url, &ids[0], &ids[1], &ids[2]],
    );
    assert_eq!(
        seen["previousHref"],
        format!("/compare/{}/{}", ids[1], ids[2]),
        "{seen:#}"
    );
    assert_eq!(
        seen["previousPath"],
        format!("/compare/{}/{}", ids[1], ids[2])
    );
    assert_eq!(seen["pickSearch"]["compareWith"], ids[2].as_str());
    assert_eq!(seen["pickSearch"]["service"], "order-service");
    assert_eq!(seen["pickSearch"]["operation"], "GET /orders/12345");
    assert!(seen["rowsWithCompare"].as_u64().unwrap() >= 2, "{seen:#}");
    assert_eq!(
        seen["pickedPath"],
        format!("/compare/{}/{}", ids[0], ids[2])
    );
}

/// Issue 24: two identical traces compare with a zero change that is not shown red.
#[test]
fn a_zero_change_is_not_shown_red() {
    use spanview_core::scenario::fixed_order;
    let spanview = Spanview::start(&[]);
    let now = now_nanos();
    let (before, after) = (format!("{:032x}", 0xb1u32), format!("{:032x}", 0xb2u32));
    for (id, start) in [
        (&before, now - 120_000_000_000),
        (&after, now - 60_000_000_000),
    ] {
        let trace = fixed_order(id, start);
        spanview.export(&trace.batch);
    }
    let seen = run_node_script_json("compare-same.mjs", &[&spanview.base_url, &before, &after]);
    assert_eq!(seen["delta"], "0 (0 %)", "{seen:#}");
    assert_eq!(seen["summaryClass"], "compare-summary", "{seen:#}");
    assert_eq!(seen["deltaColor"], seen["textColor"], "{seen:#}");
    assert_eq!(seen["redRows"], 0);
}

/// Issue 24: a service deployed between the two traces shows its resource change on the compare
/// page (service.version 1.4.0 -> 1.5.0), and the Markdown export names both traces with links
/// back to them and to the comparison.
#[test]
fn compare_shows_resource_changes_and_its_markdown_links_back() {
    use spanview_core::scenario::{fixed_order, slow_order};
    let spanview = Spanview::start(&[]);
    let now = now_nanos();
    let (before_id, after_id) = (format!("{:032x}", 0xc1u32), format!("{:032x}", 0xc2u32));
    let mut before = slow_order(&before_id, now - 120_000_000_000);
    let mut after = fixed_order(&after_id, now - 60_000_000_000);
    for (trace, version) in [(&mut before, "1.4.0"), (&mut after, "1.5.0")] {
        for resource in &mut trace.batch.resources {
            if resource.service_name() == "inventory-service" {
                for attribute in &mut resource.attributes {
                    if attribute.key == "service.version" {
                        attribute.value = spanview_core::AnyValue::from(version);
                    }
                }
            }
        }
        spanview.export(&trace.batch);
    }
    let seen = run_node_script_json(
        "compare-resources.mjs",
        &[&spanview.base_url, &before_id, &after_id],
    );
    assert_eq!(
        seen["resourceChanges"],
        serde_json::json!(["inventory-service service.version: 1.4.0 → 1.5.0"]),
        "{seen:#}"
    );
    assert_eq!(seen["markdownName"], "comparison.md");
    let markdown = seen["markdown"].as_str().unwrap();
    let base = &spanview.base_url;
    assert!(
        markdown.contains(&format!(
            "- traces: [`{before_id}`]({base}/trace/{before_id}) -> [`{after_id}`]({base}/trace/{after_id}) ([side by side]({base}/compare/{before_id}/{after_id}))\n"
        )),
        "{markdown}"
    );
    assert!(
        markdown.contains("- resource of inventory-service: service.version: 1.4.0 -> 1.5.0\n"),
        "{markdown}"
    );
}

/// Issue 24 at 1024 px (and 1440): time-axis labels that do not overlap (also with the detail
/// panel open), the compare page and the group comparison table inside the window, and detail
/// values broken between words only.
#[test]
fn pages_fit_1024_and_1440_pixels() {
    use spanview_core::scenario::{FIXED_ORDER_TRACE_ID, SLOW_ORDER_TRACE_ID};
    let spanview = Spanview::start(&["--demo"]);
    // A failed order whose root says why at length: the message wraps in the detail panel.
    let failed_id = format!("{:032x}", 0xd1u32);
    let now = now_nanos();
    let mut failed = spanview_core::scenario::fixed_order(&failed_id, now - 60_000_000_000);
    failed.batch.spans[0].status = spanview_core::Status {
        code: spanview_core::StatusCode::Error,
        message: String::from(
            "connection refused by the inventory database replica after three retries, giving up on the order",
        ),
    };
    spanview.export(&failed.batch);
    let seen = run_node_script_json(
        "layout-1024.mjs",
        &[
            &spanview.base_url,
            SLOW_ORDER_TRACE_ID,
            FIXED_ORDER_TRACE_ID,
            &failed_id,
        ],
    );
    // The name column with the detail panel open at 1024 px: names cut, fewer once dragged 40 px
    // wider (rows and header alike), the default width back on a double click; the full name on
    // hover.
    let column = &seen["nameColumn"];
    let before = column["before"].as_i64().unwrap();
    assert!(column["cutBefore"].as_i64().unwrap() > 0, "{seen:#}");
    assert!(
        (column["afterDrag"].as_i64().unwrap() - (before + 40)).abs() <= 4,
        "{seen:#}"
    );
    assert_eq!(column["headAfterDrag"], column["afterDrag"], "{seen:#}");
    assert!(
        column["cutAfterDrag"].as_i64().unwrap() < column["cutBefore"].as_i64().unwrap(),
        "{seen:#}"
    );
    assert_eq!(column["afterReset"], before, "{seen:#}");
    assert!(
        column["rowTitle"]
            .as_str()
            .unwrap()
            .starts_with("inventory-service: GET /stock"),
        "{seen:#}"
    );
    for width in [1024, 1440] {
        for ticks in [format!("ticks{width}"), format!("ticksWithDetail{width}")] {
            assert_eq!(
                seen[&ticks]["problems"],
                serde_json::json!([]),
                "{ticks}: {seen:#}"
            );
            assert!(
                seen[&ticks]["shown"].as_array().unwrap().len() >= 2,
                "{ticks}: an axis keeps at least two labels: {seen:#}"
            );
        }
        assert!(
            seen[format!("statusLines{width}")].as_u64().unwrap() >= 2,
            "the status message wraps: {seen:#}"
        );
        assert_eq!(
            seen[format!("splitWords{width}")],
            serde_json::json!([]),
            "{seen:#}"
        );
        assert_eq!(seen[format!("compareOverflow{width}")], 0, "{seen:#}");
        assert_eq!(seen[format!("groupOverflow{width}")], 0, "{seen:#}");
        assert!(
            seen[format!("groupTableRight{width}")].as_i64().unwrap() <= 0,
            "{seen:#}"
        );
    }
}
