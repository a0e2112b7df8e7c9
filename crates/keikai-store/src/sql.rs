//! SQL shared by both backends. `$N` placeholders, `RETURNING` and `ON CONFLICT` work on
//! SQLite and PostgreSQL alike; times are computed in Rust and bound, never by SQL functions.
//! What differs (DDL, locks, catalogue queries) lives in `sqlite.rs` and `postgres.rs`.

// Column lists as macros so that `concat!` can build `&'static str` statements from them.
macro_rules! org_cols {
    () => {
        "id, name, kind, created_at"
    };
}
macro_rules! user_cols {
    () => {
        "id, email, display_name, locale, created_at, disabled_at"
    };
}
macro_rules! token_cols {
    () => {
        "id, user_id, name, scopes, created_at, expires_at, last_used_at, revoked_at"
    };
}
macro_rules! branch_cols {
    () => {
        "id, parent_id, category, name, created_at"
    };
}

pub(crate) const PING: &str = "SELECT 1";
pub(crate) const APPLIED_MIGRATIONS: &str =
    "SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version";

pub(crate) const INSERT_ORG: &str = concat!(
    "INSERT INTO organisations (id, name, kind, created_at) VALUES ($1, $2, $3, $4) RETURNING ",
    org_cols!()
);
pub(crate) const GET_ORG: &str =
    concat!("SELECT ", org_cols!(), " FROM organisations WHERE id = $1");
pub(crate) const LIST_ORGS: &str = concat!(
    "SELECT ",
    org_cols!(),
    " FROM organisations ORDER BY name, id"
);
pub(crate) const ORG_KIND: &str = "SELECT kind FROM organisations WHERE id = $1";

pub(crate) const INSERT_USER: &str = concat!(
    "INSERT INTO users (id, email, display_name, password_hash, locale, created_at) ",
    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
    user_cols!()
);
pub(crate) const GET_USER: &str = concat!("SELECT ", user_cols!(), " FROM users WHERE id = $1");
pub(crate) const CREDENTIALS_BY_EMAIL: &str = concat!(
    "SELECT ",
    user_cols!(),
    ", password_hash FROM users WHERE email = $1"
);
pub(crate) const LIST_USERS: &str = concat!("SELECT ", user_cols!(), " FROM users ORDER BY email");
pub(crate) const COUNT_USERS: &str = "SELECT COUNT(*) FROM users";
pub(crate) const SET_PASSWORD_HASH: &str = "UPDATE users SET password_hash = $2 WHERE id = $1";
pub(crate) const SET_LOCALE: &str = "UPDATE users SET locale = $2 WHERE id = $1";
pub(crate) const SET_DISPLAY_NAME: &str = "UPDATE users SET display_name = $2 WHERE id = $1";
pub(crate) const SET_DISABLED: &str = "UPDATE users SET disabled_at = $2 WHERE id = $1";

pub(crate) const INSERT_MEMBERSHIP: &str =
    "INSERT INTO memberships (user_id, org_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
pub(crate) const DELETE_MEMBERSHIP: &str =
    "DELETE FROM memberships WHERE user_id = $1 AND org_id = $2 AND role = $3";
pub(crate) const LIST_MEMBERSHIPS: &str =
    "SELECT org_id, role FROM memberships WHERE user_id = $1 ORDER BY org_id, role";

pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5)";
pub(crate) const ACTIVE_SESSION: &str = "SELECT s.id_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL";
pub(crate) const EXTEND_SESSION: &str = "UPDATE sessions SET expires_at = $2 WHERE id_hash = $1";
pub(crate) const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id_hash = $1";
pub(crate) const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";
pub(crate) const DELETE_OTHER_SESSIONS: &str =
    "DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2";
pub(crate) const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";

pub(crate) const INSERT_TOKEN: &str = concat!(
    "INSERT INTO api_tokens (id, user_id, name, scopes, secret_hash, created_at, expires_at) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
    token_cols!()
);
pub(crate) const TOKEN_BY_HASH: &str = concat!(
    "SELECT ",
    token_cols!(),
    " FROM api_tokens WHERE secret_hash = $1"
);
pub(crate) const GET_TOKEN: &str =
    concat!("SELECT ", token_cols!(), " FROM api_tokens WHERE id = $1");
pub(crate) const LIST_TOKENS: &str = concat!(
    "SELECT ",
    token_cols!(),
    " FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
);
/// Keeps the first revocation time when a token is revoked twice.
pub(crate) const REVOKE_TOKEN: &str =
    "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1";
