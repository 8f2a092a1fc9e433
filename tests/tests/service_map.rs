//! Issue 23: the service map and the service performance API, from the per-minute aggregates,
//! against both stores: the demo's scenario traces (`--demo`) give the same map on SQLite and
//! on ClickHouse, with the services (the databases too: they have spans of their own) and the
//! calls between them.

use serde_json::Value;
use spanview_e2e::{Spanview, clickhouse_query, now_nanos, test_clickhouse_url};

/// `(caller, callee, requests)` of every edge.
fn edges(map: &Value) -> Vec<(String, String, u64)> {
    map["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            (
                edge["caller"].as_str().unwrap().to_owned(),
                edge["callee"].as_str().unwrap().to_owned(),
                edge["requests"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// `(name, is_peer)` of every node.
fn nodes(map: &Value) -> Vec<(String, bool)> {
    map["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            (
                node["name"].as_str().unwrap().to_owned(),
                node["isPeer"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn check_demo_map(spanview: &Spanview) -> Value {
    let map = spanview.get_json("/api/services/map");
    let nodes = nodes(&map);
    // mysql and redis have spans of their own in the scenario (entered from the database and
    // inventory services), so since those count as requests they are services, not peers
    // (callees without spans of their own).
    for service in [
        "order-service",
        "user-service",
        "product-service",
        "inventory-service",
        "promotion-service",
        "database",
        "mysql",
        "redis",
    ] {
        assert!(
            nodes.contains(&(service.to_owned(), false)),
            "{service} in {nodes:?}"
        );
    }
    let edges = edges(&map);
    let has = |caller: &str, callee: &str| {
        edges
            .iter()
            .any(|(from, to, n)| from == caller && to == callee && *n > 0)
    };
    assert!(has("order-service", "user-service"), "{edges:?}");
    assert!(has("order-service", "inventory-service"), "{edges:?}");
    assert!(has("database", "mysql"), "{edges:?}");
    // Every edge and node carries its numbers.
    for edge in map["edges"].as_array().unwrap() {
        assert!(edge["p95Nanos"].as_u64().unwrap() > 0, "{edge}");
        assert!(edge["errorRate"].as_f64().unwrap() >= 0.0, "{edge}");
    }
    // A range before the demo's traces is empty.
    let empty = spanview.get_json("/api/services/map?start=0&end=1000000000");
    assert_eq!(empty["nodes"].as_array().unwrap().len(), 0, "{empty}");
    map
}

fn check_demo_performance(spanview: &Spanview) -> Value {
    let end = now_nanos() + 60_000_000_000;
    let start = end - 3_600_000_000_000;
    let performance = spanview.get_json(&format!(
        "/api/services/order-service/performance?start={start}&end={end}&step=5m"
    ));
    assert_eq!(
        performance["stepNanos"], 300_000_000_000u64,
        "{performance}"
    );
    let series = performance["serviceSeries"].as_array().unwrap();
    // The demo's two orders, 10 and 5 minutes ago.
    let requests: u64 = series
        .iter()
        .map(|point| point["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(requests, 2, "{performance}");
    for point in series {
        assert!(point["p99Nanos"].as_u64().unwrap() >= point["p50Nanos"].as_u64().unwrap());
        assert!(point["ratePerSecond"].as_f64().unwrap() > 0.0);
    }
    let operations = performance["operations"].as_array().unwrap();
    assert!(
        operations
            .iter()
            .any(|operation| operation["operation"] == "GET /orders/12345"),
        "{performance}"
    );
    performance
}

fn status_of(spanview: &Spanview, path: &str) -> (u16, String) {
    let mut response = ureq::get(&spanview.url(path))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

#[test]
fn the_demo_traces_make_a_service_map_and_charts() {
    let spanview = Spanview::start(&["--demo"]);
    check_demo_map(&spanview);
    check_demo_performance(&spanview);
    // Bad parameters are refused with the reason.
    for (path, expected) in [
        ("/api/services/map?step=1m", "unknown parameter"),
        ("/api/services/map?start=yesterday", "parameter start"),
        (
            "/api/services/order-service/performance?start=5&end=1",
            "is after end",
        ),
        (
            "/api/services/order-service/performance?step=soon",
            "parameter step",
        ),
    ] {
        let (status, body) = status_of(&spanview, path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains(expected), "{path}: {body}");
    }
}

#[test]
fn clickhouse_gives_the_same_map_and_charts_as_sqlite() {
    let Some(url) = test_clickhouse_url("clickhouse_gives_the_same_map_and_charts_as_sqlite")
    else {
        return;
    };
    let database = "spanview_e2e_service_map";
    clickhouse_query(&url, &format!("DROP DATABASE IF EXISTS {database}")).unwrap();
    let clickhouse = Spanview::start(&[
        "--demo",
        "--store",
        "clickhouse",
        "--clickhouse-url",
        &url,
        "--clickhouse-database",
        database,
    ]);
    let sqlite = Spanview::start(&["--demo"]);
    // The demo's traces are placed relative to each spanview's start: compare the shapes.
    let on_clickhouse = check_demo_map(&clickhouse);
    let on_sqlite = check_demo_map(&sqlite);
    assert_eq!(on_clickhouse, on_sqlite);
    let (a, b) = (
        check_demo_performance(&clickhouse),
        check_demo_performance(&sqlite),
    );
    assert_eq!(
        a["operations"].as_array().unwrap().len(),
        b["operations"].as_array().unwrap().len()
    );
}

/// Issue 23: the demo's services and calls drawn on the map in headless Chromium (both themes),
/// the service page's charts, and a click on a node opening the dashboard's search.
#[test]
fn the_map_page_draws_the_demo_services_and_calls() {
    let spanview = Spanview::start(&["--demo"]);
    let seen = spanview_e2e::run_node_script_json(
        "service-map.mjs",
        &[&spanview.url(""), "order-service"],
    );
    let drawn: Vec<(String, bool)> = seen["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            (
                node["service"].as_str().unwrap().to_owned(),
                node["peer"].as_bool().unwrap(),
            )
        })
        .collect();
    let from_api = nodes(&spanview.get_json("/api/services/map?start=0"));
    let mut drawn_sorted = drawn.clone();
    drawn_sorted.sort();
    let mut from_api_sorted = from_api;
    from_api_sorted.sort();
    assert_eq!(drawn_sorted, from_api_sorted);
    assert!(drawn.contains(&("mysql".to_owned(), false)), "{drawn:?}");
    let drawn_edges: Vec<(String, String)> = seen["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            assert!(edge["label"].as_str().unwrap().contains("req"), "{edge}");
            (
                edge["caller"].as_str().unwrap().to_owned(),
                edge["callee"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        drawn_edges.contains(&("order-service".to_owned(), "user-service".to_owned())),
        "{drawn_edges:?}"
    );
    assert!(
        drawn_edges.contains(&("database".to_owned(), "mysql".to_owned())),
        "{drawn_edges:?}"
    );
    // The service page: the whole service and its operation, each with points.
    let charts = seen["charts"].as_array().unwrap();
    assert!(charts.len() >= 2, "{seen}");
    assert!(
        charts
            .iter()
            .all(|chart| chart["dots"].as_u64().unwrap() > 0),
        "{seen}"
    );
    assert!(
        seen["clickedTo"]
            .as_str()
            .unwrap()
            .contains("service=order-service"),
        "{seen}"
    );
    check_chart_axes_and_points(&seen);
    check_edge_labels(&seen);
}

/// Issue 23 (review): every chart has time labels (round minutes over the hour, `HH:MM` in the
/// browser's time zone) and value labels from 0; a click on the first point of the requests
/// chart opens the dashboard's search for that minute, which lists the slow order (stored ten
/// minutes ago, the service's earliest request).
fn check_chart_axes_and_points(seen: &Value) {
    let is_clock_time = |text: &str| {
        let bytes = text.as_bytes();
        bytes.len() == 5
            && bytes[2] == b':'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, byte)| i == 2 || byte.is_ascii_digit())
    };
    for chart_row in seen["charts"].as_array().unwrap() {
        let time_labels = chart_row["timeLabels"].as_array().unwrap();
        let value_labels = chart_row["valueLabels"].as_array().unwrap();
        assert_eq!(time_labels.len(), 3, "three charts a row: {chart_row}");
        for (times, values) in time_labels.iter().zip(value_labels) {
            let times: Vec<&str> = times
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert!(times.len() >= 3, "{chart_row}");
            assert!(times.iter().all(|t| is_clock_time(t)), "{chart_row}");
            let values = values.as_array().unwrap();
            assert!(values.len() >= 2, "{chart_row}");
            assert_eq!(values[0], "0", "{chart_row}");
        }
    }
    let query = seen["pointClickedTo"].as_str().unwrap();
    let param = |name: &str| -> u64 {
        query
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in {query}"))
            .parse()
            .unwrap()
    };
    assert!(query.contains("service=order-service"), "{query}");
    assert_eq!(param("end") - param("start"), 60_000_000_000, "{query}");
    assert_eq!(
        seen["tracesOfThePoint"],
        serde_json::json!([spanview_core::scenario::SLOW_ORDER_TRACE_ID]),
        "{seen}"
    );
}

/// Issue 23 (review): the map's edge labels sat away from their curves. As drawn in Chromium,
/// each label's centre is on its curve (a call across several layers, whose curve runs through
/// the nodes between, within 60 px of it) and no label covers another or a node; the layout's
/// estimate of a character's width is not below the browser's.
fn check_edge_labels(seen: &Value) {
    let labels = &seen["labels"];
    assert!(labels["n"].as_u64().unwrap() >= 5, "{labels}");
    for problem in ["overlaps", "overNodes", "offCurve"] {
        assert_eq!(
            labels[problem],
            serde_json::json!([]),
            "{problem}: {labels}"
        );
    }
    let widest = labels["widestCharPx"].as_f64().unwrap();
    assert!(
        widest <= spanview_core::service_map_layout::LABEL_CHAR_WIDTH,
        "{labels}"
    );
}
