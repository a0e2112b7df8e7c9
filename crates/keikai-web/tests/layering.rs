//! The web crate's modules import in one direction: no file reaches, through `crate::` paths,
//! a file that reaches it back. (A circle makes every module in it depend on all the others,
//! which is how the doors once grew into one knot.)

#![allow(clippy::unwrap_used, reason = "a test: a failure should stop it")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/ui/cases.rs` → `ui::cases`, `src/http/mod.rs` → `http`, `src/lib.rs` → ``.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// The paths a `crate::…` reference names, with `{a, b::c}` groups expanded.
fn expand(prefix: &str, rest: &str, out: &mut Vec<String>) -> usize {
    let mut path = prefix.to_owned();
    let mut i = 0;
    let bytes = rest.as_bytes();
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
            i += 1;
        } else if c == '{' {
            i += 1;
            loop {
                while i < bytes.len() && (bytes[i] as char).is_whitespace() {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    return i + 1;
                }
                i += expand(&path, &rest[i..], out);
                while i < bytes.len() && matches!(bytes[i], b',' | b' ' | b'\n') {
                    i += 1;
                }
            }
        } else {
            break;
        }
    }
    out.push(path.trim_end_matches(':').to_owned());
    i
}

/// The module a path lands in: its longest prefix that is a module of the crate.
fn target(modules: &BTreeSet<String>, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|m| modules.contains(m))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&src, file);
        let text = std::fs::read_to_string(file).unwrap();
        for (at, _) in text.match_indices("crate::") {
            let mut paths = Vec::new();
            expand("", &text[at + "crate::".len()..], &mut paths);
            for p in paths {
                if let Some(to) = target(&modules, &p)
                    && to != from
                    && !to.is_empty()
                    && !from.is_empty()
                {
                    edges.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    assert!(
        edges.values().map(BTreeSet::len).sum::<usize>() > 50,
        "the scan found too few imports to mean anything: {edges:?}"
    );
    // Depth-first search for a back edge; reports the circle it closes.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|s| s == m) {
            let mut circle = stack[pos..].to_vec();
            circle.push(m.to_owned());
            return Some(circle);
        }
        if done.contains(m) {
            return None;
        }
        stack.push(m.to_owned());
        for next in edges.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for m in &modules {
        if let Some(circle) = visit(m, &edges, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", circle.join(" → "));
        }
    }
}

#[test]
fn group_imports_are_expanded() {
    let mut out = Vec::new();
    expand("", "http::{auth, ops::{a, b}};", &mut out);
    assert_eq!(out, ["http::auth", "http::ops::a", "http::ops::b"]);
    let modules: BTreeSet<String> = ["http".to_owned(), "http::auth".to_owned()].into();
    assert_eq!(
        target(&modules, "http::auth::Identity"),
        Some("http::auth".to_owned())
    );
}
