//! The authorization policy: one function decides whether an actor may take an action.
//!
//! The web layer asks [`authorize`] on every route and turns the answer into a response. A
//! signed-in person who may not see something gets "not found", so that the answer does not
//! reveal that it exists.

use crate::{Membership, Role, Scope, UserId};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    User(Principal),
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
}

/// What is being attempted, with the owner of the resource where ownership matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ViewDashboard,
    ViewProfile,
    UpdateProfile,
    ListOwnTokens,
    CreateToken,
    RevokeToken { owner: UserId },
    ViewProducts,
    ManageProducts,
    ViewOrganisations,
    ManageOrganisations,
    ViewUsers,
    ManageUsers,
    ViewMetrics,
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

pub fn authorize(actor: &Actor, action: Action) -> Decision {
    let Actor::User(p) = actor else {
        return Decision::Unauthenticated;
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
        ];
        let expected: [(Role, [Decision; 13]); 6] = [
            (Role::Admin, [A, A, A, A, A, A, A, A, A, A, A, A, A]),
            (Role::PsirtAnalyst, [A, A, A, A, A, N, A, A, A, N, N, N, N]),
            (
                Role::ProductEngineer,
                [A, A, A, A, A, N, A, N, N, N, N, N, N],
            ),
            (
                Role::PartnerContact,
                [A, A, A, A, A, N, N, N, N, N, N, N, N],
            ),
            (
                Role::CustomerContact,
                [A, A, A, A, A, N, N, N, N, N, N, N, N],
            ),
            (Role::Reporter, [A, A, A, A, A, N, N, N, N, N, N, N, N]),
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
