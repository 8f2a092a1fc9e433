use super::*;
use crate::store::conformance as suite;
use spanview_core::attribute_filter::AttributeFilter;
use spanview_core::model::UNKNOWN_SERVICE;
use spanview_core::{KeyValue, Resource, Scope, Span, SpanId, SpanKind, Status, scenario};

fn sorted_spans(trace: &Trace) -> Vec<(String, String, u64)> {
    let mut spans: Vec<(String, String, u64)> = trace
        .batch
        .spans
        .iter()
        .map(|span| {
            (
                trace.batch.service_of(span).to_owned(),
                span.name.clone(),
                span.start_nanos,
            )
        })
        .collect();
    spans.sort();
    spans
}

#[test]
fn a_trace_written_in_pieces_reads_back_whole_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_700_000_000_000_000_001);
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        let mut late_half = trace.batch.clone();
        let early_half = late_half.spans.drain(..4).collect();
        store.write(&late_half).unwrap();
        store
            .write(&Batch {
                spans: early_half,
                ..trace.batch.clone()
            })
            .unwrap();
        // An exporter retry adds nothing, however the spans are batched.
        assert_eq!(store.write(&trace.batch).unwrap().n_spans_added, 0);
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    let stored = store.trace(trace.trace_id).unwrap().unwrap();
    assert_eq!(sorted_spans(&stored), sorted_spans(&trace));
    // Spans come back in start order, exactly as sent, each with its own resource.
    let resolved = |batch: &Batch| -> Vec<(Span, Resource)> {
        batch
            .spans
            .iter()
            .map(|span| {
                let mut plain = span.clone();
                plain.resource_idx = 0;
                plain.scope_idx = 0;
                (plain, batch.resource_of(span).clone())
            })
            .collect()
    };
    let mut expected = trace.batch;
    expected.spans.sort_by_key(|span| span.start_nanos);
    assert_eq!(resolved(&stored.batch), resolved(&expected));

    let summaries = store
        .search(&TraceQuery {
            limit: 10,
            ..TraceQuery::default()
        })
        .unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].n_spans, 10);
    assert_eq!(
        summaries[0].root.as_ref().unwrap().name,
        "GET /orders/12345"
    );
    assert_eq!(summaries[0].duration_nanos(), 3_200_000_000);
}

#[test]
fn unknown_traces_are_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert!(store.trace(TraceId([7; 16])).unwrap().is_none());
}

#[test]
fn a_store_of_another_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let connection = Connection::open(dir.path().join("spans.sqlite")).unwrap();
        connection.pragma_update(None, "user_version", 1).unwrap();
    }
    match SqliteStore::open(dir.path()) {
        Err(StoreError::SchemaVersion {
            found: 1, expected, ..
        }) => {
            assert_eq!(expected, SCHEMA_VERSION)
        }
        other => panic!("expected a schema version error, got {:?}", other.err()),
    }
}

/// The conformance suite's traces (`conformance::synthetic`), all on one day: trace `i` starts
/// at `i` seconds after `suite::BASE_NANOS` and lasts `i` ms, and its second span carries
/// `user.id = i % 7`.
fn synthetic(n: u64, first: u64) -> Batch {
    suite::synthetic(n, first, &suite::same_day)
}

