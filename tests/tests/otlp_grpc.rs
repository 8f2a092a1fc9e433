//! Issue 20: OTLP/gRPC (`TraceService/Export`) from real exporters: the npm
//! `@opentelemetry/exporter-trace-otlp-grpc` (gzip and plain), the PyPI
//! `opentelemetry-exporter-otlp-proto-grpc`; the bearer token in metadata; the spec's status
//! codes (INVALID_ARGUMENT, partial success, RESOURCE_EXHAUSTED with RetryInfo when saturated,
//! exporters retrying until everything is stored). Raw calls go through `grpc_raw.py` (grpcio).
//! The Rust tonic exporter is in `otlp_rust_client.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use serde_json::{Value, json};
use spanview_e2e::{
    Spanview, node_export, python_export, run_python_script, synthetic_trace_protobuf,
};

const T0: u64 = 1_700_000_000_123_456_789;

fn spec(endpoint: &str, compression: &str, service: &str) -> Value {
    json!({
        "endpoint": endpoint,
        "protocol": "grpc",
        "compression": compression,
        "serviceName": service,
        "spans": [
            { "name": "GET /orders", "parent": null, "kind": 1,
              "startNanos": T0.to_string(), "endNanos": (T0 + 3_200_000_001u64).to_string(),
              "attributes": { "http.method": "GET", "http.status_code": 200 } },
            { "name": "GET /stock", "parent": 0, "kind": 2,
              "startNanos": (T0 + 100_000_007).to_string(), "endNanos": (T0 + 2_900_000_003u64).to_string() },
            { "name": "SELECT stock", "parent": 1, "kind": 2,
              "startNanos": (T0 + 200_000_000).to_string(), "endNanos": (T0 + 2_800_000_000u64).to_string() }
        ]
    })
}

