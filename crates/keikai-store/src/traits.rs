//! The storage traits, one per area. Every method is one atomic operation.

use async_trait::async_trait;
use jiff::Timestamp;
use keikai_domain::{
    ApiToken, Branch, BranchCategory, BranchId, BranchName, DisplayName, Email, Locale, Membership,
    OrgId, OrgKind, OrgName, Organisation, Role, Scope, TokenId, User, UserId,
};

use crate::{Backend, StoreError};

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub name: OrgName,
    pub kind: OrgKind,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub display_name: DisplayName,
    /// A PHC string (Argon2id); the store never sees a password.
    pub password_hash: String,
    pub locale: Option<Locale>,
}

/// A user with what sign-in needs to check.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 (hex) of the cookie value; the value itself is never stored.
    pub id_hash: String,
    pub user_id: UserId,
    /// Sent with every state-changing form and compared in constant time.
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub user_id: UserId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// SHA-256 (hex) of the secret.
    pub secret_hash: String,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewBranch {
    pub parent_id: Option<BranchId>,
    pub category: BranchCategory,
    pub name: BranchName,
}

#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn create_org(&self, org: &NewOrganisation, now: Timestamp) -> Result<Organisation>;
    async fn get_org(&self, id: OrgId) -> Result<Organisation>;
    /// Ordered by name.
    async fn list_orgs(&self) -> Result<Vec<Organisation>>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with `Conflict` when the e-mail address is taken.
    async fn create_user(&self, user: &NewUser, now: Timestamp) -> Result<User>;
    async fn get_user(&self, id: UserId) -> Result<User>;
    async fn credentials_by_email(&self, email: &Email) -> Result<Credentials>;
    /// Ordered by e-mail address.
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn count_users(&self) -> Result<u64>;
    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> Result<()>;
    async fn set_locale(&self, id: UserId, locale: Option<Locale>) -> Result<()>;
    async fn set_display_name(&self, id: UserId, name: &DisplayName) -> Result<()>;
    async fn set_disabled(&self, id: UserId, disabled_at: Option<Timestamp>) -> Result<()>;
    /// Checks that the role fits the organisation's kind; adding an existing membership is a
    /// no-op.
    async fn add_membership(&self, user: UserId, org: OrgId, role: Role) -> Result<()>;
    async fn remove_membership(&self, user: UserId, org: OrgId, role: Role) -> Result<()>;
    async fn memberships(&self, user: UserId) -> Result<Vec<Membership>>;
    /// Creates the organisation, the user and an admin membership in one transaction, but
    /// only while no user exists. Returns `None` when another instance got there first.
    async fn bootstrap_admin(
        &self,
        org: &NewOrganisation,
        user: &NewUser,
        now: Timestamp,
    ) -> Result<Option<User>>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &Session) -> Result<()>;
    /// Only sessions that have not expired at `now` and whose user is not disabled.
    async fn active_session(&self, id_hash: &str, now: Timestamp) -> Result<Session>;
    async fn extend_session(&self, id_hash: &str, expires_at: Timestamp) -> Result<()>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Signs a user out everywhere (after a password reset, or when disabled).
    async fn delete_user_sessions(&self, user: UserId) -> Result<u64>;
    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64>;
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_token(&self, token: &NewToken, now: Timestamp) -> Result<ApiToken>;
    /// Looks a token up by the hash of its secret, whatever its state; the caller checks
    /// `is_active` so that it can tell a revoked token from an unknown one in logs.
    async fn token_by_hash(&self, secret_hash: &str) -> Result<ApiToken>;
    /// Newest first.
    async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>>;
    async fn get_token(&self, id: TokenId) -> Result<ApiToken>;
    async fn revoke_token(&self, id: TokenId, now: Timestamp) -> Result<()>;
    async fn touch_token(&self, id: TokenId, now: Timestamp) -> Result<()>;
}

#[async_trait]
pub trait ProductStore: Send + Sync {
    /// Checks the placement rules against the parent's category (`Reference` when the
    /// parent does not exist) and rejects a second sibling of the same name (`Conflict`).
    async fn create_branch(&self, branch: &NewBranch, now: Timestamp) -> Result<Branch>;
    async fn get_branch(&self, id: BranchId) -> Result<Branch>;
    async fn list_branches(&self) -> Result<Vec<Branch>>;
    async fn rename_branch(&self, id: BranchId, name: &BranchName) -> Result<Branch>;
    /// Refuses (`Conflict`) while the branch has children.
    async fn delete_branch(&self, id: BranchId) -> Result<()>;
}

/// Failed sign-ins, counted in the database so that the limit holds across instances.
#[async_trait]
pub trait LoginThrottle: Send + Sync {
    async fn record_login_failure(&self, key: &str, at: Timestamp) -> Result<()>;
    async fn login_failures_since(&self, key: &str, since: Timestamp) -> Result<u64>;
    async fn clear_login_failures(&self, key: &str) -> Result<()>;
    /// Forgets failures older than any throttle window still looks at.
    async fn prune_login_failures(&self, before: Timestamp) -> Result<u64>;
}

/// The whole store, as the application holds it.
#[async_trait]
pub trait Store:
    OrgStore + UserStore + SessionStore + TokenStore + ProductStore + LoginThrottle
{
    fn backend(&self) -> Backend;
    /// Applies pending migrations; refuses a database migrated by a newer Keikai.
    async fn migrate(&self) -> Result<()>;
    /// Fails with `TooNew` or `Config("…not migrated…")` when the schema does not match.
    async fn check_schema(&self) -> Result<()>;
    async fn ping(&self) -> Result<()>;
    async fn close(&self);
}
