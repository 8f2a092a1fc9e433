//! The conformance suite and the ClickHouse store's own properties, against a real server:
//! `SPANVIEW_TEST_CLICKHOUSE_URL` (default `http://127.0.0.1:18121`, the first node of
//! `shared/scripts/ch-cluster.sh`). Each test uses a database of its own.
//!
//! The same single-node tests run against a current ClickHouse (26.9, PyPI `chdb-core`, which
//! has no listener of its own) through `chdb_http.py`, a stand-in for its HTTP interface:
//!
//! ```sh
//! python3 -m venv /tmp/chdb && /tmp/chdb/bin/pip install chdb-core
//! /tmp/chdb/bin/python server/src/store/clickhouse/chdb_http.py 18199 /tmp/chdb-data &
//! SPANVIEW_TEST_CLICKHOUSE_URL=http://127.0.0.1:18199 cargo test -p spanview --lib store::clickhouse \
//!     -- --skip cluster --skip credentials   # the stand-in checks no password
//! ```

use std::path::Path;

use super::*;
use crate::store::conformance;
use spanview_core::query::TraceQuery;

fn server_url() -> String {
    std::env::var("SPANVIEW_TEST_CLICKHOUSE_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:18121".to_owned())
}

/// Whether the test server answers; without one the test fails under CI, else says it skipped.
fn server_answers(test: &str) -> bool {
    let url = server_url();
    if Client::new(&url, None, None).query("SELECT 1").is_ok() {
        return true;
    }
    crate::test_skip::skip_or_fail(test, &format!("no ClickHouse at {url}"));
    false
}

fn database_of(name: &str) -> String {
    let suffix = std::env::var("SPANVIEW_TEST_CLICKHOUSE_DATABASE_SUFFIX").unwrap_or_default();
    format!("spanview_test_{name}{suffix}")
}

/// A fresh database for a test (dropped first, so a rerun starts empty); a
/// `SPANVIEW_TEST_CLICKHOUSE_DATABASE_SUFFIX` keeps runs that share a server apart.
fn config(name: &str, cluster: Option<&str>, spool_dir: &Path) -> ClickHouseConfig {
    let database = database_of(name);
    let client = Client::new(&server_url(), None, None);
    let on_cluster = cluster.map_or(String::new(), |c| format!(" ON CLUSTER {c}"));
    client
        .execute(&format!("DROP DATABASE IF EXISTS {database}{on_cluster}"))
        .unwrap();
    ClickHouseConfig {
        url: server_url(),
        database,
        cluster: cluster.map(str::to_owned),
        user: None,
        password: None,
        spool_dir: spool_dir.to_owned(),
        spool_max_bytes: DEFAULT_SPOOL_MAX_BYTES,
        start_without_server: false,
        retention_age_nanos: None,
        acknowledge: Acknowledge::Inserted,
    }
}

fn open_store(name: &str, cluster: Option<&str>, dir: &Path) -> ClickHouseStore {
    ClickHouseStore::open(&config(name, cluster, dir)).unwrap()
}

macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                if !server_answers(stringify!($name)) {
                    return;
                }
                let dir = tempfile::tempdir().unwrap();
                let store = open_store(stringify!($name), None, dir.path());
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
    if !server_answers("survives_reopening") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = config("survives_reopening", None, dir.path());
    conformance::survives_reopening(&|| {
        Box::new(ClickHouseStore::open(&config).unwrap()) as Box<dyn TraceStore>
    });
}

