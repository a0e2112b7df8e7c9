//! The HTML side of distribution.
//!
//! Public pages, without an account: the subscription form (double opt-in), and the pages
//! behind the links in messages — confirm, unsubscribe (also RFC 8058 one-click from a mail
//! client) and acknowledge. The secret in those links is the authority, so their POSTs carry
//! no CSRF token (see `auth::identity_layer`); their GETs only show a button, because mail
//! scanners open links.
//!
//! The PSIRT's pages: lists, editions, webhooks, early warnings and recent events
//! (`/distribution`), subscribers with the CSV import, the edition editor with its preview,
//! and each event's delivery report. The rules live in [`crate::distribution`]; these pages
//! render and turn form fields into its inputs.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use keikai_domain::advisory::{Localized, Tlp};
use keikai_domain::edition::{Edition, Rendered, Section, Templates};
use keikai_domain::subscription::{
    AudienceList, Filter, SubscriberInput, SubscriberKind, SubscriptionState, Trigger,
    WebhookEndpoint, default_triggers,
};
use keikai_domain::{Action, BranchId, ListId, Locale};
use keikai_store::StoreError;
use serde::Deserialize;

use crate::distribution::{
    self as d, EarlyWarningInput, EditionView, ImportReport, ListInput, PreviewInput, WebhookInput,
};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::UiForm;
use crate::http::forms::{
    Pairs, csv_field, field, fields, form_csrf, no_store, refuse_read_only_token, with_cookie,
};
use crate::http::i18n;
use crate::http::state::AppState;
use crate::ui::layout::{Page, after_submit, render};

// ---------------------------------------------------------------- small helpers

/// A checkbox: sent with any value but an empty or negative one means ticked.
fn flag(pairs: &Pairs, name: &str) -> bool {
    pairs
        .iter()
        .any(|(k, v)| k == name && !matches!(v.as_str(), "" | "false" | "0" | "off"))
}

/// Browsers send text areas with CRLF line ends; templates and mail text use LF.
fn text_area(pairs: &Pairs, name: &str) -> String {
    field(pairs, name).replace("\r\n", "\n")
}

fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// The label of a value (`{prefix}-{value}` in the Fluent files), or the value itself when
/// there is none, so that a value added later still shows.
fn label(lang: Locale, prefix: &str, value: &str) -> String {
    let key = format!("{prefix}-{value}");
    let l = i18n::t(lang, &key);
    if l == key { value.to_owned() } else { l }
}

/// The message with the field's label in the reader's language in front of it.
fn field_message(lang: Locale, prefix: &str, e: &AppError) -> String {
    match &e.field {
        Some(f) => {
            let key = format!("{prefix}-{}", f.replace(['.', '_'], "-"));
            let l = i18n::t(lang, &key);
            if l == key {
                e.message.clone()
            } else {
                format!("{l} — {}", e.message)
            }
        }
        None => e.message.clone(),
    }
}

/// Product branches as `(id, "Vendor / Product / Version")`, sorted by path.
async fn branch_options(state: &AppState) -> AppResult<Vec<(String, String)>> {
    let branches = state.store.list_branches().await?;
    let mut out: Vec<(String, String)> = crate::ui::cases::branch_paths(&branches)
        .into_iter()
        .map(|(id, path)| (id.to_string(), path))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

fn parse_products(values: &[String]) -> AppResult<BTreeSet<BranchId>> {
    let mut out = BTreeSet::new();
    for p in values.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        out.insert(p.parse().map_err(|_| {
            AppError::invalid("products", format!("\"{p}\" is not a product branch"))
        })?);
    }
    Ok(out)
}

fn parse_score(name: &str, value: &str) -> AppResult<Option<f64>> {
    match value.trim() {
        "" => Ok(None),
        v => v.parse::<f64>().map(Some).map_err(|_| {
            AppError::invalid(name, format!("\"{v}\" is not a CVSS score (0.0 to 10.0)"))
        }),
    }
}

// ================================================================ public pages

const TIME_ZONES: &[&str] = &[
    "UTC",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Australia/Sydney",
];

fn default_zone(lang: Locale) -> &'static str {
    match lang {
        Locale::Ja => "Asia/Tokyo",
        Locale::En => "UTC",
    }
}

/// The subscription form as typed.
#[derive(Debug, Clone, Default)]
struct SubscribeForm {
    email: String,
    name: String,
    language: String,
    time_zone: String,
    openpgp_key: String,
    lists: Vec<String>,
}

impl SubscribeForm {
    fn from_pairs(pairs: &Pairs) -> Self {
        Self {
            email: field(pairs, "email"),
            name: field(pairs, "name"),
            language: field(pairs, "language"),
            time_zone: field(pairs, "time_zone"),
            openpgp_key: text_area(pairs, "openpgp_key"),
            lists: fields(pairs, "lists"),
        }
    }

    fn has_list(&self, id: &str) -> bool {
        self.lists.iter().any(|l| l == id)
    }

    fn input(&self) -> AppResult<SubscriberInput> {
        let locale = match self.language.trim() {
            "" => None,
            l => Some(l.parse::<Locale>()?),
        };
        Ok(SubscriberInput {
            email: self.email.clone(),
            name: self.name.clone(),
            kind: SubscriberKind::External,
            locale,
            time_zone: Some(self.time_zone.clone()),
            openpgp_key: Some(self.openpgp_key.clone()).filter(|k| !k.trim().is_empty()),
        })
    }
}

/// A list the public may subscribe to.
struct PublicList {
    id: String,
    name: String,
    description: String,
}

#[derive(Template)]
#[template(path = "subscribe.html")]
struct SubscribeTemplate {
    page: Page,
    form: SubscribeForm,
    lists: Vec<PublicList>,
    zones: &'static [&'static str],
}

async fn subscribe_page(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    form: SubscribeForm,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let lists = state
        .store
        .list_lists()
        .await?
        .into_iter()
        .filter(|l| l.public && !l.internal_only)
        .map(|l| PublicList {
            id: l.id.to_string(),
            name: l.name,
            description: l.description,
        })
        .collect();
    let (csrf, cookie) = form_csrf(ctx, headers, state.config.secure_cookies);
    let mut page = ctx.page("subscribe-title");
    page.csrf = csrf;
    page.error = error;
    let tpl = SubscribeTemplate {
        page,
        form,
        lists,
        zones: TIME_ZONES,
    };
    Ok(with_cookie(render(status, &tpl), cookie))
}