pub(crate) const TOUCH_TOKEN: &str = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";

pub(crate) const BRANCH_CATEGORY: &str = "SELECT category FROM branches WHERE id = $1";
pub(crate) const INSERT_BRANCH: &str = concat!(
    "INSERT INTO branches (id, parent_id, category, name, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ",
    branch_cols!()
);
pub(crate) const GET_BRANCH: &str =
    concat!("SELECT ", branch_cols!(), " FROM branches WHERE id = $1");
/// Ids are UUID v7, so id order is creation order on both backends (both compare bytes).
pub(crate) const LIST_BRANCHES: &str =
    concat!("SELECT ", branch_cols!(), " FROM branches ORDER BY id");
pub(crate) const RENAME_BRANCH: &str = concat!(
    "UPDATE branches SET name = $2 WHERE id = $1 RETURNING ",
    branch_cols!()
);
pub(crate) const COUNT_CHILDREN: &str = "SELECT COUNT(*) FROM branches WHERE parent_id = $1";
pub(crate) const DELETE_BRANCH: &str = "DELETE FROM branches WHERE id = $1";

pub(crate) const INSERT_RATE_LIMIT_ATTEMPT: &str =
    "INSERT INTO rate_limit_attempts (key, at) VALUES ($1, $2)";
pub(crate) const COUNT_RATE_LIMIT_ATTEMPTS: &str =
    "SELECT COUNT(*) FROM rate_limit_attempts WHERE key = $1 AND at >= $2";
pub(crate) const CLEAR_RATE_LIMIT_ATTEMPTS: &str = "DELETE FROM rate_limit_attempts WHERE key = $1";
pub(crate) const PRUNE_RATE_LIMIT_ATTEMPTS: &str = "DELETE FROM rate_limit_attempts WHERE at < $1";

// Cases. The case itself is the JSON in `data`; the other columns are its projection.
macro_rules! case_cols {
    () => {
        "data, revision, number"
    };
}
macro_rules! summary_cols {
    () => {
        "id, number, title, kind, state, severity, emergency, owner_id, team_id, next_deadline, \
         created_at, updated_at"
    };
}
pub(crate) const NEXT_CASE_NUMBER: &str =
    "UPDATE counters SET value = value + 1 WHERE name = 'case_number' RETURNING value";
pub(crate) const INSERT_CASE: &str = "INSERT INTO cases (id, number, kind, state, title, \
     severity, severity_rank, emergency, owner_id, team_id, reporter_user_id, tracking_hash, \
     next_deadline, search_text, revision, data, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";
/// Optimistic: matches only while the stored revision is the one the case was read at.
pub(crate) const UPDATE_CASE: &str = "UPDATE cases SET state = $3, title = $4, severity = $5, \
     severity_rank = $6, emergency = $7, owner_id = $8, team_id = $9, next_deadline = $10, \
     search_text = $11, revision = $12, data = $13, updated_at = $14 \
     WHERE id = $1 AND revision = $2";
pub(crate) const CASE_EXISTS: &str = "SELECT COUNT(*) FROM cases WHERE id = $1";
pub(crate) const GET_CASE: &str = concat!("SELECT ", case_cols!(), " FROM cases WHERE id = $1");
pub(crate) const CASE_BY_NUMBER: &str =
    concat!("SELECT ", case_cols!(), " FROM cases WHERE number = $1");
pub(crate) const CASE_BY_TRACKING_HASH: &str = concat!(
    "SELECT ",
    case_cols!(),
    " FROM cases WHERE tracking_hash = $1"
);
pub(crate) const DELETE_CASE_PRODUCTS: &str = "DELETE FROM case_products WHERE case_id = $1";
pub(crate) const INSERT_CASE_PRODUCT: &str =
    "INSERT INTO case_products (case_id, branch_id) VALUES ($1, $2)";
/// The start of the list query; `cases.rs` appends the filters.
pub(crate) const LIST_CASES: &str = concat!("SELECT ", summary_cols!(), " FROM cases WHERE 1 = 1");
pub(crate) const COUNT_CASES: &str = "SELECT COUNT(*) FROM cases WHERE 1 = 1";

