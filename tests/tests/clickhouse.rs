//! Issue 19: spanview on ClickHouse, against real servers: the shared test cluster
//! (`shared/scripts/ch-cluster.sh`: `$SPANVIEW_TEST_CLICKHOUSE_URL`, clusters `two_shards` and
//! `one_shard_two_replicas`) and, for outages, a ClickHouse server of the test's own that it
//! kills and restarts. Every test has a database of its own.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Value, json};
use spanview_core::scenario::SLOW_ORDER_TRACE_ID;
use spanview_core::{Batch, Trace};
use spanview_e2e::{ClickHouseNode, Spanview, clickhouse_query, rendered_dom, test_clickhouse_url};

/// A fresh database (dropped first, so a rerun starts empty).
fn fresh_database(url: &str, name: &str, cluster: Option<&str>) -> String {
    let database = format!("spanview_e2e_{name}");
    let on_cluster = cluster.map_or(String::new(), |cluster| format!(" ON CLUSTER {cluster}"));
    clickhouse_query(
        url,
        &format!("DROP DATABASE IF EXISTS {database}{on_cluster}"),
    )
    .unwrap();
    database
}

fn clickhouse_args<'a>(url: &'a str, database: &'a str) -> Vec<&'a str> {
    vec![
        "--store",
        "clickhouse",
        "--clickhouse-url",
        url,
        "--clickhouse-database",
        database,
    ]
}

/// Trace `i`'s id, as hex.
fn trace_hex(run: u8, i: u64) -> String {
    format!("{run:02x}{:030x}", i + 1)
}

/// An OTLP JSON export of spans `first_span..first_span + n_spans` of traces `traces`: span
/// `s` of trace `i` is a child of span 0, service `svc-{s % 2}`, attribute `tenant = i % 4`.
fn export_json(run: u8, traces: std::ops::Range<u64>, first_span: u64, n_spans: u64) -> String {
    let mut by_service: [Vec<Value>; 2] = [Vec::new(), Vec::new()];
    for i in traces {
        let start = 1_700_000_000_000_000_000u64 + i * 1_000_000_000;
        for s in first_span..first_span + n_spans {
            let mut span = json!({
                "traceId": trace_hex(run, i),
                "spanId": format!("{:016x}", s + 1),
                "name": format!("op {s}"),
                "kind": 2,
                "startTimeUnixNano": (start + s * 1000).to_string(),
                "endTimeUnixNano": (start + 1_000_000 + i * 1000).to_string(),
                "attributes": [{ "key": "tenant", "value": { "intValue": (i % 4).to_string() } }],
            });
            if s > 0 {
                span["parentSpanId"] = json!(format!("{:016x}", 1));
            }
            by_service[(s % 2) as usize].push(span);
        }
    }
    let resource_spans: Vec<Value> = by_service
        .into_iter()
        .enumerate()
        .filter(|(_, spans)| !spans.is_empty())
        .map(|(service, spans)| {
            json!({
                "resource": { "attributes": [
                    { "key": "service.name", "value": { "stringValue": format!("svc-{service}") } }
                ] },
                "scopeSpans": [{ "scope": { "name": "e2e" }, "spans": spans }],
            })
        })
        .collect();
    json!({ "resourceSpans": resource_spans }).to_string()
}

/// POSTs an OTLP JSON export: the status and the `Retry-After` header.
fn post(base_url: &str, body: &str) -> (u16, Option<String>) {
    match ureq::post(&format!("{base_url}/v1/traces"))
        .config()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .content_type("application/json")
        .send(body)
    {
        Ok(response) => (
            response.status().as_u16(),
            response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
        ),
        Err(_) => (0, None),
    }
}

fn post_ok(spanview: &Spanview, body: &str) {
    let (status, _) = post(&spanview.base_url, body);
    assert_eq!(status, 200, "log:\n{}", spanview.log());
}

/// The trace as the API returns it, each span with its resource and scope, in a fixed order.
fn resolved_trace(spanview: &Spanview, trace_id: &str) -> Vec<Value> {
    let trace: Trace =
        serde_json::from_value(spanview.get_json(&format!("/api/traces/{trace_id}")))
            .expect("a trace");
    resolved(&trace.batch)
}

