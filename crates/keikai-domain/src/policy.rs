//! The authorization policy: one function decides whether an actor may take an action.
//!
//! The application layer asks [`authorize`] in every use case, whichever door the request came
//! through (a page, the API, a job, the schedule, the command line), and turns the answer into
//! an error. A signed-in person who may not see something gets "not found", so that the answer
//! does not reveal that it exists.

use crate::{Membership, OrgId, Role, Scope, UserId};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    User(Principal),
    /// Keikai itself: the schedule, job handlers, and the command line (whose operator holds
    /// the database already). It may do only what [`SYSTEM_ACTIONS`] lists.
    System,
}

/// A signed-in user, with the roles of all their memberships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub memberships: Vec<Membership>,
    /// `Some` when the request carries an API token: its scopes narrow what the roles allow.
    pub token_scopes: Option<Vec<Scope>>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.memberships.iter().any(|m| m.role == role)
    }

    fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has_role(*r))
    }

    /// Whether they are a product engineer of this team.
    fn engineer_of(&self, team: Option<OrgId>) -> bool {
        team.is_some_and(|t| {
            self.memberships
                .iter()
                .any(|m| m.role == Role::ProductEngineer && m.org_id == t)
        })
    }

    /// Which cases they may see in lists and searches.
    pub fn case_scope(&self) -> CaseScope {
        if self.has_any(PSIRT) {
            return CaseScope::All;
        }
        let teams: Vec<OrgId> = self
            .memberships
            .iter()
            .filter(|m| m.role == Role::ProductEngineer)
            .map(|m| m.org_id)
            .collect();
        if teams.is_empty() {
            CaseScope::Reporter(self.user_id)
        } else {
            CaseScope::Teams(teams)
        }
    }
}

/// The cases a person may see: the PSIRT all of them, a product engineer those routed to
/// their teams, anyone else those they reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseScope {
    All,
    Teams(Vec<OrgId>),
    Reporter(UserId),
}

/// What is being attempted, with the owner of the resource where ownership matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ViewDashboard,
    ViewProfile,
    UpdateProfile,
    ListOwnTokens,
    CreateToken,
    RevokeToken {
        owner: UserId,
    },
    ViewProducts,
    ManageProducts,
    ViewOrganisations,
    ManageOrganisations,
    ViewUsers,
    ManageUsers,
    ViewMetrics,
    /// Use the CVSS calculator (page, fragments, API): a triage tool for internal staff.
    ScoreCvss,
    /// The case list (scoped by [`Principal::case_scope`]).
    ListCases,
    /// One case as its reporter sees it, or as the team it is routed to sees it.
    ViewCase {
        team: Option<OrgId>,
        reporter: Option<UserId>,
    },
    /// The internal side of a case: notes, tasks, history, attachments from everyone.
    ViewCaseInternals {
        team: Option<OrgId>,
    },
    /// Triage decisions: state, vulnerabilities, scores, assignment, emergency, CRA reports,
    /// messages to the reporter.
    TriageCase,
    /// The product team's work: internal notes, tasks, product statuses, remediation drafts.
    WorkCase {
        team: Option<OrgId>,
    },
    /// A message from the reporter's side (their own case only).
    ReplyAsReporter {
        reporter: Option<UserId>,
    },
    /// The audit log across all cases.
    ViewAudit,
    /// Advisory drafts, reviews and releases before publication (embargoed content).
    ViewAdvisories,
    /// Write, translate, review and schedule advisories.
    EditAdvisory,
    /// Plan, move and publish releases.
    ManageReleases,
    /// The partner programme as the PSIRT reads it: agreements, editions, questions, alerts,
    /// the access trail.
    ViewPartners,
    /// Change the partner programme: agreements, partner editions, answers, alerts.
    ManagePartners,
    /// The partner portal; which packages it shows is decided by the organisation's agreement.
    UsePartnerPortal,
    /// Ask a question or acknowledge an alert in the partner portal.
    RespondAsPartner,
    /// Distribution as the PSIRT reads it: subscribers, lists, editions, webhooks, events
    /// and their delivery reports.
    ViewDistribution,
    /// Change distribution: subscribers and imports, lists, editions, webhooks, early
    /// warnings.
    ManageDistribution,
    /// Run the schedule's ticks (publication, housekeeping): Keikai's own work, nobody's.
    RunSchedule,
    /// Bring a case up to date with the publication of its advisory (its state, clocks and
    /// the reporter's notice): a consequence of publishing, done by Keikai itself.
    FollowPublication,
}

