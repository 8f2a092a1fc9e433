//! Ingest benchmark: sends OTLP batches to a running spanview (or any OTLP receiver) from several
//! connections and reports spans per second, end to end (each `200` or gRPC `OK` means durable
//! for spanview). Batches are encoded ahead of sending, for OTLP/HTTP and for OTLP/gRPC alike
//! (`--encoding grpc`, URL `http://HOST:4317`, one HTTP/2 connection per `--connections`,
//! tonic's client with a codec that sends the encoded bytes as they are).
//!
//! usage: ingest-bench URL [--encoding protobuf|json|grpc] [--spans N] [--batch N]
//!        [--connections N] [--seed N] [--rate SPANS_PER_SECOND]   (`--help` says more)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use bytes::{Buf, BufMut, Bytes};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use spanview_e2e::load::batch;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Encoding {
    /// OTLP/HTTP, protobuf body.
    Protobuf,
    /// OTLP/HTTP, JSON body.
    Json,
    /// OTLP/gRPC (URL `http://HOST:4317`).
    Grpc,
}

impl Encoding {
    fn label(self) -> &'static str {
        match self {
            Self::Protobuf => "protobuf",
            Self::Json => "json",
            Self::Grpc => "grpc",
        }
    }
}

/// Sends OTLP batches to a running receiver from several connections and reports spans per
/// second, end to end.
#[derive(clap::Parser)]
#[command(name = "ingest-bench")]
struct Options {
    /// The receiver: `http://HOST:PORT/v1/traces` for OTLP/HTTP, `http://HOST:PORT` for gRPC.
    url: String,
    #[arg(long, value_enum, default_value_t = Encoding::Protobuf)]
    encoding: Encoding,
    /// Spans to send in all.
    #[arg(long = "spans", default_value_t = 200_000)]
    n_spans: usize,
    /// Spans per request.
    #[arg(long = "batch", default_value_t = 512, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    batch_size: usize,
    /// Connections sending at once.
    #[arg(long = "connections", default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    n_connections: usize,
    /// Trace ids derive from it (`query-bench --seed` finds the traces again); fresh on every
    /// run unless given, since re-sent identical spans would be skipped as retries.
    #[arg(long = "seed", default_value_t = fresh_seed(), hide_default_value = true)]
    run_seed: u64,
    /// Send at this steady rate (spans per second) instead of as fast as possible.
    #[arg(long = "rate", value_name = "SPANS_PER_SECOND")]
    spans_per_second: Option<f64>,
}

fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |elapsed| elapsed.as_nanos() as u64)
}

/// Batches are encoded ahead of sending, this many spans at a time, so that a 10M-span run
/// does not hold every body in memory and encoding is not timed.
const ROUND_SPANS: usize = 1_000_000;

fn main() -> anyhow::Result<()> {
    let options = <Options as clap::Parser>::parse();
    let n_batches = options.n_spans.div_ceil(options.batch_size);
    let content_type = if options.encoding == Encoding::Json {
        "application/json"
    } else {
        "application/x-protobuf"
    };
    let batches_per_round = (ROUND_SPANS / options.batch_size).max(1);
    let mut sending = std::time::Duration::ZERO;
    let mut body_bytes = 0usize;
    let mut first = 0;
    while first < n_batches {
        let last = (first + batches_per_round).min(n_batches);
        let bodies: Vec<Vec<u8>> = (first..last)
            .map(|idx| {
                let request: ExportTraceServiceRequest =
                    batch(idx, options.batch_size, options.run_seed);
                match options.encoding {
                    Encoding::Json => serde_json::to_vec(&request).expect("json"),
                    Encoding::Protobuf | Encoding::Grpc => request.encode_to_vec(),
                }
            })
            .collect();
        body_bytes += bodies.iter().map(Vec::len).sum::<usize>();
        let started = Instant::now();
        if options.encoding == Encoding::Grpc {
            send_all_grpc(&options, bodies)?;
        } else {
            send_all(&options, &bodies, content_type);
        }
        sending += started.elapsed();
        first = last;
    }
    let seconds = sending.as_secs_f64();
    println!(
        "{} spans in {} batches of {} ({}, {} B/batch mean) over {} connections: {:.2} s, {:.0} spans/s (seed {})",
        n_batches * options.batch_size,
        n_batches,
        options.batch_size,
        options.encoding.label(),
        body_bytes / n_batches.max(1),
        options.n_connections,
        seconds,
        (n_batches * options.batch_size) as f64 / seconds,
        options.run_seed,
    );
    Ok(())
}

