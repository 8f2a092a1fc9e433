//! A folded group of repeated siblings ("×20 fetch category for product ?"): one row with the
//! count, summed and longest duration, and every member's bar on one timeline, so a loop reads at
//! a glance; and its summary in the detail panel.

use leptos::prelude::*;
use spanview_core::layout::{format_duration, format_percent, percent_of};

use super::row::{RowEntry, label_style, row_top_style};
use super::state::WaterfallState;
use super::{N_SERVICE_COLOURS, bar_style};

/// A folded group's row; static like span rows (see [`super::row`]).
#[component]
pub fn GroupRowView(entry: RowEntry, group: u32) -> impl IntoView {
    let row_idx = entry.row_idx;
    let state = expect_context::<WaterfallState>();
    let waterfall = state.waterfall.clone();
    let members = &waterfall.groups[group as usize];
    let first = &waterfall.rows[row_idx as usize];
    let colour = format!("svc-{}", first.service_idx % N_SERVICE_COLOURS);
    let label_style = label_style(first.depth);
    // Wall-clock share (the union of the members' bars), never above 100 %.
    let share = percent_of(members.wall_nanos, waterfall.duration_nanos());
    let share_style = format!("width: {:.2}%", share.min(100.0));
    let bars = members
        .rows
        .iter()
        .map(|member| {
            let style = bar_style(waterfall.bar(&waterfall.rows[*member as usize]));
            view! { <span class=format!("bar group-bar {colour}") style=style></span> }
        })
        .collect_view();
    let count = members.rows.len();
    let title = format!(
        "{count} × {}: {} busy, {} of the trace's time, longest {}; press → or click ▸ to show them",
        members.name,
        format_duration(members.total_nanos),
        format_percent(share),
        format_duration(members.max_nanos)
    );
    let has_errors = members.n_errors > 0;
    let on_critical_path = members
        .rows
        .iter()
        .any(|member| waterfall.rows[*member as usize].on_critical_path);
    let toggle_state = state.clone();
    view! {
        <div
            class="wf-row group-row"
            style=row_top_style(entry.position)
            id=format!("row-{row_idx}")
            role="row"
            class:error=has_errors
            class:critical=on_critical_path && entry.show_critical_path
            class:selected=entry.selected
            data-depth=first.depth
            data-group-size=count
            title=title
            on:click=move |_| state.selected.set(Some(row_idx))
        >
            <div class="wf-label" role="cell" style=label_style>
                <span class="toggle-slot">
                    <button
                        class="toggle"
                        aria-label=format!("Show the {count} repeated spans")
                        aria-expanded="false"
                        on:click=move |event| {
                            event.stop_propagation();
                            toggle_state.toggle_group(group);
                        }
                    >
                        "▸"
                    </button>
                </span>
                <span class="group-count">{format!("×{count}")}</span>
                <span class=format!("service {colour}")>{members.service.clone()}</span>
                <span class="name">{members.name.clone()}</span>
            </div>
            <div class="wf-duration" role="cell" title="Summed duration of the group (busy time)">
                {format!("Σ {}", format_duration(members.total_nanos))}
            </div>
            <div class="wf-share" role="cell" title="Share of the trace's wall-clock time the group covers">
                <span class="share-bar"><span style=share_style></span></span>
                <span class="share-text">{format_percent(share)}</span>
            </div>
            <div class="wf-timeline" role="cell">{bars}</div>
        </div>
    }
}

/// The detail panel for a selected folded group: what repeats, how often, and what it costs.
#[component]
pub fn GroupDetail(group: u32) -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let waterfall = state.waterfall.clone();
    let members = &waterfall.groups[group as usize];
    let count = members.rows.len() as u64;
    let facts = [
        ("Service", members.service.clone()),
        ("Repeated", format!("{count} times under one parent")),
        ("Busy (summed)", format_duration(members.total_nanos)),
        ("Wall-clock time", format_duration(members.wall_nanos)),
        (
            "Share of the trace's time",
            format_percent(percent_of(members.wall_nanos, waterfall.duration_nanos())),
        ),
        ("Longest", format_duration(members.max_nanos)),
        (
            "Average",
            format_duration(members.total_nanos / count.max(1)),
        ),
        ("Errors", members.n_errors.to_string()),
    ];
    let (close_state, expand_state) = (state.clone(), state);
    view! {
        <aside class="span-detail" aria-label="Group details">
            <header>
                <h2>{format!("×{count} {}", members.name)}</h2>
                <button class="close" aria-label="Close details" on:click=move |_| close_state.selected.set(None)>"×"</button>
            </header>
            <dl class="facts">
                {facts.into_iter().map(|(label, value)| view! { <dt>{label}</dt><dd>{value}</dd> }).collect_view()}
            </dl>
            <button on:click=move |_| expand_state.toggle_group(group)>"Show the repeated spans"</button>
        </aside>
    }
}
