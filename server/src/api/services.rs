//! Services and their operations, for the search form, and the services overview.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use spanview_core::service_overview::ServiceOverview;

use super::error::{ApiError, blocking};
use super::traces::parse_instant;
use crate::AppState;

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

/// `GET /api/services/overview?start=&end=`: per service over the traces started in the range.
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
