//! Issue 21, the receiver's part: slow clients cost only themselves (item 2), multi-member gzip
//! bodies are read whole (item 5), large exports are inflated and decoded off the async
//! runtime's threads (item 9). The store's and the API's part is in `hardening.rs`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;
use spanview_e2e::{Spanview, synthetic_trace_protobuf};

const T0: u64 = 1_700_000_000_000_000_000;

fn otlp_json_span(trace_hex: &str, span_hex: &str, name: &str) -> serde_json::Value {
    json!({
        "traceId": trace_hex, "spanId": span_hex, "name": name, "kind": 2,
        "startTimeUnixNano": T0.to_string(), "endTimeUnixNano": (T0 + 1_000).to_string()
    })
}

fn export_body(spans: &[serde_json::Value]) -> String {
    json!({ "resourceSpans": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "svc" } }] },
        "scopeSpans": [{ "spans": spans }]
    }]})
    .to_string()
}

/// Opens a connection that sends the headers of an export and then one byte a second.
fn slow_client(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "POST /v1/traces HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: 100000\r\n\r\n{{"
    )
    .unwrap();
    stream
}

#[test]
fn slow_clients_cost_only_themselves() {
    // Two export permits, and five times as many clients trickling their bodies: before,
    // each held a permit while it trickled, and every other exporter got 503.
    let spanview = Spanview::start(&["--max-pending-exports", "2", "--body-read-timeout", "3s"]);
    let address = spanview.base_url.trim_start_matches("http://").to_owned();
    let mut slow: Vec<TcpStream> = (0..10).map(|_| slow_client(&address)).collect();
    std::thread::sleep(Duration::from_millis(300));

    for n in 0..5 {
        let trace = format!("{:032x}", 0xabc0 + n);
        let response = ureq::post(&spanview.url("/v1/traces"))
            .header("content-type", "application/json")
            .config()
            .http_status_as_error(false)
            .build()
            .send(export_body(&[otlp_json_span(
                &trace,
                "0000000000000001",
                "fast",
            )]))
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "a fast exporter is served while slow ones trickle"
        );
        for stream in &mut slow {
            let _ = stream.write_all(b" ");
        }
    }

    // The slow ones are cut off at the deadline with 408.
    let started = Instant::now();
    let mut answer = String::new();
    slow[0]
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = slow[0].read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 3 s"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn every_member_of_a_multi_member_gzip_body_is_stored() {
    let spanview = Spanview::start(&[]);
    let trace = "0000000000000000000000000000beef";
    let body = export_body(&[
        otlp_json_span(trace, "0000000000000001", "in the first member"),
        otlp_json_span(trace, "0000000000000002", "in the second member"),
    ]);
    // Split inside the second span: the first member alone is not even valid JSON.
    let cut = body.find("in the second").unwrap();
    let mut multi = gzip(&body.as_bytes()[..cut]);
    multi.extend(gzip(&body.as_bytes()[cut..]));
    let response = ureq::post(&spanview.url("/v1/traces"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .send(&multi[..])
        .expect("export");
    assert_eq!(response.status(), 200);
    let stored = spanview.get_json(&format!("/api/traces/{trace}"));
    let mut names: Vec<&str> = stored["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|span| span["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["in the first member", "in the second member"]);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn health_checks_are_answered_while_large_exports_are_decoded() {
    // Eight gzip-compressed exports of about 17 MB inflated at once: before, inflating and
    // decoding ran on the runtime's two worker threads and /healthz waited up to a second.
    let spanview = std::sync::Arc::new(Spanview::start(&[]));
    let bodies: Vec<Vec<u8>> = (0..8u8)
        .map(|n| gzip(&synthetic_trace_protobuf([0x40 + n; 16], 150_000, 8)))
        .collect();
    let exports: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let spanview = spanview.clone();
            std::thread::spawn(move || {
                ureq::post(&spanview.url("/v1/traces"))
                    .header("content-type", "application/x-protobuf")
                    .header("content-encoding", "gzip")
                    .config()
                    .http_status_as_error(false)
                    .build()
                    .send(&body[..])
                    .map(|response| response.status().as_u16())
            })
        })
        .collect();
    let mut waits = Vec::new();
    while !exports.iter().all(std::thread::JoinHandle::is_finished) {
        let started = Instant::now();
        ureq::get(&spanview.url("/healthz"))
            .call()
            .expect("healthz");
        waits.push(started.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    for export in exports {
        assert_eq!(export.join().unwrap().expect("export"), 200);
    }
    waits.sort();
    let median = waits[waits.len() / 2];
    let longest = *waits.last().unwrap();
    assert!(
        waits.len() >= 5
            && median < Duration::from_millis(100)
            && longest < Duration::from_millis(600),
        "/healthz waited {median:?} (median) and {longest:?} (longest) over {} probes",
        waits.len()
    );
}
