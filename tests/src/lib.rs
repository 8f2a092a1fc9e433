//! Helpers for the end-to-end tests: a real `spanview` process on a free port, the real
//! OpenTelemetry JS exporter as a client, and headless Chromium.
//!
//! The binary under test is `$SPANVIEW_BIN`, or `target/release/spanview` (what `./x test`
//! builds, with the web UI embedded).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::bail;

pub mod clients;
pub mod load;
pub mod skip;
pub mod tls;

pub use clients::{
    ExportedSpan, node_export, python_export, rendered_dom, run_node_script, run_node_script_json,
    run_python_script,
};
pub use skip::{real_fixtures_dir, skip_or_fail};

/// The wall clock in nanoseconds since the epoch (traces placed in the dashboard's time range).
pub fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

pub fn spanview_bin() -> PathBuf {
    let path = std::env::var_os("SPANVIEW_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/release/spanview"));
    assert!(
        path.exists(),
        "spanview binary not found at {}: run `./x test` (or `./x build`) first",
        path.display()
    );
    path
}

/// A running `spanview serve`, killed on drop. Its log is kept for failure messages.
pub struct Spanview {
    child: Child,
    pub base_url: String,
    pub data_dir: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
    _temp_dir: Option<tempfile::TempDir>,
}

impl Spanview {
    /// Starts spanview on a fresh data directory.
    pub fn start(extra_args: &[&str]) -> Self {
        let temp_dir = tempfile::tempdir().expect("temp dir");
        let data_dir = temp_dir.path().join("data");
        let mut spanview = Self::start_in(&data_dir, extra_args);
        spanview._temp_dir = Some(temp_dir);
        spanview
    }

    /// Starts spanview on `data_dir` (which may hold data from an earlier run).
    pub fn start_in(data_dir: &Path, extra_args: &[&str]) -> Self {
        // Every test's spanview takes a free port for gRPC too (4317 would be shared by all).
        let grpc_listen: &[&str] = if extra_args.contains(&"--grpc-listen") {
            &[]
        } else {
            &["--grpc-listen", "127.0.0.1:0"]
        };
        let mut child = Command::new(spanview_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(grpc_listen)
            .args(extra_args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn spanview");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let log_writer = log.clone();
        // Keep draining stderr for the whole run: a full pipe would block the server's logging.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = listening_address(&line) {
                    let _ = address_tx.send(address);
                }
                log_writer.lock().unwrap().push(line);
            }
        });
        let base_url = match address_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base_url) => base_url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "spanview did not start; its log:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        let spanview = Self {
            child,
            base_url,
            data_dir: data_dir.to_owned(),
            log,
            _temp_dir: None,
        };
        // Over HTTPS the caller's client needs the test's certificate: it checks health itself.
        if spanview.base_url.starts_with("http://") {
            spanview.wait_healthy();
        }
        spanview
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(response) = ureq::get(&self.url("/healthz")).call()
                && response.status() == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("spanview never answered /healthz; its log:\n{}", self.log());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The address of the OTLP/gRPC receiver (`host:port`), from its log line.
    pub fn grpc_address(&self) -> String {
        self.address_logged_after("OTLP/gRPC listening on ")
    }

    /// The address of the `--zipkin-listen` receiver (`host:port`), from its log line.
    pub fn zipkin_address(&self) -> String {
        self.address_logged_after("Zipkin listening on http://")
    }

    fn address_logged_after(&self, marker: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let found = self.log.lock().unwrap().iter().find_map(|line| {
                let rest = line.split(marker).nth(1)?;
                let address: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == ':')
                    .collect();
                (!address.is_empty()).then_some(address)
            });
            if let Some(address) = found {
                return address;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("spanview never logged {marker:?}; its log:\n{}", self.log());
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let mut response = ureq::get(&self.url(path))
            .call()
            .unwrap_or_else(|error| panic!("GET {path} failed: {error}\nlog:\n{}", self.log()));
        // 100k-span traces are tens of megabytes.
        response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_json()
            .expect("JSON body")
    }

    /// Sends `batch` as an SDK would (OTLP/HTTP protobuf) and checks that it was stored.
    pub fn export(&self, batch: &spanview_core::Batch) {
        let body = spanview_core::formats::otlp::encode_protobuf(batch);
        let response = ureq::post(&self.url("/v1/traces"))
            .header("Content-Type", "application/x-protobuf")
            .send(&body[..])
            .expect("export");
        assert_eq!(response.status(), 200);
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's resident memory now (`VmRSS` of `/proc/PID/status`), in KiB.
    pub fn rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmRSS:")
    }

    /// The process's peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    /// Stops the process as a service manager does (SIGTERM) and waits for it to exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// Kills the process without a chance to clean up, as `kill -9` does.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Spanview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|error| panic!("reading /proc/{pid}/status: {error}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// The base URL in spanview's "listening on http://ADDR" (or `https://`) log line.
