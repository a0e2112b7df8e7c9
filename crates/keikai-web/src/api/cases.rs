//! Cases through the REST API: the same use cases as the case pages
//! ([`keikai_app::cases`]), as JSON. Bad input answers 422 naming the field; a case the caller
//! may not see, 404; a change based on a stale revision, 409.
//!
//! The request bodies here are also what the case pages' forms post (the same field names),
//! so each body converts into its command in one place.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Date;
use keikai_app::cases::{
    self as app, AddRemediation, AddTask, Assign, CaseNumber, SaveVulnerability, SetProductStatus,
    Transition,
};
use keikai_app::{App, Caller};
use keikai_domain::audit::AuditEntry;
use keikai_domain::case::{
    Case, CaseClock, CaseKind, CaseMessage, CaseState, CraReport, Justification, ProductStatusKind,
    Report, Visibility, VulnerabilityInput,
};
use keikai_domain::{Action, BranchId, OrgId, UserId, VulnerabilityId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{ApiJson, blank_to_none, lenient_i64, opt_bool, opt_id, page_number};
use crate::http::state::WebState;

// ---------------------------------------------------------------- request bodies

/// The filters of the case list, as text from a query string; each bad value is named.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseListQuery {
    /// A case state (`new`, `triage`, …, `on_hold`).
    pub state: Option<String>,
    /// `true` (the default unless `state` is given): only cases not closed, rejected or
    /// marked duplicate.
    pub open: Option<String>,
    /// `report` or `question`.
    pub kind: Option<String>,
    /// A product version (catalogue branch id) the case concerns.
    pub product: Option<String>,
    /// A level of the severity scale.
    pub severity: Option<String>,
    /// The owner's user id.
    pub owner: Option<String>,
    /// The assigned team's organisation id.
    pub team: Option<String>,
    /// `true`: only cases with a deadline already passed.
    pub overdue: Option<String>,
    /// `true` or `false`: only emergencies, or none.
    pub emergency: Option<String>,
    /// Text to search for in titles, reports and vulnerabilities (any language).
    pub q: Option<String>,
    /// Page number, from 1.
    pub page: Option<String>,
}

impl CaseListQuery {
    /// The page asked for, from 1.
    pub fn page(&self) -> AppResult<u32> {
        page_number(self.page.as_deref())
    }

