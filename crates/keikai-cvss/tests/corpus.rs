//! Data-driven tests over `shared/corpus/cvss` (see its SOURCE.md). Each test reads one data
//! set, collects every mismatch and fails once with the full list. When the corpus is absent
//! the tests print that they skip and pass.
#![expect(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use keikai_cvss::{Cvss, Scores, Version, parse, parse_strict};
use serde_json::Value;

fn cvss_corpus() -> Option<PathBuf> {
    let root = std::env::var_os("KEIKAI_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let dir = root.join("cvss");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipping: CVSS corpus not found at {}", dir.display());
        None
    }
}

fn read_lines(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap();
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    reader
        .lines()
        .map(Result::unwrap)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

fn fail_if_any(data_set: &str, mismatches: &[String]) {
    assert!(
        mismatches.is_empty(),
        "{data_set}: {} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

fn parse_or_record(vector: &str, mismatches: &mut Vec<String>) -> Option<Cvss> {
    match parse(vector) {
        Ok(cvss) => {
            // Canonical form parses back to the same vector.
            let again = parse(&cvss.to_string());
            if again.as_ref() != Ok(&cvss) {
                mismatches.push(format!("{vector}: round trip via {cvss} gave {again:?}"));
            }
            Some(cvss)
        }
        Err(e) => {
            mismatches.push(format!("{vector}: does not parse: {e}"));
            None
        }
    }
}

/// Red Hat `cvss` test files: `VECTOR - (base, temporal, environmental)` for 2.0/3.x (values
/// may be `None` where the library computes no such score), `VECTOR - (score,)` or
/// `VECTOR - score` for 4.0.
#[test]
fn redhat_test_vectors() {
    let Some(dir) = cvss_corpus() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("redhat-cvss-tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vectors_")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors_* files");

    let mut mismatches = Vec::new();
    let mut summary = String::new();
    let mut total_vectors = 0;
    let mut total_values = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (mut vectors, mut values) = (0, 0);
        for line in read_lines(path) {
            let Some((vector, expected)) = line.rsplit_once(" - ") else {
                mismatches.push(format!("{name}: unreadable line {line:?}"));
                continue;
            };
            let expected: Vec<Option<f64>> = expected
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| (s != "None").then(|| s.parse::<f64>().unwrap()))
                .collect();
            let Some(cvss) = parse_or_record(vector, &mut mismatches) else {
                continue;
            };
            let scores = cvss.scores();
            let ours = [Some(scores.base), scores.temporal, scores.environmental];
            vectors += 1;
            for (i, want) in expected.iter().enumerate() {
                let Some(want) = want else { continue };
                values += 1;
                if ours.get(i).copied().flatten() != Some(*want) {
                    mismatches.push(format!(
                        "{name}: {vector}: score #{i} expected {want}, got {:?}",
                        ours.get(i)
                    ));
                }
            }
        }
        writeln!(
            summary,
            "  {name}: {vectors} vectors, {values} scores compared"
        )
        .unwrap();
        total_vectors += vectors;
        total_values += values;
    }
    println!(
        "redhat-cvss-tests: {total_vectors} vectors, {total_values} scores compared\n{summary}"
    );
    fail_if_any("redhat-cvss-tests", &mismatches);
}

fn severity_name(s: Option<keikai_cvss::Severity>) -> String {
    s.map_or_else(|| "-".to_owned(), |s| s.to_string())
}

/// `{"vector","base","temporal","environmental","severities":[b,t,e]}`.
fn check_generated_v3(file: &str, version: Version) {
    let Some(dir) = cvss_corpus() else { return };
    let mut mismatches = Vec::new();
    let mut count = 0;
    for line in read_lines(&dir.join(file)) {
        let record: Value = serde_json::from_str(&line).unwrap();
        let vector = record["vector"].as_str().unwrap();
        let Some(cvss) = parse_or_record(vector, &mut mismatches) else {
            continue;
        };
        count += 1;
        if cvss.version() != version {
            mismatches.push(format!("{vector}: version {}", cvss.version()));
        }
        let s = cvss.scores();
        let want = |k: &str| record[k].as_f64().unwrap();
        let sev = |i: usize| record["severities"][i].as_str().unwrap().to_uppercase();
        let expected = (
            [want("base"), want("temporal"), want("environmental")],
            [sev(0), sev(1), sev(2)],
        );
        let got = (
            [s.base, s.temporal.unwrap(), s.environmental.unwrap()],
            [
                severity_name(s.base_severity),
                severity_name(s.temporal_severity),
                severity_name(s.environmental_severity),
            ],
        );
        if got != expected {
            mismatches.push(format!("{vector}: expected {expected:?}, got {got:?}"));
        }
    }
    println!(
        "{file}: {count} vectors, {} exact",
        count - mismatches.len()
    );
    fail_if_any(file, &mismatches);
}

#[test]
fn generated_v3_0() {
    check_generated_v3("generated-v3.0.jsonl", Version::V3_0);
}

#[test]
fn generated_v3_1() {
    check_generated_v3("generated-v3.1.jsonl", Version::V3_1);
}

/// `{"vector","score","severity"}`.
#[test]
fn generated_v4_0() {
    let Some(dir) = cvss_corpus() else { return };
    let mut mismatches = Vec::new();
    let mut count = 0;
    let mut nomenclature = BTreeMap::<&str, usize>::new();
    for line in read_lines(&dir.join("generated-v4.0.jsonl")) {
        let record: Value = serde_json::from_str(&line).unwrap();
        let vector = record["vector"].as_str().unwrap();
        let Some(cvss) = parse_or_record(vector, &mut mismatches) else {
            continue;
        };
        count += 1;
        if let Cvss::V4(v) = &cvss {
            *nomenclature.entry(v.nomenclature()).or_default() += 1;
        } else {
            mismatches.push(format!("{vector}: not parsed as 4.0"));
        }
        let s = cvss.scores();
        let expected = (
            record["score"].as_f64().unwrap(),
            record["severity"].as_str().unwrap().to_uppercase(),
        );
        let got = (s.base, severity_name(s.base_severity));
        if got != expected || s.temporal.is_some() || s.environmental.is_some() {
            mismatches.push(format!("{vector}: expected {expected:?}, got {s:?}"));
        }
    }
    println!(
        "generated-v4.0.jsonl: {count} vectors, {} exact; {nomenclature:?}",
        count - mismatches.len()
    );
    fail_if_any("generated-v4.0.jsonl", &mismatches);
}

/// The 20 CVSS 3.0 vectors where a float-ceiling Roundup (ae-cvss-calculator) is 0.1 higher
/// than the decimal-arithmetic libraries (Red Hat `cvss`, `cvsslib`). We follow the latter
/// (see `keikai_cvss::v3`): assert equality with them and inequality with the float ceiling.
#[test]
fn cvss_3_0_roundup_disagreements() {
    let Some(dir) = cvss_corpus() else { return };
    let mut mismatches = Vec::new();
    let mut count = 0;
    let mut differs_from_float_ceiling = 0;
    for line in read_lines(&dir.join("generated-disagreements.jsonl")) {
        let record: Value = serde_json::from_str(&line).unwrap();
        let vector = record["vector"].as_str().unwrap();
        let Some(cvss) = parse_or_record(vector, &mut mismatches) else {
            continue;
        };
        count += 1;
        let s = cvss.scores();
        let ours = [s.base, s.temporal.unwrap(), s.environmental.unwrap()];
        let of = |lib: &str| {
            ["base", "temporal", "environmental"].map(|k| record[lib][k].as_f64().unwrap())
        };
        let (redhat, cvsslib, ae) = (of("redhat"), of("cvsslib"), of("ae"));
        if ours != redhat || ours != cvsslib {
            mismatches.push(format!(
                "{vector}: ours {ours:?}, redhat {redhat:?}, cvsslib {cvsslib:?}"
            ));
        }
        if ours != ae {
            differs_from_float_ceiling += 1;
        } else {
            mismatches.push(format!("{vector}: equals the float-ceiling result {ae:?}"));
        }
    }
    println!(
        "generated-disagreements.jsonl: {count} vectors; {} equal Red Hat and cvsslib, \
         {differs_from_float_ceiling} differ from ae-cvss-calculator",
        count - mismatches.len()
    );
    assert_eq!(count, 20);
    fail_if_any("generated-disagreements.jsonl", &mismatches);
}

/// Real (vector, stated base score) pairs. Every vector must parse and our base score must
/// equal Red Hat `cvss`'s recomputation (`redhat_base`); how many publishers' stated scores
/// match is only reported, since publishers make mistakes.
#[test]
fn real_world_stated_scores() {
    let Some(dir) = cvss_corpus() else { return };
    let mut mismatches = Vec::new();
    // version -> (pairs, stated == ours, stated severity given, stated severity == ours,
    //             not in canonical order)
    let mut stats = BTreeMap::<String, [usize; 5]>::new();
    for line in read_lines(&dir.join("real-world-stated-scores.jsonl.gz")) {
        let record: Value = serde_json::from_str(&line).unwrap();
        let vector = record["vector"].as_str().unwrap();
        let version = record["version"].as_str().unwrap();
        let Some(cvss) = parse_or_record(vector, &mut mismatches) else {
            continue;
        };
        if cvss.version().to_string() != version {
            mismatches.push(format!("{vector}: version {} != {version}", cvss.version()));
        }
        let Scores {
            base,
            base_severity,
            ..
        } = cvss.scores();
        let redhat = record["redhat_base"].as_f64().unwrap();
        if base != redhat {
            mismatches.push(format!("{vector}: ours {base}, Red Hat {redhat}"));
        }
        let entry = stats.entry(version.to_owned()).or_default();
        entry[0] += 1;
        if record["stated_base"].as_f64() == Some(base) {
            entry[1] += 1;
        }
        if let Some(stated) = record["stated_severity"].as_str() {
            entry[2] += 1;
            if base_severity.is_some_and(|s| s.as_str() == stated.to_uppercase()) {
                entry[3] += 1;
            }
        }
        if parse_strict(vector).is_err() {
            entry[4] += 1;
        }
    }
    for (version, [pairs, same, severities, same_severity, unordered]) in &stats {
        println!(
            "real-world {version}: {pairs} parsed, stated base == ours {same}, \
             stated severity == ours {same_severity}/{severities}, \
             not in specification order {unordered}"
        );
    }
    fail_if_any("real-world-stated-scores.jsonl.gz", &mismatches);
}
