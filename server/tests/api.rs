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
    _dir: tempfile::TempDir,
}

fn test_app(max_body_bytes: usize) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    TestApp {
        router: app(AppState {
            store,
            limits: Limits { max_body_bytes },
        }),
        _dir: dir,
    }
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
