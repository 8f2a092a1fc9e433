//! Issue 6: the dashboard's search, driven in headless Chromium: scenario step 1 (service =
//! order-service, duration > 2 s) lists exactly the slow trace, and the URL round-trips the search.

use spanview_core::scenario::{
    BATCHED_PRODUCTS_TRACE_ID, FIXED_ORDER_TRACE_ID, N_PLUS_ONE_TRACE_ID, SLOW_ORDER_TRACE_ID,
};
use spanview_e2e::{Spanview, run_node_script_json};

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
    // The services overview over the demo's four traces.
    assert_eq!(seen["overviewOpenAtFirst"], false);
    assert_eq!(
        seen["overviewHeadline"],
        "slowest p99: product-list 4200 ms · no errors"
    );
    assert_eq!(
        seen["overviewInventoryRow"],
        serde_json::json!([
            // The service's cell links to its performance page ("over time").
            "inventory-service over time",
            "2",
            "2",
            "0.0 %",
            "60 ms",
            "2800 ms",
            "2800 ms"
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let traces = (1..=7).map(|n| {
        let start = now - u64::from(10 - n) * 60 * second;
        if n <= 2 {
            slow_order(&id(n), start)
        } else {
            fixed_order(&id(n), start)
        }
    });
    for trace in traces {
        let body = spanview_core::formats::otlp::encode_protobuf(&trace.batch);
        let response = ureq::post(&spanview.url("/v1/traces"))
            .header("Content-Type", "application/x-protobuf")
            .send(&body[..])
            .expect("export");
        assert_eq!(response.status(), 200);
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
