//! Zipkin v2 JSON: an array of spans with microsecond times, local and remote endpoints, string
//! tags and annotations.
//!
//! The local endpoint's service becomes the resource; the remote endpoint becomes `peer.service`,
//! `net.peer.ip` and `net.peer.port`; an `error` tag sets the error status with its text as the
//! message; annotations become events. Zipkin lets the client and server halves of one RPC share
//! a span id (`shared: true` on the server half): both are kept, the server half under a derived
//! id (see [`shared_server_span_id`]) whose parent is the client half, so the waterfall shows two
//! rows, as Zipkin Lens does. In a file ([`from_spans`]: whole traces), a server half whose client
//! half is not in it keeps its own id and parent: its children (which name that id) stay under
//! it, and trace health reports the missing parent, instead of the half and each child becoming
//! a root of its own. A request to the receiver ([`decode_json`]) always splits: the client half
//! is reported by another service, often in another request.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::ids::SpanId;
use crate::model::{
    AnyValue, Batch, Event, KeyValue, Resource, Scope, Span, SpanKind, Status, StatusCode,
};

use super::jaeger::{parse_span_id, parse_trace_id};
use super::otlp::RejectedSpans;

#[derive(Debug, Deserialize)]
#[serde(expecting = "a Zipkin span: an object of \"traceId\", \"id\", \"name\" and the rest")]
#[serde(rename_all = "camelCase")]
pub struct ZipkinSpan {
    pub trace_id: String,
    pub id: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// Microseconds since the Unix epoch.
    #[serde(default)]
    pub timestamp: Option<u64>,
    /// Microseconds.
    #[serde(default)]
    pub duration: Option<u64>,
    #[serde(default)]
    pub local_endpoint: Option<Endpoint>,
    #[serde(default)]
    pub remote_endpoint: Option<Endpoint>,
    #[serde(default)]
    pub annotations: Vec<Annotation>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub shared: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(expecting = "a Zipkin endpoint: an object of \"serviceName\" and addresses")]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    #[serde(default)]
    pub service_name: Option<String>,
    #[serde(default)]
    pub ipv4: Option<String>,
    #[serde(default)]
    pub ipv6: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "a Zipkin annotation: an object of \"timestamp\" and \"value\"")]
pub struct Annotation {
    pub timestamp: u64,
    pub value: String,
}

/// The id given to the server half of a shared client/server span: the client's id with its
/// bits inverted (deterministic, and distinct from the client's).
pub fn shared_server_span_id(client: SpanId) -> SpanId {
    SpanId(client.0.map(|byte| !byte))
}

/// The work of converting a span against reading it (`progress::READ_UNITS`), taken to be as
/// for Jaeger JSON, whose spans are read and converted alike.
pub(crate) const CONVERSION_UNITS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipkinError {
    #[error("invalid Zipkin v2 JSON at line {line} column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Decodes a Zipkin v2 JSON body (`POST /api/v2/spans`: an array of spans) into a batch, with
/// the spans it rejected (bad ids, times out of range) and the first reason.
pub fn decode_json(bytes: &[u8]) -> Result<(Batch, RejectedSpans), ZipkinError> {
    let spans: Vec<ZipkinSpan> = serde_json::from_slice(bytes).map_err(|error| {
        let message = error.to_string();
        // serde_json appends " at line L column C"; the position has its own fields.
        let message = match message.rfind(" at line ") {
            Some(cut) => message[..cut].to_owned(),
            None => message,
        };
        ZipkinError::Json {
            line: error.line(),
            column: error.column(),
            message,
        }
    })?;
    Ok(convert(spans, LoneServerHalves::Split))
}

/// What becomes of a shared server half whose client half is not among the spans converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoneServerHalves {
    /// Keeps its own id and parent (the spans are whole traces: the client half is missing).
    KeepId,
    /// Takes the derived id under the client half's, which may arrive later.
    Split,
}

/// Converts the spans of a file (whole traces): see the module's doc for shared spans.
pub fn from_spans(spans: Vec<ZipkinSpan>) -> (Batch, RejectedSpans) {
    convert(spans, LoneServerHalves::KeepId)
}

fn is_shared_server_half(span: &ZipkinSpan) -> bool {
    span.shared && span.kind.as_deref() == Some("SERVER")
}

