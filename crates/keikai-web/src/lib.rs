//! Keikai's HTTP layer: the HTML interface, the REST API under `/api/v1`, and the operational
//! endpoints. Handlers are thin: they ask the policy, call the store, and render.

pub mod advisories;
pub mod advisories_api;
pub mod advisories_ui;
pub mod api;
pub mod auth;
pub mod cases;
pub mod cases_api;
pub mod cases_ui;
pub mod ctx;
pub mod cvss_ui;
pub mod distribution;
pub mod distribution_ui;
pub mod error;
mod forms;
pub mod i18n;
pub mod intake;
mod login;
pub mod ops;
pub mod partner_portal;
pub mod partners;
pub mod public;
pub mod public_site;
pub mod publishing;
pub mod ui;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, post};
use jiff::SignedDuration;
use keikai_domain::Clock;
use keikai_store::Store;

/// Settings the web layer needs, taken from the application's configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Sets the `Secure` flag on cookies; on whenever Keikai is served over HTTPS.
    pub secure_cookies: bool,
    pub session_ttl: SignedDuration,
    pub login_window: SignedDuration,
    pub login_max_failures_per_account: u64,
    pub login_max_failures_per_ip: u64,
    /// What `/.well-known/security.txt` says; built from the configuration.
    pub security_txt: keikai_domain::SecurityTxtSettings,
    /// The vendor's severity scale with its SLA targets.
    pub severity_scale: keikai_domain::case::SeverityScale,
    pub publishing: Publishing,
    /// The partner programme's tiers (how long before a release each receives its package).
    pub partners: keikai_domain::partner::Tiers,
}

/// How advisories are numbered, released and published.
#[derive(Debug, Clone)]
pub struct Publishing {
    /// Tracking ids are `PREFIX-YYYY-NNNN`.
    pub tracking_prefix: String,
    /// The CSAF publisher, the public base URL and the CNA identity for CVE records.
    pub publisher: keikai_domain::advisory::publication::PublisherInfo,
    /// The monthly train (second Tuesday) at a local time in a zone.
    pub schedule: keikai_domain::release::ReleaseSchedule,
    /// How often an instance looks for releases whose time has come.
    pub poll_interval: SignedDuration,
}

impl Default for Publishing {
    fn default() -> Self {
        Self {
            tracking_prefix: "KEIKAI".to_owned(),
            publisher: keikai_domain::advisory::publication::PublisherInfo {
                name: "Keikai PSIRT".to_owned(),
                namespace: "https://keikai.invalid".to_owned(),
                contact_details: None,
                issuing_authority: None,
                base_url: "http://127.0.0.1:8080".to_owned(),
                cve_assigner: None,
            },
            schedule: keikai_domain::release::ReleaseSchedule::parse(
                "10:00",
                "America/Los_Angeles",
            )
            .unwrap_or_else(|_| unreachable_schedule()),
            poll_interval: SignedDuration::from_secs(10),
        }
    }
}