fn resolved(batch: &Batch) -> Vec<Value> {
    let mut spans: Vec<Value> = batch
        .spans
        .iter()
        .map(|span| {
            let mut plain = span.clone();
            plain.resource_idx = 0;
            plain.scope_idx = 0;
            json!({
                "span": plain,
                "resource": batch.resource_of(span),
                "scope": batch.scopes[span.scope_idx as usize],
            })
        })
        .collect();
    spans.sort_by_key(|value| {
        (
            value["span"]["startNanos"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            value["span"]["spanId"].as_str().unwrap_or("").to_owned(),
        )
    });
    spans
}

fn search(spanview: &Spanview, query: &str) -> Vec<Value> {
    spanview.get_json(&format!("/api/traces?{query}"))["traces"]
        .as_array()
        .expect("traces")
        .clone()
}

/// Polls until `done` holds (spooled batches are inserted in the background).
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_otel_sdk_export_reads_back_the_same_from_clickhouse_as_from_sqlite() {
    let Some(url) = test_clickhouse_url("an_otel_sdk_export_reads_back_the_same") else {
        return;
    };
    let database = fresh_database(&url, "sdk", None);
    let sqlite = Spanview::start(&[]);
    let clickhouse = Spanview::start(&clickhouse_args(&url, &database));
    let exporter = |spanview: &Spanview| {
        opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(spanview.url("/v1/traces"))
            .with_protocol(Protocol::HttpBinary)
            .build()
            .expect("exporter")
    };
    // The real crates.io SDK and exporter, each span exported to both spanviews.
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name("checkout")
                .with_attribute(KeyValue::new("deployment.environment", "e2e"))
                .build(),
        )
        .with_simple_exporter(exporter(&sqlite))
        .with_simple_exporter(exporter(&clickhouse))
        .build();
    let tracer = provider.tracer("spanview-e2e-clickhouse");
    let at = |offset_nanos: u64| {
        std::time::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_001 + offset_nanos)
    };
    let root = tracer
        .span_builder("POST /checkout")
        .with_kind(SpanKind::Server)
        .with_start_time(at(0))
        .with_attributes([
            KeyValue::new("http.status_code", 500i64),
            KeyValue::new("ratio", 0.5),
            KeyValue::new("retry", true),
        ])
        .start(&tracer);
    let trace_id = root.span_context().trace_id().to_string();
    let context = opentelemetry::Context::current_with_span(root);
    for (n, name) in ["SELECT cart", "charge card", "SELECT cart"]
        .iter()
        .enumerate()
    {
        let mut child = tracer
            .span_builder(*name)
            .with_kind(SpanKind::Client)
            .with_start_time(at(1_000_000 * (n as u64 + 1)))
            .start_with_context(&tracer, &context);
        child.add_event_with_timestamp(
            "retry",
            at(1_000_500 * (n as u64 + 1)),
            vec![KeyValue::new("attempt", 2i64)],
        );
        if *name == "charge card" {
            child.set_status(Status::error("card declined"));
        }
        child.end_with_timestamp(at(1_000_000 * (n as u64 + 1) + 700_000));
    }
    context.span().end_with_timestamp(at(9_000_000));
    provider.shutdown().expect("flush");

    let from_sqlite = resolved_trace(&sqlite, &trace_id);
    assert_eq!(from_sqlite.len(), 4);
    assert_eq!(resolved_trace(&clickhouse, &trace_id), from_sqlite);
    assert_eq!(search(&clickhouse, "limit=10"), search(&sqlite, "limit=10"));
    assert_eq!(
        search(
            &clickhouse,
            "service=checkout&operation=charge+card&errors=true"
        ),
        search(
            &sqlite,
            "service=checkout&operation=charge+card&errors=true"
        )
    );
    assert_eq!(search(&clickhouse, "limit=10").len(), 1);
    assert_eq!(
        clickhouse.get_json("/api/services/overview"),
        sqlite.get_json("/api/services/overview")
    );
}

