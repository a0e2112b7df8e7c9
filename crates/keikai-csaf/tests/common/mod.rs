//! Access to the data-driven test corpus, shared by the integration tests.
//!
//! The corpus lives outside the repository: `KEIKAI_CORPUS` or `../../../shared/corpus` from this
//! crate. Without it the tests print that they skip and return.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The `csaf` folder of the corpus, if `needed` (a path inside it, `""` for the folder itself)
/// exists; otherwise says that the test skips.
pub(crate) fn csaf_corpus(needed: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("KEIKAI_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let csaf = dir.join("csaf");
    if csaf.join(needed).exists() {
        Some(csaf)
    } else {
        eprintln!(
            "skipping: {} not found (set KEIKAI_CORPUS)",
            csaf.join(needed).display()
        );
        None
    }
}

/// Reads and parses one JSON file; a broken corpus fails loudly.
pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

/// The `testcases.json` index of a folder of test documents.
pub(crate) fn testcases(dir: &Path) -> Value {
    read_json(&dir.join("testcases.json"))
}

/// Every file a `testcases.json` index lists (failures, then valid examples, test by test), as
/// paths relative to its folder.
pub(crate) fn listed_files(index: &Value) -> Vec<String> {
    let mut names = Vec::new();
    for case in index["tests"].as_array().into_iter().flatten() {
        for list in ["failures", "valid"] {
            for file in case[list].as_array().into_iter().flatten() {
                let name = file["name"]
                    .as_str()
                    .unwrap_or_else(|| panic!("file without a name in testcases.json: {file}"));
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// Every `.json` file under `dir` (recursively), sorted.
pub(crate) fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()))
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The CISA advisories: `cisa-csaf.jsonl.gz` in the `csaf` folder, one document a line.
pub(crate) fn cisa_documents(csaf: &Path) -> Vec<Value> {
    let path = csaf.join("cisa-csaf.jsonl.gz");
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let line = line.unwrap_or_else(|e| panic!("{} line {}: {e}", path.display(), i + 1));
            serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("{} line {}: {e}", path.display(), i + 1))
        })
        .collect()
}

/// Fails listing every entry of `mismatches`, one a line, counted as `what` (e.g. "mismatches").
#[track_caller]
pub(crate) fn assert_empty(mismatches: &[String], what: &str) {
    assert!(
        mismatches.is_empty(),
        "{} {what}:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The smallest valid CSAF document: a `csaf_base` with one revision.
pub(crate) fn minimal_document() -> Value {
    json!({
        "document": {
            "category": "csaf_base",
            "csaf_version": "2.0",
            "publisher": {"category": "vendor", "name": "Example", "namespace": "https://example.com"},
            "title": "Minimal",
            "tracking": {
                "current_release_date": "2024-01-01T00:00:00Z",
                "id": "EX-1",
                "initial_release_date": "2024-01-01T00:00:00Z",
                "revision_history": [{"date": "2024-01-01T00:00:00Z", "number": "1", "summary": "Initial"}],
                "status": "final",
                "version": "1"
            }
        }
    })
}
