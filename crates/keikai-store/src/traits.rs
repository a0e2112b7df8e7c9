//! The storage traits, one per area. Every method is one atomic operation.
//!
//! Every write takes an [`Effects`] as its last argument: the audit entries, outbox jobs and
//! notices it commits with, in the same transaction, and the time of the change
//! (`Effects::at`, which is also the time of the rows it stores). Bookkeeping that decides
//! nothing (sessions, rate limits, a token's last use, read marks, the worker's claims and
//! outcomes) takes no effects.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use keikai_domain::advisory::{Advisory, AdvisoryState};
use keikai_domain::audit::AuditEntry;
use keikai_domain::case::{
    AttachmentMeta, Case, CaseIndex, CaseKind, CaseMessage, CaseState, Visibility,
};
use keikai_domain::partner::{AccessKind, Agreement, Alert, PartnerEdition, Question};
use keikai_domain::release::Release;
use keikai_domain::subscription::{AudienceList, Subscriber, WebhookEndpoint};
use keikai_domain::{
    AdvisoryId, ApiToken, AttachmentId, Branch, BranchCategory, BranchId, BranchName, CaseId,
    CaseScope, DisplayName, Email, JobId, ListId, Locale, Membership, OrgId, OrgKind, OrgName,
    Organisation, ReleaseId, Role, Scope, SubscriberId, TokenId, User, UserId,
};

use crate::{Backend, Effects, StoreError};

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone)]
pub struct NewOrganisation {
    /// Chosen by the caller (`OrgId::new()`), so that the audit entry can name it.
    pub id: OrgId,
    pub name: OrgName,
    pub kind: OrgKind,
}

