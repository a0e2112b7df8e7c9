//! The editor pages: the advisory list, one advisory (its two languages side by side, the
//! facts, the vulnerabilities with product statuses, scores and remediations, the reviews,
//! the edit history and the schedule) and the diff of one edit. Every form calls one use case
//! of [`keikai_app::advisories`] and redirects back (303), or shows the page again with the
//! error (422, the field named).

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keikai_app::advisories::{
    self as app, AddRemediation, Entry, NewAdvisory, SCORE_VERSIONS, SetProductStatus, SetScore,
};
use keikai_app::{App, Caller};
use keikai_domain::advisory::{
    Acknowledgment, Advisory, AdvisoryState, FactsInput, Faq, LineChange, Localized, Readiness,
    Reference, RemediationInput, ReviewState, Tlp, TranslationState, Verdict,
};
use keikai_domain::case::{CvssVector, ProductStatus};
use keikai_domain::partner::{PartnerEdition, PartnerEditionInput};
use keikai_domain::{Action, AdvisoryId, BranchId, Locale, VulnerabilityId};
use serde::Deserialize;

use crate::api::advisories::{
    AdvisoryQuery, NewAdvisoryInput, ReviewInput, ScheduleInput, TextInput, language,
};
use crate::api::cases::ProductStatusInput;
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{UiForm, lenient_i64};
use crate::http::forms::{Pairs, field, fields, revision};
use crate::http::i18n;
use crate::http::state::WebState;
use crate::ui::layout::{Page, Posted, render, submit};
use crate::ui::view::{
    Options, StatusRow, VulnChoices, at, branch_paths, cwe_text, product_name, severity_names,
    status_rows,
};

pub(crate) fn state_label(lang: Locale, s: AdvisoryState) -> String {
    i18n::t(lang, &format!("advisory-state-{}", s.as_str()))
}

fn review_key(r: ReviewState) -> &'static str {
    match r {
        ReviewState::NotReviewed => "not_reviewed",
        ReviewState::ChangesRequested => "changes_requested",
        ReviewState::Approved => "approved",
    }
}

fn translation_key(t: TranslationState) -> &'static str {
    match t {
        TranslationState::Current => "current",
        TranslationState::Outdated => "outdated",
        TranslationState::Missing => "missing",
    }
}

/// A state shown as a badge: its CSS class and its label.
pub(crate) struct Badge {
    pub(crate) class: &'static str,
    pub(crate) label: String,
}

fn review_badge(lang: Locale, r: ReviewState) -> Badge {
    let k = review_key(r);
    Badge {
        class: k,
        label: i18n::t(lang, &format!("advisory-review-{k}")),
    }
}

fn translation_badge(lang: Locale, t: TranslationState) -> Badge {
    let k = translation_key(t);
    Badge {
        class: k,
        label: i18n::t(lang, &format!("advisory-translation-{k}")),
    }
}

fn yes_no(lang: Locale, b: bool) -> String {
    i18n::t(lang, if b { "case-yes" } else { "case-no" })
}

/// What the readiness columns of a list show for one advisory.
pub(crate) struct ReadinessView {
    pub(crate) review: Badge,
    pub(crate) en: Badge,
    pub(crate) ja: Badge,
    pub(crate) fixed: bool,
    pub(crate) fixed_label: String,
    pub(crate) ready: bool,
    pub(crate) ready_label: String,
    /// What would stop publication, naming the field.
    pub(crate) blocker: Option<String>,
}

pub(crate) fn readiness_view(lang: Locale, r: Readiness) -> ReadinessView {
    ReadinessView {
        review: review_badge(lang, r.review),
        en: translation_badge(lang, r.en),
        ja: translation_badge(lang, r.ja),
        fixed: r.fixed,
        fixed_label: i18n::t(
            lang,
            if r.fixed {
                "advisory-fixed"
            } else {
                "advisory-not-fixed"
            },
        ),
        ready: r.ready,
        ready_label: yes_no(lang, r.ready),
        blocker: r.blocker,
    }
}

/// An advisory in a list (the editor's, a release's): what it is, its state and readiness.
pub(crate) struct AdvisoryRow {
    pub(crate) id: String,
    pub(crate) tracking_id: String,
    pub(crate) title: String,
    pub(crate) state: &'static str,
    pub(crate) state_label: String,
    pub(crate) r: ReadinessView,
    pub(crate) updated_at: String,
}

pub(crate) fn advisory_row(lang: Locale, a: &Advisory, r: Readiness) -> AdvisoryRow {
    AdvisoryRow {
        id: a.id.to_string(),
        tracking_id: a.tracking_id.clone(),
        title: a.title(lang).to_owned(),
        state: a.state.as_str(),
        state_label: state_label(lang, a.state),
        r: readiness_view(lang, r),
        updated_at: at(a.updated_at),
    }
}

