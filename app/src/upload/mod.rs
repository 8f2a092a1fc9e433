//! Trace files opened in the browser: read with progress, parsed in a Web Worker by core's
//! decoders, and kept in memory (not on the server, unless the user saves them). Uploaded traces
//! open in the same trace and comparison views as stored ones: [`load_trace`] looks here first.

pub mod protocol;
mod saved;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use leptos::prelude::*;
use spanview_core::Trace;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::api::{self, ApiError};
use protocol::{ExportFormat, PARSE, READY, WorkerReply};
use spanview_core::formats::compact::{decode, trace_ranges};

/// The worker's loader script, written by Trunk next to the app (see app/index.html).
const WORKER_SCRIPT: &str = "/parse-worker_loader.js";

#[derive(Debug, Clone, PartialEq)]
pub enum FileState {
    Reading {
        percent: f64,
    },
    /// `percent` is `None` until the worker has recognised the format and reports how far it is.
    Parsing {
        percent: Option<f64>,
    },
    Loaded(LoadedFile),
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadedFile {
    pub format: String,
    /// Trace ids with a label ("service: root span").
    pub traces: Vec<(String, String)>,
    pub n_spans: usize,
    pub skipped_lines: usize,
    pub rejected_spans: u64,
    /// Why the first of them was left out, e.g. `span 3 ("GET /"): trace id: …`.
    pub rejected_reason: Option<String>,
    /// The ids were base64, not hex: worth a note, since other tools show them in hex.
    pub base64_ids: bool,
    pub parse_millis: f64,
    pub saved: Option<Result<u64, String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UploadedFile {
    pub id: u32,
    pub name: String,
    pub size_bytes: f64,
    pub state: FileState,
}

/// One uploaded trace, still encoded: the worker's reply it came in, and where it lies there.
#[derive(Clone)]
struct EncodedTrace {
    reply: Arc<Vec<u8>>,
    range: Range<usize>,
}

/// The opened files and their traces, shared through context by the whole app.
#[derive(Clone, Copy)]
pub struct Uploads {
    pub files: RwSignal<Vec<UploadedFile>>,
    /// A trace to open at once: the only trace of a file opened on its own.
    pub open_now: RwSignal<Option<String>>,
    /// Traces opened so far, decoded from `encoded` on first use.
    traces: StoredValue<HashMap<String, Arc<Trace>>>,
    /// Every uploaded trace as the worker encoded it: its file's reply and where in it the
    /// trace lies (decoding all of a large file's traces at once would delay its listing).
    encoded: StoredValue<HashMap<String, EncodedTrace>>,
    /// Each opened file, for "Save to server", which sends it exactly as it was.
    originals: StoredValue<HashMap<u32, web_sys::File>, LocalStorage>,
    next_id: StoredValue<u32>,
    /// Each opened file's key in the browser's database ([`saved`]), once it has loaded.
    saved_keys: StoredValue<HashMap<u32, f64>>,
    /// The files kept from an earlier visit, opened again when the app starts.
    restore: StoredValue<Restore, LocalStorage>,
}

/// Files from an earlier visit being opened again: a trace page waits for them before asking
/// the server (after a reload its trace may be one of theirs).
#[derive(Default)]
struct Restore {
    /// Waiting for the database's list of files.
    listing: bool,
    /// Files listed and not yet loaded (or failed).
    files: std::collections::HashSet<u32>,
    /// Who waits for the restore to finish.
    waiters: Vec<futures::channel::oneshot::Sender<()>>,
}

impl Uploads {
    pub fn provide() {
        provide_context(Self {
            files: RwSignal::new(Vec::new()),
            open_now: RwSignal::new(None),
            traces: StoredValue::new(HashMap::new()),
            encoded: StoredValue::new(HashMap::new()),
            originals: StoredValue::new_local(HashMap::new()),
            next_id: StoredValue::new(1),
            saved_keys: StoredValue::new(HashMap::new()),
            restore: StoredValue::new_local(Restore {
                listing: true,
                ..Restore::default()
            }),
        });
        let uploads = Self::get();
        saved::load_all(move |files| {
            for (key, file) in files {
                let id = uploads.open_file(file, false);
                uploads
                    .saved_keys
                    .update_value(|keys| _ = keys.insert(id, key));
                uploads
                    .restore
                    .update_value(|restore| _ = restore.files.insert(id));
            }
            // A file that failed at once (no worker) is settled already.
            let settled: Vec<u32> = uploads.files.with_untracked(|files| {
                files
                    .iter()
                    .filter(|file| {
                        matches!(file.state, FileState::Loaded(_) | FileState::Failed { .. })
                    })
                    .map(|file| file.id)
                    .collect()
            });
            uploads.restore.update_value(|restore| {
                restore.listing = false;
                for id in settled {
                    restore.files.remove(&id);
                }
            });
            uploads.finish_restore_if_done();
        });
        // Once the page has settled (a large trace painted), a format worker is loaded ahead of
        // the first file.
        set_timeout(warm_up_format_worker, std::time::Duration::from_secs(2));
    }

    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// An uploaded trace, by its id.
    pub fn trace(&self, trace_id: &str) -> Option<Arc<Trace>> {
        let trace_id = trace_id.to_lowercase();
        if let Some(trace) = self
            .traces
            .with_value(|traces| traces.get(&trace_id).cloned())
        {
            return Some(trace);
        }
        let encoded = self
            .encoded
            .with_value(|encoded| encoded.get(&trace_id).cloned())?;
        match decode(&encoded.reply[encoded.range]) {
            Ok(batch) => {
                let trace = Arc::new(Trace {
                    trace_id: batch.spans.first()?.trace_id,
                    batch,
                });
                self.traces
                    .update_value(|traces| _ = traces.insert(trace_id, trace.clone()));
                Some(trace)
            }
            Err(problem) => {
                leptos::logging::error!("uploaded trace {trace_id} is unreadable: {problem}");
                None
            }
        }
    }

    pub fn open_files(&self, files: &web_sys::FileList) {
        crate::perf::mark("spanview:upload-chosen");
        // One file of one trace opens that trace; of several files the user picks.
        let alone = files.length() == 1;
        for index in 0..files.length() {
            if let Some(file) = files.get(index) {
                self.open_file(file, alone);
            }
        }
    }

    /// Waits while files from an earlier visit are being opened again; whether it waited.
    async fn restored(&self) -> bool {
        let (sender, receiver) = futures::channel::oneshot::channel();
        let waiting = self.restore.try_update_value(|restore| {
            let pending = restore.listing || !restore.files.is_empty();
            if pending {
                restore.waiters.push(sender);
            }
            pending
        });
        if waiting != Some(true) {
            return false;
        }
        let _ = receiver.await;
        true
    }

    fn finish_restore_if_done(&self) {
        let waiters = self.restore.try_update_value(|restore| {
            if restore.listing || !restore.files.is_empty() {
                Vec::new()
            } else {
                std::mem::take(&mut restore.waiters)
            }
        });
        for waiter in waiters.unwrap_or_default() {
            let _ = waiter.send(());
        }
    }

    fn set_state(&self, id: u32, state: FileState) {
        let settled = matches!(state, FileState::Loaded(_) | FileState::Failed { .. });
        if settled
            && self
                .restore
                .try_update_value(|restore| restore.files.remove(&id))
                == Some(true)
        {
            // After the state is set, below: a waiting trace page then finds its trace.
            let uploads = *self;
            queue_microtask(move || uploads.finish_restore_if_done());
        }
        self.files.update(|files| {
            if let Some(file) = files.iter_mut().find(|file| file.id == id) {
                file.state = state;
            }
        });
    }

    /// Reads one file (reporting progress), then hands its bytes to a parsing worker; its id.
    fn open_file(&self, file: web_sys::File, alone: bool) -> u32 {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.files.update(|files| {
            files.push(UploadedFile {
                id,
                name: file.name(),
                size_bytes: file.size(),
                state: FileState::Reading { percent: 0.0 },
            });
        });
        let Ok(reader) = web_sys::FileReader::new() else {
            self.set_state(id, failed("this browser cannot read files"));
            return id;
        };
        self.originals.update_value(|all| {
            all.insert(id, file.clone());
        });
        let uploads = *self;
        // The parser starts while the file is read.
        let Some(worker) = FormatWorker::start(move |reply| match reply {
            Ok(reply) => uploads.accept(id, reply, alone),
            Err(message) => uploads.set_state(id, FileState::Failed { message }),
        }) else {
            return id;
        };
        worker.on_progress(move |fraction| {
            uploads.files.update(|files| {
                if let Some(UploadedFile {
                    state: FileState::Parsing { percent },
                    ..
                }) = files.iter_mut().find(|file| file.id == id)
                {
                    *percent = Some(fraction * 100.0);
                }
            });
        });
        let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(
            move |event: web_sys::ProgressEvent| {
                if event.length_computable() && event.total() > 0.0 {
                    let percent = event.loaded() * 100.0 / event.total();
                    uploads.set_state(id, FileState::Reading { percent });
                }
            },
        );
        let loaded_reader = reader.clone();
        let on_load =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |_| {
                match loaded_reader.result() {
                    Ok(buffer) => uploads.parse(id, &js_sys::Uint8Array::new(&buffer), &worker),
                    Err(_) => uploads.set_state(id, failed("the file could not be read")),
                }
            });
        let on_error = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |_| {
            uploads.set_state(id, failed("the file could not be read"));
        });
        reader.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        reader.set_onload(Some(on_load.as_ref().unchecked_ref()));
        reader.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // The reader calls back after this function returns; the closures live as long as the page.
        on_progress.forget();
        on_load.forget();
        on_error.forget();
        if reader.read_as_array_buffer(&file).is_err() {
            self.set_state(id, failed("the file could not be read"));
        }
        id
    }

