//! `/services/{service}`: request rate, error rate and p50/p95/p99 latency over the dashboard's
//! time range, for the service and each of its operations (from the per-minute aggregates), as
//! small SVG line charts with a time axis (round minutes or hours in the dashboard's time zone)
//! and a value axis (round values from zero). A click on a point opens the traces of that step.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use spanview_core::layout::{format_duration, format_percent};
use spanview_core::service_metrics::{SeriesPoint, ServicePerformance};
use spanview_core::time_axis::time_ticks;

use crate::api;
use crate::components::api_error::ApiErrorView;
use crate::components::time_zone::{TimeZone, TimeZoneSetting};
use crate::format::axis_time;
use crate::search::SearchForm;

const CHART_WIDTH: f64 = 340.0;
const CHART_HEIGHT: f64 = 136.0;
/// Room around the plot: the value labels on the left, the time labels below, and half a time
/// label on the right.
const PAD_LEFT: f64 = 52.0;
const PAD_RIGHT: f64 = 18.0;
const PAD_TOP: f64 = 8.0;
const PAD_BOTTOM: f64 = 20.0;

fn now_unix_nanos() -> u64 {
    (js_sys::Date::now() * 1_000_000.0) as u64
}

#[component]
pub fn ServicePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let service = Memo::new(move |_| params.with(|p| p.get("service").unwrap_or_default()));
    let form = Memo::new(move |_| query.with(SearchForm::from_query));
    let performance = LocalResource::new(move || {
        let (service, form) = (service.get(), form.get());
        async move {
            let start = form.range_start(now_unix_nanos());
            api::service_performance(&service, start, form.range_end()).await
        }
    });
    view! {
        <section class="page service-page">
            <h1>{move || service.get()}</h1>
            <p class="notice">
                <a href=move || format!("/services/map?{}", form.get().to_url_query())>"Service map"</a>
                " · request rate, error rate and latency over the dashboard's time range; click a point for its traces."
            </p>
            <Suspense fallback=|| view! { <p class="notice">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match performance.await {
                        Ok(performance) => view! { <PerformanceView performance=performance form=form.get_untracked() /> }.into_any(),
                        Err(error) => view! { <ApiErrorView error=error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PerformanceView(performance: ServicePerformance, form: SearchForm) -> impl IntoView {
    if performance.service_series.is_empty() {
        return view! { <p class="notice">"No requests in this time range."</p> }.into_any();
    }
    let step = performance.step_nanos;
    let service = performance.service.clone();
    let whole = view! {
        <ChartRow title=String::from("All operations") series=performance.service_series service=service.clone() operation=String::new() step=step form=form.clone() />
    };
    let operations = performance
        .operations
        .into_iter()
        .map(|operation| {
            view! {
                <ChartRow title=operation.operation.clone() series=operation.series service=service.clone() operation=operation.operation step=step form=form.clone() />
            }
        })
        .collect_view();
    view! { <div class="charts">{whole}{operations}</div> }.into_any()
}

/// One kind of value drawn from a point.
#[derive(Clone, Copy)]
enum Measure {
    Rate,
    ErrorRate,
    P50,
    P95,
    P99,
}

impl Measure {
    fn value(self, point: &SeriesPoint) -> f64 {
        match self {
            Self::Rate => point.rate_per_second,
            Self::ErrorRate => point.stats.error_rate * 100.0,
            Self::P50 => point.stats.p50_nanos.unwrap_or(0) as f64,
            Self::P95 => point.stats.p95_nanos.unwrap_or(0) as f64,
            Self::P99 => point.stats.p99_nanos.unwrap_or(0) as f64,
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            // Two significant decimals where rates are low (a few requests a minute).
            Self::Rate if value >= 10.0 => format!("{value:.0}/s"),
            Self::Rate => format!("{value:.2}/s"),
            Self::ErrorRate => format_percent(value),
            Self::P50 | Self::P95 | Self::P99 => format_duration(value as u64),
        }
    }

    /// A value axis's label: as many decimals as its step needs (a rate of a few requests a
    /// minute has steps of 0.002/s).
    fn format_tick(self, value: f64, step: f64) -> String {
        let mut decimals = 0;
        let mut scaled_step = step;
        while scaled_step < 0.999 && decimals < 6 {
            scaled_step *= 10.0;
            decimals += 1;
        }
        match self {
            Self::Rate => format!("{value:.decimals$}/s"),
            Self::ErrorRate => format!("{value:.decimals$} %"),
            Self::P50 | Self::P95 | Self::P99 => format_duration(value as u64),
        }
    }

    fn class(self) -> &'static str {
        match self {
            Self::Rate => "rate",
            Self::ErrorRate => "errors",
            Self::P50 => "p50",
            Self::P95 => "p95",
            Self::P99 => "p99",
        }
    }
}

#[component]
fn ChartRow(
    title: String,
    series: Vec<SeriesPoint>,
    service: String,
    operation: String,
    step: u64,
    form: SearchForm,
) -> impl IntoView {
    let first = series.first().map_or(0, |point| point.start_nanos);
    let last = series.last().map_or(0, |point| point.start_nanos);
    // The x axis spans the dashboard's range where known, else the points.
    let start = form
        .range_start(now_unix_nanos())
        .unwrap_or(first)
        .min(first);
    let end = form
        .range_end()
        .unwrap_or(now_unix_nanos())
        .max(last + step);
    let chart = |label: &'static str, measures: &[Measure]| {
        view! {
            <Chart label=label measures=measures.to_vec() series=series.clone() start=start end=end step=step service=service.clone() operation=operation.clone() form=form.clone() />
        }
    };
    view! {
        <div class="chart-row" data-operation=operation.clone()>
            <h2>{title}</h2>
            {chart("Requests per second", &[Measure::Rate])}
            {chart("Error rate", &[Measure::ErrorRate])}
            {chart("Latency p50 / p95 / p99", &[Measure::P50, Measure::P95, Measure::P99])}
        </div>
    }
}

#[component]
#[allow(clippy::too_many_arguments)]
fn Chart(
    label: &'static str,
    measures: Vec<Measure>,
    series: Vec<SeriesPoint>,
    start: u64,
    end: u64,
    step: u64,
    service: String,
    operation: String,
    form: SearchForm,
) -> impl IntoView {
    let navigate = use_navigate();
    let time_zone = TimeZoneSetting::get();
    let max = series
        .iter()
        .flat_map(|point| measures.iter().map(move |m| m.value(point)))
        .fold(0.0, f64::max);
    let values = value_ticks(max, 3);
    let top = values.last().copied().unwrap_or(1.0);
    let span = (end.saturating_sub(start)).max(1) as f64;
    let plot_width = CHART_WIDTH - PAD_LEFT - PAD_RIGHT;
    let bottom = CHART_HEIGHT - PAD_BOTTOM;
    let x_of =
        move |nanos: u64| PAD_LEFT + (nanos.saturating_sub(start)) as f64 / span * plot_width;
    let y_of = move |value: f64| bottom - value / top * (bottom - PAD_TOP);
    let value_axis = values
        .iter()
        .map(|&value| {
            let y = format!("{:.1}", y_of(value));
            let text = if value == 0.0 {
                String::from("0")
            } else {
                measures[0].format_tick(value, values[1])
            };
            view! {
                <line class="grid" x1=PAD_LEFT y1=y.clone() x2=CHART_WIDTH - PAD_RIGHT y2=y.clone() />
                <text class="axis-label value-label" x=PAD_LEFT - 5.0 y=y dy="0.32em" text-anchor="end">{text}</text>
            }
        })
        .collect_view();
    // Round instants in the dashboard's time zone: minutes over an hour, hours over a day.
    let spans_days = end.saturating_sub(start) >= DAY_NANOS;
    let (tick_step, ticks) = time_ticks(start, end, if spans_days { 3 } else { 5 });
    let time_axis = move || {
        let utc = time_zone.0.get() == TimeZone::Utc;
        ticks
            .iter()
            .map(|&tick| {
                let x = format!("{:.1}", x_of(tick));
                view! {
                    <line class="axis" x1=x.clone() y1=bottom x2=x.clone() y2=bottom + 4.0 />
                    <text class="axis-label time-label" x=x y=CHART_HEIGHT - 4.0 text-anchor="middle">
                        {axis_time(tick, utc, tick_step, spans_days)}
                    </text>
                }
            })
            .collect_view()
    };
    let lines = measures
        .iter()
        .map(|&measure| {
            let points: Vec<String> = series
                .iter()
                .map(|point| format!("{:.1},{:.1}", x_of(point.start_nanos + step / 2), y_of(measure.value(point))))
                .collect();
            let dots = series
                .iter()
                .map(|point| {
                    let value = measure.value(point);
                    let search = SearchForm {
                        service: service.clone(),
                        operation: operation.clone(),
                        ..form.clone()
                    }
                    .with_custom_range(point.start_nanos, point.start_nanos + step);
                    let href = format!("/?{}", search.to_url_query());
                    let navigate = navigate.clone();
                    let title = format!("{}: {} ({} requests)", label, measure.format(value), point.stats.requests);
                    view! {
                        <circle class=format!("dot {}", measure.class()) cx=format!("{:.1}", x_of(point.start_nanos + step / 2)) cy=format!("{:.1}", y_of(value)) r="3.5"
                            on:click=move |_| navigate(&href, Default::default())>
                            <title>{title}</title>
                        </circle>
                    }
                })
                .collect_view();
            view! {
                <polyline class=format!("line {}", measure.class()) points=points.join(" ") />
                {dots}
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <figcaption>{label}</figcaption>
            <svg width=CHART_WIDTH height=CHART_HEIGHT>
                {value_axis}
                <line class="axis" x1=PAD_LEFT y1=bottom x2=CHART_WIDTH - PAD_RIGHT y2=bottom />
                {time_axis}
                {lines}
            </svg>
        </figure>
    }
}

const DAY_NANOS: u64 = 86_400_000_000_000;

/// Round values from 0 up to at least `max` (1, 2 or 5 times a power of ten apart), at most
/// `max_steps` steps: the value axis's labels, the last one the top of the plot.
fn value_ticks(max: f64, max_steps: u32) -> Vec<f64> {
    let max = if max > 0.0 && max.is_finite() {
        max
    } else {
        1.0
    };
    let raw_step = max / f64::from(max_steps.max(1));
    // The power of ten at or below the raw step, by loops: `log10` and `powf` would bring
    // their code into the page's wasm.
    let mut magnitude = 1.0;
    while magnitude > raw_step {
        magnitude /= 10.0;
    }
    while magnitude * 10.0 <= raw_step {
        magnitude *= 10.0;
    }
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|factor| factor * magnitude)
        .find(|candidate| *candidate >= raw_step)
        .unwrap_or(10.0 * magnitude);
    // A hair under a whole number of steps (floating point) is that number.
    let n_steps = (max / step - 1e-9).ceil().max(1.0) as u32;
    (0..=n_steps).map(|i| f64::from(i) * step).collect()
}
