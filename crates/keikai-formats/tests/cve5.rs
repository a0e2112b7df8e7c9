//! CVE JSON 5 records: generation, validation against the embedded schema, the corpus's own
//! schema and real records.

mod common;

use common::{cve5_corpus, read_json, read_jsonl, sample_input};
use keikai_formats::FormatError;
use keikai_formats::cve5::{
    self, CreditInput, Lang, Status, UpperBound, VersionStatus, validate_cna_container,
    validate_cve_record,
};
use serde_json::Value;

fn generated() -> Value {
    let record = cve5::build(&sample_input()).expect("the sample input is valid");
    serde_json::to_value(&record).expect("a record serialises")
}

#[test]
fn generated_record_is_valid_against_the_embedded_schema() {
    let record = generated();
    assert_eq!(validate_cve_record(&record), Vec::<String>::new());
    assert_eq!(
        validate_cna_container(&record["containers"]["cna"]),
        Vec::<String>::new()
    );
    // Scores come from keikai-cvss, not from the input; the expected values are those GitHub's
    // CNA (CVE-2024-47618) and CISA's ADP (CVE-2018-10726) state for the same vectors.
    let metrics = &record["containers"]["cna"]["metrics"];
    assert_eq!(metrics[0]["cvssV4_0"]["baseScore"], 5.1);
    assert_eq!(metrics[0]["cvssV4_0"]["baseSeverity"], "MEDIUM");
    assert_eq!(metrics[1]["cvssV3_1"]["baseScore"], 5.4);
    assert_eq!(metrics[1]["cvssV3_1"]["baseSeverity"], "MEDIUM");
}

#[test]
fn generated_record_reads_back() {
    let record = cve5::build(&sample_input()).expect("valid");
    let text = serde_json::to_string(&record).expect("serialises");
    let back: cve5::CveRecord = serde_json::from_str(&text).expect("reads back");
    assert_eq!(back, record);
}

#[test]
fn generated_record_snapshot() {
    insta::assert_json_snapshot!("cve5_record", generated());
}

#[test]
fn schema_findings_name_the_path() {
    let mut record = generated();
    record["containers"]["cna"]["affected"][1]["versions"][0]["status"] = "vulnerable".into();
    record["cveMetadata"]["cveId"] = "CVE-99-1".into();
    let errors = validate_cve_record(&record);
    assert!(
        errors.iter().any(|e| e.starts_with("/cveMetadata/cveId:")),
        "{errors:?}"
    );
    // The version fails inside a oneOf, so the finding sits on the version object or below.
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/containers/cna/affected/1/versions/0")),
        "{errors:?}"
    );
}

