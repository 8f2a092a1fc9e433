//! The trace query API: search and one trace by id.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use spanview_core::attribute_filter::parse_attribute_filters;
use spanview_core::formats::compact;
use spanview_core::query::{
    DEFAULT_LIMIT, MAX_LIMIT, TraceQuery, parse_duration, parse_span_kind, parse_status_code,
};
use spanview_core::{Trace, TraceId, TraceSummary};

use super::error::{ApiError, blocking};
use crate::AppState;

#[derive(Debug, serde::Serialize)]
pub struct TracesResponse {
    traces: Vec<TraceSummary>,
}

/// `GET /api/traces?service=&operation=&kind=&status=&attr=&minDuration=&maxDuration=&start=&end=&errors=&limit=`
/// (`attr` in the syntax of `core::attribute_filter`: `db.statement="SELECT 1" user.id exists`).
pub async fn traces_search(
    State(state): State<AppState>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<TracesResponse>, ApiError> {
    let query = parse_trace_query(raw_query.as_deref().unwrap_or(""))?;
    let store = state.store.clone();
    let traces = blocking(move || store.search(&query)).await?;
    Ok(Json(TracesResponse { traces }))
}

const KNOWN_PARAMETERS: &str =
    "service, operation, kind, status, attr, minDuration, maxDuration, start, end, errors, limit";

/// Parses the search parameters; `attr` may repeat (its terms add up). Unknown parameters are refused, so that a
/// typo (`minduration`) does not silently return everything.
pub fn parse_trace_query(raw_query: &str) -> Result<TraceQuery, ApiError> {
    let mut query = TraceQuery {
        limit: DEFAULT_LIMIT,
        ..TraceQuery::default()
    };
    for (name, value) in form_urlencoded::parse(raw_query.as_bytes()) {
        let value = value.trim();
        if value.is_empty() {
            continue; // an empty form field means "no filter"
        }
        let bad = |reason: String| ApiError::BadRequest(format!("parameter {name}: {reason}"));
        match name.as_ref() {
            "service" => query.service = Some(value.to_owned()),
            "operation" => query.operation = Some(value.to_owned()),
            "kind" => {
                query.kind = Some(parse_span_kind(value).ok_or_else(|| {
                    bad(format!(
                        "expected server, client, producer, consumer, internal or unspecified, got {value:?}"
                    ))
                })?)
            }
            "status" => {
                query.status = Some(parse_status_code(value).ok_or_else(|| {
                    bad(format!("expected error, ok or unset, got {value:?}"))
                })?)
            }
            "attr" => query.attributes.extend(
                parse_attribute_filters(value).map_err(|error| bad(error.to_string()))?,
            ),
            "minDuration" => {
                query.min_duration_nanos =
                    Some(parse_duration(value).map_err(|error| bad(error.to_string()))?)
            }
            "maxDuration" => {
                query.max_duration_nanos =
                    Some(parse_duration(value).map_err(|error| bad(error.to_string()))?)
            }
            "start" => query.start_after_nanos = Some(parse_instant(value).map_err(bad)?),
            "end" => query.start_before_nanos = Some(parse_instant(value).map_err(bad)?),
            "errors" => {
                query.errors_only = match value {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => return Err(bad(format!("expected true or false, got {value:?}"))),
                }
            }
            "limit" => {
                let limit: usize = value
                    .parse()
                    .map_err(|_| bad(format!("expected a number, got {value:?}")))?;
                if !(1..=MAX_LIMIT).contains(&limit) {
                    return Err(bad(format!("must be between 1 and {MAX_LIMIT}")));
                }
                query.limit = limit;
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter {other:?}; known parameters: {KNOWN_PARAMETERS}"
                )));
            }
        }
    }
    Ok(query)
}

/// An instant as Unix nanoseconds, or an RFC 3339 timestamp (`2026-11-24T12:00:00Z`).
pub(crate) fn parse_instant(value: &str) -> Result<u64, String> {
    if let Ok(nanos) = value.parse::<u64>() {
        return Ok(nanos);
    }
    let time = humantime::parse_rfc3339_weak(value).map_err(|_| {
        format!(
            "expected Unix nanoseconds or an RFC 3339 time like 2026-11-24T12:00:00Z, got {value:?}"
        )
    })?;
    let since_epoch = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("{value:?} is before 1970"))?;
    u64::try_from(since_epoch.as_nanos()).map_err(|_| format!("{value:?} is too far in the future"))
}

