//! `/trace/{traceId}[?span={spanId}]`: one trace as a waterfall, with the slow spans called out.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use spanview_core::Trace;
use spanview_core::layout::{format_duration, format_percent};
use spanview_core::waterfall::Waterfall;

use crate::components::api_error::ApiErrorView;
use crate::components::statistics::TraceStatistics;
use crate::components::waterfall::WaterfallView;
use crate::components::waterfall::state::WaterfallState;
use crate::perf::mark;
use crate::upload::protocol::ExportFormat;
use crate::upload::{Uploads, export_trace, load_trace};

#[component]
pub fn TracePage() -> impl IntoView {
    let params = use_params_map();
    let trace_id = move || params.read().get("trace_id").unwrap_or_default();
    let uploads = Uploads::get();
    let trace = LocalResource::new(move || {
        let loading = load_trace(uploads, trace_id());
        async move {
            let trace = loading.await;
            // For the rendering benchmark: the data is in wasm memory from here on.
            mark("spanview:trace-loaded");
            trace
        }
    });
    view! {
        <section class="page trace-page">
            <Suspense fallback=|| view! { <p class="notice">"Loading trace…"</p> }>
                {move || Suspend::new(async move {
                    match trace.await {
                        Ok(trace) => view! { <TraceView trace=trace /> }.into_any(),
                        Err(error) => view! { <ApiErrorView error=error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TraceView(trace: Arc<Trace>) -> impl IntoView {
    let Some(waterfall) = Waterfall::build(&trace) else {
        return view! { <p class="notice">"This trace has no spans."</p> }.into_any();
    };
    mark("spanview:waterfall-built");
    let state = WaterfallState::new(trace.clone(), Arc::new(waterfall));
    // A deep link (`?span=`) opens with that span selected and revealed.
    let wanted_span = use_query_map().with_untracked(|query| query.get("span"));
    if let Some(wanted_span) = wanted_span {
        let found = state.waterfall.rows.iter().position(|row| {
            trace.batch.spans[row.span_idx as usize].span_id.to_string()
                == wanted_span.to_lowercase()
        });
        if let Some(row_idx) = found {
            state.reveal_and_select(row_idx as u32);
        }
    }
    provide_context(state);
    let show_statistics = RwSignal::new(false);
    view! {
        <TraceHeader />
        <div class="tabs" role="tablist">
            <button role="tab" aria-selected=move || (!show_statistics.get()).to_string()
                on:click=move |_| show_statistics.set(false)>"Waterfall"</button>
            <button role="tab" aria-selected=move || show_statistics.get().to_string()
                on:click=move |_| show_statistics.set(true)>"Statistics"</button>
        </div>
        {move || if show_statistics.get() {
            view! { <TraceStatistics /> }.into_any()
        } else {
            view! { <WaterfallView /> }.into_any()
        }}
    }
    .into_any()
}

#[component]
fn TraceHeader() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let waterfall = state.waterfall.clone();
    let title = waterfall
        .rows
        .first()
        .map(|root| format!("{}: {}", root.service, root.name))
        .unwrap_or_default();
    let call_out =
        |label: &'static str,
         row_idx: Option<u32>,
         detail: fn(&spanview_core::waterfall::WaterfallRow) -> String| {
            let state = state.clone();
            row_idx.map(|row_idx| {
                let row = &state.waterfall.rows[row_idx as usize];
                let text = format!("{}: {}, {}", row.service, row.name, detail(row));
                view! {
                    <button class="call-out" on:click=move |_| state.reveal_and_select(row_idx)>
                        <span class="call-out-label">{label}</span>
                        <span class="call-out-text">{text}</span>
                    </button>
                }
            })
        };
    let slowest = call_out("Slowest span", waterfall.slowest_row(), |row| {
        format!(
            "{}, {} of total",
            format_duration(row.duration_nanos),
            format_percent(row.percent_of_total)
        )
    });
    let busiest = call_out(
        "Largest self time",
        waterfall.largest_self_time_row(),
        |row| format!("{} of its own work", format_duration(row.self_nanos)),
    );
    let has_errors = waterfall.n_errors > 0;
    view! {
        <header class="trace-header">
            <h1>{title}</h1>
            <dl class="trace-facts">
                <div><dt>"Duration"</dt><dd>{format_duration(waterfall.duration_nanos())}</dd></div>
                <div><dt>"Spans"</dt><dd>{waterfall.rows.len()}</dd></div>
                <div><dt>"Services"</dt><dd>{waterfall.services.len()}</dd></div>
                <div><dt>"Errors"</dt><dd class:has-errors=has_errors>{waterfall.n_errors}</dd></div>
                <div><dt>"Trace ID"</dt><dd class="mono">{state.trace.trace_id.to_string()}</dd></div>
            </dl>
            <div class="call-outs">{slowest}{busiest}</div>
            <ExportButtons />
        </header>
    }
}

/// Download the trace as OTLP JSON or Jaeger JSON (encoded in the format worker); importing
/// either reproduces its spans.
#[component]
fn ExportButtons() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let (otlp_trace, jaeger_trace) = (state.trace.clone(), state.trace);
    view! {
        <div class="export-buttons">
            <span class="export-label">"Export"</span>
            <button on:click=move |_| export_trace(&otlp_trace, ExportFormat::OtlpJson)>"OTLP JSON"</button>
            <button on:click=move |_| export_trace(&jaeger_trace, ExportFormat::JaegerJson)>"Jaeger JSON"</button>
        </div>
    }
}
