//! Whether the store can take writes: failures that retrying later can cure (a full disk, a
//! read-only file or directory, an I/O error) become [`StoreError::Unavailable`], so the API
//! answers `503` with `Retry-After` and exporters keep their data; they are logged once per
//! episode (when writes start failing and when they succeed again), not per request, and
//! counted in `/metrics` when a [`Metrics`] is attached.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use rusqlite::ErrorCode;

use crate::metrics::Metrics;
use crate::store::StoreError;

/// Why a write failed, when retrying later may succeed: `disk_full`, `read_only` or `io`.
pub fn unavailability(error: &StoreError) -> Option<&'static str> {
    match error {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => match failure.code {
            ErrorCode::DiskFull => Some("disk_full"),
            ErrorCode::ReadOnly => Some("read_only"),
            // On a full disk SQLite often reports an I/O error (growing the WAL index, writing
            // the WAL); it cannot tell ENOSPC from EIO, and neither is cured by a 500.
            ErrorCode::SystemIoFailure => Some("io"),
            _ => None,
        },
        StoreError::Unavailable(_) => Some("read_only"),
        StoreError::Open { source, .. } if source.raw_os_error() == Some(28) => Some("disk_full"),
        _ => None,
    }
}

/// Converts errors that mean "retry later" into [`StoreError::Unavailable`].
pub fn classify(error: StoreError) -> StoreError {
    match unavailability(&error) {
        Some(_) if !matches!(error, StoreError::Unavailable(_)) => {
            StoreError::Unavailable(describe(&error))
        }
        _ => error,
    }
}

fn describe(error: &StoreError) -> String {
    match unavailability(error) {
        Some("disk_full") => format!("the disk is full ({error})"),
        Some("read_only") => format!("the store is read-only ({error})"),
        _ => format!("the disk failed a write ({error})"),
    }
}

/// The store's write health, shared by the store and its writer thread.
#[derive(Default)]
pub struct WriteHealth {
    failing: AtomicBool,
    metrics: OnceLock<Arc<Metrics>>,
}

impl WriteHealth {
    /// Counts failures and the writable state in `metrics` from now on.
    pub fn report_to(&self, metrics: Arc<Metrics>) {
        metrics
            .store_writable
            .set(i64::from(!self.failing.load(Ordering::Relaxed)));
        let _ = self.metrics.set(metrics);
    }

    /// A write failed for `reason`; logged only when writes were succeeding until now.
    pub fn failed(&self, reason: &'static str, error: &dyn std::fmt::Display) {
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                reason,
                %error,
                "the store cannot take writes: answering 503 with Retry-After until it can"
            );
        }
        if let Some(metrics) = self.metrics.get() {
            metrics.record_store_write_failure(reason);
            metrics.store_writable.set(0);
        }
    }

    /// A write succeeded; logged when it ends an episode of failures.
    pub fn succeeded(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("the store takes writes again");
        }
        if let Some(metrics) = self.metrics.get() {
            metrics.store_writable.set(1);
        }
    }
}
