//! A vulnerability as triage records it: identifiers, scores, severity, exploitation and the
//! status of each product version, in CSAF's vocabulary so that the advisory can reuse it.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::org::text_field;
use crate::{BranchId, DomainError, VulnerabilityId};

/// A CVE id such as `CVE-2024-3094`: a four-digit year and at least four digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
pub struct CveId(String);

crate::text::checked_text!(CveId, parse);

impl CveId {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim().to_ascii_uppercase();
        let ok = t
            .strip_prefix("CVE-")
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(year, seq)| {
                year.len() == 4
                    && year.bytes().all(|b| b.is_ascii_digit())
                    && (4..=19).contains(&seq.len())
                    && seq.bytes().all(|b| b.is_ascii_digit())
            });
        if ok {
            Ok(Self(t))
        } else {
            Err(DomainError::invalid(
                "cve",
                format!("\"{}\" is not a CVE id such as CVE-2024-3094", s.trim()),
            ))
        }
    }
}

/// A CWE weakness from the catalogue CSAF validation uses, with its name (CSAF needs both).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cwe {
    pub id: String,
    pub name: String,
}

impl Cwe {
    /// Accepts `CWE-79` or `79`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        let id = if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() {
            format!("CWE-{t}")
        } else {
            t.to_ascii_uppercase()
        };
        match keikai_csaf::cwe_name(&id) {
            Some(name) => Ok(Self {
                id,
                name: name.to_owned(),
            }),
            None => Err(DomainError::invalid(
                "cwe",
                format!(
                    "\"{t}\" is not a weakness in CWE {} (expected an id such as CWE-79)",
                    keikai_csaf::CWE_CATALOG_VERSION
                ),
            )),
        }
    }
}

/// A CVSS vector that parsed, kept as its canonical string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
pub struct CvssVector(String);

crate::text::checked_text!(CvssVector);

impl CvssVector {
    /// Parses a vector of one of `versions`; `field` names the input in errors.
    pub fn parse(
        field: &'static str,
        s: &str,
        versions: &[keikai_cvss::Version],
    ) -> Result<Self, DomainError> {
        let cvss = keikai_cvss::parse(s.trim())
            .map_err(|e| DomainError::invalid(field, format!("\"{}\": {e}", s.trim())))?;
        if !versions.contains(&cvss.version()) {
            let want: Vec<&str> = versions.iter().map(|v| v.as_str()).collect();
            return Err(DomainError::invalid(
                field,
                format!(
                    "\"{}\" is CVSS {}; this field takes CVSS {}",
                    s.trim(),
                    cvss.version(),
                    want.join(" or ")
                ),
            ));
        }
        Ok(Self(cvss.vector_string()))
    }

    pub fn cvss(&self) -> keikai_cvss::Cvss {
        // Constructed only from a vector that parsed, and the canonical form re-parses.
        keikai_cvss::parse(&self.0).unwrap_or_else(|_| unreachable!("validated CVSS vector"))
    }

    /// The most specific score the vector gives: environmental, then temporal, then base
    /// (a CVSS 4.0 vector has one score that already folds threat and environment in).
    pub fn score(&self) -> f64 {
        let s = self.cvss().scores();
        s.environmental.or(s.temporal).unwrap_or(s.base)
    }
}

impl TryFrom<String> for CvssVector {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        use keikai_cvss::Version::*;
        Self::parse("cvss", &s, &[V2_0, V3_0, V3_1, V4_0])
    }
}

impl From<CvssVector> for String {
    fn from(v: CvssVector) -> Self {
        v.0
    }
}

/// The time allowed for each stage of a case of one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTargets {
    pub acknowledge: SignedDuration,
    pub triage: SignedDuration,
    /// `None`: no fix deadline (used for the level given to cases not yet rated).
    pub fix: Option<SignedDuration>,
}

/// One level of the vendor's own severity scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityLevel {
    pub name: String,
    /// The lowest CVSS score for which this level is suggested.
    pub cvss_from: f64,
    pub sla: SlaTargets,
}