pub(crate) const INSERT_MESSAGE: &str = "INSERT INTO case_messages (id, case_id, visibility, \
     author_id, from_reporter, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const INSERT_ATTACHMENT: &str = "INSERT INTO attachments (id, case_id, message_id, \
     visibility, file_name, content_type, size, sha256, bytes, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
macro_rules! attachment_cols {
    () => {
        "id, case_id, message_id, visibility, file_name, content_type, size, sha256, created_at"
    };
}
pub(crate) const LIST_MESSAGES: &str = "SELECT id, case_id, visibility, author_id, \
     from_reporter, body, created_at FROM case_messages WHERE case_id = $1 \
     AND ($2 IS NULL OR visibility = $2) ORDER BY created_at, id";
pub(crate) const LIST_CASE_ATTACHMENTS: &str = concat!(
    "SELECT ",
    attachment_cols!(),
    " FROM attachments WHERE case_id = $1 AND ($2 IS NULL OR visibility = $2) ORDER BY created_at, id"
);
pub(crate) const GET_ATTACHMENT: &str = concat!(
    "SELECT ",
    attachment_cols!(),
    ", bytes FROM attachments WHERE id = $1"
);

pub(crate) const INSERT_NOTIFICATION: &str = "INSERT INTO notifications (id, user_id, case_id, \
     kind, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub(crate) const LIST_NOTIFICATIONS: &str = "SELECT id, user_id, case_id, kind, text, \
     created_at, read_at FROM notifications WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL) \
     ORDER BY created_at DESC, id DESC LIMIT 200";
pub(crate) const MARK_NOTIFICATIONS_READ: &str =
    "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL";

pub(crate) const INTERNAL_USERS_WITH_ROLE: &str = concat!(
    "SELECT DISTINCT u.id, u.email, u.display_name, u.locale, u.created_at, u.disabled_at ",
    "FROM users u JOIN memberships m ON m.user_id = u.id ",
    "JOIN organisations o ON o.id = m.org_id ",
    "WHERE m.role = $1 AND o.kind = 'own' AND u.disabled_at IS NULL"
);

// The audit log.
macro_rules! audit_cols {
    () => {
        "seq, at, actor, action, subject, before_json, after_json, prev_hash, hash"
    };
}
/// Locks the head row (on PostgreSQL; SQLite has one writer) and reads it.
pub(crate) const LOCK_AUDIT_HEAD: &str =
    "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash";
pub(crate) const SET_AUDIT_HEAD: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";
pub(crate) const AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
pub(crate) const INSERT_AUDIT: &str = concat!(
    "INSERT INTO audit_log (",
    audit_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
);
pub(crate) const AUDIT_FOR: &str = concat!(
    "SELECT ",
    audit_cols!(),
    " FROM audit_log WHERE subject = $1 ORDER BY seq"
);
pub(crate) const AUDIT_PAGE: &str = concat!(
    "SELECT ",
    audit_cols!(),
    " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
);

// Advisories and releases: the aggregate is the JSON in `data`; the rest is its projection.
pub(crate) const NEXT_ADVISORY_SEQ: &str = "INSERT INTO counters (name, value) VALUES ($1, 1) \
     ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value";
pub(crate) const INSERT_ADVISORY: &str = "INSERT INTO advisories (id, tracking_id, case_id, \
     state, release_id, published_tlp, version, search_text, public_search_text, revision, \
     data, created_at, updated_at, published_at, current_release_date) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
/// Optimistic: matches only while the stored revision is the one the advisory was read at.
pub(crate) const UPDATE_ADVISORY: &str = "UPDATE advisories SET state = $3, release_id = $4, \
     published_tlp = $5, version = $6, search_text = $7, public_search_text = $8, \
     revision = $9, data = $10, updated_at = $11, published_at = $12, \
     current_release_date = $13 WHERE id = $1 AND revision = $2";
pub(crate) const ADVISORY_EXISTS: &str = "SELECT COUNT(*) FROM advisories WHERE id = $1";
pub(crate) const GET_ADVISORY: &str = "SELECT data, revision FROM advisories WHERE id = $1";
pub(crate) const ADVISORY_BY_TRACKING_ID: &str =
    "SELECT data, revision FROM advisories WHERE tracking_id = $1";
/// The start of the list query; `advisories.rs` appends the filters.
pub(crate) const LIST_ADVISORIES: &str = "SELECT data, revision FROM advisories WHERE 1 = 1";

pub(crate) const INSERT_RELEASE: &str = "INSERT INTO releases (id, kind, state, scheduled_at, \
     title, revision, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(crate) const UPDATE_RELEASE: &str = "UPDATE releases SET state = $3, scheduled_at = $4, \
     title = $5, revision = $6, data = $7 WHERE id = $1 AND revision = $2";
