//! The case pages: the list with filters and search, one case (the PSIRT's and the team's
//! working page, or the reporter's own view of it), its history, and one form per operation.
//! Every form calls one use case of [`keikai_app::cases`] and redirects back (303), or shows
//! the page again with the error.
//!
//! A reporter's view is a template of its own ([`ReporterCaseTemplate`]) that is given the
//! report, the state and the conversation only: internal notes, tasks and vulnerabilities are
//! never handed to it, so they cannot be rendered by mistake.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use keikai_domain::attachment::{AttachmentName, AttachmentPolicy};
use keikai_domain::case::{
    Case, CaseClock, CaseMessage, CaseState, ClockKind, ClockStatus, CraReport, Credit, Visibility,
    VulnerabilityInput,
};
use keikai_domain::{BranchId, UserId};
use serde::Deserialize;

use keikai_app::cases::{self as app, CaseNumber, Upload};
use keikai_app::{App, Caller};

use crate::api::cases::{
    AssignmentInput, CaseListQuery, OwnerInput, ProductStatusInput, RemediationInput, TaskInput,
    TransitionInput, cra_report,
};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{UiForm, has_content_type, lenient_i64};
use crate::http::forms::attachment_response;
use crate::http::i18n;
use crate::http::state::WebState;
use crate::ui::cvss::{CvssCalculator, CvssFamily};
use crate::ui::layout::{Page, Posted, render, submit};
use crate::ui::view::{
    Options, StatusRow, VulnChoices, at, branch_paths, cwe_text, product_versions, severity_names,
    status_rows,
};

fn state_label(lang: keikai_domain::Locale, s: CaseState) -> String {
    i18n::t(lang, &format!("case-state-{}", s.as_str()))
}

// ---------------------------------------------------------------- the list

struct ListRow {
    number: i64,
    title: String,
    state: &'static str,
    state_label: String,
    kind_label: String,
    severity: String,
    emergency: bool,
    due: String,
    overdue: bool,
}

/// The filters as the form shows them again.
#[derive(Default)]
struct Filters {
    state: String,
    open: String,
    kind: String,
    product: String,
    severity: String,
    owner: String,
    team: String,
    overdue: String,
    emergency: String,
    q: String,
}

impl Filters {
    fn of(q: &CaseListQuery) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            state: s(&q.state),
            open: s(&q.open),
            kind: s(&q.kind),
            product: s(&q.product),
            severity: s(&q.severity),
            owner: s(&q.owner),
            team: s(&q.team),
            overdue: s(&q.overdue),
            emergency: s(&q.emergency),
            q: s(&q.q),
        }
    }

    /// The query string of another page of the same list.
    fn page_link(&self, page: u64) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("state", &self.state),
            ("open", &self.open),
            ("kind", &self.kind),
            ("product", &self.product),
            ("severity", &self.severity),
            ("owner", &self.owner),
            ("team", &self.team),
            ("overdue", &self.overdue),
            ("emergency", &self.emergency),
            ("q", &self.q),
        ] {
            if !v.is_empty() {
                pairs.push((k, v.clone()));
            }
        }
        pairs.push(("page", page.to_string()));
        format!(
            "/cases?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListTemplate {
    page: Page,
    rows: Vec<ListRow>,
    total: u64,
    f: Filters,
    states: Options,
    kinds: Options,
    severities: Vec<String>,
    products: Options,
    owners: Options,
    teams: Options,
    internal: bool,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    query: Result<Query<CaseListQuery>, QueryRejection>,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let page_no = q.page()?;
    let (found, total) = app::list(&state.app, &ctx.caller, &q.query()?).await?;
    let lang = ctx.lang;
    let now = state.app.now();
    let rows = found
        .iter()
        .map(|r| ListRow {
            number: r.number,
            title: r.title.clone(),
            state: r.state.as_str(),
            state_label: state_label(lang, r.state),
            kind_label: i18n::t(lang, &format!("case-kind-{}", r.kind.as_str())),
            severity: r.severity.clone().unwrap_or_default(),
            emergency: r.emergency,
            due: r.next_deadline.map(at).unwrap_or_default(),
            overdue: app::is_overdue(r, now),
        })
        .collect();
    // Product, owner and team filters are for internal staff, who know those names.
    let choices = app::filter_choices(&state.app, &ctx.caller).await?;
    let internal = choices.is_some();
    let (products, owners, teams) = match choices {
        Some(c) => (
            product_versions(&c.branches, &branch_paths(&c.branches)),
            user_options(&c.internal_users),
            team_options(&c.teams),
        ),
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    let page_no = u64::from(page_no);
    let f = Filters::of(&q);
    let shown = (page_no - 1) * u64::from(app::PAGE_SIZE) + found.len() as u64;
    let tpl = ListTemplate {
        prev: (page_no > 1).then(|| f.page_link(page_no - 1)),
        next: (shown < total).then(|| f.page_link(page_no + 1)),
        page: ctx.page("cases-title"),
        rows,
        total,
        f,
        states: CaseState::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), state_label(lang, *s)))
            .collect(),
        kinds: keikai_domain::case::CaseKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str().to_owned(),
                    i18n::t(lang, &format!("case-kind-{}", k.as_str())),
                )
            })
            .collect(),
        severities: severity_names(&state.app),
        products,
        owners,
        teams,
        internal,
    };
    Ok(render(StatusCode::OK, &tpl))
}

