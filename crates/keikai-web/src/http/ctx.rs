//! The request context every handler starts from: who asks, in which language, through which
//! door (API or UI), and the policy check that guards each route.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use keikai_app::Caller;
use keikai_domain::{Actor, Locale};

use crate::http::auth::{Identity, LANG_COOKIE, PRE_SESSION_CSRF_COOKIE, cookie_value, surface_of};
use crate::http::error::{AppError, AppResult, Surface};
use crate::http::i18n;
use crate::http::state::WebState;

pub struct Ctx {
    /// Who asks, as every use case takes it.
    pub caller: Caller,
    pub identity: Identity,
    pub lang: Locale,
    pub surface: Surface,
    /// The path and query, for sending a visitor back after sign-in.
    pub path: String,
    /// The CSRF token forms on this page must carry.
    pub csrf: String,
}

impl FromRequestParts<WebState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let identity = parts
            .extensions
            .get::<Identity>()
            .cloned()
            .unwrap_or_else(Identity::anonymous);
        let lang = i18n::negotiate(
            identity.user.as_ref().and_then(|u| u.locale),
            cookie_value(&parts.headers, LANG_COOKIE),
            &parts.headers,
        );
        let csrf = match &identity.session {
            Some(s) => s.csrf_token.clone(),
            None => cookie_value(&parts.headers, PRE_SESSION_CSRF_COOKIE)
                .unwrap_or_default()
                .to_owned(),
        };
        let caller = match &identity.actor {
            Actor::User(p) => Caller::user(p.clone()),
            Actor::Anonymous | Actor::System => Caller::anonymous(),
        };
        Ok(Self {
            caller,
            identity,
            lang,
            surface: surface_of(parts.uri.path()),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            csrf,
        })
    }
}

impl Ctx {
    /// Anonymous callers are asked to sign in before any input of theirs is judged, so that
    /// the answer to a malformed id or query says nothing.
    pub fn signed_in(&self) -> AppResult<()> {
        match self.caller.principal() {
            Some(_) => Ok(()),
            None => Err(AppError::unauthenticated()),
        }
    }

    /// An id from the path of a route that needs a signed-in caller: a malformed one names
    /// nothing ("not found"), once the caller is known to be signed in.
    pub fn id<T: std::str::FromStr>(&self, s: &str) -> AppResult<T> {
        self.signed_in()?;
        crate::http::extract::parse_id(s)
    }

    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }

    pub fn t_with(&self, key: &str, args: &[(&'static str, &str)]) -> String {
        i18n::t_with(self.lang, key, args)
    }
}
