//! The partner programme over HTTP: the PSIRT's side (agreements, partner editions, answers,
//! alerts, the access trail) and the partner portal.
//!
//! Isolation is the point. Every portal route starts from [`seat`]: the signed-in partner
//! contact's organisation with an agreement valid *now*; without one, everything answers 404.
//! A package is visible only from its tier's delivery time, and only the advisories in the
//! organisation's product scope; questions of other organisations are reduced to the answers
//! addressed to everyone. Nothing here is cached, so an expired or revoked agreement, or a
//! moved release, takes effect on the next request.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use keikai_domain::advisory::publication::{PartnerCsaf, ProductNames, partner_csaf_document};
use keikai_domain::advisory::{Advisory, AdvisoryState, PublishedVersion, Tlp};
use keikai_domain::audit::Change;
use keikai_domain::partner::{
    AccessKind, Agreement, AgreementInput, AgreementStatus, Alert, AlertInput, Audience,
    BranchParents, PartnerEdition, PartnerEditionInput, Question,
};
use keikai_domain::release::Release;
use keikai_domain::{Action, AdvisoryId, OrgId, OrgKind, Organisation, ReleaseId, Role, UserId};
use keikai_store::{AccessRecord, AdvisoryFilter, AlertAck, Effects};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::forms::csv_field;
use crate::http::state::AppState;

// ------------------------------------------------------------------------------ the seat

/// The organisation a partner contact acts for, with its agreement valid now.
pub struct Seat {
    pub user: UserId,
    pub org: Organisation,
    pub agreement: Agreement,
}

/// The caller's partner seat; 404 for anyone without a valid agreement, so that a portal
/// route reveals nothing, not even that the programme has something for them.
pub async fn seat(state: &AppState, ctx: &Ctx) -> AppResult<Seat> {
    let p = ctx.require(Action::UsePartnerPortal)?;
    let now = state.clock.now();
    for m in p
        .memberships
        .iter()
        .filter(|m| m.role == Role::PartnerContact)
    {
        if let Some(a) = state.store.agreement(m.org_id).await?
            && a.is_valid(now)
        {
            return Ok(Seat {
                user: p.user_id,
                org: state.store.get_org(m.org_id).await?,
                agreement: a,
            });
        }
    }
    Err(AppError::not_found())
}

/// One advisory of a package as the partner sees it: the content of the version it belongs
/// to (the upcoming one, or the one published in that release) and the partner edition.
#[derive(Debug, Clone)]
pub struct PackageItem {
    pub advisory: Advisory,
    pub version: PublishedVersion,
    pub edition: Option<PartnerEdition>,
}

/// The releases whose packages the seat sees now, soonest first, with their delivery times.
pub async fn visible_releases(
    state: &AppState,
    seat: &Seat,
) -> AppResult<Vec<(Release, Timestamp)>> {
    let now = state.clock.now();
    let tiers = &state.config.partners;
    let mut out = Vec::new();
    for r in state.store.list_releases(true).await? {
        if seat.agreement.sees_release(&r, tiers, now)
            && let Some(at) = seat.agreement.delivery_at(&r, tiers)
        {
            out.push((r, at));
        }
    }
    out.sort_by_key(|(r, _)| r.scheduled_at());
    Ok(out)
}

/// The release, if the seat sees its package now; else 404.
async fn visible_release(state: &AppState, seat: &Seat, id: ReleaseId) -> AppResult<Release> {
    let r = state.store.get_release(id).await?;
    if seat
        .agreement
        .sees_release(&r, &state.config.partners, state.clock.now())
    {
        Ok(r)
    } else {
        Err(AppError::not_found())
    }
}

/// Every advisory of a release, scheduled or published with it (not drafts: those lost
/// their approval), whatever the scope.
async fn release_items(state: &AppState, release: &Release) -> AppResult<Vec<PackageItem>> {
    let mut out = Vec::new();
    let scheduled = state
        .store
        .list_advisories(&AdvisoryFilter {
            release: Some(release.id()),
            state: Some(AdvisoryState::Scheduled),
            limit: 5000,
            ..AdvisoryFilter::default()
        })
        .await?;
    for a in scheduled {
        let version = PublishedVersion {
            number: u32::try_from(a.versions.len() + 1).unwrap_or(u32::MAX),
            at: release.scheduled_at(),
            summary: a
                .revision_summary
                .clone()
                .unwrap_or_else(|| "Initial release.".to_owned()),
            release: release.id(),
            content: a.content.clone(),
        };
        out.push((a, version));
    }
    if release.published_at().is_some() {
        let published = state
            .store
            .list_advisories(&AdvisoryFilter {
                state: Some(AdvisoryState::Published),
                limit: 5000,
                ..AdvisoryFilter::default()
            })
            .await?;
        for a in published {
            if let Some(v) = a
                .versions
                .iter()
                .find(|v| v.release == release.id())
                .cloned()
            {
                out.push((a, v));
            }
        }
    }
    let mut items = Vec::new();
    for (advisory, version) in out {
        let edition = state.store.partner_edition(advisory.id).await?;
        items.push(PackageItem {
            advisory,
            version,
            edition,
        });
    }
    items.sort_by(|a, b| a.advisory.tracking_id.cmp(&b.advisory.tracking_id));
    Ok(items)
}

