//! The OpenTelemetry SDK set up as each service would set it up: one tracer provider per service
//! (its resource names it), a parent-based sampler, a batch span processor and the OTLP/HTTP
//! protobuf exporter. W3C Trace Context and Baggage are the propagators.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Compression, Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider,
};

use crate::DemoError;

/// `deployment.environment` of every demo service.
pub const ENVIRONMENT: &str = "demo";

/// A service and the version that is deployed, as its resource says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceIdentity {
    pub name: &'static str,
    pub version: &'static str,
}

/// Every tracer provider of the run, so that all of them are flushed before the demo exits.
pub struct Telemetry {
    traces_endpoint: String,
    auth_token: Option<String>,
    scheduled_delay: Duration,
    providers: Mutex<Vec<(ServiceIdentity, SdkTracerProvider)>>,
}

impl Telemetry {
    /// `traces_endpoint` is the full URL, e.g. `http://127.0.0.1:4318/v1/traces`.
    pub fn new(traces_endpoint: String, auth_token: Option<String>) -> Self {
        Self {
            traces_endpoint,
            auth_token,
            // Short, so that a live view shows the traffic while it runs.
            scheduled_delay: Duration::from_millis(500),
            providers: Mutex::new(Vec::new()),
        }
    }

    /// The tracer of one service; its provider exports in the background until [`Self::shutdown`].
    pub fn tracer(&self, service: ServiceIdentity) -> Result<SdkTracer, DemoError> {
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(self.traces_endpoint.clone())
            .with_protocol(Protocol::HttpBinary)
            .with_compression(Compression::Gzip)
            .with_timeout(Duration::from_secs(10));
        if let Some(token) = self.auth_token.as_deref().filter(|token| !token.is_empty()) {
            builder = builder.with_headers(HashMap::from([(
                "authorization".to_owned(),
                format!("Bearer {token}"),
            )]));
        }
        let exporter = builder.build().map_err(|error| DemoError::Exporter {
            service: service.name,
            message: error.to_string(),
        })?;
        let processor = BatchSpanProcessor::builder(exporter)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_scheduled_delay(self.scheduled_delay)
                    .build(),
            )
            .build();
        let resource = Resource::builder()
            .with_service_name(service.name)
            .with_attributes([
                KeyValue::new("service.version", service.version),
                KeyValue::new("service.namespace", "shop"),
                KeyValue::new("deployment.environment", ENVIRONMENT),
                KeyValue::new(
                    "service.instance.id",
                    format!("{}-{}", service.name, service.version),
                ),
            ])
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_resource(resource)
            // The services' production setting is a ratio below 1; the demo keeps every trace.
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                1.0,
            ))))
            .build();
        let tracer = provider.tracer("spanview-demo");
        self.providers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((service, provider));
        Ok(tracer)
    }

    /// Exports what is still queued and stops every provider. Blocks (the exporter's HTTP client
    /// is blocking): call it off the async runtime's worker threads.
    pub fn shutdown(&self) -> Result<(), DemoError> {
        let providers = std::mem::take(
            &mut *self
                .providers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        let mut failures = Vec::new();
        for (service, provider) in providers {
            if let Err(error) = provider.force_flush() {
                failures.push(format!("{} {}: {error}", service.name, service.version));
            }
            // Flushed already: a shutdown error here adds nothing the flush did not say.
            let _ = provider.shutdown();
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(DemoError::Flush(failures.join("; ")))
        }
    }
}

/// W3C `traceparent`/`tracestate` and `baggage`, as every demo service propagates them.
pub fn propagator() -> Arc<TextMapCompositePropagator> {
    Arc::new(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]))
}
