//! The editor pages: the advisory list, one advisory (its two languages side by side, the
//! facts, the vulnerabilities with product statuses, scores and remediations, the reviews,
//! the edit history and the schedule), the diff of one edit, the releases and the
//! release-readiness page. Every form posts to the service in [`crate::advisories`] and
//! redirects back (303), or shows the page again with the error (422, the field named).

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use keikai_domain::advisory::{
    Acknowledgment, Advisory, AdvisoryState, FactsInput, Faq, LineChange, Localized, Reference,
    ReviewState, Tlp, TranslationState, Verdict,
};
use keikai_domain::case::{Justification, ProductStatusKind, RemediationCategory};
use keikai_domain::partner::{PartnerEdition, PartnerEditionInput};
use keikai_domain::release::{Release, ReleaseKind, ReleaseState, display_in};
use keikai_domain::{Action, BranchCategory, BranchId, Locale, UserId};
use serde::Deserialize;

use crate::advisories::{
    self, AdvisoryQuery, NewAdvisoryInput, NewReleaseInput, RemediationBody, RescheduleInput,
    ReviewInput, ScheduleInput, ScoreBody, StartRevisionInput, TextInput, lenient_revision,
};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::UiForm;
use crate::http::extract::lenient_i64;
use crate::http::forms::{Pairs, fields};
use crate::http::i18n;
use crate::http::state::AppState;
use crate::ui::cases::branch_paths;
use crate::ui::layout::{Page, after_submit, render};
use keikai_app::cases as app_cases;

/// Options of a `<select>`: (value, label).
type Options = Vec<(String, String)>;

