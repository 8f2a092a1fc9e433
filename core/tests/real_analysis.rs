//! The analysis (repeated work, shares, clock skew, trace health, call-outs) over every real
//! trace file in `../shared/fixtures/real/` (see its README), with the expected findings written
//! down and justified per file. Skipped loudly where that folder is absent; failed when `CI` is
//! set.
//!
//! How the expectations were found: each file was decoded and analysed, and every finding was
//! checked against the file's spans by hand (the justifications below); a change of any of them
//! is a change of what a user is told about a real trace, to be looked at, not re-recorded.

use std::path::PathBuf;
use std::sync::Arc;

use spanview_core::call_outs::{self, Subject};
use spanview_core::clock_skew;
use spanview_core::formats::{DecodeLimits, decode_file};
use spanview_core::health::{self, Problem};
use spanview_core::repeated_work;
use spanview_core::waterfall::Waterfall;
use spanview_core::{Trace, TraceId};

/// What the analysis says about one trace.
struct Analysis {
    trace_id: TraceId,
    /// Repeated-work headlines, costliest first.
    patterns: Vec<String>,
    /// (span name, service, shift in ns) of the spans moved for clock skew, in span order.
    skew: Vec<(String, String, i64)>,
    /// Health findings: what and the message.
    health: Vec<(Problem, String)>,
    /// The first call-out in the header.
    headline: Option<Subject>,
}

#[path = "../../tests/src/skip.rs"]
mod skip;

fn fixtures_dir() -> Option<PathBuf> {
    skip::real_fixtures_dir("the real-file analysis tests (core/tests/real_analysis.rs)")
}

/// Every trace of the file, analysed as the trace page does (adjusted for clock skew), with the
/// invariants that hold for any trace checked on the way.
fn analyse(dir: &std::path::Path, name: &str) -> Vec<Analysis> {
    let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
    let decoded = decode_file(&bytes, &DecodeLimits::default())
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    let mut analyses = Vec::new();
    for trace in decoded.batch.split_by_trace() {
        let trace = Arc::new(trace);
        let skew = clock_skew::find(&trace);
        let (waterfall, adjusted) = Waterfall::build_adjusted(&trace, skew.clone()).unwrap();
        check_invariants(name, &trace, &adjusted, &waterfall);
        let findings = repeated_work::detect(&adjusted, &waterfall);
        for finding in &findings {
            assert!(
                finding.percent_of_trace <= 100.0
                    && finding.wall_nanos <= waterfall.duration_nanos(),
                "{name}: {} covers more than the trace",
                finding.headline()
            );
        }
        let health = health::check(&adjusted, &waterfall, &waterfall.skew);
        analyses.push(Analysis {
            trace_id: trace.trace_id,
            patterns: findings.iter().map(|finding| finding.headline()).collect(),
            skew: skew
                .iter()
                .map(|adjustment| {
                    let span = &trace.batch.spans[adjustment.span_idx as usize];
                    (
                        span.name.clone(),
                        trace.batch.service_of(span).to_owned(),
                        adjustment.delta_nanos,
                    )
                })
                .collect(),
            health: health
                .into_iter()
                .map(|finding| (finding.problem, finding.message))
                .collect(),
            headline: call_outs::rank(&waterfall, &findings)
                .first()
                .map(|call_out| call_out.subject),
        });
    }
    analyses
}

/// Shares never above 100 %; spans moved for skew now start inside their parents; the adjusted
/// trace keeps every span, id and attribute.
fn check_invariants(name: &str, recorded: &Trace, adjusted: &Trace, waterfall: &Waterfall) {
    for group in &waterfall.groups {
        assert!(
            group.wall_nanos <= waterfall.duration_nanos() && group.wall_nanos <= group.total_nanos,
            "{name}: group {} covers more than the trace",
            group.name
        );
    }
    assert_eq!(recorded.batch.spans.len(), adjusted.batch.spans.len());
    for (before, after) in recorded.batch.spans.iter().zip(&adjusted.batch.spans) {
        assert_eq!(
            (&before.span_id, &before.attributes),
            (&after.span_id, &after.attributes)
        );
        assert_eq!(before.duration_nanos(), after.duration_nanos());
    }
    for (row_idx, row) in waterfall.rows.iter().enumerate() {
        if waterfall.skew_of_row(row_idx as u32).is_some() {
            let parent = &waterfall.rows[row.parent_row.unwrap() as usize];
            assert!(
                row.offset_nanos >= parent.offset_nanos,
                "{name}: {} still starts before its parent",
                row.name
            );
        }
    }
}

