use keikai_csaf::{Preset, Severity, ValidationOptions, validate};
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::ReleaseId;
use crate::UserId;
use crate::advisory::{Content, Faq, Localized, Reference, Score};
use crate::case::Cwe;
use crate::testing::{
    ROUTER, V1_0, V2_0, V2_1, VENDOR, branch, firmware_fix, fixed_in_2_1, id, loc,
    router_catalogue, score, status, ts, vulnerability,
};
use crate::user::Locale;

const FAMILY: u128 = 0x20;
const SWITCH: u128 = 0x21;
const SWITCH_OLD: u128 = 0x22;
const SWITCH_ARM: u128 = 0x23;

/// Router X, and a family of switches whose old versions (a range) come for one architecture.
fn catalogue() -> Vec<Branch> {
    use BranchCategory as C;
    let mut branches = router_catalogue();
    branches.extend([
        branch(FAMILY, Some(VENDOR), C::ProductFamily, "Switches"),
        branch(SWITCH, Some(FAMILY), C::ProductName, "Switch Y"),
        branch(
            SWITCH_OLD,
            Some(SWITCH),
            C::ProductVersionRange,
            "vers:semver/<3.2.0",
        ),
        branch(SWITCH_ARM, Some(SWITCH_OLD), C::Architecture, "arm64"),
    ]);
    branches
}

fn names() -> ProductNames {
    ProductNames::from_branches(&catalogue())
}

const CNA: Uuid = Uuid::from_u128(0x0b5b_d4b1_5f6e_4a2c_9e1d_2f3c_4b5a_6d7e);

fn publisher() -> PublisherInfo {
    PublisherInfo {
        name: "Example Corp PSIRT".to_owned(),
        namespace: "https://www.example.com".to_owned(),
        contact_details: Some("psirt@example.com".to_owned()),
        issuing_authority: None,
        base_url: "https://psirt.example.com/".to_owned(),
        cve_assigner: Some((CNA, "ExampleCorp".to_owned())),
    }
}

fn remediation(
    category: RemediationCategory,
    en: &str,
    ja: &str,
    fixed_version: Option<&str>,
    kb: Option<&str>,
    url: Option<&str>,
    branches: &[u128],
) -> Remediation {
    Remediation {
        category,
        details: loc(en, ja),
        fixed_version: fixed_version.map(str::to_owned),
        kb: kb.map(str::to_owned),
        url: url.map(str::to_owned),
        branch_ids: branches.iter().copied().map(id).collect(),
    }
}

/// Version 1 of a realistic advisory: two vulnerabilities over three versions of a router.
fn content_v1() -> Content {
    use ProductStatusKind as K;
    let auth_bypass = Vulnerability {
        cwe: Some(Cwe::parse("CWE-287").expect("cwe")),
        scores: vec![
            score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            // 2.0 needs a non-default setting to be reachable.
            Score {
                branch_ids: vec![id(V2_0)],
                ..score("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H")
            },
            score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
        ],
        exploited: true,
        product_statuses: fixed_in_2_1(),
        remediations: vec![firmware_fix()],
        ..vulnerability(
            1,
            "Authentication bypass in the web management interface",
            "CVE-2026-10001",
        )
    };
    let xss = Vulnerability {
        cwe: Some(Cwe::parse("CWE-79").expect("cwe")),
        scores: vec![score("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N")],
        publicly_disclosed: true,
        product_statuses: vec![
            status(V1_0, K::KnownAffected, None),
            status(
                V2_0,
                K::KnownNotAffected,
                Some(Justification::VulnerableCodeNotPresent),
            ),
            status(
                V2_1,
                K::KnownNotAffected,
                Some(Justification::VulnerableCodeNotPresent),
            ),
        ],
        remediations: vec![
            remediation(
                RemediationCategory::VendorFix,
                "",
                "",
                Some("2.1"),
                None,
                None,
                &[V1_0],
            ),
            remediation(
                RemediationCategory::Mitigation,
                "Allow only administrators to open the log viewer.",
                "ログビューアを管理者のみに許可してください。",
                None,
                None,
                None,
                &[V1_0],
            ),
        ],
        ..vulnerability(
            2,
            "Stored cross-site scripting in the log viewer",
            "CVE-2026-10002",
        )
    };
    Content {
        text: Localized {
            en: Text {
                title: "Multiple vulnerabilities in Router X".to_owned(),
                summary: "Router X 1.0 and 2.0 contain an authentication bypass and a \
                          cross-site scripting vulnerability."
                    .to_owned(),
                description: "The web management interface of Router X does not check the \
                              session of some requests, and the log viewer does not escape \
                              log entries."
                    .to_owned(),
                impact: "A remote attacker can take over the router.".to_owned(),
                faqs: vec![
                    Faq {
                        question: "Is remote management enabled by default?".to_owned(),
                        answer: "No, it is disabled by default.".to_owned(),
                    },
                    Faq {
                        question: "Do I need to reboot after updating?".to_owned(),
                        answer: "Yes, the router restarts after the update.".to_owned(),
                    },
                ],
            },
            ja: Text {
                title: "Router X における複数の脆弱性".to_owned(),
                summary: "Router X 1.0 および 2.0 に認証回避とクロスサイトスクリプティングの\
                          脆弱性があります。"
                    .to_owned(),
                description: "Router X の Web 管理画面は一部のリクエストのセッションを確認せず、\
                              ログビューアはログをエスケープしません。"
                    .to_owned(),
                impact: "遠隔の攻撃者がルータを乗っ取る可能性があります。".to_owned(),
                faqs: Vec::new(),
            },
        },
        tlp: Tlp::Clear,
        severity: Some("Critical".to_owned()),
        vulnerabilities: vec![auth_bypass, xss],
        references: vec![Reference {
            url: "https://www.example.com/blog/router-x-security".to_owned(),
            summary: "Blog post about the fix".to_owned(),
        }],
        acknowledgments: vec![
            Acknowledgment {
                names: vec!["Hanako Yamada".to_owned()],
                organization: Some("Example Security Lab".to_owned()),
            },
            Acknowledgment {
                names: Vec::new(),
                organization: Some("JPCERT/CC".to_owned()),
            },
        ],
    }
}

