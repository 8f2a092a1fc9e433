//! The store conformance suite: the same properties checked against every `TraceStore`
//! (called from `sqlite/tests.rs` and `clickhouse/tests.rs`). Each function takes a new, empty
//! store; `survives_reopening` takes a way to open the same store again.
//!
//! Retention is checked with traces days apart and cutoffs at midnight UTC, which both stores
//! honour exactly; the ClickHouse store drops whole hours (see its module doc).

use spanview_core::attribute_filter::AttributeFilter;
use spanview_core::query::TraceQuery;
use spanview_core::service_overview::ServiceOverview;
use spanview_core::{
    AnyValue, Batch, KeyValue, Resource, Scope, Span, SpanId, SpanKind, Status, StatusCode, Trace,
    TraceId, TraceSummary, scenario,
};

use super::TraceStore;

const DAY_NANOS: u64 = 86_400_000_000_000;
/// Midnight UTC of a day in 2023, so that trace `i` of [`synthetic`] is on a known day.
pub const BASE_NANOS: u64 = 19_700 * DAY_NANOS;

/// `n` traces of 4 spans in two services; trace `i` starts at `BASE + i` seconds (plus
/// `day_of(i)` days) and lasts `i` ms; its second span carries `user.id = i % 7`, its third
/// fails when `i % 5 == 0`.
pub fn synthetic(n: u64, first: u64, day_of: &dyn Fn(u64) -> u64) -> Batch {
    let resource = |service: &str| Resource {
        attributes: vec![
            KeyValue::new("service.name", service),
            KeyValue::new("host.name", "h1"),
        ],
        schema_url: String::new(),
    };
    let mut batch = Batch {
        resources: vec![resource("frontend"), resource("db")],
        scopes: vec![Scope {
            name: "lib".into(),
            version: "1.0".into(),
            ..Scope::default()
        }],
        spans: Vec::new(),
    };
    for i in first..first + n {
        let start = BASE_NANOS + day_of(i) * DAY_NANOS + i * 1_000_000_000;
        for s in 0..4u64 {
            batch.spans.push(Span {
                trace_id: trace_id_of(i),
                span_id: SpanId((i * 16 + s + 1).to_be_bytes()),
                parent_span_id: (s > 0).then(|| SpanId((i * 16 + 1).to_be_bytes())),
                name: if s == 0 {
                    "GET /home".into()
                } else {
                    format!("query {s}")
                },
                kind: SpanKind::Server,
                start_nanos: start + s * 1000,
                end_nanos: start + i * 1_000_000,
                attributes: if s == 1 {
                    vec![KeyValue::new("user.id", (i % 7) as i64)]
                } else {
                    Vec::new()
                },
                events: Vec::new(),
                links: Vec::new(),
                status: Status {
                    code: if s == 2 && i % 5 == 0 {
                        StatusCode::Error
                    } else {
                        StatusCode::Unset
                    },
                    message: String::new(),
                },
                trace_state: String::new(),
                flags: 0,
                dropped: Default::default(),
                resource_idx: u32::from(s > 1),
                scope_idx: 0,
            });
        }
    }
    batch
}

pub fn trace_id_of(i: u64) -> TraceId {
    let mut trace_id = [0u8; 16];
    trace_id[..8].copy_from_slice(&(i + 1).to_be_bytes());
    trace_id[8] = 0xab;
    TraceId(trace_id)
}

fn index_of(summary: &TraceSummary) -> u64 {
    u64::from_be_bytes(summary.trace_id.0[..8].try_into().expect("8 bytes")) - 1
}

/// The `i` of each summary's trace (see [`trace_id_of`]).
pub fn indices(summaries: &[TraceSummary]) -> Vec<u64> {
    summaries.iter().map(index_of).collect()
}

/// For [`synthetic`]: every trace on the same day.
pub fn same_day(_: u64) -> u64 {
    0
}

/// Each span with its resource and scope, in (start, span id) order: what "the same trace"
/// means whatever the stores' resource tables look like.
pub fn resolved(batch: &Batch) -> Vec<(Span, Resource, Scope)> {
    let mut spans: Vec<(Span, Resource, Scope)> = batch
        .spans
        .iter()
        .map(|span| {
            let mut plain = span.clone();
            plain.resource_idx = 0;
            plain.scope_idx = 0;
            (
                plain,
                batch.resource_of(span).clone(),
                batch.scopes[span.scope_idx as usize].clone(),
            )
        })
        .collect();
    spans.sort_by_key(|a| (a.0.start_nanos, a.0.span_id.0));
    spans
}

