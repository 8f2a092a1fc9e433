//! Issue 20: Zipkin v2 ingest (`POST /api/v2/spans`) from a real Zipkin sender, the
//! OpenTelemetry JS Zipkin exporter (npm `@opentelemetry/exporter-zipkin`), on the main address
//! and on `--zipkin-listen` (Zipkin's own port); gzip bodies; precise refusals.

use std::io::Write;

use serde_json::{Value, json};
use spanview_e2e::{Spanview, node_export};

const T0: u64 = 1_700_000_000_000_000_000;

fn spec(endpoint: &str, service: &str) -> Value {
    json!({
        "endpoint": endpoint,
        "protocol": "zipkin",
        "serviceName": service,
        "spans": [
            { "name": "GET /orders", "parent": null, "kind": 1,
              "startNanos": T0.to_string(), "endNanos": (T0 + 3_200_000_000u64).to_string(),
              "attributes": { "http.method": "GET" } },
            { "name": "GET /stock", "parent": 0, "kind": 2,
              "startNanos": (T0 + 100_000_000).to_string(), "endNanos": (T0 + 2_900_000_000u64).to_string() }
        ]
    })
}

fn check_stored(spanview: &Spanview, trace_id: &str, service: &str) {
    let trace = spanview.get_json(&format!("/api/traces/{trace_id}"));
    let spans = trace["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 2, "{trace:#}");
    let root = spans
        .iter()
        .find(|span| span["name"] == "GET /orders")
        .unwrap();
    let child = spans
        .iter()
        .find(|span| span["name"] == "GET /stock")
        .unwrap();
    assert_eq!(child["parentSpanId"], root["spanId"]);
    // Zipkin carries microseconds.
    assert_eq!(root["startNanos"], T0.to_string());
    assert_eq!(root["endNanos"], (T0 + 3_200_000_000u64).to_string());
    assert_eq!(root["kind"], "server");
    assert_eq!(
        trace["resources"][root["resourceIdx"].as_u64().unwrap_or(0) as usize]["attributes"][0]["value"]
            ["stringValue"],
        service,
        "{trace:#}"
    );
}

#[test]
fn the_otel_zipkin_exporter_is_stored_on_the_main_address_and_on_zipkins_port() {
    let spanview = Spanview::start(&["--zipkin-listen", "127.0.0.1:0"]);
    let exported = node_export(&spec(&spanview.url("/api/v2/spans"), "zipkin-main"))
        .expect("export with @opentelemetry/exporter-zipkin");
    check_stored(&spanview, &exported[0].trace_id, "zipkin-main");

    let zipkin_port = format!("http://{}/api/v2/spans", spanview.zipkin_address());
    let exported =
        node_export(&spec(&zipkin_port, "zipkin-9411")).expect("export to --zipkin-listen");
    check_stored(&spanview, &exported[0].trace_id, "zipkin-9411");
}

#[test]
fn gzip_zipkin_json_is_accepted_and_bad_bodies_are_refused_precisely() {
    let spanview = Spanview::start(&[]);
    let spans = json!([{
        "traceId": "5af7183fb1d4cf5f", "id": "6b221d5bc9e6496c", "name": "get /api",
        "kind": "SERVER", "timestamp": 1_700_000_000_000_000u64, "duration": 207_000,
        "localEndpoint": { "serviceName": "backend" }, "tags": { "http.path": "/api" }
    }]);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(spans.to_string().as_bytes()).unwrap();
    let response = post(
        &spanview,
        &gzip.finish().unwrap(),
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
    );
    assert_eq!(response.0, 202, "{}", response.1);
    let trace = spanview.get_json(&format!(
        "/api/traces/{}",
        "00000000000000005af7183fb1d4cf5f"
    ));
    assert_eq!(trace["spans"][0]["name"], "get /api");

    let (status, body) = post(
        &spanview,
        b"[{\"traceId\": 5}]",
        &[("content-type", "application/json")],
    );
    assert_eq!(status, 400);
    assert!(body.starts_with("invalid Zipkin v2 JSON"), "{body}");

    let (status, body) = post(
        &spanview,
        b"\x0c\x00",
        &[("content-type", "application/x-thrift")],
    );
    assert_eq!(status, 415);
    assert!(body.contains("application/json"), "{body}");

    // A span with an unusable id is skipped and named; the others are stored.
    let mixed = json!([
        { "traceId": "5af7183fb1d4cf5f", "id": "xyz", "name": "broken",
          "timestamp": 1_700_000_000_000_000u64, "duration": 1 },
        { "traceId": "5af7183fb1d4cf5f", "id": "0000000000000007", "parentId": "6b221d5bc9e6496c",
          "name": "child", "timestamp": 1_700_000_000_001_000u64, "duration": 5,
          "localEndpoint": { "serviceName": "backend" } }
    ]);
    let (status, _) = post(
        &spanview,
        mixed.to_string().as_bytes(),
        &[("content-type", "application/json")],
    );
    assert_eq!(status, 202);
    let trace = spanview.get_json(&format!(
        "/api/traces/{}",
        "00000000000000005af7183fb1d4cf5f"
    ));
    assert_eq!(trace["spans"].as_array().unwrap().len(), 2);
}

fn post(spanview: &Spanview, body: &[u8], headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = ureq::post(&spanview.url("/api/v2/spans"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request
        .config()
        .http_status_as_error(false)
        .build()
        .send(body)
        .expect("POST /api/v2/spans");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}
