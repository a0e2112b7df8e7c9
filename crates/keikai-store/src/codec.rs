//! What both backends share below the SQL: the timestamp codec, the row types and their
//! conversion to domain types, and the mapping of database errors to [`StoreError`].

use std::fmt::Display;

use jiff_sqlx::ToSqlx;
use keikai_domain::{
    ApiToken, Branch, BranchId, BranchName, DisplayName, Email, Locale, Membership, OrgId, OrgName,
    Organisation, Scope, TokenId, User, UserId,
};
use sqlx::encode::IsNull;
use sqlx::error::{BoxDynError, ErrorKind};
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type};
use uuid::Uuid;

use crate::{Backend, StoreError};

/// A timestamp as stored: microsecond precision on both backends (PostgreSQL's `timestamptz`
/// holds no more), so that what is read back equals what was written whatever the backend.
///
/// PostgreSQL uses jiff-sqlx's `timestamptz` codec. On SQLite the column is TEXT, and jiff-sqlx
/// writes as few fractional digits as needed ("…:00Z", "…:00.5Z"), which does not sort as the
/// instants do ('.' < 'Z'); expiry and rate-limit queries compare timestamps in SQL, so
/// this type writes a fixed width instead ("2026-11-23T12:54:00.000000Z") and leaves
/// reading to jiff-sqlx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ts(jiff::Timestamp);

impl Ts {
    pub(crate) fn get(self) -> jiff::Timestamp {
        self.0
    }
}

impl From<jiff::Timestamp> for Ts {
    fn from(t: jiff::Timestamp) -> Self {
        // Truncating (not rounding) cannot move an instant past a bound it was below.
        Self(jiff::Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t))
    }
}

