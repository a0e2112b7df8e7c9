//! Editions: what one audience's message about a distribution event looks like (issue 7).
//!
//! An [`Edition`] names the sections its audience gets, a supplement of its own (e.g. guidance
//! for our engineers), whether the message asks for an acknowledgement, and, optionally, its
//! own templates. Templates are MiniJinja (Jinja2) text that administrators edit at run time;
//! without them, or where one of them is left empty, the built-in ones under
//! `templates/distribution/` apply. [`EventView`] describes one event (a publication, a
//! revision, a release summary, an early warning, a digest) and [`render`] turns it into the
//! subject, text and HTML of one recipient's message in one language.
//!
//! # What a template sees
//!
//! Everything is already in the message's language (an advisory without text in it falls back
//! to the other language) and times are already formatted in the recipient's time zone.
//!
//! - `lang`: `"en"` or `"ja"`.
//! - `sections`: the edition's sections, e.g. `{% if "faq" in sections %}` (also
//!   `edition.sections`).
//! - `supplement`: the edition's extra text in this language, `""` when none.
//! - `edition`: `name`, `title`, `sections`, `ack_requested`.
//! - `recipient`: `name`, `time_zone`, `unsubscribe_url`, `ack_url` (none unless the edition
//!   asks for an acknowledgement), `preferences_url`.
//! - `event`: `kind` (`publication`, `revision`, `release_summary`, `early_warning`, `digest`),
//!   `key`, `title`, `tlp` (`clear`, `green`, `amber`, `amber_strict`, `red`), `tlp_label`
//!   (`TLP:AMBER`), `exploited`, `max_score`, `severity`, `url`, `published_at`, `period`
//!   (`label`, `from`, `to`; digests only), `body` (early warnings), `advisories`.
//! - each of `event.advisories`: `tracking_id`, `version`, `lang`, `title`, `url`, `tlp`,
//!   `tlp_label`, `cves`, `max_score`, `severity`, `exploited`, `published_at`, `products`,
//!   `summary`, `remediations`, `workarounds`, `faqs`, `acknowledgments`, `revisions`,
//!   `references`.
//! - each of `remediations` (categories `vendor_fix`, `none_available`, `no_fix_planned`) and
//!   `workarounds` (`workaround`, `mitigation`): `category`, `details`, `fixed_version`, `kb`,
//!   `url`, `products`.
//! - `faqs`: `question`, `answer`; `acknowledgments`: `names`, `organization`; `revisions`:
//!   `number`, `date`, `summary`; `references`: `url`, `summary`.
//!
//! Absent values are `none`, never missing, so `{% if event.url %}` works.
//!
//! # Rules
//!
//! - A name that does not exist is an error, not an empty string, so [`Edition::check`]
//!   catches typos by rendering every template against sample events.
//! - HTML templates escape every value (advisory text may contain markup); the `safe` filter is
//!   not available. Text and subject templates do not escape.
//! - Block tags on a line of their own leave no blank line (`trim_blocks`, `lstrip_blocks`);
//!   a block tag at the end of a line also takes that line's break: write `+%}` to keep it.
//! - A subject is one line: [`render`] folds line breaks into spaces, [`Edition::check`]
//!   refuses a template that produces them.
//! - Each template stands alone (no `include`, `extends`, `import` or macros); one render may do
//!   a bounded amount of work (fuel) and write at most 1 MB.

use std::collections::BTreeSet;
use std::fmt;
use std::io;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use crate::advisory::publication::ProductNames;
use crate::advisory::{
    Acknowledgment, Advisory, Faq, Localized, PublishedVersion, Reference, Tlp, Vulnerability,
};
use crate::case::{RemediationCategory, long_text};
use crate::org::text_field;
use crate::release::{Release, display_in};
use crate::subscription::EventFacts;
use crate::{BranchId, DomainError, Locale};

/// The most one template may write, in bytes.
const MAX_OUTPUT_BYTES: usize = 1024 * 1024;
/// The longest template source an administrator may save, in bytes.
const MAX_TEMPLATE_BYTES: usize = 100_000;
/// The work one template render may do: about one unit per instruction or per 64 bytes of
/// data, so it also bounds memory (about 32 MB). The built-in HTML of a 100-advisory digest
/// needs under 100 000.
const FUEL: u64 = 500_000;
/// The longest subject, in characters.
const MAX_SUBJECT_CHARS: usize = 500;

crate::names! {
    /// A part of an advisory an audience may or may not get.
    pub enum Section("sections", "a section") {
        Summary = "summary",
        /// The vendor's severity and the highest CVSS base score.
        Severity = "severity",
        AffectedProducts = "affected_products",
        /// Vendor fixes, and the statements that none is available or planned.
        Remediations = "remediations",
        /// Workarounds and mitigations.
        Workarounds = "workarounds",
        Faq = "faq",
        Acknowledgments = "acknowledgments",
        RevisionHistory = "revision_history",
        References = "references",
    }
}

/// The templates of an edition, per language. An empty one means the built-in one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Templates {
    pub subject: Localized<String>,
    pub text: Localized<String>,
    pub html: Localized<String>,
}

