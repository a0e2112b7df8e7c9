//! The application service for advisories and releases. The editor pages
//! ([`crate::advisories_ui`]) and the REST API ([`crate::advisories_api`]) are two doors onto
//! these functions.
//!
//! Drafts are embargoed: every operation first asks for `ViewAdvisories` (so that anyone but
//! the PSIRT gets "not found", and an anonymous caller is asked to sign in before anything is
//! looked up), then for `EditAdvisory` or `ManageReleases` to change something. Each change
//! loads the advisory, applies the domain operation and saves it with the audit entry the
//! operation returned, in one transaction. Saves are optimistic: a form carries the revision
//! it was rendered at, and an advisory or release saved since answers 409.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use keikai_domain::advisory::{
    self, Advisory, AdvisoryState, Edit, FactsInput, FieldDiff, RemediationInput, Text, Verdict,
};
use keikai_domain::audit::{AuditActor, Change};
use keikai_domain::case::{CvssVector, Justification, ProductStatus, ProductStatusKind};
use keikai_domain::release::{Release, ReleaseKind, ReleaseSchedule, ReleaseState};
use keikai_domain::{
    Action, AdvisoryId, BranchCategory, BranchId, DomainError, Locale, ReleaseId, UserId,
    VulnerabilityId,
};
use keikai_store::{AdvisoryFilter, Effects, StoreError};
use serde::Deserialize;
use serde_json::json;

use crate::api::cases::ProductStatusInput;
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::lenient_i64;
use crate::http::state::AppState;
use keikai_app::cases as app_cases;

/// What a save refused for a stale revision answers.
pub const CONFLICT_MESSAGE: &str =
    "the advisory changed since you loaded it; reload it and make your change again";

pub const RELEASE_CONFLICT_MESSAGE: &str =
    "the release changed since you loaded it; reload it and make your change again";

/// How many advisories a list page shows.
pub const PAGE_SIZE: u32 = 50;

/// The most advisories one release (or one lookup by case) reads.
const RELEASE_LIMIT: u32 = 5_000;

/// The CVSS versions an advisory's scores may use (CSAF's `cvss_v3` and `cvss_v4`).
const SCORE_VERSIONS: &[keikai_cvss::Version] = &[
    keikai_cvss::Version::V3_0,
    keikai_cvss::Version::V3_1,
    keikai_cvss::Version::V4_0,
];

fn blank_to_none(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|t| !t.is_empty())
}

fn parse_path_id<T: std::str::FromStr>(s: &str) -> AppResult<T> {
    s.parse().map_err(|_| AppError::not_found())
}

/// A language from a path: anything else names no page.
pub fn parse_lang(s: &str) -> AppResult<Locale> {
    s.parse().map_err(|_| AppError::not_found())
}

/// An input error under another field name than the domain gave it.
fn renamed(field: &'static str, e: &DomainError) -> AppError {
    let DomainError::Invalid { message, .. } = e;
    AppError::invalid(field, format!("{field}: {message}"))
}

fn check_revision(a: &Advisory, expected: Option<i64>) -> AppResult<()> {
    match expected {
        Some(r) if r != a.revision => Err(AppError::conflict(CONFLICT_MESSAGE)),
        _ => Ok(()),
    }
}

fn save_error(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => AppError::conflict(CONFLICT_MESSAGE),
        other => other.into(),
    }
}

async fn save(state: &AppState, a: &Advisory, user: UserId, change: Change) -> AppResult<Advisory> {
    state
        .store
        .save_advisory(
            a,
            &Effects::new(AuditActor::User(user), a.updated_at).with_changes([change]),
        )
        .await
        .map_err(save_error)
}

/// Loads an advisory the caller may see, by id or by tracking id.
pub async fn load(state: &AppState, ctx: &Ctx, id: &str) -> AppResult<Advisory> {
    ctx.require(Action::ViewAdvisories)?;
    let found = match id.parse::<AdvisoryId>() {
        Ok(id) => state.store.get_advisory(id).await,
        // Tracking ids are what people quote; they are as good as the id.
        Err(_) if (5..=40).contains(&id.len()) => state.store.advisory_by_tracking_id(id).await,
        Err(_) => Err(StoreError::NotFound),
    };
    Ok(found?)
}

