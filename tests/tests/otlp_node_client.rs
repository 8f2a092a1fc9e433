//! Issue 3: a real OpenTelemetry JS exporter sends spans to a real spanview, and the API gives
//! back exactly what was sent: ids, names, parent links, kinds, attributes and times to the ns.

use serde_json::{Value, json};
use spanview_e2e::{Spanview, node_export};

/// Times chosen so that float rounding anywhere would show: not representable in an f64.
const T0: u64 = 1_700_000_000_123_456_789;

fn spec(endpoint: &str, protocol: &str) -> Value {
    json!({
        "endpoint": endpoint,
        "protocol": protocol,
        "serviceName": "checkout",
        "spans": [
            { "name": "GET /cart", "parent": null, "kind": 1,
              "startNanos": T0.to_string(), "endNanos": (T0 + 250_000_001).to_string(),
              "attributes": { "http.method": "GET", "http.status_code": 200, "cart.total": 12.5,
                              "cart.items": ["apple", "pear"], "feature.enabled": true } },
            { "name": "SELECT carts", "parent": 0, "kind": 2,
              "startNanos": (T0 + 1_000_003).to_string(), "endNanos": (T0 + 51_000_007).to_string() },
            { "name": "GET /prices", "parent": 0, "kind": 2,
              "startNanos": (T0 + 60_000_000).to_string(), "endNanos": (T0 + 200_000_009).to_string() },
            { "name": "price lookup", "parent": 2, "kind": 0,
              "startNanos": (T0 + 61_000_001).to_string(), "endNanos": (T0 + 199_999_999).to_string() }
        ]
    })
}

fn check_round_trip(protocol: &str) {
    let spanview = Spanview::start(&[]);
    let sent = spec(&spanview.url("/v1/traces"), protocol);
    let exported = node_export(&sent).expect("export with the OTel JS SDK");
    assert_eq!(exported.len(), 4);
    let trace_id = &exported[0].trace_id;

    let trace = spanview.get_json(&format!("/api/traces/{trace_id}"));
    assert_eq!(trace["traceId"], *trace_id);
    let stored = trace["spans"].as_array().expect("spans");
    assert_eq!(stored.len(), 4, "stored spans: {stored:#?}");

    // The spec uses the JS API's SpanKind numbers (INTERNAL=0, SERVER=1, CLIENT=2), not OTLP's.
    let expected_kinds = ["server", "client", "client", "internal"];
    for (idx, sent_span) in exported.iter().enumerate() {
        let stored_span = stored
            .iter()
            .find(|span| span["spanId"] == sent_span.span_id)
            .unwrap_or_else(|| {
                panic!("span {} ({}) not stored", sent_span.span_id, sent_span.name)
            });
        assert_eq!(stored_span["name"], sent_span.name);
        assert_eq!(stored_span["traceId"], *trace_id);
        assert_eq!(
            stored_span.get("parentSpanId").and_then(Value::as_str),
            sent_span.parent_span_id.as_deref()
        );
        let spec_span = &sent["spans"][idx];
        assert_eq!(
            stored_span["startNanos"], spec_span["startNanos"],
            "start of {}",
            sent_span.name
        );
        assert_eq!(
            stored_span["endNanos"], spec_span["endNanos"],
            "end of {}",
            sent_span.name
        );
        assert_eq!(
            stored_span["kind"], expected_kinds[idx],
            "kind of {}",
            sent_span.name
        );
    }
    // Parent links as the SDK made them: children of the root and one grandchild.
    assert_eq!(
        exported[1].parent_span_id.as_deref(),
        Some(exported[0].span_id.as_str())
    );
    assert_eq!(
        exported[3].parent_span_id.as_deref(),
        Some(exported[2].span_id.as_str())
    );

    let root = stored
        .iter()
        .find(|span| span["name"] == "GET /cart")
        .unwrap();
    let attribute = |key: &str| {
        root["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == key)
            .map(|kv| kv["value"].clone())
    };
    assert_eq!(
        attribute("http.method"),
        Some(json!({ "stringValue": "GET" }))
    );
    assert_eq!(
        attribute("http.status_code"),
        Some(json!({ "intValue": 200 }))
    );
    assert_eq!(
        attribute("cart.total"),
        Some(json!({ "doubleValue": 12.5 }))
    );
    assert_eq!(
        attribute("feature.enabled"),
        Some(json!({ "boolValue": true }))
    );
    assert_eq!(
        attribute("cart.items"),
        Some(json!({ "arrayValue": [{ "stringValue": "apple" }, { "stringValue": "pear" }] }))
    );
    let resource = &trace["resources"][root["resourceIdx"].as_u64().unwrap() as usize];
    let service = resource["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|kv| kv["key"] == "service.name")
        .unwrap();
    assert_eq!(service["value"]["stringValue"], "checkout");

    // The list shows the trace with its root, duration and span count.
    let list = spanview.get_json("/api/traces");
    let summary = list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["traceId"] == *trace_id)
        .unwrap();
    assert_eq!(summary["root"]["name"], "GET /cart");
    assert_eq!(summary["root"]["service"], "checkout");
    assert_eq!(summary["nSpans"], 4);
    assert_eq!(summary["startNanos"], T0.to_string());
    assert_eq!(summary["endNanos"], (T0 + 250_000_001).to_string());
}

#[test]
fn otlp_http_json_exporter_round_trips_exactly() {
    check_round_trip("json");
}

#[test]
fn otlp_http_protobuf_exporter_round_trips_exactly() {
    check_round_trip("proto");
}

#[test]
fn acknowledged_spans_survive_kill_9_and_restart() {
    let data_dir = tempfile::tempdir().unwrap();
    let spanview = Spanview::start_in(data_dir.path(), &[]);
    let exported = node_export(&spec(&spanview.url("/v1/traces"), "json")).unwrap();
    spanview.kill();
    let restarted = Spanview::start_in(data_dir.path(), &[]);
    let trace = restarted.get_json(&format!("/api/traces/{}", exported[0].trace_id));
    assert_eq!(trace["spans"].as_array().unwrap().len(), 4);
}
