//! The waterfall: toolbar, legend, time axis, one row per visible span, and the detail panel of
//! the selected span. State lives in [`state::WaterfallState`], provided by the trace page.

mod detail;
mod group_row;
mod health;
mod minimap;
mod n_plus_one;
mod row;
pub mod state;
mod ticks;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use detail::SpanDetail;
use group_row::GroupRowView;
use health::HealthList;
use minimap::Minimap;
use n_plus_one::NPlusOneBanners;
pub use row::SkeletonRows;
use row::{RowEntry, WaterfallRowView};
use spanview_core::layout::Bar;
use state::WaterfallState;
use ticks::TimeAxis;

/// How many service colours the stylesheet defines (`.svc-0` …).
pub const N_SERVICE_COLOURS: u32 = 10;

/// Every body row is exactly this tall (the stylesheet agrees), so that the rows in view can be
/// computed from the scroll position without measuring.
pub const ROW_HEIGHT_PX: f64 = 28.0;
/// Rows rendered above and below the viewport, so fast scrolling shows no gaps.
const OVERSCAN_ROWS: usize = 12;

/// A bar's CSS position on the timeline. The zoom is not in it: the waterfall sets
/// `--zoom-from` (percent of the trace at the left edge) and `--zoom-scale` once, so zooming
/// restyles no row.
pub(crate) fn bar_style(bar: Bar) -> String {
    format!(
        "left: calc(({:.4} - var(--zoom-from)) * var(--zoom-scale) * 1%); \
         width: max(calc({:.4} * var(--zoom-scale) * 1%), 1px)",
        bar.left_percent, bar.width_percent
    )
}

/// A point's CSS position on the timeline (an event mark), zoomed like [`bar_style`].
pub(crate) fn mark_style(left_percent: f64) -> String {
    format!("left: calc(({left_percent:.4} - var(--zoom-from)) * var(--zoom-scale) * 1%)")
}

