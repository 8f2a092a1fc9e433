//! Issue 25: no import cycles between the files of `core/src` and `server/src`. A file's edges
//! are the paths it names (`use crate::a::b`, `super::x`, a child module's `child::f`), each
//! followed through `pub use` re-exports to the file that defines the item; a folder's
//! `mod.rs` (or `lib.rs`) is a file like the others, so a child reaching back into its front
//! closes a cycle. Unit-test modules are left out (tests may import anything).
//!
//! There are none: the test fails on the first one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use spanview_e2e::workspace_root;

/// Cycles known and accepted, as the sorted module paths of each (`crate` is `lib.rs`): none.
const KNOWN_CYCLES: &[(&str, &[&str])] = &[];

#[test]
fn no_import_cycles_between_files() {
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    for src in ["core/src", "server/src"] {
        let graph = Graph::read(&workspace_root().join(src));
        assert!(graph.edges.len() > 40, "{src}: too few files read");
        for cycle in graph.cycles() {
            found.push((src.to_owned(), cycle));
        }
    }
    found.sort();
    let mut known: Vec<(String, Vec<String>)> = KNOWN_CYCLES
        .iter()
        .map(|(src, modules)| {
            let mut modules: Vec<String> = modules.iter().map(|m| (*m).to_owned()).collect();
            modules.sort();
            ((*src).to_owned(), modules)
        })
        .collect();
    known.sort();
    assert_eq!(
        found, known,
        "import cycles between files changed (found, known): break a new one, or update \
         KNOWN_CYCLES when one is gone"
    );
}

/// The check on a small tree: a child using its front's item is a cycle; through a re-export
/// to a sibling it is not.
#[test]
fn the_check_sees_a_child_reaching_back_into_its_front() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "pub mod a;\npub mod b;\npub use a::Thing;\npub fn helper() {}\n",
    );
    write("a.rs", "pub struct Thing;\n");
    write(
        "b.rs",
        "use crate::Thing;\n#[cfg(test)]\nmod tests {\n    use crate::helper;\n}\n",
    );
    assert!(Graph::read(dir.path()).cycles().is_empty());
    write("b.rs", "pub fn f() { crate::helper() }\n");
    write(
        "lib.rs",
        "pub mod a;\npub mod b;\npub use a::Thing;\npub fn helper() { b::f() }\n",
    );
    assert_eq!(
        Graph::read(dir.path()).cycles(),
        [vec!["b".to_owned(), "crate".to_owned()]]
    );
}

type Module = Vec<String>;

struct Graph {
    edges: BTreeMap<Module, BTreeSet<Module>>,
}

impl Graph {
    fn read(src: &Path) -> Self {
        let mut texts: BTreeMap<Module, String> = BTreeMap::new();
        let has_lib = src.join("lib.rs").exists();
        let mut stack = vec![src.to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let relative = path.strip_prefix(src).unwrap().to_owned();
                if path.is_dir() {
                    // `bin/` holds crates of their own.
                    if relative != Path::new("bin") {
                        stack.push(path);
                    }
                    continue;
                }
                if path.extension().is_none_or(|ext| ext != "rs")
                    || (has_lib && relative == Path::new("main.rs"))
                {
                    continue;
                }
                let mut module: Module = relative
                    .with_extension("")
                    .iter()
                    .map(|part| part.to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    module.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    module.pop();
                }
                let text = std::fs::read_to_string(&path).unwrap();
                texts.insert(module, without_tests(&without_comments(&text)));
            }
        }
        let modules: BTreeSet<Module> = texts.keys().cloned().collect();
        let mut reexports: BTreeMap<(Module, String), Module> = BTreeMap::new();
        let mut uses: BTreeMap<Module, Vec<Vec<String>>> = BTreeMap::new();
        for (module, text) in &texts {
            let tokens = tokens(text);
            let mut paths = Vec::new();
            let mut i = 0;
            while i < tokens.len() {
                if tokens[i] == "use" {
                    let public = i > 0 && (tokens[i - 1] == "pub" || tokens[i - 1] == ")");
                    let end = tokens[i..]
                        .iter()
                        .position(|t| t == ";")
                        .map_or(tokens.len(), |n| i + n);
                    for path in expand(&tokens[i + 1..end]) {
                        if let Some(absolute) = absolute(module, &path, &modules) {
                            if public {
                                let name = path.last().unwrap().clone();
                                reexports.insert((module.clone(), name), absolute);
                            } else {
                                paths.push(absolute);
                            }
                        }
                    }
                    i = end + 1;
                    continue;
                }
                // A path outside `use`: an identifier followed by `::` and more.
                if is_identifier(&tokens[i]) && tokens.get(i + 1).is_some_and(|t| t == "::") {
                    let mut path = vec![tokens[i].clone()];
                    let mut j = i + 1;
                    while tokens.get(j).is_some_and(|t| t == "::")
                        && tokens.get(j + 1).is_some_and(|t| is_identifier(t))
                    {
                        path.push(tokens[j + 1].clone());
                        j += 2;
                    }
                    if let Some(absolute) = absolute(module, &path, &modules) {
                        paths.push(absolute);
                    }
                    i = j;
                    continue;
                }
                i += 1;
            }
            uses.insert(module.clone(), paths);
        }
        let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
        for (module, paths) in uses {
            let targets: BTreeSet<Module> = paths
                .iter()
                .filter_map(|path| resolve(path, &modules, &reexports, 0))
                .filter(|target| *target != module)
                .collect();
            edges.insert(module, targets);
        }
        Self { edges }
    }

    /// The strongly connected components of more than one file (Tarjan), each as sorted module
    /// names, sorted.
    fn cycles(&self) -> Vec<Vec<String>> {
        struct State<'a> {
            graph: &'a Graph,
            index: BTreeMap<&'a Module, usize>,
            low: BTreeMap<&'a Module, usize>,
            stack: Vec<&'a Module>,
            on_stack: BTreeSet<&'a Module>,
            found: Vec<Vec<String>>,
        }
        fn visit<'a>(state: &mut State<'a>, module: &'a Module) {
            let n = state.index.len();
            state.index.insert(module, n);
            state.low.insert(module, n);
            state.stack.push(module);
            state.on_stack.insert(module);
            let graph = state.graph;
            for target in &graph.edges[module] {
                if !state.index.contains_key(target) {
                    visit(state, target);
                    let low = state.low[module].min(state.low[target]);
                    state.low.insert(module, low);
                } else if state.on_stack.contains(target) {
                    let low = state.low[module].min(state.index[target]);
                    state.low.insert(module, low);
                }
            }
            if state.low[module] == state.index[module] {
                let mut component = Vec::new();
                loop {
                    let member = state.stack.pop().unwrap();
                    state.on_stack.remove(member);
                    component.push(name(member));
                    if member == module {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    state.found.push(component);
                }
            }
        }
        let mut state = State {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            found: Vec::new(),
        };
        for module in self.edges.keys() {
            if !state.index.contains_key(module) {
                visit(&mut state, module);
            }
        }
        state.found.sort();
        state.found
    }
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        String::from("crate")
    } else {
        module.join("::")
    }
}

