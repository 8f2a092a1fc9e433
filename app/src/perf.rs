//! Performance marks (`spanview:*`) that the browser benchmarks read (docs/benchmarks.md): the
//! page's own account of where the time between "data arrived" and "painted" goes.

pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
        let _ = performance.mark(name);
    }
}