/// What one audience's message looks like. Lists name it by `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Edition {
    /// A slug of `a-z`, `0-9` and `-`, 1 to 40 characters: the key lists refer to.
    pub name: String,
    pub title: String,
    pub sections: BTreeSet<Section>,
    /// Extra text for this audience (e.g. guidance for our own engineers); may be empty.
    #[serde(default)]
    pub supplement: Localized<String>,
    /// The message carries an acknowledgement link.
    #[serde(default)]
    pub ack_requested: bool,
    /// `None`: the built-in templates.
    #[serde(default)]
    pub templates: Option<Templates>,
}

fn edition_name(name: &str) -> Result<String, DomainError> {
    let ok = (1..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(DomainError::invalid(
            "name",
            format!("\"{name}\" must be 1-40 lower-case letters, digits or hyphens"),
        ))
    }
}

impl Edition {
    /// A new edition with every section, no supplement, no acknowledgement and the built-in
    /// templates.
    pub fn new(name: &str, title: &str) -> Result<Self, DomainError> {
        Ok(Self {
            name: edition_name(name.trim())?,
            title: text_field("title", title, 200)?,
            sections: Section::ALL.into_iter().collect(),
            supplement: Localized::default(),
            ack_requested: false,
            templates: None,
        })
    }

    /// Checks the fields and every template: each must compile and render the sample events
    /// (every kind, both languages, with and without the optional links). The error names the
    /// template (e.g. `templates.html.ja`), the line and MiniJinja's message.
    pub fn check(&self) -> Result<(), DomainError> {
        edition_name(&self.name)?;
        text_field("title", &self.title, 200)?;
        for lang in Locale::ALL {
            long_text(supplement_field(lang), self.supplement.get(lang), 20_000)?;
        }
        if let Some(t) = &self.templates {
            for slot in Slot::ALL {
                for lang in Locale::ALL {
                    let source = slot.source(t, lang);
                    if source.len() > MAX_TEMPLATE_BYTES {
                        return Err(DomainError::invalid(
                            slot.field(lang),
                            format!(
                                "is {} bytes long (at most {MAX_TEMPLATE_BYTES})",
                                source.len()
                            ),
                        ));
                    }
                }
            }
        }
        let env = compiled(self)?;
        for (label, event) in samples() {
            for recipient in sample_recipients() {
                for lang in Locale::ALL {
                    render_with(&env, self, &event, &recipient, lang, Some(label))?;
                }
            }
        }
        Ok(())
    }

    /// The templates used where an edition has none of its own, e.g. to start editing from.
    pub fn built_in_templates() -> Templates {
        let of = |slot: Slot| Localized {
            en: built_in(slot, Locale::En).to_owned(),
            ja: built_in(slot, Locale::Ja).to_owned(),
        };
        Templates {
            subject: of(Slot::Subject),
            text: of(Slot::Text),
            html: of(Slot::Html),
        }
    }
}

const fn supplement_field(lang: Locale) -> &'static str {
    match lang {
        Locale::En => "supplement.en",
        Locale::Ja => "supplement.ja",
    }
}

/// One message, ready for the mailer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The person a message is for, as the templates see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientView {
    pub name: String,
    /// An IANA zone: every time in the message is shown in it.
    pub time_zone: String,
    pub unsubscribe_url: String,
    /// Shown only when the edition asks for an acknowledgement.
    pub ack_url: Option<String>,
    pub preferences_url: Option<String>,
}

crate::names! {
    /// What happened.
    pub enum EventKind("kind", "an event kind") {
        /// The first version of an advisory.
        Publication = "publication",
        /// A later version of an advisory.
        Revision = "revision",
        /// The advisories of a release, together.
        ReleaseSummary = "release_summary",
        /// The PSIRT's own warning ahead of an advisory (e.g. exploitation in the wild).
        EarlyWarning = "early_warning",
        /// The advisories of a day or a week.
        Digest = "digest",
    }
}

crate::names! {
    /// How often a digest goes out.
    pub enum DigestPeriod("period", "a digest period") {
        Daily = "daily",
        Weekly = "weekly",
    }
}

/// The time a digest covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub label: DigestPeriod,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// A remediation as a message shows it: text and product names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationItem {
    pub category: RemediationCategory,
    pub details: Localized<String>,
    pub fixed_version: Option<String>,
    pub kb: Option<String>,
    pub url: Option<String>,
    pub products: Vec<String>,
}

/// One entry of an advisory's revision history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub number: u32,
    pub at: Timestamp,
    pub summary: String,
}

/// One published advisory version as a message shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisoryItem {
    pub tracking_id: String,
    pub version: u32,
    pub title: Localized<String>,
    /// The public page; `None` for an advisory the public site does not show (TLP not CLEAR).
    pub url: Option<String>,
    pub tlp: Tlp,
    pub cves: Vec<String>,
    /// The highest CVSS base score of its vulnerabilities.
    pub max_score: Option<f64>,
    pub severity: Option<String>,
    pub exploited: bool,
    pub published_at: Timestamp,
    /// Names of the affected product versions.
    pub products: Vec<String>,
    /// The affected product versions (leaves), for filters.
    pub affected: Vec<BranchId>,
    pub summary: Localized<String>,
    /// Vendor fixes, and statements that none is available or planned.
    pub remediations: Vec<RemediationItem>,
    /// Workarounds and mitigations.
    pub workarounds: Vec<RemediationItem>,
    pub faqs: Localized<Vec<Faq>>,
    pub acknowledgments: Vec<Acknowledgment>,
    /// Every version up to this one, oldest first.
    pub revisions: Vec<Revision>,
    pub references: Vec<Reference>,
}

