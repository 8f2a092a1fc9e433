//! The one rule for tests that need something from outside the repository (the shared real
//! trace files, ClickHouse, openssl, root for a tmpfs, …): under `CI` (which `.ci/run` sets)
//! its absence fails the test; elsewhere the test says loudly that it skipped, on the terminal
//! even though the test harness captures a passing test's output.
//!
//! cargo-nextest (`./x test`) shows a passing test's output only when asked, stderr included, so
//! a skip is also appended to the file named by `SPANVIEW_SKIPPED_TESTS`, which `./x test` sets
//! and prints at the end of its run.
//!
//! This file has no dependencies so that core's integration tests, which cannot depend on the
//! end-to-end crate, compile it too (`#[path = "../../tests/src/skip.rs"] mod skip;`): both
//! crates sit one folder below the workspace root.

#![allow(dead_code)] // each including test file uses part of it

use std::io::Write;
use std::path::{Path, PathBuf};

/// Fails `test` under `CI`; elsewhere writes past the harness's capture that it skipped, and
/// lists it in `$SPANVIEW_SKIPPED_TESTS`.
pub fn skip_or_fail(test: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {why}, and CI is set: this test must not skip");
    }
    // `eprintln!` would be captured, and a passing test's output is never shown.
    let _ = writeln!(std::io::stderr(), "\n*** {test}: SKIPPED: {why} ***\n");
    if let Some(path) = std::env::var_os("SPANVIEW_SKIPPED_TESTS") {
        // One write of one line: tests running at once append whole lines.
        let line = format!("{test}: {why}\n");
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(error) = appended {
            panic!("{test} skipped and could not say so in {path:?}: {error}");
        }
    }
}

/// The shared real-world trace files (`../shared/fixtures/real` beside the workspace), or
/// `None` after [`skip_or_fail`] where that folder is absent.
pub fn real_fixtures_dir(test: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/real");
    if dir.is_dir() {
        return Some(dir);
    }
    skip_or_fail(
        test,
        &format!(
            "{} is absent: the real trace files are not there",
            dir.display()
        ),
    );
    None
}
