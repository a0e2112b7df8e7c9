//! Cases through the REST API: the same operations as the case pages (see [`crate::cases`]),
//! as JSON. Bad input answers 422 naming the field; a case the caller may not see, 404; a
//! change based on a stale revision, 409.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use keikai_domain::audit::AuditEntry;
use keikai_domain::case::{
    Case, CaseClock, CaseKind, CaseMessage, CaseState, Report, Visibility, VulnerabilityInput,
};
use keikai_domain::{OrgId, UserId, VulnerabilityId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::cases::{
    self, AssignmentInput, CaseQuery, ProductStatusInput, TransitionInput, lenient_i64,
};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::state::AppState;

/// A row of the case list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseListItem {
    pub number: i64,
    pub title: String,
    pub kind: CaseKind,
    pub state: CaseState,
    pub severity: Option<String>,
    pub emergency: bool,
    pub owner: Option<UserId>,
    pub team: Option<OrgId>,
    /// The earliest deadline not yet met.
    #[schema(value_type = Option<String>)]
    pub next_deadline: Option<Timestamp>,
    /// Whether that deadline has passed.
    pub overdue: bool,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    /// How many cases match, on all pages.
    pub total: u64,
    pub page_size: u32,
    pub cases: Vec<CaseListItem>,
}

/// What the PSIRT and the assigned team see beyond the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseInternals {
    pub case: Case,
    /// SLA and CRA clocks now.
    pub clocks: Vec<CaseClock>,
    /// The states the case may move to from here.
    pub next_states: Vec<CaseState>,
}

/// One case. The reporter sees their report and where it stands; `internal` is there only
/// for the PSIRT and the team the case is assigned to.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    pub number: i64,
    pub title: String,
    pub state: CaseState,
    pub report: Report,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
    /// The revision to send back with a change (a change based on an older one is refused).
    pub revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal: Option<CaseInternals>,
}

fn detail(state: &AppState, ctx: &Ctx, case: Case) -> CaseDetail {
    let internal = ctx
        .allows(cases::internals_action(&case))
        .then(|| CaseInternals {
            clocks: case.clocks(&state.config.severity_scale, state.clock.now()),
            next_states: case.state.next(case.report.kind).to_vec(),
            case: case.clone(),
        });
    CaseDetail {
        number: case.number,
        title: case.title,
        state: case.state,
        report: case.report,
        created_at: case.created_at,
        updated_at: case.updated_at,
        revision: case.revision,
        internal,
    }
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery),
    responses((status = 200, body = CaseList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: Result<Query<CaseQuery>, QueryRejection>,
) -> AppResult<Json<CaseList>> {
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let (rows, total) = cases::list(&state, &ctx, &q).await?;
    let now = state.clock.now();
    // Who owns a case and which team works on it are internal matters.
    let internal = ctx.allows(keikai_domain::Action::ViewProducts);
    let cases = rows
        .into_iter()
        .map(|r| CaseListItem {
            overdue: cases::is_overdue(&r, now),
            number: r.number,
            title: r.title,
            kind: r.kind,
            state: r.state,
            severity: r.severity,
            emergency: r.emergency,
            owner: r.owner.filter(|_| internal),
            team: r.team.filter(|_| internal),
            next_deadline: r.next_deadline,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect();
    Ok(Json(CaseList {
        total,
        page_size: cases::PAGE_SIZE,
        cases,
    }))
}

#[utoipa::path(get, path = "/api/v1/cases/{number}", tag = "cases",
    params(("number" = i64, Path)),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody)))]
pub async fn get_case(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> AppResult<Json<CaseDetail>> {
    let case = cases::load(&state, &ctx, &number).await?;
    Ok(Json(detail(&state, &ctx, case)))
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/transitions", tag = "cases",
    params(("number" = i64, Path)), request_body = TransitionInput,
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, description = "bad input, or a move the workflow does not allow (the message names the allowed states)", body = ErrorBody)))]
pub async fn transition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TransitionInput>,
) -> AppResult<Json<CaseDetail>> {
    let case = cases::transition(&state, &ctx, &number, &body).await?;
    Ok(Json(detail(&state, &ctx, case)))
}

