//! `POST /api/demo`: run the instrumented demo services against this server (the dashboard's
//! "Load the demo"); `GET /api/demo` tells whether a run is under way.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::error::ApiError;
use crate::AppState;
use crate::demo::DemoStart;

#[derive(Serialize)]
pub struct DemoStatus {
    running: bool,
}

pub async fn demo_get(State(state): State<AppState>) -> Json<DemoStatus> {
    let running = state
        .demo_feed
        .as_ref()
        .is_some_and(|feed| feed.is_running());
    Json(DemoStatus { running })
}

/// `202 Accepted` when a run starts or is already under way: the traces arrive over OTLP like
/// any other, and the live feed shows them as they are stored.
pub async fn demo_post(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<DemoStatus>), ApiError> {
    let feed = state.demo_feed.as_ref().ok_or_else(|| {
        ApiError::NotFound("this server was built without a listening address for the demo".into())
    })?;
    match feed.start() {
        DemoStart::Started | DemoStart::AlreadyRunning => {
            Ok((StatusCode::ACCEPTED, Json(DemoStatus { running: true })))
        }
    }
}
