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
//! - `attribute_terms` (version 4): which traces have a span with `Key = Value`, ordered by
//!   (key, value, start), so that a search for a rare value reads a granule instead of every
//!   span's attributes. Filled by a materialized view on (local) `spans` inserts, one row per
//!   distinct attribute of a trace per insert; rows stored before it are copied once.
//! - `attribute_index` (version 5) replaces `attribute_terms` at a third of its size: the
//!   same terms, but each names its trace by `cityHash64(TraceId)` (8 bytes, where a 16-byte
//!   id cost 10 after compression) and its start by the minute (a run of equal numbers within
//!   a term, where nanoseconds cost 6 bytes a row). A search matches the hashes against the
//!   chunks of its window; two traces share a hash with a chance of about 1 in 2^64 per pair,
//!   as with the embedded store's terms. Rows of `attribute_terms` are copied over once, then
//!   it is dropped.
//! - Version 6 drops `attribute_index`'s materialized view: spanview inserts the index rows
//!   itself, derived from each insert's span rows (`attribute_index.rs`), which spares
//!   ClickHouse the view's `ARRAY JOIN` and `GROUP BY`; every attribute search (`=`, `!=`,
//!   `exists`) reads the index, and new `spans` rows leave their `Attributes` empty (the
//!   column, and on newer servers its skip index, stay for the rows before). All spanviews on a
//!   database are upgraded together: one of schema 5 would store spans without index rows.
//! - `operation_minutes`, `edge_minutes` (version 2): the per-minute service aggregates of
//!   `core::service_metrics`, counters summed by `SummingMergeTree` (reads still `sum()`, as
//!   parts merge whenever), filled by spanview's own inserts beside the other two.
//!
//! On a cluster (`--clickhouse-cluster`) each is a `_local` table on every node (created
//! `ON CLUSTER`; `ReplicatedMergeTree` when the cluster has replicas) behind a `Distributed`
//! table sharded by `cityHash64(TraceId)`, so that a whole trace lives on one shard and a
//! search's `IN` subqueries can run shard-locally.
//!
//! Only what ClickHouse 18.16 has is used, except for the [`Extras`] that `SELECT version()`
//! finds the server to have: a bloom-filter skip index on the span attributes' keys (added to
//! existing tables at every start when missing), compression codecs on
//! tables created by such a server, and TTL retention (`--retention-age`, set at every start).
//! On 18.16 the SQL is exactly what it was before extras existed.

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

    /// On a cluster, the statement that puts the `Distributed` table `name` in front of every
    /// node's `name_local`, sharded by `sharding_key`; nothing on a single node.
    fn distributed_table(&self, name: &str, sharding_key: &str) -> Option<String> {
        let cluster = self.cluster.as_ref()?;
        Some(format!(
            "CREATE TABLE IF NOT EXISTS {}{} AS {}
             ENGINE = Distributed({cluster}, {}, {name}_local, {sharding_key})",
            self.table(name),
            self.on_cluster(),
            self.local(name),
            self.database
        ))
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

/// `chunks` with codecs: ids and bodies are near-random or compressed already (ZSTD(1) is
/// cheap); times within a trace are close.
const CHUNK_COLUMNS_WITH_CODECS: &str = "TraceId FixedString(16),
    StartNs UInt64 CODEC(Delta, ZSTD(1)),
    EndNs UInt64 CODEC(Delta, ZSTD(1)),
    Fingerprints Array(UInt64) CODEC(ZSTD(1)),
    ErrorFingerprints Array(UInt64) CODEC(ZSTD(1)),
    Services Array(String) CODEC(ZSTD(1)),
    RootService String CODEC(ZSTD(1)),
    RootName String CODEC(ZSTD(1)),
    RootStartNs UInt64 CODEC(Delta, ZSTD(1)),
    RootIsTrue UInt8,
    Body String CODEC(ZSTD(1))";

/// `spans` with codecs (start times ascend within a (service, name) run: `Delta`), and a skip
/// index on the attribute keys for `has(Attributes.Key, key)` (an attribute that exists);
/// `key = value` searches use the `attribute_terms` table on every server.
const SPAN_COLUMNS_WITH_EXTRAS: &str = "Service String,
    Name String,
    StartNs UInt64 CODEC(Delta, ZSTD(1)),
    DurationNs UInt64 CODEC(ZSTD(1)),
    TraceId FixedString(16) CODEC(ZSTD(1)),
    IsError UInt8,
    Attributes Nested(Key String, Value String),
    INDEX attribute_keys Attributes.Key TYPE bloom_filter(0.01) GRANULARITY 1";

/// A server's release, from `SELECT version()` (`18.16.1`, `26.9.1.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
}