/// A vulnerability's fields, with the revision the change is based on.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VulnerabilityBody {
    #[serde(flatten)]
    pub vulnerability: VulnerabilityInput,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedVulnerability {
    pub id: VulnerabilityId,
    pub case: CaseDetail,
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/vulnerabilities", tag = "cases",
    params(("number" = i64, Path)), request_body = VulnerabilityBody,
    responses((status = 201, body = SavedVulnerability), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_vulnerability(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<VulnerabilityBody>,
) -> AppResult<(StatusCode, Json<SavedVulnerability>)> {
    let (case, id) = cases::save_vulnerability(
        &state,
        &ctx,
        &number,
        None,
        &body.vulnerability,
        body.revision,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SavedVulnerability {
            id,
            case: detail(&state, &ctx, case),
        }),
    ))
}

#[utoipa::path(put, path = "/api/v1/cases/{number}/vulnerabilities/{id}", tag = "cases",
    params(("number" = i64, Path), ("id" = VulnerabilityId, Path)), request_body = VulnerabilityBody,
    responses((status = 200, body = SavedVulnerability), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_vulnerability(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<VulnerabilityBody>,
) -> AppResult<Json<SavedVulnerability>> {
    let (case, id) = cases::save_vulnerability(
        &state,
        &ctx,
        &number,
        Some(&id),
        &body.vulnerability,
        body.revision,
    )
    .await?;
    Ok(Json(SavedVulnerability {
        id,
        case: detail(&state, &ctx, case),
    }))
}

#[utoipa::path(put, path = "/api/v1/cases/{number}/vulnerabilities/{id}/product-statuses", tag = "cases",
    params(("number" = i64, Path), ("id" = VulnerabilityId, Path)), request_body = ProductStatusInput,
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_product_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ProductStatusInput>,
) -> AppResult<Json<CaseDetail>> {
    let case = cases::set_product_status(&state, &ctx, &number, &id, &body).await?;
    Ok(Json(detail(&state, &ctx, case)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MessageInput {
    /// `internal` (a note for the PSIRT and the team) or `reporter` (the conversation with
    /// the reporter).
    pub visibility: String,
    pub body: String,
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/messages", tag = "cases",
    params(("number" = i64, Path)), request_body = MessageInput,
    responses((status = 201, body = CaseMessage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_message(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<MessageInput>,
) -> AppResult<(StatusCode, Json<CaseMessage>)> {
    // Signed in and able to see the case before the input is judged.
    cases::load(&state, &ctx, &number).await?;
    let visibility: Visibility = body.visibility.trim().parse()?;
    let message =
        cases::add_message(&state, &ctx, &number, visibility, &body.body, Vec::new()).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

#[utoipa::path(get, path = "/api/v1/cases/{number}/messages", tag = "cases",
    params(("number" = i64, Path)),
    responses((status = 200, description = "oldest first; the reporter gets their conversation only", body = Vec<CaseMessage>), (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> AppResult<Json<Vec<CaseMessage>>> {
    let case = cases::load(&state, &ctx, &number).await?;
    Ok(Json(cases::messages(&state, &ctx, &case).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{number}/history", tag = "cases",
    params(("number" = i64, Path)),
    responses((status = 200, description = "the case's audit entries, oldest first", body = Vec<AuditEntry>), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> AppResult<Json<Vec<AuditEntry>>> {
    Ok(Json(cases::history(&state, &ctx, &number).await?.1))
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/assignment", tag = "cases",
    params(("number" = i64, Path)), request_body = AssignmentInput,
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<AssignmentInput>,
) -> AppResult<Json<CaseDetail>> {
    let case = cases::assign(&state, &ctx, &number, &body).await?;
    Ok(Json(detail(&state, &ctx, case)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmergencyInput {
    /// `true` declares an emergency (and notifies the PSIRT), `false` ends it.
    pub declared: bool,
    /// Why; required to declare.
    #[serde(default)]
    pub reason: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/emergency", tag = "cases",
    params(("number" = i64, Path)), request_body = EmergencyInput,
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn emergency(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<EmergencyInput>,
) -> AppResult<Json<CaseDetail>> {
    let case = if body.declared {
        cases::declare_emergency(&state, &ctx, &number, &body.reason, body.revision).await?
    } else {
        cases::end_emergency(&state, &ctx, &number, body.revision).await?
    };
    Ok(Json(detail(&state, &ctx, case)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RevisionInput {
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/cra/{report}", tag = "cases",
    params(("number" = i64, Path), ("report" = String, Path, description = "early_warning, notification or final_report")),
    request_body(content = RevisionInput, description = "send {} or the revision"),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark_cra_sent(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, report)): Path<(String, String)>,
    ApiJson(body): ApiJson<RevisionInput>,
) -> AppResult<Json<CaseDetail>> {
    let case = cases::mark_cra_sent(&state, &ctx, &number, &report, body.revision).await?;
    Ok(Json(detail(&state, &ctx, case)))
}
