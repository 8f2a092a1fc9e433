//! Times core's trace-view and compare pipeline natively on the synthetic traces of the browser
//! benchmarks (`bench-traces`), step by step: what the page does between "the trace's bytes
//! arrived" and "rows can be painted". The browser runs the same code compiled to wasm.
//!
//! usage: analysis-bench [SPANS...]   (default 1000 10000 100000; `--help` says more)

use std::collections::HashSet;
use std::time::Instant;

use spanview_core::formats::{compact, otlp};
use spanview_core::waterfall::Waterfall;
use spanview_core::{Trace, TraceId, compare, repeated_work, statistics};

/// The best of five runs, in milliseconds.
fn best_ms<T>(mut work: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..5 {
        let started = Instant::now();
        let value = work();
        best = best.min(started.elapsed().as_secs_f64() * 1e3);
        last = Some(value);
    }
    (best, last.expect("ran"))
}

fn trace_of(id_byte: u8, n_spans: u64) -> Trace {
    let protobuf = spanview_e2e::synthetic_trace_protobuf([id_byte; 16], n_spans, 8);
    let batch = otlp::decode_protobuf(&protobuf).expect("decodes").batch;
    Trace {
        trace_id: TraceId([id_byte; 16]),
        batch,
    }
}

/// The trace page's work step by step on synthetic traces, as a Markdown table.
#[derive(clap::Parser)]
#[command(name = "analysis-bench")]
struct Options {
    /// Span counts of the traces (default 1000 10000 100000).
    sizes: Vec<u64>,
}

fn main() {
    let sizes = <Options as clap::Parser>::parse().sizes;
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    println!(
        "| spans | compact bytes | decode | Waterfall::build | N+1 | visible rows | statistics | compare with itself |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n_spans in sizes {
        let trace = trace_of(0x12, n_spans);
        let bytes = compact::encode(&trace.batch);
        let (decode_ms, batch) = best_ms(|| compact::decode(&bytes).expect("decodes"));
        let trace = Trace {
            trace_id: trace.trace_id,
            batch,
        };
        let (build_ms, waterfall) = best_ms(|| Waterfall::build(&trace).expect("spans"));
        let (n_plus_one_ms, _) = best_ms(|| repeated_work::detect(&trace, &waterfall));
        let (visible_ms, _) =
            best_ms(|| waterfall.visible_rows(&HashSet::new(), &HashSet::new(), 0.0));
        let (statistics_ms, _) =
            best_ms(|| statistics::statistics(&waterfall, statistics::GroupBy::Service));
        let other = trace_of(0x13, n_spans);
        let (compare_ms, _) = best_ms(|| compare::compare(&trace, &other));
        println!(
            "| {n_spans} | {} KB | {decode_ms:.1} ms | {build_ms:.1} ms | {n_plus_one_ms:.1} ms | {visible_ms:.1} ms | {statistics_ms:.1} ms | {compare_ms:.1} ms |",
            bytes.len() / 1024
        );
    }
}