impl Action {
    /// Whether the action changes state (and so needs the `write` scope on a token).
    pub const fn is_write(self) -> bool {
        matches!(
            self,
            Self::UpdateProfile
                | Self::CreateToken
                | Self::RevokeToken { .. }
                | Self::ManageProducts
                | Self::ManageOrganisations
                | Self::ManageUsers
                | Self::TriageCase
                | Self::WorkCase { .. }
                | Self::ReplyAsReporter { .. }
                | Self::EditAdvisory
                | Self::ManageReleases
                | Self::ManagePartners
                | Self::RespondAsPartner
                | Self::ManageDistribution
                | Self::RunSchedule
                | Self::FollowPublication
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Nobody is signed in: ask them to.
    Unauthenticated,
    /// Signed in, but the resource is not theirs to see: answer as if it did not exist.
    NotFound,
    /// They may see it, but the credential in use (a read-only token) may not change it.
    Forbidden,
}

const INTERNAL: &[Role] = &[Role::Admin, Role::PsirtAnalyst, Role::ProductEngineer];
const PSIRT: &[Role] = &[Role::Admin, Role::PsirtAnalyst];
const ADMIN: &[Role] = &[Role::Admin];

/// What Keikai does on its own: publish due releases, deliver partner packages and alerts,
/// distribute events and digests, and the operator's administration from the command line
/// (users, organisations, the audit log, the public tree). Nothing that speaks for a person
/// (profiles, tokens, the partner portal, a reporter's reply) and no editorial decision
/// (editing or approving advisories, triaging cases).
pub const SYSTEM_ACTIONS: &[Action] = &[
    Action::ViewProducts,
    Action::ViewOrganisations,
    Action::ManageOrganisations,
    Action::ViewUsers,
    Action::ManageUsers,
    Action::ViewAudit,
    Action::ViewAdvisories,
    Action::ManageReleases,
    Action::ViewPartners,
    Action::ManagePartners,
    Action::ViewDistribution,
    Action::ManageDistribution,
    Action::RunSchedule,
    Action::FollowPublication,
];

pub fn authorize(actor: &Actor, action: Action) -> Decision {
    let p = match actor {
        Actor::User(p) => p,
        Actor::Anonymous => return Decision::Unauthenticated,
        // Not a person, so nothing is hidden from it: a refusal is a programming error that
        // should say so, not look like a missing resource.
        Actor::System if SYSTEM_ACTIONS.contains(&action) => return Decision::Allow,
        Actor::System => return Decision::Forbidden,
    };
    let allowed = match action {
        Action::ViewDashboard | Action::ViewProfile | Action::UpdateProfile => true,
        Action::ListOwnTokens | Action::CreateToken => true,
        Action::RevokeToken { owner } => owner == p.user_id || p.has_any(ADMIN),
        Action::ViewProducts => p.has_any(INTERNAL),
        Action::ManageProducts => p.has_any(PSIRT),
        Action::ViewOrganisations => p.has_any(PSIRT),
        Action::ManageOrganisations | Action::ViewUsers | Action::ManageUsers => p.has_any(ADMIN),
        Action::ViewMetrics => p.has_any(ADMIN),
        Action::ScoreCvss => p.has_any(INTERNAL),
        Action::ListCases => true,
        Action::ViewCase { team, reporter } => {
            p.has_any(PSIRT) || p.engineer_of(team) || reporter == Some(p.user_id)
        }
        Action::ViewCaseInternals { team } | Action::WorkCase { team } => {
            p.has_any(PSIRT) || p.engineer_of(team)
        }
        Action::TriageCase | Action::ViewAudit => p.has_any(PSIRT),
        // Drafts are embargoed: only the PSIRT sees them before release.
        Action::ViewAdvisories | Action::EditAdvisory | Action::ManageReleases => p.has_any(PSIRT),
        Action::ReplyAsReporter { reporter } => reporter == Some(p.user_id),
        Action::ViewPartners | Action::ManagePartners => p.has_any(PSIRT),
        Action::UsePartnerPortal | Action::RespondAsPartner => p.has_role(Role::PartnerContact),
        // Subscribers' addresses and keys are personal data; lists and editions may carry
        // TLP-restricted events.
        Action::ViewDistribution | Action::ManageDistribution => p.has_any(PSIRT),
        Action::RunSchedule | Action::FollowPublication => false,
    };
    if !allowed {
        return Decision::NotFound;
    }
    // Tokens may not mint tokens: a leaked token must not be able to outlive its revocation.
    if p.token_scopes.is_some() && matches!(action, Action::CreateToken) {
        return Decision::Forbidden;
    }
    match &p.token_scopes {
        Some(scopes) if action.is_write() && !scopes.contains(&Scope::Write) => Decision::Forbidden,
        _ => Decision::Allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OrgId;

    fn user(roles: &[Role]) -> Principal {
        Principal {
            user_id: UserId::new(),
            memberships: roles
                .iter()
                .map(|&role| Membership {
                    org_id: OrgId::new(),
                    role,
                })
                .collect(),
            token_scopes: None,
        }
    }

    /// Every action for every role: the table is the policy's specification.
    #[test]
    fn policy_matrix() {
        use Decision::{Allow as A, NotFound as N};
        let other = UserId::new();
        let actions = [
            Action::ViewDashboard,
            Action::ViewProfile,
            Action::UpdateProfile,
            Action::ListOwnTokens,
            Action::CreateToken,
            Action::RevokeToken { owner: other },
            Action::ViewProducts,
            Action::ManageProducts,
            Action::ViewOrganisations,
            Action::ManageOrganisations,
            Action::ViewUsers,
            Action::ManageUsers,
            Action::ViewMetrics,
            Action::ScoreCvss,
            Action::ViewAdvisories,
            Action::EditAdvisory,
            Action::ManageReleases,
            Action::ViewPartners,
            Action::ManagePartners,
            Action::UsePartnerPortal,
            Action::RespondAsPartner,
            Action::ViewDistribution,
            Action::ManageDistribution,
        ];
        let expected: [(Role, [Decision; 23]); 6] = [
            (
                Role::Admin,
                [
                    A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, N, N, A, A,
                ],
            ),
            (
                Role::PsirtAnalyst,
                [
                    A, A, A, A, A, N, A, A, A, N, N, N, N, A, A, A, A, A, A, N, N, A, A,
                ],
            ),
            (
                Role::ProductEngineer,
                [
                    A, A, A, A, A, N, A, N, N, N, N, N, N, A, N, N, N, N, N, N, N, N, N,
                ],
            ),
            (
                Role::PartnerContact,
                [
                    A, A, A, A, A, N, N, N, N, N, N, N, N, N, N, N, N, N, N, A, A, N, N,
                ],
            ),
            (
                Role::CustomerContact,
                [
                    A, A, A, A, A, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N,
                ],
            ),
            (
                Role::Reporter,
                [
                    A, A, A, A, A, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N,
                ],
            ),
        ];
        for (role, decisions) in expected {
            let actor = Actor::User(user(&[role]));
            for (action, want) in actions.iter().zip(decisions) {
                assert_eq!(authorize(&actor, *action), want, "{role} {action:?}");
            }
        }
        for action in actions {
            assert_eq!(
                authorize(&Actor::Anonymous, action),
                Decision::Unauthenticated
            );
        }
    }

    /// Case actions depend on who the case belongs to: the team it is routed to, and the
    /// reporter.
    #[test]
    fn case_access_follows_team_and_reporter() {
        use Decision::{Allow as A, Forbidden as F, NotFound as N};
        let team = OrgId::new();
        let other_team = OrgId::new();
        let engineer = Principal {
            user_id: UserId::new(),
            memberships: vec![Membership {
                org_id: team,
                role: Role::ProductEngineer,
            }],
            token_scopes: None,
        };
        let reporter = user(&[Role::Reporter]);
        let analyst = user(&[Role::PsirtAnalyst]);
        let me = reporter.user_id;
        let actions = |t: OrgId| {
            [
                Action::ViewCase {
                    team: Some(t),
                    reporter: Some(me),
                },
                Action::ViewCaseInternals { team: Some(t) },
                Action::WorkCase { team: Some(t) },
                Action::TriageCase,
                Action::ReplyAsReporter { reporter: Some(me) },
                Action::ViewAudit,
                Action::ScoreCvss,
            ]
        };
        let table = [
            (&analyst, team, [A, A, A, A, N, A, A]),
            (&engineer, team, [A, A, A, N, N, N, A]),
            (&engineer, other_team, [N, N, N, N, N, N, A]),
            (&reporter, team, [A, N, N, N, A, N, N]),
        ];
        for (p, t, want) in table {
            for (action, want) in actions(t).into_iter().zip(want) {
                assert_eq!(
                    authorize(&Actor::User(p.clone()), action),
                    want,
                    "{action:?}"
                );
            }
        }
        // Another reporter's case is invisible.
        let stranger = user(&[Role::Reporter]);
        assert_eq!(
            authorize(&Actor::User(stranger.clone()), actions(team)[0]),
            N
        );
        assert_eq!(authorize(&Actor::User(stranger), actions(team)[4]), N);
        // A read token cannot triage.
        let mut token = analyst.clone();
        token.token_scopes = Some(vec![Scope::Read]);
        assert_eq!(authorize(&Actor::User(token), Action::TriageCase), F);
        assert_eq!(analyst.case_scope(), CaseScope::All);
        assert_eq!(engineer.case_scope(), CaseScope::Teams(vec![team]));
        assert_eq!(reporter.case_scope(), CaseScope::Reporter(me));
    }

    #[test]
    fn the_system_may_do_only_its_own_work() {
        assert_eq!(
            authorize(&Actor::System, Action::ManageReleases),
            Decision::Allow
        );
        for action in [
            Action::ViewDashboard,
            Action::CreateToken,
            Action::EditAdvisory,
            Action::TriageCase,
            Action::UsePartnerPortal,
            Action::ReplyAsReporter { reporter: None },
        ] {
            assert_eq!(
                authorize(&Actor::System, action),
                Decision::Forbidden,
                "{action:?}"
            );
        }
        for action in SYSTEM_ACTIONS {
            assert_eq!(authorize(&Actor::System, *action), Decision::Allow);
        }
    }

    #[test]
    fn only_the_system_runs_the_schedule_and_follows_publications() {
        for action in [Action::RunSchedule, Action::FollowPublication] {
            only_the_system(action);
        }
    }

    fn only_the_system(action: Action) {
        assert_eq!(authorize(&Actor::System, action), Decision::Allow);
        let everyone = [
            Role::Admin,
            Role::PsirtAnalyst,
            Role::ProductEngineer,
            Role::PartnerContact,
            Role::CustomerContact,
            Role::Reporter,
        ];
        assert_eq!(
            authorize(&Actor::User(user(&everyone)), action),
            Decision::NotFound,
            "{action:?}"
        );
        assert_eq!(
            authorize(&Actor::Anonymous, action),
            Decision::Unauthenticated,
            "{action:?}"
        );
    }

    #[test]
    fn own_tokens_can_be_revoked() {
        let p = user(&[Role::Reporter]);
        let me = p.user_id;
        assert_eq!(
            authorize(&Actor::User(p), Action::RevokeToken { owner: me }),
            Decision::Allow
        );
    }

    #[test]
    fn token_scopes_narrow_roles() {
        let mut p = user(&[Role::Admin]);
        p.token_scopes = Some(vec![Scope::Read]);
        let actor = Actor::User(p.clone());
        assert_eq!(authorize(&actor, Action::ViewProducts), Decision::Allow);
        assert_eq!(
            authorize(&actor, Action::ManageProducts),
            Decision::Forbidden
        );
        p.token_scopes = Some(vec![Scope::Read, Scope::Write]);
        let actor = Actor::User(p);
        assert_eq!(authorize(&actor, Action::ManageProducts), Decision::Allow);
        assert_eq!(authorize(&actor, Action::CreateToken), Decision::Forbidden);
        // A token never lifts a role's limits.
        let mut engineer = user(&[Role::ProductEngineer]);
        engineer.token_scopes = Some(vec![Scope::Write]);
        assert_eq!(
            authorize(&Actor::User(engineer), Action::ManageProducts),
            Decision::NotFound
        );
    }
}
