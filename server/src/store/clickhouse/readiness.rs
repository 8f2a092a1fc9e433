//! Starting without ClickHouse: a spanview whose ClickHouse does not answer at start still
//! starts (`serve`), takes writes into the spool (a `200` is still durable), answers reads with
//! `503` and says why, and migrates the schema in the background once ClickHouse answers;
//! then the spool is replayed.
//!
//! Architecture invariant: nothing is inserted and nothing is read before the schema is
//! migrated: until then [`SchemaGate::is_ready`] is false, the write path spools every batch
//! and the replayer waits, and reads fail with `StoreError::Unavailable`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::client::{Client, ClientError};
use super::schema::{self, Layout};
use crate::store::StoreError;

/// The first wait between migration attempts; it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// Whether the schema is migrated, and if not, why not.
#[derive(Default)]
pub struct SchemaGate {
    ready: AtomicBool,
    /// The last migration attempt's failure, for `503` answers and `/readyz`.
    last_error: Mutex<String>,
    stopping: AtomicBool,
}

impl SchemaGate {
    pub fn ready() -> Self {
        let gate = Self::default();
        gate.open();
        gate
    }

    fn open(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// `Ok` once the schema is migrated; else the reason, as a `503`'s message.
    pub fn check(&self) -> Result<(), StoreError> {
        if self.is_ready() {
            return Ok(());
        }
        let reason = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Err(StoreError::Unavailable(format!(
            "{reason} (spanview started without it: writes are kept in the spool, queries \
             answer once the schema is migrated)"
        )))
    }

    fn failed(&self, error: &StoreError) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = describe(error);
    }

    /// Stops the migration thread (the store is dropped).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
}

/// A failure as users read it: an unreachable server's error names the URL already.
fn describe(error: &StoreError) -> String {
    match error {
        StoreError::ClickHouse(client_error) => client_error.to_string(),
        other => other.to_string(),
    }
}

/// Whether a migration failed because ClickHouse did not answer (then it is worth waiting
/// for), rather than because it refused the schema.
pub fn is_unreachable(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::ClickHouse(ClientError::Unreachable { .. })
    )
}

/// Retries the migration in a thread of its own until it succeeds; the gate opens then.
pub fn migrate_in_background(
    client: Client,
    layout: Layout,
    retention_age_nanos: Option<u64>,
    gate: Arc<SchemaGate>,
    first_error: &StoreError,
) -> Result<JoinHandle<()>, StoreError> {
    gate.failed(first_error);
    tracing::warn!(
        error = %describe(first_error),
        "starting without clickhouse: writes go to the spool, queries answer 503; \
         migrating the schema when it answers"
    );
    std::thread::Builder::new()
        .name("clickhouse-migrate".to_owned())
        .spawn(move || {
            let mut wait = FIRST_RETRY;
            let mut n_attempts: u64 = 1;
            loop {
                let waited_from = Instant::now();
                while waited_from.elapsed() < wait {
                    if gate.stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                n_attempts += 1;
                match schema::prepare(&client, &layout, retention_age_nanos) {
                    Ok(_extras) => {
                        gate.open();
                        tracing::info!(
                            url = client.url(),
                            n_attempts,
                            "clickhouse answers: schema ready, inserting the spooled batches"
                        );
                        return;
                    }
                    Err(error) => {
                        // Logged when the reason changes, not on every retry.
                        let reason = describe(&error);
                        let changed = *gate.last_error.lock().unwrap_or_else(PoisonError::into_inner)
                            != reason;
                        if changed {
                            tracing::warn!(error = %reason, "clickhouse schema not migrated yet: retrying");
                        }
                        gate.failed(&error);
                        wait = (wait * 2).min(MAX_RETRY);
                    }
                }
            }
        })
        .map_err(|error| StoreError::Write(format!("cannot start clickhouse-migrate: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_gate_answers_unavailable_with_the_reason() {
        let gate = SchemaGate::default();
        gate.failed(&StoreError::ClickHouse(ClientError::Unreachable {
            url: "http://127.0.0.1:9".to_owned(),
            message: "connection refused".to_owned(),
        }));
        match gate.check() {
            Err(StoreError::Unavailable(reason)) => assert!(
                reason.starts_with(
                    "ClickHouse at http://127.0.0.1:9 is unreachable: connection refused"
                ),
                "{reason}"
            ),
            other => panic!("expected unavailable, got {other:?}"),
        }
        assert!(SchemaGate::ready().check().is_ok());
    }
}