#[test]
fn a_schema_newer_than_this_spanview_is_refused() {
    if !server_answers("a_schema_newer_than_this_spanview_is_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = config("newer_schema", None, dir.path());
    drop(ClickHouseStore::open(&config).unwrap());
    let client = Client::new(&config.url, None, None);
    client
        .execute(&format!(
            "INSERT INTO {}.spanview_migrations (Version, AppliedAt) VALUES (99, now())",
            config.database
        ))
        .unwrap();
    match ClickHouseStore::open(&config) {
        Err(StoreError::SchemaVersion { found: 99, .. }) => {}
        other => panic!("expected a schema version error, got {:?}", other.err()),
    }
}

/// A database of schema 2 (spans without `Kind` and `StatusCode`, issue 24) gains them when a
/// spanview of schema 3 opens it; its older spans keep their error status.
#[test]
fn a_schema_2_database_gains_kind_and_status() {
    if !server_answers("a_schema_2_database_gains_kind_and_status") {
        return;
    }
    schema_2_gains_kind_and_status("schema_2", None);
}

/// The same on both test clusters: the local tables altered, the `Distributed` ones made again.
#[test]
fn a_schema_2_cluster_database_gains_kind_and_status() {
    if !server_answers("a_schema_2_cluster_database_gains_kind_and_status") {
        return;
    }
    schema_2_gains_kind_and_status("schema_2_two_shards", Some("two_shards"));
    schema_2_gains_kind_and_status("schema_2_replicas", Some("one_shard_two_replicas"));
}

fn schema_2_gains_kind_and_status(name: &str, cluster: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let config = config(name, cluster, dir.path());
    let client = Client::new(&config.url, None, None);
    let layout = Layout {
        database: config.database.clone(),
        cluster: cluster.map(str::to_owned),
    };
    let on_cluster = cluster.map_or(String::new(), |c| format!(" ON CLUSTER {c}"));
    client
        .execute(&format!("CREATE DATABASE {}{on_cluster}", config.database))
        .unwrap();
    client
        .execute(&format!(
            "CREATE TABLE {}.spanview_migrations{on_cluster} (Version UInt32, AppliedAt DateTime) ENGINE = TinyLog",
            config.database
        ))
        .unwrap();
    let replicated = cluster == Some("one_shard_two_replicas");
    for version in 1..=2 {
        for statement in
            schema::migration_statements(&layout, version, replicated, schema::Extras::default())
        {
            client.execute(&statement).unwrap();
        }
        client
            .execute(&format!(
                "INSERT INTO {}.spanview_migrations (Version, AppliedAt) VALUES ({version}, now())",
                config.database
            ))
            .unwrap();
    }
    // Trace 0 of the search traces as schema 2 stored it: its chunk, and its failing root's
    // span row in the columns of then.
    let batch = conformance::search_syntax_traces();
    let trace_0 = Batch {
        spans: batch.spans[..2].to_vec(),
        ..batch.clone()
    };
    let prepared = write::prepare(&trace_0, &Default::default());
    client
        .insert(
            &format!(
                "INSERT INTO {} ({}) FORMAT RowBinary",
                layout.table("chunks"),
                write::CHUNK_INSERT_COLUMNS
            ),
            &[("insert_distributed_sync", "1")],
            &prepared.rows.chunks,
        )
        .unwrap();
    let root = &batch.spans[0];
    let mut old_row = rowbinary::RowWriter::default();
    old_row.string("shop");
    old_row.string(&root.name);
    old_row.u64(root.start_nanos);
    old_row.u64(root.duration_nanos());
    old_row.fixed(&root.trace_id.0);
    old_row.u8(1);
    // An attribute stored before `attribute_terms` (schema 4): found through its backfill,
    // copied into `attribute_index` by schema 5.
    old_row.strings(["region"].into_iter());
    old_row.strings(["eu-west"].into_iter());
    client
        .insert(
            &format!(
                "INSERT INTO {} (Service, Name, StartNs, DurationNs, TraceId, IsError, \
                 `Attributes.Key`, `Attributes.Value`) FORMAT RowBinary",
                layout.table("spans")
            ),
            &[("insert_distributed_sync", "1")],
            &old_row.out,
        )
        .unwrap();

    let store = ClickHouseStore::open(&config).unwrap();
    let search = |edit: &dyn Fn(&mut TraceQuery)| {
        let mut query = TraceQuery {
            limit: 10,
            ..TraceQuery::default()
        };
        edit(&mut query);
        store.search(&query).unwrap().len()
    };
    assert_eq!(search(&|_| {}), 1);
    assert_eq!(
        search(&|q| q.status = Some(spanview_core::StatusCode::Error)),
        1
    );
    let attribute = |value: &str| {
        vec![spanview_core::attribute_filter::AttributeFilter::equals(
            "region", value,
        )]
    };
    assert_eq!(search(&|q| q.attributes = attribute("eu-west")), 1);
    assert_eq!(search(&|q| q.attributes = attribute("us-east")), 0);
    // Schema 5 replaced `attribute_terms`.
    let tables = client
        .query(&format!(
            "SELECT name FROM system.tables WHERE database = {} FORMAT TabSeparated",
            client::quote(&config.database)
        ))
        .unwrap();
    let tables = String::from_utf8_lossy(&tables);
    assert!(!tables.contains("attribute_terms"), "{tables}");
    assert!(tables.contains("attribute_index"), "{tables}");
    // Its kind was not recorded: an older span is of no kind a search names.
    assert_eq!(
        search(&|q| q.kind = Some(spanview_core::SpanKind::Server)),
        0
    );
    // Opening again finds the columns there and changes nothing.
    drop(store);
    drop(ClickHouseStore::open(&config).unwrap());
}

#[test]
fn writes_while_clickhouse_is_away_are_spooled_then_inserted() {
    if !server_answers("writes_while_clickhouse_is_away_are_spooled_then_inserted") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = config("spooled", None, dir.path());
    drop(ClickHouseStore::open(&config).unwrap());
    // Nothing listens on port 9 of loopback (discard is not served here): every insert fails.
    let away = ClickHouseConfig {
        url: "http://127.0.0.1:9".to_owned(),
        ..config.clone()
    };
    let client = Client::new(&away.url, None, None);
    let layout = Layout {
        database: away.database.clone(),
        cluster: None,
    };
    let batch = conformance::synthetic(10, 0, &|_| 0);
    {
        let spool = Spool::open(&away.spool_dir, 1 << 20).unwrap();
        let write_path = WritePath::start(
            Inserter { client, layout },
            spool,
            Arc::new(readiness::SchemaGate::ready()),
            Acknowledge::Inserted,
        )
        .unwrap();
        let prepared = write::prepare(&batch, &Default::default());
        write_path.write(prepared.rows.clone()).unwrap();
        assert!(write_path.is_spooling());
        // A spool too small for another batch refuses it.
        drop(write_path);
        let spool = Spool::open(&away.spool_dir, 10).unwrap();
        assert!(matches!(
            spool.append(&prepared.rows),
            Err(StoreError::Unavailable(_))
        ));
    }
    // The next start inserts what the spool holds.
    config.spool_max_bytes = 1 << 20;
    let store = ClickHouseStore::open(&config).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while store.is_spooling() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!store.is_spooling());
    assert_eq!(
        store
            .search(&TraceQuery {
                limit: 100,
                ..TraceQuery::default()
            })
            .unwrap()
            .len(),
        10
    );
}

