//! Advisories and releases through the REST API: the same operations as the editor pages
//! (see [`crate::advisories`]), as JSON. Only the PSIRT sees drafts: anyone else gets 404.
//! Bad input answers 422 naming the field; a change based on a stale revision, 409.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use keikai_domain::advisory::{Advisory, AdvisoryState, FieldDiff, Localized, Readiness};
use keikai_domain::release::{Release, ReleaseState, display_in};
use keikai_domain::{AdvisoryId, CaseId, Locale, ReleaseId, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::advisories::{
    self, AdvisoryQuery, FactsBody, NewAdvisoryInput, NewReleaseInput, ReviewInput, ScheduleInput,
    TextInput,
};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::state::AppState;

/// One advisory with what the release-readiness page says about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryDetail {
    pub advisory: Advisory,
    pub readiness: Readiness,
}

fn detail(advisory: Advisory) -> AdvisoryDetail {
    AdvisoryDetail {
        readiness: advisory.readiness(),
        advisory,
    }
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

fn list_item(a: &Advisory) -> AdvisoryListItem {
    AdvisoryListItem {
        id: a.id,
        tracking_id: a.tracking_id.clone(),
        title: Localized {
            en: a.content.text.en.title.clone(),
            ja: a.content.text.ja.title.clone(),
        },
        state: a.state,
        case_id: a.case_id,
        release: a.release,
        readiness: a.readiness(),
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

#[utoipa::path(get, path = "/api/v1/advisories", tag = "advisories", params(AdvisoryQuery),
    responses((status = 200, description = "newest change first", body = AdvisoryList), (status = 401, body = ErrorBody),
        (status = 404, description = "not the PSIRT", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: Result<Query<AdvisoryQuery>, QueryRejection>,
) -> AppResult<Json<AdvisoryList>> {
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let (rows, more) = advisories::list(&state, &ctx, &q).await?;
    Ok(Json(AdvisoryList {
        page_size: advisories::PAGE_SIZE,
        more,
        advisories: rows.iter().map(list_item).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/advisories", tag = "advisories", request_body = NewAdvisoryInput,
    responses((status = 201, description = "created", body = AdvisoryDetail),
        (status = 200, description = "the advisory made from that case earlier", body = AdvisoryDetail),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<NewAdvisoryInput>,
) -> AppResult<(StatusCode, Json<AdvisoryDetail>)> {
    let (a, created) = advisories::create(&state, &ctx, &body).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(detail(a))))
}

#[utoipa::path(get, path = "/api/v1/advisories/{id}", tag = "advisories",
    params(("id" = String, Path, description = "the advisory's id or tracking id")),
    responses((status = 200, body = AdvisoryDetail), (status = 404, body = ErrorBody)))]
pub async fn get_advisory(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<AdvisoryDetail>> {
    Ok(Json(detail(advisories::load(&state, &ctx, &id).await?)))
}

#[utoipa::path(put, path = "/api/v1/advisories/{id}/text/{lang}", tag = "advisories",
    params(("id" = String, Path), ("lang" = String, Path, description = "en or ja")),
    request_body = TextInput,
    responses((status = 200, description = "editing one language marks the other outdated until its translator updates or confirms it", body = AdvisoryDetail),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_text(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, lang)): Path<(String, String)>,
    ApiJson(body): ApiJson<TextInput>,
) -> AppResult<Json<AdvisoryDetail>> {
    let a = advisories::edit_text(&state, &ctx, &id, &lang, &body).await?;
    Ok(Json(detail(a)))
}

#[utoipa::path(put, path = "/api/v1/advisories/{id}/facts", tag = "advisories",
    params(("id" = String, Path)), request_body = FactsBody,
    responses((status = 200, body = AdvisoryDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_facts(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FactsBody>,
) -> AppResult<Json<AdvisoryDetail>> {
    let a = advisories::edit_facts(&state, &ctx, &id, &body.facts, body.revision).await?;
    Ok(Json(detail(a)))
}

#[utoipa::path(post, path = "/api/v1/advisories/{id}/reviews", tag = "advisories",
    params(("id" = String, Path)), request_body = ReviewInput,
    responses((status = 200, body = AdvisoryDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, description = "bad input; an author approving their own draft is refused naming `verdict`", body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReviewInput>,
) -> AppResult<Json<AdvisoryDetail>> {
    let a = advisories::review(&state, &ctx, &id, &body).await?;
    Ok(Json(detail(a)))
}

#[utoipa::path(post, path = "/api/v1/advisories/{id}/schedule", tag = "advisories",
    params(("id" = String, Path)), request_body = ScheduleInput,
    responses((status = 200, body = AdvisoryDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, description = "bad input, or the draft is not approved by someone other than its authors (`review`)", body = ErrorBody)))]
pub async fn schedule(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScheduleInput>,
) -> AppResult<Json<AdvisoryDetail>> {
    let a = advisories::schedule(&state, &ctx, &id, &body).await?;
    Ok(Json(detail(a)))
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

#[utoipa::path(get, path = "/api/v1/advisories/{id}/edits/{number}", tag = "advisories",
    params(("id" = String, Path), ("number" = u32, Path, description = "the edit's number, from 1")),
    responses((status = 200, body = EditDiff), (status = 404, body = ErrorBody)))]
pub async fn edit_diff(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, number)): Path<(String, String)>,
) -> AppResult<Json<EditDiff>> {
    let (_, edit, fields) = advisories::edit_diff(&state, &ctx, &id, &number).await?;
    Ok(Json(EditDiff {
        number: edit.number,
        editor: edit.editor,
        at: edit.at,
        lang: edit.lang,
        note: edit.note,
        fields,
    }))
}

// ---------------------------------------------------------------- releases

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseView {
    pub id: ReleaseId,
    /// `monthly` or `out_of_band`.
    pub kind: String,
    pub state: ReleaseState,
    pub title: String,
    #[schema(value_type = String)]
    pub scheduled_at: Timestamp,
    /// `scheduled_at` in the release schedule's zone, e.g. `2026-03-10 10:00 PDT`.
    pub scheduled_at_local: String,
    /// The release schedule's zone.
    pub zone: String,
    #[schema(value_type = Option<String>)]
    pub published_at: Option<Timestamp>,
    pub revision: i64,
}

fn release_view(state: &AppState, r: &Release) -> ReleaseView {
    let schedule = &state.config.publishing.schedule;
    ReleaseView {
        id: r.id(),
        kind: advisories::kind_str(r.kind()).to_owned(),
        state: r.state(),
        title: r.title().to_owned(),
        scheduled_at: r.scheduled_at(),
        scheduled_at_local: display_in(r.scheduled_at(), schedule.zone()),
        zone: schedule.zone_name().to_owned(),
        published_at: r.published_at(),
        revision: r.revision,
    }
}

#[utoipa::path(get, path = "/api/v1/releases", tag = "releases",
    responses((status = 200, description = "planned releases soonest first, then those gone out, latest first", body = Vec<ReleaseView>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_releases(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<ReleaseView>>> {
    let (planned, gone) = advisories::releases(&state, &ctx, usize::MAX).await?;
    Ok(Json(
        planned
            .iter()
            .chain(gone.iter())
            .map(|r| release_view(&state, r))
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/releases", tag = "releases", request_body = NewReleaseInput,
    responses((status = 201, body = ReleaseView), (status = 404, body = ErrorBody),
        (status = 422, description = "bad input; a monthly release off its month's instant, or a time not in the future, is refused naming `scheduled_at`", body = ErrorBody)))]
pub async fn plan_release(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<NewReleaseInput>,
) -> AppResult<(StatusCode, Json<ReleaseView>)> {
    let r = advisories::plan_release(&state, &ctx, &body).await?;
    Ok((StatusCode::CREATED, Json(release_view(&state, &r))))
}

/// One advisory of a release, with what stands between it and publication.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessRow {
    pub id: AdvisoryId,
    pub tracking_id: String,
    pub title: Localized<String>,
    pub state: AdvisoryState,
    /// `ready`: it will be published with the release (scheduled and approved).
    pub readiness: Readiness,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseDetail {
    pub release: ReleaseView,
    pub advisories: Vec<ReadinessRow>,
}

#[utoipa::path(get, path = "/api/v1/releases/{id}", tag = "releases",
    params(("id" = ReleaseId, Path)),
    responses((status = 200, description = "the release and its readiness: every advisory planned for it, in any state", body = ReleaseDetail),
        (status = 404, body = ErrorBody)))]
pub async fn get_release(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<ReleaseDetail>> {
    let (release, list) = advisories::release_readiness(&state, &ctx, &id).await?;
    Ok(Json(ReleaseDetail {
        release: release_view(&state, &release),
        advisories: list
            .iter()
            .map(|a| ReadinessRow {
                id: a.id,
                tracking_id: a.tracking_id.clone(),
                title: Localized {
                    en: a.content.text.en.title.clone(),
                    ja: a.content.text.ja.title.clone(),
                },
                state: a.state,
                readiness: a.readiness(),
            })
            .collect(),
    }))
}
