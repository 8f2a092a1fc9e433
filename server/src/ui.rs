//! The web UI, embedded in the binary from Trunk's `dist/` so that one file is the whole product.
//! Unknown paths without a file extension get `index.html`: the app routes on the client.
//!
//! Every answer carries a Content-Security-Policy: scripts only from this origin (plus the
//! inline module script Trunk writes into `index.html`, allowed by its SHA-256 computed from
//! the embedded file, and `'wasm-unsafe-eval'` to compile the app's and the worker's wasm),
//! fetches only to this origin, and no framing (`frame-ancestors 'none'`, X-Frame-Options).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use rust_embed::Embed;

#[derive(Embed)]
// Relative to this crate's Cargo.toml.
#[folder = "../dist"]
#[allow_missing = true]
struct UiAssets;

const UI_MISSING: &str = "<!doctype html><title>spanview</title><p>The web UI was not built into \
    this binary. Build it with <code>./x run</code> (or <code>trunk build --release</code> before \
    <code>cargo build</code>). The API is available under <code>/api</code>.</p>";

pub async fn serve_asset(uri: Uri, headers: HeaderMap) -> Response {
    let mut response = asset_response(&uri, &headers);
    let security = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(content_security_policy()) {
        security.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    security.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    security.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    security.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The policy for the embedded UI, built once.
pub fn content_security_policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        let index = UiAssets::get("index.html").map(|file| file.data.into_owned());
        policy_for(&inline_script_hashes(index.as_deref().unwrap_or_default()))
    })
}

