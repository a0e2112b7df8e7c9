//! `scores[]/cvss_v2` and `scores[]/cvss_v3`: the FIRST CVSS JSON objects.
//!
//! Metric values are kept as text (`"NETWORK"`, `"HIGH"`) rather than enums: the vector string is
//! the authority (test 6.1.10 compares the two), and keeping text lets a document with a value
//! the schema rejects still be read and reported. Scores are [`serde_json::Number`] so that `7`,
//! `7.0` and `7.5` come back exactly as written.

use serde::{Deserialize, Serialize};
use serde_json::Number;

use super::common::Extra;

/// A CVSS v3.0 or v3.1 object (`version` tells which).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CvssV3 {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack_complexity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack_vector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_requirement: Option<String>,
    pub base_score: Number,
    pub base_severity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidentiality_impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidentiality_requirement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environmental_score: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environmental_severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exploit_code_maturity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity_impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity_requirement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_attack_complexity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_attack_vector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_availability_impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_confidentiality_impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_integrity_impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_privileges_required: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_user_interaction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileges_required: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_confidence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporal_score: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporal_severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_interaction: Option<String>,
    pub vector_string: String,
    /// `"3.0"` or `"3.1"`.
    pub version: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A CVSS v2.0 object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CvssV2 {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_complexity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_vector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_requirement: Option<String>,
    pub base_score: Number,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collateral_damage_potential: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidentiality_impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidentiality_requirement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environmental_score: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exploitability: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity_impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity_requirement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_confidence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_distribution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporal_score: Option<Number>,
    pub vector_string: String,
    /// `"2.0"`.
    pub version: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Why a CVSS vector cannot become a `cvss_v2`/`cvss_v3` object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CvssConversionError {
    #[error(
        "CVSS {version} vector {vector:?} cannot be used in {target} (CSAF 2.0 supports CVSS 2.0 in cvss_v2 and 3.0/3.1 in cvss_v3)"
    )]
    WrongVersion {
        vector: String,
        version: keikai_cvss::Version,
        target: &'static str,
    },
    #[error("CVSS vector {vector:?} yields a score that is not a finite number")]
    NotFinite { vector: String },
}

fn score(value: f64, vector: &str) -> Result<Number, CvssConversionError> {
    Number::from_f64(value).ok_or_else(|| CvssConversionError::NotFinite {
        vector: vector.to_owned(),
    })
}

/// The JSON name of a metric value code, per the FIRST JSON schemas.
fn name(code: Option<&str>, names: &[(&str, &'static str)]) -> Option<String> {
    let code = code?;
    names
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| (*n).to_owned())
}

const V3_AV: &[(&str, &str)] = &[
    ("N", "NETWORK"),
    ("A", "ADJACENT_NETWORK"),
    ("L", "LOCAL"),
    ("P", "PHYSICAL"),
    ("X", "NOT_DEFINED"),
];
const V3_AC: &[(&str, &str)] = &[("L", "LOW"), ("H", "HIGH"), ("X", "NOT_DEFINED")];
const V3_PR: &[(&str, &str)] = &[
    ("N", "NONE"),
    ("L", "LOW"),
    ("H", "HIGH"),
    ("X", "NOT_DEFINED"),
];
const V3_UI: &[(&str, &str)] = &[("N", "NONE"), ("R", "REQUIRED"), ("X", "NOT_DEFINED")];
const V3_S: &[(&str, &str)] = &[("U", "UNCHANGED"), ("C", "CHANGED"), ("X", "NOT_DEFINED")];
const V3_CIA: &[(&str, &str)] = &[
    ("H", "HIGH"),
    ("L", "LOW"),
    ("N", "NONE"),
    ("X", "NOT_DEFINED"),
];
const V3_E: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("H", "HIGH"),
    ("F", "FUNCTIONAL"),
    ("P", "PROOF_OF_CONCEPT"),
    ("U", "UNPROVEN"),
];
const V3_RL: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("U", "UNAVAILABLE"),
    ("W", "WORKAROUND"),
    ("T", "TEMPORARY_FIX"),
    ("O", "OFFICIAL_FIX"),
];
const V3_RC: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("C", "CONFIRMED"),
    ("R", "REASONABLE"),
    ("U", "UNKNOWN"),
];
const V3_REQ: &[(&str, &str)] = &[
    ("X", "NOT_DEFINED"),
    ("H", "HIGH"),
    ("M", "MEDIUM"),
    ("L", "LOW"),
];

