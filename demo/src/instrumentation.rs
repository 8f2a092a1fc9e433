//! HTTP instrumentation as an OpenTelemetry HTTP library does it: a server span per request
//! (context extracted from `traceparent`/`baggage`), a client span per outgoing call (context
//! injected), HTTP semantic-convention attributes, and secrets kept out of attributes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, OriginalUri, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, StatusCode};
use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::trace::SdkTracer;

use crate::clock::Pace;
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::telemetry::ServiceIdentity;

/// Baggage entries that the services copy onto their server spans (an allow-list: baggage is
/// caller-controlled, so nothing else from it lands in the telemetry).
pub const BAGGAGE_TO_ATTRIBUTES: [&str; 2] = ["customer.tier", "demo.scenario"];

/// The value recorded for headers that carry credentials.
pub const REDACTED: &str = "[REDACTED]";

/// W3C Trace Context Level 2 response header: lets a caller that started no trace of its own
/// (the demo's load generator) learn the trace id of its request.
const TRACERESPONSE: &str = "traceresponse";

/// `Server-Timing: app;dur=MS`: how long the handler took, so that a caller can tell the
/// callee's time from the network's.
const SERVER_TIMING: &str = "server-timing";

/// The port the spans give every service. The services really listen on ephemeral loopback
/// ports; the spans name them as a cluster's service discovery would (`inventory-service:8080`),
/// so that two runs, or the two deployments, differ only where their behaviour does.
const LOGICAL_PORT: i64 = 8080;

/// What every handler of one service shares.
#[derive(Clone)]
pub struct ServiceContext {
    pub identity: ServiceIdentity,
    pub tracer: SdkTracer,
    pub propagator: Arc<TextMapCompositePropagator>,
    pub pace: Pace,
    pub rng: Rng,
    pub address: SocketAddr,
    pub client: reqwest::Client,
}

/// The per-request context a handler receives: the server span (with the propagated baggage),
/// the scenario the request belongs to, and the caller's credentials to forward downstream.
#[derive(Clone)]
pub struct RequestContext {
    pub cx: Context,
    pub scenario: Option<Scenario>,
    authorization: Option<HeaderValue>,
}

impl RequestContext {
    /// Background traffic varies; scenario requests reproduce the scenario's numbers exactly.
    pub fn is_background(&self) -> bool {
        self.scenario.is_none()
    }

    /// The same request with more baggage for the calls it makes.
    pub fn with_baggage(&self, entries: Vec<KeyValue>) -> Self {
        let mut baggage = Baggage::new();
        for (key, (value, metadata)) in self.cx.baggage() {
            let _ = baggage.insert_with_metadata(key.clone(), value.clone(), metadata.clone());
        }
        for entry in entries {
            let _ = baggage.insert(entry.key, entry.value.as_str().into_owned());
        }
        Self {
            cx: self.cx.with_baggage(baggage),
            ..self.clone()
        }
    }
}

impl ServiceContext {
    /// A latency in scenario milliseconds: `nominal` for scenario requests, a log-normal draw
    /// around it for background traffic.
    pub fn latency(&self, request: &RequestContext, nominal_ms: f64) -> f64 {
        if request.is_background() {
            self.rng.latency(nominal_ms, 0.25)
        } else {
            nominal_ms
        }
    }

