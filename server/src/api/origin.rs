//! Which sites may talk to this spanview: the `Host` check against DNS rebinding, the rules
//! that keep other sites' pages from changing state with "simple" (unpreflighted) requests,
//! and CORS for the ingest endpoints, which alone are cross-origin and only for configured
//! origins.
//!
//! Why a Host check: a page on `evil.example` whose name is rebound to 127.0.0.1 is, to the
//! browser, same-origin with `evil.example` yet talks to this server; its requests carry
//! `Host: evil.example`. Only names in the allow-list get through. IP literals cannot be
//! rebound (the browser connects to that very address), so they are allowed when they are
//! loopback, the listen address, or any address when spanview listens on all interfaces
//! (`0.0.0.0`, `::`), where the machine's addresses are not worth enumerating; the machine's
//! host name is then allowed too. `--allowed-hosts '*'` switches the check off (behind a
//! reverse proxy that checks names itself).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
pub use crate::origin_policy::OriginPolicy;
use crate::origin_policy::normalise_host;

/// Endpoints that browsers on configured origins may call cross-origin (OTel web exporters).
pub const CROSS_ORIGIN_PATHS: &[&str] = &["/v1/traces", "/api/v2/spans"];

/// The custom header that marks a request as made by a script of this origin (a cross-site
/// form or `fetch` without a preflight cannot send it).
pub const CSRF_HEADER: &str = "x-spanview";

/// How long a browser may cache a preflight's answer.
const PREFLIGHT_MAX_AGE_SECONDS: &str = "600";

/// The middleware: Host check on every request, CORS on the cross-origin endpoints, and the
/// same-origin rules on every other request that is not a read.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let policy = &state.origin;
    let host = request_host(&request);
    if let Some(host) = host.as_deref()
        && !policy.host_is_allowed(host)
    {
        tracing::debug!(host, "request refused: host not allowed");
        return refuse(
            StatusCode::FORBIDDEN,
            &format!(
                "host {host:?} is not allowed: spanview answers localhost and its listen address \
                 (start it with --allowed-hosts {} to allow this name)",
                normalise_host(host)
            ),
        );
    }
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let path = request.uri().path();
    if CROSS_ORIGIN_PATHS.contains(&path) {
        return cross_origin(policy, origin, request, next).await;
    }
    let is_read = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !is_read
        && let Err(message) =
            same_origin_write(request.headers(), origin.as_deref(), host.as_deref())
    {
        tracing::debug!(path, message, "request refused: cross-site write");
        return refuse(StatusCode::FORBIDDEN, &message);
    }
    next.run(request).await
}

fn request_host(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            request
                .uri()
                .authority()
                .map(|authority| authority.to_string())
        })
}

/// A state-changing request must be one that a page of another site cannot send without a
/// preflight (a non-simple content type or spanview's own header), and when the browser says
/// where it comes from (`Origin`), that must be this server.
fn same_origin_write(
    headers: &HeaderMap,
    origin: Option<&str>,
    host: Option<&str>,
) -> Result<(), String> {
    if let Some(origin) = origin {
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'))
            .unwrap_or("");
        let same = host.is_some_and(|host| origin_host.eq_ignore_ascii_case(host));
        if !same {
            return Err(format!(
                "cross-site request refused: origin {origin:?} is not this spanview"
            ));
        }
    }
    let has_custom_header =
        headers.contains_key(CSRF_HEADER) || headers.contains_key("x-requested-with");
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    // The content types a cross-site form or fetch may send without a preflight.
    let is_simple = match media_type.as_deref() {
        None | Some("") => true,
        Some(media_type) => matches!(
            media_type,
            "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
        ),
    };
    if is_simple && !has_custom_header {
        return Err(
            "this request changes state: send it with a Content-Type such as application/json \
             or application/octet-stream, or with the header X-Spanview: 1"
                .to_owned(),
        );
    }
    Ok(())
}

