//! Ingest benchmark: posts pre-encoded OTLP batches to a running spanview (or any OTLP/HTTP
//! receiver) from several connections and reports spans per second, end to end (each `200`
//! means durable).
//!
//! usage: ingest-bench URL [--encoding protobuf|json] [--spans N] [--batch N] [--connections N]
//!        [--seed N] [--rate SPANS_PER_SECOND]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use prost::Message;
use spanview_e2e::load::batch;

struct Options {
    url: String,
    json: bool,
    n_spans: usize,
    batch_size: usize,
    n_connections: usize,
    /// Trace ids derive from it (`query-bench --seed` finds the traces again).
    run_seed: u64,
    /// Send at this steady rate instead of as fast as possible.
    spans_per_second: Option<f64>,
}

fn parse_options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        url: args.next().context("usage: ingest-bench URL [--encoding protobuf|json] [--spans N] [--batch N] [--connections N] [--seed N] [--rate N]")?,
        json: false,
        n_spans: 200_000,
        batch_size: 512,
        n_connections: 4,
        // Fresh trace ids on every run unless told: re-sent identical spans would be skipped
        // as retries.
        run_seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |elapsed| elapsed.as_nanos() as u64),
        spans_per_second: None,
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
            "--seed" => options.run_seed = value.parse()?,
            "--rate" => options.spans_per_second = Some(value.parse()?),
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(options)
}

/// Batches are encoded ahead of sending, this many spans at a time, so that a 10M-span run
/// does not hold every body in memory and encoding is not timed.
const ROUND_SPANS: usize = 1_000_000;

fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    let n_batches = options.n_spans.div_ceil(options.batch_size);
    let content_type = if options.json {
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
                let request = batch(idx, options.batch_size, options.run_seed);
                if options.json {
                    serde_json::to_vec(&request).expect("json")
                } else {
                    request.encode_to_vec()
                }
            })
            .collect();
        body_bytes += bodies.iter().map(Vec::len).sum::<usize>();
        let started = Instant::now();
        send_all(&options, &bodies, content_type);
        sending += started.elapsed();
        first = last;
    }
    let seconds = sending.as_secs_f64();
    println!(
        "{} spans in {} batches of {} ({}, {} B/batch mean) over {} connections: {:.2} s, {:.0} spans/s (seed {})",
        n_batches * options.batch_size,
        n_batches,
        options.batch_size,
        if options.json { "json" } else { "protobuf" },
        body_bytes / n_batches.max(1),
        options.n_connections,
        seconds,
        (n_batches * options.batch_size) as f64 / seconds,
        options.run_seed,
    );
    Ok(())
}

fn send_all(options: &Options, bodies: &[Vec<u8>], content_type: &str) {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let seconds_per_batch = options
        .spans_per_second
        .map(|rate| options.batch_size as f64 / rate);
    std::thread::scope(|scope| {
        for _ in 0..options.n_connections {
            scope.spawn(|| {
                let agent = ureq::Agent::new_with_defaults();
                loop {
                    let idx = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(idx) else { break };
                    if let Some(seconds) = seconds_per_batch {
                        let due = std::time::Duration::from_secs_f64(seconds * idx as f64);
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            std::thread::sleep(wait);
                        }
                    }
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
}
