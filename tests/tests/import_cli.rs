//! Issues 4 and 7: `spanview import FILE...` stores real trace files with the same decoders as the
//! receiver and the upload; a broken file is reported by name and the others are still stored.

use std::process::Command;

use spanview_e2e::{Spanview, real_fixtures_dir, spanview_bin};

#[test]
fn import_stores_real_files_and_names_the_broken_one() {
    let Some(fixtures) = real_fixtures_dir("import_stores_real_files_and_names_the_broken_one")
    else {
        return;
    };
    let data_dir = tempfile::tempdir().unwrap();
    let broken = data_dir.path().join("broken.json");
    std::fs::write(&broken, "{\"resourceSpans\": [{").unwrap();
    let output = Command::new(spanview_bin())
        .arg("import")
        .arg("--data-dir")
        .arg(data_dir.path().join("store"))
        .arg(fixtures.join("otlp-proto-examples-trace.json"))
        .arg(&broken)
        .arg(fixtures.join("otlp-jaeger-memstore-otel_traces_01.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "a failed file makes the command fail"
    );
    assert!(
        stderr.contains("broken.json: OTLP JSON: line 1 column"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 of 3 files could not be imported"),
        "{stderr}"
    );
    assert!(
        stdout.contains("otlp-proto-examples-trace.json: 1 spans in 1 traces (otlp-json)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("otel_traces_01.json: 4 spans in 2 traces"),
        "{stdout}"
    );

    // Served afterwards: ids lower-case, the int64 start time exact.
    let spanview = Spanview::start_in(&data_dir.path().join("store"), &[]);
    let trace = spanview.get_json("/api/traces/5b8efff798038103d269b633813fc60c");
    assert_eq!(trace["spans"][0]["spanId"], "eee19b7ec3c1b174");
    assert_eq!(trace["spans"][0]["startNanos"], "1544712660000000000");
    let list = spanview.get_json("/api/traces");
    assert_eq!(list["traces"].as_array().unwrap().len(), 3);
}

#[test]
fn the_same_trace_as_json_numbers_and_strings_is_identical() {
    let Some(fixtures) =
        real_fixtures_dir("the_same_trace_as_json_numbers_and_strings_is_identical")
    else {
        return;
    };
    let mut stored = Vec::new();
    for file in [
        "otlp-proto-examples-trace.json",
        "otlp-proto-examples-trace-int64-numbers.json",
    ] {
        let data_dir = tempfile::tempdir().unwrap();
        let status = Command::new(spanview_bin())
            .args(["import", "--data-dir"])
            .arg(data_dir.path())
            .arg(fixtures.join(file))
            .status()
            .unwrap();
        assert!(status.success(), "{file}");
        let spanview = Spanview::start_in(data_dir.path(), &[]);
        stored.push(spanview.get_json("/api/traces/5b8efff798038103d269b633813fc60c"));
    }
    assert_eq!(stored[0]["spans"][0]["startNanos"], "1544712660000000000");
    assert_eq!(
        stored[0]["spans"][0]["startNanos"],
        stored[1]["spans"][0]["startNanos"]
    );
    assert_eq!(
        stored[0]["spans"][0]["endNanos"],
        stored[1]["spans"][0]["endNanos"]
    );
}

#[test]
fn jaeger_zipkin_collector_and_gzip_files_import_by_content() {
    use std::io::Write;
    let Some(fixtures) =
        real_fixtures_dir("jaeger_zipkin_collector_and_gzip_files_import_by_content")
    else {
        return;
    };
    let data_dir = tempfile::tempdir().unwrap();
    // A Zipkin file, gzip-compressed and named as if it were something else: content decides.
    let zipkin =
        std::fs::read(fixtures.join("zipkin2-lens-smartthings-oauth-authorization.json")).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&zipkin).unwrap();
    let gzipped = data_dir.path().join("download.bin");
    std::fs::write(&gzipped, encoder.finish().unwrap()).unwrap();
    let output = Command::new(spanview_bin())
        .arg("import")
        .arg("--data-dir")
        .arg(data_dir.path().join("store"))
        .arg(fixtures.join("jaeger-uimodel-ui_01.json"))
        .arg(fixtures.join("otlpjsonl-otel-tui-demo-mixed-signals.jsonl"))
        .arg(&gzipped)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("ui_01.json: 5 spans in 1 traces (jaeger-json)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("mixed-signals.jsonl: 547 spans in 141 traces (otlp-jsonl)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("download.bin: 175 spans in 1 traces (zipkin-json)"),
        "{stdout}"
    );

    // Served: the Zipkin trace's padded id, and Jaeger's int64 tag beyond 2^53 exact.
    let spanview = Spanview::start_in(&data_dir.path().join("store"), &[]);
    let trace = spanview.get_json("/api/traces/00000000000000008ce82b2e9ed820ba");
    assert_eq!(trace["spans"].as_array().unwrap().len(), 175);
    let jaeger = spanview.get_json("/api/traces/00000000000000000000000000000001");
    let tagged = jaeger["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|span| span["name"] == "some-operation")
        .unwrap();
    let limit = tagged["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|attribute| attribute["key"] == "javascript_limit")
        .unwrap();
    assert_eq!(limit["value"]["intValue"], 9_223_372_036_854_775_222_i64);
}
