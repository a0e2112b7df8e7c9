//! Who is asking: sessions, API tokens, passwords, CSRF and the sign-in throttle.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use keikai_domain::{Actor, ApiToken, Password, Principal, TokenSecret, User};
use keikai_store::{Session, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::http::error::{AppError, AppResult, Surface};
use crate::http::state::AppState;

pub const SESSION_COOKIE: &str = "keikai_session";
/// Double-submit token for forms shown before sign-in (the login form itself).
pub const PRE_SESSION_CSRF_COOKIE: &str = "keikai_csrf";
pub const LANG_COOKIE: &str = "keikai_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf";

/// What the identity middleware found out about a request.
#[derive(Debug, Clone)]
pub struct Identity {
    pub actor: Actor,
    pub user: Option<User>,
    pub session: Option<Session>,
    pub token: Option<ApiToken>,
}

impl Identity {
    pub const fn anonymous() -> Self {
        Self {
            actor: Actor::Anonymous,
            user: None,
            session: None,
            token: None,
        }
    }
}

/// 32 random bytes, base64url without padding (43 characters).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Compares secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Argon2id with the crate's recommended parameters, off the async threads: one hash takes
/// tens of milliseconds of CPU.
pub async fn hash_password(password: &Password) -> AppResult<String> {
    let pw = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::PasswordHasher;
        argon2::Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| AppError::internal(format!("hashing task failed: {e}")))?
    .map_err(|e| AppError::internal(format!("hashing failed: {e}")))
}

pub async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::PasswordVerifier;
        use argon2::password_hash::phc::PasswordHash;
        PasswordHash::new(&hash)
            .map(|parsed| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the flags every Keikai cookie carries.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: i64,
    secure: bool,
    http_only: bool,
) -> String {
    let mut c = format!("{name}={value}; Path=/; SameSite=Lax; Max-Age={max_age_secs}");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

pub fn surface_of(path: &str) -> Surface {
    if path == "/api" || path.starts_with("/api/") {
        Surface::Api
    } else {
        Surface::Ui
    }
}

/// Resolves the session cookie or bearer token into an [`Identity`] stored in the request's
/// extensions, and enforces CSRF on state-changing requests that ride on the cookie.
pub async fn identity_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let identity = match resolve(&state, req.headers()).await {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // An API request with neither session nor token carries no authority to forge: it goes on
    // to be refused with 401, which tells a script what is missing.
    let anonymous_api = identity.session.is_none() && surface_of(req.uri().path()) == Surface::Api;
    if unsafe_method && identity.token.is_none() && !anonymous_api && !capability_link(&req) {
        let (parts, body) = req.into_parts();
        let checked = check_csrf(&identity, &parts.headers, body).await;
        match checked {
            Ok(body) => req = Request::from_parts(parts, body),
            Err(e) => return e.into_response(),
        }
    }
    req.extensions_mut().insert(identity);
    next.run(req).await
}

/// Links mailed to subscribers (confirm, unsubscribe, acknowledge): the secret in the path
/// is the whole authority, and the request acts only on what that secret names, never on the
/// caller's session. A forged request would need the secret, so there is no CSRF token to
/// check, and there could be none: RFC 8058 one-click unsubscribe is a POST by the mail
/// client, without cookies.
fn capability_link(req: &Request) -> bool {
    let path = req.uri().path();
    ["/subscribe/confirm/", "/unsubscribe/", "/ack/"]
        .iter()
        .any(|p| path.starts_with(p))
}

async fn resolve(state: &AppState, headers: &HeaderMap) -> AppResult<Identity> {
    let now = state.clock.now();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let invalid = || AppError::unauthenticated();
        let value = auth.to_str().map_err(|_| invalid())?;
        let Some(secret) = value.strip_prefix("Bearer ") else {
            return Err(AppError::unauthenticated());
        };
        let secret = TokenSecret::parse(secret.trim()).map_err(|_| invalid())?;
        let token = match state
            .store
            .token_by_hash(&sha256_hex(secret.expose()))
            .await
        {
            Ok(t) => t,
            Err(StoreError::NotFound) => return Err(invalid()),
            Err(e) => return Err(e.into()),
        };
        if !token.is_active(now) {
            tracing::info!(token = %token.id, "revoked or expired API token presented");
            return Err(invalid());
        }
        let user = active_user(state, token.user_id)
            .await?
            .ok_or_else(invalid)?;
        // Recording every use would turn each API read into a write; a minute's precision is
        // enough to answer "is this token still in use?".
        if token
            .last_used_at
            .is_none_or(|t| now.duration_since(t).as_secs() >= 60)
        {
            state.store.touch_token(token.id, now).await?;
        }
        let memberships = state.store.memberships(user.id).await?;
        let principal = Principal {
            user_id: user.id,
            memberships,
            token_scopes: Some(token.scopes.clone()),
        };
        return Ok(Identity {
            actor: Actor::User(principal),
            user: Some(user),
            session: None,
            token: Some(token),
        });
    }
    let Some(cookie) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(Identity::anonymous());
    };
    let session = match state.store.active_session(&sha256_hex(cookie), now).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(Identity::anonymous()),
        Err(e) => return Err(e.into()),
    };
    let Some(user) = active_user(state, session.user_id).await? else {
        return Ok(Identity::anonymous());
    };
    // Sliding expiry: an active person is not signed out in the middle of their work.
    let ttl = state.config.session_ttl;
    if session.expires_at.duration_since(now) < ttl / 2 {
        let new_expiry = now.checked_add(ttl).unwrap_or(session.expires_at);
        state
            .store
            .extend_session(&session.id_hash, new_expiry)
            .await?;
    }
    let memberships = state.store.memberships(user.id).await?;
    let principal = Principal {
        user_id: user.id,
        memberships,
        token_scopes: None,
    };
    Ok(Identity {
        actor: Actor::User(principal),
        user: Some(user),
        session: Some(session),
        token: None,
    })
}