/// CORS for the ingest endpoints: preflights answered here (before the token check, which
/// browsers cannot satisfy on a preflight), other requests from allowed origins get the CORS
/// headers on every answer, 401 and 503 included, so a browser exporter can read why.
async fn cross_origin(
    policy: &OriginPolicy,
    origin: Option<String>,
    request: Request,
    next: Next,
) -> Response {
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    if !policy.cors_origin_is_allowed(&origin) {
        return refuse(
            StatusCode::FORBIDDEN,
            &format!(
                "origin {origin:?} may not export here: start spanview with --cors-origins {origin}"
            ),
        );
    }
    let is_preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if is_preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, OPTIONS"),
        );
        if let Some(requested) = request
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
        }
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE_SECONDS),
        );
        response
    } else {
        let mut response = next.run(request).await;
        response.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, www-authenticate"),
        );
        response
    };
    if let Ok(value) = HeaderValue::from_str(&origin) {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("origin"));
    response
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(listen: &str, hosts: &[&str], origins: &[&str]) -> OriginPolicy {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        OriginPolicy::new(
            Some(listen.parse().unwrap()),
            &owned(hosts),
            &owned(origins),
        )
    }

    #[test]
    fn loopback_listeners_answer_local_names_and_configured_ones_only() {
        let policy = policy("127.0.0.1:4318", &["traces.internal"], &[]);
        for host in [
            "localhost:4318",
            "LOCALHOST",
            "localhost.",
            "app.localhost:4318",
            "127.0.0.1:4318",
            "127.0.0.2",
            "[::1]:4318",
            "traces.internal:4318",
        ] {
            assert!(policy.host_is_allowed(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:4318",
            "localhost.evil.example",
            "192.168.1.20:4318",
            "traces.internal.evil.example",
        ] {
            assert!(!policy.host_is_allowed(host), "{host}");
        }
    }

    #[test]
    fn listening_on_every_interface_allows_ip_literals_but_not_foreign_names() {
        let policy = policy("0.0.0.0:4318", &[], &[]);
        assert!(policy.host_is_allowed("192.168.1.20:4318"));
        assert!(policy.host_is_allowed("[fe80::1]:4318"));
        assert!(!policy.host_is_allowed("rebound.evil.example:4318"));
        let any = self::policy("127.0.0.1:4318", &["*"], &[]);
        assert!(any.host_is_allowed("rebound.evil.example"));
    }

    #[test]
    fn cors_is_only_for_configured_origins() {
        let none = policy("127.0.0.1:4318", &[], &[]);
        assert!(!none.cors_origin_is_allowed("http://localhost:3000"));
        let some = policy("127.0.0.1:4318", &[], &["http://localhost:3000/"]);
        assert!(some.cors_origin_is_allowed("http://localhost:3000"));
        assert!(some.cors_origin_is_allowed("HTTP://LOCALHOST:3000"));
        assert!(!some.cors_origin_is_allowed("http://localhost:3001"));
        assert!(!some.cors_origin_is_allowed("null"));
        let any = policy("127.0.0.1:4318", &[], &["*"]);
        assert!(any.cors_origin_is_allowed("https://app.example"));
    }

    #[test]
    fn writes_need_a_preflighted_shape_and_a_matching_origin() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        let json = headers(&[("content-type", "application/json")]);
        let host = Some("127.0.0.1:4318");
        assert!(same_origin_write(&json, None, host).is_ok());
        assert!(same_origin_write(&json, Some("http://127.0.0.1:4318"), host).is_ok());
        assert!(same_origin_write(&json, Some("https://evil.example"), host).is_err());
        assert!(same_origin_write(&json, Some("null"), host).is_err());
        for simple in [
            headers(&[]),
            headers(&[("content-type", "text/plain;charset=UTF-8")]),
            headers(&[("content-type", "application/x-www-form-urlencoded")]),
            headers(&[("content-type", "multipart/form-data; boundary=x")]),
        ] {
            assert!(same_origin_write(&simple, None, host).is_err());
        }
        let marked = headers(&[("content-type", "text/plain"), ("x-spanview", "1")]);
        assert!(same_origin_write(&marked, None, host).is_ok());
    }
}
