//! `spanview demo`: the scenario of `shared/scenario.md` produced the way real traces are made.
//!
//! Six small services (order-, user-, product-, inventory-, promotion-service and product-list)
//! run as axum servers on ephemeral loopback ports, call each other over HTTP with W3C
//! `traceparent` and `baggage` headers, and are instrumented with the OpenTelemetry Rust SDK,
//! each exporting its spans with the OTLP/HTTP protobuf exporter. An uninstrumented load
//! generator sends the scenario requests (the slow order page and its fix, a failing order page,
//! the N+1 product list and its batched fix), then background traffic. Databases are simulated:
//! their client spans carry the database semantic conventions but no database runs.
//!
//! Every simulated wait is multiplied by the time scale, so `time_scale = 0.01` runs 100 times
//! faster with the same proportions (and span durations 100 times shorter).

mod clock;
mod db;
mod instrumentation;
mod load;
mod rng;
mod scenario;
mod services;
mod telemetry;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

pub use load::DEMO_CREDENTIAL;
pub use scenario::Scenario;

use crate::clock::Pace;
use crate::load::{LoadGenerator, Sent};
use crate::rng::Rng;
use crate::services::Shop;
use crate::telemetry::Telemetry;

/// The OTLP/HTTP receiver's standard address, spanview's default.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4318";

/// What `spanview demo` was asked to do.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// An OTLP/HTTP endpoint: a base URL (`/v1/traces` is appended) or the full traces URL.
    pub endpoint: String,
    /// Multiplies every simulated wait; 1.0 is the scenario's real time.
    pub time_scale: f64,
    /// Background requests after the scenarios.
    pub background_requests: u32,
    /// Seed of the background traffic's randomness.
    pub seed: u64,
    /// Sent as `Authorization: Bearer …` with every export (spanview's `--auth-token`).
    pub auth_token: Option<String>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            time_scale: 1.0,
            background_requests: 30,
            seed: 1,
            auth_token: None,
        }
    }
}

impl DemoConfig {
    /// The URL the exporters post to.
    pub fn traces_endpoint(&self) -> String {
        let base = self.endpoint.trim_end_matches('/');
        if base.ends_with("/v1/traces") {
            base.to_owned()
        } else {
            format!("{base}/v1/traces")
        }
    }

    /// Where spanview's UI is, if the endpoint is a spanview.
    pub fn ui_base(&self) -> String {
        let traces = self.traces_endpoint();
        traces.trim_end_matches("/v1/traces").to_owned()
    }

    fn validate(&self) -> Result<(), DemoError> {
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(DemoError::TimeScale(self.time_scale));
        }
        let invalid = |reason: &str| DemoError::Endpoint {
            endpoint: self.endpoint.clone(),
            reason: reason.to_owned(),
        };
        let uri: http::Uri = self
            .traces_endpoint()
            .parse()
            .map_err(|error: http::uri::InvalidUri| invalid(&error.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(invalid(
                    "https is not supported: the demo's exporter is built without TLS",
                ));
            }
            _ => return Err(invalid("expected an http:// URL")),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(invalid("the URL has no host"));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("invalid time scale {0}: expected a positive number such as 1 or 0.01")]
    TimeScale(f64),
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    Endpoint { endpoint: String, reason: String },
    #[error("cannot reach the OTLP endpoint {endpoint}: {message}")]
    Unreachable { endpoint: String, message: String },
    #[error("the OTLP endpoint {endpoint} refused an export with HTTP {status}{hint}")]
    Refused {
        endpoint: String,
        status: u16,
        hint: &'static str,
    },
    #[error("setting up the OTLP exporter of {service}: {message}")]
    Exporter {
        service: &'static str,
        message: String,
    },
    #[error("building an HTTP client: {0}")]
    Client(String),
    #[error("binding a loopback port for {service}")]
    Bind {
        service: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("serving {service}")]
    Serve {
        service: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("request to {url} failed: {message}")]
    Request { url: String, message: String },
    #[error("a demo task failed: {0}")]
    Task(String),
    #[error("exporting the last spans failed: {0}")]
    Flush(String),
}

