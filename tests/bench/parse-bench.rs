//! Parse benchmark: decodes the same synthetic trace file in each format with core's
//! `decode_file` (what the server's import and the browser's worker run) and reports MB/s; with
//! `--write-dir`, writes the files so that the browser's worker can be timed on exactly the same
//! bytes (`tests/clients/node/upload-bench.mjs`).
//!
//! With `--decode FILE`, decodes that file once per `--runs` (default 1) in this fresh process
//! and prints each time: the first run is what a one-shot decoder (the browser's format worker,
//! `spanview import`) pays, with the allocator's memory still untouched.
//!
//! usage: parse-bench [--spans N] [--write-dir DIR] | parse-bench --decode FILE [--runs N]
//!        (`--help` says more)

use std::time::Instant;

use anyhow::Context;
use spanview_core::formats::{DecodeLimits, decode_file, jaeger, otlp};
use spanview_core::{AnyValue, Batch, KeyValue, Resource, Scope, Span, SpanId, SpanKind, TraceId};

/// Native decoding time of one trace in every file format, or of one file.
#[derive(clap::Parser)]
#[command(name = "parse-bench")]
struct Options {
    /// Spans of the synthetic trace.
    #[arg(long = "spans", default_value_t = 100_000)]
    n_spans: usize,
    /// Also write the files here (for the browser worker's benchmark on the same bytes).
    #[arg(long, value_name = "DIR")]
    write_dir: Option<std::path::PathBuf>,
    /// Decode this file instead, `--runs` times in this fresh process.
    #[arg(long, value_name = "FILE")]
    decode: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 1)]
    runs: usize,
}

fn main() -> anyhow::Result<()> {
    let Options {
        n_spans,
        write_dir,
        decode,
        runs,
    } = <Options as clap::Parser>::parse();
    if let Some(path) = decode {
        return decode_file_runs(&path, runs);
    }
    let batch = synthetic_batch(n_spans);
    let files = [
        (
            "OTLP JSON",
            "trace.otlp.json",
            otlp::encode_json(&batch).into_bytes(),
        ),
        (
            "OTLP protobuf",
            "trace.otlp.pb",
            otlp::encode_protobuf(&batch),
        ),
        (
            "Jaeger JSON",
            "trace.jaeger.json",
            jaeger::encode_json(&batch).into_bytes(),
        ),
    ];
    if let Some(dir) = &write_dir {
        for (_, file_name, bytes) in &files {
            let path = dir.join(file_name);
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    println!("| format | file size | native parse (best of 3) | throughput |");
    println!("|---|---|---|---|");
    for (name, _, bytes) in files {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let decoded = decode_file(&bytes, &DecodeLimits::default())?;
            best = best.min(started.elapsed().as_secs_f64());
            anyhow::ensure!(decoded.batch.spans.len() == n_spans, "{name}: span count");
        }
        let megabytes = bytes.len() as f64 / 1e6;
        println!(
            "| {name} | {megabytes:.1} MB | {:.0} ms | {:.0} MB/s |",
            best * 1000.0,
            megabytes / best
        );
    }
    Ok(())
}

/// Decodes one file `runs` times, printing each run's time in milliseconds.
fn decode_file_runs(path: &std::path::Path, runs: usize) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    for run in 1..=runs {
        let started = Instant::now();
        let decoded = decode_file(&bytes, &DecodeLimits::default())?;
        let millis = started.elapsed().as_secs_f64() * 1e3;
        println!(
            "run {run}: {millis:.0} ms, {} spans, {:.1} MB",
            decoded.batch.spans.len(),
            bytes.len() as f64 / 1e6
        );
    }
    Ok(())
}

/// Spans shaped like real HTTP and database work: a few attributes each, one event in ten.
fn synthetic_batch(n_spans: usize) -> Batch {
    let base = 1_700_000_000_000_000_000u64;
    let spans = (0..n_spans as u64)
        .map(|n| Span {
            trace_id: TraceId([(n / 1000 % 250 + 1) as u8; 16]),
            span_id: SpanId((n + 1).to_be_bytes()),
            parent_span_id: (n % 1000 != 0).then(|| SpanId((n - n % 1000 + 1).to_be_bytes())),
            name: format!("SELECT * FROM orders WHERE id = {n}"),
            kind: SpanKind::Client,
            start_nanos: base + n * 1_000,
            end_nanos: base + n * 1_000 + 750_000,
            attributes: vec![
                KeyValue::new("db.system", "mysql"),
                KeyValue::new(
                    "db.statement",
                    format!("SELECT * FROM orders WHERE id = {n}"),
                ),
                KeyValue::new("db.rows_returned", AnyValue::Int((n % 50) as i64)),
                KeyValue::new("net.peer.name", "orders-db.internal"),
            ],
            events: Vec::new(),
            links: Vec::new(),
            status: Default::default(),
            trace_state: String::new(),
            flags: 0,
            dropped: Default::default(),
            resource_idx: 0,
            scope_idx: 0,
        })
        .collect();
    Batch {
        resources: vec![Resource {
            attributes: vec![KeyValue::new("service.name", "order-service")],
            schema_url: String::new(),
        }],
        scopes: vec![Scope::default()],
        spans,
    }
}