#[test]
fn two_spanviews_on_one_clickhouse_see_the_same_traces() {
    let Some(url) = test_clickhouse_url("two_spanviews_on_one_clickhouse") else {
        return;
    };
    let database = fresh_database(&url, "two_instances", None);
    let first = Spanview::start(&clickhouse_args(&url, &database));
    let second = Spanview::start(&clickhouse_args(&url, &database));
    post_ok(&first, &export_json(1, 0..20, 0, 3));
    // The rest of each trace arrives through the other spanview.
    post_ok(&second, &export_json(1, 0..20, 3, 2));
    for spanview in [&first, &second] {
        let found = search(spanview, "limit=100");
        assert_eq!(found.len(), 20);
        assert!(found.iter().all(|summary| summary["nSpans"] == 5));
        assert_eq!(search(spanview, "attr=tenant:1&limit=100").len(), 5);
    }
    let id = trace_hex(1, 7);
    assert_eq!(resolved_trace(&first, &id), resolved_trace(&second, &id));
    assert_eq!(resolved_trace(&first, &id).len(), 5);
}

#[test]
fn a_two_shard_cluster_returns_whole_traces_and_correct_searches() {
    let Some(url) = test_clickhouse_url("a_two_shard_cluster_returns_whole_traces") else {
        return;
    };
    let database = fresh_database(&url, "two_shards", Some("two_shards"));
    let mut args = clickhouse_args(&url, &database);
    args.extend(["--clickhouse-cluster", "two_shards"]);
    let spanview = Spanview::start(&args);
    // Each trace in two writes, so a trace's chunks must meet on its shard.
    post_ok(&spanview, &export_json(2, 0..100, 0, 3));
    post_ok(&spanview, &export_json(2, 0..100, 3, 3));
    for i in [0, 17, 99] {
        assert_eq!(resolved_trace(&spanview, &trace_hex(2, i)).len(), 6);
    }
    let all = search(&spanview, "limit=1000");
    assert_eq!(all.len(), 100);
    assert!(all.iter().all(|summary| summary["nSpans"] == 6));
    assert_eq!(all[0]["traceId"], trace_hex(2, 99), "newest first");
    let tenant_two = search(
        &spanview,
        "attr=tenant:2&service=svc-1&operation=op+5&limit=1000",
    );
    assert_eq!(tenant_two.len(), 25);
    assert_eq!(
        spanview.get_json("/api/services")["services"],
        json!(["svc-0", "svc-1"])
    );
    // Both shards hold traces, and no trace is on both.
    let on_first: u64 = clickhouse_query(
        &url,
        &format!("SELECT uniqExact(TraceId) FROM {database}.chunks_local"),
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let second_url = url.replace("18121", "18122");
    let on_second: u64 = clickhouse_query(
        &second_url,
        &format!("SELECT uniqExact(TraceId) FROM {database}.chunks_local"),
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    assert!(on_first > 0 && on_second > 0, "{on_first} + {on_second}");
    assert_eq!(on_first + on_second, 100);
}

#[test]
fn a_kill_9_during_ingest_loses_no_acknowledged_span() {
    let Some(url) = test_clickhouse_url("a_kill_9_during_ingest") else {
        return;
    };
    let database = fresh_database(&url, "kill_9", None);
    let data = tempfile::tempdir().unwrap();
    let args = clickhouse_args(&url, &database);
    let spanview = Spanview::start_in(data.path(), &args);
    let acknowledged: Arc<Mutex<Vec<u64>>> = Arc::default();
    let sender = {
        let acknowledged = acknowledged.clone();
        let base_url = spanview.base_url.clone();
        std::thread::spawn(move || {
            for i in 0.. {
                let (status, _) = post(&base_url, &export_json(3, i..i + 1, 0, 4));
                if status != 200 {
                    break;
                }
                acknowledged.lock().unwrap().push(i);
            }
        })
    };
    // Kill once a few writes are acknowledged (how long that takes depends on the machine's load).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 10 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    spanview.kill();
    sender.join().unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 10,
        "only {} writes acknowledged in 60 s",
        acknowledged.len()
    );
    let spanview = Spanview::start_in(data.path(), &args);
    for i in &acknowledged {
        assert_eq!(
            resolved_trace(&spanview, &trace_hex(3, *i)).len(),
            4,
            "trace {i}"
        );
    }
}

#[test]
fn spans_acknowledged_while_clickhouse_is_down_appear_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut node) = ClickHouseNode::start(
        "spans_acknowledged_while_clickhouse_is_down",
        &dir.path().join("clickhouse"),
    ) else {
        return;
    };
    let data = dir.path().join("spanview");
    let args = clickhouse_args(&node.url, "outage");
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let spanview = Spanview::start_in(&data, &args);
    post_ok(&spanview, &export_json(4, 0..5, 0, 3));

    // An outage: acknowledged writes wait in the spool, then reach ClickHouse.
    node.stop();
    post_ok(&spanview, &export_json(4, 5..10, 0, 3));
    post_ok(&spanview, &export_json(4, 0..10, 3, 1));
    node.resume();
    wait_for("the spooled spans", || {
        let found = search(&spanview, "limit=100");
        found.len() == 10 && found.iter().all(|summary| summary["nSpans"] == 4)
    });

    // Another outage, and spanview is killed while the spool holds the writes: the next
    // spanview inserts them.
    node.stop();
    post_ok(&spanview, &export_json(4, 10..20, 0, 3));
    spanview.kill();
    node.resume();
    let spanview = Spanview::start_in(&data, &args);
    wait_for("the spans spooled before the kill", || {
        search(&spanview, "limit=100").len() == 20
    });
    assert_eq!(resolved_trace(&spanview, &trace_hex(4, 15)).len(), 3);
    assert_eq!(resolved_trace(&spanview, &trace_hex(4, 3)).len(), 4);
}

