//! `/compare/{before}/{after}`: did the fix work? Totals before and after, then every span's
//! change, biggest first, with the attribute differences that explain it.

use leptos::prelude::*;

use crate::perf::mark;
use leptos_router::hooks::use_params_map;
use spanview_core::compare::{
    Change, Comparison, ComparisonRow, CriticalPathChange, compare, format_delta,
    format_delta_percent, render_markdown_linked,
};
use spanview_core::layout::format_duration;

use crate::api;
use crate::components::api_error::ApiErrorView;
use crate::components::show_more_rows::{ROWS_PER_PAGE, ShowMoreRows};
use crate::components::side_by_side::SideBySide;
use crate::download::download;
use crate::upload::{Uploads, load_trace};

#[component]
pub fn ComparePage() -> impl IntoView {
    let params = use_params_map();
    let ids = move || {
        params.with(|params| {
            (
                params.get("before").unwrap_or_default(),
                params.get("after").unwrap_or_default(),
            )
        })
    };
    let uploads = Uploads::get();
    let comparison = LocalResource::new(move || {
        let (before_id, after_id) = ids();
        async move {
            // Either side may be an uploaded file's trace.
            // Fetched and decoded concurrently: two 50,000-span traces are 13 MB of JSON each.
            let (before, after) = futures::future::join(
                load_trace(uploads, before_id),
                load_trace(uploads, after_id),
            )
            .await;
            let (before, after) = (before?, after?);
            mark("spanview:compare-loaded");
            let comparison = compare(&before, &after);
            mark("spanview:compare-computed");
            Ok::<_, api::ApiError>(comparison)
        }
    });
    view! {
        <section class="page compare-page">
            <h1>"Compare traces"</h1>
            <p class="compare-ids mono">
                {move || { let (before, after) = ids(); view! { <a href=format!("/trace/{before}")>{before.clone()}</a> " → " <a href=format!("/trace/{after}")>{after.clone()}</a> } }}
            </p>
            <Suspense fallback=|| view! { <p class="notice">"Loading both traces…"</p> }>
                {move || Suspend::new(async move {
                    match comparison.await {
                        Ok(Some(comparison)) => view! { <ComparisonView comparison=comparison /> }.into_any(),
                        Ok(None) => view! { <p class="notice">"A trace without spans cannot be compared."</p> }.into_any(),
                        Err(error) => view! { <ApiErrorView error=error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ComparisonView(comparison: Comparison) -> impl IntoView {
    // No change is neither green nor red (issue 24).
    let (faster, slower) = (comparison.delta_nanos < 0, comparison.delta_nanos > 0);
    // Biggest changes first, a page at a time: two 50,000-span traces give 50,000 rows, and the
    // ones that matter are at the top. The rows stay where they are; only their order is kept.
    let mut by_impact: Vec<u32> = (0..comparison.rows.len() as u32).collect();
    spanview_core::sort::by_u64_key_descending(&mut by_impact, |row| {
        comparison.rows[*row as usize].delta_nanos.unsigned_abs()
    });
    let n_rows = by_impact.len();
    let comparison = std::sync::Arc::new(comparison);
    let shared = StoredValue::new((comparison.clone(), by_impact));
    let n_shown = RwSignal::new(ROWS_PER_PAGE);
    let rows = move || {
        shared.with_value(|(comparison, by_impact)| {
            by_impact
                .iter()
                .take(n_shown.get())
                .map(|row| view! { <ComparisonRowView row=comparison.rows[*row as usize].clone() /> })
                .collect_view()
        })
    };
    // Reports are written when asked for: for 50,000 rows they take longer than the page.
    let export_markdown = move |_| {
        shared.with_value(|(comparison, _)| {
            download(
                "comparison.md",
                "text/markdown",
                &render_markdown_linked(comparison, origin().as_deref()),
            );
        });
    };
    let export_json = move |_| {
        shared.with_value(|(comparison, _)| {
            let json = serde_json::to_string_pretty(comparison.as_ref()).unwrap_or_default();
            download("comparison.json", "application/json", &json);
        });
    };
    // The table of changes by impact answers "what changed most"; the aligned waterfalls show
    // where in the request it changed.
    let side_by_side = RwSignal::new(false);
    let aligned = comparison.clone();
    // A new version of a service is often what explains the change (issue 24).
    let resource_changes = (!comparison.resource_changes.is_empty()).then(|| {
        let items = comparison
            .resource_changes
            .iter()
            .map(|change| {
                view! {
                    <li>
                        <span class="service">{change.service.clone()}</span> " "
                        <span class="key">{change.key.clone()}</span> ": "
                        <span class="before">{change.before.clone().unwrap_or_else(|| "(none)".into())}</span>
                        " → "
                        <span class="after">{change.after.clone().unwrap_or_else(|| "(none)".into())}</span>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="resource-changes" aria-label="Resource changes">
                <h2>"Resource changes"</h2>
                <ul>{items}</ul>
            </section>
        }
    });
    view! {
        <div class="compare-summary" class:faster=faster class:slower=slower>
            <div class="big-number">
                <span class="label">"Total"</span>
                <span class="value">
                    {format!("{} → {}", format_duration(comparison.total_before_nanos), format_duration(comparison.total_after_nanos))}
                </span>
                <span class="delta">
                    {format!("{} ({})", format_delta(comparison.delta_nanos), format_delta_percent(comparison.delta_percent))}
                </span>
            </div>
            <div class="small-number"><span class="label">"Spans"</span>{format!("{} → {}", comparison.spans_before, comparison.spans_after)}</div>
            <div class="small-number"><span class="label">"Queries"</span>{format!("{} → {}", comparison.queries_before, comparison.queries_after)}</div>
            <div class="exports">
                <button on:click=export_markdown>"Export Markdown"</button>
                <button on:click=export_json>"Export JSON"</button>
            </div>
        </div>
        {resource_changes}
        <div class="view-tabs" role="tablist">
            <button role="tab" class="tab" aria-selected=move || (!side_by_side.get()).to_string() on:click=move |_| side_by_side.set(false)>"Changes by impact"</button>
            <button role="tab" class="tab" aria-selected=move || side_by_side.get().to_string() on:click=move |_| side_by_side.set(true)>"Side by side"</button>
        </div>
        <Show when=move || side_by_side.get()>
            <SideBySide comparison=aligned.clone() />
        </Show>
        <table class="trace-table compare-table" class:hidden=move || side_by_side.get()>
            <thead>
                <tr>
                    <th>"Span"</th>
                    <th class="num">"Before"</th>
                    <th class="num">"After"</th>
                    <th class="num">"Change"</th>
                    <th class="num">"Change %"</th>
                    <th class="num">"Count"</th>
                    <th class="num">"% of total"</th>
                    <th>"What changed"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <ShowMoreRows n_rows=n_rows n_shown=n_shown hidden=side_by_side />
    }
}

#[component]
fn ComparisonRowView(row: ComparisonRow) -> impl IntoView {
    let change_class = match row.change {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Moved => "moved",
        Change::Renamed => "renamed",
        Change::Matched => "matched",
    };
    let direction = if row.delta_nanos < 0 {
        "faster"
    } else if row.delta_nanos > 0 {
        "slower"
    } else {
        "same"
    };
    let duration_or_dash = |count: u64, nanos: u64| {
        if count == 0 {
            String::from("—")
        } else {
            format_duration(nanos)
        }
    };
    let changes = match row.change {
        Change::Matched => row
            .attribute_changes
            .iter()
            .map(|change| {
                view! {
                    <li>
                        <span class="key">{change.key.clone()}</span> ": "
                        <span class="before">{change.before.clone().unwrap_or_else(|| "(none)".into())}</span>
                        " → "
                        <span class="after">{change.after.clone().unwrap_or_else(|| "(none)".into())}</span>
                    </li>
                }
            })
            .collect_view()
            .into_any(),
        Change::Renamed => view! {
            <li class="change-kind">"now " <span class="after">{row.renamed_to.clone().unwrap_or_default()}</span></li>
        }
        .into_any(),
        other => view! { <li class="change-kind">{format!("{other:?}").to_lowercase()}</li> }.into_any(),
    };
    let path_note = match row.critical_path {
        CriticalPathChange::Entered => Some(("entered", "entered the critical path")),
        CriticalPathChange::Left => Some(("left", "left the critical path")),
        CriticalPathChange::Stayed | CriticalPathChange::Off => None,
    }
    .map(|(class, text)| view! { <li class=format!("critical-path-change {class}")>{text}</li> });
    view! {
        <tr class=format!("compare-row {change_class} {direction}")>
            <td class="span-name" style=format!("padding-left: {}px", 10 + row.depth * 12)>
                <span class="service">{row.service.clone()}</span> " " <span class="name">{row.name.clone()}</span>
            </td>
            <td class="num">{duration_or_dash(row.count_before, row.total_before_nanos)}</td>
            <td class="num">{duration_or_dash(row.count_after, row.total_after_nanos)}</td>
            <td class="num delta">{format_delta(row.delta_nanos)}</td>
            <td class="num delta">{format_delta_percent(row.delta_percent)}</td>
            <td class="num">{format!("{} → {}", row.count_before, row.count_after)}</td>
            <td class="num">{format!("{:.1} → {:.1}", row.percent_of_total_before, row.percent_of_total_after)}</td>
            <td><ul class="attribute-changes">{changes}{path_note}</ul></td>
        </tr>
    }
}

/// This spanview's address, for reports that link back to it.
fn origin() -> Option<String> {
    web_sys::window()?.location().origin().ok()
}