// ---------------------------------------------------------------- the list

#[derive(Template)]
#[template(path = "advisories.html")]
struct ListTemplate {
    page: Page,
    rows: Vec<AdvisoryRow>,
    q: String,
    state: String,
    states: Options,
    languages: Options,
    draft: NewAdvisoryInput,
    prev: Option<String>,
    next: Option<String>,
    can_edit: bool,
}

fn languages(lang: Locale) -> Options {
    // Japanese first: it is as often the original as English.
    [Locale::Ja, Locale::En]
        .into_iter()
        .map(|l| {
            (
                l.as_str().to_owned(),
                i18n::t(lang, &format!("advisory-lang-{l}")),
            )
        })
        .collect()
}

fn list_link(q: &str, state: &str, page: u32) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if !q.is_empty() {
        pairs.push(("q", q.to_owned()));
    }
    if !state.is_empty() {
        pairs.push(("state", state.to_owned()));
    }
    pairs.push(("page", page.to_string()));
    format!(
        "/editor/advisories?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

async fn list_page(
    s: &WebState,
    ctx: &Ctx,
    q: &AdvisoryQuery,
    draft: NewAdvisoryInput,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let (found, more) = app::list(&s.app, &ctx.caller, &q.query()?).await?;
    let page_no = q.page_number().unwrap_or(1);
    let readiness = app::readiness(&s.app, &ctx.caller, &found).await?;
    let rows = found
        .iter()
        .zip(readiness)
        .map(|(a, r)| advisory_row(lang, a, r))
        .collect();
    let (qs, ss) = (
        q.q.clone().unwrap_or_default(),
        q.state.clone().unwrap_or_default(),
    );
    let mut page = ctx.page("advisories-title");
    page.error = error;
    let tpl = ListTemplate {
        prev: (page_no > 1).then(|| list_link(&qs, &ss, page_no - 1)),
        next: more.then(|| list_link(&qs, &ss, page_no + 1)),
        page,
        rows,
        q: qs,
        state: ss,
        states: AdvisoryState::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), state_label(lang, *s)))
            .collect(),
        languages: languages(lang),
        draft,
        can_edit: ctx.caller.allows(Action::EditAdvisory),
    };
    Ok(render(status, &tpl))
}

pub async fn list(
    State(s): State<WebState>,
    ctx: Ctx,
    query: Result<Query<AdvisoryQuery>, QueryRejection>,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let draft = NewAdvisoryInput {
        language: Some(ctx.lang.as_str().to_owned()),
        ..NewAdvisoryInput::default()
    };
    list_page(&s, &ctx, &q, draft, None, StatusCode::OK).await
}

/// The editor of a new or existing advisory.
fn editor_url(id: AdvisoryId) -> String {
    format!("/editor/advisories/{id}")
}

pub async fn create(
    State(s): State<WebState>,
    ctx: Ctx,
    UiForm(form): UiForm<NewAdvisoryInput>,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let first_page = AdvisoryQuery::default();
    submit(
        form.command(ctx.lang),
        |c: NewAdvisory| app::create(&s.app, &ctx.caller, c),
        |(a, _)| editor_url(a.id),
        |msg, status| list_page(&s, &ctx, &first_page, form, Some(msg), status),
    )
    .await
}