impl Type<Sqlite> for Ts {
    fn type_info() -> SqliteTypeInfo {
        <str as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <jiff_sqlx::Timestamp as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Ts {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(format!("{:.6}", self.0), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Ts {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <jiff_sqlx::Timestamp as Decode<Sqlite>>::decode(value).map(|t| Self(t.to_jiff()))
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> PgTypeInfo {
        <jiff_sqlx::Timestamp as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode(self.0.to_sqlx(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for Ts {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <jiff_sqlx::Timestamp as Decode<Postgres>>::decode(value).map(|t| Self(t.to_jiff()))
    }
}

pub(crate) fn ts_opt(t: Option<jiff::Timestamp>) -> Option<Ts> {
    t.map(Ts::from)
}

/// A value read from the database that the domain refuses: the schema's CHECK lists and the
/// domain's rules have drifted apart, or someone edited the row by hand.
fn corrupt(column: &str, value: &str, why: impl Display) -> StoreError {
    StoreError::Other(format!(
        "{column} holds {value:?}, which Keikai cannot read: {why}"
    ))
}

fn parse<T, E: Display>(
    column: &str,
    value: &str,
    f: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    f(value).map_err(|e| corrupt(column, value, e))
}

/// An integer column read into a narrower type that must hold it.
fn narrow<T: TryFrom<i64>>(column: &str, n: i64) -> Result<T, StoreError>
where
    T::Error: Display,
{
    T::try_from(n).map_err(|e| corrupt(column, &n.to_string(), e))
}

/// A domain type as read from the database: the row type it is converted from, so that
/// reading by key need not name it.
pub(crate) trait Stored: Sized {
    type Row: TryInto<Self, Error = StoreError>;
}

/// `TryFrom<$row> for $target`, the conversion of a row type to its domain type (`$body`
/// reads the row as `$r`), and `$target`'s [`Stored`] row.
macro_rules! row_into {
    ($row:ident, $target:ty, |$r:ident| $body:expr) => {
        impl TryFrom<$row> for $target {
            type Error = StoreError;

            fn try_from($r: $row) -> Result<Self, StoreError> {
                $body
            }
        }

        impl Stored for $target {
            type Row = $row;
        }
    };
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrgRow {
    id: Uuid,
    name: String,
    kind: String,
    created_at: Ts,
}

row_into!(OrgRow, Organisation, |r| Ok(Self {
    id: OrgId::from_uuid(r.id),
    name: parse("organisations.name", &r.name, OrgName::parse)?,
    kind: parse("organisations.kind", &r.kind, str::parse)?,
    created_at: r.created_at.get(),
}));

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    email: String,
    display_name: String,
    locale: Option<String>,
    created_at: Ts,
    disabled_at: Option<Ts>,
}

row_into!(UserRow, User, |r| Ok(Self {
    id: UserId::from_uuid(r.id),
    email: parse("users.email", &r.email, Email::parse)?,
    display_name: parse("users.display_name", &r.display_name, DisplayName::parse)?,
    locale: r
        .locale
        .map(|l| parse("users.locale", &l, str::parse::<Locale>))
        .transpose()?,
    created_at: r.created_at.get(),
    disabled_at: r.disabled_at.map(Ts::get),
}));

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

row_into!(CredentialsRow, crate::Credentials, |r| Ok(Self {
    user: r.user.try_into()?,
    password_hash: r.password_hash,
}));

#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    org_id: Uuid,
    role: String,
}

row_into!(MembershipRow, Membership, |r| Ok(Self {
    org_id: OrgId::from_uuid(r.org_id),
    role: parse("memberships.role", &r.role, str::parse)?,
}));

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id_hash: String,
    user_id: Uuid,
    csrf_token: String,
    created_at: Ts,
    expires_at: Ts,
}

row_into!(SessionRow, crate::Session, |r| Ok(Self {
    id_hash: r.id_hash,
    user_id: UserId::from_uuid(r.user_id),
    csrf_token: r.csrf_token,
    created_at: r.created_at.get(),
    expires_at: r.expires_at.get(),
}));

/// Scopes are stored as a comma-separated list ("read,write").
pub(crate) fn scopes_to_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn scopes_from_text(text: &str) -> Result<Vec<Scope>, StoreError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| parse("api_tokens.scopes", text, |_| s.parse::<Scope>()))
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    scopes: String,
    created_at: Ts,
    expires_at: Option<Ts>,
    last_used_at: Option<Ts>,
    revoked_at: Option<Ts>,
}

row_into!(TokenRow, ApiToken, |r| Ok(Self {
    id: TokenId::from_uuid(r.id),
    user_id: UserId::from_uuid(r.user_id),
    name: r.name,
    scopes: scopes_from_text(&r.scopes)?,
    created_at: r.created_at.get(),
    expires_at: r.expires_at.map(Ts::get),
    last_used_at: r.last_used_at.map(Ts::get),
    revoked_at: r.revoked_at.map(Ts::get),
}));

#[derive(sqlx::FromRow)]
pub(crate) struct BranchRow {
    id: Uuid,
    parent_id: Option<Uuid>,
    category: String,
    name: String,
    created_at: Ts,
}

row_into!(BranchRow, Branch, |r| Ok(Self {
    id: BranchId::from_uuid(r.id),
    parent_id: r.parent_id.map(BranchId::from_uuid),
    category: parse("branches.category", &r.category, str::parse)?,
    name: parse("branches.name", &r.name, BranchName::parse)?,
    created_at: r.created_at.get(),
}));

/// Reads an enum column fetched on its own (an organisation's kind, a branch's category).
pub(crate) fn parse_enum<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, StoreError>
where
    T::Err: Display,
{
    parse(column, value, str::parse)
}

pub(crate) fn count(n: i64) -> u64 {
    // COUNT(*) is never negative.
    u64::try_from(n).unwrap_or(0)
}

/// A database error, sorted by what the caller may want to say about it.
pub(crate) enum DbError {
    /// A UNIQUE or PRIMARY KEY constraint; the caller names the value.
    Unique(String),
    /// A FOREIGN KEY constraint; the caller names the missing (or still referenced) row.
    ForeignKey(String),
    Other(StoreError),
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unique(m) => Self::Conflict(m),
            DbError::ForeignKey(m) => Self::Reference(m),
            DbError::Other(e) => e,
        }
    }
}

pub(crate) fn db_error(backend: Backend, e: sqlx::Error) -> StoreError {
    classify(backend, e).into()
}

pub(crate) fn classify(backend: Backend, e: sqlx::Error) -> DbError {
    match e {
        sqlx::Error::RowNotFound => DbError::Other(StoreError::NotFound),
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => DbError::Unique(db.message().to_owned()),
            ErrorKind::ForeignKeyViolation => DbError::ForeignKey(db.message().to_owned()),
            _ if is_transient(backend, db.code().as_deref()) => {
                DbError::Other(StoreError::Unavailable(db.message().to_owned()))
            }
            _ => DbError::Other(StoreError::Other(db.to_string())),
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => DbError::Other(StoreError::Unavailable(e.to_string())),
        e => DbError::Other(StoreError::Other(e.to_string())),
    }
}

/// Errors that say "try again later" rather than "this request is wrong".
fn is_transient(backend: Backend, code: Option<&str>) -> bool {
    let Some(code) = code else { return false };
    match backend {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes (low byte).
        Backend::Sqlite => code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6)),
        // Class 08 (connection exception), 53 (insufficient resources), 57P01..57P03
        // (shutdown, crash, cannot connect now).
        Backend::Postgres => {
            code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_timestamps_sort_as_text() {
        let whole = jiff::Timestamp::from_second(1_790_000_000).unwrap();
        let half = whole + jiff::SignedDuration::from_millis(500);
        let a = format!("{:.6}", Ts::from(whole).0);
        let b = format!("{:.6}", Ts::from(half).0);
        assert_eq!(a, "2026-09-21T14:13:20.000000Z");
        assert!(a < b, "{a} !< {b}");
        assert_eq!(a.len(), b.len());
    }

    #[test]
    fn timestamps_are_truncated_to_microseconds() {
        let t = jiff::Timestamp::new(1_790_000_000, 123_456_789).unwrap();
        assert_eq!(
            Ts::from(t).get(),
            jiff::Timestamp::new(1_790_000_000, 123_456_000).unwrap()
        );
    }

    #[test]
    fn scopes_round_trip() {
        for scopes in [vec![], vec![Scope::Read], vec![Scope::Read, Scope::Write]] {
            assert_eq!(scopes_from_text(&scopes_to_text(&scopes)).unwrap(), scopes);
        }
        let err = scopes_from_text("read,admin").unwrap_err().to_string();
        assert!(
            err.contains("api_tokens.scopes") && err.contains("admin"),
            "{err}"
        );
    }

    #[test]
    fn transient_codes() {
        assert!(is_transient(Backend::Sqlite, Some("5")));
        assert!(is_transient(Backend::Sqlite, Some("517")));
        assert!(!is_transient(Backend::Sqlite, Some("2067")));
        assert!(is_transient(Backend::Postgres, Some("08006")));
        assert!(is_transient(Backend::Postgres, Some("57P01")));
        assert!(!is_transient(Backend::Postgres, Some("23505")));
        assert!(!is_transient(Backend::Postgres, None));
    }
}

/// A case as stored: the aggregate's JSON and the columns the store owns.
#[derive(sqlx::FromRow)]
pub(crate) struct CaseRow {
    data: String,
    revision: i64,
    number: i64,
}

row_into!(CaseRow, keikai_domain::case::Case, |r| {
    let mut case: Self = serde_json::from_str(&r.data)
        .map_err(|e| corrupt("cases.data", &format!("case {}", r.number), e))?;
    case.revision = r.revision;
    case.number = r.number;
    Ok(case)
});

#[derive(sqlx::FromRow)]
pub(crate) struct CaseSummaryRow {
    id: Uuid,
    number: i64,
    title: String,
    kind: String,
    state: String,
    severity: Option<String>,
    emergency: bool,
    owner_id: Option<Uuid>,
    team_id: Option<Uuid>,
    next_deadline: Option<Ts>,
    created_at: Ts,
    updated_at: Ts,
}

row_into!(CaseSummaryRow, crate::CaseSummary, |r| Ok(Self {
    id: keikai_domain::CaseId::from_uuid(r.id),
    number: r.number,
    title: r.title,
    kind: parse("cases.kind", &r.kind, str::parse)?,
    state: parse("cases.state", &r.state, str::parse)?,
    severity: r.severity,
    emergency: r.emergency,
    owner: r.owner_id.map(UserId::from_uuid),
    team: r.team_id.map(OrgId::from_uuid),
    next_deadline: r.next_deadline.map(Ts::get),
    created_at: r.created_at.get(),
    updated_at: r.updated_at.get(),
}));

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    id: Uuid,
    case_id: Uuid,
    visibility: String,
    author_id: Option<Uuid>,
    from_reporter: bool,
    body: String,
    created_at: Ts,
}

