//! Advisories through the REST API: the same use cases as the editor pages
//! ([`keikai_app::advisories`]), as JSON. Only the PSIRT sees drafts: anyone else gets 404.
//! Bad input answers 422 naming the field; a change based on a stale revision, 409.
//!
//! The request bodies here are also what the editor's forms post (the same field names), so
//! each body converts into its command in one place.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use keikai_app::advisories::{self as app, EditText, NewAdvisory, Review};
use keikai_app::releases::no_planned_release;
use keikai_domain::advisory::{
    self, Advisory, AdvisoryState, FactsInput, FieldDiff, Localized, Readiness, Text,
};
use keikai_domain::{AdvisoryId, CaseId, Locale, ReleaseId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{ApiJson, blank_to_none, lenient_i64, page_number};
use crate::http::state::WebState;

// ---------------------------------------------------------------- request bodies

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
        page_number(self.page.as_deref())
    }

    pub fn query(&self) -> AppResult<app::ListQuery> {
        Ok(app::ListQuery {
            state: blank_to_none(self.state.as_deref())
                .map(str::parse::<AdvisoryState>)
                .transpose()?,
            text: blank_to_none(self.q.as_deref()).map(str::to_owned),
            page: self.page_number()?,
        })
    }
}

/// A language named in a body or form: blank is the caller's.
pub(crate) fn language(field: &'static str, s: Option<&str>, caller: Locale) -> AppResult<Locale> {
    match blank_to_none(s) {
        Some(l) => l
            .parse::<Locale>()
            .map_err(|e| keikai_app::Error::renamed(field, &e).into()),
        None => Ok(caller),
    }
}

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

impl NewAdvisoryInput {
    /// The command; `caller` is the language of whoever asks.
    pub fn command(&self, caller: Locale) -> AppResult<NewAdvisory> {
        if let Some(n) = self.case {
            return Ok(NewAdvisory::FromCase(n));
        }
        Ok(NewAdvisory::Blank {
            language: language("language", self.language.as_deref(), caller)?,
            text: Text {
                title: self.title.clone(),
                summary: self.summary.clone(),
                description: self.description.clone(),
                impact: self.impact.clone(),
                faqs: Vec::new(),
            },
        })
    }
}

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
    /// `true` when the text translates the other language with nothing new (the other
    /// language keeps its state); otherwise the edit marks the other language outdated.
    #[serde(default)]
    pub translation: bool,
    /// The revision the change is based on; an advisory saved since then is refused (409).
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

impl TextInput {
    pub fn command(self, advisory: &str, lang: Locale) -> EditText {
        EditText {
            advisory: advisory.to_owned(),
            lang,
            text: Text {
                title: self.title,
                summary: self.summary,
                description: self.description,
                impact: self.impact,
                faqs: self.faqs,
            },
            remediation_details: self.remediation_details,
            translation: self.translation,
            revision: self.revision,
        }
    }
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

impl ReviewInput {
    pub fn command(self, advisory: &str) -> AppResult<Review> {
        Ok(Review {
            advisory: advisory.to_owned(),
            verdict: self.verdict.trim().parse()?,
            text: self.text,
            revision: self.revision,
        })
    }
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

impl ScheduleInput {
    /// The release named, or `None` for "take it out of its release".
    pub fn release(&self) -> AppResult<Option<ReleaseId>> {
        blank_to_none(self.release.as_deref())
            .map(|r| r.parse().map_err(|_| no_planned_release(r).into()))
            .transpose()
    }
}

// ---------------------------------------------------------------- responses

/// One advisory with what the release-readiness page says about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryDetail {
    pub advisory: Advisory,
    pub readiness: Readiness,
}

/// The advisory with its readiness (publication's checks run now).
async fn detail(s: &WebState, ctx: &Ctx, advisory: Advisory) -> AppResult<Json<AdvisoryDetail>> {
    Ok(Json(AdvisoryDetail {
        readiness: app::readiness_of(&s.app, &ctx.caller, &advisory).await?,
        advisory,
    }))
}

/// A row of the advisory list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryListItem {
    pub id: AdvisoryId,
    pub tracking_id: String,
    pub title: Localized<String>,
    pub state: AdvisoryState,
    pub case_id: Option<CaseId>,
    pub release: Option<ReleaseId>,
    pub readiness: Readiness,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
    pub revision: i64,
}

/// Both languages' titles.
pub(crate) fn titles(a: &Advisory) -> Localized<String> {
    Localized {
        en: a.content.text.en.title.clone(),
        ja: a.content.text.ja.title.clone(),
    }
}