/// "Example Corp Router X 2.0", or the id of a branch the catalogue cannot name (the message
/// still goes out; the id tells the PSIRT what to fix).
fn product_label(names: &ProductNames, id: BranchId) -> String {
    names.get(id).map_or_else(
        |_| id.to_string(),
        |p| format!("{} {} {}", p.vendor, p.product, p.version),
    )
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn base_score(v: &Vulnerability) -> Option<f64> {
    v.scores
        .iter()
        .map(|s| s.vector.cvss().scores().base)
        .reduce(f64::max)
}

impl AdvisoryItem {
    /// The item of one published version. `base_url` is the public site (a trailing `/` is
    /// ignored; empty: no links).
    pub fn new(
        advisory: &Advisory,
        version: &PublishedVersion,
        names: &ProductNames,
        base_url: &str,
    ) -> Self {
        let content = &version.content;
        let base = base_url.trim().trim_end_matches('/');
        let url = (content.tlp.is_public() && !base.is_empty())
            .then(|| format!("{base}/advisories/{}", advisory.tracking_id));
        let mut cves = Vec::new();
        let mut affected = Vec::new();
        let mut remediations: Vec<RemediationItem> = Vec::new();
        let mut workarounds: Vec<RemediationItem> = Vec::new();
        for v in &content.vulnerabilities {
            if let Some(c) = &v.cve {
                push_unique(&mut cves, c.as_str().to_owned());
            }
            let own: Vec<BranchId> = v.affected().collect();
            for b in &own {
                push_unique(&mut affected, *b);
            }
            for r in &v.remediations {
                let ids = if r.branch_ids.is_empty() {
                    &own
                } else {
                    &r.branch_ids
                };
                let target = match r.category {
                    RemediationCategory::Workaround | RemediationCategory::Mitigation => {
                        &mut workarounds
                    }
                    RemediationCategory::VendorFix
                    | RemediationCategory::NoneAvailable
                    | RemediationCategory::NoFixPlanned => &mut remediations,
                };
                // The same remediation for several vulnerabilities is shown once.
                let i = target
                    .iter()
                    .position(|x| {
                        x.category == r.category
                            && x.details == r.details
                            && x.fixed_version == r.fixed_version
                            && x.kb == r.kb
                            && x.url == r.url
                    })
                    .unwrap_or_else(|| {
                        target.push(RemediationItem {
                            category: r.category,
                            details: r.details.clone(),
                            fixed_version: r.fixed_version.clone(),
                            kb: r.kb.clone(),
                            url: r.url.clone(),
                            products: Vec::new(),
                        });
                        target.len() - 1
                    });
                for id in ids {
                    push_unique(&mut target[i].products, product_label(names, *id));
                }
            }
        }
        let mut revisions: Vec<Revision> = advisory
            .versions
            .iter()
            .filter(|v| v.number < version.number)
            .map(|v| Revision {
                number: v.number,
                at: v.at,
                summary: v.summary.clone(),
            })
            .collect();
        revisions.sort_by_key(|r| r.number);
        revisions.push(Revision {
            number: version.number,
            at: version.at,
            summary: version.summary.clone(),
        });
        let mut products = Vec::new();
        for id in &affected {
            push_unique(&mut products, product_label(names, *id));
        }
        Self {
            tracking_id: advisory.tracking_id.clone(),
            version: version.number,
            title: Localized {
                en: content.text.en.title.clone(),
                ja: content.text.ja.title.clone(),
            },
            url,
            tlp: content.tlp,
            cves,
            max_score: content
                .vulnerabilities
                .iter()
                .filter_map(base_score)
                .reduce(f64::max),
            severity: content.severity.clone(),
            exploited: content.vulnerabilities.iter().any(|v| v.exploited),
            published_at: version.at,
            products,
            affected,
            summary: Localized {
                en: content.text.en.summary.clone(),
                ja: content.text.ja.summary.clone(),
            },
            remediations,
            workarounds,
            faqs: Localized {
                en: content.text.en.faqs.clone(),
                ja: content.text.ja.faqs.clone(),
            },
            acknowledgments: content.acknowledgments.clone(),
            revisions,
            references: content.references.clone(),
        }
    }

    /// The languages it has a text in.
    fn languages(&self) -> impl Iterator<Item = Locale> + '_ {
        Locale::ALL
            .into_iter()
            .filter(|l| !self.title.get(*l).trim().is_empty())
    }
}

/// One distribution event: what the templates see (through [`render`]) and what the
/// subscription filters look at (through [`EventView::facts`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub kind: EventKind,
    /// Unique per event, e.g. `advisory:KEIKAI-2026-0001:v2`: the deliveries' idempotency key.
    pub key: String,
    pub title: Localized<String>,
    /// The most restricted label of what it carries.
    pub tlp: Tlp,
    pub exploited: bool,
    pub max_score: Option<f64>,
    pub severity: Option<String>,
    pub url: Option<String>,
    pub published_at: Option<Timestamp>,
    /// The time a digest covers.
    pub period: Option<Period>,
    /// One for a publication or a revision, any number for a summary or a digest.
    pub advisories: Vec<AdvisoryItem>,
    /// The PSIRT's own text of an early warning; empty otherwise.
    pub body: Localized<String>,
    /// The affected product versions (leaves), for filters.
    pub affected: Vec<BranchId>,
    /// The languages it is available in.
    pub languages: BTreeSet<Locale>,
}

