//! Ingest benchmark: posts pre-encoded OTLP batches to a running spanview (or any OTLP/HTTP
//! receiver) from several connections and reports spans per second, end to end (each `200`
//! means durable).
//!
//! usage: ingest-bench URL [--encoding protobuf|json] [--spans N] [--batch N] [--connections N]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;

struct Options {
    url: String,
    json: bool,
    n_spans: usize,
    batch_size: usize,
    n_connections: usize,
}

fn parse_options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        url: args.next().context("usage: ingest-bench URL [--encoding protobuf|json] [--spans N] [--batch N] [--connections N]")?,
        json: false,
        n_spans: 200_000,
        batch_size: 512,
        n_connections: 4,
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--encoding" => options.json = value == "json",
            "--spans" => options.n_spans = value.parse()?,
            "--batch" => options.batch_size = value.parse()?,
            "--connections" => options.n_connections = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(options)
}

fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A batch shaped like real HTTP service traffic: 8 spans per trace, 6 attributes per span.
fn batch(batch_idx: usize, batch_size: usize, run_seed: u64) -> ExportTraceServiceRequest {
    let services = [
        "order-service",
        "user-service",
        "inventory-service",
        "product-service",
    ];
    let mut resource_spans = Vec::new();
    for (service_idx, service) in services.iter().enumerate() {
        let mut spans = Vec::new();
        for span_in_batch in (service_idx..batch_size).step_by(services.len()) {
            let global = (batch_idx * batch_size + span_in_batch) as u64;
            let trace_number = global / 8;
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&(trace_number + 1).to_be_bytes());
            trace_id[8..].copy_from_slice(&run_seed.to_be_bytes());
            let start = 1_800_000_000_000_000_000 + global * 1_000_000;
            spans.push(Span {
                trace_id: trace_id.to_vec(),
                span_id: (global + 1).to_be_bytes().to_vec(),
                parent_span_id: if global.is_multiple_of(8) {
                    Vec::new()
                } else {
                    (global - global % 8 + 1).to_be_bytes().to_vec()
                },
                name: format!("GET /api/v1/items/{}", global % 20),
                kind: 2,
                start_time_unix_nano: start,
                end_time_unix_nano: start + 1_000_000 + (global % 97) * 10_000,
                attributes: vec![
                    attribute("http.method", any_value::Value::StringValue("GET".into())),
                    attribute(
                        "http.route",
                        any_value::Value::StringValue("/api/v1/items/{id}".into()),
                    ),
                    attribute("http.status_code", any_value::Value::IntValue(200)),
                    attribute(
                        "net.peer.ip",
                        any_value::Value::StringValue(format!("10.0.0.{}", global % 250)),
                    ),
                    attribute(
                        "user.id",
                        any_value::Value::IntValue((global % 5000) as i64),
                    ),
                    attribute(
                        "cache.hit",
                        any_value::Value::BoolValue(global.is_multiple_of(3)),
                    ),
                ],
                status: Some(Status {
                    code: if global.is_multiple_of(50) { 2 } else { 0 },
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        resource_spans.push(ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    attribute(
                        "service.name",
                        any_value::Value::StringValue((*service).into()),
                    ),
                    attribute(
                        "service.version",
                        any_value::Value::StringValue("1.4.2".into()),
                    ),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    ExportTraceServiceRequest { resource_spans }
}

fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    let n_batches = options.n_spans.div_ceil(options.batch_size);
    // Fresh trace ids on every run: re-sent identical spans would be skipped as retries.
    let run_seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |elapsed| elapsed.as_nanos() as u64);
    let bodies: Vec<Vec<u8>> = (0..n_batches)
        .map(|idx| {
            let request = batch(idx, options.batch_size, run_seed);
            if options.json {
                serde_json::to_vec(&request).expect("json")
            } else {
                request.encode_to_vec()
            }
        })
        .collect();
    let content_type = if options.json {
        "application/json"
    } else {
        "application/x-protobuf"
    };
    let mean_body = bodies.iter().map(Vec::len).sum::<usize>() / bodies.len();
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..options.n_connections {
            scope.spawn(|| {
                let agent = ureq::Agent::new_with_defaults();
                loop {
                    let idx = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(idx) else { break };
                    let response = agent
                        .post(&options.url)
                        .header("content-type", content_type)
                        .send(body.as_slice())
                        .expect("export request");
                    assert_eq!(response.status(), 200);
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} spans in {} batches of {} ({}, {} B/batch mean) over {} connections: {:.2} s, {:.0} spans/s",
        n_batches * options.batch_size,
        n_batches,
        options.batch_size,
        if options.json { "json" } else { "protobuf" },
        mean_body,
        options.n_connections,
        seconds,
        (n_batches * options.batch_size) as f64 / seconds
    );
    Ok(())
}
