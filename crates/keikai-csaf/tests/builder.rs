//! Documents made by the builder pass the schema and the basic validator; inputs it cannot make
//! valid give the matching error.
#![expect(clippy::unwrap_used, reason = "test code")]

use keikai_csaf::builder::{
    AdvisoryBuilder, BuildError, Product, RemediationInput, Status, VulnerabilityBuilder,
    acknowledge,
};
use keikai_csaf::model::{
    DocumentStatus, NoteCategory, ProductId, Publisher, PublisherCategory, RestartCategory,
    TlpLabel,
};
use keikai_csaf::{CsafDocument, Preset, ValidationOptions, schema_validator, validate};
use serde_json::Value;

const VECTOR: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";

fn publisher() -> Publisher {
    Publisher::new(
        PublisherCategory::Vendor,
        "Example Inc.",
        "https://example.com",
    )
}

fn advisory() -> AdvisoryBuilder {
    let mut b = AdvisoryBuilder::new(
        "EXAMPLE-2024-0001",
        "Vulnerability in Example Router",
        publisher(),
    );
    b.tlp(TlpLabel::White)
        .lang("en")
        .revision("2024-03-01T12:00:00Z", "1", "Initial version.");
    b
}

/// Every check we have: schema (no findings at all), the basic validator (valid, no findings),
/// the strict schema (no additional properties), sorted keys and a lossless round trip through
/// the model.
fn assert_valid(doc: &CsafDocument) -> Value {
    let value = serde_json::to_value(doc).unwrap();
    let schema = schema_validator().validate(&value);
    assert!(schema.is_empty(), "schema findings: {schema:#?}\n{value:#}");
    assert!(keikai_csaf::strict_schema_findings(&value).is_empty());
    let report = validate(
        &value,
        &ValidationOptions {
            preset: Preset::Basic,
            ..Default::default()
        },
    );
    assert!(
        report.valid,
        "basic validator: {:#?}\n{value:#}",
        report.findings
    );
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    // The builder writes keys in alphabetical order (optional test 6.2.13).
    let extended = validate(
        &value,
        &ValidationOptions {
            preset: Preset::Extended,
            ..Default::default()
        },
    );
    let unsorted: Vec<_> = extended
        .findings
        .iter()
        .filter(|f| f.test_id == "6.2.13")
        .collect();
    assert!(unsorted.is_empty(), "{unsorted:#?}");
    let back: CsafDocument = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(&back, doc);
    value
}

#[test]
fn one_product_one_vulnerability() {
    let mut b = advisory();
    let router = router(&mut b);
    b.add_vulnerability(
        VulnerabilityBuilder::new()
            .cve("CVE-2024-12345")
            .description("A crafted packet overflows a buffer.")
            .cvss(VECTOR, [&router])
            .status(Status::KnownAffected, [&router])
            .remediation(RemediationInput::none_available("No fix yet.", [&router])),
    );
    let doc = b.build().unwrap();
    let value = assert_valid(&doc);
    assert_eq!(value["document"]["category"], "csaf_security_advisory");
    assert_eq!(value["document"]["tracking"]["version"], "1");
    assert_eq!(
        value["document"]["tracking"]["initial_release_date"],
        "2024-03-01T12:00:00Z"
    );
    assert_eq!(
        value["product_tree"]["branches"][0]["branches"][0]["branches"][0]["product"],
        serde_json::json!({"name": "Example Inc. Router X 1.0", "product_id": "CSAFPID-0001"})
    );
    let cvss = &value["vulnerabilities"][0]["scores"][0]["cvss_v3"];
    assert_eq!(
        (cvss["baseScore"].as_f64(), cvss["baseSeverity"].as_str()),
        (Some(9.8), Some("CRITICAL"))
    );
}