fn all(limit: usize) -> TraceQuery {
    TraceQuery {
        limit,
        ..TraceQuery::default()
    }
}

/// A trace written in pieces, then re-sent whole, reads back exactly, once.
pub fn reads_back_exactly(store: &dyn TraceStore) {
    let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_700_000_000_000_000_001);
    let mut late_half = trace.batch.clone();
    let early_half = late_half.spans.drain(..4).collect();
    assert_eq!(store.write(&late_half).unwrap().n_spans_added, 6);
    store
        .write(&Batch {
            spans: early_half,
            ..trace.batch.clone()
        })
        .unwrap();
    // An exporter retry adds nothing, however the spans are batched.
    assert_eq!(store.write(&trace.batch).unwrap().n_spans_added, 0);
    let stored = store.trace(trace.trace_id).unwrap().expect("stored");
    assert_eq!(resolved(&stored.batch), resolved(&trace.batch));

    // Every kind of value, events, links, status and flags survive.
    let mut odd =
        scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, 1_700_000_100_000_000_000);
    let span = &mut odd.batch.spans[1];
    span.attributes.extend([
        KeyValue::new("double", 1.5),
        KeyValue::new("bool", true),
        KeyValue::new("empty", ""),
        KeyValue::new("quote's \\ \u{0}", "tab\tnewline\n é"),
        KeyValue {
            key: "array".into(),
            value: AnyValue::Array(vec![AnyValue::Int(1), AnyValue::String("two".into())]),
        },
        KeyValue {
            key: "bytes".into(),
            value: AnyValue::Bytes(vec![0, 255, 10]),
        },
    ]);
    span.trace_state = "k=v".into();
    span.flags = 257;
    span.status = Status {
        code: StatusCode::Error,
        message: "it broke".into(),
    };
    store.write(&odd.batch).unwrap();
    let stored = store.trace(odd.trace_id).unwrap().expect("stored");
    assert_eq!(resolved(&stored.batch), resolved(&odd.batch));
    assert!(store.trace(TraceId([7; 16])).unwrap().is_none());

    let summaries = store.search(&all(10)).unwrap();
    assert_eq!(summaries.len(), 2);
    let slow = summaries
        .iter()
        .find(|summary| summary.trace_id == trace.trace_id)
        .unwrap();
    assert_eq!(slow.n_spans, 10);
    assert_eq!(slow.root.as_ref().unwrap().name, "GET /orders/12345");
    assert_eq!(slow.duration_nanos(), 3_200_000_000);
    assert_eq!(
        Some(slow),
        TraceSummary::of_spans(trace.trace_id, &trace.batch, &trace.batch.spans).as_ref()
    );
}

