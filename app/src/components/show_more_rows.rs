//! "Show more" under a long list of rows: the compare page's table and its side-by-side view.

use leptos::prelude::*;

/// Rows of the table (and of the side-by-side view) added per click of "Show more".
pub const ROWS_PER_PAGE: usize = 300;

/// "Show 300 more (4,700 not shown)" under a long table.
#[component]
pub fn ShowMoreRows(
    n_rows: usize,
    n_shown: RwSignal<usize>,
    #[prop(optional, into)] hidden: Signal<bool>,
) -> impl IntoView {
    let n_hidden = move || n_rows.saturating_sub(n_shown.get());
    let nothing_hidden = move || n_hidden() == 0 || hidden.get();
    view! {
        <p class="show-more-rows" class:hidden=nothing_hidden>
            <button class="compare-button" on:click=move |_| n_shown.update(|shown| *shown += ROWS_PER_PAGE)>
                {move || format!("Show {} more ({} not shown)", ROWS_PER_PAGE.min(n_hidden()), n_hidden())}
            </button>
            <button class="compare-button" on:click=move |_| n_shown.set(n_rows)>"Show all"</button>
        </p>
    }
}