pub(crate) const RELEASE_EXISTS: &str = "SELECT COUNT(*) FROM releases WHERE id = $1";
pub(crate) const GET_RELEASE: &str = "SELECT data, revision FROM releases WHERE id = $1";
pub(crate) const LIST_RELEASES: &str = "SELECT data, revision FROM releases \
     WHERE ($1 = 1 OR state = 'planned') ORDER BY scheduled_at, id";
pub(crate) const DUE_RELEASES: &str = "SELECT data, revision FROM releases \
     WHERE state = 'planned' AND scheduled_at <= $1 ORDER BY scheduled_at, id";

pub(crate) const INSERT_ARTIFACT: &str = "INSERT INTO artifacts (advisory_id, version, name, \
     content_type, sha256, bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
macro_rules! artifact_cols {
    () => {
        "advisory_id, version, name, content_type, sha256, CAST(LENGTH(bytes) AS BIGINT) AS size, created_at"
    };
}
pub(crate) const GET_ARTIFACT: &str = concat!(
    "SELECT ",
    artifact_cols!(),
    ", bytes FROM artifacts WHERE advisory_id = $1 AND version = $2 AND name = $3"
);
pub(crate) const LIST_ARTIFACTS: &str = concat!(
    "SELECT ",
    artifact_cols!(),
    " FROM artifacts WHERE ($1 IS NULL OR advisory_id = $1) ORDER BY created_at, advisory_id, version, name"
);

pub(crate) const GET_SETTING: &str = "SELECT value FROM settings WHERE name = $1";
pub(crate) const INSERT_SETTING_IF_ABSENT: &str =
    "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
macro_rules! public_artifact_select {
    () => {
        "SELECT ar.advisory_id, ar.version, ar.name, ar.content_type, ar.sha256, \
         CAST(LENGTH(ar.bytes) AS BIGINT) AS size, ar.created_at, ar.bytes \
         FROM artifacts ar JOIN advisories a ON a.id = ar.advisory_id \
         WHERE a.published_tlp = 'clear' "
    };
}
/// Public: the advisory's latest version is TLP:CLEAR; `$2` NULL means that latest version.
pub(crate) const PUBLIC_ARTIFACT: &str = concat!(
    public_artifact_select!(),
    "AND a.tracking_id = $1 AND ar.version = COALESCE($2, a.version) AND ar.name = $3"
);
pub(crate) const PUBLIC_LATEST_ARTIFACT_BY_NAME: &str = concat!(
    public_artifact_select!(),
    "AND ar.version = a.version AND ar.name = $1"
);

// The partner programme.
pub(crate) const UPSERT_AGREEMENT: &str = "INSERT INTO partner_agreements (org_id, tier, \
     expires_at, revision, data, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (org_id) DO UPDATE SET tier = excluded.tier, expires_at = excluded.expires_at, \
     revision = excluded.revision, data = excluded.data, updated_at = excluded.updated_at \
     WHERE partner_agreements.revision = $7";
pub(crate) const GET_AGREEMENT: &str =
    "SELECT data, revision FROM partner_agreements WHERE org_id = $1";
pub(crate) const LIST_AGREEMENTS: &str =
    "SELECT data, revision FROM partner_agreements ORDER BY org_id";
pub(crate) const UPSERT_PARTNER_EDITION: &str = "INSERT INTO partner_editions (advisory_id, \
     revision, data, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (advisory_id) DO UPDATE SET revision = excluded.revision, data = excluded.data, \
     updated_at = excluded.updated_at WHERE partner_editions.revision = $5";
pub(crate) const GET_PARTNER_EDITION: &str =
    "SELECT data, revision FROM partner_editions WHERE advisory_id = $1";
pub(crate) const INSERT_QUESTION: &str = "INSERT INTO partner_questions (id, release_id, \
     advisory_id, org_id, revision, data, asked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const UPDATE_QUESTION: &str = "UPDATE partner_questions SET revision = $3, data = $4 \
     WHERE id = $1 AND revision = $2";
pub(crate) const GET_QUESTION: &str = "SELECT data, revision FROM partner_questions WHERE id = $1";
/// `$1` NULL means every release.
pub(crate) const LIST_QUESTIONS: &str = "SELECT data, revision FROM partner_questions \
     WHERE ($1 IS NULL OR release_id = $1) ORDER BY asked_at, id";