#[test]
fn a_full_spool_answers_503_with_retry_after_and_keeps_what_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut node) =
        ClickHouseNode::start("a_full_spool_answers_503", &dir.path().join("clickhouse"))
    else {
        return;
    };
    let mut args = clickhouse_args(&node.url, "spool_full");
    args.extend(["--clickhouse-spool-size", "20000"]);
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let spanview = Spanview::start_in(&dir.path().join("spanview"), &args);
    node.stop();
    let mut acknowledged = Vec::new();
    let mut refusal = None;
    for i in 0..200 {
        match post(&spanview.base_url, &export_json(5, i..i + 1, 0, 5)) {
            (200, _) => acknowledged.push(i),
            other => {
                refusal = Some(other);
                break;
            }
        }
    }
    assert!(!acknowledged.is_empty());
    let (status, retry_after) = refusal.expect("the spool filled up");
    // The 503 mapping of StoreError::Unavailable is the receiver's (api/otlp.rs).
    assert_eq!(status, 503, "log:\n{}", spanview.log());
    assert!(retry_after.is_some(), "503 without Retry-After");
    node.resume();
    wait_for("the acknowledged spans", || {
        search(&spanview, "limit=1000").len() == acknowledged.len()
    });
}

/// A GET's status and body, whatever the status.
fn get_text(base_url: &str, path: &str) -> (u16, String) {
    let mut response = ureq::get(&format!("{base_url}{path}"))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap_or_else(|error| panic!("GET {path} failed: {error}"));
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn spanview_starts_while_clickhouse_is_unreachable_and_catches_up_when_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut node) = ClickHouseNode::start(
        "spanview_starts_while_clickhouse_is_unreachable",
        &dir.path().join("clickhouse"),
    ) else {
        return;
    };
    // Its port is known and nothing listens on it.
    node.stop();
    let args = clickhouse_args(&node.url, "late_server");
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let spanview = Spanview::start_in(&dir.path().join("spanview"), &args);

    let unreachable = format!("ClickHouse at {} is unreachable", node.url);
    let (status, reason) = get_text(&spanview.base_url, "/readyz");
    assert_eq!(status, 503);
    assert!(reason.contains(&unreachable), "{reason}");
    let (status, body) = get_text(&spanview.base_url, "/api/traces?limit=10");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(&unreachable), "{body}");

    // Ingest is acknowledged meanwhile: from the real SDK's exporter and as OTLP JSON.
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("early-bird").build())
        .with_simple_exporter(
            opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(spanview.url("/v1/traces"))
                .with_protocol(Protocol::HttpBinary)
                .build()
                .expect("exporter"),
        )
        .build();
    let tracer = provider.tracer("spanview-e2e-clickhouse");
    let mut root = tracer
        .span_builder("GET /before-clickhouse")
        .with_kind(SpanKind::Server)
        .start(&tracer);
    root.set_attribute(KeyValue::new("attempt", 1i64));
    let sdk_trace_id = root.span_context().trace_id().to_string();
    root.end();
    provider.shutdown().expect("flush");
    post_ok(&spanview, &export_json(6, 0..5, 0, 3));
    assert_eq!(get_text(&spanview.base_url, "/readyz").0, 503);

    node.resume();
    wait_for("the spans acknowledged before ClickHouse answered", || {
        get_text(&spanview.base_url, "/readyz").0 == 200
            && search(&spanview, "limit=100").len() == 6
    });
    assert_eq!(resolved_trace(&spanview, &sdk_trace_id).len(), 1);
    assert_eq!(resolved_trace(&spanview, &trace_hex(6, 4)).len(), 3);
    assert_eq!(search(&spanview, "service=early-bird").len(), 1);
    let log = spanview.log();
    assert!(log.contains("starting without clickhouse"), "{log}");
    assert!(log.contains("clickhouse answers: schema ready"), "{log}");
}

