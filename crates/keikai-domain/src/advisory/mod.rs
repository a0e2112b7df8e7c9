//! Advisories: the bulletin a case becomes. An advisory is written in Japanese and English,
//! reviewed by someone other than its authors (four eyes), scheduled into a release and
//! published as immutable versions. Every operation checks its rules and returns the audit
//! [`Change`] the store writes with it.
//!
//! Versions follow CSAF's tracking: version `n` is the n-th publication, and each carries a
//! snapshot of the content as published, so the public site never shows a draft edit made
//! after it.

mod content;
mod diff;
pub mod publication;

pub use content::{
    Acknowledgment, Content, FactsInput, Faq, Localized, Reference, Remediation, RemediationInput,
    Score, Text, Tlp, Vulnerability, url_field,
};
pub use diff::{FieldDiff, LineChange, diff};

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::Change;
use crate::case::{Case, Credit, CvssVector, ProductStatus, SeverityScale, long_text};
use crate::org::text_field;
use crate::user::Locale;
use crate::{AdvisoryId, BranchId, CaseId, DomainError, ReleaseId, UserId, VulnerabilityId};

crate::names! {
    /// Where an advisory is on its way to publication.
    pub enum AdvisoryState("state", "an advisory state") {
        /// Being written or revised.
        Draft = "draft",
        /// Approved and waiting for its release.
        Scheduled = "scheduled",
        /// Published; the latest version is what the public sees.
        Published = "published",
    }
}

/// One saved change of the draft, with the content after it (what diffs compare).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Edit {
    pub number: u32,
    pub editor: UserId,
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// The language whose text changed, if any.
    pub lang: Option<Locale>,
    pub note: String,
    pub content: Content,
}

crate::names! {
    /// What a reviewer said about one edit of the draft.
    pub enum Verdict("verdict", "a verdict") {
        Comment = "comment",
        Approve = "approve",
        RequestChanges = "request_changes",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Review {
    pub reviewer: UserId,
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// The edit it was given on; an approval holds only while that edit is the latest.
    pub edit: u32,
    pub verdict: Verdict,
    pub text: String,
}

/// A published version: CSAF's revision history entry, with the content as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishedVersion {
    pub number: u32,
    #[schema(value_type = String)]
    pub at: Timestamp,
    pub summary: String,
    pub release: ReleaseId,
    pub content: Content,
}

/// Whether a language's text is current with the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TranslationState {
    Current,
    /// The other language changed since this one was last updated.
    Outdated,
    Missing,
}

/// Whether an edit of one language's text changes what the advisory says (the other
/// language is then outdated) or translates the other language (it keeps its state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEdit {
    Change,
    Translation,
}

/// What the review says about the current draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    NotReviewed,
    ChangesRequested,
    Approved,
}

/// What the release-readiness page shows for one advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    pub review: ReviewState,
    pub en: TranslationState,
    pub ja: TranslationState,
    /// Every affected product version has a vendor fix.
    pub fixed: bool,
    /// What would stop the next version at publication, naming the field: the checks that
    /// publication runs (the CSAF document built and validated, the CVE records, the
    /// bulletins), run now.
    pub blocker: Option<String>,
    /// Scheduled, approved, and nothing blocks publication at the release time.
    pub ready: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Advisory {
    pub id: AdvisoryId,
    /// CSAF `/document/tracking/id`, e.g. `KEIKAI-2026-0001`; fixed at creation.
    pub tracking_id: String,
    pub case_id: Option<CaseId>,
    pub state: AdvisoryState,
    pub content: Content,
    /// Languages changed by the other one's edits and not yet brought up to date.
    pub outdated: Vec<Locale>,
    /// Everyone who edited since the last publication: none of them may approve.
    pub authors: BTreeSet<UserId>,
    pub edits: Vec<Edit>,
    pub reviews: Vec<Review>,
    /// The release it is planned for.
    pub release: Option<ReleaseId>,
    /// What the next version changes (the revision history summary); required for versions
    /// after the first.
    pub revision_summary: Option<String>,
    pub versions: Vec<PublishedVersion>,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
    /// The store's optimistic-concurrency counter.
    pub revision: i64,
}