fn at(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn state_label(lang: Locale, s: AdvisoryState) -> String {
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
struct Badge {
    class: &'static str,
    label: String,
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
struct ReadinessView {
    review: Badge,
    en: Badge,
    ja: Badge,
    fixed: bool,
    fixed_label: String,
    ready: bool,
    ready_label: String,
}

fn readiness_view(lang: Locale, a: &Advisory) -> ReadinessView {
    let r = a.readiness();
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
    }
}

// ---------------------------------------------------------------- the list

struct ListRow {
    id: String,
    tracking_id: String,
    title: String,
    state: &'static str,
    state_label: String,
    r: ReadinessView,
    updated_at: String,
}

#[derive(Template)]
#[template(path = "advisories.html")]
struct ListTemplate {
    page: Page,
    rows: Vec<ListRow>,
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
    state: &AppState,
    ctx: &Ctx,
    q: &AdvisoryQuery,
    draft: NewAdvisoryInput,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let (found, more) = advisories::list(state, ctx, q).await?;
    let page_no = q.page_number().unwrap_or(1);
    let rows = found
        .iter()
        .map(|a| ListRow {
            id: a.id.to_string(),
            tracking_id: a.tracking_id.clone(),
            title: a.title(lang).to_owned(),
            state: a.state.as_str(),
            state_label: state_label(lang, a.state),
            r: readiness_view(lang, a),
            updated_at: at(a.updated_at),
        })
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
        can_edit: ctx.allows(Action::EditAdvisory),
    };
    Ok(render(status, &tpl))
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: Result<Query<AdvisoryQuery>, QueryRejection>,
) -> AppResult<Response> {
    ctx.require(Action::ViewAdvisories)?;
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let draft = NewAdvisoryInput {
        language: Some(ctx.lang.as_str().to_owned()),
        ..NewAdvisoryInput::default()
    };
    list_page(&state, &ctx, &q, draft, None, StatusCode::OK).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(form): UiForm<NewAdvisoryInput>,
) -> AppResult<Response> {
    match advisories::create(&state, &ctx, &form).await {
        Ok((a, _)) => Ok(Redirect::to(&format!("/editor/advisories/{}", a.id)).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            list_page(
                &state,
                &ctx,
                &AdvisoryQuery::default(),
                form,
                Some(e.message),
                e.status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The button on the case page: the advisory made from the case (new, or the one made
/// before).
pub async fn create_from_case(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> AppResult<Response> {
    let (a, _) = advisories::create_from_case(&state, &ctx, &number).await?;
    Ok(Redirect::to(&format!("/editor/advisories/{}", a.id)).into_response())
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

struct StatusRow {
    branch_id: String,
    product: String,
    status: &'static str,
    justification: &'static str,
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
    product_versions: Options,
    statuses: Vec<&'static str>,
    justifications: Vec<&'static str>,
    categories: Vec<&'static str>,
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

fn product_name(paths: &HashMap<BranchId, String>, id: BranchId) -> String {
    paths.get(&id).cloned().unwrap_or_else(|| id.to_string())
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

/// Display names of users, for reviews and edits.
async fn names_of(state: &AppState, ctx: &Ctx, a: &Advisory) -> AppResult<HashMap<UserId, String>> {
    let ids: Vec<UserId> = a
        .edits
        .iter()
        .map(|e| e.editor)
        .chain(a.reviews.iter().map(|r| r.reviewer))
        .collect();
    Ok(app_cases::names(&state.app, &ctx.caller, ids).await?)
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
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    drafts: Drafts,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let a = advisories::load(state, ctx, id).await?;
    let lang = ctx.lang;
    let schedule = &state.config.publishing.schedule;
    let branches = state.store.list_branches().await?;
    let paths = branch_paths(&branches);
    let names = names_of(state, ctx, &a).await?;
    let name_of = |u: UserId| names.get(&u).cloned().unwrap_or_else(|| u.to_string());
    let case_number = match a.case_id {
        Some(c) => match state.store.get_case(c).await {
            Ok(case) => Some(case.number),
            Err(keikai_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let release = match a.release {
        Some(r) => match state.store.get_release(r).await {
            Ok(rel) => Some((
                rel.id().to_string(),
                rel.title().to_owned(),
                schedule.display(rel.scheduled_at()),
            )),
            Err(keikai_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let (planned, _) = advisories::releases(state, ctx, 0).await?;
    let releases = planned
        .iter()
        .map(|r| {
            (
                r.id().to_string(),
                format!("{} — {}", r.title(), schedule.display(r.scheduled_at())),
            )
        })
        .collect();
    let mut product_versions: Options = branches
        .iter()
        .filter(|b| b.category == BranchCategory::ProductVersion)
        .map(|b| (b.id.to_string(), product_name(&paths, b.id)))
        .collect();
    product_versions.sort_by(|x, y| x.1.cmp(&y.1));
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
            cwe: v
                .cwe
                .as_ref()
                .map(|c| format!("{} {}", c.id, c.name))
                .unwrap_or_default(),
            exploited: v.exploited,
            publicly_disclosed: v.publicly_disclosed,
            statuses: v
                .product_statuses
                .iter()
                .map(|s| StatusRow {
                    branch_id: s.branch_id.to_string(),
                    product: product_name(&paths, s.branch_id),
                    status: s.status.as_str(),
                    justification: s.justification.map_or("", Justification::as_str),
                })
                .collect(),
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
    let edition = if ctx.allows(Action::ManagePartners) {
        let current = state.store.partner_edition(a.id).await?;
        Some(EditionView {
            updated: current
                .as_ref()
                .map(|e| at(e.updated_at))
                .unwrap_or_default(),
            form: drafts
                .edition
                .clone()
                .or_else(|| current.as_ref().map(EditionForm::of))
                .unwrap_or_else(|| EditionForm {
                    tlp: Tlp::Amber.as_str().to_owned(),
                    ..EditionForm::default()
                }),
        })
    } else {
        None
    };
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
        r: readiness_view(lang, &a),
        columns,
        tlp: a.content.tlp.as_str(),
        tlps: Tlp::ALL.iter().map(|t| (t.as_str(), t.label())).collect(),
        severity: a.content.severity.clone().unwrap_or_default(),
        severities: state
            .config
            .severity_scale
            .levels()
            .iter()
            .map(|l| l.name.clone())
            .collect(),
        references,
        acknowledgments,
        vulns,
        product_versions,
        statuses: ProductStatusKind::ALL.iter().map(|s| s.as_str()).collect(),
        justifications: Justification::ALL.iter().map(|j| j.as_str()).collect(),
        categories: RemediationCategory::ALL
            .iter()
            .map(|c| c.as_str())
            .collect(),
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
        can_edit: ctx.allows(Action::EditAdvisory),
        page,
    };
    Ok(render(status, &tpl))
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    editor_page(&state, &ctx, &id, Drafts::default(), None, StatusCode::OK).await
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
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, number)): Path<(String, String)>,
) -> AppResult<Response> {
    let (a, edit, fields) = advisories::edit_diff(&state, &ctx, &id, &number).await?;
    let lang = ctx.lang;
    // Only the product versions the two contents name are looked for in the lines.
    let mut named = edit.content.branch_ids();
    if let Some(before) = a.edits.iter().rev().find(|e| e.number < edit.number) {
        named.extend(before.content.branch_ids());
    }
    let paths: HashMap<BranchId, String> = branch_paths(&state.store.list_branches().await?)
        .into_iter()
        .filter(|(id, _)| named.contains(id))
        .collect();
    let names = names_of(&state, &ctx, &a).await?;
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

/// After a form: back to the editor (at `anchor`) on success, or the page again with the
/// error and what was typed.
async fn done(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    result: AppResult<Advisory>,
    anchor: &str,
    drafts: Drafts,
) -> AppResult<Response> {
    let target = match &result {
        Ok(a) => format!("/editor/advisories/{}#{anchor}", a.id),
        Err(_) => String::new(),
    };
    after_submit(result, &target, |msg, status| {
        editor_page(state, ctx, id, drafts, Some(msg), status)
    })
    .await
}

#[derive(Deserialize)]
pub struct RevisionForm {
    #[serde(default, deserialize_with = "lenient_i64")]
    revision: Option<i64>,
}

fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn revision_of(pairs: &Pairs) -> AppResult<Option<i64>> {
    lenient_revision(field(pairs, "revision"))
}

pub async fn edit_text(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, lang)): Path<(String, String)>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let questions = fields(&pairs, "faq_question");
    let answers = fields(&pairs, "faq_answer");
    let input = TextInput {
        title: field(&pairs, "title").to_owned(),
        summary: field(&pairs, "summary").to_owned(),
        description: field(&pairs, "description").to_owned(),
        impact: field(&pairs, "impact").to_owned(),
        faqs: questions
            .into_iter()
            .zip(answers)
            .map(|(question, answer)| Faq { question, answer })
            .collect(),
        remediation_details: fields(&pairs, "remediation_details"),
        revision: None,
    };
    let result = match revision_of(&pairs) {
        Ok(revision) => {
            let input = TextInput {
                revision,
                ..input.clone()
            };
            advisories::edit_text(&state, &ctx, &id, &lang, &input).await
        }
        Err(e) => Err(e),
    };
    let drafts = Drafts {
        text: lang.parse::<Locale>().ok().map(|l| (l, input)),
        ..Drafts::default()
    };
    done(&state, &ctx, &id, result, &format!("text-{lang}"), drafts).await
}

/// `POST /editor/advisories/{id}/partner-edition`: the partner edition, through the same
/// service as the API.
pub async fn partner_edition(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<EditionForm>,
) -> AppResult<Response> {
    ctx.require(Action::ManagePartners)?;
    let result = match form.input() {
        Ok(input) => keikai_app::partners::put_edition(&state.app, &ctx.caller, &id, input)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    let target = match &result {
        Ok(e) => format!("/editor/advisories/{}#partner-edition", e.advisory_id),
        Err(_) => String::new(),
    };
    let drafts = Drafts {
        edition: Some(form),
        ..Drafts::default()
    };
    after_submit(result, &target, |msg, status| {
        editor_page(&state, &ctx, &id, drafts, Some(msg), status)
    })
    .await
}

pub async fn confirm_translation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, lang)): Path<(String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let result = advisories::confirm_translation(&state, &ctx, &id, &lang, form.revision).await;
    done(&state, &ctx, &id, result, "texts", Drafts::default()).await
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

pub async fn edit_facts(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<FactsForm>,
) -> AppResult<Response> {
    let facts = FactsInput {
        tlp: Some(form.tlp.clone()),
        severity: Some(form.severity.clone()),
        references: parse_references(&form.references),
        acknowledgments: parse_acknowledgments(&form.acknowledgments),
    };
    let result = advisories::edit_facts(&state, &ctx, &id, &facts, form.revision).await;
    let drafts = Drafts {
        facts: Some((form.references, form.acknowledgments)),
        ..Drafts::default()
    };
    done(&state, &ctx, &id, result, "facts", drafts).await
}

pub async fn set_product_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, vid)): Path<(String, String)>,
    UiForm(form): UiForm<crate::api::cases::ProductStatusInput>,
) -> AppResult<Response> {
    let result = advisories::set_product_status(&state, &ctx, &id, &vid, &form).await;
    done(
        &state,
        &ctx,
        &id,
        result,
        &format!("v-{vid}"),
        Drafts::default(),
    )
    .await
}

pub async fn remove_product_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, vid, branch)): Path<(String, String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let result =
        advisories::remove_product_status(&state, &ctx, &id, &vid, &branch, form.revision).await;
    done(
        &state,
        &ctx,
        &id,
        result,
        &format!("v-{vid}"),
        Drafts::default(),
    )
    .await
}

pub async fn add_remediation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, vid)): Path<(String, String)>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let opt = |name: &str| Some(field(&pairs, name).to_owned()).filter(|v| !v.trim().is_empty());
    let result = match revision_of(&pairs) {
        Ok(revision) => {
            let body = RemediationBody {
                category: field(&pairs, "category").to_owned(),
                details: field(&pairs, "details").to_owned(),
                lang: opt("lang"),
                fixed_version: opt("fixed_version"),
                kb: opt("kb"),
                url: opt("url"),
                branch_ids: fields(&pairs, "branch_ids"),
                revision,
            };
            advisories::add_remediation(&state, &ctx, &id, &vid, &body).await
        }
        Err(e) => Err(e),
    };
    done(
        &state,
        &ctx,
        &id,
        result,
        &format!("v-{vid}"),
        Drafts::default(),
    )
    .await
}

pub async fn remove_remediation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, vid, index)): Path<(String, String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let result =
        advisories::remove_remediation(&state, &ctx, &id, &vid, &index, form.revision).await;
    done(
        &state,
        &ctx,
        &id,
        result,
        &format!("v-{vid}"),
        Drafts::default(),
    )
    .await
}

pub async fn set_score(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, vid)): Path<(String, String)>,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let result = match revision_of(&pairs) {
        Ok(revision) => {
            let body = ScoreBody {
                vector: field(&pairs, "vector").to_owned(),
                branch_ids: fields(&pairs, "branch_ids"),
                revision,
            };
            advisories::set_score(&state, &ctx, &id, &vid, &body).await
        }
        Err(e) => Err(e),
    };
    done(
        &state,
        &ctx,
        &id,
        result,
        &format!("v-{vid}"),
        Drafts::default(),
    )
    .await
}

