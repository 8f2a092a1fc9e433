//! spanview's web UI: a Leptos client-side app. Pages fetch JSON from the server's API and hand
//! it to `spanview-core`, which computes everything shown; components only place it.

#![allow(
    clippy::needless_pass_by_value,
    reason = "Leptos components take their props by value"
)]

mod after_paint;
mod api;
mod app;
mod components;
mod download;
mod format;
mod pages;
mod perf;
mod search;
mod upload;

// Decoding traces and laying out 100,000 rows allocate per span: talc instead of wasm32's
// default dlmalloc, as in the format worker (smaller, and not slower here).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
