//! What a researcher or customer submits: the fields of a vulnerability report form.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::state::CaseKind;
use super::vuln::{CveId, long_text};
use crate::org::text_field;
use crate::{BranchId, DomainError, Email, Locale, UserId};

/// How the reporter wants to be credited in the advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credit {
    /// Thank them by this name (and organisation, if given).
    Named {
        name: String,
        organisation: Option<String>,
    },
    /// Thank "an anonymous researcher".
    Anonymous,
    /// No acknowledgment at all.
    None,
}

impl Credit {
    pub fn new(
        kind: &str,
        name: Option<&str>,
        organisation: Option<&str>,
    ) -> Result<Self, DomainError> {
        let organisation = organisation
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| text_field("credit_organisation", o, 200))
            .transpose()?;
        match kind {
            "named" => Ok(Self::Named {
                name: text_field("credit_name", name.unwrap_or_default(), 200)?,
                organisation,
            }),
            "anonymous" => Ok(Self::Anonymous),
            "none" => Ok(Self::None),
            other => Err(DomainError::invalid(
                "credit",
                format!("\"{other}\" is not a way to be credited (named, anonymous or none)"),
            )),
        }
    }
}

/// The reporter's own OpenPGP public key, so that replies can be encrypted to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
pub struct ReporterKey(String);

crate::text::checked_text!(ReporterKey, parse);

impl ReporterKey {
    const BEGIN: &'static str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    const END: &'static str = "-----END PGP PUBLIC KEY BLOCK-----";

    /// Accepts one ASCII-armoured public key block; a private key is refused loudly, since
    /// pasting one by mistake is the error that matters.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim().replace("\r\n", "\n");
        if t.contains("PRIVATE KEY BLOCK") {
            return Err(DomainError::invalid(
                "pgp_key",
                "this is a private key: send only your public key, and consider this one exposed",
            ));
        }
        if !(t.starts_with(Self::BEGIN) && t.ends_with(Self::END)) || t.len() > 64 * 1024 {
            return Err(DomainError::invalid(
                "pgp_key",
                "expected one ASCII-armoured public key block (-----BEGIN PGP PUBLIC KEY BLOCK-----)",
            ));
        }
        if !t.is_ascii() {
            return Err(DomainError::invalid(
                "pgp_key",
                "an armoured key is plain ASCII",
            ));
        }
        Ok(Self(t))
    }
}

/// A submitted report or question, as the reporter wrote it. It is kept unchanged; triage
/// works on the case around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    pub kind: CaseKind,
    pub title: String,
    /// The product as the reporter named it.
    pub product: String,
    /// The catalogue entry, when the reporter picked one.
    pub branch_id: Option<BranchId>,
    pub version: String,
    pub description: String,
    pub impact: String,
    /// Steps to reproduce or a proof of concept.
    pub steps: String,
    /// For a question: the CVE it asks about.
    pub cve: Option<CveId>,
    pub publicly_known: bool,
    pub exploited: bool,
    pub disclosure_plans: String,
    #[schema(value_type = Option<String>)]
    pub planned_disclosure: Option<Date>,
    pub credit: Credit,
    pub reporter_name: Option<String>,
    pub reporter_email: Option<Email>,
    pub reporter_organisation: Option<String>,
    pub reporter_key: Option<ReporterKey>,
    /// Set when a signed-in reporter or customer submitted it.
    pub reporter_user: Option<UserId>,
    pub language: Locale,
}

/// The form's (and the API's) fields, all as text so that every error can name its field.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// `report` (default) or `question`.
    #[serde(default)]
    pub kind: Option<String>,
    pub title: String,
    #[serde(default)]
    pub product: String,
    #[serde(default)]
    pub branch_id: Option<BranchId>,
    #[serde(default)]
    pub version: String,
    pub description: String,
    #[serde(default)]
    pub impact: String,
    #[serde(default)]
    pub steps: String,
    #[serde(default)]
    pub cve: Option<String>,
    #[serde(default)]
    pub publicly_known: bool,
    #[serde(default)]
    pub exploited: bool,
    #[serde(default)]
    pub disclosure_plans: String,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub planned_disclosure: Option<String>,
    /// `named`, `anonymous` (default) or `none`.
    #[serde(default)]
    pub credit: Option<String>,
    #[serde(default)]
    pub credit_name: Option<String>,
    #[serde(default)]
    pub credit_organisation: Option<String>,
    #[serde(default)]
    pub reporter_name: Option<String>,
    #[serde(default)]
    pub reporter_email: Option<String>,
    #[serde(default)]
    pub reporter_organisation: Option<String>,
    #[serde(default)]
    pub pgp_key: Option<String>,
    /// `en` or `ja`: the language to answer in.
    #[serde(default)]
    pub language: Option<String>,
}

fn optional_line(
    field: &'static str,
    s: &Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match s.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => text_field(field, t, max).map(Some),
        None => Ok(None),
    }
}

