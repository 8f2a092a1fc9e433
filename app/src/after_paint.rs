//! Work that waits until the rows are on screen: the minimap, the rows just outside the view and
//! N+1 detection are not needed for the first frame of a trace, and on two cores each of them
//! (20 to 45 ms for a 100,000-span trace) would otherwise delay it or the frame after it.

use leptos::prelude::request_animation_frame;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The longest an idle task waits for the browser to be idle.
const MAX_WAIT_MS: i32 = 150;

/// Runs `work` after the frame being prepared has been painted, once the browser is idle (or
/// [`MAX_WAIT_MS`] later at most). Several such tasks run in the order they were asked for.
pub fn when_idle_after_paint(work: impl FnOnce() + 'static) {
    request_animation_frame(move || when_idle(work));
}

fn when_idle(work: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let callback = Closure::once_into_js(work);
    let options = web_sys::IdleRequestOptions::new();
    options.set_timeout(MAX_WAIT_MS as u32);
    // Browsers without requestIdleCallback (Safari) run it as the next task instead.
    if window
        .request_idle_callback_with_options(callback.unchecked_ref(), &options)
        .is_err()
    {
        let _ = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), 0);
    }
}
