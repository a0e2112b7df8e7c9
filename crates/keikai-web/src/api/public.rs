//! The public JSON API: the published advisories, for anyone (see [`keikai_app::public`]).
//! The list is the file `keikai export` writes, byte for byte.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use jiff::Timestamp;
use keikai_app::public::{self, PublicFile};
use serde::{Deserialize, Serialize};

use crate::http::cache::respond;
use crate::http::error::AppResult;
use crate::http::state::WebState;

/// The public list's query: search terms and the page's language.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
}

/// One row of the public list and JSON API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicAdvisory {
    pub tracking_id: String,
    pub title: String,
    pub title_ja: Option<String>,
    pub summary: String,
    pub severity: Option<String>,
    pub cves: Vec<String>,
    pub exploited: bool,
    pub version: u32,
    #[schema(value_type = String)]
    pub initial_release_date: Timestamp,
    #[schema(value_type = String)]
    pub current_release_date: Timestamp,
    /// The page, in English and (when translated) Japanese.
    pub html_en: String,
    pub html_ja: Option<String>,
    /// The CSAF document in the provider directory.
    pub csaf: String,
}

impl From<public::PublicAdvisory> for PublicAdvisory {
    fn from(a: public::PublicAdvisory) -> Self {
        Self {
            tracking_id: a.tracking_id,
            title: a.title,
            title_ja: a.title_ja,
            summary: a.summary,
            severity: a.severity,
            cves: a.cves,
            exploited: a.exploited,
            version: a.version,
            initial_release_date: a.initial_release_date,
            current_release_date: a.current_release_date,
            html_en: a.html_en,
            html_ja: a.html_ja,
            csaf: a.csaf,
        }
    }
}

/// `GET /api/v1/public/advisories`: the published advisories, newest first; `q` searches.
#[utoipa::path(get, path = "/api/v1/public/advisories", tag = "public",
    params(("q" = Option<String>, Query, description = "search terms (all must occur)")),
    responses((status = 200, body = [PublicAdvisory])))]
pub async fn api_list(
    State(s): State<WebState>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    Ok(respond(
        public::api_list(&s.app, q.q.as_deref()).await?,
        &headers,
    ))
}

/// `GET /api/v1/public/advisories/{tracking_id}`: one published advisory.
#[utoipa::path(get, path = "/api/v1/public/advisories/{tracking_id}", tag = "public",
    params(("tracking_id" = String, Path)),
    responses((status = 200, body = PublicAdvisory), (status = 404)))]
pub async fn api_get(
    State(s): State<WebState>,
    Path(tracking_id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let row = PublicAdvisory::from(public::advisory(&s.app, &tracking_id).await?);
    let updated = row.current_release_date;
    let file = PublicFile::json(String::new(), &row, false, updated)?;
    Ok(respond(file, &headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list is served as the application writes it; this schema must describe those
    /// bytes, field for field.
    #[test]
    fn the_schema_describes_what_the_application_writes() {
        let row = public::PublicAdvisory {
            tracking_id: "EXA-2026-0001".to_owned(),
            title: "Title".to_owned(),
            title_ja: Some("題".to_owned()),
            summary: "Summary".to_owned(),
            severity: Some("High".to_owned()),
            cves: vec!["CVE-2026-10001".to_owned()],
            exploited: true,
            version: 2,
            initial_release_date: Timestamp::UNIX_EPOCH,
            current_release_date: Timestamp::UNIX_EPOCH,
            html_en: "https://psirt.example.com/advisories/EXA-2026-0001/en.html".to_owned(),
            html_ja: None,
            csaf: "https://psirt.example.com/x.json".to_owned(),
        };
        let app = serde_json::to_string_pretty(&row).unwrap();
        let door = serde_json::to_string_pretty(&PublicAdvisory::from(row)).unwrap();
        assert_eq!(app, door);
    }
}