/// Position in [`Tlp::ALL`], which runs from the least to the most restricted label.
fn tlp_rank(t: Tlp) -> usize {
    Tlp::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

const fn title_field(lang: Locale) -> &'static str {
    match lang {
        Locale::En => "title.en",
        Locale::Ja => "title.ja",
    }
}

const fn body_field(lang: Locale) -> &'static str {
    match lang {
        Locale::En => "body.en",
        Locale::Ja => "body.ja",
    }
}

impl EventView {
    /// A published version of an advisory: a publication for version 1, a revision after.
    /// Its `url` is `{base_url}/advisories/{tracking_id}` when the public site shows it.
    pub fn publication(
        advisory: &Advisory,
        version: &PublishedVersion,
        names: &ProductNames,
        base_url: &str,
    ) -> Self {
        let item = AdvisoryItem::new(advisory, version, names, base_url);
        Self {
            kind: if version.number > 1 {
                EventKind::Revision
            } else {
                EventKind::Publication
            },
            key: format!("advisory:{}:v{}", advisory.tracking_id, version.number),
            title: item.title.clone(),
            tlp: item.tlp,
            exploited: item.exploited,
            max_score: item.max_score,
            severity: item.severity.clone(),
            url: item.url.clone(),
            published_at: Some(version.at),
            period: None,
            body: Localized::default(),
            affected: item.affected.clone(),
            languages: item.languages().collect(),
            advisories: vec![item],
        }
    }

    /// The advisories a release published, in one message.
    pub fn release_summary(release: &Release, items: Vec<AdvisoryItem>) -> Self {
        Self::of_items(
            EventKind::ReleaseSummary,
            format!("release:{}", release.id()),
            Localized {
                en: release.title().to_owned(),
                ja: release.title().to_owned(),
            },
            Some(release.published_at().unwrap_or(release.scheduled_at())),
            None,
            items,
        )
    }

    /// The advisories published from `from` to `to`.
    pub fn digest(
        period: DigestPeriod,
        from: Timestamp,
        to: Timestamp,
        items: Vec<AdvisoryItem>,
    ) -> Self {
        let title = match period {
            DigestPeriod::Daily => Localized {
                en: "Daily digest of security advisories".to_owned(),
                ja: "セキュリティアドバイザリ 日次まとめ".to_owned(),
            },
            DigestPeriod::Weekly => Localized {
                en: "Weekly digest of security advisories".to_owned(),
                ja: "セキュリティアドバイザリ 週次まとめ".to_owned(),
            },
        };
        Self::of_items(
            EventKind::Digest,
            format!("digest:{}:{from}", period.as_str()),
            title,
            None,
            Some(Period {
                label: period,
                from,
                to,
            }),
            items,
        )
    }

    /// The PSIRT's warning ahead of an advisory, in its own words. A language without a title
    /// is not sent in; at least one needs one.
    pub fn early_warning(
        title: Localized<String>,
        body: Localized<String>,
        tlp: Tlp,
        exploited: bool,
        max_score: Option<f64>,
        affected: Vec<BranchId>,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        let mut checked_title = Localized::<String>::default();
        let mut checked_body = Localized::<String>::default();
        let mut languages = BTreeSet::new();
        for lang in Locale::ALL {
            let b = long_text(body_field(lang), body.get(lang), 20_000)?;
            if title.get(lang).trim().is_empty() {
                if !b.is_empty() {
                    return Err(DomainError::invalid(title_field(lang), "must not be empty"));
                }
                continue;
            }
            *checked_title.get_mut(lang) = text_field(title_field(lang), title.get(lang), 300)?;
            *checked_body.get_mut(lang) = b;
            languages.insert(lang);
        }
        if languages.is_empty() {
            return Err(DomainError::invalid(
                "title",
                "an early warning needs a title in English or Japanese",
            ));
        }
        if let Some(s) = max_score
            && !(0.0..=10.0).contains(&s)
        {
            return Err(DomainError::invalid(
                "max_score",
                format!("{s} is not a CVSS score (0.0 to 10.0)"),
            ));
        }
        let mut leaves = Vec::new();
        for b in affected {
            push_unique(&mut leaves, b);
        }
        Ok(Self {
            kind: EventKind::EarlyWarning,
            key: format!("early-warning:{now}"),
            title: checked_title,
            tlp,
            exploited,
            max_score,
            severity: None,
            url: None,
            published_at: Some(now),
            period: None,
            advisories: Vec::new(),
            body: checked_body,
            affected: leaves,
            languages,
        })
    }

    fn of_items(
        kind: EventKind,
        key: String,
        title: Localized<String>,
        published_at: Option<Timestamp>,
        period: Option<Period>,
        items: Vec<AdvisoryItem>,
    ) -> Self {
        let mut affected = Vec::new();
        for b in items.iter().flat_map(|i| &i.affected) {
            push_unique(&mut affected, *b);
        }
        Self {
            kind,
            key,
            title,
            tlp: items
                .iter()
                .map(|i| i.tlp)
                .max_by_key(|t| tlp_rank(*t))
                .unwrap_or_default(),
            exploited: items.iter().any(|i| i.exploited),
            max_score: items.iter().filter_map(|i| i.max_score).reduce(f64::max),
            // Severity levels of several advisories do not add up to one.
            severity: None,
            url: None,
            published_at,
            period,
            body: Localized::default(),
            affected,
            languages: items.iter().flat_map(AdvisoryItem::languages).collect(),
            advisories: items,
        }
    }