impl ServerVersion {
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts
            .next()?
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()?;
        Some(Self { major, minor })
    }
}

/// What a server has beyond 18.16 that spanview uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extras {
    /// Skip indexes (`bloom_filter` on arrays, used by `has`): experimental behind a setting
    /// before 20.1, which spanview does not send (modern servers reject unknown settings); taken
    /// from 21.1.
    pub skip_indexes: bool,
    /// Column codecs (`Delta`, `ZSTD(level)`): 19.1 on; taken from 20.1.
    pub codecs: bool,
    /// Table TTL (19.6 on) with `ttl_only_drop_parts` (a table setting from 20.x); taken from 20.1.
    pub ttl: bool,
}

impl Extras {
    pub fn for_version(version: ServerVersion) -> Self {
        let at_least = |major, minor| version >= ServerVersion { major, minor };
        Self {
            skip_indexes: at_least(21, 1),
            codecs: at_least(20, 1),
            ttl: at_least(20, 1),
        }
    }

    /// The extras of the server `client` speaks to; none when its version is unreadable.
    pub fn of_server(client: &Client) -> Result<Self, StoreError> {
        let text = client.query("SELECT version() FORMAT TabSeparated")?;
        let text = String::from_utf8_lossy(&text);
        Ok(match ServerVersion::parse(&text) {
            Some(version) => Self::for_version(version),
            None => {
                tracing::warn!(version = %text.trim(), "unknown clickhouse version: using no extras");
                Self::default()
            }
        })
    }
}

/// Tables are partitioned by the hour their rows started in (retention drops whole hours).
pub const HOUR_NANOS: u64 = 3_600_000_000_000;

/// The newest schema version this spanview knows.
pub const SCHEMA_VERSION: u32 = 6;

/// The attribute-term table's columns (version 4): which traces have a span with `Key = Value`.
const ATTRIBUTE_TERM_COLUMNS: &str =
    "Key String, Value String, TraceId FixedString(16), StartNs UInt64";

/// What the materialized view (and the backfill of older rows) takes from `spans`: one row per
/// distinct attribute of a trace in an insert, at the earliest start of its spans there.
fn attribute_terms_select(spans: &str) -> String {
    format!(
        "SELECT Attributes.Key AS Key, Attributes.Value AS Value, TraceId, min(StartNs) AS StartNs
           FROM {spans} ARRAY JOIN Attributes GROUP BY Key, Value, TraceId"
    )
}

/// The attribute index's columns (version 5): which traces, by [`TRACE_HASH`], have a span with
/// `Key = Value` starting in `Minute` (since the epoch) or later.
const ATTRIBUTE_INDEX_COLUMNS: &str = "Key String, Value String, Minute UInt32, TraceHash UInt64";

/// How the attribute index names a trace; also the `Distributed` tables' sharding key, so an
/// index row lives on its trace's shard.
pub const TRACE_HASH: &str = "cityHash64(TraceId)";

pub const MINUTE_NANOS: u64 = 60_000_000_000;

