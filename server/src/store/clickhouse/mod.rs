//! The ClickHouse store: spans in a ClickHouse server or cluster, any number of stateless
//! spanviews in front (`--store clickhouse`).
//!
//! [`client`] speaks ClickHouse's HTTP interface, [`schema`] creates and migrates the tables
//! (single node or cluster), [`write`] prepares a write's rows, [`spool`] inserts them in
//! batches and keeps them in a local write-ahead spool while ClickHouse cannot take them,
//! [`read`] and [`search`] answer queries, and [`readiness`] lets `serve` start while
//! ClickHouse does not answer (writes spooled, reads `Unavailable` until the schema is migrated).
//!
//! Architecture invariant: `write` returns `Ok` only when the rows are in ClickHouse or fsynced
//! in the spool (replayed after a crash); never both lost. Reads see spooled rows once they
//! are inserted.
//!
//! Known approximations, against the embedded store:
//! - Re-sent spans are recognised against what ClickHouse holds when the write is prepared;
//!   spans of writes still in the spool, or of two concurrent writes, may be stored twice. Reads
//!   and counts drop such duplicates by fingerprint, so the API shows each span once.
//! - Retention drops whole hours (partitions by the hour a span or chunk started):
//!   `delete_traces_started_before` removes the hours wholly before the cutoff's hour, and
//!   `delete_oldest_traces` removes the oldest hour, however many traces it holds. A trace that
//!   crosses an hour's end loses its earlier hour first.
//! - The live view (`updated_traces`) merges this write with what was stored when it was
//!   prepared; writes made through other spanviews reach it by the live feed's poll
//!   (`recently_ended_traces`, `api::live`): within a second, for spans that ended in the
//!   last minute by the server's clock.

mod attribute_index;
pub mod client;
mod read;
mod readiness;
mod rowbinary;
mod schema;
mod search;
mod spool;
mod write;

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use spanview_core::query::TraceQuery;
use spanview_core::service_metrics::{Counters, EdgeKey, OperationKey};
use spanview_core::{Batch, Trace, TraceId, TraceSummary};

use self::client::{Client, ClientError, quote};
use self::readiness::SchemaGate;
use self::rowbinary::RowReader;
use self::schema::{HOUR_NANOS, Layout};
pub use self::spool::Acknowledge;
use self::spool::{Inserter, Spool, WritePath};
use super::{MinuteRange, StoreError, TraceStore, WriteOutcome};

/// The spool's default size limit.
pub const DEFAULT_SPOOL_MAX_BYTES: u64 = 1 << 30;

#[derive(Debug, Clone)]
pub struct ClickHouseConfig {
    /// `http://HOST:8123`
    pub url: String,
    pub database: String,
    /// Create tables `ON CLUSTER` this cluster, behind `Distributed` tables.
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The write-ahead spool's directory (in the data directory).
    pub spool_dir: PathBuf,
    pub spool_max_bytes: u64,
    /// Start even when ClickHouse does not answer (`serve`): writes are spooled, reads answer
    /// `StoreError::Unavailable`, and the schema is migrated once it answers. Otherwise
    /// (`import`, `compare`) an unreachable server fails [`ClickHouseStore::open`].
    pub start_without_server: bool,
    /// `--retention-age`: also set as the tables' TTL on servers that have it.
    pub retention_age_nanos: Option<u64>,
    /// `--clickhouse-ack`: answer a write once inserted, or once spooled.
    pub acknowledge: Acknowledge,
}

pub struct ClickHouseStore {
    client: Client,
    layout: Layout,
    write_path: WritePath,
    /// Open once the schema is migrated (at start, or later when ClickHouse was away).
    gate: Arc<SchemaGate>,
    migrator: Option<JoinHandle<()>>,
    /// For `remote()` to the cluster's other nodes, which needs them in the statement.
    credentials: Option<(String, String)>,
}

