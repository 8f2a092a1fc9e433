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
            "inventory-service",
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
