//! `/compare/groups?before=ID,ID…&after=ID,ID…`: N traces against M. Medians say what a typical
//! request pays; the p95 beside them tells "always slow" (systemic) from "sometimes slow"
//! (intermittent).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use spanview_core::compare::{format_delta, format_delta_percent};
use spanview_core::group_compare::{
    Distribution, GroupComparison, GroupComparisonRow, Variability, render_group_markdown,
};
use spanview_core::layout::format_duration;

use crate::api;
use crate::components::api_error::ApiErrorView;
use crate::download::download;
use crate::format::count;

/// The comma-separated trace ids of one side in the URL.
fn ids_of(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The page's address for two groups.
pub fn group_compare_href(before: &[String], after: &[String]) -> String {
    format!(
        "/compare/groups?before={}&after={}",
        before.join(","),
        after.join(",")
    )
}

#[component]
pub fn GroupComparePage() -> impl IntoView {
    let query = use_query_map();
    let sides = move || {
        query.with(|query| {
            (
                ids_of(&query.get("before").unwrap_or_default()),
                ids_of(&query.get("after").unwrap_or_default()),
            )
        })
    };
    let comparison = LocalResource::new(move || {
        let (before, after) = sides();
        async move { api::compare_groups(&before, &after).await }
    });
    view! {
        <section class="page compare-page group-compare-page">
            <h1>"Compare groups of traces"</h1>
            <p class="compare-ids">
                {move || { let (before, after) = sides(); format!("{} before → {} after", count(before.len() as u64, "trace"), count(after.len() as u64, "trace")) }}
            </p>
            <Suspense fallback=|| view! { <p class="notice">"Comparing the groups…"</p> }>
                {move || Suspend::new(async move {
                    match comparison.await {
                        Ok(comparison) => view! { <GroupComparisonView comparison=comparison /> }.into_any(),
                        Err(error) => view! { <ApiErrorView error=error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn variability_label(variability: Variability) -> &'static str {
    match variability {
        Variability::Steady => "steady",
        Variability::Intermittent => "intermittent",
    }
}

/// "median 350 ms · p95 3200 ms", or a dash where the side lacks the path.
fn median_and_p95(distribution: Option<Distribution>) -> (String, String) {
    distribution.map_or_else(
        || (String::from("—"), String::from("—")),
        |d| {
            (
                format_duration(d.median_nanos),
                format_duration(d.p95_nanos),
            )
        },
    )
}

#[component]
fn GroupComparisonView(comparison: GroupComparison) -> impl IntoView {
    // No change is neither green nor red (issue 24).
    let (faster, slower) = (
        comparison.median_delta_nanos < 0,
        comparison.median_delta_nanos > 0,
    );
    let markdown = render_group_markdown(&comparison);
    let json = serde_json::to_string_pretty(&comparison).unwrap_or_default();
    let side_note = |label: &str, d: Distribution, variability: Variability| {
        let class = format!("variability {}", variability_label(variability));
        let text = format!(
            "{label}: {} ({}, p95 {} = {:.1}× median)",
            variability_label(variability),
            count(d.n as u64, "trace"),
            format_duration(d.p95_nanos),
            d.p95_nanos as f64 / d.median_nanos.max(1) as f64
        );
        view! { <span class=class>{text}</span> }
    };
    let rows = comparison
        .rows_by_impact()
        .into_iter()
        .cloned()
        .map(|row| view! { <GroupRowView row=row /> })
        .collect_view();
    view! {
        <div class="compare-summary" class:faster=faster class:slower=slower>
            <div class="big-number">
                <span class="label">"Median"</span>
                <span class="value">
                    {format!("{} → {}", format_duration(comparison.total_before.median_nanos), format_duration(comparison.total_after.median_nanos))}
                </span>
                <span class="delta">
                    {format!("{} ({})", format_delta(comparison.median_delta_nanos), format_delta_percent(comparison.median_delta_percent))}
                </span>
            </div>
            <div class="small-number">
                <span class="label">"p95"</span>
                {format!("{} → {} ({})", format_duration(comparison.total_before.p95_nanos), format_duration(comparison.total_after.p95_nanos), format_delta_percent(comparison.p95_delta_percent))}
            </div>
            <div class="small-number"><span class="label">"Traces"</span>{format!("{} → {}", comparison.traces_before, comparison.traces_after)}</div>
            <div class="exports">
                <button on:click=move |_| download("group-comparison.md", "text/markdown", &markdown)>"Export Markdown"</button>
                <button on:click=move |_| download("group-comparison.json", "application/json", &json)>"Export JSON"</button>
            </div>
            <div class="variability-notes">
                {side_note("Before", comparison.total_before, comparison.variability_before)}
                {side_note("After", comparison.total_after, comparison.variability_after)}
            </div>
        </div>
        <p class="hint">"Steady: every trace pays it (systemic: a missing index, a service down). Intermittent: the p95 is over twice the median, so only some traces pay it (cache expiry, GC pauses)."</p>
        <table class="trace-table compare-table group-compare-table">
            <thead>
                <tr>
                    <th>"Span"</th>
                    <th class="num">"Median before"</th>
                    <th class="num">"Median after"</th>
                    <th class="num">"Change"</th>
                    <th class="num">"p95 before"</th>
                    <th class="num">"p95 after"</th>
                    <th class="num">"In traces"</th>
                    <th class="num">"Count"</th>
                    <th class="num">"% of trace"</th>
                    <th>"Before → after"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn GroupRowView(row: GroupComparisonRow) -> impl IntoView {
    let direction = match row.median_delta_nanos {
        delta if delta < 0 => "faster",
        delta if delta > 0 => "slower",
        _ => "same",
    };
    let (median_before, p95_before) = median_and_p95(row.before);
    let (median_after, p95_after) = median_and_p95(row.after);
    let badge = |variability: Option<Variability>| {
        match variability {
        Some(variability) => view! {
            <span class=format!("variability {}", variability_label(variability))>{variability_label(variability)}</span>
        }
        .into_any(),
        None => view! { <span class="variability absent">"absent"</span> }.into_any(),
    }
    };
    view! {
        <tr class=format!("compare-row group-row {direction}")>
            <td class="span-name" style=format!("padding-left: {}px", 10 + row.depth * 12)>
                <span class="service">{row.service.clone()}</span> " " <span class="name">{row.name.clone()}</span>
            </td>
            <td class="num">{median_before}</td>
            <td class="num">{median_after}</td>
            <td class="num delta">{format_delta(row.median_delta_nanos)}" "<span class="delta-percent">{format!("({})", format_delta_percent(row.median_delta_percent))}</span></td>
            <td class="num">{p95_before}</td>
            <td class="num">{p95_after}</td>
            <td class="num">{format!("{} → {}", row.traces_before, row.traces_after)}</td>
            <td class="num">{format!("{} → {}", row.median_count_before, row.median_count_after)}</td>
            <td class="num">{format!("{:.1} → {:.1}", row.median_percent_before, row.median_percent_after)}</td>
            <td class="variabilities">{badge(row.variability_before)} " → " {badge(row.variability_after)}</td>
        </tr>
    }
}
