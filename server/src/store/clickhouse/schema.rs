//! The schema, created and migrated by spanview: numbered migrations, each recorded in
//! `spanview_migrations` once applied. Every statement is idempotent (`IF NOT EXISTS`), so two
//! spanviews starting at once, or a migration cut short, are harmless: it runs again.
//!
//! Two tables, both partitioned by the hour a row started in (retention drops whole hours):
//!
//! - `chunks`: what one write added to one trace: the spans in core's compact encoding (`Body`,
//!   read back exactly), their fingerprints (duplicates are dropped on read and never counted)
//!   and the chunk's summary (time range, services, root candidate). Ordered by `TraceId`, so it
//!   is also the trace index: trace by id and the summaries of a search read a few granules.
//! - `spans`: one searchable row per span, ordered by (service, span name, start), so a search
//!   by service and operation reads a prefix of the primary key. Attributes (span and resource,
//!   scalar values as text) are `Nested(Key, Value)`.
//!
//! - `spans` gains `Kind` and `StatusCode` (OTLP numbers) in version 3, for the kind and status
//!   filters; rows written before read as unspecified, and as error or unset as
//!   `IsError` says. From version 3 on its
//!   attributes also hold the span's events' attributes.
//! - `operation_minutes`, `edge_minutes` (version 2): the per-minute service aggregates of
//!   `core::service_metrics`, counters summed by `SummingMergeTree` (reads still `sum()`, as
//!   parts merge whenever), filled by spanview's own inserts beside the other two.
//!
//! On a cluster (`--clickhouse-cluster`) each is a `_local` table on every node (created
//! `ON CLUSTER`; `ReplicatedMergeTree` when the cluster has replicas) behind a `Distributed`
//! table sharded by `cityHash64(TraceId)`, so that a whole trace lives on one shard and a
//! search's `IN` subqueries can run shard-locally.
//!
//! Only what ClickHouse 18.16 has is used (no skip indexes, TTL, codecs, `Map`, `DateTime64`).

use super::client::{Client, ClientError, quote};
use crate::store::StoreError;

/// Names of the tables and where DDL runs.
#[derive(Debug, Clone)]
pub struct Layout {
    pub database: String,
    pub cluster: Option<String>,
}

impl Layout {
    fn on_cluster(&self) -> String {
        match &self.cluster {
            Some(cluster) => format!(" ON CLUSTER {cluster}"),
            None => String::new(),
        }
    }

    /// The table reads and inserts go to (the `Distributed` one on a cluster).
    pub fn table(&self, name: &str) -> String {
        format!("{}.{name}", self.database)
    }

    /// The table holding this node's rows, for subqueries that run on each shard.
    pub fn local(&self, name: &str) -> String {
        match &self.cluster {
            Some(_) => format!("{}.{name}_local", self.database),
            None => self.table(name),
        }
    }
}

/// Database, table and cluster names go into SQL unquoted: keep them to plain identifiers.
pub fn check_identifier(kind: &str, name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        Ok(())
    } else {
        Err(format!(
            "{kind} {name:?} must be letters, digits and underscores, not starting with a digit"
        ))
    }
}

const CHUNK_COLUMNS: &str = "TraceId FixedString(16),
    StartNs UInt64,
    EndNs UInt64,
    Fingerprints Array(UInt64),
    ErrorFingerprints Array(UInt64),
    Services Array(String),
    RootService String,
    RootName String,
    RootStartNs UInt64,
    RootIsTrue UInt8,
    Body String";

const SPAN_COLUMNS: &str = "Service String,
    Name String,
    StartNs UInt64,
    DurationNs UInt64,
    TraceId FixedString(16),
    IsError UInt8,
    Attributes Nested(Key String, Value String)";

/// Tables are partitioned by the hour their rows started in (retention drops whole hours).
pub const HOUR_NANOS: u64 = 3_600_000_000_000;

/// The newest schema version this spanview knows.
pub const SCHEMA_VERSION: u32 = 3;

