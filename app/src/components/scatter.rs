//! The dashboard's scatter plot: duration over start time, one dot per trace, so the slow ones
//! stand out. Click opens a trace; dragging across the plot narrows the search to that time
//! range (brushing). Where everything goes is `core::scatter`'s; this draws it.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use spanview_core::TraceSummary;
use spanview_core::layout::format_duration;
use spanview_core::scatter::{HEIGHT, PAD, ScatterScale, WIDTH};

use crate::components::time_zone::{TimeZone, TimeZoneSetting};
use crate::format::{count, local_time};
use crate::search::SearchForm;

#[component]
pub fn Scatter(
    traces: Vec<TraceSummary>,
    form: SearchForm,
    log_scale: RwSignal<bool>,
) -> impl IntoView {
    let scale = ScatterScale::new(
        traces
            .iter()
            .map(|summary| (summary.start_nanos, summary.duration_nanos())),
    );
    let time_zone = TimeZoneSetting::get();
    let (tick_step, ticks) = scale.ticks(6);
    let spans_days = scale.spans_days();
    let time_labels = move || {
        let utc = time_zone.0.get() == TimeZone::Utc;
        ticks
            .iter()
            .map(|&tick| {
                let left = scale.label_left_percent(tick);
                view! {
                    <span class="time-label" style=format!("left: {left:.2}%")>
                        {crate::format::axis_time(tick, utc, tick_step, spans_days)}
                    </span>
                }
            })
            .collect_view()
    };
    let navigate = use_navigate();
    // Brushing: the plot's x (in viewBox units) where the drag began and where it is now.
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let brush: RwSignal<Option<(f64, f64)>> = RwSignal::new(None);
    let view_x = move |event: &leptos::ev::PointerEvent| -> Option<f64> {
        let rect = svg_ref.get_untracked()?.get_bounding_client_rect();
        let fraction = (f64::from(event.client_x()) - rect.left()) / rect.width().max(1.0);
        Some((fraction * WIDTH).clamp(0.0, WIDTH))
    };
    let brush_navigate = navigate.clone();
    let on_pointer_up = move |event: leptos::ev::PointerEvent| {
        let Some((anchor, _)) = brush.get_untracked() else {
            return;
        };
        brush.set(None);
        let Some(x) = view_x(&event) else { return };
        let Some((start_nanos, end_nanos)) = scale.brushed_range(anchor, x) else {
            return;
        };
        let narrowed = form.clone().with_custom_range(start_nanos, end_nanos);
        brush_navigate(
            &format!("/?{}", narrowed.to_url_query()),
            Default::default(),
        );
    };
    let brush_rect = move || {
        brush.get().and_then(|(anchor, x)| {
            let width = (x - anchor).abs();
            (width >= 1.0).then(|| {
                view! {
                    <rect class="brush" x=format!("{:.1}", anchor.min(x)) y="0"
                        width=format!("{width:.1}") height=HEIGHT />
                }
            })
        })
    };
    let dots = move || {
        let log = log_scale.get();
        traces
            .iter()
            .map(|summary| {
                let x = scale.x(summary.start_nanos);
                let y = scale.y(summary.duration_nanos(), log);
                let name = summary
                    .root
                    .as_ref()
                    .map(|root| format!("{}: {}", root.service, root.name))
                    .unwrap_or_default();
                let tooltip = format!(
                    "{name}\n{} · {} · {}",
                    format_duration(summary.duration_nanos()),
                    count(summary.n_spans, "span"),
                    local_time(summary.start_nanos)
                );
                let href = format!("/trace/{}", summary.trace_id);
                let navigate = navigate.clone();
                let has_errors = summary.n_errors > 0;
                // A zero-length line with a round cap and a stroke that ignores the plot's scaling:
                // a round dot however the stretched plot is wide (a circle would be an ellipse).
                let (x, y) = (format!("{x:.1}"), format!("{y:.1}"));
                view! {
                    <line
                        class="dot" class:error=has_errors
                        x1=x.clone() y1=y.clone() x2=x y2=y
                        on:click=move |_| navigate(&href, Default::default())
                    >
                        <title>{tooltip}</title>
                    </line>
                }
            })
            .collect_view()
    };
    view! {
        <div class="scatter" aria-label="Trace duration over time" title="Drag across the plot to narrow the time range">
            <span class="axis-label top">{format_duration(scale.slowest_nanos)}</span>
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                preserveAspectRatio="none"
                role="img"
                node_ref=svg_ref
                on:pointerdown=move |event| {
                    if event.button() == 0 {
                        brush.set(view_x(&event).map(|x| (x, x)));
                    }
                }
                on:pointermove=move |event| {
                    if let (Some((anchor, _)), Some(x)) = (brush.get_untracked(), view_x(&event)) {
                        brush.set(Some((anchor, x)));
                    }
                }
                on:pointerup=on_pointer_up
                on:pointerleave=move |_| brush.set(None)
            >
                <line class="axis" x1="0" y1=HEIGHT - PAD x2=WIDTH y2=HEIGHT - PAD />
                {brush_rect}
                {dots}
            </svg>
            <span class="axis-label bottom">{move || {
                let bottom = scale.bottom_nanos(log_scale.get());
                if bottom == 0 { String::from("0") } else { format_duration(bottom) }
            }}</span>
            <div class="time-axis" aria-label="Start time">{time_labels}</div>
        </div>
    }
}