pub async fn remove_score(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, vid, index)): Path<(String, String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let result = advisories::remove_score(&state, &ctx, &id, &vid, &index, form.revision).await;
    done(
        &state,
        &ctx,
        &id,
        result,
        &format!("v-{vid}"),
        Drafts::default(),
    )
    .await
}

pub async fn refresh(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let result = advisories::refresh_from_case(&state, &ctx, &id, form.revision).await;
    done(
        &state,
        &ctx,
        &id,
        result,
        "vulnerabilities",
        Drafts::default(),
    )
    .await
}

pub async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<ReviewInput>,
) -> AppResult<Response> {
    let result = advisories::review(&state, &ctx, &id, &form).await;
    let drafts = Drafts {
        review: form.text,
        ..Drafts::default()
    };
    done(&state, &ctx, &id, result, "reviews", drafts).await
}

pub async fn schedule(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<ScheduleInput>,
) -> AppResult<Response> {
    // The form always names a release: an empty choice is a mistake, not "unschedule".
    let result = if form.release.as_deref().is_none_or(|r| r.trim().is_empty()) {
        Err(AppError::invalid(
            "release",
            "release: choose a planned release",
        ))
    } else {
        advisories::schedule(&state, &ctx, &id, &form).await
    };
    done(&state, &ctx, &id, result, "schedule", Drafts::default()).await
}