    /// Starts a child span of `parent` in this service.
    pub fn child_span(
        &self,
        parent: &Context,
        name: impl Into<String>,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
    ) -> Context {
        let span = self
            .tracer
            .span_builder(name.into())
            .with_kind(kind)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, parent);
        parent.with_span(span)
    }

    /// `GET base_url + path_and_query` on another demo service, in a client span whose context
    /// travels in `traceparent` and `baggage`.
    pub async fn get(
        &self,
        request: &RequestContext,
        downstream: &Downstream,
        path_and_query: &str,
    ) -> Result<Reply, CallError> {
        let path = path_and_query.split('?').next().unwrap_or(path_and_query);
        let url = format!("{}{path_and_query}", downstream.base_url);
        let cx = self.child_span(
            &request.cx,
            format!("GET {path}"),
            SpanKind::Client,
            vec![
                KeyValue::new("http.method", "GET"),
                KeyValue::new(
                    "http.url",
                    format!("{}{path_and_query}", downstream.logical_base_url),
                ),
                KeyValue::new("server.address", downstream.service),
                KeyValue::new("server.port", LOGICAL_PORT),
                KeyValue::new("peer.service", downstream.service),
            ],
        );
        let mut headers = HeaderMap::new();
        self.propagator
            .inject_context(&cx, &mut HeaderInjector(&mut headers));
        if let Some(authorization) = &request.authorization {
            headers.insert(http::header::AUTHORIZATION, authorization.clone());
        }
        let span = cx.span();
        let outcome = match self.client.get(&url).headers(headers).send().await {
            Ok(response) => {
                let status = response.status();
                span.set_attribute(KeyValue::new(
                    "http.status_code",
                    i64::from(status.as_u16()),
                ));
                let server_time = server_time(response.headers());
                let body = response.text().await.unwrap_or_default();
                if status.is_server_error() {
                    span.set_attribute(KeyValue::new("error.type", status.as_u16().to_string()));
                    span.set_status(Status::error(format!("HTTP {}", status.as_u16())));
                    Err(CallError::Status {
                        service: downstream.service,
                        status,
                    })
                } else {
                    Ok(Reply { body, server_time })
                }
            }
            Err(error) => {
                record_exception(&cx, "reqwest::Error", &error.to_string());
                Err(CallError::Transport {
                    service: downstream.service,
                    message: error.to_string(),
                })
            }
        };
        span.end();
        outcome
    }
}

/// A downstream service's answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub body: String,
    /// How long the callee's handler took, from its `Server-Timing` header.
    pub server_time: Option<Duration>,
}

/// The `app` metric of a `Server-Timing: app;dur=12.5` header.
fn server_time(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(SERVER_TIMING)?.to_str().ok()?;
    let metric = value
        .split(',')
        .find(|metric| metric.trim().starts_with("app;"))?;
    let milliseconds: f64 = metric.split("dur=").nth(1)?.trim().parse().ok()?;
    (milliseconds.is_finite() && milliseconds >= 0.0)
        .then(|| Duration::from_secs_f64(milliseconds / 1000.0))
}

/// Another demo service, as a caller knows it.
#[derive(Debug, Clone)]
pub struct Downstream {
    pub service: &'static str,
    /// Where it really listens (an ephemeral loopback port).
    base_url: String,
    /// What the spans record: its name and port behind service discovery.
    logical_base_url: String,
}

