//! A typed client for the server's JSON API.

use serde::Deserialize;
use spanview_core::{Trace, TraceSummary};

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct TracesResponse {
    traces: Vec<TraceSummary>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
}

/// A failed API call, as shown to the user.
pub type ApiError = String;

pub async fn recent_traces(limit: usize) -> Result<Vec<TraceSummary>, ApiError> {
    let response: TracesResponse = get_json(&format!("/api/traces?limit={limit}")).await?;
    Ok(response.traces)
}

pub async fn trace(trace_id: &str) -> Result<Trace, ApiError> {
    get_json(&format!("/api/traces/{trace_id}")).await
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    let response = gloo_net::http::Request::get(url)
        .send()
        .await
        .map_err(|error| format!("cannot reach spanview: {error}"))?;
    if !response.ok() {
        let status = response.status();
        return Err(match response.json::<ErrorBody>().await {
            Ok(body) => body.error,
            Err(_) => format!("{url} answered HTTP {status}"),
        });
    }
    response
        .json::<T>()
        .await
        .map_err(|error| format!("unreadable answer from {url}: {error}"))
}
