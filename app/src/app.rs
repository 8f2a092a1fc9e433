//! The shell: header and routes.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::components::theme::ThemeSwitch;
use crate::components::time_zone::{TimeZoneSetting, TimeZoneSwitch};
use crate::components::uploads::{DropZone, OpenFilesButton, UploadsPanel};
use crate::pages::compare::ComparePage;
use crate::pages::group_compare::GroupComparePage;
use crate::pages::service::ServicePage;
use crate::pages::service_map::ServiceMapPage;
use crate::pages::trace::TracePage;
use crate::pages::traces::{BeforeGroup, TracesPage};
use crate::upload::Uploads;

#[component]
pub fn App() -> impl IntoView {
    Uploads::provide();
    BeforeGroup::provide();
    TimeZoneSetting::provide();
    view! {
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"spanview"</A>
                <nav>
                    <A href="/">"Traces"</A>
                    <A href="/services/map">"Service map"</A>
                </nav>
                <OpenFilesButton />
                <TimeZoneSwitch />
                <ThemeSwitch />
            </header>
            <DropZone />
            <main>
                // Above the page, where the user looks after opening files (issue 24).
                <UploadsPanel />
                <Routes fallback=|| view! { <p class="notice">"This page does not exist."</p> }>
                    <Route path=path!("/") view=TracesPage />
                    <Route path=path!("/trace/:trace_id") view=TracePage />
                    <Route path=path!("/compare/groups") view=GroupComparePage />
                    <Route path=path!("/services/map") view=ServiceMapPage />
                    <Route path=path!("/services/:service") view=ServicePage />
                    <Route path=path!("/compare/:before/:after") view=ComparePage />
                </Routes>
            </main>
        </Router>
    }
}
