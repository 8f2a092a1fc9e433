//! The waterfall: a time axis, then one row per span in tree order.

mod row;
mod ticks;

use leptos::prelude::*;
use spanview_core::waterfall::Waterfall;

use row::WaterfallRowView;
use ticks::TimeAxis;

/// How many service colours the stylesheet defines (`.svc-0` …).
pub const N_SERVICE_COLOURS: u32 = 10;

#[component]
pub fn WaterfallView(waterfall: Waterfall) -> impl IntoView {
    let legend = waterfall
        .services
        .iter()
        .enumerate()
        .map(|(idx, service)| {
            let class = format!("legend-item svc-{}", idx as u32 % N_SERVICE_COLOURS);
            view! { <li class=class><span class="swatch"></span>{service.clone()}</li> }
        })
        .collect_view();
    let rows = waterfall
        .rows
        .iter()
        .map(|row| view! { <WaterfallRowView row=row.clone() /> })
        .collect_view();
    view! {
        <ul class="legend" aria-label="Services">{legend}</ul>
        <div class="waterfall" role="table" aria-label="Spans">
            <div class="wf-row wf-head" role="row">
                <div class="wf-label" role="columnheader">"Span"</div>
                <div class="wf-duration" role="columnheader">"Duration"</div>
                <div class="wf-share" role="columnheader">"% of total"</div>
                <div class="wf-timeline" role="columnheader"><TimeAxis window=waterfall.window /></div>
            </div>
            {rows}
        </div>
    }
}
