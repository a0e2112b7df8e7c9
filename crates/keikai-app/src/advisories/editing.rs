//! Writing an advisory: creating it (from a case or blank), its text per language and the
//! translation state, the facts, and per vulnerability the product statuses, remediations and
//! scores.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use keikai_domain::advisory::{self, Advisory, FactsInput, RemediationInput, Text};
use keikai_domain::audit::Change;
use keikai_domain::case::{CvssVector, ProductStatus};
use keikai_domain::{
    Action, BranchCategory, BranchId, DomainError, Locale, UserId, VulnerabilityId,
};
use keikai_store::StoreError;

use super::{Loaded, for_case};
use crate::cases::{self, CaseNumber};
use crate::{App, Caller, Error, Result};

type DomainResult<T> = std::result::Result<T, DomainError>;

/// The CVSS versions an advisory's scores may use (CSAF's `cvss_v3` and `cvss_v4`).
pub const SCORE_VERSIONS: &[keikai_cvss::Version] = &[
    keikai_cvss::Version::V3_0,
    keikai_cvss::Version::V3_1,
    keikai_cvss::Version::V4_0,
];

// ---------------------------------------------------------------- creating

/// What a new advisory starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewAdvisory {
    /// The number of a case, as a body names it: its vulnerabilities, scores, product
    /// statuses, remediations and the reporter's credit. A number that names no case the
    /// caller sees is an input error on `case`.
    FromCase(i64),
    /// A blank draft with the first language's text.
    Blank { language: Locale, text: Text },
}

/// Creates an advisory; returns it and whether it is new (an advisory made from the case
/// earlier is returned instead of a second one).
pub async fn create(app: &App, who: &Caller, cmd: NewAdvisory) -> Result<(Advisory, bool)> {
    who.require(Action::ViewAdvisories)?;
    let author = who.require_user(Action::EditAdvisory)?.user_id;
    let (language, text) = match cmd {
        NewAdvisory::FromCase(n) => {
            let found = match CaseNumber::new(n) {
                Some(number) => create_from_case(app, who, number).await,
                None => Err(Error::NotFound),
            };
            // The case is named in the body: a missing one is a bad field, not a missing page.
            return found.map_err(|e| match e {
                Error::NotFound => Error::invalid("case", format!("case: there is no case {n}")),
                other => other,
            });
        }
        NewAdvisory::Blank { language, text } => (language, text),
    };
    // Checked before a tracking number is taken, so that typos do not use numbers up.
    if text.clone().checked()?.is_empty() {
        return Err(Error::invalid("title", "title: must not be empty"));
    }
    let fx = app.effects(who);
    let tracking_id = next_tracking_id(app).await?;
    let (a, change) = Advisory::draft(tracking_id, language, text, author, fx.at)?;
    Ok((
        app.store()
            .create_advisory(&a, &fx.with_audit(change))
            .await?,
        true,
    ))
}

/// Starts an advisory from a case, or returns the one made from it before.
pub async fn create_from_case(
    app: &App,
    who: &Caller,
    number: CaseNumber,
) -> Result<(Advisory, bool)> {
    who.require(Action::ViewAdvisories)?;
    let author = who.require_user(Action::EditAdvisory)?.user_id;
    let case = cases::load(app, who, number).await?;
    if let Some(existing) = for_case(app, case.id).await? {
        return Ok((existing, false));
    }
    let fx = app.effects(who);
    let tracking_id = next_tracking_id(app).await?;
    let (a, change) = Advisory::from_case(tracking_id, &case, author, fx.at);
    Ok((
        app.store()
            .create_advisory(&a, &fx.with_audit(change))
            .await?,
        true,
    ))
}

/// A new tracking id: `PREFIX-YYYY-NNNN`, the year of now in UTC.
async fn next_tracking_id(app: &App) -> Result<String> {
    let year = app.now().to_zoned(TimeZone::UTC).year();
    let seq = app.store().next_advisory_seq(year).await?;
    Ok(advisory::tracking_id(
        &app.config().publishing.tracking_prefix,
        year,
        seq,
    ))
}

