//! A typed client for the server's JSON API: every call goes through [`send`], which adds the
//! access token (if the user gave one) and turns a failed status into an [`ApiError`].

use serde::Deserialize;
use spanview_core::formats::compact;
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
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server requires a token (`spanview serve --auth-token`) and ours is missing or wrong.
    Unauthorized(String),
    Failed(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unauthorized(message) | Self::Failed(message) => f.write_str(message),
        }
    }
}

/// Searches traces; `query_string` holds the API's parameters, already URL-encoded.
pub async fn search_traces(query_string: &str) -> Result<Vec<TraceSummary>, ApiError> {
    let response: TracesResponse = get_json(&format!("/api/traces?{query_string}")).await?;
    Ok(response.traces)
}

#[derive(Debug, Deserialize)]
struct ServicesResponse {
    services: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct OperationsResponse {
    operations: Vec<String>,
}

pub async fn services() -> Result<Vec<String>, ApiError> {
    Ok(get_json::<ServicesResponse>("/api/services")
        .await?
        .services)
}

pub async fn operations(service: &str) -> Result<Vec<String>, ApiError> {
    let path = format!("/api/services/{}/operations", encode_component(service));
    Ok(get_json::<OperationsResponse>(&path).await?.operations)
}

#[derive(Debug, Deserialize)]
struct OverviewResponse {
    services: Vec<spanview_core::service_overview::ServiceOverview>,
}

/// Per-service counts and latencies over the traces started between `start` and `end` (Unix ns).
pub async fn services_overview(
    start: Option<u64>,
    end: Option<u64>,
) -> Result<Vec<spanview_core::service_overview::ServiceOverview>, ApiError> {
    let path = format!("/api/services/overview?{}", range_query(start, end));
    Ok(get_json::<OverviewResponse>(&path).await?.services)
}

/// Percent-encodes a URL path segment or query value.
pub fn encode_component(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

/// One stored trace, in core's compact binary encoding (decoding JSON would cost a large trace
/// most of its opening time).
pub async fn trace(trace_id: &str) -> Result<Trace, ApiError> {
    let url = format!("/api/traces/{trace_id}");
    let parsed_id: spanview_core::TraceId = trace_id
        .parse()
        .map_err(|error| ApiError::Failed(format!("invalid trace id {trace_id:?}: {error}")))?;
    let response = send(Method::Get, &url, Some(compact::MEDIA_TYPE), Body::Empty).await?;
    let bytes = response
        .binary()
        .await
        .map_err(|error| ApiError::Failed(format!("cannot read {url}: {error}")))?;
    let unreadable = |error| ApiError::Failed(format!("unreadable answer from {url}: {error}"));
    // In slices: a million spans take about half a second to decode.
    let mut decoding = compact::Decoding::new(&bytes).map_err(unreadable)?;
    let mut failure = None;
    let step = |budget| {
        decoding.step(budget).unwrap_or_else(|error| {
            failure = Some(error);
            true
        })
    };
    crate::after_paint::run_sliced("decode", step, || true).await;
    if let Some(error) = failure {
        return Err(unreadable(error));
    }
    let batch = decoding.finish().map_err(unreadable)?;
    Ok(Trace {
        trace_id: parsed_id,
        batch,
    })
}

const TOKEN_KEY: &str = "spanview.token";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The access token saved in this browser, if any.
pub fn saved_token() -> Option<String> {
    local_storage()?
        .get_item(TOKEN_KEY)
        .ok()?
        .filter(|token| !token.is_empty())
}

pub fn save_token(token: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.set_item(TOKEN_KEY, token.trim());
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    read_json(url, send(Method::Get, url, None, Body::Empty).await?).await
}

/// What `POST /api/import` stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportOutcome {
    pub n_spans_added: u64,
}

/// Stores a trace file on the server ("Save to server").
pub async fn import_file(file: &web_sys::File) -> Result<ImportOutcome, ApiError> {
    let url = "/api/import";
    read_json(url, send(Method::Post, url, None, Body::File(file)).await?).await
}

/// Compares two groups of stored traces on the server (`POST /api/compare/groups`).
pub async fn compare_groups(
    before: &[String],
    after: &[String],
) -> Result<spanview_core::group_compare::GroupComparison, ApiError> {
    let url = "/api/compare/groups";
    let body = serde_json::json!({ "before": before, "after": after });
    read_json(url, send(Method::Post, url, None, Body::Json(body)).await?).await
}

/// Starts the instrumented demo services on the server (`POST /api/demo`); their traces arrive
/// through the live feed.
pub async fn start_demo() -> Result<(), ApiError> {
    #[derive(Deserialize)]
    struct DemoStatus {
        #[allow(dead_code)]
        running: bool,
    }
    let url = "/api/demo";
    let response = send(Method::Post, url, None, Body::Empty).await?;
    read_json::<DemoStatus>(url, response).await.map(|_| ())
}

enum Method {
    Get,
    /// Marked as this page's own (the `X-Spanview` header): the server refuses state-changing
    /// requests that another site's page could send without a preflight.
    Post,
}

enum Body<'a> {
    Empty,
    /// A file sent as it is ("Save to server").
    File(&'a web_sys::File),
    Json(serde_json::Value),
}

/// Every API call goes through here: the request with the saved access token, sent; a failed
/// status becomes the [`ApiError`] its body describes (`Unauthorized` for `401`).
async fn send(
    method: Method,
    url: &str,
    accept: Option<&str>,
    body: Body<'_>,
) -> Result<gloo_net::http::Response, ApiError> {
    let mut request = match method {
        Method::Get => gloo_net::http::Request::get(url),
        Method::Post => gloo_net::http::Request::post(url).header("X-Spanview", "1"),
    };
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    if let Some(token) = saved_token() {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let sent = match body {
        Body::Empty => request.send().await,
        Body::File(file) => {
            request
                .body(file.clone())
                .map_err(|error| ApiError::Failed(format!("cannot send the file: {error}")))?
                .send()
                .await
        }
        Body::Json(value) => {
            request
                .json(&value)
                .map_err(|error| ApiError::Failed(format!("cannot send the request: {error}")))?
                .send()
                .await
        }
    };
    let response =
        sent.map_err(|error| ApiError::Failed(format!("cannot reach spanview: {error}")))?;
    if !response.ok() {
        return Err(error_of(url, response).await);
    }
    Ok(response)
}

/// The error a failed response carries (the API's `{"error": …}` body, or its status).
async fn error_of(url: &str, response: gloo_net::http::Response) -> ApiError {
    let status = response.status();
    let message = match response.json::<ErrorBody>().await {
        Ok(body) => body.error,
        Err(_) => format!("{url} answered HTTP {status}"),
    };
    if status == 401 {
        ApiError::Unauthorized(message)
    } else {
        ApiError::Failed(message)
    }
}

/// Decodes a successful response's JSON body.
async fn read_json<T: serde::de::DeserializeOwned>(
    url: &str,
    response: gloo_net::http::Response,
) -> Result<T, ApiError> {
    response
        .json::<T>()
        .await
        .map_err(|error| ApiError::Failed(format!("unreadable answer from {url}: {error}")))
}

/// `start`/`end` query parameters, empty when open.
fn range_query(start: Option<u64>, end: Option<u64>) -> String {
    let start = start.map_or_else(String::new, |start| start.to_string());
    let end = end.map_or_else(String::new, |end| end.to_string());
    format!("start={start}&end={end}")
}

/// The service map over the range (Unix ns).
pub async fn service_map(
    start: Option<u64>,
    end: Option<u64>,
) -> Result<spanview_core::service_metrics::ServiceMap, ApiError> {
    get_json(&format!("/api/services/map?{}", range_query(start, end))).await
}

/// A service's rate, errors and latency per step over the range (Unix ns).
pub async fn service_performance(
    service: &str,
    start: Option<u64>,
    end: Option<u64>,
) -> Result<spanview_core::service_metrics::ServicePerformance, ApiError> {
    get_json(&format!(
        "/api/services/{}/performance?{}",
        encode_component(service),
        range_query(start, end)
    ))
    .await
}