/// The summaries `GET /api/live` pushes (server-sent events), read in a thread of their own.
fn live_events(spanview: &Spanview) -> std::sync::mpsc::Receiver<Value> {
    use std::io::BufRead;
    let response = ureq::get(&spanview.url("/api/live"))
        .config()
        .timeout_global(None)
        .build()
        .call()
        .expect("GET /api/live");
    let (sender, events) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let reader = std::io::BufReader::new(response.into_body().into_reader());
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if let Some(data) = line.strip_prefix("data:")
                && let Ok(summary) = serde_json::from_str::<Value>(data.trim())
                && sender.send(summary).is_err()
            {
                return;
            }
        }
    });
    events
}

/// The first pushed summary of `trace_id` with `n_spans` spans, within 30 s.
fn wait_for_live(events: &std::sync::mpsc::Receiver<Value>, trace_id: &str, n_spans: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let summary = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no live event for {trace_id} with {n_spans} spans"));
        if summary["traceId"] == trace_id && summary["nSpans"] == n_spans {
            return summary;
        }
    }
}

#[test]
fn the_live_feed_of_one_spanview_shows_traces_stored_through_another() {
    let Some(url) = test_clickhouse_url("the_live_feed_of_one_spanview_shows") else {
        return;
    };
    let database = fresh_database(&url, "live", None);
    let first = Spanview::start(&clickhouse_args(&url, &database));
    let second = Spanview::start(&clickhouse_args(&url, &database));
    let on_second = live_events(&second);
    let on_first = live_events(&first);

    // A trace of now (the feed looks at spans that ended in the last minute), sent by the real
    // SDK to the first spanview only.
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("frontend").build())
        .with_simple_exporter(
            opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(first.url("/v1/traces"))
                .with_protocol(Protocol::HttpBinary)
                .build()
                .expect("exporter"),
        )
        .build();
    let tracer = provider.tracer("spanview-e2e-clickhouse");
    let root = tracer.span_builder("GET /live").start(&tracer);
    let trace_id = root.span_context().trace_id().to_string();
    let context = opentelemetry::Context::current_with_span(root);
    tracer
        .span_builder("SELECT live")
        .start_with_context(&tracer, &context)
        .end();
    context.span().end();
    provider.shutdown().expect("flush");

    // The second spanview stored none of it, and pushes it all the same, whole.
    let pushed = wait_for_live(&on_second, &trace_id, 2);
    assert_eq!(pushed["root"]["name"], "GET /live");
    assert_eq!(pushed["services"], json!(["frontend"]));
    // The first pushed its own write, and its poll does not push it again unchanged.
    wait_for_live(&on_first, &trace_id, 2);
    std::thread::sleep(Duration::from_secs(3));
    let again: Vec<Value> = on_first
        .try_iter()
        .filter(|summary| summary["traceId"] == trace_id.as_str())
        .collect();
    assert!(again.is_empty(), "pushed twice: {again:?}");

    // A span added through the second spanview reaches the first one's feed.
    let root_span_id = resolved_trace(&first, &trace_id)
        .iter()
        .find(|span| span["span"]["parentSpanId"].is_null())
        .map(|span| span["span"]["spanId"].as_str().unwrap().to_owned())
        .expect("the root span");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let late_span = json!({ "resourceSpans": [{
        "resource": { "attributes": [
            { "key": "service.name", "value": { "stringValue": "worker" } }
        ] },
        "scopeSpans": [{ "spans": [{
            "traceId": trace_id,
            "spanId": "00000000000000aa",
            "parentSpanId": root_span_id,
            "name": "late job",
            "startTimeUnixNano": (now - 1_000_000).to_string(),
            "endTimeUnixNano": now.to_string(),
        }] }],
    }] });
    post_ok(&second, &late_span.to_string());
    let pushed = wait_for_live(&on_first, &trace_id, 3);
    assert_eq!(pushed["services"], json!(["frontend", "worker"]));
}

