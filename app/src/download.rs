//! Offering text as a file download (exports of traces and comparisons).

use wasm_bindgen::JsCast;

/// Saves `text` as `file_name` through a Blob URL (large exports do not fit a `data:` URL).
pub fn download(file_name: &str, mime_type: &str, text: &str) {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime_type);
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(link) = document
        .create_element("a")
        .ok()
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = link.set_attribute("href", &url);
        let _ = link.set_attribute("download", file_name);
        link.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
