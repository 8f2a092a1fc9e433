//! `/trace/{traceId}[?view=flame][&span={spanId}]`: one trace as a waterfall (or its statistics,
//! or a flame graph), with the slow spans called out.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use spanview_core::Trace;
use spanview_core::call_outs::{self, Subject};
use spanview_core::clock_skew;
use spanview_core::layout::{format_duration, format_percent};
use spanview_core::waterfall::{Building, Waterfall};

use crate::after_paint::run_sliced;
use crate::components::api_error::ApiErrorView;
use crate::components::flame_graph::FlameGraphView;
use crate::components::statistics::TraceStatistics;
use crate::components::waterfall::state::WaterfallState;
use crate::components::waterfall::{SkeletonRows, WaterfallView};
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
            let trace = loading.await?;
            // For the rendering benchmark: the data is in wasm memory from here on.
            mark("spanview:trace-loaded");
            Ok(BuiltTrace::build(trace).await)
        }
    });
    view! {
        <section class="page trace-page">
            <Suspense fallback=TraceSkeleton>
                {move || Suspend::new(async move {
                    match trace.await {
                        Ok(Some(built)) => view! { <TraceView built=built /> }.into_any(),
                        Ok(None) => view! { <p class="notice">"This trace has no spans."</p> }.into_any(),
                        Err(error) => view! { <ApiErrorView error=error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A trace with its waterfalls, built before the page shows it: as recorded, and adjusted for
/// clock skew when anything needed to move (the toolbar switches between the two).
#[derive(Clone)]
struct BuiltTrace {
    trace: Arc<Trace>,
    recorded: Arc<Waterfall>,
    /// The adjusted waterfall and trace, when the clock-skew adjustment moved a span.
    adjusted: Option<(Arc<Waterfall>, Arc<Trace>)>,
}

impl BuiltTrace {
    /// `None` for a trace without spans. The recorded waterfall is built first: its tree finds
    /// the skew, and only a trace with skew is built a second time. Both are built in slices
    /// with the page's thread given back in between (`Waterfall::build` of a million spans
    /// takes about half a second), from the same core code as `Waterfall::build`.
    async fn build(trace: Arc<Trace>) -> Option<Self> {
        let recorded = build_in_slices(&trace).await?;
        let skew = clock_skew::find_in_waterfall(&trace, &recorded);
        let adjusted = if skew.is_empty() {
            None
        } else {
            let adjusted_trace = Arc::new(clock_skew::apply(&trace, &skew));
            build_in_slices(&adjusted_trace).await.map(|mut waterfall| {
                waterfall.skew = skew;
                (Arc::new(waterfall), adjusted_trace)
            })
        };
        Some(Self {
            trace,
            recorded: Arc::new(recorded),
            adjusted,
        })
    }
}

async fn build_in_slices(trace: &Trace) -> Option<Waterfall> {
    let mut building = Building::new(trace)?;
    run_sliced("build", |budget| building.step(budget), || true).await;
    Some(building.finish())
}

/// The trace page's outline while the trace loads: the header, toolbar and a few rows in the
/// places and type styles the real ones will take, so the page does not jump when the trace
/// arrives, and the browser has looked up the fonts of the first layout while it waited (on a
/// fresh page those lookups made up a third of the first layout of a 100,000-span trace).
#[component]
fn TraceSkeleton() -> impl IntoView {
    // The rows are the waterfall's own cells (`SkeletonRows`), so they keep the real layout.
    view! {
        <div class="trace-skeleton" aria-busy="true">
            <header class="trace-header">
                <h1 class="notice">"Loading trace…"</h1>
                <dl class="trace-facts">
                    <div><dt>"Duration"</dt><dd>"0000 ms"</dd></div>
                    <div><dt>"Spans"</dt><dd>"0000"</dd></div>
                    <div><dt>"Services"</dt><dd>"00"</dd></div>
                    <div><dt>"Errors"</dt><dd>"0"</dd></div>
                </dl>
                <div class="call-outs">
                    <div class="call-out">
                        <span class="call-out-label">"Slowest span"</span>
                        <span class="call-out-text">"service: operation, 000 ms, 00 % of total"</span>
                    </div>
                    <div class="call-out">
                        <span class="call-out-label">"Largest self time"</span>
                        <span class="call-out-text">"service: operation, 000 ms of its own work"</span>
                    </div>
                </div>
                <div class="export-buttons">
                    <span class="export-label">"Export"</span>
                    <span class="skeleton-control">"OTLP JSON"</span>
                    <span class="skeleton-control">"Jaeger JSON"</span>
                </div>
            </header>
            <div class="tabs">
                <button disabled aria-selected="true">"Waterfall"</button>
                <button disabled>"Statistics"</button>
                <button disabled>"Flame graph"</button>
            </div>
            <div class="wf-toolbar">
                <span class="skeleton-control">"Collapse all"</span>
                <span class="skeleton-control">"Expand all"</span>
                <span class="hint">"Press ? for keyboard shortcuts"</span>
            </div>
            <ul class="legend"><li>"service"</li></ul>
            <div class="minimap-bar"><div class="minimap"></div></div>
            <div class="waterfall">
                <div class="wf-row wf-head">
                    <div class="wf-label">"Span"</div>
                    <div class="wf-duration">"Duration"</div>
                    <div class="wf-share">"% of total"</div>
                    <div class="wf-timeline"><span class="tick">"0 ms"</span></div>
                </div>
                <SkeletonRows />
            </div>
        </div>
    }
}

/// The trace, adjusted for clock skew unless the toolbar asks for the recorded times.
#[component]
fn TraceView(built: BuiltTrace) -> impl IntoView {
    let recorded_times = built.adjusted.is_some().then(|| RwSignal::new(false));
    let recorded_trace = RecordedTrace(built.trace.clone());
    (move || {
        let showing_recorded = recorded_times.is_some_and(|recorded| recorded.get());
        let (waterfall, trace) = match &built.adjusted {
            Some((waterfall, adjusted)) if !showing_recorded => {
                (waterfall.clone(), adjusted.clone())
            }
            _ => (built.recorded.clone(), built.trace.clone()),
        };
        view! {
            <TraceBody
                trace=trace
                recorded_trace=recorded_trace.clone()
                waterfall=waterfall
                recorded_times=recorded_times
            />
        }
    })
    .into_any()
}

/// The trace as recorded (exports carry the recorded times, never the skew-adjusted ones).
#[derive(Clone)]
struct RecordedTrace(Arc<Trace>);

#[component]
fn TraceBody(
    trace: Arc<Trace>,
    recorded_trace: RecordedTrace,
    waterfall: Arc<Waterfall>,
    recorded_times: Option<RwSignal<bool>>,
) -> impl IntoView {
    provide_context(recorded_trace);
    mark("spanview:waterfall-built");
    let state = WaterfallState::new(trace.clone(), waterfall, recorded_times);
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
    let wanted_view = use_query_map().with_untracked(|query| query.get("view"));
    let tab = RwSignal::new(if wanted_view.as_deref() == Some("flame") {
        Tab::FlameGraph
    } else {
        Tab::Waterfall
    });
    let tab_button = move |this: Tab, label: &'static str| {
        view! {
            <button role="tab" aria-selected=move || (tab.get() == this).to_string()
                on:click=move |_| tab.set(this)>{label}</button>
        }
    };
    view! {
        <TraceHeader />
        <div class="tabs" role="tablist">
            {tab_button(Tab::Waterfall, "Waterfall")}
            {tab_button(Tab::Statistics, "Statistics")}
            {tab_button(Tab::FlameGraph, "Flame graph")}
        </div>
        {move || match tab.get() {
            Tab::Waterfall => view! { <WaterfallView /> }.into_any(),
            Tab::Statistics => view! { <TraceStatistics /> }.into_any(),
            Tab::FlameGraph => view! { <FlameGraphView /> }.into_any(),
        }}
    }
    .into_any()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Waterfall,
    Statistics,
    FlameGraph,
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
    // Patterns and the slowest span, largest share of the trace first; repeated work joins when
    // its detection has run after the first paint.
    let ranked_state = state.clone();
    let ranked = move || {
        let state = ranked_state.clone();
        let findings = state.repeated_work.get().unwrap_or_default();
        let waterfall = state.waterfall.clone();
        call_outs::rank(&waterfall, &findings)
            .into_iter()
            .map(|call_out| {
                let share = format_percent(call_out.percent_of_trace);
                let (label, text, target) = match call_out.subject {
                    Subject::Pattern(index) => {
                        let finding = &findings[index];
                        (
                            "Costliest pattern",
                            format!("{} ({})", finding.headline(), finding.cost()),
                            finding.rows[0],
                        )
                    }
                    Subject::Group(group) => {
                        let members = &waterfall.groups[group as usize];
                        (
                            "Costliest repetition",
                            format!(
                                "{} × {}: {} busy, {share} of the trace's time",
                                members.rows.len(),
                                members.name,
                                format_duration(members.total_nanos)
                            ),
                            members.first_row(),
                        )
                    }
                    Subject::Span(row_idx) => {
                        let row = &waterfall.rows[row_idx as usize];
                        (
                            "Slowest span",
                            format!(
                                "{}: {}, {}, {share} of total",
                                row.service,
                                row.name,
                                format_duration(row.duration_nanos)
                            ),
                            row_idx,
                        )
                    }
                };
                let state = state.clone();
                view! {
                    <button class="call-out" on:click=move |_| state.reveal_and_select(target)>
                        <span class="call-out-label">{label}</span>
                        <span class="call-out-text">{text}</span>
                    </button>
                }
            })
            .collect_view()
    };
    let busiest = call_out(
        "Largest self time",
        waterfall.largest_self_time_row(),
        |row| format!("{} of its own work", format_duration(row.self_nanos)),
    );
    let has_errors = waterfall.n_errors > 0;
    let time_zone = crate::components::time_zone::TimeZoneSetting::get();
    let compare_with = waterfall.rows.first().map(|root| {
        view! {
            <crate::components::compare_with::CompareWith trace_id=state.trace.trace_id.to_string()
                service=root.service.to_string() operation=root.name.to_string() start_nanos=waterfall.window.start_nanos />
        }
    });
    let started_nanos = waterfall.window.start_nanos;
    view! {
        <header class="trace-header">
            <h1>{title}</h1>
            <dl class="trace-facts">
                <div><dt>"Duration"</dt><dd>{format_duration(waterfall.duration_nanos())}</dd></div>
                <div><dt>"Spans"</dt><dd>{waterfall.rows.len()}</dd></div>
                <div><dt>"Services"</dt><dd>{waterfall.services.len()}</dd></div>
                <div><dt>"Errors"</dt><dd class:has-errors=has_errors>{waterfall.n_errors}</dd></div>
                <div><dt>"Trace ID"</dt><dd class="mono">{state.trace.trace_id.to_string()}</dd></div>
                <div><dt>"Started"</dt><dd class="started-at">{move || time_zone.format(started_nanos)}</dd></div>
            </dl>
            <div class="call-outs">{ranked}{busiest}</div>
            <ExportButtons />
            {compare_with}
        </header>
    }
}

/// Download the trace as OTLP JSON or Jaeger JSON (encoded in the format worker); importing
/// either reproduces its spans.
#[component]
fn ExportButtons() -> impl IntoView {
    let RecordedTrace(recorded) = expect_context::<RecordedTrace>();
    let (otlp_trace, jaeger_trace) = (recorded.clone(), recorded);
    view! {
        <div class="export-buttons">
            <span class="export-label">"Export"</span>
            <button on:click=move |_| export_trace(&otlp_trace, ExportFormat::OtlpJson)>"OTLP JSON"</button>
            <button on:click=move |_| export_trace(&jaeger_trace, ExportFormat::JaegerJson)>"Jaeger JSON"</button>
        </div>
    }
}