impl Downstream {
    pub fn new(service: &'static str, address: SocketAddr, prefix: &str) -> Self {
        Self {
            service,
            base_url: format!("http://{address}{prefix}"),
            logical_base_url: format!("http://{service}:{LOGICAL_PORT}{prefix}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{service} answered {status}")]
    Status {
        service: &'static str,
        status: StatusCode,
    },
    #[error("calling {service} failed: {message}")]
    Transport {
        service: &'static str,
        message: String,
    },
}

/// Records an exception as the semantic conventions say (an `exception` event) and marks the
/// span failed.
pub fn record_exception(cx: &Context, exception_type: &str, message: &str) {
    let span = cx.span();
    span.add_event(
        "exception",
        vec![
            KeyValue::new("exception.type", exception_type.to_owned()),
            KeyValue::new("exception.message", message.to_owned()),
            KeyValue::new("exception.escaped", false),
        ],
    );
    span.set_status(Status::error(message.to_owned()));
}

/// Axum middleware (a `route_layer`, so the route is known): one server span per request.
pub async fn trace_requests(
    State(service): State<Arc<ServiceContext>>,
    matched_path: Option<MatchedPath>,
    OriginalUri(original_uri): OriginalUri,
    mut request: Request,
    next: Next,
) -> Response {
    let parent = service
        .propagator
        .extract(&HeaderExtractor(request.headers()));
    let method = request.method().as_str().to_owned();
    let mut attributes = vec![
        KeyValue::new("http.method", method.clone()),
        KeyValue::new("http.url", original_uri.path().to_owned()),
        KeyValue::new("http.scheme", "http"),
        KeyValue::new("server.address", service.identity.name),
        KeyValue::new("server.port", LOGICAL_PORT),
    ];
    if let Some(query) = original_uri.query() {
        attributes.push(KeyValue::new("url.query", query.to_owned()));
    }
    if let Some(route) = &matched_path {
        attributes.push(KeyValue::new("http.route", route.as_str().to_owned()));
    }
    attributes.extend(header_attributes(request.headers()));
    let baggage = parent.baggage();
    for key in BAGGAGE_TO_ATTRIBUTES {
        if let Some(value) = baggage.get(key) {
            attributes.push(KeyValue::new(key, value.as_str().to_owned()));
        }
    }
    let scenario = baggage
        .get("demo.scenario")
        .and_then(|value| Scenario::from_baggage(value.as_str()));
    // The span name: method and path inside the service (a nested router strips its prefix).
    let name = format!("{method} {}", request.uri().path());
    let cx = service.child_span(&parent, name, SpanKind::Server, attributes);
    let authorization = request.headers().get(http::header::AUTHORIZATION).cloned();
    request.extensions_mut().insert(RequestContext {
        cx: cx.clone(),
        scenario,
        authorization,
    });

    let started = Instant::now();
    let mut response = next.run(request).await;
    let handler_time = started.elapsed();

    let span = cx.span();
    let status = response.status();
    span.set_attribute(KeyValue::new(
        "http.status_code",
        i64::from(status.as_u16()),
    ));
    if status.is_server_error() {
        // A handler's more precise status (set first) wins: an error status is not replaced.
        span.set_status(Status::error(format!("HTTP {}", status.as_u16())));
    }
    let span_context = span.span_context();
    let traceresponse = format!(
        "00-{}-{}-{:02x}",
        span_context.trace_id(),
        span_context.span_id(),
        span_context.trace_flags().to_u8()
    );
    if let Ok(value) = HeaderValue::from_str(&traceresponse) {
        response.headers_mut().insert(TRACERESPONSE, value);
    }
    let server_timing = format!("app;dur={:.3}", handler_time.as_secs_f64() * 1000.0);
    if let Ok(value) = HeaderValue::from_str(&server_timing) {
        response.headers_mut().insert(SERVER_TIMING, value);
    }
    span.end();
    response
}

/// The request headers worth recording, with credentials redacted: the value of
/// `Authorization` or `Cookie` never reaches the exporter.
fn header_attributes(headers: &HeaderMap) -> Vec<KeyValue> {
    let mut attributes = Vec::new();
    for name in ["user-agent", "authorization", "cookie"] {
        let Some(value) = headers.get(name) else {
            continue;
        };
        let value = if is_sensitive(name) {
            REDACTED.to_owned()
        } else {
            value.to_str().unwrap_or_default().to_owned()
        };
        let key = if name == "user-agent" {
            "user_agent.original".to_owned()
        } else {
            format!("http.request.header.{name}")
        };
        attributes.push(KeyValue::new(key, value));
    }
    attributes
}

/// Keys whose values are credentials (compared case-insensitively).
pub fn is_sensitive(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["authorization", "cookie", "password", "secret", "token"]
        .iter()
        .any(|pattern| key.contains(pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_and_other_headers_kept() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
        headers.insert("cookie", HeaderValue::from_static("session=xyz"));
        headers.insert("user-agent", HeaderValue::from_static("curl/8"));
        let attributes = header_attributes(&headers);
        let value_of = |key: &str| {
            attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.as_str().into_owned())
        };
        assert_eq!(value_of("user_agent.original").as_deref(), Some("curl/8"));
        assert_eq!(
            value_of("http.request.header.authorization").as_deref(),
            Some(REDACTED)
        );
        assert_eq!(
            value_of("http.request.header.cookie").as_deref(),
            Some(REDACTED)
        );
        assert!(is_sensitive("db.password"));
        let mut headers = HeaderMap::new();
        headers.insert(
            SERVER_TIMING,
            HeaderValue::from_static("db;dur=1, app;dur=12.5"),
        );
        assert_eq!(server_time(&headers), Some(Duration::from_micros(12_500)));
        assert!(!is_sensitive("db.statement"));
    }
}
