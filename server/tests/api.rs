//! Handler tests through `oneshot`: the whole router, no socket, a real SQLite store on disk.

use std::io::Write;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use spanview_server::store::sqlite::SqliteStore;
use spanview_server::{AppState, Limits, app};
use tower::ServiceExt;

const TRACE_ID: &str = "5b8efff798038103d269b633813fc60c";

fn export_json(span_id: &str, name: &str) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"checkout"}}}}]}},
        "scopeSpans":[{{"spans":[{{"traceId":"{TRACE_ID}","spanId":"{span_id}","name":"{name}","kind":2,
        "startTimeUnixNano":"1700000000000000001","endTimeUnixNano":"1700000000250000000"}}]}}]}}]}}"#
    )
}

struct TestApp {
    router: Router,
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    fn store_write(&self, batch: &spanview_core::Batch) {
        use spanview_server::store::TraceStore;
        self.store.write(batch).unwrap();
    }
}

fn test_app(max_body_bytes: usize) -> TestApp {
    test_app_with(
        Limits {
            max_body_bytes,
            ..Limits::default()
        },
        None,
    )
    .0
}

fn test_app_with(limits: Limits, auth_token: Option<&str>) -> (TestApp, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let state = AppState::new(store.clone(), limits, auth_token.map(str::to_owned));
    (
        TestApp {
            router: app(state.clone()),
            store,
            _dir: dir,
        },
        state,
    )
}

async fn send(app: &TestApp, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, body)
}

