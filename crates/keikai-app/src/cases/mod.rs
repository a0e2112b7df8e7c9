//! Case work: reports and questions from intake to closure.
//!
//! Each command loads the case, asks the policy with an action built from the loaded case (a
//! case the caller may not see, or may not act on, answers "not found", so that nothing is
//! revealed), applies the domain operation, and saves the case together with the audit
//! entries the operation returned, in one transaction. Saves are optimistic: a case saved by
//! someone else since it was loaded (or since the revision a form carries) is refused with a
//! conflict that asks to reload.
//!
//! The on-call role an emergency notifies is the PSIRT: every internal user who is an
//! administrator or a PSIRT analyst.

mod commands;
mod follow;
pub mod intake;
mod messages;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use keikai_domain::audit::Change;
use keikai_domain::case::{Case, CaseIndex, CaseKind, CaseMessage, CaseState};
use keikai_domain::{Action, AdvisoryId, Branch, BranchId, OrgId, OrgKind, Role, User, UserId};
use keikai_store::{CaseFilter, CaseSummary, Effects, NewNotification, StoreError};

pub use commands::*;
pub use follow::follow_publication;
pub(crate) use follow::follow_up_jobs;
pub use messages::*;

use crate::{App, Caller, Error, Result};

/// What a save refused for a stale revision answers.
pub const CONFLICT_MESSAGE: &str =
    "the case changed since you loaded it; reload it and make your change again";

/// How many cases a list page shows.
pub const PAGE_SIZE: u32 = 50;

/// The roles an emergency notifies: the PSIRT is the on-call role.
pub const ON_CALL_ROLES: &[Role] = &[Role::Admin, Role::PsirtAnalyst];

/// The roles that count as internal users (owners of cases and tasks).
const INTERNAL_ROLES: &[Role] = &[Role::Admin, Role::PsirtAnalyst, Role::ProductEngineer];

/// A case number as paths and forms carry it: a positive integer. Anything else names no
/// case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseNumber(i64);