/// "Expand to depth" offers at most this many levels: a chain of 100,000 spans would otherwise
/// put 100,000 options in the page.
const MAX_EXPAND_DEPTH_CHOICES: u32 = 30;

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
    let scroller = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0.0_f64);
    // The window's height bounds the waterfall's, and reading it needs no layout: measuring the
    // scroller right after mounting would force one, and rows rendered for a guess that then
    // changes would be rendered twice.
    let window_height = || {
        web_sys::window()
            .and_then(|window| window.inner_height().ok())
            .and_then(|height| height.as_f64())
            .unwrap_or(900.0)
    };
    let viewport_height = RwSignal::new(window_height());
    let measure = move || {
        if let Some(element) = scroller.get_untracked() {
            scroll_top.set(f64::from(element.scroll_top()));
        }
    };
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        viewport_height.set(window_height());
        measure();
    });
    on_cleanup(move || resize.remove());
    // The DOM holds only the rows in view (virtualisation): a 100,000-span trace stays fast.
    // Each entry is a row and, when it stands for a folded sibling group, that group.
    let (group_waterfall, expanded_groups) = (state.waterfall.clone(), state.expanded_groups);
    let (collapsed, selected, matches, show_critical_path) = (
        state.collapsed,
        state.selected,
        state.matches,
        state.show_critical_path,
    );
    // The first frame renders only the rows in view, the overscan follows once they are
    // painted: it would add 40 % to the rows built before anything is on screen.
    let overscan = RwSignal::new(0_usize);
    crate::after_paint::when_idle_after_paint(move || _ = overscan.try_set(OVERSCAN_ROWS));
    let rows_in_view = Memo::new(move |_| {
        visible_rows.with(|visible| {
            let overscan = overscan.get();
            let first = ((scroll_top.get() / ROW_HEIGHT_PX) as usize).saturating_sub(overscan);
            let count = (viewport_height.get() / ROW_HEIGHT_PX).ceil() as usize + 2 * overscan;
            let first = first.min(visible.len());
            let end = (first + count).min(visible.len());
            let (selected, show_critical_path) = (selected.get(), show_critical_path.get());
            let entries: Vec<RowEntry> = expanded_groups.with(|expanded| {
                collapsed.with(|collapsed| {
                    matches.with(|matches| {
                        visible[first..end]
                            .iter()
                            .zip(first as u32..)
                            .map(|(row, position)| RowEntry {
                                row_idx: *row,
                                position,
                                group: group_waterfall.collapsed_group_at(*row, expanded),
                                collapsed: collapsed.contains(row),
                                selected: selected == Some(*row),
                                matched: matches.binary_search(row).is_ok(),
                                show_critical_path,
                            })
                            .collect()
                    })
                })
            });
            entries
        })
    });
    let zoom = state.zoom;
    let zoom_style = move || {
        let (from, to) = zoom.get().unwrap_or((0.0, 100.0));
        format!(
            "--zoom-from: {from:.4}; --zoom-scale: {:.6}",
            100.0 / (to - from).max(1e-9)
        )
    };
    let body_style = move || {
        format!(
            "height: {}px",
            visible_rows.with(Vec::len) as f64 * ROW_HEIGHT_PX
        )
    };
    view! {
        <HealthList />
        <NPlusOneBanners />
        <Toolbar />
        <ul class="legend" aria-label="Services">{legend}</ul>
        <Minimap />
        <div class="trace-body">
            <div
                class="waterfall"
                role="table"
                aria-label="Spans"
                aria-rowcount=move || visible_rows.with(Vec::len) + 1
                node_ref=scroller
                style=zoom_style
                on:scroll=move |_| measure()
            >
                <div class="wf-row wf-head" role="row">
                    <div class="wf-label" role="columnheader">"Span"<crate::components::column_resize::ColumnResizeHandle /></div>
                    <div class="wf-duration" role="columnheader">"Duration"</div>
                    <div class="wf-share" role="columnheader">"% of total"</div>
                    <div class="wf-timeline" role="columnheader"><TimeAxis /></div>
                </div>
                <div class="wf-body" style=body_style>
                    <For each=move || rows_in_view.get() key=|entry| *entry let:entry>
                        {match entry.group {
                            Some(group) => view! { <GroupRowView entry=entry group=group /> }.into_any(),
                            None => view! { <WaterfallRowView entry=entry /> }.into_any(),
                        }}
                    </For>
                </div>
            </div>
            {move || detail_state.selected.get().map(|row_idx| {
                detail_state.expanded_groups.track();
                match detail_state.folded_group_at(row_idx) {
                    Some(group) => view! { <group_row::GroupDetail group=group /> }.into_any(),
                    None => view! { <SpanDetail row_idx=row_idx /> }.into_any(),
                }
            })}
        </div>
        <ShortcutHelp />
    }
}

#[component]
fn Toolbar() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let max_depth = state.waterfall.facts.max_depth;
    let (collapse_state, expand_state, depth_state, share_state) =
        (state.clone(), state.clone(), state.clone(), state.clone());
    let min_percent = state.min_percent;
    let show_critical_path = state.show_critical_path;
    let recorded_times = state.recorded_times;
    let skew_title = format!(
        "Show the times as recorded: {} span(s) on another clock were moved to fit inside their calling spans",
        state.waterfall.skew.len()
    );
    // "Expand to depth" shows its depth only while the rows are still expanded to it: after
    // "Expand all" or a click on a row it goes back to "—" (issue 24).
    let depth_choice = RwSignal::new(None::<u32>);
    let collapsed = state.collapsed;
    let waterfall = state.waterfall.clone();
    let depth_shown = move || match depth_choice.get() {
        Some(depth)
            if collapsed
                .with(|collapsed| *collapsed == waterfall.rows_to_collapse_for_depth(depth)) =>
        {
            depth.to_string()
        }
        _ => String::new(),
    };
    let critical_title = format!(
        "Highlight the spans the trace waited on ({} spans; press c)",
        state.waterfall.facts.n_on_critical_path
    );
    view! {
        <div class="wf-toolbar" role="toolbar" aria-label="Waterfall controls">
            <button on:click=move |_| collapse_state.collapse_all()>"Collapse all"</button>
            <button on:click=move |_| expand_state.expand_all()>"Expand all"</button>
            <button
                class="critical-toggle"
                title=critical_title
                aria-pressed=move || show_critical_path.get().to_string()
                on:click=move |_| show_critical_path.update(|shown| *shown = !*shown)
            >
                "Critical path"
            </button>
            <label>
                "Expand to depth "
                <select
                    prop:value=depth_shown
                    on:change=move |event| {
                        let depth = event_target_value(&event).parse::<u32>().ok();
                        depth_choice.set(depth);
                        if let Some(depth) = depth {
                            depth_state.expand_to_depth(depth);
                        }
                    }
                >
                    <option value="">"—"</option>
                    {(1..=max_depth.clamp(1, MAX_EXPAND_DEPTH_CHOICES)).map(|depth| view! { <option value=depth.to_string()>{depth}</option> }).collect_view()}
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
            {recorded_times.map(|recorded_times| view! {
                <label class="skew-toggle" title=skew_title.clone()>
                    <input
                        type="checkbox"
                        prop:checked=move || recorded_times.get()
                        on:change=move |event| recorded_times.set(event_target_checked(&event))
                    />
                    "Recorded times"
                </label>
            })}
            <TraceSearch />
            <span class="hint">"Press ? for keyboard shortcuts"</span>
        </div>
    }
}