/// Version 2 adds a workaround for everything affected by the first vulnerability.
fn content_v2() -> Content {
    let mut c = content_v1();
    c.vulnerabilities[0].remediations.push(remediation(
        RemediationCategory::Workaround,
        "Disable remote management.",
        "リモート管理を無効にしてください。",
        None,
        None,
        None,
        &[],
    ));
    c
}

fn advisory() -> Advisory {
    let (mut a, _) = Advisory::draft(
        "EXAMPLE-2026-0001".to_owned(),
        Locale::En,
        content_v1().text.en,
        UserId::from_uuid(Uuid::from_u128(9)),
        ts("2026-03-01T00:00:00Z"),
    )
    .expect("draft");
    a.content = content_v2();
    let release = ReleaseId::from_uuid(Uuid::from_u128(7));
    a.versions = vec![
        PublishedVersion {
            number: 1,
            at: ts("2026-03-10T01:00:00Z"),
            summary: "Initial release.".to_owned(),
            release,
            content: content_v1(),
        },
        PublishedVersion {
            number: 2,
            at: ts("2026-03-17T01:00:00Z"),
            summary: "Added a workaround.".to_owned(),
            release,
            content: content_v2(),
        },
    ];
    a
}

/// The document as JSON and its findings under the full preset; fails, saying `what` it is,
/// unless the document is valid.
#[track_caller]
fn valid_report(doc: &CsafDocument, what: &str) -> (Value, keikai_csaf::Report) {
    let value = serde_json::to_value(doc).expect("json");
    let report = validate(
        &value,
        &ValidationOptions {
            preset: Preset::Full,
            ..Default::default()
        },
    );
    assert!(report.valid, "{what}: {:#?}", report.findings);
    (value, report)
}

/// The string `key` of each object of the array `list`.
fn strings<'v>(list: &'v Value, key: &str) -> Vec<&'v str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .filter_map(|item| item[key].as_str())
        .collect()
}

