//! Issue 8: `spanview compare` on stored traces and files, its report formats and its CI gate's
//! exit codes; `POST /api/compare` gives the same figures.

use std::process::{Command, Output};

use spanview_core::scenario::{FIXED_ORDER_TRACE_ID as FIXED, SLOW_ORDER_TRACE_ID as SLOW};
use spanview_e2e::{Spanview, real_fixtures_dir, spanview_bin};

fn compare(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(spanview_bin())
        .arg("compare")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap()
}

#[test]
fn the_fix_is_proven_and_a_regression_fails_the_build() {
    let spanview = Spanview::start(&["--demo"]);
    let data_dir = spanview.data_dir.clone();

    let output = compare(&data_dir, &[SLOW, FIXED]);
    assert_eq!(output.status.code(), Some(0));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.starts_with("total: 3200 ms -> 350 ms (-2850 ms, -89.1 %)"),
        "{table}"
    );
    assert!(
        table.contains("inventory-service: GET /stock         2800 ms   60 ms  -2740 ms   -97.9 %"),
        "{table}"
    );
    assert!(table.contains("inventory.cache_hit: false -> true"));

    let output = compare(&data_dir, &[SLOW, FIXED, "--format", "markdown"]);
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(
        markdown.contains(
            "| mysql: SELECT FROM inventory | 2750 ms | 8 ms | -2742 ms | -99.7 % | 1 -> 1 |"
        ),
        "{markdown}"
    );

    let output = compare(
        &data_dir,
        &[SLOW, FIXED, "--format", "json", "--fail-if-slower", "5"],
    );
    assert_eq!(output.status.code(), Some(0), "faster passes the gate");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["totalBeforeNanos"], 3_200_000_000u64);
    assert_eq!(json["deltaNanos"], -2_850_000_000i64);

    // Swapped, the change is a regression: exit status 1 and a message.
    let output = compare(&data_dir, &[FIXED, SLOW, "--fail-if-slower", "10"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("+814.3 % slower"));
    // Within the allowed slowdown the gate passes.
    assert_eq!(
        compare(&data_dir, &[FIXED, SLOW, "--fail-if-slower", "1000"])
            .status
            .code(),
        Some(0)
    );

    // Bad input: exit status 2 with a reason.
    let output = compare(&data_dir, &["no-such-thing", FIXED]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("neither a file nor a trace id"));

    // The API gives the same figures.
    let mut response = ureq::post(&spanview.url("/api/compare"))
        .send_json(serde_json::json!({ "before": SLOW, "after": FIXED }))
        .unwrap();
    let comparison: serde_json::Value = response.body_mut().read_json().unwrap();
    assert_eq!(comparison["totalAfterNanos"], 350_000_000u64);
    assert_eq!(comparison["queriesBefore"], 3);
}

#[test]
fn a_real_file_compared_with_itself_has_no_change_and_multi_trace_files_are_refused() {
    let Some(fixtures) = real_fixtures_dir() else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let example = fixtures.join("otlp-proto-examples-trace.json");
    let example = example.to_str().unwrap();
    let output = compare(scratch.path(), &[example, example, "--fail-if-slower", "0"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("(0, 0 %)"));

    let two_traces = fixtures.join("otlp-jaeger-memstore-otel_traces_01.json");
    let output = compare(scratch.path(), &[two_traces.to_str().unwrap(), example]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("holds 2 traces"));
}