fn subject(id: AdvisoryId) -> String {
    format!("advisory/{id}")
}

/// The tracking id for the `seq`-th advisory of `year`: `PREFIX-YYYY-NNNN`.
pub fn tracking_id(prefix: &str, year: i16, seq: i64) -> String {
    format!("{prefix}-{year:04}-{seq:04}")
}

/// Checks a tracking-id prefix: upper-case letters, digits and `-`, 2 to 20 characters.
pub fn check_prefix(prefix: &str) -> Result<String, DomainError> {
    let ok = (2..=20).contains(&prefix.len())
        && prefix
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        && !prefix.starts_with('-')
        && !prefix.ends_with('-');
    if ok {
        Ok(prefix.to_owned())
    } else {
        Err(DomainError::invalid(
            "tracking_prefix",
            format!("\"{prefix}\" must be 2-20 upper-case letters, digits or inner hyphens"),
        ))
    }
}

impl Advisory {
    /// A new draft. `text` is the first language's narrative; the other starts empty
    /// (missing) unless given.
    pub fn draft(
        tracking_id: String,
        lang: Locale,
        text: Text,
        author: UserId,
        now: Timestamp,
    ) -> Result<(Self, Change), DomainError> {
        let text = text.checked()?;
        if text.is_empty() {
            return Err(DomainError::invalid("title", "must not be empty"));
        }
        let mut content = Content::default();
        *content.text.get_mut(lang) = text;
        let advisory = Self::with_content(tracking_id, None, content, Some(lang), author, now);
        let change = Change::new(
            "advisory.created",
            subject(advisory.id),
            serde_json::Value::Null,
            json!({ "tracking_id": advisory.tracking_id, "title": advisory.title(lang) }),
        );
        Ok((advisory, change))
    }

    /// A draft from a case: its vulnerabilities with scores, product statuses and
    /// remediations, and the reporter's credit choice as the acknowledgment. The case's text
    /// goes into the language of the report only; the other language stays empty (missing)
    /// until someone writes it, so that nothing untranslated passes for a translation.
    pub fn from_case(
        tracking_id: String,
        case: &Case,
        author: UserId,
        now: Timestamp,
    ) -> (Self, Change) {
        let lang = case.report.language;
        let in_lang = |t: String| {
            let mut l = Localized::<String>::default();
            *l.get_mut(lang) = t;
            l
        };
        let title = case.title.clone();
        let summary = case
            .vulnerabilities
            .iter()
            .map(|v| v.title.clone())
            .collect::<Vec<_>>()
            .join("\n");
        let text = Text {
            title,
            summary: if summary.is_empty() {
                case.title.clone()
            } else {
                summary
            },
            description: case.report.description.clone(),
            impact: case.report.impact.clone(),
            faqs: Vec::new(),
        };
        let vulnerabilities = case
            .vulnerabilities
            .iter()
            .map(|v| Vulnerability {
                id: v.id,
                title: v.title.clone(),
                cve: v.cve.clone(),
                cwe: v.cwe.clone(),
                scores: [&v.cvss_v3, &v.cvss_v4]
                    .into_iter()
                    .flatten()
                    .map(|vector| Score {
                        vector: vector.clone(),
                        branch_ids: Vec::new(),
                    })
                    .collect(),
                exploited: v.exploitation.exploited_since.is_some(),
                publicly_disclosed: v.exploitation.publicly_disclosed,
                product_statuses: v.product_statuses.clone(),
                remediations: v
                    .remediations
                    .iter()
                    .map(|r| Remediation {
                        category: r.category,
                        details: in_lang(r.details.clone()),
                        fixed_version: None,
                        kb: None,
                        url: r.url.clone(),
                        branch_ids: r.branch_ids.clone(),
                    })
                    .collect(),
            })
            .collect();
        let acknowledgments = match &case.report.credit {
            Credit::Named { name, organisation } => vec![Acknowledgment {
                names: vec![name.clone()],
                organization: organisation.clone(),
            }],
            Credit::Anonymous => vec![Acknowledgment {
                names: vec!["an anonymous researcher".to_owned()],
                organization: None,
            }],
            Credit::None => Vec::new(),
        };
        let severity = case
            .vulnerabilities
            .iter()
            .filter_map(|v| v.vendor_severity.clone())
            .next();
        let mut texts = Localized::<Text>::default();
        *texts.get_mut(lang) = text;
        let content = Content {
            text: texts,
            tlp: Tlp::Clear,
            severity,
            vulnerabilities,
            references: Vec::new(),
            acknowledgments,
        };
        let advisory =
            Self::with_content(tracking_id, Some(case.id), content, Some(lang), author, now);
        let change = Change::new(
            "advisory.created",
            subject(advisory.id),
            serde_json::Value::Null,
            json!({
                "tracking_id": advisory.tracking_id,
                "case": case.id,
                "title": case.title,
            }),
        );
        (advisory, change)
    }