/// Loads an advisory for a change: checks the caller may edit and the revision is current.
async fn load_for_edit(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    revision: Option<i64>,
) -> AppResult<(Advisory, UserId)> {
    let a = load(state, ctx, id).await?;
    let user = ctx.require(Action::EditAdvisory)?.user_id;
    check_revision(&a, revision)?;
    Ok((a, user))
}

/// Loads, applies one domain operation, saves.
async fn apply(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    revision: Option<i64>,
    op: impl FnOnce(&mut Advisory, UserId, Timestamp) -> AppResult<Change>,
) -> AppResult<Advisory> {
    let (mut a, user) = load_for_edit(state, ctx, id, revision).await?;
    let change = op(&mut a, user, state.clock.now())?;
    save(state, &a, user, change).await
}

fn find_vulnerability(a: &Advisory, id: &str) -> AppResult<VulnerabilityId> {
    let id: VulnerabilityId = parse_path_id(id)?;
    if a.content.vulnerabilities.iter().any(|v| v.id == id) {
        Ok(id)
    } else {
        Err(AppError::not_found())
    }
}

/// A new tracking id: `PREFIX-YYYY-NNNN`, the year of `now` in UTC.
async fn next_tracking_id(state: &AppState, now: Timestamp) -> AppResult<String> {
    let year = now.to_zoned(TimeZone::UTC).year();
    let seq = state.store.next_advisory_seq(year).await?;
    Ok(advisory::tracking_id(
        &state.config.publishing.tracking_prefix,
        year,
        seq,
    ))
}

// ---------------------------------------------------------------- lists

/// The filters of the advisory list, as text from a query string.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdvisoryQuery {
    /// `draft`, `scheduled` or `published`.
    pub state: Option<String>,
    /// Text to search for in the tracking id and the text of either language.
    pub q: Option<String>,
    /// Page number, from 1.
    pub page: Option<String>,
}

impl AdvisoryQuery {
    pub fn page_number(&self) -> AppResult<u32> {
        match blank_to_none(self.page.as_deref()) {
            None => Ok(1),
            Some(t) => t
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=100_000).contains(p))
                .ok_or_else(|| {
                    AppError::invalid("page", format!("page: \"{t}\" is not a page number"))
                }),
        }
    }

    fn filter(&self) -> AppResult<AdvisoryFilter> {
        let page = self.page_number()?;
        Ok(AdvisoryFilter {
            state: blank_to_none(self.state.as_deref())
                .map(str::parse::<AdvisoryState>)
                .transpose()?,
            text: match blank_to_none(self.q.as_deref()) {
                Some(q) if q.chars().count() > 200 => {
                    return Err(AppError::invalid("q", "q: at most 200 characters"));
                }
                q => q.map(str::to_owned),
            },
            // One more than a page tells whether there is a next one.
            limit: PAGE_SIZE + 1,
            offset: (page - 1) * PAGE_SIZE,
            ..AdvisoryFilter::default()
        })
    }
}

/// One page of advisories, newest change first, and whether more follow.
pub async fn list(
    state: &AppState,
    ctx: &Ctx,
    query: &AdvisoryQuery,
) -> AppResult<(Vec<Advisory>, bool)> {
    ctx.require(Action::ViewAdvisories)?;
    let filter = query.filter()?;
    let mut rows = state.store.list_advisories(&filter).await?;
    let more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    Ok((rows, more))
}

/// The advisory made from a case, if there is one.
pub async fn for_case(
    state: &AppState,
    case: keikai_domain::CaseId,
) -> AppResult<Option<Advisory>> {
    let filter = AdvisoryFilter {
        case: Some(case),
        limit: 1,
        ..AdvisoryFilter::default()
    };
    Ok(state
        .store
        .list_advisories(&filter)
        .await?
        .into_iter()
        .next())
}

// ---------------------------------------------------------------- creating

/// A new advisory: from a case (`case`), or a blank draft with the first language's text.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewAdvisoryInput {
    /// The number of a case to start from: its vulnerabilities, scores, product statuses,
    /// remediations and the reporter's credit. The text fields are then ignored.
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub case: Option<i64>,
    /// `en` or `ja`: the language of the text (default: the caller's).
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub impact: String,
}