fn listening_address(line: &str) -> Option<String> {
    let rest = line.split("spanview listening on ").nth(1)?;
    let (scheme, rest) = rest.split_once("://")?;
    let address: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == ':')
        .collect();
    (!address.is_empty()).then(|| format!("{scheme}://{address}"))
}

/// 50 distinct names without digits ("op aa", "op ab", …), so that siblings neither fold into
/// repeated-span groups nor look like an N+1 pattern: every span stays its own row.
pub fn synthetic_span_name(n: u64) -> String {
    let k = (n % 50) as u8;
    format!(
        "op {}{}",
        char::from(b'a' + k / 26),
        char::from(b'a' + k % 26)
    )
}

/// An OTLP protobuf export of one synthetic trace: `n_spans` spans where span n's parent is
/// span n / `fanout` (a wide, deep tree), service `load`, names `op 0` … `op 49`.
pub fn synthetic_trace_protobuf(trace_id: [u8; 16], n_spans: u64, fanout: u64) -> Vec<u8> {
    synthetic_trace_part_protobuf(trace_id, 0..n_spans, n_spans, fanout)
}

/// The spans `part` of [`synthetic_trace_protobuf`]'s trace of `n_spans` spans, as one export:
/// a trace too large for one request (the server's body limit) is sent in parts.
pub fn synthetic_trace_part_protobuf(
    trace_id: [u8; 16],
    part: std::ops::Range<u64>,
    n_spans: u64,
    fanout: u64,
) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    let base = 1_700_000_000_000_000_000u64;
    let spans = part
        .map(|n| Span {
            trace_id: trace_id.to_vec(),
            span_id: (n + 1).to_be_bytes().to_vec(),
            parent_span_id: if n == 0 {
                Vec::new()
            } else {
                (n / fanout + 1).to_be_bytes().to_vec()
            },
            name: synthetic_span_name(n),
            kind: 1,
            start_time_unix_nano: base + n * 1_000,
            end_time_unix_nano: base + n * 1_000 + 500 + (n_spans - n) * 10,
            ..Default::default()
        })
        .collect();
    let service = KeyValue {
        key: "service.name".into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue("load".into())),
        }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![service],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// Spans per item of [`patterned_trace_part_protobuf`]: the item's span, 9 steps under it, 10
/// queries under each step.
pub const PATTERNED_ITEM_SPANS: u64 = 100;

