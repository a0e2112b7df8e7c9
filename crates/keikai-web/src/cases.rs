//! The application service for case work. The HTML interface ([`crate::ui::cases`]) and the
//! REST API ([`crate::api::cases`]) are two doors onto these functions.
//!
//! Each operation loads the case, asks the policy with an action built from the loaded case
//! (a case the caller may not see, or may not act on, answers "not found", so that nothing is
//! revealed), applies the domain operation, and saves the case together with the audit
//! entries the operation returned, in one transaction. Saves are optimistic: a case saved by
//! someone else since it was loaded (or since the revision a form carries) is refused with a
//! 409 that asks to reload.
//!
//! The on-call role an emergency notifies is the PSIRT: every internal user who is an
//! administrator or a PSIRT analyst.

use std::collections::HashMap;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use keikai_domain::attachment::{self, AttachmentName, AttachmentPolicy, served_as, sniff};
use keikai_domain::audit::{AuditActor, AuditEntry, Change};
use keikai_domain::case::{
    AttachmentMeta, Case, CaseIndex, CaseKind, CaseMessage, CaseState, CraReport, Justification,
    ProductStatus, ProductStatusKind, RemediationCategory, RemediationDraft, Visibility,
    VulnerabilityInput, message_body,
};
use keikai_domain::{
    Action, BranchId, Decision, DomainError, OrgId, Principal, Role, TaskId, User, UserId,
    VulnerabilityId, authorize,
};
use keikai_store::{
    CaseFilter, CaseSummary, Effects, NewAttachment, NewMessage, NewNotification, StoreError,
};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::state::AppState;

/// What a save refused for a stale revision answers.
pub const CONFLICT_MESSAGE: &str =
    "the case changed since you loaded it; reload it and make your change again";

/// How many cases a list page shows.
pub const PAGE_SIZE: u32 = 50;

/// The roles an emergency notifies: the PSIRT is the on-call role.
pub const ON_CALL_ROLES: &[Role] = &[Role::Admin, Role::PsirtAnalyst];

/// The roles that count as internal users (owners of cases and tasks).
const INTERNAL_ROLES: &[Role] = &[Role::Admin, Role::PsirtAnalyst, Role::ProductEngineer];

// ---------------------------------------------------------------- actions on a loaded case

fn team_of(case: &Case) -> Option<OrgId> {
    case.assignment.as_ref().map(|a| a.team)
}

pub fn view_action(case: &Case) -> Action {
    Action::ViewCase {
        team: team_of(case),
        reporter: case.report.reporter_user,
    }
}

pub fn internals_action(case: &Case) -> Action {
    Action::ViewCaseInternals {
        team: team_of(case),
    }
}

pub fn work_action(case: &Case) -> Action {
    Action::WorkCase {
        team: team_of(case),
    }
}

fn triage_action(_: &Case) -> Action {
    Action::TriageCase
}

/// A case number from a path: anything that is not one names no case.
pub fn parse_number(s: &str) -> AppResult<i64> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(AppError::not_found)
}

fn parse_path_id<T: std::str::FromStr>(s: &str) -> AppResult<T> {
    s.parse().map_err(|_| AppError::not_found())
}

/// Loads a case the caller may see. Anonymous callers are asked to sign in before anything
/// is looked up, so that they cannot probe which numbers exist.
pub async fn load(state: &AppState, ctx: &Ctx, number: &str) -> AppResult<Case> {
    ctx.require(Action::ListCases)?;
    let number = parse_number(number)?;
    let case = state.store.case_by_number(number).await?;
    ctx.require(view_action(&case))?;
    Ok(case)
}

/// Loads a case and checks the action the operation needs; returns who acts.
async fn load_for(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    action: fn(&Case) -> Action,
) -> AppResult<(Case, UserId)> {
    let case = load(state, ctx, number).await?;
    let user = ctx.require(action(&case))?.user_id;
    Ok((case, user))
}

/// What the caller may do with a case they can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Notes, tasks, history, internal attachments.
    pub internals: bool,
    /// Notes, tasks, product statuses, remediation drafts.
    pub work: bool,
    /// State, vulnerabilities, assignment, owner, emergency, CRA, messages to the reporter.
    pub triage: bool,
    /// The caller reported the case and may answer in its conversation.
    pub reply_as_reporter: bool,
}