/// Creates an advisory; returns it and whether it is new (an advisory made from the case
/// earlier is returned instead of a second one).
pub async fn create(
    state: &AppState,
    ctx: &Ctx,
    input: &NewAdvisoryInput,
) -> AppResult<(Advisory, bool)> {
    ctx.require(Action::ViewAdvisories)?;
    let user = ctx.require(Action::EditAdvisory)?.user_id;
    if let Some(n) = input.case {
        return match create_from_case(state, ctx, &n.to_string()).await {
            // The case is named in the body: a missing one is a bad field, not a missing page.
            Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => Err(AppError::invalid(
                "case",
                format!("case: there is no case {n}"),
            )),
            other => other,
        };
    }
    let lang = match blank_to_none(input.language.as_deref()) {
        Some(l) => l.parse::<Locale>().map_err(|e| renamed("language", &e))?,
        None => ctx.lang,
    };
    let text = Text {
        title: input.title.clone(),
        summary: input.summary.clone(),
        description: input.description.clone(),
        impact: input.impact.clone(),
        faqs: Vec::new(),
    };
    // Checked before a tracking number is taken, so that typos do not use numbers up.
    if text.clone().checked()?.is_empty() {
        return Err(AppError::invalid("title", "title: must not be empty"));
    }
    let now = state.clock.now();
    let tracking_id = next_tracking_id(state, now).await?;
    let (a, change) = Advisory::draft(tracking_id, lang, text, user, now)?;
    let a = state
        .store
        .create_advisory(
            &a,
            &Effects::new(AuditActor::User(user), a.updated_at).with_audit(change),
        )
        .await?;
    Ok((a, true))
}

/// Starts an advisory from a case, or returns the one made from it before.
pub async fn create_from_case(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
) -> AppResult<(Advisory, bool)> {
    ctx.require(Action::ViewAdvisories)?;
    let user = ctx.require(Action::EditAdvisory)?.user_id;
    let case = app_cases::load(&state.app, &ctx.caller, ctx.id(number)?).await?;
    if let Some(existing) = for_case(state, case.id).await? {
        return Ok((existing, false));
    }
    let now = state.clock.now();
    let tracking_id = next_tracking_id(state, now).await?;
    let (a, change) = Advisory::from_case(tracking_id, &case, user, now);
    let a = state
        .store
        .create_advisory(
            &a,
            &Effects::new(AuditActor::User(user), a.updated_at).with_audit(change),
        )
        .await?;
    Ok((a, true))
}

// ---------------------------------------------------------------- text and facts

/// One language's narrative, and the remediation details in that language.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TextInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub impact: String,
    /// Questions and answers; entries with both empty are dropped.
    #[serde(default)]
    pub faqs: Vec<advisory::Faq>,
    /// The details of each remediation in this language, in order across vulnerabilities;
    /// fewer entries leave the rest unchanged.
    #[serde(default)]
    pub remediation_details: Vec<String>,
    /// The revision the change is based on; an advisory saved since then is refused (409).
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

pub async fn edit_text(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    lang: &str,
    input: &TextInput,
) -> AppResult<Advisory> {
    ctx.require(Action::ViewAdvisories)?;
    let lang = parse_lang(lang)?;
    let text = Text {
        title: input.title.clone(),
        summary: input.summary.clone(),
        description: input.description.clone(),
        impact: input.impact.clone(),
        faqs: input.faqs.clone(),
    };
    apply(state, ctx, id, input.revision, |a, user, now| {
        Ok(a.edit_text(lang, text, &input.remediation_details, user, now)?)
    })
    .await
}

/// The translator has checked `lang` against the other language and it is current.
pub async fn confirm_translation(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    lang: &str,
    revision: Option<i64>,
) -> AppResult<Advisory> {
    ctx.require(Action::ViewAdvisories)?;
    let lang = parse_lang(lang)?;
    apply(state, ctx, id, revision, |a, user, now| {
        Ok(a.confirm_translation(lang, user, now)?)
    })
    .await
}

