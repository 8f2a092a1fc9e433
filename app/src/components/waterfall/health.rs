//! Trace health above the waterfall: a short list of what is broken or partial in the trace
//! (missing parents, late children, clock skew, dropped data, several roots), each with a jump
//! to its spans. Nothing when the trace is healthy. The findings and their words come from
//! core ([`spanview_core::health::check`]).

use leptos::prelude::*;
use spanview_core::health::{HealthFinding, check};

use super::state::WaterfallState;

/// Checked after the first paint (it reads every row), like the repeated-work banners.
#[component]
pub fn HealthList() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let findings: RwSignal<Option<Vec<HealthFinding>>> = RwSignal::new(None);
    let check_state = state.clone();
    crate::after_paint::when_idle_after_paint(move || {
        let started = crate::after_paint::now_ms();
        let found = check(
            &check_state.trace,
            &check_state.waterfall,
            &check_state.waterfall.skew,
        );
        crate::after_paint::note_if_slow("health", started);
        // The page may have moved on to another trace meanwhile.
        let _ = findings.try_set(Some(found));
    });
    move || {
        let found = findings.get().filter(|found| !found.is_empty())?;
        let state = state.clone();
        let items = found
            .into_iter()
            .map(|finding| {
                let state = state.clone();
                let rows = finding.rows.clone();
                let pinned_rows = state.pinned_rows;
                let is_pinned = {
                    let rows = rows.clone();
                    move || pinned_rows.with(|pinned| pinned.as_ref() == Some(&rows))
                };
                let n_rows = rows.len();
                // One span: reveal and select it. Several: show only them, and back.
                let jump = move |_| {
                    if rows.len() == 1 {
                        pinned_rows.set(None);
                        state.reveal_and_select(rows[0]);
                    } else {
                        let rows = rows.clone();
                        pinned_rows.update(|pinned| {
                            *pinned = if pinned.as_ref() == Some(&rows) {
                                None
                            } else {
                                Some(rows)
                            };
                        });
                    }
                };
                let label = move || match n_rows {
                    1 => String::from("Go to the span"),
                    _ if is_pinned() => String::from("Show all spans"),
                    n => format!("Show the {n} spans"),
                };
                view! {
                    <li>
                        <span class="health-message">{finding.message}</span>
                        <button on:click=jump>{label}</button>
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <section class="trace-health" aria-label="Trace health">
                <ul>{items}</ul>
            </section>
        })
    }
}