/// The text a reader sees in a rendered page (tags, scripts and styles removed, blanks folded),
/// without absolute start times: each server loads the demo traces relative to its own start,
/// so their clock times differ by the milliseconds between the two starts.
fn visible_text(dom: &str) -> String {
    rendered_words(dom)
        .split(' ')
        .filter(|word| !is_clock_time(word))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `2026-12-07`, `12:35:05.294`, `5:54:10` or `UTC+00:00`: the parts of an absolute time.
fn is_clock_time(word: &str) -> bool {
    let digits_and = |separators: &[char]| {
        word.chars().any(|c| c.is_ascii_digit())
            && word
                .chars()
                .all(|c| c.is_ascii_digit() || separators.contains(&c))
    };
    word.starts_with("UTC")
        || (word.len() >= 8 && digits_and(&['-']))
        || (word.contains(':') && digits_and(&[':', '.']))
}

fn rendered_words(dom: &str) -> String {
    let mut text = String::with_capacity(dom.len() / 2);
    let mut rest = dom;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        rest = &rest[open..];
        let skipped = ["<script", "<style"]
            .iter()
            .find(|tag| rest.starts_with(**tag))
            .and_then(|tag| rest.find(&format!("</{}>", &tag[1..])));
        let end = match skipped {
            Some(close) => close + rest[close..].find('>').unwrap_or(0),
            None => rest.find('>').unwrap_or(rest.len() - 1),
        };
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_ui_shows_the_same_list_and_waterfall_on_clickhouse_as_on_sqlite() {
    let Some(url) = test_clickhouse_url("the_ui_shows_the_same_list_and_waterfall") else {
        return;
    };
    let database = fresh_database(&url, "ui", None);
    let sqlite = Spanview::start(&["--demo"]);
    let mut args = clickhouse_args(&url, &database);
    args.push("--demo");
    let clickhouse = Spanview::start(&args);
    let trace_page = format!("/trace/{SLOW_ORDER_TRACE_ID}");
    for path in ["/", trace_page.as_str()] {
        let on_sqlite = visible_text(&rendered_dom(&sqlite.url(path)));
        let on_clickhouse = visible_text(&rendered_dom(&clickhouse.url(path)));
        assert_eq!(on_clickhouse, on_sqlite, "{path}");
        if path == "/" {
            assert!(on_clickhouse.contains("4 traces"), "{on_clickhouse}");
            assert!(on_clickhouse.contains("3200 ms"), "{on_clickhouse}");
        } else {
            assert!(on_clickhouse.contains("87.5 %"), "{on_clickhouse}");
            assert!(
                on_clickhouse.contains("SELECT FROM inventory"),
                "{on_clickhouse}"
            );
        }
    }
}
