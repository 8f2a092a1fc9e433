//! Live updates: every stored change to a trace is published to the open dashboards as a
//! server-sent event (`GET /api/live`, event `trace`, data: the trace's summary).

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use spanview_core::TraceSummary;
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::AppState;

/// Summaries buffered per subscriber; a dashboard that falls further behind skips ahead.
const CHANNEL_CAPACITY: usize = 1024;

#[derive(Clone)]
pub struct LiveFeed {
    sender: broadcast::Sender<TraceSummary>,
}

impl Default for LiveFeed {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CHANNEL_CAPACITY).0,
        }
    }
}

impl LiveFeed {
    /// Tells every open dashboard about changed traces; nobody listening is fine.
    pub fn publish(&self, summaries: Vec<TraceSummary>) {
        for summary in summaries {
            let _ = self.sender.send(summary);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TraceSummary> {
        self.sender.subscribe()
    }
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
