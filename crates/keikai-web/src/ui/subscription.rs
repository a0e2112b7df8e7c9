//! The public's distribution pages, without an account: the subscription form (double
//! opt-in), and the pages behind the links in messages — confirm, unsubscribe (also RFC 8058
//! one-click from a mail client) and acknowledge. The secret in those links is the
//! authority, so their POSTs carry no CSRF token (see `auth::identity_layer`); their GETs
//! only show a button, because mail scanners open links. The rules live in
//! [`keikai_app::distribution::self_service`].

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use keikai_app::distribution::self_service::{self as app, Subscribe};
use keikai_domain::subscription::{SubscriberInput, SubscriberKind, SubscriptionState};
use keikai_domain::{ListId, Locale};

use crate::http::ctx::Ctx;
use crate::http::error::AppResult;
use crate::http::extract::UiForm;
use crate::http::forms::{Pairs, field, fields, form_csrf, no_store, with_cookie};
use crate::http::i18n;
use crate::http::state::WebState;
use crate::ui::distribution::{field_message, text_area};
use crate::ui::layout::{Page, Visit, attempt, render};
use crate::ui::view::at;

const TIME_ZONES: &[&str] = &[
    "UTC",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Australia/Sydney",
];

fn default_zone(lang: Locale) -> &'static str {
    match lang {
        Locale::Ja => "Asia/Tokyo",
        Locale::En => "UTC",
    }
}

/// The subscription form as typed.
#[derive(Debug, Clone, Default)]
struct SubscribeForm {
    email: String,
    name: String,
    language: String,
    time_zone: String,
    openpgp_key: String,
    lists: Vec<String>,
}

impl SubscribeForm {
    fn from_pairs(pairs: &Pairs) -> Self {
        Self {
            email: field(pairs, "email"),
            name: field(pairs, "name"),
            language: field(pairs, "language"),
            time_zone: field(pairs, "time_zone"),
            openpgp_key: text_area(pairs, "openpgp_key"),
            lists: fields(pairs, "lists"),
        }
    }

    fn has_list(&self, id: &str) -> bool {
        self.lists.iter().any(|l| l == id)
    }

    fn command(&self) -> AppResult<Subscribe> {
        let locale = match self.language.trim() {
            "" => None,
            l => Some(l.parse::<Locale>()?),
        };
        let lists = self
            .lists
            .iter()
            .map(|l| l.trim().parse::<ListId>().map_err(|_| app::not_offered()))
            .collect::<Result<_, _>>()?;
        Ok(Subscribe {
            input: SubscriberInput {
                email: self.email.clone(),
                name: self.name.clone(),
                kind: SubscriberKind::External,
                locale,
                time_zone: Some(self.time_zone.clone()),
                openpgp_key: Some(self.openpgp_key.clone()).filter(|k| !k.trim().is_empty()),
            },
            lists,
        })
    }
}

/// A list the public may subscribe to.
struct PublicList {
    id: String,
    name: String,
    description: String,
}

#[derive(Template)]
#[template(path = "subscribe.html")]
struct SubscribeTemplate {
    page: Page,
    form: SubscribeForm,
    lists: Vec<PublicList>,
    zones: &'static [&'static str],
}

async fn subscribe_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    form: SubscribeForm,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let lists = app::public_lists(&state.app)
        .await?
        .into_iter()
        .map(|l| PublicList {
            id: l.id.to_string(),
            name: l.name,
            description: l.description,
        })
        .collect();
    let (csrf, cookie) = form_csrf(ctx, headers, state.config.secure_cookies);
    let mut page = ctx.page("subscribe-title");
    page.csrf = csrf;
    page.error = error;
    let tpl = SubscribeTemplate {
        page,
        form,
        lists,
        zones: TIME_ZONES,
    };
    Ok(with_cookie(render(status, &tpl), cookie))
}

