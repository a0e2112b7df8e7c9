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

/// One CVSS metric as a JSON property (FIRST's schemas) and as a vector component: what
/// `from_cvss` writes for a vector, and what the validator's CVSS tests (6.1.10, 6.2.19) compare.
pub(crate) struct Metric {
    pub(crate) property: &'static str,
    pub(crate) abbrev: &'static str,
    /// JSON value and its vector code.
    pub(crate) values: &'static [(&'static str, &'static str)],
    /// Base metrics must be in the vector; the others default to "not defined".
    pub(crate) base: bool,
}

const fn metric(
    property: &'static str,
    abbrev: &'static str,
    values: &'static [(&'static str, &'static str)],
    base: bool,
) -> Metric {
    Metric {
        property,
        abbrev,
        values,
        base,
    }
}

const V3_CIA: &[(&str, &str)] = &[("NONE", "N"), ("LOW", "L"), ("HIGH", "H")];
const V3_MCIA: &[(&str, &str)] = &[
    ("NONE", "N"),
    ("LOW", "L"),
    ("HIGH", "H"),
    ("NOT_DEFINED", "X"),
];
const V3_REQ: &[(&str, &str)] = &[
    ("LOW", "L"),
    ("MEDIUM", "M"),
    ("HIGH", "H"),
    ("NOT_DEFINED", "X"),
];

/// CVSS 3.0 and 3.1 (the two FIRST schemas name and spell the metrics identically).
pub(crate) static V3: &[Metric] = &[
    metric(
        "attackVector",
        "AV",
        &[
            ("NETWORK", "N"),
            ("ADJACENT_NETWORK", "A"),
            ("LOCAL", "L"),
            ("PHYSICAL", "P"),
        ],
        true,
    ),
    metric(
        "attackComplexity",
        "AC",
        &[("LOW", "L"), ("HIGH", "H")],
        true,
    ),
    metric(
        "privilegesRequired",
        "PR",
        &[("NONE", "N"), ("LOW", "L"), ("HIGH", "H")],
        true,
    ),
    metric(
        "userInteraction",
        "UI",
        &[("NONE", "N"), ("REQUIRED", "R")],
        true,
    ),
    metric("scope", "S", &[("UNCHANGED", "U"), ("CHANGED", "C")], true),
    metric("confidentialityImpact", "C", V3_CIA, true),
    metric("integrityImpact", "I", V3_CIA, true),
    metric("availabilityImpact", "A", V3_CIA, true),
    metric(
        "exploitCodeMaturity",
        "E",
        &[
            ("UNPROVEN", "U"),
            ("PROOF_OF_CONCEPT", "P"),
            ("FUNCTIONAL", "F"),
            ("HIGH", "H"),
            ("NOT_DEFINED", "X"),
        ],
        false,
    ),
    metric(
        "remediationLevel",
        "RL",
        &[
            ("OFFICIAL_FIX", "O"),
            ("TEMPORARY_FIX", "T"),
            ("WORKAROUND", "W"),
            ("UNAVAILABLE", "U"),
            ("NOT_DEFINED", "X"),
        ],
        false,
    ),
    metric(
        "reportConfidence",
        "RC",
        &[
            ("UNKNOWN", "U"),
            ("REASONABLE", "R"),
            ("CONFIRMED", "C"),
            ("NOT_DEFINED", "X"),
        ],
        false,
    ),
    metric("confidentialityRequirement", "CR", V3_REQ, false),
    metric("integrityRequirement", "IR", V3_REQ, false),
    metric("availabilityRequirement", "AR", V3_REQ, false),
    metric(
        "modifiedAttackVector",
        "MAV",
        &[
            ("NETWORK", "N"),
            ("ADJACENT_NETWORK", "A"),
            ("LOCAL", "L"),
            ("PHYSICAL", "P"),
            ("NOT_DEFINED", "X"),
        ],
        false,
    ),
    metric(
        "modifiedAttackComplexity",
        "MAC",
        &[("LOW", "L"), ("HIGH", "H"), ("NOT_DEFINED", "X")],
        false,
    ),
    metric(
        "modifiedPrivilegesRequired",
        "MPR",
        &[
            ("NONE", "N"),
            ("LOW", "L"),
            ("HIGH", "H"),
            ("NOT_DEFINED", "X"),
        ],
        false,
    ),
    metric(
        "modifiedUserInteraction",
        "MUI",
        &[("NONE", "N"), ("REQUIRED", "R"), ("NOT_DEFINED", "X")],
        false,
    ),
    metric(
        "modifiedScope",
        "MS",
        &[("UNCHANGED", "U"), ("CHANGED", "C"), ("NOT_DEFINED", "X")],
        false,
    ),
    metric("modifiedConfidentialityImpact", "MC", V3_MCIA, false),
    metric("modifiedIntegrityImpact", "MI", V3_MCIA, false),
    metric("modifiedAvailabilityImpact", "MA", V3_MCIA, false),
];

