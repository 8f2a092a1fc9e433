//! Issue 23: the trace page's flame graph in real headless Chromium: the scenario's slow order
//! drawn as boxes where its spans ran (read back by pointing at the canvas), a click zooming into
//! GET /stock, the breadcrumb and Escape zooming out, the keyboard, the search and the deep link.

use spanview_core::scenario::SLOW_ORDER_TRACE_ID;
use spanview_e2e::{Spanview, run_node_script_json};

#[test]
fn the_flame_graph_draws_the_slow_order_zooms_and_links() {
    let spanview = Spanview::start(&["--demo"]);
    let page = spanview.url(&format!("/trace/{SLOW_ORDER_TRACE_ID}"));
    let seen = run_node_script_json("flame-graph-interactions.mjs", &[&page]);
    let stock = "inventory-service GET /stock 2800 ms, 87.5 % of the trace self time 40 ms";
    let path_to_stock = [
        "Whole trace",
        "order-service: GET /orders/12345",
        "inventory-service: GET /stock",
    ];
    let selected_stock =
        "Selected: inventory-service: GET /stock, 2800 ms, 87.5 % of the trace, self time 40 ms";
    let expected = serde_json::json!({
        "tabSelected": "true",
        // Ten spans, four levels of 20 px.
        "whole": { "boxes": 10, "height": 80 },
        "rootAt10": "order-service GET /orders/12345 3200 ms, 100.0 % of the trace self time 90 ms",
        "stockAtHalf": stock,
        "productsAt200ms": "product-service GET /products/batch 120 ms, 3.8 % of the trace self time 120 ms",
        // Between GET /products/batch (ends at 265 ms) and GET /stock (starts at 270 ms): the
        // root's own time, no box.
        "gapAt267ms": null,
        "stockAt273ms": stock,
        "queryAtHalf": "mysql Query Execution 2700 ms, 84.4 % of the trace self time 2700 ms",
        "belowTheLeaves": null,
        "breadcrumbAfterClick": path_to_stock,
        // GET /stock and its four descendants, three levels.
        "zoomed": { "boxes": 5, "height": 60 },
        "zoomedTop": "inventory-service GET /stock 2800 ms, 87.5 % of the trace 100.0 % of the zoomed span self time 40 ms",
        "zoomedMysql": "mysql SELECT FROM inventory 2750 ms, 85.9 % of the trace 98.2 % of the zoomed span self time 0 ns",
        "selectionAfterClick": selected_stock,
        "afterDown": "Selected: redis: GET cache:inventory:*, 10 ms, 0.3 % of the trace, self time 10 ms",
        "afterRight": "Selected: mysql: SELECT FROM inventory, 2750 ms, 85.9 % of the trace, self time 0 ns",
        "breadcrumbAfterEnter": [
            "Whole trace",
            "order-service: GET /orders/12345",
            "inventory-service: GET /stock",
            "mysql: SELECT FROM inventory",
        ],
        "breadcrumbAfterEscape": path_to_stock,
        "afterUp": selected_stock,
        "breadcrumbAfterWholeTrace": ["Whole trace"],
        "afterWholeTrace": { "boxes": 10, "height": 80 },
        "matchCount": "5 matches",
        "rootDimmed": true,
        "stockKept": true,
        "deepLinkTab": "true",
        "deepLinkSelection": selected_stock,
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&seen[key], value, "{key}; everything seen: {seen:#}");
    }
    let query = seen["urlAfterClick"].as_str().unwrap();
    assert!(
        query.starts_with("?view=flame&span="),
        "the selection is in the URL: {query}"
    );
    let span = query.trim_start_matches("?view=flame&");
    assert_eq!(seen["urlOnStatistics"], format!("?{span}"));
}

