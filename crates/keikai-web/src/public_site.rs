//! What anyone may read without signing in, once published: the advisory list and pages
//! (ja/en), the Atom feeds, the public JSON API, and the CSAF 2.0 provider tree under
//! `/.well-known/csaf/` (provider metadata, the TLP:WHITE directory with `index.txt`,
//! `changes.csv`, the ROLIE feed and service document, and the public OpenPGP key).
//!
//! Everything here is built from published versions only (the store's `public_only` filter
//! and `public_artifact`), never from a draft: a later edit, an unpublished advisory or a
//! TLP other than CLEAR cannot reach these routes. [`public_tree`] lists every file, so the
//! routes and `keikai export` serve the same bytes.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use keikai_csaf::distribution::{
    self, Distribution, OpenPgpKeyRef, ProviderMetadataInput, PublishedEntry, Role,
    RolieCollection, RolieFeedRef, RolieWorkspace,
};
use keikai_csaf::model::{Publisher, PublisherCategory};
use keikai_domain::Locale;
use keikai_domain::advisory::{Advisory, PublishedVersion};
use keikai_formats::atom;
use keikai_store::{AdvisoryFilter, StoreError};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::http::error::{AppError, AppResult};
use crate::http::i18n::t;
use crate::http::state::AppState;
use crate::publishing::{csaf_file_name, html_file_name, provider_key};

/// The TLP:WHITE distribution directory, relative to the site.
pub const WHITE_DIR: &str = ".well-known/csaf/white";
pub const PROVIDER_METADATA: &str = ".well-known/csaf/provider-metadata.json";
pub const SERVICE_DOCUMENT: &str = ".well-known/csaf/service.json";
pub const ROLIE_FEED: &str = ".well-known/csaf/white/feed-tlp-white.json";

/// One public file: its path below the site root (no leading `/`), type and bytes.
#[derive(Debug, Clone)]
pub struct PublicFile {
    pub path: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub last_modified: Timestamp,
}

impl PublicFile {
    fn new(path: String, content_type: &str, bytes: Vec<u8>, last_modified: Timestamp) -> Self {
        Self {
            path,
            content_type: content_type.to_owned(),
            bytes,
            last_modified,
        }
    }

    fn etag(&self) -> String {
        format!("\"{}\"", hex::encode(sha2::Sha256::digest(&self.bytes)))
    }

    /// The response, or 304 when the client's copy is current (`If-None-Match`, else
    /// `If-Modified-Since`).
    pub fn respond(self, headers: &HeaderMap) -> Response {
        let etag = self.etag();
        // HTTP dates have whole seconds.
        let modified =
            Timestamp::from_second(self.last_modified.as_second()).unwrap_or(self.last_modified);
        let last_modified = modified.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let not_modified = match headers.get(header::IF_NONE_MATCH) {
            Some(v) => v
                .to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")),
            None => headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| jiff::fmt::rfc2822::parse(v).ok())
                .is_some_and(|since| modified <= since.timestamp()),
        };
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(header::ETAG, v);
        }
        if let Ok(v) = HeaderValue::from_str(&last_modified) {
            h.insert(header::LAST_MODIFIED, v);
        }
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        if not_modified {
            return (StatusCode::NOT_MODIFIED, h).into_response();
        }
        if let Ok(v) = HeaderValue::from_str(&self.content_type) {
            h.insert(header::CONTENT_TYPE, v);
        }
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        (h, self.bytes).into_response()
    }
}

/// Every public advisory (published, TLP:CLEAR), newest first.
pub async fn public_advisories(state: &AppState, text: Option<&str>) -> AppResult<Vec<Advisory>> {
    Ok(state
        .store
        .list_advisories(&AdvisoryFilter {
            public_only: true,
            text: text.map(str::to_owned).filter(|t| !t.trim().is_empty()),
            limit: 5000,
            ..AdvisoryFilter::default()
        })
        .await?)
}

fn latest(a: &Advisory) -> AppResult<&PublishedVersion> {
    a.latest_version()
        .ok_or_else(|| AppError::internal("a public advisory without a version"))
}

fn initial(a: &Advisory) -> Timestamp {
    a.versions.first().map_or(a.created_at, |v| v.at)
}

fn entry(a: &Advisory) -> AppResult<PublishedEntry> {
    let v = latest(a)?;
    Ok(PublishedEntry {
        tracking_id: a.tracking_id.clone(),
        title: v.content.text.en.title.clone(),
        initial_release_date: initial(a),
        current_release_date: v.at,
        tlp: "WHITE".to_owned(),
        summary: Some(v.content.text.en.summary.clone()),
    })
}