    fn parse(&self, id: u32, bytes: &js_sys::Uint8Array, worker: &FormatWorker) {
        crate::perf::mark("spanview:upload-read");
        self.set_state(id, FileState::Parsing { percent: None });
        // The file's buffer moves to the worker: the page never copies it into its own memory
        // (a 50 MB copy blocked the page for a tenth of a second); "Save to server" sends the
        // `File` itself.
        worker.send(PARSE, bytes);
    }

    fn accept(&self, id: u32, (reply, bytes): (WorkerReply, Vec<u8>), alone: bool) {
        crate::perf::mark("spanview:upload-parsed");
        warm_up_format_worker();
        match reply {
            WorkerReply::Parsed {
                format,
                skipped_lines,
                rejected_spans,
                rejected_reason,
                base64_ids,
                parse_millis,
                traces,
            } => {
                let ranges = match trace_ranges(&bytes) {
                    Ok(ranges) if ranges.len() == traces.len() => ranges,
                    Ok(_) => {
                        let message = "unreadable parser reply: traces missing".to_owned();
                        self.set_state(id, FileState::Failed { message });
                        return;
                    }
                    Err(problem) => {
                        let message = format!("unreadable parser reply: {problem}");
                        self.set_state(id, FileState::Failed { message });
                        return;
                    }
                };
                let n_spans = traces.iter().map(|trace| trace.n_spans).sum();
                let reply = Arc::new(bytes);
                self.encoded.update_value(|encoded| {
                    for (trace, range) in traces.iter().zip(ranges) {
                        let reply = reply.clone();
                        encoded.insert(trace.trace_id.clone(), EncodedTrace { reply, range });
                    }
                });
                // A trace opened before, from an earlier file, gives way to this file's.
                self.traces.update_value(|decoded| {
                    for trace in &traces {
                        decoded.remove(&trace.trace_id);
                    }
                });
                let labels: Vec<(String, String)> = traces
                    .into_iter()
                    .map(|trace| (trace.trace_id, trace.label))
                    .collect();
                if let [(only_trace, _)] = labels.as_slice()
                    && alone
                {
                    self.open_now.set(Some(only_trace.clone()));
                }
                self.keep_in_browser(id);
                crate::perf::mark("spanview:upload-decoded");
                self.set_state(
                    id,
                    FileState::Loaded(LoadedFile {
                        format,
                        traces: labels,
                        n_spans,
                        skipped_lines,
                        rejected_spans,
                        rejected_reason,
                        base64_ids,
                        parse_millis,
                        saved: None,
                    }),
                );
            }
            WorkerReply::Failed { message } => self.set_state(id, FileState::Failed { message }),
            WorkerReply::Exported { .. } => {}
        }
    }

