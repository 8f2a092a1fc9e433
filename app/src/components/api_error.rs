//! How a failed API call is shown: a message, or the access-token form when one is needed.

use leptos::prelude::*;

use crate::api::{self, ApiError};

#[component]
pub fn ApiErrorView(error: ApiError) -> impl IntoView {
    match error {
        ApiError::Unauthorized(message) => view! { <TokenForm message=message /> }.into_any(),
        ApiError::Failed(message) => {
            view! { <p class="error" role="alert">{message}</p> }.into_any()
        }
    }
}

/// Asked once: the token is kept in this browser's local storage.
#[component]
fn TokenForm(message: String) -> impl IntoView {
    let token = RwSignal::new(String::new());
    let had_token = api::saved_token().is_some();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        api::save_token(&token.get_untracked());
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };
    view! {
        <form class="token-form" on:submit=submit>
            <h2>"Access token required"</h2>
            <p title=message>
                {if had_token {
                    "The token saved in this browser was refused. Enter the current one."
                } else {
                    "This spanview was started with --auth-token. Enter the token once; this browser remembers it."
                }}
            </p>
            <label for="access-token">"Token (from spanview serve --auth-token)"</label>
            <input
                id="access-token"
                type="password"
                autocomplete="current-password"
                required
                prop:value=move || token.get()
                on:input=move |event| token.set(event_target_value(&event))
            />
            <button type="submit">"Save and reload"</button>
        </form>
    }
}
