//! Live updates: every stored change to a trace is published to the open dashboards as a
//! server-sent event (`GET /api/live`, event `trace`, data: the trace's summary).
//!
//! This process's own writes are published as they are stored. A store that other spanviews
//! write to as well (ClickHouse: `TraceStore::is_shared`) is also polled, every
//! [`POLL_INTERVAL`], for the traces with spans that ended in the last [`POLL_LOOKBACK`]; a
//! summary is published when it differs from what the previous poll found and from what this
//! process published since, so each change is pushed about once, whichever spanview stored it.
//! Spans that reach the store more than [`POLL_LOOKBACK`] after they ended (by the server's
//! clock: old imports, exporters with clocks far behind) are not pushed from other spanviews.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use spanview_core::{TraceId, TraceSummary};
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::AppState;
use crate::store::TraceStore;

/// Summaries buffered per subscriber; a dashboard that falls further behind skips ahead.
const CHANNEL_CAPACITY: usize = 1024;
/// How often a shared store is polled for other spanviews' writes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How far back (span end times) a poll looks: exporters send spans seconds after they end.
pub const POLL_LOOKBACK: Duration = Duration::from_secs(60);
/// Most traces one poll reads.
const POLL_LIMIT: usize = 1000;

/// The changed traces this process published since the last poll (only while polling).
type Published = Arc<Mutex<Option<HashMap<TraceId, TraceSummary>>>>;

#[derive(Clone)]
pub struct LiveFeed {
    sender: broadcast::Sender<TraceSummary>,
    published: Published,
}

impl Default for LiveFeed {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CHANNEL_CAPACITY).0,
            published: Arc::default(),
        }
    }
}

impl LiveFeed {
    /// Tells every open dashboard about changed traces; nobody listening is fine.
    pub fn publish(&self, summaries: Vec<TraceSummary>) {
        let mut published = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for summary in summaries {
            if let Some(published) = published.as_mut() {
                published.insert(summary.trace_id, summary.clone());
            }
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
        *self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(HashMap::new());
        let feed = self.clone();
        tokio::spawn(async move {
            let mut last_poll: HashMap<TraceId, TraceSummary> = HashMap::new();
            let mut failing = false;
            let mut ticks = tokio::time::interval(POLL_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if feed.sender.receiver_count() == 0 {
                    // Nobody watches: no statements. A dashboard that connects later gets the
                    // last minute's traces first.
                    last_poll.clear();
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
                let published = feed
                    .published
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_mut()
                    .map(std::mem::take)
                    .unwrap_or_default();
                let changed = changed_since(&summaries, &last_poll, &published);
                last_poll = summaries
                    .into_iter()
                    .map(|summary| (summary.trace_id, summary))
                    .collect();
                for summary in changed {
                    let _ = feed.sender.send(summary);
                }
            }
        });
    }
}

/// The polled summaries that neither the previous poll nor this process's own publishing
/// showed as they are now, oldest change last as polled (latest first).
fn changed_since(
    polled: &[TraceSummary],
    last_poll: &HashMap<TraceId, TraceSummary>,
    published: &HashMap<TraceId, TraceSummary>,
) -> Vec<TraceSummary> {
    polled
        .iter()
        .filter(|summary| {
            last_poll.get(&summary.trace_id) != Some(*summary)
                && published.get(&summary.trace_id) != Some(*summary)
        })
        .cloned()
        .collect()
}

fn unix_nanos_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

pub async fn live_get(
    State(state): State<AppState>,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(state.live.subscribe()).filter_map(|message| {
        // A lagging subscriber loses some events, not the connection.
        let summary = message.ok()?;
        let event = Event::default().event("trace").json_data(&summary).ok()?;
        Some(Ok(event))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
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
    fn a_poll_publishes_only_what_neither_the_last_poll_nor_this_process_showed() {
        let by_id = |summaries: &[TraceSummary]| -> HashMap<TraceId, TraceSummary> {
            summaries.iter().map(|s| (s.trace_id, s.clone())).collect()
        };
        let last_poll = by_id(&[summary(1, 3), summary(2, 1)]);
        let published = by_id(&[summary(3, 2)]);
        let polled = [
            summary(1, 3), // unchanged since the last poll
            summary(2, 4), // gained spans through another spanview
            summary(3, 2), // this process's own write, already pushed
            summary(4, 1), // new through another spanview
        ];
        let changed = changed_since(&polled, &last_poll, &published);
        assert_eq!(changed, vec![summary(2, 4), summary(4, 1)]);
    }
}