/// The vendor's severity scale, highest level first, with SLA targets per level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityScale {
    levels: Vec<SeverityLevel>,
    /// Targets for a case no one has rated yet: acknowledge and triage still run.
    unrated: SlaTargets,
}

impl SeverityScale {
    /// Checks that names are unique and non-empty and that CVSS thresholds fall from the
    /// first level to the last.
    pub fn new(levels: Vec<SeverityLevel>, unrated: SlaTargets) -> Result<Self, DomainError> {
        if levels.is_empty() {
            return Err(DomainError::invalid("severity", "the scale needs a level"));
        }
        for (i, l) in levels.iter().enumerate() {
            text_field("severity.name", &l.name, 40)?;
            if levels[..i]
                .iter()
                .any(|o| o.name.eq_ignore_ascii_case(&l.name))
            {
                return Err(DomainError::invalid(
                    "severity.name",
                    format!("\"{}\" appears twice", l.name),
                ));
            }
            if i > 0 && l.cvss_from > levels[i - 1].cvss_from {
                return Err(DomainError::invalid(
                    "severity.cvss_from",
                    format!(
                        "\"{}\" starts at {} but the level above it at {}: list levels highest first",
                        l.name,
                        l.cvss_from,
                        levels[i - 1].cvss_from
                    ),
                ));
            }
            for (what, d) in [("acknowledge", l.sla.acknowledge), ("triage", l.sla.triage)]
                .into_iter()
                .chain(l.sla.fix.map(|f| ("fix", f)))
            {
                if d <= SignedDuration::ZERO {
                    return Err(DomainError::invalid(
                        "severity.sla",
                        format!("{}: the time to {what} must be positive", l.name),
                    ));
                }
            }
        }
        Ok(Self { levels, unrated })
    }

    pub fn levels(&self) -> &[SeverityLevel] {
        &self.levels
    }

    pub fn level(&self, name: &str) -> Option<&SeverityLevel> {
        self.levels.iter().find(|l| l.name == name)
    }

    /// 0 for the highest level.
    pub fn rank(&self, name: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.name == name)
    }

    /// Checks a level name given as input.
    pub fn parse(&self, name: &str) -> Result<String, DomainError> {
        let t = name.trim();
        self.levels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(t))
            .map(|l| l.name.clone())
            .ok_or_else(|| {
                let names: Vec<&str> = self.levels.iter().map(|l| l.name.as_str()).collect();
                DomainError::invalid(
                    "vendor_severity",
                    format!("\"{t}\" is not a level of the scale ({})", names.join(", ")),
                )
            })
    }

    /// The level a CVSS score suggests.
    pub fn suggest(&self, score: f64) -> Option<&SeverityLevel> {
        self.levels.iter().find(|l| score >= l.cvss_from)
    }

    pub fn targets(&self, level: Option<&str>) -> SlaTargets {
        level
            .and_then(|n| self.level(n))
            .map_or(self.unrated, |l| l.sla)
    }
}

impl Default for SeverityScale {
    /// Critical / Important / Moderate / Low, with targets in the range PSIRTs publish.
    fn default() -> Self {
        let h = SignedDuration::from_hours;
        let d = |n: i64| SignedDuration::from_hours(24 * n);
        let level = |name: &str, cvss_from, ack, triage, fix| SeverityLevel {
            name: name.to_owned(),
            cvss_from,
            sla: SlaTargets {
                acknowledge: ack,
                triage,
                fix: Some(fix),
            },
        };
        Self {
            levels: vec![
                level("Critical", 9.0, h(24), d(3), d(30)),
                level("Important", 7.0, h(48), d(5), d(60)),
                level("Moderate", 4.0, h(72), d(10), d(90)),
                level("Low", 0.0, h(72), d(14), d(180)),
            ],
            unrated: SlaTargets {
                acknowledge: h(72),
                triage: d(10),
                fix: None,
            },
        }
    }
}

crate::names! {
    /// A product's relation to a vulnerability, as CSAF's `product_status` names it.
    pub enum ProductStatusKind("status", "a CSAF product status") {
        FirstAffected = "first_affected",
        KnownAffected = "known_affected",
        LastAffected = "last_affected",
        KnownNotAffected = "known_not_affected",
        UnderInvestigation = "under_investigation",
        FirstFixed = "first_fixed",
        Fixed = "fixed",
        Recommended = "recommended",
    }
}