fn newest(list: &[Advisory]) -> Timestamp {
    list.iter()
        .filter_map(|a| a.latest_version().map(|v| v.at))
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn base(state: &AppState) -> String {
    state
        .config
        .publishing
        .publisher
        .base_url
        .trim_end_matches('/')
        .to_owned()
}

fn publisher(state: &AppState) -> Publisher {
    let p = &state.config.publishing.publisher;
    let mut out = Publisher::new(PublisherCategory::Vendor, &p.name, &p.namespace);
    out.contact_details.clone_from(&p.contact_details);
    out.issuing_authority.clone_from(&p.issuing_authority);
    out
}

/// The public key file's path.
pub fn key_path(fingerprint: &str) -> String {
    format!(".well-known/csaf/openpgp/{fingerprint}.asc")
}

/// The provider tree's generated files (those not stored as artifacts).
pub async fn provider_files(state: &AppState, list: &[Advisory]) -> AppResult<Vec<PublicFile>> {
    let base = base(state);
    let updated = newest(list);
    let entries = list.iter().map(entry).collect::<AppResult<Vec<_>>>()?;
    let key = provider_key(state).await?;
    let fingerprint = key.fingerprint();
    let public_key = key
        .public_key_armored()
        .map_err(|e| AppError::internal(format!("public key: {e}")))?;
    let metadata = distribution::provider_metadata(&ProviderMetadataInput {
        canonical_url: format!("{base}/{PROVIDER_METADATA}"),
        publisher: publisher(state),
        last_updated: updated,
        role: Role::TrustedProvider,
        distributions: vec![Distribution {
            directory_url: Some(format!("{base}/{WHITE_DIR}/")),
            rolie_feeds: vec![RolieFeedRef {
                summary: Some("TLP:WHITE advisories".to_owned()),
                tlp_label: "WHITE".to_owned(),
                url: format!("{base}/{ROLIE_FEED}"),
            }],
            rolie_services: vec![format!("{base}/{SERVICE_DOCUMENT}")],
        }],
        public_openpgp_keys: vec![OpenPgpKeyRef {
            fingerprint: Some(fingerprint.clone()),
            url: format!("{base}/{}", key_path(&fingerprint)),
        }],
        list_on_csaf_aggregators: true,
        mirror_on_csaf_aggregators: true,
    });
    let feed_entries: Vec<(PublishedEntry, String)> = entries
        .iter()
        .map(|e| (e.clone(), format!("{base}/{WHITE_DIR}")))
        .collect();
    let feed = distribution::rolie_feed(
        &format!(
            "{}-tlp-white",
            state.config.publishing.tracking_prefix.to_lowercase()
        ),
        &format!(
            "{} TLP:WHITE advisories",
            state.config.publishing.publisher.name
        ),
        &format!("{base}/{ROLIE_FEED}"),
        "WHITE",
        updated,
        &feed_entries,
    );
    let service = distribution::rolie_service_document(&[RolieWorkspace {
        title: format!("{} CSAF advisories", state.config.publishing.publisher.name),
        collections: vec![RolieCollection {
            title: "TLP:WHITE advisories".to_owned(),
            href: format!("{base}/{ROLIE_FEED}"),
            tlp_label: Some("WHITE".to_owned()),
        }],
    }]);
    let json = |v: &serde_json::Value| serde_json::to_vec_pretty(v).unwrap_or_default();
    Ok(vec![
        PublicFile::new(
            PROVIDER_METADATA.to_owned(),
            "application/json",
            json(&metadata),
            updated,
        ),
        PublicFile::new(
            format!("{WHITE_DIR}/index.txt"),
            "text/plain; charset=utf-8",
            distribution::index_txt(&entries).into_bytes(),
            updated,
        ),
        PublicFile::new(
            format!("{WHITE_DIR}/changes.csv"),
            "text/csv; charset=utf-8",
            distribution::changes_csv(&entries).into_bytes(),
            updated,
        ),
        PublicFile::new(
            ROLIE_FEED.to_owned(),
            "application/json",
            json(&feed),
            updated,
        ),
        PublicFile::new(
            SERVICE_DOCUMENT.to_owned(),
            "application/json",
            json(&service),
            updated,
        ),
        PublicFile::new(
            key_path(&fingerprint),
            "application/pgp-keys",
            public_key.into_bytes(),
            updated,
        ),
    ])
}

/// The Atom feed of the public advisories in one language (titles fall back to the other).
pub fn atom_feed(state: &AppState, list: &[Advisory], lang: Locale) -> AppResult<PublicFile> {
    let base = base(state);
    let name = feed_name(lang);
    let mut entries = Vec::new();
    for a in list {
        let v = latest(a)?;
        let page_lang = if v.content.text.get(lang).is_empty() {
            Locale::En
        } else {
            lang
        };
        let text = v.content.text.get(page_lang);
        entries.push(atom::Entry {
            id: format!("{base}/advisories/{}", a.tracking_id),
            title: format!("{}: {}", a.tracking_id, text.title),
            updated: v.at,
            published: Some(initial(a)),
            link: format!(
                "{base}/advisories/{}/{}",
                a.tracking_id,
                html_file_name(page_lang)
            ),
            summary: text.summary.clone(),
            categories: v.content.severity.iter().cloned().collect(),
        });
    }
    let feed = atom::Feed {
        id: format!("{base}/advisories/{name}"),
        title: format!(
            "{} — {}",
            state.config.publishing.publisher.name,
            t(lang, "public-advisories")
        ),
        updated: newest(list),
        self_url: format!("{base}/advisories/{name}"),
        alternate_url: Some(format!("{base}/advisories")),
        lang: Some(lang.as_str().to_owned()),
        author_name: state.config.publishing.publisher.name.clone(),
        entries,
    };
    Ok(PublicFile::new(
        format!("advisories/{name}"),
        "application/atom+xml; charset=utf-8",
        atom::write(&feed).into_bytes(),
        newest(list),
    ))
}

fn feed_name(lang: Locale) -> &'static str {
    match lang {
        Locale::En => "feed.atom",
        Locale::Ja => "feed.ja.atom",
    }
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

pub fn public_row(state: &AppState, a: &Advisory) -> AppResult<PublicAdvisory> {
    let base = base(state);
    let v = latest(a)?;
    let e = entry(a)?;
    let ja = &v.content.text.ja;
    Ok(PublicAdvisory {
        tracking_id: a.tracking_id.clone(),
        title: v.content.text.en.title.clone(),
        title_ja: (!ja.is_empty()).then(|| ja.title.clone()),
        summary: v.content.text.en.summary.clone(),
        severity: v.content.severity.clone(),
        cves: v
            .content
            .vulnerabilities
            .iter()
            .filter_map(|x| x.cve.as_ref().map(|c| c.as_str().to_owned()))
            .collect(),
        exploited: v.content.vulnerabilities.iter().any(|x| x.exploited),
        version: v.number,
        initial_release_date: e.initial_release_date,
        current_release_date: e.current_release_date,
        html_en: format!("{base}/advisories/{}/en.html", a.tracking_id),
        html_ja: (!ja.is_empty()).then(|| format!("{base}/advisories/{}/ja.html", a.tracking_id)),
        csaf: format!("{base}/{WHITE_DIR}/{}", distribution::relative_path(&e)),
    })
}

struct ListRow {
    tracking_id: String,
    title: String,
    summary: String,
    severity: String,
    cves: String,
    updated: String,
    href: String,
}

#[derive(Template)]
#[template(path = "public_list.html")]
struct ListTemplate {
    lang: Locale,
    publisher: String,
    query: String,
    rows: Vec<ListRow>,
}

impl ListTemplate {
    fn t(&self, key: &str) -> String {
        t(self.lang, key)
    }
}

/// The list page's HTML.
pub fn list_page(
    state: &AppState,
    list: &[Advisory],
    lang: Locale,
    query: &str,
) -> AppResult<PublicFile> {
    let mut rows = Vec::new();
    for a in list {
        let v = latest(a)?;
        let page_lang = if v.content.text.get(lang).is_empty() {
            Locale::En
        } else {
            lang
        };
        let text = v.content.text.get(page_lang);
        rows.push(ListRow {
            tracking_id: a.tracking_id.clone(),
            title: text.title.clone(),
            summary: text.summary.clone(),
            severity: v.content.severity.clone().unwrap_or_default(),
            cves: v
                .content
                .vulnerabilities
                .iter()
                .filter_map(|x| x.cve.as_ref().map(|c| c.as_str().to_owned()))
                .collect::<Vec<_>>()
                .join(", "),
            updated: v.at.strftime("%Y-%m-%d").to_string(),
            href: format!(
                "/advisories/{}/{}",
                a.tracking_id,
                html_file_name(page_lang)
            ),
        });
    }
    let html = ListTemplate {
        lang,
        publisher: state.config.publishing.publisher.name.clone(),
        query: query.to_owned(),
        rows,
    }
    .render()
    .map_err(|e| AppError::internal(format!("template: {e}")))?;
    let path = match lang {
        Locale::En => "advisories/index.html",
        Locale::Ja => "advisories/index.ja.html",
    };
    Ok(PublicFile::new(
        path.to_owned(),
        "text/html; charset=utf-8",
        html.into_bytes(),
        newest(list),
    ))
}

/// Every public file: what `keikai export` writes and the routes below serve. Advisory files
/// are kept per version under `advisories/{id}/versions/{n}/`; the latest version's pages are
/// also at `advisories/{id}/{lang}.html` and its CSAF files in the provider directory.
pub async fn public_tree(state: &AppState) -> AppResult<Vec<PublicFile>> {
    let list = public_advisories(state, None).await?;
    let mut files = provider_files(state, &list).await?;
    for lang in Locale::ALL {
        files.push(atom_feed(state, &list, lang)?);
        files.push(list_page(state, &list, lang, "")?);
    }
    let rows = list
        .iter()
        .map(|a| public_row(state, a))
        .collect::<AppResult<Vec<_>>>()?;
    files.push(PublicFile::new(
        "api/v1/public/advisories".to_owned(),
        "application/json",
        serde_json::to_vec_pretty(&rows).unwrap_or_default(),
        newest(&list),
    ));
    for a in &list {
        let v = latest(a)?;
        let e = entry(a)?;
        let csaf = csaf_file_name(&a.tracking_id);
        for meta in state.store.list_artifacts(Some(a.id)).await? {
            if meta.version > v.number {
                continue;
            }
            let (_, bytes) = state
                .store
                .public_artifact(&a.tracking_id, Some(meta.version), &meta.name)
                .await?;
            let file = |path: String| {
                PublicFile::new(path, &meta.content_type, bytes.clone(), meta.created_at)
            };
            files.push(file(format!(
                "advisories/{}/versions/{}/{}",
                a.tracking_id, meta.version, meta.name
            )));
            if meta.version == v.number {
                if meta.name.ends_with(".html") {
                    files.push(file(format!("advisories/{}/{}", a.tracking_id, meta.name)));
                }
                if meta.name.starts_with(&csaf) {
                    let dir = distribution::relative_path(&e);
                    let year = dir.split('/').next().unwrap_or_default();
                    files.push(file(format!("{WHITE_DIR}/{year}/{}", meta.name)));
                }
            }
        }
    }
    Ok(files)
}

// ------------------------------------------------------------------------------- routes

fn not_found(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::not_found(),
        other => other.into(),
    }
}

