//! What every page shares: the layout's data, rendering, the post/redirect/get pattern, error
//! pages and the sign-in redirect.

use askama::Template;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use keikai_domain::{Action, Locale, User};

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorInfo, Surface};
use crate::http::i18n;
use crate::http::state::WebState;

/// What the base layout needs on every page.
pub struct Page {
    pub lang: Locale,
    pub title: String,
    pub user: Option<User>,
    pub csrf: String,
    pub nav: Nav,
    pub flash: Option<String>,
    pub error: Option<String>,
    /// Where the language switch returns to, for pages that send no `Referer` (the
    /// reporter's portal, whose address holds a secret).
    pub back: Option<String>,
}

pub struct Nav {
    pub products: bool,
    pub organisations: bool,
    pub users: bool,
    pub cvss: bool,
    /// Advisory drafts and releases (the PSIRT).
    pub advisories: bool,
    /// The partner programme (the PSIRT).
    pub partners: bool,
    /// The partner portal (partner contacts).
    pub partner_portal: bool,
    /// Subscribers, lists, editions and delivery reports (the PSIRT).
    pub distribution: bool,
}

impl Page {
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }
}

impl Ctx {
    pub(crate) fn page(&self, title_key: &str) -> Page {
        Page {
            lang: self.lang,
            title: self.t(title_key),
            user: self.identity.user.clone(),
            csrf: self.csrf.clone(),
            nav: Nav {
                products: self.caller.allows(Action::ViewProducts),
                organisations: self.caller.allows(Action::ViewOrganisations),
                users: self.caller.allows(Action::ViewUsers),
                cvss: self.caller.allows(Action::ScoreCvss),
                advisories: self.caller.allows(Action::ViewAdvisories),
                partners: self.caller.allows(Action::ViewPartners),
                partner_portal: self.caller.allows(Action::UsePartnerPortal),
                distribution: self.caller.allows(Action::ViewDistribution),
            },
            flash: None,
            error: None,
            back: None,
        }
    }
}

pub(crate) fn render<T: Template>(status: StatusCode, tpl: &T) -> Response {
    match tpl.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    status: u16,
    message: &'a str,
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    render(
        status,
        &ErrorTemplate {
            status: status.as_u16(),
            message,
        },
    )
}

/// Sends a visitor who is not signed in to the login page, remembering where they were going.
pub fn redirect_to_login(next: &str) -> Response {
    let target = format!(
        "/login?next={}",
        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    // htmx follows 303s inside the page; HX-Redirect makes it load the login page whole.
    let mut res = Redirect::to(&target).into_response();
    if let Ok(v) = HeaderValue::from_str(&target) {
        res.headers_mut().insert("HX-Redirect", v);
    }
    res
}

/// Only local paths, so the login form cannot be used to send people to another site.
pub(crate) fn safe_next(next: &str) -> &str {
    // Browsers drop tabs and newlines from a URL before reading it, so `/<TAB>/evil.example`
    // would leave the site as surely as `//evil.example`.
    if next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(char::is_control)
    {
        next
    } else {
        "/"
    }
}

/// Post/redirect/get: on success the browser goes to `target`; a mistake in the form shows the
/// page again with the message (and its status); anything else, including a resource that
/// does not exist, becomes an error page.
pub(crate) async fn after_submit<T>(
    result: AppResult<T>,
    target: &str,
    rerender: impl AsyncFnOnce(String, StatusCode) -> AppResult<Response>,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(Redirect::to(target).into_response()),
        Err(e) if e.is_form_mistake() => rerender(e.message, e.status).await,
        Err(e) => Err(e),
    }
}

/// Runs a use case on the command a form made, when the form made one.
pub(crate) async fn attempt<C, T>(
    command: AppResult<C>,
    run: impl AsyncFnOnce(C) -> keikai_app::Result<T>,
) -> AppResult<T> {
    match command {
        Ok(c) => run(c).await.map_err(AppError::from),
        Err(e) => Err(e),
    }
}

/// [`after_submit`] where success goes to the page of what the form made or changed.
pub(crate) async fn after_submit_to<T>(
    result: AppResult<T>,
    target: impl FnOnce(&T) -> String,
    rerender: impl AsyncFnOnce(String, StatusCode) -> AppResult<Response>,
) -> AppResult<Response> {
    let to = result.as_ref().map(target).unwrap_or_default();
    after_submit(result, &to, rerender).await
}

/// One form's work from end to end: [`attempt`] the use case on the command the form made,
/// then [`after_submit_to`] the page of what it made or changed, or the page again with the
/// mistake.
pub(crate) async fn submit<C, T>(
    command: AppResult<C>,
    run: impl AsyncFnOnce(C) -> keikai_app::Result<T>,
    target: impl FnOnce(&T) -> String,
    rerender: impl AsyncFnOnce(String, StatusCode) -> AppResult<Response>,
) -> AppResult<Response> {
    after_submit_to(attempt(command, run).await, target, rerender).await
}

/// A form posted on the page of one record (a case, an advisory draft): the state, who asks
/// and the record's key, the first parameter of the path. The key is left as the path gives
/// it, for the handler to read once the form has been: a malformed form is refused before a
/// malformed key, as with any other handler.
pub struct Posted {
    pub state: WebState,
    pub ctx: Ctx,
    pub key: String,
}

impl FromRequestParts<WebState> for Posted {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        let ctx = Ctx::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let key = params
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or_default();
        Ok(Self {
            state: state.clone(),
            ctx,
            key,
        })
    }
}

impl Posted {
    /// The record's key as an id (see [`Ctx::id`]).
    pub fn id<T: std::str::FromStr>(&self) -> AppResult<T> {
        self.ctx.id(&self.key)
    }
}

/// A visit to a page whose address holds a secret (a reporter's portal, the links in
/// subscribers' messages): the state, who asks, the headers (for the public forms' CSRF
/// cookie) and the secret from the path.
pub struct Visit {
    pub state: WebState,
    pub ctx: Ctx,
    pub headers: HeaderMap,
    pub token: String,
}

impl FromRequestParts<WebState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        let Posted { state, ctx, key } = Posted::from_request_parts(parts, state).await?;
        Ok(Self {
            state,
            ctx,
            headers: parts.headers.clone(),
            token: key,
        })
    }
}

/// Outermost layer: UI requests get HTML errors, API requests keep the JSON body.
pub async fn render_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let ui = crate::http::auth::surface_of(req.uri().path()) == Surface::Ui;
    let next_path = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    if !ui {
        return res;
    }
    let Some(info) = res.extensions().get::<ErrorInfo>().cloned() else {
        return res;
    };
    if info.status == StatusCode::UNAUTHORIZED {
        return redirect_to_login(&next_path);
    }
    error_page(info.status, &info.message)
}
