//! Keikai's HTTP layer: the plumbing every request goes through ([`http`]: identity, errors,
//! extractors, metrics), and two doors onto `keikai_app`, arranged by capability: the HTML
//! interface ([`ui`]) and the REST API under `/api/v1` ([`api`]). Handlers are thin: they
//! parse, call one use case (which asks the policy itself) and render. The route table is
//! written once ([`ROUTES`]).

pub mod api;
pub mod http;
mod routes;
pub mod ui;

pub use http::state::{ClientAddr, WebConfig, WebState, has_secret, loggable_path};
pub use routes::ROUTES;

use axum::Router;

use crate::http::{auth, ops};

pub fn router(state: WebState) -> Router {
    let api = routes::api()
        // Applies to the routes above, so it comes after them.
        .method_not_allowed_fallback(ops::api_method_not_allowed)
        .fallback(ops::api_not_found);

    routes::site()
        .nest(routes::API_PREFIX, api)
        .fallback(ops::ui_not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::identity_layer,
        ))
        .layer(axum::middleware::from_fn(ops::track_metrics))
        .layer(axum::middleware::from_fn(ui::layout::render_errors))
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
