//! The flame graph tab: the trace as an icicle on one canvas (boxes laid out in
//! `core::flame_graph`, concurrent siblings in lanes of their own, so a 100,000-span trace draws
//! a few thousand rectangles, no DOM per span). Click a box to zoom into its subtree, the breadcrumb to zoom back out; hover for the
//! span's name, duration and share. The selection and the search are the waterfall's
//! ([`WaterfallState`]), so both tabs show the same span.

use leptos::prelude::*;
use spanview_core::flame_graph::{self, FlameBox};
use spanview_core::layout::{format_duration, format_percent, percent_of};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::components::waterfall::N_SERVICE_COLOURS;
use crate::components::waterfall::state::WaterfallState;

/// Height of one level in CSS pixels.
const LEVEL_PX: f64 = 20.0;
/// Levels drawn below the focus: a canvas is limited to about 32,000 pixels, and a deeper
/// chain is read by zooming in.
const MAX_LEVELS: u32 = 400;
/// Boxes narrower than this get no label.
const MIN_LABEL_PX: f64 = 28.0;
/// Approximate width of a label's character (12 px system-ui), to cut labels without measuring.
const CHAR_PX: f64 = 6.6;

#[component]
pub fn FlameGraphView() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    // The row zoomed into (`None`: the whole trace).
    let focus: RwSignal<Option<u32>> = RwSignal::new(None);
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let boxes: StoredValue<Vec<FlameBox>> = StoredValue::new(Vec::new());
    let hovered: RwSignal<Option<(FlameBox, f64, f64)>> = RwSignal::new(None);
    let truncated = RwSignal::new(false);
    // The canvas's container width in CSS pixels, 0 until it has been laid out.
    let width = RwSignal::new(0.0_f64);
    follow_container_width(canvas, width);

    // A selection outside the focus (a deep link, the keyboard going up) zooms out to show it.
    let (keep_state, draw_state) = (state.clone(), state.clone());
    Effect::new(move |_| {
        let Some(selected) = keep_state.selected.get() else {
            return;
        };
        let Some(focused) = focus.get_untracked() else {
            return;
        };
        let rows = &keep_state.waterfall.rows;
        let inside =
            selected >= focused && selected <= focused + rows[focused as usize].n_descendants;
        if !inside {
            focus.set(rows[selected as usize].parent_row);
        }
    });
    Effect::new(move |_| {
        // Not laid out yet: the container's first size will come through `width`. (Measuring
        // and writing `width` here made this effect wake itself for ever while the view was
        // built off the page, under a `<Suspense>` waiting for another resource.)
        if width.get() == 0.0 {
            return;
        }
        let (focused, selected) = (focus.get(), draw_state.selected.get());
        let searching = draw_state.search.with(|needle| !needle.trim().is_empty());
        draw_state.matches.with(|matches| {
            if let Some(canvas) = canvas.get_untracked() {
                let started = now_ms();
                let laid_out = flame_graph::layout(
                    &draw_state.waterfall,
                    focused,
                    width.get_untracked(),
                    MAX_LEVELS,
                );
                let highlight = Highlight {
                    selected,
                    matches: searching.then_some(matches.as_slice()),
                };
                paint(
                    &canvas,
                    &draw_state,
                    &laid_out,
                    width.get_untracked(),
                    &highlight,
                );
                truncated.set(
                    laid_out
                        .iter()
                        .any(|flame_box| flame_box.level + 1 >= MAX_LEVELS),
                );
                let laid_out_len = laid_out.len();
                boxes.set_value(laid_out);
                crate::perf::mark("spanview:flame-drawn");
                // For the tests and the benchmark: what was drawn and how long it took.
                let _ = canvas.set_attribute("data-boxes", &laid_out_len.to_string());
                let _ = canvas.set_attribute("data-draw-ms", &format!("{:.1}", now_ms() - started));
            }
        });
    });
    follow_selection(state.clone());
    install_keyboard(state.clone(), focus);

    let point = move |event: &leptos::ev::MouseEvent| -> Option<(FlameBox, f64, f64)> {
        let rect = canvas.get_untracked()?.get_bounding_client_rect();
        let (x, y) = (
            f64::from(event.client_x()) - rect.left(),
            f64::from(event.client_y()) - rect.top(),
        );
        boxes
            .with_value(|boxes| flame_graph::box_at(boxes, x, y, LEVEL_PX))
            .map(|flame_box| (flame_box, x, y))
    };
    let click_state = state.clone();
    let on_click = move |event: leptos::ev::MouseEvent| {
        if let Some((flame_box, _, _)) = point(&event) {
            click_state.selected.set(Some(flame_box.row_idx));
            // Zoom into a box that has something under it; a leaf is only selected.
            if click_state.has_children(flame_box.row_idx) && flame_box.n_spans == 1 {
                focus.set(Some(flame_box.row_idx));
            }
        }
    };
    let tooltip_state = state.clone();
    let tooltip = move || {
        let (flame_box, x, y) = hovered.get()?;
        let waterfall = &tooltip_state.waterfall;
        let row = &waterfall.rows[flame_box.row_idx as usize];
        let focus_nanos = focus
            .get()
            .map_or(waterfall.window.duration_nanos(), |focused| {
                waterfall.rows[focused as usize].duration_nanos
            });
        let share_of_focus = focus.get().map(|_| {
            format!(
                "{} of the zoomed span",
                format_percent(percent_of(row.duration_nanos, focus_nanos))
            )
        });
        let merged = (flame_box.n_spans > 1).then(|| {
            format!(
                "and {} more spans, each under a pixel wide",
                flame_box.n_spans - 1
            )
        });
        // To the right of the pointer, or to its left near the right edge.
        let left = if x + 300.0 > width.get() {
            (x - 300.0).max(0.0)
        } else {
            x + 14.0
        };
        let style = format!("left: {left:.0}px; top: {:.0}px", y + 16.0);
        Some(view! {
            <div class="flame-tooltip" role="tooltip" style=style>
                <div class="flame-tooltip-name"><span class="service">{row.service.to_string()}</span>" "{row.name.to_string()}</div>
                <div>{format_duration(row.duration_nanos)}", "{format_percent(row.percent_of_total)}" of the trace"</div>
                {share_of_focus.map(|text| view! { <div>{text}</div> })}
                <div>"self time "{format_duration(row.self_nanos)}</div>
                {merged.map(|text| view! { <div class="muted">{text}</div> })}
            </div>
        })
    };
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
    let selection_state = state;
    let selection = move || {
        selection_state.selected.get().map(|row_idx| {
            let row = &selection_state.waterfall.rows[row_idx as usize];
            format!(
                "Selected: {}: {}, {}, {} of the trace, self time {}",
                row.service,
                row.name,
                format_duration(row.duration_nanos),
                format_percent(row.percent_of_total),
                format_duration(row.self_nanos)
            )
        })
    };
    view! {
        <div class="flame-toolbar" role="toolbar" aria-label="Flame graph controls">
            <Breadcrumb focus=focus />
            <FlameSearch />
        </div>
        <p class="flame-selection" aria-live="polite">{selection}</p>
        <ul class="legend" aria-label="Services">{legend}</ul>
        <div class="flame-graph" on:mouseleave=move |_| hovered.set(None)>
            <canvas
                node_ref=canvas
                role="img"
                aria-label="Flame graph: each span a box as wide as its duration, children below their parent; click a box to zoom into it"
                on:mousemove=move |event| hovered.set(point(&event))
                on:click=on_click
            ></canvas>
            {tooltip}
        </div>
        {move || truncated.get().then(|| view! {
            <p class="notice">{format!("Only {MAX_LEVELS} levels are drawn: spans below them (a deep trace, or more calls at once than levels) are left out. Zoom into a deep box, or see every span in the waterfall.")}</p>
        })}
        <p class="hint flame-hint">"Width is duration; the empty part under a box is its self time. A span running beside an earlier sibling is drawn lower, in a lane of its own. Click to zoom, Esc to zoom out, arrows to move, Enter to zoom into the selection."</p>
    }
}

