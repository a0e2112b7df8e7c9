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

pub(crate) const INSERT_LOGIN_FAILURE: &str =
    "INSERT INTO login_failures (key, at) VALUES ($1, $2)";
pub(crate) const COUNT_LOGIN_FAILURES: &str =
    "SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2";
pub(crate) const CLEAR_LOGIN_FAILURES: &str = "DELETE FROM login_failures WHERE key = $1";
pub(crate) const PRUNE_LOGIN_FAILURES: &str = "DELETE FROM login_failures WHERE at < $1";

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
}