/// Line comments removed (doc comments name paths that are not uses).
fn without_comments(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line.split("//").next().unwrap());
        out.push('\n');
    }
    out
}

/// `#[cfg(test)]` items removed: a `mod … {` (the unit tests, at the end of a file by
/// convention) to the end, a `mod …;` or `use …;` to its semicolon.
fn without_tests(text: &str) -> String {
    let mut out = text.to_owned();
    while let Some(at) = out.find("#[cfg(test)]") {
        let mut rest = out[at + "#[cfg(test)]".len()..].trim_start();
        while rest.starts_with("#[") {
            rest = rest[rest.find(']').unwrap() + 1..].trim_start();
        }
        let item_at = out.len() - rest.len();
        let semicolon = rest.find(';').unwrap_or(rest.len());
        let brace = rest.find('{').unwrap_or(rest.len());
        let is_module = rest.split_whitespace().take(2).any(|word| word == "mod");
        if is_module && brace < semicolon {
            out.truncate(at);
        } else {
            out.replace_range(at..item_at + semicolon, "");
        }
    }
    out
}

fn is_identifier(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
}

/// Identifiers, `::` and single punctuation; string and character literals skipped.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(String::from("::"));
            i += 2;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// The paths a use tree names (`a::{b, c::d as e}` is `a::b` and `a::c::d`); a glob names its
/// module.
fn expand(tree: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut prefix = Vec::new();
    let mut i = 0;
    while i < tree.len() {
        let token = &tree[i];
        if token == "{" {
            let mut depth = 0;
            let mut item_start = i + 1;
            for j in i..tree.len() {
                match tree[j].as_str() {
                    "{" => depth += 1,
                    "}" | "," if depth == 1 => {
                        for mut path in expand(&tree[item_start..j]) {
                            if path == ["self"] {
                                path.clear();
                            }
                            out.push([prefix.clone(), path].concat());
                        }
                        item_start = j + 1;
                        if tree[j] == "}" {
                            depth -= 1;
                        }
                    }
                    "}" => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
            return out;
        }
        if token == "as" || token == "*" {
            break;
        }
        if token != "::" {
            prefix.push(token.clone());
        }
        i += 1;
    }
    if !prefix.is_empty() {
        out.push(prefix);
    }
    out
}

/// A path as written in `module`, made absolute; `None` for other crates' paths.
fn absolute(module: &Module, path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let first = path.first()?;
    match first.as_str() {
        "crate" => Some(path[1..].to_vec()),
        "self" => Some([module.clone(), path[1..].to_vec()].concat()),
        "super" => {
            let mut base = module.clone();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            Some([base, rest.to_vec()].concat())
        }
        _ => {
            let child = [module.clone(), vec![first.clone()]].concat();
            modules
                .contains(&child)
                .then(|| [module.clone(), path.to_vec()].concat())
        }
    }
}

/// The file that defines what `path` names: its longest module prefix, followed through that
/// module's re-export of the next name.
fn resolve(
    path: &[String],
    modules: &BTreeSet<Module>,
    reexports: &BTreeMap<(Module, String), Module>,
    depth: usize,
) -> Option<Module> {
    for len in (0..=path.len()).rev() {
        let prefix = path[..len].to_vec();
        if modules.contains(&prefix) {
            if let Some(next) = path.get(len)
                && depth < 10
                && let Some(target) = reexports.get(&(prefix.clone(), next.clone()))
            {
                let full = [target.clone(), path[len + 1..].to_vec()].concat();
                return resolve(&full, modules, reexports, depth + 1);
            }
            return Some(prefix);
        }
    }
    None
}
