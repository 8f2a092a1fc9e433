//! The repeated-work banners (N+1 queries, repeated calls): shown only when the trace repeats
//! one operation under one parent; a click shows just those spans. Real traces can hold many
//! small patterns: the costliest few show, the rest behind "show N more", so the banners never
//! push the waterfall off the screen. The words come from core ([`RepeatedWork::headline`]).

use leptos::prelude::*;
use spanview_core::repeated_work::{Detection, RepeatedWork};

use crate::after_paint::run_sliced;

use super::state::WaterfallState;

/// Banners shown before "show N more".
const SHOWN_AT_FIRST: usize = 2;

/// Detection runs after the rows are painted, in slices (it reads every row and its
/// attributes: seconds for a million-span trace), so the waterfall shows and scrolls first and
/// the banner comes a moment later. The findings go into the state, where the header's
/// call-outs rank them too.
#[component]
pub fn NPlusOneBanners() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let findings = state.repeated_work;
    crate::after_paint::when_idle_after_paint(move || {
        leptos::task::spawn_local(async move {
            let mut detection = Detection::new(&state.trace, &state.waterfall);
            let wanted = move || !findings.is_disposed();
            if !run_sliced("repeated-work", |budget| detection.step(budget), wanted).await {
                return;
            }
            let found = detection.finish();
            crate::perf::mark("spanview:n-plus-one-detected");
            // The page may have moved on to another trace meanwhile.
            let _ = findings.try_set(Some(std::sync::Arc::new(found)));
        });
    });
    move || {
        findings
            .get()
            .filter(|found| !found.is_empty())
            .map(|found| view! { <Banners findings=found.as_ref().clone() /> })
    }
}

#[component]
fn Banners(findings: Vec<RepeatedWork>) -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let n_hidden = findings.len().saturating_sub(SHOWN_AT_FIRST);
    let show_all = RwSignal::new(false);
    let pinned_rows = state.pinned_rows;
    let banners: Vec<AnyView> = findings
        .into_iter()
        .map(|finding| {
            let parent = &state.waterfall.rows[finding.parent_row() as usize];
            let under = match finding.parent_rows.len() {
                1 => format!("under {} {}", parent.service, parent.name),
                n => format!("under {n} parents"),
            };
            let detail = format!(
                "{} {under}: {}. {}",
                finding.service,
                finding.cost(),
                finding.advice()
            );
            let mut rows = finding.parent_rows.clone();
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
                        <strong class="headline">{finding.headline()}</strong>
                        <span class="detail">{detail}</span>
                    </div>
                    <button on:click=toggle>{move || if is_pinned() { "Show all spans" } else { "Show them" }}</button>
                </div>
            }
            .into_any()
        })
        .collect();
    let mut banners = banners.into_iter();
    let first: Vec<AnyView> = banners.by_ref().take(SHOWN_AT_FIRST).collect();
    let rest: Vec<AnyView> = banners.collect();
    let rest = StoredValue::new_local(Some(rest));
    view! {
        {first}
        {move || {
            if show_all.get() {
                rest.try_update_value(Option::take).flatten().map(|rest| rest.into_iter().collect_view())
            } else {
                None
            }
        }}
        {move || (n_hidden > 0 && !show_all.get()).then(|| view! {
            <button class="more-n-plus-one" on:click=move |_| show_all.set(true)>
                {format!("Show {n_hidden} more repeated-work pattern{}", if n_hidden == 1 { "" } else { "s" })}
            </button>
        })}
    }
}
