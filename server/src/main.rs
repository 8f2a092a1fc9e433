//! The `spanview` command line: `spanview serve` runs the receiver, API and UI.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use clap::{Parser, Subcommand};
use spanview_core::redact::Redactor;
use spanview_server::api::origin::OriginPolicy;
use spanview_server::retention::{self, RetentionPolicy};
use spanview_server::store::TraceStore;
use spanview_server::store::clickhouse::{ClickHouseConfig, ClickHouseStore};
use spanview_server::store::sqlite::SqliteStore;
use spanview_server::{AppState, Limits, app, demo, grpc, import, tls};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "spanview",
    version,
    about = "A fast, self-hosted viewer for distributed traces"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive OTLP/HTTP traces, store them and serve the API and the web UI.
    Serve(Box<ServeArgs>),
    /// Store trace files (OTLP JSON/JSONL/protobuf, Jaeger, Zipkin; gzip too) in the data directory, as `POST /api/import` does.
    Import(ImportArgs),
    /// Compare two traces span by span (trace files or stored trace ids); can gate CI.
    Compare(CompareArgs),
    /// Run instrumented demo services that send the scenario's traces to an OTLP/HTTP endpoint.
    Demo(DemoArgs),
}

#[derive(clap::Args)]
struct DemoArgs {
    /// OTLP/HTTP endpoint: a base URL (`/v1/traces` is appended) or the full traces URL.
    #[arg(long, default_value = spanview_demo::DEFAULT_ENDPOINT)]
    endpoint: String,
    /// Multiplies every simulated wait (and so every span duration): 0.01 runs 100 times faster
    /// with the same proportions.
    #[arg(long, default_value_t = 1.0, value_parser = parse_time_scale)]
    time_scale: f64,
    /// Background requests sent after the scenarios.
    #[arg(long, value_name = "N", default_value_t = 30)]
    background: u32,
    /// Seed of the background traffic's random latencies and failures.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Token for an endpoint that requires `Authorization: Bearer TOKEN` (spanview's `--auth-token`).
    #[arg(long, env = "SPANVIEW_AUTH_TOKEN", hide_env_values = true)]
    auth_token: Option<String>,
}

fn parse_time_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(scale) if scale.is_finite() && scale > 0.0 => Ok(scale),
        _ => Err(format!(
            "{text:?} is not a positive number (1 is real time, 0.01 is 100 times faster)"
        )),
    }
}

#[derive(clap::Args)]
struct CompareArgs {
    /// The trace before the change: a trace file, or the id of a stored trace.
    before: String,
    /// The trace after the change.
    after: String,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
    /// Exit with status 1 when the second trace is more than PCT % slower than the first.
    #[arg(long, value_name = "PCT")]
    fail_if_slower: Option<f64>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Table,
    Markdown,
    Json,
}

