//! The partner programme through the REST API, the PSIRT's side: agreements, partner
//! editions, questions and answers, alerts and the access trail, the same use cases as the
//! overview page ([`keikai_app::partners`]). The partners' own API is
//! [`crate::api::partner_portal`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use keikai_app::partners::{self as app, AnswerQuestion};
use keikai_domain::partner::{
    AccessKind, Agreement, AgreementInput, AgreementStatus, Alert, AlertInput, Audience,
    PartnerEdition, PartnerEditionInput, Question,
};
use keikai_domain::{OrgId, ReleaseId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::ctx::Ctx;
use crate::http::error::{AppResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::state::WebState;

// ---------------------------------------------------------------- request bodies

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeInput {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerInput {
    pub text: String,
    pub audience: Audience,
}

impl AnswerInput {
    pub fn command(self, question: uuid::Uuid) -> AnswerQuestion {
        AnswerQuestion {
            question,
            text: self.text,
            audience: self.audience,
        }
    }
}

// ---------------------------------------------------------------- responses

/// A partner organisation with its agreement, as the PSIRT sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerRow {
    pub org_id: OrgId,
    pub name: String,
    pub agreement: Option<Agreement>,
    pub status: Option<AgreementStatus>,
}

impl From<app::Partner> for PartnerRow {
    fn from(p: app::Partner) -> Self {
        Self {
            org_id: p.org.id,
            name: p.org.name.to_string(),
            agreement: p.agreement,
            status: p.status,
        }
    }
}

/// An alert with who acknowledged it and who did not.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertReport {
    pub alert: Alert,
    pub acknowledged: Vec<AckRow>,
    /// Recipient organisations nobody of which acknowledged.
    pub not_acknowledged: Vec<OrgRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AckRow {
    pub org_id: OrgId,
    pub organisation: String,
    pub user_id: UserId,
    #[schema(value_type = String)]
    pub at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRef {
    pub org_id: OrgId,
    pub name: String,
}

impl From<app::AlertReport> for AlertReport {
    fn from(r: app::AlertReport) -> Self {
        Self {
            alert: r.alert,
            acknowledged: r
                .acknowledged
                .into_iter()
                .map(|k| AckRow {
                    org_id: k.org_id,
                    organisation: k.organisation,
                    user_id: k.user_id,
                    at: k.at,
                })
                .collect(),
            not_acknowledged: r
                .not_acknowledged
                .into_iter()
                .map(|(org_id, name)| OrgRef { org_id, name })
                .collect(),
        }
    }
}

/// One line of the access trail, with names.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRow {
    #[schema(value_type = String)]
    pub at: Timestamp,
    pub organisation: String,
    pub user: String,
    pub kind: AccessKind,
    pub release: Option<ReleaseId>,
    pub advisory: Option<String>,
    #[schema(value_type = Option<String>)]
    pub alert: Option<uuid::Uuid>,
    pub detail: String,
}

impl From<app::AccessLine> for AccessRow {
    fn from(l: app::AccessLine) -> Self {
        Self {
            at: l.at,
            organisation: l.organisation,
            user: l.user,
            kind: l.kind,
            release: l.release,
            advisory: l.advisory,
            alert: l.alert,
            detail: l.detail,
        }
    }
}

fn all<T, U: From<T>>(items: Vec<T>) -> Json<Vec<U>> {
    Json(items.into_iter().map(U::from).collect())
}

// ---------------------------------------------------------------- handlers

#[utoipa::path(get, path = "/api/v1/partners", tag = "partners",
    responses((status = 200, body = Vec<PartnerRow>), (status = 404, body = ErrorBody)))]
pub async fn api_partners(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<PartnerRow>>> {
    Ok(all(app::partners(&state.app, &ctx.caller).await?))
}

#[utoipa::path(put, path = "/api/v1/partners/{org}/agreement", tag = "partners",
    params(("org" = String, Path)), request_body = AgreementInput,
    responses((status = 200, body = Agreement), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_put_agreement(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<AgreementInput>,
) -> AppResult<Json<Agreement>> {
    let org = ctx.id(&org)?;
    Ok(Json(
        app::record_agreement(&state.app, &ctx.caller, org, body).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/partners/{org}/revoke", tag = "partners",
    params(("org" = String, Path)), request_body = RevokeInput,
    responses((status = 200, body = Agreement), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_revoke(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<RevokeInput>,
) -> AppResult<Json<Agreement>> {
    let org = ctx.id(&org)?;
    Ok(Json(
        app::revoke_agreement(&state.app, &ctx.caller, org, &body.reason).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/advisories/{id}/partner-edition", tag = "partners",
    params(("id" = String, Path)),
    responses((status = 200, body = Option<PartnerEdition>), (status = 404, body = ErrorBody)))]
pub async fn api_get_edition(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Option<PartnerEdition>>> {
    Ok(Json(app::edition(&state.app, &ctx.caller, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/advisories/{id}/partner-edition", tag = "partners",
    params(("id" = String, Path)), request_body = PartnerEditionInput,
    responses((status = 200, body = PartnerEdition), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_put_edition(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PartnerEditionInput>,
) -> AppResult<Json<PartnerEdition>> {
    Ok(Json(
        app::put_edition(&state.app, &ctx.caller, &id, body).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/partners/questions", tag = "partners",
    responses((status = 200, body = Vec<Question>), (status = 404, body = ErrorBody)))]
pub async fn api_questions(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<Question>>> {
    Ok(Json(app::questions(&state.app, &ctx.caller).await?))
}

#[utoipa::path(post, path = "/api/v1/partners/questions/{id}/answers", tag = "partners",
    params(("id" = String, Path)), request_body = AnswerInput,
    responses((status = 200, body = Question), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_answer(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerInput>,
) -> AppResult<Json<Question>> {
    let id = ctx.id(&id)?;
    Ok(Json(
        app::answer(&state.app, &ctx.caller, body.command(id)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/partners/alerts", tag = "partners", request_body = AlertInput,
    responses((status = 201, body = AlertReport), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_send_alert(
    State(state): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<AlertInput>,
) -> AppResult<(StatusCode, Json<AlertReport>)> {
    let report = app::send_alert(&state.app, &ctx.caller, body).await?;
    Ok((StatusCode::CREATED, Json(report.into())))
}

#[utoipa::path(get, path = "/api/v1/partners/alerts", tag = "partners",
    responses((status = 200, body = Vec<AlertReport>), (status = 404, body = ErrorBody)))]
pub async fn api_list_alerts(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<AlertReport>>> {
    Ok(all(app::alert_reports(&state.app, &ctx.caller).await?))
}

#[utoipa::path(get, path = "/api/v1/partners/access", tag = "partners",
    responses((status = 200, description = "newest first", body = Vec<AccessRow>), (status = 404, body = ErrorBody)))]
pub async fn api_access(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<AccessRow>>> {
    Ok(all(app::access_trail(&state.app, &ctx.caller).await?))
}
