//! Distribution over HTTP: the PSIRT's side (lists, subscribers and their CSV import,
//! editions with preview, webhook endpoints, early warnings, delivery reports, bounces) and
//! what the events are made of (the triggers that publication and the scheduler call).
//!
//! The sending itself is `keikai_jobs::distribution`: everything here only records a change
//! and, in the same transaction, the fan-out job that announces it.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use keikai_app::outbox::{FanoutRequest, Links as DistributionConfig, link_token};
use keikai_domain::advisory::publication::ProductNames;
use keikai_domain::advisory::{Localized, Tlp};
use keikai_domain::audit::Change;
use keikai_domain::edition::{Edition, EventView, RecipientView, Rendered, render};
use keikai_domain::subscription::{
    AudienceList, Filter, Subscriber, SubscriberChanges, SubscriberInput, SubscriberKind,
    SubscriptionState, Trigger, WebhookEndpoint, default_triggers, import,
};
use keikai_domain::{Action, BranchId, ListId, Locale, SubscriberId};
use keikai_store::{
    DeliveryCounts, DeliveryRecord, DeliveryState, Effects, NewJob, NewSubscription,
    SubscriberRecord,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::state::AppState;

/// Where links in messages point and how their ids are made.
pub fn config(state: &AppState) -> DistributionConfig {
    DistributionConfig::new(&state.config.publishing.publisher.base_url)
}

// ------------------------------------------------------------------------------ triggers

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

fn list_from(input: ListInput, id: ListId) -> AppResult<AudienceList> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "must be 1 to 100 characters"));
    }
    if input.priority == 0 {
        return Err(AppError::invalid(
            "priority",
            "must be 1 (the highest) or more",
        ));
    }
    let triggers = input.triggers.unwrap_or_else(default_triggers);
    if triggers.is_empty() {
        return Err(AppError::invalid(
            "triggers",
            "a list needs at least one trigger",
        ));
    }
    Ok(AudienceList {
        id,
        name: name.to_owned(),
        priority: input.priority,
        edition: input.edition.trim().to_owned(),
        internal_only: input.internal_only,
        filter: input.filter.unwrap_or_default().check()?,
        triggers,
        public: input.public,
        description: input.description.trim().to_owned(),
    })
}

#[utoipa::path(get, path = "/api/v1/distribution/lists", tag = "distribution",
    responses((status = 200, body = Vec<AudienceList>), (status = 404, body = ErrorBody)))]