/// The default schedule parses (a unit test checks it); this is never reached.
fn unreachable_schedule() -> keikai_domain::release::ReleaseSchedule {
    keikai_domain::release::ReleaseSchedule::parse("10:00", "UTC")
        .unwrap_or_else(|e| panic!("UTC must be a known zone: {e}"))
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: ui::DEFAULT_SESSION_TTL,
            login_window: SignedDuration::from_mins(15),
            login_max_failures_per_account: 5,
            login_max_failures_per_ip: 50,
            security_txt: keikai_domain::SecurityTxtSettings::default(),
            severity_scale: keikai_domain::case::SeverityScale::default(),
            publishing: Publishing::default(),
            partners: keikai_domain::partner::Tiers::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<WebConfig>,
    pub clock: Arc<dyn Clock>,
    /// The provider's signing key, read from the database on first use.
    pub provider_key: Arc<std::sync::OnceLock<Arc<keikai_openpgp::ProviderKey>>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: WebConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            config: Arc::new(config),
            clock,
            provider_key: Arc::default(),
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

/// Every route, for the route × role test and the OpenAPI check: (method, path template).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/static/{*path}"),
    ("GET", "/.well-known/security.txt"),
    ("GET", "/security.txt"),
    ("GET", "/.well-known/csaf/provider-metadata.json"),
    ("GET", "/.well-known/csaf/service.json"),
    ("GET", "/.well-known/csaf/openpgp/{file}"),
    ("GET", "/.well-known/csaf/white/{name}"),
    ("GET", "/.well-known/csaf/white/{year}/{file}"),
    ("GET", "/advisories"),
    ("GET", "/advisories/feed.atom"),
    ("GET", "/advisories/feed.ja.atom"),
    ("GET", "/advisories/{tracking_id}"),
    ("GET", "/advisories/{tracking_id}/{file}"),
    ("GET", "/advisories/{tracking_id}/versions/{version}/{file}"),
    ("POST", "/releases/{id}/publish"),
    ("POST", "/api/v1/releases/{id}/publish"),
    ("GET", "/api/v1/public/advisories"),
    ("GET", "/api/v1/public/advisories/{tracking_id}"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/language"),
    ("GET", "/"),
    ("GET", "/products"),
    ("POST", "/products"),
    ("POST", "/products/{id}/delete"),
    ("GET", "/organisations"),
    ("POST", "/organisations"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("POST", "/users/{id}/disable"),
    ("POST", "/users/{id}/enable"),
    ("POST", "/users/{id}/memberships"),
    ("GET", "/profile"),
    ("POST", "/profile"),
    ("POST", "/notifications/read"),
    ("POST", "/profile/tokens"),
    ("POST", "/profile/tokens/{id}/revoke"),
    ("GET", "/cvss"),
    ("GET", "/cvss/score"),
    ("GET", "/report"),
    ("POST", "/report"),
    ("GET", "/track/{secret}"),
    ("POST", "/track/{secret}/messages"),
    ("POST", "/track/{secret}/credit"),
    ("GET", "/track/{secret}/attachments/{attachment}"),
    ("GET", "/cases"),
    ("GET", "/cases/{number}"),
    ("GET", "/cases/{number}/history"),
    ("GET", "/cases/{number}/attachments/{id}"),
    ("POST", "/cases/{number}/transition"),
    ("POST", "/cases/{number}/vulnerabilities"),
    ("POST", "/cases/{number}/vulnerabilities/{id}"),
    ("POST", "/cases/{number}/vulnerabilities/{id}/delete"),
    ("POST", "/cases/{number}/vulnerabilities/{id}/statuses"),
    ("POST", "/cases/{number}/vulnerabilities/{id}/remediations"),
    (
        "POST",
        "/cases/{number}/vulnerabilities/{id}/remediations/{index}/delete",
    ),
    ("POST", "/cases/{number}/assignment"),
    ("POST", "/cases/{number}/owner"),
    ("POST", "/cases/{number}/tasks"),
    ("POST", "/cases/{number}/tasks/{id}/done"),
    ("POST", "/cases/{number}/emergency"),
    ("POST", "/cases/{number}/emergency/end"),
    ("POST", "/cases/{number}/cra/{report}"),
    ("POST", "/cases/{number}/notes"),
    ("POST", "/cases/{number}/messages"),
    ("POST", "/cases/{number}/advisory"),
    ("GET", "/editor/advisories"),
    ("POST", "/editor/advisories"),
    ("GET", "/editor/advisories/{id}"),
    ("GET", "/editor/advisories/{id}/edits/{number}"),
    ("POST", "/editor/advisories/{id}/text/{lang}"),
    ("POST", "/editor/advisories/{id}/translation/{lang}/confirm"),
    ("POST", "/editor/advisories/{id}/facts"),
    (
        "POST",
        "/editor/advisories/{id}/vulnerabilities/{vid}/statuses",
    ),
    (
        "POST",
        "/editor/advisories/{id}/vulnerabilities/{vid}/statuses/{branch}/delete",
    ),
    (
        "POST",
        "/editor/advisories/{id}/vulnerabilities/{vid}/remediations",
    ),
    (
        "POST",
        "/editor/advisories/{id}/vulnerabilities/{vid}/remediations/{index}/delete",
    ),
    (
        "POST",
        "/editor/advisories/{id}/vulnerabilities/{vid}/scores",
    ),
    (
        "POST",
        "/editor/advisories/{id}/vulnerabilities/{vid}/scores/{index}/delete",
    ),
    ("POST", "/editor/advisories/{id}/refresh"),
    ("POST", "/editor/advisories/{id}/reviews"),
    ("POST", "/editor/advisories/{id}/schedule"),
    ("POST", "/editor/advisories/{id}/unschedule"),
    ("POST", "/editor/advisories/{id}/revision"),
    ("POST", "/editor/advisories/{id}/partner-edition"),
    ("GET", "/releases"),
    ("POST", "/releases"),
    ("GET", "/releases/{id}"),
    ("POST", "/releases/{id}/reschedule"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/organisations"),
    ("POST", "/api/v1/organisations"),
    ("GET", "/api/v1/organisations/{id}"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{id}"),
    ("PATCH", "/api/v1/users/{id}"),
    ("POST", "/api/v1/users/{id}/memberships"),
    ("GET", "/api/v1/branches"),
    ("POST", "/api/v1/branches"),
    ("GET", "/api/v1/branches/{id}"),
    ("PATCH", "/api/v1/branches/{id}"),
    ("DELETE", "/api/v1/branches/{id}"),
    ("GET", "/api/v1/product-tree"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("GET", "/api/v1/cvss"),
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{number}"),
    ("POST", "/api/v1/cases/{number}/transitions"),
    ("POST", "/api/v1/cases/{number}/vulnerabilities"),
    ("PUT", "/api/v1/cases/{number}/vulnerabilities/{id}"),
    (
        "PUT",
        "/api/v1/cases/{number}/vulnerabilities/{id}/product-statuses",
    ),
    ("GET", "/api/v1/cases/{number}/messages"),
    ("POST", "/api/v1/cases/{number}/messages"),
    ("GET", "/api/v1/cases/{number}/history"),
    ("POST", "/api/v1/cases/{number}/assignment"),
    ("POST", "/api/v1/cases/{number}/emergency"),
    ("POST", "/api/v1/cases/{number}/cra/{report}"),
    ("GET", "/api/v1/advisories"),
    ("POST", "/api/v1/advisories"),
    ("GET", "/api/v1/advisories/{id}"),
    ("PUT", "/api/v1/advisories/{id}/text/{lang}"),
    ("PUT", "/api/v1/advisories/{id}/facts"),
    ("POST", "/api/v1/advisories/{id}/reviews"),
    ("POST", "/api/v1/advisories/{id}/schedule"),
    ("GET", "/api/v1/advisories/{id}/edits/{number}"),
    ("GET", "/api/v1/releases"),
    ("POST", "/api/v1/releases"),
    ("GET", "/api/v1/releases/{id}"),
    ("GET", "/partners"),
    ("GET", "/partners/access.csv"),
    ("GET", "/partner"),
    ("GET", "/partner/releases/{release}"),
    (
        "GET",
        "/partner/releases/{release}/advisories/{advisory}/csaf",
    ),
    (
        "POST",
        "/partner/releases/{release}/advisories/{advisory}/questions",
    ),
    ("POST", "/partner/alerts/{id}/ack"),
    ("POST", "/partners/{org}/agreement"),
    ("POST", "/partners/{org}/revoke"),
    ("POST", "/partners/alerts"),
    ("POST", "/partners/questions/{id}/answers"),
    ("GET", "/api/v1/partners"),
    ("PUT", "/api/v1/partners/{org}/agreement"),
    ("POST", "/api/v1/partners/{org}/revoke"),
    ("GET", "/api/v1/advisories/{id}/partner-edition"),
    ("PUT", "/api/v1/advisories/{id}/partner-edition"),
    ("GET", "/api/v1/partners/questions"),
    ("POST", "/api/v1/partners/questions/{id}/answers"),
    ("GET", "/api/v1/partners/alerts"),
    ("POST", "/api/v1/partners/alerts"),
    ("GET", "/api/v1/partners/access"),
    ("GET", "/api/v1/partner/packages"),
    ("GET", "/api/v1/partner/packages/{release}"),
    (
        "GET",
        "/api/v1/partner/packages/{release}/advisories/{advisory}/csaf",
    ),
    (
        "POST",
        "/api/v1/partner/packages/{release}/advisories/{advisory}/questions",
    ),
    ("GET", "/api/v1/partner/alerts"),
    ("POST", "/api/v1/partner/alerts/{id}/ack"),
    ("GET", "/api/v1/distribution/lists"),
    ("POST", "/api/v1/distribution/lists"),
    ("PUT", "/api/v1/distribution/lists/{id}"),
    ("DELETE", "/api/v1/distribution/lists/{id}"),
    ("GET", "/api/v1/distribution/subscribers"),
    ("POST", "/api/v1/distribution/subscribers"),
    ("PATCH", "/api/v1/distribution/subscribers/{id}"),
    ("POST", "/api/v1/distribution/subscribers/import"),
    ("GET", "/api/v1/distribution/editions"),
    ("GET", "/api/v1/distribution/editions/{name}"),
    ("PUT", "/api/v1/distribution/editions/{name}"),
    ("POST", "/api/v1/distribution/editions/{name}/preview"),
    ("GET", "/api/v1/distribution/webhooks"),
    ("POST", "/api/v1/distribution/webhooks"),
    ("POST", "/api/v1/distribution/webhooks/{id}/enable"),
    ("POST", "/api/v1/distribution/early-warnings"),
    ("GET", "/api/v1/distribution/events"),
    ("GET", "/api/v1/distribution/events/{id}"),
    ("POST", "/api/v1/distribution/bounces"),
    ("GET", "/subscribe"),
    ("POST", "/subscribe"),
    ("GET", "/subscribe/confirm/{token}"),
    ("POST", "/subscribe/confirm/{token}"),
    ("GET", "/unsubscribe/{token}"),
    ("POST", "/unsubscribe/{token}"),
    ("GET", "/ack/{token}"),
    ("POST", "/ack/{token}"),
    ("GET", "/distribution"),
    ("POST", "/distribution/lists"),
    ("POST", "/distribution/webhooks"),
    ("POST", "/distribution/webhooks/{id}/enable"),
    ("POST", "/distribution/early-warnings"),
    ("POST", "/distribution/editions"),
    ("GET", "/distribution/editions/{name}"),
    ("POST", "/distribution/editions/{name}"),
    ("POST", "/distribution/editions/{name}/preview"),
    ("GET", "/distribution/subscribers"),
    ("POST", "/distribution/subscribers/import"),
    ("GET", "/distribution/events/{id}"),
    ("GET", "/distribution/events/{id}/deliveries.csv"),
];

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

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(api::openapi_json))
        .route("/me", get(api::me))
        .route("/organisations", get(api::list_orgs).post(api::create_org))
        .route("/organisations/{id}", get(api::get_org))
        .route("/users", get(api::list_users).post(api::create_user))
        .route("/users/{id}", get(api::get_user).patch(api::update_user))
        .route("/users/{id}/memberships", post(api::add_membership))
        .route(
            "/branches",
            get(api::list_branches).post(api::create_branch),
        )
        .route(
            "/branches/{id}",
            get(api::get_branch)
                .patch(api::rename_branch)
                .delete(api::delete_branch),
        )
        .route("/product-tree", get(api::product_tree))
        .route("/audit", get(api::list_audit))
        .route("/tokens", get(api::list_tokens).post(api::create_token))
        .route("/tokens/{id}", axum::routing::delete(api::revoke_token))
        .route("/cvss", get(cvss_ui::score_api))
        .merge(cases_api::routes())
        .merge(advisories_api::routes())
        .merge(intake::api_routes())
        .merge(public_site::api_routes())
        .route("/releases/{id}/publish", post(publishing::publish_now_api))
        .merge(partners_api_routes())
        .merge(distribution_api_routes())
        // Applies to the routes above, so it comes after them.
        .method_not_allowed_fallback(ops::api_method_not_allowed)
        .fallback(ops::api_not_found);

    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/static/{*path}", get(ops::static_asset))
        .route("/.well-known/security.txt", get(public::security_txt))
        .route("/security.txt", get(public::security_txt_legacy))
        .route("/login", get(ui::login_page).post(ui::login_submit))
        .route("/logout", post(ui::logout))
        .route("/language", post(ui::set_language))
        .route("/", get(ui::dashboard))
        .route("/products", get(ui::products).post(ui::create_branch))
        .route("/products/{id}/delete", post(ui::delete_branch))
        .route(
            "/organisations",
            get(ui::organisations).post(ui::create_org),
        )
        .route("/users", get(ui::users).post(ui::create_user))
        .route("/users/{id}/disable", post(ui::disable_user))
        .route("/users/{id}/enable", post(ui::enable_user))
        .route("/users/{id}/memberships", post(ui::add_membership))
        .route("/profile", get(ui::profile).post(ui::update_profile))
        .route("/notifications/read", post(ui::mark_notifications_read))
        .route("/profile/tokens", post(ui::create_token))
        .route("/profile/tokens/{id}/revoke", post(ui::revoke_token))
        .route("/cvss", get(cvss_ui::page))
        .route("/cvss/score", get(cvss_ui::score_fragment))
        .merge(cases_ui::routes())
        .merge(advisories_ui::routes())
        .merge(intake::routes())
        .merge(public_site::routes())
        .route("/releases/{id}/publish", post(publishing::publish_now_ui))
        .merge(partner_portal::routes())
        .merge(distribution_ui::routes())
        .nest("/api/v1", api)
        .fallback(ops::ui_not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::identity_layer,
        ))
        .layer(axum::middleware::from_fn(ops::track_metrics))
        .layer(axum::middleware::from_fn(error::render_errors))
        .layer(axum::middleware::from_fn(ops::security_headers))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &axum::http::Request<axum::body::Body>| {
                    tracing::debug_span!(
                        "request",
                        method = %req.method(),
                        path = %loggable_path(req.uri().path()),
                    )
                },
            ),
        )
        .with_state(state)
}

