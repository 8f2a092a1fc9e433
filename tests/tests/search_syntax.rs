//! Issue 24: the search's attribute syntax (quoted values with spaces, `!=`, `exists`), event
//! attributes and the kind and status filters, over real HTTP against a real spanview fed by the
//! real OpenTelemetry Python SDK (an exception recorded as a span event), on the embedded store
//! and on ClickHouse; and the dashboard's search form doing the same in headless Chromium.

use serde_json::{Value, json};
use spanview_e2e::{
    Spanview, clickhouse_query, python_export, run_node_script_json, test_clickhouse_url,
};

const T0: u64 = 1_700_000_000_000_000_000;

/// Two traces: `POST /checkout` (server, error, an `exception` event as the SDK's
/// `record_exception` writes it) calling `SELECT carts` (client) with a statement holding
/// spaces; and `GET /health` (server, unset) with `http.status_code=200`. Returns their ids.
fn export_checkout_and_health(spanview: &Spanview) -> (String, String) {
    let spec = json!({
        "endpoint": spanview.url("/v1/traces"),
        "serviceName": "checkout",
        "spans": [
            { "name": "POST /checkout", "parent": null, "kind": "SERVER",
              "startNanos": T0.to_string(), "endNanos": (T0 + 900_000_000).to_string(),
              "attributes": { "http.request.method": "POST" },
              "events": [ { "name": "exception", "timeNanos": (T0 + 800_000_000).to_string(),
                            "attributes": { "exception.type": "ConnectionRefusedError",
                                            "exception.message": "connection refused by db:5432" } } ],
              "error": "connection refused by db:5432" },
            { "name": "SELECT carts", "parent": 0, "kind": "CLIENT",
              "startNanos": (T0 + 10_000_000).to_string(), "endNanos": (T0 + 790_000_000).to_string(),
              "attributes": { "db.system": "postgresql",
                              "db.statement": "SELECT * FROM carts WHERE user_id = $1" } },
            { "name": "GET /health", "parent": null, "kind": "SERVER",
              "startNanos": (T0 + 2_000_000_000).to_string(), "endNanos": (T0 + 2_001_000_000).to_string(),
              "attributes": { "http.status_code": 200 } }
        ]
    });
    let exported = python_export(&spec).expect("export with the OTel Python SDK");
    (exported[0].trace_id.clone(), exported[2].trace_id.clone())
}

/// Percent-encodes a query parameter's value (every byte but unreserved ones).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// GETs a search; returns the status and the trace ids found (or the error message).
fn search(spanview: &Spanview, query: &str) -> (u16, Value) {
    let mut response = ureq::get(&spanview.url(&format!("/api/traces?{query}")))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .expect("the server answers");
    let status = response.status().as_u16();
    let body: Value = response.body_mut().read_json().expect("a JSON body");
    if status != 200 {
        return (status, body["error"].clone());
    }
    let ids: Vec<Value> = body["traces"]
        .as_array()
        .expect("traces")
        .iter()
        .map(|trace| trace["traceId"].clone())
        .collect();
    (status, Value::Array(ids))
}