impl Access {
    pub fn of(ctx: &Ctx, case: &Case) -> Self {
        Self {
            internals: ctx.allows(internals_action(case)),
            work: ctx.allows(work_action(case)),
            triage: ctx.allows(Action::TriageCase),
            reply_as_reporter: ctx.allows(Action::ReplyAsReporter {
                reporter: case.report.reporter_user,
            }),
        }
    }
}

fn check_revision(case: &Case, expected: Option<i64>) -> AppResult<()> {
    match expected {
        Some(r) if r != case.revision => Err(AppError::conflict(CONFLICT_MESSAGE)),
        _ => Ok(()),
    }
}

fn save_error(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => AppError::conflict(CONFLICT_MESSAGE),
        other => other.into(),
    }
}

async fn save(
    state: &AppState,
    case: &Case,
    user: UserId,
    changes: &[Change],
    notify: &[NewNotification],
) -> AppResult<Case> {
    let index = CaseIndex::of(case, &state.config.severity_scale);
    let fx = Effects::new(AuditActor::User(user), case.updated_at)
        .with_changes(changes.iter().cloned())
        .with_notices(notify.iter().cloned());
    state
        .store
        .save_case(case, &index, &fx)
        .await
        .map_err(save_error)
}

/// An input error under another field name than the domain gave it.
fn renamed(field: &'static str, e: &DomainError) -> AppError {
    let DomainError::Invalid { message, .. } = e;
    AppError::invalid(field, format!("{field}: {message}"))
}

fn blank_to_none(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|t| !t.is_empty())
}

// ---------------------------------------------------------------- lenient number fields

/// Accepts a number, a numeric string (forms send text) or nothing (`null`, `""`).
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Int(n)) => Ok(Some(n)),
        Some(Raw::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Raw::Text(t)) => t
            .trim()
            .trim_start_matches('#')
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("\"{t}\" is not a number"))),
    }
}

// ---------------------------------------------------------------- lists

/// The filters of the case list, as text from a query string; each bad value is named.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
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

fn parse_bool(field: &'static str, s: Option<&str>) -> AppResult<Option<bool>> {
    match blank_to_none(s) {
        None => Ok(None),
        Some("true" | "1" | "on" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "off" | "no") => Ok(Some(false)),
        Some(other) => Err(AppError::invalid(
            field,
            format!("{field}: \"{other}\" is not true or false"),
        )),
    }
}

fn parse_opt_id<T: std::str::FromStr>(
    field: &'static str,
    what: &str,
    s: Option<&str>,
) -> AppResult<Option<T>> {
    blank_to_none(s)
        .map(|t| {
            t.parse()
                .map_err(|_| AppError::invalid(field, format!("{field}: \"{t}\" is not {what} id")))
        })
        .transpose()
}

impl CaseQuery {
    /// The store filter for a caller; `now` decides what is overdue.
    pub fn filter(&self, state: &AppState, p: &Principal, now: Timestamp) -> AppResult<CaseFilter> {
        let mut f = CaseFilter::new(p.case_scope());
        f.state = blank_to_none(self.state.as_deref())
            .map(str::parse::<CaseState>)
            .transpose()?;
        f.open_only = parse_bool("open", self.open.as_deref())?.unwrap_or(f.state.is_none());
        f.kind = blank_to_none(self.kind.as_deref())
            .map(str::parse::<CaseKind>)
            .transpose()?;
        f.branch =
            parse_opt_id::<BranchId>("product", "a product version", self.product.as_deref())?;
        f.severity = blank_to_none(self.severity.as_deref())
            .map(|s| {
                state
                    .config
                    .severity_scale
                    .parse(s)
                    .map_err(|e| renamed("severity", &e))
            })
            .transpose()?;
        f.owner = parse_opt_id::<UserId>("owner", "a user", self.owner.as_deref())?;
        f.team = parse_opt_id::<OrgId>("team", "an organisation", self.team.as_deref())?;
        if parse_bool("overdue", self.overdue.as_deref())? == Some(true) {
            f.deadline_before = Some(now);
        }
        f.emergency = parse_bool("emergency", self.emergency.as_deref())?;
        f.text = match blank_to_none(self.q.as_deref()) {
            Some(q) if q.chars().count() > 200 => {
                return Err(AppError::invalid("q", "q: at most 200 characters"));
            }
            q => q.map(str::to_owned),
        };
        let page = match blank_to_none(self.page.as_deref()) {
            None => 1,
            Some(t) => t
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=100_000).contains(p))
                .ok_or_else(|| {
                    AppError::invalid("page", format!("page: \"{t}\" is not a page number"))
                })?,
        };
        f.limit = PAGE_SIZE;
        f.offset = (page - 1) * PAGE_SIZE;
        Ok(f)
    }
}

