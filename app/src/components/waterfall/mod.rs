//! The waterfall: toolbar, legend, time axis, one row per visible span, and the detail panel of
//! the selected span. State lives in [`state::WaterfallState`], provided by the trace page.

mod detail;
mod row;
pub mod state;
mod ticks;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use detail::SpanDetail;
use row::WaterfallRowView;
use state::WaterfallState;
use ticks::TimeAxis;

/// How many service colours the stylesheet defines (`.svc-0` …).
pub const N_SERVICE_COLOURS: u32 = 10;

/// Choices for "only spans above X % of the total".
const SHARE_FILTERS: [f64; 6] = [0.0, 1.0, 5.0, 10.0, 25.0, 50.0];

#[component]
pub fn WaterfallView() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    install_keyboard(state.clone());
    follow_selection(state.clone());
    let legend = state
        .waterfall
        .services
        .iter()
        .enumerate()
        .map(|(idx, service)| {
            let class = format!("legend-item svc-{}", idx as u32 % N_SERVICE_COLOURS);
            view! { <li class=class><span class="swatch"></span>{service.clone()}</li> }
        })
        .collect_view();
    let visible_rows = state.visible_rows;
    let detail_state = state.clone();
    view! {
        <Toolbar />
        <ul class="legend" aria-label="Services">{legend}</ul>
        <div class="trace-body">
            <div class="waterfall" role="table" aria-label="Spans">
                <div class="wf-row wf-head" role="row">
                    <div class="wf-label" role="columnheader">"Span"</div>
                    <div class="wf-duration" role="columnheader">"Duration"</div>
                    <div class="wf-share" role="columnheader">"% of total"</div>
                    <div class="wf-timeline" role="columnheader"><TimeAxis window=state.waterfall.window /></div>
                </div>
                <For each=move || visible_rows.get() key=|row_idx| *row_idx let:row_idx>
                    <WaterfallRowView row_idx=row_idx />
                </For>
            </div>
            {move || detail_state.selected.get().map(|row_idx| view! { <SpanDetail row_idx=row_idx /> })}
        </div>
        <ShortcutHelp />
    }
}

#[component]
fn Toolbar() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let max_depth = state
        .waterfall
        .rows
        .iter()
        .map(|row| row.depth)
        .max()
        .unwrap_or(0);
    let (collapse_state, expand_state, depth_state, share_state) =
        (state.clone(), state.clone(), state.clone(), state.clone());
    let min_percent = state.min_percent;
    view! {
        <div class="wf-toolbar" role="toolbar" aria-label="Waterfall controls">
            <button on:click=move |_| collapse_state.collapse_all()>"Collapse all"</button>
            <button on:click=move |_| expand_state.expand_all()>"Expand all"</button>
            <label>
                "Expand to depth "
                <select on:change=move |event| {
                    if let Ok(depth) = event_target_value(&event).parse::<u32>() {
                        depth_state.expand_to_depth(depth);
                    }
                }>
                    <option value="" selected>"—"</option>
                    {(1..=max_depth.max(1)).map(|depth| view! { <option value=depth.to_string()>{depth}</option> }).collect_view()}
                </select>
            </label>
            <label>
                "Only spans above "
                <select
                    aria-label="Only spans above this share of the total"
                    on:change=move |event| {
                        if let Ok(percent) = event_target_value(&event).parse::<f64>() {
                            share_state.min_percent.set(percent);
                        }
                    }
                    prop:value=move || min_percent.get().to_string()
                >
                    {SHARE_FILTERS.map(|percent| view! { <option value=percent.to_string()>{format!("{percent} %")}</option> }).collect_view()}
                </select>
                " of total"
            </label>
            <span class="hint">"Press ? for keyboard shortcuts"</span>
        </div>
    }
}

#[component]
fn ShortcutHelp() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let show_help = state.show_help;
    move || {
        show_help.get().then(|| {
            view! {
                <div class="shortcut-help" role="dialog" aria-label="Keyboard shortcuts">
                    <h2>"Keyboard shortcuts"</h2>
                    <dl>
                        <dt>"↑ ↓"</dt><dd>"select the previous / next span"</dd>
                        <dt>"←"</dt><dd>"collapse, or go to the parent"</dd>
                        <dt>"→"</dt><dd>"expand, or go to the first child"</dd>
                        <dt>"Esc"</dt><dd>"close details and this help"</dd>
                        <dt>"?"</dt><dd>"show or hide this help"</dd>
                    </dl>
                    <button on:click=move |_| show_help.set(false)>"Close"</button>
                </div>
            }
        })
    }
}

/// Arrow keys move through the tree; typing in a form field is left alone.
fn install_keyboard(state: WaterfallState) {
    let handle = window_event_listener(leptos::ev::keydown, move |event| {
        let typing = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|element| {
                matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            });
        if typing || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let handled = match event.key().as_str() {
            "ArrowDown" | "j" => {
                state.move_selection(1);
                true
            }
            "ArrowUp" | "k" => {
                state.move_selection(-1);
                true
            }
            "ArrowLeft" | "h" => {
                state.collapse_or_go_to_parent();
                true
            }
            "ArrowRight" | "l" => {
                state.expand_or_go_to_child();
                true
            }
            "?" => {
                state.show_help.update(|shown| *shown = !*shown);
                true
            }
            "Escape" => {
                state.show_help.set(false);
                state.selected.set(None);
                true
            }
            _ => false,
        };
        if handled {
            event.prevent_default();
        }
    });
    on_cleanup(move || handle.remove());
}

/// Keeps the selected row in view and in the URL (`?span=`), so the view can be shared.
fn follow_selection(state: WaterfallState) {
    Effect::new(move |_| {
        let selected = state.selected.get();
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let path = location.pathname().unwrap_or_default();
        let url = match selected {
            Some(row_idx) => {
                let span_idx = state.waterfall.rows[row_idx as usize].span_idx as usize;
                format!("{path}?span={}", state.trace.batch.spans[span_idx].span_id)
            }
            None => path,
        };
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
        if let Some(row_idx) = selected
            && let Some(element) = window
                .document()
                .and_then(|document| document.get_element_by_id(&format!("row-{row_idx}")))
        {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Nearest);
            element.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });
}
