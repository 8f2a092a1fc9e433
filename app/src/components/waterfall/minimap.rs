//! The minimap: every span of the trace as a thin bar on one small canvas (a 100,000-span trace
//! draws in one pass, no DOM per span), with the zoomed part outlined. Dragging across it zooms the
//! timeline to that time range; "Reset zoom" shows the whole trace again.

use leptos::prelude::*;
use spanview_core::minimap::{EMPTY, rasterize};
use wasm_bindgen::JsCast;

use super::N_SERVICE_COLOURS;
use super::state::WaterfallState;

/// The stylesheet's service colours (`--svc-0` …, readable in both themes) as RGB.
const SERVICE_COLOURS: [[u8; 3]; N_SERVICE_COLOURS as usize] = [
    [0x3b, 0x82, 0xf6],
    [0xf5, 0x9e, 0x0b],
    [0x10, 0xb9, 0x81],
    [0xef, 0x44, 0x44],
    [0x8b, 0x5c, 0xf6],
    [0xec, 0x48, 0x99],
    [0x14, 0xb8, 0xa6],
    [0xf9, 0x73, 0x16],
    [0x63, 0x66, 0xf1],
    [0x84, 0xcc, 0x16],
];
/// Canvas height in CSS pixels (the stylesheet agrees).
const HEIGHT_PX: f64 = 44.0;
/// A drag shorter than this share of the width is a click, not a range.
const MIN_DRAG_PERCENT: f64 = 0.5;

#[component]
pub fn Minimap() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let zoom = state.zoom;
    let draw_state = state.clone();
    let draw = move || {
        if let Some(canvas) = canvas.get_untracked() {
            let started = crate::after_paint::now_ms();
            paint(&canvas, &draw_state);
            crate::after_paint::note_if_slow("minimap", started);
            crate::perf::mark("spanview:minimap-painted");
        }
    };
    // The first drawing waits until the rows have been painted: the canvas's width is then
    // known without forcing a layout, and the rows are on screen sooner.
    crate::after_paint::when_idle_after_paint(draw.clone());
    let resize = window_event_listener(leptos::ev::resize, move |_| draw());
    on_cleanup(move || resize.remove());

    // The drag in progress, as (start, current) in percent of the width.
    let drag: RwSignal<Option<(f64, f64)>> = RwSignal::new(None);
    let percent_at = move |event: &leptos::ev::PointerEvent| -> Option<f64> {
        let rect = canvas.get_untracked()?.get_bounding_client_rect();
        let fraction = (f64::from(event.client_x()) - rect.left()) / rect.width().max(1.0);
        Some((fraction * 100.0).clamp(0.0, 100.0))
    };
    let finish = move |event: leptos::ev::PointerEvent| {
        let Some((start, _)) = drag.get_untracked() else {
            return;
        };
        drag.set(None);
        if let Some(end) = percent_at(&event)
            && (end - start).abs() >= MIN_DRAG_PERCENT
        {
            zoom.set(Some((start.min(end), start.max(end))));
        }
    };
    let window_style = move || {
        let (from, to) = drag
            .get()
            .map(|(start, end)| (start.min(end), start.max(end)))
            .or_else(|| zoom.get())?;
        Some(format!("left: {from:.3}%; width: {:.3}%", to - from))
    };
    let zoom_label = move || {
        zoom.get().map(|(from, to)| {
            let full = state.waterfall.window;
            let view = full.slice(from, to);
            format!(
                "Showing {} to {} of {}",
                spanview_core::layout::format_duration(view.start_nanos - full.start_nanos),
                spanview_core::layout::format_duration(view.end_nanos - full.start_nanos),
                spanview_core::layout::format_duration(full.duration_nanos())
            )
        })
    };
    view! {
        <div class="minimap-bar">
            <div
                class="minimap"
                title="Drag across the trace to zoom the timeline"
                on:pointerdown=move |event| {
                    if event.button() == 0 {
                        drag.set(percent_at(&event).map(|at| (at, at)));
                    }
                }
                on:pointermove=move |event| {
                    if let (Some((start, _)), Some(at)) = (drag.get_untracked(), percent_at(&event)) {
                        drag.set(Some((start, at)));
                    }
                }
                on:pointerup=finish
                on:pointerleave=move |_| drag.set(None)
            >
                <canvas node_ref=canvas aria-label="Minimap of the whole trace"></canvas>
                {move || window_style().map(|style| view! { <div class="minimap-window" style=style></div> })}
            </div>
            {move || zoom_label().map(|label| view! {
                <span class="zoom-label">{label}</span>
                <button class="reset-zoom" on:click=move |_| zoom.set(None)>"Reset zoom"</button>
            })}
        </div>
    }
}

/// Draws one thin bar per span, rows top to bottom, at the canvas's device resolution: the
/// pixels are computed in core and put on the canvas as one image.
fn paint(canvas: &web_sys::HtmlCanvasElement, state: &WaterfallState) {
    let ratio = web_sys::window().map_or(1.0, |window| window.device_pixel_ratio());
    let width = (f64::from(canvas.client_width().max(1)) * ratio)
        .round()
        .max(1.0) as u32;
    let height = (HEIGHT_PX * ratio).round().max(1.0) as u32;
    canvas.set_width(width);
    canvas.set_height(height);
    let Some(context) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|context| context.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let bars: Vec<(spanview_core::layout::Bar, u8)> = state
        .waterfall
        .rows
        .iter()
        .map(|row| {
            let colour = (row.service_idx % N_SERVICE_COLOURS) as u8;
            (state.waterfall.bar(row), colour)
        })
        .collect();
    let pixels = rasterize(&bars, width as usize, height as usize);
    let mut rgba = vec![0u8; pixels.len() * 4];
    for (pixel, out) in pixels.iter().zip(rgba.chunks_exact_mut(4)) {
        if *pixel != EMPTY {
            let [r, g, b] = SERVICE_COLOURS[usize::from(*pixel - 1)];
            out.copy_from_slice(&[r, g, b, 255]);
        }
    }
    if let Ok(image) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(&rgba),
        width,
        height,
    ) {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}
