//! `/services/map`: services and peers as boxes, calls as arrows, over the dashboard's time
//! range (`range`, or `start`/`end`), laid out by `core::service_map_layout`. A click on a node
//! or an edge opens the dashboard's search for those traces.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use spanview_core::service_map_layout::{MapLayout, NODE_HEIGHT, NODE_WIDTH, label_box, layout};

use crate::api;
use crate::components::api_error::ApiErrorView;
use crate::search::SearchForm;

fn now_unix_nanos() -> u64 {
    (js_sys::Date::now() * 1_000_000.0) as u64
}

/// The dashboard's URL searching the traces of `service` over the form's range.
pub fn search_href(form: &SearchForm, service: &str) -> String {
    let form = SearchForm {
        service: service.to_owned(),
        operation: String::new(),
        ..form.clone()
    };
    format!("/?{}", form.to_url_query())
}

#[component]
pub fn ServiceMapPage() -> impl IntoView {
    let query = use_query_map();
    let form = Memo::new(move |_| query.with(SearchForm::from_query));
    let map = LocalResource::new(move || {
        let form = form.get();
        async move {
            let start = form.range_start(now_unix_nanos());
            api::service_map(start, form.range_end()).await
        }
    });
    view! {
        <section class="page service-map-page">
            <h1>"Service map"</h1>
            <p class="notice">"Calls between services over the dashboard's time range; click a service or a call for its traces."</p>
            <Suspense fallback=|| view! { <p class="notice">"Loading the map…"</p> }>
                {move || Suspend::new(async move {
                    match map.await {
                        Ok(map) if map.nodes.is_empty() => view! {
                            <p class="notice">"No calls in this time range."</p>
                        }.into_any(),
                        Ok(map) => view! { <MapView layout=layout(&map) form=form.get_untracked() /> }.into_any(),
                        Err(error) => view! { <ApiErrorView error=error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn MapView(layout: MapLayout, form: SearchForm) -> impl IntoView {
    let navigate = use_navigate();
    let go = move |href: String| {
        let navigate = navigate.clone();
        move |_| navigate(&href, Default::default())
    };
    let services: Vec<String> = layout
        .nodes
        .iter()
        .filter(|node| !node.is_peer)
        .map(|node| node.name.clone())
        .collect();
    let range_query = {
        let form = SearchForm {
            service: String::new(),
            operation: String::new(),
            ..form.clone()
        };
        form.to_url_query()
    };
    let performance_links = services
        .into_iter()
        .map(|service| {
            let href = format!(
                "/services/{}?{range_query}",
                api::encode_component(&service)
            );
            view! { <a href=href>{service}</a> " " }
        })
        .collect_view();
    let curves = layout
        .edges
        .iter()
        .map(|edge| {
            // The curve the layout placed the label on.
            let [(c1x, c1y), (c2x, c2y)] = edge.controls;
            let path = format!(
                "M{:.1},{:.1} C{c1x:.1},{c1y:.1} {c2x:.1},{c2y:.1} {:.1},{:.1}",
                edge.from.0, edge.from.1, edge.to.0, edge.to.1
            );
            let title = format!("{} → {}: {}", edge.caller, edge.callee, edge.label);
            let href = search_href(&form, &edge.caller);
            view! {
                <g class="map-edge" class:has-errors=edge.has_errors data-caller=edge.caller.clone() data-callee=edge.callee.clone() on:click=go(href)>
                    <title>{title}</title>
                    <path d=path marker-end="url(#map-arrow)" />
                </g>
            }
        })
        .collect_view();
    // The labels over every curve, each on the panel's colour, so that no curve (its own or
    // one passing behind) runs through a label's text.
    let labels = layout
        .edges
        .into_iter()
        .map(|edge| {
            let (left, top, width, height) = label_box(&edge.label, edge.label_at);
            let title = format!("{} → {}: {}", edge.caller, edge.callee, edge.label);
            let href = search_href(&form, &edge.caller);
            view! {
                <g class="map-label" data-caller=edge.caller data-callee=edge.callee on:click=go(href)>
                    <title>{title}</title>
                    <rect x=format!("{left:.1}") y=format!("{top:.1}") width=format!("{width:.1}") height=format!("{height:.1}") rx="3" />
                    <text x=format!("{:.1}", edge.label_at.0) y=format!("{:.1}", edge.label_at.1) text-anchor="middle" dominant-baseline="central">{edge.label}</text>
                </g>
            }
        })
        .collect_view();
    let nodes = layout
        .nodes
        .into_iter()
        .map(|node| {
            let href = search_href(&form, &node.name);
            let (name, title, attribute) = (node.name.clone(), node.name.clone(), node.name);
            view! {
                <g class="map-node" class:peer=node.is_peer data-service=attribute on:click=go(href)>
                    <title>{title}</title>
                    <rect x=format!("{:.1}", node.x) y=format!("{:.1}", node.y) width=NODE_WIDTH height=NODE_HEIGHT rx="6" />
                    <text class="name" x=format!("{:.1}", node.x + 8.0) y=format!("{:.1}", node.y + 18.0)>{name}</text>
                    <text class="stats" x=format!("{:.1}", node.x + 8.0) y=format!("{:.1}", node.y + 35.0)>{node.label}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <div class="service-map-scroll">
            <svg class="service-map" width=format!("{:.0}", layout.width) height=format!("{:.0}", layout.height)>
                <defs>
                    <marker id="map-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" />
                    </marker>
                </defs>
                {curves}
                {labels}
                {nodes}
            </svg>
        </div>
        <p class="service-links">"Performance over time: " {performance_links}</p>
    }
}