/// One scenario request and its trace.
#[derive(Debug, Clone)]
pub struct ScenarioTrace {
    pub scenario: Scenario,
    pub trace_id: String,
    /// HTTP status the load generator got.
    pub status: u16,
    /// As the load generator measured it (scaled by the time scale).
    pub duration: Duration,
}

/// What a demo run sent.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub traces_endpoint: String,
    pub ui_base: String,
    pub time_scale: f64,
    pub scenarios: Vec<ScenarioTrace>,
    pub n_background: usize,
    /// Background requests answered with a 5xx status.
    pub n_background_errors: usize,
    /// Background requests slower than 1 s of scenario time.
    pub n_background_slow: usize,
}

impl DemoReport {
    pub fn trace_id(&self, scenario: Scenario) -> Option<&str> {
        self.scenarios
            .iter()
            .find(|trace| trace.scenario == scenario)
            .map(|trace| trace.trace_id.as_str())
    }

    /// The report `spanview demo` prints: one line per scenario trace with the address to open.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "sent to {} (time scale {}):",
            self.traces_endpoint, self.time_scale
        );
        for trace in &self.scenarios {
            let _ = writeln!(
                out,
                "  {:<17} {:>8.1} ms  HTTP {}  trace {}  {}/trace/{}",
                trace.scenario.name(),
                trace.duration.as_secs_f64() * 1000.0,
                trace.status,
                trace.trace_id,
                self.ui_base,
                trace.trace_id
            );
            let _ = writeln!(out, "  {:<17} {}", "", trace.scenario.description());
        }
        let pairs = [
            (Scenario::SlowOrder, Scenario::FixedOrder),
            (Scenario::NPlusOne, Scenario::BatchedProducts),
        ];
        for (before, after) in pairs {
            if let (Some(before_id), Some(after_id)) = (self.trace_id(before), self.trace_id(after))
            {
                let _ = writeln!(
                    out,
                    "  compare {} -> {}: {}/compare/{before_id}/{after_id}",
                    before.name(),
                    after.name(),
                    self.ui_base
                );
            }
        }
        let _ = writeln!(
            out,
            "  background: {} requests, {} slow (> 1 s scenario time), {} failed",
            self.n_background, self.n_background_slow, self.n_background_errors
        );
        if self.time_scale != 1.0 {
            let _ = writeln!(
                out,
                "  (span durations are scaled by {}: multiply by {} for the scenario's times)",
                self.time_scale,
                1.0 / self.time_scale
            );
        }
        out
    }
}

/// Runs the demo: starts the services, sends the scenarios and `background_requests` more,
/// stops the services and flushes every exporter.
pub async fn run(config: &DemoConfig) -> Result<DemoReport, DemoError> {
    config.validate()?;
    let traces_endpoint = config.traces_endpoint();
    check_endpoint(&traces_endpoint, config.auth_token.as_deref()).await?;

    let pace = Pace::new(config.time_scale);
    let rng = Rng::new(config.seed);
    let telemetry = Arc::new(Telemetry::new(
        traces_endpoint.clone(),
        config.auth_token.clone(),
    ));
    let shop = match Shop::start(&telemetry, pace, &rng).await {
        Ok(shop) => Arc::new(shop),
        Err(error) => {
            let _ = flush(telemetry).await;
            return Err(error);
        }
    };
    let traffic = send_traffic(&shop, config, pace, &rng).await;

    let stopped = match Arc::try_unwrap(shop) {
        Ok(shop) => shop.stop().await,
        Err(_) => Err(DemoError::Task("the services are still in use".to_owned())),
    };
    let flushed = flush(telemetry).await;
    let (scenarios, background) = traffic?;
    stopped?;
    flushed?;

    let slow_after = Duration::from_secs_f64(config.time_scale);
    Ok(DemoReport {
        traces_endpoint,
        ui_base: config.ui_base(),
        time_scale: config.time_scale,
        n_background: background.len(),
        n_background_errors: background.iter().filter(|sent| sent.status >= 500).count(),
        n_background_slow: background
            .iter()
            .filter(|sent| sent.duration > slow_after)
            .count(),
        scenarios,
    })
}

