//! Issue 4: `serve --tls-cert --tls-key` serves HTTPS. The real OpenTelemetry Python exporter,
//! trusting the test's own certificate authority, exports over it and the spans read back over
//! HTTPS; plain HTTP to the TLS port gets no answer; a bad key file is refused at start.

use std::path::Path;
use std::process::Command;

use serde_json::json;
use spanview_e2e::tls::{TestCertificate, https_get, https_request};
use spanview_e2e::{Spanview, python_export, spanview_bin};

#[test]
fn the_python_exporter_sends_over_https_and_plain_http_gets_nothing() {
    const TEST: &str = "the_python_exporter_sends_over_https_and_plain_http_gets_nothing";
    let Some(certificate) = TestCertificate::make(TEST) else {
        return;
    };
    let cert = &certificate.cert;
    let spanview = Spanview::start(&certificate.serve_args());
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
    let trace = https_get(&spanview.url(&format!("/api/traces/{trace_id}")), cert)
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
        https_get(&spanview.url("/api/services"), cert).unwrap()["services"][0],
        "checkout"
    );
}

#[test]
fn the_python_grpc_exporter_sends_over_tls_with_the_same_certificate() {
    const TEST: &str = "the_python_grpc_exporter_sends_over_tls_with_the_same_certificate";
    // Issue 20: OTLP/gRPC takes the same --tls-cert/--tls-key (HTTP/2 offered by ALPN).
    let Some(certificate) = TestCertificate::make(TEST) else {
        return;
    };
    let cert = &certificate.cert;
    let spanview = Spanview::start(&certificate.serve_args());
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
    let trace = https_get(&spanview.url(&format!("/api/traces/{trace_id}")), cert)
        .unwrap_or_else(|error| panic!("GET over HTTPS: {error}\nlog:\n{}", spanview.log()));
    assert_eq!(trace["spans"][0]["name"], "POST /pay");
}

#[test]
fn an_unreadable_key_is_refused_at_start_with_the_file_named() {
    let Some(certificate) =
        TestCertificate::make("an_unreadable_key_is_refused_at_start_with_the_file_named")
    else {
        return;
    };
    let dir = certificate.dir();
    let not_a_key = dir.join("not-a-key.pem");
    std::fs::write(&not_a_key, "hello").unwrap();
    let output = Command::new(spanview_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .arg("--tls-cert")
        .arg(&certificate.cert)
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
        .arg(&certificate.cert)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

/// Issue 25: with TLS on, the dashboard's "Load the demo" works as without it. The demo services
/// speak plain OTLP/HTTP, so they export to a loopback listener of their own; the traces arrive
/// and read back over HTTPS.
#[test]
fn with_tls_the_demo_services_feed_the_server() {
    let Some(certificate) = TestCertificate::make("with_tls_the_demo_services_feed_the_server")
    else {
        return;
    };
    let cert = &certificate.cert;
    let spanview = Spanview::start(&certificate.serve_args());
    let (status, body) = https_request("POST", &spanview.url("/api/demo"), cert)
        .unwrap_or_else(|error| panic!("POST /api/demo over HTTPS: {error}"));
    assert_eq!(status, 202, "{body}\nlog:\n{}", spanview.log());
    // The slow order comes first: 3.2 s of real time, then the batch processor's 500 ms.
    let query = "/api/traces?service=order-service&minDuration=3s";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = https_get(&spanview.url(query), cert).unwrap();
        if let Some(trace) = found["traces"].as_array().and_then(|list| list.first()) {
            assert_eq!(trace["root"]["service"], "order-service", "{trace}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no demo trace arrived over TLS in 30 s; log:\n{}",
            spanview.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}