/// Reads the trace back and checks what every exporter here sent: three spans, exact times and
/// parent links.
fn assert_trace_stored(spanview: &Spanview, trace_id: &str, service: &str) -> Value {
    let trace = spanview.get_json(&format!("/api/traces/{trace_id}"));
    let spans = trace["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 3, "{trace:#}");
    let by_name = |name: &str| spans.iter().find(|span| span["name"] == name).unwrap();
    let root = by_name("GET /orders");
    assert_eq!(root["startNanos"], T0.to_string());
    assert_eq!(root["endNanos"], (T0 + 3_200_000_001u64).to_string());
    assert_eq!(by_name("GET /stock")["parentSpanId"], root["spanId"]);
    assert_eq!(
        by_name("SELECT stock")["parentSpanId"],
        by_name("GET /stock")["spanId"]
    );
    let resource = &trace["resources"][root["resourceIdx"].as_u64().unwrap() as usize];
    let service_name = resource["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|kv| kv["key"] == "service.name")
        .map(|kv| kv["value"]["stringValue"].clone());
    assert_eq!(service_name, Some(json!(service)), "{resource}");
    trace
}

#[test]
fn the_npm_grpc_exporter_is_stored_exactly_with_gzip_and_without() {
    let spanview = Spanview::start(&[]);
    let endpoint = format!("http://{}", spanview.grpc_address());
    for compression in ["gzip", "none"] {
        let service = format!("node-grpc-{compression}");
        let exported = node_export(&spec(&endpoint, compression, &service))
            .expect("export with @opentelemetry/exporter-trace-otlp-grpc");
        let trace = assert_trace_stored(&spanview, &exported[0].trace_id, &service);
        let root = trace["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|span| span["name"] == "GET /orders")
            .unwrap();
        let status_code = root["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == "http.status_code")
            .map(|kv| kv["value"].clone());
        assert_eq!(status_code, Some(json!({ "intValue": 200 })), "{root}");
    }
    let metrics = metrics_text(&spanview);
    assert!(
        metrics.contains(r#"spanview_export_requests_total{encoding="grpc",status="200"}"#),
        "{metrics}"
    );
}

#[test]
fn the_python_grpc_exporter_is_stored_with_gzip() {
    let spanview = Spanview::start(&[]);
    let spec = json!({
        "endpoint": format!("http://{}", spanview.grpc_address()),
        "protocol": "grpc",
        "serviceName": "python-grpc",
        "spans": [
            { "name": "GET /orders", "parent": null, "kind": "SERVER",
              "startNanos": T0.to_string(), "endNanos": (T0 + 3_200_000_001u64).to_string() },
            { "name": "GET /stock", "parent": 0, "kind": "CLIENT",
              "startNanos": (T0 + 100_000_007).to_string(), "endNanos": (T0 + 2_900_000_003u64).to_string() },
            { "name": "SELECT stock", "parent": 1, "kind": "CLIENT",
              "startNanos": (T0 + 200_000_000).to_string(), "endNanos": (T0 + 2_800_000_000u64).to_string(),
              "error": "lock wait timeout" }
        ]
    });
    let exported =
        python_export(&spec).expect("export with opentelemetry-exporter-otlp-proto-grpc");
    let trace = assert_trace_stored(&spanview, &exported[0].trace_id, "python-grpc");
    let query = trace["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|span| span["name"] == "SELECT stock")
        .unwrap();
    assert_eq!(
        query["status"],
        json!({ "code": "error", "message": "lock wait timeout" })
    );
}

#[test]
fn grpc_takes_the_same_bearer_token_as_http() {
    let spanview = Spanview::start(&["--auth-token", "s3cret"]);
    let endpoint = format!("http://{}", spanview.grpc_address());

    // No token: UNAUTHENTICATED, nothing stored.
    let message = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(message.path(), one_span_request([7; 16], [1; 8])).unwrap();
    let path = message.path().to_str().unwrap();
    let answer = raw_call(&spanview, &[path]);
    assert_eq!(answer["code"], "UNAUTHENTICATED", "{answer}");
    let answer = raw_call(&spanview, &[path, "--token", "wrong"]);
    assert_eq!(answer["code"], "UNAUTHENTICATED", "{answer}");
    assert_eq!(
        answer["details"], "the bearer token is wrong",
        "the refusal says why"
    );

    // The real exporter with the token in its metadata is stored; the scheme is
    // case-insensitive (RFC 6750).
    for scheme in ["Bearer", "bearer"] {
        let mut spec = spec(&endpoint, "gzip", "with-token");
        spec["headers"] = json!({ "authorization": format!("{scheme} s3cret") });
        let exported = node_export(&spec).expect("export with the token");
        let trace = http_get_with_token(
            &spanview,
            &format!("/api/traces/{}", exported[0].trace_id),
            "s3cret",
        );
        assert_eq!(trace["spans"].as_array().unwrap().len(), 3);
    }
    let answer = raw_call(&spanview, &[path, "--token", "s3cret"]);
    assert_eq!(answer["code"], "OK", "{answer}");
}

#[test]
fn bad_data_is_invalid_argument_and_bad_spans_a_partial_success() {
    let spanview = Spanview::start(&[]);
    let dir = tempfile::tempdir().unwrap();

    // Not protobuf at all: INVALID_ARGUMENT naming where it broke, no retry offered.
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, b"\x0a\xff\xff\xff\xff\x0f not a request").unwrap();
    let answer = raw_call(&spanview, &[garbage.to_str().unwrap()]);
    assert_eq!(answer["code"], "INVALID_ARGUMENT", "{answer}");
    let details = answer["details"].as_str().unwrap();
    assert!(
        details.starts_with("invalid OTLP protobuf at byte"),
        "{details}"
    );
    assert_eq!(answer["retryDelaySeconds"], Value::Null);

    // One good span and one with an all-zero span id: OK with partial_success, the good
    // span stored; gzip-compressed by grpcio.
    let mut request =
        opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
            &one_span_request([9; 16], [1; 8])[..],
        )
        .unwrap();
    let mut bad = request.resource_spans[0].scope_spans[0].spans[0].clone();
    bad.span_id = vec![0; 8];
    bad.name = "bad id".into();
    request.resource_spans[0].scope_spans[0].spans.push(bad);
    let mixed = dir.path().join("mixed.bin");
    std::fs::write(&mixed, request.encode_to_vec()).unwrap();
    let answer = raw_call(&spanview, &[mixed.to_str().unwrap(), "--gzip"]);
    assert_eq!(answer["code"], "OK", "{answer}");
    let response =
        ExportTraceServiceResponse::decode(&hex_bytes(answer["response"].as_str().unwrap())[..])
            .unwrap();
    let partial = response.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("bad id"),
        "{}",
        partial.error_message
    );
    let trace = spanview.get_json(&format!("/api/traces/{}", "09".repeat(16)));
    assert_eq!(trace["spans"].as_array().unwrap().len(), 1);

    // An unknown method is UNIMPLEMENTED, not a hang or an HTTP error.
    let answer = raw_call(
        &spanview,
        &[
            mixed.to_str().unwrap(),
            "--path",
            "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        ],
    );
    assert_eq!(answer["code"], "UNIMPLEMENTED", "{answer}");
}

#[test]
fn a_message_over_the_size_limit_is_refused_without_a_retry() {
    let spanview = Spanview::start(&["--max-body-bytes", "4096"]);
    let dir = tempfile::tempdir().unwrap();
    let large = dir.path().join("large.bin");
    std::fs::write(&large, synthetic_trace_protobuf([3; 16], 200, 4)).unwrap();
    let answer = raw_call(&spanview, &[large.to_str().unwrap()]);
    assert_eq!(answer["code"], "OUT_OF_RANGE", "{answer}");
    // Compressed under the limit, over it once inflated: stopped while inflating.
    let answer = raw_call(&spanview, &[large.to_str().unwrap(), "--gzip"]);
    assert_eq!(answer["code"], "RESOURCE_EXHAUSTED", "{answer}");
    assert_eq!(answer["retryDelaySeconds"], Value::Null, "not retryable");
    // The server is still up and took nothing.
    assert_eq!(spanview.get_json("/api/services")["services"], json!([]));
}

#[test]
fn a_saturated_server_answers_resource_exhausted_and_the_exporter_retries_until_stored() {
    // One export at a time: large requests sent back to back over HTTP keep the only permit
    // busy most of the time while the Python gRPC exporter sends 50 small batches (the permit
    // is free while a loader's body is read, so one call alone may slip through); it is told
    // RESOURCE_EXHAUSTED with RetryInfo and retries until everything is in.
    let spanview = Arc::new(Spanview::start(&["--max-pending-exports", "1"]));
    let busy_until_refused = Arc::new(AtomicBool::new(true));
    let loaders: Vec<_> = (0..3u8)
        .map(|n| {
            let (spanview, keep_going) = (spanview.clone(), busy_until_refused.clone());
            std::thread::spawn(move || {
                let body = synthetic_trace_protobuf([100 + n; 16], 30_000, 8);
                let deadline = Instant::now() + Duration::from_secs(40);
                while keep_going.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let _ = ureq::post(&spanview.url("/v1/traces"))
                        .header("content-type", "application/x-protobuf")
                        .config()
                        .http_status_as_error(false)
                        .build()
                        .send(&body[..]);
                }
            })
        })
        .collect();
    // Stop the load once the exporter has been refused at least once.
    let watcher = {
        let (spanview, keep_going) = (spanview.clone(), busy_until_refused);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(40);
            while Instant::now() < deadline && grpc_refusals(&spanview) == 0 {
                std::thread::sleep(Duration::from_millis(20));
            }
            keep_going.store(false, Ordering::Relaxed);
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let spec = json!({
        "endpoint": format!("http://{}", spanview.grpc_address()),
        "protocol": "grpc",
        "serviceName": "retrying",
        "maxExportBatchSize": 8,
        "spans": (0..400).map(|n| json!({
            "name": format!("step {n}"), "parent": if n == 0 { Value::Null } else { json!(0) },
            "kind": "INTERNAL",
            "startNanos": (T0 + n * 1_000).to_string(), "endNanos": (T0 + 1_000_000).to_string()
        })).collect::<Vec<_>>()
    });
    let exported = python_export(&spec).expect("the exporter retries until it is stored");
    watcher.join().unwrap();
    for loader in loaders {
        loader.join().unwrap();
    }
    assert!(
        grpc_refusals(&spanview) >= 1,
        "the exporter was never refused, so this test proved nothing:\n{}",
        metrics_text(&spanview)
    );
    let trace = spanview.get_json(&format!("/api/traces/{}", exported[0].trace_id));
    assert_eq!(
        trace["spans"].as_array().unwrap().len(),
        400,
        "every span stored"
    );
}

/// gRPC exports answered RESOURCE_EXHAUSTED (recorded as the HTTP 503 OTLP/HTTP would send).
fn grpc_refusals(spanview: &Spanview) -> u64 {
    metrics_text(spanview)
        .lines()
        .find(|line| {
            line.starts_with(r#"spanview_export_requests_total{encoding="grpc",status="503"}"#)
        })
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

fn metrics_text(spanview: &Spanview) -> String {
    ureq::get(&spanview.url("/metrics"))
        .call()
        .expect("metrics")
        .body_mut()
        .read_to_string()
        .unwrap()
}

fn http_get_with_token(spanview: &Spanview, path: &str, token: &str) -> Value {
    ureq::get(&spanview.url(path))
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .expect("GET with the token")
        .body_mut()
        .read_json()
        .unwrap()
}

/// One `TraceService/Export` call with grpcio; returns what `grpc_raw.py` printed.
fn raw_call(spanview: &Spanview, args: &[&str]) -> Value {
    let address = spanview.grpc_address();
    let mut all = vec![address.as_str()];
    all.extend_from_slice(args);
    let printed = run_python_script("grpc_raw.py", &all);
    serde_json::from_str(&printed).unwrap_or_else(|_| panic!("grpc_raw.py printed {printed}"))
}

fn one_span_request(trace_id: [u8; 16], span_id: [u8; 8]) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: trace_id.to_vec(),
                    span_id: span_id.to_vec(),
                    name: "raw".into(),
                    start_time_unix_nano: T0,
                    end_time_unix_nano: T0 + 1_000,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap())
        .collect()
}
