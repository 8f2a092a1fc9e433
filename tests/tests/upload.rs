//! Issue 7: trace files opened in the browser (parsed in a Web Worker by core's decoders), shown in
//! the waterfall, saved to the server and exported, in real headless Chromium.

use spanview_e2e::{Spanview, real_fixtures_dir, run_node_script_json};

#[test]
fn files_open_in_the_browser_and_a_broken_one_says_what_and_where() {
    let Some(fixtures) =
        real_fixtures_dir("files_open_in_the_browser_and_a_broken_one_says_what_and_where")
    else {
        return;
    };
    let spanview = Spanview::start(&[]);
    let scratch = tempfile::tempdir().unwrap();
    let broken = scratch.path().join("broken-jaeger.json");
    std::fs::write(
        &broken,
        r#"{"data":[{"traceID":"1","spans":[{"traceID":"1"}]}]}"#,
    )
    .unwrap();
    let exported = scratch.path().join("exported.json");
    let zipkin = fixtures.join("zipkin2-lens-smartthings-oauth-authorization.json");
    let collector = fixtures.join("otlpjsonl-otel-tui-demo-mixed-signals.jsonl");
    let seen = run_node_script_json(
        "upload-files.mjs",
        &[
            &spanview.base_url,
            exported.to_str().unwrap(),
            zipkin.to_str().unwrap(),
            collector.to_str().unwrap(),
            broken.to_str().unwrap(),
        ],
    );
    let entries = seen["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{seen:#}");
    assert_eq!(entries[0]["status"], "Zipkin v2 JSON: 175 spans in 1 trace");
    assert_eq!(
        entries[1]["status"],
        "OTLP JSON Lines: 547 spans in 141 traces; 55 metrics/logs lines skipped"
    );
    assert_eq!(entries[1]["traces"], 20, "the first 20 traces are listed");
    assert_eq!(
        entries[2]["error"],
        "broken-jaeger.json: Jaeger JSON: line 1 column 48: missing field `spanID`"
    );
    // The uploaded trace opened in the waterfall, from the browser's memory.
    assert_eq!(seen["traceTitle"], "datamgmt: get /oauth/authorize");
    assert_eq!(seen["traceSpans"], "175");
    assert_eq!(seen["tracePath"], "/trace/00000000000000008ce82b2e9ed820ba");

    // "Save to server" stored it; the export re-imports to the same spans.
    assert_eq!(seen["saved"], "saved (175 new spans)");
    let stored = spanview.get_json("/api/traces/00000000000000008ce82b2e9ed820ba");
    assert_eq!(stored["spans"].as_array().unwrap().len(), 175);
    assert_eq!(
        seen["exportName"],
        "trace-00000000000000008ce82b2e9ed820ba.otlp.json"
    );
    let bytes = std::fs::read(&exported).unwrap();
    let decoded = spanview_core::formats::decode_file(&bytes, &Default::default()).unwrap();
    assert_eq!(decoded.format, spanview_core::formats::Format::OtlpJson);
    let mut exported_spans = decoded.batch.spans;
    let original =
        spanview_core::formats::decode_file(&std::fs::read(&zipkin).unwrap(), &Default::default())
            .unwrap()
            .batch
            .spans;
    assert_eq!(exported_spans.len(), original.len());
    exported_spans.sort_by_key(|span| span.span_id.to_hex());
    let mut original = original;
    original.sort_by_key(|span| span.span_id.to_hex());
    for (exported, original) in exported_spans.iter().zip(&original) {
        assert_eq!(
            (
                exported.span_id,
                exported.parent_span_id,
                &exported.name,
                exported.start_nanos,
                exported.end_nanos,
                &exported.attributes
            ),
            (
                original.span_id,
                original.parent_span_id,
                &original.name,
                original.start_nanos,
                original.end_nanos,
                &original.attributes
            )
        );
    }
}