#[derive(clap::Args)]
struct ImportArgs {
    /// Redact attributes whose keys contain any of these (see `serve --redact-keys`).
    #[arg(long, env = "SPANVIEW_REDACT_KEYS", value_delimiter = ',')]
    redact_keys: Vec<String>,
    /// Trace files to import.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address for the receiver, the API and the UI (OTLP/HTTP's standard port).
    #[arg(long, env = "SPANVIEW_LISTEN", default_value = "127.0.0.1:4318")]
    listen: SocketAddr,
    /// Address for the OTLP/gRPC receiver (OTLP/gRPC's standard port), or `off`.
    #[arg(long, env = "SPANVIEW_GRPC_LISTEN", default_value = "127.0.0.1:4317", value_parser = parse_optional_address)]
    grpc_listen: OptionalAddress,
    /// Also take Zipkin v2 JSON (`POST /api/v2/spans`) on this address, e.g. Zipkin's
    /// `127.0.0.1:9411`; the main address always takes it.
    #[arg(long, env = "SPANVIEW_ZIPKIN_LISTEN", value_parser = parse_optional_address)]
    zipkin_listen: Option<OptionalAddress>,
    /// Load the scenario's example traces (fixed trace ids) if they are not stored yet.
    #[arg(long)]
    demo: bool,
    /// When the store is empty, run the instrumented demo services (`spanview demo`) against
    /// this server once it listens, so that a first start shows traces made by real SDKs.
    #[arg(long)]
    run_demo: bool,
    /// Largest accepted request body in bytes, after decompression.
    #[arg(long, default_value_t = Limits::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Longest time a client may take to send a request body (e.g. `30s`); slower ones get 408.
    #[arg(long, default_value = "30s", value_parser = parse_duration_arg)]
    body_read_timeout: u64,
    /// Export requests in flight at once; more are answered 503 with Retry-After.
    #[arg(long, default_value_t = Limits::default().max_pending_exports as u64, value_parser = clap::value_parser!(u64).range(1..))]
    max_pending_exports: u64,
    /// Largest `POST /api/import` body in bytes, before and after decompression.
    #[arg(long, default_value_t = Limits::default().max_import_bytes)]
    max_import_bytes: usize,
    /// Host names (comma-separated) the server answers besides localhost and its listen
    /// address, against DNS rebinding; `*` answers any name (behind a proxy that checks them).
    #[arg(
        long,
        env = "SPANVIEW_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "NAMES"
    )]
    allowed_hosts: Vec<String>,
    /// Origins (comma-separated, e.g. `http://localhost:3000`) whose pages may export to
    /// `/v1/traces` from the browser (CORS); none by default, `*` for any.
    #[arg(
        long,
        env = "SPANVIEW_CORS_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGINS"
    )]
    cors_origins: Vec<String>,
    /// Require `Authorization: Bearer TOKEN` on ingest, the API and metrics.
    #[arg(long, env = "SPANVIEW_AUTH_TOKEN", hide_env_values = true)]
    auth_token: Option<String>,
    /// Replace the values of attributes whose keys contain any of these (case-insensitive,
    /// comma-separated), e.g. `password,authorization,token`, before storing.
    #[arg(long, env = "SPANVIEW_REDACT_KEYS", value_delimiter = ',')]
    redact_keys: Vec<String>,
    /// Delete traces older than this (e.g. `7d`, `12h`); unlimited when absent.
    #[arg(long, env = "SPANVIEW_RETENTION_AGE", value_parser = parse_duration_arg)]
    retention_age: Option<u64>,
    /// Delete the oldest traces while the store is larger than this (e.g. `10GiB`).
    #[arg(long, env = "SPANVIEW_RETENTION_SIZE", value_parser = retention::parse_bytes)]
    retention_size: Option<u64>,
    /// How often retention runs.
    #[arg(long, default_value = "60s", value_parser = parse_duration_arg, hide = true)]
    retention_interval: u64,
    /// Serve HTTPS with this PEM certificate chain (needs `--tls-key`).
    #[arg(
        long,
        env = "SPANVIEW_TLS_CERT",
        requires = "tls_key",
        value_name = "FILE"
    )]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert`.
    #[arg(
        long,
        env = "SPANVIEW_TLS_KEY",
        requires = "tls_cert",
        value_name = "FILE"
    )]
    tls_key: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StoreKind {
    Sqlite,
    Clickhouse,
}

/// Where spans are stored: shared by `serve`, `import` and `compare` (trace ids).
#[derive(clap::Args)]
struct StoreArgs {
    /// Directory of the embedded store (and of ClickHouse's write-ahead spool).
    #[arg(long, env = "SPANVIEW_DATA_DIR", default_value_os_t = default_data_dir())]
    data_dir: PathBuf,
    /// Where spans are stored: the embedded SQLite store in the data directory, or ClickHouse.
    #[arg(long = "store", env = "SPANVIEW_STORE", value_enum, default_value_t = StoreKind::Sqlite)]
    kind: StoreKind,
    /// ClickHouse's HTTP interface (`--store clickhouse`).
    #[arg(
        long,
        env = "SPANVIEW_CLICKHOUSE_URL",
        default_value = "http://127.0.0.1:8123"
    )]
    clickhouse_url: String,
    /// The ClickHouse database (created if missing).
    #[arg(long, env = "SPANVIEW_CLICKHOUSE_DATABASE", default_value = "spanview")]
    clickhouse_database: String,
    /// A cluster of the server's `remote_servers`: tables are created `ON CLUSTER` and sharded
    /// by trace id behind `Distributed` tables.
    #[arg(long, env = "SPANVIEW_CLICKHOUSE_CLUSTER")]
    clickhouse_cluster: Option<String>,
    #[arg(long, env = "SPANVIEW_CLICKHOUSE_USER")]
    clickhouse_user: Option<String>,
    #[arg(long, env = "SPANVIEW_CLICKHOUSE_PASSWORD", hide_env_values = true)]
    clickhouse_password: Option<String>,
    /// Most bytes of batches kept in the data directory while ClickHouse cannot take them;
    /// beyond it ingest answers 503 with Retry-After.
    #[arg(long, env = "SPANVIEW_CLICKHOUSE_SPOOL_SIZE", value_parser = retention::parse_bytes, default_value = "1GiB")]
    clickhouse_spool_size: u64,
}

impl StoreArgs {
    /// The one way every command opens the store; `serve` starts without ClickHouse (it
    /// spools writes until ClickHouse answers), the one-shot commands need it. `serve`'s
    /// `--retention-age` becomes ClickHouse's TTL where the server has TTL.
    fn open(
        &self,
        serving: bool,
        retention_age_nanos: Option<u64>,
    ) -> anyhow::Result<Arc<dyn TraceStore>> {
        let data_dir = &self.data_dir;
        Ok(match self.kind {
            StoreKind::Sqlite => Arc::new(
                SqliteStore::open(data_dir)
                    .with_context(|| format!("opening the store in {}", data_dir.display()))?,
            ),
            StoreKind::Clickhouse => {
                let config = ClickHouseConfig {
                    url: self.clickhouse_url.clone(),
                    database: self.clickhouse_database.clone(),
                    cluster: self.clickhouse_cluster.clone(),
                    user: self.clickhouse_user.clone(),
                    password: self.clickhouse_password.clone(),
                    spool_dir: data_dir.join("clickhouse-spool"),
                    spool_max_bytes: self.clickhouse_spool_size,
                    start_without_server: serving,
                    retention_age_nanos,
                };
                Arc::new(ClickHouseStore::open(&config).with_context(|| {
                    format!("opening the ClickHouse store at {}", self.clickhouse_url)
                })?)
            }
        })
    }
}

/// A listening address, or none (`off`).
#[derive(Debug, Clone, Copy)]
struct OptionalAddress(Option<SocketAddr>);

fn parse_optional_address(text: &str) -> Result<OptionalAddress, String> {
    match text.trim() {
        "" | "off" | "none" => Ok(OptionalAddress(None)),
        address => address
            .parse()
            .map(|address| OptionalAddress(Some(address)))
            .map_err(|_| {
                format!("{text:?} is neither an address such as 127.0.0.1:4317 nor `off`")
            }),
    }
}

fn parse_duration_arg(text: &str) -> Result<u64, String> {
    spanview_core::query::parse_duration(text).map_err(|error| error.to_string())
}

/// `$XDG_DATA_HOME/spanview`, `~/.local/share/spanview`, or `./spanview-data`.
fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|value| !value.is_empty()) {
        return PathBuf::from(xdg).join("spanview");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/spanview"),
        None => PathBuf::from("spanview-data"),
    }
}

/// Exit status 0, 1 for `compare --fail-if-slower` exceeded, 2 for any error (printed here, the
/// one place the process decides how to end).
#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                "spanview=info,spanview_server=info,spanview_demo=info,tower_http=warn".into()
            }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let outcome = match Cli::parse().command {
        Command::Serve(args) => serve(*args).await.map(|()| ExitCode::SUCCESS),
        Command::Import(args) => import_files(&args).map(|()| ExitCode::SUCCESS),
        Command::Compare(args) => compare_traces(&args),
        Command::Demo(args) => run_demo(args).await.map(|()| ExitCode::SUCCESS),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let store = args.store.open(true, args.retention_age)?;
    if args.demo {
        let added = demo::load_scenario(store.as_ref()).context("loading the demo traces")?;
        tracing::info!(traces_added = added, "demo traces loaded");
    }
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_pending_exports: usize::try_from(args.max_pending_exports).unwrap_or(usize::MAX),
        max_import_bytes: args.max_import_bytes,
        body_read_timeout: Duration::from_nanos(args.body_read_timeout.max(1_000_000)),
        ..Limits::default()
    };
    let has_token = args
        .auth_token
        .as_deref()
        .is_some_and(|token| !token.is_empty());
    let policy = RetentionPolicy {
        max_age_nanos: args.retention_age,
        max_bytes: args.retention_size,
    };
    if !policy.is_unlimited() {
        let interval = Duration::from_nanos(args.retention_interval.max(1_000_000));
        tokio::spawn(retention::run(store.clone(), policy, interval));
    }
    // The UI's files are compressed once, before the first browser asks for them.
    std::thread::spawn(spanview_server::ui::compress_all);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let address = listener.local_addr()?;
    if !address.ip().is_loopback() && !has_token {
        tracing::warn!(
            %address,
            "listening on a non-loopback address without --auth-token: anyone who can reach it can read and write traces"
        );
    }
    // Both acceptors are made before anything listens, so bad certificate files stop the start.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsAcceptors {
            http1: tls::acceptor(cert, key, &[b"http/1.1"]).context("setting up TLS")?,
            http2: tls::acceptor(cert, key, &[b"h2"]).context("setting up TLS")?,
        }),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Tests and scripts read this line to find the port when listening on port 0.
    tracing::info!(%address, data_dir = %args.store.data_dir.display(), "spanview listening on {scheme}://{address}");
    // The demo services export over plain OTLP/HTTP: with TLS on, to a listener of their own on
    // loopback without TLS (ingest only), so that the app has the demo feed either way.
    let demo_listener = if tls.is_some() {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding a loopback listener for the demo services")?;
        Some(listener)
    } else {
        None
    };
    let demo_address = match &demo_listener {
        Some(listener) => listener.local_addr()?,
        None => address,
    };
    let demo_feed = demo::DemoFeed::new(demo_address, args.auth_token.clone());
    if args.run_demo {
        if store
            .services()
            .context("reading the stored services")?
            .is_empty()
        {
            demo_feed.start();
        } else {
            tracing::info!("the store already holds traces: not running the demo services");
        }
    }
    let state = AppState::new(store.clone(), limits, args.auth_token)
        .with_redactor(Redactor::new(&args.redact_keys))
        .with_origin_policy(OriginPolicy::new(
            Some(address),
            &args.allowed_hosts,
            &args.cors_origins,
        ));
    store.report_to(state.metrics.clone());
    // Other spanviews' writes to a shared store (ClickHouse) reach this one's dashboards too.
    state.live.follow_store(store.clone());
    let main_app = app(state.clone().with_demo_feed(demo_feed));

    let mut servers = tokio::task::JoinSet::new();
    if let Some(demo_listener) = demo_listener {
        let demo_app = spanview_server::api::otlp_router(state.clone());
        servers.spawn(serve_on(demo_listener, demo_app, None, "demo ingest"));
    }
    let http1_tls = tls.as_ref().map(|acceptors| acceptors.http1.clone());
    servers.spawn(serve_on(listener, main_app, http1_tls.clone(), "HTTP"));
    if let Some(grpc_address) = args.grpc_listen.0 {
        let grpc_listener = tokio::net::TcpListener::bind(grpc_address)
            .await
            .with_context(|| {
                format!("binding {grpc_address} for OTLP/gRPC (--grpc-listen, `off` to disable)")
            })?;
        let grpc_address = grpc_listener.local_addr()?;
        tracing::info!(%grpc_address, "spanview OTLP/gRPC listening on {grpc_address}");
        let grpc_app = grpc::router(state.clone());
        let http2_tls = tls.as_ref().map(|acceptors| acceptors.http2.clone());
        servers.spawn(serve_on(grpc_listener, grpc_app, http2_tls, "OTLP/gRPC"));
    }
    if let Some(OptionalAddress(Some(zipkin_address))) = args.zipkin_listen {
        let zipkin_listener = tokio::net::TcpListener::bind(zipkin_address)
            .await
            .with_context(|| format!("binding {zipkin_address} for Zipkin (--zipkin-listen)"))?;
        let zipkin_address = zipkin_listener.local_addr()?;
        tracing::info!(%zipkin_address, "spanview Zipkin listening on {scheme}://{zipkin_address}");
        let zipkin_app = spanview_server::api::zipkin_router(state.clone());
        servers.spawn(serve_on(zipkin_listener, zipkin_app, http1_tls, "Zipkin"));
    }
    // Every listener stops on the same signal; the first to fail stops spanview.
    while let Some(finished) = servers.join_next().await {
        finished.context("a listener panicked")??;
    }
    Ok(())
}

/// TLS for each kind of listener: HTTP/1.1 for the main and Zipkin listeners, HTTP/2 for gRPC.
struct TlsAcceptors {
    http1: tokio_rustls::TlsAcceptor,
    http2: tokio_rustls::TlsAcceptor,
}

/// Serves `router` on `listener` (over TLS when given an acceptor) until the shutdown signal.
async fn serve_on(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    what: &'static str,
) -> anyhow::Result<()> {
    match tls {
        Some(acceptor) => {
            let listener = tls::TlsListener::new(listener, acceptor)?;
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .with_context(|| format!("serving {what} over TLS"))
        }
        None => {
            // Answers are written in several small pieces (HTTP/2: headers, data, trailers):
            // with Nagle's algorithm on, each waits for the client's delayed ACK (~40 ms).
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .with_context(|| format!("serving {what}"))
        }
    }
}

/// Runs the demo services against `--endpoint` and prints where to open the scenario traces.
async fn run_demo(args: DemoArgs) -> anyhow::Result<()> {
    let config = spanview_demo::DemoConfig {
        endpoint: args.endpoint,
        time_scale: args.time_scale,
        background_requests: args.background,
        seed: args.seed,
        auth_token: args.auth_token,
    };
    let report = spanview_demo::run(&config)
        .await
        .context("running the demo services")?;
    print!("{}", report.render());
    Ok(())
}

/// Prints the comparison; exit status 1 when `--fail-if-slower` is exceeded (an error, status 2,
/// for bad input).
fn compare_traces(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let before = load_trace(&args.before, args)?;
    let after = load_trace(&args.after, args)?;
    let comparison = spanview_core::compare::compare(&before, &after)
        .context("a trace without spans cannot be compared")?;
    let report = match args.format {
        ReportFormat::Table => spanview_core::compare::render_table(&comparison),
        ReportFormat::Markdown => spanview_core::compare::render_markdown(&comparison),
        ReportFormat::Json => serde_json::to_string_pretty(&comparison)? + "\n",
    };
    print!("{report}");
    if let Some(percent) = args.fail_if_slower
        && comparison.is_slower_by_more_than(percent)
    {
        eprintln!(
            "regression: {} is {} slower than {} (limit {percent} %)",
            args.after,
            spanview_core::compare::format_delta_percent(comparison.delta_percent),
            args.before
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// A trace from a file (which must hold exactly one trace) or from the store by id.
fn load_trace(source: &str, args: &CompareArgs) -> anyhow::Result<spanview_core::Trace> {
    let data_dir = &args.store.data_dir;
    let path = std::path::Path::new(source);
    if path.exists() {
        let bytes = std::fs::read(path).with_context(|| format!("reading {source}"))?;
        let decoded =
            import::decode(&bytes).map_err(|error| anyhow::anyhow!("{source}: {error}"))?;
        let mut traces = decoded.batch.split_by_trace();
        return match traces.len() {
            1 => Ok(traces.remove(0)),
            0 => anyhow::bail!("{source} holds no spans"),
            n => {
                let ids: Vec<String> = traces
                    .iter()
                    .map(|trace| trace.trace_id.to_string())
                    .collect();
                anyhow::bail!(
                    "{source} holds {n} traces ({}); compare needs one per side",
                    ids.join(", ")
                )
            }
        };
    }
    let trace_id: spanview_core::TraceId = source
        .parse()
        .map_err(|_| anyhow::anyhow!("{source:?} is neither a file nor a trace id"))?;
    let store = args.store.open(false, None)?;
    store
        .trace(trace_id)?
        .with_context(|| format!("trace {trace_id} is not stored in {}", data_dir.display()))
}

/// Imports each file on its own: one bad file is reported and the others are still stored.
fn import_files(args: &ImportArgs) -> anyhow::Result<()> {
    let store = args.store.open(false, None)?;
    let redactor = Redactor::new(&args.redact_keys);
    let mut n_failed = 0;
    for path in &args.files {
        let outcome = std::fs::read(path)
            .map_err(|error| error.to_string())
            .and_then(|bytes| {
                import::import_bytes(store.as_ref(), &redactor, &bytes)
                    .map_err(|error| error.to_string())
            });
        match outcome {
            Ok(outcome) => println!(
                "{}: {} spans in {} traces ({}), {} new{}",
                path.display(),
                outcome.n_spans,
                outcome.trace_ids.len(),
                outcome.format,
                outcome.n_spans_added,
                match outcome.n_rejected_spans {
                    0 => String::new(),
                    n => format!(
                        ", {n} rejected: {}",
                        outcome.rejected_reason.unwrap_or_default()
                    ),
                }
            ),
            Err(error) => {
                n_failed += 1;
                eprintln!("{}: {error}", path.display());
            }
        }
    }
    if n_failed > 0 {
        anyhow::bail!(
            "{n_failed} of {} files could not be imported",
            args.files.len()
        );
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
