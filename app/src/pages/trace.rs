//! `/trace/{traceId}`: one trace as a waterfall.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use spanview_core::layout::format_duration;
use spanview_core::waterfall::Waterfall;

use crate::api;
use crate::components::api_error::ApiErrorView;
use crate::components::waterfall::WaterfallView;

#[component]
pub fn TracePage() -> impl IntoView {
    let params = use_params_map();
    let trace_id = move || params.read().get("trace_id").unwrap_or_default();
    let trace = LocalResource::new(move || {
        let trace_id = trace_id();
        async move { api::trace(&trace_id).await }
    });
    view! {
        <section class="page trace-page">
            <Suspense fallback=|| view! { <p class="notice">"Loading trace…"</p> }>
                {move || Suspend::new(async move {
                    match trace.await {
                        Ok(trace) => match Waterfall::build(&trace) {
                            Some(waterfall) => {
                                view! { <TraceHeader waterfall=waterfall.clone() trace_id=trace.trace_id.to_string() /> <WaterfallView waterfall=waterfall /> }.into_any()
                            }
                            None => view! { <p class="notice">"This trace has no spans."</p> }.into_any(),
                        },
                        Err(error) => view! { <ApiErrorView error=error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TraceHeader(waterfall: Waterfall, trace_id: String) -> impl IntoView {
    let title = waterfall
        .rows
        .first()
        .map(|root| format!("{}: {}", root.service, root.name))
        .unwrap_or_default();
    view! {
        <header class="trace-header">
            <h1>{title}</h1>
            <dl class="trace-facts">
                <div><dt>"Duration"</dt><dd>{format_duration(waterfall.duration_nanos())}</dd></div>
                <div><dt>"Spans"</dt><dd>{waterfall.rows.len()}</dd></div>
                <div><dt>"Services"</dt><dd>{waterfall.services.len()}</dd></div>
                <div><dt>"Errors"</dt><dd>{waterfall.n_errors}</dd></div>
                <div><dt>"Trace ID"</dt><dd class="mono">{trace_id}</dd></div>
            </dl>
        </header>
    }
}