fn post(content_type: &str, encoding: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut request = Request::post("/v1/traces").header(header::CONTENT_TYPE, content_type);
    if let Some(encoding) = encoding {
        request = request.header(header::CONTENT_ENCODING, encoding);
    }
    request.body(Body::from(body)).unwrap()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn stored_span_names(app: &TestApp) -> Vec<String> {
    let (status, body) = send(app, get(&format!("/api/traces/{TRACE_ID}"))).await;
    if status == StatusCode::NOT_FOUND {
        return Vec::new();
    }
    let trace = json(&body);
    let mut names: Vec<String> = trace["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|span| span["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn json_export_is_stored_and_read_back() {
    let app = test_app(1 << 20);
    let (status, body) = send(
        &app,
        post(
            "application/json; charset=utf-8",
            None,
            export_json("eee19b7ec3c1b174", "GET /cart").into_bytes(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(json(&body), serde_json::json!({}));

    let (status, body) = send(&app, get(&format!("/api/traces/{TRACE_ID}"))).await;
    assert_eq!(status, StatusCode::OK);
    let trace = json(&body);
    assert_eq!(trace["traceId"], TRACE_ID);
    assert_eq!(trace["spans"][0]["startNanos"], "1700000000000000001");
    assert_eq!(
        trace["resources"][0]["attributes"][0]["value"]["stringValue"],
        "checkout"
    );

    let (status, body) = send(&app, get("/api/traces")).await;
    assert_eq!(status, StatusCode::OK);
    let list = json(&body);
    assert_eq!(list["traces"][0]["root"]["name"], "GET /cart");
    assert_eq!(list["traces"][0]["nSpans"], 1);
}

#[tokio::test]
async fn a_trace_reads_back_in_the_compact_encoding_when_asked() {
    let app = test_app(1 << 20);
    let trace = spanview_core::scenario::slow_order(TRACE_ID, 1_700_000_000_000_000_001);
    app.store_write(&trace.batch);
    let (status, json_body) = send(&app, get(&format!("/api/traces/{TRACE_ID}"))).await;
    assert_eq!(status, StatusCode::OK);
    let from_json: spanview_core::Trace = serde_json::from_slice(&json_body).unwrap();

    let request = Request::get(format!("/api/traces/{TRACE_ID}"))
        .header(header::ACCEPT, spanview_core::formats::compact::MEDIA_TYPE)
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        spanview_core::formats::compact::MEDIA_TYPE
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(
        body.len() * 3 < json_body.len(),
        "{} vs {} bytes",
        body.len(),
        json_body.len()
    );
    let batch = spanview_core::formats::compact::decode(&body).unwrap();
    assert_eq!(batch, from_json.batch);
    assert_eq!(batch.spans.len(), 10);
}

/// What SDK APIs cannot produce but OTLP carries (a Collector passes them on): bytes, maps,
/// nested arrays, empty values, a span with a link, events and a status; all read back exactly.
#[tokio::test]
async fn every_otlp_value_type_reads_back_exactly() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value as V,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
    use prost::Message;
    let kv = |key: &str, value: Option<V>| KeyValue {
        key: key.into(),
        value: Some(AnyValue { value }),
        ..Default::default()
    };
    let trace_id = hex_bytes(TRACE_ID);
    let span = Span {
        trace_id: trace_id.clone(),
        span_id: hex_bytes("00f067aa0ba902b7"),
        name: "consume".into(),
        kind: 5,
        start_time_unix_nano: 1_700_000_000_000_000_001,
        end_time_unix_nano: 1_700_000_000_000_000_002,
        attributes: vec![
            kv("payload", Some(V::BytesValue(vec![0, 1, 254, 255]))),
            kv(
                "headers",
                Some(V::KvlistValue(KeyValueList {
                    values: vec![kv(
                        "content-type",
                        Some(V::StringValue("text/plain".into())),
                    )],
                })),
            ),
            kv(
                "matrix",
                Some(V::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(V::ArrayValue(ArrayValue {
                            values: vec![AnyValue {
                                value: Some(V::IntValue(i64::MIN)),
                            }],
                        })),
                    }],
                })),
            ),
            kv("nothing", None),
            kv("pi", Some(V::DoubleValue(std::f64::consts::PI))),
        ],
        events: vec![span::Event {
            time_unix_nano: 1_700_000_000_000_000_002,
            name: "received".into(),
            attributes: vec![kv("size", Some(V::IntValue(4)))],
            ..Default::default()
        }],
        links: vec![span::Link {
            trace_id: hex_bytes("4bf92f3577b34da6a3ce929d0e0e4736"),
            span_id: hex_bytes("00f067aa0ba902b8"),
            trace_state: "vendor=1".into(),
            attributes: vec![kv("reason", Some(V::StringValue("batch".into())))],
            ..Default::default()
        }],
        status: Some(Status {
            code: 1,
            message: String::new(),
        }),
        trace_state: "congo=t61rcWkgMzE".into(),
        ..Default::default()
    };
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", Some(V::StringValue("queue".into())))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let app = test_app(1 << 20);
    let (status, _) = send(
        &app,
        post("application/x-protobuf", None, request.encode_to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(&app, get(&format!("/api/traces/{TRACE_ID}"))).await;
    assert_eq!(status, StatusCode::OK);
    let span = &json(&body)["spans"][0];
    assert_eq!(span["kind"], "consumer");
    assert_eq!(span["traceState"], "congo=t61rcWkgMzE");
    assert_eq!(span["status"], serde_json::json!({ "code": "ok" }));
    assert_eq!(
        span["attributes"],
        serde_json::json!([
            { "key": "payload", "value": { "bytesValue": "AAH+/w==" } },
            { "key": "headers", "value": { "kvlistValue": [
                { "key": "content-type", "value": { "stringValue": "text/plain" } }] } },
            { "key": "matrix", "value": { "arrayValue": [{ "arrayValue": [{ "intValue": i64::MIN }] }] } },
            { "key": "nothing", "value": "empty" },
            { "key": "pi", "value": { "doubleValue": std::f64::consts::PI } },
        ])
    );
    assert_eq!(
        span["links"],
        serde_json::json!([{
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b8",
            "traceState": "vendor=1",
            "attributes": [{ "key": "reason", "value": { "stringValue": "batch" } }],
        }])
    );
    assert_eq!(span["events"][0]["timeNanos"], "1700000000000000002");
    assert_eq!(span["events"][0]["attributes"][0]["value"]["intValue"], 4);
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn gzip_protobuf_export_is_answered_in_protobuf() {
    use prost::Message;
    let app = test_app(1 << 20);
    let request: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest =
        serde_json::from_str(&export_json("eee19b7ec3c1b174", "GET /cart")).unwrap();
    let (status, body) = send(
        &app,
        post(
            "application/x-protobuf",
            Some("gzip"),
            gzip(&request.encode_to_vec()),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.is_empty(),
        "an empty ExportTraceServiceResponse encodes to no bytes"
    );
    assert_eq!(stored_span_names(&app).await, ["GET /cart"]);
}

#[tokio::test]
async fn bad_input_is_rejected_precisely_and_loses_nothing() {
    let app = test_app(1 << 20);
    let good = export_json("eee19b7ec3c1b174", "kept");
    assert_eq!(
        send(
            &app,
            post("application/json", None, good.clone().into_bytes())
        )
        .await
        .0,
        StatusCode::OK
    );

    // Truncated JSON: 400 with the position.
    let truncated = export_json("1111111111111111", "lost").into_bytes()[..120].to_vec();
    let (status, body) = send(&app, post("application/json", None, truncated)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = json(&body)["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("invalid OTLP JSON at line"),
        "{message}"
    );

    // Wrong content type: 415.
    let (status, body) = send(&app, post("text/plain", None, good.clone().into_bytes())).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        json(&body)["message"]
            .as_str()
            .unwrap()
            .contains("text/plain")
    );

    // Empty JSON body: 400.
    assert_eq!(
        send(&app, post("application/json", None, Vec::new()))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    // Deeply nested JSON: 400, not a stack overflow.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        send(&app, post("application/json", None, nested.into_bytes()))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    // A zero span id is dropped and reported as partial success; the other span is kept.
    let partly_bad = good
        .replace("eee19b7ec3c1b174", "0000000000000000")
        .replace("kept", "zero id");
    let (status, body) = send(
        &app,
        post("application/json", None, partly_bad.into_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["partialSuccess"]["rejectedSpans"], 1);

    assert_eq!(stored_span_names(&app).await, ["kept"]);
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_the_limit() {
    let limit = 1 << 20;
    let app = test_app(limit);
    // 64 MiB of zeros compresses to about 64 KiB.
    let bomb = gzip(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < limit);
    let (status, body) = send(&app, post("application/x-protobuf", Some("gzip"), bomb)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    use prost::Message;
    #[derive(Message)]
    struct Status {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    let status_body = Status::decode(body.as_slice()).unwrap();
    assert!(
        status_body.message.contains("exceeds the limit"),
        "{}",
        status_body.message
    );
}

#[tokio::test]
async fn api_errors_are_json_with_a_reason() {
    let app = test_app(1 << 20);
    let (status, body) = send(&app, get("/api/traces/not-hex")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        json(&body)["error"]
            .as_str()
            .unwrap()
            .contains("invalid trace id")
    );
    let (status, _) = send(&app, get(&format!("/api/traces/{TRACE_ID}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = send(&app, get("/healthz")).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, b"ok".as_slice())
    );
}

/// Trace ids of a search, in result order.
async fn search(app: &TestApp, query: &str) -> Vec<String> {
    let (status, body) = send(app, get(&format!("/api/traces?{query}"))).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{query}: {}",
        String::from_utf8_lossy(&body)
    );
    json(&body)["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|summary| summary["traceId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_filters_are_trace_level() {
    use spanview_core::scenario::{
        self, FIXED_ORDER_TRACE_ID as FIXED, SLOW_ORDER_TRACE_ID as SLOW,
    };
    use spanview_server::store::TraceStore;
    let app = test_app(1 << 20);
    let minute = 60_000_000_000u64;
    let t0 = 1_800_000_000_000_000_000u64;
    app.store
        .write(&scenario::slow_order(SLOW, t0).batch)
        .unwrap();
    app.store
        .write(&scenario::fixed_order(FIXED, t0 + minute).batch)
        .unwrap();

    // Scenario step 1: service = order-service, duration > 2 s.
    assert_eq!(
        search(&app, "service=order-service&minDuration=2s").await,
        [SLOW]
    );
    assert_eq!(
        search(&app, "service=order-service").await,
        [FIXED, SLOW],
        "newest first"
    );
    assert_eq!(search(&app, "maxDuration=1s").await, [FIXED]);
    // A span deep in the trace matches the whole trace.
    assert_eq!(
        search(&app, "service=mysql&operation=Query%20Execution").await,
        [SLOW]
    );
    assert_eq!(
        search(&app, "operation=GET%20%2Fstock").await,
        [FIXED, SLOW]
    );
    assert_eq!(search(&app, "service=nobody").await, Vec::<String>::new());
    // Span attributes (typed values compared as text) and resource attributes.
    assert_eq!(search(&app, "attr=inventory.cache_hit:false").await, [SLOW]);
    assert_eq!(search(&app, "attr=db.rows_examined:1500000").await, [SLOW]);
    assert_eq!(
        search(&app, "attr=service.version:1.4.2&limit=1").await,
        [FIXED]
    );
    assert_eq!(
        search(&app, "attr=inventory.cache_hit:true&attr=db.system:mysql").await,
        [FIXED]
    );
    // Time range on the trace start.
    assert_eq!(search(&app, &format!("start={}", t0 + 1)).await, [FIXED]);
    assert_eq!(search(&app, &format!("end={}", t0)).await, [SLOW]);
    assert_eq!(search(&app, "errors=true").await, Vec::<String>::new());

    let (_, body) = send(&app, get("/api/services")).await;
    let services = json(&body)["services"].clone();
    assert_eq!(services.as_array().unwrap().len(), 8);
    assert_eq!(services[0], "database");
    let (_, body) = send(&app, get("/api/services/mysql/operations")).await;
    assert_eq!(
        json(&body)["operations"],
        serde_json::json!(["Query Execution", "Result Fetch", "SELECT FROM inventory"])
    );

    let (status, body) = send(&app, get("/api/traces?minduration=2s")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        json(&body)["error"]
            .as_str()
            .unwrap()
            .contains("known parameters")
    );
}

#[tokio::test]
async fn a_token_protects_ingest_api_and_metrics_but_not_health_or_ui() {
    let (app, state) = test_app_with(Limits::default(), Some("s3cret"));
    let with_token = |request: Request<Body>, token: &str| {
        let (mut parts, body) = request.into_parts();
        parts.headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        Request::from_parts(parts, body)
    };
    for path in ["/api/traces", "/api/services", "/metrics"] {
        let response = app.router.clone().oneshot(get(path)).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(
            send(&app, with_token(get(path), "wrong")).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            send(&app, with_token(get(path), "s3cret")).await.0,
            StatusCode::OK,
            "{path}"
        );
    }
    let export = || {
        post(
            "application/json",
            None,
            export_json("eee19b7ec3c1b174", "x").into_bytes(),
        )
    };
    assert_eq!(send(&app, export()).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(&app, with_token(export(), "s3cret")).await.0,
        StatusCode::OK
    );
    assert_eq!(send(&app, get("/healthz")).await.0, StatusCode::OK);
    assert_eq!(send(&app, get("/")).await.0, StatusCode::OK);

    // A browser exporter's CORS preflight carries no credentials and must succeed (for an
    // origin allowed by --cors-origins).
    let cors_state =
        state
            .clone()
            .with_origin_policy(spanview_server::api::origin::OriginPolicy::new(
                None,
                &[],
                &["http://localhost:3000".to_owned()],
            ));
    let preflight = Request::options("/v1/traces")
        .header(header::ORIGIN, "http://localhost:3000")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "content-type,authorization",
        )
        .body(Body::empty())
        .unwrap();
    let cors_app = spanview_server::app(cors_state);
    let response = cors_app.clone().oneshot(preflight).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:3000"
    );
    // The 401 itself carries the CORS headers, so the browser exporter can read why.
    let (mut parts, body) = export().into_parts();
    parts
        .headers
        .insert(header::ORIGIN, "http://localhost:3000".parse().unwrap());
    let response = cors_app
        .oneshot(Request::from_parts(parts, body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:3000"
    );
}

#[tokio::test]
async fn the_query_api_is_not_cross_origin() {
    let app = test_app(1 << 20);
    let request = Request::get("/api/traces")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
}

#[tokio::test]
async fn a_saturated_write_path_answers_503_with_retry_after() {
    let limits = Limits {
        max_pending_exports: 2,
        ..Limits::default()
    };
    let (app, state) = test_app_with(limits, None);
    let held = state
        .export_permits
        .clone()
        .acquire_many_owned(2)
        .await
        .unwrap();
    let export = || {
        post(
            "application/json",
            None,
            export_json("eee19b7ec3c1b174", "later").into_bytes(),
        )
    };
    let response = app.router.clone().oneshot(export()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    drop(held);
    assert_eq!(send(&app, export()).await.0, StatusCode::OK);
    assert_eq!(stored_span_names(&app).await, ["later"]);
}

#[tokio::test]
async fn metrics_count_received_rejected_and_stored_spans() {
    let app = test_app(1 << 20);
    let two_spans = export_json("eee19b7ec3c1b174", "kept").replace(
        r#"{"traceId""#,
        r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000000","name":"bad"},{"traceId""#,
    );
    let (status, body) = send(&app, post("application/json", None, two_spans.into_bytes())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        send(&app, post("text/plain", None, b"x".to_vec())).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let (status, body) = send(&app, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    for line in [
        "spanview_spans_received_total 1",
        "spanview_spans_rejected_total 1",
        "spanview_spans_stored_total 1",
        "spanview_export_requests_total{encoding=\"json\",status=\"200\"} 1",
        "spanview_export_requests_total{encoding=\"unknown\",status=\"415\"} 1",
        "spanview_export_duration_seconds_count 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(text.contains("spanview_store_bytes "), "{text}");
}

#[tokio::test]
async fn import_stores_a_file_and_refuses_a_broken_one_precisely() {
    let app = test_app(1 << 20);
    let file = export_json("eee19b7ec3c1b174", "imported");
    let request = Request::post("/api/import")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(file))
        .unwrap();
    let (status, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let outcome = json(&body);
    assert_eq!(outcome["format"], "otlp-json");
    assert_eq!(outcome["traceIds"], serde_json::json!([TRACE_ID]));
    assert_eq!(
        (outcome["nSpans"].as_u64(), outcome["nSpansAdded"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(stored_span_names(&app).await, ["imported"]);

    let broken = Request::post("/api/import")
        .header("x-spanview", "1")
        .body(Body::from("{\"resourceSpans\": ["))
        .unwrap();
    let (status, body) = send(&app, broken).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = json(&body)["error"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("cannot import the file: OTLP JSON: line 1 column"),
        "{message}"
    );
    assert_eq!(stored_span_names(&app).await, ["imported"]);
}

#[tokio::test]
async fn the_services_overview_gives_requests_error_rates_and_latencies() {
    use spanview_core::scenario::{
        self, FIXED_ORDER_TRACE_ID as FIXED, SLOW_ORDER_TRACE_ID as SLOW,
    };
    use spanview_core::service_metrics::{bucket_of, bucket_value};
    use spanview_server::store::TraceStore;
    // The overview reads the per-minute histograms: a percentile is its bucket's middle.
    let histogram = |nanos: u64| bucket_value(bucket_of(nanos));
    let app = test_app(1 << 20);
    let minute = 60_000_000_000u64;
    let t0 = 1_800_000_000_000_000_000u64; // a whole minute
    app.store
        .write(&scenario::slow_order(SLOW, t0).batch)
        .unwrap();
    app.store
        .write(&scenario::fixed_order(FIXED, t0 + minute).batch)
        .unwrap();

    let (status, body) = send(&app, get("/api/services/overview")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let services = json(&body)["services"].as_array().unwrap().clone();
    let inventory = services
        .iter()
        .find(|row| row["service"] == "inventory-service")
        .unwrap();
    assert_eq!(inventory["requests"], 2);
    assert_eq!(inventory["errors"], 0);
    assert_eq!(inventory["errorRate"], 0.0);
    // GET /stock: 60 ms (fixed) and 2800 ms (slow).
    assert_eq!(inventory["p50Nanos"], histogram(60_000_000));
    assert_eq!(inventory["p99Nanos"], histogram(2_800_000_000));
    // mysql's Query Execution has a mysql parent: only SELECT FROM inventory, entered from
    // inventory-service, is a request.
    let mysql = services
        .iter()
        .find(|row| row["service"] == "mysql")
        .unwrap();
    assert_eq!(mysql["requests"], 2);
    assert_eq!(mysql["p99Nanos"], histogram(2_750_000_000));

    // The range counts the minutes it touches: from the fixed order's minute on, only it.
    let (_, body) = send(
        &app,
        get(&format!("/api/services/overview?start={}", t0 + minute)),
    )
    .await;
    let services = json(&body)["services"].as_array().unwrap().clone();
    let inventory = services
        .iter()
        .find(|row| row["service"] == "inventory-service")
        .unwrap();
    assert_eq!(inventory["requests"], 1);
    assert_eq!(inventory["p99Nanos"], histogram(60_000_000));

    let (status, body) = send(&app, get("/api/services/overview?since=1h")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        String::from_utf8_lossy(&body).contains("unknown parameter \\\"since\\\""),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[tokio::test]
async fn ui_files_named_by_content_are_cached_for_good_and_the_others_revalidated() {
    let app = test_app(1 << 20);
    let (_, index) = send(&app, get("/")).await;
    let index = String::from_utf8(index).unwrap();
    let Some(start) = index.find("/spanview-app-") else {
        eprintln!("skipped: this build carries no web UI (build it with ./x build)");
        return;
    };
    let hashed = &index[start..start + index[start..].find(".js").unwrap() + 3];
    let response = app.router.clone().oneshot(get(hashed)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{hashed}");
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    // The format worker's files keep their names from one version to the next.
    let response = app
        .router
        .clone()
        .oneshot(get("/parse-worker_loader.js"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    let etag = response.headers()[header::ETAG].clone();
    let revalidate = Request::get("/parse-worker_loader.js")
        .header(header::IF_NONE_MATCH, etag.clone())
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(revalidate).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()[header::ETAG], etag);
    let stale = Request::get("/parse-worker_loader.js")
        .header(header::IF_NONE_MATCH, "\"0000\"")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, stale).await.0, StatusCode::OK);

    // Compressed for browsers that take gzip, the same bytes once inflated.
    let (_, plain) = send(&app, get(hashed)).await;
    let gzip_request = Request::get(hashed)
        .header(header::ACCEPT_ENCODING, "br, gzip, deflate")
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(gzip_request).await.unwrap();
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let compressed = response.into_body().collect().await.unwrap().to_bytes();
    assert!(compressed.len() < plain.len() / 2);
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&compressed[..]),
        &mut inflated,
    )
    .unwrap();
    assert_eq!(inflated, plain);
    let refused = Request::get(hashed)
        .header(header::ACCEPT_ENCODING, "gzip;q=0")
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(refused).await.unwrap();
    assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
}