    pub fn query(&self) -> AppResult<app::CaseQuery> {
        let text = |s: &Option<String>| blank_to_none(s.as_deref()).map(str::to_owned);
        Ok(app::CaseQuery {
            state: blank_to_none(self.state.as_deref())
                .map(str::parse::<CaseState>)
                .transpose()?,
            open: opt_bool("open", self.open.as_deref())?,
            kind: blank_to_none(self.kind.as_deref())
                .map(str::parse::<CaseKind>)
                .transpose()?,
            product: opt_id::<BranchId>("product", "a product version", self.product.as_deref())?,
            severity: text(&self.severity),
            owner: opt_id::<UserId>("owner", "a user", self.owner.as_deref())?,
            team: opt_id::<OrgId>("team", "an organisation", self.team.as_deref())?,
            overdue: opt_bool("overdue", self.overdue.as_deref())? == Some(true),
            emergency: opt_bool("emergency", self.emergency.as_deref())?,
            text: text(&self.q),
            page: self.page()?,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TransitionInput {
    /// The state to move to.
    pub state: String,
    /// Why; required when leaving the main path or stepping back on it.
    #[serde(default)]
    pub reason: String,
    /// For `duplicate`: the number of the case this one duplicates.
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub duplicate_of: Option<i64>,
    /// The revision the change is based on; a case saved since then is refused (409).
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

impl TransitionInput {
    pub fn command(self, case: CaseNumber) -> AppResult<Transition> {
        Ok(Transition {
            case,
            to: self.state.trim().parse()?,
            reason: self.reason,
            duplicate_of: self.duplicate_of,
            revision: self.revision,
        })
    }
}

/// A vulnerability's fields, with the revision the change is based on.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VulnerabilityBody {
    #[serde(flatten)]
    pub vulnerability: VulnerabilityInput,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ProductStatusInput {
    /// A product version of the catalogue.
    pub branch_id: String,
    /// A CSAF product status (`known_affected`, `known_not_affected`, `fixed`, …).
    pub status: String,
    /// For `known_not_affected`: why (a CSAF flag label such as `component_not_present`).
    #[serde(default)]
    pub justification: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

impl ProductStatusInput {
    /// The product version, the status and the justification named (the case and the
    /// advisory editors post the same form).
    pub fn parts(&self) -> AppResult<(BranchId, ProductStatusKind, Option<Justification>)> {
        let branch = opt_id::<BranchId>("branch_id", "a product version", Some(&self.branch_id))?
            .ok_or_else(|| {
            AppError::invalid("branch_id", "branch_id: choose a product version")
        })?;
        Ok((
            branch,
            self.status.trim().parse()?,
            blank_to_none(self.justification.as_deref())
                .map(str::parse::<Justification>)
                .transpose()?,
        ))
    }

    pub fn command(
        self,
        case: CaseNumber,
        vulnerability: VulnerabilityId,
    ) -> AppResult<SetProductStatus> {
        let (branch, status, justification) = self.parts()?;
        Ok(SetProductStatus {
            case,
            vulnerability,
            branch,
            status,
            justification,
            revision: self.revision,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RemediationInput {
    /// `vendor_fix`, `workaround`, `mitigation`, `none_available` or `no_fix_planned`.
    pub category: String,
    pub details: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

impl RemediationInput {
    pub fn command(
        self,
        case: CaseNumber,
        vulnerability: VulnerabilityId,
    ) -> AppResult<AddRemediation> {
        Ok(AddRemediation {
            case,
            vulnerability,
            category: self.category.trim().parse()?,
            details: self.details,
            url: self.url,
            revision: self.revision,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AssignmentInput {
    /// The product team: an organisation of kind `own`.
    pub team: String,
    #[serde(default)]
    pub instructions: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

impl AssignmentInput {
    pub fn command(self, case: CaseNumber) -> AppResult<Assign> {
        let team = opt_id::<OrgId>("team", "an organisation", Some(&self.team))?
            .ok_or_else(|| AppError::invalid("team", "team: choose a product team"))?;
        Ok(Assign {
            case,
            team,
            instructions: self.instructions,
            revision: self.revision,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct OwnerInput {
    /// A user id; empty or absent for no owner.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

impl OwnerInput {
    pub fn owner(&self) -> AppResult<Option<UserId>> {
        opt_id("owner", "a user", self.owner.as_deref())
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TaskInput {
    pub title: String,
    /// A user id.
    #[serde(default)]
    pub owner: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default)]
    pub due: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

impl TaskInput {
    pub fn command(self, case: CaseNumber) -> AppResult<AddTask> {
        let due = blank_to_none(self.due.as_deref())
            .map(|d| {
                d.parse::<Date>().map_err(|_| {
                    AppError::invalid(
                        "due",
                        format!("due: \"{d}\" is not a date in the form YYYY-MM-DD"),
                    )
                })
            })
            .transpose()?;
        Ok(AddTask {
            case,
            owner: opt_id("owner", "a user", self.owner.as_deref())?,
            title: self.title,
            due,
            revision: self.revision,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MessageInput {
    /// `internal` (a note for the PSIRT and the team) or `reporter` (the conversation with
    /// the reporter).
    pub visibility: String,
    pub body: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmergencyInput {
    /// `true` declares an emergency (and notifies the PSIRT), `false` ends it.
    pub declared: bool,
    /// Why; required to declare.
    #[serde(default)]
    pub reason: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RevisionInput {
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

/// A CRA report named in a path; anything else names nothing.
pub fn cra_report(ctx: &Ctx, s: &str) -> AppResult<CraReport> {
    ctx.id(s)
}

// ---------------------------------------------------------------- responses

/// A row of the case list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseListItem {
    pub number: i64,
    pub title: String,
    pub kind: CaseKind,
    pub state: CaseState,
    pub severity: Option<String>,
    pub emergency: bool,
    pub owner: Option<UserId>,
    pub team: Option<OrgId>,
    /// The earliest deadline not yet met.
    #[schema(value_type = Option<String>)]
    pub next_deadline: Option<Timestamp>,
    /// Whether that deadline has passed.
    pub overdue: bool,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    /// How many cases match, on all pages.
    pub total: u64,
    pub page_size: u32,
    pub cases: Vec<CaseListItem>,
}

/// What the PSIRT and the assigned team see beyond the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseInternals {
    pub case: Case,
    /// SLA and CRA clocks now.
    pub clocks: Vec<CaseClock>,
    /// The states the case may move to from here.
    pub next_states: Vec<CaseState>,
}

/// One case. The reporter sees their report and where it stands; `internal` is there only
/// for the PSIRT and the team the case is assigned to.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    pub number: i64,
    pub title: String,
    pub state: CaseState,
    pub report: Report,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
    /// The revision to send back with a change (a change based on an older one is refused).
    pub revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal: Option<CaseInternals>,
}

impl CaseDetail {
    /// The case as `who` may see it.
    pub fn of(app: &App, who: &Caller, case: Case) -> Self {
        let internal = who
            .allows(app::internals_action(&case))
            .then(|| CaseInternals {
                clocks: case.clocks(&app.config().severity_scale, app.now()),
                next_states: case.state.next(case.report.kind).to_vec(),
                case: case.clone(),
            });
        Self {
            number: case.number,
            title: case.title,
            state: case.state,
            report: case.report,
            created_at: case.created_at,
            updated_at: case.updated_at,
            revision: case.revision,
            internal,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedVulnerability {
    pub id: VulnerabilityId,
    pub case: CaseDetail,
}

// ---------------------------------------------------------------- handlers

/// The case as the caller may see it, as the answer to a change.
fn detail(s: &WebState, ctx: &Ctx, case: Case) -> Json<CaseDetail> {
    Json(CaseDetail::of(&s.app, &ctx.caller, case))
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseListQuery),
    responses((status = 200, body = CaseList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<WebState>,
    ctx: Ctx,
    query: Result<Query<CaseListQuery>, QueryRejection>,
) -> AppResult<Json<CaseList>> {
    ctx.signed_in()?;
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let (rows, total) = app::list(&s.app, &ctx.caller, &q.query()?).await?;
    let now = s.app.now();
    // Who owns a case and which team works on it are internal matters.
    let internal = ctx.caller.allows(Action::ViewProducts);
    let cases = rows
        .into_iter()
        .map(|r| CaseListItem {
            overdue: app::is_overdue(&r, now),
            number: r.number,
            title: r.title,
            kind: r.kind,
            state: r.state,
            severity: r.severity,
            emergency: r.emergency,
            owner: r.owner.filter(|_| internal),
            team: r.team.filter(|_| internal),
            next_deadline: r.next_deadline,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect();
    Ok(Json(CaseList {
        total,
        page_size: app::PAGE_SIZE,
        cases,
    }))
}

#[utoipa::path(get, path = "/api/v1/cases/{number}", tag = "cases",
    params(("number" = i64, Path)),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody)))]
pub async fn get_case(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> AppResult<Json<CaseDetail>> {
    let case = app::load(&s.app, &ctx.caller, ctx.id(&number)?).await?;
    Ok(detail(&s, &ctx, case))
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/transitions", tag = "cases",
    params(("number" = i64, Path)), request_body = TransitionInput,
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, description = "bad input, or a move the workflow does not allow (the message names the allowed states)", body = ErrorBody)))]
pub async fn transition(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TransitionInput>,
) -> AppResult<Json<CaseDetail>> {
    let cmd = body.command(ctx.id(&number)?)?;
    let case = app::transition(&s.app, &ctx.caller, cmd).await?;
    Ok(detail(&s, &ctx, case))
}

async fn save_vulnerability(
    s: &WebState,
    ctx: &Ctx,
    number: &str,
    id: Option<&str>,
    body: VulnerabilityBody,
) -> AppResult<SavedVulnerability> {
    let cmd = SaveVulnerability {
        case: ctx.id(number)?,
        id: id.map(|i| ctx.id(i)).transpose()?,
        input: body.vulnerability,
        revision: body.revision,
    };
    let (case, id) = app::save_vulnerability(&s.app, &ctx.caller, cmd).await?;
    Ok(SavedVulnerability {
        id,
        case: detail(s, ctx, case).0,
    })
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/vulnerabilities", tag = "cases",
    params(("number" = i64, Path)), request_body = VulnerabilityBody,
    responses((status = 201, body = SavedVulnerability), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_vulnerability(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<VulnerabilityBody>,
) -> AppResult<(StatusCode, Json<SavedVulnerability>)> {
    let saved = save_vulnerability(&s, &ctx, &number, None, body).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[utoipa::path(put, path = "/api/v1/cases/{number}/vulnerabilities/{id}", tag = "cases",
    params(("number" = i64, Path), ("id" = VulnerabilityId, Path)), request_body = VulnerabilityBody,
    responses((status = 200, body = SavedVulnerability), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_vulnerability(
    State(s): State<WebState>,
    ctx: Ctx,
    Path((number, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<VulnerabilityBody>,
) -> AppResult<Json<SavedVulnerability>> {
    Ok(Json(
        save_vulnerability(&s, &ctx, &number, Some(&id), body).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/cases/{number}/vulnerabilities/{id}/product-statuses", tag = "cases",
    params(("number" = i64, Path), ("id" = VulnerabilityId, Path)), request_body = ProductStatusInput,
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_product_status(
    State(s): State<WebState>,
    ctx: Ctx,
    Path((number, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ProductStatusInput>,
) -> AppResult<Json<CaseDetail>> {
    let cmd = body.command(ctx.id(&number)?, ctx.id(&id)?)?;
    let case = app::set_product_status(&s.app, &ctx.caller, cmd).await?;
    Ok(detail(&s, &ctx, case))
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/messages", tag = "cases",
    params(("number" = i64, Path)), request_body = MessageInput,
    responses((status = 201, body = CaseMessage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_message(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<MessageInput>,
) -> AppResult<(StatusCode, Json<CaseMessage>)> {
    let case: CaseNumber = ctx.id(&number)?;
    // Signed in and able to see the case before the input is judged.
    app::load(&s.app, &ctx.caller, case).await?;
    let visibility: Visibility = body.visibility.trim().parse()?;
    let cmd = app::AddMessage {
        case,
        visibility,
        body: body.body,
        uploads: Vec::new(),
        too_large: Vec::new(),
    };
    let message = app::add_message(&s.app, &ctx.caller, cmd).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

#[utoipa::path(get, path = "/api/v1/cases/{number}/messages", tag = "cases",
    params(("number" = i64, Path)),
    responses((status = 200, description = "oldest first; the reporter gets their conversation only", body = Vec<CaseMessage>), (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> AppResult<Json<Vec<CaseMessage>>> {
    let case = app::load(&s.app, &ctx.caller, ctx.id(&number)?).await?;
    Ok(Json(app::messages(&s.app, &ctx.caller, &case).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{number}/history", tag = "cases",
    params(("number" = i64, Path)),
    responses((status = 200, description = "the case's audit entries, oldest first", body = Vec<AuditEntry>), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> AppResult<Json<Vec<AuditEntry>>> {
    let history = app::history(&s.app, &ctx.caller, ctx.id(&number)?).await?;
    Ok(Json(history.entries))
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/assignment", tag = "cases",
    params(("number" = i64, Path)), request_body = AssignmentInput,
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<AssignmentInput>,
) -> AppResult<Json<CaseDetail>> {
    let cmd = body.command(ctx.id(&number)?)?;
    let case = app::assign(&s.app, &ctx.caller, cmd).await?;
    Ok(detail(&s, &ctx, case))
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/emergency", tag = "cases",
    params(("number" = i64, Path)), request_body = EmergencyInput,
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn emergency(
    State(s): State<WebState>,
    ctx: Ctx,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<EmergencyInput>,
) -> AppResult<Json<CaseDetail>> {
    let case = ctx.id(&number)?;
    let (app, who) = (&s.app, &ctx.caller);
    let case = if body.declared {
        app::declare_emergency(app, who, case, &body.reason, body.revision).await?
    } else {
        app::end_emergency(app, who, case, body.revision).await?
    };
    Ok(detail(&s, &ctx, case))
}

#[utoipa::path(post, path = "/api/v1/cases/{number}/cra/{report}", tag = "cases",
    params(("number" = i64, Path), ("report" = String, Path, description = "early_warning, notification or final_report")),
    request_body(content = RevisionInput, description = "send {} or the revision"),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mark_cra_sent(
    State(s): State<WebState>,
    ctx: Ctx,
    Path((number, report)): Path<(String, String)>,
    ApiJson(body): ApiJson<RevisionInput>,
) -> AppResult<Json<CaseDetail>> {
    let (case, report) = (ctx.id(&number)?, cra_report(&ctx, &report)?);
    let case = app::mark_cra_sent(&s.app, &ctx.caller, case, report, body.revision).await?;
    Ok(detail(&s, &ctx, case))
}