#[test]
fn a_large_file_shows_how_far_its_parse_has_come() {
    let spanview = Spanview::start(&[]);
    let scratch = tempfile::tempdir().unwrap();
    // One 60,000-span trace as OTLP JSON, about 14 MB: a few hundred milliseconds in the worker.
    let protobuf = spanview_e2e::synthetic_trace_protobuf([7; 16], 60_000, 8);
    let batch = spanview_core::formats::decode_file(&protobuf, &Default::default())
        .unwrap()
        .batch;
    let file = scratch.path().join("large.otlp.json");
    std::fs::write(&file, spanview_core::formats::otlp::encode_json(&batch)).unwrap();

    let seen = run_node_script_json(
        "upload-progress.mjs",
        &[&spanview.base_url, file.to_str().unwrap()],
    );
    assert_eq!(
        seen["status"], "OTLP JSON: 60000 spans in 1 trace",
        "{seen:#}"
    );
    let shown: Vec<(Option<f64>, String)> = seen["parsing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let status = entry["status"].as_str().unwrap().to_owned();
            (entry["value"].as_f64(), status)
        })
        .collect();
    // The bar fills as the worker reports, and the text says the same figure.
    let percents: Vec<f64> = shown.iter().filter_map(|(value, _)| *value).collect();
    let between: Vec<&f64> = percents
        .iter()
        .filter(|percent| **percent > 0.0 && **percent < 100.0)
        .collect();
    assert!(between.len() >= 3, "the parse went by unseen: {shown:?}");
    assert!(
        percents.windows(2).all(|pair| pair[0] <= pair[1]),
        "the bar went back: {shown:?}"
    );
    for (value, status) in &shown {
        if let Some(percent) = value {
            assert_eq!(status, &format!("parsing {percent} %"));
        }
    }
}

/// Issue 24: the opened-files panel is where the user looks (above the list, in view), and a file
/// opened on its own that holds one trace opens that trace at once; two files open none.
#[test]
fn opened_files_show_above_the_list_and_a_single_trace_opens_at_once() {
    let Some(fixtures) =
        real_fixtures_dir("opened_files_show_above_the_list_and_a_single_trace_opens_at_once")
    else {
        return;
    };
    let spanview = Spanview::start(&["--demo"]);
    let zipkin = fixtures.join("zipkin2-lens-smartthings-oauth-authorization.json");
    let collector = fixtures.join("otlpjsonl-otel-tui-demo-mixed-signals.jsonl");
    let seen = run_node_script_json(
        "upload-in-view.mjs",
        &[
            &spanview.base_url,
            zipkin.to_str().unwrap(),
            collector.to_str().unwrap(),
        ],
    );
    assert!(
        seen["panelTopWhileOpening"].as_i64().unwrap() < 200,
        "{seen:#}"
    );
    assert_eq!(seen["panelAboveList"], true, "{seen:#}");
    assert_eq!(seen["panelBottomInView"], true, "{seen:#}");
    assert_eq!(
        seen["pathAfterTwo"], "/",
        "two files open no trace by themselves"
    );
    assert_eq!(seen["panelGone"], true);
    assert_eq!(
        seen["openedPath"],
        "/trace/00000000000000008ce82b2e9ed820ba"
    );
    assert_eq!(seen["openedTitle"], "datamgmt: get /oauth/authorize");
}

/// Issue 24: opened files are kept in the browser (IndexedDB) until closed: a reload lists them
/// again, a link to a trace only such a file holds opens after a reload, a closed file is gone.
#[test]
fn opened_files_are_kept_in_the_browser_until_closed() {
    let Some(fixtures) = real_fixtures_dir("opened_files_are_kept_in_the_browser_until_closed")
    else {
        return;
    };
    let spanview = Spanview::start(&["--demo"]);
    let zipkin = fixtures.join("zipkin2-lens-smartthings-oauth-authorization.json");
    let collector = fixtures.join("otlpjsonl-otel-tui-demo-mixed-signals.jsonl");
    let zipkin_trace = "00000000000000008ce82b2e9ed820ba";
    let seen = run_node_script_json(
        "upload-kept.mjs",
        &[
            &spanview.base_url,
            zipkin.to_str().unwrap(),
            collector.to_str().unwrap(),
            zipkin_trace,
        ],
    );
    let both = serde_json::json!([
        "zipkin2-lens-smartthings-oauth-authorization.json",
        "otlpjsonl-otel-tui-demo-mixed-signals.jsonl"
    ]);
    assert_eq!(seen["opened"], both, "{seen:#}");
    assert_eq!(seen["afterReload"], both, "{seen:#}");
    assert_eq!(
        seen["traceTitleAfterReload"],
        "datamgmt: get /oauth/authorize"
    );
    assert_eq!(
        seen["afterClose"],
        serde_json::json!(["otlpjsonl-otel-tui-demo-mixed-signals.jsonl"])
    );
    assert_ne!(
        seen["closedTrace"], "datamgmt: get /oauth/authorize",
        "a closed file's trace is gone: {seen:#}"
    );
}