/// The way from the whole trace to the focus; each step zooms back out to it.
#[component]
fn Breadcrumb(focus: RwSignal<Option<u32>>) -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let steps = move || {
        let waterfall = state.waterfall.clone();
        let path = focus
            .get()
            .map(|focused| flame_graph::path_to(&waterfall, focused))
            .unwrap_or_default();
        let n_steps = path.len();
        path.into_iter()
            .enumerate()
            .map(|(position, row_idx)| {
                let row = &waterfall.rows[row_idx as usize];
                let label = format!("{}: {}", row.service, row.name);
                let is_focus = position + 1 == n_steps;
                view! {
                    <li>
                        <button
                            aria-current=is_focus.then_some("true")
                            on:click=move |_| focus.set(Some(row_idx))
                        >{label}</button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <nav class="flame-breadcrumb" aria-label="Zoom">
            <ol>
                <li>
                    <button aria-current=move || focus.get().is_none().then_some("true")
                        on:click=move |_| focus.set(None)>"Whole trace"</button>
                </li>
                {steps}
            </ol>
        </nav>
    }
}

/// The waterfall's search, shared: matching boxes are drawn outlined, the rest dimmed.
#[component]
fn FlameSearch() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let (search, matches) = (state.search, state.matches);
    let count_text = move || {
        let needle_empty = search.with(|needle| needle.trim().is_empty());
        match matches.with(Vec::len) {
            _ if needle_empty => String::new(),
            0 => String::from("no matches"),
            1 => String::from("1 match"),
            n => format!("{n} matches"),
        }
    };
    view! {
        <span class="trace-search" role="search">
            <input
                id="flame-search"
                type="search"
                placeholder="Search spans (/)"
                aria-label="Search spans by name, service or attribute value"
                prop:value=move || search.get()
                on:input=move |event| search.set(event_target_value(&event))
                on:keydown=move |event| {
                    if event.key() == "Enter" {
                        event.prevent_default();
                        state.go_to_match(if event.shift_key() { -1 } else { 1 });
                    }
                }
            />
            <span class="match-count" aria-live="polite">{count_text}</span>
        </span>
    }
}

struct Highlight<'a> {
    selected: Option<u32>,
    /// Sorted rows matching the search, while there is one.
    matches: Option<&'a [u32]>,
}