pub(super) fn migration_statements(layout: &Layout, version: u32, replicated: bool) -> Vec<String> {
    let on_cluster = layout.on_cluster();
    let engine_of = |kind: &str, table: &str| {
        if replicated {
            format!(
                "Replicated{kind}('/clickhouse/tables/{{shard}}/{}/{table}', '{{replica}}')",
                layout.database
            )
        } else {
            kind.to_owned()
        }
    };
    let engine = |table: &str| engine_of("MergeTree", table);
    let mut statements = Vec::new();
    if version == 1 {
        // A trace by id reads one granule of chunks: keep it small, for `Body` is large.
        for (name, columns, order, granularity) in [
            ("chunks", CHUNK_COLUMNS, "TraceId", 256),
            ("spans", SPAN_COLUMNS, "(Service, Name, StartNs)", 8192),
        ] {
            let local = layout.local(name);
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {local}{on_cluster} ({columns})
                 ENGINE = {} PARTITION BY intDiv(StartNs, {HOUR_NANOS}) ORDER BY {order}
                 SETTINGS index_granularity = {granularity}",
                engine(&local)
            ));
            if let Some(cluster) = &layout.cluster {
                statements.push(format!(
                    "CREATE TABLE IF NOT EXISTS {}{on_cluster} AS {local}
                     ENGINE = Distributed({cluster}, {}, {name}_local, cityHash64(TraceId))",
                    layout.table(name),
                    layout.database
                ));
            }
        }
    }
    if version == 2 {
        for (name, columns, order) in [
            (
                "operation_minutes",
                "Minute UInt64, Service String, Operation String, Bucket UInt64, N UInt64, NErrors UInt64",
                "(Minute, Service, Operation, Bucket)",
            ),
            (
                "edge_minutes",
                "Minute UInt64, Caller String, Callee String, Bucket UInt64, N UInt64, NErrors UInt64",
                "(Minute, Caller, Callee, Bucket)",
            ),
        ] {
            let local = layout.local(name);
            // Partitioned by hour like the other tables, so retention drops the same hours.
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {local}{on_cluster} ({columns})
                 ENGINE = {} PARTITION BY intDiv(Minute, 60) ORDER BY {order}",
                engine_of("SummingMergeTree", &local)
            ));
            if let Some(cluster) = &layout.cluster {
                statements.push(format!(
                    "CREATE TABLE IF NOT EXISTS {}{on_cluster} AS {local}
                     ENGINE = Distributed({cluster}, {}, {name}_local, rand())",
                    layout.table(name),
                    layout.database
                ));
            }
        }
    }
    statements
}

/// Creates the database and brings the schema to [`SCHEMA_VERSION`].
pub fn migrate(client: &Client, layout: &Layout) -> Result<(), StoreError> {
    let on_cluster = layout.on_cluster();
    client.execute(&format!(
        "CREATE DATABASE IF NOT EXISTS {}{on_cluster}",
        layout.database
    ))?;
    let migrations = format!("{}.spanview_migrations", layout.database);
    // MergeTree, not TinyLog: spanviews started at once insert their records concurrently, and
    // 18.16's TinyLog then fails ("tmp_sizes.json" not found). Databases made before keep theirs.
    client.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {migrations}{on_cluster} (Version UInt32, AppliedAt DateTime) \
         ENGINE = MergeTree() ORDER BY Version"
    ))?;
    let found = applied_version(client, &migrations)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaVersion {
            path: format!("{} database {}", client.url(), layout.database),
            found: i64::from(found),
            expected: i64::from(SCHEMA_VERSION),
        });
    }
    let replicated = match &layout.cluster {
        Some(cluster) => has_replicas(client, cluster)?,
        None => false,
    };
    for version in found + 1..=SCHEMA_VERSION {
        for statement in migration_statements(layout, version, replicated) {
            client.execute(&statement)?;
        }
        if version == 3 {
            add_kind_and_status(client, layout)?;
        }
        client.execute(&format!(
            "INSERT INTO {migrations} (Version, AppliedAt) VALUES ({version}, now())"
        ))?;
        tracing::info!(version, database = %layout.database, "clickhouse schema migrated");
    }
    Ok(())
}

