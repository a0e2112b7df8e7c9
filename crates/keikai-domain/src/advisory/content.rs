//! What an advisory says: the narrative per language and the language-neutral facts
//! (vulnerabilities, product statuses, remediations, scores, references, acknowledgments).

use serde::{Deserialize, Serialize};

use crate::case::{
    CveId, CvssVector, Cwe, Justification, ProductStatus, ProductStatusKind, RemediationCategory,
    long_text,
};
use crate::org::text_field;
use crate::user::Locale;
use crate::{BranchId, DomainError, VulnerabilityId};

/// One value per language of the bulletin. Japanese and English are both first-class: either
/// may be the original.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Localized<T> {
    pub en: T,
    pub ja: T,
}

impl<T> Localized<T> {
    pub fn get(&self, lang: Locale) -> &T {
        match lang {
            Locale::En => &self.en,
            Locale::Ja => &self.ja,
        }
    }

    pub fn get_mut(&mut self, lang: Locale) -> &mut T {
        match lang {
            Locale::En => &mut self.en,
            Locale::Ja => &mut self.ja,
        }
    }
}

/// A question and its answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Faq {
    pub question: String,
    pub answer: String,
}

/// The narrative of one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Text {
    pub title: String,
    pub summary: String,
    pub description: String,
    pub impact: String,
    #[serde(default)]
    pub faqs: Vec<Faq>,
}

impl Text {
    /// Checks a language's narrative. A language may be left empty as a whole (not yet
    /// translated); once it has a title it needs a summary too.
    pub fn checked(self) -> Result<Self, DomainError> {
        let title = self.title.trim();
        if title.is_empty() {
            let rest_empty = self.summary.trim().is_empty()
                && self.description.trim().is_empty()
                && self.impact.trim().is_empty()
                && self.faqs.is_empty();
            return if rest_empty {
                Ok(Self::default())
            } else {
                Err(DomainError::invalid("title", "must not be empty"))
            };
        }
        let title = text_field("title", title, 300)?;
        let summary = long_text("summary", &self.summary, 5_000)?;
        if summary.is_empty() {
            return Err(DomainError::invalid("summary", "must not be empty"));
        }
        let description = long_text("description", &self.description, 50_000)?;
        let impact = long_text("impact", &self.impact, 20_000)?;
        let mut faqs = Vec::new();
        for f in self.faqs {
            let question = long_text("faqs.question", &f.question, 1_000)?;
            let answer = long_text("faqs.answer", &f.answer, 20_000)?;
            match (question.is_empty(), answer.is_empty()) {
                (true, true) => continue,
                (false, false) => faqs.push(Faq { question, answer }),
                (true, false) => {
                    return Err(DomainError::invalid("faqs.question", "must not be empty"));
                }
                (false, true) => {
                    return Err(DomainError::invalid("faqs.answer", "must not be empty"));
                }
            }
        }
        if faqs.len() > 50 {
            return Err(DomainError::invalid("faqs", "at most 50 entries"));
        }
        Ok(Self {
            title,
            summary,
            description,
            impact,
            faqs,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.title.is_empty()
    }
}

crate::names! {
    /// The Traffic Light Protocol label of the advisory (TLP 2.0 names). Only `clear` advisories
    /// are published on the public site; CSAF 2.0 calls that label `WHITE`.
    #[derive(Default)]
    pub enum Tlp("tlp", "a TLP label") {
        #[default]
        Clear = "clear",
        Green = "green",
        Amber = "amber",
        AmberStrict = "amber_strict",
        Red = "red",
    }
}

impl Tlp {
    /// The label as TLP 2.0 writes it, e.g. `TLP:AMBER+STRICT`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Clear => "TLP:CLEAR",
            Self::Green => "TLP:GREEN",
            Self::Amber => "TLP:AMBER",
            Self::AmberStrict => "TLP:AMBER+STRICT",
            Self::Red => "TLP:RED",
        }
    }

    /// Whether anyone may read it: only these reach the public site, feeds and export.
    pub const fn is_public(self) -> bool {
        matches!(self, Self::Clear)
    }
}

/// A fix, workaround or mitigation for some product versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Remediation {
    pub category: RemediationCategory,
    pub details: Localized<String>,
    /// The first version that fixes it (vendor fixes).
    pub fixed_version: Option<String>,
    /// A knowledge-base article or update package id, e.g. `KB5034441`.
    pub kb: Option<String>,
    pub url: Option<String>,
    /// The product versions it applies to; empty means every affected one.
    pub branch_ids: Vec<BranchId>,
}

/// A CVSS vector for some products. A score with no products applies to every affected
/// product that no other score of the same CVSS version names ("per product where it
/// differs").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Score {
    pub vector: CvssVector,
    pub branch_ids: Vec<BranchId>,
}

