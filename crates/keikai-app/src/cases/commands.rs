//! The commands of case work: the workflow, vulnerabilities and their product statuses,
//! assignment, tasks, emergencies and the CRA clocks.

use jiff::civil::Date;
use keikai_domain::case::{
    Case, CaseState, CraReport, Justification, ProductStatus, ProductStatusKind,
    RemediationCategory, RemediationDraft, VulnerabilityInput,
};
use keikai_domain::{BranchId, OrgId, TaskId, UserId, VulnerabilityId};
use keikai_store::StoreError;

use super::{
    CaseNumber, Loaded, internal_user, on_call_notices, triage_action, view_action, work_action,
};
use crate::{App, Caller, Error, Result};

/// Moves a case to another state of the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub case: CaseNumber,
    pub to: CaseState,
    /// Why; required when leaving the main path or stepping back on it.
    pub reason: String,
    /// For `duplicate`: the case this one duplicates.
    pub duplicate_of: Option<i64>,
    /// The revision the change is based on.
    pub revision: Option<i64>,
}

pub async fn transition(app: &App, who: &Caller, cmd: Transition) -> Result<Case> {
    let mut c = Loaded::load(app, who, cmd.case, triage_action).await?;
    c.expect(cmd.revision)?;
    let duplicate_of = match (cmd.to, cmd.duplicate_of) {
        (CaseState::Duplicate, Some(n)) => {
            let missing = || {
                Error::invalid(
                    "duplicate_of",
                    format!("duplicate_of: there is no case {n}"),
                )
            };
            match app.store().case_by_number(n).await {
                Ok(target) if who.allows(view_action(&target)) => Some(target.id),
                Ok(_) | Err(StoreError::NotFound) => return Err(missing()),
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    let change = c
        .case
        .transition(cmd.to, &cmd.reason, duplicate_of, c.at())?;
    c.save(app, change).await
}

// ---------------------------------------------------------------- vulnerabilities

/// A vulnerability of the case that exists, or "not found".
fn vulnerability(case: &Case, id: VulnerabilityId) -> Result<VulnerabilityId> {
    if case.vulnerabilities.iter().any(|v| v.id == id) {
        Ok(id)
    } else {
        Err(Error::NotFound)
    }
}

/// Adds a vulnerability (`id` `None`) or changes one.
#[derive(Debug, Clone)]
pub struct SaveVulnerability {
    pub case: CaseNumber,
    pub id: Option<VulnerabilityId>,
    pub input: VulnerabilityInput,
    pub revision: Option<i64>,
}

/// Returns the case and the vulnerability's id.
pub async fn save_vulnerability(
    app: &App,
    who: &Caller,
    cmd: SaveVulnerability,
) -> Result<(Case, VulnerabilityId)> {
    let mut c = Loaded::load(app, who, cmd.case, triage_action).await?;
    let id = cmd.id.map(|i| vulnerability(&c.case, i)).transpose()?;
    c.expect(cmd.revision)?;
    let scale = &app.config().severity_scale;
    let (vid, change) = c.case.save_vulnerability(id, &cmd.input, scale, c.at())?;
    Ok((c.save(app, change).await?, vid))
}

pub async fn remove_vulnerability(
    app: &App,
    who: &Caller,
    case: CaseNumber,
    id: VulnerabilityId,
    revision: Option<i64>,
) -> Result<Case> {
    let mut c = Loaded::load(app, who, case, triage_action).await?;
    let id = vulnerability(&c.case, id)?;
    c.expect(revision)?;
    let change = c.case.remove_vulnerability(id, c.at())?;
    c.save(app, change).await
}

/// Says how one product version stands to a vulnerability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetProductStatus {
    pub case: CaseNumber,
    pub vulnerability: VulnerabilityId,
    pub branch: BranchId,
    pub status: ProductStatusKind,
    /// For `known_not_affected`: why.
    pub justification: Option<Justification>,
    pub revision: Option<i64>,
}

pub async fn set_product_status(app: &App, who: &Caller, cmd: SetProductStatus) -> Result<Case> {
    let mut c = Loaded::load(app, who, cmd.case, work_action).await?;
    let vid = vulnerability(&c.case, cmd.vulnerability)?;
    c.expect(cmd.revision)?;
    match app.store().get_branch(cmd.branch).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Err(Error::invalid(
                "branch_id",
                format!(
                    "branch_id: there is no product version {} in the catalogue",
                    cmd.branch
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let status = ProductStatus::new(cmd.branch, cmd.status, cmd.justification)?;
    let change = c.case.set_product_status(vid, status, c.at())?;
    c.save(app, change).await
}

/// Drafts a remediation for the advisory to come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddRemediation {
    pub case: CaseNumber,
    pub vulnerability: VulnerabilityId,
    pub category: RemediationCategory,
    pub details: String,
    pub url: Option<String>,
    pub revision: Option<i64>,
}

pub async fn add_remediation(app: &App, who: &Caller, cmd: AddRemediation) -> Result<Case> {
    let mut c = Loaded::load(app, who, cmd.case, work_action).await?;
    let vid = vulnerability(&c.case, cmd.vulnerability)?;
    c.expect(cmd.revision)?;
    let draft = RemediationDraft::new(cmd.category, &cmd.details, cmd.url.as_deref(), Vec::new())?;
    let change = c.case.add_remediation(vid, draft, c.at())?;
    c.save(app, change).await
}

pub async fn remove_remediation(
    app: &App,
    who: &Caller,
    case: CaseNumber,
    vulnerability: VulnerabilityId,
    index: usize,
    revision: Option<i64>,
) -> Result<Case> {
    let mut c = Loaded::load(app, who, case, work_action).await?;
    let vid = self::vulnerability(&c.case, vulnerability)?;
    c.expect(revision)?;
    let change = c.case.remove_remediation(vid, index, c.at())?;
    c.save(app, change).await
}

// ---------------------------------------------------------------- assignment, owner, tasks

/// Routes the case to a product team with instructions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assign {
    pub case: CaseNumber,
    /// An organisation of kind `own`.
    pub team: OrgId,
    pub instructions: String,
    pub revision: Option<i64>,
}

pub async fn assign(app: &App, who: &Caller, cmd: Assign) -> Result<Case> {
    let mut c = Loaded::load(app, who, cmd.case, triage_action).await?;
    c.expect(cmd.revision)?;
    let team = match app.store().get_org(cmd.team).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => {
            return Err(Error::invalid(
                "team",
                format!("team: there is no organisation {}", cmd.team),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let change = c.case.assign(&team, &cmd.instructions, c.at())?;
    c.save(app, change).await
}

pub async fn set_owner(
    app: &App,
    who: &Caller,
    case: CaseNumber,
    owner: Option<UserId>,
    revision: Option<i64>,
) -> Result<Case> {
    let mut c = Loaded::load(app, who, case, triage_action).await?;
    c.expect(revision)?;
    let owner = internal_user(app, "owner", owner).await?;
    let change = c.case.set_owner(owner, c.at());
    c.save(app, change).await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddTask {
    pub case: CaseNumber,
    pub title: String,
    pub owner: Option<UserId>,
    pub due: Option<Date>,
    pub revision: Option<i64>,
}

pub async fn add_task(app: &App, who: &Caller, cmd: AddTask) -> Result<Case> {
    let mut c = Loaded::load(app, who, cmd.case, work_action).await?;
    c.expect(cmd.revision)?;
    let owner = internal_user(app, "owner", cmd.owner).await?;
    let (_, change) = c.case.add_task(&cmd.title, owner, cmd.due, c.at())?;
    c.save(app, change).await
}

pub async fn set_task_done(
    app: &App,
    who: &Caller,
    case: CaseNumber,
    task: TaskId,
    done: bool,
    revision: Option<i64>,
) -> Result<Case> {
    let mut c = Loaded::load(app, who, case, work_action).await?;
    if !c.case.tasks.iter().any(|t| t.id == task) {
        return Err(Error::NotFound);
    }
    c.expect(revision)?;
    let change = c.case.set_task_done(task, done, c.at())?;
    c.save(app, change).await
}

// ---------------------------------------------------------------- emergency and CRA

/// Declares an emergency and, in the same save, notifies the on-call role (the PSIRT).
pub async fn declare_emergency(
    app: &App,
    who: &Caller,
    case: CaseNumber,
    reason: &str,
    revision: Option<i64>,
) -> Result<Case> {
    let mut c = Loaded::load(app, who, case, triage_action).await?;
    c.expect(revision)?;
    let change = c.case.declare_emergency(reason, c.at())?;
    let text = format!(
        "Case {}: emergency declared ({}): {}",
        c.case.number,
        c.case.emergency.as_ref().map_or("", |e| e.reason.as_str()),
        c.case.title
    );
    let notices = on_call_notices(app, &c.case, text).await?;
    c.fx.notices.extend(notices);
    c.save(app, change).await
}

pub async fn end_emergency(
    app: &App,
    who: &Caller,
    case: CaseNumber,
    revision: Option<i64>,
) -> Result<Case> {
    let mut c = Loaded::load(app, who, case, triage_action).await?;
    c.expect(revision)?;
    let change = c.case.end_emergency(c.at())?;
    c.save(app, change).await
}

pub async fn mark_cra_sent(
    app: &App,
    who: &Caller,
    case: CaseNumber,
    report: CraReport,
    revision: Option<i64>,
) -> Result<Case> {
    let mut c = Loaded::load(app, who, case, triage_action).await?;
    c.expect(revision)?;
    let change = c.case.mark_cra_sent(report, c.at())?;
    c.save(app, change).await
}