pub(crate) const INSERT_ALERT: &str =
    "INSERT INTO partner_alerts (id, revision, data, sent_at) VALUES ($1, 1, $2, $3)";
pub(crate) const GET_ALERT: &str = "SELECT data, revision FROM partner_alerts WHERE id = $1";
pub(crate) const LIST_ALERTS: &str =
    "SELECT data, revision FROM partner_alerts ORDER BY sent_at DESC, id DESC";
pub(crate) const INSERT_ALERT_ACK: &str = "INSERT INTO partner_alert_acks (alert_id, user_id, \
     org_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT (alert_id, user_id) DO NOTHING";
pub(crate) const LIST_ALERT_ACKS: &str = "SELECT alert_id, user_id, org_id, at \
     FROM partner_alert_acks WHERE alert_id = $1 ORDER BY at, user_id";
pub(crate) const INSERT_ACCESS: &str = "INSERT INTO partner_access (id, at, user_id, org_id, \
     kind, release_id, advisory_id, alert_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/// Newest first; `$1` NULL means every organisation; `$2` is the limit.
pub(crate) const LIST_ACCESS: &str = "SELECT id, at, user_id, org_id, kind, release_id, \
     advisory_id, alert_id, detail FROM partner_access WHERE ($1 IS NULL OR org_id = $1) \
     ORDER BY id DESC LIMIT $2";
pub(crate) const INSERT_PACKAGE_DELIVERY: &str = "INSERT INTO package_deliveries (release_id, \
     tier, delivered_at, recipients) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (release_id, tier) DO NOTHING";
pub(crate) const LIST_PACKAGE_DELIVERIES: &str = "SELECT release_id, tier, delivered_at, \
     recipients FROM package_deliveries WHERE release_id = $1 ORDER BY delivered_at, tier";
pub(crate) const RELEASES_TO_DELIVER: &str = "SELECT data, revision FROM releases \
     WHERE state = 'planned' OR scheduled_at >= $1 ORDER BY scheduled_at, id";
/// `$1` is the partner contact's role.
pub(crate) const PARTNER_CONTACTS: &str = concat!(
    "SELECT m.org_id, u.id, u.email, u.display_name, u.locale, u.created_at, u.disabled_at ",
    "FROM memberships m JOIN users u ON u.id = m.user_id ",
    "WHERE m.role = $1 AND u.disabled_at IS NULL ORDER BY u.email, m.org_id"
);
// The outbox. `jobs.rs` builds the claim and list statements from these pieces.
macro_rules! job_cols {
    () => {
        "id, kind, key, payload, state, attempts, run_at, locked_by, locked_until, last_error, \
         created_at, updated_at, finished_at"
    };
}
/// `ON CONFLICT (key) DO NOTHING`: enqueueing the same work twice inserts it once.
pub(crate) const INSERT_JOB: &str = "INSERT INTO jobs (id, kind, key, payload, state, attempts, \
     run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6) \
     ON CONFLICT (key) DO NOTHING";
/// Followed by the rows (`push_values`) and `ON CONFLICT (key) DO NOTHING`.
pub(crate) const INSERT_JOBS_BULK: &str = "INSERT INTO jobs (id, kind, key, payload, state, \
     attempts, run_at, created_at, updated_at) ";
/// Followed by `kind IN (…)`, the limit, the backend's row lock and `CLAIM_JOBS_SET`. The
/// CTE is materialised so that the locked selection is made once (PostgreSQL could otherwise
/// inline it into the UPDATE).
pub(crate) const CLAIM_JOBS_DUE: &str = "WITH due AS MATERIALIZED (SELECT id FROM jobs WHERE \
     ((state = 'queued' AND run_at <= ";
pub(crate) const CLAIM_JOBS_LEASE: &str = ") OR (state = 'running' AND locked_until <= ";
pub(crate) const CLAIM_JOBS_KINDS: &str = ")) AND kind IN (";
pub(crate) const CLAIM_JOBS_ORDER: &str = ") ORDER BY run_at, id LIMIT ";
pub(crate) const CLAIM_JOBS_SET: &str = ") UPDATE jobs SET state = 'running', \
     attempts = attempts + 1, locked_by = ";
pub(crate) const CLAIM_JOBS_RETURNING: &str =
    concat!(" WHERE id IN (SELECT id FROM due) RETURNING ", job_cols!());
