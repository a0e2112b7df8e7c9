//! Signing in and out ([`keikai_app::auth`]). The sign-in form has no session to bind its
//! CSRF token to, so it uses a cookie that the form must echo (double submit).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use keikai_app::Error;
use keikai_app::auth::{self, SignIn, SignedIn};
use keikai_app::secret::random_secret;
use serde::Deserialize;

use crate::http::auth::{PRE_SESSION_CSRF_COOKIE, SESSION_COOKIE, cookie_value, set_cookie};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::UiForm;
use crate::http::forms::append_cookie;
use crate::http::state::{ClientAddr, WebState};
use crate::ui::layout::{Page, render, safe_next};

/// How long the sign-in form's CSRF cookie lives.
const SIGN_IN_COOKIE_SECS: i64 = 3600;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate {
    page: Page,
    next: String,
    email: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_page(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    if ctx.identity.user.is_some() {
        return Redirect::to("/").into_response();
    }
    let next = q.next.as_deref().unwrap_or("/");
    login_form(&state, ctx, &headers, next, "", None, StatusCode::OK)
}

/// The sign-in form, with `error` when an attempt failed.
fn login_form(
    state: &WebState,
    ctx: Ctx,
    headers: &HeaderMap,
    next: &str,
    email: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (csrf, new_cookie) = match cookie_value(headers, PRE_SESSION_CSRF_COOKIE) {
        Some(c) if c.len() == 43 => (c.to_owned(), None),
        _ => {
            let c = random_secret();
            (c.clone(), Some(c))
        }
    };
    let mut page = ctx.page("login-title");
    page.csrf = csrf;
    page.error = error;
    let mut res = render(
        status,
        &LoginTemplate {
            page,
            next: safe_next(next).to_owned(),
            email: email.to_owned(),
        },
    );
    if let Some(c) = new_cookie {
        let secure = state.config.secure_cookies;
        let cookie = set_cookie(
            PRE_SESSION_CSRF_COOKIE,
            &c,
            SIGN_IN_COOKIE_SECS,
            secure,
            true,
        );
        append_cookie(&mut res, &cookie);
    }
    res
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login_submit(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    client: ClientAddr,
    UiForm(form): UiForm<LoginForm>,
) -> Response {
    let attempt = SignIn {
        email: form.email.clone(),
        password: form.password,
        client: client.0,
    };
    let (key, status) = match auth::sign_in(&state.app, attempt).await {
        Ok(signed_in) => return signed_in_response(&state, &signed_in, &form.next),
        Err(Error::RateLimited(_)) => ("login-throttled", StatusCode::TOO_MANY_REQUESTS),
        Err(Error::Unauthenticated) => ("login-failed", StatusCode::UNAUTHORIZED),
        Err(e) => return AppError::from(e).into_response(),
    };
    let msg = ctx.t(key);
    login_form(
        &state,
        ctx,
        &headers,
        &form.next,
        &form.email,
        Some(msg),
        status,
    )
}

/// Sends the new session's cookie (and drops the sign-in form's) on the way to `next`.
fn signed_in_response(state: &WebState, signed_in: &SignedIn, next: &str) -> Response {
    let mut res = Redirect::to(safe_next(next)).into_response();
    let ttl = state.app.config().auth.session_ttl.as_secs();
    let secure = state.config.secure_cookies;
    for c in [
        set_cookie(SESSION_COOKIE, &signed_in.cookie, ttl, secure, true),
        set_cookie(PRE_SESSION_CSRF_COOKIE, "", 0, secure, true),
    ] {
        append_cookie(&mut res, &c);
    }
    res
}

pub async fn logout(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    if let Some(s) = &ctx.identity.session {
        auth::sign_out(&state.app, &ctx.caller, s).await?;
    }
    let mut res = Redirect::to("/login").into_response();
    let c = set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies, true);
    append_cookie(&mut res, &c);
    Ok(res)
}
