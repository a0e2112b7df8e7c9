//! Distribution through the REST API: the same use cases as the PSIRT's pages
//! ([`keikai_app::distribution`]), as JSON — lists, subscribers and their CSV import,
//! editions with preview, webhook endpoints, early warnings, events with their delivery
//! reports, and bounces.
//!
//! The request bodies here are also what the pages' forms become (the same fields), so each
//! body converts into its command in one place.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use keikai_app::distribution::{
    self as app, AddSubscriber, EarlyWarning, NewWebhook, PatchSubscriber, SaveList, StoredEdition,
};
use keikai_app::distribution::{DeliveryCounts, DeliveryRecord, DeliveryState, SubscriberRecord};
use keikai_domain::advisory::{Localized, Tlp};
use keikai_domain::edition::{Edition, Rendered};
use keikai_domain::subscription::import::RejectedRow;
use keikai_domain::subscription::{
    AudienceList, Filter, Subscriber, SubscriberChanges, SubscriberInput, SubscriptionState,
    Trigger, WebhookEndpoint,
};
use keikai_domain::{BranchId, ListId, Locale};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{ApiJson, blank_to_none, parse_id};
use crate::http::state::WebState;

// ------------------------------------------------------------------------------ lists

#[derive(Debug, Deserialize, ToSchema)]
pub struct ListInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// 1 is the highest.
    pub priority: u32,
    /// The edition its members receive (an edition's name; the built-in one if absent).
    #[serde(default = "default_edition")]
    pub edition: String,
    #[serde(default)]
    pub internal_only: bool,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub filter: Option<Filter>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub triggers: Option<BTreeSet<Trigger>>,
}

fn default_edition() -> String {
    "default".to_owned()
}

