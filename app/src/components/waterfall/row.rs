//! One span's row: tree toggle, indented name, duration, share of the total, and its bar (with
//! event marks) on the timeline. Clicking selects it.
//!
//! Rows are static: everything a row shows that can change (selected, collapsed, matching the
//! search, the critical path shown, the zoom) is part of its [`RowEntry`], so a change makes a
//! new row instead of every row watching signals. Scrolling creates the rows that come into view
//! and nothing else, which keeps a frame's work small however large the trace.

use leptos::prelude::*;
use spanview_core::layout::{Bar, format_duration, format_percent};
use spanview_core::tree::RootKind;

use super::state::WaterfallState;
use super::{N_SERVICE_COLOURS, bar_style, mark_style};

/// Indentation per tree level, in pixels.
const INDENT_PX: u32 = 14;

/// What one rendered row shows; rows are keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowEntry {
    pub row_idx: u32,
    /// Place among the rows shown, which fixes the row's offset in the waterfall: rows are
    /// placed one by one, so scrolling adds and removes rows without moving the others (which
    /// would repaint them all).
    pub position: u32,
    /// The folded sibling group the row stands for.
    pub group: Option<u32>,
    pub collapsed: bool,
    pub selected: bool,
    pub matched: bool,
    pub show_critical_path: bool,
}

/// A clock-skew shift with its sign: `+65.9 ms`, `-700 ns`.
fn format_shift(delta_nanos: i64) -> String {
    let sign = if delta_nanos < 0 { '-' } else { '+' };
    format!("{sign}{}", format_duration(delta_nanos.unsigned_abs()))
}

/// A row's name cell indented to its depth in the tree.
pub(super) fn label_style(depth: u32) -> String {
    format!("padding-left: {}px", 4 + depth * INDENT_PX)
}

/// A row's CSS offset from the top of the waterfall's body.
pub(super) fn row_top_style(position: u32) -> String {
    format!("top: {}px", f64::from(position) * super::ROW_HEIGHT_PX)
}

#[component]
pub fn WaterfallRowView(entry: RowEntry) -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let row_idx = entry.row_idx;
    let row = &state.waterfall.rows[row_idx as usize];
    let span = &state.trace.batch.spans[row.span_idx as usize];
    let window = state.waterfall.window;
    let colour = format!("svc-{}", row.service_idx % N_SERVICE_COLOURS);
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
    let skew_marker = state.waterfall.skew_of_row(row_idx).map(|delta_nanos| {
        let shift = format_shift(delta_nanos);
        view! {
            <span class="marker skew" title=format!("Recorded on another clock: moved by {shift} to fit inside the calling span (toolbar: recorded times)")>
                {format!("adjusted for clock skew by {shift}")}
            </span>
        }
    });
    let event_marks = span
        .events
        .iter()
        .map(|event| {
            let style = mark_style(window.percent_at(event.time_nanos));
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
        let label = if entry.collapsed {
            "Expand"
        } else {
            "Collapse"
        };
        view! {
            <button
                class="toggle"
                aria-label=label
                aria-expanded=(!entry.collapsed).to_string()
                on:click=move |event| {
                    event.stop_propagation();
                    state.toggle(row_idx);
                }
            >
                {if entry.collapsed { "▸" } else { "▾" }}
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
    let critical_segments = entry.show_critical_path.then(|| {
        state
            .waterfall
            .critical_bars(row_idx)
            .iter()
            .map(|bar: &Bar| view! { <span class="critical-segment" style=bar_style(*bar)></span> })
            .collect_view()
    });
    let click_state = state.clone();
    view! {
        <div
            class="wf-row"
            style=row_top_style(entry.position)
            id=format!("row-{row_idx}")
            role="row"
            class:error=row.is_error
            class:critical=row.on_critical_path && entry.show_critical_path
            class:selected=entry.selected
            class:match=entry.matched
            data-depth=row.depth
            data-span-id=span.span_id.to_string()
            title=title
            on:click=move |_| click_state.selected.set(Some(row_idx))
        >
            {row_cells(
                row.depth,
                view! {
                    <span class="toggle-slot">{toggle}</span>
                    {fold_button}
                    <span class=format!("service {colour}")>{row.service.clone()}</span>
                    <span class="name">{row.name.clone()}</span>
                    {marker}
                    {skew_marker}
                    {(row.n_descendants > 0).then(|| view! { <span class="child-count">{row.n_descendants}</span> })}
                },
                duration,
                share_style,
                percent,
                view! {
                    <span class=format!("bar {colour}") style=bar_style(state.waterfall.bar(row))></span>
                    {critical_segments}
                    {event_marks}
                },
            )}
        </div>
    }
}

/// A span row's four cells (name at its depth, duration, share of the total, timeline): the
/// waterfall's rows and the loading skeleton's ([`SkeletonRows`]) are both made here, so the
/// skeleton keeps the real rows' layout.
fn row_cells(
    depth: u32,
    label: impl IntoView,
    duration: String,
    share_style: String,
    percent: String,
    timeline: impl IntoView,
) -> impl IntoView {
    view! {
        <div class="wf-label" role="cell" style=label_style(depth)>
            {label}
        </div>
        <div class="wf-duration" role="cell">{duration}</div>
        <div class="wf-share" role="cell">
            <span class="share-bar"><span style=share_style></span></span>
            <span class="share-text">{percent}</span>
        </div>
        <div class="wf-timeline" role="cell">{timeline}</div>
    }
}

/// The rows of the trace page's outline while the trace loads: real row cells with placeholder
/// text (made transparent on grey blocks by the stylesheet), indented like a small trace.
#[component]
pub fn SkeletonRows() -> impl IntoView {
    const DEPTHS: [u32; 8] = [0, 1, 1, 2, 2, 1, 2, 1];
    DEPTHS
        .map(|depth| {
            let label = view! {
                <span class="toggle-slot"><span class="toggle">"▾"</span></span>
                <span class="service">"service"</span>
                <span class="name">"operation name"</span>
                <span class="child-count">"00"</span>
            };
            let cells = row_cells(
                depth,
                label,
                String::from("000.0 ms"),
                String::from("width: 0%"),
                String::from("00.0 %"),
                (),
            );
            view! { <div class="wf-row skeleton-row">{cells}</div> }
        })
        .collect_view()
}