impl CaseNumber {
    pub fn new(n: i64) -> Option<Self> {
        (n > 0).then_some(Self(n))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl FromStr for CaseNumber {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        s.parse::<i64>()
            .ok()
            .and_then(Self::new)
            .ok_or(Error::NotFound)
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// ---------------------------------------------------------------- what a loaded case allows

fn team_of(case: &Case) -> Option<OrgId> {
    case.assignment.as_ref().map(|a| a.team)
}

/// Seeing the case at all: its reporter, the team it is routed to, the PSIRT.
pub fn view_action(case: &Case) -> Action {
    Action::ViewCase {
        team: team_of(case),
        reporter: case.report.reporter_user,
    }
}

/// Notes, tasks, history, internal attachments.
pub fn internals_action(case: &Case) -> Action {
    Action::ViewCaseInternals {
        team: team_of(case),
    }
}

/// The product team's work: notes, tasks, product statuses, remediation drafts.
pub fn work_action(case: &Case) -> Action {
    Action::WorkCase {
        team: team_of(case),
    }
}

fn triage_action(_: &Case) -> Action {
    Action::TriageCase
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
    pub fn of(who: &Caller, case: &Case) -> Self {
        Self {
            internals: who.allows(internals_action(case)),
            work: who.allows(work_action(case)),
            triage: who.allows(Action::TriageCase),
            reply_as_reporter: who.allows(Action::ReplyAsReporter {
                reporter: case.report.reporter_user,
            }),
        }
    }
}

// ---------------------------------------------------------------- load, change, save

/// Loads a case the caller may see. Anonymous callers are asked to sign in before anything
/// is looked up, so that they cannot probe which numbers exist.
pub async fn load(app: &App, who: &Caller, number: CaseNumber) -> Result<Case> {
    who.require(Action::ListCases)?;
    let case = app.store().case_by_number(number.get()).await?;
    who.require(view_action(&case))?;
    Ok(case)
}

/// A case loaded for a change: the caller may make it, and the case is at the revision the
/// change was based on. [`Loaded::save`] writes it with its audit entry.
pub(crate) struct Loaded {
    pub case: Case,
    pub fx: Effects,
}

impl Loaded {
    /// Loads the case and asks the policy for `need`.
    pub async fn load(
        app: &App,
        who: &Caller,
        number: CaseNumber,
        need: fn(&Case) -> Action,
    ) -> Result<Self> {
        let case = load(app, who, number).await?;
        who.require(need(&case))?;
        Ok(Self {
            case,
            fx: app.effects(who),
        })
    }

    /// Refuses a change based on another revision than the one loaded (after the command
    /// found what it names, so that a missing thing is "not found" first).
    pub fn expect(&self, revision: Option<i64>) -> Result<()> {
        crate::error::expect_revision(self.case.revision, revision, CONFLICT_MESSAGE)
    }

    /// When the change happens.
    pub fn at(&self) -> Timestamp {
        self.fx.at
    }

    /// Saves the case with `change` (and whatever else `fx` holds) in one transaction.
    pub async fn save(self, app: &App, change: Change) -> Result<Case> {
        save(app, &self.case, &self.fx.with_audit(change)).await
    }
}

/// Saves a case optimistically; a stale revision is a conflict that asks to reload.
pub(crate) async fn save(app: &App, case: &Case, fx: &Effects) -> Result<Case> {
    let index = CaseIndex::of(case, &app.config().severity_scale);
    app.store()
        .save_case(case, &index, fx)
        .await
        .map_err(save_error)
}

pub(crate) fn save_error(e: StoreError) -> Error {
    crate::error::save_error(CONFLICT_MESSAGE, e)
}

// ---------------------------------------------------------------- people

/// One notice of kind "emergency" for each member of the on-call role.
pub(crate) async fn on_call_notices(
    app: &App,
    case: &Case,
    text: String,
) -> Result<Vec<NewNotification>> {
    Ok(app
        .store()
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

/// The people who may own cases and tasks: internal users, by display name.
pub async fn internal_users(app: &App, who: &Caller) -> Result<Vec<User>> {
    who.require(Action::ViewProducts)?;
    internal_users_unchecked(app).await
}

async fn internal_users_unchecked(app: &App) -> Result<Vec<User>> {
    let mut users = app
        .store()
        .internal_users_with_roles(INTERNAL_ROLES)
        .await?;
    users.sort_by(|a, b| a.display_name.as_str().cmp(b.display_name.as_str()));
    Ok(users)
}

/// An owner picked in a form: an active internal user, or nobody.
async fn internal_user(
    app: &App,
    field: &'static str,
    id: Option<UserId>,
) -> Result<Option<UserId>> {
    let Some(id) = id else {
        return Ok(None);
    };
    if internal_users_unchecked(app)
        .await?
        .iter()
        .any(|u| u.id == id)
    {
        Ok(Some(id))
    } else {
        Err(Error::invalid(
            field,
            format!("{field}: {id} is not an active internal user"),
        ))
    }
}

/// Display names of users, for internal staff reading what they did (edits, reviews).
pub async fn names(app: &App, who: &Caller, ids: Vec<UserId>) -> Result<HashMap<UserId, String>> {
    who.require(Action::ViewProducts)?;
    user_names(app, ids).await
}

/// Display names of the users a history or a conversation names, for showing them.
pub(crate) async fn user_names(app: &App, ids: Vec<UserId>) -> Result<HashMap<UserId, String>> {
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        match app.store().get_user(id).await {
            Ok(u) => {
                out.insert(id, u.display_name.as_str().to_owned());
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- lists

/// Which cases a list shows; the door parses these from a query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseQuery {
    pub state: Option<CaseState>,
    /// Only cases not closed, rejected or marked duplicate; by default unless `state` is
    /// given.
    pub open: Option<bool>,
    pub kind: Option<CaseKind>,
    /// A product version (catalogue branch) the case concerns.
    pub product: Option<BranchId>,
    /// A level of the severity scale, as named there.
    pub severity: Option<String>,
    pub owner: Option<UserId>,
    pub team: Option<OrgId>,
    /// Only cases with a deadline already passed.
    pub overdue: bool,
    pub emergency: Option<bool>,
    /// Text to search for in titles, reports and vulnerabilities (any language).
    pub text: Option<String>,
    /// From 1.
    pub page: u32,
}

/// The most characters a search may have.
pub const MAX_SEARCH_CHARS: usize = 200;

/// The text of a search (`q`), refused when it is longer than [`MAX_SEARCH_CHARS`].
pub(crate) fn search_text(q: Option<&str>) -> Result<Option<String>> {
    match q {
        Some(q) if q.chars().count() > MAX_SEARCH_CHARS => Err(Error::invalid(
            "q",
            format!("q: at most {MAX_SEARCH_CHARS} characters"),
        )),
        q => Ok(q.map(str::to_owned)),
    }
}

impl CaseQuery {
    fn filter(&self, app: &App, who: &Caller, now: Timestamp) -> Result<CaseFilter> {
        let scope = who
            .principal()
            .map(keikai_domain::Principal::case_scope)
            .ok_or(Error::NotFound)?;
        let mut f = CaseFilter::new(scope);
        f.state = self.state;
        f.open_only = self.open.unwrap_or(self.state.is_none());
        f.kind = self.kind;
        f.branch = self.product;
        f.severity = self
            .severity
            .as_deref()
            .map(|s| {
                app.config()
                    .severity_scale
                    .parse(s)
                    .map_err(|e| Error::renamed("severity", &e))
            })
            .transpose()?;
        f.owner = self.owner;
        f.team = self.team;
        if self.overdue {
            f.deadline_before = Some(now);
        }
        f.emergency = self.emergency;
        f.text = search_text(self.text.as_deref())?;
        f.limit = PAGE_SIZE;
        f.offset = self.page.max(1).saturating_sub(1).saturating_mul(PAGE_SIZE);
        Ok(f)
    }
}

/// One page of the cases the caller may see, with the number of all that match.
pub async fn list(app: &App, who: &Caller, query: &CaseQuery) -> Result<(Vec<CaseSummary>, u64)> {
    who.require(Action::ListCases)?;
    let filter = query.filter(app, who, app.now())?;
    let rows = app.store().list_cases(&filter).await?;
    let total = app.store().count_cases(&filter).await?;
    Ok((rows, total))
}

/// Whether a listed case has a deadline that has passed.
pub fn is_overdue(row: &CaseSummary, now: Timestamp) -> bool {
    !row.state.is_terminal() && row.next_deadline.is_some_and(|d| d < now)
}

/// The dashboard's counts: open cases, overdue cases and emergencies the caller may see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub open: u64,
    pub overdue: u64,
    pub emergencies: u64,
}

pub async fn counts(app: &App, who: &Caller) -> Result<Counts> {
    who.require(Action::ListCases)?;
    let open = CaseQuery::default().filter(app, who, app.now())?;
    let overdue = CaseFilter {
        deadline_before: Some(app.now()),
        ..open.clone()
    };
    let emergencies = CaseFilter {
        emergency: Some(true),
        ..open.clone()
    };
    let store = app.store();
    Ok(Counts {
        open: store.count_cases(&open).await?,
        overdue: store.count_cases(&overdue).await?,
        emergencies: store.count_cases(&emergencies).await?,
    })
}

// ---------------------------------------------------------------- what the case pages show

/// What someone who sees a case's internals works with beside the case: the catalogue, the
/// people and teams forms offer, and names for what the case refers to.
pub struct Workspace {
    pub branches: Vec<Branch>,
    /// Active internal users, by display name: owners of cases and tasks.
    pub internal_users: Vec<User>,
    /// Our own organisations (product teams), as (id, name).
    pub teams: Vec<(OrgId, String)>,
    /// The name of the team the case is assigned to.
    pub assigned_team: Option<String>,
    /// The number of the case this one duplicates.
    pub duplicate_of: Option<i64>,
    /// The advisory made from this case (id, tracking id), for those who see advisories.
    pub advisory: Option<(AdvisoryId, String)>,
}

/// One case with what its page needs: the conversation (and notes, for those who see the
/// internals) with the authors' names, and the workspace for those who see the internals.
pub struct CaseView {
    pub case: Case,
    pub access: Access,
    pub messages: Vec<CaseMessage>,
    pub names: HashMap<UserId, String>,
    pub workspace: Option<Workspace>,
}

pub async fn view(app: &App, who: &Caller, number: CaseNumber) -> Result<CaseView> {
    let case = load(app, who, number).await?;
    let access = Access::of(who, &case);
    let (messages, names) = conversation(app, who, &case).await?;
    let workspace = if access.internals {
        Some(workspace(app, who, &case).await?)
    } else {
        None
    };
    Ok(CaseView {
        case,
        access,
        messages,
        names,
        workspace,
    })
}

async fn workspace(app: &App, who: &Caller, case: &Case) -> Result<Workspace> {
    let store = app.store();
    let assigned_team = match &case.assignment {
        Some(a) => Some(match store.get_org(a.team).await {
            Ok(o) => o.name.to_string(),
            Err(StoreError::NotFound) => a.team.to_string(),
            Err(e) => return Err(e.into()),
        }),
        None => None,
    };
    let duplicate_of = match case.duplicate_of {
        Some(id) => match store.get_case(id).await {
            Ok(c) => Some(c.number),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let advisory = if who.allows(Action::ViewAdvisories) {
        crate::advisories::for_case(app, case.id)
            .await?
            .map(|a| (a.id, a.tracking_id))
    } else {
        None
    };
    Ok(Workspace {
        branches: store.list_branches().await?,
        internal_users: internal_users_unchecked(app).await?,
        teams: own_teams(app).await?,
        assigned_team,
        duplicate_of,
        advisory,
    })
}

/// Our own organisations: the teams a case can be routed to.
async fn own_teams(app: &App) -> Result<Vec<(OrgId, String)>> {
    Ok(app
        .store()
        .list_orgs()
        .await?
        .into_iter()
        .filter(|o| o.kind == OrgKind::Own)
        .map(|o| (o.id, o.name.to_string()))
        .collect())
}

/// What the case list's filters offer to internal staff: product versions, owners, teams.
pub struct FilterChoices {
    pub branches: Vec<Branch>,
    pub internal_users: Vec<User>,
    pub teams: Vec<(OrgId, String)>,
}

/// `None` for those who are not internal staff (they filter by state and text only).
pub async fn filter_choices(app: &App, who: &Caller) -> Result<Option<FilterChoices>> {
    if !who.allows(Action::ViewProducts) {
        return Ok(None);
    }
    Ok(Some(FilterChoices {
        branches: app.store().list_branches().await?,
        internal_users: internal_users_unchecked(app).await?,
        teams: own_teams(app).await?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers_are_positive_integers() {
        assert_eq!("12".parse::<CaseNumber>().map(CaseNumber::get), Ok(12));
        for bad in ["0", "-1", "x", "", "1.5", "{number}"] {
            assert_eq!(bad.parse::<CaseNumber>(), Err(Error::NotFound), "{bad}");
        }
    }
}
