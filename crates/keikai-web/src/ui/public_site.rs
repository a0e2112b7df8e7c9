//! The public site, for anyone without signing in: `security.txt` (RFC 9116), the CSAF 2.0
//! provider tree under `/.well-known/csaf/`, the advisory list and pages (ja/en) and the Atom
//! feeds. Every file comes from [`keikai_app::public`], the same bytes `keikai export` writes,
//! served with an ETag and `Last-Modified`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keikai_app::public::{self, PROVIDER_METADATA, SERVICE_DOCUMENT, WHITE_DIR};
use keikai_domain::{Locale, SecurityTxtSettings};

use crate::api::public::ListQuery;
use crate::http::cache::respond;
use crate::http::error::AppResult;
use crate::http::state::WebState;

/// `/.well-known/security.txt`, made afresh for each request so that it never goes stale.
pub async fn security_txt(State(s): State<WebState>) -> AppResult<Response> {
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            // Scanners fetch it often; an hour old is still months from expiring.
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        public::security_txt(&s.app)?,
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

async fn provider_file(s: &WebState, path: &str, headers: &HeaderMap) -> AppResult<Response> {
    Ok(respond(public::provider_file(&s.app, path).await?, headers))
}

pub async fn provider_metadata(
    State(s): State<WebState>,
    headers: HeaderMap,
) -> AppResult<Response> {
    provider_file(&s, PROVIDER_METADATA, &headers).await
}

pub async fn service_document(
    State(s): State<WebState>,
    headers: HeaderMap,
) -> AppResult<Response> {
    provider_file(&s, SERVICE_DOCUMENT, &headers).await
}

/// `/.well-known/csaf/white/{name}`: `index.txt`, `changes.csv` and the ROLIE feed.
pub async fn white_dir_file(
    State(s): State<WebState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    provider_file(&s, &format!("{WHITE_DIR}/{name}"), &headers).await
}

/// `/.well-known/csaf/openpgp/{file}`: the public key.
pub async fn openpgp_key(
    State(s): State<WebState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    provider_file(&s, &format!(".well-known/csaf/openpgp/{file}"), &headers).await
}

/// `/.well-known/csaf/white/{year}/{file}`: a CSAF document, its hashes or its signature.
pub async fn csaf_document(
    State(s): State<WebState>,
    Path((year, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    Ok(respond(
        public::csaf_file(&s.app, &year, &file).await?,
        &headers,
    ))
}

fn lang_of(q: &ListQuery) -> Locale {
    q.lang
        .as_deref()
        .and_then(|l| l.parse().ok())
        .unwrap_or(Locale::En)
}

/// `/advisories`: the list, with search (`q`) and language (`lang`).
pub async fn list(
    State(s): State<WebState>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let query = q.q.as_deref().unwrap_or_default();
    let page = public::list_page(&s.app, lang_of(&q), query).await?;
    Ok(respond(page, &headers))
}

pub async fn feed_en(State(s): State<WebState>, headers: HeaderMap) -> AppResult<Response> {
    Ok(respond(public::feed(&s.app, Locale::En).await?, &headers))
}

pub async fn feed_ja(State(s): State<WebState>, headers: HeaderMap) -> AppResult<Response> {
    Ok(respond(public::feed(&s.app, Locale::Ja).await?, &headers))
}

/// `/advisories/{id}`: to the page in the asked language (`?lang=`), else English. Only a
/// public advisory redirects; anything else is not found.
pub async fn advisory(
    State(s): State<WebState>,
    Path(tracking_id): Path<String>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let target = public::page_name(&s.app, &tracking_id, lang_of(&q)).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            format!("/advisories/{tracking_id}/{target}"),
        )],
    )
        .into_response())
}

/// `/advisories/{id}/{file}`: the latest version's page (`en.html`, `ja.html`).
pub async fn advisory_page(
    State(s): State<WebState>,
    Path((tracking_id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let file = public::advisory_file(&s.app, &tracking_id, None, &file).await?;
    Ok(respond(file, &headers))
}

/// `/advisories/{id}/versions/{n}/{file}`: any file of a published version, kept forever.
pub async fn version_file(
    State(s): State<WebState>,
    Path((tracking_id, version, file)): Path<(String, u32, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let file = public::advisory_file(&s.app, &tracking_id, Some(version), &file).await?;
    Ok(respond(file, &headers))
}