row_into!(MessageRow, keikai_domain::case::CaseMessage, |r| Ok(Self {
    id: keikai_domain::MessageId::from_uuid(r.id),
    case_id: keikai_domain::CaseId::from_uuid(r.case_id),
    visibility: parse("case_messages.visibility", &r.visibility, str::parse)?,
    author: r.author_id.map(UserId::from_uuid),
    from_reporter: r.from_reporter,
    body: r.body,
    created_at: r.created_at.get(),
    attachments: Vec::new(),
}));

#[derive(sqlx::FromRow)]
pub(crate) struct AttachmentRow {
    id: Uuid,
    case_id: Uuid,
    message_id: Option<Uuid>,
    visibility: String,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    created_at: Ts,
}

row_into!(AttachmentRow, keikai_domain::case::AttachmentMeta, |r| Ok(
    Self {
        id: keikai_domain::AttachmentId::from_uuid(r.id),
        case_id: keikai_domain::CaseId::from_uuid(r.case_id),
        message_id: r.message_id.map(keikai_domain::MessageId::from_uuid),
        visibility: parse("attachments.visibility", &r.visibility, str::parse)?,
        file_name: r.file_name,
        content_type: r.content_type,
        size: r.size,
        sha256: r.sha256,
        created_at: r.created_at.get(),
    }
));