// ---------------------------------------------------------------- text and facts

/// One language's narrative, and the remediation details in that language.
#[derive(Debug, Clone)]
pub struct EditText {
    /// The advisory's id or tracking id.
    pub advisory: String,
    pub lang: Locale,
    pub text: Text,
    /// The details of each remediation in this language, in order across vulnerabilities;
    /// fewer entries leave the rest unchanged.
    pub remediation_details: Vec<String>,
    /// The text translates the other language with nothing new: the other language keeps its
    /// state. Otherwise the edit outdates it.
    pub translation: bool,
    pub revision: Option<i64>,
}

pub async fn edit_text(app: &App, who: &Caller, cmd: EditText) -> Result<Advisory> {
    let EditText {
        advisory,
        lang,
        text,
        remediation_details,
        translation,
        revision,
    } = cmd;
    Loaded::apply(app, who, &advisory, revision, |a, editor, at| {
        if translation {
            a.translate(lang, text, &remediation_details, editor, at)
        } else {
            a.edit_text(lang, text, &remediation_details, editor, at)
        }
    })
    .await
}

/// The translator has checked `lang` against the other language and it is current.
pub async fn confirm_translation(
    app: &App,
    who: &Caller,
    advisory: &str,
    lang: Locale,
    revision: Option<i64>,
) -> Result<Advisory> {
    Loaded::apply(app, who, advisory, revision, |a, editor, at| {
        a.confirm_translation(lang, editor, at)
    })
    .await
}

/// TLP, severity, references and acknowledgments.
pub async fn edit_facts(
    app: &App,
    who: &Caller,
    advisory: &str,
    facts: FactsInput,
    revision: Option<i64>,
) -> Result<Advisory> {
    let scale = &app.config().severity_scale;
    Loaded::apply(app, who, advisory, revision, |a, editor, at| {
        a.edit_facts(&facts, scale, editor, at)
    })
    .await
}

// ---------------------------------------------------------------- vulnerabilities

