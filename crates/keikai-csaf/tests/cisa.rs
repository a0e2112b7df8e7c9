//! Real advisories: the 2,383 CISA CSAF 2.0 documents of the corpus (`csaf/cisa-csaf.jsonl.gz`,
//! one document a line) through the basic validator (schema + all mandatory tests).
//!
//! A validator that gates publishing must not trip over real-world documents, and must still
//! catch what is wrong in them. The expected set below is what the BSI reference library
//! (`@secvisogram/csaf-validator-lib` 2.0.10) reports for the same documents: three CWE names
//! that do not match the CWE 4.17 catalog exactly. The corpus lives outside the repository
//! (`KEIKAI_CORPUS`); without it the test skips.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::{cisa_documents, csaf_corpus};
use keikai_csaf::{Preset, Severity, ValidationOptions, validate};
use serde_json::Value;

/// Invalid documents (tracking id) and the tests that fail, each with the reason.
const EXPECTED_INVALID: [(&str, &[&str], &str); 3] = [
    // All three name CWE-280 "Improper Handling of Insufficient Permissions or Privileges " with
    // a trailing space; 6.1.11 compares names exactly.
    (
        "ICSA-19-099-04",
        &["6.1.11"],
        "CWE-280 name has a trailing space",
    ),
    (
        "ICSA-21-068-10",
        &["6.1.11"],
        "CWE-280 name has a trailing space",
    ),
    (
        "ICSA-21-259-01",
        &["6.1.11"],
        "CWE-280 name has a trailing space",
    ),
];

#[test]
fn cisa_documents_basic() {
    let Some(csaf) = csaf_corpus("cisa-csaf.jsonl.gz") else {
        return;
    };
    let docs = cisa_documents(&csaf);
    assert_eq!(docs.len(), 2383, "corpus changed");
    let basic = ValidationOptions {
        preset: Preset::Basic,
        ..Default::default()
    };
    let started = Instant::now();
    let mut invalid: BTreeMap<String, (Vec<&'static str>, String)> = BTreeMap::new();
    for doc in &docs {
        let report = validate(doc, &basic);
        if !report.valid {
            let id = doc
                .pointer("/document/tracking/id")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned();
            let errors: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .collect();
            let mut tests: Vec<&'static str> = errors.iter().map(|f| f.test_id).collect();
            tests.sort_unstable();
            tests.dedup();
            let first = errors
                .first()
                .map(|f| format!("{} {}", f.path, f.message))
                .unwrap_or_default();
            invalid.insert(id, (tests, first));
        }
    }
    eprintln!(
        "CISA basic: {} valid, {} invalid, {:?}",
        docs.len() - invalid.len(),
        invalid.len(),
        started.elapsed()
    );
    let expected: BTreeMap<String, Vec<&str>> = EXPECTED_INVALID
        .iter()
        .map(|(id, tests, _)| ((*id).to_owned(), tests.to_vec()))
        .collect();
    let got: BTreeMap<String, Vec<&str>> = invalid
        .iter()
        .map(|(id, (tests, _))| (id.clone(), tests.clone()))
        .collect();
    let details: Vec<String> = invalid
        .iter()
        .map(|(id, (tests, first))| format!("{id}: {tests:?} {first}"))
        .collect();
    assert_eq!(
        got,
        expected,
        "invalid CISA documents:\n{}",
        details.join("\n")
    );
}