pub async fn api_lists(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<AudienceList>>> {
    ctx.require(Action::ViewDistribution)?;
    Ok(Json(state.store.list_lists().await?))
}

#[utoipa::path(post, path = "/api/v1/distribution/lists", tag = "distribution",
    request_body = ListInput,
    responses((status = 201, body = AudienceList), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_create_list(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<ListInput>,
) -> AppResult<(StatusCode, Json<AudienceList>)> {
    let list = save_list(&state, &ctx, None, body).await?;
    Ok((StatusCode::CREATED, Json(list)))
}

#[utoipa::path(put, path = "/api/v1/distribution/lists/{id}", tag = "distribution",
    params(("id" = String, Path)), request_body = ListInput,
    responses((status = 200, body = AudienceList), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_put_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ListInput>,
) -> AppResult<Json<AudienceList>> {
    // The policy first: a caller who may not ask must not learn which ids are well formed.
    ctx.require(Action::ManageDistribution)?;
    let id = parse_list(&id)?;
    Ok(Json(save_list(&state, &ctx, Some(id), body).await?))
}

#[utoipa::path(delete, path = "/api/v1/distribution/lists/{id}", tag = "distribution",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn api_delete_list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    ctx.require(Action::ManageDistribution)?;
    let id = parse_list(&id)?;
    let before = state.store.get_list(id).await?;
    let change = Change::new(
        "distribution.list.deleted",
        format!("list/{id}"),
        &before,
        serde_json::Value::Null,
    );
    let now = state.clock.now();
    state
        .store
        .delete_list(id, &Effects::new(ctx.audit_actor(), now).with_audit(change))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn parse_list(s: &str) -> AppResult<ListId> {
    s.parse().map_err(|_| AppError::not_found())
}

/// Creates (`id` None) or replaces a list (API and form).
pub async fn save_list(
    state: &AppState,
    ctx: &Ctx,
    id: Option<ListId>,
    input: ListInput,
) -> AppResult<AudienceList> {
    ctx.require(Action::ManageDistribution)?;
    let before = match id {
        Some(id) => Some(state.store.get_list(id).await?),
        None => None,
    };
    let list = list_from(input, id.unwrap_or_default())?;
    let change = Change::new(
        if before.is_some() {
            "distribution.list.changed"
        } else {
            "distribution.list.created"
        },
        format!("list/{}", list.id),
        &before,
        &list,
    );
    state
        .store
        .save_list(
            &list,
            &Effects::new(ctx.audit_actor(), state.clock.now()).with_audit(change),
        )
        .await?;
    Ok(list)
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
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SubscribersQuery>,
) -> AppResult<Json<Vec<SubscriberView>>> {
    ctx.require(Action::ViewDistribution)?;
    let list = q.list.as_deref().map(parse_list).transpose()?;
    let rows = state
        .store
        .list_subscribers(
            list,
            q.limit.unwrap_or(100).min(1000),
            q.offset.unwrap_or(0),
        )
        .await?;
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
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<NewSubscriberInput>,
) -> AppResult<(StatusCode, Json<SubscriberView>)> {
    ctx.require(Action::ManageDistribution)?;
    let now = state.clock.now();
    let mut s = Subscriber::subscribe(body.subscriber, now)?;
    check_key(s.openpgp_key.as_deref())?;
    s.state = SubscriptionState::Active;
    if let Some(f) = body.filter {
        s.filter = f.check()?;
    }
    let lists = known_lists(&state, &body.lists, s.kind).await?;
    let row = NewSubscription {
        subscriber: s.clone(),
        token: link_token(),
        lists: lists.clone(),
    };
    let change = Change::new(
        "distribution.subscriber.added",
        format!("subscriber/{}", s.id),
        serde_json::Value::Null,
        &s,
    );
    state
        .store
        .import_subscribers(
            &[row],
            &Effects::new(ctx.audit_actor(), now).with_audit(change),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SubscriberView {
            subscriber: s,
            lists,
        }),
    ))
}

/// An OpenPGP key must be one that mail can be encrypted to.
fn check_key(key: Option<&str>) -> AppResult<()> {
    let Some(key) = key else {
        return Ok(());
    };
    let info = keikai_openpgp::inspect_public_key(key)
        .map_err(|e| AppError::invalid("openpgp_key", e.to_string()))?;
    if !info.can_encrypt {
        return Err(AppError::invalid(
            "openpgp_key",
            format!(
                "the key {} has no encryption-capable (sub)key",
                info.fingerprint
            ),
        ));
    }
    Ok(())
}

async fn known_lists(
    state: &AppState,
    ids: &[String],
    kind: SubscriberKind,
) -> AppResult<Vec<ListId>> {
    let all = state.store.list_lists().await?;
    let mut out = Vec::new();
    for id in ids {
        let list = id
            .parse::<ListId>()
            .ok()
            .and_then(|l| all.iter().find(|x| x.id == l))
            .ok_or_else(|| AppError::invalid("lists", format!("no list has the id \"{id}\"")))?;
        if list.internal_only && kind != SubscriberKind::Internal {
            return Err(AppError::invalid(
                "lists",
                format!("\"{}\" is for internal subscribers only", list.name),
            ));
        }
        out.push(list.id);
    }
    Ok(out)
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

#[utoipa::path(patch, path = "/api/v1/distribution/subscribers/{id}", tag = "distribution",
    params(("id" = String, Path)), request_body = SubscriberPatch,
    responses((status = 200, body = SubscriberView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_patch_subscriber(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubscriberPatch>,
) -> AppResult<Json<SubscriberView>> {
    ctx.require(Action::ManageDistribution)?;
    let id: SubscriberId = id.parse().map_err(|_| AppError::not_found())?;
    let record = state.store.get_subscriber(id).await?;
    let before = record.subscriber.clone();
    let mut s = before.clone();
    s.update(SubscriberChanges {
        name: body.name,
        locale: body.locale,
        time_zone: body.time_zone,
        openpgp_key: body.openpgp_key,
        state: body.state,
        filter: body.filter,
    })?;
    check_key(s.openpgp_key.as_deref())?;
    let lists = match &body.lists {
        Some(ids) => Some(known_lists(&state, ids, s.kind).await?),
        None => None,
    };
    let change = Change::new(
        "distribution.subscriber.changed",
        format!("subscriber/{id}"),
        &before,
        &s,
    );
    let fx = Effects::new(ctx.audit_actor(), state.clock.now()).with_audit(change);
    state
        .store
        .save_subscriber(&s, lists.as_deref(), &fx)
        .await?;
    Ok(Json(state.store.get_subscriber(id).await?.into()))
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

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    pub dry_run: bool,
}

/// The most rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 50_000;

#[utoipa::path(post, path = "/api/v1/distribution/subscribers/import", tag = "distribution",
    params(("dry_run" = Option<bool>, Query)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 422, body = ErrorBody)))]