/// The button on the case page: the advisory made from the case (new, or the one made
/// before).
pub async fn create_from_case(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> AppResult<Response> {
    let (a, _) = app::create_from_case(&s.app, &ctx.caller, ctx.id(&number)?).await?;
    Ok(Redirect::to(&editor_url(a.id)).into_response())
}

// ---------------------------------------------------------------- the editor

struct Head {
    id: String,
    tracking_id: String,
    title: String,
    state: &'static str,
    state_label: String,
    case_number: Option<i64>,
    /// (id, title, when in the schedule's zone).
    release: Option<(String, String, String)>,
    revision: i64,
    revision_summary: String,
    editable: bool,
    published: bool,
    created_at: String,
    updated_at: String,
}

struct FaqSlot {
    question: String,
    answer: String,
}

struct RemediationText {
    label: String,
    details: String,
}

/// One language's column.
struct LangColumn {
    lang: &'static str,
    label: String,
    badge: Badge,
    outdated: bool,
    title: String,
    summary: String,
    description: String,
    impact: String,
    faqs: Vec<FaqSlot>,
    remediations: Vec<RemediationText>,
}

struct ScoreRow {
    index: usize,
    vector: String,
    score: String,
    products: String,
}

struct RemediationRow {
    index: usize,
    category: &'static str,
    details_ja: String,
    details_en: String,
    fixed_version: String,
    kb: String,
    url: String,
    products: String,
}

struct VulnBlock {
    id: String,
    title: String,
    cve: String,
    cwe: String,
    exploited: bool,
    publicly_disclosed: bool,
    statuses: Vec<StatusRow>,
    scores: Vec<ScoreRow>,
    remediations: Vec<RemediationRow>,
    /// The product versions with a status here: what scores and remediations may name.
    products: Options,
}

struct ReviewRow {
    reviewer: String,
    at: String,
    edit: u32,
    verdict: &'static str,
    verdict_label: String,
    text: String,
    /// Given on the current edit (older ones no longer decide).
    current: bool,
}

struct EditRow {
    number: u32,
    editor: String,
    at: String,
    lang: String,
    note: String,
}

struct VersionRow {
    number: u32,
    at: String,
    summary: String,
}

/// What a form that failed held, to show again with the error.
#[derive(Default)]
struct Drafts {
    text: Option<(Locale, TextInput)>,
    facts: Option<(String, String)>,
    review: String,
    edition: Option<EditionForm>,
}

/// The partner edition form: both languages side by side, indicators one per line.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EditionForm {
    #[serde(default)]
    technical_details_en: String,
    #[serde(default)]
    technical_details_ja: String,
    #[serde(default)]
    detection_guidance_en: String,
    #[serde(default)]
    detection_guidance_ja: String,
    #[serde(default)]
    indicators: String,
    #[serde(default)]
    tlp: String,
}

impl EditionForm {
    fn of(e: &PartnerEdition) -> Self {
        Self {
            technical_details_en: e.technical_details.en.clone(),
            technical_details_ja: e.technical_details.ja.clone(),
            detection_guidance_en: e.detection_guidance.en.clone(),
            detection_guidance_ja: e.detection_guidance.ja.clone(),
            indicators: e.indicators.join("\n"),
            tlp: e.tlp.as_str().to_owned(),
        }
    }

    fn input(&self) -> AppResult<PartnerEditionInput> {
        let tlp: Tlp = self.tlp.trim().parse()?;
        Ok(PartnerEditionInput {
            technical_details: Localized {
                en: self.technical_details_en.clone(),
                ja: self.technical_details_ja.clone(),
            },
            detection_guidance: Localized {
                en: self.detection_guidance_en.clone(),
                ja: self.detection_guidance_ja.clone(),
            },
            indicators: self.indicators.lines().map(str::to_owned).collect(),
            tlp,
        })
    }
}

/// The partner edition section of the editor, for those who manage the programme.
struct EditionView {
    form: EditionForm,
    /// When it was last written; empty when there is none yet.
    updated: String,
}

#[derive(Template)]
#[template(path = "advisory.html")]
struct EditorTemplate {
    page: Page,
    h: Head,
    r: ReadinessView,
    columns: Vec<LangColumn>,
    tlp: &'static str,
    tlps: Vec<(&'static str, &'static str)>,
    severity: String,
    severities: Vec<String>,
    references: String,
    acknowledgments: String,
    vulns: Vec<VulnBlock>,
    choices: VulnChoices,
    languages: Options,
    reviews: Vec<ReviewRow>,
    verdicts: Options,
    review_draft: String,
    edits: Vec<EditRow>,
    versions: Vec<VersionRow>,
    releases: Options,
    can_edit: bool,
    edition: Option<EditionView>,
}

fn references_text(refs: &[Reference]) -> String {
    refs.iter()
        .map(|r| format!("{} {}", r.url, r.summary))
        .collect::<Vec<_>>()
        .join("\n")
}

fn acknowledgments_text(acks: &[Acknowledgment]) -> String {
    acks.iter()
        .map(|a| match &a.organization {
            Some(o) if a.names.is_empty() => format!("({o})"),
            Some(o) => format!("{} ({o})", a.names.join(", ")),
            None => a.names.join(", "),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// "URL summary", one per line.
fn parse_references(text: &str) -> Vec<Reference> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (url, summary) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            Reference {
                url: url.to_owned(),
                summary: summary.trim().to_owned(),
            }
        })
        .collect()
}

/// "Name[, Name] (Organisation)", one per line; the organisation is optional.
fn parse_acknowledgments(text: &str) -> Vec<Acknowledgment> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (names, organization) = match l.strip_suffix(')').and_then(|s| s.rsplit_once('(')) {
                Some((names, org)) => (names, Some(org.trim().to_owned())),
                None => (l, None),
            };
            Acknowledgment {
                names: names
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect(),
                organization: organization.filter(|o| !o.is_empty()),
            }
        })
        .collect()
}

