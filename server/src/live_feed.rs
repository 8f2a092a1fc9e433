//! Live updates: every stored change to a trace is published to the open dashboards as a
//! server-sent event (`GET /api/live`, event `trace`, data: the trace's summary).
//!
//! This process's own writes are published as they are stored. A store that other spanviews
//! write to as well (ClickHouse: `TraceStore::is_shared`) is also polled, every
//! [`POLL_INTERVAL`], for the traces with spans that ended in the last [`POLL_LOOKBACK`]; a
//! summary is pushed only when it differs from the last one pushed for its trace (by this
//! process's writes or by a poll), so each change is pushed once, whichever spanview stored it.
//! Spans that reach the store more than [`POLL_LOOKBACK`] after they ended (by the server's
//! clock: old imports, exporters with clocks far behind) are not pushed from other spanviews.
//!
//! The feed is the state's (`AppState::live`); `api/live.rs` serves it over HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use spanview_core::{TraceId, TraceSummary};
use tokio::sync::broadcast;

use crate::store::TraceStore;

/// Summaries buffered per subscriber; a dashboard that falls further behind skips ahead.
const CHANNEL_CAPACITY: usize = 1024;
/// How often a shared store is polled for other spanviews' writes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How far back (span end times) a poll looks: exporters send spans seconds after they end.
pub const POLL_LOOKBACK: Duration = Duration::from_secs(60);
/// Most traces one poll reads.
const POLL_LIMIT: usize = 1000;

/// What was last pushed per trace, while polling a shared store: a summary equal to it is not
/// pushed again, whether this process stored the change or the poll found it first.
type Pushed = Arc<Mutex<Option<HashMap<TraceId, TraceSummary>>>>;

/// Most traces remembered in [`Pushed`]; past it, it starts afresh (a repeat is harmless).
const MAX_REMEMBERED: usize = 100_000;

#[derive(Clone)]
pub struct LiveFeed {
    sender: broadcast::Sender<TraceSummary>,
    pushed: Pushed,
}

impl Default for LiveFeed {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CHANNEL_CAPACITY).0,
            pushed: Arc::default(),
        }
    }
}

impl LiveFeed {
    /// Tells every open dashboard about changed traces; nobody listening is fine.
    pub fn publish(&self, summaries: Vec<TraceSummary>) {
        if self.sender.receiver_count() == 0 {
            // Nobody watches (and the poll sends nothing meanwhile): a dashboard that opens
            // later asks for the list itself.
            return;
        }
        let mut pushed = self.pushed.lock().unwrap_or_else(PoisonError::into_inner);
        let summaries = match pushed.as_mut() {
            Some(pushed) => not_pushed_yet(pushed, summaries),
            None => summaries,
        };
        for summary in summaries {
            let _ = self.sender.send(summary);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TraceSummary> {
        self.sender.subscribe()
    }

    /// Polls a shared store for changes stored through other spanviews, for as long as the
    /// runtime runs; does nothing for a store only this process writes.
    pub fn follow_store(&self, store: Arc<dyn TraceStore>) {
        if !store.is_shared() {
            return;
        }
        *self.pushed.lock().unwrap_or_else(PoisonError::into_inner) = Some(HashMap::new());
        let feed = self.clone();
        tokio::spawn(async move {
            let mut failing = false;
            let mut ticks = tokio::time::interval(POLL_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if feed.sender.receiver_count() == 0 {
                    // Nobody watches: no statements.
                    continue;
                }
                let end_after_nanos =
                    unix_nanos_now().saturating_sub(POLL_LOOKBACK.as_nanos() as u64);
                let store = store.clone();
                let found = tokio::task::spawn_blocking(move || {
                    store.recently_ended_traces(end_after_nanos, POLL_LIMIT)
                })
                .await;
                let summaries = match found {
                    Ok(Ok(summaries)) => {
                        failing = false;
                        summaries
                    }
                    Ok(Err(error)) => {
                        if !failing {
                            tracing::warn!(%error, "live feed cannot poll the store: retrying");
                        }
                        failing = true;
                        continue;
                    }
                    Err(_) => continue,
                };
                let mut pushed = feed.pushed.lock().unwrap_or_else(PoisonError::into_inner);
                let Some(pushed) = pushed.as_mut() else {
                    continue;
                };
                // Traces that ended before the window will not be polled again: forget them.
                let forget_before = end_after_nanos.saturating_sub(POLL_LOOKBACK.as_nanos() as u64);
                pushed.retain(|_, summary| summary.end_nanos >= forget_before);
                for summary in not_pushed_yet(pushed, summaries) {
                    let _ = feed.sender.send(summary);
                }
            }
        });
    }
}

/// The summaries that differ from what was last pushed for their trace, remembered as pushed.
fn not_pushed_yet(
    pushed: &mut HashMap<TraceId, TraceSummary>,
    summaries: Vec<TraceSummary>,
) -> Vec<TraceSummary> {
    if pushed.len() > MAX_REMEMBERED {
        pushed.clear();
    }
    let mut changed = Vec::new();
    for summary in summaries {
        if pushed.get(&summary.trace_id) == Some(&summary) {
            continue;
        }
        pushed.insert(summary.trace_id, summary.clone());
        changed.push(summary);
    }
    changed
}

fn unix_nanos_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(byte: u8, n_spans: u64) -> TraceSummary {
        TraceSummary {
            trace_id: TraceId([byte; 16]),
            root: None,
            start_nanos: 1,
            end_nanos: 2,
            n_spans,
            n_errors: 0,
            services: Vec::new(),
        }
    }

    #[test]
    fn a_summary_is_pushed_once_whichever_path_finds_it_first() {
        let mut pushed = HashMap::new();
        // This process stored trace 1 (2 spans) and trace 2 (1 span).
        assert_eq!(
            not_pushed_yet(&mut pushed, vec![summary(1, 2), summary(2, 1)]).len(),
            2
        );
        let polled = vec![
            summary(1, 2), // this process's own write, already pushed
            summary(2, 4), // gained spans through another spanview
            summary(3, 1), // new through another spanview
        ];
        assert_eq!(
            not_pushed_yet(&mut pushed, polled.clone()),
            vec![summary(2, 4), summary(3, 1)]
        );
        // The next poll finds the same: nothing new. A local write the poll found first: no repeat.
        assert!(not_pushed_yet(&mut pushed, polled).is_empty());
        assert!(not_pushed_yet(&mut pushed, vec![summary(3, 1)]).is_empty());
    }
}
