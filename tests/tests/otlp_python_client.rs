//! Issue 4: the real OpenTelemetry Python SDK with its OTLP/HTTP protobuf exporter, gzip-compressed,
//! is read back exactly: ids, ns times, parent links, typed attributes, events and error status.

use serde_json::{Value, json};
use spanview_e2e::{Spanview, python_export};

const T0: u64 = 1_700_000_000_987_654_321;

#[test]
fn otlp_http_protobuf_gzip_from_python_round_trips_exactly() {
    let spanview = Spanview::start(&[]);
    let spec = json!({
        "endpoint": spanview.url("/v1/traces"),
        "serviceName": "inventory-service",
        "spans": [
            { "name": "GET /stock", "parent": null, "kind": "SERVER",
              "startNanos": T0.to_string(), "endNanos": (T0 + 2_800_000_001u64).to_string(),
              "attributes": { "http.method": "GET", "http.status_code": 200,
                              "inventory.cache_hit": false, "ratio": 0.25,
                              "product_ids": [1, 2, 3] } },
            { "name": "SELECT FROM inventory", "parent": 0, "kind": "CLIENT",
              "startNanos": (T0 + 20_000_003).to_string(), "endNanos": (T0 + 2_770_000_007u64).to_string(),
              "attributes": { "db.system": "mysql", "db.rows_examined": 1_500_000,
                              "db.statement": "SELECT *\n  FROM inventory\n WHERE product_id IN (?)" },
              "events": [ { "name": "slow query", "timeNanos": (T0 + 2_000_000_009u64).to_string(),
                            "attributes": { "threshold_ms": 1000 } } ],
              "error": "lock wait timeout" }
        ]
    });
    let exported = python_export(&spec).expect("export with the OTel Python SDK");
    let trace_id = &exported[0].trace_id;
    let trace = spanview.get_json(&format!("/api/traces/{trace_id}"));
    let spans = trace["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 2);

    let by_name = |name: &str| {
        spans
            .iter()
            .find(|span| span["name"] == name)
            .unwrap()
            .clone()
    };
    let root = by_name("GET /stock");
    let query = by_name("SELECT FROM inventory");
    assert_eq!(root["spanId"], exported[0].span_id);
    assert_eq!(query["parentSpanId"], exported[0].span_id);
    assert_eq!(root["startNanos"], T0.to_string());
    assert_eq!(root["endNanos"], (T0 + 2_800_000_001u64).to_string());
    assert_eq!(query["startNanos"], (T0 + 20_000_003).to_string());
    assert_eq!(
        (root["kind"].as_str(), query["kind"].as_str()),
        (Some("server"), Some("client"))
    );

    let attribute = |span: &Value, key: &str| {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == key)
            .map(|kv| kv["value"].clone())
    };
    assert_eq!(
        attribute(&root, "inventory.cache_hit"),
        Some(json!({ "boolValue": false }))
    );
    assert_eq!(
        attribute(&root, "ratio"),
        Some(json!({ "doubleValue": 0.25 }))
    );
    assert_eq!(
        attribute(&root, "product_ids"),
        Some(json!({ "arrayValue": [{ "intValue": 1 }, { "intValue": 2 }, { "intValue": 3 }] }))
    );
    assert_eq!(
        attribute(&query, "db.rows_examined"),
        Some(json!({ "intValue": 1_500_000 }))
    );
    assert_eq!(
        attribute(&query, "db.statement"),
        Some(json!({ "stringValue": "SELECT *\n  FROM inventory\n WHERE product_id IN (?)" }))
    );
    assert_eq!(
        query["status"],
        json!({ "code": "error", "message": "lock wait timeout" })
    );
    assert_eq!(query["events"][0]["name"], "slow query");
    assert_eq!(
        query["events"][0]["timeNanos"],
        (T0 + 2_000_000_009u64).to_string()
    );
    assert_eq!(
        query["events"][0]["attributes"][0],
        json!({ "key": "threshold_ms", "value": { "intValue": 1000 } })
    );

    // The search API finds it by an attribute and by errors.
    let found = spanview.get_json("/api/traces?attr=db.system:mysql&errors=true");
    assert_eq!(found["traces"][0]["traceId"], *trace_id);
    assert_eq!(found["traces"][0]["nErrors"], 1);
}