#[test]
fn several_products_and_vulnerabilities() {
    let mut b = advisory();
    b.summary("Two vulnerabilities in Example Router and Example Gateway.")
        .legal_disclaimer("Provided as is.")
        .faq("Am I affected?", "If you run Router X 1.0 or 1.1.")
        .note(
            NoteCategory::General,
            "Recommended practices",
            "Keep devices off the internet.",
        )
        .self_reference(
            "https://example.com/advisories/example-2024-0001.json",
            "This advisory",
        )
        .reference("https://example.com/blog/router-x", "Blog post")
        .acknowledgment(acknowledge(["Jane Doe"], Some("Example Research")))
        .aggregate_severity("Critical")
        .distribution_text("Share freely.")
        .alias("EX-SA-2024-01");
    b.tlp_with_url(TlpLabel::Green, "https://www.first.org/tlp/");
    let r10 = b
        .add_product(
            Product::new("Example Inc.", "Router X", "1.0")
                .cpe("cpe:2.3:h:example:router_x:1.0:*:*:*:*:*:*:*"),
        )
        .unwrap();
    let r11 = b
        .add_product(Product::new("Example Inc.", "Router X", "1.1"))
        .unwrap();
    let r12 = b
        .add_product(Product::new("Example Inc.", "Router X", "1.2"))
        .unwrap();
    let gw = b
        .add_product(Product::version_range(
            "Example Inc.",
            "Gateway",
            "vers:generic/<3.0.2",
        ))
        .unwrap();
    let gw_fixed = b
        .add_product(
            Product::new("Example Inc.", "Gateway", "3.0.2")
                .purl("pkg:generic/example/gateway@3.0.2"),
        )
        .unwrap();
    let lib = b
        .add_product(Product::new("Other Vendor", "libparse", "2.4.X"))
        .unwrap();
    // Adding the same product again gives the same id.
    assert_eq!(
        b.add_product(Product::new("Example Inc.", "Router X", "1.0"))
            .unwrap(),
        r10
    );
    assert_eq!(r12, ProductId::from("CSAFPID-0003"));

    b.add_vulnerability(
        VulnerabilityBuilder::new()
            .cve("CVE-2024-0001")
            .title("Buffer overflow in packet parser")
            .cwe("CWE-787")
            .description("A crafted packet overflows a buffer.")
            .faq("Is it exploited?", "Not that we know of.")
            .discovery_date("2024-01-15T00:00:00Z")
            .release_date("2024-03-01T12:00:00Z")
            .id("Example Bugzilla", "BUG-1234")
            .cvss(VECTOR, [&r10, &r11])
            .cvss(
                "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C",
                [&r10, &r11],
            )
            .cvss("AV:N/AC:L/Au:N/C:C/I:C/A:C", [&r10])
            .cvss(
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:H/MAV:A",
                [&lib],
            )
            .status(Status::KnownAffected, [&r10, &r11, &lib])
            .status(Status::Fixed, [&r12])
            .status(Status::Recommended, [&r12])
            .remediation(
                RemediationInput::vendor_fix("Update to 1.2.", [&r10, &r11])
                    .url("https://example.com/firmware/router-x/1.2")
                    .date("2024-03-01T12:00:00Z")
                    .restart_required(RestartCategory::Machine),
            )
            .remediation(RemediationInput::workaround(
                "Disable the parser.",
                [&r10, &r11],
            ))
            .remediation(RemediationInput::no_fix_planned(
                "libparse 2.4 is end of life.",
                [&lib],
            ))
            .acknowledgment(acknowledge(Vec::<String>::new(), Some("Example Research")))
            .reference(
                "https://www.cve.org/CVERecord?id=CVE-2024-0001",
                "CVE-2024-0001",
            ),
    );
    b.add_vulnerability(
        VulnerabilityBuilder::new()
            .cve("CVE-2024-0002")
            .cwe("CWE-79")
            .summary("Cross-site scripting in the web interface.")
            .cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", [&gw])
            .status(Status::KnownAffected, [&gw])
            .status(Status::Fixed, [&gw_fixed])
            .status(Status::KnownNotAffected, [&r10, &r11, &r12])
            .remediation(RemediationInput::mitigation(
                "Restrict access to the web interface.",
                [&gw],
            ))
            .remediation(
                RemediationInput::vendor_fix("Update to 3.0.2.", [&gw])
                    .url("https://example.com/gw"),
            ),
    );
    let doc = b.build().unwrap();
    let value = assert_valid(&doc);

    let tree = &value["product_tree"]["branches"];
    assert_eq!(tree.as_array().unwrap().len(), 2, "two vendors");
    assert_eq!(
        tree[0]["branches"].as_array().unwrap().len(),
        2,
        "Router X and Gateway"
    );
    assert_eq!(
        tree[0]["branches"][1]["branches"][0]["category"],
        "product_version_range"
    );
    let v0 = &value["vulnerabilities"][0];
    assert_eq!(
        v0["cwe"]["name"], "Out-of-bounds Write",
        "the CWE name comes from the catalog"
    );
    assert_eq!(v0["scores"].as_array().unwrap().len(), 4);
    assert_eq!(v0["scores"][1]["cvss_v3"]["temporalSeverity"], "HIGH");
    assert_eq!(v0["scores"][2]["cvss_v2"]["baseScore"], 10.0);
    // MAV:A, AC:H, CR:H: 8.22 × 0.62 × 0.44 × 0.85 × 0.85 + 6.42 × 0.915 = 7.494 → 7.5.
    assert_eq!(
        v0["scores"][3]["cvss_v3"]["environmentalScore"].as_f64(),
        Some(7.5)
    );
    assert_eq!(
        v0["remediations"][0]["restart_required"]["category"],
        "machine"
    );
    assert_eq!(
        value["document"]["distribution"]["tlp"]["url"],
        "https://www.first.org/tlp/"
    );
}

