//! Browser-side formatting that needs the user's locale and clock.

/// A Unix-nanosecond instant in the user's local time, e.g. `24/11/2026, 12:34:56`.
pub fn local_time(unix_nanos: u64) -> String {
    let millis = (unix_nanos / 1_000_000) as f64;
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

/// How long ago an instant was, e.g. `5 min ago`.
pub fn time_ago(unix_nanos: u64) -> String {
    let now_millis = js_sys::Date::now();
    let seconds = ((now_millis - (unix_nanos / 1_000_000) as f64) / 1000.0).max(0.0) as u64;
    match seconds {
        0..60 => format!("{seconds} s ago"),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86400 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86400),
    }
}

/// A count with its noun, singular for one: `1 span`, `3 spans` (nouns with a plain plural).
pub fn count(n: u64, singular: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {singular}s")
    }
}

/// A Unix-nanosecond instant with its zone, to the millisecond: `2026-12-07 11:48:07.123 UTC`,
/// or in local time with the offset, `2026-12-07 17:18:07.123 UTC+05:30` (without `with_millis`,
/// to the second).
pub fn absolute_time(unix_nanos: u64, utc: bool, with_millis: bool) -> String {
    let millis = (unix_nanos / 1_000_000) as f64;
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis));
    let sub_millis = if with_millis {
        format!(".{:03}", (unix_nanos / 1_000_000) % 1000)
    } else {
        String::new()
    };
    if utc {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{sub_millis} UTC",
            date.get_utc_full_year(),
            date.get_utc_month() + 1,
            date.get_utc_date(),
            date.get_utc_hours(),
            date.get_utc_minutes(),
            date.get_utc_seconds()
        )
    } else {
        // getTimezoneOffset is UTC minus local, in minutes.
        let offset_minutes = -(date.get_timezone_offset() as i64);
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let offset = offset_minutes.abs();
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{sub_millis} UTC{sign}{:02}:{:02}",
            date.get_full_year(),
            date.get_month() + 1,
            date.get_date(),
            date.get_hours(),
            date.get_minutes(),
            date.get_seconds(),
            offset / 60,
            offset % 60
        )
    }
}

/// A time axis label: `12:04:05` for steps under a minute, `12:04` (with the date, `12-07 12:04`,
/// when the axis spans days) for steps under a day, else the date `12-07`.
pub fn axis_time(unix_nanos: u64, utc: bool, step_nanos: u64, spans_days: bool) -> String {
    const MINUTE: u64 = 60_000_000_000;
    const DAY: u64 = 24 * 60 * MINUTE;
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        (unix_nanos / 1_000_000) as f64,
    ));
    let (month, day, hours, minutes, seconds) = if utc {
        (
            date.get_utc_month() + 1,
            date.get_utc_date(),
            date.get_utc_hours(),
            date.get_utc_minutes(),
            date.get_utc_seconds(),
        )
    } else {
        (
            date.get_month() + 1,
            date.get_date(),
            date.get_hours(),
            date.get_minutes(),
            date.get_seconds(),
        )
    };
    if step_nanos >= DAY {
        format!("{month:02}-{day:02}")
    } else if step_nanos < MINUTE {
        format!("{hours:02}:{minutes:02}:{seconds:02}")
    } else if spans_days {
        format!("{month:02}-{day:02} {hours:02}:{minutes:02}")
    } else {
        format!("{hours:02}:{minutes:02}")
    }
}
