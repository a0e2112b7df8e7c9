//! What every handler shares: the application, the web layer's own settings, and where a
//! request came from.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use keikai_app::App;

/// What the web doors need beyond the application: the cookies' flags. Everything the use
/// cases read is the application's ([`keikai_app::AppConfig`]).
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Sets the `Secure` flag on cookies; on whenever Keikai is served over HTTPS.
    pub secure_cookies: bool,
}

/// What every handler holds: the application and the web layer's own settings.
#[derive(Clone)]
pub struct WebState {
    /// Every use case goes through the application.
    pub app: App,
    pub config: Arc<WebConfig>,
}

impl WebState {
    pub fn new(app: App, config: WebConfig) -> Self {
        Self {
            app,
            config: Arc::new(config),
        }
    }
}

/// The client's address when the server was started with connect info (tests may not be).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Paths whose next segment is a secret that opens something: the reporter's portal, and
/// the confirmation, unsubscribe and acknowledgement links mailed to subscribers.
const SECRET_PATHS: [&str; 4] = ["/track/", "/subscribe/confirm/", "/unsubscribe/", "/ack/"];

/// Whether the path holds one of those secrets (its pages send no `Referer`).
pub fn has_secret(path: &str) -> bool {
    SECRET_PATHS.iter().any(|p| path.starts_with(p))
}

/// The request path as logs may show it: the secrets in links are credentials, so they are
/// replaced (the query string, which may hold search text, is left out entirely).
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in SECRET_PATHS {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.split_once('/').map_or("", |(_, t)| t);
            let sep = if tail.is_empty() { "" } else { "/" };
            return format!("{prefix}[redacted]{sep}{tail}").into();
        }
    }
    path.into()
}