fn policy_for(script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in script_hashes {
        script_src.push_str(&format!(" 'sha256-{hash}'"));
    }
    // Styles: Leptos sets `style` attributes (row positions, zoom variables).
    format!(
        "default-src 'self'; script-src {script_src}; worker-src 'self'; connect-src 'self'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The base64 SHA-256 of every inline `<script>` (one without `src`) in an HTML page.
fn inline_script_hashes(html: &[u8]) -> Vec<String> {
    use base64::Engine;
    use sha2::Digest;
    let html = String::from_utf8_lossy(html);
    let mut hashes = Vec::new();
    let mut rest: &str = &html;
    while let Some(start) = rest.find("<script") {
        rest = &rest[start..];
        let Some(tag_end) = rest.find('>') else { break };
        let tag = &rest[..tag_end];
        let body_and_after = &rest[tag_end + 1..];
        let Some(close) = body_and_after.find("</script") else {
            break;
        };
        if !tag.contains("src=") {
            let digest = sha2::Sha256::digest(&body_and_after.as_bytes()[..close]);
            hashes.push(base64::engine::general_purpose::STANDARD.encode(digest));
        }
        rest = &body_and_after[close..];
    }
    hashes
}

fn asset_response(uri: &Uri, headers: &HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if let Some(file) = UiAssets::get(path).filter(|_| !path.is_empty()) {
        // Files named by their content never change under that name; the others (index.html,
        // the format worker's files, which Trunk names without a hash) are checked with the
        // server each time, so an upgraded spanview is never paired with an old worker.
        let cache = if is_named_by_content(path) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let etag = format!("\"{}\"", hex_of(&file.metadata.sha256_hash()[..8]));
        let unchanged = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
        let common = [
            (header::CACHE_CONTROL, cache.to_owned()),
            (header::ETAG, etag),
            (header::VARY, "accept-encoding".to_owned()),
        ];
        if unchanged {
            return (StatusCode::NOT_MODIFIED, common).into_response();
        }
        let content_type = [(header::CONTENT_TYPE, file.metadata.mimetype().to_owned())];
        if accepts_gzip(headers)
            && let Some(gzipped) = gzipped(path, &file.data)
        {
            let encoding = [(header::CONTENT_ENCODING, "gzip")];
            return (content_type, common, encoding, gzipped).into_response();
        }
        return (content_type, common, file.data).into_response();
    }
    let looks_like_a_file = path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    if path.starts_with("api/") || looks_like_a_file {
        return (StatusCode::NOT_FOUND, format!("not found: /{path}")).into_response();
    }
    match UiAssets::get("index.html") {
        Some(index) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            index.data,
        )
            .into_response(),
        None => Html(UI_MISSING).into_response(),
    }
}

/// Compresses every file of the UI that shrinks (see [`gzipped`]), ahead of the first request.
pub fn compress_all() {
    for path in UiAssets::iter() {
        if let Some(file) = UiAssets::get(&path) {
            let _ = gzipped(&path, &file.data);
        }
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|parameter| {
                parameter
                    .trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    == Some(0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// The file gzip-compressed, compressed on its first request and kept: the page's wasm is 1.2 MB
/// and under 0.5 MB compressed, which is what a browser on another machine waits for. `None`
/// for files that do not shrink (images).
fn gzipped(path: &str, data: &[u8]) -> Option<Bytes> {
    static GZIPPED: OnceLock<Mutex<HashMap<String, Option<Bytes>>>> = OnceLock::new();
    let cache = GZIPPED.get_or_init(Default::default);
    if let Some(known) = cache.lock().ok()?.get(path) {
        return known.clone();
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data).ok()?;
    let compressed = encoder.finish().ok()?;
    let worth_it = compressed.len() < data.len() * 9 / 10;
    let kept = worth_it.then(|| Bytes::from(compressed));
    cache.lock().ok()?.insert(path.to_owned(), kept.clone());
    kept
}

/// Whether Trunk put the file's content hash in its name (`main-d2a8b18493725d1c.css`,
/// `spanview-app-…_bg.wasm`): a dash and 16 hexadecimal digits.
fn is_named_by_content(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    // Trunk writes the 64-bit content hash in hex without leading zeros, so one build in sixteen
    // has 15 digits (fewer is rarer still).
    name.match_indices('-').any(|(dash, _)| {
        let after = &name.as_bytes()[dash + 1..];
        let digits = after
            .iter()
            .take_while(|byte| byte.is_ascii_hexdigit())
            .count();
        (12..=16).contains(&digits) && matches!(after.get(digits), Some(b'.' | b'_'))
    })
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::{inline_script_hashes, is_named_by_content, policy_for};

    #[test]
    fn the_policy_allows_exactly_the_inline_scripts_of_the_page() {
        // The shape Trunk writes: preloads, then one inline module script that starts the app.
        let page = br#"<html><head><link rel="modulepreload" href="/app-0123456789abcdef.js">
<script type="module">
import init from '/app-0123456789abcdef.js';
await init({ module_or_path: '/app-0123456789abcdef_bg.wasm' });
</script><script src="/external.js"></script></head><body></body></html>"#;
        let hashes = inline_script_hashes(page);
        // sha256 of the inline script's text, between `>` and `</script>`, base64.
        let body = "
import init from '/app-0123456789abcdef.js';
await init({ module_or_path: '/app-0123456789abcdef_bg.wasm' });
";
        use base64::Engine;
        use sha2::Digest;
        let expected =
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body.as_bytes()));
        assert_eq!(hashes, std::slice::from_ref(&expected));
        let policy = policy_for(&hashes);
        assert!(
            policy.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-{expected}';"
            )),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-eval'") || policy.contains("wasm-unsafe-eval"));
    }

    #[test]
    fn only_files_named_by_their_content_are_immutable() {
        assert!(is_named_by_content("main-d2a8b18493725d1c.css"));
        assert!(is_named_by_content("spanview-app-c225caf67c5b7a68_bg.wasm"));
        assert!(is_named_by_content("spanview-app-c225caf67c5b7a68.js"));
        assert!(!is_named_by_content("parse-worker.js"));
        assert!(!is_named_by_content("parse-worker_bg.wasm"));
        assert!(!is_named_by_content("parse-worker_loader.js"));
        assert!(!is_named_by_content("index.html"));
        // Trunk drops the hash's leading zeros.
        assert!(is_named_by_content("spanview-app-6a3f9eb0afe04ce.js"));
        assert!(!is_named_by_content("a-d2a8b1849.css"));
        assert!(!is_named_by_content("a-d2a8b18493725d1c0.css"));
    }
}