const V2_AV: &[(&str, &str)] = &[("L", "LOCAL"), ("A", "ADJACENT_NETWORK"), ("N", "NETWORK")];
const V2_AC: &[(&str, &str)] = &[("H", "HIGH"), ("M", "MEDIUM"), ("L", "LOW")];
const V2_AU: &[(&str, &str)] = &[("M", "MULTIPLE"), ("S", "SINGLE"), ("N", "NONE")];
const V2_CIA: &[(&str, &str)] = &[("N", "NONE"), ("P", "PARTIAL"), ("C", "COMPLETE")];
const V2_E: &[(&str, &str)] = &[
    ("U", "UNPROVEN"),
    ("POC", "PROOF_OF_CONCEPT"),
    ("F", "FUNCTIONAL"),
    ("H", "HIGH"),
    ("ND", "NOT_DEFINED"),
];
const V2_RL: &[(&str, &str)] = &[
    ("OF", "OFFICIAL_FIX"),
    ("TF", "TEMPORARY_FIX"),
    ("W", "WORKAROUND"),
    ("U", "UNAVAILABLE"),
    ("ND", "NOT_DEFINED"),
];
const V2_RC: &[(&str, &str)] = &[
    ("UC", "UNCONFIRMED"),
    ("UR", "UNCORROBORATED"),
    ("C", "CONFIRMED"),
    ("ND", "NOT_DEFINED"),
];
const V2_CDP: &[(&str, &str)] = &[
    ("N", "NONE"),
    ("L", "LOW"),
    ("LM", "LOW_MEDIUM"),
    ("MH", "MEDIUM_HIGH"),
    ("H", "HIGH"),
    ("ND", "NOT_DEFINED"),
];
const V2_TD: &[(&str, &str)] = &[
    ("N", "NONE"),
    ("L", "LOW"),
    ("M", "MEDIUM"),
    ("H", "HIGH"),
    ("ND", "NOT_DEFINED"),
];
const V2_REQ: &[(&str, &str)] = &[
    ("L", "LOW"),
    ("M", "MEDIUM"),
    ("H", "HIGH"),
    ("ND", "NOT_DEFINED"),
];

