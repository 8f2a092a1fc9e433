use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use super::reference::{reference_json, same_outcome};
use super::*;
use crate::model::{AnyValue, SpanKind, StatusCode};

const TWO_SPANS: &str = r#"{"resourceSpans":[{"resource":{"attributes":[
    {"key":"service.name","value":{"stringValue":"order-service"}}]},
  "scopeSpans":[{"scope":{"name":"demo","version":"1.0"},"spans":[
    {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
     "name":"GET /orders/{id}","kind":2,
     "startTimeUnixNano":"1544712660000000001","endTimeUnixNano":1544712661000000000,
     "attributes":[{"key":"http.status_code","value":{"intValue":"200"}},
                   {"key":"ratio","value":{"doubleValue":0.5}},
                   {"key":"ids","value":{"arrayValue":{"values":[{"intValue":1},{"boolValue":true}]}}}],
     "status":{"code":2,"message":"boom"},"unknownField":42},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000001",
     "parentSpanId":"eee19b7ec3c1b174","name":"SELECT","kind":3,
     "startTimeUnixNano":"1544712660100000000","endTimeUnixNano":"1544712660200000000"}
  ]}]}]}"#;

#[test]
fn decodes_json_mapping_exactly() {
    let decoded = decode_json(TWO_SPANS.as_bytes()).unwrap();
    assert_eq!(decoded.rejected, RejectedSpans::default());
    let batch = decoded.batch;
    assert_eq!(batch.spans.len(), 2);
    let root = &batch.spans[0];
    assert_eq!(
        root.trace_id.to_string(),
        "5b8efff798038103d269b633813fc60c"
    );
    assert_eq!(root.start_nanos, 1_544_712_660_000_000_001);
    assert_eq!(root.end_nanos, 1_544_712_661_000_000_000);
    assert_eq!(root.kind, SpanKind::Server);
    assert_eq!(root.status.code, StatusCode::Error);
    assert_eq!(root.attributes[0].value, AnyValue::Int(200));
    assert_eq!(
        root.attributes[2].value,
        AnyValue::Array(vec![AnyValue::Int(1), AnyValue::Bool(true)])
    );
    assert_eq!(batch.service_of(root), "order-service");
    assert_eq!(batch.spans[1].parent_span_id, Some(root.span_id));
}

#[test]
fn rejects_spans_with_bad_ids_and_keeps_the_rest() {
    let payload = TWO_SPANS.replace("EEE19B7EC3C1B174", "00000000000000000000");
    let decoded = decode_json(payload.as_bytes()).unwrap();
    assert_eq!(decoded.batch.spans.len(), 1);
    assert_eq!(decoded.rejected.count, 1);
    expect_test::expect![[r#"span 0 ("GET /orders/{id}"): span id "00000000000000000000": expected 16 hex digits or base64 of 8 bytes"#]].assert_eq(&decoded.rejected.first_reason.unwrap());
}

#[test]
fn reports_where_json_is_broken() {
    let cases = [
        ("cut after 200 bytes", TWO_SPANS[..200].to_owned()),
        ("not JSON", String::from("hello")),
        (
            "a start time that is not a number",
            TWO_SPANS.replace("\"1544712660100000000\"", "\"soon\""),
        ),
        (
            "an id that is not a string",
            TWO_SPANS.replace("\"EEE19B7EC3C1B174\"", "7"),
        ),
    ];
    let mut messages = String::new();
    for (what, text) in cases {
        let error = decode_json(text.as_bytes()).unwrap_err();
        messages.push_str(&format!("{what}:\n    {error}\n"));
    }
    expect_test::expect![[r#"
        cut after 200 bytes:
            invalid OTLP JSON at line 4 column 17: EOF while parsing a string
        not JSON:
            invalid OTLP JSON at line 1 column 1: expected value
        a start time that is not a number:
            invalid OTLP JSON at line 13 column 31: invalid value: string "soon", expected an unsigned 64-bit integer, as a number or a string
        an id that is not a string:
            invalid OTLP JSON at line 4 column 60: invalid type: integer `7`, expected an id as a hex or base64 string
    "#]].assert_eq(&messages);
}

/// Spans whose times are at the limits: the first and last are kept, the rest rejected.
const TIMES: &str = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000001","name":"last storable",
     "startTimeUnixNano":"9223372036854775806","endTimeUnixNano":"9223372036854775807",
     "events":[{"timeUnixNano":"9223372036854775807","name":"e"}]},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000002","name":"late start",
     "startTimeUnixNano":"9223372036854775808","endTimeUnixNano":"9223372036854775808"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000003","name":"late end",
     "startTimeUnixNano":"1","endTimeUnixNano":"18446744073709551615"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000004","name":"backwards",
     "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712659000000000"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000005","name":"late event",
     "startTimeUnixNano":"1","endTimeUnixNano":"2","events":[{"timeUnixNano":"1"},{"timeUnixNano":"18446744073709551615"}]},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0000000000000006","name":"instant",
     "startTimeUnixNano":"7","endTimeUnixNano":"7"}
]}]}]}"#;

