//! Two waterfalls side by side, aligned row by row: matched spans on the same line, a ghost where
//! one trace lacks the span. On one time scale the "after" bars show how much shorter the whole
//! trace got; on separate scales each trace fills its half, and shapes compare.

use std::collections::HashMap;

use leptos::prelude::*;
use spanview_core::compare::{Change, Comparison, ComparisonRow, Extent};
use spanview_core::layout::format_duration;

use crate::components::show_more_rows::{ROWS_PER_PAGE, ShowMoreRows};
use crate::components::waterfall::N_SERVICE_COLOURS;

#[component]
pub fn SideBySide(comparison: std::sync::Arc<Comparison>) -> impl IntoView {
    let same_scale = RwSignal::new(true);
    let mut service_idx: HashMap<String, u32> = HashMap::new();
    for row in &comparison.rows {
        let next = service_idx.len() as u32;
        service_idx.entry(row.service.clone()).or_insert(next);
    }
    let (before_total, after_total) = (comparison.total_before_nanos, comparison.total_after_nanos);
    let n_rows = comparison.rows.len();
    let rows = StoredValue::new(comparison);
    let n_shown = RwSignal::new(ROWS_PER_PAGE);
    let scales = move || {
        if same_scale.get() {
            let longest = before_total.max(after_total);
            (longest, longest)
        } else {
            (before_total, after_total)
        }
    };
    view! {
        <div class="side-by-side">
            <div class="side-by-side-head">
                <span class="name-head">"Span"</span>
                <span class="side-head">{format!("Before · {}", format_duration(before_total))}</span>
                <span class="side-head">{format!("After · {}", format_duration(after_total))}</span>
                <label class="inline scale-toggle">
                    <input type="checkbox" prop:checked=same_scale on:change=move |event| same_scale.set(event_target_checked(&event)) />
                    "Same time scale"
                </label>
            </div>
            {move || {
                let (before_scale, after_scale) = scales();
                rows.with_value(|comparison| {
                    comparison.rows.iter()
                        .take(n_shown.get())
                        .map(|row| {
                            let colour = format!("svc-{}", service_idx.get(&row.service).copied().unwrap_or(0) % N_SERVICE_COLOURS);
                            aligned_row(row, &colour, before_scale, after_scale)
                        })
                        .collect_view()
                })
            }}
        </div>
        <ShowMoreRows n_rows=n_rows n_shown=n_shown />
    }
}

fn aligned_row(
    row: &ComparisonRow,
    colour: &str,
    before_scale: u64,
    after_scale: u64,
) -> impl IntoView + use<> {
    let change = match row.change {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Moved => "moved",
        Change::Renamed => "renamed",
        Change::Matched => "matched",
    };
    let count_note = match (row.count_before, row.count_after) {
        (before, after) if before > 1 || after > 1 => format!(" ×{before} → ×{after}"),
        _ => String::new(),
    };
    view! {
        <div class=format!("aligned-row {change}")>
            <span class="span-name" style=format!("padding-left: {}px", 6 + row.depth * 12)>
                <span class="service">{row.service.clone()}</span> " " <span class="name">{row.name.clone()}</span>
                <span class="count">{count_note}</span>
            </span>
            {track(row.extent_before, row.total_before_nanos, before_scale, colour, "before")}
            {track(row.extent_after, row.total_after_nanos, after_scale, colour, "after")}
        </div>
    }
}

/// One side's lane: the bar where the spans lie, with their total time; a ghost without them.
fn track(
    extent: Option<Extent>,
    total_nanos: u64,
    scale: u64,
    colour: &str,
    side: &'static str,
) -> impl IntoView + use<> {
    let Some(extent) = extent else {
        return view! { <span class=format!("track ghost {side}")><span class="ghost-label">{format!("not in {side}")}</span></span> }.into_any();
    };
    let scale = scale.max(1) as f64;
    let left = extent.start_nanos as f64 * 100.0 / scale;
    let width = ((extent.end_nanos - extent.start_nanos) as f64 * 100.0 / scale).max(0.3);
    let style = format!("left: {left:.3}%; width: {width:.3}%");
    let end = left + width;
    // The duration goes after the bar; near the right edge, inside a wide bar or before a thin one.
    let (label_class, label_style) = if end <= 80.0 {
        ("track-label", format!("left: {end:.3}%"))
    } else if width >= 12.0 {
        ("track-label inside", format!("right: {:.3}%", 100.0 - end))
    } else {
        (
            "track-label before-bar",
            format!("right: {:.3}%", 100.0 - left),
        )
    };
    view! {
        <span class=format!("track {side}")>
            <span class=format!("bar {colour}") style=style></span>
            <span class=label_class style=label_style>{format_duration(total_nanos)}</span>
        </span>
    }
    .into_any()
}