/// `GET /subscribe`.
pub(crate) async fn subscribe_form(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> AppResult<Response> {
    let form = SubscribeForm {
        language: ctx.lang.as_str().to_owned(),
        time_zone: default_zone(ctx.lang).to_owned(),
        ..SubscribeForm::default()
    };
    subscribe_page(&state, &ctx, &headers, form, None, StatusCode::OK).await
}

#[derive(Template)]
#[template(path = "subscription_link.html")]
struct LinkTemplate {
    page: Page,
    heading: String,
    message: String,
    /// The form's target, when there is something to do.
    action: Option<String>,
    button: String,
    /// A hint shown under the message.
    note: Option<String>,
}

/// `POST /subscribe`: "check your mail" whether or not the address was subscribed already
/// (the form must not tell strangers who is), or the form again with what was wrong.
pub(crate) async fn subscribe_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    refuse_read_only_token(&ctx)?;
    let form = SubscribeForm::from_pairs(&pairs);
    let result = match form.input() {
        Ok(input) => d::self_subscribe(&state, input, &form.lists).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            let tpl = LinkTemplate {
                page: ctx.page("subscribe-sent-title"),
                heading: ctx.t("subscribe-sent-title"),
                message: ctx.t("subscribe-sent-text"),
                action: None,
                button: String::new(),
                note: Some(ctx.t("subscribe-sent-note")),
            };
            Ok(render(StatusCode::OK, &tpl))
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            let msg = field_message(ctx.lang, "subscribe-field", &e);
            subscribe_page(&state, &ctx, &headers, form, Some(msg), e.status).await
        }
        Err(e) => Err(e),
    }
}

/// A page behind a secret link: the language switch returns to it (no `Referer` is sent
/// from it), caches keep none of it, and its language form gets a CSRF token.
fn link_page(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    path: String,
    tpl: impl FnOnce(Page) -> LinkTemplate,
) -> Response {
    let (csrf, cookie) = form_csrf(ctx, headers, state.config.secure_cookies);
    let mut page = ctx.page("subscription-link-title");
    page.csrf = csrf;
    page.back = Some(path);
    let tpl = tpl(page);
    no_store(with_cookie(render(StatusCode::OK, &tpl), cookie))
}