fn convert(spans: Vec<ZipkinSpan>, lone_server_halves: LoneServerHalves) -> (Batch, RejectedSpans) {
    // The (trace, span) ids of the spans that can be a client half: every span but the shared
    // server halves.
    let client_halves: std::collections::HashSet<(crate::TraceId, SpanId)> =
        if lone_server_halves == LoneServerHalves::KeepId {
            spans
                .iter()
                .filter(|span| !is_shared_server_half(span))
                .filter_map(|span| {
                    Some((
                        parse_trace_id(&span.trace_id).ok()?,
                        parse_span_id(&span.id).ok()?,
                    ))
                })
                .collect()
        } else {
            Default::default()
        };
    let mut batch = Batch {
        scopes: vec![Scope::default()],
        ..Batch::default()
    };
    let mut rejected = RejectedSpans::default();
    let mut resource_of_service: HashMap<String, u32> = HashMap::new();
    for (position, zipkin_span) in spans.into_iter().enumerate() {
        let service = zipkin_span
            .local_endpoint
            .as_ref()
            .and_then(|endpoint| endpoint.service_name.clone())
            .unwrap_or_default();
        let resource_idx = *resource_of_service
            .entry(service.clone())
            .or_insert_with(|| {
                let attributes = if service.is_empty() {
                    Vec::new()
                } else {
                    vec![KeyValue::new("service.name", service)]
                };
                batch.resources.push(Resource {
                    attributes,
                    schema_url: String::new(),
                });
                (batch.resources.len() - 1) as u32
            });
        let name = zipkin_span.name.clone().unwrap_or_default();
        let split = lone_server_halves == LoneServerHalves::Split
            || parse_trace_id(&zipkin_span.trace_id)
                .ok()
                .zip(parse_span_id(&zipkin_span.id).ok())
                .is_some_and(|ids| client_halves.contains(&ids));
        match span_from(zipkin_span, resource_idx, split) {
            Ok(span) => batch.spans.push(span),
            Err(problem) => rejected.record(|| format!("span {position} ({name:?}): {problem}")),
        }
        super::progress::advance(CONVERSION_UNITS);
    }
    (batch, rejected)
}