/// The advisories of a release in the seat's product scope.
pub async fn package_items(
    state: &AppState,
    seat: &Seat,
    release: &Release,
) -> AppResult<Vec<PackageItem>> {
    let tree = BranchParents::new(&state.store.list_branches().await?);
    Ok(release_items(state, release)
        .await?
        .into_iter()
        .filter(|i| {
            let affected: Vec<_> = i
                .version
                .content
                .vulnerabilities
                .iter()
                .flat_map(|v| v.affected())
                .collect();
            seat.agreement.scope.covers(&affected, &tree)
        })
        .collect())
}

async fn package_item(
    state: &AppState,
    seat: &Seat,
    release: &Release,
    advisory: &str,
) -> AppResult<PackageItem> {
    let id: AdvisoryId = advisory.parse().map_err(|_| AppError::not_found())?;
    package_items(state, seat, release)
        .await?
        .into_iter()
        .find(|i| i.advisory.id == id)
        .ok_or_else(AppError::not_found)
}

async fn log_access(
    state: &AppState,
    seat: &Seat,
    kind: AccessKind,
    f: impl FnOnce(&mut AccessRecord),
) -> AppResult<()> {
    let mut r = AccessRecord::new(state.clock.now(), seat.user, seat.org.id, kind);
    f(&mut r);
    state.store.log_access(&r).await?;
    Ok(())
}

/// The partner CSAF document of one advisory for the seat's organisation: file name and bytes.
pub fn partner_csaf(
    state: &AppState,
    seat: &Seat,
    release: &Release,
    item: &PackageItem,
    products: &ProductNames,
) -> AppResult<(String, Vec<u8>)> {
    let doc = partner_csaf_document(
        &item.advisory,
        &item.version,
        products,
        &state.config.publishing.publisher,
        &PartnerCsaf {
            org_name: seat.org.name.as_str(),
            embargo_until: release.scheduled_at(),
            edition: item.edition.as_ref(),
        },
    )
    .map_err(|e| AppError::invalid("advisory", e.to_string()))?;
    let mut bytes = serde_json::to_vec_pretty(&doc)
        .map_err(|e| AppError::internal(format!("cannot encode the CSAF document: {e}")))?;
    bytes.push(b'\n');
    let name = keikai_domain::partner::partner_file_name(
        &item.advisory.tracking_id,
        seat.org.name.as_str(),
        "json",
    );
    Ok((name, bytes))
}

fn attachment(name: &str, bytes: Vec<u8>) -> Response {
    let disposition =
        keikai_domain::attachment::AttachmentName::sanitise(name).content_disposition(false);
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

// ------------------------------------------------------------------------- portal: JSON

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

/// One advisory of a package.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackageAdvisory {
    pub id: AdvisoryId,
    pub tracking_id: String,
    pub version: u32,
    pub content: keikai_domain::advisory::Content,
    pub partner_edition: Option<PartnerEditionView>,
    pub questions: Vec<QuestionView>,
    /// Where the partner CSAF document (with the receiving organisation) is downloaded.
    pub csaf_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerEditionView {
    pub technical_details: keikai_domain::advisory::Localized<String>,
    pub detection_guidance: keikai_domain::advisory::Localized<String>,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct PackageDetail {
    pub package: PackageSummary,
    pub organisation: String,
    pub advisories: Vec<PackageAdvisory>,
}

fn package_tlp(items: &[PackageItem]) -> Tlp {
    if items.iter().any(|i| {
        i.edition
            .as_ref()
            .is_some_and(|e| e.tlp == Tlp::AmberStrict)
            || i.version.content.tlp == Tlp::AmberStrict
    }) {
        Tlp::AmberStrict
    } else {
        Tlp::Amber
    }
}

fn question_view(q: &Question, org: OrgId) -> Option<QuestionView> {
    let seen = q.as_seen_by(org)?;
    Some(QuestionView {
        id: seen.id,
        ours: seen.org_id == org,
        text: seen.text,
        asked_at: seen.asked_at,
        answers: seen
            .answers
            .into_iter()
            .map(|a| AnswerView {
                text: a.text,
                audience: a.audience,
                at: a.at,
            })
            .collect(),
    })
}

pub async fn package_detail(
    state: &AppState,
    seat: &Seat,
    release: &Release,
    delivered_at: Timestamp,
) -> AppResult<PackageDetail> {
    let items = package_items(state, seat, release).await?;
    let questions = state.store.list_questions(Some(release.id())).await?;
    let advisories = items
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
            questions: questions
                .iter()
                .filter(|q| q.advisory_id == i.advisory.id)
                .filter_map(|q| question_view(q, seat.org.id))
                .collect(),
            csaf_url: format!(
                "/partner/releases/{}/advisories/{}/csaf",
                release.id(),
                i.advisory.id
            ),
        })
        .collect();
    Ok(PackageDetail {
        package: PackageSummary {
            release: release.id(),
            title: release.title().to_owned(),
            embargo_until: release.scheduled_at(),
            delivered_at,
            tlp: package_tlp(&items),
            advisories: items.len(),
        },
        organisation: seat.org.name.to_string(),
        advisories,
    })
}