async fn subscriber_of(state: &AppState, token: &str) -> AppResult<keikai_store::SubscriberRecord> {
    match state.store.subscriber_by_token(token).await {
        Ok(r) => Ok(r),
        Err(StoreError::NotFound) => Err(AppError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /subscribe/confirm/{token}`: a button; opening the link changes nothing.
pub(crate) async fn confirm_page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let r = subscriber_of(&state, &token).await?;
    let email = r.subscriber.email.to_string();
    let path = format!("/subscribe/confirm/{token}");
    let (message, action) = match r.subscriber.state {
        SubscriptionState::Pending => (
            i18n::t_with(ctx.lang, "confirm-ask", &[("email", &email)]),
            Some(path.clone()),
        ),
        SubscriptionState::Active => (
            i18n::t_with(ctx.lang, "confirm-already", &[("email", &email)]),
            None,
        ),
        SubscriptionState::Unsubscribed => (
            i18n::t_with(ctx.lang, "confirm-unsubscribed", &[("email", &email)]),
            None,
        ),
    };
    Ok(link_page(&state, &ctx, &headers, path, |page| {
        LinkTemplate {
            heading: page.t("confirm-title"),
            button: page.t("confirm-button"),
            note: None,
            page,
            message,
            action,
        }
    }))
}

/// `POST /subscribe/confirm/{token}`: double opt-in done.
pub(crate) async fn confirm_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    refuse_read_only_token(&ctx)?;
    let s = d::confirm(&state, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let email = s.email.to_string();
    let message = if s.state == SubscriptionState::Active {
        i18n::t_with(ctx.lang, "confirm-done", &[("email", &email)])
    } else {
        i18n::t_with(ctx.lang, "confirm-unsubscribed", &[("email", &email)])
    };
    let path = format!("/subscribe/confirm/{token}");
    Ok(link_page(&state, &ctx, &headers, path, |page| {
        LinkTemplate {
            heading: page.t("confirm-done-title"),
            note: Some(page.t("confirm-done-note")),
            page,
            message,
            action: None,
            button: String::new(),
        }
    }))
}

/// `GET /unsubscribe/{token}`: a button; opening the link changes nothing.
pub(crate) async fn unsubscribe_page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let r = subscriber_of(&state, &token).await?;
    let email = r.subscriber.email.to_string();
    let path = format!("/unsubscribe/{token}");
    let (message, action) = if r.subscriber.state == SubscriptionState::Unsubscribed {
        (
            i18n::t_with(ctx.lang, "unsubscribe-already", &[("email", &email)]),
            None,
        )
    } else {
        (
            i18n::t_with(ctx.lang, "unsubscribe-ask", &[("email", &email)]),
            Some(path.clone()),
        )
    };
    Ok(link_page(&state, &ctx, &headers, path, |page| {
        LinkTemplate {
            heading: page.t("unsubscribe-title"),
            button: page.t("unsubscribe-button"),
            note: None,
            page,
            message,
            action,
        }
    }))
}

/// `POST /unsubscribe/{token}`: the page's button, or a mail client's RFC 8058 one-click
/// request (`List-Unsubscribe=One-Click`, no cookies). The body is not read: whatever it
/// says, the link's holder asked to leave.
pub(crate) async fn unsubscribe_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    refuse_read_only_token(&ctx)?;
    let s = d::unsubscribe(&state, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let email = s.email.to_string();
    let path = format!("/unsubscribe/{token}");
    Ok(link_page(&state, &ctx, &headers, path, |page| {
        LinkTemplate {
            heading: page.t("unsubscribe-done-title"),
            message: i18n::t_with(page.lang, "unsubscribe-done", &[("email", &email)]),
            note: None,
            page,
            action: None,
            button: String::new(),
        }
    }))
}

/// `GET /ack/{token}`: a button; opening the link records nothing (mail scanners open
/// links). A link acknowledged already says when; an unknown one is not found.
pub(crate) async fn ack_page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let delivery = match state.store.delivery_by_ack_token(&token).await {
        Ok(d) => d,
        Err(StoreError::NotFound) => return Err(AppError::not_found()),
        Err(e) => return Err(e.into()),
    };
    let path = format!("/ack/{token}");
    if let Some(at) = delivery.acked_at {
        return Ok(ack_done(&state, &ctx, &headers, path, at));
    }
    Ok(link_page(&state, &ctx, &headers, path.clone(), |page| {
        LinkTemplate {
            heading: page.t("ack-title"),
            message: page.t("ack-ask"),
            button: page.t("ack-button"),
            note: None,
            page,
            action: Some(path),
        }
    }))
}

fn ack_done(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    path: String,
    at: Timestamp,
) -> Response {
    link_page(state, ctx, headers, path, |page| LinkTemplate {
        heading: page.t("ack-done-title"),
        message: format!("{} ({})", page.t("ack-done"), when(at)),
        note: None,
        page,
        action: None,
        button: String::new(),
    })
}

/// `POST /ack/{token}`: records the acknowledgement (the first one counts).
pub(crate) async fn ack_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    refuse_read_only_token(&ctx)?;
    let delivery = d::acknowledge(&state, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let path = format!("/ack/{token}");
    let at = delivery.acked_at.unwrap_or_else(|| state.clock.now());
    Ok(ack_done(&state, &ctx, &headers, path, at))
}

// ================================================================ the PSIRT's pages

fn trigger_options(lang: Locale) -> Vec<(String, String)> {
    Trigger::ALL
        .iter()
        .map(|t| {
            (
                t.as_str().to_owned(),
                label(lang, "dist-trigger", t.as_str()),
            )
        })
        .collect()
}

fn tlp_options() -> Vec<(String, String)> {
    Tlp::ALL
        .iter()
        .map(|t| (t.as_str().to_owned(), t.label().to_owned()))
        .collect()
}

fn filter_summary(lang: Locale, f: &Filter, paths: &HashMap<String, String>) -> String {
    let mut parts = Vec::new();
    if !f.products.is_empty() {
        let names: Vec<String> = f
            .products
            .iter()
            .map(|b| {
                let id = b.to_string();
                paths.get(&id).cloned().unwrap_or(id)
            })
            .collect();
        parts.push(format!(
            "{}: {}",
            i18n::t(lang, "dist-filter-products"),
            names.join(", ")
        ));
    }
    if let Some(s) = f.min_score {
        parts.push(format!("{} {s:.1}", i18n::t(lang, "dist-filter-min-score")));
    }
    if f.exploited_only {
        parts.push(i18n::t(lang, "dist-filter-exploited"));
    }
    if !f.languages.is_empty() {
        let l: Vec<&str> = f.languages.iter().map(|l| l.as_str()).collect();
        parts.push(format!(
            "{}: {}",
            i18n::t(lang, "dist-filter-languages"),
            l.join(", ")
        ));
    }
    parts.push(format!(
        "{} {}",
        i18n::t(lang, "dist-filter-max-tlp"),
        f.max_tlp.label()
    ));
    parts.join(" · ")
}

/// A list on the overview.
struct ListRow {
    id: String,
    name: String,
    description: String,
    priority: u32,
    edition: String,
    triggers: String,
    filter: String,
    members: u64,
    public: bool,
    internal_only: bool,
}

struct EditionRow {
    name: String,
    title: String,
    ack_requested: bool,
    custom_templates: bool,
}

struct WebhookRow {
    id: String,
    name: String,
    url: String,
    list: String,
    enabled: bool,
    disabled_reason: String,
    failures: u32,
}

struct EventRow {
    id: String,
    title: String,
    kind: String,
    created: String,
    counts: d::CountsView,
}

/// The list form as typed.
#[derive(Debug, Clone, Default)]
struct ListForm {
    name: String,
    description: String,
    priority: String,
    edition: String,
    internal_only: bool,
    public: bool,
    triggers: Vec<String>,
    min_score: String,
    exploited_only: bool,
    max_tlp: String,
    products: Vec<String>,
    languages: Vec<String>,
}

impl ListForm {
    fn blank() -> Self {
        Self {
            priority: "10".to_owned(),
            edition: "default".to_owned(),
            triggers: default_triggers()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            max_tlp: Tlp::Clear.as_str().to_owned(),
            ..Self::default()
        }
    }

    fn has_trigger(&self, t: &str) -> bool {
        self.triggers.iter().any(|x| x == t)
    }

    fn has_product(&self, id: &str) -> bool {
        self.products.iter().any(|x| x == id)
    }

    fn has_language(&self, l: &str) -> bool {
        self.languages.iter().any(|x| x == l)
    }

    fn from_pairs(pairs: &Pairs) -> Self {
        Self {
            name: field(pairs, "name"),
            description: text_area(pairs, "description"),
            priority: field(pairs, "priority"),
            edition: field(pairs, "edition"),
            internal_only: flag(pairs, "internal_only"),
            public: flag(pairs, "public"),
            triggers: fields(pairs, "triggers"),
            min_score: field(pairs, "min_score"),
            exploited_only: flag(pairs, "exploited_only"),
            max_tlp: field(pairs, "max_tlp"),
            products: fields(pairs, "products"),
            languages: fields(pairs, "languages"),
        }
    }

    fn input(&self) -> AppResult<ListInput> {
        let priority: u32 = self.priority.trim().parse().map_err(|_| {
            AppError::invalid(
                "priority",
                format!(
                    "\"{}\" is not a whole number (1 is the highest)",
                    self.priority
                ),
            )
        })?;
        let mut triggers = BTreeSet::new();
        for t in &self.triggers {
            triggers.insert(t.parse::<Trigger>()?);
        }
        let mut languages = BTreeSet::new();
        for l in &self.languages {
            languages.insert(l.parse::<Locale>()?);
        }
        let max_tlp = match self.max_tlp.trim() {
            "" => Tlp::Clear,
            t => t.parse()?,
        };
        let edition = match self.edition.trim() {
            "" => "default".to_owned(),
            e => e.to_owned(),
        };
        Ok(ListInput {
            name: self.name.clone(),
            description: self.description.clone(),
            priority,
            edition,
            internal_only: self.internal_only,
            public: self.public,
            filter: Some(Filter {
                products: parse_products(&self.products)?,
                min_score: parse_score("min_score", &self.min_score)?,
                exploited_only: self.exploited_only,
                languages,
                max_tlp,
            }),
            triggers: Some(triggers),
        })
    }
}

#[derive(Debug, Clone, Default)]
struct WebhookForm {
    list: String,
    name: String,
    url: String,
}

#[derive(Debug, Clone, Default)]
struct WarningForm {
    title_en: String,
    title_ja: String,
    body_en: String,
    body_ja: String,
    tlp: String,
    exploited: bool,
    max_score: String,
    products: Vec<String>,
}

impl WarningForm {
    fn has_product(&self, id: &str) -> bool {
        self.products.iter().any(|x| x == id)
    }

    fn from_pairs(pairs: &Pairs) -> Self {
        Self {
            title_en: field(pairs, "title_en"),
            title_ja: field(pairs, "title_ja"),
            body_en: text_area(pairs, "body_en"),
            body_ja: text_area(pairs, "body_ja"),
            tlp: field(pairs, "tlp"),
            exploited: flag(pairs, "exploited"),
            max_score: field(pairs, "max_score"),
            products: fields(pairs, "products"),
        }
    }

    fn input(&self) -> AppResult<EarlyWarningInput> {
        let tlp = match self.tlp.trim() {
            "" => None,
            t => Some(t.parse::<Tlp>()?),
        };
        // Checked here so that a typo is named; the branch ids are checked again there.
        parse_products(&self.products)?;
        Ok(EarlyWarningInput {
            title_en: self.title_en.clone(),
            title_ja: self.title_ja.clone(),
            body_en: self.body_en.clone(),
            body_ja: self.body_ja.clone(),
            tlp,
            exploited: self.exploited,
            max_score: parse_score("max_score", &self.max_score)?,
            products: self
                .products
                .iter()
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
        })
    }
}

#[derive(Debug, Clone, Default)]
struct NewEditionForm {
    name: String,
    title: String,
}

/// What a failed form held, to show again with the error.
#[derive(Default)]
struct OverviewDrafts {
    list: Option<ListForm>,
    webhook: Option<WebhookForm>,
    warning: Option<WarningForm>,
    edition: Option<NewEditionForm>,
    /// A webhook secret that was generated: shown this once.
    new_secret: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "distribution.html")]
struct OverviewTemplate {
    page: Page,
    can_manage: bool,
    subscribers: u64,
    lists: Vec<ListRow>,
    editions: Vec<EditionRow>,
    webhooks: Vec<WebhookRow>,
    events: Vec<EventRow>,
    list_options: Vec<(String, String)>,
    branches: Vec<(String, String)>,
    triggers: Vec<(String, String)>,
    tlps: Vec<(String, String)>,
    list_form: ListForm,
    webhook_form: WebhookForm,
    warning_form: WarningForm,
    edition_form: NewEditionForm,
    new_secret: Option<(String, String)>,
}

/// What a successful form on the overview did, named in its redirect (`?done=`): only these
/// fixed messages are shown, never text from the address.
fn done_message(lang: Locale, done: Option<&str>) -> Option<String> {
    let key = match done? {
        "list" => "dist-done-list",
        "webhook" => "dist-done-webhook",
        "enabled" => "dist-done-enabled",
        "warning" => "dist-done-warning",
        "edition" => "dist-done-edition",
        _ => return None,
    };
    Some(i18n::t(lang, key))
}

async fn overview_page(
    state: &AppState,
    ctx: &Ctx,
    drafts: OverviewDrafts,
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Action::ViewDistribution)?;
    let lang = ctx.lang;
    let branches = branch_options(state).await?;
    let paths: HashMap<String, String> = branches.iter().cloned().collect();
    let all_lists = state.store.list_lists().await?;
    let mut lists = Vec::new();
    for l in &all_lists {
        let triggers: Vec<String> = l
            .triggers
            .iter()
            .map(|t| label(lang, "dist-trigger", t.as_str()))
            .collect();
        lists.push(ListRow {
            id: l.id.to_string(),
            name: l.name.clone(),
            description: l.description.clone(),
            priority: l.priority,
            edition: l.edition.clone(),
            triggers: triggers.join(", "),
            filter: filter_summary(lang, &l.filter, &paths),
            members: state.store.count_subscribers(Some(l.id)).await?,
            public: l.public,
            internal_only: l.internal_only,
        });
    }
    let list_names: HashMap<ListId, String> =
        all_lists.iter().map(|l| (l.id, l.name.clone())).collect();
    let editions = d::editions(state)
        .await?
        .into_iter()
        .map(|e| EditionRow {
            custom_templates: e.edition.templates.is_some(),
            ack_requested: e.edition.ack_requested,
            name: e.edition.name,
            title: e.edition.title,
        })
        .collect();
    let webhooks = state
        .store
        .list_webhooks()
        .await?
        .into_iter()
        .map(|w| WebhookRow {
            id: w.id.to_string(),
            name: w.name,
            url: w.url,
            list: list_names
                .get(&w.list_id)
                .cloned()
                .unwrap_or_else(|| w.list_id.to_string()),
            enabled: w.enabled,
            disabled_reason: w.disabled_reason.unwrap_or_default(),
            failures: w.consecutive_failures,
        })
        .collect();
    let events = d::event_summaries(state, 50)
        .await?
        .into_iter()
        .map(|e| EventRow {
            id: e.id.to_string(),
            title: e.title,
            kind: label(lang, "dist-kind", &e.kind),
            created: when(e.created_at),
            counts: e.counts,
        })
        .collect();
    let mut page = ctx.page("dist-title");
    page.flash = flash;
    page.error = error;
    let tpl = OverviewTemplate {
        page,
        can_manage: ctx.allows(Action::ManageDistribution),
        subscribers: state.store.count_subscribers(None).await?,
        lists,
        editions,
        webhooks,
        events,
        list_options: all_lists
            .iter()
            .map(|l| (l.id.to_string(), l.name.clone()))
            .collect(),
        branches,
        triggers: trigger_options(lang),
        tlps: tlp_options(),
        list_form: drafts.list.unwrap_or_else(ListForm::blank),
        webhook_form: drafts.webhook.unwrap_or_default(),
        // Lists and subscribers take TLP:CLEAR unless widened, so that is where a warning
        // starts; restricting it is a deliberate choice.
        warning_form: drafts.warning.unwrap_or_else(|| WarningForm {
            tlp: Tlp::Clear.as_str().to_owned(),
            ..WarningForm::default()
        }),
        edition_form: drafts.edition.unwrap_or_default(),
        new_secret: drafts.new_secret,
    };
    let mut res = render(status, &tpl);
    if tpl.new_secret.is_some() {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

#[derive(Deserialize)]
pub(crate) struct OverviewQuery {
    done: Option<String>,
}

/// `GET /distribution`.
pub(crate) async fn overview(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OverviewQuery>,
) -> AppResult<Response> {
    let flash = done_message(ctx.lang, q.done.as_deref());
    overview_page(
        &state,
        &ctx,
        OverviewDrafts::default(),
        flash,
        None,
        StatusCode::OK,
    )
    .await
}

/// Redirects to the overview on success; re-renders it with the form and the error otherwise.
async fn overview_after<T>(
    state: &AppState,
    ctx: &Ctx,
    result: AppResult<T>,
    target: impl FnOnce(&T) -> String,
    drafts: OverviewDrafts,
) -> AppResult<Response> {
    let target = result.as_ref().map(target).unwrap_or_default();
    let lang = ctx.lang;
    let result = result.map_err(|e| {
        let message = field_message(lang, "dist-field", &e);
        AppError { message, ..e }
    });
    after_submit(result, &target, |msg, status| {
        overview_page(state, ctx, drafts, None, Some(msg), status)
    })
    .await
}

/// `POST /distribution/lists`.
pub(crate) async fn create_list(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    ctx.require(Action::ManageDistribution)?;
    let form = ListForm::from_pairs(&pairs);
    let result = match form.input() {
        Ok(input) => d::save_list(&state, &ctx, None, input).await,
        Err(e) => Err(e),
    };
    let drafts = OverviewDrafts {
        list: Some(form),
        ..OverviewDrafts::default()
    };
    let target = |l: &AudienceList| format!("/distribution?done=list#list-{}", l.id);
    overview_after(&state, &ctx, result, target, drafts).await
}

/// `POST /distribution/webhooks`: redirects when the secret was typed; a generated secret is
/// shown this once, on the page itself.
pub(crate) async fn create_webhook(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    ctx.require(Action::ManageDistribution)?;
    let form = WebhookForm {
        list: field(&pairs, "list"),
        name: field(&pairs, "name"),
        url: field(&pairs, "url"),
    };
    let secret = field(&pairs, "secret");
    let typed = !secret.trim().is_empty();
    let input = WebhookInput {
        list: form.list.clone(),
        name: form.name.clone(),
        url: form.url.clone(),
        secret: typed.then_some(secret),
    };
    let result = d::create_webhook(&state, &ctx, input).await;
    match result {
        Ok(w) if !typed => {
            let drafts = OverviewDrafts {
                new_secret: Some((w.name, w.secret)),
                ..OverviewDrafts::default()
            };
            let flash = done_message(ctx.lang, Some("webhook"));
            overview_page(&state, &ctx, drafts, flash, None, StatusCode::OK).await
        }
        other => {
            let drafts = OverviewDrafts {
                webhook: Some(form),
                ..OverviewDrafts::default()
            };
            let target =
                |w: &WebhookEndpoint| format!("/distribution?done=webhook#webhook-{}", w.id);
            overview_after(&state, &ctx, other, target, drafts).await
        }
    }
}

/// `POST /distribution/webhooks/{id}/enable`.
pub(crate) async fn enable_webhook(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    d::enable_webhook(&state, &ctx, &id).await?;
    Ok(Redirect::to(&format!("/distribution?done=enabled#webhook-{id}")).into_response())
}

/// `POST /distribution/early-warnings`.
pub(crate) async fn early_warning(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    ctx.require(Action::ManageDistribution)?;
    let form = WarningForm::from_pairs(&pairs);
    let result = match form.input() {
        Ok(input) => d::early_warning(&state, &ctx, input).await,
        Err(e) => Err(e),
    };
    let drafts = OverviewDrafts {
        warning: Some(form),
        ..OverviewDrafts::default()
    };
    let target = |_: &String| "/distribution?done=warning#events".to_owned();
    overview_after(&state, &ctx, result, target, drafts).await
}

/// `POST /distribution/editions`: a new edition with every section and the built-in
/// templates, to edit on its own page.
pub(crate) async fn create_edition(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    ctx.require(Action::ManageDistribution)?;
    let form = NewEditionForm {
        name: field(&pairs, "name").trim().to_owned(),
        title: field(&pairs, "title"),
    };
    let result = async {
        let edition = Edition::new(&form.name, &form.title)?;
        if state.store.get_edition(&edition.name).await?.is_some() {
            return Err(AppError::invalid(
                "name",
                format!("an edition named \"{}\" exists already", edition.name),
            ));
        }
        let name = edition.name.clone();
        d::put_edition(
            &state,
            &ctx,
            &name,
            EditionView {
                edition,
                revision: 0,
            },
        )
        .await
    }
    .await;
    let drafts = OverviewDrafts {
        edition: Some(form),
        ..OverviewDrafts::default()
    };
    let target = |e: &EditionView| format!("/distribution/editions/{}", e.edition.name);
    overview_after(&state, &ctx, result, target, drafts).await
}

// ---------------------------------------------------------------- editions

/// The edition form as typed (templates: empty means the built-in one).
#[derive(Debug, Clone, Default)]
struct EditionForm {
    revision: String,
    title: String,
    sections: Vec<String>,
    supplement_en: String,
    supplement_ja: String,
    ack_requested: bool,
    subject_en: String,
    subject_ja: String,
    text_en: String,
    text_ja: String,
    html_en: String,
    html_ja: String,
}

impl EditionForm {
    fn has_section(&self, s: &str) -> bool {
        self.sections.iter().any(|x| x == s)
    }

    fn of(view: &EditionView) -> Self {
        let e = &view.edition;
        let t = e.templates.clone().unwrap_or_default();
        Self {
            revision: view.revision.to_string(),
            title: e.title.clone(),
            sections: e.sections.iter().map(|s| s.as_str().to_owned()).collect(),
            supplement_en: e.supplement.en.clone(),
            supplement_ja: e.supplement.ja.clone(),
            ack_requested: e.ack_requested,
            subject_en: t.subject.en,
            subject_ja: t.subject.ja,
            text_en: t.text.en,
            text_ja: t.text.ja,
            html_en: t.html.en,
            html_ja: t.html.ja,
        }
    }

    fn from_pairs(pairs: &Pairs) -> Self {
        Self {
            revision: field(pairs, "revision"),
            title: field(pairs, "title"),
            sections: fields(pairs, "sections"),
            supplement_en: text_area(pairs, "supplement_en"),
            supplement_ja: text_area(pairs, "supplement_ja"),
            ack_requested: flag(pairs, "ack_requested"),
            subject_en: text_area(pairs, "subject_en"),
            subject_ja: text_area(pairs, "subject_ja"),
            text_en: text_area(pairs, "text_en"),
            text_ja: text_area(pairs, "text_ja"),
            html_en: text_area(pairs, "html_en"),
            html_ja: text_area(pairs, "html_ja"),
        }
    }

    fn view(&self, name: &str) -> AppResult<EditionView> {
        let revision: i64 =
            self.revision.trim().parse().map_err(|_| {
                AppError::invalid("revision", "the form is damaged; reload the page")
            })?;
        let mut sections = BTreeSet::new();
        for s in &self.sections {
            sections.insert(s.parse::<Section>()?);
        }
        let templates = Templates {
            subject: Localized {
                en: self.subject_en.clone(),
                ja: self.subject_ja.clone(),
            },
            text: Localized {
                en: self.text_en.clone(),
                ja: self.text_ja.clone(),
            },
            html: Localized {
                en: self.html_en.clone(),
                ja: self.html_ja.clone(),
            },
        };
        let all_built_in = [
            &self.subject_en,
            &self.subject_ja,
            &self.text_en,
            &self.text_ja,
            &self.html_en,
            &self.html_ja,
        ]
        .iter()
        .all(|t| t.trim().is_empty());
        Ok(EditionView {
            edition: Edition {
                name: name.to_owned(),
                title: self.title.trim().to_owned(),
                sections,
                supplement: Localized {
                    en: self.supplement_en.clone(),
                    ja: self.supplement_ja.clone(),
                },
                ack_requested: self.ack_requested,
                templates: (!all_built_in).then_some(templates),
            },
            revision,
        })
    }
}

/// One template field of the editor: its form name, its label and the built-in text.
struct TemplateSlot {
    name: &'static str,
    label: String,
    value: String,
    built_in: String,
    rows: u32,
}

#[derive(Template)]
#[template(path = "distribution_edition.html")]
struct EditionTemplate {
    page: Page,
    name: String,
    can_manage: bool,
    form: EditionForm,
    sections: Vec<(String, String)>,
    slots: Vec<TemplateSlot>,
    /// Lists that use this edition.
    used_by: Vec<String>,
    /// Tracking ids to preview with.
    advisories: Vec<String>,
    preview_advisory: String,
    preview_lang: String,
    preview: Option<Rendered>,
}

fn slots(lang: Locale, form: &EditionForm) -> Vec<TemplateSlot> {
    let b = Edition::built_in_templates();
    let slot = |name: &'static str, value: &str, built_in: &str, rows: u32| TemplateSlot {
        name,
        label: label(lang, "dist-template", name),
        value: value.to_owned(),
        built_in: built_in.to_owned(),
        rows,
    };
    vec![
        slot("subject_en", &form.subject_en, &b.subject.en, 2),
        slot("subject_ja", &form.subject_ja, &b.subject.ja, 2),
        slot("text_en", &form.text_en, &b.text.en, 12),
        slot("text_ja", &form.text_ja, &b.text.ja, 12),
        slot("html_en", &form.html_en, &b.html.en, 12),
        slot("html_ja", &form.html_ja, &b.html.ja, 12),
    ]
}

struct EditionPageState {
    form: EditionForm,
    preview_advisory: String,
    preview_lang: String,
    preview: Option<Rendered>,
}

async fn edition_view_page(
    state: &AppState,
    ctx: &Ctx,
    name: &str,
    s: EditionPageState,
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Action::ViewDistribution)?;
    let lang = ctx.lang;
    let used_by = state
        .store
        .list_lists()
        .await?
        .into_iter()
        .filter(|l| l.edition == name)
        .map(|l| l.name)
        .collect();
    let advisories = state
        .store
        .list_advisories(&keikai_store::AdvisoryFilter {
            limit: 200,
            ..keikai_store::AdvisoryFilter::default()
        })
        .await?
        .into_iter()
        .map(|a| a.tracking_id)
        .collect();
    let mut page = ctx.page("dist-edition-title");
    page.title = format!("{} — {name}", page.title);
    page.flash = flash;
    page.error = error;
    let tpl = EditionTemplate {
        page,
        name: name.to_owned(),
        can_manage: ctx.allows(Action::ManageDistribution),
        sections: Section::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str().to_owned(),
                    label(lang, "dist-section", s.as_str()),
                )
            })
            .collect(),
        slots: slots(lang, &s.form),
        form: s.form,
        used_by,
        advisories,
        preview_advisory: s.preview_advisory,
        preview_lang: s.preview_lang,
        preview: s.preview,
    };
    Ok(render(status, &tpl))
}

#[derive(Deserialize)]
pub(crate) struct EditionQuery {
    saved: Option<String>,
}

/// `GET /distribution/editions/{name}`.
pub(crate) async fn edition_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Query(q): Query<EditionQuery>,
) -> AppResult<Response> {
    ctx.require(Action::ViewDistribution)?;
    let view = d::edition(&state, &name).await?;
    let flash = q.saved.map(|_| ctx.t("dist-edition-saved"));
    let s = EditionPageState {
        form: EditionForm::of(&view),
        preview_advisory: String::new(),
        preview_lang: ctx.lang.as_str().to_owned(),
        preview: None,
    };
    edition_view_page(&state, &ctx, &name, s, flash, None, StatusCode::OK).await
}

/// `POST /distribution/editions/{name}`: saves (its templates must compile and render the
/// sample events; the error names the template and the line).
pub(crate) async fn save_edition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    ctx.require(Action::ManageDistribution)?;
    let form = EditionForm::from_pairs(&pairs);
    let result = match form.view(&name) {
        Ok(view) => d::put_edition(&state, &ctx, &name, view).await,
        Err(e) => Err(e),
    };
    let lang = ctx.lang;
    let result = result.map_err(|e| {
        let message = field_message(lang, "dist-field", &e);
        AppError { message, ..e }
    });
    let target = format!("/distribution/editions/{name}?saved=1");
    let s = EditionPageState {
        form,
        preview_advisory: field(&pairs, "advisory"),
        preview_lang: field(&pairs, "preview_lang"),
        preview: None,
    };
    after_submit(result, &target, |msg, status| {
        edition_view_page(&state, &ctx, &name, s, None, Some(msg), status)
    })
    .await
}

/// `POST /distribution/editions/{name}/preview`: renders the edition as typed (unsaved) for
/// an advisory or the sample event, in one language; nothing is saved or sent.
pub(crate) async fn preview(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    ctx.require(Action::ViewDistribution)?;
    let form = EditionForm::from_pairs(&pairs);
    let advisory = field(&pairs, "advisory").trim().to_owned();
    let lang_field = field(&pairs, "preview_lang");
    let result = async {
        let locale: Locale = match lang_field.trim() {
            "" => Locale::En,
            l => l.parse()?,
        };
        let view = form.view(&name)?;
        let input = PreviewInput {
            advisory: Some(advisory.clone()).filter(|a| !a.is_empty()),
            locale: Some(locale),
            edition: Some(view.edition),
        };
        d::preview(&state, &ctx, &name, input)
            .await
            .map_err(|e| match e.status {
                StatusCode::NOT_FOUND => AppError::invalid(
                    "advisory",
                    format!("no advisory has the id or tracking id \"{advisory}\""),
                ),
                _ => e,
            })
    }
    .await;
    let mut s = EditionPageState {
        form,
        preview_advisory: advisory,
        preview_lang: lang_field,
        preview: None,
    };
    match result {
        Ok(rendered) => {
            s.preview = Some(rendered);
            edition_view_page(&state, &ctx, &name, s, None, None, StatusCode::OK).await
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let msg = field_message(ctx.lang, "dist-field", &e);
            edition_view_page(&state, &ctx, &name, s, None, Some(msg), e.status).await
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- subscribers and import

const PAGE_SIZE: u32 = 50;

struct SubscriberRow {
    email: String,
    name: String,
    kind: String,
    language: String,
    state: String,
    lists: String,
}

#[derive(Template)]
#[template(path = "distribution_subscribers.html")]
struct SubscribersTemplate {
    page: Page,
    can_manage: bool,
    rows: Vec<SubscriberRow>,
    list_options: Vec<(String, String)>,
    list: String,
    total: u64,
    /// 1-based.
    page_number: u32,
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct SubscribersQuery {
    list: Option<String>,
    page: Option<u32>,
}

async fn subscribers_page(
    state: &AppState,
    ctx: &Ctx,
    q: SubscribersQuery,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Action::ViewDistribution)?;
    let lang = ctx.lang;
    let lists = state.store.list_lists().await?;
    let names: HashMap<ListId, String> = lists.iter().map(|l| (l.id, l.name.clone())).collect();
    let list_param = q.list.unwrap_or_default();
    let list = match list_param.trim() {
        "" => None,
        l => Some(
            l.parse::<ListId>()
                .ok()
                .filter(|id| names.contains_key(id))
                .ok_or_else(|| AppError::invalid("list", format!("no list has the id {l}")))?,
        ),
    };
    let total = state.store.count_subscribers(list).await?;
    let pages = u32::try_from(total.div_ceil(u64::from(PAGE_SIZE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let number = q.page.unwrap_or(1).clamp(1, pages);
    let rows = state
        .store
        .list_subscribers(list, PAGE_SIZE, (number - 1) * PAGE_SIZE)
        .await?
        .into_iter()
        .map(|r| {
            let s = r.subscriber;
            let state = s.state.as_str();
            SubscriberRow {
                email: s.email.to_string(),
                name: s.name,
                kind: label(lang, "dist-subscriber-kind", &s.kind.to_string()),
                language: s.locale.as_str().to_owned(),
                state: label(lang, "dist-subscriber-state", state),
                lists: r
                    .lists
                    .iter()
                    .map(|id| names.get(id).cloned().unwrap_or_else(|| id.to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    let link = |n: u32| {
        let list = list.map(|l| format!("list={l}&")).unwrap_or_default();
        format!("/distribution/subscribers?{list}page={n}")
    };
    let mut page = ctx.page("dist-subscribers-title");
    page.error = error;
    let tpl = SubscribersTemplate {
        page,
        can_manage: ctx.allows(Action::ManageDistribution),
        rows,
        list_options: lists
            .iter()
            .map(|l| (l.id.to_string(), l.name.clone()))
            .collect(),
        list: list.map(|l| l.to_string()).unwrap_or_default(),
        total,
        page_number: number,
        pages,
        prev: (number > 1).then(|| link(number - 1)),
        next: (number < pages).then(|| link(number + 1)),
    };
    Ok(render(status, &tpl))
}

/// `GET /distribution/subscribers`.
pub(crate) async fn subscribers(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SubscribersQuery>,
) -> AppResult<Response> {
    subscribers_page(&state, &ctx, q, None, StatusCode::OK).await
}

/// The CSV of an import form: the uploaded `file` (multipart), or the `csv` text pasted
/// into the form; and whether it is a dry run.
async fn import_text(req: Request, state: &AppState) -> AppResult<(String, bool)> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let utf8 = |bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|e| {
            AppError::invalid(
                "csv",
                format!("the file is not UTF-8 text (save it as CSV UTF-8): {e}"),
            )
        })
    };
    if content_type.starts_with("multipart/form-data") {
        let mut parts = Multipart::from_request(req, state)
            .await
            .map_err(|e| AppError::bad_request(e.body_text()))?;
        let unreadable = |e: axum::extract::multipart::MultipartError| {
            AppError::invalid(
                "csv",
                format!("the form could not be read: {}", e.body_text()),
            )
        };
        let (mut file, mut pasted, mut dry_run) = (Vec::new(), String::new(), false);
        while let Some(part) = parts.next_field().await.map_err(unreadable)? {
            match part.name().unwrap_or_default() {
                "file" => file = part.bytes().await.map_err(unreadable)?.to_vec(),
                "csv" => pasted = part.text().await.map_err(unreadable)?,
                "dry_run" => {
                    let v = part.text().await.map_err(unreadable)?;
                    dry_run = !matches!(v.as_str(), "" | "false" | "0" | "off");
                }
                _ => {}
            }
        }
        let text = if file.is_empty() { pasted } else { utf8(file)? };
        return Ok((text, dry_run));
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let UiForm(pairs) = UiForm::<Pairs>::from_request(req, state).await?;
        return Ok((field(&pairs, "csv"), flag(&pairs, "dry_run")));
    }
    Err(AppError::bad_request(
        "send the form as multipart/form-data or application/x-www-form-urlencoded",
    ))
}

#[derive(Template)]
#[template(path = "distribution_import.html")]
struct ImportTemplate {
    page: Page,
    report: ImportReport,
}

/// `POST /distribution/subscribers/import`: the report of what was (or, in a dry run, would
/// be) imported and each rejected row with its reason.
pub(crate) async fn import(
    State(state): State<AppState>,
    ctx: Ctx,
    req: Request,
) -> AppResult<Response> {
    ctx.require(Action::ManageDistribution)?;
    let result = match import_text(req, &state).await {
        Ok((text, _)) if text.trim().is_empty() => Err(AppError::invalid(
            "csv",
            "choose a CSV file (or paste its text)",
        )),
        Ok((text, dry_run)) => {
            // A BOM, as spreadsheet programs write it, is not part of the header.
            let text = text.trim_start_matches('\u{feff}');
            d::import_csv(&state, &ctx, text, dry_run).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(report) => {
            let tpl = ImportTemplate {
                page: ctx.page("dist-import-title"),
                report,
            };
            Ok(render(StatusCode::OK, &tpl))
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let msg = field_message(ctx.lang, "dist-field", &e);
            subscribers_page(
                &state,
                &ctx,
                SubscribersQuery::default(),
                Some(msg),
                e.status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- delivery reports

/// The most deliveries the report page shows; the CSV has them all.
const REPORT_ROWS: usize = 1000;

struct DeliveryRow {
    address: String,
    channel: String,
    list: String,
    language: String,
    state: String,
    state_class: String,
    attempts: u32,
    error: String,
    sent_at: String,
    acknowledged_at: String,
}

#[derive(Template)]
#[template(path = "distribution_event.html")]
struct ReportTemplate {
    page: Page,
    id: String,
    title: String,
    kind: String,
    created: String,
    counts: d::CountsView,
    rows: Vec<DeliveryRow>,
    shown: usize,
    matching: usize,
    states: Vec<(String, String)>,
    only: String,
}

#[derive(Deserialize)]
pub(crate) struct ReportQuery {
    state: Option<String>,
}

async fn list_names(state: &AppState) -> AppResult<HashMap<ListId, String>> {
    Ok(state
        .store
        .list_lists()
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect())
}

/// `GET /distribution/events/{id}`.
pub(crate) async fn report(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    ctx.require(Action::ViewDistribution)?;
    let lang = ctx.lang;
    let only = q.state.unwrap_or_default();
    let r = d::event_report(&state, &id, Some(only.as_str())).await?;
    let names = list_names(&state).await?;
    let matching = r.deliveries.len();
    let rows = r
        .deliveries
        .into_iter()
        .take(REPORT_ROWS)
        .map(|dv| DeliveryRow {
            address: dv.address,
            channel: label(lang, "dist-channel", &dv.channel),
            list: names
                .get(&dv.list)
                .cloned()
                .unwrap_or_else(|| dv.list.to_string()),
            language: dv.locale,
            state: label(lang, "dist-state", &dv.state),
            state_class: dv.state,
            attempts: dv.attempts,
            error: dv.error.unwrap_or_default(),
            sent_at: dv.sent_at.map(when).unwrap_or_default(),
            acknowledged_at: dv.acknowledged_at.map(when).unwrap_or_default(),
        })
        .collect::<Vec<_>>();
    let mut page = ctx.page("dist-report-title");
    page.title = format!("{} — {}", page.title, r.event.title);
    let tpl = ReportTemplate {
        page,
        id: r.event.id.to_string(),
        title: r.event.title,
        kind: label(lang, "dist-kind", &r.event.kind),
        created: when(r.event.created_at),
        counts: r.event.counts,
        shown: rows.len(),
        matching,
        rows,
        states: keikai_store::DeliveryState::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), label(lang, "dist-state", s.as_str())))
            .collect(),
        only,
    };
    Ok(render(StatusCode::OK, &tpl))
}

/// `GET /distribution/events/{id}/deliveries.csv`: every delivery of the event.
pub(crate) async fn report_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    ctx.require(Action::ViewDistribution)?;
    let r = d::event_report(&state, &id, q.state.as_deref()).await?;
    let names = list_names(&state).await?;
    let mut out = String::from(
        "address,channel,list,language,state,attempts,error,message_id,sent_at,acknowledged_at\r\n",
    );
    for dv in r.deliveries {
        let fields = [
            dv.address,
            dv.channel,
            names
                .get(&dv.list)
                .cloned()
                .unwrap_or_else(|| dv.list.to_string()),
            dv.locale,
            dv.state,
            dv.attempts.to_string(),
            dv.error.unwrap_or_default(),
            dv.message_id,
            dv.sent_at.map(|t| t.to_string()).unwrap_or_default(),
            dv.acknowledged_at
                .map(|t| t.to_string())
                .unwrap_or_default(),
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
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"deliveries-{}.csv\"",
        r.event.id
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Pairs {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_list_form_becomes_a_list_input() {
        let f = ListForm::from_pairs(&pairs(&[
            ("name", "Customers"),
            ("priority", "2"),
            ("edition", ""),
            ("triggers", "publication"),
            ("triggers", "early_warning"),
            ("min_score", "7.5"),
            ("exploited_only", "1"),
            ("max_tlp", "amber"),
            ("languages", "ja"),
            ("public", "1"),
        ]));
        let input = f.input().unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(input.priority, 2);
        assert_eq!(input.edition, "default");
        assert!(input.public && !input.internal_only);
        let filter = input.filter.unwrap_or_default();
        assert_eq!(filter.min_score, Some(7.5));
        assert!(filter.exploited_only);
        assert_eq!(filter.max_tlp, Tlp::Amber);
        assert_eq!(filter.languages, [Locale::Ja].into());
        assert_eq!(
            input.triggers.unwrap_or_default(),
            [Trigger::Publication, Trigger::EarlyWarning].into()
        );
    }

    #[test]
    fn list_form_mistakes_name_their_field() {
        for (name, value, want) in [
            ("priority", "first", "priority"),
            ("min_score", "high", "min_score"),
            ("triggers", "sometimes", "triggers"),
            ("products", "router", "products"),
            ("max_tlp", "purple", "tlp"),
        ] {
            let mut p = pairs(&[("name", "x"), ("priority", "1")]);
            p.retain(|(k, _)| k != name);
            p.push((name.to_owned(), value.to_owned()));
            let e = ListForm::from_pairs(&p).input().err();
            assert_eq!(
                e.and_then(|e| e.field).as_deref(),
                Some(want),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn an_edition_form_without_templates_uses_the_built_in_ones() {
        let mut f = EditionForm::from_pairs(&pairs(&[
            ("revision", "3"),
            ("title", " Engineers "),
            ("sections", "summary"),
            ("sections", "faq"),
            ("supplement_en", "Patch the lab first.\r\nThen production."),
            ("ack_requested", "1"),
        ]));
        let v = f
            .view("engineers")
            .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(v.revision, 3);
        assert_eq!(v.edition.title, "Engineers");
        assert_eq!(v.edition.templates, None);
        assert!(v.edition.ack_requested);
        assert_eq!(
            v.edition.supplement.en,
            "Patch the lab first.\nThen production."
        );
        assert_eq!(v.edition.sections, [Section::Summary, Section::Faq].into());
        f.subject_ja = "{{ event.title }}".to_owned();
        let t = f.view("engineers").map(|v| v.edition.templates);
        assert!(
            matches!(t, Ok(Some(ref t)) if t.subject.en.is_empty() && !t.subject.ja.is_empty())
        );
    }

    #[test]
    fn flash_messages_come_from_a_fixed_set() {
        assert!(done_message(Locale::En, Some("list")).is_some());
        assert!(done_message(Locale::En, Some("<script>")).is_none());
        assert!(done_message(Locale::En, None).is_none());
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("plain"), "plain");
    }
}
