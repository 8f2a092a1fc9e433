//! `GET /api/live`: the live feed (`crate::live_feed`) as server-sent events, event `trace`,
//! data: the trace's summary.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::AppState;

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