impl CvssV3 {
    /// The `cvss_v3` object of a CVSS 3.0/3.1 vector: the canonical vector string, every metric
    /// the vector contains (and only those, so test 6.1.10 finds no contradiction), the scores
    /// and severities computed by `keikai-cvss`. Temporal and environmental scores are included
    /// only when the vector has metrics of that group.
    pub fn from_cvss(cvss: &keikai_cvss::Cvss) -> Result<Self, CvssConversionError> {
        use keikai_cvss::Version;
        let vector = cvss.vector_string();
        if !matches!(cvss.version(), Version::V3_0 | Version::V3_1) {
            return Err(CvssConversionError::WrongVersion {
                vector,
                version: cvss.version(),
                target: "cvss_v3",
            });
        }
        let m = |abbrev: &str, names: &[(&str, &'static str)]| name(cvss.metric(abbrev), names);
        let any = |abbrevs: &[&str]| abbrevs.iter().any(|a| cvss.metric(a).is_some());
        let scores = cvss.scores();
        let severity = |s: Option<keikai_cvss::Severity>| s.map(|s| s.as_str().to_owned());
        let temporal = any(&["E", "RL", "RC"]);
        let environmental = any(&[
            "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
        ]);
        Ok(Self {
            version: cvss.version().as_str().to_owned(),
            attack_vector: m("AV", V3_AV),
            attack_complexity: m("AC", V3_AC),
            privileges_required: m("PR", V3_PR),
            user_interaction: m("UI", V3_UI),
            scope: m("S", V3_S),
            confidentiality_impact: m("C", V3_CIA),
            integrity_impact: m("I", V3_CIA),
            availability_impact: m("A", V3_CIA),
            base_score: score(scores.base, &vector)?,
            base_severity: severity(scores.base_severity)
                .unwrap_or_else(|| keikai_cvss::severity_v3(scores.base).as_str().to_owned()),
            exploit_code_maturity: m("E", V3_E),
            remediation_level: m("RL", V3_RL),
            report_confidence: m("RC", V3_RC),
            temporal_score: match scores.temporal {
                Some(t) if temporal => Some(score(t, &vector)?),
                _ => None,
            },
            temporal_severity: if temporal {
                severity(scores.temporal_severity)
            } else {
                None
            },
            confidentiality_requirement: m("CR", V3_REQ),
            integrity_requirement: m("IR", V3_REQ),
            availability_requirement: m("AR", V3_REQ),
            modified_attack_vector: m("MAV", V3_AV),
            modified_attack_complexity: m("MAC", V3_AC),
            modified_privileges_required: m("MPR", V3_PR),
            modified_user_interaction: m("MUI", V3_UI),
            modified_scope: m("MS", V3_S),
            modified_confidentiality_impact: m("MC", V3_CIA),
            modified_integrity_impact: m("MI", V3_CIA),
            modified_availability_impact: m("MA", V3_CIA),
            environmental_score: match scores.environmental {
                Some(e) if environmental => Some(score(e, &vector)?),
                _ => None,
            },
            environmental_severity: if environmental {
                severity(scores.environmental_severity)
            } else {
                None
            },
            vector_string: vector,
            extra: Extra::new(),
        })
    }
}

impl CvssV2 {
    /// The `cvss_v2` object of a CVSS 2.0 vector (see [`CvssV3::from_cvss`]).
    pub fn from_cvss(cvss: &keikai_cvss::Cvss) -> Result<Self, CvssConversionError> {
        let vector = cvss.vector_string();
        if cvss.version() != keikai_cvss::Version::V2_0 {
            return Err(CvssConversionError::WrongVersion {
                vector,
                version: cvss.version(),
                target: "cvss_v2",
            });
        }
        let m = |abbrev: &str, names: &[(&str, &'static str)]| name(cvss.metric(abbrev), names);
        let any = |abbrevs: &[&str]| abbrevs.iter().any(|a| cvss.metric(a).is_some());
        let scores = cvss.scores();
        let temporal = any(&["E", "RL", "RC"]);
        let environmental = any(&["CDP", "TD", "CR", "IR", "AR"]);
        Ok(Self {
            version: "2.0".to_owned(),
            access_vector: m("AV", V2_AV),
            access_complexity: m("AC", V2_AC),
            authentication: m("Au", V2_AU),
            confidentiality_impact: m("C", V2_CIA),
            integrity_impact: m("I", V2_CIA),
            availability_impact: m("A", V2_CIA),
            base_score: score(scores.base, &vector)?,
            exploitability: m("E", V2_E),
            remediation_level: m("RL", V2_RL),
            report_confidence: m("RC", V2_RC),
            temporal_score: match scores.temporal {
                Some(t) if temporal => Some(score(t, &vector)?),
                _ => None,
            },
            collateral_damage_potential: m("CDP", V2_CDP),
            target_distribution: m("TD", V2_TD),
            confidentiality_requirement: m("CR", V2_REQ),
            integrity_requirement: m("IR", V2_REQ),
            availability_requirement: m("AR", V2_REQ),
            environmental_score: match scores.environmental {
                Some(e) if environmental => Some(score(e, &vector)?),
                _ => None,
            },
            vector_string: vector,
            extra: Extra::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_keep_their_json_form() {
        for text in [
            r#"{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":9.8,"baseSeverity":"CRITICAL"}"#,
            r#"{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N","baseScore":0,"baseSeverity":"NONE"}"#,
            r#"{"version":"3.0","vectorString":"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N","baseScore":7.0,"baseSeverity":"HIGH","x":[1]}"#,
        ] {
            let original: serde_json::Value = serde_json::from_str(text).expect("json");
            let cvss: CvssV3 = serde_json::from_value(original.clone()).expect("cvss");
            assert_eq!(serde_json::to_value(&cvss).expect("serializes"), original);
        }
    }

    #[test]
    fn cvss_v3_from_a_vector() {
        let cvss =
            keikai_cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").expect("valid");
        let value = serde_json::to_value(CvssV3::from_cvss(&cvss).expect("3.1")).expect("json");
        assert_eq!(
            value,
            serde_json::json!({
                "version": "3.1",
                "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "attackVector": "NETWORK",
                "attackComplexity": "LOW",
                "privilegesRequired": "NONE",
                "userInteraction": "NONE",
                "scope": "UNCHANGED",
                "confidentialityImpact": "HIGH",
                "integrityImpact": "HIGH",
                "availabilityImpact": "HIGH",
                "baseScore": 9.8,
                "baseSeverity": "CRITICAL"
            })
        );
    }

    #[test]
    fn cvss_v3_temporal_and_environmental_groups_only_when_given() {
        let cvss =
            keikai_cvss::parse("CVSS:3.0/AV:L/AC:H/PR:L/UI:R/S:C/C:L/I:N/A:N/E:U/RL:O/MAV:X")
                .expect("valid");
        let v3 = CvssV3::from_cvss(&cvss).expect("3.0");
        assert_eq!(v3.version, "3.0");
        assert_eq!(v3.exploit_code_maturity.as_deref(), Some("UNPROVEN"));
        assert_eq!(v3.remediation_level.as_deref(), Some("OFFICIAL_FIX"));
        assert_eq!(v3.report_confidence, None);
        assert_eq!(v3.modified_attack_vector.as_deref(), Some("NOT_DEFINED"));
        assert!(v3.temporal_score.is_some() && v3.temporal_severity.is_some());
        assert!(v3.environmental_score.is_some() && v3.environmental_severity.is_some());
        let plain =
            keikai_cvss::parse("CVSS:3.0/AV:L/AC:H/PR:L/UI:R/S:C/C:L/I:N/A:N").expect("valid");
        let v3 = CvssV3::from_cvss(&plain).expect("3.0");
        assert_eq!((v3.temporal_score, v3.environmental_score), (None, None));
    }

    #[test]
    fn cvss_v2_from_a_vector_and_wrong_versions() {
        let cvss = keikai_cvss::parse("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:POC").expect("valid");
        let v2 = CvssV2::from_cvss(&cvss).expect("2.0");
        assert_eq!(v2.base_score, Number::from_f64(7.5).expect("finite"));
        assert_eq!(v2.authentication.as_deref(), Some("NONE"));
        assert_eq!(v2.exploitability.as_deref(), Some("PROOF_OF_CONCEPT"));
        assert!(v2.temporal_score.is_some());
        assert!(matches!(
            CvssV3::from_cvss(&cvss),
            Err(CvssConversionError::WrongVersion { .. })
        ));
        let v4 =
            keikai_cvss::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
                .expect("valid");
        let err = CvssV3::from_cvss(&v4).expect_err("4.0 is not CSAF 2.0");
        assert!(err.to_string().contains("CVSS 4.0"), "{err}");
    }
}