fn products_text(lang: Locale, paths: &HashMap<BranchId, String>, ids: &[BranchId]) -> String {
    if ids.is_empty() {
        i18n::t(lang, "advisory-all-affected")
    } else {
        ids.iter()
            .map(|b| product_name(paths, *b))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn column(lang: Locale, of: Locale, a: &Advisory, draft: Option<&TextInput>) -> LangColumn {
    let t = a.content.text.get(of);
    let (title, summary, description, impact, faqs) = match draft {
        Some(d) => (
            d.title.clone(),
            d.summary.clone(),
            d.description.clone(),
            d.impact.clone(),
            d.faqs.clone(),
        ),
        None => (
            t.title.clone(),
            t.summary.clone(),
            t.description.clone(),
            t.impact.clone(),
            t.faqs.clone(),
        ),
    };
    let mut slots: Vec<FaqSlot> = faqs
        .into_iter()
        .filter(|f| !(f.question.is_empty() && f.answer.is_empty()))
        .map(|f| FaqSlot {
            question: f.question,
            answer: f.answer,
        })
        .collect();
    // Two empty slots for new entries.
    for _ in 0..2 {
        slots.push(FaqSlot {
            question: String::new(),
            answer: String::new(),
        });
    }
    let mut remediations = Vec::new();
    let mut i = 0;
    for v in &a.content.vulnerabilities {
        let name = v
            .cve
            .as_ref()
            .map_or_else(|| v.title.clone(), |c| c.to_string());
        for r in &v.remediations {
            let details = draft
                .and_then(|d| d.remediation_details.get(i).cloned())
                .unwrap_or_else(|| r.details.get(of).clone());
            remediations.push(RemediationText {
                label: format!(
                    "{name} — {}",
                    i18n::t(lang, &format!("advisory-category-{}", r.category.as_str()))
                ),
                details,
            });
            i += 1;
        }
    }
    let state = a.translation_state(of);
    LangColumn {
        lang: of.as_str(),
        label: i18n::t(lang, &format!("advisory-lang-{of}")),
        badge: translation_badge(lang, state),
        outdated: state == TranslationState::Outdated,
        title,
        summary,
        description,
        impact,
        faqs: slots,
        remediations,
    }
}

async fn editor_page(
    s: &WebState,
    ctx: &Ctx,
    id: &str,
    drafts: Drafts,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let app::EditorView {
        advisory: a,
        readiness,
        case_number,
        release,
        planned,
        branches,
        names,
        partner_edition,
    } = app::editor(&s.app, &ctx.caller, id).await?;
    let lang = ctx.lang;
    let config = s.app.config();
    let schedule = &config.publishing.schedule;
    let paths = branch_paths(&branches);
    let name_of =
        |u: keikai_domain::UserId| names.get(&u).cloned().unwrap_or_else(|| u.to_string());
    let release = release.map(|rel| {
        (
            rel.id().to_string(),
            rel.title().to_owned(),
            schedule.display(rel.scheduled_at()),
        )
    });
    let releases = planned
        .iter()
        .map(|r| {
            (
                r.id().to_string(),
                format!("{} — {}", r.title(), schedule.display(r.scheduled_at())),
            )
        })
        .collect();
    let current = a.current_edit();
    let text_draft = drafts.text.as_ref();
    let columns = [Locale::Ja, Locale::En]
        .into_iter()
        .map(|of| {
            let d = text_draft.filter(|(l, _)| *l == of).map(|(_, t)| t);
            column(lang, of, &a, d)
        })
        .collect();
    let vulns = a
        .content
        .vulnerabilities
        .iter()
        .map(|v| VulnBlock {
            id: v.id.to_string(),
            title: v.title.clone(),
            cve: v.cve.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            cwe: cwe_text(v.cwe.as_ref()),
            exploited: v.exploited,
            publicly_disclosed: v.publicly_disclosed,
            statuses: status_rows(&v.product_statuses, &paths),
            scores: v
                .scores
                .iter()
                .enumerate()
                .map(|(index, s)| ScoreRow {
                    index,
                    vector: s.vector.as_str().to_owned(),
                    score: format!("{:.1}", s.vector.score()),
                    products: products_text(lang, &paths, &s.branch_ids),
                })
                .collect(),
            remediations: v
                .remediations
                .iter()
                .enumerate()
                .map(|(index, r)| RemediationRow {
                    index,
                    category: r.category.as_str(),
                    details_ja: r.details.ja.clone(),
                    details_en: r.details.en.clone(),
                    fixed_version: r.fixed_version.clone().unwrap_or_default(),
                    kb: r.kb.clone().unwrap_or_default(),
                    url: r.url.clone().unwrap_or_default(),
                    products: products_text(lang, &paths, &r.branch_ids),
                })
                .collect(),
            products: v
                .product_statuses
                .iter()
                .map(|s| (s.branch_id.to_string(), product_name(&paths, s.branch_id)))
                .collect(),
        })
        .collect();
    let (references, acknowledgments) = drafts.facts.clone().unwrap_or_else(|| {
        (
            references_text(&a.content.references),
            acknowledgments_text(&a.content.acknowledgments),
        )
    });
    let edition = partner_edition.map(|written| EditionView {
        updated: written
            .as_ref()
            .map(|e| at(e.updated_at))
            .unwrap_or_default(),
        form: drafts
            .edition
            .clone()
            .or_else(|| written.as_ref().map(EditionForm::of))
            .unwrap_or_else(|| EditionForm {
                tlp: Tlp::Amber.as_str().to_owned(),
                ..EditionForm::default()
            }),
    });
    let mut page = ctx.page("advisory-title");
    page.title = format!("{} {}", a.tracking_id, a.title(lang));
    page.error = error;
    let tpl = EditorTemplate {
        edition,
        h: Head {
            id: a.id.to_string(),
            tracking_id: a.tracking_id.clone(),
            title: a.title(lang).to_owned(),
            state: a.state.as_str(),
            state_label: state_label(lang, a.state),
            case_number,
            release,
            revision: a.revision,
            revision_summary: a.revision_summary.clone().unwrap_or_default(),
            editable: a.state != AdvisoryState::Published,
            published: a.state == AdvisoryState::Published,
            created_at: at(a.created_at),
            updated_at: at(a.updated_at),
        },
        r: readiness_view(lang, readiness),
        columns,
        tlp: a.content.tlp.as_str(),
        tlps: Tlp::ALL.iter().map(|t| (t.as_str(), t.label())).collect(),
        severity: a.content.severity.clone().unwrap_or_default(),
        severities: severity_names(&s.app),
        references,
        acknowledgments,
        vulns,
        choices: VulnChoices::new(&branches, &paths),
        languages: languages(lang),
        reviews: a
            .reviews
            .iter()
            .map(|r| ReviewRow {
                reviewer: name_of(r.reviewer),
                at: at(r.at),
                edit: r.edit,
                verdict: r.verdict.as_str(),
                verdict_label: i18n::t(lang, &format!("advisory-verdict-{}", r.verdict.as_str())),
                text: r.text.clone(),
                current: r.edit == current,
            })
            .collect(),
        verdicts: Verdict::ALL
            .iter()
            .map(|v| {
                (
                    v.as_str().to_owned(),
                    i18n::t(lang, &format!("advisory-verdict-{}", v.as_str())),
                )
            })
            .collect(),
        review_draft: drafts.review,
        edits: a
            .edits
            .iter()
            .rev()
            .map(|e| EditRow {
                number: e.number,
                editor: name_of(e.editor),
                at: at(e.at),
                lang: e
                    .lang
                    .map(|l| i18n::t(lang, &format!("advisory-lang-{l}")))
                    .unwrap_or_default(),
                note: e.note.clone(),
            })
            .collect(),
        versions: a
            .versions
            .iter()
            .map(|v| VersionRow {
                number: v.number,
                at: at(v.at),
                summary: v.summary.clone(),
            })
            .collect(),
        releases,
        can_edit: ctx.caller.allows(Action::EditAdvisory),
        page,
    };
    Ok(render(status, &tpl))
}

pub async fn page(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    editor_page(&s, &ctx, &id, Drafts::default(), None, StatusCode::OK).await
}

// ---------------------------------------------------------------- one edit's diff

struct DiffLine {
    op: &'static str,
    sign: &'static str,
    text: String,
}

struct DiffField {
    field: String,
    lines: Vec<DiffLine>,
}

#[derive(Template)]
#[template(path = "advisory_diff.html")]
struct DiffTemplate {
    page: Page,
    id: String,
    tracking_id: String,
    title: String,
    number: u32,
    editor: String,
    at: String,
    lang: String,
    note: String,
    prev: Option<u32>,
    next: Option<u32>,
    fields: Vec<DiffField>,
}

/// Product versions appear in the outline by id; people read them by name.
fn name_products(line: &str, paths: &HashMap<BranchId, String>) -> String {
    let mut out = line.to_owned();
    for (id, path) in paths {
        let id = id.to_string();
        if out.contains(&id) {
            out = out
                .replace(&format!("BranchId({id})"), path)
                .replace(&id, path);
        }
    }
    out
}

pub async fn edit_diff(
    State(s): State<WebState>,
    ctx: Ctx,
    Path((id, number)): Path<(String, String)>,
) -> AppResult<Response> {
    let app::DiffView {
        advisory: a,
        edit,
        fields,
        branches,
        names,
    } = app::diff_view(&s.app, &ctx.caller, &id, ctx.id(&number)?).await?;
    let lang = ctx.lang;
    // Only the product versions the two contents name are looked for in the lines.
    let mut named = edit.content.branch_ids();
    if let Some(before) = a.edits.iter().rev().find(|e| e.number < edit.number) {
        named.extend(before.content.branch_ids());
    }
    let paths: HashMap<BranchId, String> = branch_paths(&branches)
        .into_iter()
        .filter(|(id, _)| named.contains(id))
        .collect();
    let fields = fields
        .into_iter()
        .map(|f| DiffField {
            field: f.field,
            lines: f
                .lines
                .into_iter()
                .map(|l| {
                    let (op, sign, text) = match l {
                        LineChange::Same(t) => ("same", " ", t),
                        LineChange::Added(t) => ("added", "+", t),
                        LineChange::Removed(t) => ("removed", "-", t),
                    };
                    DiffLine {
                        op,
                        sign,
                        text: name_products(&text, &paths),
                    }
                })
                .collect(),
        })
        .collect();
    let mut page = ctx.page("advisory-diff-title");
    page.title = format!("{} #{}", a.tracking_id, edit.number);
    let tpl = DiffTemplate {
        page,
        id: a.id.to_string(),
        tracking_id: a.tracking_id.clone(),
        title: a.title(lang).to_owned(),
        number: edit.number,
        editor: names
            .get(&edit.editor)
            .cloned()
            .unwrap_or_else(|| edit.editor.to_string()),
        at: at(edit.at),
        lang: edit
            .lang
            .map(|l| i18n::t(lang, &format!("advisory-lang-{l}")))
            .unwrap_or_default(),
        note: edit.note.clone(),
        prev: edit.number.checked_sub(1).filter(|n| *n >= 1),
        next: a
            .edits
            .iter()
            .any(|e| e.number == edit.number + 1)
            .then_some(edit.number + 1),
        fields,
    };
    Ok(render(StatusCode::OK, &tpl))
}

// ---------------------------------------------------------------- editor forms

/// Where a form's error shows (an anchor of the editor) and what was typed, to show again.
type Section<'a> = (&'a str, Drafts);

fn at_section(anchor: &str) -> Section<'_> {
    (anchor, Drafts::default())
}

