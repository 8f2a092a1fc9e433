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
    let Some(fixtures) = real_fixtures_dir(
        "a_real_file_compared_with_itself_has_no_change_and_multi_trace_files_are_refused",
    ) else {
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

fn post_groups(spanview: &Spanview, body: serde_json::Value) -> (u16, serde_json::Value) {
    let mut response = ureq::post(&spanview.url("/api/compare/groups"))
        .config()
        .http_status_as_error(false)
        .build()
        .send_json(body)
        .expect("POST /api/compare/groups");
    let status = response.status().as_u16();
    (status, response.body_mut().read_json().expect("JSON"))
}

/// Issue 8's group comparison: before the fix half the orders were slow (intermittent: median
/// 350 ms, p95 3200 ms); after it every order is fast (steady at 350 ms).
#[test]
fn groups_of_traces_compare_by_median_and_p95() {
    use spanview_core::scenario::{fixed_order, slow_order};
    let spanview = Spanview::start(&[]);
    let id = |n: u32| format!("{n:032x}");
    let second = 1_000_000_000u64;
    let start = 1_700_000_000 * second;
    for n in 1..=2 {
        spanview.export(&slow_order(&id(n), start + u64::from(n) * 10 * second).batch);
    }
    for n in 3..=7 {
        spanview.export(&fixed_order(&id(n), start + u64::from(n) * 10 * second).batch);
    }
    let (status, json) = post_groups(
        &spanview,
        serde_json::json!({ "before": [id(1), id(2), id(3), id(4)], "after": [id(5), id(6), id(7)] }),
    );
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        (json["tracesBefore"].as_u64(), json["tracesAfter"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(json["totalBefore"]["medianNanos"], 350_000_000u64);
    assert_eq!(json["totalBefore"]["p95Nanos"], 3_200_000_000u64);
    assert_eq!(json["variabilityBefore"], "intermittent");
    assert_eq!(json["totalAfter"]["p95Nanos"], 350_000_000u64);
    assert_eq!(json["variabilityAfter"], "steady");
    assert_eq!(json["p95DeltaNanos"], -2_850_000_000i64);
    let stock = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["name"] == "GET /stock")
        .expect("GET /stock row");
    assert_eq!(stock["before"]["p95Nanos"], 2_800_000_000u64);
    assert_eq!(stock["after"]["p95Nanos"], 60_000_000u64);
    assert_eq!(
        (
            stock["tracesBefore"].as_u64(),
            stock["tracesAfter"].as_u64()
        ),
        (Some(4), Some(3))
    );

    let (status, json) = post_groups(
        &spanview,
        serde_json::json!({ "before": [], "after": [id(5)] }),
    );
    assert_eq!(status, 400);
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .contains("before group has 0 trace ids"),
        "{json}"
    );
    let (status, json) = post_groups(
        &spanview,
        serde_json::json!({ "before": [id(1)], "after": [id(99)] }),
    );
    assert_eq!(status, 404);
    assert!(json["error"].as_str().unwrap().contains(&id(99)), "{json}");
}
