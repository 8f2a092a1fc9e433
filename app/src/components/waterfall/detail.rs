//! The span detail panel: what the selected span is, how long it took, and every attribute,
//! event and link, as text.

use leptos::prelude::*;
use spanview_core::layout::{format_duration, format_percent};
use spanview_core::model::{KeyValue, StatusCode};

use super::state::WaterfallState;

#[component]
pub fn SpanDetail(row_idx: u32) -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let row = state.waterfall.rows[row_idx as usize].clone();
    let batch = &state.trace.batch;
    let span = batch.spans[row.span_idx as usize].clone();
    let resource = batch
        .resources
        .get(span.resource_idx as usize)
        .cloned()
        .unwrap_or_default();
    let scope = batch
        .scopes
        .get(span.scope_idx as usize)
        .cloned()
        .unwrap_or_default();
    let window_start = state.waterfall.window.start_nanos;
    let status = match span.status.code {
        StatusCode::Error => format!("error {}", span.status.message)
            .trim_end()
            .to_owned(),
        StatusCode::Ok => String::from("ok"),
        StatusCode::Unset => String::from("unset"),
    };
    let facts = [
        ("Service", row.service.to_string()),
        ("Kind", format!("{:?}", span.kind).to_lowercase()),
        ("Status", status),
        ("Start", format!("+{}", format_duration(row.offset_nanos))),
        ("Duration", format_duration(row.duration_nanos)),
        ("Share of total", format_percent(row.percent_of_total)),
        ("Self time", format_duration(row.self_nanos)),
        (
            "Critical path",
            if row.on_critical_path {
                format!("on it, {} of its own", format_duration(row.critical_nanos))
            } else {
                String::from("not on it")
            },
        ),
        ("Span ID", span.span_id.to_string()),
        (
            "Parent ID",
            span.parent_span_id
                .map_or_else(|| String::from("none (root)"), |id| id.to_string()),
        ),
    ];
    let events = span
        .events
        .iter()
        .map(|event| {
            let offset = format!("+{}", format_duration(event.time_nanos.saturating_sub(window_start)));
            view! {
                <li>
                    <div class="event-head"><span class="mono">{offset}</span> " " <strong>{event.name.clone()}</strong></div>
                    <AttributeTable attributes=event.attributes.clone() />
                </li>
            }
        })
        .collect_view();
    let links = span
        .links
        .iter()
        .map(|link| {
            let href = format!("/trace/{}?span={}", link.trace_id, link.span_id);
            view! { <li><a href=href class="mono">{format!("{} / {}", link.trace_id, link.span_id)}</a></li> }
        })
        .collect_view();
    let has_events = !span.events.is_empty();
    let has_links = !span.links.is_empty();
    let scope_title = format!("Scope {} {}", scope.name, scope.version)
        .trim_end()
        .to_owned();
    let close_state = state.clone();
    view! {
        <aside class="span-detail" aria-label="Span details">
            <header>
                <h2>{span.name.clone()}</h2>
                <button class="close" aria-label="Close details" on:click=move |_| close_state.selected.set(None)>"×"</button>
            </header>
            <dl class="facts">
                {facts.into_iter().map(|(label, value)| view! { <dt>{label}</dt><dd>{value}</dd> }).collect_view()}
            </dl>
            <h3>"Attributes"</h3>
            <AttributeTable attributes=span.attributes />
            {has_events.then(|| view! { <h3>"Events"</h3><ul class="events">{events}</ul> })}
            {has_links.then(|| view! { <h3>"Links"</h3><ul class="links">{links}</ul> })}
            <h3>"Resource"</h3>
            <AttributeTable attributes=resource.attributes />
            <h3>{scope_title}</h3>
            <AttributeTable attributes=scope.attributes />
        </aside>
    }
}

/// Key, value and type; multi-line values (SQL) keep their lines.
#[component]
fn AttributeTable(attributes: Vec<KeyValue>) -> impl IntoView {
    if attributes.is_empty() {
        return view! { <p class="none">"none"</p> }.into_any();
    }
    let rows = attributes
        .into_iter()
        .map(|attribute| {
            let value = attribute.value.to_display_string();
            let copy_value = value.clone();
            view! {
                <tr>
                    <th scope="row">{attribute.key}</th>
                    <td><pre class="value">{value}</pre></td>
                    <td class="type">{attribute.value.type_name()}</td>
                    <td>
                        <button class="copy" title="Copy value" on:click=move |_| copy_to_clipboard(&copy_value)>"copy"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! { <table class="attributes"><tbody>{rows}</tbody></table> }.into_any()
}

fn copy_to_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}