#[test]
fn both_search_plans_find_exactly_the_matching_traces_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    // Many writes, so that the searches cross several blocks.
    let per_write = 50u64;
    let n_writes = BLOCK_SPANS * 3 / (per_write * 4);
    for write in 0..n_writes {
        store
            .write(&synthetic(per_write, write * per_write))
            .unwrap();
    }
    let n = n_writes * per_write;
    let query = |edit: &dyn Fn(&mut TraceQuery)| {
        let mut query = TraceQuery {
            limit: 20,
            ..TraceQuery::default()
        };
        edit(&mut query);
        suite::indices(&store.search(&query).unwrap())
    };
    let newest: Vec<u64> = (0..n).rev().collect();

    // No term: by start time.
    assert_eq!(query(&|_| {}), newest[..20]);
    // A term every trace has: by start time with term checks.
    assert_eq!(query(&|q| q.service = Some("db".into())), newest[..20]);
    // A rare term: by postings, across every block.
    let expected: Vec<u64> = newest
        .iter()
        .copied()
        .filter(|i| i % 7 == 3)
        .take(20)
        .collect();
    assert_eq!(
        query(&|q| q.attributes = vec![AttributeFilter::equals("user.id", "3")]),
        expected
    );
    // A rare term and trace-level filters: durations are i ms.
    let expected: Vec<u64> = newest
        .iter()
        .copied()
        .filter(|i| i % 7 == 3 && (100..=400).contains(i))
        .take(20)
        .collect();
    assert_eq!(
        query(&|q| {
            q.attributes = vec![AttributeFilter::equals("user.id", "3")];
            q.min_duration_nanos = Some(100_000_000);
            q.max_duration_nanos = Some(400_000_000);
        }),
        expected
    );
    // Two terms from different spans and services of the same trace.
    assert_eq!(
        query(&|q| {
            q.service = Some("db".into());
            q.operation = Some("query 2".into());
            q.attributes = vec![AttributeFilter::equals("user.id", "3")];
        })
        .len(),
        20
    );
    // An operation name in any service; a value nobody has.
    assert_eq!(
        query(&|q| q.operation = Some("query 3".into())),
        newest[..20]
    );
    assert!(query(&|q| q.attributes = vec![AttributeFilter::equals("user.id", "99")]).is_empty());
    assert!(query(&|q| q.service = Some("nobody".into())).is_empty());
    assert_eq!(store.services().unwrap(), vec!["db", "frontend"]);
    assert_eq!(store.operations("db").unwrap(), vec!["query 2", "query 3"]);
}

#[test]
fn late_spans_update_the_summary_and_keep_the_trace_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut batch = synthetic(1, 5);
    let root = batch.spans.remove(0);
    store.write(&batch).unwrap();
    let before = &store
        .search(&TraceQuery {
            limit: 5,
            ..Default::default()
        })
        .unwrap()[0];
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
    assert_eq!(after.root.as_ref().unwrap().name, "GET /home");
    assert!(after.root.as_ref().unwrap().is_true_root);
    let found = store
        .search(&TraceQuery {
            operation: Some("GET /home".into()),
            attributes: vec![AttributeFilter::equals("user.id", "5")],
            limit: 5,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found, vec![after.clone()]);
}

#[test]
fn many_chunks_train_a_dictionary_and_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let n = 5000u64;
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        for i in 0..n {
            store.write(&synthetic(1, i)).unwrap();
        }
        // Training runs in its own thread.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !store.inner().codec.has_dictionary() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(store.inner().codec.has_dictionary());
        // Chunks written after it use it.
        for i in n..n + 10 {
            store.write(&synthetic(1, i)).unwrap();
        }
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    for i in [0, n / 2, n + 9] {
        let trace = store.trace(suite::trace_id_of(i)).unwrap().unwrap();
        assert_eq!(trace.batch.spans.len(), 4);
        assert_eq!(trace.batch.service_of(&trace.batch.spans[3]), "db");
    }
    let size_per_span = store.size_bytes().unwrap() / (n * 4);
    assert!(size_per_span < 400, "{size_per_span} bytes per span");
}

#[test]
fn retention_removes_whole_traces_and_their_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    for write in 0..20 {
        store.write(&synthetic(1000, write * 1000)).unwrap();
    }
    let cutoff = suite::BASE_NANOS + 15_000 * 1_000_000_000;
    assert_eq!(store.delete_traces_started_before(cutoff).unwrap(), 15_000);
    let inner = store.inner();
    let connection = inner.readers.get().unwrap();
    let blocks_left: i64 = connection
        .query_row("SELECT COUNT(*) FROM blocks", [], |row| row.get(0))
        .unwrap();
    assert!(blocks_left <= 2, "{blocks_left} blocks left");
    let all = store
        .search(&TraceQuery {
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.len(), 1000);
    assert_eq!(store.delete_oldest_traces(400).unwrap(), 400);
    let rare = store
        .search(&TraceQuery {
            attributes: vec![AttributeFilter::equals("user.id", "3")],
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    assert!(
        rare.iter()
            .all(|summary| suite::indices(std::slice::from_ref(summary))[0] >= 15_400)
    );
    assert_eq!(
        rare.len(),
        (15_400..20_000).filter(|i| i % 7 == 3).count().min(1000)
    );
}

#[test]
fn spans_without_a_service_name_are_stored_under_unknown_service() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut batch = synthetic(1, 0);
    batch.resources[0].attributes.clear();
    store.write(&batch).unwrap();
    assert!(
        store
            .services()
            .unwrap()
            .contains(&UNKNOWN_SERVICE.to_owned())
    );
}

#[test]
fn a_restart_indexes_the_block_the_last_run_left_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        store.write(&synthetic(100, 0)).unwrap();
        // Far from a full block: its postings are only in memory, and searchable.
        let rare = TraceQuery {
            attributes: vec![AttributeFilter::equals("user.id", "3")],
            limit: 100,
            ..Default::default()
        };
        assert_eq!(store.search(&rare).unwrap().len(), 14);
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    let inner = store.inner();
    let connection = inner.readers.get().unwrap();
    let blocks: i64 = connection
        .query_row("SELECT COUNT(*) FROM blocks", [], |row| row.get(0))
        .unwrap();
    assert_eq!(blocks, 1, "the open block was written from its chunks");
    drop(connection);
    let rare = TraceQuery {
        attributes: vec![AttributeFilter::equals("user.id", "3")],
        limit: 100,
        ..Default::default()
    };
    assert_eq!(store.search(&rare).unwrap().len(), 14);
    // New writes go to a new block and are found with the old ones.
    store.write(&synthetic(100, 100)).unwrap();
    assert_eq!(
        store.search(&rare).unwrap().len(),
        (0..200).filter(|i| i % 7 == 3).count()
    );
}