/// Which findings of the full preset the published document still has, as
/// `(test id, severity)`: only those the catalogue cannot avoid today.
fn remaining(report: &keikai_csaf::Report) -> Vec<(&'static str, Severity)> {
    let mut out: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.test_id, f.severity))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn product_names_follow_the_catalogue() {
    let names = names();
    assert_eq!(
        names.get(id(V2_0)).expect("2.0"),
        &ProductName {
            vendor: "Example Corp".to_owned(),
            product: "Router X".to_owned(),
            version: "2.0".to_owned(),
            range: false,
        }
    );
    let arm = names.get(id(SWITCH_ARM)).expect("arm64");
    assert_eq!(
        (arm.product.as_str(), arm.version.as_str(), arm.range),
        ("Switches Switch Y", "vers:semver/<3.2.0 arm64", true)
    );
    let unknown = id(0x99);
    let err = names.get(unknown).expect_err("unknown");
    assert_eq!(err, PublicationError::UnknownProduct { id: unknown });
    assert!(err.to_string().contains(&unknown.to_string()), "{err}");
    let err = names.get(id(ROUTER)).expect_err("not a version");
    assert!(
        matches!(&err, PublicationError::NotAProductVersion { path, .. } if path == "Example Corp Router X"),
        "{err:?}"
    );
    // A branch whose parent is gone is not guessed at.
    let mut partial = catalogue();
    partial.retain(|b| b.id != id(ROUTER));
    let err = ProductNames::from_branches(&partial)
        .get(id(V1_0))
        .expect_err("orphan");
    assert!(
        matches!(err, PublicationError::NotAProductVersion { .. }),
        "{err:?}"
    );
}

#[test]
fn publication_csaf_document_is_valid_and_complete() {
    let a = advisory();
    let names = names();
    let doc = csaf_document(&a, &a.versions[1], &names, &publisher()).expect("csaf");
    let (value, report) = valid_report(&doc, "version 2");
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error),
        "{:#?}",
        report.findings
    );
    // Without product identification helpers (CPE or purl) in the catalogue, 6.2.16 warns for
    // each product; nothing else may.
    assert_eq!(
        remaining(&report),
        [("6.2.16", Severity::Warning)],
        "{:#?}",
        report.findings
    );

    let tracking = &value["document"]["tracking"];
    assert_eq!(tracking["id"], "EXAMPLE-2026-0001");
    assert_eq!(tracking["version"], "2");
    assert_eq!(tracking["initial_release_date"], "2026-03-10T01:00:00Z");
    assert_eq!(tracking["current_release_date"], "2026-03-17T01:00:00Z");
    let history = tracking["revision_history"].as_array().expect("history");
    assert_eq!(
        history
            .iter()
            .map(|r| (r["number"].as_str(), r["summary"].as_str()))
            .collect::<Vec<_>>(),
        [
            (Some("1"), Some("Initial release.")),
            (Some("2"), Some("Added a workaround."))
        ]
    );
    assert_eq!(value["document"]["distribution"]["tlp"]["label"], "WHITE");
    assert_eq!(value["document"]["aggregate_severity"]["text"], "Critical");
    let refs = &value["document"]["references"];
    assert_eq!(
        refs[1]["url"],
        "https://psirt.example.com/.well-known/csaf/white/2026/example-2026-0001.json"
    );

    // The per-product override replaces the default score for 2.0 only.
    let v0 = &value["vulnerabilities"][0];
    let scores: Vec<(String, Vec<String>)> = v0["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .map(|s| {
            (
                s["cvss_v3"]["vectorString"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                serde_json::from_value(s["products"].clone()).expect("ids"),
            )
        })
        .collect();
    let pid = |version: &str| -> String {
        let mut found = String::new();
        doc.product_tree
            .as_ref()
            .and_then(|t| t.branches.as_ref())
            .into_iter()
            .flatten()
            .flat_map(|v| v.branches.iter().flatten())
            .flat_map(|p| p.branches.iter().flatten())
            .filter(|leaf| leaf.name == version)
            .for_each(|leaf| {
                if let Some(p) = &leaf.product {
                    found = p.product_id.0.clone();
                }
            });
        found
    };
    assert_eq!(
        scores,
        [
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_owned(),
                vec![pid("1.0")]
            ),
            (
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H".to_owned(),
                vec![pid("2.0")]
            ),
        ]
    );
    assert_eq!(
        v0["remediations"][0]["details"],
        "Update to 2.1 (KB123). Download the firmware from the support portal."
    );
    assert_eq!(
        v0["remediations"][1]["product_ids"],
        json!([pid("1.0"), pid("2.0")]),
        "a remediation without products covers every affected one"
    );
    assert_eq!(v0["threats"][0]["category"], "exploit_status");
    let v1 = &value["vulnerabilities"][1];
    assert_eq!(v1["remediations"][0]["details"], "Update to 2.1.");
    assert_eq!(
        v1["flags"],
        json!([{"label": "vulnerable_code_not_present", "product_ids": [pid("2.0"), pid("2.1")]}])
    );
    let faqs = value["document"]["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter(|n| n["category"] == "faq")
        .count();
    assert_eq!(faqs, 2);

    insta::assert_json_snapshot!("csaf_document", value, {
        ".document.tracking.generator.engine.version" => "[version]",
    });
}