/// Search within the trace: match count, previous/next, and "matches only".
#[component]
fn TraceSearch() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let (search, matches, matches_only) = (state.search, state.matches, state.matches_only);
    let (next_state, previous_state, key_state) = (state.clone(), state.clone(), state);
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
                id="trace-search"
                type="search"
                placeholder="Search spans (/)"
                aria-label="Search spans by name, service or attribute value"
                prop:value=move || search.get()
                on:input=move |event| search.set(event_target_value(&event))
                on:keydown=move |event| {
                    if event.key() == "Enter" {
                        event.prevent_default();
                        key_state.go_to_match(if event.shift_key() { -1 } else { 1 });
                    }
                }
            />
            <span class="match-count" aria-live="polite">{count_text}</span>
            <button aria-label="Previous match" on:click=move |_| previous_state.go_to_match(-1)>"↑"</button>
            <button aria-label="Next match" on:click=move |_| next_state.go_to_match(1)>"↓"</button>
            <label>
                <input type="checkbox" prop:checked=move || matches_only.get()
                    on:change=move |event| matches_only.set(event_target_checked(&event)) />
                " matches only"
            </label>
        </span>
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
                        <dt>"c"</dt><dd>"highlight the critical path"</dd>
                        <dt>"/"</dt><dd>"search spans; Enter / Shift+Enter: next / previous match"</dd>
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
            .is_some_and(|element| is_text_entry(&element));
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
            "/" => {
                if let Some(input) = web_sys::window()
                    .and_then(|window| window.document())
                    .and_then(|document| document.get_element_by_id("trace-search"))
                    .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = input.focus();
                }
                true
            }
            "c" => {
                state.show_critical_path.update(|shown| *shown = !*shown);
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
        if let Some(row_idx) = selected {
            scroll_row_into_view(&state, row_idx);
        }
    });
}

/// Scrolls the waterfall so that a row is in view (it may not be rendered yet).
fn scroll_row_into_view(state: &WaterfallState, row_idx: u32) {
    let position = state
        .visible_rows
        .with_untracked(|visible| visible.iter().position(|row| *row == row_idx));
    let Some(position) = position else { return };
    let Some(scroller) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.query_selector(".waterfall").ok().flatten())
    else {
        return;
    };
    // The sticky header row covers the first row height of the viewport.
    let row_top = position as f64 * ROW_HEIGHT_PX;
    let viewport = f64::from(scroller.client_height()) - 2.0 * ROW_HEIGHT_PX;
    let scroll_top = f64::from(scroller.scroll_top());
    if row_top < scroll_top {
        scroller.set_scroll_top(row_top as i32);
    } else if row_top > scroll_top + viewport {
        scroller.set_scroll_top((row_top - viewport) as i32);
    }
}

/// Whether keys typed into `element` are text, not shortcuts (a checkbox or button is not).
fn is_text_entry(element: &web_sys::Element) -> bool {
    match element.tag_name().as_str() {
        "TEXTAREA" | "SELECT" => true,
        "INPUT" => !matches!(
            element.get_attribute("type").unwrap_or_default().as_str(),
            "checkbox" | "radio" | "button" | "submit" | "reset" | "range" | "color"
        ),
        _ => element
            .get_attribute("contenteditable")
            .is_some_and(|value| value != "false"),
    }
}