impl ListInput {
    pub fn command(self) -> SaveList {
        SaveList {
            name: self.name,
            description: self.description,
            priority: self.priority,
            edition: self.edition,
            internal_only: self.internal_only,
            public: self.public,
            filter: self.filter,
            triggers: self.triggers,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/distribution/lists", tag = "distribution",
    responses((status = 200, body = Vec<AudienceList>), (status = 404, body = ErrorBody)))]
pub async fn api_lists(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<AudienceList>>> {
    Ok(Json(app::lists(&state.app, &ctx.caller).await?))
}

#[utoipa::path(post, path = "/api/v1/distribution/lists", tag = "distribution",
    request_body = ListInput,
    responses((status = 201, body = AudienceList), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_create_list(
    State(state): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<ListInput>,
) -> AppResult<(StatusCode, Json<AudienceList>)> {
    let list = app::save_list(&state.app, &ctx.caller, None, body.command()).await?;
    Ok((StatusCode::CREATED, Json(list)))
}

#[utoipa::path(put, path = "/api/v1/distribution/lists/{id}", tag = "distribution",
    params(("id" = String, Path)), request_body = ListInput,
    responses((status = 200, body = AudienceList), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_put_list(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ListInput>,
) -> AppResult<Json<AudienceList>> {
    let id = ctx.id(&id)?;
    let list = app::save_list(&state.app, &ctx.caller, Some(id), body.command()).await?;
    Ok(Json(list))
}

#[utoipa::path(delete, path = "/api/v1/distribution/lists/{id}", tag = "distribution",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn api_delete_list(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    app::delete_list(&state.app, &ctx.caller, ctx.id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List ids as a body gives them; one that is not an id names no list.
pub fn list_ids(ids: &[String]) -> AppResult<Vec<ListId>> {
    ids.iter()
        .map(|id| {
            id.trim().parse().map_err(|_| {
                AppError::invalid("lists", format!("lists: no list has the id \"{id}\""))
            })
        })
        .collect()
}

// ------------------------------------------------------------------------------ subscribers

/// A subscriber as the API shows it (the link secret stays out).
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberView {
    #[serde(flatten)]
    pub subscriber: Subscriber,
    #[schema(value_type = Vec<String>)]
    pub lists: Vec<ListId>,
}

impl From<SubscriberRecord> for SubscriberView {
    fn from(r: SubscriberRecord) -> Self {
        Self {
            subscriber: r.subscriber,
            lists: r.lists,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscribersQuery {
    pub list: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/distribution/subscribers", tag = "distribution",
    params(("list" = Option<String>, Query), ("limit" = Option<u32>, Query),
        ("offset" = Option<u32>, Query)),
    responses((status = 200, body = Vec<SubscriberView>), (status = 404, body = ErrorBody)))]
pub async fn api_subscribers(
    State(state): State<WebState>,
    ctx: Ctx,
    Query(q): Query<SubscribersQuery>,
) -> AppResult<Json<Vec<SubscriberView>>> {
    ctx.signed_in()?;
    let list = q.list.as_deref().map(parse_id).transpose()?;
    let limit = q.limit.unwrap_or(100);
    let rows =
        app::subscribers(&state.app, &ctx.caller, list, limit, q.offset.unwrap_or(0)).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSubscriberInput {
    #[serde(flatten)]
    pub subscriber: SubscriberInput,
    /// List ids.
    #[serde(default)]
    pub lists: Vec<String>,
    #[serde(default)]
    pub filter: Option<Filter>,
}

#[utoipa::path(post, path = "/api/v1/distribution/subscribers", tag = "distribution",
    request_body = NewSubscriberInput,
    responses((status = 201, body = SubscriberView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
/// Adds a subscriber on the PSIRT's authority: active at once (the PSIRT has their consent,
/// e.g. a colleague or a customer's contract), unlike the public form's double opt-in.
pub async fn api_create_subscriber(
    State(state): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<NewSubscriberInput>,
) -> AppResult<(StatusCode, Json<SubscriberView>)> {
    ctx.signed_in()?;
    let cmd = AddSubscriber {
        lists: list_ids(&body.lists)?,
        input: body.subscriber,
        filter: body.filter,
    };
    let added = app::add_subscriber(&state.app, &ctx.caller, cmd).await?;
    Ok((StatusCode::CREATED, Json(added.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscriberPatch {
    pub name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub locale: Option<Locale>,
    pub time_zone: Option<String>,
    /// An empty string removes the key.
    pub openpgp_key: Option<String>,
    pub state: Option<SubscriptionState>,
    pub filter: Option<Filter>,
    pub lists: Option<Vec<String>>,
}

impl SubscriberPatch {
    pub fn command(self, id: keikai_domain::SubscriberId) -> AppResult<PatchSubscriber> {
        Ok(PatchSubscriber {
            id,
            lists: self.lists.as_deref().map(list_ids).transpose()?,
            changes: SubscriberChanges {
                name: self.name,
                locale: self.locale,
                time_zone: self.time_zone,
                openpgp_key: self.openpgp_key,
                state: self.state,
                filter: self.filter,
            },
        })
    }
}

#[utoipa::path(patch, path = "/api/v1/distribution/subscribers/{id}", tag = "distribution",
    params(("id" = String, Path)), request_body = SubscriberPatch,
    responses((status = 200, body = SubscriberView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_patch_subscriber(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubscriberPatch>,
) -> AppResult<Json<SubscriberView>> {
    let cmd = body.command(ctx.id(&id)?)?;
    let saved = app::patch_subscriber(&state.app, &ctx.caller, cmd).await?;
    Ok(Json(saved.into()))
}

/// What an import did, row by row.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Rows that were valid (and, unless a dry run, imported).
    pub accepted: u64,
    pub created: u64,
    /// Addresses that existed and were added to the rows' lists.
    pub updated: u64,
    pub rejected: Vec<RejectedRowView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRowView {
    pub line: u64,
    pub email: String,
    pub field: String,
    pub reason: String,
}

impl From<app::ImportReport> for ImportReport {
    fn from(r: app::ImportReport) -> Self {
        Self {
            dry_run: r.dry_run,
            accepted: r.accepted,
            created: r.created,
            updated: r.updated,
            rejected: r.rejected.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<RejectedRow> for RejectedRowView {
    fn from(r: RejectedRow) -> Self {
        Self {
            line: r.line,
            email: r.email,
            field: r.field,
            reason: r.reason,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    pub dry_run: bool,
}

#[utoipa::path(post, path = "/api/v1/distribution/subscribers/import", tag = "distribution",
    params(("dry_run" = Option<bool>, Query)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 422, body = ErrorBody)))]
pub async fn api_import(
    State(state): State<WebState>,
    ctx: Ctx,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> AppResult<Json<ImportReport>> {
    ctx.signed_in()?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| AppError::invalid("csv", format!("csv: the file is not UTF-8 text: {e}")))?;
    let report = app::import_csv(&state.app, &ctx.caller, text, q.dry_run).await?;
    Ok(Json(report.into()))
}

// ------------------------------------------------------------------------------ editions

/// An edition with its revision, for optimistic saving.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EditionView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub edition: Edition,
    /// 0 for one not saved yet (the built-in default).
    pub revision: i64,
}

impl From<StoredEdition> for EditionView {
    fn from(e: StoredEdition) -> Self {
        Self {
            edition: e.edition,
            revision: e.revision,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/distribution/editions", tag = "distribution",
    responses((status = 200, body = Vec<EditionView>), (status = 404, body = ErrorBody)))]
pub async fn api_editions(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<EditionView>>> {
    let all = app::editions(&state.app, &ctx.caller).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/distribution/editions/{name}", tag = "distribution",
    params(("name" = String, Path)),
    responses((status = 200, body = EditionView), (status = 404, body = ErrorBody)))]
pub async fn api_edition(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(name): Path<String>,
) -> AppResult<Json<EditionView>> {
    Ok(Json(
        app::edition(&state.app, &ctx.caller, &name).await?.into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/distribution/editions/{name}", tag = "distribution",
    params(("name" = String, Path)), request_body = EditionView,
    responses((status = 200, body = EditionView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_put_edition(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<EditionView>,
) -> AppResult<Json<EditionView>> {
    let saved =
        app::save_edition(&state.app, &ctx.caller, &name, body.edition, body.revision).await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PreviewInput {
    /// The advisory to preview with (its latest published version, else its current
    /// draft); a sample event when absent.
    pub advisory: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Locale>,
    /// Preview unsaved changes: the edition as edited, not as stored.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub edition: Option<Edition>,
}

impl PreviewInput {
    pub fn command(self) -> app::Preview {
        app::Preview {
            advisory: self.advisory,
            locale: self.locale,
            edition: self.edition,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl From<Rendered> for PreviewView {
    fn from(r: Rendered) -> Self {
        Self {
            subject: r.subject,
            text: r.text,
            html: r.html,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/distribution/editions/{name}/preview", tag = "distribution",
    params(("name" = String, Path)), request_body = PreviewInput,
    responses((status = 200, body = PreviewView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_preview(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<PreviewInput>,
) -> AppResult<Json<PreviewView>> {
    let r = app::preview(&state.app, &ctx.caller, &name, body.command()).await?;
    Ok(Json(r.into()))
}

// ------------------------------------------------------------------------------ webhooks

#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookInput {
    /// The list whose events it receives.
    pub list: String,
    pub name: String,
    pub url: String,
    /// At least 16 characters; generated when absent (and shown once, in the answer).
    pub secret: Option<String>,
}

impl WebhookInput {
    pub fn command(self) -> AppResult<NewWebhook> {
        let list = self.list.trim().parse().map_err(|_| {
            AppError::invalid("list", format!("list: \"{}\" is not a list id", self.list))
        })?;
        Ok(NewWebhook {
            list,
            name: self.name,
            url: self.url,
            secret: self.secret,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/distribution/webhooks", tag = "distribution",
    responses((status = 200, body = Vec<WebhookEndpoint>), (status = 404, body = ErrorBody)))]
pub async fn api_webhooks(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<WebhookEndpoint>>> {
    Ok(Json(app::webhooks(&state.app, &ctx.caller).await?))
}

#[utoipa::path(post, path = "/api/v1/distribution/webhooks", tag = "distribution",
    request_body = WebhookInput,
    responses((status = 201, body = WebhookEndpoint), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_create_webhook(
    State(state): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<WebhookInput>,
) -> AppResult<(StatusCode, Json<WebhookEndpoint>)> {
    ctx.signed_in()?;
    let w = app::create_webhook(&state.app, &ctx.caller, body.command()?).await?;
    Ok((StatusCode::CREATED, Json(w)))
}

#[utoipa::path(post, path = "/api/v1/distribution/webhooks/{id}/enable", tag = "distribution",
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookEndpoint), (status = 404, body = ErrorBody)))]
/// Enables a disabled endpoint again (after its owner fixed it), with its failures reset.
pub async fn api_enable_webhook(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<WebhookEndpoint>> {
    let w = app::enable_webhook(&state.app, &ctx.caller, ctx.id(&id)?).await?;
    Ok(Json(w))
}

// ------------------------------------------------------------------------------ early warnings

#[derive(Debug, Deserialize, ToSchema)]
pub struct EarlyWarningInput {
    pub title_en: String,
    #[serde(default)]
    pub title_ja: String,
    pub body_en: String,
    #[serde(default)]
    pub body_ja: String,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub tlp: Option<Tlp>,
    #[serde(default)]
    pub exploited: bool,
    #[serde(default)]
    pub max_score: Option<f64>,
    /// Branch ids of the product tree it concerns.
    #[serde(default)]
    pub products: Vec<String>,
}

/// Product branch ids as a body or form gives them (blanks ignored).
pub fn branch_ids(values: &[String]) -> AppResult<BTreeSet<BranchId>> {
    let mut out = BTreeSet::new();
    for p in values.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        out.insert(p.parse().map_err(|_| {
            AppError::invalid(
                "products",
                format!("products: \"{p}\" is not a product branch"),
            )
        })?);
    }
    Ok(out)
}

impl EarlyWarningInput {
    pub fn command(self) -> AppResult<EarlyWarning> {
        Ok(EarlyWarning {
            products: branch_ids(&self.products)?.into_iter().collect(),
            title: Localized {
                en: self.title_en,
                ja: self.title_ja,
            },
            body: Localized {
                en: self.body_en,
                ja: self.body_ja,
            },
            tlp: self.tlp,
            exploited: self.exploited,
            max_score: self.max_score,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventQueued {
    pub key: String,
}

#[utoipa::path(post, path = "/api/v1/distribution/early-warnings", tag = "distribution",
    request_body = EarlyWarningInput,
    responses((status = 202, body = EventQueued), (status = 422, body = ErrorBody)))]
pub async fn api_early_warning(
    State(state): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<EarlyWarningInput>,
) -> AppResult<(StatusCode, Json<EventQueued>)> {
    ctx.signed_in()?;
    let key = app::early_warning(&state.app, &ctx.caller, body.command()?).await?;
    Ok((StatusCode::ACCEPTED, Json(EventQueued { key })))
}

// ------------------------------------------------------------------------------ reports

#[derive(Debug, Serialize, ToSchema)]
pub struct EventSummary {
    pub id: uuid::Uuid,
    pub key: String,
    pub kind: String,
    pub title: String,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    pub counts: CountsView,
}

impl From<app::EventSummary> for EventSummary {
    fn from(s: app::EventSummary) -> Self {
        let e = s.event;
        Self {
            id: e.id,
            key: e.key,
            kind: e.kind,
            title: e.title,
            created_at: e.created_at,
            counts: s.counts.into(),
        }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CountsView {
    pub total: u64,
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
    pub bounced: u64,
    pub acknowledged: u64,
}

impl From<DeliveryCounts> for CountsView {
    fn from(c: DeliveryCounts) -> Self {
        Self {
            total: c.total(),
            queued: c.queued,
            sent: c.sent,
            failed: c.failed,
            bounced: c.bounced,
            acknowledged: c.acknowledged,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: uuid::Uuid,
    pub channel: String,
    pub address: String,
    #[schema(value_type = String)]
    pub list: ListId,
    pub locale: String,
    pub state: String,
    pub attempts: u32,
    pub error: Option<String>,
    pub message_id: String,
    #[schema(value_type = Option<String>)]
    pub sent_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub acknowledged_at: Option<Timestamp>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(d: DeliveryRecord) -> Self {
        Self {
            id: d.id,
            channel: d.channel.as_str().to_owned(),
            address: d.address,
            list: d.list_id,
            locale: d.locale.as_str().to_owned(),
            state: d.state.as_str().to_owned(),
            attempts: d.attempts,
            error: d.error,
            message_id: d.message_id,
            sent_at: d.sent_at,
            acknowledged_at: d.acked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventReport {
    #[serde(flatten)]
    pub event: EventSummary,
    pub deliveries: Vec<DeliveryView>,
}

impl From<app::EventReport> for EventReport {
    fn from(r: app::EventReport) -> Self {
        Self {
            event: r.summary.into(),
            deliveries: r.deliveries.into_iter().map(Into::into).collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/distribution/events", tag = "distribution",
    responses((status = 200, body = Vec<EventSummary>), (status = 404, body = ErrorBody)))]
pub async fn api_events(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<EventSummary>>> {
    let events = app::events(&state.app, &ctx.caller, 100).await?;
    Ok(Json(events.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    pub state: Option<String>,
}

impl ReportQuery {
    /// The delivery state the report is narrowed to, if any.
    pub fn only(&self) -> AppResult<Option<DeliveryState>> {
        blank_to_none(self.state.as_deref())
            .map(|s| {
                s.parse::<DeliveryState>()
                    .map_err(|m| AppError::invalid("state", format!("state: {m}")))
            })
            .transpose()
    }
}

#[utoipa::path(get, path = "/api/v1/distribution/events/{id}", tag = "distribution",
    params(("id" = String, Path), ("state" = Option<String>, Query)),
    responses((status = 200, body = EventReport), (status = 404, body = ErrorBody)))]
pub async fn api_event(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Json<EventReport>> {
    let id = ctx.id(&id)?;
    let report = app::event_report(&state.app, &ctx.caller, id, q.only()?).await?;
    Ok(Json(report.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BounceInput {
    /// The Message-ID of the message that bounced, with or without its angle brackets.
    pub message_id: String,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/distribution/bounces", tag = "distribution",
    request_body = BounceInput,
    responses((status = 200, body = DeliveryView), (status = 404, body = ErrorBody)))]
/// Records a bounce that came back after the relay accepted the message (a delivery status
/// notification read by the mail system in front of Keikai).
pub async fn api_bounce(
    State(state): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<BounceInput>,
) -> AppResult<Json<DeliveryView>> {
    let d = app::record_bounce(&state.app, &ctx.caller, &body.message_id, &body.reason).await?;
    Ok(Json(d.into()))
}