fn user_options(users: &[keikai_domain::User]) -> Options {
    users
        .iter()
        .map(|u| (u.id.to_string(), u.display_name.as_str().to_owned()))
        .collect()
}

fn team_options(teams: &[(keikai_domain::OrgId, String)]) -> Options {
    teams
        .iter()
        .map(|(id, name)| (id.to_string(), name.clone()))
        .collect()
}

// ---------------------------------------------------------------- one case

struct Head {
    number: i64,
    title: String,
    state: &'static str,
    state_label: String,
    kind_label: String,
    severity: String,
    emergency: Option<(String, String)>,
    track_label: String,
    created_at: String,
    updated_at: String,
    revision: i64,
    duplicate_of: Option<i64>,
}

struct ReportView {
    product: String,
    branch: String,
    version: String,
    description: String,
    impact: String,
    steps: String,
    cve: String,
    publicly_known: bool,
    exploited: bool,
    disclosure_plans: String,
    planned_disclosure: String,
    credit: String,
    reporter_name: String,
    reporter_email: String,
    reporter_organisation: String,
    reporter_key: String,
    language: String,
}

fn credit_text(lang: keikai_domain::Locale, c: &Credit) -> String {
    match c {
        Credit::Named {
            name,
            organisation: Some(o),
        } => format!("{name} ({o})"),
        Credit::Named { name, .. } => name.clone(),
        Credit::Anonymous => i18n::t(lang, "case-credit-anonymous"),
        Credit::None => i18n::t(lang, "case-credit-none"),
    }
}

fn report_view(
    lang: keikai_domain::Locale,
    case: &Case,
    paths: &HashMap<BranchId, String>,
) -> ReportView {
    let r = &case.report;
    ReportView {
        product: r.product.clone(),
        branch: r
            .branch_id
            .and_then(|b| paths.get(&b).cloned())
            .unwrap_or_default(),
        version: r.version.clone(),
        description: r.description.clone(),
        impact: r.impact.clone(),
        steps: r.steps.clone(),
        cve: r.cve.as_ref().map(|c| c.to_string()).unwrap_or_default(),
        publicly_known: r.publicly_known,
        exploited: r.exploited,
        disclosure_plans: r.disclosure_plans.clone(),
        planned_disclosure: r
            .planned_disclosure
            .map(|d| d.to_string())
            .unwrap_or_default(),
        credit: credit_text(lang, &r.credit),
        reporter_name: r.reporter_name.clone().unwrap_or_default(),
        reporter_email: r
            .reporter_email
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        reporter_organisation: r.reporter_organisation.clone().unwrap_or_default(),
        reporter_key: r
            .reporter_key
            .as_ref()
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default(),
        language: r.language.as_str().to_owned(),
    }
}

fn head(
    state: &WebState,
    lang: keikai_domain::Locale,
    case: &Case,
    duplicate_of: Option<i64>,
) -> Head {
    Head {
        number: case.number,
        title: case.title.clone(),
        state: case.state.as_str(),
        state_label: state_label(lang, case.state),
        kind_label: i18n::t(lang, &format!("case-kind-{}", case.report.kind.as_str())),
        severity: case
            .severity(&state.app.config().severity_scale)
            .map(|l| l.name.clone())
            .unwrap_or_default(),
        emergency: case
            .emergency
            .as_ref()
            .map(|e| (e.reason.clone(), at(e.declared_at))),
        track_label: i18n::t(lang, &format!("case-track-{}", case.track.as_str())),
        created_at: at(case.created_at),
        updated_at: at(case.updated_at),
        revision: case.revision,
        duplicate_of,
    }
}

