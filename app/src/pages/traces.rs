//! `/`: the most recent traces, newest first.

use leptos::prelude::*;
use spanview_core::TraceSummary;
use spanview_core::layout::format_duration;

use crate::api;
use crate::components::api_error::ApiErrorView;
use crate::format::{local_time, time_ago};

const LIST_LIMIT: usize = 100;

#[component]
pub fn TracesPage() -> impl IntoView {
    let traces = LocalResource::new(|| api::recent_traces(LIST_LIMIT));
    view! {
        <section class="page traces-page">
            <h1>"Recent traces"</h1>
            <Suspense fallback=|| view! { <p class="notice">"Loading traces…"</p> }>
                {move || Suspend::new(async move {
                    match traces.await {
                        Ok(list) if list.is_empty() => view! { <EmptyState /> }.into_any(),
                        Ok(list) => view! { <TraceTable traces=list /> }.into_any(),
                        Err(error) => view! { <ApiErrorView error=error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TraceTable(traces: Vec<TraceSummary>) -> impl IntoView {
    let slowest = traces
        .iter()
        .map(TraceSummary::duration_nanos)
        .max()
        .unwrap_or(0)
        .max(1);
    let rows = traces
        .into_iter()
        .map(|summary| {
            let href = format!("/trace/{}", summary.trace_id);
            let (service, name) = match &summary.root {
                Some(root) => (root.service.clone(), root.name.clone()),
                None => (String::new(), String::from("(no spans)")),
            };
            let duration = summary.duration_nanos();
            let bar_width = format!("width: {:.2}%", duration as f64 * 100.0 / slowest as f64);
            let started = local_time(summary.start_nanos);
            let ago = time_ago(summary.start_nanos);
            let n_errors = summary.n_errors;
            let has_errors = n_errors > 0;
            view! {
                <tr class="trace-row" data-trace-id=summary.trace_id.to_string()>
                    <td class="trace-name">
                        <a href=href>
                            <span class="service">{service}</span>
                            " "
                            <span class="name">{name}</span>
                        </a>
                    </td>
                    <td class="duration">
                        <span class="duration-text">{format_duration(duration)}</span>
                        <span class="duration-bar"><span style=bar_width></span></span>
                    </td>
                    <td class="num">{summary.n_spans}</td>
                    <td class="num errors" class:has-errors=has_errors>{n_errors}</td>
                    <td class="services">
                        {summary.services.into_iter().map(|service| view! { <span class="chip">{service}</span> }).collect_view()}
                    </td>
                    <td class="started" title=started>{ago}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="trace-table">
            <thead>
                <tr>
                    <th>"Trace"</th>
                    <th>"Duration"</th>
                    <th class="num">"Spans"</th>
                    <th class="num">"Errors"</th>
                    <th>"Services"</th>
                    <th>"Started"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Shown when nothing is stored yet: how to send traces here.
#[component]
fn EmptyState() -> impl IntoView {
    let origin = web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_else(|| String::from("http://127.0.0.1:4318"));
    let env_lines =
        format!("OTEL_EXPORTER_OTLP_ENDPOINT={origin}\nOTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf");
    view! {
        <div class="empty-state">
            <h2>"No traces yet"</h2>
            <p>"Point any OpenTelemetry SDK or Collector at this spanview (OTLP/HTTP, JSON or protobuf):"</p>
            <pre class="code">{env_lines}</pre>
            <p>"Or start spanview with " <code>"--demo"</code> " to load the example traces."</p>
        </div>
    }
}