/// The theme's colours, read from the stylesheet so that both themes draw right.
struct Palette {
    services: Vec<String>,
    text_on_box: String,
    outline: String,
    background: String,
}

impl Palette {
    fn read(element: &web_sys::Element) -> Self {
        let style =
            web_sys::window().and_then(|window| window.get_computed_style(element).ok().flatten());
        let get = |name: &str, fallback: &str| {
            style
                .as_ref()
                .and_then(|style| style.get_property_value(name).ok())
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| fallback.to_owned())
        };
        Self {
            services: (0..N_SERVICE_COLOURS)
                .map(|idx| get(&format!("--svc-{idx}"), "#888"))
                .collect(),
            text_on_box: String::from("#111418"),
            outline: get("--text", "#000"),
            background: get("--panel", "#fff"),
        }
    }
}

fn paint(
    canvas: &web_sys::HtmlCanvasElement,
    state: &WaterfallState,
    boxes: &[FlameBox],
    width_css: f64,
    highlight: &Highlight,
) {
    let ratio = web_sys::window().map_or(1.0, |window| window.device_pixel_ratio());
    let n_levels = boxes
        .iter()
        .map(|flame_box| flame_box.level + 1)
        .max()
        .unwrap_or(1);
    let height_css = f64::from(n_levels) * LEVEL_PX;
    canvas.set_width((width_css * ratio).round().max(1.0) as u32);
    canvas.set_height((height_css * ratio).round().max(1.0) as u32);
    let _ = canvas.set_attribute(
        "style",
        &format!("width: {width_css}px; height: {height_css}px"),
    );
    let Some(context) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|context| context.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let _ = context.scale(ratio, ratio);
    let palette = Palette::read(canvas);
    context.set_fill_style_str(&palette.background);
    context.fill_rect(0.0, 0.0, width_css, height_css);
    context.set_font("12px system-ui, sans-serif");
    context.set_text_baseline("middle");
    let waterfall = &state.waterfall;
    let mut selected_box = None;
    let mut current_look: Option<(u32, bool)> = None;
    for flame_box in boxes {
        let row = &waterfall.rows[flame_box.row_idx as usize];
        let (x, y) = (flame_box.x_px, f64::from(flame_box.level) * LEVEL_PX);
        // A gap of a pixel between boxes, where there is room for one.
        let width = if flame_box.width_px >= 3.0 {
            flame_box.width_px - 1.0
        } else {
            flame_box.width_px
        };
        let matched = highlight
            .matches
            .map(|matches| matches.binary_search(&flame_box.row_idx).is_ok());
        // Style changes are the costly canvas calls: made only when the look changes (most
        // neighbouring boxes share a service).
        let look = (row.service_idx % N_SERVICE_COLOURS, matched == Some(false));
        if current_look != Some(look) {
            context.set_global_alpha(if look.1 { 0.25 } else { 1.0 });
            context.set_fill_style_str(&palette.services[look.0 as usize]);
            current_look = Some(look);
        }
        context.fill_rect(x, y, width, LEVEL_PX - 1.0);
        if matched == Some(true) {
            context.set_stroke_style_str(&palette.outline);
            context.set_line_width(1.5);
            context.stroke_rect(x + 0.75, y + 0.75, (width - 1.5).max(0.5), LEVEL_PX - 2.5);
        }
        if highlight.selected == Some(flame_box.row_idx) {
            selected_box = Some((x, y, width));
        }
        if flame_box.width_px >= MIN_LABEL_PX {
            let label = fit_label(&row.name, flame_box.width_px - 8.0);
            context.set_fill_style_str(&palette.text_on_box);
            let _ = context.fill_text(&label, x + 4.0, y + LEVEL_PX / 2.0);
            current_look = None;
        }
    }
    context.set_global_alpha(1.0);
    if let Some((x, y, width)) = selected_box {
        context.set_stroke_style_str(&palette.outline);
        context.set_line_width(2.5);
        context.stroke_rect(x + 1.25, y + 1.25, (width - 2.5).max(0.5), LEVEL_PX - 3.5);
    }
}