#[test]
fn a_cluster_of_two_shards_returns_whole_traces_and_finds_them() {
    if !server_answers("a_cluster_of_two_shards_returns_whole_traces_and_finds_them") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = open_store("two_shards", Some("two_shards"), dir.path());
    conformance::searches_by_every_filter(&store);
    // Traces landed on both shards.
    let client = Client::new(&server_url(), None, None);
    let here = client
        .query(&format!(
            "SELECT uniqExact(TraceId) FROM {}.chunks_local FORMAT TabSeparated",
            database_of("two_shards")
        ))
        .unwrap();
    let here: u64 = String::from_utf8_lossy(&here).trim().parse().unwrap();
    assert!(
        here > 0 && here < 300,
        "{here} of 300 traces on the first shard"
    );
    conformance::reads_back_exactly(&open_store(
        "two_shards_read",
        Some("two_shards"),
        dir.path(),
    ));
    conformance::searches_by_attribute_syntax_kind_and_status(&open_store(
        "two_shards_search_syntax",
        Some("two_shards"),
        dir.path(),
    ));
    conformance::overviews_services(&open_store(
        "two_shards_overview",
        Some("two_shards"),
        dir.path(),
    ));
    conformance::retention_removes_the_oldest_traces(&open_store(
        "two_shards_retention",
        Some("two_shards"),
        dir.path(),
    ));
}