struct RemediationView {
    index: usize,
    category: &'static str,
    details: String,
    url: String,
}

struct VulnView {
    id: String,
    title: String,
    cve: String,
    cwe: String,
    cvss_v3: Option<(String, String)>,
    cvss_v4: Option<(String, String)>,
    severity: String,
    publicly_disclosed: bool,
    exploited_since: String,
    statuses: Vec<StatusRow>,
    remediations: Vec<RemediationView>,
}

/// The add/edit form of a vulnerability, with the CVSS calculators embedded.
struct VulnForm {
    action: String,
    editing: bool,
    title: String,
    cve: String,
    cwe: String,
    vendor_severity: String,
    publicly_disclosed: bool,
    exploited: bool,
    v3: CvssCalculator,
    v4: CvssCalculator,
}

struct ClockView {
    label: String,
    due: String,
    done_at: String,
    status: &'static str,
    status_label: String,
    /// The CRA report to mark sent, for a CRA clock still running.
    cra: Option<&'static str>,
}

struct TaskView {
    id: String,
    title: String,
    owner: String,
    due: String,
    done: bool,
}

struct AttachmentView {
    id: String,
    name: String,
    size: i64,
    content_type: String,
}

struct MessageView {
    author: String,
    from_reporter: bool,
    body: String,
    at: String,
    attachments: Vec<AttachmentView>,
}

fn status_label(s: ClockStatus) -> &'static str {
    match s {
        ClockStatus::Due => "due",
        ClockStatus::Overdue => "overdue",
        ClockStatus::Met => "met",
        ClockStatus::MetLate => "met_late",
        ClockStatus::Waiting => "waiting",
    }
}

fn clock_view(lang: keikai_domain::Locale, c: &CaseClock) -> ClockView {
    let cra = match c.kind {
        ClockKind::CraEarlyWarning => Some(CraReport::EarlyWarning),
        ClockKind::CraNotification => Some(CraReport::Notification),
        ClockKind::CraFinalReport => Some(CraReport::FinalReport),
        _ => None,
    };
    let status = status_label(c.status);
    ClockView {
        label: i18n::t(lang, &format!("case-clock-{}", c.kind.as_str())),
        due: c.due.map(at).unwrap_or_default(),
        done_at: c.done_at.map(at).unwrap_or_default(),
        status,
        status_label: i18n::t(lang, &format!("case-clock-status-{status}")),
        cra: cra
            .filter(|_| c.is_open() || c.status == ClockStatus::Waiting)
            .filter(|_| c.done_at.is_none())
            .map(CraReport::as_str),
    }
}