pub async fn unschedule(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let result = advisories::unschedule(&state, &ctx, &id, form.revision).await;
    done(&state, &ctx, &id, result, "schedule", Drafts::default()).await
}

pub async fn start_revision(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<StartRevisionInput>,
) -> AppResult<Response> {
    let result = advisories::start_revision(&state, &ctx, &id, &form).await;
    done(&state, &ctx, &id, result, "versions", Drafts::default()).await
}

// ---------------------------------------------------------------- releases

struct ReleaseRow {
    id: String,
    title: String,
    kind_label: String,
    state: &'static str,
    state_label: String,
    /// In the schedule's zone.
    when: String,
    /// In the viewer's zone, when that differs.
    when_viewer: String,
    published_at: String,
}

fn release_row(state: &AppState, lang: Locale, r: &Release) -> ReleaseRow {
    let schedule = &state.config.publishing.schedule;
    let when = schedule.display(r.scheduled_at());
    let viewer = display_in(r.scheduled_at(), &advisories::viewer_zone(lang));
    ReleaseRow {
        id: r.id().to_string(),
        title: r.title().to_owned(),
        kind_label: i18n::t(
            lang,
            &format!("release-kind-{}", advisories::kind_str(r.kind())),
        ),
        state: r.state().as_str(),
        state_label: i18n::t(lang, &format!("release-state-{}", r.state().as_str())),
        when_viewer: if viewer == when {
            String::new()
        } else {
            viewer
        },
        when,
        published_at: r.published_at().map(at).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "releases.html")]
