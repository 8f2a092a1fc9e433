//! The waterfall's span-name column, resized by dragging the edge of its header (issue 24: at
//! 1024 px names were cut to about ten characters). The width is a CSS variable on the trace
//! body, which every row's grid reads, so a drag touches no row; a double click goes back to the
//! default. Each row's title still shows the full name on hover.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Narrowest name column, and the least left for the duration and share columns (208 px) and a
/// sliver of timeline.
const MIN_NAME_PX: f64 = 140.0;
const MIN_REST_PX: f64 = 248.0;
const WIDTH_VARIABLE: &str = "--wf-label-width";

/// Where a drag started: the pointer's x and the column's width then.
#[derive(Clone, Copy)]
struct Drag {
    start_x: f64,
    start_width: f64,
}

fn trace_body(handle: &web_sys::Element) -> Option<web_sys::HtmlElement> {
    handle
        .closest(".trace-body")
        .ok()
        .flatten()?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()
}

#[component]
pub fn ColumnResizeHandle() -> impl IntoView {
    let drag: RwSignal<Option<Drag>> = RwSignal::new(None);
    let on_pointer_down = move |event: leptos::ev::PointerEvent| {
        let Some(handle) = event
            .current_target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let Some(column) = handle.parent_element() else {
            return;
        };
        event.prevent_default();
        event.stop_propagation();
        let _ = handle.set_pointer_capture(event.pointer_id());
        drag.set(Some(Drag {
            start_x: f64::from(event.client_x()),
            start_width: column.get_bounding_client_rect().width(),
        }));
    };
    let on_pointer_move = move |event: leptos::ev::PointerEvent| {
        let Some(Drag {
            start_x,
            start_width,
        }) = drag.get_untracked()
        else {
            return;
        };
        let Some(handle) = event
            .current_target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let Some(body) = trace_body(&handle) else {
            return;
        };
        let row_width = handle
            .closest(".wf-row")
            .ok()
            .flatten()
            .map_or(0.0, |row| row.get_bounding_client_rect().width());
        let widest = (row_width - MIN_REST_PX).max(MIN_NAME_PX);
        let width =
            (start_width + f64::from(event.client_x()) - start_x).clamp(MIN_NAME_PX, widest);
        let _ = body
            .style()
            .set_property(WIDTH_VARIABLE, &format!("{width:.0}px"));
    };
    let on_pointer_up = move |_| drag.set(None);
    let on_double_click = move |event: leptos::ev::MouseEvent| {
        if let Some(body) = event
            .current_target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|handle| trace_body(&handle))
        {
            let _ = body.style().remove_property(WIDTH_VARIABLE);
        }
    };
    view! {
        <span
            class="wf-resize"
            class:dragging=move || drag.get().is_some()
            role="separator"
            aria-orientation="vertical"
            aria-label="Resize the span name column"
            title="Drag to widen or narrow the span names; double-click for the default width"
            on:pointerdown=on_pointer_down
            on:pointermove=on_pointer_move
            on:pointerup=on_pointer_up
            on:pointercancel=move |_| drag.set(None)
            on:dblclick=on_double_click
            on:click=|event| event.stop_propagation()
        ></span>
    }
}