/// `split_shared`: a shared server half takes the derived id under its client half's.
fn span_from(span: ZipkinSpan, resource_idx: u32, split_shared: bool) -> Result<Span, String> {
    let trace_id = parse_trace_id(&span.trace_id)?;
    let own_id = parse_span_id(&span.id)?;
    let kind = match span.kind.as_deref() {
        Some("CLIENT") => SpanKind::Client,
        Some("SERVER") => SpanKind::Server,
        Some("PRODUCER") => SpanKind::Producer,
        Some("CONSUMER") => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    };
    let (span_id, parent_span_id) = if span.shared && kind == SpanKind::Server && split_shared {
        (shared_server_span_id(own_id), Some(own_id))
    } else {
        let parent = span.parent_id.as_deref().map(parse_span_id).transpose()?;
        (own_id, parent)
    };
    let mut attributes = Vec::new();
    let mut status = Status::default();
    for (key, value) in span.tags {
        if key == "error" {
            status.code = StatusCode::Error;
            status.message = value.clone();
        }
        attributes.push(KeyValue::new(key, value));
    }
    if let Some(remote) = span.remote_endpoint {
        if let Some(service) = remote.service_name {
            attributes.push(KeyValue::new("peer.service", service));
        }
        if let Some(ip) = remote.ipv4.or(remote.ipv6) {
            attributes.push(KeyValue::new("net.peer.ip", ip));
        }
        if let Some(port) = remote.port {
            attributes.push(KeyValue::new(
                "net.peer.port",
                AnyValue::Int(i64::from(port)),
            ));
        }
    }
    let start_nanos = span.timestamp.unwrap_or(0).saturating_mul(1_000);
    let events = span
        .annotations
        .into_iter()
        .map(|annotation| Event {
            name: annotation.value,
            time_nanos: annotation.timestamp.saturating_mul(1_000),
            attributes: Vec::new(),
        })
        .collect();
    let converted = Span {
        trace_id,
        span_id,
        parent_span_id,
        name: span.name.unwrap_or_default(),
        kind,
        start_nanos,
        end_nanos: start_nanos.saturating_add(span.duration.unwrap_or(0).saturating_mul(1_000)),
        attributes,
        events,
        links: Vec::new(),
        status,
        trace_state: String::new(),
        flags: 0,
        dropped: Default::default(),
        resource_idx,
        scope_idx: 0,
    };
    // Times out of range are refused as by every decoder (see `otlp::span_times`).
    super::otlp::span_times(&converted)?;
    Ok(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Zipkin v2 JSON of one trace: (id, parent id, kind, shared) per span.
    fn spans_of(spans: &[(&str, Option<&str>, &str, bool)]) -> Vec<ZipkinSpan> {
        let spans: Vec<serde_json::Value> = spans
            .iter()
            .enumerate()
            .map(|(n, (id, parent, kind, shared))| {
                serde_json::json!({
                    "traceId": "63ca8f3b0accd9d7", "id": id, "parentId": parent, "kind": kind,
                    "shared": shared, "name": format!("span {n}"),
                    "timestamp": 1_544_712_660_000_000u64 + n as u64, "duration": 1_000,
                    "localEndpoint": {"serviceName": if *shared { "server" } else { "client" }},
                })
            })
            .collect();
        serde_json::from_value(serde_json::Value::Array(spans)).unwrap()
    }

    #[test]
    fn a_lone_shared_server_half_in_a_file_keeps_its_id_and_its_children() {
        // The server half of a call whose client half (and caller, 00..a0) are not in the file,
        // and a query under it.
        let spans = || {
            spans_of(&[
                ("00000000000000b1", Some("00000000000000a0"), "SERVER", true),
                (
                    "00000000000000c1",
                    Some("00000000000000b1"),
                    "CLIENT",
                    false,
                ),
            ])
        };
        let (batch, _) = from_spans(spans());
        let server = &batch.spans[0];
        assert_eq!(server.span_id.to_string(), "00000000000000b1");
        assert_eq!(
            server.parent_span_id.map(|id| id.to_string()).as_deref(),
            Some("00000000000000a0")
        );
        let trace = crate::Trace {
            trace_id: server.trace_id,
            batch,
        };
        let waterfall = crate::waterfall::Waterfall::build(&trace).unwrap();
        // One orphan with its child under it, not two roots.
        assert_eq!(
            waterfall.rows[0].root_kind,
            Some(crate::tree::RootKind::Orphan)
        );
        assert_eq!(waterfall.rows[1].parent_row, Some(0));
        let health = crate::health::check(&trace, &waterfall, &[]);
        assert_eq!(
            health[0].message,
            "1 span names a parent that is not in the trace (1 missing span): the parent was not exported, or is still to come"
        );
        // A request to the receiver splits it still: the client half may come in another one.
        let body = serde_json::to_vec(&serde_json::json!([{
            "traceId": "63ca8f3b0accd9d7", "id": "00000000000000b1", "parentId": "00000000000000a0",
            "kind": "SERVER", "shared": true, "timestamp": 1_544_712_660_000_000u64, "duration": 1_000,
        }]))
        .unwrap();
        let (received, _) = decode_json(&body).unwrap();
        assert_eq!(
            received.spans[0].span_id,
            shared_server_span_id("00000000000000b1".parse().unwrap())
        );
    }

    #[test]
    fn a_shared_server_half_with_its_client_half_in_the_file_is_its_own_row() {
        let (batch, _) = from_spans(spans_of(&[
            (
                "00000000000000b1",
                Some("00000000000000a0"),
                "CLIENT",
                false,
            ),
            ("00000000000000b1", Some("00000000000000a0"), "SERVER", true),
        ]));
        let server = &batch.spans[1];
        assert_eq!(
            server.span_id,
            shared_server_span_id("00000000000000b1".parse().unwrap())
        );
        assert_eq!(server.parent_span_id, Some(batch.spans[0].span_id));
    }

    #[test]
    fn decode_json_reads_a_body_and_says_where_it_is_broken() {
        let body = br#"[{"traceId":"63ca8f3b0accd9d7","id":"00000000000000a1","name":"get",
            "timestamp":1544712660000000,"duration":1500,"localEndpoint":{"serviceName":"api"}},
            {"traceId":"63ca8f3b0accd9d7","id":"0000000000000000","name":"zero id"}]"#;
        let (batch, rejected) = decode_json(body).unwrap();
        assert_eq!(batch.spans.len(), 1);
        let span = &batch.spans[0];
        assert_eq!(span.trace_id.to_hex(), "000000000000000063ca8f3b0accd9d7");
        assert_eq!(span.end_nanos - span.start_nanos, 1_500_000);
        assert_eq!(batch.service_of(span), "api");
        assert_eq!(rejected.count, 1);
        assert!(
            rejected
                .first_reason
                .as_deref()
                .unwrap()
                .starts_with(r#"span 1 ("zero id"): span id"#),
            "{rejected:?}"
        );
        let error = decode_json(br#"[{"traceId": 5}]"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid Zipkin v2 JSON at line 1 column 14: invalid type: integer `5`, expected a string"
        );
    }
}
