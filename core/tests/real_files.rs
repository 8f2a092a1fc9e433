//! Decoding real trace files written by other projects (Jaeger, Zipkin, OpenTelemetry, otel-tui),
//! from `../shared/fixtures/real/` (see its README for what each file exercises). Skipped loudly where
//! that folder is absent; failed when `CI` is set (`tests/src/skip.rs`).

use std::collections::HashSet;
use std::io::Write;

use spanview_core::formats::{DecodeLimits, FileError, Format, decode_file, jaeger, otlp};
use spanview_core::{AnyValue, Batch, SpanTree, StatusCode};

#[path = "../../tests/src/skip.rs"]
mod skip;

fn fixture(name: &str) -> Option<Vec<u8>> {
    let dir = skip::real_fixtures_dir(&format!("core/tests/real_files.rs ({name})"))?;
    Some(std::fs::read(dir.join(name)).unwrap_or_else(|error| panic!("{name}: {error}")))
}

fn trace_count(batch: &Batch) -> usize {
    batch
        .spans
        .iter()
        .map(|span| span.trace_id)
        .collect::<HashSet<_>>()
        .len()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn every_real_file_decodes_with_the_expected_format_and_counts() {
    let cases: [(&str, Format, usize, usize); 14] = [
        ("otlp-proto-examples-trace.json", Format::OtlpJson, 1, 1),
        (
            "otlp-proto-examples-trace-int64-numbers.json",
            Format::OtlpJson,
            1,
            1,
        ),
        (
            "otlp-jaeger-memstore-otel_traces_01.json",
            Format::OtlpJson,
            4,
            2,
        ),
        (
            "otlp-jaeger-apiv3-hotrod-getTrace-response.json",
            Format::JaegerApiV3,
            40,
            1,
        ),
        ("otlp-jaeger-ui-otlp2jaeger-in.json", Format::OtlpJson, 2, 1),
        (
            "otlpjsonl-jaeger-ui-otlp2jaeger-multi-in.jsonl",
            Format::OtlpJsonLines,
            4,
            1,
        ),
        (
            "otlpjsonl-otel-tui-demo-mixed-signals.jsonl",
            Format::OtlpJsonLines,
            547,
            141,
        ),
        ("jaeger-ui-otlp2jaeger-out.json", Format::JaegerJson, 2, 1),
        (
            "jaeger-ui-oltp2jaeger-multi-out.json",
            Format::JaegerJson,
            4,
            1,
        ),
        (
            "jaeger-ui-issue115-follows-from.json",
            Format::JaegerJson,
            2,
            1,
        ),
        ("jaeger-uimodel-ui_01.json", Format::JaegerJson, 5, 1),
        ("zipkin2-lens-skew.json", Format::ZipkinJson, 4, 1),
        ("zipkin2-lens-messaging2.json", Format::ZipkinJson, 11, 1),
        (
            "zipkin2-lens-smartthings-oauth-authorization.json",
            Format::ZipkinJson,
            175,
            1,
        ),
    ];
    for (name, format, n_spans, n_traces) in cases {
        let Some(bytes) = fixture(name) else { return };
        let decoded = decode_file(&bytes, &DecodeLimits::default())
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(decoded.format, format, "{name}");
        assert_eq!(decoded.batch.spans.len(), n_spans, "{name}");
        assert_eq!(trace_count(&decoded.batch), n_traces, "{name}");
        assert_eq!(decoded.rejected.count, 0, "{name}: {:?}", decoded.rejected);
        // Every span lands in the tree, whatever the file's parents say.
        let tree = SpanTree::build(&decoded.batch.spans);
        assert_eq!(tree.rows.len(), n_spans, "{name}");
        // The same file gzip-compressed decodes identically.
        let gzipped = decode_file(&gzip(&bytes), &DecodeLimits::default()).unwrap();
        assert!(gzipped.gzipped, "{name}");
        assert_eq!(gzipped.batch, decoded.batch, "{name}");
    }
}

#[test]
fn int64_times_as_numbers_or_strings_decode_to_the_same_nanosecond() {
    let (Some(strings), Some(numbers)) = (
        fixture("otlp-proto-examples-trace.json"),
        fixture("otlp-proto-examples-trace-int64-numbers.json"),
    ) else {
        return;
    };
    let limits = DecodeLimits::default();
    let from_strings = decode_file(&strings, &limits).unwrap().batch;
    let from_numbers = decode_file(&numbers, &limits).unwrap().batch;
    assert_eq!(from_strings.spans[0].start_nanos, 1_544_712_660_000_000_000);
    assert_eq!(from_strings.spans, from_numbers.spans);
    // Upper-case hex ids are accepted and kept as lower case.
    assert_eq!(
        from_strings.spans[0].trace_id.to_string(),
        "5b8efff798038103d269b633813fc60c"
    );
}

#[test]
fn the_collector_file_skips_metrics_and_logs_lines() {
    let Some(bytes) = fixture("otlpjsonl-otel-tui-demo-mixed-signals.jsonl") else {
        return;
    };
    let decoded = decode_file(&bytes, &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.skipped_lines, 55);
    let errors = decoded
        .batch
        .spans
        .iter()
        .filter(|span| span.status.code == StatusCode::Error)
        .count();
    assert_eq!(errors, 107);
}

#[test]
fn jaeger_tags_references_and_logs_are_kept() {
    let Some(bytes) = fixture("jaeger-uimodel-ui_01.json") else {
        return;
    };
    let batch = decode_file(&bytes, &DecodeLimits::default()).unwrap().batch;
    let typed = batch
        .spans
        .iter()
        .find(|span| span.name == "some-operation")
        .unwrap();
    let tag = |key: &str| {
        typed
            .attributes
            .iter()
            .find(|attribute| attribute.key == key)
            .map(|attribute| attribute.value.clone())
    };
    // Beyond JavaScript's safe integers, given as a string: kept exact.
    assert_eq!(
        tag("javascript_limit"),
        Some(AnyValue::Int(9_223_372_036_854_775_222))
    );
    assert_eq!(tag("temperature"), Some(AnyValue::Double(72.5)));
    assert_eq!(typed.status.code, StatusCode::Error, "error=true tag");
    assert_eq!(batch.service_of(typed), "service-x");
    // Span 4: CHILD_OF another trace, CHILD_OF its parent, FOLLOWS_FROM: one parent, two links.
    let four = batch
        .spans
        .iter()
        .find(|span| span.span_id.to_string() == "0000000000000004")
        .unwrap();
    assert_eq!(
        four.parent_span_id.map(|id| id.to_string()).as_deref(),
        Some("0000000000000002")
    );
    assert_eq!(four.links.len(), 2);
    let logged = batch
        .spans
        .iter()
        .find(|span| span.name == "test-general-conversion")
        .unwrap();
    assert_eq!(logged.events[0].name, "some-event");
    assert_eq!(logged.events[1].name, "log");
}

#[test]
fn a_lone_follows_from_reference_is_the_parent() {
    let Some(bytes) = fixture("jaeger-ui-issue115-follows-from.json") else {
        return;
    };
    let batch = decode_file(&bytes, &DecodeLimits::default()).unwrap().batch;
    let tree = SpanTree::build(&batch.spans);
    assert_eq!(
        tree.rows[1].depth, 1,
        "the async child hangs under its parent"
    );
}

#[test]
fn zipkin_shared_client_and_server_halves_are_two_rows() {
    let Some(bytes) = fixture("zipkin2-lens-skew.json") else {
        return;
    };
    let batch = decode_file(&bytes, &DecodeLimits::default()).unwrap().batch;
    let ids: HashSet<_> = batch.spans.iter().map(|span| span.span_id).collect();
    assert_eq!(ids.len(), 4, "the shared id became two distinct spans");
    let tree = SpanTree::build(&batch.spans);
    let depths: Vec<u32> = tree.rows.iter().map(|row| row.depth).collect();
    assert_eq!(
        depths.iter().filter(|depth| **depth == 0).count(),
        1,
        "{depths:?}"
    );
}

#[test]
fn the_negative_dropped_counts_file_gets_a_precise_error() {
    let Some(bytes) = fixture("otlp-bad-jaeger-ui-negative-dropped-counts.json") else {
        return;
    };
    let error = decode_file(&bytes, &DecodeLimits::default()).unwrap_err();
    let FileError::Syntax {
        format,
        line,
        message,
        ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(*format, "OTLP JSON");
    assert!(*line > 1 && message.contains("-1"), "{error}");
}

#[test]
fn broken_and_unknown_files_say_what_and_where() {
    let limits = DecodeLimits::default();
    assert_eq!(decode_file(b"  \n", &limits), Err(FileError::Empty));
    let truncated = br#"{"data":[{"traceID":"1","spans":[{"traceID":"1","#;
    let message = decode_file(truncated, &limits).unwrap_err().to_string();
    assert!(
        message.starts_with("Jaeger JSON: line 1 column"),
        "{message}"
    );
    let wrong = br#"{"data":[{"traceID":"1","spans":[{"traceID":"1"}]}]}"#;
    let message = decode_file(wrong, &limits).unwrap_err().to_string();
    assert!(
        message.starts_with("Jaeger JSON: line 1") && message.contains("spanID"),
        "{message}"
    );
    let message = decode_file(b"hello, world", &limits)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("unknown format") && message.contains("Zipkin v2 JSON"),
        "{message}"
    );
    let message = decode_file(br#"{"name": "x"}"#, &limits)
        .unwrap_err()
        .to_string();
    assert!(message.contains("unknown format"), "{message}");
    let bad_line = b"{\"resourceSpans\":[]}\n{\"resourceSpans\":[}\n";
    let message = decode_file(bad_line, &limits).unwrap_err().to_string();
    assert!(
        message.starts_with("OTLP JSON Lines: line 2 column"),
        "{message}"
    );
}

#[test]
fn a_gzip_bomb_stops_at_the_limit() {
    let bomb = gzip(&vec![b' '; 4 << 20]);
    let limits = DecodeLimits {
        max_decompressed_bytes: 1 << 20,
    };
    assert_eq!(
        decode_file(&bomb, &limits),
        Err(FileError::TooLarge { limit: 1 << 20 })
    );
    let message = decode_file(&bomb[..bomb.len() / 2], &DecodeLimits::default())
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("gzip:"), "{message}");
}

#[test]
fn exports_read_back_to_the_same_spans() {
    for name in [
        "otlp-jaeger-memstore-otel_traces_01.json",
        "otlp-jaeger-apiv3-hotrod-getTrace-response.json",
        "jaeger-uimodel-ui_01.json",
        "zipkin2-lens-smartthings-oauth-authorization.json",
    ] {
        let Some(bytes) = fixture(name) else { return };
        let limits = DecodeLimits::default();
        let original = decode_file(&bytes, &limits).unwrap().batch;
        // OTLP JSON and protobuf keep everything, to the nanosecond.
        let via_json = decode_file(otlp::encode_json(&original).as_bytes(), &limits).unwrap();
        assert_eq!(via_json.format, Format::OtlpJson);
        assert_eq!(
            canonical(&via_json.batch),
            canonical(&original),
            "{name} via OTLP JSON"
        );
        let via_protobuf = decode_file(&otlp::encode_protobuf(&original), &limits).unwrap();
        assert_eq!(
            canonical(&via_protobuf.batch),
            canonical(&original),
            "{name} via protobuf"
        );
        // Jaeger JSON keeps what Jaeger can express (microseconds): an export of an export is
        // stable.
        let once = decode_file(jaeger::encode_json(&original).as_bytes(), &limits).unwrap();
        assert_eq!(once.format, Format::JaegerJson);
        assert_eq!(once.batch.spans.len(), original.spans.len(), "{name}");
        let twice = decode_file(jaeger::encode_json(&once.batch).as_bytes(), &limits).unwrap();
        assert_eq!(
            canonical(&twice.batch),
            canonical(&once.batch),
            "{name} via Jaeger"
        );
    }
}

/// Spans with their service and scope, independent of span order and of how resources and
/// scopes are tabled (an export groups spans by resource).
fn canonical(batch: &Batch) -> Vec<String> {
    let mut spans: Vec<String> = batch
        .spans
        .iter()
        .map(|span| {
            let mut span = span.clone();
            let resource = batch.resources.get(span.resource_idx as usize).cloned();
            let scope = batch.scopes.get(span.scope_idx as usize).cloned();
            span.resource_idx = 0;
            span.scope_idx = 0;
            format!("{span:?} {resource:?} {scope:?}")
        })
        .collect();
    spans.sort();
    spans
}

/// The direct OTLP JSON decoder (what uploads and the receiver use) reads every real OTLP file
/// exactly as `opentelemetry-proto`'s generated types do: the same spans and rejections, or an
/// error from both.
#[test]
fn the_direct_otlp_decoders_agree_with_the_generated_types_on_real_files() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    let files = [
        "otlp-bad-jaeger-ui-negative-dropped-counts.json",
        "otlp-jaeger-apiv3-hotrod-getTrace-response.json",
        "otlp-jaeger-memstore-otel_traces_01.json",
        "otlp-jaeger-ui-otlp2jaeger-in.json",
        "otlp-proto-examples-trace-int64-numbers.json",
        "otlp-proto-examples-trace.json",
        "otlpjsonl-jaeger-ui-otlp2jaeger-multi-in.jsonl",
        "otlpjsonl-otel-tui-demo-mixed-signals.jsonl",
    ];
    let mut compared = 0;
    for name in files {
        let Some(bytes) = fixture(name) else { return };
        let text = String::from_utf8(bytes).unwrap();
        let documents: Vec<String> = if name.ends_with(".jsonl") {
            text.lines()
                .filter(|line| line.contains("\"resourceSpans\""))
                .map(str::to_owned)
                .collect()
        } else if name.contains("apiv3") {
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            vec![value["result"].to_string()]
        } else {
            vec![text]
        };
        for document in documents {
            let reference = serde_json::from_str::<ExportTraceServiceRequest>(&document)
                .map(otlp::reference::from_request)
                .ok();
            let direct = otlp::decode_json(document.as_bytes()).ok();
            assert_eq!(direct, reference, "{name}");
            // The same request in protobuf, as prost writes it (every field the file has).
            if let Ok(request) = serde_json::from_str::<ExportTraceServiceRequest>(&document) {
                let protobuf = prost::Message::encode_to_vec(&request);
                let direct = otlp::decode_protobuf(&protobuf).ok();
                assert_eq!(direct, reference, "{name} in protobuf");
            }
            compared += 1;
        }
    }
    assert!(compared >= 8, "{compared} documents compared");
}