/// Every search filter finds exactly the matching traces, newest first.
pub fn searches_by_every_filter(store: &dyn TraceStore) {
    let n = 300u64;
    for first in (0..n).step_by(100) {
        store.write(&synthetic(100, first, &same_day)).unwrap();
    }
    let query = |edit: &dyn Fn(&mut TraceQuery)| {
        let mut query = all(20);
        edit(&mut query);
        indices(&store.search(&query).unwrap())
    };
    let newest: Vec<u64> = (0..n).rev().collect();
    let expect = |keep: &dyn Fn(u64) -> bool| -> Vec<u64> {
        newest
            .iter()
            .copied()
            .filter(|i| keep(*i))
            .take(20)
            .collect()
    };
    assert_eq!(query(&|_| {}), newest[..20]);
    assert_eq!(query(&|q| q.service = Some("db".into())), newest[..20]);
    assert_eq!(
        query(&|q| q.attributes = vec![AttributeFilter::equals("user.id", "3")]),
        expect(&|i| i % 7 == 3)
    );
    // Resource attributes count too.
    assert_eq!(
        query(&|q| q.attributes = vec![AttributeFilter::equals("host.name", "h1")]),
        newest[..20]
    );
    assert_eq!(
        query(&|q| {
            q.attributes = vec![AttributeFilter::equals("user.id", "3")];
            q.min_duration_nanos = Some(100_000_000);
            q.max_duration_nanos = Some(200_000_000);
        }),
        expect(&|i| i % 7 == 3 && (100..=200).contains(&i))
    );
    // Span filters matched by different spans and services of one trace.
    assert_eq!(
        query(&|q| {
            q.service = Some("db".into());
            q.operation = Some("query 2".into());
            q.attributes = vec![AttributeFilter::equals("user.id", "3")];
        }),
        expect(&|i| i % 7 == 3)
    );
    assert_eq!(
        query(&|q| q.operation = Some("query 3".into())),
        newest[..20]
    );
    assert!(
        query(&|q| {
            q.service = Some("frontend".into());
            q.operation = Some("query 3".into());
        })
        .is_empty()
    );
    assert!(query(&|q| q.attributes = vec![AttributeFilter::equals("user.id", "99")]).is_empty());
    assert!(query(&|q| q.service = Some("nobody".into())).is_empty());
    assert_eq!(query(&|q| q.errors_only = true), expect(&|i| i % 5 == 0));
    let start_of = |i: u64| BASE_NANOS + i * 1_000_000_000;
    assert_eq!(
        query(&|q| {
            q.start_after_nanos = Some(start_of(50));
            q.start_before_nanos = Some(start_of(60));
        }),
        (50..=60).rev().collect::<Vec<u64>>()
    );
    assert_eq!(query(&|q| q.limit = 3), newest[..3]);
    assert_eq!(store.services().unwrap(), vec!["db", "frontend"]);
    assert_eq!(store.operations("db").unwrap(), vec!["query 2", "query 3"]);
    assert_eq!(
        store.operations("frontend").unwrap(),
        vec!["GET /home", "query 1"]
    );
    let summary = &store
        .search(&TraceQuery {
            start_after_nanos: Some(start_of(10)),
            start_before_nanos: Some(start_of(10)),
            limit: 5,
            ..TraceQuery::default()
        })
        .unwrap()[0];
    assert_eq!(
        (summary.n_spans, summary.n_errors, summary.services.clone()),
        (4, 1, vec!["db".to_owned(), "frontend".to_owned()])
    );
}

/// Three traces for the attribute syntax, kind and status (issue 24), oldest first:
/// 0: shop `GET /orders` (server, error, an `exception` event) calling `SELECT orders` (client,
///    ok, a `db.statement` with spaces), resource `service.version=1.5.0`;
/// 1: shop `GET /orders` (server, ok) calling `SELECT users` (client, unset) with
///    `http.status_code=200`;
/// 2: mail `send` (producer, unset) with `http.status_code=500` and `region="eu west"`.
pub fn search_syntax_traces() -> Batch {
    let resource = |service: &str, version: &str| Resource {
        attributes: vec![
            KeyValue::new("service.name", service),
            KeyValue::new("service.version", version),
        ],
        schema_url: String::new(),
    };
    let span = |i: u64, s: u64, name: &str, kind: SpanKind, code: StatusCode| Span {
        trace_id: trace_id_of(i),
        span_id: SpanId((i * 16 + s + 1).to_be_bytes()),
        parent_span_id: (s > 0).then(|| SpanId((i * 16 + 1).to_be_bytes())),
        name: name.into(),
        kind,
        start_nanos: BASE_NANOS + i * 1_000_000_000 + s * 1000,
        end_nanos: BASE_NANOS + i * 1_000_000_000 + 5_000_000,
        attributes: Vec::new(),
        events: Vec::new(),
        links: Vec::new(),
        status: Status {
            code,
            message: String::new(),
        },
        trace_state: String::new(),
        flags: 0,
        dropped: Default::default(),
        resource_idx: if i == 0 { 0 } else { u32::from(i == 2) + 1 },
        scope_idx: 0,
    };
    let mut failing = span(0, 0, "GET /orders", SpanKind::Server, StatusCode::Error);
    failing.events.push(spanview_core::Event {
        name: "exception".into(),
        time_nanos: failing.start_nanos + 10,
        attributes: vec![
            KeyValue::new("exception.type", "ConnectionError"),
            KeyValue::new("exception.message", "connection refused"),
        ],
    });
    let mut orders = span(0, 1, "SELECT orders", SpanKind::Client, StatusCode::Ok);
    orders.attributes.push(KeyValue::new(
        "db.statement",
        "SELECT * FROM orders WHERE id = ?",
    ));
    let mut users = span(1, 1, "SELECT users", SpanKind::Client, StatusCode::Unset);
    users
        .attributes
        .push(KeyValue::new("db.statement", "SELECT * FROM users"));
    users
        .attributes
        .push(KeyValue::new("http.status_code", 200i64));
    let mut send = span(2, 0, "send", SpanKind::Producer, StatusCode::Unset);
    send.attributes
        .push(KeyValue::new("http.status_code", 500i64));
    send.attributes.push(KeyValue::new("region", "eu west"));
    Batch {
        resources: vec![
            resource("shop", "1.5.0"),
            resource("shop", "1.4.0"),
            resource("mail", "1.4.0"),
        ],
        scopes: vec![Scope::default()],
        spans: vec![
            failing,
            orders,
            span(1, 0, "GET /orders", SpanKind::Server, StatusCode::Ok),
            users,
            send,
        ],
    }
}