fn only_trace(analyses: Vec<Analysis>) -> Analysis {
    assert_eq!(analyses.len(), 1);
    analyses.into_iter().next().unwrap()
}

fn problems(analysis: &Analysis) -> Vec<Problem> {
    analysis
        .health
        .iter()
        .map(|(problem, _)| *problem)
        .collect()
}

fn is_quiet(analysis: &Analysis) -> bool {
    analysis.patterns.is_empty() && analysis.skew.is_empty() && analysis.health.is_empty()
}

#[test]
fn the_spec_examples_are_one_span_whose_parent_is_elsewhere() {
    let Some(dir) = fixtures_dir() else { return };
    // The spec's example span names a parentSpanId that is not in the file: the only finding.
    for name in [
        "otlp-proto-examples-trace.json",
        "otlp-proto-examples-trace-int64-numbers.json",
    ] {
        let analysis = only_trace(analyse(&dir, name));
        assert!(
            analysis.patterns.is_empty() && analysis.skew.is_empty(),
            "{name}"
        );
        assert_eq!(
            analysis.health,
            [(
                Problem::MissingParents,
                "1 span names a parent that is not in the trace (1 missing span): the parent was not exported, or is still to come".to_owned()
            )],
            "{name}"
        );
    }
}

#[test]
fn jaeger_fixtures_report_missing_parents_and_several_roots_only() {
    let Some(dir) = fixtures_dir() else { return };
    // Two traces of two spans: in the first both spans name parents absent from the file (two
    // different ids), in the second both name one absent parent (README: 4 missing parents).
    let memstore = analyse(&dir, "otlp-jaeger-memstore-otel_traces_01.json");
    let messages: Vec<&str> = memstore
        .iter()
        .flat_map(|analysis| analysis.health.iter().map(|(_, message)| message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            "2 spans name a parent that is not in the trace (2 missing spans): the parent was not exported, or is still to come",
            "2 spans name a parent that is not in the trace (1 missing span): the parent was not exported, or is still to come",
        ]
    );
    assert!(
        memstore
            .iter()
            .all(|analysis| analysis.patterns.is_empty() && analysis.skew.is_empty())
    );
    // The duplicated span: both copies name the same absent parent, in OTLP and in Jaeger's
    // own conversion of it.
    for name in [
        "otlp-jaeger-ui-otlp2jaeger-in.json",
        "jaeger-ui-otlp2jaeger-out.json",
    ] {
        let analysis = only_trace(analyse(&dir, name));
        assert_eq!(problems(&analysis), [Problem::MissingParents], "{name}");
        assert!(
            analysis.health[0]
                .1
                .starts_with("2 spans name a parent that is not in the trace (1 missing span)")
        );
    }
    // A clean trace split over four lines, Jaeger's conversion of it, and the FOLLOWS_FROM
    // child (which starts and ends inside its parent: 521.220-522.393 ms of 470.949-541.355 ms)
    // have nothing to report.
    for name in [
        "otlpjsonl-jaeger-ui-otlp2jaeger-multi-in.jsonl",
        "jaeger-ui-oltp2jaeger-multi-out.json",
        "jaeger-ui-issue115-follows-from.json",
    ] {
        assert!(is_quiet(&only_trace(analyse(&dir, name))), "{name}");
    }
    // Jaeger's UI-model fixture has two spans without references: two roots.
    let ui_model = only_trace(analyse(&dir, "jaeger-uimodel-ui_01.json"));
    assert_eq!(
        ui_model.health,
        [(
            Problem::SeveralRoots,
            "2 root spans: more than one request started this trace, or parents were lost"
                .to_owned()
        )]
    );
}

