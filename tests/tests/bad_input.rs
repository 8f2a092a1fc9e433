//! Issue 4: bad and huge input over a real socket. Each is answered precisely, nothing already
//! stored is lost, and the server stays up.

use std::io::Write;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::Value;
use spanview_e2e::Spanview;

const KEPT_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![string_attribute("service.name", "load")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn span(trace_id: [u8; 16], span_number: u64, parent: Option<u64>) -> Span {
    Span {
        trace_id: trace_id.to_vec(),
        span_id: (span_number + 1).to_be_bytes().to_vec(),
        parent_span_id: parent
            .map(|p| (p + 1).to_be_bytes().to_vec())
            .unwrap_or_default(),
        name: format!("op {}", span_number % 50),
        kind: 1,
        start_time_unix_nano: 1_700_000_000_000_000_000 + span_number * 1_000,
        end_time_unix_nano: 1_700_000_000_000_000_000 + span_number * 1_000 + 500,
        ..Default::default()
    }
}

/// POSTs a body and returns (status, body text).
fn post(
    spanview: &Spanview,
    content_type: &str,
    encoding: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut request = ureq::post(&spanview.url("/v1/traces"))
        .config()
        .http_status_as_error(false)
        .build()
        .header("content-type", content_type);
    if let Some(encoding) = encoding {
        request = request.header("content-encoding", encoding);
    }
    let mut response = request.send(body).expect("the server answers");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn store_kept_trace(spanview: &Spanview) {
    let body = serde_json::json!({ "resourceSpans": [{ "scopeSpans": [{ "spans": [{
        "traceId": KEPT_TRACE, "spanId": "b7ad6b7169203331", "name": "kept",
        "startTimeUnixNano": "1", "endTimeUnixNano": "2" }] }] }] });
    let (status, _) = post(
        spanview,
        "application/json",
        None,
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200);
}

fn assert_kept_trace_intact(spanview: &Spanview) {
    let trace = spanview.get_json(&format!("/api/traces/{KEPT_TRACE}"));
    assert_eq!(trace["spans"][0]["name"], "kept");
}

#[test]
fn a_one_gib_gzip_bomb_is_refused_early_and_costs_nothing() {
    let spanview = Spanview::start(&[]);
    store_kept_trace(&spanview);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        encoder.write_all(&zeros).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert!(
        bomb.len() < 20 << 20,
        "the bomb itself fits under the body limit"
    );
    let started = std::time::Instant::now();
    let (status, body) = post(&spanview, "application/x-protobuf", Some("gzip"), &bomb);
    assert_eq!(status, 413, "{body}");
    assert!(
        started.elapsed().as_secs() < 10,
        "inflation must stop at the limit"
    );
    let (status, body) = post(&spanview, "application/json", Some("gzip"), &bomb);
    assert_eq!(status, 413);
    let message: Value = serde_json::from_str(&body).unwrap();
    assert!(
        message["message"]
            .as_str()
            .unwrap()
            .contains("exceeds the limit of 20971520 bytes")
    );
    assert_kept_trace_intact(&spanview);
}

/// Deflate and zstd work like gzip: compressed exports are stored, a zstd bomb stops at the limit,
/// a broken stream is a 400 that names the encoding, and an unknown encoding is a 415.
#[test]
fn deflate_and_zstd_bodies_are_accepted_and_bounded() {
    let spanview = Spanview::start(&[]);
    store_kept_trace(&spanview);
    let export = |trace: &str, span_id: &str| {
        serde_json::json!({ "resourceSpans": [{ "scopeSpans": [{ "spans": [{
            "traceId": trace, "spanId": span_id, "name": "compressed",
            "startTimeUnixNano": "1", "endTimeUnixNano": "2" }] }] }] })
        .to_string()
    };
    let deflate_trace = "5b8efff798038103d269b633813fc60d";
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(export(deflate_trace, "eee19b7ec3c1b174").as_bytes())
        .unwrap();
    let (status, body) = post(
        &spanview,
        "application/json",
        Some("deflate"),
        &encoder.finish().unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    let zstd_trace = "5b8efff798038103d269b633813fc60e";
    let compressed =
        zstd::encode_all(export(zstd_trace, "eee19b7ec3c1b175").as_bytes(), 3).unwrap();
    let (status, body) = post(&spanview, "application/json", Some("zstd"), &compressed);
    assert_eq!(status, 200, "{body}");
    for trace in [deflate_trace, zstd_trace] {
        let stored = spanview.get_json(&format!("/api/traces/{trace}"));
        assert_eq!(stored["spans"][0]["name"], "compressed");
    }

    let bomb = zstd::encode_all(&vec![0u8; 256 << 20][..], 19).unwrap();
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let (status, body) = post(&spanview, "application/x-protobuf", Some("zstd"), &bomb);
    assert_eq!(status, 413, "{body}");
    let (status, body) = post(
        &spanview,
        "application/json",
        Some("zstd"),
        b"not zstd at all",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid zstd body"), "{body}");
    let (status, body) = post(&spanview, "application/json", Some("br"), b"{}");
    assert_eq!(status, 415, "{body}");
    assert!(
        body.contains("send gzip, deflate, zstd or no encoding"),
        "{body}"
    );
    assert_kept_trace_intact(&spanview);
}

/// content type, content encoding, body, expected status, expected words in the answer
type BadRequest = (
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    u16,
    &'static str,
);

#[test]
fn bad_requests_get_precise_errors_and_lose_nothing() {
    let spanview = Spanview::start(&[]);
    store_kept_trace(&spanview);
    let cases: [BadRequest; 6] = [
        (
            "application/json",
            None,
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"#.to_vec(),
            400,
            "invalid OTLP JSON at line 1 column",
        ),
        (
            "text/plain",
            None,
            b"hello".to_vec(),
            415,
            "unsupported content type",
        ),
        (
            "application/json",
            None,
            Vec::new(),
            400,
            "invalid OTLP JSON",
        ),
        (
            "application/json",
            None,
            deeply_nested_attribute(100_000),
            400,
            "recursion limit",
        ),
        (
            "application/x-protobuf",
            None,
            vec![0xff; 64],
            400,
            "invalid OTLP protobuf",
        ),
        (
            "application/json",
            Some("br"),
            b"{}".to_vec(),
            415,
            "unsupported content encoding",
        ),
    ];
    for (content_type, encoding, body, expected_status, expected_message) in cases {
        let (status, answer) = post(&spanview, content_type, encoding, &body);
        assert_eq!(
            status, expected_status,
            "{content_type} {encoding:?}: {answer}"
        );
        assert!(
            answer.contains(expected_message),
            "expected {expected_message:?} in {answer}"
        );
    }
    assert_kept_trace_intact(&spanview);
}

#[test]
fn one_request_of_100k_spans_is_stored_whole() {
    let spanview = Spanview::start(&[]);
    // A wide and deep tree: each span's parent is span n/8.
    let body = spanview_e2e::synthetic_trace_protobuf([0x42; 16], 100_000, 8);
    let (status, answer) = post(&spanview, "application/x-protobuf", None, &body);
    assert_eq!(status, 200, "{answer}");
    let list = spanview.get_json("/api/traces?service=load");
    assert_eq!(list["traces"][0]["nSpans"], 100_000);
    let trace = spanview.get_json(&format!("/api/traces/{}", "42".repeat(16)));
    assert_eq!(trace["spans"].as_array().unwrap().len(), 100_000);
}

#[test]
fn megabyte_attribute_values_are_kept_exactly() {
    let spanview = Spanview::start(&[]);
    let trace_id = [0x17; 16];
    let huge: String = "SELECT 1 -- ".chars().cycle().take(1 << 20).collect();
    let mut big_span = span(trace_id, 0, None);
    big_span.attributes = vec![string_attribute("db.statement", &huge)];
    let body = request(vec![big_span]).encode_to_vec();
    let (status, answer) = post(&spanview, "application/x-protobuf", None, &body);
    assert_eq!(status, 200, "{answer}");
    let trace = spanview.get_json(&format!("/api/traces/{}", "17".repeat(16)));
    let stored = trace["spans"][0]["attributes"][0]["value"]["stringValue"]
        .as_str()
        .unwrap();
    assert_eq!(stored.len(), huge.len());
    assert_eq!(stored, huge);
}

/// A well-formed export whose one attribute nests `depth` maps deep (a stack-overflow attempt).
fn deeply_nested_attribute(depth: usize) -> Vec<u8> {
    let opening = r#"{"kvlistValue":{"values":[{"key":"k","value":"#.repeat(depth);
    let closing = "}]}}".repeat(depth);
    format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{KEPT_TRACE}","spanId":"1111111111111111","name":"deep","attributes":[{{"key":"deep","value":{opening}{{"stringValue":"x"}}{closing}}}]}}]}}]}}]}}"#
    )
    .into_bytes()
}