/// One editor form: the command it made runs through its use case; success goes back to the
/// editor at `anchor`, a mistake shows the editor again with the error and what was typed.
async fn act<C, T: OfAdvisory>(
    p: &Posted,
    (anchor, drafts): Section<'_>,
    command: AppResult<C>,
    run: impl AsyncFnOnce(&App, &Caller, C) -> keikai_app::Result<T>,
) -> AppResult<Response> {
    let (s, ctx) = (&p.state, &p.ctx);
    submit(
        command,
        async |c| run(&s.app, &ctx.caller, c).await,
        |done| format!("{}#{anchor}", editor_url(done.advisory_id())),
        async |msg, status| editor_page(s, ctx, &p.key, drafts, Some(msg), status).await,
    )
    .await
}

/// What an editor form changes: the advisory, or its partner edition.
trait OfAdvisory {
    fn advisory_id(&self) -> AdvisoryId;
}

impl OfAdvisory for Advisory {
    fn advisory_id(&self) -> AdvisoryId {
        self.id
    }
}

impl OfAdvisory for PartnerEdition {
    fn advisory_id(&self) -> AdvisoryId {
        self.advisory_id
    }
}

#[derive(Deserialize)]
pub struct RevisionForm {
    #[serde(default, deserialize_with = "lenient_i64")]
    revision: Option<i64>,
}