fn check_searches(spanview: &Spanview) {
    let (checkout, health) = export_checkout_and_health(spanview);
    let found = |query: &str| {
        let (status, ids) = search(spanview, query);
        assert_eq!(status, 200, "{query}: {ids}");
        ids
    };
    let attr = |text: &str| found(&format!("attr={}", encode(text)));
    assert_eq!(
        attr(r#"exception.message="connection refused by db:5432""#),
        json!([checkout])
    );
    assert_eq!(
        attr(r#"db.statement="SELECT * FROM carts WHERE user_id = $1""#),
        json!([checkout])
    );
    assert_eq!(attr("exception.type exists"), json!([checkout]));
    assert_eq!(attr("http.status_code!=200"), json!([]));
    assert_eq!(attr("http.status_code!=500"), json!([health]));
    assert_eq!(
        attr("service.name=checkout http.request.method=POST"),
        json!([checkout])
    );
    assert_eq!(attr("exception.message=connection"), json!([]));
    assert_eq!(found("kind=client"), json!([checkout]));
    assert_eq!(found("kind=server"), json!([health, checkout]));
    assert_eq!(found("kind=server&status=error"), json!([checkout]));
    assert_eq!(found("kind=server&status=unset"), json!([health]));
    assert_eq!(
        found("service=checkout&operation=GET%20%2Fhealth&status=error"),
        json!([])
    );
    assert_eq!(
        found(&format!(
            "status=error&attr={}",
            encode(r#"db.statement="SELECT * FROM carts WHERE user_id = $1""#)
        )),
        json!([checkout])
    );
    // Bad input: 400 with where and what.
    let (status, message) = search(
        spanview,
        &format!("attr={}", encode(r#"db.statement="SELECT *"#)),
    );
    assert_eq!(status, 400);
    assert_eq!(
        message,
        "parameter attr: the quote opened at character 14 is not closed"
    );
    let (status, message) = search(spanview, "kind=sever");
    assert_eq!(status, 400);
    assert_eq!(
        message,
        "parameter kind: expected server, client, producer, consumer, internal or unspecified, got \"sever\""
    );
}

#[test]
fn attribute_syntax_event_attributes_kind_and_status_on_the_embedded_store() {
    let spanview = Spanview::start(&[]);
    check_searches(&spanview);
}

#[test]
fn attribute_syntax_event_attributes_kind_and_status_on_clickhouse() {
    let Some(url) = test_clickhouse_url("search_syntax_on_clickhouse") else {
        return;
    };
    let suffix = std::env::var("SPANVIEW_TEST_CLICKHOUSE_DATABASE_SUFFIX").unwrap_or_default();
    let database = format!("spanview_e2e_search_syntax{suffix}");
    clickhouse_query(&url, &format!("DROP DATABASE IF EXISTS {database}")).unwrap();
    let spanview = Spanview::start(&[
        "--store",
        "clickhouse",
        "--clickhouse-url",
        &url,
        "--clickhouse-database",
        &database,
    ]);
    check_searches(&spanview);
}

/// The dashboard's form: a quoted statement with spaces, an event attribute, kind and status
/// selects (kept in the URL), and a syntax error shown with the server's message.
#[test]
fn the_dashboard_searches_with_the_attribute_syntax_kind_and_status() {
    let spanview = Spanview::start(&[]);
    let (checkout, health) = export_checkout_and_health(&spanview);
    let seen = run_node_script_json("search-syntax.mjs", &[&spanview.base_url]);
    assert_eq!(seen["allTraces"], json!([health, checkout]), "{seen:#}");
    let help = seen["help"].as_str().unwrap();
    for example in [
        "key=value",
        r#"key="with spaces""#,
        "key!=value",
        "key exists",
    ] {
        assert!(help.contains(example), "{help}");
    }
    assert_eq!(
        seen["kinds"],
        json!(["", "server", "client", "producer", "consumer", "internal"])
    );
    assert_eq!(seen["statuses"], json!(["", "error", "ok", "unset"]));
    assert_eq!(
        seen["statementUrl"],
        "?attr=db.statement%3D%22SELECT%20*%20FROM%20carts%20WHERE%20user_id%20%3D%20%241%22&limit=50"
    );
    assert_eq!(seen["statementTraces"], json!([checkout]));
    assert_eq!(
        seen["reloadedAttr"],
        r#"db.statement="SELECT * FROM carts WHERE user_id = $1""#
    );
    assert_eq!(seen["reloadedTraces"], json!([checkout]));
    assert_eq!(seen["eventTraces"], json!([checkout]));
    assert_eq!(seen["kindStatusUrl"], "?kind=server&status=unset&limit=50");
    assert_eq!(seen["kindStatusTraces"], json!([health]));
    assert_eq!(seen["reloadedKind"], "server");
    assert_eq!(seen["reloadedStatus"], "unset");
    assert_eq!(
        seen["errorShown"],
        "the quote opened at character 14 is not closed"
    );
    assert_eq!(seen["rowsOnError"], 0);
}
