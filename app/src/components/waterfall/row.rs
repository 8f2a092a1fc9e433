//! One span's row: tree toggle, indented name, duration, share of the total, and its bar (with
//! event marks) on the timeline. Clicking selects it.

use leptos::prelude::*;
use spanview_core::layout::{Bar, format_duration, format_percent};
use spanview_core::tree::RootKind;

use super::state::WaterfallState;
use super::{N_SERVICE_COLOURS, bar_position};

/// Indentation per tree level, in pixels.
const INDENT_PX: u32 = 14;

#[component]
pub fn WaterfallRowView(row_idx: u32) -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let row = state.waterfall.rows[row_idx as usize].clone();
    let span = &state.trace.batch.spans[row.span_idx as usize];
    let window = state.waterfall.window;
    let colour = format!("svc-{}", row.service_idx % N_SERVICE_COLOURS);
    let label_style = format!("padding-left: {}px", 4 + row.depth * INDENT_PX);
    let zoom = state.zoom;
    let row_bar = row.bar;
    let bar_style = move || bar_position(row_bar, zoom.get());
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
    let event_marks = span
        .events
        .iter()
        .map(|event| {
            let at = Bar {
                left_percent: window.percent_at(event.time_nanos),
                width_percent: 0.0,
            };
            let style = move || {
                let placed = zoom.get().map_or(at, |(from, to)| at.zoomed(from, to));
                format!("left: {:.4}%", placed.left_percent)
            };
            view! { <span class="event-mark" style=style title=event.name.clone()></span> }
        })
        .collect_view();
    let duration = format_duration(row.duration_nanos);
    let percent = format_percent(row.percent_of_total);
    let title = format!(
        "{}: {} ({duration}, {percent} of total, self {})",
        row.service,
        row.name,
        format_duration(row.self_nanos)
    );
    let toggle = (row.n_descendants > 0).then(|| {
        let state = state.clone();
        let is_collapsed = move || {
            state
                .collapsed
                .with(|collapsed| collapsed.contains(&row_idx))
        };
        let label = move || if is_collapsed() { "Expand" } else { "Collapse" };
        let state = expect_context::<WaterfallState>();
        view! {
            <button
                class="toggle"
                aria-label=label
                aria-expanded=move || (!is_collapsed()).to_string()
                on:click=move |event| {
                    event.stop_propagation();
                    state.toggle(row_idx);
                }
            >
                {move || if is_collapsed() { "▸" } else { "▾" }}
            </button>
        }
    });
    // The first member of an unfolded sibling group offers to fold it again.
    let fold_button = state
        .waterfall
        .group_of(row_idx)
        .filter(|group| state.waterfall.groups[*group as usize].first_row() == row_idx)
        .map(|group| {
            let count = state.waterfall.groups[group as usize].rows.len();
            let fold_state = state.clone();
            view! {
                <button
                    class="group-fold"
                    title=format!("Fold the {count} repeated spans into one row")
                    on:click=move |event| {
                        event.stop_propagation();
                        fold_state.toggle_group(group);
                    }
                >
                    {format!("×{count} ▾")}
                </button>
            }
        });
    let show_critical_path = state.show_critical_path;
    let critical_bars = row.critical_bars.clone();
    let critical_segments = move || {
        show_critical_path.get().then(|| {
            critical_bars
                .iter()
                .map(|bar| {
                    view! { <span class="critical-segment" style=bar_position(*bar, zoom.get())></span> }
                })
                .collect_view()
        })
    };
    let on_critical_path = row.on_critical_path;
    let selected_state = state.clone();
    let match_state = state.clone();
    let click_state = state.clone();
    view! {
        <div
            class="wf-row"
            id=format!("row-{row_idx}")
            role="row"
            class:error=row.is_error
            class:critical=move || on_critical_path && show_critical_path.get()
            class:selected=move || selected_state.selected.get() == Some(row_idx)
            class:match=move || match_state.matches.with(|matches| matches.binary_search(&row_idx).is_ok())
            data-depth=row.depth
            data-span-id=span.span_id.to_string()
            title=title
            on:click=move |_| click_state.selected.set(Some(row_idx))
        >
            <div class="wf-label" role="cell" style=label_style>
                <span class="toggle-slot">{toggle}</span>
                {fold_button}
                <span class=format!("service {colour}")>{row.service.clone()}</span>
                <span class="name">{row.name.clone()}</span>
                {marker}
                {(row.n_descendants > 0).then(|| view! { <span class="child-count">{row.n_descendants}</span> })}
            </div>
            <div class="wf-duration" role="cell">{duration}</div>
            <div class="wf-share" role="cell">
                <span class="share-bar"><span style=share_style></span></span>
                <span class="share-text">{percent}</span>
            </div>
            <div class="wf-timeline" role="cell">
                <span class=format!("bar {colour}") style=bar_style></span>
                {critical_segments}
                {event_marks}
            </div>
        </div>
    }
}
