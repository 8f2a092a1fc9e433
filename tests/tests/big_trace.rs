//! Issue 22: a big trace never freezes the page. A 200,001-span trace shaped like real work
//! (items, steps and 180,000 database queries with their statements: repeated siblings and one
//! N+1 pattern, so the work deferred after the first paint reads every span's attributes) is
//! opened in real headless Chromium and scrolled from the first painted frame on, while that
//! work runs; the page's long tasks (PerformanceObserver 'longtask') from the first paint until
//! the analysis is done and the scroll has ended must stay under `LIMIT_MS`.
//!
//! The target is 100 ms for 100,000 spans, measured by `big-trace-bench.mjs`
//! (docs/benchmarks.md, "Big traces"); the test allows 200 ms, because CI's two cores are slower
//! at times, and takes twice the spans so that the old code fails it for certain: before the
//! analysis ran in slices, repeated-work detection was one task of 0.2-0.6 s for 100,001 spans
//! of this shape on the development machine (under 200 ms when the machine was quiet), and the
//! sliced work scales per slice, not per trace.

use spanview_e2e::{Spanview, patterned_trace_part_protobuf, run_node_script_json};

const LIMIT_MS: f64 = 200.0;
const N_SPANS: u64 = 200_001;

#[test]
fn a_200k_span_trace_scrolls_without_long_tasks_while_its_analysis_runs() {
    let spanview = Spanview::start(&[]);
    let trace_id = [0x22u8; 16];
    // In parts, under the server's request size limit.
    for first in (0..N_SPANS).step_by(50_000) {
        let part = first..(first + 50_000).min(N_SPANS);
        let body = patterned_trace_part_protobuf(trace_id, part, N_SPANS);
        let response = ureq::post(&spanview.url("/v1/traces"))
            .header("content-type", "application/x-protobuf")
            .send(&body[..])
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let url = spanview.url(&format!("/trace/{}", "22".repeat(16)));
    let seen = run_node_script_json("big-trace-bench.mjs", &[&url]);
    let seen = &seen[0];
    // The root, 2,000 items, 18,000 steps and 18,000 folded "×10" query groups.
    assert_eq!(seen["rows"], 38_001, "{seen:#}");
    // The analysis finished: one pattern for the 180,000 queries.
    assert_eq!(
        seen["banner"],
        "N+1 query: 180000 × SELECT id, name, price, stock, updated_at FROM items WHERE id = ? \
         AND tenant_id = ? AND status = ?, one after another",
        "{seen:#}"
    );
    let longest = seen["maxLongTaskAfterPaintMs"].as_f64().unwrap();
    assert!(
        longest < LIMIT_MS,
        "a task of {longest} ms after the first paint (limit {LIMIT_MS} ms): {seen:#}"
    );
}