/// What the attribute index's materialized view takes from `spans`: one row per distinct
/// attribute of a trace in an insert, at the minute of the earliest start of its spans there.
fn attribute_index_select(spans: &str) -> String {
    format!(
        "SELECT Attributes.Key AS Key, Attributes.Value AS Value,
                toUInt32(intDiv(min(StartNs), {MINUTE_NANOS})) AS Minute, {TRACE_HASH} AS TraceHash
           FROM {spans} ARRAY JOIN Attributes GROUP BY Key, Value, TraceId"
    )
}

pub(super) fn migration_statements(
    layout: &Layout,
    version: u32,
    replicated: bool,
    extras: Extras,
) -> Vec<String> {
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
        let (chunk_columns, span_columns) = match (extras.codecs, extras.skip_indexes) {
            (true, true) => (CHUNK_COLUMNS_WITH_CODECS, SPAN_COLUMNS_WITH_EXTRAS),
            // Each extra needs the other's release or a later one (see `Extras`).
            _ => (CHUNK_COLUMNS, SPAN_COLUMNS),
        };
        for (name, columns, order, granularity) in [
            ("chunks", chunk_columns, "TraceId", 256),
            ("spans", span_columns, "(Service, Name, StartNs)", 8192),
        ] {
            let local = layout.local(name);
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {local}{on_cluster} ({columns})
                 ENGINE = {} PARTITION BY intDiv(StartNs, {HOUR_NANOS}) ORDER BY {order}
                 SETTINGS index_granularity = {granularity}",
                engine(&local)
            ));
            statements.extend(layout.distributed_table(name, TRACE_HASH));
        }
    }
    if version == 4 {
        // A rare attribute is found by the primary key of a small table instead of by reading
        // every span's attributes. Filled by ClickHouse itself from each insert into the
        // (local) `spans` table, so that spool files and replays need nothing new.
        let local = layout.local("attribute_terms");
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {local}{on_cluster} ({ATTRIBUTE_TERM_COLUMNS})
             ENGINE = {} PARTITION BY intDiv(StartNs, {HOUR_NANOS}) ORDER BY (Key, Value, StartNs)",
            engine(&local)
        ));
        statements.extend(layout.distributed_table("attribute_terms", TRACE_HASH));
        statements.push(format!(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {}.attribute_terms_mv{on_cluster} TO {local}
             AS {}",
            layout.database,
            attribute_terms_select(&layout.local("spans"))
        ));
    }
    if version == 5 {
        // The index that replaces `attribute_terms` (see the module doc); its materialized view
        // starts before the old rows are copied, so no insert falls between the two.
        let local = layout.local("attribute_index");
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {local}{on_cluster} ({ATTRIBUTE_INDEX_COLUMNS})
             ENGINE = {} PARTITION BY intDiv(Minute, 60) ORDER BY (Key, Value, Minute)",
            engine(&local)
        ));
        statements.extend(layout.distributed_table("attribute_index", "TraceHash"));
        statements.push(format!(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {}.attribute_index_mv{on_cluster} TO {local}
             AS {}",
            layout.database,
            attribute_index_select(&layout.local("spans"))
        ));
    }
    if version == 6 {
        statements.push(format!(
            "DROP TABLE IF EXISTS {}.attribute_index_mv{on_cluster}",
            layout.database
        ));
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
            statements.extend(layout.distributed_table(name, "rand()"));
        }
    }
    statements
}