    fn with_content(
        tracking_id: String,
        case_id: Option<CaseId>,
        content: Content,
        lang: Option<Locale>,
        author: UserId,
        now: Timestamp,
    ) -> Self {
        Self {
            id: AdvisoryId::new(),
            tracking_id,
            case_id,
            state: AdvisoryState::Draft,
            edits: vec![Edit {
                number: 1,
                editor: author,
                at: now,
                lang,
                note: "created".to_owned(),
                content: content.clone(),
            }],
            content,
            outdated: Vec::new(),
            authors: BTreeSet::from([author]),
            reviews: Vec::new(),
            release: None,
            revision_summary: None,
            versions: Vec::new(),
            created_at: now,
            updated_at: now,
            revision: 0,
        }
    }

    pub fn subject(&self) -> String {
        subject(self.id)
    }

    /// The title in `lang`, or in the other language when `lang` has none yet.
    pub fn title(&self, lang: Locale) -> &str {
        let t = &self.content.text.get(lang).title;
        if t.is_empty() {
            let other = other(lang);
            &self.content.text.get(other).title
        } else {
            t
        }
    }

    /// The number of the latest edit.
    pub fn current_edit(&self) -> u32 {
        self.edits.last().map_or(0, |e| e.number)
    }

    /// The latest published version, if any: all the public may see.
    pub fn latest_version(&self) -> Option<&PublishedVersion> {
        self.versions.last()
    }

    fn ensure_editable(&self) -> Result<(), DomainError> {
        if self.state == AdvisoryState::Published {
            return Err(DomainError::invalid(
                "state",
                "the advisory is published; start a revision to change it",
            ));
        }
        Ok(())
    }

    /// Records an edit: the content after it becomes the current draft. An edit of a
    /// scheduled advisory takes it back to draft (its approval no longer holds) but keeps the
    /// release it is planned for.
    fn record(
        &mut self,
        content: Content,
        lang: Option<(Locale, TextEdit)>,
        editor: UserId,
        note: &str,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        self.ensure_editable()?;
        if content == self.content {
            return Err(DomainError::invalid("content", "nothing changed"));
        }
        let before = self.current_edit();
        if let Some((lang, edit)) = lang
            && content.text.get(lang) != self.content.text.get(lang)
        {
            // The language written is current; the other one is outdated unless this was
            // a translation of it (nothing new to carry back).
            self.outdated.retain(|l| *l != lang);
            let other = other(lang);
            if edit == TextEdit::Change
                && !content.text.get(other).is_empty()
                && !self.outdated.contains(&other)
            {
                self.outdated.push(other);
            }
        }
        let number = before + 1;
        self.edits.push(Edit {
            number,
            editor,
            at: now,
            lang: lang.map(|(l, _)| l),
            note: note.to_owned(),
            content: content.clone(),
        });
        self.content = content;
        self.authors.insert(editor);
        let unscheduled = self.state == AdvisoryState::Scheduled;
        self.state = AdvisoryState::Draft;
        self.updated_at = now;
        Ok(Change::new(
            "advisory.edited",
            self.subject(),
            json!({ "edit": before }),
            json!({ "edit": number, "lang": lang.map(|(l, _)| l), "note": note, "unscheduled": unscheduled }),
        ))
    }

