//! The format worker (`bin/parse-worker.rs`): one per request, stopped after its reply, with a
//! spare kept loaded so that a file does not wait for the worker's wasm to compile.
//!
//! A [`FormatWorker`] owns its worker's event handlers (they hold only a weak reference back), so
//! dropping it stops the worker and frees them: nothing is leaked per file or per export.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::protocol::{READY, WorkerReply};

/// The worker's loader script, written by Trunk next to the app (see app/index.html).
const WORKER_SCRIPT: &str = "/parse-worker_loader.js";

/// A reply and the bytes that came with it.
pub(super) type Reply = Result<(WorkerReply, Vec<u8>), String>;

/// A request waiting for the worker to be ready: the message and the buffers it transfers.
type Request = (js_sys::Array, js_sys::Array);

/// The one callback waiting for a worker's reply.
type ReplyCallback = Box<dyn FnOnce(Reply)>;

/// Hears how far a worker's parse has come, as a fraction.
type ProgressCallback = Box<dyn Fn(f64)>;

thread_local! {
    /// A format worker started ahead of need, so that a dropped file is decoded at once instead
    /// of waiting for the worker's wasm to load and compile (a quarter of a second on 2 cores).
    static SPARE: RefCell<Option<FormatWorker>> = const { RefCell::new(None) };
}

/// Starts the spare format worker if there is none: when the page has settled, and again after
/// each file.
pub fn warm_up_format_worker() {
    SPARE.with(|spare| {
        if spare.borrow().is_none() {
            *spare.borrow_mut() = FormatWorker::spawn().ok();
        }
    });
}

/// A format worker for one request: the spare, or started at once (it loads and compiles while
/// the file is still being read); sent its request when both are ready, stopped after its one
/// reply, and stopped (its handlers freed) when dropped.
pub(super) struct FormatWorker {
    shared: Rc<Shared>,
}

/// What the worker's handlers and its owner share.
struct Shared {
    worker: web_sys::Worker,
    /// `None` once the worker has said it is ready; before that, the request waiting for it.
    waiting: RefCell<Option<Option<Request>>>,
    /// Who gets the reply; a spare has nobody yet.
    on_reply: RefCell<Option<ReplyCallback>>,
    /// Who hears how far a parse has come (a fraction, 0 to 1), if anybody.
    on_progress: RefCell<Option<ProgressCallback>>,
    /// A failure that came while nobody was asking (a spare that could not load).
    failed_early: RefCell<Option<String>>,
    /// The worker's `onmessage` and `onerror`: they live exactly as long as this.
    _handlers: (MessageHandler, ErrorHandler),
}

type MessageHandler = Closure<dyn FnMut(web_sys::MessageEvent)>;
type ErrorHandler = Closure<dyn FnMut(web_sys::ErrorEvent)>;

impl FormatWorker {
    /// A worker that will answer `on_reply` once: the spare if it is healthy, else a new one.
    pub(super) fn start(on_reply: impl FnOnce(Reply) + 'static) -> Option<Self> {
        let spare = SPARE
            .with(|spare| spare.borrow_mut().take())
            .filter(|spare| spare.shared.failed_early.borrow().is_none());
        let worker = match spare.map_or_else(Self::spawn, Ok) {
            Ok(worker) => worker,
            Err(message) => {
                on_reply(Err(message));
                return None;
            }
        };
        *worker.shared.on_reply.borrow_mut() = Some(Box::new(on_reply));
        Some(worker)
    }

    fn spawn() -> Result<Self, String> {
        let options = web_sys::WorkerOptions::new();
        let worker = web_sys::Worker::new_with_options(WORKER_SCRIPT, &options)
            .map_err(|_| String::from("cannot start the parser (Web Worker)"))?;
        let shared = Rc::new_cyclic(|shared: &Weak<Shared>| {
            let on_message = {
                let shared = shared.clone();
                MessageHandler::new(move |event: web_sys::MessageEvent| {
                    if let Some(shared) = shared.upgrade() {
                        shared.hear(event.data());
                    }
                })
            };
            let on_error = {
                let shared = shared.clone();
                ErrorHandler::new(move |event: web_sys::ErrorEvent| {
                    if let Some(shared) = shared.upgrade() {
                        shared.worker.terminate();
                        shared.deliver(Err(format!("the parser stopped: {}", event.message())));
                    }
                })
            };
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            Shared {
                worker,
                waiting: RefCell::new(Some(None)),
                on_reply: RefCell::default(),
                on_progress: RefCell::default(),
                failed_early: RefCell::default(),
                _handlers: (on_message, on_error),
            }
        });
        Ok(Self { shared })
    }

