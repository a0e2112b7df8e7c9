//! Public API: error messages, canonical output, metric access, serde.
#![expect(clippy::unwrap_used)]

use keikai_cvss::{Cvss, CvssError, Severity, Version, parse, parse_strict, v2, v3, v4};

const V31: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";

fn error(vector: &str) -> String {
    parse(vector).unwrap_err().to_string()
}

#[test]
fn error_messages_name_the_metric_and_value() {
    let cases = [
        ("", "CVSS vector is empty"),
        (
            "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            r#"metric AV has invalid value "Q" (expected N, A, L, P)"#,
        ),
        (
            "CVSS:3.1/AV:N/AC:L/UI:N/S:U/C:H/I:H/A:H",
            "mandatory metric PR is missing",
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:L",
            "metric AV appears more than once",
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",
            r#"unknown metric "ZZ" in a CVSS 3.1 vector"#,
        ),
        (
            "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            r#"vector prefix "CVSS:3.2" is not supported (expected CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/, or no prefix for CVSS 2.0)"#,
        ),
        (
            "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
            r#"vector prefix "CVSS:2.0" is not supported (expected CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/, or no prefix for CVSS 2.0)"#,
        ),
        (
            "cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            r#"vector prefix "cvss:3.1" is not supported (expected CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/, or no prefix for CVSS 2.0)"#,
        ),
        ("CVSS:3.1", "CVSS 3.1 vector has no metrics"),
        ("CVSS:4.0/", "CVSS 4.0 vector has no metrics"),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
            "CVSS 3.1 vector has an empty component at position 9",
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A",
            r#"component "A" is not of the form METRIC:VALUE"#,
        ),
        (
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:ND",
            r#"metric E has invalid value "ND" (expected X, H, F, P, U)"#,
        ),
        (
            "AV:N/AC:L/Au:N/C:P/I:P/A:P/S:U",
            r#"unknown metric "S" in a CVSS 2.0 vector"#,
        ),
        (
            "AV:N/AC:L/Au:N/C:P/I:P/A:P/E:X",
            r#"metric E has invalid value "X" (expected U, POC, F, H, ND)"#,
        ),
        (
            "(AV:N/AC:L/Au:N/C:P/I:P/A:P)",
            r#"unknown metric "(AV" in a CVSS 2.0 vector"#,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:clear",
            r#"metric U has invalid value "clear" (expected X, Clear, Green, Amber, Red)"#,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSC:S",
            r#"metric MSC has invalid value "S" (expected X, H, L, N)"#,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
            r#"metric SI has invalid value "S" (expected H, L, N)"#,
        ),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
            "mandatory metric SA is missing",
        ),
    ];
    let mut wrong = Vec::new();
    for (vector, expected) in cases {
        let got = error(vector);
        if got != expected {
            wrong.push(format!(
                "{vector:?}:\n  expected {expected}\n  got      {got}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn error_values_are_structured() {
    assert_eq!(
        parse("CVSS:3.1/AV:N/AC:X/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        Err(CvssError::InvalidValue {
            metric: "AC",
            value: "X".to_owned(),
            expected: &["L", "H"],
        })
    );
    assert_eq!(
        parse_strict("CVSS:3.1/AC:H/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H")
            .unwrap_err()
            .to_string(),
        "metric AV comes after AC, but CVSS 3.1 lists it before"
    );
}

#[test]
fn out_of_order_is_accepted_and_written_canonically() {
    let cvss = parse("CVSS:3.1/AC:H/AV:N/A:H/C:N/I:N/PR:N/S:U/UI:N").unwrap();
    assert_eq!(
        cvss.vector_string(),
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H"
    );
    assert_eq!(cvss.scores().base, 5.9);
    let v2 = parse("Au:N/AV:N/AC:L/C:P/I:P/A:P/RL:OF/E:F").unwrap();
    assert_eq!(v2.to_string(), "AV:N/AC:L/Au:N/C:P/I:P/A:P/E:F/RL:OF");
}

#[test]
fn explicit_not_defined_values_are_kept() {
    let text = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:X/MAV:X";
    let cvss = parse(text).unwrap();
    assert_eq!(cvss.to_string(), text);
    assert_eq!(cvss.metric("E"), Some("X"));
    assert_eq!(cvss.metric("RL"), None);
    assert_ne!(cvss, parse(V31).unwrap());
    assert_eq!(cvss.scores(), parse(V31).unwrap().scores());
    let v2 = parse("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:ND").unwrap();
    assert_eq!(v2.metric("E"), Some("ND"));
    assert_eq!(v2.metric("Au"), Some("N"));
    assert_eq!(v2.metric("AU"), None);
}

#[test]
fn versions_and_scores() {
    let v31 = parse(V31).unwrap();
    assert_eq!(v31.version(), Version::V3_1);
    let s = v31.scores();
    assert_eq!(
        (s.base, s.temporal, s.environmental),
        (9.8, Some(9.8), Some(9.8))
    );
    assert_eq!(s.base_severity, Some(Severity::Critical));
    assert_eq!(s.temporal_severity, Some(Severity::Critical));
    assert_eq!(s.environmental_severity, Some(Severity::Critical));

    let v2 = parse("AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
    assert_eq!(v2.version(), Version::V2_0);
    let s = v2.scores();
    assert_eq!(
        (s.base, s.temporal, s.environmental),
        (7.5, Some(7.5), Some(7.5))
    );
    assert_eq!(s.base_severity, None);

    let v4 = parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U").unwrap();
    assert_eq!(v4.version(), Version::V4_0);
    let s = v4.scores();
    // 8.1 is also what GitHub states for CVE-2024-48918 with this vector.
    assert_eq!((s.base, s.temporal, s.environmental), (8.1, None, None));
    assert_eq!(s.base_severity, Some(Severity::High));
    assert_eq!(s.temporal_severity, None);
    let Cvss::V4(inner) = &v4 else {
        panic!("not v4")
    };
    assert_eq!(inner.nomenclature(), "CVSS-BT");
}

#[test]
fn per_version_from_str() {
    assert!(V31.parse::<v3::Vector>().is_ok());
    assert_eq!(
        V31.parse::<v4::Vector>().unwrap_err().to_string(),
        "expected a CVSS 4.0 vector, found a CVSS 3.1 vector"
    );
    assert_eq!(
        V31.parse::<v2::Vector>().unwrap_err().to_string(),
        "expected a CVSS 2.0 vector, found a CVSS 3.1 vector"
    );
    assert_eq!(
        "AV:N/AC:L/Au:N/C:P/I:P/A:P"
            .parse::<v3::Vector>()
            .unwrap_err()
            .to_string(),
        "expected a CVSS 3.0 or 3.1 vector, found a CVSS 2.0 vector"
    );
}

#[test]
fn serde_spellings() {
    let cvss = parse("CVSS:3.1/AC:L/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
    assert_eq!(serde_json::to_string(&cvss).unwrap(), format!("\"{V31}\""));
    assert_eq!(
        serde_json::to_string(&Severity::Medium).unwrap(),
        "\"MEDIUM\""
    );
    assert_eq!(serde_json::to_string(&Version::V2_0).unwrap(), "\"2.0\"");
    assert_eq!(
        serde_json::from_str::<Version>("\"3.0\"").unwrap(),
        Version::V3_0
    );
    assert_eq!(
        serde_json::from_str::<Severity>("\"NONE\"").unwrap(),
        Severity::None
    );
    assert_eq!(
        serde_json::to_value(cvss.scores()).unwrap(),
        serde_json::json!({
            "base": 9.8,
            "temporal": 9.8,
            "environmental": 9.8,
            "base_severity": "CRITICAL",
            "temporal_severity": "CRITICAL",
            "environmental_severity": "CRITICAL",
        })
    );
    assert_eq!(
        serde_json::from_str::<Cvss>(&format!("\"{V31}\"")).unwrap(),
        cvss
    );
    let err = serde_json::from_str::<Cvss>("\"CVSS:3.1/AV:Q\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains(r#"metric AV has invalid value "Q""#), "{err}");
}