/// Each broken input is rejected with an error naming its field.
#[test]
fn errors_name_the_field() {
    type Breaker = fn(&mut cve5::CveRecordInput);
    let cases: Vec<(&str, Breaker)> = vec![
        ("cve_id", |i| i.cve_id = "CVE-26-1".to_owned()),
        ("cve_id", |i| i.cve_id = "cve-2026-12345".to_owned()),
        ("assigner_org_id", |i| {
            // A version 7 UUID: the schema accepts only version 4.
            i.assigner_org_id = "01890a5d-ac96-774b-bcce-b302099a8057"
                .parse()
                .expect("uuid");
        }),
        ("assigner_short_name", |i| {
            i.assigner_short_name = "J".to_owned()
        }),
        ("title", |i| i.title = "  ".to_owned()),
        ("title", |i| i.title = "x".repeat(257)),
        ("description_en", |i| i.description_en = String::new()),
        ("description_ja", |i| {
            i.description_ja = Some("あ".repeat(4097))
        }),
        ("affected", |i| i.affected.clear()),
        ("affected[1].product", |i| {
            i.affected[1].product = String::new()
        }),
        ("affected[1].versions", |i| i.affected[1].versions.clear()),
        ("affected[0].versions", |i| {
            let first = i.affected[0].versions[0].clone();
            i.affected[0].versions.push(first);
        }),
        ("affected[0].versions[0].version_type", |i| {
            i.affected[0].versions[0].version_type = None;
        }),
        ("affected[1].versions[0].less_than_or_equal", |i| {
            i.affected[1].versions[0] = VersionStatus {
                version: "1.0".to_owned(),
                status: Status::Affected,
                version_type: Some("custom".to_owned()),
                upper: Some(UpperBound::LessThanOrEqual(String::new())),
            };
        }),
        ("cwe.id", |i| {
            if let Some(cwe) = &mut i.cwe {
                cwe.id = "79".to_owned();
            }
        }),
        ("cvss_v3", |i| {
            i.cvss_v3 = Some("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L".to_owned());
        }),
        ("cvss_v3", |i| {
            i.cvss_v3 = i.cvss_v4.clone();
        }),
        ("cvss_v4", |i| {
            i.cvss_v4 = Some("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N".to_owned());
        }),
        ("references", |i| i.references.clear()),
        ("references[1]", |i| {
            i.references[1] = "javascript:alert(1)".to_owned();
        }),
        ("references[1]", |i| {
            i.references[1] = "https://example.com/a b".to_owned();
        }),
        ("references", |i| {
            let first = i.references[0].clone();
            i.references.push(first);
        }),
        ("credits[0].name", |i| i.credits[0].name = String::new()),
        ("credits", |i| {
            i.credits.push(CreditInput {
                name: "Hanako Yamada".to_owned(),
                lang: Lang::En,
            });
        }),
        ("published", |i| {
            i.published = "1899-12-31T00:00:00Z".parse().expect("timestamp");
        }),
        ("updated", |i| {
            i.updated = "2026-03-01T00:00:00Z".parse().expect("timestamp");
        }),
    ];
    let mut failures = Vec::new();
    for (field, breaker) in cases {
        let mut input = sample_input();
        breaker(&mut input);
        match cve5::build(&input) {
            Ok(_) => failures.push(format!("{field}: accepted")),
            Err(err @ FormatError::Schema { .. }) => {
                failures.push(format!("{field}: only caught by the schema: {err}"));
            }
            Err(err) => {
                if err.field() != field {
                    failures.push(format!("{field}: error names {}: {err}", err.field()));
                }
                if !err.to_string().contains(field) {
                    failures.push(format!("{field}: message does not name it: {err}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cvss_3_0_goes_to_cvss_v3_0() {
    let mut input = sample_input();
    input.cvss_v3 = Some("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_owned());
    input.cvss_v4 = None;
    let record = serde_json::to_value(cve5::build(&input).expect("valid")).expect("json");
    let metric = &record["containers"]["cna"]["metrics"][0];
    assert_eq!(metric["cvssV3_0"]["baseScore"], 9.8);
    assert_eq!(metric["cvssV3_0"]["version"], "3.0");
    assert!(metric.get("cvssV3_1").is_none());
    assert_eq!(validate_cve_record(&record), Vec::<String>::new());
}

#[test]
fn optional_parts_may_be_absent() {
    let mut input = sample_input();
    input.description_ja = None;
    input.cwe = None;
    input.cvss_v3 = None;
    input.cvss_v4 = None;
    input.credits.clear();
    let record = serde_json::to_value(cve5::build(&input).expect("valid")).expect("json");
    let cna = &record["containers"]["cna"];
    for absent in ["problemTypes", "metrics", "credits"] {
        assert!(cna.get(absent).is_none(), "{absent} should be left out");
    }
    assert_eq!(cna["descriptions"].as_array().map(Vec::len), Some(1));
    assert_eq!(validate_cve_record(&record), Vec::<String>::new());
}

/// The check: our record validates against the schema file in the corpus too (the
/// embedded copy comes from the registry package, not from there).
#[test]
fn generated_record_is_valid_against_the_corpus_schema() {
    let Some(dir) = cve5_corpus("schema/CVE_JSON_bundled_5.1.1.json") else {
        return;
    };
    let schema = read_json(&dir.join("schema/CVE_JSON_bundled_5.1.1.json"));
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the corpus schema compiles");
    let record = generated();
    let errors: Vec<String> = validator
        .iter_errors(&record)
        .map(|e| format!("{}: {e}", e.instance_path().as_str()))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
}

/// Records of the sample that break the schema's `format: uri` (which Python's jsonschema, used to
/// check the corpus, leaves unchecked without the optional `rfc3987` package): GitLab's CNA gives
/// an scp-style git remote as `affected[].repo`, whose "port" `gitlab-org` is not a number.
const KNOWN_INVALID: [(&str, &str); 2] = [
    (
        "CVE-2023-1210",
        "/containers/cna/affected/0/repo: \"git://git@gitlab.com:gitlab-org/gitlab.git\" is not a \"uri\"",
    ),
    (
        "CVE-2023-3949",
        "/containers/cna/affected/0/repo: \"git://git@gitlab.com:gitlab-org/gitlab.git\" is not a \"uri\"",
    ),
];

/// Real records published by CNAs and enriched by CISA validate with the embedded schema
/// (except [`KNOWN_INVALID`], which must fail exactly as recorded); so do the Go CNA's
/// containers (its files are submissions without full `cveMetadata`).
#[test]
fn real_records_are_valid_against_the_embedded_schema() {
    let Some(dir) = cve5_corpus("vulnrichment-sample.jsonl") else {
        return;
    };
    let mut failures = Vec::new();
    let records = read_jsonl(&dir.join("vulnrichment-sample.jsonl"));
    assert!(records.len() > 1000, "sample has {} records", records.len());
    let mut known_seen = 0;
    for record in &records {
        let errors = validate_cve_record(record);
        let id = record["cveMetadata"]["cveId"].as_str().unwrap_or("");
        let known: Vec<&str> = KNOWN_INVALID
            .iter()
            .filter(|(known_id, _)| *known_id == id)
            .map(|(_, message)| *message)
            .collect();
        if !known.is_empty() {
            known_seen += 1;
        }
        if errors != known {
            failures.push(format!("{id}: {errors:?} (expected {known:?})"));
        }
    }
    assert_eq!(
        known_seen,
        KNOWN_INVALID.len(),
        "known invalid records missing"
    );
    let go = dir.join("go-cna.jsonl");
    if go.exists() {
        for record in read_jsonl(&go) {
            let errors = validate_cna_container(&record["containers"]["cna"]);
            if !errors.is_empty() {
                failures.push(format!("go {}: {errors:?}", record["cveMetadata"]["cveId"]));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} invalid:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The schema is not a rubber stamp: broken copies of a real record are rejected.
#[test]
fn broken_real_records_are_rejected() {
    let Some(dir) = cve5_corpus("vulnrichment-sample.jsonl") else {
        return;
    };
    let records = read_jsonl(&dir.join("vulnrichment-sample.jsonl"));
    let published = records
        .iter()
        .find(|r| r["cveMetadata"]["state"] == "PUBLISHED")
        .expect("a published record");
    let mut no_refs = published.clone();
    if let Some(cna) = no_refs["containers"]["cna"].as_object_mut() {
        cna.remove("references");
    }
    let mut bad_id = published.clone();
    bad_id["cveMetadata"]["cveId"] = "CVE-99-1".into();
    for (what, record) in [("no references", no_refs), ("bad id", bad_id)] {
        assert!(!validate_cve_record(&record).is_empty(), "{what} accepted");
    }
}

/// Scores are written as JSON numbers such as `10.0`, which the schema's score enums (`10`) must
/// accept; `build` validates its result, so building is the check.
#[test]
fn whole_number_scores_are_valid() {
    let mut input = sample_input();
    input.cvss_v4 =
        Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H".to_owned());
    input.cvss_v3 = Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".to_owned());
    let record = serde_json::to_value(cve5::build(&input).expect("valid")).expect("json");
    let metrics = &record["containers"]["cna"]["metrics"];
    assert_eq!(metrics[0]["cvssV4_0"]["baseScore"], 10.0);
    assert_eq!(metrics[1]["cvssV3_1"]["baseScore"], 10.0);
    assert_eq!(metrics[1]["cvssV3_1"]["baseSeverity"], "CRITICAL");
}