impl NewOrganisation {
    /// The organisation as `create_org` stores it at `at` (`Effects::at`): what its audit
    /// entry describes.
    pub fn created(&self, at: Timestamp) -> Organisation {
        Organisation {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind,
            created_at: at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    /// Chosen by the caller (`UserId::new()`), so that the audit entry can name it.
    pub id: UserId,
    pub email: Email,
    pub display_name: DisplayName,
    /// A PHC string (Argon2id); the store never sees a password.
    pub password_hash: String,
    pub locale: Option<Locale>,
}

impl NewUser {
    /// The user as `create_user` stores them at `at` (`Effects::at`): what their audit
    /// entry describes.
    pub fn created(&self, at: Timestamp) -> User {
        User {
            id: self.id,
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            locale: self.locale,
            created_at: at,
            disabled_at: None,
        }
    }
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
    /// Chosen by the caller (`TokenId::new()`), so that the audit entry can name it.
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// SHA-256 (hex) of the secret.
    pub secret_hash: String,
    pub expires_at: Option<Timestamp>,
}

impl NewToken {
    /// The token as `create_token` stores it at `at` (`Effects::at`): what its audit entry
    /// describes.
    pub fn created(&self, at: Timestamp) -> ApiToken {
        ApiToken {
            id: self.id,
            user_id: self.user_id,
            name: self.name.clone(),
            scopes: self.scopes.clone(),
            created_at: at,
            // Stored to the microsecond, as every timestamp.
            expires_at: self
                .expires_at
                .map(|t| Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)),
            last_used_at: None,
            revoked_at: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewBranch {
    /// Chosen by the caller (`BranchId::new()`), so that the audit entry can name it.
    pub id: BranchId,
    pub parent_id: Option<BranchId>,
    pub category: BranchCategory,
    pub name: BranchName,
}

impl NewBranch {
    /// The branch as `create_branch` stores it at `at` (`Effects::at`): what its audit entry
    /// describes.
    pub fn created(&self, at: Timestamp) -> Branch {
        Branch {
            id: self.id,
            parent_id: self.parent_id,
            category: self.category,
            name: self.name.clone(),
            created_at: at,
        }
    }
}

#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn create_org(&self, org: &NewOrganisation, fx: &Effects) -> Result<Organisation>;
    async fn get_org(&self, id: OrgId) -> Result<Organisation>;
    /// Ordered by name.
    async fn list_orgs(&self) -> Result<Vec<Organisation>>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user with their memberships (each checked as `add_membership` checks it),
    /// in one transaction. Fails with `Conflict` when the e-mail address is taken.
    async fn create_user(
        &self,
        user: &NewUser,
        memberships: &[Membership],
        fx: &Effects,
    ) -> Result<User>;
    async fn get_user(&self, id: UserId) -> Result<User>;
    async fn credentials_by_email(&self, email: &Email) -> Result<Credentials>;
    /// Ordered by e-mail address.
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn count_users(&self) -> Result<u64>;
    async fn set_password_hash(&self, id: UserId, password_hash: &str, fx: &Effects) -> Result<()>;
    async fn set_locale(&self, id: UserId, locale: Option<Locale>, fx: &Effects) -> Result<()>;
    async fn set_display_name(&self, id: UserId, name: &DisplayName, fx: &Effects) -> Result<()>;
    async fn set_disabled(
        &self,
        id: UserId,
        disabled_at: Option<Timestamp>,
        fx: &Effects,
    ) -> Result<()>;
    /// Checks that the role fits the organisation's kind; adding an existing membership is a
    /// no-op (its effects are still written).
    async fn add_membership(
        &self,
        user: UserId,
        org: OrgId,
        role: Role,
        fx: &Effects,
    ) -> Result<()>;
    async fn remove_membership(
        &self,
        user: UserId,
        org: OrgId,
        role: Role,
        fx: &Effects,
    ) -> Result<()>;
    async fn memberships(&self, user: UserId) -> Result<Vec<Membership>>;
    /// Users not disabled who hold any of `roles` in an organisation of kind `own`.
    async fn internal_users_with_roles(&self, roles: &[Role]) -> Result<Vec<User>>;
    /// Creates the organisation, the user and an admin membership with `fx` in one
    /// transaction, but only while no user exists. Returns `None` (and writes nothing) when
    /// another instance got there first.
    async fn bootstrap_admin(
        &self,
        org: &NewOrganisation,
        user: &NewUser,
        fx: &Effects,
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
    /// Signs a user out everywhere but in the session `keep_id_hash` (after they changed
    /// their own password in it).
    async fn delete_other_sessions(&self, user: UserId, keep_id_hash: &str) -> Result<u64>;
    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64>;
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_token(&self, token: &NewToken, fx: &Effects) -> Result<ApiToken>;
    /// Looks a token up by the hash of its secret, whatever its state; the caller checks
    /// `is_active` so that it can tell a revoked token from an unknown one in logs.
    async fn token_by_hash(&self, secret_hash: &str) -> Result<ApiToken>;
    /// Newest first.
    async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>>;
    async fn get_token(&self, id: TokenId) -> Result<ApiToken>;
    /// Revokes at `fx.at`.
    async fn revoke_token(&self, id: TokenId, fx: &Effects) -> Result<()>;
    /// Bookkeeping: records the token's last use.
    async fn touch_token(&self, id: TokenId, now: Timestamp) -> Result<()>;
}

#[async_trait]
pub trait ProductStore: Send + Sync {
    /// Checks the placement rules against the parent's category (`Reference` when the
    /// parent does not exist) and rejects a second sibling of the same name (`Conflict`).
    async fn create_branch(&self, branch: &NewBranch, fx: &Effects) -> Result<Branch>;
    async fn get_branch(&self, id: BranchId) -> Result<Branch>;
    async fn list_branches(&self) -> Result<Vec<Branch>>;
    async fn rename_branch(&self, id: BranchId, name: &BranchName, fx: &Effects) -> Result<Branch>;
    /// Refuses (`Conflict`) while the branch has children.
    async fn delete_branch(&self, id: BranchId, fx: &Effects) -> Result<()>;
}

/// Attempts counted against a rate limit (failed sign-ins, anonymous reports), in the
/// database so that the limit holds across instances. `key` names what is limited
/// (`ip:…`, `email:…`, `report:…`).
#[async_trait]
pub trait RateLimiter: Send + Sync {
    async fn record_attempt(&self, key: &str, at: Timestamp) -> Result<()>;
    async fn attempts_since(&self, key: &str, since: Timestamp) -> Result<u64>;
    async fn clear_attempts(&self, key: &str) -> Result<()>;
    /// Forgets attempts older than any window still looks at.
    async fn prune_attempts(&self, before: Timestamp) -> Result<u64>;
}

/// A file to keep with a case; its name and type were checked by the caller.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub case_id: CaseId,
    pub visibility: Visibility,
    pub author: Option<UserId>,
    pub from_reporter: bool,
    pub body: String,
    pub attachments: Vec<NewAttachment>,
}

/// An in-app notice for one user (the on-call PSIRT on an emergency, for example).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub user_id: UserId,
    pub case_id: Option<CaseId>,
    /// A message key the UI translates (`notification-emergency`, …).
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: uuid::Uuid,
    pub user_id: UserId,
    pub case_id: Option<CaseId>,
    pub kind: String,
    pub text: String,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

/// Which cases a list shows. Every field narrows it; `scope` is always applied.
#[derive(Debug, Clone)]
pub struct CaseFilter {
    pub scope: CaseScope,
    pub state: Option<CaseState>,
    /// Only cases not yet closed, rejected or marked duplicate.
    pub open_only: bool,
    pub kind: Option<CaseKind>,
    pub branch: Option<BranchId>,
    pub severity: Option<String>,
    pub owner: Option<UserId>,
    pub team: Option<OrgId>,
    /// Cases with a deadline before this time (pass "now" for overdue).
    pub deadline_before: Option<Timestamp>,
    pub emergency: Option<bool>,
    /// Each whitespace-separated term must occur (after `normalize_search`).
    pub text: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

impl CaseFilter {
    pub fn new(scope: CaseScope) -> Self {
        Self {
            scope,
            state: None,
            open_only: false,
            kind: None,
            branch: None,
            severity: None,
            owner: None,
            team: None,
            deadline_before: None,
            emergency: None,
            text: None,
            limit: 100,
            offset: 0,
        }
    }
}

/// A row of the case list.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSummary {
    pub id: CaseId,
    pub number: i64,
    pub title: String,
    pub kind: CaseKind,
    pub state: CaseState,
    pub severity: Option<String>,
    pub emergency: bool,
    pub owner: Option<UserId>,
    pub team: Option<OrgId>,
    pub next_deadline: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Cases, their messages and attachments, and the notices they raise.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Inserts a new case with the next case number, and its tracking-link hash (SHA-256
    /// hex of the secret link) when the reporter has no account, with its first messages
    /// (the files sent with a report, an automatic acknowledgement), in order: a report is
    /// stored with its attachments or not at all.
    async fn create_case(
        &self,
        case: &Case,
        index: &CaseIndex,
        tracking_hash: Option<&str>,
        messages: &[NewMessage],
        fx: &Effects,
    ) -> Result<Case>;
    async fn get_case(&self, id: CaseId) -> Result<Case>;
    async fn case_by_number(&self, number: i64) -> Result<Case>;
    async fn case_by_tracking_hash(&self, tracking_hash: &str) -> Result<Case>;
    /// Saves a changed case, refusing (`Conflict`) when someone saved it after the revision
    /// it was read at; returns it with its new revision.
    async fn save_case(&self, case: &Case, index: &CaseIndex, fx: &Effects) -> Result<Case>;
    async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>>;
    async fn count_cases(&self, filter: &CaseFilter) -> Result<u64>;
    /// Adds a message with its attachments. With `case`, the case is saved in the same
    /// transaction as `save_case` saves it (`Conflict` on a stale revision, and then the
    /// message is not stored either): so the first answer to a reporter and the
    /// acknowledgement it starts are recorded together.
    async fn add_message(
        &self,
        message: &NewMessage,
        case: Option<(&Case, &CaseIndex)>,
        fx: &Effects,
    ) -> Result<CaseMessage>;
    /// Oldest first; `visibility` `Some` selects one side only.
    async fn list_messages(
        &self,
        case: CaseId,
        visibility: Option<Visibility>,
    ) -> Result<Vec<CaseMessage>>;
    async fn get_attachment(&self, id: AttachmentId) -> Result<(AttachmentMeta, Vec<u8>)>;
    /// Newest first.
    async fn notifications(&self, user: UserId, unread_only: bool) -> Result<Vec<Notification>>;
    /// Bookkeeping: marks a user's notices read.
    async fn mark_notifications_read(&self, user: UserId, now: Timestamp) -> Result<u64>;
}

/// The hash-chained audit log, and the write that is nothing but effects.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Writes effects that go with no other change (an early warning's audit entry and its
    /// fan-out job, scheduled jobs) in one transaction; returns how many jobs were new.
    async fn commit(&self, fx: &Effects) -> Result<u64>;
    /// Every entry about one subject, oldest first.
    async fn audit_for(&self, subject: &str) -> Result<Vec<AuditEntry>>;
    /// Entries with `seq > after`, in order, at most `limit`: for verifying the whole chain
    /// page by page.
    async fn audit_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>>;
    /// The last entry's sequence number and hash, as recorded beside the chain.
    async fn audit_head(&self) -> Result<Option<(i64, String)>>;
}

/// Which advisories a list returns.
#[derive(Debug, Clone, Default)]
pub struct AdvisoryFilter {
    pub state: Option<AdvisoryState>,
    pub release: Option<ReleaseId>,
    pub case: Option<CaseId>,
    /// Only what the public may see: published, and TLP:CLEAR in its latest version. The text
    /// search then looks at the published text only, never at a draft.
    pub public_only: bool,
    /// Each whitespace-separated term must occur (after `normalize_search`).
    pub text: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// A file a published version leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArtifact {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactMeta {
    pub advisory_id: AdvisoryId,
    pub version: u32,
    pub name: String,
    pub content_type: String,
    pub sha256: String,
    pub size: u64,
    pub created_at: Timestamp,
}

/// Advisories, releases and the published files.
#[async_trait]
pub trait AdvisoryStore: Send + Sync {
    /// The next number for a tracking id of `year` (1, 2, ...). Numbers used by an advisory
    /// that was then not stored are not reused.
    async fn next_advisory_seq(&self, year: i16) -> Result<i64>;
    async fn create_advisory(&self, advisory: &Advisory, fx: &Effects) -> Result<Advisory>;
    async fn get_advisory(&self, id: AdvisoryId) -> Result<Advisory>;
    async fn advisory_by_tracking_id(&self, tracking_id: &str) -> Result<Advisory>;
    /// Saves a changed advisory, refusing (`Conflict`) a stale revision.
    async fn save_advisory(&self, advisory: &Advisory, fx: &Effects) -> Result<Advisory>;
    /// Newest first (by latest publication for `public_only`, else by last change).
    async fn list_advisories(&self, filter: &AdvisoryFilter) -> Result<Vec<Advisory>>;

    async fn create_release(&self, release: &Release, fx: &Effects) -> Result<Release>;
    async fn get_release(&self, id: ReleaseId) -> Result<Release>;
    /// Soonest first; published ones only when asked.
    async fn list_releases(&self, include_published: bool) -> Result<Vec<Release>>;
    /// Saves a changed release, refusing (`Conflict`) a stale revision.
    async fn save_release(&self, release: &Release, fx: &Effects) -> Result<Release>;
    /// Planned releases whose time has come.
    async fn due_releases(&self, now: Timestamp) -> Result<Vec<Release>>;
    /// Publishes a release in one transaction: the release moves from planned to published
    /// (its stored revision must still be the one read, so of two instances only one gets
    /// here; the other gets `Conflict`), every advisory is saved (optimistically) and its
    /// version's artifacts are written, with the effects: the audit entries and the jobs
    /// announcing it (the distribution's fan-outs).
    async fn publish_release(
        &self,
        release: &Release,
        advisories: &[(Advisory, Vec<NewArtifact>)],
        fx: &Effects,
    ) -> Result<()>;
    async fn artifact(
        &self,
        advisory: AdvisoryId,
        version: u32,
        name: &str,
    ) -> Result<(ArtifactMeta, Vec<u8>)>;
    /// A file of a public advisory (published, TLP:CLEAR in its latest version): of its
    /// latest version, or of an earlier `version`. Anything else is `NotFound`.
    async fn public_artifact(
        &self,
        tracking_id: &str,
        version: Option<u32>,
        name: &str,
    ) -> Result<(ArtifactMeta, Vec<u8>)>;
    /// The file `name` of whichever public advisory's latest version has one (artifact names
    /// that embed the tracking id, like the CSAF file, are unique).
    async fn public_latest_artifact_by_name(&self, name: &str) -> Result<(ArtifactMeta, Vec<u8>)>;
    /// Every artifact (of one advisory, or all), oldest first.
    async fn list_artifacts(&self, advisory: Option<AdvisoryId>) -> Result<Vec<ArtifactMeta>>;

    async fn setting(&self, name: &str) -> Result<Option<String>>;
    /// Stores `value` unless the setting exists, with `fx` when it does (one transaction);
    /// returns what is stored. The first writer wins, so instances that start together
    /// agree, and only the winner's effects are written.
    async fn put_setting_if_absent(&self, name: &str, value: &str, fx: &Effects) -> Result<String>;
}

/// One entry of the partner access trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    pub id: uuid::Uuid,
    pub at: Timestamp,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub kind: AccessKind,
    pub release_id: Option<ReleaseId>,
    pub advisory_id: Option<AdvisoryId>,
    pub alert_id: Option<uuid::Uuid>,
    /// What exactly, e.g. the file name of a download.
    pub detail: String,
}

impl AccessRecord {
    pub fn new(at: Timestamp, user_id: UserId, org_id: OrgId, kind: AccessKind) -> Self {
        Self {
            id: uuid::Uuid::now_v7(),
            at,
            user_id,
            org_id,
            kind,
            release_id: None,
            advisory_id: None,
            alert_id: None,
            detail: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertAck {
    pub alert_id: uuid::Uuid,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub at: Timestamp,
}

/// A tier's package of a release that went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageDelivery {
    pub release_id: ReleaseId,
    pub tier: String,
    pub delivered_at: Timestamp,
    pub recipients: i64,
}

/// A partner contact whose account works, with the partner organisation they speak for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerContact {
    pub org_id: OrgId,
    pub user: User,
}

#[async_trait]
pub trait PartnerStore: Send + Sync {
    /// Saves an agreement read at `agreement.revision` (0 when new); a stale revision, or a
    /// new agreement where one exists, is `Conflict`.
    async fn save_agreement(&self, agreement: &Agreement, fx: &Effects) -> Result<Agreement>;
    async fn agreement(&self, org: OrgId) -> Result<Option<Agreement>>;
    async fn list_agreements(&self) -> Result<Vec<Agreement>>;
    /// Saves a partner edition read at `edition.revision` (0 when new), optimistically.
    async fn save_partner_edition(
        &self,
        edition: &PartnerEdition,
        fx: &Effects,
    ) -> Result<PartnerEdition>;
    async fn partner_edition(&self, advisory: AdvisoryId) -> Result<Option<PartnerEdition>>;
    async fn create_question(&self, question: &Question, fx: &Effects) -> Result<Question>;
    /// Saves an answered question, optimistically.
    async fn save_question(&self, question: &Question, fx: &Effects) -> Result<Question>;
    async fn get_question(&self, id: uuid::Uuid) -> Result<Question>;
    /// Oldest first; of one release or all.
    async fn list_questions(&self, release: Option<ReleaseId>) -> Result<Vec<Question>>;
    /// Stores a sent alert with the effects (the jobs that deliver it), in one transaction.
    async fn create_alert(&self, alert: &Alert, fx: &Effects) -> Result<Alert>;
    async fn get_alert(&self, id: uuid::Uuid) -> Result<Alert>;
    /// Newest first.
    async fn list_alerts(&self) -> Result<Vec<Alert>>;
    /// Records an acknowledgement, the access-trail line `access` and `fx` in one
    /// transaction; `false` when this user had acknowledged already (the line is kept all
    /// the same: the trail records every visit).
    async fn acknowledge_alert(
        &self,
        ack: &AlertAck,
        access: &AccessRecord,
        fx: &Effects,
    ) -> Result<bool>;
    async fn alert_acks(&self, alert: uuid::Uuid) -> Result<Vec<AlertAck>>;
    /// Appends to the access trail, with `fx`, in one transaction.
    async fn log_access(&self, record: &AccessRecord, fx: &Effects) -> Result<()>;
    /// Newest first; of one organisation or all.
    async fn list_access(&self, org: Option<OrgId>, limit: i64) -> Result<Vec<AccessRecord>>;
    /// Claims the delivery of `tier`'s package of `release` and writes `fx` (the jobs of its
    /// mail) in the same transaction: `true` for the one caller that records it, `false`
    /// (and no effects) when it went out already, here or on another instance.
    async fn record_package_delivery(
        &self,
        delivery: &PackageDelivery,
        fx: &Effects,
    ) -> Result<bool>;
    async fn package_deliveries(&self, release: ReleaseId) -> Result<Vec<PackageDelivery>>;
    /// The releases whose packages may still be due: every planned release, and those
    /// planned for `since` or later that went out (early, or on time since then). Soonest
    /// first.
    async fn releases_to_deliver(&self, since: Timestamp) -> Result<Vec<Release>>;
    /// Every partner contact whose account is not disabled, once for each organisation they
    /// speak for (in one query, for mailing many organisations at once); by e-mail address.
    async fn partner_contacts(&self) -> Result<Vec<PartnerContact>>;
}

/// Work to do later, outside the database: an e-mail to send, a webhook to call.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What the work is (`mail`, …): a worker runs only the kinds it has a handler for.
    pub kind: String,
    /// The idempotency key: a second job with the same key is not inserted, so that
    /// announcing one change twice (a retried request, two instances) sends one message.
    pub key: String,
    /// What the handler needs, as JSON.
    pub payload: serde_json::Value,
    /// Not before this time.
    pub run_at: Timestamp,
}

impl NewJob {
    pub fn new(
        kind: impl Into<String>,
        key: impl Into<String>,
        payload: serde_json::Value,
        run_at: Timestamp,
    ) -> Self {
        Self {
            kind: kind.into(),
            key: key.into(),
            payload,
            run_at,
        }
    }
}

/// `ALL`, `as_str`, `Display` and `FromStr` for an enum stored as text, from its variants
/// and their texts; `what` names the enum in the error for a text that is none of them.
macro_rules! text_enum {
    ($t:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $t {
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $t {
            type Err = String;

            fn from_str(s: &str) -> std::result::Result<Self, String> {
                Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
                    format!(
                        concat!("\"{}\" is not ", $what, " ({})"),
                        s,
                        [$($text),+].join(", ")
                    )
                })
            }
        }
    };
}

/// Where a job is: queued (waiting for `run_at`), running (claimed by a worker until its
/// lease runs out), done, or dead (failed for good, or out of attempts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Dead,
}

