//! Who is asking: the session cookie or the bearer token, resolved through
//! [`keikai_app::auth`], and the CSRF check on state-changing requests that ride on a cookie.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keikai_app::auth::Session;
use keikai_app::auth::{self, Authenticated};
use keikai_app::secret::constant_time_eq;
use keikai_domain::{Actor, ApiToken, User};

use crate::http::error::{AppError, AppResult, Surface};
use crate::http::extract::content_type;
use crate::http::state::WebState;

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

impl From<Authenticated> for Identity {
    fn from(a: Authenticated) -> Self {
        Self {
            actor: Actor::User(a.principal),
            user: Some(a.user),
            session: a.session,
            token: a.token,
        }
    }
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
    State(state): State<WebState>,
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

/// A bearer token must work (a script should hear that it does not); a session cookie that
/// names no active session is as good as none.
async fn resolve(state: &WebState, headers: &HeaderMap) -> AppResult<Identity> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(AppError::unauthenticated)?;
        return Ok(auth::token(&state.app, secret).await?.into());
    }
    let Some(cookie) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(Identity::anonymous());
    };
    Ok(auth::session(&state.app, cookie)
        .await?
        .map_or_else(Identity::anonymous, Identity::from))
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
    let content_type = content_type(headers);
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
    fn cookie_flags() {
        let c = set_cookie("k", "v", 60, true, true);
        assert!(c.contains("HttpOnly") && c.contains("Secure") && c.contains("SameSite=Lax"));
        assert!(!set_cookie("k", "v", 60, false, false).contains("Secure"));
    }
}