/// Issue 23: a store of schema version 2 (before the service aggregates) gains them, rebuilt
/// from its chunks, when opened.
#[test]
fn a_version_2_store_gets_its_aggregates_rebuilt() {
    use crate::store::MinuteRange;

    let dir = tempfile::tempdir().unwrap();
    let batch = suite::synthetic(30, 0, &suite::same_day);
    let (operations, edges) = {
        let store = SqliteStore::open(dir.path()).unwrap();
        store.write(&batch).unwrap();
        let range = MinuteRange {
            start_minute: 0,
            end_minute: u64::MAX / 60_000_000_000,
            step_minutes: 1,
        };
        (
            store.operation_aggregates(range, None).unwrap(),
            store.edge_aggregates(range).unwrap(),
        )
    };
    assert!(!operations.is_empty());
    {
        let connection = Connection::open(dir.path().join("spans.sqlite")).unwrap();
        connection
            .execute_batch(
                "DROP TABLE operation_minutes; DROP TABLE edge_minutes; PRAGMA user_version = 2;",
            )
            .unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    let range = MinuteRange {
        start_minute: 0,
        end_minute: u64::MAX / 60_000_000_000,
        step_minutes: 1,
    };
    assert_eq!(store.operation_aggregates(range, None).unwrap(), operations);
    assert_eq!(store.edge_aggregates(range).unwrap(), edges);
}

/// Issue 24: a store of schema version 3 (before attribute keys, event attributes, kinds and
/// statuses were search terms) has its written blocks' postings rebuilt from its chunks when
/// opened, so the new filters find its traces too.
#[test]
fn a_version_3_store_gets_its_search_terms_rebuilt() {
    use crate::store::conformance::{search_syntax_traces, synthetic, trace_id_of};
    use spanview_core::attribute_filter::parse_attribute_filters;

    let dir = tempfile::tempdir().unwrap();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        store.write(&search_syntax_traces()).unwrap();
        // Enough newer traces to write the first block out (its postings go to the table).
        for first in (1000..6000).step_by(500) {
            store.write(&synthetic(500, first, &|_| 0)).unwrap();
        }
    }
    let path = dir.path().join("spans.sqlite");
    {
        let connection = Connection::open(&path).unwrap();
        let (first_block, trace_0_blocks): (i64, Vec<u8>) = connection
            .query_row(
                "SELECT (SELECT MIN(block_id) FROM blocks), block_ids FROM traces WHERE trace_id = ?1",
                [trace_id_of(0).0.to_vec()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            super::terms::read_varints(&trace_0_blocks),
            [first_block as u64]
        );
        // As a version 3 store: none of the new terms (here: no postings at all) in its
        // written blocks.
        connection
            .execute_batch("DELETE FROM postings; PRAGMA user_version = 3;")
            .unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    let search = |attributes: &str, edit: &dyn Fn(&mut TraceQuery)| {
        let mut query = TraceQuery {
            limit: 20,
            attributes: parse_attribute_filters(attributes).unwrap(),
            ..TraceQuery::default()
        };
        edit(&mut query);
        store
            .search(&query)
            .unwrap()
            .iter()
            .map(|summary| summary.trace_id)
            .collect::<Vec<_>>()
    };
    let ids = |indices: &[u64]| indices.iter().map(|i| trace_id_of(*i)).collect::<Vec<_>>();
    assert_eq!(
        search(r#"exception.message="connection refused""#, &|_| {}),
        ids(&[0])
    );
    assert_eq!(search("http.status_code!=200", &|_| {}), ids(&[2]));
    assert_eq!(search("db.statement exists", &|_| {}), ids(&[1, 0]));
    assert_eq!(
        search("", &|q| q.kind = Some(SpanKind::Producer)),
        ids(&[2])
    );
    assert_eq!(
        search("", &|q| q.status = Some(spanview_core::StatusCode::Ok)),
        ids(&[1, 0])
    );
    assert_eq!(
        search("user.id=3", &|q| q.limit = 1000).len(),
        (1000..6000).filter(|i| i % 7 == 3).count()
    );
    drop(store);
    let connection = Connection::open(&path).unwrap();
    let version: i64 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

/// The store conformance suite (`store::conformance`), also run against ClickHouse.
mod conformance {
    use super::SqliteStore;
    use crate::store::{TraceStore, conformance};

    macro_rules! conformance_tests {
        ($($name:ident),* $(,)?) => {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = SqliteStore::open(dir.path()).unwrap();
                    conformance::$name(&store);
                }
            )*
        };
    }

    conformance_tests!(
        reads_back_exactly,
        searches_by_every_filter,
        searches_by_attribute_syntax_kind_and_status,
        late_spans_update_the_summary,
        long_traces_rank_by_their_start,
        large_writes_are_recognised_when_resent,
        overviews_services,
        retention_removes_the_oldest_traces,
        keeps_service_aggregates,
    );

    #[test]
    fn survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        conformance::survives_reopening(&|| {
            Box::new(SqliteStore::open(dir.path()).unwrap()) as Box<dyn TraceStore>
        });
    }
}

/// A trace whose every span has its own resource (issue 21: 70,000 resources took 18.6 s per
/// read and 17 s for the services overview, quadratic in resources).
fn trace_with_a_resource_per_span(n_spans: u32) -> Batch {
    let trace_id = TraceId([0x70; 16]);
    let mut batch = Batch {
        scopes: vec![Scope::default()],
        ..Batch::default()
    };
    for n in 0..n_spans {
        batch.resources.push(Resource {
            attributes: vec![
                KeyValue::new("service.name", format!("svc-{}", n % 7)),
                KeyValue::new("host.id", i64::from(n)),
            ],
            schema_url: String::new(),
        });
        let mut span_id = [0u8; 8];
        span_id[..4].copy_from_slice(&(n + 1).to_be_bytes());
        batch.spans.push(Span {
            trace_id,
            span_id: SpanId(span_id),
            parent_span_id: (n > 0).then_some(SpanId([0, 0, 0, 1, 0, 0, 0, 0])),
            name: "work".into(),
            kind: SpanKind::Internal,
            start_nanos: 1_700_000_000_000_000_000 + u64::from(n),
            end_nanos: 1_700_000_000_000_001_000 + u64::from(n),
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
            status: Status::default(),
            trace_state: String::new(),
            flags: 0,
            dropped: Default::default(),
            resource_idx: n,
            scope_idx: 0,
        });
    }
    batch
}

#[test]
fn a_trace_of_70_000_resources_reads_back_and_summarises() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let batch = trace_with_a_resource_per_span(70_000);
    // Two writes, so that reading merges two chunks' resource tables.
    let mut second = batch.clone();
    let first_spans: Vec<Span> = second.spans.drain(..35_000).collect();
    store
        .write(&Batch {
            spans: first_spans,
            ..batch
        })
        .unwrap();
    store.write(&second).unwrap();
    let trace = store.trace(TraceId([0x70; 16])).unwrap().unwrap();
    assert_eq!(trace.batch.spans.len(), 70_000);
    assert_eq!(trace.batch.resources.len(), 70_000);
    let overview = store.service_overview(None, None).unwrap();
    assert_eq!(overview.len(), 7);
}