    /// Records an edit that changes one vulnerability of the content.
    fn edit_vulnerability(
        &mut self,
        vulnerability: VulnerabilityId,
        editor: UserId,
        note: &str,
        now: Timestamp,
        change: impl FnOnce(&mut Vulnerability) -> Result<(), DomainError>,
    ) -> Result<Change, DomainError> {
        let mut content = self.content.clone();
        change(content.vulnerability_mut(vulnerability)?)?;
        self.record(content, None, editor, note, now)
    }

    /// Replaces one language's narrative and the remediation details in that language
    /// (`remediation_details[i]` for the i-th remediation across vulnerabilities, in order;
    /// fewer entries leave the rest unchanged).
    pub fn edit_text(
        &mut self,
        lang: Locale,
        text: Text,
        remediation_details: &[String],
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        self.write_text(
            lang,
            TextEdit::Change,
            text,
            remediation_details,
            editor,
            now,
        )
    }

    /// Writes `lang` as a translation of the other language: `lang` becomes current and the
    /// other keeps its state, since the translation brings nothing new to it. An edit that
    /// adds or changes a fact is an [`Self::edit_text`], which outdates the other language.
    pub fn translate(
        &mut self,
        lang: Locale,
        text: Text,
        remediation_details: &[String],
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        self.write_text(
            lang,
            TextEdit::Translation,
            text,
            remediation_details,
            editor,
            now,
        )
    }

    fn write_text(
        &mut self,
        lang: Locale,
        edit: TextEdit,
        text: Text,
        remediation_details: &[String],
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let text = text.checked()?;
        if text.is_empty() && !self.content.text.get(other(lang)).is_empty() {
            // Emptying a language is allowed only while the other one is empty too.
        } else if text.is_empty() {
            return Err(DomainError::invalid("title", "must not be empty"));
        }
        let mut content = self.content.clone();
        *content.text.get_mut(lang) = text;
        let mut i = 0;
        for v in &mut content.vulnerabilities {
            for r in &mut v.remediations {
                if let Some(d) = remediation_details.get(i) {
                    let d = long_text("remediation_details", d, 20_000)?;
                    if d.is_empty() {
                        return Err(DomainError::invalid(
                            "remediation_details",
                            "must not be empty",
                        ));
                    }
                    *r.details.get_mut(lang) = d;
                }
                i += 1;
            }
        }
        self.record(content, Some((lang, edit)), editor, "text", now)
    }

    /// Marks `lang` as current without changing it (the translator checked it).
    pub fn confirm_translation(
        &mut self,
        lang: Locale,
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        if !self.outdated.contains(&lang) {
            return Err(DomainError::invalid("lang", "is not marked outdated"));
        }
        self.outdated.retain(|l| *l != lang);
        self.authors.insert(editor);
        self.updated_at = now;
        Ok(Change::new(
            "advisory.translation_confirmed",
            self.subject(),
            json!({ "outdated": lang }),
            json!({ "outdated": null }),
        ))
    }

    /// Sets TLP, severity, references and acknowledgments.
    pub fn edit_facts(
        &mut self,
        input: &FactsInput,
        scale: &SeverityScale,
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let mut content = self.content.clone();
        content.apply_facts(input, scale)?;
        self.record(content, None, editor, "facts", now)
    }

    /// Sets the status of one product version for a vulnerability.
    pub fn set_product_status(
        &mut self,
        vulnerability: VulnerabilityId,
        status: ProductStatus,
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        self.edit_vulnerability(vulnerability, editor, "product status", now, |v| {
            v.product_statuses
                .retain(|s| s.branch_id != status.branch_id);
            v.product_statuses.push(status);
            Ok(())
        })
    }

    /// Removes a product version from a vulnerability's statuses.
    pub fn remove_product_status(
        &mut self,
        vulnerability: VulnerabilityId,
        branch: BranchId,
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        self.edit_vulnerability(vulnerability, editor, "product status removed", now, |v| {
            v.product_statuses.retain(|s| s.branch_id != branch);
            Ok(())
        })
    }

