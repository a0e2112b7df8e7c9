//! Access to the data-driven test corpus (`KEIKAI_CORPUS`, default `../shared/corpus` beside the
//! workspace) and a realistic record input shared by the tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use keikai_formats::cve5::{
    AffectedProduct, CreditInput, CveRecordInput, Cwe, Lang, Status, UpperBound, VersionStatus,
};
use serde_json::Value;

/// The `cve5` folder of the corpus, if `needed` (a path inside it) exists; otherwise says that
/// the test skips.
pub(crate) fn cve5_corpus(needed: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("KEIKAI_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let cve5 = dir.join("cve5");
    if cve5.join(needed).exists() {
        Some(cve5)
    } else {
        eprintln!(
            "skipping: {} not found (set KEIKAI_CORPUS)",
            cve5.join(needed).display()
        );
        None
    }
}

pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

/// One JSON value a line.
pub(crate) fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{} line {}: {e}", path.display(), i + 1))
        })
        .collect()
}

fn version(v: &str, status: Status) -> VersionStatus {
    VersionStatus {
        version: v.to_owned(),
        status,
        version_type: None,
        upper: None,
    }
}

/// A typical JPCERT-style record: two products, CVSS 3.1 and 4.0, CWE-79, en and ja
/// descriptions, two finders.
pub(crate) fn sample_input() -> CveRecordInput {
    CveRecordInput {
        cve_id: "CVE-2026-12345".to_owned(),
        assigner_org_id: "6b3ad84c-e1a6-4bf7-a703-f496b71e49db"
            .parse()
            .expect("uuid"),
        assigner_short_name: "JPCERT".to_owned(),
        title: "Stored cross-site scripting in Example Router web console".to_owned(),
        description_en: "The web console of Example Router before 2.4.1 and Example Switch \
                         3.0 does not escape device names, allowing an authenticated attacker \
                         to run script in an administrator's browser."
            .to_owned(),
        description_ja: Some(
            "Example Router 2.4.1 より前のバージョンおよび Example Switch 3.0 の Web \
             コンソールには、格納型クロスサイトスクリプティングの脆弱性があります。"
                .to_owned(),
        ),
        affected: vec![
            AffectedProduct {
                vendor: "Example Corp.".to_owned(),
                product: "Example Router".to_owned(),
                versions: vec![
                    VersionStatus {
                        version: "2.0.0".to_owned(),
                        status: Status::Affected,
                        version_type: Some("semver".to_owned()),
                        upper: Some(UpperBound::LessThan("2.4.1".to_owned())),
                    },
                    version("2.4.1", Status::Unaffected),
                ],
                default_status: Some(Status::Unaffected),
            },
            AffectedProduct {
                vendor: "Example Corp.".to_owned(),
                product: "Example Switch".to_owned(),
                versions: vec![version("3.0", Status::Affected)],
                default_status: None,
            },
        ],
        cwe: Some(Cwe {
            id: "CWE-79".to_owned(),
            name: "Improper Neutralization of Input During Web Page Generation \
                   ('Cross-site Scripting')"
                .to_owned(),
        }),
        cvss_v3: Some("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N".to_owned()),
        cvss_v4: Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N".to_owned()),
        references: vec![
            "https://jvn.jp/en/jp/JVN12345678/".to_owned(),
            "https://www.example.com/security/2026-001".to_owned(),
        ],
        credits: vec![
            CreditInput {
                name: "Hanako Yamada".to_owned(),
                lang: Lang::En,
            },
            CreditInput {
                name: "山田 花子".to_owned(),
                lang: Lang::Ja,
            },
        ],
        published: "2026-03-10T00:00:00Z".parse().expect("timestamp"),
        updated: "2026-03-12T06:30:00Z".parse().expect("timestamp"),
    }
}