/// The guard `state = 'running' AND locked_by = $2` refuses a worker whose lease was taken
/// over; `locked_by` stays as a record of who ran the job last.
pub(crate) const COMPLETE_JOB: &str = "UPDATE jobs SET state = 'done', locked_until = NULL, \
     finished_at = $3, updated_at = $3 WHERE id = $1 AND state = 'running' AND locked_by = $2";
/// `COMPLETE_JOBS` the time, `COMPLETE_JOBS_UPDATED` the time, `COMPLETE_JOBS_WORKER` the
/// worker, then the ids, comma-separated, and `)`.
pub(crate) const COMPLETE_JOBS: &str =
    "UPDATE jobs SET state = 'done', locked_until = NULL, finished_at = ";
pub(crate) const COMPLETE_JOBS_UPDATED: &str = ", updated_at = ";
pub(crate) const COMPLETE_JOBS_WORKER: &str = " WHERE state = 'running' AND locked_by = ";
pub(crate) const COMPLETE_JOBS_IDS: &str = " AND id IN (";
pub(crate) const RETRY_JOB: &str = "UPDATE jobs SET state = 'queued', run_at = $4, \
     last_error = $3, locked_until = NULL, updated_at = $5 \
     WHERE id = $1 AND state = 'running' AND locked_by = $2";
pub(crate) const BURY_JOB: &str = "UPDATE jobs SET state = 'dead', last_error = $3, \
     locked_until = NULL, finished_at = $4, updated_at = $4 \
     WHERE id = $1 AND state = 'running' AND locked_by = $2";
pub(crate) const GET_JOB: &str = concat!("SELECT ", job_cols!(), " FROM jobs WHERE id = $1");
pub(crate) const GET_JOB_BY_KEY: &str =
    concat!("SELECT ", job_cols!(), " FROM jobs WHERE key = $1");
/// `$2` is the prefix's length in characters (an `integer` for PostgreSQL's `substr`).
pub(crate) const LIST_JOBS: &str = concat!(
    "SELECT ",
    job_cols!(),
    " FROM jobs WHERE ($1 IS NULL OR substr(kind, 1, $2) = $1) AND ($3 IS NULL OR state = $3) \
     ORDER BY created_at DESC, id DESC LIMIT $4"
);
pub(crate) const COUNT_JOBS_BY_STATE: &str = "SELECT state, COUNT(*) FROM jobs \
     WHERE ($1 IS NULL OR substr(kind, 1, $2) = $1) GROUP BY state";
/// Finished jobs (done or dead) of the kinds starting with `$1` that finished before `$3`.
pub(crate) const PRUNE_JOBS: &str = "DELETE FROM jobs WHERE substr(kind, 1, $2) = $1 \
     AND state IN ('done', 'dead') AND finished_at < $3";

// Distribution.
pub(crate) const INSERT_SUBSCRIBER: &str = "INSERT INTO subscribers (id, email, state, token, \
     data, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)";
pub(crate) const UPDATE_SUBSCRIBER: &str = "UPDATE subscribers SET email = $2, state = $3, \
     data = $4, updated_at = $5 WHERE id = $1";
macro_rules! subscriber_select {
    () => {
        "SELECT id, data, token, updated_at FROM subscribers "
    };
}
pub(crate) const GET_SUBSCRIBER: &str = concat!(subscriber_select!(), "WHERE id = $1");
pub(crate) const SUBSCRIBER_BY_TOKEN: &str = concat!(subscriber_select!(), "WHERE token = $1");
pub(crate) const SUBSCRIBER_BY_EMAIL: &str = concat!(subscriber_select!(), "WHERE email = $1");
/// `$1` NULL: every list.
pub(crate) const LIST_SUBSCRIBERS: &str = concat!(
    subscriber_select!(),
    "WHERE ($1 IS NULL OR id IN (SELECT subscriber_id FROM list_members WHERE list_id = $1)) \
     ORDER BY email LIMIT $2 OFFSET $3"
);
/// The memberships of the page `LIST_SUBSCRIBERS` reads with the same parameters.
pub(crate) const LIST_SUBSCRIBERS_MEMBERS: &str = "SELECT subscriber_id, list_id \
     FROM list_members WHERE subscriber_id IN (SELECT id FROM subscribers \
     WHERE ($1 IS NULL OR id IN (SELECT subscriber_id FROM list_members WHERE list_id = $1)) \
     ORDER BY email LIMIT $2 OFFSET $3) ORDER BY list_id";
