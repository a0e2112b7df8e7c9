//! The partner portal through the REST API (`/api/v1/partner/…`): a partner contact's
//! packages, their partner CSAF documents, questions and alerts, the same use cases as the
//! portal's pages ([`keikai_app::partners`]). Anyone without a valid agreement finds nothing
//! here: every use case starts from the caller's seat.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use keikai_app::partners::{self as app, Ask};
use keikai_domain::advisory::{Content, Localized, Tlp};
use keikai_domain::partner::Audience;
use keikai_domain::{AdvisoryId, ReleaseId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::ctx::Ctx;
use crate::http::error::{AppResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::state::WebState;

// ---------------------------------------------------------------- request bodies

#[derive(Debug, Deserialize, ToSchema)]
pub struct AskInput {
    pub text: String,
}

impl AskInput {
    pub fn command(self, release: ReleaseId, advisory: AdvisoryId) -> Ask {
        Ask {
            release,
            advisory,
            text: self.text,
        }
    }
}

// ---------------------------------------------------------------- responses

/// A package as the partner portal lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackageSummary {
    pub release: ReleaseId,
    pub title: String,
    /// The public release time: the embargo lifts then.
    #[schema(value_type = String)]
    pub embargo_until: Timestamp,
    #[schema(value_type = String)]
    pub delivered_at: Timestamp,
    pub tlp: Tlp,
    pub advisories: usize,
}

impl From<&app::Package> for PackageSummary {
    fn from(p: &app::Package) -> Self {
        Self {
            release: p.release.id(),
            title: p.release.title().to_owned(),
            embargo_until: p.embargo_until(),
            delivered_at: p.delivered_at,
            tlp: p.tlp(),
            advisories: p.items.len(),
        }
    }
}

/// One advisory of a package.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackageAdvisory {
    pub id: AdvisoryId,
    pub tracking_id: String,
    pub version: u32,
    pub content: Content,
    pub partner_edition: Option<PartnerEditionView>,
    pub questions: Vec<QuestionView>,
    /// Where the partner CSAF document (with the receiving organisation) is downloaded.
    pub csaf_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerEditionView {
    pub technical_details: Localized<String>,
    pub detection_guidance: Localized<String>,
    pub indicators: Vec<String>,
    pub tlp: Tlp,
}

/// A question as one partner organisation sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionView {
    #[schema(value_type = String)]
    pub id: uuid::Uuid,
    /// Whether this organisation asked it.
    pub ours: bool,
    pub text: String,
    #[schema(value_type = String)]
    pub asked_at: Timestamp,
    pub answers: Vec<AnswerView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerView {
    pub text: String,
    pub audience: Audience,
    #[schema(value_type = String)]
    pub at: Timestamp,
}

impl From<&app::SeenQuestion> for QuestionView {
    fn from(s: &app::SeenQuestion) -> Self {
        let q = &s.question;
        Self {
            id: q.id,
            ours: s.ours,
            text: q.text.clone(),
            asked_at: q.asked_at,
            answers: q
                .answers
                .iter()
                .map(|a| AnswerView {
                    text: a.text.clone(),
                    audience: a.audience,
                    at: a.at,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PackageDetail {
    pub package: PackageSummary,
    pub organisation: String,
    pub advisories: Vec<PackageAdvisory>,
}

impl From<&app::OpenedPackage> for PackageDetail {
    fn from(o: &app::OpenedPackage) -> Self {
        let release = o.package.release.id();
        Self {
            package: (&o.package).into(),
            organisation: o.organisation.clone(),
            advisories: o
                .package
                .items
                .iter()
                .map(|i| PackageAdvisory {
                    id: i.advisory.id,
                    tracking_id: i.advisory.tracking_id.clone(),
                    version: i.version.number,
                    content: i.version.content.clone(),
                    partner_edition: i.edition.as_ref().map(|e| PartnerEditionView {
                        technical_details: e.technical_details.clone(),
                        detection_guidance: e.detection_guidance.clone(),
                        indicators: e.indicators.clone(),
                        tlp: e.tlp,
                    }),
                    questions: o
                        .questions_about(i.advisory.id)
                        .map(QuestionView::from)
                        .collect(),
                    csaf_url: format!(
                        "/partner/releases/{release}/advisories/{}/csaf",
                        i.advisory.id
                    ),
                })
                .collect(),
        }
    }
}

/// An alert as a partner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    #[schema(value_type = String)]
    pub id: uuid::Uuid,
    pub title: String,
    pub body: String,
    pub tlp: Tlp,
    #[schema(value_type = String)]
    pub sent_at: Timestamp,
    /// When someone of this organisation acknowledged it.
    #[schema(value_type = Option<String>)]
    pub acknowledged_at: Option<Timestamp>,
}

impl From<app::SeatAlert> for AlertView {
    fn from(a: app::SeatAlert) -> Self {
        Self {
            id: a.id,
            title: a.title,
            body: a.body,
            tlp: a.tlp,
            sent_at: a.sent_at,
            acknowledged_at: a.acknowledged_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Acknowledged {
    /// `false` when this user had acknowledged it before.
    pub first: bool,
}

// ---------------------------------------------------------------- handlers

#[utoipa::path(get, path = "/api/v1/partner/packages", tag = "partner portal",
    responses((status = 200, body = Vec<PackageSummary>), (status = 404, description = "no valid partner agreement", body = ErrorBody)))]
pub async fn api_packages(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<PackageSummary>>> {
    let packages = app::packages(&state.app, &ctx.caller).await?;
    Ok(Json(packages.iter().map(PackageSummary::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/partner/packages/{release}", tag = "partner portal",
    params(("release" = String, Path)),
    responses((status = 200, body = PackageDetail), (status = 404, body = ErrorBody)))]
pub async fn api_package(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(release): Path<String>,
) -> AppResult<Json<PackageDetail>> {
    let release = ctx.id(&release)?;
    let opened = app::open_package(&state.app, &ctx.caller, release).await?;
    Ok(Json((&opened).into()))
}

/// `GET …/advisories/{advisory}/csaf` (portal and API): the partner CSAF document, named
/// for the receiving organisation; every download is logged first.
#[utoipa::path(get, path = "/api/v1/partner/packages/{release}/advisories/{advisory}/csaf",
    tag = "partner portal", params(("release" = String, Path), ("advisory" = String, Path)),
    responses((status = 200, description = "the CSAF 2.0 document (TLP:AMBER), as an attachment named for the receiving organisation", content_type = "application/json"),
        (status = 404, body = ErrorBody)))]
pub async fn download_csaf(
    State(state): State<WebState>,
    ctx: Ctx,
    Path((release, advisory)): Path<(String, String)>,
) -> AppResult<Response> {
    let (release, advisory) = (ctx.id(&release)?, ctx.id(&advisory)?);
    let file = app::download_csaf(&state.app, &ctx.caller, release, advisory).await?;
    let disposition =
        keikai_domain::attachment::AttachmentName::sanitise(&file.name).content_disposition(false);
    let mut res = (StatusCode::OK, file.bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[utoipa::path(post, path = "/api/v1/partner/packages/{release}/advisories/{advisory}/questions",
    tag = "partner portal", params(("release" = String, Path), ("advisory" = String, Path)),
    request_body = AskInput,
    responses((status = 201, body = QuestionView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_ask(
    State(state): State<WebState>,
    ctx: Ctx,
    Path((release, advisory)): Path<(String, String)>,
    ApiJson(body): ApiJson<AskInput>,
) -> AppResult<(StatusCode, Json<QuestionView>)> {
    let cmd = body.command(ctx.id(&release)?, ctx.id(&advisory)?);
    let q = app::ask(&state.app, &ctx.caller, cmd).await?;
    Ok((StatusCode::CREATED, Json((&q).into())))
}

#[utoipa::path(get, path = "/api/v1/partner/alerts", tag = "partner portal",
    responses((status = 200, body = Vec<AlertView>), (status = 404, body = ErrorBody)))]
pub async fn api_alerts(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<AlertView>>> {
    let alerts = app::alerts(&state.app, &ctx.caller).await?;
    Ok(Json(alerts.into_iter().map(AlertView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/partner/alerts/{id}/ack", tag = "partner portal",
    params(("id" = String, Path)),
    responses((status = 200, body = Acknowledged), (status = 404, body = ErrorBody)))]
pub async fn api_acknowledge(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Acknowledged>> {
    let id = ctx.id(&id)?;
    Ok(Json(Acknowledged {
        first: app::acknowledge(&state.app, &ctx.caller, id).await?,
    }))
}