/// An attachment's metadata and bytes.
#[derive(sqlx::FromRow)]
pub(crate) struct AttachmentBytesRow {
    #[sqlx(flatten)]
    meta: AttachmentRow,
    bytes: Vec<u8>,
}

row_into!(
    AttachmentBytesRow,
    (keikai_domain::case::AttachmentMeta, Vec<u8>),
    |r| Ok((r.meta.try_into()?, r.bytes))
);

#[derive(sqlx::FromRow)]
pub(crate) struct NotificationRow {
    id: Uuid,
    user_id: Uuid,
    case_id: Option<Uuid>,
    kind: String,
    text: String,
    created_at: Ts,
    read_at: Option<Ts>,
}

row_into!(NotificationRow, crate::Notification, |r| Ok(Self {
    id: r.id,
    user_id: UserId::from_uuid(r.user_id),
    case_id: r.case_id.map(keikai_domain::CaseId::from_uuid),
    kind: r.kind,
    text: r.text,
    created_at: r.created_at.get(),
    read_at: r.read_at.map(Ts::get),
}));

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    at: Ts,
    actor: String,
    action: String,
    subject: String,
    before_json: String,
    after_json: String,
    prev_hash: String,
    hash: String,
}

row_into!(AuditRow, keikai_domain::audit::AuditEntry, |r| Ok(Self {
    seq: r.seq,
    at: r.at.get(),
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    before: r.before_json,
    after: r.after_json,
    prev_hash: r.prev_hash,
    hash: r.hash,
}));

/// An aggregate kept as JSON (advisories, releases) with the store's revision beside it.
#[derive(sqlx::FromRow)]
pub(crate) struct JsonRow {
    data: String,
    revision: i64,
}

/// Aggregates kept as JSON (advisories, releases, the partner programme's), with the store's
/// revision beside them.
macro_rules! json_aggregates {
    ($($t:ty => $column:literal, $what:literal;)+) => {
        $(row_into!(JsonRow, $t, |r| {
            let mut v: Self =
                serde_json::from_str(&r.data).map_err(|e| corrupt($column, $what, e))?;
            v.revision = r.revision;
            Ok(v)
        });)+
    };
}

json_aggregates! {
    keikai_domain::advisory::Advisory => "advisories.data", "an advisory";
    keikai_domain::release::Release => "releases.data", "a release";
    keikai_domain::partner::Agreement => "partner_agreements.data", "an agreement";
    keikai_domain::partner::PartnerEdition => "partner_editions.data", "a partner edition";
    keikai_domain::partner::Question => "partner_questions.data", "a question";
    keikai_domain::partner::Alert => "partner_alerts.data", "an alert";
}