const V2_CIA: &[(&str, &str)] = &[("NONE", "N"), ("PARTIAL", "P"), ("COMPLETE", "C")];
const V2_REQ: &[(&str, &str)] = &[
    ("LOW", "L"),
    ("MEDIUM", "M"),
    ("HIGH", "H"),
    ("NOT_DEFINED", "ND"),
];

pub(crate) static V2: &[Metric] = &[
    metric(
        "accessVector",
        "AV",
        &[("LOCAL", "L"), ("ADJACENT_NETWORK", "A"), ("NETWORK", "N")],
        true,
    ),
    metric(
        "accessComplexity",
        "AC",
        &[("HIGH", "H"), ("MEDIUM", "M"), ("LOW", "L")],
        true,
    ),
    metric(
        "authentication",
        "Au",
        &[("MULTIPLE", "M"), ("SINGLE", "S"), ("NONE", "N")],
        true,
    ),
    metric("confidentialityImpact", "C", V2_CIA, true),
    metric("integrityImpact", "I", V2_CIA, true),
    metric("availabilityImpact", "A", V2_CIA, true),
    metric(
        "exploitability",
        "E",
        &[
            ("UNPROVEN", "U"),
            ("PROOF_OF_CONCEPT", "POC"),
            ("FUNCTIONAL", "F"),
            ("HIGH", "H"),
            ("NOT_DEFINED", "ND"),
        ],
        false,
    ),
    metric(
        "remediationLevel",
        "RL",
        &[
            ("OFFICIAL_FIX", "OF"),
            ("TEMPORARY_FIX", "TF"),
            ("WORKAROUND", "W"),
            ("UNAVAILABLE", "U"),
            ("NOT_DEFINED", "ND"),
        ],
        false,
    ),
    metric(
        "reportConfidence",
        "RC",
        &[
            ("UNCONFIRMED", "UC"),
            ("UNCORROBORATED", "UR"),
            ("CONFIRMED", "C"),
            ("NOT_DEFINED", "ND"),
        ],
        false,
    ),
    metric(
        "collateralDamagePotential",
        "CDP",
        &[
            ("NONE", "N"),
            ("LOW", "L"),
            ("LOW_MEDIUM", "LM"),
            ("MEDIUM_HIGH", "MH"),
            ("HIGH", "H"),
            ("NOT_DEFINED", "ND"),
        ],
        false,
    ),
    metric(
        "targetDistribution",
        "TD",
        &[
            ("NONE", "N"),
            ("LOW", "L"),
            ("MEDIUM", "M"),
            ("HIGH", "H"),
            ("NOT_DEFINED", "ND"),
        ],
        false,
    ),
    metric("confidentialityRequirement", "CR", V2_REQ, false),
    metric("integrityRequirement", "IR", V2_REQ, false),
    metric("availabilityRequirement", "AR", V2_REQ, false),
];

/// A vector as both conversions read it: its canonical text, the JSON names of its metric values
/// (per the metric table of its version) and its scores.
struct Reading<'a> {
    cvss: &'a keikai_cvss::Cvss,
    table: &'static [Metric],
    vector: String,
    scores: keikai_cvss::Scores,
}

impl<'a> Reading<'a> {
    /// Reads `cvss` for `target` (`cvss_v2` or `cvss_v3`), which takes it only if `fits`.
    fn new(
        cvss: &'a keikai_cvss::Cvss,
        fits: bool,
        target: &'static str,
        table: &'static [Metric],
    ) -> Result<Self, CvssConversionError> {
        let vector = cvss.vector_string();
        if !fits {
            return Err(CvssConversionError::WrongVersion {
                vector,
                version: cvss.version(),
                target,
            });
        }
        Ok(Self {
            cvss,
            table,
            vector,
            scores: cvss.scores(),
        })
    }

    /// The JSON name of the value the vector gives metric `abbrev`, per the FIRST JSON schemas.
    fn name(&self, abbrev: &str) -> Option<String> {
        let code = self.cvss.metric(abbrev)?;
        let metric = self.table.iter().find(|m| m.abbrev == abbrev)?;
        metric
            .values
            .iter()
            .find(|(_, c)| *c == code)
            .map(|(n, _)| (*n).to_owned())
    }

    /// Whether the vector gives any of the metrics `group`.
    fn has_any(&self, group: &[&str]) -> bool {
        group.iter().any(|a| self.cvss.metric(a).is_some())
    }