pub async fn api_import(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> AppResult<Json<ImportReport>> {
    let text = std::str::from_utf8(&body)
        .map_err(|e| AppError::invalid("csv", format!("the file is not UTF-8 text: {e}")))?;
    Ok(Json(import_csv(&state, &ctx, text, q.dry_run).await?))
}

/// Imports subscribers from CSV (API and form). Imported subscribers are active: the
/// administrator vouches for their consent. Valid rows go in even when others are rejected;
/// the report names each rejected row and why.
pub async fn import_csv(
    state: &AppState,
    ctx: &Ctx,
    text: &str,
    dry_run: bool,
) -> AppResult<ImportReport> {
    ctx.require(Action::ManageDistribution)?;
    let lists = state.store.list_lists().await?;
    let names: Vec<String> = lists.iter().map(|l| l.name.clone()).collect();
    let plan = import::parse_csv(text, &names, MAX_IMPORT_ROWS)?;
    let now = state.clock.now();
    let mut rejected: Vec<RejectedRowView> = plan
        .rejected
        .into_iter()
        .map(|r| RejectedRowView {
            line: r.line,
            email: r.email,
            field: r.field,
            reason: r.reason,
        })
        .collect();
    let mut rows = Vec::new();
    for row in plan.rows {
        let (line, email) = (row.line, row.input.email.clone());
        match accept_row(row, &lists, now) {
            Ok(r) => rows.push(r),
            Err((field, reason)) => rejected.push(RejectedRowView {
                line,
                email,
                field: field.to_owned(),
                reason,
            }),
        }
    }
    rejected.sort_by_key(|r| r.line);
    let accepted = rows.len() as u64;
    let counts = if dry_run || rows.is_empty() {
        keikai_store::ImportCounts::default()
    } else {
        let change = Change::new(
            "distribution.subscribers.imported",
            "subscribers",
            serde_json::Value::Null,
            serde_json::json!({ "rows": accepted, "rejected": rejected.len() }),
        );
        state
            .store
            .import_subscribers(
                &rows,
                &Effects::new(ctx.audit_actor(), now).with_audit(change),
            )
            .await?
    };
    Ok(ImportReport {
        dry_run,
        accepted,
        created: counts.created,
        updated: counts.updated,
        rejected,
    })
}

/// An imported row as it goes in (active: the administrator vouches for the address), or
/// the field that is wrong and why.
fn accept_row(
    row: import::ImportRow,
    lists: &[AudienceList],
    now: Timestamp,
) -> Result<NewSubscription, (&'static str, String)> {
    let mut s = Subscriber::subscribe(row.input, now).map_err(|e| ("row", e.to_string()))?;
    check_key(s.openpgp_key.as_deref()).map_err(|e| ("openpgp_key", e.message))?;
    let mut ids = Vec::new();
    for name in &row.lists {
        if let Some(l) = lists.iter().find(|l| &l.name == name) {
            if l.internal_only && s.kind != SubscriberKind::Internal {
                let why = format!("\"{}\" is for internal subscribers only", l.name);
                return Err(("lists", why));
            }
            ids.push(l.id);
        }
    }
    s.state = SubscriptionState::Active;
    Ok(NewSubscription {
        subscriber: s,
        token: link_token(),
        lists: ids,
    })
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

#[utoipa::path(get, path = "/api/v1/distribution/editions", tag = "distribution",
    responses((status = 200, body = Vec<EditionView>), (status = 404, body = ErrorBody)))]