#[test]
fn revisions_are_sorted_and_set_the_tracking_dates_and_version() {
    // The document of `b`'s revisions, with one product of the given status.
    let valid_with = |mut b: AdvisoryBuilder, status: Status| {
        let p = b
            .add_product(Product::new("Example Inc.", "App", "5"))
            .unwrap();
        b.add_vulnerability(
            VulnerabilityBuilder::new()
                .description("x")
                .status(status, [&p]),
        );
        assert_valid(&b.build().unwrap())
    };
    let mut b = AdvisoryBuilder::new("EXAMPLE-2024-0002", "Updated advisory", publisher());
    b.revision("2024-05-01T00:00:00Z", "2.0.0", "Fixed versions added.")
        .revision("2024-03-01T00:00:00Z", "1.0.0", "Initial version.")
        .revision("2024-03-05T00:00:00+02:00", "1.0.1", "Typo fixed.")
        .revision("2024-04-01T00:00:00Z", "1.1.0", "CVSS vectors added.");
    let value = valid_with(b, Status::UnderInvestigation);
    let tracking = &value["document"]["tracking"];
    assert_eq!(tracking["version"], "2.0.0");
    assert_eq!(tracking["initial_release_date"], "2024-03-01T00:00:00Z");
    assert_eq!(tracking["current_release_date"], "2024-05-01T00:00:00Z");
    let numbers: Vec<&str> = tracking["revision_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["1.0.0", "1.0.1", "1.1.0", "2.0.0"]);

    // Integer versioning, and a draft that starts at 0.
    let mut b = AdvisoryBuilder::new("EXAMPLE-2024-0003", "Draft", publisher());
    b.status(DocumentStatus::Draft)
        .revision("2024-03-01T00:00:00Z", "0", "Draft.")
        .revision("2024-03-02T00:00:00Z", "1", "Reviewed.")
        .revision("2024-03-02T00:00:00Z", "2", "Same timestamp, later number.");
    let value = valid_with(b, Status::KnownAffected);
    assert_eq!(value["document"]["tracking"]["version"], "2");
    assert_eq!(value["document"]["tracking"]["status"], "draft");
}

/// Adds the product most tests use, Example Inc. Router X 1.0.
fn router(b: &mut AdvisoryBuilder) -> ProductId {
    b.add_product(Product::new("Example Inc.", "Router X", "1.0"))
        .unwrap()
}

/// A builder with one product and a vulnerability template, to break one thing at a time.
fn with_product() -> (AdvisoryBuilder, ProductId) {
    let mut b = advisory();
    let p = router(&mut b);
    (b, p)
}

fn vuln(p: &ProductId) -> VulnerabilityBuilder {
    VulnerabilityBuilder::new()
        .description("x")
        .status(Status::KnownAffected, [p])
}

/// Whether an error is the one a case expects.
type Expected = fn(&BuildError) -> bool;

/// An input the builder must refuse: its name, what building gave and the error expected.
type Refusal = (&'static str, Result<CsafDocument, BuildError>, Expected);

/// Fails naming every case that built a document or gave another error than expected.
#[track_caller]
fn assert_refused(cases: Vec<Refusal>) {
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|(name, result, expected)| match result {
            Ok(_) => Some(format!("{name}: built a document")),
            Err(e) if expected(&e) && !e.to_string().is_empty() => None,
            Err(e) => Some(format!("{name}: unexpected error {e:?}")),
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn inputs_that_cannot_be_valid_are_refused() {
    let foreign = ProductId::from("CSAFPID-9999");
    // The one-product builder with the vulnerability `make` gives for its product.
    let with_vuln = |make: &dyn Fn(&ProductId) -> VulnerabilityBuilder| {
        let (mut b, p) = with_product();
        b.add_vulnerability(make(&p));
        b.build()
    };
    let with_lang = |lang: &str| {
        let (mut b, p) = with_product();
        b.lang(lang);
        b.add_vulnerability(vuln(&p));
        b.build()
    };
    // A document that is fine but for its tracking id or publisher.
    let with_header = |tracking_id: &str, publisher: Publisher| {
        let mut b = AdvisoryBuilder::new(tracking_id, "Title", publisher);
        b.revision("2024-03-01T12:00:00Z", "1", "Initial version.");
        let p = router(&mut b);
        b.add_vulnerability(vuln(&p));
        b.build()
    };
    let no_product = {
        let mut b = advisory();
        b.add_vulnerability(VulnerabilityBuilder::new().description("x"));
        b.build()
    };
    assert_refused(vec![
        (
            "unknown product",
            with_vuln(&|_| vuln(&foreign)),
            |e| matches!(e, BuildError::UnknownProduct { id, .. } if id == "CSAFPID-9999"),
        ),
        (
            "contradicting status",
            with_vuln(&|p| vuln(p).status(Status::Fixed, [p])),
            |e| matches!(e, BuildError::ContradictingStatus { .. }),
        ),
        (
            "two 3.1 scores",
            with_vuln(&|p| {
                vuln(p)
                    .cvss(VECTOR, [p])
                    .cvss("CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", [p])
            }),
            |e| matches!(e, BuildError::DuplicateScore { version, .. } if version == "3.1"),
        ),
        (
            "invalid vector",
            with_vuln(&|p| vuln(p).cvss("CVSS:3.1/AV:N", [p])),
            |e| matches!(e, BuildError::Cvss { .. }),
        ),
        (
            "CVSS 4.0",
            with_vuln(&|p| {
                vuln(p).cvss(
                    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                    [p],
                )
            }),
            |e| matches!(e, BuildError::CvssVersion { .. }),
        ),
        (
            "duplicate CVE",
            {
                let (mut b, p) = with_product();
                b.add_vulnerability(vuln(&p).cve("CVE-2024-1111"))
                    .add_vulnerability(vuln(&p).cve("CVE-2024-1111"));
                b.build()
            },
            |e| matches!(e, BuildError::DuplicateCve { .. }),
        ),
        ("bad CVE", with_vuln(&|p| vuln(p).cve("CVE-24-1")), |e| {
            matches!(e, BuildError::Format { .. })
        }),
        (
            "unknown CWE",
            with_vuln(&|p| vuln(p).cwe("CWE-999999")),
            |e| matches!(e, BuildError::UnknownCwe { .. }),
        ),
        (
            "no vulnerability note",
            with_vuln(&|p| VulnerabilityBuilder::new().status(Status::KnownAffected, [p])),
            |e| matches!(e, BuildError::MissingVulnerabilityNote { .. }),
        ),
        (
            "no product status",
            with_vuln(&|_| VulnerabilityBuilder::new().description("x")),
            |e| matches!(e, BuildError::MissingProductStatus { .. }),
        ),
        (
            "remediation without products",
            with_vuln(&|p| vuln(p).remediation(RemediationInput::workaround("Do this.", []))),
            |e| matches!(e, BuildError::Empty { .. }),
        ),
        (
            "remediation URL",
            with_vuln(&|p| {
                vuln(p).remediation(
                    RemediationInput::vendor_fix("Update.", [p]).url("example.com/fix"),
                )
            }),
            |e| matches!(e, BuildError::Uri { .. }),
        ),
        ("no vulnerability", with_product().0.build(), |e| {
            matches!(e, BuildError::NoVulnerabilities)
        }),
        ("no product", no_product, |e| {
            matches!(e, BuildError::NoProducts)
        }),
        ("bad lang", with_lang("english"), |e| {
            matches!(e, BuildError::Lang { .. })
        }),
        ("unregistered lang", with_lang("qq-XX"), |e| {
            matches!(e, BuildError::Lang { .. })
        }),
        (
            "translator without source_lang",
            with_header(
                "EXAMPLE-2024-0001",
                Publisher::new(
                    PublisherCategory::Translator,
                    "Translator",
                    "https://translator.example",
                ),
            ),
            |e| matches!(e, BuildError::MissingSourceLang),
        ),
        (
            "empty acknowledgment",
            with_vuln(&|p| vuln(p).acknowledgment(acknowledge(Vec::<String>::new(), None))),
            |e| matches!(e, BuildError::EmptyAcknowledgment { .. }),
        ),
        (
            "tracking id with whitespace",
            with_header(" EXAMPLE-1", publisher()),
            |e| matches!(e, BuildError::Whitespace { .. }),
        ),
        (
            "namespace not a URI",
            with_header(
                "EXAMPLE-1",
                Publisher::new(PublisherCategory::Vendor, "Example", "example.com"),
            ),
            |e| matches!(e, BuildError::Uri { .. }),
        ),
    ]);
}

#[test]
fn products_that_cannot_be_valid_are_refused() {
    let mut b = advisory();
    assert!(
        b.add_product(Product::version_range("Example Inc.", "Router X", "< 1.2"))
            .is_ok()
    );
    let cases: [(Product, Expected); 5] = [
        (
            Product::new("Example Inc.", "Router X", "all versions"),
            |e| matches!(e, BuildError::VersionRange { .. }),
        ),
        (Product::new("Example Inc.", "Router X", "< 1.2"), |e| {
            matches!(e, BuildError::VersionRange { .. })
        }),
        (Product::new("", "Router X", "1"), |e| {
            matches!(e, BuildError::Empty { .. })
        }),
        (
            Product::new("Example Inc.", "Router X", "1").purl("npm/example"),
            |e| matches!(e, BuildError::Format { .. }),
        ),
        (
            Product::new("Example Inc.", "Router X", "1").cpe("cpe:router"),
            |e| matches!(e, BuildError::Format { .. }),
        ),
    ];
    for (product, expected) in cases {
        let result = b.add_product(product.clone());
        assert!(
            matches!(&result, Err(e) if expected(e)),
            "{product:?}: {result:?}"
        );
    }
}

#[test]
fn revision_histories_that_cannot_be_valid_are_refused() {
    let build_as = |status: DocumentStatus, revisions: &[(&str, &str)]| {
        let mut b = AdvisoryBuilder::new("EXAMPLE-1", "Title", publisher());
        b.status(status);
        for (date, number) in revisions {
            b.revision(*date, *number, "Summary.");
        }
        let p = router(&mut b);
        b.add_vulnerability(vuln(&p));
        b.build()
    };
    let build = |revisions: &[(&str, &str)]| build_as(DocumentStatus::Final, revisions);
    let d = |day: u32| format!("2024-03-{day:02}T00:00:00Z");
    let (d1, d2, d3) = (d(1), d(2), d(3));
    assert_refused(vec![
        ("none", build(&[]), |e| matches!(e, BuildError::NoRevision)),
        ("mixed", build(&[(&d1, "1"), (&d2, "2.0.0")]), |e| {
            matches!(e, BuildError::MixedVersioning { .. })
        }),
        ("duplicate", build(&[(&d1, "1"), (&d2, "1")]), |e| {
            matches!(e, BuildError::DuplicateRevision { .. })
        }),
        ("order", build(&[(&d1, "2"), (&d2, "1")]), |e| {
            matches!(e, BuildError::RevisionOrder { .. })
        }),
        ("gap", build(&[(&d1, "1"), (&d2, "3")]), |e| {
            matches!(e, BuildError::RevisionGap { .. })
        }),
        ("major gap", build(&[(&d1, "1.0.0"), (&d2, "3.0.0")]), |e| {
            matches!(e, BuildError::RevisionGap { .. })
        }),
        ("first", build(&[(&d1, "2"), (&d2, "3")]), |e| {
            matches!(e, BuildError::FirstRevision { .. })
        }),
        (
            "pre-release",
            build_as(DocumentStatus::Draft, &[(&d1, "1.0.0-rc.1")]),
            |e| matches!(e, BuildError::PreRelease { .. }),
        ),
        ("not a version", build(&[(&d1, "1.0")]), |e| {
            matches!(e, BuildError::VersionNumber { .. })
        }),
        ("bad date", build(&[("2024-03-01", "1")]), |e| {
            matches!(e, BuildError::Date { .. })
        }),
        ("0 but final", build(&[(&d1, "0"), (&d3, "1")]), |e| {
            matches!(e, BuildError::UnreleasedVersion { .. })
        }),
        (
            "0.9 but interim",
            build_as(DocumentStatus::Interim, &[(&d1, "0.9.0")]),
            |e| matches!(e, BuildError::UnreleasedVersion { .. }),
        ),
    ]);
}

#[test]
fn threats_and_flags() {
    use keikai_csaf::model::{FlagLabel, ThreatCategory};
    let mut b = advisory();
    let old = router(&mut b);
    let other = b
        .add_product(Product::new("Example Inc.", "Switch Y", "2.0"))
        .unwrap();
    b.add_vulnerability(
        vuln(&old)
            .status(Status::KnownNotAffected, [&other])
            .flag(FlagLabel::VulnerableCodeNotPresent, [&other])
            .threat(
                ThreatCategory::ExploitStatus,
                "Exploitation has been observed.",
                [&old],
            )
            .threat(ThreatCategory::Impact, "Remote code execution.", [])
            .remediation(RemediationInput::none_available("No fix yet.", [&old])),
    );
    let value = assert_valid(&b.build().unwrap());
    let v = &value["vulnerabilities"][0];
    assert_eq!(
        v["threats"],
        serde_json::json!([
            {"category": "exploit_status", "details": "Exploitation has been observed.", "product_ids": ["CSAFPID-0001"]},
            {"category": "impact", "details": "Remote code execution."}
        ])
    );
    assert_eq!(
        v["flags"],
        serde_json::json!([{"label": "vulnerable_code_not_present", "product_ids": ["CSAFPID-0002"]}])
    );

    let refused = |v: VulnerabilityBuilder| {
        let (mut b, _) = with_product();
        b.add_vulnerability(v);
        b.build().unwrap_err()
    };
    let e = refused(vuln(&old).threat(ThreatCategory::ExploitStatus, "", [&old]));
    assert!(
        matches!(&e, BuildError::Empty { field } if field == "vulnerabilities[0].threats[0].details"),
        "{e:?}"
    );
    let e = refused(vuln(&old).threat(ThreatCategory::Impact, "x", [&other]));
    assert!(matches!(e, BuildError::UnknownProduct { .. }), "{e:?}");
    let e = refused(vuln(&old).flag(FlagLabel::ComponentNotPresent, []));
    assert!(matches!(e, BuildError::Empty { .. }), "{e:?}");
    let e = refused(
        vuln(&old)
            .flag(FlagLabel::ComponentNotPresent, [&old])
            .flag(FlagLabel::VulnerableCodeNotPresent, [&old]),
    );
    assert!(
        matches!(&e, BuildError::DuplicateFlag { field, .. } if field == "vulnerabilities[0].flags[1]"),
        "{e:?}"
    );
}
