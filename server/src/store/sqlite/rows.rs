//! A `traces` row and its conversion to and from the API's [`TraceSummary`].

use std::collections::HashMap;
use std::sync::RwLock;

use rusqlite::{Connection, OptionalExtension, Row};
use spanview_core::summary::RootSpanInfo;
use spanview_core::{TraceId, TraceSummary};

use super::schema::clamp;
use super::terms::{encode_list, read_varints};
use crate::store::StoreError;

/// The columns [`TraceRow::from_row`] reads, in order.
pub const TRACE_COLUMNS: &str = "trace_seq, trace_id, start_ns, end_ns, n_spans, n_errors, \
     root_service_id, root_name, root_start_ns, root_is_true, service_ids, chunk_ids, block_ids";

#[derive(Debug, Clone)]
pub struct TraceRow {
    pub trace_seq: i64,
    pub trace_id: TraceId,
    pub start_ns: u64,
    pub end_ns: u64,
    pub n_spans: u64,
    pub n_errors: u64,
    pub root: Option<RootRow>,
    pub service_ids: Vec<i64>,
    pub chunk_ids: Vec<i64>,
    pub block_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct RootRow {
    pub service_id: i64,
    pub name: String,
    pub start_ns: u64,
    pub is_true_root: bool,
}

impl TraceRow {
    pub fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        let trace_id: Vec<u8> = row.get(1)?;
        let root_service_id: Option<i64> = row.get(6)?;
        Ok(Self {
            trace_seq: row.get(0)?,
            // Only valid ids are ever written; a damaged one reads as all-ones, not a panic.
            trace_id: TraceId::from_bytes(&trace_id).unwrap_or(TraceId([0xff; 16])),
            start_ns: row.get::<_, i64>(2)? as u64,
            end_ns: row.get::<_, i64>(3)? as u64,
            n_spans: row.get::<_, i64>(4)? as u64,
            n_errors: row.get::<_, i64>(5)? as u64,
            root: match root_service_id {
                Some(service_id) => Some(RootRow {
                    service_id,
                    name: row.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    start_ns: row.get::<_, Option<i64>>(8)?.unwrap_or(0) as u64,
                    is_true_root: row.get::<_, Option<bool>>(9)?.unwrap_or(false),
                }),
                None => None,
            },
            service_ids: ids(&row.get::<_, Vec<u8>>(10)?),
            chunk_ids: ids(&row.get::<_, Vec<u8>>(11)?),
            block_ids: ids(&row.get::<_, Vec<u8>>(12)?),
        })
    }

    pub fn summary(
        &self,
        names: &ServiceNames,
        connection: &Connection,
    ) -> Result<TraceSummary, StoreError> {
        let mut services = self
            .service_ids
            .iter()
            .map(|id| names.name(connection, *id))
            .collect::<Result<Vec<String>, StoreError>>()?;
        services.sort();
        services.dedup();
        let root = match &self.root {
            Some(root) => Some(RootSpanInfo {
                service: names.name(connection, root.service_id)?,
                name: root.name.clone(),
                start_nanos: root.start_ns,
                is_true_root: root.is_true_root,
            }),
            None => None,
        };
        Ok(TraceSummary {
            trace_id: self.trace_id,
            root,
            start_nanos: self.start_ns,
            end_nanos: self.end_ns,
            n_spans: self.n_spans,
            n_errors: self.n_errors,
            services,
        })
    }

    /// Writes the row (a new trace, or replacing the stored one).
    pub fn upsert(&self, connection: &Connection) -> Result<(), StoreError> {
        let mut statement = connection.prepare_cached(
            "INSERT INTO traces (trace_seq, trace_id, start_ns, end_ns, n_spans, n_errors,
                 root_service_id, root_name, root_start_ns, root_is_true, service_ids, chunk_ids, block_ids)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (trace_seq) DO UPDATE SET start_ns = excluded.start_ns,
                 end_ns = excluded.end_ns, n_spans = excluded.n_spans, n_errors = excluded.n_errors,
                 root_service_id = excluded.root_service_id, root_name = excluded.root_name,
                 root_start_ns = excluded.root_start_ns, root_is_true = excluded.root_is_true,
                 service_ids = excluded.service_ids, chunk_ids = excluded.chunk_ids,
                 block_ids = excluded.block_ids",
        )?;
        statement.execute(rusqlite::params![
            self.trace_seq,
            self.trace_id.0,
            // Times past i64::MAX (year 2262) saturate in the index columns instead of
            // wrapping negative; the chunks keep every span's exact u64 times.
            clamp(self.start_ns),
            clamp(self.end_ns),
            self.n_spans as i64,
            self.n_errors as i64,
            self.root.as_ref().map(|root| root.service_id),
            self.root.as_ref().map(|root| root.name.as_str()),
            self.root.as_ref().map(|root| clamp(root.start_ns)),
            self.root.as_ref().map(|root| root.is_true_root),
            encode_list(
                &self
                    .service_ids
                    .iter()
                    .map(|id| *id as u64)
                    .collect::<Vec<_>>()
            ),
            encode_list(
                &self
                    .chunk_ids
                    .iter()
                    .map(|id| *id as u64)
                    .collect::<Vec<_>>()
            ),
            encode_list(
                &self
                    .block_ids
                    .iter()
                    .map(|id| *id as u64)
                    .collect::<Vec<_>>()
            ),
        ])?;
        Ok(())
    }
}

fn ids(bytes: &[u8]) -> Vec<i64> {
    read_varints(bytes)
        .into_iter()
        .map(|id| id as i64)
        .collect()
}

pub fn trace_row_by_id(
    connection: &Connection,
    trace_id: TraceId,
) -> Result<Option<TraceRow>, StoreError> {
    let mut select = connection.prepare_cached(&format!(
        "SELECT {TRACE_COLUMNS} FROM traces WHERE trace_id = ?1"
    ))?;
    Ok(select
        .query_row([trace_id.0], TraceRow::from_row)
        .optional()?)
}

pub fn trace_row_by_seq(
    connection: &Connection,
    trace_seq: i64,
) -> Result<Option<TraceRow>, StoreError> {
    let mut select = connection.prepare_cached(&format!(
        "SELECT {TRACE_COLUMNS} FROM traces WHERE trace_seq = ?1"
    ))?;
    Ok(select
        .query_row([trace_seq], TraceRow::from_row)
        .optional()?)
}

/// Service names by id, shared by every connection; names are never renamed or removed, so a
/// cached name is always right and a miss only means "added since".
#[derive(Default)]
pub struct ServiceNames {
    by_id: RwLock<HashMap<i64, String>>,
}

impl ServiceNames {
    pub fn name(&self, connection: &Connection, service_id: i64) -> Result<String, StoreError> {
        if let Some(name) = self.read().get(&service_id) {
            return Ok(name.clone());
        }
        let name: Option<String> = connection
            .prepare_cached("SELECT name FROM services WHERE service_id = ?1")?
            .query_row([service_id], |row| row.get(0))
            .optional()?;
        let name = name.unwrap_or_else(|| spanview_core::model::UNKNOWN_SERVICE.to_owned());
        self.remember(service_id, &name);
        Ok(name)
    }

    pub fn remember(&self, service_id: i64, name: &str) {
        self.by_id
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(service_id, name.to_owned());
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<i64, String>> {
        self.by_id
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