    /// Stores a file's bytes on the server (`POST /api/import`).
    pub async fn save_to_server(&self, id: u32) {
        let Some(original) = self.originals.with_value(|all| all.get(&id).cloned()) else {
            return;
        };
        let saved = api::import_file(&original)
            .await
            .map(|outcome| outcome.n_spans_added)
            .map_err(|error| error.to_string());
        self.files.update(|files| {
            if let Some(UploadedFile {
                state: FileState::Loaded(loaded),
                ..
            }) = files.iter_mut().find(|file| file.id == id)
            {
                loaded.saved = Some(saved);
            }
        });
    }

    /// Keeps a loaded file in the browser's database until it is closed (once per file).
    fn keep_in_browser(&self, id: u32) {
        if self.saved_keys.with_value(|keys| keys.contains_key(&id)) {
            return;
        }
        let Some(file) = self.originals.with_value(|all| all.get(&id).cloned()) else {
            return;
        };
        // Unique and in opening order: milliseconds, and the file's number within them.
        let key = js_sys::Date::now() + f64::from(id % 1000) / 1000.0;
        self.saved_keys
            .update_value(|keys| _ = keys.insert(id, key));
        saved::keep(key, file);
    }

    pub fn forget(&self, id: u32) {
        if let Some(key) = self
            .saved_keys
            .try_update_value(|keys| keys.remove(&id))
            .flatten()
        {
            saved::forget(key);
        }
        self.files
            .update(|files| files.retain(|file| file.id != id));
        self.originals.update_value(|all| {
            all.remove(&id);
        });
    }
}