/// A product version of the catalogue named in a form or a body: it must exist and be a
/// version, not a product or a vendor.
async fn product_version(app: &App, field: &'static str, id: BranchId) -> Result<BranchId> {
    match app.store().get_branch(id).await {
        Ok(b) if b.category == BranchCategory::ProductVersion => Ok(id),
        Ok(_) => Err(Error::invalid(
            field,
            format!(
                "{field}: {id} is not a product version (pick a version, not a product or vendor)"
            ),
        )),
        Err(StoreError::NotFound) => Err(Error::invalid(
            field,
            format!("{field}: there is no product version {id} in the catalogue"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Says how one product version stands to a vulnerability of the advisory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetProductStatus {
    pub advisory: String,
    pub vulnerability: VulnerabilityId,
    /// Its product version (`branch_id`) must be a version of the catalogue.
    pub status: ProductStatus,
    pub revision: Option<i64>,
}

pub async fn set_product_status(
    app: &App,
    who: &Caller,
    cmd: SetProductStatus,
) -> Result<Advisory> {
    let mut c = Loaded::load(app, who, &cmd.advisory).await?;
    let vid = c.vulnerability(cmd.vulnerability)?;
    c.expect(cmd.revision)?;
    product_version(app, "branch_id", cmd.status.branch_id).await?;
    let change = c
        .advisory
        .set_product_status(vid, cmd.status, c.editor, c.at())?;
    c.save(app, change).await
}

pub async fn remove_product_status(
    app: &App,
    who: &Caller,
    advisory: &str,
    vulnerability: VulnerabilityId,
    branch: BranchId,
    revision: Option<i64>,
) -> Result<Advisory> {
    let mut c = Loaded::load(app, who, advisory).await?;
    let vid = c.vulnerability(vulnerability)?;
    let listed = c
        .advisory
        .content
        .vulnerabilities
        .iter()
        .any(|v| v.id == vid && v.product_statuses.iter().any(|s| s.branch_id == branch));
    if !listed {
        return Err(Error::NotFound);
    }
    c.expect(revision)?;
    let change = c
        .advisory
        .remove_product_status(vid, branch, c.editor, c.at())?;
    c.save(app, change).await
}

/// Adds a remediation to a vulnerability of the advisory.
#[derive(Debug, Clone)]
pub struct AddRemediation {
    pub advisory: String,
    pub vulnerability: VulnerabilityId,
    /// The language `details` is written in; the other language gets the same text and is
    /// marked outdated until translated.
    pub lang: Locale,
    pub remediation: RemediationInput,
    pub revision: Option<i64>,
}

pub async fn add_remediation(app: &App, who: &Caller, cmd: AddRemediation) -> Result<Advisory> {
    let mut c = Loaded::load(app, who, &cmd.advisory).await?;
    let vid = c.vulnerability(cmd.vulnerability)?;
    c.expect(cmd.revision)?;
    let change = c
        .advisory
        .add_remediation(vid, &cmd.remediation, cmd.lang, c.editor, c.at())?;
    c.save(app, change).await
}

/// The `index`-th remediation or score of a vulnerability, as a path names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub advisory: String,
    pub vulnerability: VulnerabilityId,
    pub index: usize,
    pub revision: Option<i64>,
}

pub async fn remove_remediation(app: &App, who: &Caller, entry: Entry) -> Result<Advisory> {
    remove_entry(app, who, entry, Advisory::remove_remediation).await
}

/// Removes a remediation or a score: an index that names none names nothing ("not found").
async fn remove_entry(
    app: &App,
    who: &Caller,
    entry: Entry,
    remove: fn(&mut Advisory, VulnerabilityId, usize, UserId, Timestamp) -> DomainResult<Change>,
) -> Result<Advisory> {
    let mut c = Loaded::load(app, who, &entry.advisory).await?;
    let vid = c.vulnerability(entry.vulnerability)?;
    c.expect(entry.revision)?;
    let at = c.at();
    let change =
        remove(&mut c.advisory, vid, entry.index, c.editor, at).map_err(|_| Error::NotFound)?;
    c.save(app, change).await
}

/// A CVSS vector (one of [`SCORE_VERSIONS`]) for some product versions of a vulnerability.
#[derive(Debug, Clone)]
pub struct SetScore {
    pub advisory: String,
    pub vulnerability: VulnerabilityId,
    pub vector: CvssVector,
    /// The product versions it is for (they need a status in the vulnerability); none: every
    /// affected product without a score of its own of that CVSS version.
    pub products: Vec<BranchId>,
    pub revision: Option<i64>,
}

pub async fn set_score(app: &App, who: &Caller, cmd: SetScore) -> Result<Advisory> {
    let mut c = Loaded::load(app, who, &cmd.advisory).await?;
    let vid = c.vulnerability(cmd.vulnerability)?;
    c.expect(cmd.revision)?;
    let change = c
        .advisory
        .set_score(vid, cmd.vector, cmd.products, c.editor, c.at())?;
    c.save(app, change).await
}

pub async fn remove_score(app: &App, who: &Caller, entry: Entry) -> Result<Advisory> {
    remove_entry(app, who, entry, Advisory::remove_score).await
}

/// Takes the case's current vulnerabilities (after triage changed them).
pub async fn refresh_from_case(
    app: &App,
    who: &Caller,
    advisory: &str,
    revision: Option<i64>,
) -> Result<Advisory> {
    let mut c = Loaded::load(app, who, advisory).await?;
    c.expect(revision)?;
    let Some(case_id) = c.advisory.case_id else {
        return Err(Error::invalid(
            "case",
            "case: this advisory was not made from a case",
        ));
    };
    let case = match app.store().get_case(case_id).await {
        Ok(case) => case,
        Err(StoreError::NotFound) => {
            return Err(Error::invalid("case", "case: its case no longer exists"));
        }
        Err(e) => return Err(e.into()),
    };
    who.require(cases::view_action(&case))?;
    let change = c.advisory.refresh_from_case(&case, c.editor, c.at())?;
    c.save(app, change).await
}