/// One vulnerability as the advisory describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
// The case's vulnerability is `Vulnerability` in the OpenAPI document already.
#[schema(as = AdvisoryVulnerability)]
pub struct Vulnerability {
    pub id: VulnerabilityId,
    pub title: String,
    pub cve: Option<CveId>,
    pub cwe: Option<Cwe>,
    pub scores: Vec<Score>,
    pub exploited: bool,
    pub publicly_disclosed: bool,
    pub product_statuses: Vec<ProductStatus>,
    pub remediations: Vec<Remediation>,
}

impl Vulnerability {
    /// The affected product versions (known, first or last affected).
    pub fn affected(&self) -> impl Iterator<Item = BranchId> + '_ {
        self.product_statuses
            .iter()
            .filter(|s| {
                matches!(
                    s.status,
                    ProductStatusKind::KnownAffected
                        | ProductStatusKind::FirstAffected
                        | ProductStatusKind::LastAffected
                )
            })
            .map(|s| s.branch_id)
    }

    /// Whether every affected product version has a vendor fix.
    pub fn is_fixed(&self) -> bool {
        self.affected().all(|b| {
            self.remediations.iter().any(|r| {
                r.category == RemediationCategory::VendorFix
                    && (r.branch_ids.is_empty() || r.branch_ids.contains(&b))
            })
        })
    }
}

/// An external reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reference {
    pub url: String,
    pub summary: String,
}

/// People thanked for a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Acknowledgment {
    pub names: Vec<String>,
    pub organization: Option<String>,
}

/// Everything an advisory says; one snapshot per edit and per published version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Content {
    pub text: Localized<Text>,
    pub tlp: Tlp,
    /// A level of the vendor's severity scale, e.g. "Critical".
    pub severity: Option<String>,
    pub vulnerabilities: Vec<Vulnerability>,
    pub references: Vec<Reference>,
    pub acknowledgments: Vec<Acknowledgment>,
}

/// Checks an http(s) URL.
pub fn url_field(field: &'static str, u: &str) -> Result<String, DomainError> {
    let u = u.trim();
    let ok = (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() > "https://".len()
        && u.len() <= 2_000
        && !u.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(u.to_owned())
    } else {
        Err(DomainError::invalid(
            field,
            format!("\"{u}\" is not an http(s) URL"),
        ))
    }
}

/// The language-neutral part of an edit, as a person or an API client enters it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct FactsInput {
    pub tlp: Option<String>,
    pub severity: Option<String>,
    #[serde(default)]
    pub references: Vec<Reference>,
    #[serde(default)]
    pub acknowledgments: Vec<Acknowledgment>,
}

/// A remediation as entered; details in the editor's language.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RemediationInput {
    pub category: String,
    #[serde(default)]
    pub details: String,
    #[serde(default)]
    pub fixed_version: Option<String>,
    #[serde(default)]
    pub kb: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub branch_ids: Vec<BranchId>,
}

fn opt_short(field: &'static str, v: &Option<String>) -> Result<Option<String>, DomainError> {
    v.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| text_field(field, t, 200))
        .transpose()
}

impl Remediation {
    /// Checks a new remediation. Its details are written in `lang`; the other language gets
    /// the same text until a translator replaces it.
    pub fn from_input(input: &RemediationInput) -> Result<Self, DomainError> {
        let category: RemediationCategory = input.category.parse()?;
        let details = long_text("details", &input.details, 20_000)?;
        if details.is_empty() {
            return Err(DomainError::invalid("details", "must not be empty"));
        }
        let url = input
            .url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .map(|u| url_field("url", u))
            .transpose()?;
        let fixed_version = opt_short("fixed_version", &input.fixed_version)?;
        let kb = opt_short("kb", &input.kb)?;
        if category == RemediationCategory::VendorFix
            && url.is_none()
            && fixed_version.is_none()
            && kb.is_none()
        {
            return Err(DomainError::invalid(
                "fixed_version",
                "a vendor fix needs a fixed version, a KB article or a URL",
            ));
        }
        Ok(Self {
            category,
            details: Localized {
                en: details.clone(),
                ja: details,
            },
            fixed_version,
            kb,
            url,
            branch_ids: input.branch_ids.clone(),
        })
    }
}