impl ClickHouseStore {
    /// Connects, creates or migrates the schema, and starts inserting what the spool holds; with
    /// `start_without_server`, an unreachable ClickHouse defers the migration (see
    /// [`readiness`]).
    pub fn open(config: &ClickHouseConfig) -> Result<Self, StoreError> {
        let invalid = |message: String| StoreError::ClickHouse(ClientError::Unexpected(message));
        schema::check_identifier("the database name", &config.database).map_err(invalid)?;
        if let Some(cluster) = &config.cluster {
            schema::check_identifier("the cluster name", cluster).map_err(invalid)?;
        }
        let client = Client::new(
            &config.url,
            config.user.as_deref(),
            config.password.as_deref(),
        );
        let layout = Layout {
            database: config.database.clone(),
            cluster: config.cluster.clone(),
        };
        let spool = Spool::open(&config.spool_dir, config.spool_max_bytes)?;
        let (gate, migrator) = match schema::prepare(&client, &layout, config.retention_age_nanos) {
            Ok(_extras) => (Arc::new(SchemaGate::ready()), None),
            Err(error) if config.start_without_server && readiness::is_unreachable(&error) => {
                let gate = Arc::new(SchemaGate::default());
                let migrator = readiness::migrate_in_background(
                    client.clone(),
                    layout.clone(),
                    config.retention_age_nanos,
                    gate.clone(),
                    &error,
                )?;
                (gate, Some(migrator))
            }
            Err(error) => return Err(error),
        };
        let write_path = WritePath::start(
            Inserter {
                client: client.clone(),
                layout: layout.clone(),
            },
            spool,
            gate.clone(),
            config.acknowledge,
        )?;
        let credentials = (config.user.is_some() || config.password.is_some()).then(|| {
            (
                config.user.clone().unwrap_or_else(|| "default".to_owned()),
                config.password.clone().unwrap_or_default(),
            )
        });
        Ok(Self {
            client,
            layout,
            write_path,
            gate,
            migrator,
            credentials,
        })
    }

    /// `Ok` when reads can be answered: the schema is migrated. A read that finds ClickHouse
    /// unreachable is `Unavailable` too (`503` with `Retry-After`), not a failure of spanview.
    fn readable<T>(&self, read: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.gate.check()?;
        read().map_err(|error| match error {
            StoreError::ClickHouse(unreachable @ ClientError::Unreachable { .. }) => {
                StoreError::Unavailable(unreachable.to_string())
            }
            other => other,
        })
    }

    /// Whether batches wait in the spool for ClickHouse.
    pub fn is_spooling(&self) -> bool {
        self.write_path.is_spooling()
    }

    /// `system.parts` of every node: on a cluster through `remote()` over its hosts.
    fn parts_table(&self) -> Result<String, StoreError> {
        let Some(cluster) = &self.layout.cluster else {
            return Ok("system.parts".to_owned());
        };
        let text = self.client.query(&format!(
            "SELECT host_address, port FROM system.clusters WHERE cluster = {} FORMAT TabSeparated",
            quote(cluster)
        ))?;
        let hosts: Vec<String> = String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|line| {
                let (host, port) = line.split_once('\t')?;
                Some(format!("{host}:{port}"))
            })
            .collect();
        let credentials = match &self.credentials {
            Some((user, password)) => format!(", {}, {}", quote(user), quote(password)),
            None => String::new(),
        };
        Ok(format!(
            "remote({}, system.parts{credentials})",
            quote(&hosts.join(","))
        ))
    }

    /// The hours (since 1970) that hold rows of either table, oldest first.
    fn hours(&self) -> Result<Vec<u64>, StoreError> {
        let tables = [self.layout.local("chunks"), self.layout.local("spans")]
            .map(|table| quote(table.rsplit('.').next().unwrap_or_default()));
        let text = self.client.query(&format!(
            "SELECT DISTINCT partition FROM {} WHERE database = {} AND table IN ({}) AND active FORMAT TabSeparated",
            self.parts_table()?,
            quote(&self.layout.database),
            tables.join(", ")
        ))?;
        let mut hours: Vec<u64> = String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect();
        hours.sort_unstable();
        hours.dedup();
        Ok(hours)
    }

    /// Drops the hours' partitions of both tables; returns the traces that had chunks in them.
    fn drop_hours(&self, hours: &[u64]) -> Result<u64, StoreError> {
        if hours.is_empty() {
            return Ok(0);
        }
        let hour_list: Vec<String> = hours.iter().map(u64::to_string).collect();
        let text = self.client.query(&format!(
            "SELECT uniqExact(TraceId) FROM {} WHERE intDiv(StartNs, {HOUR_NANOS}) IN ({}) FORMAT TabSeparated",
            self.layout.table("chunks"),
            hour_list.join(", ")
        ))?;
        let n_traces: u64 = String::from_utf8_lossy(&text).trim().parse().unwrap_or(0);
        let on_cluster = match &self.layout.cluster {
            Some(cluster) => format!(" ON CLUSTER {cluster}"),
            None => String::new(),
        };
        for table in [
            "chunks",
            "spans",
            "attribute_index",
            "operation_minutes",
            "edge_minutes",
        ] {
            for hour in hours {
                self.client.execute(&format!(
                    "ALTER TABLE {}{on_cluster} DROP PARTITION {hour}",
                    self.layout.local(table),
                ))?;
            }
        }
        Ok(n_traces)
    }
}