impl Report {
    /// Checks every field; the first error names its field.
    pub fn from_input(
        input: &ReportInput,
        reporter_user: Option<UserId>,
    ) -> Result<Self, DomainError> {
        let kind = match input
            .kind
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            Some(k) => k.parse()?,
            None => CaseKind::Report,
        };
        let title = text_field("title", &input.title, 300)?;
        let description = long_text("description", &input.description, 50_000)?;
        if description.is_empty() {
            return Err(DomainError::invalid("description", "must not be empty"));
        }
        let product = long_text("product", &input.product, 200)?;
        if kind == CaseKind::Report && product.is_empty() && input.branch_id.is_none() {
            return Err(DomainError::invalid(
                "product",
                "name the product the vulnerability is in",
            ));
        }
        let planned_disclosure = match input.planned_disclosure.as_deref().map(str::trim) {
            Some(d) if !d.is_empty() => Some(d.parse::<Date>().map_err(|_| {
                DomainError::invalid(
                    "planned_disclosure",
                    format!("\"{d}\" is not a date in the form YYYY-MM-DD"),
                )
            })?),
            _ => None,
        };
        let credit = Credit::new(
            input
                .credit
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .unwrap_or("anonymous"),
            input.credit_name.as_deref(),
            input.credit_organisation.as_deref(),
        )?;
        let reporter_email = input
            .reporter_email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                Email::parse(e).map_err(|e| DomainError::invalid("reporter_email", e.to_string()))
            })
            .transpose()?;
        let reporter_key = input
            .pgp_key
            .as_deref()
            .filter(|k| !k.trim().is_empty())
            .map(ReporterKey::parse)
            .transpose()?;
        let language = match input
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            Some(l) => l.parse().map_err(|_| {
                DomainError::invalid(
                    "language",
                    format!("\"{l}\" is not a supported language (expected en or ja)"),
                )
            })?,
            None => Locale::En,
        };
        Ok(Self {
            kind,
            title,
            product,
            branch_id: input.branch_id,
            version: long_text("version", &input.version, 200)?,
            description,
            impact: long_text("impact", &input.impact, 20_000)?,
            steps: long_text("steps", &input.steps, 100_000)?,
            cve: input
                .cve
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(CveId::parse)
                .transpose()?,
            publicly_known: input.publicly_known,
            exploited: input.exploited,
            disclosure_plans: long_text("disclosure_plans", &input.disclosure_plans, 5_000)?,
            planned_disclosure,
            credit,
            reporter_name: optional_line("reporter_name", &input.reporter_name, 200)?,
            reporter_email,
            reporter_organisation: optional_line(
                "reporter_organisation",
                &input.reporter_organisation,
                200,
            )?,
            reporter_key,
            reporter_user,
            language,
        })
    }

    /// Everything a search should find this report by.
    pub fn search_text(&self) -> String {
        [
            self.title.as_str(),
            &self.product,
            &self.version,
            &self.description,
            &self.impact,
            self.cve.as_ref().map_or("", |c| c.as_str()),
        ]
        .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReportInput {
        ReportInput {
            title: "SQL injection in login".into(),
            product: "Keikai Router".into(),
            description: "The user field is concatenated into SQL.".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_minimal_report_is_accepted_with_defaults() {
        let r = Report::from_input(&input(), None).unwrap();
        assert_eq!(r.kind, CaseKind::Report);
        assert_eq!(r.credit, Credit::Anonymous);
        assert_eq!(r.language, Locale::En);
    }

    type Edit = Box<dyn Fn(&mut ReportInput)>;

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(&str, Edit)> = vec![
            ("title", Box::new(|i| i.title = " ".into())),
            ("description", Box::new(|i| i.description = String::new())),
            ("product", Box::new(|i| i.product = String::new())),
            ("kind", Box::new(|i| i.kind = Some("bug".into()))),
            (
                "reporter_email",
                Box::new(|i| i.reporter_email = Some("nobody".into())),
            ),
            (
                "planned_disclosure",
                Box::new(|i| i.planned_disclosure = Some("next week".into())),
            ),
            ("credit_name", Box::new(|i| i.credit = Some("named".into()))),
            ("credit", Box::new(|i| i.credit = Some("famous".into()))),
            (
                "pgp_key",
                Box::new(|i| i.pgp_key = Some("ssh-ed25519 AAAA".into())),
            ),
            ("cve", Box::new(|i| i.cve = Some("CVE-1".into()))),
            ("language", Box::new(|i| i.language = Some("fr".into()))),
            ("title", Box::new(|i| i.title = "a\u{0}b".into())),
            (
                "description",
                Box::new(|i| i.description = "x".repeat(50_001)),
            ),
        ];
        for (field, change) in cases {
            let mut i = input();
            change(&mut i);
            let e = Report::from_input(&i, None).unwrap_err();
            assert_eq!(e.field(), field, "{e}");
        }
    }

    #[test]
    fn a_private_key_is_refused_with_a_warning() {
        let mut i = input();
        i.pgp_key = Some(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nxx\n-----END PGP PRIVATE KEY BLOCK-----".into(),
        );
        let e = Report::from_input(&i, None).unwrap_err();
        assert!(e.to_string().contains("private key"), "{e}");
    }

    #[test]
    fn a_question_needs_no_product() {
        let mut i = input();
        i.kind = Some("question".into());
        i.product = String::new();
        i.cve = Some("CVE-2024-3094".into());
        let r = Report::from_input(&i, None).unwrap();
        assert_eq!(r.kind, CaseKind::Question);
        assert_eq!(r.cve.map(String::from).as_deref(), Some("CVE-2024-3094"));
    }

    #[test]
    fn markup_is_kept_as_text() {
        // Escaping is the renderer's job; the domain must not mangle what was reported.
        let mut i = input();
        i.description = "<script>alert(1)</script>".into();
        let r = Report::from_input(&i, None).unwrap();
        assert_eq!(r.description, "<script>alert(1)</script>");
    }
}