fn one_span_trace(trace_byte: u8, start_nanos: u64, attribute: (&str, &str)) -> Batch {
    let mut batch = trace_with_a_resource_per_span(1);
    let span = &mut batch.spans[0];
    span.trace_id = TraceId([trace_byte; 16]);
    span.start_nanos = start_nanos;
    span.end_nanos = start_nanos.saturating_add(1_000);
    span.attributes = vec![KeyValue::new(attribute.0, attribute.1)];
    batch
}

/// Issue 21: a start at or past 2^63 ns was stored as a negative number, which hid the other
/// traces of its block from attribute search and made retention delete it at once.
#[test]
fn start_times_past_i64_max_are_stored_without_sign_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let now = 1_800_000_000_000_000_000u64;
    let recent = one_span_trace(0xa1, now, ("order.id", "7"));
    let past_2262 = one_span_trace(0xc1, (1u64 << 63) + 5, ("order.id", "7"));
    let at_the_end_of_time = one_span_trace(0xc2, u64::MAX - 10, ("order.id", "7"));
    let old = one_span_trace(0xd1, now - 3_600_000_000_000 * 48, ("order.id", "8"));
    for batch in [&recent, &past_2262, &at_the_end_of_time, &old] {
        store.write(batch).unwrap();
    }
    // Fill the block so that it is written and searched from its postings.
    store
        .write(&trace_with_a_resource_per_span(BLOCK_SPANS as u32))
        .unwrap();
    let found = |store: &SqliteStore| -> Vec<TraceId> {
        let mut ids: Vec<TraceId> = store
            .search(&TraceQuery {
                attributes: vec![AttributeFilter::equals("order.id", "7")],
                limit: 20,
                ..TraceQuery::default()
            })
            .unwrap()
            .iter()
            .map(|summary| summary.trace_id)
            .collect();
        ids.sort();
        ids
    };
    let expected = vec![
        TraceId([0xa1; 16]),
        TraceId([0xc1; 16]),
        TraceId([0xc2; 16]),
    ];
    assert_eq!(found(&store), expected);
    let summaries = store
        .search(&TraceQuery {
            start_after_nanos: Some(1 << 62),
            limit: 20,
            ..TraceQuery::default()
        })
        .unwrap();
    assert_eq!(summaries.len(), 2, "{summaries:?}");
    assert!(
        summaries
            .iter()
            .all(|summary| summary.start_nanos >= i64::MAX as u64)
    );
    // The spans themselves keep their exact times.
    let stored = store.trace(TraceId([0xc1; 16])).unwrap().unwrap();
    assert_eq!(stored.batch.spans[0].start_nanos, (1u64 << 63) + 5);
    // Retention by age (one day) removes the old trace and the filler (2023) only.
    let expired = store
        .delete_traces_started_before(now - 3_600_000_000_000 * 24)
        .unwrap();
    assert_eq!(expired, 2);
    assert_eq!(found(&store), expected);
    assert!(store.trace(TraceId([0xd1; 16])).unwrap().is_none());
    drop(store);
    // A store written before the fix held such starts as negative numbers: opening repairs them.
    {
        let connection = rusqlite::Connection::open(dir.path().join(STORE_FILE)).unwrap();
        connection
            .execute_batch(
                "UPDATE traces SET start_ns = -9223372036854775803 WHERE start_ns = 9223372036854775807;
                 UPDATE blocks SET max_start_ns = -1 WHERE max_start_ns = 9223372036854775807;",
            )
            .unwrap();
    }
    let reopened = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(found(&reopened), expected);
    assert_eq!(
        reopened
            .delete_traces_started_before(now - 3_600_000_000_000 * 24)
            .unwrap(),
        0
    );
    assert_eq!(found(&reopened), expected);
}

/// Issue 21: 1,000 concurrent searches opened 93 connections (16 MiB of page cache each).
#[test]
fn reads_share_a_bounded_pool_of_connections_and_wait_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let inner = store.inner();
    let held: Vec<_> = (0..MAX_READERS)
        .map(|_| inner.readers.get().unwrap())
        .collect();
    assert_eq!(inner.readers.lock().n_open, MAX_READERS);
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            let started = std::time::Instant::now();
            let connection = inner.readers.get().unwrap();
            drop(connection);
            started.elapsed()
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(held);
        let waited = waiting.join().unwrap();
        assert!(
            waited >= std::time::Duration::from_millis(150),
            "{waited:?}"
        );
    });
    assert_eq!(inner.readers.lock().n_open, MAX_READERS);
    // Reads through the store still work, on the same connections.
    assert!(store.services().unwrap().is_empty());
    assert_eq!(inner.readers.lock().n_open, MAX_READERS);
}
