//! The real clients the end-to-end tests drive: the OpenTelemetry exporters of npm and PyPI,
//! and the scripts of `tests/clients/node/` (npm `playwright-core` driving the Debian
//! Chromium).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::workspace_root;

/// A span as the JS SDK reported it after exporting.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedSpan {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
}

/// Exports spans with the real `@opentelemetry/exporter-trace-otlp-{http,proto}` (see
/// `tests/clients/node/export-spans.mjs` for the spec format).
pub fn node_export(spec: &serde_json::Value) -> anyhow::Result<Vec<ExportedSpan>> {
    let client_dir = workspace_root().join("tests/clients/node");
    if !client_dir
        .join("node_modules/@opentelemetry/exporter-trace-otlp-http")
        .exists()
    {
        bail!(
            "npm test clients missing: run `./x test` or `npm ci` in {}",
            client_dir.display()
        );
    }
    run_client(
        Command::new("node").arg(client_dir.join("export-spans.mjs")),
        &client_dir,
        spec,
    )
}

/// Exports spans with the real Python SDK and `opentelemetry-exporter-otlp-proto-http`, gzip
/// (see `tests/clients/python/export_spans.py` for the spec format).
pub fn python_export(spec: &serde_json::Value) -> anyhow::Result<Vec<ExportedSpan>> {
    let client_dir = workspace_root().join("tests/clients/python");
    let python = client_dir.join(".venv/bin/python");
    if !python.exists() {
        bail!(
            "Python test clients missing: run `./x test` (it creates {})",
            python.display()
        );
    }
    run_client(
        Command::new(python).arg(client_dir.join("export_spans.py")),
        &client_dir,
        spec,
    )
}

/// Runs a script of `tests/clients/python/` with the test venv's Python (which has the PyPI
/// OpenTelemetry exporters and grpcio) and returns what it printed.
pub fn run_python_script(script: &str, args: &[&str]) -> String {
    let client_dir = workspace_root().join("tests/clients/python");
    let python = client_dir.join(".venv/bin/python");
    assert!(
        python.exists(),
        "Python test clients missing: run `./x test` (it creates {})",
        python.display()
    );
    let output = Command::new(python)
        .arg(client_dir.join(script))
        .args(args)
        .current_dir(&client_dir)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "{script} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs an exporter script with the spec in a file and reads the ids it prints.
fn run_client(
    command: &mut Command,
    client_dir: &Path,
    spec: &serde_json::Value,
) -> anyhow::Result<Vec<ExportedSpan>> {
    let spec_file = tempfile::NamedTempFile::new()?;
    std::fs::write(spec_file.path(), serde_json::to_vec(spec)?)?;
    let output = command
        .arg(spec_file.path())
        .current_dir(client_dir)
        .output()
        .context("running the exporter client")?;
    if !output.status.success() {
        bail!(
            "exporter client failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "unreadable exporter output: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Runs a script of `tests/clients/node/` (npm `playwright-core` driving the Debian Chromium, or
/// the OTel JS SDK) and returns what it printed.
pub fn run_node_script(script: &str, args: &[&str]) -> String {
    let client_dir = workspace_root().join("tests/clients/node");
    let output = Command::new("node")
        .arg(client_dir.join(script))
        .args(args)
        .current_dir(&client_dir)
        .output()
        .expect("run node");
    assert!(
        output.status.success(),
        "{script} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Like [`run_node_script`], for scripts that print one JSON document of what they saw.
pub fn run_node_script_json(script: &str, args: &[&str]) -> serde_json::Value {
    let printed = run_node_script(script, args);
    serde_json::from_str(&printed)
        .unwrap_or_else(|error| panic!("{script} printed no JSON ({error}): {printed}"))
}

/// The DOM of `url` after the app has rendered its data, from real headless Chromium
/// (`dump-dom.mjs`).
pub fn rendered_dom(url: &str) -> String {
    run_node_script("dump-dom.mjs", &[url])
}