/// One page of the cases the caller may see, with the number of all that match.
pub async fn list(
    state: &AppState,
    ctx: &Ctx,
    query: &CaseQuery,
) -> AppResult<(Vec<CaseSummary>, u64)> {
    let p = ctx.require(Action::ListCases)?;
    let now = state.clock.now();
    let filter = query.filter(state, p, now)?;
    let rows = state.store.list_cases(&filter).await?;
    let total = state.store.count_cases(&filter).await?;
    Ok((rows, total))
}

/// Whether a listed case has a deadline that has passed.
pub fn is_overdue(row: &CaseSummary, now: Timestamp) -> bool {
    !row.state.is_terminal() && row.next_deadline.is_some_and(|d| d < now)
}

/// The dashboard's counts: open cases, overdue cases and emergencies the caller may see.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub open: u64,
    pub overdue: u64,
    pub emergencies: u64,
}

pub async fn counts(state: &AppState, p: &Principal) -> AppResult<Counts> {
    let now = state.clock.now();
    let open = {
        let mut f = CaseFilter::new(p.case_scope());
        f.open_only = true;
        f
    };
    let overdue = CaseFilter {
        deadline_before: Some(now),
        ..open.clone()
    };
    let emergencies = CaseFilter {
        emergency: Some(true),
        ..open.clone()
    };
    Ok(Counts {
        open: state.store.count_cases(&open).await?,
        overdue: state.store.count_cases(&overdue).await?,
        emergencies: state.store.count_cases(&emergencies).await?,
    })
}

// ---------------------------------------------------------------- workflow

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
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

