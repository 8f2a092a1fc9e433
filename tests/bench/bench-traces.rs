//! Loads the rendering benchmark's traces into a running spanview: one trace each of 1,000,
//! 10,000 and 100,000 spans (ids `10…10`, `11…11`, `12…12`) and two of 50,000 (`13…13`,
//! `14…14`), posted as OTLP protobuf. `tests/clients/node/render-bench.mjs` and
//! `compare-bench.mjs` then time the waterfall and the comparison on them.
//!
//! usage: bench-traces BASE_URL   (`--help` says more)

use anyhow::Context;

/// Loads the rendering benchmark's traces (1,000, 10,000 and 100,000 spans, and two of 50,000)
/// into a running spanview and prints their pages' URLs.
#[derive(clap::Parser)]
#[command(name = "bench-traces")]
struct Options {
    /// The spanview, e.g. `http://127.0.0.1:4318`.
    base_url: String,
}

fn main() -> anyhow::Result<()> {
    let base = <Options as clap::Parser>::parse().base_url;
    // 0x13 and 0x14: the comparison benchmark's pair of 50,000-span traces.
    for (id_byte, n_spans) in [
        (0x10u8, 1_000u64),
        (0x11, 10_000),
        (0x12, 100_000),
        (0x13, 50_000),
        (0x14, 50_000),
    ] {
        let body = spanview_e2e::synthetic_trace_protobuf([id_byte; 16], n_spans, 8);
        let response = ureq::post(&format!("{base}/v1/traces"))
            .header("content-type", "application/x-protobuf")
            .send(&body[..])
            .with_context(|| format!("posting {n_spans} spans"))?;
        anyhow::ensure!(
            response.status() == 200,
            "{n_spans} spans: HTTP {}",
            response.status()
        );
        println!("{base}/trace/{}", format!("{id_byte:02x}").repeat(16));
    }
    Ok(())
}