pub async fn edit_text(
    p: Posted,
    Path((_, lang)): Path<(String, String)>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let of: Locale = p.ctx.id(&lang)?;
    let questions = fields(&pairs, "faq_question");
    let answers = fields(&pairs, "faq_answer");
    let input = TextInput {
        title: field(&pairs, "title"),
        summary: field(&pairs, "summary"),
        description: field(&pairs, "description"),
        impact: field(&pairs, "impact"),
        faqs: questions
            .into_iter()
            .zip(answers)
            .map(|(question, answer)| Faq { question, answer })
            .collect(),
        remediation_details: fields(&pairs, "remediation_details"),
        translation: field(&pairs, "translation") == "1",
        revision: None,
    };
    let cmd = revision(&pairs).map(|revision| {
        TextInput {
            revision,
            ..input.clone()
        }
        .command(&p.key, of)
    });
    let drafts = Drafts {
        text: Some((of, input)),
        ..Drafts::default()
    };
    let anchor = format!("text-{of}");
    act(&p, (&anchor, drafts), cmd, app::edit_text).await
}

/// `POST /editor/advisories/{id}/partner-edition`: the partner edition, through the same
/// service as the API.
pub async fn partner_edition(p: Posted, UiForm(form): UiForm<EditionForm>) -> AppResult<Response> {
    // The partner programme's use case asks the policy (ManagePartners) first.
    p.ctx.signed_in()?;
    let input = form.input();
    let drafts = Drafts {
        edition: Some(form),
        ..Drafts::default()
    };
    act(&p, ("partner-edition", drafts), input, async |a, who, i| {
        keikai_app::partners::put_edition(a, who, &p.key, i).await
    })
    .await
}

