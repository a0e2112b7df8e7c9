//! `Value` → `CsafDocument` → `Value` must give back the same JSON for every real document we
//! have: the OASIS examples, the OASIS validator test files and the 2,383 CISA advisories; and,
//! without the corpus, for a small document with extra properties and unknown vocabulary.

mod common;

use std::time::Instant;

use common::{
    assert_empty, cisa_documents, csaf_corpus, json_files, listed_files, minimal_document,
    read_json, testcases,
};
use keikai_csaf::CsafDocument;
use keikai_csaf::model::{DocumentCategory, DocumentStatus};
use serde::Deserialize;
use serde_json::{Value, json};

/// The first JSON pointer where two values differ, with both sides.
fn first_difference(a: &Value, b: &Value, pointer: &mut String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, value) in x {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                let found = match y.get(key) {
                    None => Some(format!("{pointer}: missing after round trip")),
                    Some(other) => first_difference(value, other, pointer),
                };
                pointer.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            y.keys().find(|key| !x.contains_key(*key)).map(|key| {
                format!(
                    "{pointer}/{}: added by the round trip",
                    key.replace('~', "~0").replace('/', "~1")
                )
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{pointer}: {} items became {}", x.len(), y.len()));
            }
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                let found = first_difference(p, q, pointer);
                pointer.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        _ if a == b => None,
        _ => Some(format!("{pointer}: {a} became {b}")),
    }
}

/// Round-trips one document; `Err` says why it failed.
fn round_trip(original: &Value) -> Result<(), String> {
    let doc: CsafDocument = serde_json::from_value(original.clone())
        .map_err(|e| format!("does not deserialize: {e}"))?;
    let back = serde_json::to_value(&doc).map_err(|e| format!("does not serialize: {e}"))?;
    if back == *original {
        return Ok(());
    }
    let mut pointer = String::new();
    Err(first_difference(original, &back, &mut pointer)
        .unwrap_or_else(|| "values differ (no differing pointer found)".to_owned()))
}

#[test]
fn oasis_examples_round_trip() {
    let Some(csaf) = csaf_corpus("examples/csaf") else {
        return;
    };
    let files = json_files(&csaf.join("examples/csaf"));
    assert_eq!(files.len(), 19, "expected the 19 OASIS CSAF examples");
    let mismatches: Vec<String> = files
        .iter()
        .filter_map(|path| {
            round_trip(&read_json(path))
                .err()
                .map(|why| format!("{}: {why}", path.display()))
        })
        .collect();
    assert_empty(&mismatches, "mismatches");
}

/// Every test document round-trips, except the three 6.1.8 files: they lack properties the CVSS
/// schemas require (they are the only schema-invalid files), and the model follows the schema's
/// required properties.
#[test]
fn oasis_validator_test_files_round_trip() {
    let Some(csaf) = csaf_corpus("tests/testcases.json") else {
        return;
    };
    let tests = csaf.join("tests");
    let names = listed_files(&testcases(&tests));
    assert_eq!(names.len(), 239, "testcases.json should list 239 files");
    let expected_unreadable = [
        "mandatory/oasis_csaf_tc-csaf_2_0-2021-6-1-08-01.json",
        "mandatory/oasis_csaf_tc-csaf_2_0-2021-6-1-08-02.json",
        "mandatory/oasis_csaf_tc-csaf_2_0-2021-6-1-08-03.json",
    ];
    let mut mismatches = Vec::new();
    for name in &names {
        match (
            round_trip(&read_json(&tests.join(name))),
            expected_unreadable.contains(&name.as_str()),
        ) {
            (Ok(()), false) => {}
            (Err(why), false) => mismatches.push(format!("{name}: {why}")),
            (Ok(()), true) => mismatches.push(format!("{name}: expected to be rejected, was read")),
            (Err(why), true) if why.starts_with("does not deserialize") => {}
            (Err(why), true) => mismatches.push(format!("{name}: {why}")),
        }
    }
    assert_empty(&mismatches, "mismatches");
}