/// One part of a synthetic trace shaped like real work, for the big-trace benchmark and test:
/// span 0 is the root (`api GET /items`), then items of [`PATTERNED_ITEM_SPANS`] spans: an item
/// span under the root, 9 step spans under it, and under each step 10 database queries with
/// `db.system` and a `db.statement` that differs by its literals (`... WHERE id = 123 ...`). The
/// queries are repeated siblings (folded "×10" rows) and one N+1 pattern, so the deferred
/// analysis (repeated work, health) reads every span's attributes, and the names of items and
/// steps have no digits, so they stay rows of their own. `n_spans` is 1 + a multiple of 100.
pub fn patterned_trace_part_protobuf(
    trace_id: [u8; 16],
    part: std::ops::Range<u64>,
    n_spans: u64,
) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    let text = |key: &str, value: String| KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..Default::default()
    };
    let letters = |mut n: u64| {
        let mut name = String::new();
        for _ in 0..3 {
            name.push(char::from(b'a' + (n % 26) as u8));
            n /= 26;
        }
        name
    };
    let base = 1_700_000_000_000_000_000u64;
    let span_id = |n: u64| (n + 1).to_be_bytes().to_vec();
    // Each item takes 10 ms; steps 1 ms each; queries 90 µs each, one after another.
    let item_nanos = 10_000_000u64;
    let n_items = n_spans.saturating_sub(1) / PATTERNED_ITEM_SPANS;
    let spans = part
        .filter(|n| *n < n_spans)
        .map(|n| {
            if n == 0 {
                return Span {
                    trace_id: trace_id.to_vec(),
                    span_id: span_id(0),
                    name: "GET /items".into(),
                    kind: 2,
                    start_time_unix_nano: base,
                    end_time_unix_nano: base + n_items * item_nanos + 1_000,
                    ..Default::default()
                };
            }
            let item = (n - 1) / PATTERNED_ITEM_SPANS;
            let within = (n - 1) % PATTERNED_ITEM_SPANS;
            let item_start = base + 500 + item * item_nanos;
            let item_span = 1 + item * PATTERNED_ITEM_SPANS;
            if within == 0 {
                return Span {
                    trace_id: trace_id.to_vec(),
                    span_id: span_id(n),
                    parent_span_id: span_id(0),
                    name: format!("item {}", letters(item)),
                    kind: 1,
                    start_time_unix_nano: item_start,
                    end_time_unix_nano: item_start + 9_500_000,
                    ..Default::default()
                };
            }
            let step = (within - 1) / 11;
            let in_step = (within - 1) % 11;
            let step_start = item_start + 100 + step * 1_000_000;
            if in_step == 0 {
                return Span {
                    trace_id: trace_id.to_vec(),
                    span_id: span_id(n),
                    parent_span_id: span_id(item_span),
                    name: format!("step {}", letters(step)),
                    kind: 1,
                    start_time_unix_nano: step_start,
                    end_time_unix_nano: step_start + 950_000,
                    ..Default::default()
                };
            }
            let query_start = step_start + 100 + (in_step - 1) * 90_000;
            Span {
                trace_id: trace_id.to_vec(),
                span_id: span_id(n),
                parent_span_id: span_id(item_span + 1 + step * 11),
                name: "SELECT items".into(),
                kind: 3,
                start_time_unix_nano: query_start,
                end_time_unix_nano: query_start + 85_000,
                attributes: vec![
                    text("db.system", "postgresql".into()),
                    text(
                        "db.statement",
                        format!(
                            "SELECT id, name, price, stock, updated_at FROM items \
                             WHERE id = {n} AND tenant_id = {} AND status = 'active'",
                            n % 97
                        ),
                    ),
                ],
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "api".into())],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// The ClickHouse server of the tests (`shared/scripts/ch-cluster.sh`'s first node, or
/// `$SPANVIEW_TEST_CLICKHOUSE_URL`), or `None` after saying loudly that `test` skipped; under
/// `CI` a missing server fails the test instead.
pub fn test_clickhouse_url(test: &str) -> Option<String> {
    let url = std::env::var("SPANVIEW_TEST_CLICKHOUSE_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:18121".to_owned());
    match clickhouse_query(&url, "SELECT 1") {
        Ok(_) => Some(url),
        Err(error) => {
            skip_or_fail(test, &format!("no ClickHouse at {url} ({error})"));
            None
        }
    }
}

/// Runs one statement against ClickHouse's HTTP interface and returns its text answer.
pub fn clickhouse_query(url: &str, sql: &str) -> anyhow::Result<String> {
    let mut response = ureq::post(url)
        .config()
        .http_status_as_error(false)
        .build()
        .send(sql)?;
    let status = response.status();
    let text = response.body_mut().read_to_string()?;
    if status != 200 {
        bail!("ClickHouse answered {status}: {text}");
    }
    Ok(text)
}

/// A ClickHouse server of a test's own (no ZooKeeper), so that the test can stop and start it.
pub struct ClickHouseNode {
    child: Option<Child>,
    dir: PathBuf,
    pub url: String,
}

impl ClickHouseNode {
    /// Starts a server in `dir`; `None` (having said why) when `clickhouse-server` is absent.
    pub fn start(test: &str, dir: &Path) -> Option<Self> {
        if Command::new("clickhouse-server")
            .arg("--version")
            .output()
            .is_err()
        {
            skip_or_fail(test, "clickhouse-server is not installed");
            return None;
        }
        let free_port = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free port")
                .port()
        };
        let (http_port, tcp_port) = (free_port(), free_port());
        for sub in ["data", "tmp", "log", "user_files", "format_schemas"] {
            std::fs::create_dir_all(dir.join(sub)).expect("clickhouse dirs");
        }
        let d = dir.display();
        std::fs::write(
            dir.join("users.xml"),
            "<yandex><profiles><default></default></profiles>\
             <users><default><password></password><networks><ip>127.0.0.1</ip></networks>\
             <profile>default</profile><quota>default</quota></default></users>\
             <quotas><default></default></quotas></yandex>",
        )
        .expect("users.xml");
        std::fs::write(
            dir.join("config.xml"),
            format!(
                "<yandex><logger><level>warning</level><log>{d}/log/server.log</log>\
                 <errorlog>{d}/log/err.log</errorlog><size>10M</size><count>1</count></logger>\
                 <listen_host>127.0.0.1</listen_host><http_port>{http_port}</http_port>\
                 <tcp_port>{tcp_port}</tcp_port><mark_cache_size>67108864</mark_cache_size>\
                 <path>{d}/data/</path><tmp_path>{d}/tmp/</tmp_path>\
                 <user_files_path>{d}/user_files/</user_files_path>\
                 <format_schema_path>{d}/format_schemas/</format_schema_path>\
                 <users_config>{d}/users.xml</users_config><default_profile>default</default_profile>\
                 <default_database>default</default_database><timezone>UTC</timezone></yandex>"
            ),
        )
        .expect("config.xml");
        let mut node = Self {
            child: None,
            dir: dir.to_owned(),
            url: format!("http://127.0.0.1:{http_port}"),
        };
        node.resume();
        Some(node)
    }

    /// Starts the server again on the same data and ports, and waits until it answers.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new("clickhouse-server")
            .arg(format!(
                "--config-file={}",
                self.dir.join("config.xml").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn clickhouse-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while clickhouse_query(&self.url, "SELECT 1").is_err() {
            assert!(
                Instant::now() < deadline,
                "clickhouse-server in {} did not answer; see its log/",
                self.dir.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the server (SIGKILL): an outage as sudden as they come.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ClickHouseNode {
    fn drop(&mut self) {
        self.stop();
    }
}