#[test]
fn publication_csaf_of_an_earlier_version_stops_at_it() {
    let a = advisory();
    let names = names();
    let doc = csaf_document(&a, &a.versions[0], &names, &publisher()).expect("csaf");
    assert_eq!(doc.document.tracking.version, "1");
    assert_eq!(doc.document.tracking.revision_history.len(), 1);
    let (value, _) = valid_report(&doc, "version 1");
    assert_eq!(
        value["vulnerabilities"][0]["remediations"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // A version not yet stored (about to be published) follows the stored ones.
    let mut next = a.versions[1].clone();
    next.number = 3;
    next.at = ts("2026-04-01T00:00:00Z");
    next.summary = String::new();
    let doc = csaf_document(&a, &next, &names, &publisher()).expect("csaf");
    assert_eq!(doc.document.tracking.version, "3");
    let last = doc.document.tracking.revision_history.last().expect("last");
    assert_eq!(last.summary, "Version 3.");
}

#[test]
fn publication_tlp_labels_and_their_urls() {
    let names = names();
    for (tlp, label) in [
        (Tlp::Clear, "WHITE"),
        (Tlp::Green, "GREEN"),
        (Tlp::Amber, "AMBER"),
        (Tlp::AmberStrict, "AMBER"),
        (Tlp::Red, "RED"),
    ] {
        let mut a = advisory();
        a.versions[1].content.tlp = tlp;
        let doc = csaf_document(&a, &a.versions[1], &names, &publisher()).expect("csaf");
        let (value, _) = valid_report(&doc, &format!("{tlp:?}"));
        assert_eq!(value["document"]["distribution"]["tlp"]["label"], label);
        assert_eq!(value["document"]["distribution"]["tlp"]["url"], TLP_URL);
        let json_url = value["document"]["references"]
            .as_array()
            .expect("references")
            .iter()
            .any(|r| r["url"].as_str().is_some_and(|u| u.ends_with(".json")));
        assert_eq!(json_url, tlp == Tlp::Clear, "{tlp:?}");
        // Only public advisories get CVE records.
        let records = cve_records(&a, &a.versions[1], &names, &publisher()).expect("cve");
        assert_eq!(records.is_empty(), tlp != Tlp::Clear, "{tlp:?}");
    }
}

#[test]
fn publication_errors_name_what_is_wrong() {
    let names = names();
    let mut a = advisory();
    a.versions[1].content.text.en = Text::default();
    let err = csaf_document(&a, &a.versions[1], &names, &publisher()).expect_err("no English");
    assert_eq!(
        err,
        PublicationError::MissingText {
            field: "text.en.title"
        }
    );

    let a = advisory();
    let stranger = id(0x77);
    let mut v = a.versions[1].clone();
    v.content.vulnerabilities[0].product_statuses.push(status(
        0x77,
        ProductStatusKind::UnderInvestigation,
        None,
    ));
    let err = csaf_document(&a, &v, &names, &publisher()).expect_err("unknown product");
    assert_eq!(err, PublicationError::UnknownProduct { id: stranger });
    let err = cve_records(&a, &v, &names, &publisher()).expect_err("unknown product");
    assert_eq!(err, PublicationError::UnknownProduct { id: stranger });

    let mut v = a.versions[1].clone();
    v.content.vulnerabilities[1].product_statuses.remove(0);
    v.content.vulnerabilities[1].remediations.push(remediation(
        RemediationCategory::NoFixPlanned,
        "End of life.",
        "サポート終了",
        None,
        None,
        None,
        &[],
    ));
    let err = csaf_document(&a, &v, &names, &publisher()).expect_err("nothing affected");
    assert!(
        matches!(&err, PublicationError::NoAffectedProduct { field } if field == "vulnerabilities[1].remediations[2]"),
        "{err:?}"
    );

    let bad = PublisherInfo {
        base_url: "psirt.example.com".to_owned(),
        ..publisher()
    };
    let err = csaf_document(&a, &a.versions[1], &names, &bad).expect_err("base url");
    assert!(
        matches!(
            err,
            PublicationError::Url {
                field: "base_url",
                ..
            }
        ),
        "{err:?}"
    );

    let bad = PublisherInfo {
        namespace: "example.com".to_owned(),
        ..publisher()
    };
    let err = csaf_document(&a, &a.versions[1], &names, &bad).expect_err("namespace");
    assert!(
        matches!(err, PublicationError::Csaf(BuildError::Uri { .. })),
        "{err:?}"
    );

    let bad = PublisherInfo {
        cve_assigner: Some((Uuid::from_u128(1), "ExampleCorp".to_owned())),
        ..publisher()
    };
    let err = cve_records(&a, &a.versions[1], &names, &bad).expect_err("org id");
    assert!(
        matches!(&err, PublicationError::Cve { cve, source } if cve == "CVE-2026-10001" && source.field() == "assigner_org_id"),
        "{err:?}"
    );
}

#[test]
fn publication_cve_records_validate() {
    let a = advisory();
    let names = names();
    let records = cve_records(&a, &a.versions[1], &names, &publisher()).expect("records");
    assert_eq!(
        records
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>(),
        ["CVE-2026-10001", "CVE-2026-10002"]
    );
    for (cve, record) in &records {
        let problems = cve5::validate_cve_record(record);
        assert!(problems.is_empty(), "{cve}: {problems:#?}\n{record:#}");
    }

    let (_, first) = &records[0];
    let meta = &first["cveMetadata"];
    assert_eq!(meta["assignerOrgId"], CNA.to_string());
    assert_eq!(meta["datePublished"], "2026-03-10T01:00:00.000Z");
    assert_eq!(meta["dateUpdated"], "2026-03-17T01:00:00.000Z");
    let cna = &first["containers"]["cna"];
    assert_eq!(
        cna["title"],
        "Authentication bypass in the web management interface"
    );
    assert_eq!(strings(&cna["descriptions"], "lang"), ["en", "ja"]);
    assert!(
        cna["descriptions"][1]["value"]
            .as_str()
            .is_some_and(|d| d.contains("ログビューア")),
        "{:#}",
        cna["descriptions"]
    );
    assert_eq!(
        cna["affected"],
        json!([{
            "vendor": "Example Corp",
            "product": "Router X",
            "versions": [
                {"version": "1.0", "status": "affected"},
                {"version": "2.0", "status": "affected"},
                {"version": "2.1", "status": "unaffected"}
            ]
        }])
    );
    // Only the vectors for every product: the 2.0 override stays in the CSAF document.
    let vectors: Vec<&str> = cna["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter_map(|m| {
            m.get("cvssV4_0")
                .or_else(|| m.get("cvssV3_1"))
                .and_then(|c| c["vectorString"].as_str())
        })
        .collect();
    assert_eq!(
        vectors,
        [
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        ]
    );
    assert_eq!(
        cna["problemTypes"][0]["descriptions"][0]["cweId"],
        "CWE-287"
    );
    assert_eq!(
        cna["references"][0]["url"],
        "https://psirt.example.com/advisories/EXAMPLE-2026-0001"
    );
    assert_eq!(
        strings(&cna["credits"], "value"),
        ["Hanako Yamada (Example Security Lab)", "JPCERT/CC"]
    );

    // Not a CNA: no records.
    let not_cna = PublisherInfo {
        cve_assigner: None,
        ..publisher()
    };
    assert!(
        cve_records(&a, &a.versions[1], &names, &not_cna)
            .expect("none")
            .is_empty()
    );
}

#[test]
fn publication_cve_ranges() {
    let names = names();
    let arm = names.get(id(SWITCH_ARM)).expect("arm");
    // The architecture refines the range, so the range is not readable as one.
    assert_eq!(
        cve_version(arm, cve5::Status::Affected).version,
        "vers:semver/<3.2.0 arm64"
    );
    let range = |version: &str| ProductName {
        vendor: "V".to_owned(),
        product: "P".to_owned(),
        version: version.to_owned(),
        range: true,
    };
    use cve5::UpperBound::{LessThan, LessThanOrEqual};
    let upper = |bound: fn(String) -> cve5::UpperBound, version: &str| Some(bound(version.into()));
    // The range, and the version, version type and upper bound of the CVE record.
    for (version, want) in [
        (
            "vers:semver/<3.2.0",
            ("0", Some("semver"), upper(LessThan, "3.2.0")),
        ),
        (
            "vers:generic/>=1.0|<=1.4",
            ("1.0", Some("generic"), upper(LessThanOrEqual, "1.4")),
        ),
        ("< 2.0", ("0", Some("custom"), upper(LessThan, "2.0"))),
        ("all versions", ("all versions", None, None)),
        ("vers:generic/>=1.0", ("vers:generic/>=1.0", None, None)),
    ] {
        let v = cve_version(&range(version), cve5::Status::Affected);
        assert_eq!(
            (v.version.as_str(), v.version_type.as_deref(), v.upper),
            want,
            "{version}"
        );
    }

    // A range product in a CVE record validates.
    let mut a = advisory();
    let mut v = a.versions[1].clone();
    v.content.vulnerabilities[1].product_statuses.push(status(
        SWITCH_OLD,
        ProductStatusKind::KnownAffected,
        None,
    ));
    a.versions.truncate(1);
    let records = cve_records(&a, &v, &names, &publisher()).expect("records");
    let (_, xss) = &records[1];
    assert!(cve5::validate_cve_record(xss).is_empty());
    assert_eq!(
        xss["containers"]["cna"]["affected"][1],
        json!({
            "vendor": "Example Corp",
            "product": "Switches Switch Y",
            "versions": [{"version": "0", "status": "affected", "versionType": "semver", "lessThan": "3.2.0"}]
        })
    );
    let doc = csaf_document(&a, &v, &names, &publisher()).expect("csaf with a range");
    valid_report(&doc, "with a range");
}

#[test]
fn publication_digest_files_are_in_sha256sum_format() {
    let (sha256, sha512) = digest_files("example-2026-0001.json", b"abc");
    assert_eq!(
        sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  example-2026-0001.json\n"
    );
    assert!(sha512.starts_with(
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
         2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f  "
    ));
    assert!(sha512.ends_with("  example-2026-0001.json\n"));
    assert_eq!(sha512.lines().count(), 1);
}

#[test]
fn publication_partner_csaf_is_amber_interim_and_names_its_receiver() {
    use crate::partner::{PartnerEdition, PartnerEditionInput};
    let mut a = advisory();
    a.versions.truncate(1);
    let upcoming = PublishedVersion {
        number: 2,
        at: ts("2026-03-12T00:00:00Z"),
        summary: "Added a workaround.".to_owned(),
        release: ReleaseId::from_uuid(Uuid::from_u128(8)),
        content: content_v2(),
    };
    let edition = PartnerEdition::write(
        a.id,
        PartnerEditionInput {
            technical_details: Localized {
                en: "The parser trusts the length field.".into(),
                ja: String::new(),
            },
            detection_guidance: Localized {
                en: String::new(),
                ja: "長さフィールドを監視してください。".into(),
            },
            indicators: vec!["sha256:00ff".into(), "/api/v1/upload?x=%00".into()],
            tlp: Tlp::AmberStrict,
        },
        UserId::from_uuid(Uuid::from_u128(9)),
        ts("2026-03-11T00:00:00Z"),
        None,
    )
    .expect("edition");
    let names = names();
    let doc = partner_csaf_document(
        &a,
        &upcoming,
        &names,
        &publisher(),
        &PartnerCsaf {
            org_name: "Example CERT",
            embargo_until: ts("2026-03-17T01:00:00Z"),
            edition: Some(&edition),
        },
    )
    .expect("csaf");
    let (value, report) = valid_report(&doc, "partner document");
    // 6.2.11 (canonical URL) warns by design: the partner file is not in the public
    // distribution, and its name carries the receiving organisation, unlike CSAF 5.1's rule.
    assert_eq!(
        remaining(&report),
        [("6.2.11", Severity::Warning), ("6.2.16", Severity::Warning)]
    );
    let d = &value["document"];
    assert_eq!(d["distribution"]["tlp"]["label"], "AMBER");
    let text = d["distribution"]["text"].as_str().unwrap();
    assert!(text.starts_with("TLP:AMBER+STRICT."), "{text}");
    assert!(text.contains("Example CERT"), "{text}");
    assert!(text.contains("2026-03-17T01:00:00Z"), "{text}");
    assert_eq!(d["tracking"]["status"], "interim");
    assert_eq!(d["tracking"]["version"], "2");
    let notes = serde_json::to_string(&d["notes"]).unwrap();
    assert!(notes.contains("The parser trusts the length field."));
    assert!(notes.contains("長さフィールドを監視してください。"));
    assert!(notes.contains("sha256:00ff"));
    // The public document of the same advisory carries none of it.
    let public =
        serde_json::to_string(&csaf_document(&a, &a.versions[0], &names, &publisher()).unwrap())
            .unwrap();
    assert!(!public.contains("length field") && !public.contains("AMBER"));
}
