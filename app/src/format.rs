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
