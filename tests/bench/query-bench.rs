//! Query benchmark: trace-by-id and search latency of a running spanview that holds the traces
//! of `ingest-bench` runs (one connection, requests one after another, so each figure is one
//! request's latency end to end over HTTP, JSON included).
//!
//! usage: query-bench BASE_URL --seed N --traces N [--requests N] [--verify]   (`--help` says more)
//!
//! `--seed` and `--traces` name the ingest run (`--traces` = spans / 8): trace ids are drawn at
//! random from it. `--verify` instead reads every trace of the run and checks that all of its
//! spans are stored (the benchmarks' check that every acknowledged span is readable).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use spanview_e2e::load::{mix, trace_id};

/// Trace-by-id and search latency of a running spanview holding the traces of `ingest-bench`
/// runs, or with `--verify` a check that every span of a run is stored.
#[derive(clap::Parser)]
#[command(name = "query-bench")]
struct Options {
    /// The spanview, e.g. `http://127.0.0.1:4318`.
    base_url: String,
    /// The `--seed` of the ingest run.
    #[arg(long)]
    seed: u64,
    /// Traces of the ingest run (its spans / 8).
    #[arg(long = "traces", value_parser = clap::value_parser!(u64).range(1..))]
    n_traces: u64,
    /// Requests per kind of query.
    #[arg(long = "requests", default_value_t = 200)]
    n_requests: usize,
    /// Read every trace of the run and check that all of its spans are stored, instead of timing.
    #[arg(long)]
    verify: bool,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Times `n` GETs of the paths `path_of(i)` gives; fails on any status but 200.
fn measure(
    agent: &ureq::Agent,
    base: &str,
    n: usize,
    path_of: impl Fn(usize) -> String,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let mut times = Vec::with_capacity(n);
    let mut results = 0usize;
    for i in 0..n {
        let url = format!("{base}{}", path_of(i));
        let started = Instant::now();
        let mut response = agent.get(&url).call().with_context(|| url.clone())?;
        let body = response.body_mut().read_to_string()?;
        times.push(started.elapsed());
        results += body.matches("\"traceId\"").count();
    }
    times.sort();
    Ok((times, results))
}

fn report(label: &str, (times, results): &(Vec<Duration>, usize)) {
    println!(
        "{label:<44} p50 {:>8.2} ms  p99 {:>8.2} ms  ({} requests, {:.1} results each)",
        percentile(times, 50.0).as_secs_f64() * 1e3,
        percentile(times, 99.0).as_secs_f64() * 1e3,
        times.len(),
        *results as f64 / times.len() as f64
    );
}

fn main() -> anyhow::Result<()> {
    let options = <Options as clap::Parser>::parse();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(true)
        .build()
        .into();
    let base = options.base_url.trim_end_matches('/');
    let random_trace =
        |i: usize| mix(options.seed.wrapping_add(i as u64 * 7919)) % options.n_traces;
    let hex = |bytes: [u8; 16]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    if options.verify {
        return verify_every_trace(&agent, base, &options, hex);
    }

    // Warm the page cache the way a running server has it.
    measure(&agent, base, 20, |i| {
        format!(
            "/api/traces/{}",
            hex(trace_id(options.seed, random_trace(i + 1_000_000)))
        )
    })?;

    let by_id = measure(&agent, base, options.n_requests, |i| {
        format!(
            "/api/traces/{}",
            hex(trace_id(options.seed, random_trace(i)))
        )
    })?;
    report("trace by id (8 spans, JSON)", &by_id);

    let searches: [(&str, &dyn Fn(usize) -> String); 7] = [
        ("search: newest 20", &|_| "/api/traces?limit=20".into()),
        ("search: service", &|_| {
            "/api/traces?service=order-service&limit=20".into()
        }),
        ("search: service + minDuration", &|_| {
            "/api/traces?service=order-service&minDuration=8.9ms&limit=20".into()
        }),
        ("search: service + operation", &|i| {
            format!(
                "/api/traces?service=user-service&operation=GET%20/api/v1/items/{}&limit=20",
                i % 20
            )
        }),
        ("search: rare attribute (user.id)", &|i| {
            format!("/api/traces?attr=user.id:{}&limit=20", mix(i as u64) % 5000)
        }),
        ("search: common attribute + errors", &|_| {
            "/api/traces?attr=http.status_code:200&errors=true&limit=20".into()
        }),
        ("search: service + rare attribute", &|i| {
            format!(
                "/api/traces?service=inventory-service&attr=net.peer.ip:10.0.0.{}&limit=20",
                i % 250
            )
        }),
    ];
    for (label, path_of) in searches {
        let result = measure(&agent, base, options.n_requests.min(100), path_of)?;
        report(label, &result);
    }

    // The service views read the store's per-minute aggregates, never the spans.
    let service_views: [(&str, &str); 4] = [
        ("services overview", "/api/services/overview"),
        ("service map", "/api/services/map"),
        (
            "service performance (order-service)",
            "/api/services/order-service/performance",
        ),
        (
            "service performance (per minute)",
            "/api/services/user-service/performance?step=1m",
        ),
    ];
    for (label, path) in service_views {
        let result = measure(&agent, base, options.n_requests.min(50), |_| path.into())?;
        report(label, &result);
    }
    Ok(())
}

/// Reads every trace of the ingest run and counts the spans it holds; fails unless all are there.
fn verify_every_trace(
    agent: &ureq::Agent,
    base: &str,
    options: &Options,
    hex: impl Fn([u8; 16]) -> String,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let expected = options.n_traces * spanview_e2e::load::SPANS_PER_TRACE;
    let mut found = 0u64;
    let mut missing_traces = 0u64;
    for trace_number in 0..options.n_traces {
        let url = format!(
            "{base}/api/traces/{}",
            hex(trace_id(options.seed, trace_number))
        );
        let mut response = agent
            .get(&url)
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .with_context(|| url.clone())?;
        if response.status() != 200 {
            missing_traces += 1;
            continue;
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()?;
        found += body.matches("\"spanId\"").count() as u64;
    }
    println!(
        "verified {} traces in {:.1} s: {found} of {expected} spans readable, {missing_traces} traces missing",
        options.n_traces,
        started.elapsed().as_secs_f64()
    );
    if found != expected || missing_traces > 0 {
        bail!("acknowledged spans are missing");
    }
    Ok(())
}
