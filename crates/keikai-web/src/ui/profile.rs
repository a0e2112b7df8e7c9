//! A person's own settings: the profile with its API tokens, the language switch in every
//! page's header, and marking notices read ([`keikai_app::admin::account`],
//! [`keikai_app::admin::tokens`]).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use keikai_app::admin::account::{self, Profile};
use keikai_app::admin::tokens::{self, IssueToken};
use keikai_domain::{Locale, Scope};
use serde::Deserialize;

use crate::http::auth::{LANG_COOKIE, set_cookie};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::UiForm;
use crate::http::forms::{append_cookie, no_store};
use crate::http::state::WebState;
use crate::ui::layout::{Page, render, safe_next};
use crate::ui::view::at;

struct TokenRow {
    id: String,
    name: String,
    scopes: String,
    created_at: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfileTemplate {
    page: Page,
    display_name: String,
    email: String,
    locale: String,
    tokens: Vec<TokenRow>,
    new_secret: Option<String>,
    /// What the last form did, to say so.
    notice: Option<String>,
}

/// What the profile page says about the form just sent.
enum Said {
    Nothing,
    /// A new token's secret, shown this once.
    Secret(String),
    /// What the form did.
    Notice(String),
    /// What was wrong with it: the page again, with the message, at the mistake's status.
    Mistake(AppError),
}

async fn profile_page(state: &WebState, ctx: &Ctx, said: Said) -> AppResult<Response> {
    let Profile { user, tokens } = account::profile(&state.app, &ctx.caller).await?;
    let tokens = tokens
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            scopes: t
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created_at: at(t.created_at),
            last_used: t.last_used_at.map_or_else(|| ctx.t("tokens-never"), at),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let mut page = ctx.page("profile-title");
    let (mut status, mut new_secret, mut notice) = (StatusCode::OK, None, None);
    match said {
        Said::Nothing => {}
        Said::Secret(s) => new_secret = Some(s),
        Said::Notice(n) => notice = Some(n),
        Said::Mistake(e) => {
            status = e.status;
            page.error = Some(mistake_text(ctx, &e));
        }
    }
    Ok(render(
        status,
        &ProfileTemplate {
            page,
            display_name: user.display_name.to_string(),
            email: user.email.to_string(),
            locale: user
                .locale
                .map(|l| l.as_str().to_owned())
                .unwrap_or_default(),
            tokens,
            new_secret,
            notice,
        },
    ))
}

pub async fn profile(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    profile_page(&state, &ctx, Said::Nothing).await
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    locale: String,
    /// Absent from forms that only switch the language.
    #[serde(default)]
    display_name: Option<String>,
}

pub async fn update_profile(
    State(state): State<WebState>,
    ctx: Ctx,
    UiForm(form): UiForm<ProfileForm>,
) -> AppResult<Response> {
    let locale = match form.locale.as_str() {
        "" => None,
        s => Some(s.parse::<Locale>()?),
    };
    if let Some(name) = &form.display_name {
        account::rename(&state.app, &ctx.caller, name).await?;
    }
    account::set_locale(&state.app, &ctx.caller, locale).await?;
    Ok(Redirect::to("/profile").into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// Changes the caller's own password; this session stays, every other one ends.
pub async fn change_password(
    State(state): State<WebState>,
    ctx: Ctx,
    UiForm(form): UiForm<PasswordForm>,
) -> AppResult<Response> {
    let cmd = account::ChangePassword {
        current: form.current_password,
        new: form.new_password,
        confirm: form.confirm_password,
    };
    let changed =
        account::change_password(&state.app, &ctx.caller, cmd, ctx.identity.session.as_ref())
            .await
            .map_err(AppError::from);
    let said = match changed {
        Ok(ended) => {
            let n = ended.to_string();
            Said::Notice(ctx.t_with("profile-password-changed", &[("ended", &n)]))
        }
        Err(e) if e.is_form_mistake() => Said::Mistake(e),
        Err(e) => return Err(e),
    };
    Ok(no_store(profile_page(&state, &ctx, said).await?))
}

/// A password form's mistake in the page's language, by the field it names; other mistakes
/// as the use case worded them.
fn mistake_text(ctx: &Ctx, e: &AppError) -> String {
    match e.field.as_deref() {
        Some(f @ ("current_password" | "new_password" | "confirm_password")) => {
            ctx.t(&format!("profile-password-error-{f}"))
        }
        _ => e.message.clone(),
    }
}

/// Marks the caller's notifications read (the dashboard's button).
pub async fn mark_notifications_read(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Response> {
    account::mark_notifications_read(&state.app, &ctx.caller).await?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    #[serde(default)]
    write: Option<String>,
}

impl TokenForm {
    fn command(self) -> IssueToken {
        let mut scopes = vec![Scope::Read];
        if self.write.is_some() {
            scopes.push(Scope::Write);
        }
        IssueToken {
            name: self.name,
            scopes,
            expires_at: None,
        }
    }
}

pub async fn create_token(
    State(state): State<WebState>,
    ctx: Ctx,
    UiForm(form): UiForm<TokenForm>,
) -> AppResult<Response> {
    let issued = tokens::issue(&state.app, &ctx.caller, form.command()).await?;
    // Shown in this response only; the page is not cached.
    // Shown in this response only; the page is not cached.
    Ok(no_store(
        profile_page(&state, &ctx, Said::Secret(issued.secret)).await?,
    ))
}

pub async fn revoke_token(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = ctx.id(&id)?;
    tokens::revoke(&state.app, &ctx.caller, id).await?;
    Ok(Redirect::to("/profile").into_response())
}

#[derive(Deserialize)]
pub struct LanguageForm {
    locale: String,
    #[serde(default)]
    back: Option<String>,
}

/// The header's language switch: saved in the profile when signed in, in a cookie always
/// (for the pages before sign-in).
pub async fn set_language(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    UiForm(form): UiForm<LanguageForm>,
) -> AppResult<Response> {
    let locale: Locale = form.locale.parse()?;
    if ctx.caller.principal().is_some() {
        // Saving it changes the profile, which a read-only token may not do.
        account::set_locale(&state.app, &ctx.caller, Some(locale)).await?;
    }
    let referer = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
        .and_then(|r| r.find('/').map(|i| r[i..].to_owned()));
    let back = form
        .back
        .filter(|b| !b.is_empty())
        .or(referer)
        .unwrap_or_else(|| "/".to_owned());
    let mut res = Redirect::to(safe_next(&back)).into_response();
    let c = set_cookie(
        LANG_COOKIE,
        locale.as_str(),
        365 * 86400,
        state.config.secure_cookies,
        false,
    );
    append_cookie(&mut res, &c);
    Ok(res)
}