    /// What the subscription filters look at.
    pub fn facts(&self) -> EventFacts {
        EventFacts {
            trigger: self.trigger(),
            affected: self.affected.clone(),
            max_score: self.max_score,
            exploited: self.exploited,
            tlp: self.tlp,
            languages: self.languages.clone(),
        }
    }
}

impl EventView {
    /// What sets this event off, as lists choose it.
    pub fn trigger(&self) -> crate::subscription::Trigger {
        use crate::subscription::Trigger;
        match self.kind {
            EventKind::Publication => Trigger::Publication,
            EventKind::Revision => Trigger::Revision,
            EventKind::ReleaseSummary => Trigger::ReleaseSummary,
            EventKind::EarlyWarning => Trigger::EarlyWarning,
            EventKind::Digest => match self.period.as_ref().map(|p| p.label) {
                Some(DigestPeriod::Weekly) => Trigger::WeeklyDigest,
                _ => Trigger::DailyDigest,
            },
        }
    }

    /// An event to preview editions with: the first version of a sample advisory.
    pub fn sample() -> Self {
        samples()
            .into_iter()
            .map(|(_, e)| e)
            .next()
            .unwrap_or_else(|| {
                Self::of_items(
                    EventKind::Digest,
                    "sample".to_owned(),
                    Localized::default(),
                    None,
                    None,
                    Vec::new(),
                )
            })
    }
}

/// One recipient's message about `event` in `locale`, in `edition`'s templates.
pub fn render(
    edition: &Edition,
    event: &EventView,
    recipient: &RecipientView,
    locale: Locale,
) -> Result<Rendered, DomainError> {
    render_with(&compiled(edition)?, edition, event, recipient, locale, None)
}

/// An edition with its templates compiled once, to render the messages of a fan-out
/// (compiling is most of the work of rendering one message).
pub struct CompiledEdition {
    edition: Edition,
    env: Environment<'static>,
}

impl CompiledEdition {
    pub fn new(edition: Edition) -> Result<Self, DomainError> {
        let env = compiled(&edition)?;
        Ok(Self { edition, env })
    }

    pub fn edition(&self) -> &Edition {
        &self.edition
    }

    /// As [`render`].
    pub fn render(
        &self,
        event: &EventView,
        recipient: &RecipientView,
        locale: Locale,
    ) -> Result<Rendered, DomainError> {
        render_with(&self.env, &self.edition, event, recipient, locale, None)
    }
}

impl fmt::Debug for CompiledEdition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledEdition")
            .field("edition", &self.edition.name)
            .finish_non_exhaustive()
    }
}

/// The environment with the edition's templates (or the built-in ones where it has none)
/// under their field names; a syntax error names the template.
fn compiled(edition: &Edition) -> Result<Environment<'static>, DomainError> {
    let mut env = environment()?;
    for slot in Slot::ALL {
        for lang in Locale::ALL {
            let field = slot.field(lang);
            env.add_template_owned(field, edition.template(slot, lang).to_owned())
                .map_err(|e| template_error(field, &e, None))?;
        }
    }
    Ok(env)
}

impl Edition {
    /// The source of one template: the edition's own, or the built-in one.
    fn template(&self, slot: Slot, lang: Locale) -> &str {
        self.templates
            .as_ref()
            .map(|t| slot.source(t, lang))
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| built_in(slot, lang))
    }
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Subject,
    Text,
    Html,
}

impl Slot {
    const ALL: [Self; 3] = [Self::Subject, Self::Text, Self::Html];

    /// Also the template's name in MiniJinja: HTML escaping is chosen by it.
    const fn field(self, lang: Locale) -> &'static str {
        match (self, lang) {
            (Self::Subject, Locale::En) => "templates.subject.en",
            (Self::Subject, Locale::Ja) => "templates.subject.ja",
            (Self::Text, Locale::En) => "templates.text.en",
            (Self::Text, Locale::Ja) => "templates.text.ja",
            (Self::Html, Locale::En) => "templates.html.en",
            (Self::Html, Locale::Ja) => "templates.html.ja",
        }
    }

    fn source(self, t: &Templates, lang: Locale) -> &str {
        match self {
            Self::Subject => t.subject.get(lang),
            Self::Text => t.text.get(lang),
            Self::Html => t.html.get(lang),
        }
    }
}

const fn built_in(slot: Slot, lang: Locale) -> &'static str {
    match (slot, lang) {
        (Slot::Subject, Locale::En) => {
            include_str!("../templates/distribution/en/subject.txt.j2")
        }
        (Slot::Subject, Locale::Ja) => {
            include_str!("../templates/distribution/ja/subject.txt.j2")
        }
        (Slot::Text, Locale::En) => include_str!("../templates/distribution/en/body.txt.j2"),
        (Slot::Text, Locale::Ja) => include_str!("../templates/distribution/ja/body.txt.j2"),
        (Slot::Html, Locale::En) => include_str!("../templates/distribution/en/body.html.j2"),
        (Slot::Html, Locale::Ja) => include_str!("../templates/distribution/ja/body.html.j2"),
    }
}

