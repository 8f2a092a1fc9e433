//! Issue 5: the trace view driven like a person would, with the keyboard and clicks, in real
//! headless Chromium (playwright-core from npm drives the Debian Chromium).

use spanview_core::scenario::SLOW_ORDER_TRACE_ID;
use spanview_e2e::{Spanview, run_node_script_json};

#[test]
fn keyboard_search_and_call_outs_navigate_the_waterfall() {
    let spanview = Spanview::start(&["--demo"]);
    let page = spanview.url(&format!("/trace/{SLOW_ORDER_TRACE_ID}"));
    let seen = run_node_script_json("trace-view-interactions.mjs", &[&page]);
    let expected = serde_json::json!({
        "afterFirstDown": "GET /orders/12345",
        "afterThreeDowns": "GET /users/6789",
        "detailTitle": "GET /users/6789",
        "afterLeftOnLeaf": "GET /orders/12345",
        "rowsAfterCollapsingRoot": 1,
        "rowsAfterExpandingRoot": 10,
        "rowsAfterCollapseAll": 1,
        "rowsAfterExpandingRootOnly": 6,
        "matchCount": "1 match",
        "afterSearchEnter": "Query Execution",
        "rowsMatchesOnly": 5,
        "helpShown": true,
        "helpAfterEscape": 0,
        "detailAfterEscape": null,
        "afterCallOut": "GET /stock",
        "statisticsFirstRow": ["mysql", "3", "5500 ms", "2750 ms", "2750 ms", "85.9 %"],
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&seen[key], value, "{key}; everything seen: {seen:#}");
    }
    let query = seen["urlAfterSelect"].as_str().unwrap();
    assert!(
        query.starts_with("?span="),
        "the selection is in the URL: {query}"
    );
}

#[test]
fn repeated_spans_fold_the_critical_path_highlights_and_the_minimap_zooms() {
    use spanview_core::scenario::N_PLUS_ONE_TRACE_ID;
    let spanview = Spanview::start(&["--demo"]);
    let loop_page = spanview.url(&format!("/trace/{N_PLUS_ONE_TRACE_ID}"));
    let slow_page = spanview.url(&format!("/trace/{SLOW_ORDER_TRACE_ID}"));
    let seen = run_node_script_json("groups-and-critical-path.mjs", &[&loop_page, &slow_page]);
    let expected = serde_json::json!({
        // The request, its SELECT products, and one row for the 20 loop iterations.
        "rowsFolded": 3,
        "groupSize": "20",
        "groupLabel": "▸×20loopfetch category for product ?",
        "groupDuration": "Σ 4000 ms",
        "groupDetailTitle": "×20 fetch category for product ?",
        "rowsUnfolded": 42,
        "rowsFoldedAgain": 3,
        "criticalBefore": 0,
        // The order page calls everything in sequence: every span is on the path.
        "criticalRows": 10,
        "queryCriticalSegments": 1,
        "queryCriticalFact": "on it, 2700 ms of its own",
        "ticksBeforeZoom": ["0", "1000 ms", "2000 ms", "3000 ms"],
        // Round ticks inside the zoomed middle half (labels stay offsets from the trace's start).
        "ticksAfterZoom": ["1000 ms", "1500 ms", "2000 ms"],
        "zoomLabelsAfterReset": 0,
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&seen[key], value, "{key}; everything seen: {seen:#}");
    }
    // The middle half of 3200 ms, give or take a pixel of the drag.
    let label = seen["zoomLabel"].as_str().unwrap();
    let numbers: Vec<f64> = label
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 3, "{label}");
    // Bars follow the zoom: the root's bar is twice the timeline wide, starting half of it
    // before the left edge (give or take the drag's pixels).
    let root_bar = &seen["rootBarAfterZoom"];
    let width_ratio = root_bar["widthRatio"].as_f64().unwrap();
    let left_ratio = root_bar["leftRatio"].as_f64().unwrap();
    assert!((width_ratio - 2.0).abs() < 0.05, "{root_bar}");
    assert!((left_ratio + 0.5).abs() < 0.05, "{root_bar}");
    assert!((numbers[0] - 800.0).abs() <= 20.0, "{label}");
    assert!((numbers[1] - 2400.0).abs() <= 20.0, "{label}");
    assert_eq!(numbers[2], 3200.0, "{label}");
}