/// Every reason `TIMES` gives, one request per rejected span.
fn time_reasons(decode: impl Fn(&str) -> Decoded) -> Vec<String> {
    let all = decode(TIMES);
    assert_eq!(all.rejected.count, 4);
    let kept: Vec<&str> = all
        .batch
        .spans
        .iter()
        .map(|span| span.name.as_str())
        .collect();
    assert_eq!(kept, ["last storable", "instant"]);
    let document: serde_json::Value = serde_json::from_str(TIMES).unwrap();
    let spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap();
    spans[1..5]
        .iter()
        .map(|span| {
            let mut one = document.clone();
            one["resourceSpans"][0]["scopeSpans"][0]["spans"] = serde_json::json!([span]);
            let decoded = decode(&one.to_string());
            assert_eq!(decoded.batch.spans.len(), 0);
            decoded.rejected.first_reason.unwrap()
        })
        .collect()
}

const TIME_REASONS: [&str; 4] = [
    r#"span 0 ("late start"): start time 9223372036854775808 ns is not below 2^63 ns (the year 2262)"#,
    r#"span 0 ("late end"): end time 18446744073709551615 ns is not below 2^63 ns (the year 2262)"#,
    r#"span 0 ("backwards"): end time 1544712659000000000 ns is before start time 1544712660000000000 ns"#,
    r#"span 0 ("late event"): event 1 time 18446744073709551615 ns is not below 2^63 ns (the year 2262)"#,
];

#[test]
fn json_spans_with_times_out_of_range_are_rejected_with_the_value() {
    assert_eq!(
        time_reasons(|text| decode_json(text.as_bytes()).unwrap()),
        TIME_REASONS
    );
    // The reference conversion checks the same.
    same_outcome(reference_json(TIMES), decode_json(TIMES.as_bytes())).unwrap();
    let all = decode_json(TIMES.as_bytes()).unwrap();
    assert_eq!(
        all.rejected.first_reason.as_deref(),
        Some(
            r#"span 1 ("late start"): start time 9223372036854775808 ns is not below 2^63 ns (the year 2262)"#
        )
    );
    assert_eq!(all.batch.spans[0].end_nanos, (1 << 63) - 1);
}

#[test]
fn protobuf_spans_with_times_out_of_range_are_rejected_with_the_value() {
    let protobuf = |text: &str| {
        let request: ExportTraceServiceRequest = serde_json::from_str(text).unwrap();
        decode_protobuf(&request.encode_to_vec()).unwrap()
    };
    assert_eq!(time_reasons(protobuf), TIME_REASONS);
}