fn message_views(
    lang: keikai_domain::Locale,
    messages: &[CaseMessage],
    names: &HashMap<UserId, String>,
) -> Vec<MessageView> {
    messages
        .iter()
        .map(|m| MessageView {
            author: if m.from_reporter {
                i18n::t(lang, "case-reporter")
            } else {
                m.author
                    .and_then(|a| names.get(&a).cloned())
                    .unwrap_or_else(|| i18n::t(lang, "case-psirt"))
            },
            from_reporter: m.from_reporter,
            body: m.body.clone(),
            at: at(m.created_at),
            attachments: m
                .attachments
                .iter()
                .map(|a| AttachmentView {
                    id: a.id.to_string(),
                    name: a.file_name.clone(),
                    size: a.size,
                    content_type: a.content_type.clone(),
                })
                .collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "case.html")]
struct CaseTemplate {
    page: Page,
    number: i64,
    h: Head,
    report: ReportView,
    can_triage: bool,
    can_work: bool,
    next_states: Options,
    vulns: Vec<VulnView>,
    form: Option<VulnForm>,
    severities: Vec<String>,
    choices: VulnChoices,
    assignment: Option<(String, String, String)>,
    teams: Options,
    owner: String,
    owners: Options,
    tasks: Vec<TaskView>,
    clocks: Vec<ClockView>,
    notes: Vec<MessageView>,
    conversation: Vec<MessageView>,
    drafts: Drafts,
    /// The advisory made from this case (id, tracking id), for those who see advisories.
    advisory: Option<(String, String)>,
    /// May start an advisory from the case.
    can_advise: bool,
}

/// The reporter's view of their own case: nothing internal is handed to it.
#[derive(Template)]
#[template(path = "case_reporter.html")]
struct ReporterCaseTemplate {
    page: Page,
    number: i64,
    title: String,
    state_label: String,
    created_at: String,
    report: ReportView,
    conversation: Vec<MessageView>,
    can_reply: bool,
    draft: String,
}

/// What a form that failed held, to show again with the error.
#[derive(Default)]
struct Drafts {
    /// The vulnerability being added (`None`) or changed, as typed.
    vulnerability: Option<(Option<String>, VulnerabilityInput)>,
    note: String,
    message: String,
    reason: String,
}

#[derive(Deserialize, Default)]
pub struct CasePageQuery {
    /// A vulnerability whose fields the form shows for editing.
    edit: Option<String>,
}

pub async fn page(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
    query: Result<Query<CasePageQuery>, QueryRejection>,
) -> AppResult<Response> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let drafts = Drafts {
        vulnerability: q.edit.map(|id| (Some(id), VulnerabilityInput::default())),
        ..Drafts::default()
    };
    case_page(&state, &ctx, ctx.id(&number)?, drafts, None, StatusCode::OK).await
}

fn vuln_input_of(v: &keikai_domain::case::Vulnerability) -> VulnerabilityInput {
    VulnerabilityInput {
        title: v.title.clone(),
        cve: v.cve.as_ref().map(|c| c.to_string()),
        cwe: v.cwe.as_ref().map(|c| c.id.clone()),
        cvss_v3: v.cvss_v3.as_ref().map(|c| c.as_str().to_owned()),
        cvss_v4: v.cvss_v4.as_ref().map(|c| c.as_str().to_owned()),
        vendor_severity: v.vendor_severity.clone(),
        publicly_disclosed: v.exploitation.publicly_disclosed,
        exploited: v.exploitation.exploited_since.is_some(),
    }
}

fn vuln_form(
    lang: keikai_domain::Locale,
    case: &Case,
    draft: Option<(Option<String>, VulnerabilityInput)>,
) -> AppResult<VulnForm> {
    // Editing: the draft when the form failed, else the stored fields.
    let (id, input) = match draft {
        Some((Some(id), input)) if input.title.is_empty() => {
            match case.vulnerabilities.iter().find(|v| v.id.to_string() == id) {
                Some(v) => (Some(id), vuln_input_of(v)),
                None => (None, VulnerabilityInput::default()),
            }
        }
        Some((id, input)) => (id, input),
        None => (None, VulnerabilityInput::default()),
    };
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    Ok(VulnForm {
        action: match &id {
            Some(id) => format!("/cases/{}/vulnerabilities/{id}", case.number),
            None => format!("/cases/{}/vulnerabilities", case.number),
        },
        editing: id.is_some(),
        v3: CvssCalculator::new(lang, CvssFamily::V3, "cvss_v3", &s(&input.cvss_v3))?,
        v4: CvssCalculator::new(lang, CvssFamily::V4, "cvss_v4", &s(&input.cvss_v4))?,
        title: input.title,
        cve: s(&input.cve),
        cwe: s(&input.cwe),
        vendor_severity: s(&input.vendor_severity),
        publicly_disclosed: input.publicly_disclosed,
        exploited: input.exploited,
    })
}