pub async fn package_summaries(state: &AppState, seat: &Seat) -> AppResult<Vec<PackageSummary>> {
    let mut out = Vec::new();
    for (r, at) in visible_releases(state, seat).await? {
        let items = package_items(state, seat, &r).await?;
        if items.is_empty() {
            continue;
        }
        out.push(PackageSummary {
            release: r.id(),
            title: r.title().to_owned(),
            embargo_until: r.scheduled_at(),
            delivered_at: at,
            tlp: package_tlp(&items),
            advisories: items.len(),
        });
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/partner/packages", tag = "partner portal",
    responses((status = 200, body = Vec<PackageSummary>), (status = 404, description = "no valid partner agreement", body = ErrorBody)))]
pub async fn api_packages(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<PackageSummary>>> {
    let seat = seat(&state, &ctx).await?;
    Ok(Json(package_summaries(&state, &seat).await?))
}

pub async fn open_package(
    state: &AppState,
    ctx: &Ctx,
    release: &str,
) -> AppResult<(Seat, PackageDetail)> {
    let seat = seat(state, ctx).await?;
    let id: ReleaseId = release.parse().map_err(|_| AppError::not_found())?;
    let r = visible_release(state, &seat, id).await?;
    let at = seat
        .agreement
        .delivery_at(&r, &state.config.partners)
        .ok_or_else(AppError::not_found)?;
    let detail = package_detail(state, &seat, &r, at).await?;
    if detail.advisories.is_empty() {
        return Err(AppError::not_found());
    }
    log_access(state, &seat, AccessKind::ViewPackage, |a| {
        a.release_id = Some(id);
    })
    .await?;
    Ok((seat, detail))
}

#[utoipa::path(get, path = "/api/v1/partner/packages/{release}", tag = "partner portal",
    params(("release" = String, Path)),
    responses((status = 200, body = PackageDetail), (status = 404, body = ErrorBody)))]
pub async fn api_package(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(release): Path<String>,
) -> AppResult<Json<PackageDetail>> {
    Ok(Json(open_package(&state, &ctx, &release).await?.1))
}

/// `GET …/advisories/{advisory}/csaf` (portal and API): the partner CSAF document, named
/// for the receiving organisation; every download is logged first.
#[utoipa::path(get, path = "/api/v1/partner/packages/{release}/advisories/{advisory}/csaf",
    tag = "partner portal", params(("release" = String, Path), ("advisory" = String, Path)),
    responses((status = 200, description = "the CSAF 2.0 document (TLP:AMBER), as an attachment named for the receiving organisation", content_type = "application/json"),
        (status = 404, body = ErrorBody)))]