#[test]
fn jaeger_spans_with_times_out_of_range_are_rejected_with_the_value() {
    use crate::formats::{DecodeLimits, decode_file};
    let span = |id: &str, name: &str, start_us: u64, duration_us: u64| {
        serde_json::json!({"traceID": "5b8efff798038103d269b633813fc60c", "spanID": id,
            "operationName": name, "startTime": start_us, "duration": duration_us,
            "processID": "p1"})
    };
    let mut late_log = span("0000000000000004", "late log", 1, 1);
    late_log["logs"] = serde_json::json!([{"timestamp": u64::MAX / 1000, "fields": []}]);
    let file = serde_json::json!({"data": [{"traceID": "5b8efff798038103d269b633813fc60c",
    "processes": {"p1": {"serviceName": "api"}},
    "spans": [
        span("0000000000000001", "last storable", 9_223_372_036_854_774, 1),
        span("0000000000000002", "late start", 9_223_372_036_854_776, 0),
        span("0000000000000003", "late end", 9_223_372_036_854_775, 1),
        late_log,
    ]}]});
    let decoded = decode_file(file.to_string().as_bytes(), &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.batch.spans.len(), 1);
    assert_eq!(decoded.batch.spans[0].end_nanos, 9_223_372_036_854_775_000);
    assert_eq!(decoded.rejected.count, 3);
    assert_eq!(
        decoded.rejected.first_reason.as_deref(),
        Some(
            r#"span 1 ("late start"): start time 9223372036854776000 ns is not below 2^63 ns (the year 2262)"#
        )
    );
    // A start in microseconds so large that nanoseconds overflow u64 is refused too.
    let mut overflow = file;
    overflow["data"][0]["spans"] =
        serde_json::json!([span("0000000000000001", "overflow", u64::MAX, 0)]);
    let decoded = decode_file(overflow.to_string().as_bytes(), &DecodeLimits::default()).unwrap();
    assert_eq!(
        decoded.rejected.first_reason.as_deref(),
        Some(
            r#"span 0 ("overflow"): start time 18446744073709551615 ns is not below 2^63 ns (the year 2262)"#
        )
    );
}

#[test]
fn zipkin_spans_with_times_out_of_range_are_rejected_with_the_value() {
    use crate::formats::{DecodeLimits, decode_file};
    let file = serde_json::json!([
        {"traceId": "5b8efff798038103d269b633813fc60c", "id": "0000000000000001", "name": "ok",
         "timestamp": 1_544_712_660_000_000u64, "duration": 5},
        {"traceId": "5b8efff798038103d269b633813fc60c", "id": "0000000000000002", "name": "late start",
         "timestamp": 9_223_372_036_854_776u64},
        {"traceId": "5b8efff798038103d269b633813fc60c", "id": "0000000000000003", "name": "late end",
         "timestamp": 1, "duration": u64::MAX / 1000},
        {"traceId": "5b8efff798038103d269b633813fc60c", "id": "0000000000000004", "name": "late annotation",
         "timestamp": 1, "annotations": [{"timestamp": 9_223_372_036_854_776u64, "value": "cs"}]},
    ]);
    let decoded = decode_file(file.to_string().as_bytes(), &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.format, crate::formats::Format::ZipkinJson);
    let kept: Vec<&str> = decoded
        .batch
        .spans
        .iter()
        .map(|span| span.name.as_str())
        .collect();
    assert_eq!(kept, ["ok"]);
    assert_eq!(decoded.rejected.count, 3);
    assert_eq!(
        decoded.rejected.first_reason.as_deref(),
        Some(
            r#"span 1 ("late start"): start time 9223372036854776000 ns is not below 2^63 ns (the year 2262)"#
        )
    );
}

#[test]
fn protobuf_round_trip_matches_json() {
    let request: ExportTraceServiceRequest = serde_json::from_str(TWO_SPANS).unwrap();
    let from_protobuf = decode_protobuf(&request.encode_to_vec()).unwrap();
    assert_eq!(from_protobuf, decode_json(TWO_SPANS.as_bytes()).unwrap());
}