fn environment() -> Result<Environment<'static>, DomainError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // Errors then name the undefined variable; it costs only when a render fails.
    env.set_debug(true);
    env.set_auto_escape_callback(|name| {
        if name.starts_with("templates.html.") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .map_err(|e| DomainError::invalid("templates", e.to_string()))?;
    env.set_syntax(syntax);
    // Advisory text must never reach HTML unescaped, whatever an administrator writes.
    env.remove_filter("safe");
    Ok(env)
}

fn template_error(field: &'static str, e: &minijinja::Error, sample: Option<&str>) -> DomainError {
    let mut msg = match e.line() {
        Some(line) => format!("line {line}: {}", e.kind()),
        None => e.kind().to_string(),
    };
    if e.kind() == ErrorKind::OutOfFuel {
        msg.push_str(" (the template does too much work: look for a runaway loop)");
    } else if let Some(d) = e.detail() {
        msg.push_str(": ");
        msg.push_str(d);
    }
    if let Some(s) = sample {
        msg.push_str(&format!(" (with the sample {s} event)"));
    }
    DomainError::invalid(field, msg)
}

/// A writer that refuses to grow past [`MAX_OUTPUT_BYTES`].
#[derive(Default)]
struct Bounded {
    out: Vec<u8>,
    overflow: bool,
}

impl io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.out.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.overflow = true;
            return Err(io::Error::other("output limit reached"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn render_slot(
    env: &Environment<'static>,
    field: &'static str,
    ctx: &Value,
    sample: Option<&str>,
) -> Result<String, DomainError> {
    let template = env
        .get_template(field)
        .map_err(|e| template_error(field, &e, sample))?;
    let mut out = Bounded::default();
    let result = template.render_captured_to(ctx.clone(), &mut out);
    if out.overflow {
        return Err(DomainError::invalid(
            field,
            format!("writes more than {} MB", MAX_OUTPUT_BYTES / (1024 * 1024)),
        ));
    }
    result.map_err(|e| template_error(field, &e, sample))?;
    String::from_utf8(out.out).map_err(|_| DomainError::invalid(field, "wrote invalid UTF-8"))
}

fn render_with(
    env: &Environment<'static>,
    edition: &Edition,
    event: &EventView,
    recipient: &RecipientView,
    lang: Locale,
    sample: Option<&str>,
) -> Result<Rendered, DomainError> {
    let zone = TimeZone::get(recipient.time_zone.trim()).map_err(|_| {
        DomainError::invalid(
            "time_zone",
            format!(
                "\"{}\" is not an IANA time zone (e.g. Asia/Tokyo)",
                recipient.time_zone
            ),
        )
    })?;
    let ctx = Value::from(Serde(context(edition, event, recipient, lang, &zone)));
    let field = Slot::Subject.field(lang);
    let raw = render_slot(env, field, &ctx, sample)?;
    if sample.is_some() && raw.trim().contains(['\n', '\r']) {
        return Err(DomainError::invalid(
            field,
            format!(
                "renders more than one line; a subject is one line (with the sample {} event)",
                sample.unwrap_or_default()
            ),
        ));
    }
    let subject = one_line(&raw);
    if subject.is_empty() {
        return Err(DomainError::invalid(field, "renders an empty subject"));
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("renders a subject longer than {MAX_SUBJECT_CHARS} characters"),
        ));
    }
    let text = render_slot(env, Slot::Text.field(lang), &ctx, sample)?;
    let html = render_slot(env, Slot::Html.field(lang), &ctx, sample)?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

/// Line breaks, tabs and other control characters become single spaces: a subject is one
/// header line.
fn one_line(raw: &str) -> String {
    raw.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

// --- The template context: the event resolved into one language and one time zone. ---

#[derive(Serialize)]
struct Context<'a> {
    lang: &'static str,
    event: EventContext<'a>,
    recipient: RecipientContext<'a>,
    edition: EditionContext<'a>,
    sections: Vec<&'static str>,
    supplement: &'a str,
}

#[derive(Serialize)]
struct RecipientContext<'a> {
    name: &'a str,
    time_zone: &'a str,
    unsubscribe_url: &'a str,
    ack_url: Option<&'a str>,
    preferences_url: Option<&'a str>,
}

#[derive(Serialize)]
struct EditionContext<'a> {
    name: &'a str,
    title: &'a str,
    sections: Vec<&'static str>,
    ack_requested: bool,
}

#[derive(Serialize)]
struct EventContext<'a> {
    kind: &'static str,
    key: &'a str,
    title: &'a str,
    tlp: &'static str,
    tlp_label: &'static str,
    exploited: bool,
    max_score: Option<f64>,
    severity: Option<&'a str>,
    url: Option<&'a str>,
    published_at: Option<String>,
    period: Option<PeriodContext>,
    advisories: Vec<ItemContext<'a>>,
    body: &'a str,
}

#[derive(Serialize)]
struct PeriodContext {
    label: &'static str,
    from: String,
    to: String,
}