/// `GET /subscribe`.
pub(crate) async fn subscribe_form(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> AppResult<Response> {
    let form = SubscribeForm {
        language: ctx.lang.as_str().to_owned(),
        time_zone: default_zone(ctx.lang).to_owned(),
        ..SubscribeForm::default()
    };
    subscribe_page(&state, &ctx, &headers, form, None, StatusCode::OK).await
}

#[derive(Template)]
#[template(path = "subscription_link.html")]
struct LinkTemplate {
    page: Page,
    heading: String,
    message: String,
    /// The form's target, when there is something to do.
    action: Option<String>,
    button: String,
    /// A hint shown under the message.
    note: Option<String>,
}

/// `POST /subscribe`: "check your mail" whether or not the address was subscribed already
/// (the form must not tell strangers who is), or the form again with what was wrong.
pub(crate) async fn subscribe_submit(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    UiForm(pairs): UiForm<Pairs>,
) -> AppResult<Response> {
    let form = SubscribeForm::from_pairs(&pairs);
    let run = |cmd| app::subscribe(&state.app, &ctx.caller, cmd);
    let result = attempt(form.command(), run).await;
    match result {
        Ok(()) => {
            let tpl = LinkTemplate {
                page: ctx.page("subscribe-sent-title"),
                heading: ctx.t("subscribe-sent-title"),
                message: ctx.t("subscribe-sent-text"),
                action: None,
                button: String::new(),
                note: Some(ctx.t("subscribe-sent-note")),
            };
            Ok(render(StatusCode::OK, &tpl))
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            let msg = field_message(ctx.lang, "subscribe-field", &e);
            subscribe_page(&state, &ctx, &headers, form, Some(msg), e.status).await
        }
        Err(e) => Err(e),
    }
}

/// What the page behind a link says: Fluent keys for its heading, its button and its note.
struct Link {
    heading: &'static str,
    message: String,
    /// The form's target and the button's label, when there is something to do.
    button: Option<(String, &'static str)>,
    note: Option<&'static str>,
}

/// A page behind a secret link: the language switch returns to it (no `Referer` is sent
/// from it), caches keep none of it, and its language form gets a CSRF token.
fn link_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    path: String,
    link: Link,
) -> Response {
    let (csrf, cookie) = form_csrf(ctx, headers, state.config.secure_cookies);
    let mut page = ctx.page("subscription-link-title");
    page.csrf = csrf;
    page.back = Some(path);
    let (action, button) = match link.button {
        Some((action, label)) => (Some(action), page.t(label)),
        None => (None, String::new()),
    };
    let tpl = LinkTemplate {
        heading: page.t(link.heading),
        message: link.message,
        action,
        button,
        note: link.note.map(|n| page.t(n)),
        page,
    };
    no_store(with_cookie(render(StatusCode::OK, &tpl), cookie))
}

impl Visit {
    /// The address of the link's page under `prefix` (`/ack` and so on).
    fn path(&self, prefix: &str) -> String {
        format!("{prefix}/{}", self.token)
    }

    /// The page behind the link at `path`, saying what `link` says.
    fn show(&self, path: String, link: Link) -> Response {
        link_page(&self.state, &self.ctx, &self.headers, path, link)
    }

    /// The page behind the link under `prefix` before anything is done: a heading, a
    /// message, and the button that does it (labelled `button`) when there is something to
    /// do.
    fn ask(
        &self,
        prefix: &str,
        heading: &'static str,
        message: String,
        button: Option<&'static str>,
    ) -> Response {
        let path = self.path(prefix);
        let link = Link {
            heading,
            message,
            button: button.map(|label| (path.clone(), label)),
            note: None,
        };
        self.show(path, link)
    }

    /// The page behind the link at `path` once it is done: a heading and a message.
    fn done(&self, path: String, heading: &'static str, message: String) -> Response {
        let link = Link {
            heading,
            message,
            button: None,
            note: None,
        };
        self.show(path, link)
    }

    fn t_email(&self, key: &str, email: &str) -> String {
        i18n::t_with(self.ctx.lang, key, &[("email", email)])
    }
}

/// `GET /subscribe/confirm/{token}`: a button; opening the link changes nothing.
pub(crate) async fn confirm_page(v: Visit) -> AppResult<Response> {
    let r = app::subscriber(&v.state.app, &v.token).await?;
    let (key, button) = match r.subscriber.state {
        SubscriptionState::Pending => ("confirm-ask", Some("confirm-button")),
        SubscriptionState::Active => ("confirm-already", None),
        SubscriptionState::Unsubscribed => ("confirm-unsubscribed", None),
    };
    let message = v.t_email(key, &r.subscriber.email.to_string());
    Ok(v.ask("/subscribe/confirm", "confirm-title", message, button))
}

/// `POST /subscribe/confirm/{token}`: double opt-in done.
pub(crate) async fn confirm_submit(v: Visit) -> AppResult<Response> {
    let s = app::confirm(&v.state.app, &v.ctx.caller, &v.token).await?;
    let key = if s.state == SubscriptionState::Active {
        "confirm-done"
    } else {
        "confirm-unsubscribed"
    };
    let link = Link {
        heading: "confirm-done-title",
        message: v.t_email(key, &s.email.to_string()),
        button: None,
        note: Some("confirm-done-note"),
    };
    Ok(v.show(v.path("/subscribe/confirm"), link))
}

/// `GET /unsubscribe/{token}`: a button; opening the link changes nothing.
pub(crate) async fn unsubscribe_page(v: Visit) -> AppResult<Response> {
    let r = app::subscriber(&v.state.app, &v.token).await?;
    let (key, button) = if r.subscriber.state == SubscriptionState::Unsubscribed {
        ("unsubscribe-already", None)
    } else {
        ("unsubscribe-ask", Some("unsubscribe-button"))
    };
    let message = v.t_email(key, &r.subscriber.email.to_string());
    Ok(v.ask("/unsubscribe", "unsubscribe-title", message, button))
}

/// `POST /unsubscribe/{token}`: the page's button, or a mail client's RFC 8058 one-click
/// request (`List-Unsubscribe=One-Click`, no cookies). The body is not read: whatever it
/// says, the link's holder asked to leave.
pub(crate) async fn unsubscribe_submit(v: Visit) -> AppResult<Response> {
    let s = app::unsubscribe(&v.state.app, &v.ctx.caller, &v.token).await?;
    let message = v.t_email("unsubscribe-done", &s.email.to_string());
    Ok(v.done(v.path("/unsubscribe"), "unsubscribe-done-title", message))
}

/// `GET /ack/{token}`: a button; opening the link records nothing (mail scanners open
/// links). A link acknowledged already says when; an unknown one is not found.
pub(crate) async fn ack_page(v: Visit) -> AppResult<Response> {
    let delivery = app::acknowledgement(&v.state.app, &v.token).await?;
    if let Some(acked) = delivery.acked_at {
        return Ok(ack_done(&v, v.path("/ack"), acked));
    }
    Ok(v.ask("/ack", "ack-title", v.ctx.t("ack-ask"), Some("ack-button")))
}

fn ack_done(v: &Visit, path: String, acked: Timestamp) -> Response {
    let message = format!("{} ({})", v.ctx.t("ack-done"), at(acked));
    v.done(path, "ack-done-title", message)
}

/// `POST /ack/{token}`: records the acknowledgement (the first one counts).
pub(crate) async fn ack_submit(v: Visit) -> AppResult<Response> {
    let delivery = app::acknowledge(&v.state.app, &v.ctx.caller, &v.token).await?;
    let at = delivery.acked_at.unwrap_or_else(|| v.state.app.now());
    Ok(ack_done(&v, v.path("/ack"), at))
}
