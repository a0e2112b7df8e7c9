//! The csaf-rs supplementary CSAF 2.0 test documents (`csaf/supplementary/csaf-rs`): each
//! listed file raises (failures) or does not raise (valid examples) its own test id.
//!
//! The "valid" examples often fail other tests, so only the listed test is scored. The corpus
//! lives outside the repository (`KEIKAI_CORPUS`); without it the test skips.

mod common;

use common::{assert_empty, csaf_corpus, read_json, testcases};
use keikai_csaf::{ValidationOptions, run_test, test_ids};

/// Files where we deliberately disagree with csaf-rs, with the reason from the CSAF 2.0 text.
const DISAGREE: [(&str, &str); 1] = [(
    "csaf-rs_csaf-csaf_2_0-6-1-24-s02.json",
    "a single involvement cannot be defined twice (6.1.24 compares items); its malformed date is \
     the schema's finding (format date-time), which csaf-rs files under 6.1.24",
)];

#[test]
fn csaf_rs_supplementary_per_test() {
    let Some(csaf) = csaf_corpus("supplementary/csaf-rs/testcases.json") else {
        return;
    };
    let root = csaf.join("supplementary/csaf-rs");
    let index = testcases(&root);
    let known: Vec<&str> = test_ids().collect();
    let mut mismatches = Vec::new();
    let mut scored = 0;
    let mut disagreed = 0;
    for t in index["tests"].as_array().expect("tests array") {
        let id = t["id"].as_str().expect("id");
        assert!(known.contains(&id), "unknown test id {id}");
        for (list, failure) in [("failures", true), ("valid", false)] {
            for f in t[list].as_array().map(Vec::as_slice).unwrap_or_default() {
                let file = f["name"].as_str().expect("name");
                let doc = read_json(&root.join(file));
                let findings = run_test(id, &doc, &ValidationOptions::default()).expect("known id");
                let raised = !findings.is_empty();
                if let Some((_, reason)) = DISAGREE.iter().find(|(name, _)| file.ends_with(name)) {
                    disagreed += 1;
                    if raised == failure {
                        mismatches.push(format!("{file}: listed as a deliberate disagreement ({reason}) but we now agree"));
                    }
                    // The document is still rejected, by the schema.
                    let schema =
                        run_test("schema", &doc, &ValidationOptions::default()).expect("schema");
                    if !schema
                        .iter()
                        .any(|f| f.path == "/vulnerabilities/0/involvements/0/date")
                    {
                        mismatches.push(format!("{file}: expected a schema finding for the malformed date, got {schema:?}"));
                    }
                    continue;
                }
                scored += 1;
                if raised != failure {
                    let detail = findings
                        .first()
                        .map(|f| format!("{} {}", f.path, f.message))
                        .unwrap_or_default();
                    mismatches.push(format!(
                        "{file}: {id} expected {}, got {} {detail}",
                        if failure { "failure" } else { "pass" },
                        if raised { "failure" } else { "pass" }
                    ));
                }
            }
        }
    }
    eprintln!(
        "csaf-rs supplementary per test: {}/{scored} agree, {disagreed} deliberate disagreements",
        scored - mismatches.len()
    );
    assert_empty(&mismatches, "mismatches");
}
