//! One span's row: indented name, duration, share of the total, and its bar on the timeline.

use leptos::prelude::*;
use spanview_core::layout::{format_duration, format_percent};
use spanview_core::tree::RootKind;
use spanview_core::waterfall::WaterfallRow;

use super::N_SERVICE_COLOURS;

/// Indentation per tree level, in pixels.
const INDENT_PX: u32 = 14;

#[component]
pub fn WaterfallRowView(row: WaterfallRow) -> impl IntoView {
    let colour = format!("svc-{}", row.service_idx % N_SERVICE_COLOURS);
    let label_style = format!("padding-left: {}px", 8 + row.depth * INDENT_PX);
    let bar_style = format!(
        "left: {:.4}%; width: max({:.4}%, 1px)",
        row.bar.left_percent, row.bar.width_percent
    );
    let share_style = format!("width: {:.2}%", row.percent_of_total);
    let marker = match row.root_kind {
        Some(RootKind::Orphan) => Some(
            view! { <span class="marker" title="Its parent span is not in this trace">"orphan"</span> },
        ),
        Some(RootKind::CycleBreak) => Some(
            view! { <span class="marker" title="Its parent links form a cycle">"cycle"</span> },
        ),
        _ => None,
    };
    let duration = format_duration(row.duration_nanos);
    let percent = format_percent(row.percent_of_total);
    let self_time = format!("self {}", format_duration(row.self_nanos));
    let title = format!(
        "{}: {} ({duration}, {percent} of total, {self_time})",
        row.service, row.name
    );
    view! {
        <div class="wf-row" role="row" class:error=row.is_error data-depth=row.depth title=title>
            <div class="wf-label" role="cell" style=label_style>
                <span class=format!("service {colour}")>{row.service.clone()}</span>
                <span class="name">{row.name.clone()}</span>
                {marker}
            </div>
            <div class="wf-duration" role="cell">{duration}</div>
            <div class="wf-share" role="cell">
                <span class="share-bar"><span style=share_style></span></span>
                <span class="share-text">{percent}</span>
            </div>
            <div class="wf-timeline" role="cell">
                <span class=format!("bar {colour}") style=bar_style></span>
            </div>
        </div>
    }
}
