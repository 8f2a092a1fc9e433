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

/// Longest slice of [`run_sliced`] work before the page's thread is given back, so that frames
/// and input keep coming while a million-span trace is read (the limit for a task is
/// 100 ms; a slice is checked every [`STEP_BUDGET`] rows, so it ends a little past this).
const SLICE_MS: f64 = 25.0;

/// Rows of work between two looks at the clock.
pub const STEP_BUDGET: usize = 500;

pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|window| window.performance())
        .map_or(0.0, |performance| performance.now())
}

/// Resolves in a task of its own, soon (a `MessageChannel` message: `setTimeout(0)` would wait
/// 4 ms once nested), so the browser can paint a frame and take input in between.
pub async fn next_task() {
    let (sender, receiver) = futures::channel::oneshot::channel::<()>();
    let Ok(channel) = web_sys::MessageChannel::new() else {
        return;
    };
    let on_message = Closure::once_into_js(move || {
        let _ = sender.send(());
    });
    channel
        .port1()
        .set_onmessage(Some(on_message.unchecked_ref()));
    if channel.port2().post_message(&JsValue::NULL).is_err() {
        return;
    }
    let _ = receiver.await;
    // The channel lives until its message has arrived.
    drop(channel);
}

/// A step this long is a long task by itself: the benchmark reads these marks
/// (`spanview:slow-step:{what}:{ms}`) to tell which work still blocks the page.
const SLOW_STEP_MS: f64 = 50.0;

/// Marks a step of `what` that took from `started_ms` until now, if it was slow.
pub fn note_if_slow(what: &str, started_ms: f64) {
    let took = now_ms() - started_ms;
    if took >= SLOW_STEP_MS {
        crate::perf::mark(&format!("spanview:slow-step:{what}:{}", took.round()));
    }
}

/// Runs `step(STEP_BUDGET)` (work named `what`) until it returns true, in slices of about
/// [`SLICE_MS`] with a task boundary between them; stops early (returning false) once `wanted`
/// says the result is no longer needed (the page moved on).
pub async fn run_sliced(
    what: &str,
    mut step: impl FnMut(usize) -> bool,
    wanted: impl Fn() -> bool,
) -> bool {
    loop {
        let started = now_ms();
        loop {
            let step_started = now_ms();
            let done = step(STEP_BUDGET);
            note_if_slow(what, step_started);
            if done {
                return true;
            }
            if now_ms() - started >= SLICE_MS {
                break;
            }
        }
        next_task().await;
        if !wanted() {
            return false;
        }
    }
}