pub async fn api_editions(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<EditionView>>> {
    ctx.require(Action::ViewDistribution)?;
    Ok(Json(editions(&state).await?))
}

/// Every saved edition, and the built-in default when none is saved under its name.
pub async fn editions(state: &AppState) -> AppResult<Vec<EditionView>> {
    let mut out = Vec::new();
    for r in state.store.list_editions().await? {
        let edition: Edition = serde_json::from_value(r.data)
            .map_err(|e| AppError::internal(format!("edition {}: {e}", r.name)))?;
        out.push(EditionView {
            edition,
            revision: r.revision,
        });
    }
    if !out.iter().any(|e| e.edition.name == "default") {
        out.insert(
            0,
            EditionView {
                edition: Edition::new("default", "Default")?,
                revision: 0,
            },
        );
    }
    Ok(out)
}

/// The edition saved under `name`, or a new one with the built-in templates.
pub async fn edition(state: &AppState, name: &str) -> AppResult<EditionView> {
    match state.store.get_edition(name).await? {
        Some(r) => Ok(EditionView {
            edition: serde_json::from_value(r.data)
                .map_err(|e| AppError::internal(format!("edition {name}: {e}")))?,
            revision: r.revision,
        }),
        None if name == "default" => Ok(EditionView {
            edition: Edition::new("default", "Default")?,
            revision: 0,
        }),
        None => Err(AppError::not_found()),
    }
}

#[utoipa::path(get, path = "/api/v1/distribution/editions/{name}", tag = "distribution",
    params(("name" = String, Path)),
    responses((status = 200, body = EditionView), (status = 404, body = ErrorBody)))]
pub async fn api_edition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
) -> AppResult<Json<EditionView>> {
    ctx.require(Action::ViewDistribution)?;
    Ok(Json(edition(&state, &name).await?))
}