crate::names! {
    /// Why a product is not affected: CSAF's flag labels (the VEX justifications).
    pub enum Justification("justification", "a CSAF justification") {
        ComponentNotPresent = "component_not_present",
        VulnerableCodeNotPresent = "vulnerable_code_not_present",
        VulnerableCodeCannotBeControlledByAdversary = "vulnerable_code_cannot_be_controlled_by_adversary",
        VulnerableCodeNotInExecutePath = "vulnerable_code_not_in_execute_path",
        InlineMitigationsAlreadyExist = "inline_mitigations_already_exist",
    }
}

/// The status of one product version for one vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductStatus {
    pub branch_id: BranchId,
    pub status: ProductStatusKind,
    pub justification: Option<Justification>,
}

impl ProductStatus {
    /// `known_not_affected` must say why (a VEX statement without one is not actionable);
    /// other statuses must not carry a justification.
    pub fn new(
        branch_id: BranchId,
        status: ProductStatusKind,
        justification: Option<Justification>,
    ) -> Result<Self, DomainError> {
        match (status, justification) {
            (ProductStatusKind::KnownNotAffected, None) => Err(DomainError::invalid(
                "justification",
                "known_not_affected needs a justification",
            )),
            (s, Some(_)) if s != ProductStatusKind::KnownNotAffected => Err(DomainError::invalid(
                "justification",
                format!(
                    "only known_not_affected takes a justification, not {}",
                    s.as_str()
                ),
            )),
            _ => Ok(Self {
                branch_id,
                status,
                justification,
            }),
        }
    }
}

crate::names! {
    /// CSAF's remediation categories.
    pub enum RemediationCategory("category", "a CSAF remediation category") {
        VendorFix = "vendor_fix",
        Workaround = "workaround",
        Mitigation = "mitigation",
        NoneAvailable = "none_available",
        NoFixPlanned = "no_fix_planned",
    }
}

/// A draft remediation (fix, workaround or mitigation) that the advisory will reuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RemediationDraft {
    pub category: RemediationCategory,
    pub details: String,
    pub url: Option<String>,
    /// Product versions it applies to; empty means every affected one.
    pub branch_ids: Vec<BranchId>,
}

impl RemediationDraft {
    pub fn new(
        category: RemediationCategory,
        details: &str,
        url: Option<&str>,
        branch_ids: Vec<BranchId>,
    ) -> Result<Self, DomainError> {
        let details = long_text("details", details, 20_000)?;
        if details.is_empty() {
            return Err(DomainError::invalid("details", "must not be empty"));
        }
        let url = url
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| {
                if (u.starts_with("https://") || u.starts_with("http://")) && !u.contains(' ') {
                    Ok(u.to_owned())
                } else {
                    Err(DomainError::invalid(
                        "url",
                        format!("\"{u}\" is not an http(s) URL"),
                    ))
                }
            })
            .transpose()?;
        Ok(Self {
            category,
            details,
            url,
            branch_ids,
        })
    }
}

/// Whether the vulnerability is known publicly and used in attacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Exploitation {
    pub publicly_disclosed: bool,
    /// When Keikai learned that it is exploited in the wild; starts the CRA clocks.
    #[schema(value_type = Option<String>)]
    pub exploited_since: Option<Timestamp>,
}

/// One vulnerability of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Vulnerability {
    pub id: VulnerabilityId,
    pub title: String,
    pub cve: Option<CveId>,
    pub cwe: Option<Cwe>,
    /// CVSS 3.0 or 3.1 (base, temporal and environmental metrics in one vector).
    pub cvss_v3: Option<CvssVector>,
    /// CVSS 4.0 (base, threat and environmental metrics in one vector).
    pub cvss_v4: Option<CvssVector>,
    /// A level of the vendor's scale.
    pub vendor_severity: Option<String>,
    pub exploitation: Exploitation,
    pub product_statuses: Vec<ProductStatus>,
    pub remediations: Vec<RemediationDraft>,
}