    /// Adds a remediation; its details are written in `lang` and copied to the other
    /// language, which is then outdated until translated.
    pub fn add_remediation(
        &mut self,
        vulnerability: VulnerabilityId,
        input: &RemediationInput,
        lang: Locale,
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let r = Remediation::from_input(input)?;
        let change =
            self.edit_vulnerability(vulnerability, editor, "remediation added", now, |v| {
                check_products(v, &r.branch_ids, "branch_ids")?;
                v.remediations.push(r);
                Ok(())
            })?;
        let other = other(lang);
        if !self.content.text.get(other).is_empty() && !self.outdated.contains(&other) {
            self.outdated.push(other);
        }
        Ok(change)
    }

    pub fn remove_remediation(
        &mut self,
        vulnerability: VulnerabilityId,
        index: usize,
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        self.edit_vulnerability(vulnerability, editor, "remediation removed", now, |v| {
            remove_at(&mut v.remediations, index, "remediation")
        })
    }

    /// Sets a CVSS vector for some products (empty: every affected product without its
    /// own score of that CVSS version). A vector with the same products replaces the old one.
    pub fn set_score(
        &mut self,
        vulnerability: VulnerabilityId,
        vector: CvssVector,
        branch_ids: Vec<BranchId>,
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        self.edit_vulnerability(vulnerability, editor, "score", now, |v| {
            check_products(v, &branch_ids, "branch_ids")?;
            let version = vector.cvss().version();
            let mut ids = branch_ids.clone();
            ids.sort();
            v.scores.retain(|s| {
                let mut other = s.branch_ids.clone();
                other.sort();
                !(s.vector.cvss().version() == version && other == ids)
            });
            // One score per CVSS version and product (CSAF 6.1.7).
            for b in &branch_ids {
                if v.scores
                    .iter()
                    .any(|s| s.vector.cvss().version() == version && s.branch_ids.contains(b))
                {
                    return Err(DomainError::invalid(
                        "branch_ids",
                        format!("{b} already has a score of this CVSS version"),
                    ));
                }
            }
            v.scores.push(Score { vector, branch_ids });
            Ok(())
        })
    }

    pub fn remove_score(
        &mut self,
        vulnerability: VulnerabilityId,
        index: usize,
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        self.edit_vulnerability(vulnerability, editor, "score removed", now, |v| {
            remove_at(&mut v.scores, index, "score")
        })
    }

    /// Replaces the vulnerabilities with the case's current ones (after triage changed).
    pub fn refresh_from_case(
        &mut self,
        case: &Case,
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let (fresh, _) = Self::from_case(self.tracking_id.clone(), case, editor, now);
        let mut content = self.content.clone();
        content.vulnerabilities = fresh.content.vulnerabilities;
        self.record(content, None, editor, "vulnerabilities from the case", now)
    }

    /// A reviewer's comment, approval or request for changes on the current edit. Authors of
    /// the draft cannot approve it.
    pub fn review(
        &mut self,
        reviewer: UserId,
        verdict: Verdict,
        text: &str,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        self.ensure_editable()?;
        let text = long_text("text", text, 20_000)?;
        if verdict != Verdict::Approve && text.is_empty() {
            return Err(DomainError::invalid("text", "must not be empty"));
        }
        if verdict == Verdict::Approve && self.authors.contains(&reviewer) {
            return Err(DomainError::invalid(
                "verdict",
                "an author of this draft cannot approve it; someone else must review it",
            ));
        }
        let edit = self.current_edit();
        self.reviews.push(Review {
            reviewer,
            at: now,
            edit,
            verdict,
            text: text.clone(),
        });
        self.updated_at = now;
        Ok(Change::new(
            "advisory.reviewed",
            self.subject(),
            serde_json::Value::Null,
            json!({ "edit": edit, "verdict": verdict, "text": text }),
        ))
    }