#[test]
fn hotrod_has_a_parallel_fan_out_and_a_serial_loop_not_an_n_plus_one_query() {
    let Some(dir) = fixtures_dir() else { return };
    let analysis = only_trace(analyse(
        &dir,
        "otlp-jaeger-apiv3-hotrod-getTrace-response.json",
    ));
    // frontend calls route ten times from a pool of workers: the calls overlap (url.full differs
    // only in its query string, so one endpoint; the route service's server halves fold into the
    // calls). The driver service asks redis for 13 drivers one after another (client spans
    // without db.* attributes: calls, not queries). The customer call (one of the eleven
    // "HTTP GET" spans) is a different endpoint and not part of either.
    assert_eq!(
        analysis.patterns,
        [
            "Repeated calls: 10 × GET 0.0.0.0:8083/route, in parallel",
            "Repeated calls: 13 × GetDriver, one after another",
        ]
    );
    assert!(analysis.skew.is_empty() && analysis.health.is_empty());
    // The 261 ms customer lookup (37 % of the trace, followed into its server span) outranks
    // the fan-out's 29.5 % of wall-clock time.
    assert!(matches!(analysis.headline, Some(Subject::Span(_))));
}

#[test]
fn the_negative_dropped_counts_file_is_refused_before_analysis() {
    let Some(dir) = fixtures_dir() else { return };
    let bytes = std::fs::read(dir.join("otlp-bad-jaeger-ui-negative-dropped-counts.json")).unwrap();
    // droppedAttributesCount -1 is not a uint32: the decoder refuses the file (real_files.rs
    // checks its message), so there is no trace to analyse.
    assert!(decode_file(&bytes, &DecodeLimits::default()).is_err());
}

#[test]
fn the_opentelemetry_demo_has_small_skews_and_no_repeated_work() {
    let Some(dir) = fixtures_dir() else { return };
    let analyses = analyse(&dir, "otlpjsonl-otel-tui-demo-mixed-signals.jsonl");
    assert_eq!(analyses.len(), 141);
    assert!(analyses.iter().all(|analysis| analysis.patterns.is_empty()));
    let count = |problem: Problem| {
        analyses
            .iter()
            .filter(|analysis| problems(analysis).contains(&problem))
            .count()
    };
    // 45 traces have a server half (mostly the Node frontend's GET under the proxy's client
    // span, a few gRPC servers) starting before or ending after its client half: the services
    // run in separate containers whose clocks (Node's performance clock especially) disagree by
    // up to tens of milliseconds. Everything else fits, so nothing else moves.
    assert_eq!(count(Problem::ClockSkew), 45);
    assert_eq!(
        analyses
            .iter()
            .filter(|analysis| !analysis.skew.is_empty())
            .count(),
        45
    );
    // The README's one missing parent.
    assert_eq!(count(Problem::MissingParents), 1);
    // Seven traces where a child ends after its parent: in some, a server half longer than its
    // client half (no shift can fit it, so it is left as recorded), in others async work.
    assert_eq!(count(Problem::OutlivesParent), 7);
    assert_eq!(count(Problem::SeveralRoots), 0);
    assert_eq!(count(Problem::Dropped), 0);
    // The largest shift: frontend's GET server half, 38.5 ms after its client half ended.
    let largest = analyses
        .iter()
        .flat_map(|analysis| {
            analysis
                .skew
                .iter()
                .map(move |skew| (analysis.trace_id, skew))
        })
        .max_by_key(|(_, (_, _, delta))| delta.unsigned_abs())
        .unwrap();
    assert_eq!(
        (
            largest.0.to_string().as_str(),
            largest.1.0.as_str(),
            largest.1.1.as_str(),
            largest.1.2
        ),
        (
            "d273710fbc011085d17e4535fcd02771",
            "GET",
            "frontend",
            -38_505_290
        )
    );
}