text_enum!(JobState, "a job state", {
    Queued => "queued",
    Running => "running",
    Done => "done",
    Dead => "dead",
});

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub key: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    /// How often a worker has claimed it (the current run included).
    pub attempts: u32,
    pub run_at: Timestamp,
    /// The worker that holds it (running) or held it last.
    pub locked_by: Option<String>,
    /// While running: when the lease runs out and another worker may claim it.
    pub locked_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// Which jobs a list shows, newest first.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Kinds that start with this string (`mail` matches `mail` and `mail.partner`).
    pub kind_prefix: Option<String>,
    pub state: Option<JobState>,
    pub limit: u32,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub dead: u64,
}

/// The outbox, as the worker sees it (jobs are written as `Effects`). Jobs are claimed with
/// a lease; completing or failing one is refused
/// (`Conflict`) once another worker has taken it over, so that a worker that stalled past
/// its lease cannot overwrite the newer run's outcome.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Claims up to `limit` jobs of the given kinds that are due at `now` (queued with
    /// `run_at <= now`, or running with a lease that ran out), oldest `run_at` first:
    /// each becomes running, held by `worker` until `now + lease`, one attempt more.
    /// Concurrent claimers never get the same job.
    async fn claim_jobs(
        &self,
        worker: &str,
        kinds: &[&str],
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<Job>>;
    /// Marks a running job done; `Conflict` unless `worker` still holds it.
    async fn complete_job(&self, id: JobId, worker: &str, now: Timestamp) -> Result<()>;
    /// Marks running jobs done in one statement (a worker's batch); returns how many
    /// `worker` still held (and so marked).
    async fn complete_jobs(&self, ids: &[JobId], worker: &str, now: Timestamp) -> Result<u64>;
    /// Records a failed run: queued again for `retry_at`, or dead when `None`. `Conflict`
    /// unless `worker` still holds it.
    async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()>;
    async fn get_job(&self, id: JobId) -> Result<Job>;
    async fn get_job_by_key(&self, key: &str) -> Result<Job>;
    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>>;
    /// Counts by state, of every job or of the kinds that start with `kind_prefix`.
    async fn count_jobs_by_state(&self, kind_prefix: Option<&str>) -> Result<JobCounts>;
    /// Deletes the finished (done or dead) jobs of the kinds that start with `kind_prefix`
    /// that finished before `before`; returns how many. For work that leaves a job per run
    /// and needs no record (the schedule's ticks), not for messages, whose keys keep them
    /// from being sent twice.
    async fn prune_jobs(&self, kind_prefix: &str, before: Timestamp) -> Result<u64>;
}

