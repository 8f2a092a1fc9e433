//! Opening trace files: an "Open files" button, drag and drop anywhere on the page, and a panel
//! that shows each file's progress, format and traces, or what is wrong with it.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::format::count;
use crate::upload::{FileState, LoadedFile, UploadedFile, Uploads};

/// The header's file picker (several files at once).
#[component]
pub fn OpenFilesButton() -> impl IntoView {
    let uploads = Uploads::get();
    let input = NodeRef::<leptos::html::Input>::new();
    view! {
        <label class="open-files" title="Open OTLP, Jaeger or Zipkin trace files; they stay in this browser">
            "Open files"
            <input
                node_ref=input
                type="file"
                multiple
                aria-label="Open trace files"
                on:change=move |_| {
                    if let Some(element) = input.get_untracked() {
                        if let Some(files) = element.files() {
                            uploads.open_files(&files);
                        }
                        // Choosing the same file again must fire `change` again.
                        element.set_value("");
                    }
                }
            />
        </label>
    }
}

/// Files dropped anywhere on the page open like picked ones; an overlay says so while dragging.
#[component]
pub fn DropZone() -> impl IntoView {
    let uploads = Uploads::get();
    let dragging = RwSignal::new(false);
    let carries_files = |event: &web_sys::DragEvent| {
        event
            .data_transfer()
            .is_some_and(|transfer| transfer.types().includes(&"Files".into(), 0))
    };
    let over = window_event_listener(leptos::ev::dragover, move |event| {
        if carries_files(&event) {
            event.prevent_default();
            if !dragging.get_untracked() {
                // Files are coming: have a format worker ready for them.
                crate::upload::warm_up_format_worker();
            }
            dragging.set(true);
        }
    });
    let leave = window_event_listener(leptos::ev::dragleave, move |event| {
        // Leaving the window (not just moving between elements) has no related target.
        if event.related_target().is_none() {
            dragging.set(false);
        }
    });
    let drop = window_event_listener(leptos::ev::drop, move |event| {
        dragging.set(false);
        if let Some(files) = event.data_transfer().and_then(|transfer| transfer.files()) {
            event.prevent_default();
            uploads.open_files(&files);
        }
    });
    on_cleanup(move || {
        over.remove();
        leave.remove();
        drop.remove();
    });
    move || {
        dragging.get().then(|| {
            view! {
                <div class="drop-overlay" aria-hidden="true">
                    <p>"Drop trace files to open them"</p>
                    <p class="hint">"OTLP JSON or protobuf, Collector JSON Lines, Jaeger JSON, Zipkin v2; gzip too"</p>
                </div>
            }
        })
    }
}

/// Every opened file: progress while reading and parsing, then its traces, or its error. Sits
/// above the page; a file opened on its own with one trace opens that trace.
#[component]
pub fn UploadsPanel() -> impl IntoView {
    let uploads = Uploads::get();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(trace_id) = uploads.open_now.get() {
            uploads.open_now.set(None);
            navigate(&format!("/trace/{trace_id}"), Default::default());
        }
    });
    move || {
        let files = uploads.files.get();
        (!files.is_empty()).then(|| {
            view! {
                <aside class="uploads-panel" aria-label="Opened files">
                    <h2>"Opened files"</h2>
                    <ul>
                        {files.into_iter().map(|file| view! { <FileEntry file=file /> }).collect_view()}
                    </ul>
                </aside>
            }
        })
    }
}

#[component]
fn FileEntry(file: UploadedFile) -> impl IntoView {
    let uploads = Uploads::get();
    let id = file.id;
    let size = human_size(file.size_bytes);
    let body = match file.state {
        FileState::Reading { percent } => view! {
            <progress max="100" value=format!("{percent:.0}")></progress>
            <span class="status">{format!("reading {percent:.0} %")}</span>
        }
        .into_any(),
        FileState::Parsing { percent: None } => view! {
            <progress></progress>
            <span class="status">"parsing…"</span>
        }
        .into_any(),
        FileState::Parsing {
            percent: Some(percent),
        } => view! {
            <progress max="100" value=format!("{percent:.0}")></progress>
            <span class="status">{format!("parsing {percent:.0} %")}</span>
        }
        .into_any(),
        FileState::Loaded(loaded) => view! { <LoadedEntry id=id loaded=loaded /> }.into_any(),
        FileState::Failed { message } => {
            view! { <p class="upload-error" role="alert">{format!("{}: {message}", file.name)}</p> }
                .into_any()
        }
    };
    view! {
        <li class="upload" data-file-name=file.name.clone()>
            <div class="upload-head">
                <span class="file-name">{file.name.clone()}</span>
                <span class="file-size">{size}</span>
                <button class="forget" aria-label="Close this file" on:click=move |_| uploads.forget(id)>"×"</button>
            </div>
            {body}
        </li>
    }
}

#[component]
fn LoadedEntry(id: u32, loaded: LoadedFile) -> impl IntoView {
    let uploads = Uploads::get();
    let n_traces = loaded.traces.len();
    let mut summary = format!(
        "{}: {} in {}",
        loaded.format,
        count(loaded.n_spans as u64, "span"),
        count(n_traces as u64, "trace")
    );
    if loaded.skipped_lines > 0 {
        summary.push_str(&format!(
            "; {} metrics/logs lines skipped",
            loaded.skipped_lines
        ));
    }
    if loaded.base64_ids {
        summary.push_str("; ids were base64 (shown in hex)");
    }
    if loaded.rejected_spans > 0 {
        summary.push_str(&format!(
            "; {} left out",
            count(loaded.rejected_spans, "span")
        ));
        if let Some(reason) = &loaded.rejected_reason {
            summary.push_str(&format!(", the first: {reason}"));
        }
    }
    let links = loaded
        .traces
        .iter()
        .take(20)
        .map(|(trace_id, label)| {
            view! { <li><a href=format!("/trace/{trace_id}")>{label.clone()}</a></li> }
        })
        .collect_view();
    let more = (n_traces > 20)
        .then(|| view! { <li class="more">{format!("and {} more", n_traces - 20)}</li> });
    // Two traces of one file can be compared directly.
    let compare = (n_traces == 2).then(|| {
        view! { <a class="compare-link" href=format!("/compare/{}/{}", loaded.traces[0].0, loaded.traces[1].0)>"Compare these two"</a> }
    });
    let saved = match loaded.saved {
        None => view! {
            <button class="save" on:click=move |_| { leptos::task::spawn_local(async move { uploads.save_to_server(id).await }); }>
                "Save to server"
            </button>
        }
        .into_any(),
        Some(Ok(added)) => view! { <span class="saved">{format!("saved ({})", count(added, "new span"))}</span> }.into_any(),
        Some(Err(message)) => view! { <span class="upload-error">{format!("not saved: {message}")}</span> }.into_any(),
    };
    let parse_millis = format!("{:.0}", loaded.parse_millis);
    view! {
        <p class="status" data-parse-ms=parse_millis>{summary}</p>
        <ul class="upload-traces">{links}{more}</ul>
        <div class="upload-actions">{compare}{saved}</div>
    }
}

fn human_size(bytes: f64) -> String {
    match bytes {
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kB", b / 1e3),
        b => format!("{b:.0} B"),
    }
}
