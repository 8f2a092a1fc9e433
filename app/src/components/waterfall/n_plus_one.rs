//! The N+1 banner: shown only when the trace repeats one statement under one parent; a click
//! shows just those spans.

use leptos::prelude::*;
use spanview_core::layout::{format_duration, format_percent};
use spanview_core::n_plus_one::detect;

use super::state::WaterfallState;

#[component]
pub fn NPlusOneBanners() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let findings = detect(&state.trace, &state.waterfall);
    let pinned_rows = state.pinned_rows;
    findings
        .into_iter()
        .map(|finding| {
            let parent = &state.waterfall.rows[finding.parent_row as usize];
            let headline = format!("N+1 query: {} × {}", finding.rows.len(), finding.statement);
            let detail = format!(
                "{} under {} {}: {}, {} of the trace. Batch them into one query.",
                finding.service,
                parent.service,
                parent.name,
                format_duration(finding.total_nanos),
                format_percent(finding.percent_of_trace)
            );
            let mut rows = vec![finding.parent_row];
            rows.extend(finding.rows.iter().copied());
            let is_pinned = {
                let rows = rows.clone();
                move || pinned_rows.with(|pinned| pinned.as_ref() == Some(&rows))
            };
            let toggle = move |_| {
                let rows = rows.clone();
                pinned_rows.update(|pinned| {
                    *pinned = if pinned.as_ref() == Some(&rows) { None } else { Some(rows) };
                });
            };
            view! {
                <div class="n-plus-one" role="alert">
                    <div>
                        <strong class="headline">{headline}</strong>
                        <span class="detail">{detail}</span>
                    </div>
                    <button on:click=toggle>{move || if is_pinned() { "Show all spans" } else { "Show them" }}</button>
                </div>
            }
        })
        .collect_view()
}