#[test]
fn a_replicated_cluster_passes_the_conformance_suite() {
    if !server_answers("a_replicated_cluster_passes_the_conformance_suite") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cluster = Some("one_shard_two_replicas");
    conformance::reads_back_exactly(&open_store("replicas_read", cluster, dir.path()));
    conformance::searches_by_every_filter(&open_store("replicas_search", cluster, dir.path()));
    conformance::searches_by_attribute_syntax_kind_and_status(&open_store(
        "replicas_search_syntax",
        cluster,
        dir.path(),
    ));
    conformance::keeps_service_aggregates(&open_store("replicas_aggregates", cluster, dir.path()));
    // With credentials, which also go to the other nodes (`remote()` for size_bytes).
    let store = ClickHouseStore::open(&ClickHouseConfig {
        user: Some("default".to_owned()),
        password: Some(String::new()),
        ..config("replicas_retention", cluster, dir.path())
    })
    .unwrap();
    conformance::retention_removes_the_oldest_traces(&store);
    assert!(store.size_bytes().unwrap() > 0);
    // Both replicas hold the rows.
    let second = Client::new(&server_url().replace("18121", "18122"), None, None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = second
            .query(&format!(
                "SELECT count() FROM {}.chunks_local FORMAT TabSeparated",
                database_of("replicas_retention")
            ))
            .unwrap();
        if String::from_utf8_lossy(&text).trim() == "40" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the second replica has {text:?} chunks"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn concurrent_writes_are_batched_and_all_stored() {
    if !server_answers("concurrent_writes_are_batched_and_all_stored") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = open_store("concurrent", None, dir.path());
    std::thread::scope(|scope| {
        for thread in 0..10u64 {
            let store = &store;
            scope.spawn(move || {
                for write in 0..10u64 {
                    let first = (thread * 10 + write) * 5;
                    let batch = conformance::synthetic(5, first, &|_| 0);
                    assert_eq!(store.write(&batch).unwrap().n_spans_added, 20);
                }
            });
        }
    });
    let all = store
        .search(&TraceQuery {
            limit: 1000,
            ..TraceQuery::default()
        })
        .unwrap();
    assert_eq!(all.len(), 10 * 10 * 5);
    assert!(all.iter().all(|summary| summary.n_spans == 4));
    // Group commit: 100 writes took fewer inserts (one part per insert before merges).
    let parts = Client::new(&server_url(), None, None)
        .query(&format!(
            "SELECT count() FROM system.parts WHERE database = '{}' AND table = 'chunks' FORMAT TabSeparated",
            database_of("concurrent")
        ))
        .unwrap();
    let parts: u64 = String::from_utf8_lossy(&parts).trim().parse().unwrap();
    assert!(parts < 100, "{parts} parts for 100 writes");
}

/// `--clickhouse-ack spooled`: writes are answered from the spool, every span reaches
/// ClickHouse soon after, in fewer inserts than writes.
#[test]
fn spooled_acknowledgements_reach_clickhouse_in_few_inserts() {
    if !server_answers("spooled_acknowledgements_reach_clickhouse_in_few_inserts") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = ClickHouseStore::open(&ClickHouseConfig {
        acknowledge: Acknowledge::Spooled,
        ..config("spooled_ack", None, dir.path())
    })
    .unwrap();
    std::thread::scope(|scope| {
        for thread in 0..4u64 {
            let store = &store;
            scope.spawn(move || {
                for write in 0..25u64 {
                    let first = (thread * 25 + write) * 5;
                    let batch = conformance::synthetic(5, first, &|_| 0);
                    assert_eq!(store.write(&batch).unwrap().n_spans_added, 20);
                }
            });
        }
    });
    let all_traces = TraceQuery {
        limit: 1000,
        ..TraceQuery::default()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut found = store.search(&all_traces).unwrap();
    while found.len() < 500 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        found = store.search(&all_traces).unwrap();
    }
    assert_eq!(
        found.len(),
        500,
        "every acknowledged trace reaches ClickHouse"
    );
    assert!(found.iter().all(|summary| summary.n_spans == 4));
    // The last spool file goes right after its insert returned.
    while store.write_path.is_spooling() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        !store.write_path.is_spooling(),
        "the spool is empty once inserted"
    );
    let inserts = Client::new(&server_url(), None, None)
        .query(&format!(
            "SELECT count() FROM system.parts WHERE database = '{}' AND table = 'chunks' FORMAT TabSeparated",
            database_of("spooled_ack")
        ))
        .unwrap();
    let inserts: u64 = String::from_utf8_lossy(&inserts).trim().parse().unwrap();
    assert!(inserts < 50, "{inserts} parts for 100 writes");
}

