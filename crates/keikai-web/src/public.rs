//! Public files anyone may fetch without signing in: `security.txt` (RFC 9116).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use keikai_domain::SecurityTxtSettings;

use crate::http::error::{AppError, AppResult};
use crate::http::state::AppState;

/// `/.well-known/security.txt`, made afresh for each request so that `Expires` always lies
/// `expires_days` ahead of the clock and the file never goes stale.
pub async fn security_txt(State(state): State<AppState>) -> AppResult<Response> {
    // The CSAF provider metadata is always served, so the file names it (CSAF 2.0 7.1.8).
    let metadata = format!(
        "{}/{}",
        state
            .config
            .publishing
            .publisher
            .base_url
            .trim_end_matches('/'),
        crate::public_site::PROVIDER_METADATA
    );
    let settings = state
        .config
        .security_txt
        .clone()
        .with_csaf(&metadata)
        .unwrap_or_else(|_| state.config.security_txt.clone());
    let doc = settings
        .document(state.clock.now())
        .map_err(|e| AppError::internal(format!("security.txt: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            // Scanners fetch it often; an hour old is still months from expiring.
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        doc.render(),
    )
        .into_response())
}

/// The legacy location redirects to the well-known one (RFC 9116 §3).
pub async fn security_txt_legacy() -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, SecurityTxtSettings::PATH)],
    )
        .into_response()
}
