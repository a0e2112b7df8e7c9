//! The embedded CSAF 2.0 schema against the OASIS test files, the OASIS examples and the CISA
//! documents, plus the wording of the common findings.

mod common;

use std::time::Instant;

use common::{
    assert_empty, cisa_documents, csaf_corpus, json_files, listed_files, minimal_document,
    read_json, testcases,
};
use keikai_csaf::{Finding, Severity, schema_validator, strict_schema_findings};
use serde_json::{Value, json};

fn summary(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{} {}", f.path, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// As the OASIS scripts expect: every test file passes the schema except the three 6.1.8 files.
#[test]
fn oasis_test_files_pass_the_schema_except_6_1_8() {
    let Some(csaf) = csaf_corpus("tests/testcases.json") else {
        return;
    };
    let tests = csaf.join("tests");
    let names = listed_files(&testcases(&tests));
    assert_eq!(names.len(), 239);
    let validator = schema_validator();
    let started = Instant::now();
    let mut mismatches = Vec::new();
    for name in &names {
        let findings = validator.validate(&read_json(&tests.join(name)));
        let expect_invalid = name.contains("-6-1-08-0");
        match (findings.is_empty(), expect_invalid) {
            (true, false) => {}
            (false, true) => {
                if findings
                    .iter()
                    .any(|f| f.test_id != "schema" || f.severity != Severity::Error)
                {
                    mismatches.push(format!("{name}: wrong test id or severity: {findings:?}"));
                }
            }
            (true, true) => mismatches.push(format!("{name}: expected schema errors, got none")),
            (false, false) => mismatches.push(format!("{name}: {}", summary(&findings))),
        }
    }
    eprintln!(
        "OASIS tests: {} files validated in {:?}",
        names.len(),
        started.elapsed()
    );
    assert_eq!(names.iter().filter(|n| n.contains("-6-1-08-0")).count(), 3);
    assert_empty(&mismatches, "mismatches");
}

/// The 6.1.8 files lack required CVSS properties; the findings must say which, per version.
#[test]
fn cvss_findings_name_the_version_and_the_missing_property() {
    let Some(csaf) = csaf_corpus("tests/mandatory") else {
        return;
    };
    let dir = csaf.join("tests/mandatory");
    let cases = [
        (
            "oasis_csaf_tc-csaf_2_0-2021-6-1-08-01.json",
            "/vulnerabilities/0/scores/0/cvss_v3",
            "cvss_v3 does not match the CVSS v3.1 schema: \"cvss_v3\" is missing the required property \"baseSeverity\"",
        ),
        (
            "oasis_csaf_tc-csaf_2_0-2021-6-1-08-02.json",
            "/vulnerabilities/0/scores/0/cvss_v3",
            "cvss_v3 does not match the CVSS v3.0 schema: \"cvss_v3\" is missing the required property \"baseSeverity\"",
        ),
        (
            "oasis_csaf_tc-csaf_2_0-2021-6-1-08-03.json",
            "/vulnerabilities/0/scores/0/cvss_v2",
            "\"cvss_v2\" is missing the required property \"version\" (CVSS v2.0 schema)",
        ),
    ];
    let mut mismatches = Vec::new();
    for (file, path, message) in cases {
        let findings = schema_validator().validate(&read_json(&dir.join(file)));
        let expected = Finding::error("schema", path, message);
        if findings != [expected] {
            mismatches.push(format!("{file}: {findings:#?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// As the OASIS scripts expect: every test file passes the strict schema except 6-2-20-01.
#[test]
fn oasis_test_files_pass_the_strict_schema_except_6_2_20_01() {
    let Some(csaf) = csaf_corpus("tests/testcases.json") else {
        return;
    };
    let tests = csaf.join("tests");
    let mut mismatches = Vec::new();
    for name in listed_files(&testcases(&tests)) {
        let findings = strict_schema_findings(&read_json(&tests.join(&name)));
        if name.ends_with("-6-2-20-01.json") {
            let expected = [Finding::warning(
                "6.2.20",
                "/document/custom_property",
                "property \"custom_property\" of \"document\" is not defined by CSAF 2.0",
            )];
            if findings != expected {
                mismatches.push(format!("{name}: {findings:#?}"));
            }
        } else if !findings.is_empty() {
            mismatches.push(format!("{name}: {}", summary(&findings)));
        }
    }
    assert_empty(&mismatches, "mismatches");
}

#[test]
fn oasis_examples_pass_the_schema() {
    let Some(csaf) = csaf_corpus("examples/csaf") else {
        return;
    };
    let files = json_files(&csaf.join("examples/csaf"));
    assert_eq!(files.len(), 19);
    let mismatches: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let findings = schema_validator().validate(&read_json(path));
            (!findings.is_empty()).then(|| format!("{}: {}", path.display(), summary(&findings)))
        })
        .collect();
    assert_empty(&mismatches, "mismatches");
}

#[test]
fn cisa_documents_pass_the_schema() {
    let Some(csaf) = csaf_corpus("cisa-csaf.jsonl.gz") else {
        return;
    };
    let docs = cisa_documents(&csaf);
    assert_eq!(docs.len(), 2383);
    let validator = schema_validator();
    let started = Instant::now();
    let mismatches: Vec<String> = docs
        .iter()
        .enumerate()
        .filter_map(|(line, doc)| {
            let findings = validator.validate(doc);
            (!findings.is_empty()).then(|| format!("line {}: {}", line + 1, summary(&findings)))
        })
        .collect();
    let validate = started.elapsed();
    let started = Instant::now();
    let valid = docs.iter().filter(|doc| validator.is_valid(doc)).count();
    eprintln!(
        "CISA: {} documents; validate (all findings) {validate:?}; is_valid {:?}",
        docs.len(),
        started.elapsed()
    );
    assert_eq!(valid, docs.len(), "is_valid disagrees with validate");
    assert_empty(&mismatches, "mismatches");
}

fn messages(doc: &Value) -> Vec<(String, String)> {
    schema_validator()
        .validate(doc)
        .into_iter()
        .map(|f| (f.path, f.message))
        .collect()
}

fn pair(path: &str, message: &str) -> (String, String) {
    (path.to_owned(), message.to_owned())
}

#[test]
fn minimal_document_is_valid() {
    assert_eq!(messages(&minimal_document()), []);
    assert!(schema_validator().is_valid(&minimal_document()));
}

#[test]
fn common_violations_are_explained() {
    let mut doc = minimal_document();
    doc["document"].as_object_mut().unwrap().remove("title");
    doc["document"]["tracking"]["status"] = json!("published");
    doc["document"]["tracking"]["current_release_date"] = json!("2024-01-01");
    doc["document"]["tracking"]["version"] = json!("1.0");
    doc["document"]["lang"] = json!("english!");
    doc["document"]["publisher"]["namespace"] = json!("example.com");
    doc["document"]["notes"] = json!([]);
    doc["vulnerabilities"] = json!([{"cve": "CVE-24-1", "cwe": {"id": "79", "name": "XSS"}}]);
    let mut got = messages(&doc);
    got.sort();
    assert_eq!(
        got,
        [
            pair(
                "/document",
                "\"document\" is missing the required property \"title\""
            ),
            pair(
                "/document/lang",
                "\"lang\" \"english!\" is not a language tag such as en or de-DE"
            ),
            pair("/document/notes", "\"notes\" must not be an empty list"),
            pair(
                "/document/publisher/namespace",
                "\"namespace\" \"example.com\" is not an absolute URI, e.g. https://example.com/advisory"
            ),
            pair(
                "/document/tracking/current_release_date",
                "\"current_release_date\" \"2024-01-01\" is not an RFC 3339 date-time with time zone, e.g. 2024-03-01T12:00:00Z"
            ),
            pair(
                "/document/tracking/status",
                "\"status\" \"published\" is not one of: draft, final, interim"
            ),
            pair(
                "/document/tracking/version",
                "\"version\" \"1.0\" is not an integer such as 2 or a semantic version such as 1.0.0"
            ),
            pair(
                "/vulnerabilities/0/cve",
                "\"cve\" \"CVE-24-1\" is not a CVE id such as CVE-2024-12345"
            ),
            pair(
                "/vulnerabilities/0/cwe/id",
                "\"id\" \"79\" is not a CWE id such as CWE-79"
            ),
        ]
    );
}

#[test]
fn wrong_types_and_duplicates_are_explained() {
    let mut doc = minimal_document();
    doc["document"]["title"] = json!(42);
    doc["product_tree"] = json!({"full_product_names": [{"name": "A", "product_id": "A"}]});
    doc["vulnerabilities"] = json!({"cve": "CVE-2024-1234"});
    let mut got = messages(&doc);
    got.sort();
    assert_eq!(
        got,
        [
            pair(
                "/document/title",
                "\"title\" must be a string, found the number 42"
            ),
            pair(
                "/vulnerabilities",
                "\"vulnerabilities\" must be an array, found an object"
            ),
        ]
    );
    let mut doc = minimal_document();
    doc["vulnerabilities"] = json!([{"product_status": {"fixed": ["A", "B", "A"]}}]);
    assert_eq!(
        messages(&doc),
        [pair(
            "/vulnerabilities/0/product_status/fixed",
            "\"fixed\" lists \"A\" more than once"
        )]
    );
}

#[test]
fn cvss_v3_is_checked_against_its_declared_version() {
    let mut doc = minimal_document();
    doc["vulnerabilities"] = json!([{"scores": [{"products": ["A"], "cvss_v3": {
        "version": "3.1",
        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "baseScore": 11,
        "baseSeverity": "CRITICAL",
        "attackVector": "INTERNET"
    }}]}]);
    let base = "/vulnerabilities/0/scores/0/cvss_v3";
    let mut got = messages(&doc);
    got.sort();
    assert_eq!(
        got,
        [
            pair(
                &format!("{base}/attackVector"),
                "cvss_v3 does not match the CVSS v3.1 schema: \"attackVector\" \"INTERNET\" is not one of: NETWORK, ADJACENT_NETWORK, LOCAL, PHYSICAL"
            ),
            pair(
                &format!("{base}/baseScore"),
                "cvss_v3 does not match the CVSS v3.1 schema: \"baseScore\" 11 is more than the maximum 10"
            ),
        ]
    );
    doc["vulnerabilities"][0]["scores"][0]["cvss_v3"] = json!({
        "version": "4.0", "vectorString": "CVSS:4.0/AV:N", "baseScore": 1.0, "baseSeverity": "LOW"
    });
    assert_eq!(
        messages(&doc),
        [pair(
            base,
            "cvss_v3 must declare version \"3.0\" or \"3.1\" to match a CVSS v3 schema, found \"4.0\""
        )]
    );
}

#[test]
fn strict_findings_name_each_extra_property() {
    let mut doc = minimal_document();
    doc["document"]["x_internal"] = json!(true);
    doc["document"]["tracking"]["a/b"] = json!(1);
    doc["vulnerabilities"] = json!([{"scores": [{"products": ["A"], "cvss_v3": {
        "version": "3.1",
        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "baseScore": 9.8,
        "baseSeverity": "CRITICAL",
        "comment": "extra"
    }}]}]);
    // Extra properties are not a schema error for a basic validator...
    assert_eq!(messages(&doc), []);
    // ...only for optional test 6.2.20.
    let mut got: Vec<(String, String)> = strict_schema_findings(&doc)
        .into_iter()
        .map(|f| (f.path, f.message))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            pair(
                "/document/tracking/a~1b",
                "property \"a/b\" of \"tracking\" is not defined by CSAF 2.0"
            ),
            pair(
                "/document/x_internal",
                "property \"x_internal\" of \"document\" is not defined by CSAF 2.0"
            ),
            pair(
                "/vulnerabilities/0/scores/0/cvss_v3/comment",
                "cvss_v3 does not match the CVSS v3.1 schema: property \"comment\" of \"cvss_v3\" is not defined by CSAF 2.0"
            ),
        ]
    );
}

#[test]
fn hostile_values_do_not_blow_up_messages() {
    let mut doc = minimal_document();
    doc["document"]["title"] = json!(["x".repeat(100_000)]);
    let findings = schema_validator().validate(&doc);
    assert_eq!(findings.len(), 1);
    assert!(findings[0].message.len() < 300, "{}", findings[0].message);
}
