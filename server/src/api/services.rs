//! Services and their operations, for the search form.

use axum::Json;
use axum::extract::{Path, State};

use super::error::{ApiError, blocking};
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