    /// The review state of the current edit: the last approval or request for changes given
    /// on it decides.
    pub fn review_state(&self) -> ReviewState {
        let edit = self.current_edit();
        let last = self
            .reviews
            .iter()
            .rev()
            .find(|r| r.edit == edit && r.verdict != Verdict::Comment);
        match last {
            Some(r) if r.verdict == Verdict::Approve && !self.authors.contains(&r.reviewer) => {
                ReviewState::Approved
            }
            Some(r) if r.verdict == Verdict::RequestChanges => ReviewState::ChangesRequested,
            _ => ReviewState::NotReviewed,
        }
    }

    pub fn translation_state(&self, lang: Locale) -> TranslationState {
        if self.content.text.get(lang).is_empty() {
            TranslationState::Missing
        } else if self.outdated.contains(&lang) {
            TranslationState::Outdated
        } else {
            TranslationState::Current
        }
    }

    /// The readiness of the advisory, given what would stop its publication (`blocker`,
    /// from running publication's checks; see `keikai_app::publishing::blocker`).
    pub fn readiness(&self, blocker: Option<String>) -> Readiness {
        let review = self.review_state();
        let en = self.translation_state(Locale::En);
        let ja = self.translation_state(Locale::Ja);
        let fixed = self
            .content
            .vulnerabilities
            .iter()
            .all(Vulnerability::is_fixed);
        Readiness {
            review,
            en,
            ja,
            fixed,
            ready: self.state == AdvisoryState::Scheduled
                && review == ReviewState::Approved
                && blocker.is_none(),
            blocker,
        }
    }

    /// Checks what publication needs beyond the document itself: an approval of the current
    /// draft, then [`Self::check_content`].
    fn check_publishable(&self) -> Result<(), DomainError> {
        if self.review_state() != ReviewState::Approved {
            return Err(DomainError::invalid(
                "review",
                "the current draft is not approved by a reviewer who is not its author",
            ));
        }
        self.check_content()
    }

    /// The first of `required` that is not written, or not current with the other language:
    /// an advisory is published only when every required language says the same.
    pub fn check_languages(&self, required: &[Locale]) -> Result<(), DomainError> {
        for &lang in required {
            let problem = match self.translation_state(lang) {
                TranslationState::Current => continue,
                TranslationState::Missing => "is not written yet",
                TranslationState::Outdated => {
                    "is outdated: the other language changed since (update it, or confirm it)"
                }
            };
            let (field, name) = match lang {
                Locale::En => ("en", "English"),
                Locale::Ja => ("ja", "Japanese"),
            };
            return Err(DomainError::invalid(
                field,
                format!("the {name} text {problem}"),
            ));
        }
        Ok(())
    }

    /// What the content needs to be published beyond a valid document: the English text, a
    /// vulnerability, and a summary of what changed for a new version.
    pub fn check_content(&self) -> Result<(), DomainError> {
        if self.content.text.en.is_empty() {
            return Err(DomainError::invalid(
                "en.title",
                "the English text is needed (the CSAF document is written in English)",
            ));
        }
        if self.content.vulnerabilities.is_empty() {
            return Err(DomainError::invalid(
                "vulnerabilities",
                "an advisory needs at least one vulnerability",
            ));
        }
        if !self.versions.is_empty() && self.revision_summary.is_none() {
            return Err(DomainError::invalid(
                "revision_summary",
                "a new version needs a summary of what changed",
            ));
        }
        Ok(())
    }

    /// Plans the approved draft for a release.
    pub fn schedule(&mut self, release: ReleaseId, now: Timestamp) -> Result<Change, DomainError> {
        self.ensure_editable()?;
        self.check_publishable()?;
        Ok(self.plan(
            "advisory.scheduled",
            AdvisoryState::Scheduled,
            Some(release),
            now,
        ))
    }

    /// Takes the advisory out of its release.
    pub fn unschedule(&mut self, now: Timestamp) -> Result<Change, DomainError> {
        if self.release.is_none() {
            return Err(DomainError::invalid(
                "release",
                "is not planned for a release",
            ));
        }
        self.ensure_editable()?;
        Ok(self.plan("advisory.unscheduled", AdvisoryState::Draft, None, now))
    }

