//! The time axis above the waterfall.

use leptos::prelude::*;
use spanview_core::layout::{TimeWindow, ticks};

const TARGET_TICKS: u32 = 6;

#[component]
pub fn TimeAxis(window: TimeWindow) -> impl IntoView {
    ticks(window, TARGET_TICKS)
        .into_iter()
        .map(|tick| {
            let style = format!("left: {:.4}%", tick.left_percent);
            view! { <span class="tick" style=style>{tick.label}</span> }
        })
        .collect_view()
}
