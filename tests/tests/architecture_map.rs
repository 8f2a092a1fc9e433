//! Issue 25: ARCHITECTURE.md's code map names every module file of `core/src`, `server/src` and
//! `app/src`, so the map cannot drift from the tree unnoticed. A file is named in its crate's
//! section (`### \`core/\``, …) by its path from `src/`, or by its file name when its folder
//! (`name/`) is named there too; a file name several files share must be named as often (or by
//! path), and a folder's `mod.rs` is named by its folder. No spanview process is needed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use spanview_e2e::workspace_root;

/// Every `.rs` file under `dir`, as paths from `dir` with `/` separators.
fn rust_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let relative = path.strip_prefix(dir).unwrap();
                let parts: Vec<String> = relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                files.push(parts.join("/"));
            }
        }
    }
    files.sort();
    files
}

/// The text of `### \`crate/\`` up to the next `### ` heading.
fn crate_section<'a>(map: &'a str, crate_dir: &str) -> &'a str {
    let heading = format!("### `{crate_dir}/`");
    let start = map
        .find(&heading)
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has no {heading} section"));
    let rest = &map[start + heading.len()..];
    let end = rest.find("\n### ").unwrap_or(rest.len());
    &rest[..end]
}

/// How often `` `…path` `` appears, the backticked name possibly led by folders (`api/otlp.rs`,
/// `server/src/api/otlp.rs` both name `otlp.rs` and `api/otlp.rs`).
fn mentions(section: &str, path: &str) -> usize {
    let mut count = 0;
    for (at, _) in section.match_indices(&format!("{path}`")) {
        let before = &section[..at];
        let Some(open) = before.rfind('`') else {
            continue;
        };
        let lead = &before[open + 1..];
        if lead.is_empty() || (lead.ends_with('/') && !lead.contains(char::is_whitespace)) {
            count += 1;
        }
    }
    count
}

fn unnamed_files(map: &str, crate_dir: &str) -> Vec<String> {
    let section = crate_section(map, crate_dir);
    let files = rust_files(&workspace_root().join(crate_dir).join("src"));
    let mut sharing_a_name: HashMap<&str, usize> = HashMap::new();
    for file in &files {
        let name = file.rsplit('/').next().unwrap();
        *sharing_a_name.entry(name).or_default() += 1;
    }
    let mut unnamed = Vec::new();
    for file in &files {
        let (folder, name) = match file.rsplit_once('/') {
            Some((folder, name)) => (Some(folder), name),
            None => (None, file.as_str()),
        };
        let folder_named = |folder: &str| {
            let last = folder.rsplit('/').next().unwrap();
            mentions(section, &format!("{last}/")) > 0
        };
        let named = if name == "mod.rs" {
            folder.is_some_and(folder_named) || mentions(section, file) > 0
        } else if mentions(section, file) > 0 && folder.is_some() {
            true
        } else {
            mentions(section, name) >= sharing_a_name[name] && folder.is_none_or(folder_named)
        };
        if !named {
            unnamed.push(format!("{crate_dir}/src/{file}"));
        }
    }
    unnamed
}

#[test]
fn every_module_file_is_on_the_map() {
    let map = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).unwrap();
    let mut unnamed = Vec::new();
    for crate_dir in ["core", "server", "app"] {
        unnamed.extend(unnamed_files(&map, crate_dir));
    }
    assert!(
        unnamed.is_empty(),
        "ARCHITECTURE.md's code map does not name these files (add a few words in their crate's \
         section): {unnamed:#?}"
    );
}

#[test]
fn the_check_sees_a_missing_file() {
    // The check itself: a map without `waterfall.rs` misses exactly that file.
    let map = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).unwrap();
    let without = map.replace("`waterfall.rs`", "`the waterfall`");
    assert_eq!(
        unnamed_files(&without, "core"),
        vec!["core/src/waterfall.rs".to_owned()]
    );
}
