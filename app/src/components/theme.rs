//! Light and dark themes: follow the system until the user picks one; the choice is remembered.

use leptos::prelude::*;

const THEME_KEY: &str = "spanview.theme";
const THEMES: [(&str, &str); 3] = [
    ("system", "Theme: system"),
    ("light", "Theme: light"),
    ("dark", "Theme: dark"),
];

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Sets `data-theme` on `<html>`; the stylesheet reads it ("system" removes it).
fn apply(theme: &str) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let _ = if theme == "system" {
        root.remove_attribute("data-theme")
    } else {
        root.set_attribute("data-theme", theme)
    };
}

#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let saved = storage()
        .and_then(|s| s.get_item(THEME_KEY).ok().flatten())
        .unwrap_or_else(|| "system".into());
    let theme = RwSignal::new(saved);
    Effect::new(move |_| {
        let current = theme.get();
        apply(&current);
        if let Some(storage) = storage() {
            let _ = storage.set_item(THEME_KEY, &current);
        }
    });
    let label = move || {
        let current = theme.get();
        THEMES
            .iter()
            .find(|(name, _)| *name == current)
            .map_or("Theme", |(_, label)| label)
    };
    view! {
        <button class="theme-switch" title="Switch between system, light and dark themes"
            on:click=move |_| theme.update(|current| {
                let position = THEMES.iter().position(|(name, _)| name == current).unwrap_or(0);
                *current = THEMES[(position + 1) % THEMES.len()].0.to_owned();
            })>
            {label}
        </button>
    }
}
