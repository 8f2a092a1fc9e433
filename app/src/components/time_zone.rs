//! Absolute times in UTC or the browser's local time: a setting in the header, remembered like
//! the theme, shared through context by every view that shows a start time.

use leptos::prelude::*;

const TIME_ZONE_KEY: &str = "spanview.timeZone";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeZone {
    Local,
    Utc,
}

/// The setting, provided once by the app.
#[derive(Clone, Copy)]
pub struct TimeZoneSetting(pub RwSignal<TimeZone>);

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

impl TimeZoneSetting {
    pub fn provide() {
        let saved = storage().and_then(|s| s.get_item(TIME_ZONE_KEY).ok().flatten());
        let zone = if saved.as_deref() == Some("utc") {
            TimeZone::Utc
        } else {
            TimeZone::Local
        };
        let setting = RwSignal::new(zone);
        Effect::new(move |_| {
            let value = match setting.get() {
                TimeZone::Local => "local",
                TimeZone::Utc => "utc",
            };
            if let Some(storage) = storage() {
                let _ = storage.set_item(TIME_ZONE_KEY, value);
            }
        });
        provide_context(Self(setting));
    }

    pub fn get() -> Self {
        expect_context()
    }

    /// `unix_nanos` as an absolute time in the chosen zone, tracking the setting.
    pub fn format(self, unix_nanos: u64) -> String {
        crate::format::absolute_time(unix_nanos, self.0.get() == TimeZone::Utc, true)
    }

    /// As [`Self::format`], to the second (for lists).
    pub fn format_seconds(self, unix_nanos: u64) -> String {
        crate::format::absolute_time(unix_nanos, self.0.get() == TimeZone::Utc, false)
    }
}

#[component]
pub fn TimeZoneSwitch() -> impl IntoView {
    let setting = TimeZoneSetting::get().0;
    view! {
        <button class="time-zone-switch" title="Show times in UTC or in this browser's time zone"
            on:click=move |_| setting.update(|zone| {
                *zone = match zone {
                    TimeZone::Local => TimeZone::Utc,
                    TimeZone::Utc => TimeZone::Local,
                }
            })>
            {move || match setting.get() {
                TimeZone::Local => "Times: local",
                TimeZone::Utc => "Times: UTC",
            }}
        </button>
    }
}