/// TLP, severity, references and acknowledgments.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct FactsBody {
    #[serde(flatten)]
    pub facts: FactsInput,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

pub async fn edit_facts(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    facts: &FactsInput,
    revision: Option<i64>,
) -> AppResult<Advisory> {
    let scale = &state.config.severity_scale;
    apply(state, ctx, id, revision, |a, user, now| {
        Ok(a.edit_facts(facts, scale, user, now)?)
    })
    .await
}

// ---------------------------------------------------------------- vulnerabilities

/// A product version of the catalogue, named in a form or a body.
async fn product_version(state: &AppState, field: &'static str, s: &str) -> AppResult<BranchId> {
    let t = s.trim();
    if t.is_empty() {
        return Err(AppError::invalid(
            field,
            format!("{field}: choose a product version"),
        ));
    }
    let id: BranchId = t.parse().map_err(|_| {
        AppError::invalid(
            field,
            format!("{field}: \"{t}\" is not a product version id"),
        )
    })?;
    match state.store.get_branch(id).await {
        Ok(b) if b.category == BranchCategory::ProductVersion => Ok(id),
        Ok(_) => Err(AppError::invalid(
            field,
            format!(
                "{field}: {id} is not a product version (pick a version, not a product or vendor)"
            ),
        )),
        Err(StoreError::NotFound) => Err(AppError::invalid(
            field,
            format!("{field}: there is no product version {id} in the catalogue"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Product version ids from a form or a body; each must parse.
pub fn branch_ids(field: &'static str, ids: &[String]) -> AppResult<Vec<BranchId>> {
    let mut out = Vec::new();
    for s in ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let id: BranchId = s.parse().map_err(|_| {
            AppError::invalid(
                field,
                format!("{field}: \"{s}\" is not a product version id"),
            )
        })?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

pub async fn set_product_status(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    vulnerability: &str,
    input: &ProductStatusInput,
) -> AppResult<Advisory> {
    let (mut a, user) = load_for_edit(state, ctx, id, input.revision).await?;
    let vid = find_vulnerability(&a, vulnerability)?;
    let branch = product_version(state, "branch_id", &input.branch_id).await?;
    let status: ProductStatusKind = input.status.trim().parse()?;
    let justification = blank_to_none(input.justification.as_deref())
        .map(str::parse::<Justification>)
        .transpose()?;
    let status = ProductStatus::new(branch, status, justification)?;
    let change = a.set_product_status(vid, status, user, state.clock.now())?;
    save(state, &a, user, change).await
}

pub async fn remove_product_status(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    vulnerability: &str,
    branch: &str,
    revision: Option<i64>,
) -> AppResult<Advisory> {
    let (mut a, user) = load_for_edit(state, ctx, id, revision).await?;
    let vid = find_vulnerability(&a, vulnerability)?;
    let branch: BranchId = parse_path_id(branch)?;
    let listed = a
        .content
        .vulnerabilities
        .iter()
        .any(|v| v.id == vid && v.product_statuses.iter().any(|s| s.branch_id == branch));
    if !listed {
        return Err(AppError::not_found());
    }
    let change = a.remove_product_status(vid, branch, user, state.clock.now())?;
    save(state, &a, user, change).await
}

/// A remediation as a form or a body gives it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RemediationBody {
    /// `vendor_fix`, `workaround`, `mitigation`, `none_available` or `no_fix_planned`.
    pub category: String,
    #[serde(default)]
    pub details: String,
    /// The language `details` is written in (default: the caller's); the other language gets
    /// the same text and is marked outdated until translated.
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub fixed_version: Option<String>,
    #[serde(default)]
    pub kb: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// Product versions it applies to (they need a status in the vulnerability); none: every
    /// affected one.
    #[serde(default)]
    pub branch_ids: Vec<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

pub async fn add_remediation(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    vulnerability: &str,
    body: &RemediationBody,
) -> AppResult<Advisory> {
    let (mut a, user) = load_for_edit(state, ctx, id, body.revision).await?;
    let vid = find_vulnerability(&a, vulnerability)?;
    let lang = match blank_to_none(body.lang.as_deref()) {
        Some(l) => l.parse::<Locale>().map_err(|e| renamed("lang", &e))?,
        None => ctx.lang,
    };
    let input = RemediationInput {
        category: body.category.trim().to_owned(),
        details: body.details.clone(),
        fixed_version: body.fixed_version.clone(),
        kb: body.kb.clone(),
        url: body.url.clone(),
        branch_ids: branch_ids("branch_ids", &body.branch_ids)?,
    };
    let change = a.add_remediation(vid, &input, lang, user, state.clock.now())?;
    save(state, &a, user, change).await
}

pub async fn remove_remediation(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    vulnerability: &str,
    index: &str,
    revision: Option<i64>,
) -> AppResult<Advisory> {
    let (mut a, user) = load_for_edit(state, ctx, id, revision).await?;
    let vid = find_vulnerability(&a, vulnerability)?;
    let index: usize = parse_path_id(index)?;
    let change = a
        .remove_remediation(vid, index, user, state.clock.now())
        .map_err(|_| AppError::not_found())?;
    save(state, &a, user, change).await
}

/// A CVSS vector for some product versions.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ScoreBody {
    /// A CVSS 3.x or 4.0 vector.
    pub vector: String,
    /// The product versions it is for (they need a status in the vulnerability); none: every
    /// affected product without a score of its own of that CVSS version.
    #[serde(default)]
    pub branch_ids: Vec<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

pub async fn set_score(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    vulnerability: &str,
    body: &ScoreBody,
) -> AppResult<Advisory> {
    let (mut a, user) = load_for_edit(state, ctx, id, body.revision).await?;
    let vid = find_vulnerability(&a, vulnerability)?;
    let vector = CvssVector::parse("vector", &body.vector, SCORE_VERSIONS)?;
    let products = branch_ids("branch_ids", &body.branch_ids)?;
    let change = a.set_score(vid, vector, products, user, state.clock.now())?;
    save(state, &a, user, change).await
}

pub async fn remove_score(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    vulnerability: &str,
    index: &str,
    revision: Option<i64>,
) -> AppResult<Advisory> {
    let (mut a, user) = load_for_edit(state, ctx, id, revision).await?;
    let vid = find_vulnerability(&a, vulnerability)?;
    let index: usize = parse_path_id(index)?;
    let change = a
        .remove_score(vid, index, user, state.clock.now())
        .map_err(|_| AppError::not_found())?;
    save(state, &a, user, change).await
}

/// Takes the case's current vulnerabilities (after triage changed them).
pub async fn refresh_from_case(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    revision: Option<i64>,
) -> AppResult<Advisory> {
    let (mut a, user) = load_for_edit(state, ctx, id, revision).await?;
    let Some(case_id) = a.case_id else {
        return Err(AppError::invalid(
            "case",
            "case: this advisory was not made from a case",
        ));
    };
    let case = match state.store.get_case(case_id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => {
            return Err(AppError::invalid("case", "case: its case no longer exists"));
        }
        Err(e) => return Err(e.into()),
    };
    ctx.require(app_cases::view_action(&case))?;
    let change = a.refresh_from_case(&case, user, state.clock.now())?;
    save(state, &a, user, change).await
}

// ---------------------------------------------------------------- review, schedule, revise

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReviewInput {
    /// `comment`, `approve` or `request_changes`. Authors of the draft cannot approve it.
    pub verdict: String,
    /// Required for a comment or a request for changes.
    #[serde(default)]
    pub text: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

pub async fn review(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: &ReviewInput,
) -> AppResult<Advisory> {
    apply(state, ctx, id, input.revision, |a, user, now| {
        let verdict: Verdict = input.verdict.trim().parse()?;
        Ok(a.review(user, verdict, &input.text, now)?)
    })
    .await
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ScheduleInput {
    /// A planned release's id; empty or null takes the advisory out of its release.
    #[serde(default)]
    pub release: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

/// Plans the approved advisory for a release, or (no release) takes it out of its release.
pub async fn schedule(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: &ScheduleInput,
) -> AppResult<Advisory> {
    let Some(release) = blank_to_none(input.release.as_deref()) else {
        return unschedule(state, ctx, id, input.revision).await;
    };
    let (mut a, user) = load_for_edit(state, ctx, id, input.revision).await?;
    let missing = || {
        AppError::invalid(
            "release",
            format!("release: there is no planned release {release}"),
        )
    };
    let release: ReleaseId = release.parse().map_err(|_| missing())?;
    match state.store.get_release(release).await {
        Ok(r) if r.state() == ReleaseState::Planned => {}
        Ok(_) => {
            return Err(AppError::invalid(
                "release",
                "release: that release has gone out; pick a planned one",
            ));
        }
        Err(StoreError::NotFound) => return Err(missing()),
        Err(e) => return Err(e.into()),
    }
    let change = a.schedule(release, state.clock.now())?;
    save(state, &a, user, change).await
}

pub async fn unschedule(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    revision: Option<i64>,
) -> AppResult<Advisory> {
    apply(state, ctx, id, revision, |a, _, now| Ok(a.unschedule(now)?)).await
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct StartRevisionInput {
    /// What the next version changes, for the revision history.
    pub summary: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

/// Opens a published advisory for its next version.
pub async fn start_revision(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: &StartRevisionInput,
) -> AppResult<Advisory> {
    apply(state, ctx, id, input.revision, |a, user, now| {
        Ok(a.start_revision(&input.summary, user, now)?)
    })
    .await
}

/// One edit and what it changed against the edit before it.
pub async fn edit_diff(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    number: &str,
) -> AppResult<(Advisory, Edit, Vec<FieldDiff>)> {
    let a = load(state, ctx, id).await?;
    let number: u32 = parse_path_id(number)?;
    let edit = a
        .edits
        .iter()
        .find(|e| e.number == number)
        .cloned()
        .ok_or_else(AppError::not_found)?;
    let diff = a.diff_of_edit(number).ok_or_else(AppError::not_found)?;
    Ok((a, edit, diff))
}

// ---------------------------------------------------------------- releases

/// The zone a viewer reads times in: Japan's for a Japanese-speaking viewer, UTC otherwise.
/// Users have no zone setting; their language is the best hint there is.
pub fn viewer_zone(lang: Locale) -> TimeZone {
    match lang {
        Locale::Ja => TimeZone::get("Asia/Tokyo").unwrap_or(TimeZone::UTC),
        Locale::En => TimeZone::UTC,
    }
}

/// When a release leaves: one of an RFC 3339 instant, a month (monthly releases: the
/// schedule gives the instant) or a local date and time in a zone.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ReleaseTimeInput {
    /// An instant, e.g. `2026-03-10T17:00:00Z`. A monthly release must be at its month's
    /// instant.
    #[serde(default)]
    pub scheduled_at: Option<String>,
    /// `YYYY-MM`: the monthly release of that month (second Tuesday at the configured time).
    #[serde(default)]
    pub month: Option<String>,
    /// `YYYY-MM-DDTHH:MM`, read in `zone`.
    #[serde(default)]
    pub local_time: Option<String>,
    /// An IANA time zone for `local_time` (default: the release schedule's zone).
    #[serde(default)]
    pub zone: Option<String>,
}

impl ReleaseTimeInput {
    /// The field a problem with the resolved instant is reported under.
    fn field(&self) -> &'static str {
        if blank_to_none(self.scheduled_at.as_deref()).is_some() {
            "scheduled_at"
        } else if blank_to_none(self.month.as_deref()).is_some() {
            "month"
        } else {
            "local_time"
        }
    }

    fn instant(&self, kind: ReleaseKind, schedule: &ReleaseSchedule) -> AppResult<Timestamp> {
        if let Some(s) = blank_to_none(self.scheduled_at.as_deref()) {
            return s.parse::<Timestamp>().map_err(|_| {
                AppError::invalid(
                    "scheduled_at",
                    format!(
                        "scheduled_at: \"{s}\" is not an RFC 3339 time (e.g. 2026-03-10T17:00:00Z)"
                    ),
                )
            });
        }
        if kind == ReleaseKind::Monthly
            && let Some(m) = blank_to_none(self.month.as_deref())
        {
            let bad = || {
                AppError::invalid(
                    "month",
                    format!("month: \"{m}\" is not a month in the form YYYY-MM"),
                )
            };
            let (y, mo) = m.split_once('-').ok_or_else(bad)?;
            let year: i16 = y.parse().map_err(|_| bad())?;
            let month: i8 = mo.parse().map_err(|_| bad())?;
            return schedule
                .monthly_release(year, month)
                .map_err(|e| renamed("month", &e));
        }
        if let Some(t) = blank_to_none(self.local_time.as_deref()) {
            let local: DateTime = t.parse().map_err(|_| {
                AppError::invalid(
                    "local_time",
                    format!("local_time: \"{t}\" is not a date and time (YYYY-MM-DDTHH:MM)"),
                )
            })?;
            let zone = match blank_to_none(self.zone.as_deref()) {
                Some(z) => keikai_domain::release::parse_zone(z)?.0,
                None => schedule.zone().clone(),
            };
            // A time in a DST gap moves forward, one in a fold takes the earlier instant.
            return local
                .to_zoned(zone)
                .map(|z| z.timestamp())
                .map_err(|e| AppError::invalid("local_time", format!("local_time: {e}")));
        }
        Err(AppError::invalid(
            "scheduled_at",
            if kind == ReleaseKind::Monthly {
                "scheduled_at: give the month (YYYY-MM) or the instant"
            } else {
                "scheduled_at: give the local date and time, or the instant"
            },
        ))
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewReleaseInput {
    /// `monthly` or `out_of_band`.
    pub kind: String,
    /// Default: "Monthly release YYYY-MM" or "Out-of-band release YYYY-MM-DD".
    #[serde(default)]
    pub title: String,
    #[serde(flatten)]
    pub time: ReleaseTimeInput,
}

fn parse_kind(s: &str) -> AppResult<ReleaseKind> {
    match s.trim() {
        "monthly" => Ok(ReleaseKind::Monthly),
        "out_of_band" => Ok(ReleaseKind::OutOfBand),
        other => Err(AppError::invalid(
            "kind",
            format!("kind: \"{other}\" is not monthly or out_of_band"),
        )),
    }
}

pub fn kind_str(k: ReleaseKind) -> &'static str {
    match k {
        ReleaseKind::Monthly => "monthly",
        ReleaseKind::OutOfBand => "out_of_band",
    }
}

/// Planned releases, soonest first, then those gone out, latest first (at most `published`).
pub async fn releases(
    state: &AppState,
    ctx: &Ctx,
    published: usize,
) -> AppResult<(Vec<Release>, Vec<Release>)> {
    ctx.require(Action::ViewAdvisories)?;
    let all = state.store.list_releases(true).await?;
    let (mut gone, planned): (Vec<Release>, Vec<Release>) = all
        .into_iter()
        .partition(|r| r.state() == ReleaseState::Published);
    gone.sort_by_key(|r| std::cmp::Reverse(r.published_at().unwrap_or(r.scheduled_at())));
    gone.truncate(published);
    Ok((planned, gone))
}

/// Plans a release. A monthly release falls on its month's instant; any release is in the
/// future.
pub async fn plan_release(
    state: &AppState,
    ctx: &Ctx,
    input: &NewReleaseInput,
) -> AppResult<Release> {
    ctx.require(Action::ViewAdvisories)?;
    let user = ctx.require(Action::ManageReleases)?.user_id;
    let schedule = &state.config.publishing.schedule;
    let kind = parse_kind(&input.kind)?;
    let at = input.time.instant(kind, schedule)?;
    let title = if input.title.trim().is_empty() {
        let local = at.to_zoned(schedule.zone().clone());
        match kind {
            ReleaseKind::Monthly => {
                format!("Monthly release {:04}-{:02}", local.year(), local.month())
            }
            ReleaseKind::OutOfBand => format!("Out-of-band release {}", local.date()),
        }
    } else {
        input.title.clone()
    };
    if kind == ReleaseKind::Monthly {
        no_second_monthly(state, None, at, input.time.field()).await?;
    }
    let now = state.clock.now();
    let release = Release::plan(kind, at, &title, schedule, now)?;
    let change = Change::new(
        "release.planned",
        release.subject(),
        serde_json::Value::Null,
        json!({ "kind": kind, "scheduled_at": at, "title": release.title() }),
    );
    Ok(state
        .store
        .create_release(
            &release,
            &Effects::new(AuditActor::User(user), now).with_audit(change),
        )
        .await?)
}

/// One train a month: a monthly release at an instant that has one already is refused.
async fn no_second_monthly(
    state: &AppState,
    except: Option<ReleaseId>,
    at: Timestamp,
    field: &'static str,
) -> AppResult<()> {
    let taken = state
        .store
        .list_releases(true)
        .await?
        .into_iter()
        .find(|r| {
            r.kind() == ReleaseKind::Monthly && r.scheduled_at() == at && Some(r.id()) != except
        });
    match taken {
        Some(r) => Err(AppError::invalid(
            field,
            format!(
                "{field}: that month's release is planned already (\"{}\")",
                r.title()
            ),
        )),
        None => Ok(()),
    }
}

/// The first monthly release after `now` that is not planned yet (within a year).
pub async fn next_unplanned_monthly(state: &AppState) -> AppResult<Option<Timestamp>> {
    let schedule = &state.config.publishing.schedule;
    let planned: Vec<Timestamp> = state
        .store
        .list_releases(true)
        .await?
        .iter()
        .filter(|r| r.kind() == ReleaseKind::Monthly)
        .map(Release::scheduled_at)
        .collect();
    let mut at = state.clock.now();
    for _ in 0..12 {
        let Ok(next) = schedule.next_monthly_after(at) else {
            return Ok(None);
        };
        if !planned.contains(&next) {
            return Ok(Some(next));
        }
        at = next;
    }
    Ok(None)
}

/// A release and every advisory planned for it (or, once it has gone out, published in it).
pub async fn release_readiness(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
) -> AppResult<(Release, Vec<Advisory>)> {
    ctx.require(Action::ViewAdvisories)?;
    let id: ReleaseId = parse_path_id(id)?;
    let release = state.store.get_release(id).await?;
    let planned = AdvisoryFilter {
        release: Some(id),
        limit: RELEASE_LIMIT,
        ..AdvisoryFilter::default()
    };
    let mut list = state.store.list_advisories(&planned).await?;
    if release.state() == ReleaseState::Published {
        // Publication clears an advisory's planned release; its versions remember it.
        let published = AdvisoryFilter {
            state: Some(AdvisoryState::Published),
            limit: RELEASE_LIMIT,
            ..AdvisoryFilter::default()
        };
        for a in state.store.list_advisories(&published).await? {
            if a.versions.iter().any(|v| v.release == id) && !list.iter().any(|b| b.id == a.id) {
                list.push(a);
            }
        }
    }
    list.sort_by(|a, b| a.tracking_id.cmp(&b.tracking_id));
    Ok((release, list))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RescheduleInput {
    #[serde(flatten)]
    pub time: ReleaseTimeInput,
    /// The release's revision the change is based on.
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

/// Moves a planned release; its advisories point to it and so move with it.
pub async fn reschedule(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    input: &RescheduleInput,
) -> AppResult<Release> {
    ctx.require(Action::ViewAdvisories)?;
    let id: ReleaseId = parse_path_id(id)?;
    let mut release = state.store.get_release(id).await?;
    let user = ctx.require(Action::ManageReleases)?.user_id;
    if input.revision.is_some_and(|r| r != release.revision) {
        return Err(AppError::conflict(RELEASE_CONFLICT_MESSAGE));
    }
    let schedule = &state.config.publishing.schedule;
    let at = input.time.instant(release.kind(), schedule)?;
    if release.kind() == ReleaseKind::Monthly {
        no_second_monthly(state, Some(id), at, input.time.field()).await?;
    }
    let now = state.clock.now();
    let change = release.reschedule(at, schedule, now)?;
    state
        .store
        .save_release(
            &release,
            &Effects::new(AuditActor::User(user), now).with_changes([change]),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::conflict(RELEASE_CONFLICT_MESSAGE),
            other => other.into(),
        })
}

/// A revision from a form field: empty is none, anything else must be a number.
pub fn lenient_revision(s: &str) -> AppResult<Option<i64>> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| AppError::invalid("revision", format!("revision: \"{t}\" is not a number")))
}
