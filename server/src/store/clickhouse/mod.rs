//! The ClickHouse store: spans in a ClickHouse server or cluster, any number of stateless
//! spanviews in front (`--store clickhouse`).
//!
//! [`client`] speaks ClickHouse's HTTP interface, [`schema`] creates and migrates the tables
//! (single node or cluster), [`write`] prepares a write's rows, [`spool`] inserts them in
//! batches and keeps them in a local write-ahead spool while ClickHouse cannot take them,
//! [`read`] and [`search`] answer queries.
//!
//! Architecture invariant: `write` returns `Ok` only when the rows are in ClickHouse or fsynced
//! in the spool (replayed after a crash); never both lost. Reads see spooled rows once they
//! are inserted.
//!
//! Known approximations, against the embedded store:
//! - Re-sent spans are recognised against what ClickHouse holds when the write is prepared;
//!   spans of writes still in the spool, or of two concurrent writes, may be stored twice. Reads
//!   and counts drop such duplicates by fingerprint, so the API shows each span once.
//! - Retention drops whole days (partitions by the UTC day a span or chunk started):
//!   `delete_traces_started_before` removes the days wholly before the cutoff's day, and
//!   `delete_oldest_traces` removes the oldest day, however many traces it holds. A trace that
//!   crosses midnight loses its earlier day first.
//! - The live view (`updated_traces`) merges this write with what was stored when it was
//!   prepared; writes made through other spanviews are not pushed.

pub mod client;
mod read;
mod rowbinary;
pub mod schema;
mod search;
pub mod spool;
mod write;

use std::path::PathBuf;

use spanview_core::query::TraceQuery;
use spanview_core::service_overview::ServiceOverview;
use spanview_core::{Batch, Trace, TraceId, TraceSummary};

use self::client::{Client, ClientError, quote};
use self::rowbinary::RowReader;
use self::schema::Layout;
use self::spool::{Inserter, Spool, WritePath};
use super::{StoreError, TraceStore, WriteOutcome};

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
}

pub struct ClickHouseStore {
    client: Client,
    layout: Layout,
    write_path: WritePath,
}

impl ClickHouseStore {
    /// Connects, creates or migrates the schema, and starts inserting what the spool holds.
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
        schema::migrate(&client, &layout)?;
        let spool = Spool::open(&config.spool_dir, config.spool_max_bytes)?;
        let write_path = WritePath::start(
            Inserter {
                client: client.clone(),
                layout: layout.clone(),
            },
            spool,
        )?;
        Ok(Self {
            client,
            layout,
            write_path,
        })
    }

    /// Whether batches wait in the spool for ClickHouse.
    pub fn is_spooling(&self) -> bool {
        self.write_path.is_spooling()
    }

    /// Distinct days (as `Date` literals) of a table before `before_day` (days since 1970),
    /// oldest first, at most `limit`.
    fn days(&self, table: &str, before_day: u64, limit: u64) -> Result<Vec<u16>, StoreError> {
        let bytes = self.client.query(&format!(
            "SELECT DISTINCT toUInt16(Date) AS day FROM {} WHERE day < {before_day} ORDER BY day LIMIT {limit} FORMAT RowBinary",
            self.layout.table(table)
        ))?;
        let mut reader = RowReader::new(&bytes);
        let mut days = Vec::new();
        while !reader.is_empty() {
            let low = reader.u8()?;
            let high = reader.u8()?;
            days.push(u16::from_le_bytes([low, high]));
        }
        Ok(days)
    }

    /// Drops the days' partitions of both tables; returns the traces that had chunks in them.
    fn drop_days(&self, days: &[u16]) -> Result<u64, StoreError> {
        if days.is_empty() {
            return Ok(0);
        }
        let day_list: Vec<String> = days.iter().map(u16::to_string).collect();
        let text = self.client.query(&format!(
            "SELECT uniqExact(TraceId) FROM {} WHERE toUInt16(Date) IN ({}) FORMAT TabSeparated",
            self.layout.table("chunks"),
            day_list.join(", ")
        ))?;
        let n_traces: u64 = String::from_utf8_lossy(&text).trim().parse().unwrap_or(0);
        let on_cluster = match &self.layout.cluster {
            Some(cluster) => format!(" ON CLUSTER {cluster}"),
            None => String::new(),
        };
        for table in ["chunks", "spans"] {
            for day in days {
                self.client.execute(&format!(
                    "ALTER TABLE {}{on_cluster} DROP PARTITION {}",
                    self.layout.local(table),
                    quote(&date_text(*day))
                ))?;
            }
        }
        Ok(n_traces)
    }
}

/// `YYYY-MM-DD` of days since 1970-01-01 (civil from days, proleptic Gregorian).
fn date_text(days: u16) -> String {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
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
        let stored = if self.write_path.is_spooling() {
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
        read::trace(&self.client, &self.layout, trace_id)
    }

    fn search(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        search::search(&self.client, &self.layout, query)
    }

    fn services(&self) -> Result<Vec<String>, StoreError> {
        let bytes = self.client.query(&format!(
            "SELECT DISTINCT Service FROM {} ORDER BY Service FORMAT RowBinary",
            self.layout.table("spans")
        ))?;
        read_strings(&bytes)
    }

    fn operations(&self, service: &str) -> Result<Vec<String>, StoreError> {
        let bytes = self.client.query(&format!(
            "SELECT DISTINCT Name FROM {} WHERE Service = {} ORDER BY Name FORMAT RowBinary",
            self.layout.table("spans"),
            quote(service)
        ))?;
        read_strings(&bytes)
    }

    fn service_overview(
        &self,
        start_after_nanos: Option<u64>,
        start_before_nanos: Option<u64>,
    ) -> Result<Vec<ServiceOverview>, StoreError> {
        read::service_overview(
            &self.client,
            &self.layout,
            start_after_nanos.unwrap_or(0),
            start_before_nanos.unwrap_or(u64::MAX),
        )
    }

    fn size_bytes(&self) -> Result<u64, StoreError> {
        // system.parts is per node: on a cluster, ask every node of it.
        let parts = match &self.layout.cluster {
            Some(cluster) => {
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
                format!("remote({}, system.parts)", quote(&hosts.join(",")))
            }
            None => "system.parts".to_owned(),
        };
        let text = self.client.query(&format!(
            "SELECT sum(bytes) FROM {parts} WHERE database = {} AND active FORMAT TabSeparated",
            quote(&self.layout.database)
        ))?;
        Ok(String::from_utf8_lossy(&text).trim().parse().unwrap_or(0))
    }

    fn delete_traces_started_before(&self, unix_nanos: u64) -> Result<u64, StoreError> {
        let cutoff_day = unix_nanos / 86_400_000_000_000;
        let mut days = self.days("chunks", cutoff_day, u64::MAX)?;
        days.extend(self.days("spans", cutoff_day, u64::MAX)?);
        days.sort_unstable();
        days.dedup();
        self.drop_days(&days)
    }

    fn delete_oldest_traces(&self, count: u64) -> Result<u64, StoreError> {
        if count == 0 {
            return Ok(0);
        }
        let oldest = self.days("chunks", u64::from(u16::MAX) + 1, 1)?;
        self.drop_days(&oldest)
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