impl TraceStore for ClickHouseStore {
    fn write(&self, batch: &Batch) -> Result<WriteOutcome, StoreError> {
        let trace_ids: Vec<TraceId> = write::group_by_trace(batch)
            .into_iter()
            .map(|(trace_id, _)| trace_id)
            .collect();
        if trace_ids.is_empty() {
            return Ok(WriteOutcome::default());
        }
        // What is stored already, to leave re-sent spans out; unknown while ClickHouse is
        // away (reads drop the duplicates that lets in).
        let stored = if self.write_path.is_spooling() || !self.gate.is_ready() {
            Default::default()
        } else {
            match read::stored_traces(&self.client, &self.layout, &trace_ids) {
                Ok(stored) => stored,
                Err(error) => {
                    tracing::warn!(%error, "cannot look up stored spans: writing without");
                    Default::default()
                }
            }
        };
        let prepared = write::prepare(batch, &stored);
        if prepared.n_spans_added == 0 {
            return Ok(WriteOutcome::default());
        }
        self.write_path.write(prepared.rows)?;
        Ok(WriteOutcome {
            n_spans_added: prepared.n_spans_added,
            updated_traces: prepared.updated_traces,
        })
    }

    fn trace(&self, trace_id: TraceId) -> Result<Option<Trace>, StoreError> {
        self.readable(|| read::trace(&self.client, &self.layout, trace_id))
    }

    fn search(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        self.readable(|| search::search(&self.client, &self.layout, query))
    }

    fn services(&self) -> Result<Vec<String>, StoreError> {
        self.readable(|| {
            let bytes = self.client.query(&format!(
                "SELECT DISTINCT Service FROM {} ORDER BY Service FORMAT RowBinary",
                self.layout.table("spans")
            ))?;
            read_strings(&bytes)
        })
    }

    fn operations(&self, service: &str) -> Result<Vec<String>, StoreError> {
        self.readable(|| {
            let bytes = self.client.query(&format!(
                "SELECT DISTINCT Name FROM {} WHERE Service = {} ORDER BY Name FORMAT RowBinary",
                self.layout.table("spans"),
                quote(service)
            ))?;
            read_strings(&bytes)
        })
    }

    fn operation_aggregates(
        &self,
        range: MinuteRange,
        service: Option<&str>,
    ) -> Result<Vec<(OperationKey, Counters)>, StoreError> {
        let service_filter = match service {
            Some(service) => format!(" AND Service = {}", quote(service)),
            None => String::new(),
        };
        self.readable(|| {
            self.summed_aggregates(
                "operation_minutes",
                ["Service", "Operation"],
                range,
                &service_filter,
                |minute, service, operation, bucket| OperationKey {
                    minute,
                    service,
                    operation,
                    bucket,
                },
            )
        })
    }