/// Creates the database and brings the schema to [`SCHEMA_VERSION`]; returns the server's
/// extras, which the schema uses where it can.
pub fn migrate(client: &Client, layout: &Layout) -> Result<Extras, StoreError> {
    let extras = Extras::of_server(client)?;
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
        // Spanviews starting at once run the same DDL side by side, and a statement may meet a
        // table another is still making or dropping: the statements are idempotent, so a
        // version that fails runs again (a few times) before the start fails.
        let mut applied = apply(client, layout, version, replicated, extras);
        for _ in 0..MIGRATION_ATTEMPTS - 1 {
            if applied.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
            applied = apply(client, layout, version, replicated, extras);
        }
        // Version 5 replaces version 4's table: a spanview migrating past both at the same time
        // may drop it under this one's feet (after making the new one). What this one made
        // again of it meanwhile, its own version 5 drops.
        if let Err(error) = applied
            && !(version == 4 && has_table(client, &layout.table("attribute_index"))?)
        {
            return Err(error);
        }
        client.execute(&format!(
            "INSERT INTO {migrations} (Version, AppliedAt) VALUES ({version}, now())"
        ))?;
        tracing::info!(version, database = %layout.database, "clickhouse schema migrated");
    }
    if extras.skip_indexes {
        add_skip_indexes(client, layout)?;
    }
    Ok(extras)
}

/// How many times a migration version runs before a failure fails the start.
const MIGRATION_ATTEMPTS: usize = 3;

/// Brings the schema from `version - 1` to `version`.
fn apply(
    client: &Client,
    layout: &Layout,
    version: u32,
    replicated: bool,
    extras: Extras,
) -> Result<(), StoreError> {
    for statement in migration_statements(layout, version, replicated, extras) {
        client.execute(&statement)?;
    }
    match version {
        3 => add_kind_and_status(client, layout)?,
        4 => {
            // Rows stored before the view: their terms, once (rows inserted meanwhile may get
            // theirs twice, which a search's `IN` does not mind). Through the `Distributed`
            // table on a cluster, which puts each on its trace's shard.
            client.execute(&format!(
                "INSERT INTO {} ({}) {}",
                layout.table("attribute_terms"),
                "Key, Value, TraceId, StartNs",
                attribute_terms_select(&layout.table("spans"))
            ))?;
        }
        5 => replace_attribute_terms(client, layout)?,
        _ => {}
    }
    Ok(())
}

/// The longest retention set as a TTL (ten years).
const MAX_TTL_NANOS: u64 = 10 * 365 * 24 * HOUR_NANOS;

/// Migrates (see [`migrate`]) and, with `retention_age_nanos` on a server with TTL, has
/// ClickHouse drop rows older than that by itself (spanview's retention runs as well).
pub fn prepare(
    client: &Client,
    layout: &Layout,
    retention_age_nanos: Option<u64>,
) -> Result<Extras, StoreError> {
    let extras = migrate(client, layout)?;
    // A TTL's `DateTime` ends in 2106: an age that reaches past it would wrap around and drop
    // everything at once. Such ages are left to spanview's own retention.
    if let Some(max_age_nanos) = retention_age_nanos
        && extras.ttl
        && max_age_nanos <= MAX_TTL_NANOS
    {
        for statement in ttl_statements(layout, max_age_nanos) {
            client.execute(&statement)?;
        }
    }
    Ok(extras)
}

/// The statements that give an existing `spans` table the attribute-key skip index; parts
/// written before are not indexed (they are read as before) until they merge.
pub(super) fn skip_index_statements(layout: &Layout) -> Vec<String> {
    let local = layout.local("spans");
    let on_cluster = layout.on_cluster();
    vec![format!(
        "ALTER TABLE {local}{on_cluster} ADD INDEX attribute_keys Attributes.Key \
         TYPE bloom_filter(0.01) GRANULARITY 1"
    )]
}

/// Adds the skip indexes to a `spans` table made before them (by 18.16, or an older spanview).
fn add_skip_indexes(client: &Client, layout: &Layout) -> Result<(), StoreError> {
    let local = layout.local("spans");
    let text = client.query(&format!("SHOW CREATE TABLE {local} FORMAT TabSeparatedRaw"))?;
    if String::from_utf8_lossy(&text).contains("attribute_keys") {
        return Ok(());
    }
    for statement in skip_index_statements(layout) {
        client.execute(&statement)?;
    }
    tracing::info!(table = %local, "clickhouse attribute skip indexes added");
    Ok(())
}

