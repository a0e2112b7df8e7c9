//! The PSIRT's distribution pages: lists, editions, webhooks, early warnings and recent
//! events (`/distribution`), subscribers with the CSV import, the edition editor with its
//! preview, and each event's delivery report. The rules live in
//! [`keikai_app::distribution`]; these pages render and turn form fields into its commands
//! (through the API's request bodies: the forms post the same fields).

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use keikai_app::distribution::DeliveryState;
use keikai_app::distribution::{self as app, DELIVERIES_CSV_HEADER};
use keikai_domain::advisory::{Localized, Tlp};
use keikai_domain::edition::{Edition, Rendered, Section, Templates};
use keikai_domain::subscription::{Filter, Trigger, WebhookEndpoint, default_triggers};
use keikai_domain::{Action, ListId, Locale};
use serde::Deserialize;

use crate::api::distribution::{
    CountsView, EarlyWarningInput, EditionView, ListInput, ReportQuery, WebhookInput, branch_ids,
};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{UiForm, content_type};
use crate::http::forms::{Pairs, csv_download, field, fields};
use crate::http::i18n;
use crate::http::state::WebState;
use crate::ui::layout::{Page, after_submit, attempt, render};
use crate::ui::view::{at, branch_options};

// ---------------------------------------------------------------- small helpers

/// A checkbox: sent with any value but an empty or negative one means ticked.
pub(crate) fn flag(pairs: &Pairs, name: &str) -> bool {
    pairs
        .iter()
        .any(|(k, v)| k == name && !matches!(v.as_str(), "" | "false" | "0" | "off"))
}

/// Browsers send text areas with CRLF line ends; templates and mail text use LF.
pub(crate) fn text_area(pairs: &Pairs, name: &str) -> String {
    field(pairs, name).replace("\r\n", "\n")
}

/// The label of a value (`{prefix}-{value}` in the Fluent files), or the value itself when
/// there is none, so that a value added later still shows.
fn label(lang: Locale, prefix: &str, value: &str) -> String {
    let key = format!("{prefix}-{value}");
    let l = i18n::t(lang, &key);
    if l == key { value.to_owned() } else { l }
}