/// A reply and the bytes that came with it.
type Reply = Result<(WorkerReply, Vec<u8>), String>;

/// A request waiting for the worker to be ready: the message and the buffers it transfers.
type Request = (js_sys::Array, js_sys::Array);

type Shared<T> = std::rc::Rc<std::cell::RefCell<T>>;

/// The one callback waiting for a worker's reply.
type ReplyCallback = Box<dyn FnOnce(Reply)>;

/// Hears how far a worker's parse has come, as a fraction.
type ProgressCallback = Box<dyn Fn(f64)>;

thread_local! {
    /// A format worker started ahead of need, so that a dropped file is decoded at once instead
    /// of waiting for the worker's wasm to load and compile (a quarter of a second on 2 cores).
    static SPARE: std::cell::RefCell<Option<FormatWorker>> = const { std::cell::RefCell::new(None) };
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
/// reply.
struct FormatWorker {
    worker: web_sys::Worker,
    /// `None` once the worker has said it is ready; before that, the request waiting for it.
    waiting: Shared<Option<Option<Request>>>,
    /// Who gets the reply; a spare has nobody yet.
    on_reply: Shared<Option<ReplyCallback>>,
    /// Who hears how far a parse has come (a fraction, 0 to 1), if anybody.
    on_progress: Shared<Option<ProgressCallback>>,
    /// A failure that came while nobody was asking (a spare that could not load).
    failed_early: Shared<Option<String>>,
    deliver: std::rc::Rc<dyn Fn(Reply)>,
}

impl FormatWorker {
    /// A worker that will answer `on_reply` once: the spare if it is healthy, else a new one.
    fn start(on_reply: impl FnOnce(Reply) + 'static) -> Option<Self> {
        let spare = SPARE
            .with(|spare| spare.borrow_mut().take())
            .filter(|spare| spare.failed_early.borrow().is_none());
        let worker = match spare.map_or_else(Self::spawn, Ok) {
            Ok(worker) => worker,
            Err(message) => {
                on_reply(Err(message));
                return None;
            }
        };
        *worker.on_reply.borrow_mut() = Some(Box::new(on_reply));
        Some(worker)
    }

    fn spawn() -> Result<Self, String> {
        let options = web_sys::WorkerOptions::new();
        let worker = web_sys::Worker::new_with_options(WORKER_SCRIPT, &options)
            .map_err(|_| String::from("cannot start the parser (Web Worker)"))?;
        let waiting: Shared<Option<Option<Request>>> =
            std::rc::Rc::new(std::cell::RefCell::new(Some(None)));
        let on_reply: Shared<Option<ReplyCallback>> = Default::default();
        let on_progress: Shared<Option<ProgressCallback>> = Default::default();
        let failed_early: Shared<Option<String>> = Default::default();
        // One answer only, whether it comes as a reply or as an error.
        let deliver: std::rc::Rc<dyn Fn(Reply)> = {
            let (on_reply, failed_early) = (on_reply.clone(), failed_early.clone());
            std::rc::Rc::new(move |reply: Reply| {
                let callback = on_reply.borrow_mut().take();
                match (callback, reply) {
                    (Some(callback), reply) => callback(reply),
                    (None, Err(message)) => *failed_early.borrow_mut() = Some(message),
                    (None, Ok(_)) => {}
                }
            })
        };
        let (talking_to, ready_waiting, reply_deliver, progress_listener) = (
            worker.clone(),
            waiting.clone(),
            deliver.clone(),
            on_progress.clone(),
        );
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let data = event.data();
                if let Some(fraction) = data.as_f64() {
                    if let Some(listener) = progress_listener.borrow().as_ref() {
                        listener(fraction);
                    }
                    return;
                }
                if data.as_string().as_deref() == Some(READY) {
                    crate::perf::mark("spanview:format-worker-ready");
                    let queued = ready_waiting.borrow_mut().take().flatten();
                    if let Some((message, transfer)) = queued {
                        post(&talking_to, &message, &transfer, &*reply_deliver);
                    }
                    return;
                }
                talking_to.terminate();
                let reply: js_sys::Array = data.unchecked_into();
                let text = reply.get(0).as_string().unwrap_or_default();
                let bytes = js_sys::Uint8Array::new(&reply.get(1)).to_vec();
                reply_deliver(
                    serde_json::from_str::<WorkerReply>(&text)
                        .map(|reply| (reply, bytes))
                        .map_err(|error| format!("unreadable parser reply: {error}")),
                );
            },
        );
        let (stopped, error_deliver) = (worker.clone(), deliver.clone());
        let on_error =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
                stopped.terminate();
                error_deliver(Err(format!("the parser stopped: {}", event.message())));
            });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // The worker calls back after this function returns; the closures live as long as the page.
        on_message.forget();
        on_error.forget();
        Ok(Self {
            worker,
            waiting,
            on_reply,
            on_progress,
            failed_early,
            deliver,
        })
    }

    /// `listener` hears how far the worker's parse has come, as a fraction.
    fn on_progress(&self, listener: impl Fn(f64) + 'static) {
        *self.on_progress.borrow_mut() = Some(Box::new(listener));
    }

    /// Sends `kind` and `payload`, whose buffer moves to the worker (no copy).
    fn send(&self, kind: &str, payload: &js_sys::Uint8Array) {
        let message = js_sys::Array::of2(&JsValue::from_str(kind), payload);
        let transfer = js_sys::Array::of1(&payload.buffer());
        let mut waiting = self.waiting.borrow_mut();
        match waiting.as_mut() {
            Some(queue) => *queue = Some((message, transfer)),
            None => post(&self.worker, &message, &transfer, &*self.deliver),
        }
    }
}