async fn send_traffic(
    shop: &Arc<Shop>,
    config: &DemoConfig,
    pace: Pace,
    rng: &Rng,
) -> Result<(Vec<ScenarioTrace>, Vec<Sent>), DemoError> {
    let load = Arc::new(LoadGenerator::new()?);
    let mut scenarios = Vec::new();
    for scenario in Scenario::ALL {
        let sent = load.scenario(shop, scenario).await?;
        tracing::info!(scenario = scenario.name(), trace_id = %sent.trace_id, "scenario sent");
        scenarios.push(ScenarioTrace {
            scenario,
            trace_id: sent.trace_id,
            status: sent.status,
            duration: sent.duration,
        });
        // A pause between scenarios, so they are easy to tell apart on the timeline.
        pace.work(500.0).await;
    }
    let background = load
        .background(shop, config.background_requests, pace, rng)
        .await?;
    Ok((scenarios, background))
}

/// Exports everything still queued, off the runtime's worker threads (the exporter blocks).
async fn flush(telemetry: Arc<Telemetry>) -> Result<(), DemoError> {
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .map_err(|error| DemoError::Task(error.to_string()))?
}

/// An empty export before anything else, so that an unreachable endpoint or a missing token is
/// reported at once rather than as spans lost at exit.
async fn check_endpoint(traces_endpoint: &str, auth_token: Option<&str>) -> Result<(), DemoError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| DemoError::Client(error.to_string()))?;
    let mut request = client
        .post(traces_endpoint)
        .header(http::header::CONTENT_TYPE, "application/x-protobuf")
        .body(Vec::new());
    if let Some(token) = auth_token.filter(|token| !token.is_empty()) {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|error| DemoError::Unreachable {
            endpoint: traces_endpoint.to_owned(),
            message: error_chain(&error),
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    Err(DemoError::Refused {
        endpoint: traces_endpoint.to_owned(),
        status: status.as_u16(),
        hint: match status.as_u16() {
            401 | 403 => " (pass --auth-token, or set SPANVIEW_AUTH_TOKEN)",
            404 => " (is it an OTLP/HTTP receiver? the path should end in /v1/traces)",
            _ => "",
        },
    })
}

/// An error and its sources on one line (reqwest's own message omits "connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_a_base_url_or_the_traces_url() {
        let mut config = DemoConfig::default();
        assert_eq!(config.traces_endpoint(), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(config.ui_base(), "http://127.0.0.1:4318");
        config.endpoint = "http://collector:4318/v1/traces".to_owned();
        assert_eq!(config.traces_endpoint(), "http://collector:4318/v1/traces");
        assert_eq!(config.ui_base(), "http://collector:4318");
        config.endpoint = "http://127.0.0.1:9999/".to_owned();
        assert_eq!(config.traces_endpoint(), "http://127.0.0.1:9999/v1/traces");
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        let config = DemoConfig {
            time_scale: 0.0,
            ..DemoConfig::default()
        };
        assert!(matches!(config.validate(), Err(DemoError::TimeScale(_))));
        let config = DemoConfig {
            time_scale: f64::NAN,
            ..DemoConfig::default()
        };
        assert!(matches!(config.validate(), Err(DemoError::TimeScale(_))));
        for endpoint in ["https://example.invalid", "ftp://host", "not a url"] {
            let config = DemoConfig {
                endpoint: endpoint.to_owned(),
                ..DemoConfig::default()
            };
            assert!(
                matches!(config.validate(), Err(DemoError::Endpoint { .. })),
                "{endpoint}"
            );
        }
    }
}