/// The statements that keep rows for `max_age_nanos` by TTL (whole parts dropped, as hour
/// partitions age out), on a server with [`Extras::ttl`].
pub(super) fn ttl_statements(layout: &Layout, max_age_nanos: u64) -> Vec<String> {
    let on_cluster = layout.on_cluster();
    let seconds = max_age_nanos.div_ceil(1_000_000_000).max(1);
    let mut statements = Vec::new();
    for (table, time) in [
        ("chunks", "toDateTime(intDiv(StartNs, 1000000000))"),
        ("spans", "toDateTime(intDiv(StartNs, 1000000000))"),
        ("attribute_index", "toDateTime(Minute * 60)"),
        ("operation_minutes", "toDateTime(Minute * 60)"),
        ("edge_minutes", "toDateTime(Minute * 60)"),
    ] {
        let local = layout.local(table);
        statements.push(format!(
            "ALTER TABLE {local}{on_cluster} MODIFY SETTING ttl_only_drop_parts = 1"
        ));
        statements.push(format!(
            "ALTER TABLE {local}{on_cluster} MODIFY TTL {time} + INTERVAL {seconds} SECOND"
        ));
    }
    statements
}

/// Version 5: copies `attribute_terms` into `attribute_index` (whose view already takes new
/// inserts: rows inserted meanwhile may be there twice, which a search's `IN` does not mind),
/// then drops it and its view. A spanview migrating at the same time may have dropped it
/// first: then there is nothing left to copy.
fn replace_attribute_terms(client: &Client, layout: &Layout) -> Result<(), StoreError> {
    let on_cluster = layout.on_cluster();
    let terms = layout.table("attribute_terms");
    let copied = client.execute(&format!(
        "INSERT INTO {} (Key, Value, Minute, TraceHash)
         SELECT Key, Value, toUInt32(intDiv(StartNs, {MINUTE_NANOS})), {TRACE_HASH} FROM {terms}",
        layout.table("attribute_index")
    ));
    // Dropped under the copy: nothing left to copy. Made again meanwhile by a spanview still
    // at version 4: the error, and `migrate` runs this version again.
    if let Err(error) = copied
        && has_table(client, &terms)?
    {
        return Err(error.into());
    }
    client.execute(&format!(
        "DROP TABLE IF EXISTS {}.attribute_terms_mv{on_cluster}",
        layout.database
    ))?;
    if layout.cluster.is_some() {
        client.execute(&format!("DROP TABLE IF EXISTS {terms}{on_cluster}"))?;
    }
    client.execute(&format!(
        "DROP TABLE IF EXISTS {}{on_cluster}",
        layout.local("attribute_terms")
    ))?;
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
    if let Some(create) = layout.distributed_table("spans", TRACE_HASH) {
        let distributed = layout.table("spans");
        if !has_column(client, &distributed, "StatusCode")? {
            client.execute(&format!("DROP TABLE IF EXISTS {distributed}{on_cluster}"))?;
            client.execute(&create)?;
        }
    }
    Ok(())
}

fn has_table(client: &Client, table: &str) -> Result<bool, StoreError> {
    let (database, name) = table.split_once('.').expect("tables are database.name");
    catalog_has(
        client,
        "tables",
        &format!("database = {} AND name = {}", quote(database), quote(name)),
    )
}

fn has_column(client: &Client, table: &str, column: &str) -> Result<bool, StoreError> {
    let (database, name) = table.split_once('.').expect("tables are database.name");
    catalog_has(
        client,
        "columns",
        &format!(
            "database = {} AND table = {} AND name = {}",
            quote(database),
            quote(name),
            quote(column)
        ),
    )
}

/// Whether the server's `system.{catalog}` has a row where `condition` holds.
fn catalog_has(client: &Client, catalog: &str, condition: &str) -> Result<bool, StoreError> {
    let text = client.query(&format!(
        "SELECT count() FROM system.{catalog} WHERE {condition} FORMAT TabSeparated"
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