/// With `--spans-per-second`, how long batch `idx` waits before it is due; `None` when it is
/// due already (or the rate is not limited).
fn pacing_wait(
    seconds_per_batch: Option<f64>,
    idx: usize,
    started: Instant,
) -> Option<std::time::Duration> {
    let due = std::time::Duration::from_secs_f64(seconds_per_batch? * idx as f64);
    due.checked_sub(started.elapsed())
}

fn send_all(options: &Options, bodies: &[Vec<u8>], content_type: &str) {
    let next = AtomicUsize::new(0);
    let retries = AtomicUsize::new(0);
    let started = Instant::now();
    let seconds_per_batch = options
        .spans_per_second
        .map(|rate| options.batch_size as f64 / rate);
    std::thread::scope(|scope| {
        for _ in 0..options.n_connections {
            scope.spawn(|| {
                // Statuses are answers here, not errors: a 503 or 429 is retried.
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                loop {
                    let idx = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(idx) else { break };
                    if let Some(wait) = pacing_wait(seconds_per_batch, idx, started) {
                        std::thread::sleep(wait);
                    }
                    // As an OTel exporter does: a 503 or 429 (a full spool, a busy store) is
                    // sent again after its Retry-After; anything else but 200 is a failure.
                    loop {
                        let response = agent
                            .post(&options.url)
                            .header("content-type", content_type)
                            .send(body.as_slice())
                            .expect("export request");
                        let status = response.status().as_u16();
                        if status == 200 {
                            break;
                        }
                        assert!(
                            status == 503 || status == 429,
                            "export request answered {status}"
                        );
                        let retry_after = response
                            .headers()
                            .get("retry-after")
                            .and_then(|value| value.to_str().ok())
                            .and_then(|value| value.parse::<u64>().ok())
                            .unwrap_or(1);
                        retries.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(std::time::Duration::from_secs(retry_after));
                    }
                }
            });
        }
    });
    let retries = retries.into_inner();
    if retries > 0 {
        eprintln!("{retries} requests answered 503/429 and sent again after their Retry-After");
    }
}

/// Sends every encoded request over OTLP/gRPC, one HTTP/2 connection per `--connections`.
fn send_all_grpc(options: &Options, bodies: Vec<Vec<u8>>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bodies: Vec<Bytes> = bodies.into_iter().map(Bytes::from).collect();
    let bodies = std::sync::Arc::new(bodies);
    let next = std::sync::Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let seconds_per_batch = options
        .spans_per_second
        .map(|rate| options.batch_size as f64 / rate);
    let path: tonic::codegen::http::uri::PathAndQuery =
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
            .parse()
            .expect("a path");
    runtime.block_on(async {
        let mut senders = tokio::task::JoinSet::new();
        for _ in 0..options.n_connections {
            let channel = tonic::transport::Endpoint::from_shared(options.url.clone())?
                .connect()
                .await
                .with_context(|| format!("connecting to {}", options.url))?;
            let mut client = tonic::client::Grpc::new(channel);
            let (bodies, next, path) = (bodies.clone(), next.clone(), path.clone());
            senders.spawn(async move {
                loop {
                    let idx = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(idx) else { break };
                    if let Some(wait) = pacing_wait(seconds_per_batch, idx, started) {
                        tokio::time::sleep(wait).await;
                    }
                    client.ready().await.context("connection")?;
                    client
                        .unary(
                            tonic::Request::new(body.clone()),
                            path.clone(),
                            EncodedCodec,
                        )
                        .await
                        .context("export call")?;
                }
                anyhow::Ok(())
            });
        }
        while let Some(finished) = senders.join_next().await {
            finished??;
        }
        anyhow::Ok(())
    })
}

/// Sends already encoded messages and keeps the (unread) response bytes.
#[derive(Clone, Copy)]
struct EncodedCodec;

impl tonic::codec::Codec for EncodedCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = EncodedCodec;
    type Decoder = EncodedCodec;

    fn encoder(&mut self) -> Self::Encoder {
        *self
    }

    fn decoder(&mut self) -> Self::Decoder {
        *self
    }
}

impl tonic::codec::Encoder for EncodedCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl tonic::codec::Decoder for EncodedCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