pub(crate) const ACTIVE_SUBSCRIBERS: &str =
    concat!(subscriber_select!(), "WHERE state = 'active' ORDER BY id");
pub(crate) const COUNT_SUBSCRIBERS: &str = "SELECT COUNT(*) FROM subscribers WHERE ($1 IS NULL \
     OR id IN (SELECT subscriber_id FROM list_members WHERE list_id = $1))";
pub(crate) const LISTS_OF_SUBSCRIBER: &str =
    "SELECT list_id FROM list_members WHERE subscriber_id = $1 ORDER BY list_id";
pub(crate) const ALL_MEMBERS: &str =
    "SELECT list_id, subscriber_id FROM list_members ORDER BY list_id, subscriber_id";
pub(crate) const INSERT_MEMBER: &str = "INSERT INTO list_members (list_id, subscriber_id) \
     VALUES ($1, $2) ON CONFLICT (list_id, subscriber_id) DO NOTHING";
pub(crate) const DELETE_MEMBERS: &str = "DELETE FROM list_members WHERE subscriber_id = $1";
pub(crate) const UPSERT_LIST: &str = "INSERT INTO audience_lists (id, name, data, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
     data = excluded.data, updated_at = excluded.updated_at";
pub(crate) const GET_LIST: &str = "SELECT data FROM audience_lists WHERE id = $1";
pub(crate) const LIST_LISTS: &str = "SELECT data FROM audience_lists ORDER BY created_at, id";
pub(crate) const DELETE_LIST: &str = "DELETE FROM audience_lists WHERE id = $1";
pub(crate) const UPSERT_EDITION: &str = "INSERT INTO editions (name, revision, data, updated_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET revision = excluded.revision, \
     data = excluded.data, updated_at = excluded.updated_at WHERE editions.revision = $5";
pub(crate) const GET_EDITION: &str =
    "SELECT name, revision, data, updated_at FROM editions WHERE name = $1";
pub(crate) const LIST_EDITIONS: &str =
    "SELECT name, revision, data, updated_at FROM editions ORDER BY name";
pub(crate) const UPSERT_WEBHOOK: &str = "INSERT INTO webhook_endpoints (id, list_id, data, \
     enabled, consecutive_failures, disabled_reason, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET \
     list_id = excluded.list_id, data = excluded.data, enabled = excluded.enabled, \
     consecutive_failures = excluded.consecutive_failures, \
     disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at";
macro_rules! webhook_select {
    () => {
        "SELECT data, enabled, consecutive_failures, disabled_reason FROM webhook_endpoints "
    };
}
pub(crate) const GET_WEBHOOK: &str = concat!(webhook_select!(), "WHERE id = $1");
pub(crate) const LIST_WEBHOOKS: &str = concat!(webhook_select!(), "ORDER BY created_at, id");
pub(crate) const ENABLED_WEBHOOKS: &str =
    concat!(webhook_select!(), "WHERE enabled ORDER BY created_at, id");
pub(crate) const WEBHOOK_SUCCEEDED: &str = "UPDATE webhook_endpoints SET \
     consecutive_failures = 0, updated_at = $2 WHERE id = $1 RETURNING enabled";
/// `$3` is the number of failures in a row that disables it, `$4` the reason.
pub(crate) const WEBHOOK_FAILED: &str = "UPDATE webhook_endpoints SET \
     consecutive_failures = consecutive_failures + 1, \
     enabled = CASE WHEN consecutive_failures + 1 >= $3 THEN FALSE ELSE enabled END, \
     disabled_reason = CASE WHEN enabled AND consecutive_failures + 1 >= $3 THEN $4 \
     ELSE disabled_reason END, updated_at = $2 WHERE id = $1 RETURNING enabled";
pub(crate) const INSERT_EVENT: &str = "INSERT INTO distribution_events (id, key, kind, title, \
     data, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING";
macro_rules! event_select {
    () => {
        "SELECT id, key, kind, title, data, created_at FROM distribution_events "
    };
}
pub(crate) const GET_EVENT: &str = concat!(event_select!(), "WHERE id = $1");
pub(crate) const EVENT_BY_KEY: &str = concat!(event_select!(), "WHERE key = $1");
pub(crate) const LIST_EVENTS: &str = concat!(
    event_select!(),
    "ORDER BY created_at DESC, id DESC LIMIT $1"
);
/// Followed by the rows (`push_values`).
pub(crate) const INSERT_DELIVERIES: &str = "INSERT INTO deliveries (id, event_id, channel, \
     recipient_id, list_id, address, locale, state, attempts, message_id, ack_token, \
     queued_at, updated_at) ";