/// What a person enters for a vulnerability; checked into a [`Vulnerability`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct VulnerabilityInput {
    pub title: String,
    #[serde(default)]
    pub cve: Option<String>,
    #[serde(default)]
    pub cwe: Option<String>,
    #[serde(default)]
    pub cvss_v3: Option<String>,
    #[serde(default)]
    pub cvss_v4: Option<String>,
    /// A level of the scale; when absent, the level the CVSS score suggests.
    #[serde(default)]
    pub vendor_severity: Option<String>,
    #[serde(default)]
    pub publicly_disclosed: bool,
    #[serde(default)]
    pub exploited: bool,
}

fn non_blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

impl Vulnerability {
    /// Checks the input; `existing` keeps what the input does not carry (statuses,
    /// remediations, the time exploitation became known).
    pub fn from_input(
        input: &VulnerabilityInput,
        scale: &SeverityScale,
        existing: Option<&Self>,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        use keikai_cvss::Version::*;
        let title = text_field("title", &input.title, 300)?;
        let cve = non_blank(&input.cve).map(CveId::parse).transpose()?;
        let cwe = non_blank(&input.cwe).map(Cwe::parse).transpose()?;
        let cvss_v3 = non_blank(&input.cvss_v3)
            .map(|v| CvssVector::parse("cvss_v3", v, &[V3_0, V3_1]))
            .transpose()?;
        let cvss_v4 = non_blank(&input.cvss_v4)
            .map(|v| CvssVector::parse("cvss_v4", v, &[V4_0]))
            .transpose()?;
        let vendor_severity = match non_blank(&input.vendor_severity) {
            Some(s) => Some(scale.parse(s)?),
            None => cvss_v4
                .as_ref()
                .or(cvss_v3.as_ref())
                .and_then(|v| scale.suggest(v.score()))
                .map(|l| l.name.clone()),
        };
        let exploited_since = match (input.exploited, existing) {
            (false, _) => None,
            (true, Some(e)) => e.exploitation.exploited_since.or(Some(now)),
            (true, None) => Some(now),
        };
        Ok(Self {
            id: existing.map_or_else(VulnerabilityId::new, |e| e.id),
            title,
            cve,
            cwe,
            cvss_v3,
            cvss_v4,
            vendor_severity,
            exploitation: Exploitation {
                publicly_disclosed: input.publicly_disclosed,
                exploited_since,
            },
            product_statuses: existing
                .map(|e| e.product_statuses.clone())
                .unwrap_or_default(),
            remediations: existing.map(|e| e.remediations.clone()).unwrap_or_default(),
        })
    }

    /// Sets (or replaces) the status of one product version.
    pub fn set_status(&mut self, status: ProductStatus) {
        self.product_statuses
            .retain(|s| s.branch_id != status.branch_id);
        self.product_statuses.push(status);
    }
}