#[utoipa::path(put, path = "/api/v1/distribution/editions/{name}", tag = "distribution",
    params(("name" = String, Path)), request_body = EditionView,
    responses((status = 200, body = EditionView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_put_edition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<EditionView>,
) -> AppResult<Json<EditionView>> {
    Ok(Json(put_edition(&state, &ctx, &name, body).await?))
}

/// Saves an edition after checking that its templates compile and render (API and form).
pub async fn put_edition(
    state: &AppState,
    ctx: &Ctx,
    name: &str,
    body: EditionView,
) -> AppResult<EditionView> {
    ctx.require(Action::ManageDistribution)?;
    let mut e = body.edition;
    e.name = name.to_owned();
    // The constructor validates the name.
    Edition::new(&e.name, &e.title)?;
    e.check()?;
    let before = state.store.get_edition(name).await?;
    let change = Change::new(
        "distribution.edition.saved",
        format!("edition/{name}"),
        before.as_ref().map(|r| &r.data),
        &e,
    );
    let data = serde_json::to_value(&e).map_err(|err| AppError::internal(err.to_string()))?;
    let revision = state
        .store
        .save_edition(
            name,
            &data,
            body.revision,
            &Effects::new(ctx.audit_actor(), state.clock.now()).with_audit(change),
        )
        .await?;
    Ok(EditionView {
        edition: e,
        revision,
    })
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

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[utoipa::path(post, path = "/api/v1/distribution/editions/{name}/preview", tag = "distribution",
    params(("name" = String, Path)), request_body = PreviewInput,
    responses((status = 200, body = PreviewView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_preview(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<PreviewInput>,
) -> AppResult<Json<PreviewView>> {
    let r = preview(&state, &ctx, &name, body).await?;
    Ok(Json(PreviewView {
        subject: r.subject,
        text: r.text,
        html: r.html,
    }))
}

/// Renders an edition as a recipient would receive it, without sending anything.
pub async fn preview(
    state: &AppState,
    ctx: &Ctx,
    name: &str,
    input: PreviewInput,
) -> AppResult<Rendered> {
    ctx.require(Action::ViewDistribution)?;
    let e = match input.edition {
        Some(e) => e,
        None => edition(state, name).await?.edition,
    };
    let base = &state.config.publishing.publisher.base_url;
    let view = match input
        .advisory
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(id) => {
            let a = keikai_app::advisories::load(&state.app, &ctx.caller, id).await?;
            let products = ProductNames::from_branches(&state.store.list_branches().await?);
            // The draft as it would go out: a preview before publication is the point.
            let version = keikai_domain::advisory::PublishedVersion {
                number: a.latest_version().map_or(1, |v| v.number + 1),
                at: state.clock.now(),
                summary: "Preview".to_owned(),
                release: a.release.unwrap_or_default(),
                content: a.content.clone(),
            };
            EventView::publication(&a, &version, &products, base)
        }
        None => EventView::sample(),
    };
    let cfg = config(state);
    let recipient = RecipientView {
        name: "山田 太郎 / Taro Yamada".to_owned(),
        time_zone: "Asia/Tokyo".to_owned(),
        unsubscribe_url: cfg.unsubscribe_url("PREVIEW"),
        ack_url: e.ack_requested.then(|| cfg.ack_url("PREVIEW")),
        preferences_url: None,
    };
    Ok(render(
        &e,
        &view,
        &recipient,
        input.locale.unwrap_or(Locale::En),
    )?)
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

#[utoipa::path(get, path = "/api/v1/distribution/webhooks", tag = "distribution",
    responses((status = 200, body = Vec<WebhookEndpoint>), (status = 404, body = ErrorBody)))]
pub async fn api_webhooks(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<WebhookEndpoint>>> {
    ctx.require(Action::ViewDistribution)?;
    let mut all = state.store.list_webhooks().await?;
    for w in &mut all {
        // The secret is shown once, when the endpoint is made.
        w.secret.clear();
    }
    Ok(Json(all))
}

#[utoipa::path(post, path = "/api/v1/distribution/webhooks", tag = "distribution",
    request_body = WebhookInput,
    responses((status = 201, body = WebhookEndpoint), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn api_create_webhook(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<WebhookInput>,
) -> AppResult<(StatusCode, Json<WebhookEndpoint>)> {
    Ok((
        StatusCode::CREATED,
        Json(create_webhook(&state, &ctx, body).await?),
    ))
}

/// Registers a webhook endpoint on a list (API and form).
pub async fn create_webhook(
    state: &AppState,
    ctx: &Ctx,
    input: WebhookInput,
) -> AppResult<WebhookEndpoint> {
    ctx.require(Action::ManageDistribution)?;
    let list = state
        .store
        .get_list(
            input
                .list
                .parse()
                .map_err(|_| AppError::invalid("list", "not a list id"))?,
        )
        .await
        .map_err(|_| AppError::invalid("list", "no such list"))?;
    let secret = input
        .secret
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(link_token);
    let now = state.clock.now();
    let w = WebhookEndpoint::new(list.id, &input.name, &input.url, secret, now)?;
    let mut shown = w.clone();
    shown.secret.clear();
    let change = Change::new(
        "distribution.webhook.created",
        format!("webhook/{}", w.id),
        serde_json::Value::Null,
        &shown,
    );
    state
        .store
        .save_webhook(&w, &Effects::new(ctx.audit_actor(), now).with_audit(change))
        .await?;
    Ok(w)
}

#[utoipa::path(post, path = "/api/v1/distribution/webhooks/{id}/enable", tag = "distribution",
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookEndpoint), (status = 404, body = ErrorBody)))]
/// Enables a disabled endpoint again (after its owner fixed it), with its failures reset.
pub async fn api_enable_webhook(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<WebhookEndpoint>> {
    Ok(Json(enable_webhook(&state, &ctx, &id).await?))
}

/// Enables the endpoint `id` again with its failures reset; returns it without its secret.
pub async fn enable_webhook(state: &AppState, ctx: &Ctx, id: &str) -> AppResult<WebhookEndpoint> {
    ctx.require(Action::ManageDistribution)?;
    let id: uuid::Uuid = id.parse().map_err(|_| AppError::not_found())?;
    let before = state.store.get_webhook(id).await?;
    let mut w = before.clone();
    w.enabled = true;
    w.consecutive_failures = 0;
    w.disabled_reason = None;
    let mut shown = w.clone();
    shown.secret.clear();
    let change = Change::new(
        "distribution.webhook.enabled",
        format!("webhook/{id}"),
        &before.disabled_reason,
        &shown,
    );
    state
        .store
        .save_webhook(
            &w,
            &Effects::new(ctx.audit_actor(), state.clock.now()).with_audit(change),
        )
        .await?;
    Ok(shown)
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

#[derive(Debug, Serialize, ToSchema)]
pub struct EventQueued {
    pub key: String,
}

#[utoipa::path(post, path = "/api/v1/distribution/early-warnings", tag = "distribution",
    request_body = EarlyWarningInput,
    responses((status = 202, body = EventQueued), (status = 422, body = ErrorBody)))]
pub async fn api_early_warning(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<EarlyWarningInput>,
) -> AppResult<(StatusCode, Json<EventQueued>)> {
    let key = early_warning(&state, &ctx, body).await?;
    Ok((StatusCode::ACCEPTED, Json(EventQueued { key })))
}

/// Queues an early warning written by the PSIRT; the fan-out sends it to the lists that
/// take early warnings and whose filters it passes.
pub async fn early_warning(
    state: &AppState,
    ctx: &Ctx,
    input: EarlyWarningInput,
) -> AppResult<String> {
    ctx.require(Action::ManageDistribution)?;
    let now = state.clock.now();
    let mut affected: Vec<BranchId> = Vec::new();
    let branches = state.store.list_branches().await?;
    let children = |id: BranchId| branches.iter().filter(move |b| b.parent_id == Some(id));
    for p in &input.products {
        let id: BranchId = p
            .parse()
            .map_err(|_| AppError::invalid("products", format!("\"{p}\" is not a branch id")))?;
        if !branches.iter().any(|b| b.id == id) {
            return Err(AppError::invalid(
                "products",
                format!("no branch has the id {p}"),
            ));
        }
        // Filters match leaves; a warning about a product line concerns all beneath it.
        let mut stack = vec![id];
        while let Some(b) = stack.pop() {
            let kids: Vec<BranchId> = children(b).map(|c| c.id).collect();
            if kids.is_empty() {
                affected.push(b);
            }
            stack.extend(kids);
        }
    }
    let title_ja = if input.title_ja.trim().is_empty() {
        input.title_en.clone()
    } else {
        input.title_ja.clone()
    };
    let body_ja = if input.body_ja.trim().is_empty() {
        input.body_en.clone()
    } else {
        input.body_ja.clone()
    };
    let view = EventView::early_warning(
        Localized {
            en: input.title_en,
            ja: title_ja,
        },
        Localized {
            en: input.body_en,
            ja: body_ja,
        },
        input.tlp.unwrap_or(Tlp::Clear),
        input.exploited,
        input.max_score,
        affected,
        now,
    )?;
    let mut view = view;
    // Each warning is its own event, even two in the same instant.
    view.key = format!("early-warning:{}", uuid::Uuid::now_v7());
    let key = view.key.clone();
    let request = FanoutRequest::new(Trigger::EarlyWarning, view);
    let change = Change::new(
        "distribution.early_warning.sent",
        format!("event/{key}"),
        serde_json::Value::Null,
        &request.view,
    );
    // The record of the warning and the fan-out that sends it commit together.
    let fx = Effects::new(ctx.audit_actor(), now)
        .with_audit(change)
        .with_jobs([request.to_job(now)?]);
    state.store.commit(&fx).await?;
    Ok(key)
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

/// The recent events with their counts.
pub async fn event_summaries(state: &AppState, limit: u32) -> AppResult<Vec<EventSummary>> {
    let mut out = Vec::new();
    for e in state.store.list_events(limit).await? {
        let counts = state.store.delivery_counts(e.id).await?;
        out.push(EventSummary {
            id: e.id,
            key: e.key,
            kind: e.kind,
            title: e.title,
            created_at: e.created_at,
            counts: counts.into(),
        });
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/distribution/events", tag = "distribution",
    responses((status = 200, body = Vec<EventSummary>), (status = 404, body = ErrorBody)))]
pub async fn api_events(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<EventSummary>>> {
    ctx.require(Action::ViewDistribution)?;
    Ok(Json(event_summaries(&state, 100).await?))
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    pub state: Option<String>,
}

/// One event's delivery report: counts, and each recipient's state with its error.
pub async fn event_report(
    state: &AppState,
    id: &str,
    only: Option<&str>,
) -> AppResult<EventReport> {
    let id: uuid::Uuid = id.parse().map_err(|_| AppError::not_found())?;
    let e = state.store.get_event(id).await?;
    let only = match only.filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse::<DeliveryState>()
                .map_err(|m| AppError::invalid("state", m))?,
        ),
        None => None,
    };
    let deliveries = state.store.list_deliveries(id, only, 100_000).await?;
    let counts = state.store.delivery_counts(id).await?;
    Ok(EventReport {
        event: EventSummary {
            id: e.id,
            key: e.key,
            kind: e.kind,
            title: e.title,
            created_at: e.created_at,
            counts: counts.into(),
        },
        deliveries: deliveries.into_iter().map(Into::into).collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/distribution/events/{id}", tag = "distribution",
    params(("id" = String, Path), ("state" = Option<String>, Query)),
    responses((status = 200, body = EventReport), (status = 404, body = ErrorBody)))]
pub async fn api_event(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Json<EventReport>> {
    ctx.require(Action::ViewDistribution)?;
    Ok(Json(event_report(&state, &id, q.state.as_deref()).await?))
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
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<BounceInput>,
) -> AppResult<Json<DeliveryView>> {
    ctx.require(Action::ManageDistribution)?;
    let id = body.message_id.trim();
    let id = if id.starts_with('<') {
        id.to_owned()
    } else {
        format!("<{id}>")
    };
    let d = state.store.delivery_by_message_id(&id).await?;
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "must not be empty"));
    }
    let now = state.clock.now();
    state
        .store
        .mark_delivery(d.id, DeliveryState::Bounced, Some(reason), d.attempts, now)
        .await?;
    Ok(Json(state.store.get_delivery(d.id).await?.into()))
}

// ------------------------------------------------------------------------------ self-service

/// A public subscription: pending until the address confirms through the link mailed to it.
/// The answer never says whether the address is known (the form must not tell strangers who
/// is subscribed): an active subscriber gets nothing; an address that unsubscribed, or never
/// confirmed, becomes pending on the lists asked for and gets the confirmation link again,
/// at most once an hour so that the form cannot flood someone's mailbox.
pub async fn self_subscribe(
    state: &AppState,
    input: SubscriberInput,
    lists: &[String],
) -> AppResult<()> {
    let now = state.clock.now();
    let mut input = input;
    // The public form cannot make internal subscribers.
    input.kind = SubscriberKind::External;
    let s = Subscriber::subscribe(input, now)?;
    check_key(s.openpgp_key.as_deref())?;
    let public: Vec<AudienceList> = state
        .store
        .list_lists()
        .await?
        .into_iter()
        .filter(|l| l.public && !l.internal_only)
        .collect();
    let mut ids = Vec::new();
    for l in lists {
        let list = public
            .iter()
            .find(|p| p.id.to_string() == *l)
            .ok_or_else(|| AppError::invalid("lists", "choose among the lists offered"))?;
        ids.push(list.id);
    }
    if ids.is_empty() {
        return Err(AppError::invalid("lists", "choose at least one list"));
    }
    if let Some(existing) = state.store.subscriber_by_email(&s.email).await? {
        let mut known = existing.subscriber;
        if known.state == SubscriptionState::Active {
            return Ok(());
        }
        let was = known.state;
        known.state = SubscriptionState::Pending;
        let mail = confirmation_mail(state, &known, &existing.token, was)?;
        let fx = Effects::system(now).with_jobs([mail]);
        state.store.save_subscriber(&known, Some(&ids), &fx).await?;
        return Ok(());
    }
    let token = link_token();
    let mail = confirmation_mail(state, &s, &token, SubscriptionState::Pending)?;
    let row = NewSubscription {
        subscriber: s,
        token,
        lists: ids,
    };
    match state
        .store
        .create_subscriber(&row, &Effects::system(now).with_jobs([mail]))
        .await
    {
        // Two submissions at once: the other one went in.
        Err(keikai_store::StoreError::Conflict(_)) => Ok(()),
        other => Ok(other?),
    }
}

/// The mail asking `s` to confirm their subscription through the link holding `token`. The
/// hour and the state the request found (`was`; pending for a new address) are in its key:
/// requests within one hour send one mail, and a return after unsubscribing one more.
fn confirmation_mail(
    state: &AppState,
    s: &Subscriber,
    token: &str,
    was: SubscriptionState,
) -> AppResult<NewJob> {
    let cfg = config(state);
    let link = format!("{}/subscribe/confirm/{token}", cfg.base_url);
    let (subject, text) = match s.locale {
        Locale::Ja => (
            "購読の確認".to_owned(),
            format!(
                "セキュリティ情報の配信登録を受け付けました。\n\n次のリンクを開いて登録を確定してください。\n{link}\n\nお心当たりがない場合は、このメールを破棄してください。何も届きません。\n"
            ),
        ),
        Locale::En => (
            "Please confirm your subscription".to_owned(),
            format!(
                "We received a subscription to our security notifications for this address.\n\nOpen this link to confirm it:\n{link}\n\nIf you did not ask for this, ignore this message; nothing will be sent.\n"
            ),
        ),
    };
    let now = state.clock.now();
    let hour = now.as_second().div_euclid(3600);
    let was = was.as_str();
    let key = format!("subscribe-confirm:{}:{hour}:{was}", s.id);
    let local = format!("confirm.{}.{hour}.{was}", s.id.as_uuid().simple());
    let to = keikai_app::outbox::Address::new(s.email.clone());
    let message =
        keikai_app::outbox::Message::new(to, subject, text, format!("<{local}@{}>", cfg.domain));
    message
        .to_job(key, now)
        .map_err(|e| AppError::internal(e.to_string()))
}

/// Confirms a pending subscription (double opt-in); `false` for an unknown token.
pub async fn confirm(state: &AppState, token: &str) -> AppResult<Option<Subscriber>> {
    let Ok(record) = state.store.subscriber_by_token(token).await else {
        return Ok(None);
    };
    let mut s = record.subscriber;
    if s.state == SubscriptionState::Pending {
        s.state = SubscriptionState::Active;
        state
            .store
            .save_subscriber(&s, None, &Effects::system(state.clock.now()))
            .await?;
    }
    Ok(Some(s))
}

/// Unsubscribes the holder of `token` from everything; `None` for an unknown token.
pub async fn unsubscribe(state: &AppState, token: &str) -> AppResult<Option<Subscriber>> {
    let Ok(record) = state.store.subscriber_by_token(token).await else {
        return Ok(None);
    };
    let mut s = record.subscriber;
    if s.state != SubscriptionState::Unsubscribed {
        s.state = SubscriptionState::Unsubscribed;
        state
            .store
            .save_subscriber(&s, None, &Effects::system(state.clock.now()))
            .await?;
    }
    Ok(Some(s))
}

/// Records an acknowledgement; `None` for an unknown token.
pub async fn acknowledge(state: &AppState, token: &str) -> AppResult<Option<DeliveryRecord>> {
    match state
        .store
        .acknowledge_delivery(token, state.clock.now())
        .await
    {
        Ok(d) => Ok(Some(d)),
        Err(keikai_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
