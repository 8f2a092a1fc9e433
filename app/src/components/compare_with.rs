//! The trace page's "Compare with…": the previous trace of the same root operation (found with
//! the search API), or any trace picked from a search on the dashboard (`?compareWith=`).

use leptos::prelude::*;
use spanview_core::TraceSummary;

use crate::api;
use crate::search::SearchForm;

/// How many earlier traces of the operation to look through for one with the same root (the
/// search's `operation` matches any span of the service, not only the root).
const LOOK_BACK: usize = 20;

#[component]
pub fn CompareWith(
    trace_id: String,
    service: String,
    operation: String,
    start_nanos: u64,
) -> impl IntoView {
    let previous = {
        let (trace_id, service, operation) = (trace_id.clone(), service.clone(), operation.clone());
        LocalResource::new(move || {
            let query = format!(
                "service={}&operation={}&end={}&limit={LOOK_BACK}",
                api::encode_component(&service),
                api::encode_component(&operation),
                start_nanos.saturating_sub(1)
            );
            let (trace_id, service, operation) =
                (trace_id.clone(), service.clone(), operation.clone());
            async move {
                let found = api::search_traces(&query).await.ok()?;
                previous_of_operation(found, &trace_id, &service, &operation)
            }
        })
    };
    let pick_href = {
        let form = SearchForm {
            service,
            operation,
            compare_with: trace_id.clone(),
            limit: String::from("50"),
            ..SearchForm::default()
        };
        format!("/?{}", form.to_url_query())
    };
    let previous_link = move || {
        let trace_id = trace_id.clone();
        previous.get().flatten().map(|summary| {
            let title = format!(
                "The trace of {} before this one, {}",
                summary.root.as_ref().map(|root| root.name.as_str()).unwrap_or(""),
                crate::format::local_time(summary.start_nanos)
            );
            view! {
                <a class="compare-previous" title=title
                    href=format!("/compare/{}/{trace_id}", summary.trace_id)>"the previous trace of this operation"</a>
                " or "
            }
        })
    };
    view! {
        <div class="compare-with">
            <span class="export-label">"Compare with "</span>
            // Its own boundary: reading the pending search under the trace page's `<Suspense>`
            // would hold the whole trace off the page until the search answered.
            <Suspense fallback=|| ()>{previous_link}</Suspense>
            <a class="compare-pick" href=pick_href>"a trace from a search…"</a>
        </div>
    }
}

/// The latest of `found` (newest first or not) whose root is `service`'s `operation`, other than
/// `trace_id`.
fn previous_of_operation(
    found: Vec<TraceSummary>,
    trace_id: &str,
    service: &str,
    operation: &str,
) -> Option<TraceSummary> {
    found
        .into_iter()
        .filter(|summary| summary.trace_id.to_string() != trace_id)
        .filter(|summary| {
            summary
                .root
                .as_ref()
                .is_some_and(|root| root.service == service && root.name == operation)
        })
        .max_by_key(|summary| summary.start_nanos)
}
