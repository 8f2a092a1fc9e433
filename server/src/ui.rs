//! The web UI, embedded in the binary from Trunk's `dist/` so that one file is the whole product.
//! Unknown paths without a file extension get `index.html`: the app routes on the client.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri, header};
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
        if accepts_gzip(&headers)
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
    name.match_indices('-').any(|(dash, _)| {
        let digits = &name.as_bytes()[dash + 1..];
        digits.len() > 16
            && digits[..16].iter().all(u8::is_ascii_hexdigit)
            && matches!(digits[16], b'.' | b'_')
    })
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::is_named_by_content;

    #[test]
    fn only_files_named_by_their_content_are_immutable() {
        assert!(is_named_by_content("main-d2a8b18493725d1c.css"));
        assert!(is_named_by_content("spanview-app-c225caf67c5b7a68_bg.wasm"));
        assert!(is_named_by_content("spanview-app-c225caf67c5b7a68.js"));
        assert!(!is_named_by_content("parse-worker.js"));
        assert!(!is_named_by_content("parse-worker_bg.wasm"));
        assert!(!is_named_by_content("parse-worker_loader.js"));
        assert!(!is_named_by_content("index.html"));
        assert!(!is_named_by_content("a-d2a8b18493725d1.css"));
    }
}