#[derive(Serialize)]
struct ItemContext<'a> {
    tracking_id: &'a str,
    version: u32,
    lang: &'static str,
    title: &'a str,
    url: Option<&'a str>,
    tlp: &'static str,
    tlp_label: &'static str,
    cves: &'a [String],
    max_score: Option<f64>,
    severity: Option<&'a str>,
    exploited: bool,
    published_at: String,
    products: &'a [String],
    summary: &'a str,
    remediations: Vec<RemediationContext<'a>>,
    workarounds: Vec<RemediationContext<'a>>,
    faqs: &'a [Faq],
    acknowledgments: &'a [Acknowledgment],
    revisions: Vec<RevisionContext<'a>>,
    references: &'a [Reference],
}

#[derive(Serialize)]
struct RemediationContext<'a> {
    category: &'static str,
    details: &'a str,
    fixed_version: Option<&'a str>,
    kb: Option<&'a str>,
    url: Option<&'a str>,
    products: &'a [String],
}

#[derive(Serialize)]
struct RevisionContext<'a> {
    number: u32,
    date: String,
    summary: &'a str,
}

fn other(lang: Locale) -> Locale {
    match lang {
        Locale::En => Locale::Ja,
        Locale::Ja => Locale::En,
    }
}

/// The text in `lang`, or in the other language while `lang` has none.
fn pick(l: &Localized<String>, lang: Locale) -> &str {
    let own = l.get(lang);
    if own.trim().is_empty() {
        l.get(other(lang))
    } else {
        own
    }
}

fn date_in(ts: Timestamp, zone: &TimeZone) -> String {
    ts.to_zoned(zone.clone()).date().to_string()
}

fn context<'a>(
    edition: &'a Edition,
    event: &'a EventView,
    recipient: &'a RecipientView,
    lang: Locale,
    zone: &TimeZone,
) -> Context<'a> {
    let sections: Vec<&'static str> = edition.sections.iter().map(|s| s.as_str()).collect();
    let remediation = |r: &'a RemediationItem, l: Locale| RemediationContext {
        category: r.category.as_str(),
        details: pick(&r.details, l),
        fixed_version: r.fixed_version.as_deref(),
        kb: r.kb.as_deref(),
        url: r.url.as_deref(),
        products: &r.products,
    };
    let advisories = event
        .advisories
        .iter()
        .map(|a| {
            // An advisory not yet translated is shown whole in its other language, not mixed.
            let l = if a.title.get(lang).trim().is_empty() {
                other(lang)
            } else {
                lang
            };
            ItemContext {
                tracking_id: &a.tracking_id,
                version: a.version,
                lang: l.as_str(),
                title: pick(&a.title, l),
                url: a.url.as_deref(),
                tlp: a.tlp.as_str(),
                tlp_label: a.tlp.label(),
                cves: &a.cves,
                max_score: a.max_score,
                severity: a.severity.as_deref(),
                exploited: a.exploited,
                published_at: display_in(a.published_at, zone),
                products: &a.products,
                summary: pick(&a.summary, l),
                remediations: a.remediations.iter().map(|r| remediation(r, l)).collect(),
                workarounds: a.workarounds.iter().map(|r| remediation(r, l)).collect(),
                faqs: a.faqs.get(l),
                acknowledgments: &a.acknowledgments,
                revisions: a
                    .revisions
                    .iter()
                    .map(|r| RevisionContext {
                        number: r.number,
                        date: date_in(r.at, zone),
                        summary: &r.summary,
                    })
                    .collect(),
                references: &a.references,
            }
        })
        .collect();
    Context {
        lang: lang.as_str(),
        event: EventContext {
            kind: event.kind.as_str(),
            key: &event.key,
            title: pick(&event.title, lang),
            tlp: event.tlp.as_str(),
            tlp_label: event.tlp.label(),
            exploited: event.exploited,
            max_score: event.max_score,
            severity: event.severity.as_deref(),
            url: event.url.as_deref(),
            published_at: event.published_at.map(|t| display_in(t, zone)),
            period: event.period.map(|p| PeriodContext {
                label: p.label.as_str(),
                from: display_in(p.from, zone),
                to: display_in(p.to, zone),
            }),
            advisories,
            body: pick(&event.body, lang),
        },
        recipient: RecipientContext {
            name: &recipient.name,
            time_zone: &recipient.time_zone,
            unsubscribe_url: &recipient.unsubscribe_url,
            ack_url: recipient
                .ack_url
                .as_deref()
                .filter(|_| edition.ack_requested),
            preferences_url: recipient.preferences_url.as_deref(),
        },
        edition: EditionContext {
            name: &edition.name,
            title: &edition.title,
            sections: sections.clone(),
            ack_requested: edition.ack_requested,
        },
        sections,
        supplement: edition.supplement.get(lang).trim(),
    }
}

// --- Sample events: what `Edition::check` renders every template against. ---

