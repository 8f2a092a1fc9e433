//! Live updates on the dashboard: listens to `GET /api/live` (server-sent events) and bumps a
//! counter that the search depends on, at most once a second, unless paused. Traces that arrive
//! while paused are caught up with on resuming.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::api;

/// Re-runs of the search are at least this far apart, however fast traces arrive.
const REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// Starts listening; returns the signal to depend on and the pause switch.
pub fn subscribe() -> (RwSignal<u64>, RwSignal<bool>) {
    let refresh = RwSignal::new(0u64);
    let paused = RwSignal::new(false);
    let pending = RwSignal::new(false);
    // A trace arrived while paused: the list is behind until the next refresh.
    let missed = RwSignal::new(false);
    Effect::new(move |_| {
        if !paused.get() && missed.get_untracked() {
            missed.set(false);
            refresh.update(|count| *count += 1);
        }
    });
    let url = match api::saved_token() {
        Some(token) => format!("/api/live?access_token={}", api::encode_component(&token)),
        None => String::from("/api/live"),
    };
    let Ok(source) = web_sys::EventSource::new(&url) else {
        return (refresh, paused);
    };
    let on_trace =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_event: web_sys::MessageEvent| {
            if paused.get_untracked() {
                missed.set(true);
                return;
            }
            if pending.get_untracked() {
                return;
            }
            pending.set(true);
            set_timeout(
                move || {
                    pending.set(false);
                    refresh.update(|count| *count += 1);
                },
                REFRESH_INTERVAL,
            );
        });
    let _ = source.add_event_listener_with_callback("trace", on_trace.as_ref().unchecked_ref());
    // The browser objects are not Send: keep them in local storage and close on unmount.
    let kept = StoredValue::new_local((source, on_trace));
    on_cleanup(move || kept.with_value(|(source, _)| source.close()));
    (refresh, paused)
}

#[component]
pub fn LiveToggle(paused: RwSignal<bool>) -> impl IntoView {
    view! {
        <button
            class="live-toggle"
            class:paused=move || paused.get()
            aria-pressed=move || (!paused.get()).to_string()
            title="New traces appear as they arrive"
            on:click=move |_| paused.update(|paused| *paused = !*paused)
        >
            <span class="live-dot"></span>
            {move || if paused.get() { "Live: paused" } else { "Live" }}
        </button>
    }
}
