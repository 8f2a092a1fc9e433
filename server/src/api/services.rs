//! Services and their operations, for the search form, the services overview, the service map
//! and the service performance charts.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use spanview_core::service_metrics::{MINUTE_NANOS, ServiceMap, ServicePerformance};
use spanview_core::service_overview::ServiceOverview;

use super::error::{ApiError, blocking};
use super::traces::parse_instant;
use crate::AppState;
use crate::store::MinuteRange;

#[derive(Debug, serde::Serialize)]
pub struct ServicesResponse {
    services: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct OperationsResponse {
    operations: Vec<String>,
}

pub async fn services_list(
    State(state): State<AppState>,
) -> Result<Json<ServicesResponse>, ApiError> {
    let store = state.store.clone();
    let services = blocking(move || store.services()).await?;
    Ok(Json(ServicesResponse { services }))
}

pub async fn operations_list(
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> Result<Json<OperationsResponse>, ApiError> {
    let store = state.store.clone();
    let operations = blocking(move || store.operations(&service)).await?;
    Ok(Json(OperationsResponse { operations }))
}

#[derive(Debug, serde::Serialize)]
pub struct OverviewResponse {
    services: Vec<ServiceOverview>,
}

/// `GET /api/services/overview?start=&end=`: per service over the minutes the range touches,
/// from the per-minute aggregates.
pub async fn services_overview(
    State(state): State<AppState>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<OverviewResponse>, ApiError> {
    let (mut start, mut end) = (None, None);
    for (name, value) in form_urlencoded::parse(raw_query.as_deref().unwrap_or("").as_bytes()) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let bad = |reason: String| ApiError::BadRequest(format!("parameter {name}: {reason}"));
        match name.as_ref() {
            "start" => start = Some(parse_instant(value).map_err(bad)?),
            "end" => end = Some(parse_instant(value).map_err(bad)?),
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter {other:?}; known parameters: start, end"
                )));
            }
        }
    }
    let store = state.store.clone();
    let services = blocking(move || store.service_overview(start, end)).await?;
    Ok(Json(OverviewResponse { services }))
}

/// The `start`, `end` and (where taken) `step` parameters of the map and the charts.
struct Range {
    start: Option<u64>,
    end: Option<u64>,
    step_nanos: Option<u64>,
}

fn parse_range(raw_query: Option<&str>, takes_step: bool) -> Result<Range, ApiError> {
    let mut range = Range {
        start: None,
        end: None,
        step_nanos: None,
    };
    for (name, value) in form_urlencoded::parse(raw_query.unwrap_or("").as_bytes()) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let bad = |reason: String| ApiError::BadRequest(format!("parameter {name}: {reason}"));
        match name.as_ref() {
            "start" => range.start = Some(parse_instant(value).map_err(bad)?),
            "end" => range.end = Some(parse_instant(value).map_err(bad)?),
            "step" if takes_step => {
                let nanos = spanview_core::query::parse_duration(value)
                    .map_err(|error| bad(error.to_string()))?;
                range.step_nanos = Some(nanos);
            }
            other => {
                let known = if takes_step {
                    "start, end, step"
                } else {
                    "start, end"
                };
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter {other:?}; known parameters: {known}"
                )));
            }
        }
    }
    if let (Some(start), Some(end)) = (range.start, range.end)
        && start > end
    {
        return Err(ApiError::BadRequest(format!(
            "parameter start ({start}) is after end ({end})"
        )));
    }
    Ok(range)
}

/// `GET /api/services/map?start=&end=`: services, peers and the calls between them over the
/// minutes the range touches (read from the per-minute aggregates, not from spans).
pub async fn services_map(
    State(state): State<AppState>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<ServiceMap>, ApiError> {
    let range = parse_range(raw_query.as_deref(), false)?;
    let minutes = MinuteRange::whole(range.start, range.end);
    let store = state.store.clone();
    let map = blocking(move || {
        let operations = store.operation_aggregates(minutes, None)?;
        let edges = store.edge_aggregates(minutes)?;
        Ok(ServiceMap::from_rows(operations, edges))
    })
    .await?;
    Ok(Json(map))
}

/// Points a series has at most when no `step` is given.
const DEFAULT_POINTS: u64 = 120;
/// The range of the charts when no `start` is given: the hour before `end`.
const DEFAULT_RANGE_NANOS: u64 = 3_600_000_000_000;

/// `GET /api/services/{service}/performance?start=&end=&step=`: request rate, error rate and
/// latency percentiles per step (whole minutes; by default about 120 steps over the range)
/// for the service and each of its operations.
pub async fn service_performance(
    State(state): State<AppState>,
    Path(service): Path<String>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<ServicePerformance>, ApiError> {
    let range = parse_range(raw_query.as_deref(), true)?;
    let end = range.end.unwrap_or_else(now_nanos);
    let start = range
        .start
        .unwrap_or(end.saturating_sub(DEFAULT_RANGE_NANOS));
    let (start_minute, end_minute) = (start / MINUTE_NANOS, end / MINUTE_NANOS);
    let step_minutes = match range.step_nanos {
        Some(step) => step.div_ceil(MINUTE_NANOS).max(1),
        None => (end_minute - start_minute + 1)
            .div_ceil(DEFAULT_POINTS)
            .max(1),
    };
    let minutes = MinuteRange {
        start_minute,
        end_minute,
        step_minutes,
    };
    let store = state.store.clone();
    let performance = blocking(move || {
        let operations = store.operation_aggregates(minutes, Some(&service))?;
        Ok(ServicePerformance::from_rows(
            &service,
            step_minutes,
            operations,
        ))
    })
    .await?;
    Ok(Json(performance))
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}