/// Several spanviews started at once on a new database (a deployment's replicas) all create
/// or find the schema: none fails on another's half-made tables or migration records.
#[test]
fn spanviews_started_at_once_on_a_new_database_all_open() {
    if !server_answers("spanviews_started_at_once_on_a_new_database_all_open") {
        return;
    }
    let dirs: Vec<_> = (0..8).map(|_| tempfile::tempdir().unwrap()).collect();
    let first = config("started_at_once", None, dirs[0].path());
    let opened: Vec<Result<ClickHouseStore, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|dir| {
                let config = ClickHouseConfig {
                    spool_dir: dir.path().to_owned(),
                    ..first.clone()
                };
                scope.spawn(move || ClickHouseStore::open(&config))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, result) in opened.iter().enumerate() {
        assert!(result.is_ok(), "spanview {i}: {:?}", result.as_ref().err());
    }
    let version = Client::new(&server_url(), None, None)
        .query(&format!(
            "SELECT max(Version) FROM {}.spanview_migrations FORMAT TabSeparated",
            first.database
        ))
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version).trim(),
        schema::SCHEMA_VERSION.to_string()
    );
}

/// The index names traces by a hash spanview computes and a search asks ClickHouse for: the
/// two must agree.
#[test]
fn trace_hashes_are_clickhouse_city_hash_64() {
    if !server_answers("trace_hashes_are_clickhouse_city_hash_64") {
        return;
    }
    let client = Client::new(&server_url(), None, None);
    for n in [0u64, 1, 42, u64::MAX, 0x0123_4567_89ab_cdef] {
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&n.to_be_bytes());
        trace_id[8..].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
        let hex: String = trace_id.iter().map(|b| format!("{b:02X}")).collect();
        let text = client
            .query(&format!(
                "SELECT cityHash64(toFixedString(unhex('{hex}'), 16)) FORMAT TabSeparated"
            ))
            .unwrap();
        let expected: u64 = String::from_utf8_lossy(&text).trim().parse().unwrap();
        assert_eq!(attribute_index::trace_hash(&trace_id), expected, "{hex}");
    }
}

#[test]
fn server_versions_parse_from_select_version() {
    use schema::ServerVersion;
    let version = |major, minor| Some(ServerVersion { major, minor });
    assert_eq!(ServerVersion::parse("18.16.1\n"), version(18, 16));
    assert_eq!(ServerVersion::parse("26.9.1.5"), version(26, 9));
    assert_eq!(ServerVersion::parse("21.8.15.7"), version(21, 8));
    assert_eq!(ServerVersion::parse("23.3-lts"), version(23, 3));
    assert_eq!(ServerVersion::parse(""), None);
    assert_eq!(ServerVersion::parse("twenty.one"), None);
    assert!(version(20, 1) > version(18, 16) && version(21, 1) > version(20, 12));
}

#[test]
fn each_server_version_gets_the_extras_it_has_and_18_16_none() {
    use schema::{Extras, ServerVersion};
    let extras = |text: &str| Extras::for_version(ServerVersion::parse(text).unwrap());
    assert_eq!(extras("18.16.1"), Extras::default());
    assert_eq!(extras("19.17.4"), Extras::default());
    let twenty = Extras {
        skip_indexes: false,
        codecs: true,
        ttl: true,
    };
    assert_eq!(extras("20.1.2.4"), twenty);
    assert_eq!(extras("20.12.8"), twenty);
    let all = Extras {
        skip_indexes: true,
        codecs: true,
        ttl: true,
    };
    assert_eq!(extras("21.1.9"), all);
    assert_eq!(extras("26.9.1.5"), all);
}

