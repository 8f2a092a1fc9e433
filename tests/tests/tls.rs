//! Issue 4: `serve --tls-cert --tls-key` serves HTTPS. The real OpenTelemetry Python exporter,
//! trusting the test's own certificate authority, exports over it and the spans read back over
//! HTTPS; plain HTTP to the TLS port gets no answer; a bad key file is refused at start.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use spanview_e2e::{Spanview, python_export, spanview_bin, workspace_root};

/// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl command.
fn make_certificate(dir: &Path) -> Option<()> {
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .ok()?
        .status;
    status.success().then_some(())
}

/// GET over HTTPS with Python's standard library, trusting only `ca_file`.
fn https_get(url: &str, ca_file: &Path) -> Result<Value, String> {
    let python = workspace_root().join("tests/clients/python/.venv/bin/python");
    let output = Command::new(python)
        .args([
            "-c",
            "import ssl, sys, urllib.request; \
             context = ssl.create_default_context(cafile=sys.argv[1]); \
             print(urllib.request.urlopen(sys.argv[2], context=context, timeout=10).read().decode())",
        ])
        .arg(ca_file)
        .arg(url)
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|error| error.to_string())
}

#[test]
fn the_python_exporter_sends_over_https_and_plain_http_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    if make_certificate(dir.path()).is_none() {
        eprintln!("skipped: the openssl command is missing, so no test certificate can be made");
        return;
    }
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let spanview = Spanview::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert!(
        spanview.base_url.starts_with("https://127.0.0.1:"),
        "{}",
        spanview.base_url
    );

    let spec = json!({
        "endpoint": spanview.url("/v1/traces"),
        "serviceName": "checkout",
        "certificateFile": cert,
        "spans": [{ "name": "POST /pay", "parent": null, "kind": "SERVER",
                    "startNanos": "1700000000000000000", "endNanos": "1700000000250000000" }]
    });
    let exported = python_export(&spec).expect("export over HTTPS");
    let trace_id = &exported[0].trace_id;
    let trace = https_get(&spanview.url(&format!("/api/traces/{trace_id}")), &cert)
        .unwrap_or_else(|error| panic!("GET over HTTPS: {error}\nlog:\n{}", spanview.log()));
    assert_eq!(trace["spans"][0]["name"], "POST /pay");
    assert_eq!(trace["spans"][0]["spanId"], exported[0].span_id);

    // A client that does not trust the certificate is refused by its own TLS check.
    let untrusted = https_get(&spanview.url("/api/services"), Path::new("/dev/null"));
    assert!(untrusted.is_err());
    // Plain HTTP to the TLS port: the handshake fails and no HTTP answer comes back.
    let plain = spanview.url("/healthz").replacen("https://", "http://", 1);
    assert!(ureq::get(&plain).call().is_err());
    // The server is still up after both.
    assert_eq!(
        https_get(&spanview.url("/api/services"), &cert).unwrap()["services"][0],
        "checkout"
    );
}

#[test]
fn the_python_grpc_exporter_sends_over_tls_with_the_same_certificate() {
    // Issue 20: OTLP/gRPC takes the same --tls-cert/--tls-key (HTTP/2 offered by ALPN).
    let dir = tempfile::tempdir().unwrap();
    if make_certificate(dir.path()).is_none() {
        eprintln!("skipped: the openssl command is missing, so no test certificate can be made");
        return;
    }
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let spanview = Spanview::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let spec = json!({
        "endpoint": format!("https://localhost:{}", spanview.grpc_address().rsplit(':').next().unwrap()),
        "protocol": "grpc",
        "serviceName": "checkout-grpc",
        "certificateFile": cert,
        "spans": [{ "name": "POST /pay", "parent": null, "kind": "SERVER",
                    "startNanos": "1700000000000000000", "endNanos": "1700000000250000000" }]
    });
    let exported = python_export(&spec).expect("export over gRPC with TLS");
    let trace_id = &exported[0].trace_id;
    let trace = https_get(&spanview.url(&format!("/api/traces/{trace_id}")), &cert)
        .unwrap_or_else(|error| panic!("GET over HTTPS: {error}\nlog:\n{}", spanview.log()));
    assert_eq!(trace["spans"][0]["name"], "POST /pay");
}

#[test]
fn an_unreadable_key_is_refused_at_start_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    if make_certificate(dir.path()).is_none() {
        eprintln!("skipped: the openssl command is missing, so no test certificate can be made");
        return;
    }
    let not_a_key = dir.path().join("not-a-key.pem");
    std::fs::write(&not_a_key, "hello").unwrap();
    let output = Command::new(spanview_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(dir.path().join("cert.pem"))
        .arg("--tls-key")
        .arg(&not_a_key)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not-a-key.pem"), "{stderr}");

    // --tls-cert alone is a usage error.
    let output = Command::new(spanview_bin())
        .args(["serve", "--tls-cert"])
        .arg(dir.path().join("cert.pem"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