#[test]
fn zipkin_lens_skew_moves_serviceb_by_65_9_ms() {
    let Some(dir) = fixtures_dir() else { return };
    let analysis = only_trace(analyse(&dir, "zipkin2-lens-skew.json"));
    // servicea's client "post" runs 74.202-168.741 ms (µs 1470150004074202 + 94539); serviceb's
    // server half, 93.577 ms long, was recorded starting at 8.761 ms, 65 ms before the call.
    // Centred in the call (Zipkin's even split of the 0.962 ms network time, 0.481 ms each way)
    // it starts at 74.683 ms: +65.922 ms. serviceb's "async" span hangs under the client half
    // (the shared id) and takes the same shift, ending at 139.684 ms, inside the call.
    assert_eq!(
        analysis.skew,
        [
            ("async".to_owned(), "serviceb".to_owned(), 65_922_000),
            ("post".to_owned(), "serviceb".to_owned(), 65_922_000),
        ]
    );
    assert_eq!(
        analysis.health,
        [(
            Problem::ClockSkew,
            "Clock skew: 2 spans recorded on another clock (by up to +65.9 ms), adjusted to fit inside the calling spans".to_owned()
        )]
    );
    assert!(analysis.patterns.is_empty());
}

#[test]
fn zipkin_lens_messaging_loses_context_between_producer_and_consumer() {
    let Some(dir) = fixtures_dir() else { return };
    let analysis = only_trace(analyse(&dir, "zipkin2-lens-messaging2.json"));
    // Six orphans under two absent ids: transfer-service's four spans under 0153a596db406c83 and
    // the publish and consume spans under 0153a596db406111. auth-service's shared server half,
    // whose client half (id dca1d27152851c1c) is not in the file, keeps that id and its parent,
    // mobile-gateway's server span, as Zipkin Lens shows it, with its child under it. The
    // latest call out of another service before notification-service's orphaned consume span
    // is transfer-service's publish, a producer with no child: the message's context was lost
    // between them.
    assert_eq!(
        analysis.health,
        [
            (
                Problem::MissingParents,
                "6 spans name a parent that is not in the trace (2 missing spans); context lost between transfer-service → notification-service".to_owned()
            ),
            (
                Problem::OutlivesParent,
                // notification-service's post (15.86 ms, 30 ms after) under its 40 µs consume.
                "1 span ends after its parent (by up to 45.8 ms): async work, or a parent ended too early".to_owned()
            ),
        ]
    );
    assert!(analysis.patterns.is_empty() && analysis.skew.is_empty());
}

#[test]
fn smartthings_has_one_n_plus_one_once_and_three_small_skews() {
    let Some(dir) = fixtures_dir() else { return };
    let analysis = only_trace(analyse(
        &dir,
        "zipkin2-lens-smartthings-oauth-authorization.json",
    ));
    // auth runs `SELECT * FROM auth.client WHERE id = ?` (cassandra.query) six times in a row
    // under one stlogin request: one N+1 banner (it was shown twice, seen from the parent and
    // the grandparent), 4.67 ms in a 100 s trace (the user typing between redirects).
    assert_eq!(
        analysis.patterns,
        ["N+1 query: 6 × SELECT * FROM auth.client WHERE id = ?, one after another"]
    );
    // Three server halves reach outside their client halves by a millisecond or two and are
    // centred in them. The zero-length "send iot-events360" and "redirect" client spans are
    // one-way: what their server spans do later is not skew.
    assert_eq!(
        analysis.skew,
        [
            (
                "post /authorization/code".to_owned(),
                "auth".to_owned(),
                -2_230_500
            ),
            ("post".to_owned(), "bouncer".to_owned(), -771_000),
            (
                "get /locations/user/:username".to_owned(),
                "account".to_owned(),
                -743_500
            ),
        ]
    );
    assert_eq!(
        problems(&analysis),
        [Problem::OutlivesParent, Problem::ClockSkew]
    );
    // 18 late children, checked one by one: 12 server spans under server spans of the login
    // flow (the browser's next request after a redirect, recorded as a child; up to 33.8 s
    // later, the user typing) and 6 instant "redirect" client spans recorded 0.1 ms after
    // their server span ended.
    assert_eq!(
        analysis.health[0].1,
        "18 spans end after their parents (by up to 33.8 s): async work, or a parent ended too early"
    );
}