#[derive(sqlx::FromRow)]
pub(crate) struct ArtifactRow {
    advisory_id: Uuid,
    version: i64,
    name: String,
    content_type: String,
    sha256: String,
    size: i64,
    created_at: Ts,
}

row_into!(ArtifactRow, crate::ArtifactMeta, |r| Ok(Self {
    advisory_id: keikai_domain::AdvisoryId::from_uuid(r.advisory_id),
    version: narrow("artifacts.version", r.version)?,
    name: r.name,
    content_type: r.content_type,
    sha256: r.sha256,
    size: u64::try_from(r.size).unwrap_or(0),
    created_at: r.created_at.get(),
}));

/// An artifact's metadata and bytes.
#[derive(sqlx::FromRow)]
pub(crate) struct ArtifactBytesRow {
    #[sqlx(flatten)]
    meta: ArtifactRow,
    bytes: Vec<u8>,
}

row_into!(ArtifactBytesRow, (crate::ArtifactMeta, Vec<u8>), |r| Ok((
    r.meta.try_into()?,
    r.bytes
)));

#[derive(sqlx::FromRow)]
pub(crate) struct AccessRow {
    id: Uuid,
    at: Ts,
    user_id: Uuid,
    org_id: Uuid,
    kind: String,
    release_id: Option<Uuid>,
    advisory_id: Option<Uuid>,
    alert_id: Option<Uuid>,
    detail: String,
}

row_into!(AccessRow, crate::AccessRecord, |r| Ok(Self {
    id: r.id,
    at: r.at.get(),
    user_id: UserId::from_uuid(r.user_id),
    org_id: OrgId::from_uuid(r.org_id),
    kind: parse("partner_access.kind", &r.kind, str::parse)?,
    release_id: r.release_id.map(keikai_domain::ReleaseId::from_uuid),
    advisory_id: r.advisory_id.map(keikai_domain::AdvisoryId::from_uuid),
    alert_id: r.alert_id,
    detail: r.detail,
}));

#[derive(sqlx::FromRow)]
pub(crate) struct AlertAckRow {
    alert_id: Uuid,
    user_id: Uuid,
    org_id: Uuid,
    at: Ts,
}

row_into!(AlertAckRow, crate::AlertAck, |r| Ok(Self {
    alert_id: r.alert_id,
    user_id: UserId::from_uuid(r.user_id),
    org_id: OrgId::from_uuid(r.org_id),
    at: r.at.get(),
}));

#[derive(sqlx::FromRow)]
pub(crate) struct PackageDeliveryRow {
    release_id: Uuid,
    tier: String,
    delivered_at: Ts,
    recipients: i64,
}

row_into!(PackageDeliveryRow, crate::PackageDelivery, |r| Ok(Self {
    release_id: keikai_domain::ReleaseId::from_uuid(r.release_id),
    tier: r.tier,
    delivered_at: r.delivered_at.get(),
    recipients: r.recipients,
}));

#[derive(sqlx::FromRow)]
pub(crate) struct PartnerContactRow {
    org_id: Uuid,
    #[sqlx(flatten)]
    user: UserRow,
}

row_into!(PartnerContactRow, crate::PartnerContact, |r| Ok(Self {
    org_id: OrgId::from_uuid(r.org_id),
    user: r.user.try_into()?,
}));

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: Uuid,
    kind: String,
    key: String,
    payload: String,
    state: String,
    attempts: i64,
    run_at: Ts,
    locked_by: Option<String>,
    locked_until: Option<Ts>,
    last_error: Option<String>,
    created_at: Ts,
    updated_at: Ts,
    finished_at: Option<Ts>,
}

row_into!(JobRow, crate::Job, |r| Ok(Self {
    id: keikai_domain::JobId::from_uuid(r.id),
    payload: serde_json::from_str(&r.payload).map_err(|e| corrupt(
        "jobs.payload",
        &format!("job {}", r.key),
        e
    ))?,
    state: parse("jobs.state", &r.state, str::parse)?,
    attempts: narrow("jobs.attempts", r.attempts)?,
    kind: r.kind,
    key: r.key,
    run_at: r.run_at.get(),
    locked_by: r.locked_by,
    locked_until: r.locked_until.map(Ts::get),
    last_error: r.last_error,
    created_at: r.created_at.get(),
    updated_at: r.updated_at.get(),
    finished_at: r.finished_at.map(Ts::get),
}));