fn sample_item(n: u32, version: u32, tlp: Tlp) -> AdvisoryItem {
    let at = Timestamp::constant(1_796_700_000 + i64::from(n) * 86_400, 0);
    let loc = |en: &str, ja: &str| Localized {
        en: en.to_owned(),
        ja: ja.to_owned(),
    };
    let products = vec![
        "Example Corp Router X 1.0".to_owned(),
        "Example Corp Router X 2.0".to_owned(),
    ];
    AdvisoryItem {
        tracking_id: format!("KEIKAI-2026-{n:04}"),
        version,
        title: loc(
            "Authentication bypass in Router X",
            "Router X における認証回避の脆弱性",
        ),
        url: tlp
            .is_public()
            .then(|| format!("https://psirt.example.com/advisories/KEIKAI-2026-{n:04}")),
        tlp,
        cves: vec![format!("CVE-2026-{:05}", 10_000 + n)],
        max_score: Some(9.8),
        severity: Some("Critical".to_owned()),
        exploited: n == 1,
        published_at: at,
        products: products.clone(),
        affected: Vec::new(),
        summary: loc(
            "An attacker on the network can log in without a password.",
            "ネットワーク上の攻撃者がパスワードなしでログインできます。",
        ),
        remediations: vec![RemediationItem {
            category: RemediationCategory::VendorFix,
            details: loc("Update the firmware.", "ファームウェアを更新してください。"),
            fixed_version: Some("2.1".to_owned()),
            kb: Some("KB123".to_owned()),
            url: Some("https://support.example.com/kb/123".to_owned()),
            products: products.clone(),
        }],
        workarounds: vec![RemediationItem {
            category: RemediationCategory::Workaround,
            details: loc(
                "Disable the web interface.",
                "Web 管理画面を無効にしてください。",
            ),
            fixed_version: None,
            kb: None,
            url: None,
            products,
        }],
        faqs: Localized {
            en: vec![Faq {
                question: "Is 2.1 affected?".to_owned(),
                answer: "No.".to_owned(),
            }],
            ja: vec![Faq {
                question: "2.1 は影響を受けますか？".to_owned(),
                answer: "いいえ。".to_owned(),
            }],
        },
        acknowledgments: vec![Acknowledgment {
            names: vec!["Hanako Yamada".to_owned()],
            organization: Some("Example Research".to_owned()),
        }],
        revisions: (1..=version)
            .map(|number| Revision {
                number,
                at,
                summary: if number == 1 {
                    "Initial release.".to_owned()
                } else {
                    "Added a workaround.".to_owned()
                },
            })
            .collect(),
        references: vec![Reference {
            url: "https://www.example.org/research".to_owned(),
            summary: "Researcher's write-up".to_owned(),
        }],
    }
}

fn samples() -> Vec<(&'static str, EventView)> {
    let now = Timestamp::constant(1_797_000_000, 0);
    let one = |version: u32, tlp: Tlp| {
        let item = sample_item(1, version, tlp);
        EventView {
            kind: if version > 1 {
                EventKind::Revision
            } else {
                EventKind::Publication
            },
            key: format!("advisory:{}:v{version}", item.tracking_id),
            title: item.title.clone(),
            tlp,
            exploited: item.exploited,
            max_score: item.max_score,
            severity: item.severity.clone(),
            url: item.url.clone(),
            published_at: Some(item.published_at),
            period: None,
            body: Localized::default(),
            affected: Vec::new(),
            languages: Locale::ALL.into_iter().collect(),
            advisories: vec![item],
        }
    };
    let many = || vec![sample_item(2, 1, Tlp::Clear), sample_item(3, 2, Tlp::Clear)];
    let mut summary = EventView::of_items(
        EventKind::ReleaseSummary,
        "release:sample".to_owned(),
        Localized {
            en: "December 2026 security release".to_owned(),
            ja: "2026年12月 セキュリティリリース".to_owned(),
        },
        Some(now),
        None,
        many(),
    );
    summary.tlp = Tlp::Green;
    let warning = EventView {
        kind: EventKind::EarlyWarning,
        key: "early-warning:sample".to_owned(),
        title: Localized {
            en: "Attacks on Router X".to_owned(),
            ja: "Router X への攻撃について".to_owned(),
        },
        tlp: Tlp::Amber,
        exploited: true,
        max_score: None,
        severity: None,
        url: None,
        published_at: Some(now),
        period: None,
        advisories: Vec::new(),
        body: Localized {
            en: "We see attacks.\nRestrict access to the web interface.".to_owned(),
            ja: "攻撃を確認しています。\nWeb 管理画面へのアクセスを制限してください。".to_owned(),
        },
        affected: Vec::new(),
        languages: Locale::ALL.into_iter().collect(),
    };
    let digest = EventView::digest(
        DigestPeriod::Weekly,
        Timestamp::constant(1_796_400_000, 0),
        now,
        many(),
    );
    vec![
        ("publication", one(1, Tlp::Clear)),
        ("revision", one(2, Tlp::Amber)),
        ("release summary", summary),
        ("early warning", warning),
        ("digest", digest),
    ]
}

fn sample_recipients() -> [RecipientView; 2] {
    [
        RecipientView {
            name: "Taro Suzuki".to_owned(),
            time_zone: "Asia/Tokyo".to_owned(),
            unsubscribe_url: "https://psirt.example.com/unsubscribe/sample".to_owned(),
            ack_url: Some("https://psirt.example.com/ack/sample".to_owned()),
            preferences_url: Some("https://psirt.example.com/preferences/sample".to_owned()),
        },
        RecipientView {
            name: String::new(),
            time_zone: "UTC".to_owned(),
            unsubscribe_url: "https://psirt.example.com/unsubscribe/sample".to_owned(),
            ack_url: None,
            preferences_url: None,
        },
    ]
}

#[cfg(test)]
mod tests;