#[test]
fn the_ddl_on_18_16_has_no_extras_and_on_newer_servers_has_them() {
    use schema::{Extras, ServerVersion};
    let layout = Layout {
        database: "db".to_owned(),
        cluster: None,
    };
    let ddl = |extras: Extras| -> String {
        (1..=schema::SCHEMA_VERSION)
            .flat_map(|version| schema::migration_statements(&layout, version, false, extras))
            .collect::<Vec<String>>()
            .join(";\n")
    };
    let old = ddl(Extras::for_version(
        ServerVersion::parse("18.16.1").unwrap(),
    ));
    for modern in [
        "CODEC",
        "INDEX",
        "TTL",
        "bloom_filter",
        "ttl_only_drop_parts",
    ] {
        assert!(!old.contains(modern), "{modern} in 18.16's DDL:\n{old}");
    }
    assert!(old.contains("CREATE TABLE IF NOT EXISTS db.spans (Service String,"));

    let new = ddl(Extras::for_version(ServerVersion::parse("26.9.1").unwrap()));
    assert!(
        new.contains("StartNs UInt64 CODEC(Delta, ZSTD(1))"),
        "{new}"
    );
    assert!(new.contains("INDEX attribute_keys Attributes.Key TYPE bloom_filter"));
    // 20.x has codecs but its skip indexes are left alone: the plain tables.
    assert_eq!(
        ddl(Extras::for_version(ServerVersion::parse("20.3.1").unwrap())),
        old
    );

    let ttl = schema::ttl_statements(&layout, 7 * 24 * 3_600_000_000_000).join(";\n");
    assert!(ttl.contains(
        "ALTER TABLE db.spans MODIFY TTL toDateTime(intDiv(StartNs, 1000000000)) + INTERVAL 604800 SECOND"
    ), "{ttl}");
    assert!(ttl.contains("ALTER TABLE db.edge_minutes MODIFY TTL toDateTime(Minute * 60)"));
    let clustered = Layout {
        database: "db".to_owned(),
        cluster: Some("two".to_owned()),
    };
    assert!(
        schema::skip_index_statements(&clustered)[0]
            .starts_with("ALTER TABLE db.spans_local ON CLUSTER two ADD INDEX attribute_keys")
    );
}

/// On a server with extras (the chdb stand-in for 26.9, see the module doc), the tables get
/// the skip indexes and TTL; on 18.16 they stay plain. Either way the store works the same.
#[test]
fn the_schema_uses_the_extras_the_server_has() {
    if !server_answers("the_schema_uses_the_extras_the_server_has") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = config("extras", None, dir.path());
    // Long enough for the synthetic spans' times (2023: a TTL does drop older rows at once).
    config.retention_age_nanos = Some(10 * 365 * 24 * 3_600_000_000_000);
    let store = ClickHouseStore::open(&config).unwrap();
    let extras = schema::Extras::of_server(&store.client).unwrap();
    let created = store
        .client
        .query(&format!(
            "SHOW CREATE TABLE {}.spans FORMAT TabSeparatedRaw",
            config.database
        ))
        .unwrap();
    let created = String::from_utf8_lossy(&created);
    assert_eq!(
        created.contains("attribute_keys"),
        extras.skip_indexes,
        "{created}"
    );
    assert_eq!(created.contains("TTL"), extras.ttl, "{created}");
    // An attribute value is found (through the `attribute_index` table).
    store.write(&conformance::synthetic(20, 0, &|_| 0)).unwrap();
    let all = store
        .search(&TraceQuery {
            limit: 100,
            ..TraceQuery::default()
        })
        .unwrap();
    assert_eq!(all.len(), 20);
    let user_3 = TraceQuery {
        limit: 100,
        attributes: vec![spanview_core::attribute_filter::AttributeFilter::equals(
            "user.id", "3",
        )],
        ..TraceQuery::default()
    };
    assert_eq!(store.search(&user_3).unwrap().len(), 3);
    drop(store);
    // Opening again (the indexes exist now) changes nothing.
    let store = ClickHouseStore::open(&config).unwrap();
    assert_eq!(
        store
            .search(&TraceQuery {
                limit: 100,
                ..TraceQuery::default()
            })
            .unwrap(),
        all
    );
}
