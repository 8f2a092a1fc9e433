//! Issue 3: the UI in real headless Chromium lists stored traces at `/` and opens one at
//! `/trace/{id}` as a waterfall.

use spanview_core::scenario::SLOW_ORDER_TRACE_ID;
use spanview_e2e::{Spanview, rendered_dom};

#[test]
fn the_trace_list_shows_the_demo_traces() {
    let spanview = Spanview::start(&["--demo"]);
    let dom = rendered_dom(&spanview.url("/"));
    assert!(
        dom.contains("aria-label=\"Search traces\""),
        "the app did not render:\n{dom}"
    );
    assert!(dom.contains(">4 traces<"), "{dom}");
    assert_eq!(dom.matches("class=\"trace-row\"").count(), 4, "{dom}");
    assert!(
        dom.contains(&format!("href=\"/trace/{SLOW_ORDER_TRACE_ID}\"")),
        "{dom}"
    );
    assert!(dom.contains("GET /orders/12345"));
    assert!(dom.contains("3200 ms") && dom.contains("350 ms"));
}

#[test]
fn the_waterfall_shows_every_span_in_tree_order_with_its_share() {
    let spanview = Spanview::start(&["--demo"]);
    let dom = rendered_dom(&spanview.url(&format!("/trace/{SLOW_ORDER_TRACE_ID}")));
    // One row per span plus the header row.
    assert_eq!(dom.matches("class=\"wf-row").count(), 11, "{dom}");
    let order = [
        "GET /orders/12345",
        "SELECT orders",
        "GET /users/6789",
        "GET /products/batch",
        "GET /stock",
        "GET cache:inventory:*",
        "SELECT FROM inventory",
        "Query Execution",
        "Result Fetch",
        "GET /discounts",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|name| {
            dom.find(&format!(">{name}<"))
                .unwrap_or_else(|| panic!("{name} missing:\n{dom}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "rows out of tree order"
    );
    // The slow span's share of the total, and its bar at 270/3200 of the width (the zoom is
    // the waterfall's --zoom-from and --zoom-scale: 0 and 1 until the user zooms).
    assert!(dom.contains("87.5 %"), "{dom}");
    assert!(
        dom.contains(
            "left: calc((8.4375 - var(--zoom-from)) * var(--zoom-scale) * 1%); \
             width: max(calc(87.5000 * var(--zoom-scale) * 1%), 1px)"
        ),
        "{dom}"
    );
    assert!(
        dom.contains("--zoom-from: 0.0000; --zoom-scale: 1.000000"),
        "{dom}"
    );
    // Depths give the indentation.
    assert!(dom.contains("data-depth=\"2\"") && dom.contains("data-depth=\"3\""));
}

#[test]
fn span_data_is_shown_as_text_never_as_html() {
    let spanview = Spanview::start(&[]);
    let name = "<img src=x onerror=alert(1)>";
    let body = serde_json::json!({ "resourceSpans": [{ "scopeSpans": [{ "spans": [{
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
        "name": name, "startTimeUnixNano": "1", "endTimeUnixNano": "2" }] }] }] });
    let response = ureq::post(&spanview.url("/v1/traces"))
        .send_json(&body)
        .unwrap();
    assert_eq!(response.status(), 200);
    for path in ["/", "/trace/0af7651916cd43dd8448eb211c80319c"] {
        let dom = rendered_dom(&spanview.url(path));
        assert!(
            dom.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{path}:\n{dom}"
        );
        assert!(!dom.contains("<img"), "{path} rendered span data as HTML");
    }
}

#[test]
fn a_protected_spanview_asks_for_the_token_instead_of_showing_data() {
    let spanview = Spanview::start(&["--demo", "--auth-token", "s3cret"]);
    let dom = rendered_dom(&spanview.url("/"));
    assert!(dom.contains("Access token required"), "{dom}");
    assert!(dom.contains("id=\"access-token\""), "{dom}");
    assert!(
        !dom.contains("GET /orders/12345"),
        "no trace data without the token"
    );
}

#[test]
fn a_deep_link_opens_with_the_span_selected_and_its_details_shown() {
    let spanview = Spanview::start(&["--demo"]);
    // The demo's MySQL span, inside the inventory call.
    let trace = spanview.get_json(&format!("/api/traces/{SLOW_ORDER_TRACE_ID}"));
    let mysql = trace["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "SELECT FROM inventory")
        .unwrap();
    let span_id = mysql["spanId"].as_str().unwrap();
    let dom = rendered_dom(&spanview.url(&format!("/trace/{SLOW_ORDER_TRACE_ID}?span={span_id}")));
    // The selected row is exactly the linked span (its opening tag carries both).
    let selected_at = dom
        .find("wf-row selected")
        .unwrap_or_else(|| panic!("no selected row:\n{dom}"));
    let selected_tag = &dom[selected_at..selected_at + dom[selected_at..].find('>').unwrap()];
    assert!(
        selected_tag.contains(&format!("data-span-id=\"{span_id}\"")),
        "{selected_tag}"
    );
    assert_eq!(dom.matches("wf-row selected").count(), 1);
    let detail = &dom[dom.find("class=\"span-detail\"").expect("detail panel")..];
    assert!(detail.contains(">SELECT FROM inventory<"));
    assert!(
        detail.contains(">db.rows_examined<") && detail.contains(">1500000<"),
        "{detail}"
    );
    // The multi-line statement keeps its lines.
    assert!(
        detail.contains("FROM inventory\n WHERE product_id IN (1, 2, 3, ..., 50)"),
        "{detail}"
    );
    // The call-outs name the slow span with its share.
    assert!(
        dom.contains("inventory-service: GET /stock, 2800 ms, 87.5 % of total"),
        "{dom}"
    );
}

#[test]
fn a_100k_span_trace_opens_with_only_the_rows_in_view_in_the_dom() {
    let spanview = Spanview::start(&[]);
    let body = spanview_e2e::synthetic_trace_protobuf([0x42; 16], 100_000, 8);
    let response = ureq::post(&spanview.url("/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .send(&body[..])
        .unwrap();
    assert_eq!(response.status(), 200);
    let dom = rendered_dom(&spanview.url(&format!("/trace/{}", "42".repeat(16))));
    assert!(
        dom.contains("aria-rowcount=\"100001\""),
        "all rows are known to the table"
    );
    let rendered_rows = dom.matches("class=\"wf-row").count();
    assert!(
        (10..200).contains(&rendered_rows),
        "{rendered_rows} rows in the DOM"
    );
    assert!(dom.contains(">op aa<"), "the root row is painted");
    assert!(
        dom.contains("height: 2800000px"),
        "the scroll height covers every row"
    );
}

#[test]
fn the_n_plus_one_banner_appears_only_where_the_pattern_is() {
    use spanview_core::scenario::{BATCHED_PRODUCTS_TRACE_ID, N_PLUS_ONE_TRACE_ID};
    let spanview = Spanview::start(&["--demo"]);
    let dom = rendered_dom(&spanview.url(&format!("/trace/{N_PLUS_ONE_TRACE_ID}")));
    assert!(
        dom.contains("N+1 query: 20 × SELECT * FROM categories WHERE id = ?"),
        "{dom}"
    );
    assert!(
        dom.contains(
            "database under product-list GET /products: 20 queries, 3600 ms busy, 85.7 % of the trace's time. Batch them into one query."
        ),
        "{dom}"
    );
    let dom = rendered_dom(&spanview.url(&format!("/trace/{BATCHED_PRODUCTS_TRACE_ID}")));
    assert!(
        dom.contains(">mysql.query.categories<"),
        "the batched trace rendered:\n{dom}"
    );
    assert!(!dom.contains("N+1 query"), "no banner without the pattern");
}