    fn score(&self, value: f64) -> Result<Number, CvssConversionError> {
        Number::from_f64(value).ok_or_else(|| CvssConversionError::NotFinite {
            vector: self.vector.clone(),
        })
    }

    /// A temporal or environmental score: only when the vector has metrics of its group.
    fn group_score(
        &self,
        value: Option<f64>,
        present: bool,
    ) -> Result<Option<Number>, CvssConversionError> {
        match value {
            Some(v) if present => self.score(v).map(Some),
            _ => Ok(None),
        }
    }
}

impl CvssV3 {
    /// The `cvss_v3` object of a CVSS 3.0/3.1 vector: the canonical vector string, every metric
    /// the vector contains (and only those, so test 6.1.10 finds no contradiction), the scores
    /// and severities computed by `keikai-cvss`. Temporal and environmental scores are included
    /// only when the vector has metrics of that group.
    pub fn from_cvss(cvss: &keikai_cvss::Cvss) -> Result<Self, CvssConversionError> {
        use keikai_cvss::Version;
        let fits = matches!(cvss.version(), Version::V3_0 | Version::V3_1);
        let r = Reading::new(cvss, fits, "cvss_v3", V3)?;
        let m = |abbrev: &str| r.name(abbrev);
        let scores = &r.scores;
        let severity = |s: Option<keikai_cvss::Severity>| s.map(|s| s.as_str().to_owned());
        let temporal = r.has_any(&["E", "RL", "RC"]);
        let environmental = r.has_any(&[
            "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
        ]);
        Ok(Self {
            version: cvss.version().as_str().to_owned(),
            attack_vector: m("AV"),
            attack_complexity: m("AC"),
            privileges_required: m("PR"),
            user_interaction: m("UI"),
            scope: m("S"),
            confidentiality_impact: m("C"),
            integrity_impact: m("I"),
            availability_impact: m("A"),
            base_score: r.score(scores.base)?,
            base_severity: severity(scores.base_severity)
                .unwrap_or_else(|| keikai_cvss::severity_v3(scores.base).as_str().to_owned()),
            exploit_code_maturity: m("E"),
            remediation_level: m("RL"),
            report_confidence: m("RC"),
            temporal_score: r.group_score(scores.temporal, temporal)?,
            temporal_severity: if temporal {
                severity(scores.temporal_severity)
            } else {
                None
            },
            confidentiality_requirement: m("CR"),
            integrity_requirement: m("IR"),
            availability_requirement: m("AR"),
            modified_attack_vector: m("MAV"),
            modified_attack_complexity: m("MAC"),
            modified_privileges_required: m("MPR"),
            modified_user_interaction: m("MUI"),
            modified_scope: m("MS"),
            modified_confidentiality_impact: m("MC"),
            modified_integrity_impact: m("MI"),
            modified_availability_impact: m("MA"),
            environmental_score: r.group_score(scores.environmental, environmental)?,
            environmental_severity: if environmental {
                severity(scores.environmental_severity)
            } else {
                None
            },
            vector_string: r.vector.clone(),
            extra: Extra::new(),
        })
    }
}

impl CvssV2 {
    /// The `cvss_v2` object of a CVSS 2.0 vector (see [`CvssV3::from_cvss`]).
    pub fn from_cvss(cvss: &keikai_cvss::Cvss) -> Result<Self, CvssConversionError> {
        let fits = cvss.version() == keikai_cvss::Version::V2_0;
        let r = Reading::new(cvss, fits, "cvss_v2", V2)?;
        let m = |abbrev: &str| r.name(abbrev);
        let scores = &r.scores;
        let temporal = r.has_any(&["E", "RL", "RC"]);
        let environmental = r.has_any(&["CDP", "TD", "CR", "IR", "AR"]);
        Ok(Self {
            version: "2.0".to_owned(),
            access_vector: m("AV"),
            access_complexity: m("AC"),
            authentication: m("Au"),
            confidentiality_impact: m("C"),
            integrity_impact: m("I"),
            availability_impact: m("A"),
            base_score: r.score(scores.base)?,
            exploitability: m("E"),
            remediation_level: m("RL"),
            report_confidence: m("RC"),
            temporal_score: r.group_score(scores.temporal, temporal)?,
            collateral_damage_potential: m("CDP"),
            target_distribution: m("TD"),
            confidentiality_requirement: m("CR"),
            integrity_requirement: m("IR"),
            availability_requirement: m("AR"),
            environmental_score: r.group_score(scores.environmental, environmental)?,
            vector_string: r.vector.clone(),
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
