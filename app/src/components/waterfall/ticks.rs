//! The time axis above the waterfall, for the whole trace or the zoomed part of it.

use leptos::prelude::*;
use spanview_core::layout::ticks_in;

use super::state::WaterfallState;

const TARGET_TICKS: u32 = 6;

#[component]
pub fn TimeAxis() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let full = state.waterfall.window;
    let zoom = state.zoom;
    move || {
        let view = zoom.get().map_or(full, |(from, to)| full.slice(from, to));
        ticks_in(full, view, TARGET_TICKS)
            .into_iter()
            .map(|tick| {
                let style = format!("left: {:.4}%", tick.left_percent);
                view! { <span class="tick" style=style>{tick.label}</span> }
            })
            .collect_view()
    }
}