fn post(
    worker: &web_sys::Worker,
    message: &js_sys::Array,
    transfer: &js_sys::Array,
    answer: &dyn Fn(Reply),
) {
    if worker
        .post_message_with_transfer(message, transfer)
        .is_err()
    {
        answer(Err(String::from("cannot hand the data to the parser")));
    }
}

/// Runs one request in a format worker.
fn run_in_worker(kind: &str, payload: &js_sys::Uint8Array, on_reply: impl FnOnce(Reply) + 'static) {
    if let Some(worker) = FormatWorker::start(on_reply) {
        worker.send(kind, payload);
    }
}

/// Encodes `trace` in the worker and offers it as a download.
pub fn export_trace(trace: &Trace, format: ExportFormat) {
    let encoded = spanview_core::formats::compact::encode(&trace.batch);
    let payload = js_sys::Uint8Array::from(encoded.as_slice());
    let extension = match format {
        ExportFormat::OtlpJson => "otlp",
        ExportFormat::JaegerJson => "jaeger",
    };
    let file_name = format!("trace-{}.{extension}.json", trace.trace_id);
    run_in_worker(format.kind(), &payload, move |reply| {
        if let Ok((WorkerReply::Exported { text }, _)) = reply {
            crate::download::download(&file_name, "application/json", &text);
        }
    });
}

fn failed(message: &str) -> FileState {
    FileState::Failed {
        message: message.to_owned(),
    }
}

/// A trace from this browser's uploads, else from the server.
pub async fn load_trace(uploads: Uploads, trace_id: String) -> Result<Arc<Trace>, ApiError> {
    // A deep link may carry a 64-bit id (16 hex digits) or upper case: files and the server
    // know the trace by its 32-digit lower-case form.
    let trace_id = trace_id
        .parse::<spanview_core::TraceId>()
        .map_or(trace_id, |id| id.to_hex());
    if let Some(trace) = uploads.trace(&trace_id) {
        return Ok(trace);
    }
    // After a reload, the files kept from before may hold it once they have loaded again.
    if uploads.restored().await
        && let Some(trace) = uploads.trace(&trace_id)
    {
        return Ok(trace);
    }
    api::trace(&trace_id).await.map(Arc::new)
}