    /// Sets the state and the release it is planned for, with the audit change `action`.
    fn plan(
        &mut self,
        action: &'static str,
        state: AdvisoryState,
        release: Option<ReleaseId>,
        now: Timestamp,
    ) -> Change {
        let before = json!({ "state": self.state, "release": self.release });
        self.state = state;
        self.release = release;
        self.updated_at = now;
        Change::new(
            action,
            self.subject(),
            before,
            json!({ "state": self.state, "release": self.release }),
        )
    }

    /// The version that publishing with `release` at `at` would add: the next number, the
    /// revision summary (or "Initial release."), the current content. Partners receive it
    /// before it is published.
    pub fn upcoming_version(&self, release: ReleaseId, at: Timestamp) -> PublishedVersion {
        PublishedVersion {
            number: u32::try_from(self.versions.len() + 1).unwrap_or(u32::MAX),
            at,
            summary: self
                .revision_summary
                .clone()
                .unwrap_or_else(|| "Initial release.".to_owned()),
            release,
            content: self.content.clone(),
        }
    }

    /// Publishes the next version as part of `release`. Only a scheduled advisory of that
    /// release, still approved, is published.
    pub fn publish(&mut self, release: ReleaseId, now: Timestamp) -> Result<Change, DomainError> {
        if self.state != AdvisoryState::Scheduled || self.release != Some(release) {
            return Err(DomainError::invalid(
                "state",
                "only an advisory scheduled for this release is published with it",
            ));
        }
        self.check_publishable()?;
        let version = self.upcoming_version(release, now);
        let (number, summary) = (version.number, version.summary.clone());
        self.versions.push(version);
        self.revision_summary = None;
        self.state = AdvisoryState::Published;
        self.release = None;
        self.authors.clear();
        self.updated_at = now;
        Ok(Change::new(
            "advisory.published",
            self.subject(),
            json!({ "version": number - 1 }),
            json!({ "version": number, "release": release, "summary": summary }),
        ))
    }

    /// Opens a published advisory for its next version. `summary` goes into the revision
    /// history when that version is published.
    pub fn start_revision(
        &mut self,
        summary: &str,
        editor: UserId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        if self.state != AdvisoryState::Published {
            return Err(DomainError::invalid(
                "state",
                "only a published advisory can be revised",
            ));
        }
        let summary = text_field("revision_summary", summary, 500)?;
        self.state = AdvisoryState::Draft;
        self.revision_summary = Some(summary.clone());
        self.authors.insert(editor);
        self.updated_at = now;
        Ok(Change::new(
            "advisory.revision_started",
            self.subject(),
            json!({ "state": AdvisoryState::Published }),
            json!({ "state": self.state, "summary": summary }),
        ))
    }

    /// The line diff between an edit and the one before it.
    pub fn diff_of_edit(&self, number: u32) -> Option<Vec<FieldDiff>> {
        let i = self.edits.iter().position(|e| e.number == number)?;
        let after = &self.edits[i].content;
        let before = i
            .checked_sub(1)
            .map(|p| self.edits[p].content.clone())
            .unwrap_or_default();
        Some(diff(&before, after))
    }

    /// Text the list search matches, folded like case search.
    pub fn search_text(&self) -> String {
        let mut s = self.tracking_id.clone();
        for (_, v) in self.content.outline() {
            s.push('\n');
            s.push_str(&v);
        }
        crate::case::normalize_search(&s)
    }
}

/// Removes the item at `index`; an index past the end is "no such `what`".
fn remove_at<T>(list: &mut Vec<T>, index: usize, what: &'static str) -> Result<(), DomainError> {
    if index >= list.len() {
        return Err(DomainError::invalid(what, format!("no such {what}")));
    }
    list.remove(index);
    Ok(())
}

fn other(lang: Locale) -> Locale {
    match lang {
        Locale::En => Locale::Ja,
        Locale::Ja => Locale::En,
    }
}

/// Remediations and scores may only name products the vulnerability has a status for.
fn check_products(
    v: &Vulnerability,
    ids: &[BranchId],
    field: &'static str,
) -> Result<(), DomainError> {
    for id in ids {
        if !v.product_statuses.iter().any(|s| s.branch_id == *id) {
            return Err(DomainError::invalid(
                field,
                format!("product {id} has no status in this vulnerability"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
