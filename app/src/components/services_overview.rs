//! The services overview on the dashboard: per service over the chosen time range, the requests
//! it received, their error rate and p50/p95/p99 (from the store's per-minute histograms). A
//! service's name filters the search to it.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use spanview_core::layout::{format_duration, format_percent};
use spanview_core::service_overview::ServiceOverview;

use crate::search::SearchForm;

/// Whether the overview is open is remembered across visits (closed at first: the traces come
/// first, and the summary line already names the slowest and the most failing service).
const OPEN_KEY: &str = "spanview.servicesOverviewOpen";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// "slowest p99: product-list 4200 ms · most errors: checkout 12.5 %"
fn headline(services: &[ServiceOverview]) -> String {
    let mut parts = Vec::new();
    if let Some(slowest) = services
        .iter()
        .filter(|row| row.stats.p99_nanos.is_some())
        .max_by_key(|row| row.stats.p99_nanos)
    {
        parts.push(format!(
            "slowest p99: {} {}",
            slowest.service,
            format_duration(slowest.stats.p99_nanos.unwrap_or_default())
        ));
    }
    match services
        .iter()
        .filter(|row| row.stats.errors > 0)
        .max_by(|a, b| a.stats.error_rate.total_cmp(&b.stats.error_rate))
    {
        Some(failing) => parts.push(format!(
            "most errors: {} {}",
            failing.service,
            format_percent(failing.stats.error_rate * 100.0)
        )),
        None => parts.push(String::from("no errors")),
    }
    parts.join(" · ")
}

#[component]
pub fn ServicesOverviewView(services: Vec<ServiceOverview>, form: SearchForm) -> impl IntoView {
    let count = services.len();
    let summary = headline(&services);
    let open = storage()
        .and_then(|storage| storage.get_item(OPEN_KEY).ok().flatten())
        .is_some_and(|value| value == "true");
    let map_href = format!("/services/map?{}", form.to_url_query());
    let rows = services
        .into_iter()
        .map(|row| view! { <OverviewRow row=row form=form.clone() /> })
        .collect_view();
    view! {
        <details
            class="services-overview"
            open=open
            on:toggle=move |event| {
                let is_open = event_target::<web_sys::HtmlDetailsElement>(&event).open();
                if let Some(storage) = storage() {
                    let _ = storage.set_item(OPEN_KEY, &is_open.to_string());
                }
            }
        >
            <summary>
                <span class="overview-title">{format!("Services ({count})")}</span>
                <span class="overview-headline">{summary}</span>
                <a class="service-map-link" href=map_href>"Service map"</a>
            </summary>
            <table class="overview-table">
                <thead>
                    <tr>
                        <th>"Service"</th>
                        <th class="num" title="Server, consumer and root spans, and spans entered from another service">"Requests"</th>
                        <th class="num">"Error rate"</th>
                        <th class="num" title="Median duration of the requests the service received (from per-minute histograms: within 12.5 %)">"p50"</th>
                        <th class="num">"p95"</th>
                        <th class="num">"p99"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}

#[component]
fn OverviewRow(row: ServiceOverview, form: SearchForm) -> impl IntoView {
    let navigate = use_navigate();
    let latency = |nanos: Option<u64>| nanos.map_or_else(|| String::from("—"), format_duration);
    let stats = row.stats;
    let has_errors = stats.errors > 0;
    let error_rate = format_percent(stats.error_rate * 100.0);
    let filter_form = SearchForm {
        service: row.service.clone(),
        operation: String::new(),
        ..form
    };
    let href = format!("/?{}", filter_form.to_url_query());
    let title = format!("Search the traces of {}", row.service);
    let range_form = SearchForm {
        service: String::new(),
        operation: String::new(),
        ..filter_form
    };
    let performance_href = format!(
        "/services/{}?{}",
        crate::api::encode_component(&row.service),
        range_form.to_url_query()
    );
    let service_attribute = row.service.clone();
    view! {
        <tr data-service=service_attribute>
            <td>
                <a
                    class="service-link"
                    href=href.clone()
                    title=title
                    on:click=move |event| {
                        event.prevent_default();
                        navigate(&href, Default::default());
                    }
                >
                    {row.service}
                </a>
                " "
                <a class="service-performance-link" href=performance_href title="Rate, errors and latency over time">"over time"</a>
            </td>
            <td class="num">{stats.requests}</td>
            <td class="num errors" class:has-errors=has_errors>{error_rate}</td>
            <td class="num">{latency(stats.p50_nanos)}</td>
            <td class="num">{latency(stats.p95_nanos)}</td>
            <td class="num">{latency(stats.p99_nanos)}</td>
        </tr>
    }
}