async fn active_user(state: &AppState, id: keikai_domain::UserId) -> AppResult<Option<User>> {
    match state.store.get_user(id).await {
        Ok(u) if u.disabled_at.is_none() => Ok(Some(u)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Largest form body the CSRF check reads; bigger uploads must send the header instead.
const MAX_FORM_BYTES: usize = 1 << 20;

/// Largest multipart (file upload) body any route reads: one attachment at the size limit
/// and the form's text fields, with room to spare.
pub const MAX_MULTIPART_BYTES: usize = 32 << 20;

/// The text of the first part named `name` of a multipart body.
async fn multipart_field(
    content_type: &str,
    bytes: axum::body::Bytes,
    name: &str,
) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let mut parts = multer::Multipart::new(Body::from(bytes).into_data_stream(), boundary);
    while let Ok(Some(field)) = parts.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

async fn check_csrf(identity: &Identity, headers: &HeaderMap, body: Body) -> AppResult<Body> {
    let expected = match &identity.session {
        Some(s) => Some(s.csrf_token.as_str()),
        None => cookie_value(headers, PRE_SESSION_CSRF_COOKIE),
    };
    let refused = || {
        AppError::forbidden(
            "the form's security token is missing or out of date; reload the page and try again",
        )
    };
    let Some(expected) = expected.filter(|e| !e.is_empty()) else {
        return Err(refused());
    };
    if let Some(sent) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if constant_time_eq(sent, expected) {
            Ok(body)
        } else {
            Err(refused())
        };
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        // A form with files cannot carry a header without script; its `csrf` field is read
        // from the parts, and the body passed on unchanged.
        let bytes = axum::body::to_bytes(body, MAX_MULTIPART_BYTES)
            .await
            .map_err(|_| {
                AppError::bad_request(format!(
                    "form body larger than {} MiB",
                    MAX_MULTIPART_BYTES >> 20
                ))
            })?;
        return match multipart_field(content_type, bytes.clone(), CSRF_FIELD).await {
            Some(sent) if constant_time_eq(&sent, expected) => Ok(Body::from(bytes)),
            _ => Err(refused()),
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(refused());
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            AppError::bad_request(format!("form body larger than {MAX_FORM_BYTES} bytes"))
        })?;
    let sent = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned());
    match sent {
        Some(sent) if constant_time_eq(&sent, expected) => Ok(Body::from(bytes)),
        _ => Err(refused()),
    }
}

/// Creates a session for a user and returns it with the cookie value to send.
pub async fn start_session(
    state: &AppState,
    user: &User,
    now: Timestamp,
) -> AppResult<(Session, String)> {
    let cookie = random_secret();
    let session = Session {
        id_hash: sha256_hex(&cookie),
        user_id: user.id,
        csrf_token: random_secret(),
        created_at: now,
        expires_at: now
            .checked_add(state.config.session_ttl)
            .map_err(|e| AppError::internal(e.to_string()))?,
    };
    state.store.create_session(&session).await?;
    Ok((session, cookie))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; keikai_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }

    #[test]
    fn cookie_flags() {
        let c = set_cookie("k", "v", 60, true, true);
        assert!(c.contains("HttpOnly") && c.contains("Secure") && c.contains("SameSite=Lax"));
        assert!(!set_cookie("k", "v", 60, false, false).contains("Secure"));
    }

    #[test]
    fn secrets_fit_token_shape() {
        let s = random_secret();
        assert_eq!(s.len(), 43);
        assert!(TokenSecret::parse(&format!("kk_{s}")).is_ok());
    }
}
