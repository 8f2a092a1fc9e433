//! Retention: whole traces are removed when they are older than a maximum age or when the store
//! grows past a maximum size (oldest first).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::store::{StoreError, TraceStore};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub max_age_nanos: Option<u64>,
    pub max_bytes: Option<u64>,
}

impl RetentionPolicy {
    pub fn is_unlimited(&self) -> bool {
        self.max_age_nanos.is_none() && self.max_bytes.is_none()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    pub traces_expired: u64,
    pub traces_evicted_for_size: u64,
}

/// Traces deleted per step while the store is over its size limit.
const EVICTION_BATCH: u64 = 100;

/// Applies the policy once.
pub fn enforce(
    store: &dyn TraceStore,
    policy: RetentionPolicy,
    now_unix_nanos: u64,
) -> Result<RetentionOutcome, StoreError> {
    let mut outcome = RetentionOutcome::default();
    if let Some(max_age) = policy.max_age_nanos {
        outcome.traces_expired =
            store.delete_traces_started_before(now_unix_nanos.saturating_sub(max_age))?;
    }
    if let Some(max_bytes) = policy.max_bytes {
        while store.size_bytes()? > max_bytes {
            let deleted = store.delete_oldest_traces(EVICTION_BATCH)?;
            if deleted == 0 {
                break; // nothing left to delete: the schema alone is larger than the limit
            }
            outcome.traces_evicted_for_size += deleted;
        }
    }
    Ok(outcome)
}

/// Applies the policy every `interval` until the process ends.
pub async fn run(store: Arc<dyn TraceStore>, policy: RetentionPolicy, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        let store = store.clone();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        match tokio::task::spawn_blocking(move || enforce(store.as_ref(), policy, now)).await {
            Ok(Ok(outcome)) if outcome != RetentionOutcome::default() => {
                tracing::info!(
                    traces_expired = outcome.traces_expired,
                    traces_evicted_for_size = outcome.traces_evicted_for_size,
                    "retention removed traces"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::error!(%error, "retention failed"),
            Err(error) => tracing::error!(%error, "retention task panicked"),
        }
    }
}

/// Parses a size such as `500MB`, `10GiB` or `1048576` (bytes).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let unit_start = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(unit_start);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "invalid size {text:?}: use bytes or a unit such as 500MB or 10GiB"
            ));
        }
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("invalid size {text:?}: no number"))?;
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use spanview_core::query::TraceQuery;
    use spanview_core::scenario;

    const MINUTE: u64 = 60_000_000_000;

    fn stored_trace_count(store: &SqliteStore) -> usize {
        store
            .search(&TraceQuery {
                limit: 1000,
                ..TraceQuery::default()
            })
            .unwrap()
            .len()
    }

    /// Writes `count` slow-order traces one minute apart, the first at minute 0.
    fn store_with_traces(count: u64) -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        for minute in 0..count {
            let trace_id = format!("{:032x}", minute + 1);
            store
                .write(&scenario::slow_order(&trace_id, minute * MINUTE).batch)
                .unwrap();
        }
        (dir, store)
    }

    #[test]
    fn old_traces_expire_whole() {
        let (_dir, store) = store_with_traces(10);
        let policy = RetentionPolicy {
            max_age_nanos: Some(5 * MINUTE),
            max_bytes: None,
        };
        // At minute 12, traces that started before minute 7 are too old.
        let outcome = enforce(&store, policy, 12 * MINUTE).unwrap();
        assert_eq!(outcome.traces_expired, 7);
        assert_eq!(stored_trace_count(&store), 3);
        let oldest_left: spanview_core::TraceId = format!("{:032x}", 8).parse().unwrap();
        assert_eq!(
            store.trace(oldest_left).unwrap().unwrap().batch.spans.len(),
            10
        );
        let expired: spanview_core::TraceId = format!("{:032x}", 7).parse().unwrap();
        assert!(store.trace(expired).unwrap().is_none());
        // Search indexes forget deleted traces too.
        let query = TraceQuery {
            service: Some("mysql".into()),
            limit: 100,
            ..TraceQuery::default()
        };
        assert_eq!(store.search(&query).unwrap().len(), 3);
    }

    #[test]
    fn a_store_over_its_size_loses_its_oldest_traces() {
        let (_dir, store) = store_with_traces(300);
        let full_size = store.size_bytes().unwrap();
        let policy = RetentionPolicy {
            max_age_nanos: None,
            max_bytes: Some(full_size / 2),
        };
        let outcome = enforce(&store, policy, 0).unwrap();
        assert!(outcome.traces_evicted_for_size >= 100, "{outcome:?}");
        assert!(store.size_bytes().unwrap() <= full_size / 2);
        let newest: spanview_core::TraceId = format!("{:032x}", 300).parse().unwrap();
        assert!(
            store.trace(newest).unwrap().is_some(),
            "the newest trace is kept"
        );
        let oldest: spanview_core::TraceId = format!("{:032x}", 1).parse().unwrap();
        assert!(store.trace(oldest).unwrap().is_none());
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_bytes("500MB"), Ok(500_000_000));
        assert_eq!(parse_bytes("10 GiB"), Ok(10 << 30));
        assert!(parse_bytes("ten").is_err());
        assert!(parse_bytes("5XB").is_err());
    }
}
