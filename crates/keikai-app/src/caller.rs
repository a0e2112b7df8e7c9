//! Who asks. Every use case takes a [`Caller`] and asks the policy through it, whichever door
//! the request came through; the doors only say who the caller is.

use keikai_domain::audit::AuditActor;
use keikai_domain::{Action, Actor, Decision, Principal, Scope, UserId, authorize};

use crate::{Error, Result};

/// How the caller reached Keikai.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Nobody signed in (the public site, the report form).
    Anonymous,
    /// A reporter without an account, holding the secret link to their case's portal; the
    /// use cases that take such a link check it themselves.
    ReporterLink,
    /// A person signed in through the browser.
    Session,
    /// A script with an API token; the token's scopes narrow its user's roles.
    Token,
    /// Keikai itself: the schedule and the job handlers.
    System,
    /// An operator at the command line.
    Cli,
}

/// Who asks, as the policy sees them, and how they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    actor: Actor,
    via: Via,
}

impl Caller {
    pub const fn anonymous() -> Self {
        Self {
            actor: Actor::Anonymous,
            via: Via::Anonymous,
        }
    }

    /// A reporter through their tracking link: anonymous to the policy.
    pub const fn reporter_link() -> Self {
        Self {
            actor: Actor::Anonymous,
            via: Via::ReporterLink,
        }
    }

    /// A signed-in person; a principal carrying token scopes came with an API token.
    pub fn user(principal: Principal) -> Self {
        let via = if principal.token_scopes.is_some() {
            Via::Token
        } else {
            Via::Session
        };
        Self {
            actor: Actor::User(principal),
            via,
        }
    }

    /// Keikai itself (the schedule, job handlers).
    pub const fn system() -> Self {
        Self {
            actor: Actor::System,
            via: Via::System,
        }
    }

    /// An operator at the command line; the policy treats them as the system.
    pub const fn cli() -> Self {
        Self {
            actor: Actor::System,
            via: Via::Cli,
        }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn via(&self) -> Via {
        self.via
    }

    /// The signed-in person, if any.
    pub fn principal(&self) -> Option<&Principal> {
        match &self.actor {
            Actor::User(p) => Some(p),
            Actor::Anonymous | Actor::System => None,
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        self.principal().map(|p| p.user_id)
    }

    /// Who the audit log names for what this caller changes.
    pub fn audit_actor(&self) -> AuditActor {
        match (&self.actor, self.via) {
            (Actor::User(p), _) => AuditActor::User(p.user_id),
            (_, Via::ReporterLink) => AuditActor::Reporter,
            (_, Via::Cli) => AuditActor::Cli,
            _ => AuditActor::System,
        }
    }

    /// Whether the policy allows the action (for showing or hiding what a page offers; use
    /// cases call [`Caller::require`]).
    pub fn allows(&self, action: Action) -> bool {
        authorize(&self.actor, action) == Decision::Allow
    }

    /// Asks the policy; a refusal becomes the error the caller should get.
    pub fn require(&self, action: Action) -> Result<()> {
        match authorize(&self.actor, action) {
            Decision::Allow => Ok(()),
            Decision::Unauthenticated => Err(Error::Unauthenticated),
            Decision::NotFound => Err(Error::NotFound),
            Decision::Forbidden => Err(Error::Forbidden(match self.via {
                Via::System | Via::Cli => format!("Keikai itself may not do this ({action:?})"),
                _ => "this API token's scopes do not allow that".to_owned(),
            })),
        }
    }

    /// Refuses a read-only API token: it may submit nothing, whatever the route (also the
    /// public forms and links, which ask no policy).
    pub fn refuse_read_only_token(&self) -> Result<()> {
        match self.principal().and_then(|p| p.token_scopes.as_ref()) {
            Some(scopes) if !scopes.contains(&Scope::Write) => Err(Error::Forbidden(
                "this API token's scopes do not allow that".to_owned(),
            )),
            _ => Ok(()),
        }
    }

    /// [`Caller::require`] for a use case that acts as a person (a reviewer, the author of a
    /// message): returns who that is. The system is refused.
    pub fn require_user(&self, action: Action) -> Result<&Principal> {
        self.require(action)?;
        self.principal().ok_or_else(|| {
            Error::Forbidden(format!(
                "{action:?} needs a signed-in person, not Keikai itself"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use keikai_domain::{Membership, OrgId, Role};

    use super::*;

    fn person(role: Role, scopes: Option<Vec<Scope>>) -> Principal {
        Principal {
            user_id: UserId::new(),
            memberships: vec![Membership {
                org_id: OrgId::new(),
                role,
            }],
            token_scopes: scopes,
        }
    }

    #[test]
    fn each_caller_gets_the_policys_answer() {
        let analyst = Caller::user(person(Role::PsirtAnalyst, None));
        assert_eq!(analyst.via(), Via::Session);
        assert_eq!(analyst.require(Action::TriageCase), Ok(()));
        let reader = Caller::user(person(Role::PsirtAnalyst, Some(vec![Scope::Read])));
        assert_eq!(reader.via(), Via::Token);
        assert!(matches!(
            reader.require(Action::TriageCase),
            Err(Error::Forbidden(_))
        ));
        let reporter = Caller::user(person(Role::Reporter, None));
        assert_eq!(reporter.require(Action::TriageCase), Err(Error::NotFound));
        assert_eq!(
            Caller::anonymous().require(Action::ListCases),
            Err(Error::Unauthenticated)
        );
        assert_eq!(Caller::system().require(Action::ManageReleases), Ok(()));
        assert!(matches!(
            Caller::system().require_user(Action::ManageReleases),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            Caller::cli().require(Action::EditAdvisory),
            Err(Error::Forbidden(_))
        ));
    }

    #[test]
    fn the_audit_names_who_acted() {
        let p = person(Role::Admin, None);
        let id = p.user_id;
        assert_eq!(Caller::user(p).audit_actor(), AuditActor::User(id));
        assert_eq!(Caller::system().audit_actor(), AuditActor::System);
        assert_eq!(Caller::cli().audit_actor(), AuditActor::Cli);
        assert_eq!(Caller::reporter_link().audit_actor(), AuditActor::Reporter);
        assert_eq!(Caller::anonymous().audit_actor(), AuditActor::System);
    }
}