fn list_item((a, readiness): (&Advisory, Readiness)) -> AdvisoryListItem {
    AdvisoryListItem {
        id: a.id,
        tracking_id: a.tracking_id.clone(),
        title: titles(a),
        state: a.state,
        case_id: a.case_id,
        release: a.release,
        readiness,
        updated_at: a.updated_at,
        revision: a.revision,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryList {
    pub page_size: u32,
    /// Whether another page follows.
    pub more: bool,
    pub advisories: Vec<AdvisoryListItem>,
}

/// One edit of the draft and what it changed against the edit before it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditDiff {
    pub number: u32,
    pub editor: UserId,
    #[schema(value_type = String)]
    pub at: Timestamp,
    pub lang: Option<Locale>,
    pub note: String,
    /// Changed fields only, line by line.
    pub fields: Vec<FieldDiff>,
}

// ---------------------------------------------------------------- handlers

#[utoipa::path(get, path = "/api/v1/advisories", tag = "advisories", params(AdvisoryQuery),
    responses((status = 200, description = "newest change first", body = AdvisoryList), (status = 401, body = ErrorBody),
        (status = 404, description = "not the PSIRT", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<WebState>,
    ctx: Ctx,
    query: Result<Query<AdvisoryQuery>, QueryRejection>,
) -> AppResult<Json<AdvisoryList>> {
    ctx.signed_in()?;
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let (rows, more) = app::list(&s.app, &ctx.caller, &q.query()?).await?;
    let readiness = app::readiness(&s.app, &ctx.caller, &rows).await?;
    Ok(Json(AdvisoryList {
        page_size: app::PAGE_SIZE,
        more,
        advisories: rows.iter().zip(readiness).map(list_item).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/advisories", tag = "advisories", request_body = NewAdvisoryInput,
    responses((status = 201, description = "created", body = AdvisoryDetail),
        (status = 200, description = "the advisory made from that case earlier", body = AdvisoryDetail),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<NewAdvisoryInput>,
) -> AppResult<(StatusCode, Json<AdvisoryDetail>)> {
    ctx.signed_in()?;
    let (a, created) = app::create(&s.app, &ctx.caller, body.command(ctx.lang)?).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, detail(&s, &ctx, a).await?))
}

#[utoipa::path(get, path = "/api/v1/advisories/{id}", tag = "advisories",
    params(("id" = String, Path, description = "the advisory's id or tracking id")),
    responses((status = 200, body = AdvisoryDetail), (status = 404, body = ErrorBody)))]
pub async fn get_advisory(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<AdvisoryDetail>> {
    detail(&s, &ctx, app::load(&s.app, &ctx.caller, &id).await?).await
}

#[utoipa::path(put, path = "/api/v1/advisories/{id}/text/{lang}", tag = "advisories",
    params(("id" = String, Path), ("lang" = String, Path, description = "en or ja")),
    request_body = TextInput,
    responses((status = 200, description = "editing one language marks the other outdated until its translator updates or confirms it", body = AdvisoryDetail),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_text(
    State(s): State<WebState>,
    ctx: Ctx,
    Path((id, lang)): Path<(String, String)>,
    ApiJson(body): ApiJson<TextInput>,
) -> AppResult<Json<AdvisoryDetail>> {
    let cmd = body.command(&id, ctx.id(&lang)?);
    detail(&s, &ctx, app::edit_text(&s.app, &ctx.caller, cmd).await?).await
}

#[utoipa::path(put, path = "/api/v1/advisories/{id}/facts", tag = "advisories",
    params(("id" = String, Path)), request_body = FactsBody,
    responses((status = 200, body = AdvisoryDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_facts(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FactsBody>,
) -> AppResult<Json<AdvisoryDetail>> {
    let a = app::edit_facts(&s.app, &ctx.caller, &id, body.facts, body.revision).await?;
    detail(&s, &ctx, a).await
}

#[utoipa::path(post, path = "/api/v1/advisories/{id}/reviews", tag = "advisories",
    params(("id" = String, Path)), request_body = ReviewInput,
    responses((status = 200, body = AdvisoryDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, description = "bad input; an author approving their own draft is refused naming `verdict`", body = ErrorBody)))]
pub async fn review(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReviewInput>,
) -> AppResult<Json<AdvisoryDetail>> {
    ctx.signed_in()?;
    let cmd = body.command(&id)?;
    detail(&s, &ctx, app::review(&s.app, &ctx.caller, cmd).await?).await
}

#[utoipa::path(post, path = "/api/v1/advisories/{id}/schedule", tag = "advisories",
    params(("id" = String, Path)), request_body = ScheduleInput,
    responses((status = 200, body = AdvisoryDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, description = "bad input, or the draft is not approved by someone other than its authors (`review`)", body = ErrorBody)))]
pub async fn schedule(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScheduleInput>,
) -> AppResult<Json<AdvisoryDetail>> {
    ctx.signed_in()?;
    let a = match body.release()? {
        Some(r) => app::schedule(&s.app, &ctx.caller, &id, r, body.revision).await?,
        None => app::unschedule(&s.app, &ctx.caller, &id, body.revision).await?,
    };
    detail(&s, &ctx, a).await
}

#[utoipa::path(get, path = "/api/v1/advisories/{id}/edits/{number}", tag = "advisories",
    params(("id" = String, Path), ("number" = u32, Path, description = "the edit's number, from 1")),
    responses((status = 200, body = EditDiff), (status = 404, body = ErrorBody)))]
pub async fn edit_diff(
    State(s): State<WebState>,
    ctx: Ctx,
    Path((id, number)): Path<(String, String)>,
) -> AppResult<Json<EditDiff>> {
    let (_, edit, fields) = app::edit_diff(&s.app, &ctx.caller, &id, ctx.id(&number)?).await?;
    Ok(Json(EditDiff {
        number: edit.number,
        editor: edit.editor,
        at: edit.at,
        lang: edit.lang,
        note: edit.note,
        fields,
    }))
}
