//! The opened files and their traces (context [`Uploads`]): each file read with progress and
//! handed to a format worker ([`super::worker`]), its traces kept in the worker's compact reply
//! until first opened, the `File` kept for "Save to server" and in the browser's database
//! ([`super::saved`]) until it is closed.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use leptos::prelude::*;
use spanview_core::Trace;
use spanview_core::formats::compact::{decode, trace_ranges};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::protocol::{PARSE, WorkerReply};
use super::saved;
use super::worker::{FormatWorker, warm_up_format_worker};
use crate::api;

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
    /// Each file still being read or parsed: its reader and worker, with their handlers.
    jobs: StoredValue<HashMap<u32, FileJob>, LocalStorage>,
    next_id: StoredValue<u32>,
    /// Each opened file's key in the browser's database ([`saved`]), once it has loaded.
    saved_keys: StoredValue<HashMap<u32, f64>>,
    /// When each file was opened (ms since the epoch): its key's order, whichever file loads
    /// first.
    opened_at: StoredValue<HashMap<u32, f64>>,
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
            jobs: StoredValue::new_local(HashMap::new()),
            next_id: StoredValue::new(1),
            saved_keys: StoredValue::new(HashMap::new()),
            opened_at: StoredValue::new(HashMap::new()),
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
    pub(super) async fn restored(&self) -> bool {
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
        if settled {
            // Its reader and worker are done. Dropped after this turn: this may run inside
            // their handlers, or while the jobs are borrowed to send the worker its request.
            let jobs = self.jobs;
            queue_microtask(move || _ = jobs.try_update_value(|jobs| jobs.remove(&id)));
        }
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
        let now = js_sys::Date::now();
        self.opened_at.update_value(|all| _ = all.insert(id, now));
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
                    Ok(buffer) => uploads.parse(id, &js_sys::Uint8Array::new(&buffer)),
                    Err(_) => uploads.set_state(id, failed("the file could not be read")),
                }
            });
        let on_error = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |_| {
            uploads.set_state(id, failed("the file could not be read"));
        });
        reader.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        reader.set_onload(Some(on_load.as_ref().unchecked_ref()));
        reader.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // The reader calls back after this function returns: the handlers live in the file's
        // job until it has loaded or failed, or is closed.
        let job = FileJob {
            reader: reader.clone(),
            _reader_handlers: [on_progress, on_load, on_error],
            worker,
        };
        self.jobs.update_value(|jobs| _ = jobs.insert(id, job));
        if reader.read_as_array_buffer(&file).is_err() {
            self.set_state(id, failed("the file could not be read"));
        }
        id
    }

    fn parse(&self, id: u32, bytes: &js_sys::Uint8Array) {
        crate::perf::mark("spanview:upload-read");
        self.set_state(id, FileState::Parsing { percent: None });
        // The file's buffer moves to the worker: the page never copies it into its own memory
        // (a 50 MB copy blocked the page for a tenth of a second); "Save to server" sends the
        // `File` itself.
        self.jobs.with_value(|jobs| {
            if let Some(job) = jobs.get(&id) {
                job.worker.send(PARSE, bytes);
            }
        });
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
        // Unique and in opening order: the millisecond it was opened in, and the file's number
        // within it (files opened together load in any order).
        let opened_at = self
            .opened_at
            .with_value(|all| all.get(&id).copied())
            .unwrap_or_else(js_sys::Date::now);
        let key = opened_at + f64::from(id % 1000) / 1000.0;
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
        self.opened_at.update_value(|all| _ = all.remove(&id));
        // A file closed while it is read or parsed: its reader and worker stop.
        self.jobs.update_value(|jobs| _ = jobs.remove(&id));
    }
}

/// What reading and parsing one file holds while it lasts. Dropping it (the file loaded,
/// failed or was closed) stops the reader and the worker and frees their handlers.
struct FileJob {
    reader: web_sys::FileReader,
    _reader_handlers: [Closure<dyn FnMut(web_sys::ProgressEvent)>; 3],
    worker: FormatWorker,
}

impl Drop for FileJob {
    fn drop(&mut self) {
        self.reader.set_onprogress(None);
        self.reader.set_onload(None);
        self.reader.set_onerror(None);
        // Still reading: the file was closed first. (A finished reader is left alone.)
        if self.reader.ready_state() == web_sys::FileReader::LOADING {
            self.reader.abort();
        }
    }
}

fn failed(message: &str) -> FileState {
    FileState::Failed {
        message: message.to_owned(),
    }
}