    fn edge_aggregates(&self, range: MinuteRange) -> Result<Vec<(EdgeKey, Counters)>, StoreError> {
        self.readable(|| {
            self.summed_aggregates(
                "edge_minutes",
                ["Caller", "Callee"],
                range,
                "",
                |minute, caller, callee, bucket| EdgeKey {
                    minute,
                    caller,
                    callee,
                    bucket,
                },
            )
        })
    }

    fn size_bytes(&self) -> Result<u64, StoreError> {
        self.readable(|| {
            // system.parts is per node: on a cluster, ask every node of it.
            let parts = self.parts_table()?;
            let text = self.client.query(&format!(
                "SELECT sum(bytes) FROM {parts} WHERE database = {} AND active FORMAT TabSeparated",
                quote(&self.layout.database)
            ))?;
            Ok(String::from_utf8_lossy(&text).trim().parse().unwrap_or(0))
        })
    }

    fn delete_traces_started_before(&self, unix_nanos: u64) -> Result<u64, StoreError> {
        self.readable(|| {
            let cutoff_hour = unix_nanos / HOUR_NANOS;
            let mut hours = self.hours()?;
            hours.retain(|hour| *hour < cutoff_hour);
            self.drop_hours(&hours)
        })
    }

    fn delete_oldest_traces(&self, count: u64) -> Result<u64, StoreError> {
        if count == 0 {
            return Ok(0);
        }
        self.readable(|| {
            let oldest: Vec<u64> = self.hours()?.into_iter().take(1).collect();
            self.drop_hours(&oldest)
        })
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn recently_ended_traces(
        &self,
        end_after_nanos: u64,
        limit: usize,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        self.readable(|| search::recently_ended(&self.client, &self.layout, end_after_nanos, limit))
    }

    fn readiness(&self) -> Result<(), String> {
        self.readable(|| Ok(self.client.execute("SELECT 1")?))
            .map_err(|error| match error {
                StoreError::Unavailable(reason) => reason,
                other => other.to_string(),
            })
    }
}

impl Drop for ClickHouseStore {
    fn drop(&mut self) {
        self.gate.stop();
        if let Some(migrator) = self.migrator.take() {
            let _ = migrator.join();
        }
    }
}

impl ClickHouseStore {
    /// One of the aggregate tables summed per (step, its two name columns, bucket) over
    /// `range` (`filter`: more `AND` conditions); `key` makes each row's key from (step minute,
    /// first name, second name, bucket).
    fn summed_aggregates<K>(
        &self,
        table: &str,
        [first, second]: [&str; 2],
        range: MinuteRange,
        filter: &str,
        key: impl Fn(u64, String, String, u16) -> K,
    ) -> Result<Vec<(K, Counters)>, StoreError> {
        let bytes = self.client.query(&format!(
            "SELECT intDiv(Minute, {step}) * {step} AS Step, {first}, {second}, Bucket, sum(N), sum(NErrors)
               FROM {} WHERE Minute >= {} AND Minute <= {}{filter}
              GROUP BY Step, {first}, {second}, Bucket FORMAT RowBinary",
            self.layout.table(table),
            range.start_minute,
            range.end_minute,
            step = range.step_minutes.max(1),
        ))?;
        let mut reader = RowReader::new(&bytes);
        let mut rows = Vec::new();
        while !reader.is_empty() {
            let minute = reader.u64()?;
            let first = reader.string()?;
            let second = reader.string()?;
            let bucket = u16::try_from(reader.u64()?).unwrap_or(u16::MAX);
            let counters = Counters {
                n: reader.u64()?,
                n_errors: reader.u64()?,
            };
            rows.push((key(minute, first, second, bucket), counters));
        }
        Ok(rows)
    }
}

fn read_strings(bytes: &[u8]) -> Result<Vec<String>, StoreError> {
    let mut reader = RowReader::new(bytes);
    let mut strings = Vec::new();
    while !reader.is_empty() {
        strings.push(reader.string()?);
    }
    Ok(strings)
}

#[cfg(test)]
mod tests;