pub async fn download_csaf(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((release, advisory)): Path<(String, String)>,
) -> AppResult<Response> {
    let seat = seat(&state, &ctx).await?;
    let id: ReleaseId = release.parse().map_err(|_| AppError::not_found())?;
    let r = visible_release(&state, &seat, id).await?;
    let item = package_item(&state, &seat, &r, &advisory).await?;
    let products = ProductNames::from_branches(&state.store.list_branches().await?);
    let (name, bytes) = partner_csaf(&state, &seat, &r, &item, &products)?;
    log_access(&state, &seat, AccessKind::Download, |a| {
        a.release_id = Some(id);
        a.advisory_id = Some(item.advisory.id);
        a.detail = name.clone();
    })
    .await?;
    Ok(attachment(&name, bytes))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AskInput {
    pub text: String,
}

pub async fn ask(
    state: &AppState,
    ctx: &Ctx,
    release: &str,
    advisory: &str,
    text: &str,
) -> AppResult<Question> {
    let seat = seat(state, ctx).await?;
    ctx.require(Action::RespondAsPartner)?;
    let id: ReleaseId = release.parse().map_err(|_| AppError::not_found())?;
    let r = visible_release(state, &seat, id).await?;
    let item = package_item(state, &seat, &r, advisory).await?;
    let now = state.clock.now();
    let q = Question::ask(id, item.advisory.id, seat.org.id, seat.user, text, now)?;
    let change = Change::new(
        "partner.question.asked",
        format!("partner-question/{}", q.id),
        serde_json::Value::Null,
        json!({ "release": id, "advisory": item.advisory.tracking_id, "org": seat.org.id }),
    );
    Ok(state
        .store
        .create_question(
            &q,
            &Effects::new(ctx.audit_actor(), q.asked_at).with_audit(change),
        )
        .await?)
}

#[utoipa::path(post, path = "/api/v1/partner/packages/{release}/advisories/{advisory}/questions",
    tag = "partner portal", params(("release" = String, Path), ("advisory" = String, Path)),
    request_body = AskInput,
    responses((status = 201, body = QuestionView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_ask(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((release, advisory)): Path<(String, String)>,
    ApiJson(body): ApiJson<AskInput>,
) -> AppResult<(StatusCode, Json<QuestionView>)> {
    let q = ask(&state, &ctx, &release, &advisory, &body.text).await?;
    let view = question_view(&q, q.org_id).ok_or_else(AppError::not_found)?;
    Ok((StatusCode::CREATED, Json(view)))
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

/// Records that the seat's contact saw these alerts (the portal page and the API list).
pub async fn log_alert_views(state: &AppState, seat: &Seat, alerts: &[AlertView]) -> AppResult<()> {
    for a in alerts {
        log_access(state, seat, AccessKind::ViewAlert, |r| {
            r.alert_id = Some(a.id)
        })
        .await?;
    }
    Ok(())
}

pub async fn seat_alerts(state: &AppState, seat: &Seat) -> AppResult<Vec<AlertView>> {
    let mut out = Vec::new();
    for a in state.store.list_alerts().await? {
        if !a.recipients.contains(&seat.org.id) {
            continue;
        }
        let acks = state.store.alert_acks(a.id).await?;
        out.push(AlertView {
            id: a.id,
            title: a.title,
            body: a.body,
            tlp: a.tlp,
            sent_at: a.sent_at,
            acknowledged_at: acks
                .iter()
                .filter(|k| k.org_id == seat.org.id)
                .map(|k| k.at)
                .min(),
        });
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/partner/alerts", tag = "partner portal",
    responses((status = 200, body = Vec<AlertView>), (status = 404, body = ErrorBody)))]
pub async fn api_alerts(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<AlertView>>> {
    let seat = seat(&state, &ctx).await?;
    let alerts = seat_alerts(&state, &seat).await?;
    log_alert_views(&state, &seat, &alerts).await?;
    Ok(Json(alerts))
}

pub async fn acknowledge(state: &AppState, ctx: &Ctx, alert: &str) -> AppResult<bool> {
    let seat = seat(state, ctx).await?;
    ctx.require(Action::RespondAsPartner)?;
    let id: uuid::Uuid = alert.parse().map_err(|_| AppError::not_found())?;
    let a = state.store.get_alert(id).await?;
    if !a.recipients.contains(&seat.org.id) {
        return Err(AppError::not_found());
    }
    let now = state.clock.now();
    let first = state
        .store
        .acknowledge_alert(&AlertAck {
            alert_id: id,
            user_id: seat.user,
            org_id: seat.org.id,
            at: now,
        })
        .await?;
    log_access(state, &seat, AccessKind::AcknowledgeAlert, |r| {
        r.alert_id = Some(id);
    })
    .await?;
    Ok(first)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Acknowledged {
    /// `false` when this user had acknowledged it before.
    pub first: bool,
}

#[utoipa::path(post, path = "/api/v1/partner/alerts/{id}/ack", tag = "partner portal",
    params(("id" = String, Path)),
    responses((status = 200, body = Acknowledged), (status = 404, body = ErrorBody)))]
pub async fn api_acknowledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Acknowledged>> {
    Ok(Json(Acknowledged {
        first: acknowledge(&state, &ctx, &id).await?,
    }))
}

// ------------------------------------------------------------------------ the PSIRT side

/// A partner organisation with its agreement, as the PSIRT sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerRow {
    pub org_id: OrgId,
    pub name: String,
    pub agreement: Option<Agreement>,
    pub status: Option<AgreementStatus>,
}

pub async fn partner_rows(state: &AppState) -> AppResult<Vec<PartnerRow>> {
    let now = state.clock.now();
    let agreements: HashMap<OrgId, Agreement> = state
        .store
        .list_agreements()
        .await?
        .into_iter()
        .map(|a| (a.org_id, a))
        .collect();
    let mut out: Vec<PartnerRow> = state
        .store
        .list_orgs()
        .await?
        .into_iter()
        .filter(|o| o.kind == OrgKind::Partner)
        .map(|o| {
            let agreement = agreements.get(&o.id).cloned();
            PartnerRow {
                org_id: o.id,
                name: o.name.to_string(),
                status: agreement.as_ref().map(|a| a.status(now)),
                agreement,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/partners", tag = "partners",
    responses((status = 200, body = Vec<PartnerRow>), (status = 404, body = ErrorBody)))]
pub async fn api_partners(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<PartnerRow>>> {
    ctx.require(Action::ViewPartners)?;
    Ok(Json(partner_rows(&state).await?))
}

async fn partner_org(state: &AppState, org: &str) -> AppResult<Organisation> {
    let id: OrgId = org.parse().map_err(|_| AppError::not_found())?;
    let o = state.store.get_org(id).await?;
    if o.kind != OrgKind::Partner {
        return Err(AppError::invalid(
            "org",
            format!("{} is not a partner organisation", o.name),
        ));
    }
    Ok(o)
}

#[utoipa::path(put, path = "/api/v1/partners/{org}/agreement", tag = "partners",
    params(("org" = String, Path)), request_body = AgreementInput,
    responses((status = 200, body = Agreement), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_put_agreement(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<AgreementInput>,
) -> AppResult<Json<Agreement>> {
    Ok(Json(put_agreement(&state, &ctx, &org, body).await?))
}

/// Records or renews the agreement of a partner organisation (API and form).
pub async fn put_agreement(
    state: &AppState,
    ctx: &Ctx,
    org: &str,
    body: AgreementInput,
) -> AppResult<Agreement> {
    ctx.require(Action::ManagePartners)?;
    let o = partner_org(state, org).await?;
    let now = state.clock.now();
    let previous = state.store.agreement(o.id).await?;
    let a = Agreement::record(o.id, body, &state.config.partners, now, previous.as_ref())?;
    let change = Change::new(
        "partner.agreement.recorded",
        format!("organisation/{}", o.id),
        &previous,
        &a,
    );
    Ok(state
        .store
        .save_agreement(&a, &Effects::new(ctx.audit_actor(), now).with_audit(change))
        .await?)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeInput {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/partners/{org}/revoke", tag = "partners",
    params(("org" = String, Path)), request_body = RevokeInput,
    responses((status = 200, body = Agreement), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<RevokeInput>,
) -> AppResult<Json<Agreement>> {
    Ok(Json(revoke(&state, &ctx, &org, body).await?))
}

/// Revokes a partner organisation's agreement (API and form).
pub async fn revoke(
    state: &AppState,
    ctx: &Ctx,
    org: &str,
    body: RevokeInput,
) -> AppResult<Agreement> {
    let p = ctx.require(Action::ManagePartners)?.user_id;
    let o = partner_org(state, org).await?;
    let now = state.clock.now();
    let mut a = state
        .store
        .agreement(o.id)
        .await?
        .ok_or_else(|| AppError::invalid("org", format!("{} has no agreement", o.name)))?;
    let before = a.clone();
    a.revoke(p, &body.reason, now)?;
    let change = Change::new(
        "partner.agreement.revoked",
        format!("organisation/{}", o.id),
        &before,
        &a,
    );
    Ok(state
        .store
        .save_agreement(&a, &Effects::new(ctx.audit_actor(), now).with_audit(change))
        .await?)
}

#[utoipa::path(get, path = "/api/v1/advisories/{id}/partner-edition", tag = "partners",
    params(("id" = String, Path)),
    responses((status = 200, body = Option<PartnerEdition>), (status = 404, body = ErrorBody)))]
pub async fn api_get_edition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Option<PartnerEdition>>> {
    ctx.require(Action::ViewPartners)?;
    let a = keikai_app::advisories::load(&state.app, &ctx.caller, &id).await?;
    Ok(Json(state.store.partner_edition(a.id).await?))
}

#[utoipa::path(put, path = "/api/v1/advisories/{id}/partner-edition", tag = "partners",
    params(("id" = String, Path)), request_body = PartnerEditionInput,
    responses((status = 200, body = PartnerEdition), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_put_edition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PartnerEditionInput>,
) -> AppResult<Json<PartnerEdition>> {
    Ok(Json(put_edition(&state, &ctx, &id, body).await?))
}

/// Writes the partner edition of an advisory (API and form).
pub async fn put_edition(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    body: PartnerEditionInput,
) -> AppResult<PartnerEdition> {
    let user = ctx.require(Action::ManagePartners)?.user_id;
    let a = keikai_app::advisories::load(&state.app, &ctx.caller, id).await?;
    let now = state.clock.now();
    let previous = state.store.partner_edition(a.id).await?;
    let e = PartnerEdition::write(a.id, body, user, now, previous.as_ref())?;
    let change = Change::new(
        "partner.edition.written",
        format!("advisory/{}", a.id),
        &previous,
        &e,
    );
    Ok(state
        .store
        .save_partner_edition(&e, &Effects::new(ctx.audit_actor(), now).with_audit(change))
        .await?)
}

#[utoipa::path(get, path = "/api/v1/partners/questions", tag = "partners",
    responses((status = 200, body = Vec<Question>), (status = 404, body = ErrorBody)))]
pub async fn api_questions(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<Question>>> {
    ctx.require(Action::ViewPartners)?;
    Ok(Json(state.store.list_questions(None).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerInput {
    pub text: String,
    pub audience: Audience,
}

#[utoipa::path(post, path = "/api/v1/partners/questions/{id}/answers", tag = "partners",
    params(("id" = String, Path)), request_body = AnswerInput,
    responses((status = 200, body = Question), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerInput>,
) -> AppResult<Json<Question>> {
    Ok(Json(answer(&state, &ctx, &id, body).await?))
}

/// Answers a partner's question (API and form).
pub async fn answer(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    body: AnswerInput,
) -> AppResult<Question> {
    let user = ctx.require(Action::ManagePartners)?.user_id;
    let id: uuid::Uuid = id.parse().map_err(|_| AppError::not_found())?;
    let mut q = state.store.get_question(id).await?;
    let now = state.clock.now();
    q.answer(user, &body.text, body.audience, now)?;
    let change = Change::new(
        "partner.question.answered",
        format!("partner-question/{id}"),
        serde_json::Value::Null,
        json!({ "audience": body.audience }),
    );
    Ok(state
        .store
        .save_question(&q, &Effects::new(ctx.audit_actor(), now).with_audit(change))
        .await?)
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

pub async fn alert_report(state: &AppState, alert: Alert) -> AppResult<AlertReport> {
    let names: HashMap<OrgId, String> = state
        .store
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| (o.id, o.name.to_string()))
        .collect();
    let acks = state.store.alert_acks(alert.id).await?;
    let name = |o: &OrgId| names.get(o).cloned().unwrap_or_default();
    let not_acknowledged = alert
        .recipients
        .iter()
        .filter(|o| !acks.iter().any(|k| k.org_id == **o))
        .map(|o| OrgRef {
            org_id: *o,
            name: name(o),
        })
        .collect();
    Ok(AlertReport {
        acknowledged: acks
            .iter()
            .map(|k| AckRow {
                org_id: k.org_id,
                organisation: name(&k.org_id),
                user_id: k.user_id,
                at: k.at,
            })
            .collect(),
        not_acknowledged,
        alert,
    })
}

#[utoipa::path(post, path = "/api/v1/partners/alerts", tag = "partners", request_body = AlertInput,
    responses((status = 201, body = AlertReport), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_send_alert(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<AlertInput>,
) -> AppResult<(StatusCode, Json<AlertReport>)> {
    Ok((
        StatusCode::CREATED,
        Json(send_alert(&state, &ctx, body).await?),
    ))
}

/// Sends an emergency alert to the chosen partner groups (API and form).
pub async fn send_alert(state: &AppState, ctx: &Ctx, body: AlertInput) -> AppResult<AlertReport> {
    let user = ctx.require(Action::ManagePartners)?.user_id;
    let now = state.clock.now();
    let agreements = state.store.list_agreements().await?;
    let alert = Alert::send(body, &state.config.partners, &agreements, user, now)?;
    let change = Change::new(
        "partner.alert.sent",
        format!("partner-alert/{}", alert.id),
        serde_json::Value::Null,
        json!({ "title": alert.title, "recipients": alert.recipients }),
    );
    // The alert and its mail commit together: sent at once, and exactly once.
    let jobs = alert_jobs(state, &alert).await?;
    let alert = state
        .store
        .create_alert(
            &alert,
            &Effects::new(ctx.audit_actor(), alert.sent_at)
                .with_audit(change)
                .with_jobs(jobs),
        )
        .await?;
    alert_report(state, alert).await
}

#[utoipa::path(get, path = "/api/v1/partners/alerts", tag = "partners",
    responses((status = 200, body = Vec<AlertReport>), (status = 404, body = ErrorBody)))]
pub async fn api_list_alerts(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<AlertReport>>> {
    ctx.require(Action::ViewPartners)?;
    let mut out = Vec::new();
    for a in state.store.list_alerts().await? {
        out.push(alert_report(&state, a).await?);
    }
    Ok(Json(out))
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

pub async fn access_rows(state: &AppState) -> AppResult<Vec<AccessRow>> {
    let records = state.store.list_access(None, 100_000).await?;
    let orgs: HashMap<OrgId, String> = state
        .store
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| (o.id, o.name.to_string()))
        .collect();
    let users: HashMap<UserId, String> = state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.email.to_string()))
        .collect();
    let mut tracking: BTreeMap<AdvisoryId, String> = BTreeMap::new();
    let mut out = Vec::new();
    for r in records {
        let advisory = match r.advisory_id {
            Some(id) => {
                if let std::collections::btree_map::Entry::Vacant(e) = tracking.entry(id) {
                    let t = state
                        .store
                        .get_advisory(id)
                        .await
                        .map(|a| a.tracking_id)
                        .unwrap_or_else(|_| id.to_string());
                    e.insert(t);
                }
                tracking.get(&id).cloned()
            }
            None => None,
        };
        out.push(AccessRow {
            at: r.at,
            organisation: orgs.get(&r.org_id).cloned().unwrap_or_default(),
            user: users.get(&r.user_id).cloned().unwrap_or_default(),
            kind: r.kind,
            release: r.release_id,
            advisory,
            alert: r.alert_id,
            detail: r.detail,
        });
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/partners/access", tag = "partners",
    responses((status = 200, description = "newest first", body = Vec<AccessRow>), (status = 404, body = ErrorBody)))]
pub async fn api_access(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<AccessRow>>> {
    ctx.require(Action::ViewPartners)?;
    Ok(Json(access_rows(&state).await?))
}

/// `GET /partners/access.csv`: the whole trail for auditors, newest first.
pub async fn access_csv(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    ctx.require(Action::ViewPartners)?;
    let mut out = String::from("at,organisation,user,kind,release,advisory,alert,detail\r\n");
    for r in access_rows(&state).await? {
        let fields = [
            r.at.to_string(),
            r.organisation,
            r.user,
            r.kind.as_str().to_owned(),
            r.release.map(|x| x.to_string()).unwrap_or_default(),
            r.advisory.unwrap_or_default(),
            r.alert.map(|x| x.to_string()).unwrap_or_default(),
            r.detail,
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    let mut res = (StatusCode::OK, out).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"partner-access.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

// ------------------------------------------------------------------------------- mail

/// The base URL links in mail point to.
fn base_url(state: &AppState) -> String {
    state
        .config
        .publishing
        .publisher
        .base_url
        .trim()
        .trim_end_matches('/')
        .to_owned()
}

/// A Message-ID that names what a message is about, so a repeat is recognisable.
fn message_id(state: &AppState, parts: &[&str]) -> String {
    let base = base_url(state);
    let host = base
        .split("://")
        .nth(1)
        .unwrap_or("keikai.invalid")
        .split(['/', ':'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("keikai.invalid");
    format!("<{}@{host}>", parts.join("."))
}

/// The partner contacts of an organisation whose accounts work.
pub async fn contacts(state: &AppState, org: OrgId) -> AppResult<Vec<keikai_domain::User>> {
    let mut out = Vec::new();
    for u in state.store.list_users().await? {
        if u.disabled_at.is_some() {
            continue;
        }
        let memberships = state.store.memberships(u.id).await?;
        if memberships
            .iter()
            .any(|m| m.org_id == org && m.role == Role::PartnerContact)
        {
            out.push(u);
        }
    }
    Ok(out)
}

/// The notice that a package is in the portal. It names the advisories but carries none of
/// the technical content, which stays in the portal where every download is recorded.
fn package_mail(
    state: &AppState,
    user: &keikai_domain::User,
    org: &Organisation,
    release: &Release,
    tier: &str,
    items: &[&PackageItem],
) -> keikai_app::outbox::Message {
    let lang = user.locale.unwrap_or(keikai_domain::Locale::En);
    let schedule = &state.config.publishing.schedule;
    let embargo = schedule.display(release.scheduled_at());
    let link = format!("{}/partner/releases/{}", base_url(state), release.id());
    let mut list = String::new();
    for i in items {
        let text = i.version.content.text.get(lang);
        let title = if text.title.is_empty() {
            &i.version.content.text.en.title
        } else {
            &text.title
        };
        list.push_str(&format!("- {}: {title}\n", i.advisory.tracking_id));
    }
    let (subject, body) = match lang {
        keikai_domain::Locale::Ja => (
            format!("[TLP:AMBER] 事前セキュリティ情報: {}", release.title()),
            format!(
                "TLP:AMBER — パートナー契約に基づき {org} にのみ提供する情報です。\n\
                 {embargo} まで公開禁止（エンバーゴ）です。\n\n\
                 「{title}」の事前提供パッケージをパートナーポータルで公開しました:\n{link}\n\n\
                 対象のアドバイザリ:\n{list}\n\
                 技術的詳細、検知のためのガイダンス、CSAF 文書はポータルにあり、ダウンロードは記録されます。\n",
                org = org.name,
                title = release.title(),
            ),
        ),
        keikai_domain::Locale::En => (
            format!(
                "[TLP:AMBER] Pre-release security information: {}",
                release.title()
            ),
            format!(
                "TLP:AMBER - for {org} only, under the partner agreement.\n\
                 Embargoed until {embargo}.\n\n\
                 The pre-release package of \"{title}\" is in the partner portal:\n{link}\n\n\
                 Advisories:\n{list}\n\
                 Technical details, detection guidance and the CSAF documents are in the portal, \
                 where every download is recorded.\n",
                org = org.name,
                title = release.title(),
            ),
        ),
    };
    keikai_app::outbox::Message::new(
        keikai_app::outbox::Address::named(user.display_name.to_string(), user.email.clone()),
        subject,
        body,
        message_id(
            state,
            &[
                "partner-package",
                &release.id().to_string(),
                tier,
                &user.id.to_string(),
            ],
        ),
    )
}

/// Delivers every tier's package whose time has come: claims the delivery (once, also with
/// several instances) and queues one notice per partner contact in the same transaction.
/// Returns how many packages went out.
pub async fn deliver_due_packages(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now();
    let tiers = &state.config.partners;
    let mut agreements: Option<Vec<Agreement>> = None;
    let mut delivered = 0;
    for r in state.store.list_releases(true).await? {
        // Releases that went out long ago have nothing left to deliver.
        if r.published_at()
            .is_some_and(|p| p < now - jiff::SignedDuration::from_hours(48))
        {
            continue;
        }
        let done: Vec<String> = state
            .store
            .package_deliveries(r.id())
            .await?
            .into_iter()
            .map(|d| d.tier)
            .collect();
        let due: Vec<_> = tiers
            .all()
            .iter()
            .filter(|t| !done.contains(&t.name))
            .filter(|t| keikai_domain::partner::delivery_at(&r, t).is_some_and(|at| at <= now))
            .collect();
        if due.is_empty() {
            continue;
        }
        let items = release_items(state, &r).await?;
        if items.is_empty() {
            // Nothing scheduled yet: the package goes out once something is.
            continue;
        }
        let tree = BranchParents::new(&state.store.list_branches().await?);
        if agreements.is_none() {
            agreements = Some(state.store.list_agreements().await?);
        }
        for tier in due {
            let mut jobs = Vec::new();
            let mut orgs = 0;
            for a in agreements
                .iter()
                .flatten()
                .filter(|a| a.tier == tier.name && a.is_valid(now))
            {
                let mine: Vec<&PackageItem> = items
                    .iter()
                    .filter(|i| {
                        let affected: Vec<_> = i
                            .version
                            .content
                            .vulnerabilities
                            .iter()
                            .flat_map(|v| v.affected())
                            .collect();
                        a.scope.covers(&affected, &tree)
                    })
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                orgs += 1;
                let org = state.store.get_org(a.org_id).await?;
                for user in contacts(state, a.org_id).await? {
                    let mail = package_mail(state, &user, &org, &r, &tier.name, &mine);
                    let key = format!("partner-package:{}:{}:{}", r.id(), tier.name, user.id);
                    jobs.push(
                        mail.to_job(key, now)
                            .map_err(|e| AppError::internal(e.to_string()))?,
                    );
                }
            }
            let messages = jobs.len();
            let first = state
                .store
                .record_package_delivery(
                    &keikai_store::PackageDelivery {
                        release_id: r.id(),
                        tier: tier.name.clone(),
                        delivered_at: now,
                        recipients: orgs,
                    },
                    &Effects::system(now).with_jobs(jobs),
                )
                .await?;
            if first {
                delivered += 1;
                tracing::info!(release = %r.id(), tier = %tier.name, organisations = orgs,
                    messages, "partner package delivered");
            }
        }
    }
    Ok(delivered)
}

/// The mail of an alert to every contact of its recipients.
async fn alert_jobs(state: &AppState, alert: &Alert) -> AppResult<Vec<keikai_store::NewJob>> {
    let mut jobs = Vec::new();
    let link = format!("{}/partner#alerts", base_url(state));
    for org in &alert.recipients {
        for user in contacts(state, *org).await? {
            let marking = alert.tlp.label();
            let (subject, tail) = match user.locale.unwrap_or(keikai_domain::Locale::En) {
                keikai_domain::Locale::Ja => (
                    format!("[緊急][{marking}] {}", alert.title),
                    format!("ポータルで受領を確認してください: {link}"),
                ),
                keikai_domain::Locale::En => (
                    format!("[URGENT][{marking}] {}", alert.title),
                    format!("Please acknowledge it in the portal: {link}"),
                ),
            };
            let mail = keikai_app::outbox::Message::new(
                keikai_app::outbox::Address::named(
                    user.display_name.to_string(),
                    user.email.clone(),
                ),
                subject,
                format!("{marking}\n\n{}\n\n{tail}\n", alert.body),
                message_id(
                    state,
                    &["partner-alert", &alert.id.to_string(), &user.id.to_string()],
                ),
            );
            jobs.push(
                mail.to_job(
                    format!("partner-alert:{}:{}", alert.id, user.id),
                    alert.sent_at,
                )
                .map_err(|e| AppError::internal(e.to_string()))?,
            );
        }
    }
    Ok(jobs)
}