async fn generated(state: &AppState, path: &str, headers: &HeaderMap) -> AppResult<Response> {
    let list = public_advisories(state, None).await?;
    provider_files(state, &list)
        .await?
        .into_iter()
        .find(|f| f.path == path)
        .map(|f| f.respond(headers))
        .ok_or_else(AppError::not_found)
}

pub async fn provider_metadata(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<Response> {
    generated(&state, PROVIDER_METADATA, &headers).await
}

pub async fn service_document(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<Response> {
    generated(&state, SERVICE_DOCUMENT, &headers).await
}

/// `/.well-known/csaf/white/{name}`: `index.txt`, `changes.csv` and the ROLIE feed.
pub async fn white_dir_file(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    generated(&state, &format!("{WHITE_DIR}/{name}"), &headers).await
}

/// `/.well-known/csaf/openpgp/{file}`: the public key.
pub async fn openpgp_key(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    generated(
        &state,
        &format!(".well-known/csaf/openpgp/{file}"),
        &headers,
    )
    .await
}

/// `/.well-known/csaf/white/{year}/{file}`: a CSAF document, its hashes or its signature.
pub async fn csaf_document(
    State(state): State<AppState>,
    Path((year, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    // CSAF file names are lower case (5.1); other artifacts (CVE-….json, en.html) are not
    // in the provider directory.
    let csaf_like = file
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-_.".contains(c))
        && [".json", ".json.sha256", ".json.sha512", ".json.asc"]
            .iter()
            .any(|s| file.ends_with(s));
    if !csaf_like || year.len() != 4 || !year.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::not_found());
    }
    let (meta, bytes) = state
        .store
        .public_latest_artifact_by_name(&file)
        .await
        .map_err(not_found)?;
    // The document lives in the folder of its initial release year only (7.1.11).
    let advisory = state
        .store
        .get_advisory(meta.advisory_id)
        .await
        .map_err(not_found)?;
    let e = entry(&advisory)?;
    if !distribution::relative_path(&e).starts_with(&format!("{year}/")) {
        return Err(AppError::not_found());
    }
    Ok(
        PublicFile::new(String::new(), &meta.content_type, bytes, meta.created_at)
            .respond(&headers),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

fn lang_of(q: &ListQuery) -> Locale {
    q.lang
        .as_deref()
        .and_then(|l| l.parse().ok())
        .unwrap_or(Locale::En)
}

/// `/advisories`: the list, with search (`q`) and language (`lang`).
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let query = q.q.clone().unwrap_or_default();
    let list = public_advisories(&state, Some(&query)).await?;
    Ok(list_page(&state, &list, lang_of(&q), &query)?.respond(&headers))
}

pub async fn feed_en(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let list = public_advisories(&state, None).await?;
    Ok(atom_feed(&state, &list, Locale::En)?.respond(&headers))
}

pub async fn feed_ja(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let list = public_advisories(&state, None).await?;
    Ok(atom_feed(&state, &list, Locale::Ja)?.respond(&headers))
}

/// `/advisories/{id}`: to the page in the asked language (`?lang=`), else English.
pub async fn advisory(
    State(state): State<AppState>,
    Path(tracking_id): Path<String>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let lang = lang_of(&q);
    // Only a public advisory redirects; anything else is not found.
    let name = html_file_name(lang);
    let target = match state.store.public_artifact(&tracking_id, None, &name).await {
        Ok(_) => name,
        Err(StoreError::NotFound) => {
            state
                .store
                .public_artifact(&tracking_id, None, &html_file_name(Locale::En))
                .await
                .map_err(not_found)?;
            html_file_name(Locale::En)
        }
        Err(e) => return Err(e.into()),
    };
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
    State(state): State<AppState>,
    Path((tracking_id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if !file.ends_with(".html") {
        return Err(AppError::not_found());
    }
    let (meta, bytes) = state
        .store
        .public_artifact(&tracking_id, None, &file)
        .await
        .map_err(not_found)?;
    Ok(
        PublicFile::new(String::new(), &meta.content_type, bytes, meta.created_at)
            .respond(&headers),
    )
}

/// `/advisories/{id}/versions/{n}/{file}`: any file of a published version, kept forever.
pub async fn version_file(
    State(state): State<AppState>,
    Path((tracking_id, version, file)): Path<(String, u32, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (meta, bytes) = state
        .store
        .public_artifact(&tracking_id, Some(version), &file)
        .await
        .map_err(not_found)?;
    Ok(
        PublicFile::new(String::new(), &meta.content_type, bytes, meta.created_at)
            .respond(&headers),
    )
}

/// `GET /api/v1/public/advisories`: the published advisories, newest first; `q` searches.
#[utoipa::path(get, path = "/api/v1/public/advisories", tag = "public",
    params(("q" = Option<String>, Query, description = "search terms (all must occur)")),
    responses((status = 200, body = [PublicAdvisory])))]
pub async fn api_list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let list = public_advisories(&state, q.q.as_deref()).await?;
    let rows = list
        .iter()
        .map(|a| public_row(&state, a))
        .collect::<AppResult<Vec<_>>>()?;
    // Pretty, as `keikai export` writes it, so both serve the same bytes.
    Ok(PublicFile::new(
        String::new(),
        "application/json",
        serde_json::to_vec_pretty(&rows).unwrap_or_default(),
        newest(&list),
    )
    .respond(&headers))
}

/// `GET /api/v1/public/advisories/{tracking_id}`: one published advisory.
#[utoipa::path(get, path = "/api/v1/public/advisories/{tracking_id}", tag = "public",
    params(("tracking_id" = String, Path)),
    responses((status = 200, body = PublicAdvisory), (status = 404)))]
pub async fn api_get(
    State(state): State<AppState>,
    Path(tracking_id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let a = state
        .store
        .advisory_by_tracking_id(&tracking_id)
        .await
        .map_err(not_found)?;
    // Drafts and non-public labels answer as if they did not exist.
    if !a
        .latest_version()
        .is_some_and(|v| v.content.tlp.is_public())
    {
        return Err(AppError::not_found());
    }
    let a = &a;
    let row = public_row(&state, a)?;
    Ok(PublicFile::new(
        String::new(),
        "application/json",
        serde_json::to_vec(&row).unwrap_or_default(),
        row.current_release_date,
    )
    .respond(&headers))
}