/// Keeps `width` at the canvas container's width: a `ResizeObserver` reports it once the
/// container is laid out (the view may be built before it is in the document, where every width
/// is 0) and whenever it changes (window, scrollbar, panel). Only a changed, non-zero width is
/// written, so an unchanged layout wakes nothing.
fn follow_container_width(canvas: NodeRef<leptos::html::Canvas>, width: RwSignal<f64>) {
    // The browser objects are not Send: kept in local storage, disconnected on unmount.
    let kept = StoredValue::new_local(None::<(web_sys::ResizeObserver, Closure<dyn FnMut()>)>);
    canvas.on_load(move |canvas| {
        let Some(container) = canvas.parent_element() else {
            return;
        };
        let observed = container.clone();
        let on_resize = Closure::<dyn FnMut()>::new(move || {
            let measured = f64::from(observed.client_width());
            if measured > 0.0 && measured != width.get_untracked() {
                width.set(measured);
            }
        });
        let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) else {
            return;
        };
        observer.observe(&container);
        kept.set_value(Some((observer, on_resize)));
    });
    on_cleanup(move || {
        kept.with_value(|kept| {
            if let Some((observer, _)) = kept {
                observer.disconnect();
            }
        })
    });
}

/// The label cut to about `width_px`, with an ellipsis when it was cut.
fn fit_label(name: &str, width_px: f64) -> String {
    let max_chars = (width_px / CHAR_PX).floor().max(0.0) as usize;
    if name.chars().count() <= max_chars {
        return name.to_owned();
    }
    let mut label: String = name.chars().take(max_chars.saturating_sub(1)).collect();
    label.push('…');
    label
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|window| window.performance())
        .map_or(0.0, |performance| performance.now())
}

/// The selection in the URL as `?view=flame&span=`, so the view can be shared; leaving the tab
/// takes `view=flame` out again.
fn follow_selection(state: WaterfallState) {
    let url_state = state.clone();
    Effect::new(move |_| {
        let selected = url_state.selected.get();
        replace_url(&url_state, selected, true);
    });
    on_cleanup(move || replace_url(&state, state.selected.get_untracked(), false));
}

fn replace_url(state: &WaterfallState, selected: Option<u32>, flame: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let mut query = Vec::new();
    if flame {
        query.push(String::from("view=flame"));
    }
    if let Some(row_idx) = selected {
        let span_idx = state.waterfall.rows[row_idx as usize].span_idx as usize;
        query.push(format!(
            "span={}",
            state.trace.batch.spans[span_idx].span_id
        ));
    }
    let path = window.location().pathname().unwrap_or_default();
    let url = if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The waterfall's keys where they make sense: up to the parent, down to the first child, left
/// and right to the siblings, Enter zooms into the selection, Escape zooms out a level (then
/// clears the selection), `/` searches.
fn install_keyboard(state: WaterfallState, focus: RwSignal<Option<u32>>) {
    let handle = window_event_listener(leptos::ev::keydown, move |event| {
        let target_tag = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .map(|element| element.tag_name())
            .unwrap_or_default();
        let typing = matches!(target_tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT");
        // Enter on a focused button (the breadcrumb, the tabs) presses that button.
        let pressing = event.key() == "Enter" && matches!(target_tag.as_str(), "BUTTON" | "A");
        if typing || pressing || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let waterfall = &state.waterfall;
        let selected = state.selected.get_untracked();
        let first_in_view = focus.get_untracked().unwrap_or(0);
        let next = match event.key().as_str() {
            "ArrowUp" | "k" => {
                Some(selected.and_then(|row| waterfall.rows[row as usize].parent_row))
            }
            "ArrowDown" | "j" => Some(selected.map_or(Some(first_in_view), |row| {
                flame_graph::first_child(waterfall, row)
            })),
            "ArrowLeft" | "h" => {
                Some(selected.and_then(|row| flame_graph::sibling(waterfall, row, -1)))
            }
            "ArrowRight" | "l" => {
                Some(selected.and_then(|row| flame_graph::sibling(waterfall, row, 1)))
            }
            "Enter" => {
                if let Some(row) = selected.filter(|row| state.has_children(*row)) {
                    focus.set(Some(row));
                }
                None
            }
            "Escape" => {
                match focus.get_untracked() {
                    Some(focused) => focus.set(waterfall.rows[focused as usize].parent_row),
                    None => state.selected.set(None),
                }
                None
            }
            "/" => {
                if let Some(input) = web_sys::window()
                    .and_then(|window| window.document())
                    .and_then(|document| document.get_element_by_id("flame-search"))
                    .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = input.focus();
                }
                None
            }
            _ => return,
        };
        event.prevent_default();
        if let Some(Some(row)) = next {
            state.selected.set(Some(row));
        }
    });
    on_cleanup(move || handle.remove());
}
