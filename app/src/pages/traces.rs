//! `/`: find the trace that matters. A search form whose state lives in the URL, a
//! duration-over-time scatter plot, and a sortable list of matching traces.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use spanview_core::TraceSummary;
use spanview_core::layout::format_duration;

use crate::api;
use crate::components::api_error::ApiErrorView;
use crate::components::live::{self, LiveToggle};
use crate::components::scatter::Scatter;
use crate::components::services_overview::ServicesOverviewView;
use crate::components::time_zone::TimeZoneSetting;
use crate::format::{count, time_ago};
use crate::pages::group_compare::group_compare_href;
use crate::search::{CUSTOM_RANGE, KINDS, LIMITS, RANGES, STATUSES, SearchForm};

#[component]
pub fn TracesPage() -> impl IntoView {
    let query = use_query_map();
    let form = Memo::new(move |_| query.with(SearchForm::from_query));
    let (refresh, paused) = live::subscribe();
    // The list's sort and ticks outlive each result (a live refresh re-renders the list), so
    // steady traffic does not undo them.
    let sort = RwSignal::new((SortKey::Start, true));
    let picked: RwSignal<Vec<(u64, String)>> = RwSignal::new(Vec::new());
    let log_scale = RwSignal::new(false);
    let traces = LocalResource::new(move || {
        refresh.track();
        let api_query = form.get().to_api_query(now_unix_nanos());
        async move { api::search_traces(&api_query).await }
    });
    let overview = LocalResource::new(move || {
        refresh.track();
        let (start, end) = form.with(|form| (form.range_start(now_unix_nanos()), form.range_end()));
        async move { api::services_overview(start, end).await }
    });
    view! {
        <section class="page traces-page">
            <div class="page-title">
                <h1>"Traces"</h1>
                <LiveToggle paused=paused />
                <TraceIdBox />
            </div>
            {move || view! { <SearchFormView initial=form.get() /> }}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    // Errors show once, with the search results below.
                    match overview.await {
                        Ok(services) if !services.is_empty() => {
                            view! { <ServicesOverviewView services=services form=form.get_untracked() /> }.into_any()
                        }
                        _ => ().into_any(),
                    }
                })}
            </Transition>
            <Transition fallback=|| view! { <p class="notice">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match traces.await {
                        Ok(list) if list.is_empty() && form.get_untracked() == SearchForm::from_query(&Default::default()) => {
                            view! { <EmptyState /> }.into_any()
                        }
                        Ok(list) if list.is_empty() => {
                            view! { <p class="notice">"No trace matches this search."</p> }.into_any()
                        }
                        Ok(mut list) => {
                            // The API was asked for one more than the limit: is there more?
                            let limit = form.with_untracked(SearchForm::limit);
                            let more_match = list.len() > limit;
                            list.truncate(limit);
                            view! { <Results traces=list more_match=more_match form=form.get_untracked() sort=sort picked=picked log_scale=log_scale /> }.into_any()
                        }
                        Err(error) => view! { <ApiErrorView error=error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn now_unix_nanos() -> u64 {
    (js_sys::Date::now() * 1_000_000.0) as u64
}

#[component]
fn SearchFormView(initial: SearchForm) -> impl IntoView {
    let navigate = use_navigate();
    let service = RwSignal::new(initial.service.clone());
    let operation = RwSignal::new(initial.operation.clone());
    let attributes = RwSignal::new(initial.attributes.clone());
    let kind = RwSignal::new(initial.kind.clone());
    let status = RwSignal::new(initial.status.clone());
    let min_duration = RwSignal::new(initial.min_duration.clone());
    let max_duration = RwSignal::new(initial.max_duration.clone());
    let range = RwSignal::new(initial.range.clone());
    let start = RwSignal::new(initial.start.clone());
    let end = RwSignal::new(initial.end.clone());
    let errors_only = RwSignal::new(initial.errors_only);
    let limit_choices = limit_choices(&initial.limit);
    let compare_with = initial.compare_with.clone();
    let limit = RwSignal::new(initial.limit);
    let services = LocalResource::new(api::services);
    let operations = LocalResource::new(move || {
        let service = service.get();
        async move {
            if service.is_empty() {
                Ok(Vec::new())
            } else {
                api::operations(&service).await
            }
        }
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let form = SearchForm {
            service: service.get_untracked(),
            operation: operation.get_untracked(),
            attributes: attributes.get_untracked(),
            kind: kind.get_untracked(),
            status: status.get_untracked(),
            min_duration: min_duration.get_untracked(),
            max_duration: max_duration.get_untracked(),
            range: range.get_untracked(),
            start: start.get_untracked(),
            end: end.get_untracked(),
            errors_only: errors_only.get_untracked(),
            limit: limit.get_untracked(),
            // Picking a trace to compare with goes on through new searches.
            compare_with: compare_with.clone(),
        };
        navigate(&format!("/?{}", form.to_url_query()), Default::default());
    };
    let service_options = move || {
        option_views(
            services.get().and_then(Result::ok).unwrap_or_default(),
            service.get_untracked(),
        )
    };
    let operation_options = move || {
        option_views(
            operations.get().and_then(Result::ok).unwrap_or_default(),
            operation.get_untracked(),
        )
    };
    view! {
        <form class="search-form" on:submit=submit aria-label="Search traces">
            <label>"Service"
                <select name="service" prop:value=move || service.get()
                    on:change=move |event| { service.set(event_target_value(&event)); operation.set(String::new()); }>
                    <option value="">"All services"</option>
                    {service_options}
                </select>
            </label>
            <label>"Operation"
                <select name="operation" prop:value=move || operation.get()
                    on:change=move |event| operation.set(event_target_value(&event))>
                    <option value="">"All operations"</option>
                    {operation_options}
                </select>
            </label>
            <label>"Kind"
                <select name="kind" prop:value=move || kind.get() on:change=move |event| kind.set(event_target_value(&event))>
                    {KINDS.map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                </select>
            </label>
            <label>"Status"
                <select name="status" prop:value=move || status.get() on:change=move |event| status.set(event_target_value(&event))>
                    {STATUSES.map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                </select>
            </label>
            <label>"Attributes"
                <input name="attr" type="text" placeholder=r#"http.status_code=500 db.statement="SELECT …""#
                    aria-describedby="attr-help" spellcheck="false"
                    prop:value=move || attributes.get() on:input=move |event| attributes.set(event_target_value(&event)) />
            </label>
            <label>"Min duration"
                <input name="minDuration" type="text" size="7" placeholder="2s"
                    prop:value=move || min_duration.get() on:input=move |event| min_duration.set(event_target_value(&event)) />
            </label>
            <label>"Max duration"
                <input name="maxDuration" type="text" size="7" placeholder="10s"
                    prop:value=move || max_duration.get() on:input=move |event| max_duration.set(event_target_value(&event)) />
            </label>
            <label>"Time"
                <select name="range" prop:value=move || range.get() on:change=move |event| range.set(event_target_value(&event))>
                    {RANGES.map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                </select>
            </label>
            <Show when=move || range.get() == CUSTOM_RANGE>
                <label>"From"
                    <input name="start" type="datetime-local" step="1"
                        prop:value=move || to_local_input(&start.get())
                        on:change=move |event| start.set(from_local_input(&event_target_value(&event))) />
                </label>
                <label>"To"
                    <input name="end" type="datetime-local" step="1"
                        prop:value=move || to_local_input(&end.get())
                        on:change=move |event| end.set(from_local_input(&event_target_value(&event))) />
                </label>
            </Show>
            <label>"Limit"
                <select name="limit" prop:value=move || limit.get() on:change=move |event| limit.set(event_target_value(&event))>
                    {limit_choices.into_iter().map(|value| { let label = value.clone(); view! { <option value=value>{label}</option> } }).collect_view()}
                </select>
            </label>
            <label class="inline">
                <input name="errors" type="checkbox" prop:checked=move || errors_only.get()
                    on:change=move |event| errors_only.set(event_target_checked(&event)) />
                "Errors only"
            </label>
            <button type="submit">"Search"</button>
            // The syntax of core::attribute_filter, in a line under the fields.
            <p class="field-help" id="attr-help">
                "Attributes: "<code>"key=value"</code>" "<code>r#"key="with spaces""#</code>" "
                <code>"key!=value"</code>" "<code>"key exists"</code>
                " (span, resource and event attributes; every term must match), e.g. "
                <code>r#"exception.message="connection refused" http.status_code!=200"#</code>
            </p>
        </form>
    }
}

/// The first 8 hex digits of a trace id, for a label.
fn short_id(trace_id: &str) -> String {
    trace_id.chars().take(8).collect()
}

/// The limit's choices, with the URL's limit among them when it is another (after "Load more").
fn limit_choices(current: &str) -> Vec<String> {
    let mut choices: Vec<String> = LIMITS.iter().map(|limit| limit.to_string()).collect();
    if let Ok(current) = current.trim().parse::<usize>()
        && !choices.contains(&current.to_string())
    {
        choices.push(current.to_string());
        spanview_core::sort::by_u64_key(&mut choices, |limit| limit.parse::<u64>().unwrap_or(0));
    }
    choices
}

/// A box to paste a trace id into (32 hex digits, or 16 for a 64-bit id) and open that trace.
#[component]
fn TraceIdBox() -> impl IntoView {
    let navigate = use_navigate();
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let typed = text.get_untracked();
        match typed.trim().parse::<spanview_core::TraceId>() {
            Ok(trace_id) => {
                problem.set(None);
                navigate(&format!("/trace/{trace_id}"), Default::default());
            }
            Err(_) => problem.set(Some(String::from(
                "a trace id is 32 hex digits, or 16 for a 64-bit id",
            ))),
        }
    };
    view! {
        <form class="trace-id-box" on:submit=submit aria-label="Open a trace by id">
            <input type="text" name="traceId" placeholder="Trace id" spellcheck="false" autocomplete="off"
                aria-label="Trace id (16 or 32 hex digits)"
                aria-invalid=move || problem.with(Option::is_some).to_string()
                prop:value=move || text.get() on:input=move |event| text.set(event_target_value(&event)) />
            <button type="submit">"Go"</button>
            {move || problem.get().map(|problem| view! { <span class="error" role="alert">{problem}</span> })}
        </form>
    }
}

/// Unix ns (as text) to a `datetime-local` value in local time, `2026-11-24T15:53:07`.
fn to_local_input(unix_nanos: &str) -> String {
    let Ok(nanos) = unix_nanos.trim().parse::<u64>() else {
        return String::new();
    };
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64((nanos / 1_000_000) as f64));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

/// A `datetime-local` value (local time) to Unix ns as text; empty when it does not parse.
fn from_local_input(value: &str) -> String {
    let millis = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value)).get_time();
    if millis.is_finite() && millis >= 0.0 {
        ((millis as u64) * 1_000_000).to_string()
    } else {
        String::new()
    }
}

/// `<option>`s for `names`, keeping `chosen` (from the URL) even before the list has loaded it.
fn option_views(mut names: Vec<String>, chosen: String) -> impl IntoView {
    if !chosen.is_empty() && !names.contains(&chosen) {
        names.insert(0, chosen.clone());
    }
    names
        .into_iter()
        .map(|name| {
            let label = name.clone();
            // Options arrive after the select's value was set: mark the chosen one.
            let is_chosen = name == chosen;
            view! { <option value=name selected=is_chosen>{label}</option> }
        })
        .collect_view()
}

/// The traces kept as the "before" side of a group comparison while the user searches for the
/// "after" side (say, before and after a deploy). Lives as long as the page.
#[derive(Clone, Copy)]
pub struct BeforeGroup(RwSignal<Vec<String>>);

impl BeforeGroup {
    pub fn provide() {
        provide_context(Self(RwSignal::new(Vec::new())));
    }

    fn get() -> Self {
        expect_context()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Start,
    Duration,
    Spans,
    Errors,
}

#[component]
fn Results(
    traces: Vec<TraceSummary>,
    /// More traces match than the limit lists.
    more_match: bool,
    form: SearchForm,
    sort: RwSignal<(SortKey, bool)>,
    /// Traces picked for comparison, as (start, id): of two, the older one is "before".
    picked: RwSignal<Vec<(u64, String)>>,
    /// The scatter plot's durations on a log scale.
    log_scale: RwSignal<bool>,
) -> impl IntoView {
    let before_group = BeforeGroup::get();
    let traces = StoredValue::new(traces);
    let navigate = use_navigate();
    let load_more_navigate = navigate.clone();
    let open_comparison = {
        let navigate = navigate.clone();
        move |_| {
            let mut chosen = picked.get_untracked();
            chosen.sort();
            if let [before, after] = chosen.as_slice() {
                navigate(
                    &format!("/compare/{}/{}", before.1, after.1),
                    Default::default(),
                );
            }
        }
    };
    let picked_ids = move || -> Vec<String> {
        picked.with_untracked(|picked| picked.iter().map(|(_, id)| id.clone()).collect())
    };
    let keep_as_before_group = move |_| {
        before_group.0.set(picked_ids());
        picked.set(Vec::new());
    };
    let open_group_comparison = move |_| {
        let before = before_group.0.get_untracked();
        navigate(
            &group_compare_href(&before, &picked_ids()),
            Default::default(),
        );
    };
    // Every listed trace picked (picks from an earlier search stay and do not count).
    let all_picked = move || {
        picked.with(|picked| {
            traces.with_value(|list| {
                !list.is_empty()
                    && list.iter().all(|summary| {
                        let id = summary.trace_id.to_string();
                        picked.iter().any(|(_, picked_id)| *picked_id == id)
                    })
            })
        })
    };
    let toggle_all = move |event: leptos::ev::Event| {
        let checked = event_target_checked(&event);
        picked.update(|picked| {
            traces.with_value(|list| {
                for summary in list {
                    let id = summary.trace_id.to_string();
                    picked.retain(|(_, picked_id)| *picked_id != id);
                    if checked {
                        picked.push((summary.start_nanos, id));
                    }
                }
            })
        });
    };
    let n_before = move || before_group.0.with(Vec::len);
    let n_picked = move || picked.with(Vec::len);
    let has_before_group = move || n_before() != 0;
    let sorted = move || {
        let (key, descending) = sort.get();
        let mut list = traces.get_value();
        spanview_core::sort::by_u64_key(&mut list, |summary| match key {
            SortKey::Start => summary.start_nanos,
            SortKey::Duration => summary.duration_nanos(),
            SortKey::Spans => summary.n_spans,
            SortKey::Errors => summary.n_errors,
        });
        if descending {
            list.reverse();
        }
        list
    };
    let header = move |label: &'static str, key: SortKey, numeric: bool| {
        let aria_sort = move || match sort.get() {
            (current, true) if current == key => "descending",
            (current, false) if current == key => "ascending",
            _ => "none",
        };
        view! {
            <th class:num=numeric aria-sort=aria_sort>
                <button class="sort" on:click=move |_| sort.update(|(current, descending)| {
                    if *current == key { *descending = !*descending } else { *current = key; *descending = true }
                })>{label}</button>
            </th>
        }
    };
    let compare_with = form.compare_with.clone();
    let n_listed = traces.with_value(Vec::len);
    let count_text = if more_match {
        format!("{}; more match", count(n_listed as u64, "trace"))
    } else {
        count(n_listed as u64, "trace")
    };
    // "Load more" doubles the limit (the API lists at most 1000).
    let load_more = more_match
        .then(|| {
            let mut wider = form.clone();
            let limit = (form.limit() * 2).min(spanview_core::query::MAX_LIMIT);
            (limit > form.limit()).then(|| {
                wider.limit = limit.to_string();
                format!("/?{}", wider.to_url_query())
            })
        })
        .flatten();
    view! {
        <div class="result-bar">
            <p class="result-count">{count_text}</p>
            {load_more.map(|href| view! {
                <button class="compare-button load-more" on:click=move |_| load_more_navigate(&href, Default::default())>
                    "Load more"
                </button>
            })}
            <button class="compare-button compare-pair" disabled=move || n_picked() != 2 on:click=open_comparison>
                {move || match n_picked() {
                    2 => String::from("Compare the 2 selected traces"),
                    n => format!("Select 2 traces to compare ({n} selected)"),
                }}
            </button>
            <button class="compare-button log-scale" aria-pressed=move || log_scale.get().to_string()
                title="The plot's durations on a logarithmic scale, so that one slow outlier does not flatten the rest"
                on:click=move |_| log_scale.update(|log| *log = !*log)>
                "Log scale"
            </button>
            <div class="group-pick" role="group" aria-label="Group comparison">
                <Show
                    when=has_before_group
                    fallback=move || view! {
                        <button class="compare-button keep-before" disabled=move || n_picked() == 0 on:click=keep_as_before_group
                            title="Keep the selected traces as the before group, then search and select the after group">
                            {move || format!("Use the {} selected as the before group", n_picked())}
                        </button>
                    }
                >
                    <span class="before-group">{move || format!("Before group: {}", count(n_before() as u64, "trace"))}</span>
                    <button class="compare-button compare-groups" disabled=move || n_picked() == 0 on:click=open_group_comparison.clone()>
                        {move || format!("Compare with the {} selected", n_picked())}
                    </button>
                    <button class="compare-button clear-before" on:click=move |_| before_group.0.set(Vec::new())>"Clear"</button>
                </Show>
            </div>
        </div>
        {(!form.compare_with.is_empty()).then(|| view! {
            <p class="compare-with-banner" role="status">
                "Pick the trace to compare with "
                <a href=format!("/trace/{}", form.compare_with)><code>{short_id(&form.compare_with)}</code></a>
                ": its row's " <strong>"Compare"</strong> " link opens the comparison."
            </p>
        })}
        <Scatter traces=traces.get_value() form=form log_scale=log_scale />
        <table class="trace-table">
            <thead>
                <tr>
                    <th class="pick">
                        <input type="checkbox" aria-label="Select all traces" prop:checked=all_picked on:change=toggle_all />
                    </th>
                    <th>"Trace"</th>
                    {header("Duration", SortKey::Duration, false)}
                    {header("Spans", SortKey::Spans, true)}
                    {header("Errors", SortKey::Errors, true)}
                    <th>"Services"</th>
                    {header("Started", SortKey::Start, false)}
                </tr>
            </thead>
            <tbody>
                {move || {
                    let list = sorted();
                    let slowest = list.iter().map(TraceSummary::duration_nanos).max().unwrap_or(0).max(1);
                    list.into_iter().map(|summary| view! { <TraceRow summary=summary slowest=slowest picked=picked compare_with=compare_with.clone() /> }).collect_view()
                }}
            </tbody>
        </table>
    }
}

#[component]
fn TraceRow(
    summary: TraceSummary,
    slowest: u64,
    picked: RwSignal<Vec<(u64, String)>>,
    /// The trace the user is picking one to compare with (empty when not picking).
    compare_with: String,
) -> impl IntoView {
    let trace_id = summary.trace_id.to_string();
    // Picked from a search: this one is "before", the trace the user came from "after".
    let compare_link = (!compare_with.is_empty() && compare_with != trace_id).then(|| {
        view! { <a class="compare-link" href=format!("/compare/{trace_id}/{compare_with}")>"Compare"</a> }
    });
    let start = summary.start_nanos;
    let id_for_check = trace_id.clone();
    let is_picked = move || picked.with(|picked| picked.iter().any(|(_, id)| *id == id_for_check));
    let toggle_pick = move |event: leptos::ev::Event| {
        let checked = event_target_checked(&event);
        let id = trace_id.clone();
        picked.update(|picked| {
            picked.retain(|(_, picked_id)| *picked_id != id);
            if checked {
                picked.push((start, id));
            }
        });
    };
    let href = format!("/trace/{}", summary.trace_id);
    let time_zone = TimeZoneSetting::get();
    let (service, name) = match &summary.root {
        Some(root) => (root.service.clone(), root.name.clone()),
        None => (String::new(), String::from("(no spans)")),
    };
    let duration = summary.duration_nanos();
    let bar_width = format!("width: {:.2}%", duration as f64 * 100.0 / slowest as f64);
    let has_errors = summary.n_errors > 0;
    view! {
        <tr class="trace-row" data-trace-id=summary.trace_id.to_string()>
            <td class="pick">
                <input type="checkbox" aria-label="Select for comparison" prop:checked=is_picked on:change=toggle_pick />
            </td>
            <td class="trace-name">
                <a href=href>
                    <span class="service">{service}</span>
                    " "
                    <span class="name">{name}</span>
                </a>
                {compare_link}
            </td>
            <td class="duration">
                <span class="duration-text">{format_duration(duration)}</span>
                <span class="duration-bar"><span style=bar_width></span></span>
            </td>
            <td class="num">{summary.n_spans}</td>
            <td class="num errors" class:has-errors=has_errors>{summary.n_errors}</td>
            <td class="services">
                {summary.services.into_iter().map(|service| view! { <span class="chip">{service}</span> }).collect_view()}
            </td>
            <td class="started">
                <span class="ago">{time_ago(summary.start_nanos)}</span>
                <span class="at">{move || time_zone.format_seconds(start)}</span>
            </td>
        </tr>
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
            <p>"Or open trace files (Jaeger, Zipkin, OTLP) with the " <strong>"Open files"</strong>
               " button or by dropping them on the page, or store them with " <code>"spanview import FILE"</code> "."</p>
            <LoadDemoButton />
        </div>
    }
}

/// Runs the instrumented demo services on the server; their traces then arrive live.
#[component]
fn LoadDemoButton() -> impl IntoView {
    // None: not asked yet; Some(Ok): running; Some(Err): the server said why not.
    let outcome = RwSignal::new(None::<Result<(), api::ApiError>>);
    let start = move |_| {
        outcome.set(Some(Ok(())));
        leptos::task::spawn_local(async move {
            if let Err(error) = api::start_demo().await {
                outcome.set(Some(Err(error)));
            }
        });
    };
    view! {
        <div class="load-demo">
            <button on:click=start disabled=move || matches!(outcome.get(), Some(Ok(())))>
                "Load the demo"
            </button>
            {move || match outcome.get() {
                None => view! {
                    <span class="hint">"runs six instrumented services that send the scenario's traces here (about 20 s)"</span>
                }.into_any(),
                Some(Ok(())) => view! {
                    <span class="hint" role="status">"The demo services are running: traces appear here as they finish…"</span>
                }.into_any(),
                Some(Err(error)) => view! { <span class="error" role="alert">{error.to_string()}</span> }.into_any(),
            }}
        </div>
    }
}