pub async fn confirm_translation(
    p: Posted,
    Path((_, lang)): Path<(String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let lang: Locale = p.ctx.id(&lang)?;
    act(&p, at_section("texts"), Ok(lang), async |a, who, l| {
        app::confirm_translation(a, who, &p.key, l, form.revision).await
    })
    .await
}

#[derive(Deserialize)]
pub struct FactsForm {
    #[serde(default)]
    tlp: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    references: String,
    #[serde(default)]
    acknowledgments: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    revision: Option<i64>,
}

pub async fn edit_facts(p: Posted, UiForm(form): UiForm<FactsForm>) -> AppResult<Response> {
    let facts = FactsInput {
        tlp: Some(form.tlp.clone()),
        severity: Some(form.severity.clone()),
        references: parse_references(&form.references),
        acknowledgments: parse_acknowledgments(&form.acknowledgments),
    };
    let drafts = Drafts {
        facts: Some((form.references, form.acknowledgments)),
        ..Drafts::default()
    };
    act(&p, ("facts", drafts), Ok(facts), async |a, who, f| {
        app::edit_facts(a, who, &p.key, f, form.revision).await
    })
    .await
}

/// A vulnerability of the advisory named in a path, and the editor's anchor for it.
fn vulnerability(ctx: &Ctx, vid: &str) -> AppResult<(VulnerabilityId, String)> {
    let v: VulnerabilityId = ctx.id(vid)?;
    Ok((v, format!("v-{v}")))
}

pub async fn set_product_status(
    p: Posted,
    Path((_, vid)): Path<(String, String)>,
    UiForm(form): UiForm<ProductStatusInput>,
) -> AppResult<Response> {
    let (v, anchor) = vulnerability(&p.ctx, &vid)?;
    let cmd = form.parts().and_then(|(branch, status, justification)| {
        Ok(SetProductStatus {
            advisory: p.key.clone(),
            vulnerability: v,
            status: ProductStatus::new(branch, status, justification)?,
            revision: form.revision,
        })
    });
    act(&p, at_section(&anchor), cmd, app::set_product_status).await
}

pub async fn remove_product_status(
    p: Posted,
    Path((_, vid, branch)): Path<(String, String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let (v, anchor) = vulnerability(&p.ctx, &vid)?;
    let branch: BranchId = p.ctx.id(&branch)?;
    act(&p, at_section(&anchor), Ok(branch), async |a, who, b| {
        app::remove_product_status(a, who, &p.key, v, b, form.revision).await
    })
    .await
}

/// Product version ids from a form; each must parse.
fn branch_ids(field: &'static str, ids: &[String]) -> AppResult<Vec<BranchId>> {
    let mut out = Vec::new();
    for s in ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let id: BranchId = s.parse().map_err(|_| {
            AppError::invalid(
                field,
                format!("{field}: \"{s}\" is not a product version id"),
            )
        })?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// A remediation form: the category, the details in `lang` (default: the caller's), the
/// fixed version, KB, URL and the product versions it applies to (none: every affected one).
fn remediation(
    ctx: &Ctx,
    id: &str,
    vulnerability: VulnerabilityId,
    pairs: &Pairs,
) -> AppResult<AddRemediation> {
    let opt = |name: &str| Some(field(pairs, name)).filter(|v| !v.trim().is_empty());
    Ok(AddRemediation {
        advisory: id.to_owned(),
        vulnerability,
        lang: language("lang", opt("lang").as_deref(), ctx.lang)?,
        remediation: RemediationInput {
            category: field(pairs, "category").trim().to_owned(),
            details: field(pairs, "details"),
            fixed_version: opt("fixed_version"),
            kb: opt("kb"),
            url: opt("url"),
            branch_ids: branch_ids("branch_ids", &fields(pairs, "branch_ids"))?,
        },
        revision: revision(pairs)?,
    })
}

pub async fn add_remediation(
    p: Posted,
    Path((_, vid)): Path<(String, String)>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let (v, anchor) = vulnerability(&p.ctx, &vid)?;
    let cmd = remediation(&p.ctx, &p.key, v, &pairs);
    act(&p, at_section(&anchor), cmd, app::add_remediation).await
}

/// The remediation or score a removal's path names, and the editor's anchor for it.
fn entry(
    p: &Posted,
    (_, vid, index): (String, String, String),
    revision: Option<i64>,
) -> AppResult<(Entry, String)> {
    let (v, anchor) = vulnerability(&p.ctx, &vid)?;
    let entry = Entry {
        advisory: p.key.clone(),
        vulnerability: v,
        index: p.ctx.id(&index)?,
        revision,
    };
    Ok((entry, anchor))
}

pub async fn remove_remediation(
    p: Posted,
    Path(path): Path<(String, String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let (e, anchor) = entry(&p, path, form.revision)?;
    act(&p, at_section(&anchor), Ok(e), app::remove_remediation).await
}

/// A score form: a CVSS 3.x or 4.0 vector and the product versions it is for (none: every
/// affected product without a score of its own of that version).
fn score(id: &str, vulnerability: VulnerabilityId, pairs: &Pairs) -> AppResult<SetScore> {
    Ok(SetScore {
        advisory: id.to_owned(),
        vulnerability,
        revision: revision(pairs)?,
        vector: CvssVector::parse("vector", &field(pairs, "vector"), SCORE_VERSIONS)?,
        products: branch_ids("branch_ids", &fields(pairs, "branch_ids"))?,
    })
}

pub async fn set_score(
    p: Posted,
    Path((_, vid)): Path<(String, String)>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let (v, anchor) = vulnerability(&p.ctx, &vid)?;
    let cmd = score(&p.key, v, &pairs);
    act(&p, at_section(&anchor), cmd, app::set_score).await
}

pub async fn remove_score(
    p: Posted,
    Path(path): Path<(String, String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let (e, anchor) = entry(&p, path, form.revision)?;
    act(&p, at_section(&anchor), Ok(e), app::remove_score).await
}

pub async fn refresh(p: Posted, UiForm(form): UiForm<RevisionForm>) -> AppResult<Response> {
    act(
        &p,
        at_section("vulnerabilities"),
        Ok(()),
        async |a, who, ()| app::refresh_from_case(a, who, &p.key, form.revision).await,
    )
    .await
}

pub async fn review(p: Posted, UiForm(form): UiForm<ReviewInput>) -> AppResult<Response> {
    p.ctx.signed_in()?;
    let drafts = Drafts {
        review: form.text.clone(),
        ..Drafts::default()
    };
    let cmd = form.command(&p.key);
    act(&p, ("reviews", drafts), cmd, app::review).await
}

pub async fn schedule(p: Posted, UiForm(form): UiForm<ScheduleInput>) -> AppResult<Response> {
    p.ctx.signed_in()?;
    // The form always names a release: an empty choice is a mistake, not "unschedule".
    let release = form.release().and_then(|r| {
        r.ok_or_else(|| AppError::invalid("release", "release: choose a planned release"))
    });
    act(&p, at_section("schedule"), release, async |a, who, r| {
        app::schedule(a, who, &p.key, r, form.revision).await
    })
    .await
}

pub async fn unschedule(p: Posted, UiForm(form): UiForm<RevisionForm>) -> AppResult<Response> {
    act(&p, at_section("schedule"), Ok(()), async |a, who, ()| {
        app::unschedule(a, who, &p.key, form.revision).await
    })
    .await
}

#[derive(Deserialize)]
pub struct StartRevisionForm {
    /// What the next version changes, for the revision history.
    summary: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    revision: Option<i64>,
}

pub async fn start_revision(
    p: Posted,
    UiForm(form): UiForm<StartRevisionForm>,
) -> AppResult<Response> {
    act(&p, at_section("versions"), Ok(()), async |a, who, ()| {
        app::start_revision(a, who, &p.key, &form.summary, form.revision).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_lines_split_at_the_first_space() {
        let refs =
            parse_references("https://example.com/a Vendor notice\n\n  https://example.com/b  \n");
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].url, "https://example.com/a");
        assert_eq!(refs[0].summary, "Vendor notice");
        assert_eq!(refs[1].summary, "");
        assert_eq!(
            references_text(&refs[..1]),
            "https://example.com/a Vendor notice"
        );
    }

    #[test]
    fn acknowledgment_lines_round_trip() {
        let text = "Hanako Yamada, Taro Sato (Example Lab)\nAlice\n(Some CERT)";
        let acks = parse_acknowledgments(text);
        assert_eq!(acks.len(), 3);
        assert_eq!(acks[0].names, ["Hanako Yamada", "Taro Sato"]);
        assert_eq!(acks[0].organization.as_deref(), Some("Example Lab"));
        assert_eq!(acks[1].names, ["Alice"]);
        assert_eq!(acks[1].organization, None);
        assert!(acks[2].names.is_empty());
        assert_eq!(acks[2].organization.as_deref(), Some("Some CERT"));
        assert_eq!(acknowledgments_text(&acks), text);
    }
}