/// A subscriber as stored: with the secret of their links and the lists they are on.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriberRecord {
    pub subscriber: Subscriber,
    /// The secret in their confirmation, unsubscribe and preference links.
    pub token: String,
    pub lists: Vec<ListId>,
    pub updated_at: Timestamp,
}

/// One subscriber of an import, with the lists to put them on.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscription {
    pub subscriber: Subscriber,
    pub token: String,
    pub lists: Vec<ListId>,
}

/// What an import did: subscribers created, and existing ones added to further lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
}

/// Everything the fan-out needs to plan an event, read in one go.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub lists: Vec<AudienceList>,
    pub members: Vec<(ListId, SubscriberId)>,
    /// Active subscribers only.
    pub subscribers: Vec<SubscriberRecord>,
    /// Enabled endpoints only.
    pub webhooks: Vec<WebhookEndpoint>,
}

/// An edition as stored (its content is the domain's `Edition`, as JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct EditionRecord {
    pub name: String,
    pub revision: i64,
    pub data: serde_json::Value,
    pub updated_at: Timestamp,
}

/// Something that was distributed (a publication, a release summary, an early warning, a
/// digest), as the fan-out recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct DistributionEvent {
    pub id: uuid::Uuid,
    /// Unique per event: `advisory:KEIKAI-2026-0001:v2`, `release:…`, `digest:daily:…`.
    pub key: String,
    pub kind: String,
    pub title: String,
    /// What the messages are rendered from.
    pub data: serde_json::Value,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Mail,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Webhook => "webhook",
        }
    }
}