struct ReleasesTemplate {
    page: Page,
    planned: Vec<ReleaseRow>,
    published: Vec<ReleaseRow>,
    schedule: String,
    /// The next monthly release's month (`YYYY-MM`) and when it leaves.
    next_month: String,
    next_when: String,
    draft_title: String,
    draft_local_time: String,
    draft_zone: String,
    can_manage: bool,
}

/// How many releases that have gone out the list shows.
const RECENT_RELEASES: usize = 12;

async fn releases_page(
    state: &AppState,
    ctx: &Ctx,
    draft: Option<&NewReleaseInput>,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let (planned, gone) = advisories::releases(state, ctx, RECENT_RELEASES).await?;
    let schedule = &state.config.publishing.schedule;
    let next = advisories::next_unplanned_monthly(state).await?;
    let (next_month, next_when) = next.map_or_else(Default::default, |t| {
        let z = t.to_zoned(schedule.zone().clone());
        (
            format!("{:04}-{:02}", z.year(), z.month()),
            schedule.display(t),
        )
    });
    let mut page = ctx.page("releases-title");
    page.error = error;
    let tpl = ReleasesTemplate {
        page,
        planned: planned
            .iter()
            .map(|r| release_row(state, lang, r))
            .collect(),
        published: gone.iter().map(|r| release_row(state, lang, r)).collect(),
        schedule: schedule.to_string(),
        next_month,
        next_when,
        draft_title: draft.map(|d| d.title.clone()).unwrap_or_default(),
        draft_local_time: draft
            .and_then(|d| d.time.local_time.clone())
            .unwrap_or_default(),
        draft_zone: draft
            .and_then(|d| d.time.zone.clone())
            .unwrap_or_else(|| schedule.zone_name().to_owned()),
        can_manage: ctx.allows(Action::ManageReleases),
    };
    Ok(render(status, &tpl))
}

pub async fn releases(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    releases_page(&state, &ctx, None, None, StatusCode::OK).await
}

pub async fn plan_release(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(form): UiForm<NewReleaseInput>,
) -> AppResult<Response> {
    match advisories::plan_release(&state, &ctx, &form).await {
        Ok(r) => Ok(Redirect::to(&format!("/releases/{}", r.id())).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            releases_page(&state, &ctx, Some(&form), Some(e.message), e.status).await
        }
        Err(e) => Err(e),
    }
}

struct ReadinessRow {
    id: String,
    tracking_id: String,
    title: String,
    state: &'static str,
    state_label: String,
    r: ReadinessView,
}

#[derive(Template)]
#[template(path = "release.html")]
struct ReleaseTemplate {
    page: Page,
    rel: ReleaseRow,
    revision: i64,
    monthly: bool,
    planned: bool,
    rows: Vec<ReadinessRow>,
    ready: usize,
    month: String,
    local_time: String,
    zone: String,
    can_manage: bool,
}

async fn release_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let (release, list) = advisories::release_readiness(state, ctx, id).await?;
    let schedule = &state.config.publishing.schedule;
    let local = release.scheduled_at().to_zoned(schedule.zone().clone());
    let rows: Vec<ReadinessRow> = list
        .iter()
        .map(|a| ReadinessRow {
            id: a.id.to_string(),
            tracking_id: a.tracking_id.clone(),
            title: a.title(lang).to_owned(),
            state: a.state.as_str(),
            state_label: state_label(lang, a.state),
            r: readiness_view(lang, a),
        })
        .collect();
    let mut page = ctx.page("release-title");
    page.title = release.title().to_owned();
    page.error = error;
    let tpl = ReleaseTemplate {
        page,
        rel: release_row(state, lang, &release),
        revision: release.revision,
        monthly: release.kind() == ReleaseKind::Monthly,
        planned: release.state() == ReleaseState::Planned,
        ready: rows.iter().filter(|r| r.r.ready).count(),
        rows,
        month: format!("{:04}-{:02}", local.year(), local.month()),
        local_time: local.datetime().strftime("%Y-%m-%dT%H:%M").to_string(),
        zone: schedule.zone_name().to_owned(),
        can_manage: ctx.allows(Action::ManageReleases),
    };
    Ok(render(status, &tpl))
}

pub async fn release(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    release_page(&state, &ctx, &id, None, StatusCode::OK).await
}

pub async fn reschedule(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<RescheduleInput>,
) -> AppResult<Response> {
    let result = advisories::reschedule(&state, &ctx, &id, &form).await;
    let target = match &result {
        Ok(r) => format!("/releases/{}", r.id()),
        Err(_) => String::new(),
    };
    after_submit(result, &target, |msg, status| {
        release_page(&state, &ctx, &id, Some(msg), status)
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
