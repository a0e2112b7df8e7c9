//! Who is asking: passwords, signing in (with its throttle), browser sessions and API tokens.
//!
//! Most of these use cases find out who the caller is, so they run before there is a
//! [`Caller`] to ask the policy about: sign-in is open to anyone (the throttle guards it), and
//! a session cookie or a token secret is itself the proof of who someone is. Ending someone's
//! sessions and sweeping expired ones are administration, and ask the policy.
//!
//! Session cookies and token secrets are handed out once and stored only as SHA-256 hashes,
//! so a copy of the database signs nobody in.

mod password;
mod sign_in;

use keikai_domain::{Action, ApiToken, Principal, TokenSecret, User, UserId};
use keikai_store::StoreError;

// A browser session as the store keeps it (the web door reads its CSRF token and expiry).
pub use keikai_store::Session;
pub use password::{hash_password, verify_password};
pub use sign_in::{SignIn, SignedIn, sign_in};

use crate::secret::{random_secret, sha256_hex};
use crate::{App, Caller, Error, Result};

/// Someone a session cookie or an API token speaks for.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    /// Their memberships, and the token's scopes when they came with a token.
    pub principal: Principal,
    /// The browser session, when they came with its cookie.
    pub session: Option<Session>,
    /// The API token, when they came with one.
    pub token: Option<ApiToken>,
}

impl Authenticated {
    /// Who asks, as every use case takes it.
    pub fn caller(&self) -> Caller {
        Caller::user(self.principal.clone())
    }
}

/// A new session for a user: the stored record and the cookie's value, which is kept nowhere.
async fn start_session(app: &App, user: UserId) -> Result<(Session, String)> {
    let now = app.now();
    let cookie = random_secret();
    let session = Session {
        id_hash: sha256_hex(&cookie),
        user_id: user,
        csrf_token: random_secret(),
        created_at: now,
        expires_at: now
            .checked_add(app.config().auth.session_ttl)
            .map_err(|e| Error::internal(format!("session expiry: {e}")))?,
    };
    app.store().create_session(&session).await?;
    Ok((session, cookie))
}

/// The user, unless they are disabled or gone.
async fn active_user(app: &App, id: UserId) -> Result<Option<User>> {
    match app.store().get_user(id).await {
        Ok(u) if u.disabled_at.is_none() => Ok(Some(u)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whom a session cookie signs in: `None` for an unknown or expired session, or a disabled
/// user. An active session is extended (sliding expiry), so that nobody is signed out in the
/// middle of their work.
pub async fn session(app: &App, cookie: &str) -> Result<Option<Authenticated>> {
    let store = app.store();
    let now = app.now();
    let session = match store.active_session(&sha256_hex(cookie), now).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(user) = active_user(app, session.user_id).await? else {
        return Ok(None);
    };
    let ttl = app.config().auth.session_ttl;
    if session.expires_at.duration_since(now) < ttl / 2 {
        let new_expiry = now.checked_add(ttl).unwrap_or(session.expires_at);
        store.extend_session(&session.id_hash, new_expiry).await?;
    }
    let principal = Principal {
        user_id: user.id,
        memberships: store.memberships(user.id).await?,
        token_scopes: None,
    };
    Ok(Some(Authenticated {
        user,
        principal,
        session: Some(session),
        token: None,
    }))
}

/// Whom an API token's secret speaks for, with the token's scopes. A malformed, unknown,
/// revoked or expired token, or one whose user is disabled, is [`Error::Unauthenticated`]:
/// a script that sent a token should hear that it does not work, not be served anonymously.
pub async fn token(app: &App, secret: &str) -> Result<Authenticated> {
    let store = app.store();
    let now = app.now();
    let secret = TokenSecret::parse(secret.trim()).map_err(|_| Error::Unauthenticated)?;
    let token = match store.token_by_hash(&sha256_hex(secret.expose())).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Err(Error::Unauthenticated),
        Err(e) => return Err(e.into()),
    };
    if !token.is_active(now) {
        tracing::info!(token = %token.id, "revoked or expired API token presented");
        return Err(Error::Unauthenticated);
    }
    let user = active_user(app, token.user_id)
        .await?
        .ok_or(Error::Unauthenticated)?;
    // Recording every use would turn each API read into a write; a minute's precision is
    // enough to answer "is this token still in use?".
    if token
        .last_used_at
        .is_none_or(|t| now.duration_since(t).as_secs() >= 60)
    {
        store.touch_token(token.id, now).await?;
    }
    let principal = Principal {
        user_id: user.id,
        memberships: store.memberships(user.id).await?,
        token_scopes: Some(token.scopes.clone()),
    };
    Ok(Authenticated {
        user,
        principal,
        session: None,
        token: Some(token),
    })
}

/// Ends the caller's own browser session.
pub async fn sign_out(app: &App, who: &Caller, session: &Session) -> Result<()> {
    if who.user_id() != Some(session.user_id) {
        return Err(Error::NotFound);
    }
    Ok(app.store().delete_session(&session.id_hash).await?)
}

/// Ends every session of a user (after their password changed, or when they are disabled);
/// returns how many there were.
pub async fn sign_out_everywhere(app: &App, who: &Caller, user: UserId) -> Result<u64> {
    who.require(Action::ManageUsers)?;
    Ok(app.store().delete_user_sessions(user).await?)
}

/// What [`housekeeping`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub failed_sign_ins: u64,
}

/// How long failed attempts are kept: longer than any throttle window looks back.
const ATTEMPTS_KEPT: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// Removes expired sessions and the failed attempts no throttle window still counts. Every
/// instance may run it: the deletes are idempotent, so no claim is needed.
pub async fn housekeeping(app: &App, who: &Caller) -> Result<Swept> {
    // Sessions and sign-in failures are records of accounts.
    who.require(Action::ManageUsers)?;
    let now = app.now();
    let before = now.checked_sub(ATTEMPTS_KEPT).unwrap_or(now);
    Ok(Swept {
        sessions: app.store().delete_expired_sessions(now).await?,
        failed_sign_ins: app.store().prune_attempts(before).await?,
    })
}