/// Where one recipient's message of an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryState {
    /// Waiting to be sent (or to be sent again after a failed attempt).
    Queued,
    /// Handed to the SMTP relay, or answered 2xx by the webhook.
    Sent,
    /// Given up: out of attempts, or refused for a reason sending again cannot change.
    Failed,
    /// The relay refused the recipient, or a bounce came back later.
    Bounced,
}

text_enum!(DeliveryState, "a delivery state", {
    Queued => "queued",
    Sent => "sent",
    Failed => "failed",
    Bounced => "bounced",
});

/// One recipient of an event, as the fan-out plans it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub id: uuid::Uuid,
    pub channel: Channel,
    /// The subscriber (mail) or the webhook endpoint.
    pub recipient_id: uuid::Uuid,
    pub list_id: ListId,
    /// The e-mail address or the URL, as it was when planned.
    pub address: String,
    pub locale: Locale,
    /// The Message-ID (mail) or the X-Keikai-Delivery id (webhook); the same on every attempt.
    pub message_id: String,
    /// The secret of the acknowledgement link, when the edition asks for one.
    pub ack_token: Option<String>,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub channel: Channel,
    pub recipient_id: uuid::Uuid,
    pub list_id: ListId,
    pub address: String,
    pub locale: Locale,
    pub state: DeliveryState,
    pub attempts: u32,
    pub error: Option<String>,
    pub message_id: String,
    pub ack_token: Option<String>,
    pub acked_at: Option<Timestamp>,
    pub queued_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// An event's deliveries by state, and how many were acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
    pub bounced: u64,
    pub acknowledged: u64,
}