// Distribution.

#[derive(sqlx::FromRow)]
pub(crate) struct SubscriberRow {
    id: Uuid,
    data: String,
    token: String,
    updated_at: Ts,
}

impl SubscriberRow {
    pub(crate) fn id(&self) -> Uuid {
        self.id
    }

    /// The record without its lists, which come from another query.
    pub(crate) fn into_record(self) -> Result<crate::SubscriberRecord, StoreError> {
        Ok(crate::SubscriberRecord {
            subscriber: serde_json::from_str(&self.data)
                .map_err(|e| corrupt("subscribers.data", "a subscriber", e))?,
            token: self.token,
            lists: Vec::new(),
            updated_at: self.updated_at.get(),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ListRow {
    data: String,
}

row_into!(ListRow, keikai_domain::subscription::AudienceList, |r| {
    serde_json::from_str(&r.data).map_err(|e| corrupt("audience_lists.data", "a list", e))
});

#[derive(sqlx::FromRow)]
pub(crate) struct WebhookRow {
    data: String,
    enabled: bool,
    consecutive_failures: i64,
    disabled_reason: Option<String>,
}

row_into!(
    WebhookRow,
    keikai_domain::subscription::WebhookEndpoint,
    |r| {
        let mut w: Self = serde_json::from_str(&r.data)
            .map_err(|e| corrupt("webhook_endpoints.data", "a webhook endpoint", e))?;
        // The health columns are written without rewriting `data`.
        w.enabled = r.enabled;
        w.consecutive_failures = u32::try_from(r.consecutive_failures).unwrap_or(u32::MAX);
        w.disabled_reason = r.disabled_reason;
        Ok(w)
    }
);

#[derive(sqlx::FromRow)]
pub(crate) struct EditionRow {
    name: String,
    revision: i64,
    data: String,
    updated_at: Ts,
}

row_into!(EditionRow, crate::EditionRecord, |r| Ok(Self {
    data: serde_json::from_str(&r.data).map_err(|e| corrupt("editions.data", "an edition", e))?,
    name: r.name,
    revision: r.revision,
    updated_at: r.updated_at.get(),
}));

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: Uuid,
    key: String,
    kind: String,
    title: String,
    data: String,
    created_at: Ts,
}

row_into!(EventRow, crate::DistributionEvent, |r| Ok(Self {
    data: serde_json::from_str(&r.data).map_err(|e| corrupt(
        "distribution_events.data",
        "an event",
        e
    ))?,
    id: r.id,
    key: r.key,
    kind: r.kind,
    title: r.title,
    created_at: r.created_at.get(),
}));

#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    id: Uuid,
    event_id: Uuid,
    channel: String,
    recipient_id: Uuid,
    list_id: Uuid,
    address: String,
    locale: String,
    state: String,
    attempts: i64,
    error: Option<String>,
    message_id: String,
    ack_token: Option<String>,
    acked_at: Option<Ts>,
    queued_at: Ts,
    sent_at: Option<Ts>,
    updated_at: Ts,
}

row_into!(DeliveryRow, crate::DeliveryRecord, |r| {
    let channel = match r.channel.as_str() {
        "mail" => crate::Channel::Mail,
        "webhook" => crate::Channel::Webhook,
        other => return Err(corrupt("deliveries.channel", other, "not a channel")),
    };
    Ok(Self {
        id: r.id,
        event_id: r.event_id,
        channel,
        recipient_id: r.recipient_id,
        list_id: keikai_domain::ListId::from_uuid(r.list_id),
        address: r.address,
        locale: parse("deliveries.locale", &r.locale, str::parse::<Locale>)?,
        state: parse("deliveries.state", &r.state, str::parse)?,
        attempts: u32::try_from(r.attempts).unwrap_or(0),
        error: r.error,
        message_id: r.message_id,
        ack_token: r.ack_token,
        acked_at: r.acked_at.map(Ts::get),
        queued_at: r.queued_at.get(),
        sent_at: r.sent_at.map(Ts::get),
        updated_at: r.updated_at.get(),
    })
});
