//! Opened files kept in the browser (IndexedDB) until the user closes them, so that a reload
//! (or a shared tab's link to an opened trace) finds them again: the `File` itself is stored
//! (browsers keep a copy of its bytes) and parsed again on the next visit, as when it was opened.
//! Best effort: without IndexedDB (a private window may refuse it) files last as long as the
//! page, as before.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

const DATABASE: &str = "spanview";
const STORE: &str = "opened-files";

/// Opens the database (creating its store on first use) and hands it to `then`, or `None` when
/// the browser has none or refuses it.
fn with_database(then: impl FnOnce(Option<web_sys::IdbDatabase>) + 'static) {
    let Some(factory) = web_sys::window().and_then(|window| window.indexed_db().ok().flatten())
    else {
        then(None);
        return;
    };
    let Ok(request) = factory.open_with_u32(DATABASE, 1) else {
        then(None);
        return;
    };
    let upgrading = request.clone();
    let on_upgrade = Closure::once_into_js(move || {
        if let Ok(database) = upgrading.result()
            && let Ok(database) = database.dyn_into::<web_sys::IdbDatabase>()
            && !database.object_store_names().contains(STORE)
        {
            let _ = database.create_object_store(STORE);
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    // Either the success or the error callback runs, once.
    let then = std::rc::Rc::new(std::cell::RefCell::new(Some(then)));
    let (opened, on_error_then) = (request.clone(), then.clone());
    let on_success = Closure::once_into_js(move || {
        let database = opened
            .result()
            .ok()
            .and_then(|database| database.dyn_into::<web_sys::IdbDatabase>().ok());
        if let Some(then) = then.borrow_mut().take() {
            then(database);
        }
    });
    let on_error = Closure::once_into_js(move || {
        if let Some(then) = on_error_then.borrow_mut().take() {
            then(None);
        }
    });
    request.set_onsuccess(Some(on_success.unchecked_ref()));
    request.set_onerror(Some(on_error.unchecked_ref()));
}

fn store(
    database: &web_sys::IdbDatabase,
    mode: web_sys::IdbTransactionMode,
) -> Option<web_sys::IdbObjectStore> {
    database
        .transaction_with_str_and_mode(STORE, mode)
        .ok()?
        .object_store(STORE)
        .ok()
}

/// Keeps `file` under `key`.
pub fn keep(key: f64, file: web_sys::File) {
    with_database(move |database| {
        if let Some(store) =
            database.and_then(|database| store(&database, web_sys::IdbTransactionMode::Readwrite))
        {
            let _ = store.put_with_key(&file, &JsValue::from_f64(key));
        }
    });
}

/// Forgets the file kept under `key`.
pub fn forget(key: f64) {
    with_database(move |database| {
        if let Some(store) =
            database.and_then(|database| store(&database, web_sys::IdbTransactionMode::Readwrite))
        {
            let _ = store.delete(&JsValue::from_f64(key));
        }
    });
}

/// Every kept file with its key, oldest first, handed to `then` (an empty list when there is no
/// database).
pub fn load_all(then: impl FnOnce(Vec<(f64, web_sys::File)>) + 'static) {
    with_database(move |database| {
        let Some(store) =
            database.and_then(|database| store(&database, web_sys::IdbTransactionMode::Readonly))
        else {
            then(Vec::new());
            return;
        };
        let (Ok(keys), Ok(values)) = (store.get_all_keys(), store.get_all()) else {
            then(Vec::new());
            return;
        };
        // Requests of one transaction complete in order: the values come after the keys.
        let answered = values.clone();
        let on_values = Closure::once_into_js(move || {
            let keys = keys
                .result()
                .map(|value| js_sys::Array::from(&value))
                .unwrap_or_default();
            let values = answered
                .result()
                .map(|value| js_sys::Array::from(&value))
                .unwrap_or_default();
            let files = keys
                .iter()
                .zip(values.iter())
                .filter_map(|(key, value)| {
                    Some((key.as_f64()?, value.dyn_into::<web_sys::File>().ok()?))
                })
                .collect();
            then(files);
        });
        values.set_onsuccess(Some(on_values.unchecked_ref()));
    });
}