/// `GET /api/traces/{traceId}`: the whole trace as JSON, or in core's compact binary encoding
/// when the request accepts [`compact::MEDIA_TYPE`] (what the web UI asks for: a fifth of the
/// bytes, decoded without a JSON parser).
pub async fn trace_get(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let trace_id: TraceId = trace_id
        .parse()
        .map_err(|error| ApiError::BadRequest(format!("invalid trace id {trace_id:?}: {error}")))?;
    let wants_binary = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains(compact::MEDIA_TYPE));
    let store = state.store.clone();
    let trace: Trace = blocking(move || store.trace(trace_id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("trace {trace_id} is not stored")))?;
    if wants_binary {
        let body = blocking(move || Ok(compact::encode(&trace.batch))).await?;
        Ok(([(header::CONTENT_TYPE, compact::MEDIA_TYPE)], body).into_response())
    } else {
        Ok(Json(trace).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-bit trace id in a path or a compare body means the zero-padded 128-bit id (issue 20).
    #[tokio::test]
    async fn a_64_bit_trace_id_finds_the_zero_padded_trace() {
        use axum::body::Body;
        use axum::http::{Request, StatusCode};
        use http_body_util::BodyExt;
        use tower::ServiceExt;

        let dir = tempfile::tempdir().unwrap();
        let store =
            std::sync::Arc::new(crate::store::sqlite::SqliteStore::open(dir.path()).unwrap());
        // As Jaeger and Zipkin write a 64-bit trace id into a 128-bit field.
        let export = |span_id: &str, name: &str| {
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"000000000000000063ca8f3b0accd9d7",
                "spanId":"{span_id}","name":"{name}","startTimeUnixNano":"1","endTimeUnixNano":"2"}}]}}]}}]}}"#
            )
        };
        for (span_id, name) in [
            ("00000000000000a1", "stored"),
            ("00000000000000a2", "again"),
        ] {
            let decoded =
                spanview_core::formats::otlp::decode_json(export(span_id, name).as_bytes())
                    .unwrap();
            crate::store::TraceStore::write(store.as_ref(), &decoded.batch).unwrap();
        }
        let router = crate::app(AppState::new(store, crate::Limits::default(), None));
        let send = |request: Request<Body>| {
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await.unwrap();
                let status = response.status();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                (
                    status,
                    serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
                )
            }
        };
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        for path in [
            "/api/traces/63ca8f3b0accd9d7",
            "/api/traces/63CA8F3B0ACCD9D7",
            "/api/traces/000000000000000063ca8f3b0accd9d7",
        ] {
            let (status, trace) = send(get(path)).await;
            assert_eq!(status, StatusCode::OK, "{path}: {trace}");
            assert_eq!(trace["traceId"], "000000000000000063ca8f3b0accd9d7");
            assert_eq!(trace["spans"].as_array().unwrap().len(), 2, "{path}");
        }
        let (status, error) = send(get("/api/traces/63ca8f3b0accd9d")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            error["error"],
            "invalid trace id \"63ca8f3b0accd9d\": expected 32 hex digits (or 16 for a 64-bit id), got 15"
        );
        // The compare endpoints read ids the same way.
        let post = |path: &str, body: serde_json::Value| {
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap()
        };
        let (status, comparison) = send(post(
            "/api/compare",
            serde_json::json!({"before": "63ca8f3b0accd9d7", "after": "000000000000000063ca8f3b0accd9d7"}),
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{comparison}");
        let (status, comparison) = send(post(
            "/api/compare/groups",
            serde_json::json!({"before": ["63ca8f3b0accd9d7"], "after": ["000000000000000063ca8f3b0accd9d7"]}),
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{comparison}");
    }

    use spanview_core::attribute_filter::AttributeFilter;

    #[test]
    fn parses_a_full_search() {
        let query = parse_trace_query(
            "service=order-service&operation=GET%20%2Forders&attr=http.status_code:500\
             &attr=region%3Deu&minDuration=2s&maxDuration=1.5m&start=1000&end=2026-11-24T12:00:00Z\
             &errors=true&limit=50&kind=server&status=error\
             &attr=db.statement%3D%22SELECT+*+FROM+t%22+user.id+exists+a!%3Db",
        )
        .unwrap();
        assert_eq!(query.service.as_deref(), Some("order-service"));
        assert_eq!(query.operation.as_deref(), Some("GET /orders"));
        assert_eq!(
            query.attributes,
            [
                AttributeFilter::equals("http.status_code", "500"),
                AttributeFilter::equals("region", "eu"),
                AttributeFilter::equals("db.statement", "SELECT * FROM t"),
                AttributeFilter::exists("user.id"),
                AttributeFilter::not_equals("a", "b"),
            ]
        );
        assert_eq!(query.kind, Some(spanview_core::SpanKind::Server));
        assert_eq!(query.status, Some(spanview_core::StatusCode::Error));
        assert_eq!(query.min_duration_nanos, Some(2_000_000_000));
        assert_eq!(query.max_duration_nanos, Some(90_000_000_000));
        assert_eq!(query.start_after_nanos, Some(1000));
        assert_eq!(query.start_before_nanos, Some(1_795_521_600_000_000_000));
        assert!(query.errors_only);
        assert_eq!(query.limit, 50);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for (raw, expected) in [
            ("minduration=2s", "unknown parameter \"minduration\""),
            (
                "minDuration=fast",
                "parameter minDuration: invalid duration",
            ),
            (
                "attr=db.statement%3D%22SELECT+*",
                "parameter attr: the quote opened at character 14 is not closed",
            ),
            (
                "kind=sever",
                "parameter kind: expected server, client, producer, consumer, internal or unspecified, got \"sever\"",
            ),
            (
                "status=failed",
                "parameter status: expected error, ok or unset, got \"failed\"",
            ),
            ("limit=0", "parameter limit: must be between 1 and 1000"),
            (
                "start=yesterday",
                "parameter start: expected Unix nanoseconds",
            ),
            ("errors=maybe", "parameter errors: expected true or false"),
        ] {
            let message = parse_trace_query(raw).unwrap_err().to_string();
            assert!(message.starts_with(expected), "{raw}: {message}");
        }
        assert_eq!(
            parse_trace_query("service=&limit=").unwrap().limit,
            DEFAULT_LIMIT
        );
    }
}