impl Content {
    /// Applies the language-neutral facts.
    pub fn apply_facts(
        &mut self,
        input: &FactsInput,
        scale: &crate::case::SeverityScale,
    ) -> Result<(), DomainError> {
        if let Some(t) = input.tlp.as_deref().filter(|t| !t.trim().is_empty()) {
            self.tlp = t.trim().parse()?;
        }
        self.severity = match input.severity.as_deref().map(str::trim) {
            Some("") | None => None,
            Some(s) => Some(scale.parse(s)?),
        };
        let mut references = Vec::new();
        for r in &input.references {
            references.push(Reference {
                url: url_field("references.url", &r.url)?,
                summary: text_field("references.summary", &r.summary, 300)?,
            });
        }
        let mut acknowledgments = Vec::new();
        for a in &input.acknowledgments {
            let names = a
                .names
                .iter()
                .map(|n| text_field("acknowledgments.names", n, 200))
                .collect::<Result<Vec<_>, _>>()?;
            let organization = opt_short("acknowledgments.organization", &a.organization)?;
            if names.is_empty() && organization.is_none() {
                return Err(DomainError::invalid(
                    "acknowledgments",
                    "an acknowledgment needs a name or an organization",
                ));
            }
            acknowledgments.push(Acknowledgment {
                names,
                organization,
            });
        }
        self.references = references;
        self.acknowledgments = acknowledgments;
        Ok(())
    }

    pub fn vulnerability_mut(
        &mut self,
        id: VulnerabilityId,
    ) -> Result<&mut Vulnerability, DomainError> {
        self.vulnerabilities
            .iter_mut()
            .find(|v| v.id == id)
            .ok_or_else(|| DomainError::invalid("vulnerability", "no such vulnerability"))
    }

    /// Every product version the advisory names.
    pub fn branch_ids(&self) -> Vec<BranchId> {
        let mut ids: Vec<BranchId> = self
            .vulnerabilities
            .iter()
            .flat_map(|v| {
                v.product_statuses
                    .iter()
                    .map(|s| s.branch_id)
                    .chain(v.remediations.iter().flat_map(|r| r.branch_ids.clone()))
                    .chain(v.scores.iter().flat_map(|s| s.branch_ids.clone()))
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The text of every field, one entry per field, in a fixed order: what diffs compare and
    /// what search indexes. Product versions appear by id; the caller names them.
    pub fn outline(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for lang in Locale::ALL {
            let t = self.text.get(lang);
            out.push((format!("{lang}.title"), t.title.clone()));
            out.push((format!("{lang}.summary"), t.summary.clone()));
            out.push((format!("{lang}.description"), t.description.clone()));
            out.push((format!("{lang}.impact"), t.impact.clone()));
            for (i, f) in t.faqs.iter().enumerate() {
                out.push((
                    format!("{lang}.faq[{}]", i + 1),
                    format!("Q: {}\nA: {}", f.question, f.answer),
                ));
            }
        }
        out.push(("tlp".into(), self.tlp.label().into()));
        out.push(("severity".into(), self.severity.clone().unwrap_or_default()));
        for v in &self.vulnerabilities {
            let key = v
                .cve
                .as_ref()
                .map_or_else(|| v.title.clone(), |c| c.as_str().to_owned());
            let mut lines = vec![format!("title: {}", v.title)];
            if let Some(c) = &v.cwe {
                lines.push(format!("cwe: {} {}", c.id, c.name));
            }
            for s in &v.scores {
                lines.push(format!("cvss: {} {:?}", s.vector.as_str(), s.branch_ids));
            }
            lines.push(format!(
                "exploited: {}, publicly disclosed: {}",
                v.exploited, v.publicly_disclosed
            ));
            for s in &v.product_statuses {
                let j = s
                    .justification
                    .map(Justification::as_str)
                    .map(|j| format!(" ({j})"))
                    .unwrap_or_default();
                lines.push(format!("{}: {}{j}", s.branch_id, s.status.as_str()));
            }
            out.push((format!("vulnerability {key}"), lines.join("\n")));
            for (i, r) in v.remediations.iter().enumerate() {
                let mut lines = vec![format!("category: {}", r.category.as_str())];
                for lang in Locale::ALL {
                    lines.push(format!("{lang}: {}", r.details.get(lang)));
                }
                for (k, val) in [
                    ("fixed version", &r.fixed_version),
                    ("kb", &r.kb),
                    ("url", &r.url),
                ] {
                    if let Some(val) = val {
                        lines.push(format!("{k}: {val}"));
                    }
                }
                lines.push(format!("products: {:?}", r.branch_ids));
                out.push((
                    format!("vulnerability {key} remediation[{}]", i + 1),
                    lines.join("\n"),
                ));
            }
        }
        for r in &self.references {
            out.push(("reference".into(), format!("{} {}", r.url, r.summary)));
        }
        for a in &self.acknowledgments {
            out.push((
                "acknowledgment".into(),
                format!(
                    "{} {}",
                    a.names.join(", "),
                    a.organization.clone().unwrap_or_default()
                ),
            ));
        }
        out
    }
}