fn distribution_api_routes() -> Router<AppState> {
    use axum::routing::{patch, put};
    use distribution as d;
    Router::new()
        .route(
            "/distribution/lists",
            get(d::api_lists).post(d::api_create_list),
        )
        .route(
            "/distribution/lists/{id}",
            put(d::api_put_list).delete(d::api_delete_list),
        )
        .route(
            "/distribution/subscribers",
            get(d::api_subscribers).post(d::api_create_subscriber),
        )
        .route(
            "/distribution/subscribers/{id}",
            patch(d::api_patch_subscriber),
        )
        .route("/distribution/subscribers/import", post(d::api_import))
        .route("/distribution/editions", get(d::api_editions))
        .route(
            "/distribution/editions/{name}",
            get(d::api_edition).put(d::api_put_edition),
        )
        .route(
            "/distribution/editions/{name}/preview",
            post(d::api_preview),
        )
        .route(
            "/distribution/webhooks",
            get(d::api_webhooks).post(d::api_create_webhook),
        )
        .route(
            "/distribution/webhooks/{id}/enable",
            post(d::api_enable_webhook),
        )
        .route("/distribution/early-warnings", post(d::api_early_warning))
        .route("/distribution/events", get(d::api_events))
        .route("/distribution/events/{id}", get(d::api_event))
        .route("/distribution/bounces", post(d::api_bounce))
}