#[test]
fn cisa_documents_round_trip() {
    let Some(csaf) = csaf_corpus("cisa-csaf.jsonl.gz") else {
        return;
    };
    let started = Instant::now();
    let docs = cisa_documents(&csaf);
    let loaded = started.elapsed();
    assert_eq!(docs.len(), 2383, "expected the 2,383 CISA documents");

    let started = Instant::now();
    let mismatches: Vec<String> = docs
        .iter()
        .enumerate()
        .filter_map(|(line, value)| {
            round_trip(value).err().map(|why| {
                let id = value
                    .pointer("/document/tracking/id")
                    .and_then(Value::as_str);
                format!("line {} ({}): {why}", line + 1, id.unwrap_or("no id"))
            })
        })
        .collect();
    let elapsed = started.elapsed();
    let started = Instant::now();
    let models: Vec<CsafDocument> = docs
        .iter()
        .map(|v| CsafDocument::deserialize(v).unwrap())
        .collect();
    let deserialize = started.elapsed();
    let started = Instant::now();
    let values: Vec<Value> = models
        .iter()
        .map(|d| serde_json::to_value(d).unwrap())
        .collect();
    let serialize = started.elapsed();
    assert_eq!(values.len(), docs.len());
    eprintln!(
        "CISA: {} documents; gunzip+parse {loaded:?}; round trip (clone + from_value + to_value + compare) {elapsed:?}; \
         deserialize from &Value alone {deserialize:?}; to_value alone {serialize:?}",
        docs.len()
    );
    assert_empty(&mismatches, "mismatches");
}

#[test]
fn first_difference_reports_the_pointer() {
    let a = serde_json::json!({"a": [1, {"b/c": 2}], "d": 1});
    let b = serde_json::json!({"a": [1, {"b/c": 3}], "d": 1});
    let mut pointer = String::new();
    assert_eq!(
        first_difference(&a, &b, &mut pointer).unwrap(),
        "/a/1/b~1c: 2 became 3"
    );
    let c = serde_json::json!({"a": [1, {"b/c": 2}], "d": 1, "e": 0});
    assert_eq!(
        first_difference(&a, &c, &mut pointer).unwrap(),
        "/e: added by the round trip"
    );
    // 7 and 7.0 are different JSON numbers and must be reported.
    let (x, y) = (serde_json::json!({"s": 7}), serde_json::json!({"s": 7.0}));
    assert_eq!(
        first_difference(&x, &y, &mut pointer).unwrap(),
        "/s: 7 became 7.0"
    );
}

/// [`minimal_document`] with what the model must carry through unchanged: `$schema`, a vendor's
/// property, empty arrays and an integer score.
fn minimal_with_extras() -> Value {
    let mut doc = minimal_document();
    doc["$schema"] = json!("https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json");
    doc["document"]["tracking"]["x_vendor"] = json!({"nested": [1, 2.5, null, true]});
    doc["product_tree"] = json!({"branches": [], "relationships": []});
    doc["vulnerabilities"] = json!([{"notes": [], "scores": [{"products": [], "cvss_v3": {
        "version": "3.1",
        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "baseScore": 10,
        "baseSeverity": "CRITICAL"
    }}]}]);
    doc
}

#[test]
fn round_trips_extra_properties_empty_arrays_and_integer_scores() {
    let original = minimal_with_extras();
    let doc = CsafDocument::from_value(original.clone()).expect("valid shape");
    assert_eq!(doc.document.category, DocumentCategory::Base);
    assert!(doc.extra.contains_key("$schema"));
    assert_eq!(doc.to_value().expect("serializes"), original);
}

#[test]
fn unknown_vocabulary_is_kept() {
    let mut original = minimal_with_extras();
    original["document"]["category"] = json!("vendor_specific_profile");
    original["document"]["tracking"]["status"] = json!("withdrawn");
    let doc = CsafDocument::from_value(original.clone()).expect("valid shape");
    assert_eq!(
        doc.document.tracking.status,
        DocumentStatus::Unknown("withdrawn".to_owned())
    );
    assert_eq!(doc.to_value().expect("serializes"), original);
}

#[test]
fn missing_required_property_names_it() {
    let mut original = minimal_with_extras();
    original["document"]
        .as_object_mut()
        .expect("object")
        .remove("title");
    let err = CsafDocument::from_value(original).expect_err("title is required");
    assert!(err.to_string().contains("`title`"), "{err}");
}