/// The attribute syntax's terms (`=` with spaces, `!=`, `exists`, event and resource
/// attributes), kind and status, each trace-level, kind and status on the span of the service
/// and operation.
pub fn searches_by_attribute_syntax_kind_and_status(store: &dyn TraceStore) {
    use spanview_core::attribute_filter::parse_attribute_filters;
    store.write(&search_syntax_traces()).unwrap();
    let search = |attributes: &str, edit: &dyn Fn(&mut TraceQuery)| {
        let mut query = all(20);
        query.attributes = parse_attribute_filters(attributes).unwrap();
        edit(&mut query);
        indices(&store.search(&query).unwrap())
    };
    let by_attributes = |text: &str| search(text, &|_| {});
    let none: Vec<u64> = Vec::new();
    assert_eq!(
        by_attributes(r#"db.statement="SELECT * FROM orders WHERE id = ?""#),
        [0]
    );
    assert_eq!(
        by_attributes(r#"exception.message="connection refused""#),
        [0]
    );
    assert_eq!(by_attributes("exception.type exists"), [0]);
    assert_eq!(by_attributes("service.version=1.5.0"), [0]);
    assert_eq!(by_attributes("service.version!=1.5.0"), [2, 1]);
    assert_eq!(by_attributes("db.statement exists"), [1, 0]);
    assert_eq!(by_attributes("db.statement"), [1, 0]);
    assert_eq!(by_attributes("http.status_code!=200"), [2]);
    assert_eq!(by_attributes("http.status_code!=500"), [1]);
    assert_eq!(by_attributes("http.status_code!=404"), [2, 1]);
    assert_eq!(by_attributes(r#"region="eu west""#), [2]);
    assert_eq!(by_attributes("region=eu"), none);
    assert_eq!(by_attributes("nothing exists"), none);
    // Terms are trace-level: they may hold on different spans.
    assert_eq!(
        by_attributes("http.status_code=200 service.version=1.4.0 db.statement exists"),
        [1]
    );
    assert_eq!(
        by_attributes(r#"exception.message="connection refused" http.status_code exists"#),
        none
    );

    let kind = |kind: SpanKind, edit: &dyn Fn(&mut TraceQuery)| {
        search("", &|q| {
            q.kind = Some(kind);
            edit(q);
        })
    };
    assert_eq!(kind(SpanKind::Server, &|_| {}), [1, 0]);
    assert_eq!(kind(SpanKind::Producer, &|_| {}), [2]);
    assert_eq!(kind(SpanKind::Consumer, &|_| {}), none);
    assert_eq!(
        kind(SpanKind::Client, &|q| q.service = Some("shop".into())),
        [1, 0]
    );
    // On the span of the operation: `GET /orders` is never a client span.
    assert_eq!(
        kind(SpanKind::Client, &|q| q.operation =
            Some("GET /orders".into())),
        none
    );
    assert_eq!(
        kind(SpanKind::Server, &|q| q.service = Some("mail".into())),
        none
    );
    assert_eq!(
        kind(SpanKind::Server, &|q| q.status = Some(StatusCode::Error)),
        [0]
    );
    let status = |code: StatusCode, edit: &dyn Fn(&mut TraceQuery)| {
        search("", &|q| {
            q.status = Some(code);
            edit(q);
        })
    };
    assert_eq!(status(StatusCode::Error, &|_| {}), [0]);
    assert_eq!(status(StatusCode::Ok, &|_| {}), [1, 0]);
    assert_eq!(status(StatusCode::Unset, &|_| {}), [2, 1]);
    assert_eq!(
        status(StatusCode::Error, &|q| q.operation =
            Some("SELECT orders".into())),
        none
    );
    assert_eq!(
        status(StatusCode::Ok, &|q| {
            q.service = Some("shop".into());
            q.operation = Some("SELECT orders".into());
            q.kind = Some(SpanKind::Client);
        }),
        [0]
    );
    // With attribute terms, which may hold on other spans of the trace.
    assert_eq!(
        search(r#"exception.message="connection refused""#, &|q| q.kind =
            Some(SpanKind::Client)),
        [0]
    );
    assert_eq!(
        search("http.status_code exists", &|q| q.status =
            Some(StatusCode::Ok)),
        [1]
    );

    // Among many newer traces that match none of it (the embedded store then starts from the
    // rare term's postings instead of walking traces by start).
    store.write(&synthetic(300, 1000, &same_day)).unwrap();
    assert_eq!(by_attributes("http.status_code!=200"), [2]);
    assert_eq!(by_attributes("exception.type exists"), [0]);
    assert_eq!(
        by_attributes(r#"db.statement="SELECT * FROM orders WHERE id = ?""#),
        [0]
    );
    assert_eq!(kind(SpanKind::Producer, &|_| {}), [2]);
    assert_eq!(status(StatusCode::Ok, &|_| {}), [1, 0]);
    assert_eq!(
        kind(SpanKind::Server, &|q| q.service = Some("frontend".into())).len(),
        20
    );
}

/// A trace that started long before the newest traces but ended after them ranks by its start,
/// and a start range sees its real start.
pub fn long_traces_rank_by_their_start(store: &dyn TraceStore) {
    store.write(&synthetic(30, 0, &same_day)).unwrap();
    // Trace 1000: its root starts 2 h before trace 0; a child starts after trace 29.
    let mut long = synthetic(1, 1000, &same_day);
    let root_start = BASE_NANOS - 7_200_000_000_000;
    long.spans[0].start_nanos = root_start;
    long.spans[0].end_nanos = BASE_NANOS + 40_000_000_000;
    long.spans[1].start_nanos = BASE_NANOS + 35_000_000_000;
    long.spans[1].end_nanos = BASE_NANOS + 36_000_000_000;
    // The late child first, as when the root span is exported last.
    let root = long.spans.remove(0);
    store.write(&long).unwrap();
    store
        .write(&Batch {
            spans: vec![root],
            ..long.clone()
        })
        .unwrap();
    let newest = indices(&store.search(&all(20)).unwrap());
    assert_eq!(newest, (10..30).rev().collect::<Vec<u64>>());
    let everything = store.search(&all(100)).unwrap();
    assert_eq!(index_of(everything.last().unwrap()), 1000);
    assert_eq!(everything.last().unwrap().start_nanos, root_start);
    let recent = TraceQuery {
        start_after_nanos: Some(BASE_NANOS),
        limit: 100,
        ..TraceQuery::default()
    };
    assert_eq!(store.search(&recent).unwrap().len(), 30);
    let long_ones = TraceQuery {
        min_duration_nanos: Some(3_600_000_000_000),
        limit: 5,
        ..TraceQuery::default()
    };
    assert_eq!(indices(&store.search(&long_ones).unwrap()), vec![1000]);
}

/// A write of thousands of traces, sent again, adds nothing; a page of 1,000 comes whole.
pub fn large_writes_are_recognised_when_resent(store: &dyn TraceStore) {
    // 5,000 ids are more than one statement of ClickHouse's default max_query_size holds.
    let batch = synthetic(5000, 0, &same_day);
    assert_eq!(store.write(&batch).unwrap().n_spans_added, 20_000);
    assert_eq!(store.write(&batch).unwrap().n_spans_added, 0);
    let page = store.search(&all(1000)).unwrap();
    assert_eq!(page.len(), 1000);
    assert!(page.iter().all(|summary| summary.n_spans == 4));
}

/// Spans arriving later update the trace's summary, which the write reports.
pub fn late_spans_update_the_summary(store: &dyn TraceStore) {
    let mut batch = synthetic(1, 5, &same_day);
    let root = batch.spans.remove(0);
    store.write(&batch).unwrap();
    let before = &store.search(&all(5)).unwrap()[0];
    assert_eq!(before.n_spans, 3);
    assert!(!before.root.as_ref().unwrap().is_true_root);
    let outcome = store
        .write(&Batch {
            spans: vec![root],
            ..batch.clone()
        })
        .unwrap();
    assert_eq!(outcome.n_spans_added, 1);
    let after = &outcome.updated_traces[0];
    assert_eq!(after.n_spans, 4);
    assert!(after.root.as_ref().unwrap().is_true_root);
    let found = store
        .search(&TraceQuery {
            operation: Some("GET /home".into()),
            attributes: vec![AttributeFilter::equals("user.id", "5")],
            limit: 5,
            ..TraceQuery::default()
        })
        .unwrap();
    assert_eq!(found, vec![after.clone()]);
}

/// The services overview counts each service's requests, errors and latency, from the
/// per-minute aggregates, over the minutes of the range.
pub fn overviews_services(store: &dyn TraceStore) {
    // Ten traces on day 0, ten on day 1; every span is a server span, so a request.
    store.write(&synthetic(10, 0, &same_day)).unwrap();
    store.write(&synthetic(10, 10, &|_| 1)).unwrap();
    let counts = |overview: &[ServiceOverview]| -> Vec<(String, u64, u64)> {
        overview
            .iter()
            .map(|row| (row.service.clone(), row.stats.requests, row.stats.errors))
            .collect()
    };
    let overview = store.service_overview(None, None).unwrap();
    // db: spans 2 and 3 of each trace; span 2 fails in traces 0, 5, 10 and 15.
    assert_eq!(
        counts(&overview),
        vec![("db".into(), 40, 4), ("frontend".into(), 40, 0)]
    );
    let day_1 = BASE_NANOS + DAY_NANOS;
    let first_day = store.service_overview(None, Some(day_1 - 1)).unwrap();
    assert_eq!(
        counts(&first_day),
        vec![("db".into(), 20, 2), ("frontend".into(), 20, 0)]
    );
    // frontend's requests of day 0 last about i ms (i = 0..9, twice): p50 within a bucket of
    // 4 ms.
    let p50 = first_day[1].stats.p50_nanos.unwrap() as f64;
    assert!((p50 - 4e6).abs() <= 4e6 * 0.125, "p50 {p50}");
    let second_day = store.service_overview(Some(day_1), None).unwrap();
    assert_eq!(
        counts(&second_day),
        vec![("db".into(), 20, 2), ("frontend".into(), 20, 0)]
    );
    assert_eq!(
        store
            .service_overview(Some(day_1 + DAY_NANOS), None)
            .unwrap(),
        vec![]
    );
}

/// Retention by age and by count removes whole traces, oldest first, and nothing else.
pub fn retention_removes_the_oldest_traces(store: &dyn TraceStore) {
    // 40 traces on each of four days.
    for day in 0..4u64 {
        store.write(&synthetic(40, day * 40, &|i| i / 40)).unwrap();
    }
    assert!(store.size_bytes().unwrap() > 0);
    assert_eq!(store.search(&all(1000)).unwrap().len(), 160);
    assert_eq!(
        store
            .delete_traces_started_before(BASE_NANOS + 2 * DAY_NANOS)
            .unwrap(),
        80
    );
    let left = indices(&store.search(&all(1000)).unwrap());
    assert_eq!(left, (80..160).rev().collect::<Vec<u64>>());
    assert_eq!(store.delete_oldest_traces(40).unwrap(), 40);
    let left = indices(&store.search(&all(1000)).unwrap());
    assert_eq!(left, (120..160).rev().collect::<Vec<u64>>());
    assert!(store.trace(trace_id_of(100)).unwrap().is_none());
    assert_eq!(
        store
            .trace(trace_id_of(130))
            .unwrap()
            .unwrap()
            .batch
            .spans
            .len(),
        4
    );
    // Nothing older left: no-ops.
    assert_eq!(store.delete_traces_started_before(BASE_NANOS).unwrap(), 0);
}

/// What was written is there after the store is closed and opened again.
pub fn survives_reopening(open: &dyn Fn() -> Box<dyn TraceStore>) {
    let batch = synthetic(20, 0, &same_day);
    {
        let store = open();
        store.write(&batch).unwrap();
    }
    let store = open();
    assert_eq!(store.search(&all(100)).unwrap().len(), 20);
    let trace = store.trace(trace_id_of(7)).unwrap().unwrap();
    let expected = Trace {
        trace_id: trace_id_of(7),
        batch: batch.clone(),
    };
    let expected: Vec<_> = resolved(&expected.batch)
        .into_iter()
        .filter(|(span, _, _)| span.trace_id == trace_id_of(7))
        .collect();
    assert_eq!(resolved(&trace.batch), expected);
    // A retry after the restart is still recognised.
    assert_eq!(store.write(&batch).unwrap().n_spans_added, 0);
}

/// Issue 23: the per-minute service aggregates a store keeps are those of the spans it holds
/// (the scenario traces, each whole in one write, one of them sent twice), read back per minute
/// and summed over a range; retention takes the minutes of the traces it deletes.
pub fn keeps_service_aggregates(store: &dyn TraceStore) {
    use spanview_core::service_metrics::{Aggregates, MINUTE_NANOS, ServiceMap};

    use super::MinuteRange;

    let traces = [
        scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, BASE_NANOS + 1),
        scenario::n_plus_one_products(
            scenario::N_PLUS_ONE_TRACE_ID,
            BASE_NANOS + 90 * 1_000_000_000,
        ),
        scenario::fixed_order(scenario::FIXED_ORDER_TRACE_ID, BASE_NANOS + 2 * DAY_NANOS),
    ];
    let mut expected = Aggregates::default();
    for trace in &traces {
        store.write(&trace.batch).unwrap();
        let all: Vec<usize> = (0..trace.batch.spans.len()).collect();
        expected.merge(Aggregates::of_spans(&trace.batch, &all));
    }
    // Sent again (an exporter's retry): counted once.
    assert_eq!(store.write(&traces[0].batch).unwrap().n_spans_added, 0);

    let every_minute = MinuteRange {
        start_minute: 0,
        end_minute: u64::MAX / MINUTE_NANOS,
        step_minutes: 1,
    };
    let mut operations = store.operation_aggregates(every_minute, None).unwrap();
    operations.sort();
    let mut edges = store.edge_aggregates(every_minute).unwrap();
    edges.sort();
    assert_eq!(
        operations,
        expected.operations.clone().into_iter().collect::<Vec<_>>()
    );
    assert_eq!(
        edges,
        expected.edges.clone().into_iter().collect::<Vec<_>>()
    );
    assert!(
        edges.iter().any(|(key, _)| key.callee == "mysql"),
        "{edges:?}"
    );

    // One service's rows; a range of the first day in steps of an hour.
    let service = &operations[0].0.service;
    let of_service = store
        .operation_aggregates(every_minute, Some(service))
        .unwrap();
    assert!(!of_service.is_empty());
    assert!(of_service.iter().all(|(key, _)| &key.service == service));
    let first_day = MinuteRange {
        start_minute: BASE_NANOS / MINUTE_NANOS,
        end_minute: (BASE_NANOS + DAY_NANOS) / MINUTE_NANOS,
        step_minutes: 60,
    };
    let day_map = ServiceMap::from_rows(
        store.operation_aggregates(first_day, None).unwrap(),
        store.edge_aggregates(first_day).unwrap(),
    );
    let mut first_two = Aggregates::default();
    for trace in &traces[..2] {
        let all: Vec<usize> = (0..trace.batch.spans.len()).collect();
        first_two.merge(Aggregates::of_spans(&trace.batch, &all));
    }
    assert_eq!(
        day_map,
        ServiceMap::from_rows(first_two.operations.clone(), first_two.edges.clone())
    );

    // Retention deletes the first day's traces and their minutes.
    assert_eq!(
        store
            .delete_traces_started_before(BASE_NANOS + DAY_NANOS)
            .unwrap(),
        2
    );
    let mut left = store.operation_aggregates(every_minute, None).unwrap();
    left.sort();
    assert!(!left.is_empty());
    assert!(
        left.iter()
            .all(|(key, _)| key.minute >= (BASE_NANOS + 2 * DAY_NANOS) / MINUTE_NANOS),
        "{left:?}"
    );
    assert!(store.edge_aggregates(first_day).unwrap().is_empty());
}