    /// `listener` hears how far the worker's parse has come, as a fraction.
    pub(super) fn on_progress(&self, listener: impl Fn(f64) + 'static) {
        *self.shared.on_progress.borrow_mut() = Some(Box::new(listener));
    }

    /// Sends `kind` and `payload`, whose buffer moves to the worker (no copy).
    pub(super) fn send(&self, kind: &str, payload: &js_sys::Uint8Array) {
        let message = js_sys::Array::of2(&JsValue::from_str(kind), payload);
        let transfer = js_sys::Array::of1(&payload.buffer());
        let mut waiting = self.shared.waiting.borrow_mut();
        match waiting.as_mut() {
            Some(queue) => *queue = Some((message, transfer)),
            None => {
                drop(waiting);
                self.shared.post(&message, &transfer);
            }
        }
    }
}

impl Shared {
    /// A message from the worker: progress, "ready", or its one reply.
    fn hear(&self, data: JsValue) {
        if let Some(fraction) = data.as_f64() {
            if let Some(listener) = self.on_progress.borrow().as_ref() {
                listener(fraction);
            }
            return;
        }
        if data.as_string().as_deref() == Some(READY) {
            crate::perf::mark("spanview:format-worker-ready");
            let queued = self.waiting.borrow_mut().take().flatten();
            if let Some((message, transfer)) = queued {
                self.post(&message, &transfer);
            }
            return;
        }
        self.worker.terminate();
        let reply: js_sys::Array = data.unchecked_into();
        let text = reply.get(0).as_string().unwrap_or_default();
        let bytes = js_sys::Uint8Array::new(&reply.get(1)).to_vec();
        self.deliver(
            serde_json::from_str::<WorkerReply>(&text)
                .map(|reply| (reply, bytes))
                .map_err(|error| format!("unreadable parser reply: {error}")),
        );
    }

    /// One answer only, whether it comes as a reply or as an error.
    fn deliver(&self, reply: Reply) {
        let callback = self.on_reply.borrow_mut().take();
        match (callback, reply) {
            (Some(callback), reply) => callback(reply),
            (None, Err(message)) => *self.failed_early.borrow_mut() = Some(message),
            (None, Ok(_)) => {}
        }
    }

    fn post(&self, message: &js_sys::Array, transfer: &js_sys::Array) {
        if self
            .worker
            .post_message_with_transfer(message, transfer)
            .is_err()
        {
            self.deliver(Err(String::from("cannot hand the data to the parser")));
        }
    }
}

impl Drop for Shared {
    /// Nobody wants the answer any more: the worker stops and calls nothing (its handlers are
    /// dropped with this; wasm-bindgen frees one that is running when it returns).
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

/// Runs one request in a format worker, which is kept until it has answered and then dropped.
pub(super) fn run_in_worker(
    kind: &str,
    payload: &js_sys::Uint8Array,
    on_reply: impl FnOnce(Reply) + 'static,
) {
    let kept: Rc<RefCell<Option<FormatWorker>>> = Rc::default();
    let release = kept.clone();
    let Some(worker) = FormatWorker::start(move |reply| {
        let worker = release.borrow_mut().take();
        on_reply(reply);
        drop(worker);
    }) else {
        return;
    };
    worker.send(kind, payload);
    // Unless it answered at once (it could not be sent the request), the worker now waits in
    // `kept`, which its own reply callback holds until it runs: a cycle that the reply breaks.
    *kept.borrow_mut() = Some(worker);
}