impl DeliveryCounts {
    pub fn total(&self) -> u64 {
        self.queued + self.sent + self.failed + self.bounced
    }
}

/// Subscribers, lists, editions, webhook endpoints, and what was distributed to whom.
#[async_trait]
pub trait DistributionStore: Send + Sync {
    /// A self-service subscription with the effects (the jobs of its confirmation mail), in
    /// one transaction; `Conflict` when the address is subscribed already.
    async fn create_subscriber(&self, subscription: &NewSubscription, fx: &Effects) -> Result<()>;
    /// Creates the new addresses and adds existing ones to the given lists (their other
    /// settings are kept), in one transaction.
    async fn import_subscribers(
        &self,
        rows: &[NewSubscription],
        fx: &Effects,
    ) -> Result<ImportCounts>;
    /// Saves a subscriber's settings and state, and their lists when given, with the
    /// effects (a re-subscription's confirmation mail, an audit entry).
    async fn save_subscriber(
        &self,
        subscriber: &Subscriber,
        lists: Option<&[ListId]>,
        fx: &Effects,
    ) -> Result<()>;
    async fn get_subscriber(&self, id: SubscriberId) -> Result<SubscriberRecord>;
    async fn subscriber_by_token(&self, token: &str) -> Result<SubscriberRecord>;
    async fn subscriber_by_email(&self, email: &Email) -> Result<Option<SubscriberRecord>>;
    /// By address; of one list or all.
    async fn list_subscribers(
        &self,
        list: Option<ListId>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<SubscriberRecord>>;
    async fn count_subscribers(&self, list: Option<ListId>) -> Result<u64>;

    /// Creates or replaces a list; `Conflict` when another list has its name.
    async fn save_list(&self, list: &AudienceList, fx: &Effects) -> Result<()>;
    async fn get_list(&self, id: ListId) -> Result<AudienceList>;
    /// By priority, then age.
    async fn list_lists(&self) -> Result<Vec<AudienceList>>;
    async fn delete_list(&self, id: ListId, fx: &Effects) -> Result<()>;
    /// Lists, memberships, active subscribers and enabled endpoints, read consistently.
    async fn audience(&self) -> Result<Audience>;

    /// Saves an edition read at `expected_revision` (0 when new); a stale revision is
    /// `Conflict`. Returns the new revision.
    async fn save_edition(
        &self,
        name: &str,
        data: &serde_json::Value,
        expected_revision: i64,
        fx: &Effects,
    ) -> Result<i64>;
    async fn get_edition(&self, name: &str) -> Result<Option<EditionRecord>>;
    async fn list_editions(&self) -> Result<Vec<EditionRecord>>;

    async fn save_webhook(&self, endpoint: &WebhookEndpoint, fx: &Effects) -> Result<()>;
    async fn get_webhook(&self, id: uuid::Uuid) -> Result<WebhookEndpoint>;
    async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>>;
    /// Counts a webhook attempt: a success resets the failures; a failure adds one and,
    /// at `disable_after` in a row, disables the endpoint with `error` as the reason.
    /// Returns whether the endpoint is (now) disabled.
    async fn record_webhook_attempt(
        &self,
        id: uuid::Uuid,
        error: Option<&str>,
        disable_after: u32,
        now: Timestamp,
    ) -> Result<bool>;

    /// Records an event with its deliveries and the effects (the jobs that send them), in
    /// one transaction: `false` (and nothing written) when the event was recorded already.
    async fn record_fanout(
        &self,
        event: &DistributionEvent,
        deliveries: &[NewDelivery],
        fx: &Effects,
    ) -> Result<bool>;
    async fn get_event(&self, id: uuid::Uuid) -> Result<DistributionEvent>;
    async fn event_by_key(&self, key: &str) -> Result<Option<DistributionEvent>>;
    /// Newest first.
    async fn list_events(&self, limit: u32) -> Result<Vec<DistributionEvent>>;
    async fn get_delivery(&self, id: uuid::Uuid) -> Result<DeliveryRecord>;
    async fn delivery_by_message_id(&self, message_id: &str) -> Result<DeliveryRecord>;
    /// The delivery whose acknowledgement link holds `token`.
    async fn delivery_by_ack_token(&self, token: &str) -> Result<DeliveryRecord>;
    /// An event's deliveries (of one state or all), by address.
    async fn list_deliveries(
        &self,
        event: uuid::Uuid,
        state: Option<DeliveryState>,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>>;
    async fn delivery_counts(&self, event: uuid::Uuid) -> Result<DeliveryCounts>;
    /// Records an attempt's outcome. A sent delivery stays sent, except that a bounce
    /// reported later marks it bounced.
    async fn mark_delivery(
        &self,
        id: uuid::Uuid,
        state: DeliveryState,
        error: Option<&str>,
        attempts: u32,
        now: Timestamp,
    ) -> Result<()>;
    /// Records the acknowledgement behind `token` (the first one counts); `NotFound` for
    /// an unknown token.
    async fn acknowledge_delivery(&self, token: &str, now: Timestamp) -> Result<DeliveryRecord>;
}

/// The whole store, as the application holds it.
#[async_trait]
pub trait Store:
    OrgStore
    + UserStore
    + SessionStore
    + TokenStore
    + ProductStore
    + RateLimiter
    + CaseStore
    + AuditStore
    + AdvisoryStore
    + PartnerStore
    + JobStore
    + DistributionStore
{
    fn backend(&self) -> Backend;
    /// Applies pending migrations; refuses a database migrated by a newer Keikai.
    async fn migrate(&self) -> Result<()>;
    /// Fails with `TooNew` or `Config("…not migrated…")` when the schema does not match.
    async fn check_schema(&self) -> Result<()>;
    async fn ping(&self) -> Result<()>;
    async fn close(&self);
}