/// Version 3: `Kind` and `StatusCode` on `spans`. 18.16 has no `ADD COLUMN IF NOT EXISTS`, so
/// a column this node already has (a migration cut short) is skipped by asking first, and an
/// `ALTER` that fails because another spanview added the column meanwhile is no failure.
///
/// On a cluster the `Distributed` table is made again from the local one instead: 18.16
/// refuses an `ALTER ... ON CLUSTER` of a table that is not replicated when the cluster has
/// replicas, and a `Distributed` table holds no rows (inserts into it are synchronous).
fn add_kind_and_status(client: &Client, layout: &Layout) -> Result<(), StoreError> {
    let on_cluster = layout.on_cluster();
    let local = layout.local("spans");
    // Older rows read as unspecified, and as error or unset as `IsError` says.
    for (column, default) in [("Kind", "0"), ("StatusCode", "toUInt8(IsError * 2)")] {
        if has_column(client, &local, column)? {
            continue;
        }
        let added = client.execute(&format!(
            "ALTER TABLE {local}{on_cluster} ADD COLUMN {column} UInt8 DEFAULT {default}"
        ));
        if let Err(error) = added
            && !has_column(client, &local, column)?
        {
            return Err(error.into());
        }
    }
    if let Some(cluster) = &layout.cluster {
        let distributed = layout.table("spans");
        if !has_column(client, &distributed, "StatusCode")? {
            client.execute(&format!("DROP TABLE IF EXISTS {distributed}{on_cluster}"))?;
            client.execute(&format!(
                "CREATE TABLE IF NOT EXISTS {distributed}{on_cluster} AS {local}
                 ENGINE = Distributed({cluster}, {}, spans_local, cityHash64(TraceId))",
                layout.database
            ))?;
        }
    }
    Ok(())
}

fn has_column(client: &Client, table: &str, column: &str) -> Result<bool, StoreError> {
    let (database, name) = table.split_once('.').expect("tables are database.name");
    let text = client.query(&format!(
        "SELECT count() FROM system.columns WHERE database = {} AND table = {} AND name = {} \
         FORMAT TabSeparated",
        quote(database),
        quote(name),
        quote(column)
    ))?;
    Ok(String::from_utf8_lossy(&text).trim() != "0")
}

fn applied_version(client: &Client, migrations: &str) -> Result<u32, StoreError> {
    let text = client.query(&format!(
        "SELECT max(Version) FROM {migrations} FORMAT TabSeparated"
    ))?;
    let text = String::from_utf8_lossy(&text);
    text.trim().parse().map_err(|_| {
        StoreError::ClickHouse(ClientError::Unexpected(format!(
            "the schema version is {text:?}"
        )))
    })
}

/// Whether some shard of the cluster has more than one replica (then tables replicate).
fn has_replicas(client: &Client, cluster: &str) -> Result<bool, StoreError> {
    let text = client.query(&format!(
        "SELECT count() FROM system.clusters WHERE cluster = {} AND replica_num > 1 FORMAT TabSeparated",
        quote(cluster)
    ))?;
    let text = String::from_utf8_lossy(&text);
    let n_extra: u64 = text.trim().parse().unwrap_or(0);
    let known = client.query(&format!(
        "SELECT count() FROM system.clusters WHERE cluster = {} FORMAT TabSeparated",
        quote(cluster)
    ))?;
    if String::from_utf8_lossy(&known).trim() == "0" {
        return Err(StoreError::ClickHouse(ClientError::Unexpected(format!(
            "the server knows no cluster named {cluster:?} (system.clusters)"
        ))));
    }
    Ok(n_extra > 0)
}
