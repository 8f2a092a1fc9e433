//! The web UI, embedded in the binary from Trunk's `dist/` so that one file is the whole product.
//! Unknown paths without a file extension get `index.html`: the app routes on the client.

use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
// Relative to this crate's Cargo.toml.
#[folder = "../dist"]
#[allow_missing = true]
struct UiAssets;

const UI_MISSING: &str = "<!doctype html><title>spanview</title><p>The web UI was not built into \
    this binary. Build it with <code>./x run</code> (or <code>trunk build --release</code> before \
    <code>cargo build</code>). The API is available under <code>/api</code>.</p>";

pub async fn serve_asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if let Some(file) = UiAssets::get(path).filter(|_| !path.is_empty()) {
        // Trunk names assets by content hash, so they never change under the same name.
        let cache = if path.ends_with(".html") {
            "no-cache"
        } else {
            "public, max-age=31536000, immutable"
        };
        return (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_owned()),
                (header::CACHE_CONTROL, cache.to_owned()),
            ],
            file.data,
        )
            .into_response();
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