/// The message with the field's label in the reader's language in front of it.
pub(crate) fn field_message(lang: Locale, prefix: &str, e: &AppError) -> String {
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

/// A form mistake shown with its field's label (the `dist-field-*` keys).
fn labelled(lang: Locale, e: AppError) -> AppError {
    let message = field_message(lang, "dist-field", &e);
    AppError { message, ..e }
}

fn parse_score(name: &str, value: &str) -> AppResult<Option<f64>> {
    match value.trim() {
        "" => Ok(None),
        v => v.parse::<f64>().map(Some).map_err(|_| {
            AppError::invalid(
                name,
                format!("{name}: \"{v}\" is not a CVSS score (0.0 to 10.0)"),
            )
        }),
    }
}

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

// ================================================================ the overview

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
    counts: CountsView,
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
                    "priority: \"{}\" is not a whole number (1 is the highest)",
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
                products: branch_ids(&self.products)?,
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
        Ok(EarlyWarningInput {
            title_en: self.title_en.clone(),
            title_ja: self.title_ja.clone(),
            body_en: self.body_en.clone(),
            body_ja: self.body_ja.clone(),
            tlp,
            exploited: self.exploited,
            max_score: parse_score("max_score", &self.max_score)?,
            products: self.products.clone(),
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

/// How many recent events the overview shows.
const OVERVIEW_EVENTS: u32 = 50;

async fn overview_page(
    state: &WebState,
    ctx: &Ctx,
    drafts: OverviewDrafts,
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let o = app::overview(&state.app, &ctx.caller, OVERVIEW_EVENTS).await?;
    let lang = ctx.lang;
    // Product branches as `(id, "Vendor / Product / Version")`, sorted by path.
    let branches = branch_options(&o.branches);
    let paths: HashMap<String, String> = branches.iter().cloned().collect();
    let list_names: HashMap<ListId, String> = o
        .lists
        .iter()
        .map(|(l, _)| (l.id, l.name.clone()))
        .collect();
    let list_options = o
        .lists
        .iter()
        .map(|(l, _)| (l.id.to_string(), l.name.clone()))
        .collect();
    let lists = o
        .lists
        .into_iter()
        .map(|(l, members)| {
            let triggers: Vec<String> = l
                .triggers
                .iter()
                .map(|t| label(lang, "dist-trigger", t.as_str()))
                .collect();
            ListRow {
                id: l.id.to_string(),
                triggers: triggers.join(", "),
                filter: filter_summary(lang, &l.filter, &paths),
                name: l.name,
                description: l.description,
                priority: l.priority,
                edition: l.edition,
                members,
                public: l.public,
                internal_only: l.internal_only,
            }
        })
        .collect();
    let editions = o
        .editions
        .into_iter()
        .map(|e| EditionRow {
            custom_templates: e.edition.templates.is_some(),
            ack_requested: e.edition.ack_requested,
            name: e.edition.name,
            title: e.edition.title,
        })
        .collect();
    let webhooks = o
        .webhooks
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
    let events = o
        .events
        .into_iter()
        .map(|s| EventRow {
            id: s.event.id.to_string(),
            kind: label(lang, "dist-kind", &s.event.kind),
            created: at(s.event.created_at),
            title: s.event.title,
            counts: s.counts.into(),
        })
        .collect();
    let mut page = ctx.page("dist-title");
    page.flash = flash;
    page.error = error;
    let tpl = OverviewTemplate {
        page,
        can_manage: ctx.caller.allows(Action::ManageDistribution),
        subscribers: o.subscribers,
        lists,
        editions,
        webhooks,
        events,
        list_options,
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
    State(state): State<WebState>,
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

/// Redirects to `target` on success; shows the overview again with the form as typed
/// (`drafts`) and the error otherwise.
async fn overview_after<T>(
    state: &WebState,
    ctx: &Ctx,
    drafts: OverviewDrafts,
    result: AppResult<T>,
    target: impl FnOnce(&T) -> String,
) -> AppResult<Response> {
    // Anonymous callers are asked to sign in before a mistake in their form is shown.
    ctx.signed_in()?;
    let target = result.as_ref().map(target).unwrap_or_default();
    let result = result.map_err(|e| labelled(ctx.lang, e));
    after_submit(result, &target, |msg, status| {
        overview_page(state, ctx, drafts, None, Some(msg), status)
    })
    .await
}

/// `POST /distribution/lists`.
pub(crate) async fn create_list(
    State(s): State<WebState>,
    ctx: Ctx,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let form = ListForm::from_pairs(&pairs);
    let cmd = form.input().map(ListInput::command);
    let drafts = OverviewDrafts {
        list: Some(form),
        ..OverviewDrafts::default()
    };
    let run = |c| app::save_list(&s.app, &ctx.caller, None, c);
    let target = |l: &keikai_domain::subscription::AudienceList| {
        format!("/distribution?done=list#list-{}", l.id)
    };
    overview_after(&s, &ctx, drafts, attempt(cmd, run).await, target).await
}

/// `POST /distribution/webhooks`: redirects when the secret was typed; a generated secret is
/// shown this once, on the page itself.
pub(crate) async fn create_webhook(
    State(s): State<WebState>,
    ctx: Ctx,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
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
    let drafts = OverviewDrafts {
        webhook: Some(form),
        ..OverviewDrafts::default()
    };
    let run = |c| app::create_webhook(&s.app, &ctx.caller, c);
    let result = attempt(input.command(), run).await;
    match result {
        Ok(w) if !typed => {
            let drafts = OverviewDrafts {
                new_secret: Some((w.name, w.secret)),
                ..OverviewDrafts::default()
            };
            let flash = done_message(ctx.lang, Some("webhook"));
            overview_page(&s, &ctx, drafts, flash, None, StatusCode::OK).await
        }
        other => {
            let target =
                |w: &WebhookEndpoint| format!("/distribution?done=webhook#webhook-{}", w.id);
            overview_after(&s, &ctx, drafts, other, target).await
        }
    }
}

/// `POST /distribution/webhooks/{id}/enable`.
pub(crate) async fn enable_webhook(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let w = app::enable_webhook(&s.app, &ctx.caller, ctx.id(&id)?).await?;
    Ok(Redirect::to(&format!("/distribution?done=enabled#webhook-{}", w.id)).into_response())
}

/// `POST /distribution/early-warnings`.
pub(crate) async fn early_warning(
    State(s): State<WebState>,
    ctx: Ctx,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let form = WarningForm::from_pairs(&pairs);
    let cmd = form.input().and_then(EarlyWarningInput::command);
    let drafts = OverviewDrafts {
        warning: Some(form),
        ..OverviewDrafts::default()
    };
    let run = |c| app::early_warning(&s.app, &ctx.caller, c);
    let target = |_: &String| "/distribution?done=warning#events".to_owned();
    overview_after(&s, &ctx, drafts, attempt(cmd, run).await, target).await
}

/// `POST /distribution/editions`: a new edition with every section and the built-in
/// templates, to edit on its own page.
pub(crate) async fn create_edition(
    State(s): State<WebState>,
    ctx: Ctx,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let form = NewEditionForm {
        name: field(&pairs, "name").trim().to_owned(),
        title: field(&pairs, "title"),
    };
    let cmd = Ok(app::NewEdition {
        name: form.name.clone(),
        title: form.title.clone(),
    });
    let drafts = OverviewDrafts {
        edition: Some(form),
        ..OverviewDrafts::default()
    };
    let run = |c| app::create_edition(&s.app, &ctx.caller, c);
    let target = |e: &app::StoredEdition| format!("/distribution/editions/{}", e.edition.name);
    overview_after(&s, &ctx, drafts, attempt(cmd, run).await, target).await
}

// ================================================================ editions

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

    fn of(stored: &app::StoredEdition) -> Self {
        let e = &stored.edition;
        let t = e.templates.clone().unwrap_or_default();
        Self {
            revision: stored.revision.to_string(),
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
        let revision: i64 = self.revision.trim().parse().map_err(|_| {
            AppError::invalid("revision", "revision: the form is damaged; reload the page")
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

/// The editor as it stands: the form (as stored or as typed) and the preview asked for.
struct EditionPageState {
    form: EditionForm,
    preview_advisory: String,
    preview_lang: String,
    preview: Option<Rendered>,
}

async fn edition_view_page(
    state: &WebState,
    ctx: &Ctx,
    name: &str,
    s: EditionPageState,
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let uses = app::edition_uses(&state.app, &ctx.caller, name).await?;
    let lang = ctx.lang;
    let mut page = ctx.page("dist-edition-title");
    page.title = format!("{} — {name}", page.title);
    page.flash = flash;
    page.error = error;
    let tpl = EditionTemplate {
        page,
        name: name.to_owned(),
        can_manage: ctx.caller.allows(Action::ManageDistribution),
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
        used_by: uses.lists,
        advisories: uses.advisories,
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
    State(state): State<WebState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Query(q): Query<EditionQuery>,
) -> AppResult<Response> {
    let stored = app::edition(&state.app, &ctx.caller, &name).await?;
    let flash = q.saved.map(|_| ctx.t("dist-edition-saved"));
    let s = EditionPageState {
        form: EditionForm::of(&stored),
        preview_advisory: String::new(),
        preview_lang: ctx.lang.as_str().to_owned(),
        preview: None,
    };
    edition_view_page(&state, &ctx, &name, s, flash, None, StatusCode::OK).await
}

/// `POST /distribution/editions/{name}`: saves (its templates must compile and render the
/// sample events; the error names the template and the line).
pub(crate) async fn save_edition(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(name): Path<String>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let form = EditionForm::from_pairs(&pairs);
    let run =
        |v: EditionView| app::save_edition(&state.app, &ctx.caller, &name, v.edition, v.revision);
    let result = attempt(form.view(&name), run)
        .await
        .map_err(|e| labelled(ctx.lang, e));
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
    State(state): State<WebState>,
    ctx: Ctx,
    Path(name): Path<String>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let form = EditionForm::from_pairs(&pairs);
    let advisory = field(&pairs, "advisory").trim().to_owned();
    let lang_field = field(&pairs, "preview_lang");
    let command = || -> AppResult<app::Preview> {
        let locale: Locale = match lang_field.trim() {
            "" => Locale::En,
            l => l.parse()?,
        };
        Ok(app::Preview {
            advisory: Some(advisory.clone()).filter(|a| !a.is_empty()),
            locale: Some(locale),
            edition: Some(form.view(&name)?.edition),
        })
    };
    let result = match command() {
        // An advisory that is not there is a mistake in the form; the page itself is
        // loaded (and the policy asked) again below.
        Ok(cmd) => match app::preview(&state.app, &ctx.caller, &name, cmd).await {
            Err(keikai_app::Error::NotFound) if !advisory.is_empty() => Err(AppError::invalid(
                "advisory",
                format!("advisory: no advisory has the id or tracking id \"{advisory}\""),
            )),
            other => other.map_err(AppError::from),
        },
        Err(e) => Err(e),
    };
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
        Err(e) if e.is_form_mistake() => {
            let msg = field_message(ctx.lang, "dist-field", &e);
            edition_view_page(&state, &ctx, &name, s, None, Some(msg), e.status).await
        }
        Err(e) => Err(e),
    }
}

// ================================================================ subscribers and import

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
    state: &WebState,
    ctx: &Ctx,
    q: SubscribersQuery,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let list = match q.list.as_deref().map(str::trim).unwrap_or_default() {
        "" => None,
        l => Some(
            l.parse::<ListId>()
                .map_err(|_| AppError::invalid("list", format!("list: no list has the id {l}")))?,
        ),
    };
    let p = app::subscriber_page(&state.app, &ctx.caller, list, q.page.unwrap_or(1)).await?;
    let lang = ctx.lang;
    let names: HashMap<ListId, String> = p.lists.iter().map(|l| (l.id, l.name.clone())).collect();
    let rows = p
        .rows
        .into_iter()
        .map(|r| {
            let s = r.subscriber;
            SubscriberRow {
                email: s.email.to_string(),
                name: s.name,
                kind: label(lang, "dist-subscriber-kind", &s.kind.to_string()),
                language: s.locale.as_str().to_owned(),
                state: label(lang, "dist-subscriber-state", s.state.as_str()),
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
        let list = p.list.map(|l| format!("list={l}&")).unwrap_or_default();
        format!("/distribution/subscribers?{list}page={n}")
    };
    let mut page = ctx.page("dist-subscribers-title");
    page.error = error;
    let tpl = SubscribersTemplate {
        page,
        can_manage: ctx.caller.allows(Action::ManageDistribution),
        rows,
        list_options: p
            .lists
            .iter()
            .map(|l| (l.id.to_string(), l.name.clone()))
            .collect(),
        list: p.list.map(|l| l.to_string()).unwrap_or_default(),
        total: p.total,
        page_number: p.number,
        pages: p.pages,
        prev: (p.number > 1).then(|| link(p.number - 1)),
        next: (p.number < p.pages).then(|| link(p.number + 1)),
    };
    Ok(render(status, &tpl))
}

/// `GET /distribution/subscribers`.
pub(crate) async fn subscribers(
    State(state): State<WebState>,
    ctx: Ctx,
    Query(q): Query<SubscribersQuery>,
) -> AppResult<Response> {
    subscribers_page(&state, &ctx, q, None, StatusCode::OK).await
}

/// The CSV of an import form: the uploaded `file` (multipart), or the `csv` text pasted
/// into the form; and whether it is a dry run.
async fn import_text(req: Request, state: &WebState) -> AppResult<(String, bool)> {
    let content_type = content_type(req.headers()).to_owned();
    let utf8 = |bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|e| {
            AppError::invalid(
                "csv",
                format!("csv: the file is not UTF-8 text (save it as CSV UTF-8): {e}"),
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
                format!("csv: the form could not be read: {}", e.body_text()),
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
    report: app::ImportReport,
}

/// `POST /distribution/subscribers/import`: the report of what was (or, in a dry run, would
/// be) imported and each rejected row with its reason.
pub(crate) async fn import(
    State(state): State<WebState>,
    ctx: Ctx,
    req: Request,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let result = match import_text(req, &state).await {
        Ok((text, _)) if text.trim().is_empty() => Err(AppError::invalid(
            "csv",
            "csv: choose a CSV file (or paste its text)",
        )),
        Ok((text, dry_run)) => {
            // A BOM, as spreadsheet programs write it, is not part of the header.
            let text = text.trim_start_matches('\u{feff}');
            app::import_csv(&state.app, &ctx.caller, text, dry_run)
                .await
                .map_err(AppError::from)
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
        Err(e) if e.is_form_mistake() => {
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

// ================================================================ delivery reports

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
    counts: CountsView,
    rows: Vec<DeliveryRow>,
    shown: usize,
    matching: usize,
    states: Vec<(String, String)>,
    only: String,
}

/// `GET /distribution/events/{id}`.
pub(crate) async fn report(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let id = ctx.id(&id)?;
    let r = app::event_report(&state.app, &ctx.caller, id, q.only()?).await?;
    let lang = ctx.lang;
    let rows = r
        .deliveries
        .iter()
        .take(REPORT_ROWS)
        .map(|d| DeliveryRow {
            address: d.address.clone(),
            channel: label(lang, "dist-channel", d.channel.as_str()),
            list: r.list_name(d.list_id),
            language: d.locale.as_str().to_owned(),
            state: label(lang, "dist-state", d.state.as_str()),
            state_class: d.state.as_str().to_owned(),
            attempts: d.attempts,
            error: d.error.clone().unwrap_or_default(),
            sent_at: d.sent_at.map(at).unwrap_or_default(),
            acknowledged_at: d.acked_at.map(at).unwrap_or_default(),
        })
        .collect::<Vec<_>>();
    let e = &r.summary.event;
    let mut page = ctx.page("dist-report-title");
    page.title = format!("{} — {}", page.title, e.title);
    let tpl = ReportTemplate {
        page,
        id: e.id.to_string(),
        title: e.title.clone(),
        kind: label(lang, "dist-kind", &e.kind),
        created: at(e.created_at),
        counts: r.summary.counts.into(),
        shown: rows.len(),
        matching: r.deliveries.len(),
        rows,
        states: DeliveryState::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), label(lang, "dist-state", s.as_str())))
            .collect(),
        only: q.state.unwrap_or_default(),
    };
    Ok(render(StatusCode::OK, &tpl))
}

/// `GET /distribution/events/{id}/deliveries.csv`: every delivery of the event.
pub(crate) async fn report_csv(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let id = ctx.id(&id)?;
    let r = app::event_report(&state.app, &ctx.caller, id, q.only()?).await?;
    let file_name = format!("deliveries-{}.csv", r.summary.event.id);
    Ok(csv_download(
        &file_name,
        &DELIVERIES_CSV_HEADER,
        r.csv_rows(),
    ))
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
}