macro_rules! delivery_select {
    () => {
        "SELECT id, event_id, channel, recipient_id, list_id, address, locale, state, attempts, \
         error, message_id, ack_token, acked_at, queued_at, sent_at, updated_at FROM deliveries "
    };
}
pub(crate) const GET_DELIVERY: &str = concat!(delivery_select!(), "WHERE id = $1");
pub(crate) const DELIVERY_BY_MESSAGE_ID: &str =
    concat!(delivery_select!(), "WHERE message_id = $1");
pub(crate) const DELIVERY_BY_ACK_TOKEN: &str = concat!(delivery_select!(), "WHERE ack_token = $1");
/// `$2` NULL: every state.
pub(crate) const LIST_DELIVERIES: &str = concat!(
    delivery_select!(),
    "WHERE event_id = $1 AND ($2 IS NULL OR state = $2) ORDER BY address, id LIMIT $3"
);
pub(crate) const COUNT_DELIVERIES: &str = "SELECT state, COUNT(*), COUNT(acked_at) \
     FROM deliveries WHERE event_id = $1 GROUP BY state";
/// A sent delivery changes only to bounced; sent_at is set by the first success.
pub(crate) const MARK_DELIVERY: &str = "UPDATE deliveries SET state = $2, error = $3, \
     attempts = $4, updated_at = $5, \
     sent_at = CASE WHEN $2 = 'sent' AND sent_at IS NULL THEN $5 ELSE sent_at END \
     WHERE id = $1 AND (state <> 'sent' OR $2 = 'bounced')";
pub(crate) const ACK_DELIVERY: &str =
    "UPDATE deliveries SET acked_at = $2 WHERE ack_token = $1 AND acked_at IS NULL";

#[cfg(test)]
mod tests {
    use keikai_domain::{BranchCategory, Locale, OrgKind, Role};

    /// The CHECK lists in both schemas must name every value the domain can produce, or an
    /// insert fails at run time.
    #[test]
    fn check_lists_cover_every_enum_value() {
        let schemas = [
            (
                "sqlite",
                include_str!("../migrations/sqlite/0001_initial.sql"),
            ),
            (
                "postgres",
                include_str!("../migrations/postgres/0001_initial.sql"),
            ),
        ];
        let values: Vec<&str> = OrgKind::ALL
            .map(OrgKind::as_str)
            .into_iter()
            .chain(Role::ALL.map(Role::as_str))
            .chain(BranchCategory::ALL.map(BranchCategory::as_str))
            .chain(Locale::ALL.map(Locale::as_str))
            .collect();
        let mut missing = Vec::new();
        for (backend, ddl) in schemas {
            for v in &values {
                if !ddl.contains(&format!("'{v}'")) {
                    missing.push(format!("{backend}: '{v}'"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "values missing from CHECK lists: {missing:?}"
        );
    }

    #[test]
    fn access_kinds_are_in_both_check_lists() {
        use keikai_domain::partner::AccessKind;
        for ddl in [
            include_str!("../migrations/sqlite/0005_partners.sql"),
            include_str!("../migrations/postgres/0005_partners.sql"),
        ] {
            for k in AccessKind::ALL {
                assert!(ddl.contains(&format!("'{}'", k.as_str())), "{}", k.as_str());
            }
        }
    }

    #[test]
    fn delivery_states_are_in_both_check_lists() {
        for ddl in [
            include_str!("../migrations/sqlite/0006_distribution.sql"),
            include_str!("../migrations/postgres/0006_distribution.sql"),
        ] {
            for state in crate::DeliveryState::ALL {
                assert!(ddl.contains(&format!("'{state}'")), "{state}");
                assert_eq!(state.as_str().parse::<crate::DeliveryState>(), Ok(state));
            }
        }
    }

    #[test]
    fn job_states_are_in_both_check_lists() {
        for ddl in [
            include_str!("../migrations/sqlite/0004_jobs.sql"),
            include_str!("../migrations/postgres/0004_jobs.sql"),
        ] {
            for state in crate::JobState::ALL {
                assert!(ddl.contains(&format!("'{state}'")), "{state}");
                assert_eq!(state.as_str().parse::<crate::JobState>(), Ok(state));
            }
        }
    }
}