pub async fn transition(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    input: &TransitionInput,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, triage_action).await?;
    check_revision(&case, input.revision)?;
    let to: CaseState = input.state.trim().parse()?;
    let duplicate_of = match (to, input.duplicate_of) {
        (CaseState::Duplicate, Some(n)) => {
            let missing = || {
                AppError::invalid(
                    "duplicate_of",
                    format!("duplicate_of: there is no case {n}"),
                )
            };
            match state.store.case_by_number(n).await {
                Ok(target) if ctx.allows(view_action(&target)) => Some(target.id),
                Ok(_) | Err(StoreError::NotFound) => return Err(missing()),
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    let change = case.transition(to, &input.reason, duplicate_of, state.clock.now())?;
    save(state, &case, user, &[change], &[]).await
}

// ---------------------------------------------------------------- vulnerabilities

fn find_vulnerability(case: &Case, id: &str) -> AppResult<VulnerabilityId> {
    let id: VulnerabilityId = parse_path_id(id)?;
    if case.vulnerabilities.iter().any(|v| v.id == id) {
        Ok(id)
    } else {
        Err(AppError::not_found())
    }
}

/// Adds a vulnerability (`id` `None`) or changes one; returns the case and the
/// vulnerability's id.
pub async fn save_vulnerability(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    id: Option<&str>,
    input: &VulnerabilityInput,
    revision: Option<i64>,
) -> AppResult<(Case, VulnerabilityId)> {
    let (mut case, user) = load_for(state, ctx, number, triage_action).await?;
    let id = id.map(|i| find_vulnerability(&case, i)).transpose()?;
    check_revision(&case, revision)?;
    let (vid, change) =
        case.save_vulnerability(id, input, &state.config.severity_scale, state.clock.now())?;
    Ok((save(state, &case, user, &[change], &[]).await?, vid))
}

pub async fn remove_vulnerability(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    id: &str,
    revision: Option<i64>,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, triage_action).await?;
    let id = find_vulnerability(&case, id)?;
    check_revision(&case, revision)?;
    let change = case.remove_vulnerability(id, state.clock.now())?;
    save(state, &case, user, &[change], &[]).await
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
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

pub async fn set_product_status(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    vulnerability: &str,
    input: &ProductStatusInput,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, work_action).await?;
    let vid = find_vulnerability(&case, vulnerability)?;
    check_revision(&case, input.revision)?;
    let branch_id =
        parse_opt_id::<BranchId>("branch_id", "a product version", Some(&input.branch_id))?
            .ok_or_else(|| AppError::invalid("branch_id", "branch_id: choose a product version"))?;
    match state.store.get_branch(branch_id).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Err(AppError::invalid(
                "branch_id",
                format!("branch_id: there is no product version {branch_id} in the catalogue"),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let status: ProductStatusKind = input.status.trim().parse()?;
    let justification = blank_to_none(input.justification.as_deref())
        .map(str::parse::<Justification>)
        .transpose()?;
    let status = ProductStatus::new(branch_id, status, justification)?;
    let change = case.set_product_status(vid, status, state.clock.now())?;
    save(state, &case, user, &[change], &[]).await
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
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

pub async fn add_remediation(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    vulnerability: &str,
    input: &RemediationInput,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, work_action).await?;
    let vid = find_vulnerability(&case, vulnerability)?;
    check_revision(&case, input.revision)?;
    let category: RemediationCategory = input.category.trim().parse()?;
    let draft = RemediationDraft::new(category, &input.details, input.url.as_deref(), Vec::new())?;
    let change = case.add_remediation(vid, draft, state.clock.now())?;
    save(state, &case, user, &[change], &[]).await
}

pub async fn remove_remediation(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    vulnerability: &str,
    index: &str,
    revision: Option<i64>,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, work_action).await?;
    let vid = find_vulnerability(&case, vulnerability)?;
    let index: usize = parse_path_id(index)?;
    check_revision(&case, revision)?;
    let change = case.remove_remediation(vid, index, state.clock.now())?;
    save(state, &case, user, &[change], &[]).await
}

// ---------------------------------------------------------------- assignment, owner, tasks

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AssignmentInput {
    /// The product team: an organisation of kind `own`.
    pub team: String,
    #[serde(default)]
    pub instructions: String,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

pub async fn assign(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    input: &AssignmentInput,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, triage_action).await?;
    check_revision(&case, input.revision)?;
    let team = parse_opt_id::<OrgId>("team", "an organisation", Some(&input.team))?
        .ok_or_else(|| AppError::invalid("team", "team: choose a product team"))?;
    let team = match state.store.get_org(team).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            return Err(AppError::invalid(
                "team",
                format!("team: there is no organisation {team}"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let change = case.assign(&team, &input.instructions, state.clock.now())?;
    save(state, &case, user, &[change], &[]).await
}

/// The people who may own cases and tasks: internal users, by display name.
pub async fn internal_users(state: &AppState) -> AppResult<Vec<User>> {
    let mut users = state
        .store
        .internal_users_with_roles(INTERNAL_ROLES)
        .await?;
    users.sort_by(|a, b| a.display_name.as_str().cmp(b.display_name.as_str()));
    Ok(users)
}

async fn internal_user(
    state: &AppState,
    field: &'static str,
    s: Option<&str>,
) -> AppResult<Option<UserId>> {
    let Some(id) = parse_opt_id::<UserId>(field, "a user", s)? else {
        return Ok(None);
    };
    if internal_users(state).await?.iter().any(|u| u.id == id) {
        Ok(Some(id))
    } else {
        Err(AppError::invalid(
            field,
            format!("{field}: {id} is not an active internal user"),
        ))
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OwnerInput {
    /// A user id; empty or absent for no owner.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    #[schema(value_type = Option<i64>)]
    pub revision: Option<i64>,
}

pub async fn set_owner(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    input: &OwnerInput,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, triage_action).await?;
    check_revision(&case, input.revision)?;
    let owner = internal_user(state, "owner", input.owner.as_deref()).await?;
    let change = case.set_owner(owner, state.clock.now());
    save(state, &case, user, &[change], &[]).await
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
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

pub async fn add_task(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    input: &TaskInput,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, work_action).await?;
    check_revision(&case, input.revision)?;
    let owner = internal_user(state, "owner", input.owner.as_deref()).await?;
    let due = blank_to_none(input.due.as_deref())
        .map(|d| {
            d.parse::<Date>().map_err(|_| {
                AppError::invalid(
                    "due",
                    format!("due: \"{d}\" is not a date in the form YYYY-MM-DD"),
                )
            })
        })
        .transpose()?;
    let (_, change) = case.add_task(&input.title, owner, due, state.clock.now())?;
    save(state, &case, user, &[change], &[]).await
}

pub async fn set_task_done(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    task: &str,
    done: bool,
    revision: Option<i64>,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, work_action).await?;
    let task: TaskId = parse_path_id(task)?;
    if !case.tasks.iter().any(|t| t.id == task) {
        return Err(AppError::not_found());
    }
    check_revision(&case, revision)?;
    let change = case.set_task_done(task, done, state.clock.now())?;
    save(state, &case, user, &[change], &[]).await
}

// ---------------------------------------------------------------- emergency and CRA

/// Declares an emergency and, in the same save, notifies the on-call role (the PSIRT).
pub async fn declare_emergency(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    reason: &str,
    revision: Option<i64>,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, triage_action).await?;
    check_revision(&case, revision)?;
    let change = case.declare_emergency(reason, state.clock.now())?;
    let text = format!(
        "Case {}: emergency declared ({}): {}",
        case.number,
        case.emergency.as_ref().map_or("", |e| e.reason.as_str()),
        case.title
    );
    let notify = on_call_notices(state, &case, text).await?;
    save(state, &case, user, &[change], &notify).await
}

/// One notice of kind "emergency" for each member of the on-call role.
pub async fn on_call_notices(
    state: &AppState,
    case: &Case,
    text: String,
) -> AppResult<Vec<NewNotification>> {
    Ok(state
        .store
        .internal_users_with_roles(ON_CALL_ROLES)
        .await?
        .into_iter()
        .map(|u| NewNotification {
            user_id: u.id,
            case_id: Some(case.id),
            kind: "emergency".to_owned(),
            text: text.clone(),
        })
        .collect())
}

pub async fn end_emergency(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    revision: Option<i64>,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, triage_action).await?;
    check_revision(&case, revision)?;
    let change = case.end_emergency(state.clock.now())?;
    save(state, &case, user, &[change], &[]).await
}

pub async fn mark_cra_sent(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    report: &str,
    revision: Option<i64>,
) -> AppResult<Case> {
    let (mut case, user) = load_for(state, ctx, number, triage_action).await?;
    let report: CraReport = report.parse().map_err(|_| AppError::not_found())?;
    check_revision(&case, revision)?;
    let change = case.mark_cra_sent(report, state.clock.now())?;
    save(state, &case, user, &[change], &[]).await
}

// ---------------------------------------------------------------- messages and attachments

/// A file as uploaded, before it is checked.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Adds an internal note (`Visibility::Internal`) or a message in the conversation with the
/// reporter. The PSIRT writes to the reporter; the reporter (signed in) answers on their own
/// case. The first message to the reporter acknowledges the case.
pub async fn add_message(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    visibility: Visibility,
    body: &str,
    uploads: Vec<Upload>,
) -> AppResult<CaseMessage> {
    let case = load(state, ctx, number).await?;
    let (user, from_reporter) = match visibility {
        Visibility::Internal => (ctx.require(work_action(&case))?.user_id, false),
        Visibility::Reporter => {
            // The PSIRT answers as the PSIRT (a read-only token is told so); anyone else may
            // only answer as the reporter of their own case.
            let psirt = authorize(&ctx.identity.actor, Action::TriageCase);
            if matches!(psirt, Decision::Allow | Decision::Forbidden) {
                (ctx.require(Action::TriageCase)?.user_id, false)
            } else {
                let reply = Action::ReplyAsReporter {
                    reporter: case.report.reporter_user,
                };
                (ctx.require(reply)?.user_id, true)
            }
        }
    };
    let body = message_body(body)?;
    let policy = AttachmentPolicy::default();
    let mut attachments = Vec::with_capacity(uploads.len());
    for (i, up) in uploads.into_iter().enumerate() {
        policy
            .check_count(i)
            .map_err(|e| AppError::invalid("attachments", e.to_string()))?;
        let checked = attachment::check(&policy, &up.file_name, &up.bytes)
            .map_err(|e| AppError::invalid("attachments", e.to_string()))?;
        attachments.push(NewAttachment {
            file_name: checked.name.to_string(),
            content_type: checked.serve.content_type.to_owned(),
            bytes: up.bytes,
        });
    }
    let now = state.clock.now();
    let action = match visibility {
        Visibility::Internal => "case.note_added",
        Visibility::Reporter => "case.message_added",
    };
    let change = Change::new(
        action,
        case.subject(),
        serde_json::Value::Null,
        json!({
            "visibility": visibility,
            "from_reporter": from_reporter,
            "body": body,
            "attachments": attachments.iter().map(|a| &a.file_name).collect::<Vec<_>>(),
        }),
    );
    let message = NewMessage {
        case_id: case.id,
        visibility,
        author: Some(user),
        from_reporter,
        body,
        attachments,
    };
    // The first answer to the reporter meets the acknowledge clock in the same transaction.
    // A concurrent save of the case refuses both (the message is not stored): reload the
    // case and try again.
    let acknowledges = visibility == Visibility::Reporter && !from_reporter;
    let mut case = case;
    for _ in 0..3 {
        let ack = if acknowledges {
            case.acknowledge(now)
        } else {
            None
        };
        let index = CaseIndex::of(&case, &state.config.severity_scale);
        let with_case = ack.is_some().then_some((&case, &index));
        let fx = Effects::new(AuditActor::User(user), now)
            .with_audit(change.clone())
            .with_changes(ack);
        match state.store.add_message(&message, with_case, &fx).await {
            Err(StoreError::Conflict(_)) => case = state.store.get_case(case.id).await?,
            other => return Ok(other?),
        }
    }
    Err(AppError::conflict(CONFLICT_MESSAGE))
}

/// The messages a caller may read: both sides for those who see the internals, the
/// conversation only for the reporter.
pub async fn messages(state: &AppState, ctx: &Ctx, case: &Case) -> AppResult<Vec<CaseMessage>> {
    let side = if ctx.allows(internals_action(case)) {
        None
    } else {
        Some(Visibility::Reporter)
    };
    let mut list = state.store.list_messages(case.id, side).await?;
    // The store selects by visibility; this keeps the promise even if it did not. The
    // reporter hears from "the PSIRT", not from named staff.
    if side.is_some() {
        list.retain(|m| m.visibility == Visibility::Reporter);
        for m in &mut list {
            if !m.from_reporter {
                m.author = None;
            }
        }
    }
    Ok(list)
}

/// A stored file of a case, if the caller may see the side of the case it belongs to.
pub async fn attachment(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    id: &str,
) -> AppResult<(AttachmentMeta, Vec<u8>)> {
    let case = load(state, ctx, number).await?;
    let id = parse_path_id(id)?;
    let (meta, bytes) = state.store.get_attachment(id).await?;
    if meta.case_id != case.id {
        return Err(AppError::not_found());
    }
    if meta.visibility == Visibility::Internal {
        ctx.require(internals_action(&case))?;
    }
    Ok((meta, bytes))
}

/// The case's audit entries, oldest first.
pub async fn history(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
) -> AppResult<(Case, Vec<AuditEntry>)> {
    let (case, _) = load_for(state, ctx, number, internals_action).await?;
    let entries = state.store.audit_for(&case.subject()).await?;
    Ok((case, entries))
}

/// Display names of the users an audit log or a message list names, for showing them.
pub async fn user_names(state: &AppState, ids: Vec<UserId>) -> AppResult<HashMap<UserId, String>> {
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        match state.store.get_user(id).await {
            Ok(u) => {
                out.insert(id, u.display_name.as_str().to_owned());
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// The type is sniffed again from the bytes (never taken from the client or the database),
/// and the file is always a download, sandboxed and not cached.
pub fn attachment_response(meta: &AttachmentMeta, bytes: Vec<u8>) -> Response {
    let serve = served_as(&sniff(&bytes));
    let name = AttachmentName::sanitise(&meta.file_name);
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(serve.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&name.content_disposition(false)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct N {
        #[serde(default, deserialize_with = "lenient_i64")]
        n: Option<i64>,
    }

    fn n(json: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<N>(json)
            .map(|v| v.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_come_as_numbers_or_text() {
        assert_eq!(n(r#"{"n": 7}"#), Ok(Some(7)));
        assert_eq!(n(r#"{"n": "7"}"#), Ok(Some(7)));
        assert_eq!(n(r##"{"n": "#7"}"##), Ok(Some(7)));
        assert_eq!(n(r#"{"n": ""}"#), Ok(None));
        assert_eq!(n(r#"{"n": null}"#), Ok(None));
        assert_eq!(n("{}"), Ok(None));
        assert!(n(r#"{"n": "seven"}"#).is_err());
    }

    #[test]
    fn case_numbers_are_positive_integers() {
        assert_eq!(parse_number("12").ok(), Some(12));
        for bad in ["0", "-1", "x", "", "1.5", "{number}"] {
            assert_eq!(
                parse_number(bad).map_err(|e| e.status.as_u16()),
                Err(404),
                "{bad}"
            );
        }
    }

    #[test]
    fn booleans_in_queries() {
        assert_eq!(parse_bool("open", Some("on")).ok(), Some(Some(true)));
        assert_eq!(parse_bool("open", Some("")).ok(), Some(None));
        assert_eq!(parse_bool("open", Some("0")).ok(), Some(Some(false)));
        let e = parse_bool("overdue", Some("maybe")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("overdue"));
    }
}