fn partners_api_routes() -> Router<AppState> {
    use axum::routing::put;
    Router::new()
        .route("/partners", get(partners::api_partners))
        .route(
            "/partners/{org}/agreement",
            put(partners::api_put_agreement),
        )
        .route("/partners/{org}/revoke", post(partners::api_revoke))
        .route(
            "/advisories/{id}/partner-edition",
            get(partners::api_get_edition).put(partners::api_put_edition),
        )
        .route("/partners/questions", get(partners::api_questions))
        .route(
            "/partners/questions/{id}/answers",
            post(partners::api_answer),
        )
        .route(
            "/partners/alerts",
            get(partners::api_list_alerts).post(partners::api_send_alert),
        )
        .route("/partners/access", get(partners::api_access))
        .route("/partner/packages", get(partners::api_packages))
        .route("/partner/packages/{release}", get(partners::api_package))
        .route(
            "/partner/packages/{release}/advisories/{advisory}/csaf",
            get(partners::download_csaf),
        )
        .route(
            "/partner/packages/{release}/advisories/{advisory}/questions",
            post(partners::api_ask),
        )
        .route("/partner/alerts", get(partners::api_alerts))
        .route("/partner/alerts/{id}/ack", post(partners::api_acknowledge))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tracking_secrets_stay_out_of_logs() {
        use super::loggable_path;
        assert_eq!(loggable_path("/track/abc123"), "/track/[redacted]");
        assert_eq!(
            loggable_path("/track/abc123/attachments/x"),
            "/track/[redacted]/attachments/x"
        );
        assert_eq!(loggable_path("/cases/4"), "/cases/4");
        assert_eq!(
            loggable_path("/unsubscribe/s3cret"),
            "/unsubscribe/[redacted]"
        );
        assert_eq!(
            loggable_path("/subscribe/confirm/s3cret"),
            "/subscribe/confirm/[redacted]"
        );
        assert_eq!(loggable_path("/ack/s3cret"), "/ack/[redacted]");
        assert_eq!(loggable_path("/subscribe"), "/subscribe");
    }
}