/// Renders the case page for whoever asks: the working page for the PSIRT and the team, the
/// reporter's view for the reporter.
async fn case_page(
    state: &WebState,
    ctx: &Ctx,
    number: CaseNumber,
    drafts: Drafts,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let app::CaseView {
        case,
        access,
        messages,
        names,
        workspace,
    } = app::view(&state.app, &ctx.caller, number).await?;
    let lang = ctx.lang;
    let Some(ws) = workspace else {
        let mut page = ctx.page("case-title");
        page.title = format!("#{} {}", case.number, case.title);
        page.error = error;
        let tpl = ReporterCaseTemplate {
            page,
            number: case.number,
            title: case.title.clone(),
            state_label: state_label(lang, case.state),
            created_at: at(case.created_at),
            report: report_view(lang, &case, &HashMap::new()),
            conversation: message_views(lang, &messages, &names),
            can_reply: access.reply_as_reporter,
            draft: drafts.message,
        };
        return Ok(render(status, &tpl));
    };
    let paths = branch_paths(&ws.branches);
    let mut user_names: HashMap<UserId, String> = ws
        .internal_users
        .iter()
        .map(|u| (u.id, u.display_name.as_str().to_owned()))
        .collect();
    user_names.extend(names);
    let name_of = |id: Option<UserId>| {
        id.map(|i| user_names.get(&i).cloned().unwrap_or_else(|| i.to_string()))
            .unwrap_or_default()
    };
    let assignment = case.assignment.as_ref().map(|a| {
        let team = ws.assigned_team.clone().unwrap_or_default();
        (team, a.instructions.clone(), at(a.assigned_at))
    });
    let vulns = case
        .vulnerabilities
        .iter()
        .map(|v| VulnView {
            id: v.id.to_string(),
            title: v.title.clone(),
            cve: v.cve.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            cwe: cwe_text(v.cwe.as_ref()),
            cvss_v3: v
                .cvss_v3
                .as_ref()
                .map(|c| (c.as_str().to_owned(), format!("{:.1}", c.score()))),
            cvss_v4: v
                .cvss_v4
                .as_ref()
                .map(|c| (c.as_str().to_owned(), format!("{:.1}", c.score()))),
            severity: v.vendor_severity.clone().unwrap_or_default(),
            publicly_disclosed: v.exploitation.publicly_disclosed,
            exploited_since: v.exploitation.exploited_since.map(at).unwrap_or_default(),
            statuses: status_rows(&v.product_statuses, &paths),
            remediations: v
                .remediations
                .iter()
                .enumerate()
                .map(|(index, r)| RemediationView {
                    index,
                    category: r.category.as_str(),
                    details: r.details.clone(),
                    url: r.url.clone().unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    let now = state.app.now();
    let (notes, conversation): (Vec<CaseMessage>, Vec<CaseMessage>) = messages
        .into_iter()
        .partition(|m| m.visibility == Visibility::Internal);
    let advisory = ws.advisory.map(|(id, tracking)| (id.to_string(), tracking));
    let mut page = ctx.page("case-title");
    page.title = format!("#{} {}", case.number, case.title);
    page.error = error;
    let tpl = CaseTemplate {
        advisory,
        can_advise: ctx.caller.allows(keikai_domain::Action::EditAdvisory),
        number: case.number,
        h: head(state, lang, &case, ws.duplicate_of),
        report: report_view(lang, &case, &paths),
        can_triage: access.triage,
        can_work: access.work,
        next_states: case
            .state
            .next(case.report.kind)
            .iter()
            .map(|s| (s.as_str().to_owned(), state_label(lang, *s)))
            .collect(),
        vulns,
        form: if access.triage {
            Some(vuln_form(lang, &case, drafts.vulnerability.clone())?)
        } else {
            None
        },
        severities: severity_names(&state.app),
        choices: VulnChoices::new(&ws.branches, &paths),
        assignment,
        teams: team_options(&ws.teams),
        owner: name_of(case.owner),
        owners: user_options(&ws.internal_users),
        tasks: case
            .tasks
            .iter()
            .map(|t| TaskView {
                id: t.id.to_string(),
                title: t.title.clone(),
                owner: name_of(t.owner),
                due: t.due.map(|d| d.to_string()).unwrap_or_default(),
                done: t.done_at.is_some(),
            })
            .collect(),
        clocks: case
            .clocks(&state.app.config().severity_scale, now)
            .iter()
            .map(|c| clock_view(lang, c))
            .collect(),
        notes: message_views(lang, &notes, &user_names),
        conversation: message_views(lang, &conversation, &user_names),
        drafts,
        page,
    };
    Ok(render(status, &tpl))
}

// ---------------------------------------------------------------- history

struct HistoryRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "case_history.html")]
struct HistoryTemplate {
    page: Page,
    number: i64,
    title: String,
    rows: Vec<HistoryRow>,
}

fn pretty(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Null) => String::new(),
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| json.to_owned()),
        Err(_) => json.to_owned(),
    }
}