/// Guards the hang that kept issue 24's trace page work off main: a deep link into the flame
/// graph on a trace whose page also looks up the previous trace of its operation ("Compare
/// with…") and shows its start time in UTC. The flame graph was built while the page waited for
/// that look-up, off the page, where its width was 0; it measured, wrote the width and so woke
/// itself again, for ever. Now the page draws, the canvas follows its container's width, and a
/// flame graph built hidden draws once shown.
#[test]
fn a_flame_graph_deep_link_draws_beside_compare_with_and_the_time_zone() {
    use spanview_core::scenario::slow_order;
    let spanview = Spanview::start(&[]);
    let (previous_id, latest_id) = (format!("{:032x}", 0xf1u32), format!("{:032x}", 0xf2u32));
    // 2026-01-02 03:04:05.678 UTC, the previous one a minute before.
    let latest_start = 1_767_323_045_678_000_000u64;
    let previous = slow_order(&previous_id, latest_start - 60_000_000_000);
    let latest = slow_order(&latest_id, latest_start);
    for trace in [&previous, &latest] {
        spanview.export(&trace.batch);
    }
    let stock = latest
        .batch
        .spans
        .iter()
        .find(|span| span.name == "GET /stock")
        .expect("the slow order has GET /stock");
    let stock_id = stock.span_id.to_string();

    let seen = run_node_script_json(
        "flame-graph-deep-link.mjs",
        &[&spanview.base_url, &latest_id, &stock_id],
    );
    assert_eq!(seen["boxes"], 10, "{seen:#}");
    assert_eq!(seen["tabSelected"], "true");
    assert_eq!(
        seen["selection"],
        "Selected: inventory-service: GET /stock, 2800 ms, 87.5 % of the trace, self time 40 ms"
    );
    assert_eq!(
        seen["previousHref"],
        format!("/compare/{previous_id}/{latest_id}")
    );
    assert_eq!(seen["started"], "2026-01-02 03:04:05.678 UTC");
    assert_eq!(seen["query"], format!("?view=flame&span={stock_id}"));
    for at in ["at1440", "at1024"] {
        let (canvas, container) = (&seen[at]["canvas"], &seen[at]["container"]);
        assert!(container.as_u64().unwrap() > 0, "{at}: {seen:#}");
        assert_eq!(canvas, container, "{at}: the canvas fills its container");
    }
    assert!(
        seen["at1024"]["canvas"].as_u64() < seen["at1440"]["canvas"].as_u64(),
        "the canvas narrowed with the window: {seen:#}"
    );
    // Built hidden, it waits for a width (the page answering meanwhile), then draws.
    assert_eq!(seen["hiddenDrawn"], false, "{seen:#}");
    assert_eq!(seen["shownBoxes"], 10, "{seen:#}");
}

/// Issue 23 (review): concurrent siblings drew over each other. The fixed order calls the user
/// and product services at once (60-140 ms and 60-180 ms of 350 ms): GET /products/batch is
/// drawn in a lane of its own under GET /users/6789, and GET /stock's children (from 185 ms)
/// share that level again, read back by pointing at the canvas in Chromium.
#[test]
fn concurrent_siblings_are_drawn_in_lanes_of_their_own() {
    use spanview_core::scenario::FIXED_ORDER_TRACE_ID;
    let spanview = Spanview::start(&["--demo"]);
    let page = spanview.url(&format!("/trace/{FIXED_ORDER_TRACE_ID}"));
    // Fractions of the 350 ms trace: 100 ms, 160 ms, 210 ms.
    let probes = [
        "0.2857@1", "0.2857@2", "0.4571@2", "0.4571@1", "0.6@2", "0.6@3",
    ];
    let mut args = vec![page.as_str()];
    args.extend(probes);
    let seen = run_node_script_json("flame-graph-lanes.mjs", &args);
    // Eight spans on three levels: nothing hidden under another box.
    assert_eq!(seen["boxes"], 8, "{seen:#}");
    assert_eq!(seen["height"], 60, "{seen:#}");
    let at = |probe: &str| seen["at"][probe].as_str().map(str::to_owned);
    let users = "user-service GET /users/6789 80 ms, 22.9 % of the trace self time 80 ms";
    let products =
        "product-service GET /products/batch 120 ms, 34.3 % of the trace self time 120 ms";
    assert_eq!(at("0.2857@1").as_deref(), Some(users), "{seen:#}");
    assert_eq!(at("0.2857@2").as_deref(), Some(products), "{seen:#}");
    assert_eq!(at("0.4571@2").as_deref(), Some(products), "{seen:#}");
    // Between the user call's end (140 ms) and GET /stock (185 ms): the root's own time.
    assert_eq!(at("0.4571@1"), None, "{seen:#}");
    assert!(
        at("0.6@2").is_some_and(|text| text.starts_with("redis GET cache:inventory:*")),
        "{seen:#}"
    );
    assert_eq!(at("0.6@3"), None, "{seen:#}");
}
