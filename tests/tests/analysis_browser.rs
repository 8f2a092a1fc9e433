//! Issue 22: the analysis on real traces in headless Chromium: the clock-skew marker, the
//! "Recorded times" toggle and the trace-health list on Zipkin Lens's skew fixture, and the
//! repeated-calls banner (not "N+1 query") on Jaeger's HotROD trace. Both files come from
//! `../shared/fixtures/real` (skipped loudly where absent, failed under `CI`).

use spanview_e2e::{Spanview, real_fixtures_dir, rendered_dom};

fn fixture(name: &str) -> Option<String> {
    let dir = real_fixtures_dir(&format!("analysis_browser ({name})"))?;
    Some(std::fs::read_to_string(dir.join(name)).unwrap())
}

fn post(spanview: &Spanview, path: &str, body: &str) {
    let response = ureq::post(&spanview.url(path))
        .header("content-type", "application/json")
        .send(body)
        .unwrap_or_else(|error| panic!("POST {path}: {error}"));
    assert!(
        response.status().is_success(),
        "POST {path}: {}",
        response.status()
    );
}

#[test]
fn rows_moved_for_clock_skew_are_marked_and_listed_in_trace_health() {
    let Some(skew) = fixture("zipkin2-lens-skew.json") else {
        return;
    };
    let spanview = Spanview::start(&[]);
    post(&spanview, "/api/v2/spans", &skew);
    let dom = rendered_dom(&spanview.url("/trace/1e223ff1f80f1c69"));
    // serviceb's server half and its async span, both moved by the same shift.
    assert_eq!(
        dom.matches("adjusted for clock skew by +65.9 ms").count(),
        2,
        "{dom}"
    );
    assert!(
        dom.contains("Clock skew: 2 spans recorded on another clock (by up to +65.9 ms)"),
        "the health list names the skew:\n{dom}"
    );
    assert!(
        dom.contains("Recorded times"),
        "the toggle is offered:\n{dom}"
    );
}

#[test]
fn hotrods_parallel_http_calls_are_a_fan_out_not_an_n_plus_one_query() {
    let Some(hotrod) = fixture("otlp-jaeger-apiv3-hotrod-getTrace-response.json") else {
        return;
    };
    let spanview = Spanview::start(&[]);
    post(&spanview, "/api/import", &hotrod);
    let dom = rendered_dom(&spanview.url("/trace/2ea75461946a7dd10f2c15ab36a076cb"));
    assert!(
        dom.contains("Repeated calls: 10 × GET 0.0.0.0:8083/route, in parallel"),
        "{dom}"
    );
    assert!(
        dom.contains("A fan-out: make fewer calls, or use a bulk endpoint."),
        "{dom}"
    );
    assert!(
        !dom.contains("N+1 query"),
        "HTTP calls are not queries:\n{dom}"
    );
    assert!(
        !dom.contains("class=\"trace-health\""),
        "a healthy trace has no health list:\n{dom}"
    );
}
