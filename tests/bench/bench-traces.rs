//! Loads the rendering benchmark's traces into a running spanview: one trace each of 1,000,
//! 10,000 and 100,000 spans (ids `10…10`, `11…11`, `12…12`) and two of 50,000 (`13…13`,
//! `14…14`), and the big-trace benchmark's 100,001-span trace shaped like real work (`16…16`:
//! items, steps and database queries with attributes, see
//! `spanview_e2e::patterned_trace_part_protobuf`), posted as OTLP protobuf; with `--million`,
//! also 1,000,000 spans of the first shape (`15…15`) and 1,000,001 of the second (`17…17`).
//! Large traces are sent in parts of 50,000 spans (one request would pass the body limit).
//! `tests/clients/node/render-bench.mjs`, `big-trace-bench.mjs` and `compare-bench.mjs` then
//! time the waterfall and the comparison on them.
//!
//! usage: bench-traces BASE_URL [--million]   (`--help` says more)

use anyhow::Context;

/// Spans per request for the large traces.
const PART_SPANS: u64 = 50_000;

/// Loads the rendering benchmarks' traces into a running spanview and prints their pages' URLs.
#[derive(clap::Parser)]
#[command(name = "bench-traces")]
struct Options {
    /// The spanview, e.g. `http://127.0.0.1:4318`.
    base_url: String,
    /// Also load the two traces of a million spans (`15…15`, `17…17`).
    #[arg(long)]
    million: bool,
}

fn main() -> anyhow::Result<()> {
    let Options {
        base_url: base,
        million,
    } = <Options as clap::Parser>::parse();
    // 0x13 and 0x14: the comparison benchmark's pair of 50,000-span traces.
    // (id byte, spans, shaped like real work)
    let mut traces = vec![
        (0x10u8, 1_000u64, false),
        (0x11, 10_000, false),
        (0x12, 100_000, false),
        (0x13, 50_000, false),
        (0x14, 50_000, false),
        (0x16, 100_001, true),
    ];
    if million {
        traces.push((0x15, 1_000_000, false));
        traces.push((0x17, 1_000_001, true));
    }
    for (id_byte, n_spans, patterned) in traces {
        let mut first = 0;
        while first < n_spans {
            let end = (first + PART_SPANS).min(n_spans);
            let body = if patterned {
                spanview_e2e::patterned_trace_part_protobuf([id_byte; 16], first..end, n_spans)
            } else {
                spanview_e2e::synthetic_trace_part_protobuf([id_byte; 16], first..end, n_spans, 8)
            };
            let response = ureq::post(&format!("{base}/v1/traces"))
                .header("content-type", "application/x-protobuf")
                .send(&body[..])
                .with_context(|| format!("posting spans {first}..{end} of {n_spans}"))?;
            anyhow::ensure!(
                response.status() == 200,
                "{n_spans} spans: HTTP {}",
                response.status()
            );
            first = end;
        }
        println!("{base}/trace/{}", format!("{id_byte:02x}").repeat(16));
    }
    Ok(())
}
