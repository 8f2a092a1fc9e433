//! Issue 4: `spanview import FILE...` stores real OTLP JSON files with the same decoder as the
//! receiver; a broken file is reported by name and the others are still stored.

use std::process::Command;

use spanview_e2e::{Spanview, real_fixtures_dir, spanview_bin};

#[test]
fn import_stores_real_files_and_names_the_broken_one() {
    let Some(fixtures) = real_fixtures_dir() else {
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
        stderr.contains("broken.json: invalid OTLP JSON at line 1 column"),
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
    let Some(fixtures) = real_fixtures_dir() else {
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