pub async fn history(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> AppResult<Response> {
    let app::History {
        case,
        entries,
        names,
    } = app::history(&state.app, &ctx.caller, ctx.id(&number)?).await?;
    let rows = entries
        .iter()
        .map(|e| HistoryRow {
            seq: e.seq,
            at: at(e.at),
            actor: e
                .actor
                .strip_prefix("user:")
                .and_then(|id| id.parse::<UserId>().ok())
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| e.actor.clone()),
            action: e.action.clone(),
            before: pretty(&e.before),
            after: pretty(&e.after),
        })
        .collect();
    let mut page = ctx.page("case-history-title");
    page.title = format!("#{} {}", case.number, page.title);
    Ok(render(
        StatusCode::OK,
        &HistoryTemplate {
            page,
            number: case.number,
            title: case.title,
            rows,
        },
    ))
}

// ---------------------------------------------------------------- attachments

/// A stored file, as a download that no browser will run: the type sniffed from the bytes,
/// never inline, sandboxed, not cached.
pub async fn attachment(
    State(state): State<WebState>,
    ctx: Ctx,
    Path((number, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let (number, id) = (ctx.id(&number)?, ctx.id(&id)?);
    let (meta, bytes) = app::attachment(&state.app, &ctx.caller, number, id).await?;
    Ok(attachment_response(&meta, bytes))
}

// ---------------------------------------------------------------- forms

/// One form's work: the command as the form gave it, then the use case that takes it. On
/// success the browser goes back to the case (at `anchor`); a mistake shows the page again
/// with the error and what was typed.
async fn act<C, T>(
    p: &Posted,
    number: CaseNumber,
    (anchor, drafts): (&str, Drafts),
    command: AppResult<C>,
    run: impl AsyncFnOnce(&App, &Caller, C) -> keikai_app::Result<T>,
) -> AppResult<Response> {
    submit(
        command,
        async |c| run(&p.state.app, &p.ctx.caller, c).await,
        |_| format!("/cases/{number}#{anchor}"),
        async |msg, status| case_page(&p.state, &p.ctx, number, drafts, Some(msg), status).await,
    )
    .await
}

/// Where a form's error shows, with nothing typed to keep.
fn at_section(anchor: &str) -> (&str, Drafts) {
    (anchor, Drafts::default())
}

pub async fn transition(p: Posted, UiForm(form): UiForm<TransitionInput>) -> AppResult<Response> {
    let n = p.id()?;
    let drafts = Drafts {
        reason: form.reason.clone(),
        ..Drafts::default()
    };
    act(&p, n, ("state", drafts), form.command(n), app::transition).await
}

#[derive(Deserialize)]
pub struct VulnerabilityForm {
    title: String,
    #[serde(default)]
    cve: String,
    #[serde(default)]
    cwe: String,
    #[serde(default)]
    cvss_v3: String,
    #[serde(default)]
    cvss_v4: String,
    #[serde(default)]
    vendor_severity: String,
    #[serde(default)]
    publicly_disclosed: Option<String>,
    #[serde(default)]
    exploited: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    revision: Option<i64>,
}

impl VulnerabilityForm {
    fn input(&self) -> VulnerabilityInput {
        let opt = |s: &str| Some(s.to_owned()).filter(|t| !t.trim().is_empty());
        VulnerabilityInput {
            title: self.title.clone(),
            cve: opt(&self.cve),
            cwe: opt(&self.cwe),
            cvss_v3: opt(&self.cvss_v3),
            cvss_v4: opt(&self.cvss_v4),
            vendor_severity: opt(&self.vendor_severity),
            publicly_disclosed: self.publicly_disclosed.is_some(),
            exploited: self.exploited.is_some(),
        }
    }
}

/// Adds a vulnerability (`id` none) or changes one.
async fn save_vulnerability(
    p: &Posted,
    id: Option<String>,
    form: &VulnerabilityForm,
) -> AppResult<Response> {
    let n = p.id()?;
    let input = form.input();
    let cmd = id
        .as_deref()
        .map(|i| p.ctx.id(i))
        .transpose()
        .map(|id| app::SaveVulnerability {
            case: n,
            id,
            input: input.clone(),
            revision: form.revision,
        });
    let drafts = Drafts {
        vulnerability: Some((id, input)),
        ..Drafts::default()
    };
    act(
        p,
        n,
        ("vulnerabilities", drafts),
        cmd,
        app::save_vulnerability,
    )
    .await
}

pub async fn add_vulnerability(
    p: Posted,
    UiForm(form): UiForm<VulnerabilityForm>,
) -> AppResult<Response> {
    save_vulnerability(&p, None, &form).await
}

pub async fn update_vulnerability(
    p: Posted,
    Path((_, id)): Path<(String, String)>,
    UiForm(form): UiForm<VulnerabilityForm>,
) -> AppResult<Response> {
    save_vulnerability(&p, Some(id), &form).await
}

#[derive(Deserialize)]
pub struct RevisionForm {
    #[serde(default, deserialize_with = "lenient_i64")]
    revision: Option<i64>,
}

pub async fn remove_vulnerability(
    p: Posted,
    Path((_, id)): Path<(String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let n = p.id()?;
    let section = at_section("vulnerabilities");
    act(&p, n, section, p.ctx.id(&id), async |a, who, v| {
        app::remove_vulnerability(a, who, n, v, form.revision).await
    })
    .await
}

pub async fn set_product_status(
    p: Posted,
    Path((_, id)): Path<(String, String)>,
    UiForm(form): UiForm<ProductStatusInput>,
) -> AppResult<Response> {
    let n = p.id()?;
    let cmd = p.ctx.id(&id).and_then(|v| form.command(n, v));
    let section = at_section("vulnerabilities");
    act(&p, n, section, cmd, app::set_product_status).await
}

pub async fn add_remediation(
    p: Posted,
    Path((_, id)): Path<(String, String)>,
    UiForm(form): UiForm<RemediationInput>,
) -> AppResult<Response> {
    let n = p.id()?;
    let cmd = p.ctx.id(&id).and_then(|v| form.command(n, v));
    act(
        &p,
        n,
        at_section("vulnerabilities"),
        cmd,
        app::add_remediation,
    )
    .await
}

pub async fn remove_remediation(
    p: Posted,
    Path((_, id, index)): Path<(String, String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let n = p.id()?;
    let target = p
        .ctx
        .id(&id)
        .and_then(|v| Ok((v, p.ctx.id::<usize>(&index)?)));
    let section = at_section("vulnerabilities");
    act(&p, n, section, target, async |a, who, (v, i)| {
        app::remove_remediation(a, who, n, v, i, form.revision).await
    })
    .await
}

pub async fn assign(p: Posted, UiForm(form): UiForm<AssignmentInput>) -> AppResult<Response> {
    let n = p.id()?;
    act(
        &p,
        n,
        at_section("assignment"),
        form.command(n),
        app::assign,
    )
    .await
}

pub async fn set_owner(p: Posted, UiForm(form): UiForm<OwnerInput>) -> AppResult<Response> {
    let n = p.id()?;
    act(
        &p,
        n,
        at_section("assignment"),
        form.owner(),
        async |a, who, o| app::set_owner(a, who, n, o, form.revision).await,
    )
    .await
}

pub async fn add_task(p: Posted, UiForm(form): UiForm<TaskInput>) -> AppResult<Response> {
    let n = p.id()?;
    act(&p, n, at_section("tasks"), form.command(n), app::add_task).await
}

#[derive(Deserialize)]
pub struct TaskDoneForm {
    /// `true` marks the task done, `false` opens it again.
    #[serde(default)]
    done: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    revision: Option<i64>,
}

pub async fn set_task_done(
    p: Posted,
    Path((_, id)): Path<(String, String)>,
    UiForm(form): UiForm<TaskDoneForm>,
) -> AppResult<Response> {
    let n = p.id()?;
    let done = form.done.as_deref() != Some("false");
    act(
        &p,
        n,
        at_section("tasks"),
        p.ctx.id(&id),
        async |a, who, task| app::set_task_done(a, who, n, task, done, form.revision).await,
    )
    .await
}

#[derive(Deserialize)]
pub struct EmergencyForm {
    #[serde(default)]
    reason: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    revision: Option<i64>,
}

pub async fn declare_emergency(
    p: Posted,
    UiForm(form): UiForm<EmergencyForm>,
) -> AppResult<Response> {
    let n = p.id()?;
    act(
        &p,
        n,
        at_section("emergency"),
        Ok(()),
        async |a, who, ()| app::declare_emergency(a, who, n, &form.reason, form.revision).await,
    )
    .await
}

pub async fn end_emergency(p: Posted, UiForm(form): UiForm<RevisionForm>) -> AppResult<Response> {
    let n = p.id()?;
    act(
        &p,
        n,
        at_section("emergency"),
        Ok(()),
        async |a, who, ()| app::end_emergency(a, who, n, form.revision).await,
    )
    .await
}

pub async fn mark_cra_sent(
    p: Posted,
    Path((_, report)): Path<(String, String)>,
    UiForm(form): UiForm<RevisionForm>,
) -> AppResult<Response> {
    let n = p.id()?;
    let report = cra_report(&p.ctx, &report);
    act(&p, n, at_section("clocks"), report, async |a, who, r| {
        app::mark_cra_sent(a, who, n, r, form.revision).await
    })
    .await
}

/// A note or message form: `body`, and files in `attachments` when sent as
/// `multipart/form-data` (a plain form body carries text only).
pub struct MessageForm {
    pub body: String,
    pub uploads: Vec<Upload>,
}

#[derive(Deserialize)]
struct TextOnly {
    #[serde(default)]
    body: String,
}

impl FromRequest<WebState> for MessageForm {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        if !has_content_type(&req, "multipart/form-data") {
            let UiForm(t) = UiForm::<TextOnly>::from_request(req, state).await?;
            return Ok(Self {
                body: t.body,
                uploads: Vec::new(),
            });
        }
        let bad = |e: axum::extract::multipart::MultipartError| {
            AppError::bad_request(format!("unreadable form: {}", e.body_text()))
        };
        let mut parts = Multipart::from_request(req, state)
            .await
            .map_err(|e| AppError::bad_request(e.body_text()))?;
        let limit = AttachmentPolicy::default().max_bytes;
        let mut body = String::new();
        let mut uploads = Vec::new();
        while let Some(mut field) = parts.next_field().await.map_err(bad)? {
            match field.name() {
                Some("body") => body = field.text().await.map_err(bad)?,
                Some("attachments") => {
                    let file_name = field.file_name().unwrap_or_default().to_owned();
                    let mut bytes = Vec::new();
                    while let Some(chunk) = field.chunk().await.map_err(bad)? {
                        bytes.extend_from_slice(&chunk);
                        if bytes.len() as u64 > limit {
                            return Err(AppError::invalid(
                                "attachments",
                                format!(
                                    "attachments: \"{}\" is larger than the limit of {} MiB",
                                    AttachmentName::sanitise(&file_name),
                                    limit >> 20
                                ),
                            ));
                        }
                    }
                    // A file input left empty still sends a part, without a name or bytes.
                    if !(file_name.is_empty() && bytes.is_empty()) {
                        uploads.push(Upload { file_name, bytes });
                    }
                }
                _ => {}
            }
        }
        Ok(Self { body, uploads })
    }
}

async fn post_message(
    p: &Posted,
    visibility: Visibility,
    form: MessageForm,
) -> AppResult<Response> {
    let n = p.id()?;
    let (anchor, drafts) = match visibility {
        Visibility::Internal => (
            "notes",
            Drafts {
                note: form.body.clone(),
                ..Drafts::default()
            },
        ),
        Visibility::Reporter => (
            "conversation",
            Drafts {
                message: form.body.clone(),
                ..Drafts::default()
            },
        ),
    };
    let cmd = app::AddMessage {
        case: n,
        visibility,
        body: form.body,
        uploads: form.uploads,
        too_large: Vec::new(),
    };
    act(p, n, (anchor, drafts), Ok(cmd), app::add_message).await
}

pub async fn add_note(p: Posted, form: MessageForm) -> AppResult<Response> {
    post_message(&p, Visibility::Internal, form).await
}

pub async fn add_message(p: Posted, form: MessageForm) -> AppResult<Response> {
    post_message(&p, Visibility::Reporter, form).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_filters() {
        let f = Filters {
            q: "認証 回避".into(),
            overdue: "true".into(),
            ..Filters::default()
        };
        let link = f.page_link(2);
        assert!(link.starts_with("/cases?overdue=true&q="), "{link}");
        assert!(link.ends_with("&page=2"), "{link}");
    }
}