/// Checks a multi-line text: at most `max` characters, no control characters other than
/// line breaks and tabs. May be empty.
pub fn long_text(field: &'static str, s: &str, max: usize) -> Result<String, DomainError> {
    let t = s.trim();
    let len = t.chars().count();
    if len > max {
        return Err(DomainError::invalid(
            field,
            format!("is {len} characters long (at most {max})"),
        ));
    }
    if let Some(c) = t
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(DomainError::invalid(
            field,
            format!("contains the control character {c:?}"),
        ));
    }
    Ok(t.replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids() {
        assert_eq!(
            CveId::parse(" cve-2024-3094 ").map(|c| c.0),
            Ok("CVE-2024-3094".into())
        );
        assert!(CveId::parse("CVE-2024-12345678").is_ok());
        for bad in [
            "CVE-24-1234",
            "CVE-2024-123",
            "CVE-2024-12a4",
            "2024-1234",
            "",
        ] {
            let e = CveId::parse(bad).unwrap_err();
            assert_eq!(e.field(), "cve", "{bad}");
        }
    }

    #[test]
    fn cwe_ids_come_with_their_names() {
        let c = Cwe::parse("79").unwrap();
        assert_eq!(c.id, "CWE-79");
        assert!(c.name.contains("Cross-site Scripting"), "{}", c.name);
        assert_eq!(Cwe::parse("cwe-787").unwrap().id, "CWE-787");
        assert!(
            Cwe::parse("CWE-99999999")
                .unwrap_err()
                .to_string()
                .contains("CWE 4.17")
        );
    }

    #[test]
    fn cvss_fields_take_their_versions_only() {
        use keikai_cvss::Version::*;
        let v = CvssVector::parse(
            "cvss_v3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            &[V3_0, V3_1],
        )
        .unwrap();
        assert!((v.score() - 9.8).abs() < 1e-9);
        let e = CvssVector::parse(
            "cvss_v4",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            &[V4_0],
        )
        .unwrap_err();
        assert!(e.to_string().contains("takes CVSS 4.0"), "{e}");
        let e = CvssVector::parse("cvss_v3", "CVSS:3.1/AV:X/AC:L", &[V3_1]).unwrap_err();
        assert_eq!(e.field(), "cvss_v3");
        assert!(e.to_string().contains("AV"), "{e}");
    }

    #[test]
    fn severity_is_suggested_from_the_score_and_checked_against_the_scale() {
        let scale = SeverityScale::default();
        let input = VulnerabilityInput {
            title: "Heap overflow".into(),
            cvss_v3: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
            ..Default::default()
        };
        let v = Vulnerability::from_input(&input, &scale, None, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(v.vendor_severity.as_deref(), Some("Critical"));
        let input = VulnerabilityInput {
            vendor_severity: Some("important".into()),
            ..input
        };
        let v = Vulnerability::from_input(&input, &scale, None, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(v.vendor_severity.as_deref(), Some("Important"));
        let input = VulnerabilityInput {
            vendor_severity: Some("Severe".into()),
            ..input
        };
        let e = Vulnerability::from_input(&input, &scale, None, Timestamp::UNIX_EPOCH).unwrap_err();
        assert!(
            e.to_string().contains("Critical, Important, Moderate, Low"),
            "{e}"
        );
    }

    #[test]
    fn exploitation_keeps_the_time_it_was_first_known() {
        let scale = SeverityScale::default();
        let t0 = Timestamp::UNIX_EPOCH;
        let t1 = t0 + SignedDuration::from_hours(5);
        let input = VulnerabilityInput {
            title: "x".into(),
            exploited: true,
            ..Default::default()
        };
        let v = Vulnerability::from_input(&input, &scale, None, t0).unwrap();
        let again = Vulnerability::from_input(&input, &scale, Some(&v), t1).unwrap();
        assert_eq!(again.exploitation.exploited_since, Some(t0));
        assert_eq!(again.id, v.id);
    }

    #[test]
    fn scales_are_checked() {
        let d = SeverityScale::default();
        let mut levels = d.levels().to_vec();
        levels.swap(0, 1);
        assert!(SeverityScale::new(levels, d.unrated).is_err());
        let mut levels = d.levels().to_vec();
        levels[1].name = "critical".into();
        assert!(SeverityScale::new(levels, d.unrated).is_err());
        assert!(SeverityScale::new(d.levels().to_vec(), d.unrated).is_ok());
    }

    #[test]
    fn not_affected_needs_a_justification() {
        let b = BranchId::new();
        assert!(ProductStatus::new(b, ProductStatusKind::KnownNotAffected, None).is_err());
        assert!(
            ProductStatus::new(
                b,
                ProductStatusKind::KnownAffected,
                Some(Justification::ComponentNotPresent)
            )
            .is_err()
        );
        assert!(
            ProductStatus::new(
                b,
                ProductStatusKind::KnownNotAffected,
                Some(Justification::ComponentNotPresent)
            )
            .is_ok()
        );
    }

    #[test]
    fn long_text_keeps_lines_and_refuses_control_characters() {
        assert_eq!(long_text("d", " a\r\nb\tc ", 10).unwrap(), "a\nb\tc");
        assert!(long_text("d", "a\u{7}b", 10).is_err());
        assert!(long_text("d", "abcdef", 5).is_err());
    }
}
