//! What anyone may read without signing in, once published: the advisory list and pages
//! (ja/en), the Atom feeds, the public JSON API, the CSAF 2.0 provider tree under
//! `/.well-known/csaf/` (provider metadata, the TLP:WHITE directory with `index.txt`,
//! `changes.csv`, the ROLIE feed and service document, and the public OpenPGP key), and
//! `security.txt`.
//!
//! Everything here is built from published versions only (the store's `public_only` filter
//! and `public_artifact`), never from a draft: a later edit, an unpublished advisory or a TLP
//! other than CLEAR cannot reach these files. [`tree`] lists every file, so the site and
//! `keikai export` serve the same bytes; the other functions answer for one file of it. No
//! caller is asked for: all of it is public. A file that cannot be written (a serialization
//! or template failure) is an error, never an empty file.

use askama::Template;
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
use serde::Serialize;

use crate::i18n::t;
use crate::publishing::{csaf_file_name, html_file_name, provider_key};
use crate::{App, Error, Result};

/// The TLP:WHITE distribution directory, relative to the site.
pub const WHITE_DIR: &str = ".well-known/csaf/white";
pub const PROVIDER_METADATA: &str = ".well-known/csaf/provider-metadata.json";
pub const SERVICE_DOCUMENT: &str = ".well-known/csaf/service.json";
pub const ROLIE_FEED: &str = ".well-known/csaf/white/feed-tlp-white.json";
/// The public advisory list as JSON (what the public API answers).
pub const API_LIST: &str = "api/v1/public/advisories";

/// The most public advisories a list, feed or the tree holds.
const MAX_PUBLIC: u32 = 5_000;

/// One public file: its path below the site root (no leading `/`), type and bytes.
#[derive(Debug, Clone)]
pub struct PublicFile {
    pub path: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub last_modified: Timestamp,
}

impl PublicFile {
    pub fn new(path: String, content_type: &str, bytes: Vec<u8>, last_modified: Timestamp) -> Self {
        Self {
            path,
            content_type: content_type.to_owned(),
            bytes,
            last_modified,
        }
    }

    /// A JSON file: pretty (as the files of the tree are) or compact.
    pub fn json<T: Serialize>(
        path: String,
        value: &T,
        pretty: bool,
        last_modified: Timestamp,
    ) -> Result<Self> {
        let bytes = if pretty {
            serde_json::to_vec_pretty(value)
        } else {
            serde_json::to_vec(value)
        }
        .map_err(|e| Error::internal(format!("{path}: cannot be serialized: {e}")))?;
        Ok(Self::new(path, "application/json", bytes, last_modified))
    }
}

/// Every public advisory (published, TLP:CLEAR), newest first; `text` searches (every term
/// must occur in the published text).
pub async fn advisories(app: &App, text: Option<&str>) -> Result<Vec<Advisory>> {
    Ok(app
        .store()
        .list_advisories(&AdvisoryFilter {
            public_only: true,
            text: text.map(str::to_owned).filter(|t| !t.trim().is_empty()),
            limit: MAX_PUBLIC,
            ..AdvisoryFilter::default()
        })
        .await?)
}

fn latest(a: &Advisory) -> Result<&PublishedVersion> {
    a.latest_version().ok_or_else(|| {
        Error::internal(format!(
            "the public advisory {} has no version",
            a.tracking_id
        ))
    })
}

fn initial(a: &Advisory) -> Timestamp {
    a.versions.first().map_or(a.created_at, |v| v.at)
}

fn entry(a: &Advisory) -> Result<PublishedEntry> {
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

fn publisher(app: &App) -> Publisher {
    let p = &app.config().publishing.publisher;
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
async fn provider_files(app: &App, list: &[Advisory]) -> Result<Vec<PublicFile>> {
    let publishing = &app.config().publishing;
    let base = publishing.base_url();
    let updated = newest(list);
    let entries = list.iter().map(entry).collect::<Result<Vec<_>>>()?;
    let key = provider_key(app).await?;
    let fingerprint = key.fingerprint();
    let public_key = key
        .public_key_armored()
        .map_err(|e| Error::internal(format!("public key: {e}")))?;
    let metadata = distribution::provider_metadata(&ProviderMetadataInput {
        canonical_url: format!("{base}/{PROVIDER_METADATA}"),
        publisher: publisher(app),
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
        &format!("{}-tlp-white", publishing.tracking_prefix.to_lowercase()),
        &format!("{} TLP:WHITE advisories", publishing.publisher.name),
        &format!("{base}/{ROLIE_FEED}"),
        "WHITE",
        updated,
        &feed_entries,
    );
    let service = distribution::rolie_service_document(&[RolieWorkspace {
        title: format!("{} CSAF advisories", publishing.publisher.name),
        collections: vec![RolieCollection {
            title: "TLP:WHITE advisories".to_owned(),
            href: format!("{base}/{ROLIE_FEED}"),
            tlp_label: Some("WHITE".to_owned()),
        }],
    }]);
    Ok(vec![
        PublicFile::json(PROVIDER_METADATA.to_owned(), &metadata, true, updated)?,
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
        PublicFile::json(ROLIE_FEED.to_owned(), &feed, true, updated)?,
        PublicFile::json(SERVICE_DOCUMENT.to_owned(), &service, true, updated)?,
        PublicFile::new(
            key_path(&fingerprint),
            "application/pgp-keys",
            public_key.into_bytes(),
            updated,
        ),
    ])
}

/// One generated file of the provider tree (provider metadata, the service document,
/// `index.txt`, `changes.csv`, the ROLIE feed, the public key), by its path.
pub async fn provider_file(app: &App, path: &str) -> Result<PublicFile> {
    let list = advisories(app, None).await?;
    provider_files(app, &list)
        .await?
        .into_iter()
        .find(|f| f.path == path)
        .ok_or(Error::NotFound)
}

/// The language a public advisory's page is shown in: `lang` when it is written in it, else
/// English.
fn page_lang(v: &PublishedVersion, lang: Locale) -> Locale {
    if v.content.text.get(lang).is_empty() {
        Locale::En
    } else {
        lang
    }
}

fn feed_name(lang: Locale) -> &'static str {
    match lang {
        Locale::En => "feed.atom",
        Locale::Ja => "feed.ja.atom",
    }
}

fn atom_feed(app: &App, list: &[Advisory], lang: Locale) -> Result<PublicFile> {
    let publishing = &app.config().publishing;
    let base = publishing.base_url();
    let name = feed_name(lang);
    let mut entries = Vec::new();
    for a in list {
        let v = latest(a)?;
        let page_lang = page_lang(v, lang);
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
            publishing.publisher.name,
            t(lang, "public-advisories")
        ),
        updated: newest(list),
        self_url: format!("{base}/advisories/{name}"),
        alternate_url: Some(format!("{base}/advisories")),
        lang: Some(lang.as_str().to_owned()),
        author_name: publishing.publisher.name.clone(),
        entries,
    };
    Ok(PublicFile::new(
        format!("advisories/{name}"),
        "application/atom+xml; charset=utf-8",
        atom::write(&feed).into_bytes(),
        newest(list),
    ))
}

/// The Atom feed of the public advisories in one language (titles fall back to English).
pub async fn feed(app: &App, lang: Locale) -> Result<PublicFile> {
    atom_feed(app, &advisories(app, None).await?, lang)
}

/// One row of the public list and JSON API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicAdvisory {
    pub tracking_id: String,
    pub title: String,
    pub title_ja: Option<String>,
    pub summary: String,
    pub severity: Option<String>,
    pub cves: Vec<String>,
    pub exploited: bool,
    pub version: u32,
    pub initial_release_date: Timestamp,
    pub current_release_date: Timestamp,
    /// The page, in English and (when translated) Japanese.
    pub html_en: String,
    pub html_ja: Option<String>,
    /// The CSAF document in the provider directory.
    pub csaf: String,
}

fn cves(v: &PublishedVersion) -> impl Iterator<Item = String> + '_ {
    v.content
        .vulnerabilities
        .iter()
        .filter_map(|x| x.cve.as_ref().map(|c| c.as_str().to_owned()))
}

fn public_row(app: &App, a: &Advisory) -> Result<PublicAdvisory> {
    let base = app.config().publishing.base_url();
    let v = latest(a)?;
    let e = entry(a)?;
    let ja = &v.content.text.ja;
    Ok(PublicAdvisory {
        tracking_id: a.tracking_id.clone(),
        title: v.content.text.en.title.clone(),
        title_ja: (!ja.is_empty()).then(|| ja.title.clone()),
        summary: v.content.text.en.summary.clone(),
        severity: v.content.severity.clone(),
        cves: cves(v).collect(),
        exploited: v.content.vulnerabilities.iter().any(|x| x.exploited),
        version: v.number,
        initial_release_date: e.initial_release_date,
        current_release_date: e.current_release_date,
        html_en: format!("{base}/advisories/{}/en.html", a.tracking_id),
        html_ja: (!ja.is_empty()).then(|| format!("{base}/advisories/{}/ja.html", a.tracking_id)),
        csaf: format!("{base}/{WHITE_DIR}/{}", distribution::relative_path(&e)),
    })
}

fn api_list_file(app: &App, list: &[Advisory]) -> Result<PublicFile> {
    let rows = list
        .iter()
        .map(|a| public_row(app, a))
        .collect::<Result<Vec<_>>>()?;
    // Pretty, as `keikai export` writes it, so both serve the same bytes.
    PublicFile::json(API_LIST.to_owned(), &rows, true, newest(list))
}

/// The public advisories as JSON, newest first; `text` searches.
pub async fn api_list(app: &App, text: Option<&str>) -> Result<PublicFile> {
    api_list_file(app, &advisories(app, text).await?)
}

/// One public advisory's row. Drafts and non-public labels are not found.
pub async fn advisory(app: &App, tracking_id: &str) -> Result<PublicAdvisory> {
    let a = app.store().advisory_by_tracking_id(tracking_id).await?;
    if !a
        .latest_version()
        .is_some_and(|v| v.content.tlp.is_public())
    {
        return Err(Error::NotFound);
    }
    public_row(app, &a)
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

fn list_file(app: &App, list: &[Advisory], lang: Locale, query: &str) -> Result<PublicFile> {
    let mut rows = Vec::new();
    for a in list {
        let v = latest(a)?;
        let page_lang = page_lang(v, lang);
        let text = v.content.text.get(page_lang);
        rows.push(ListRow {
            tracking_id: a.tracking_id.clone(),
            title: text.title.clone(),
            summary: text.summary.clone(),
            severity: v.content.severity.clone().unwrap_or_default(),
            cves: cves(v).collect::<Vec<_>>().join(", "),
            updated: v.at.strftime("%Y-%m-%d").to_string(),
            href: format!(
                "/advisories/{}/{}",
                a.tracking_id,
                html_file_name(page_lang)
            ),
        });
    }
    let path = match lang {
        Locale::En => "advisories/index.html",
        Locale::Ja => "advisories/index.ja.html",
    };
    let html = ListTemplate {
        lang,
        publisher: app.config().publishing.publisher.name.clone(),
        query: query.to_owned(),
        rows,
    }
    .render()
    .map_err(|e| Error::internal(format!("{path}: the template failed: {e}")))?;
    Ok(PublicFile::new(
        path.to_owned(),
        "text/html; charset=utf-8",
        html.into_bytes(),
        newest(list),
    ))
}

/// The list page in a language, with the advisories matching `query` (all when blank).
pub async fn list_page(app: &App, lang: Locale, query: &str) -> Result<PublicFile> {
    list_file(app, &advisories(app, Some(query)).await?, lang, query)
}

/// Every public file: what `keikai export` writes and the site serves. Advisory files are kept
/// per version under `advisories/{id}/versions/{n}/`; the latest version's pages are also at
/// `advisories/{id}/{lang}.html` and its CSAF files in the provider directory.
pub async fn tree(app: &App) -> Result<Vec<PublicFile>> {
    let list = advisories(app, None).await?;
    let mut files = provider_files(app, &list).await?;
    for lang in Locale::ALL {
        files.push(atom_feed(app, &list, lang)?);
        files.push(list_file(app, &list, lang, "")?);
    }
    files.push(api_list_file(app, &list)?);
    let store = app.store();
    for a in &list {
        let v = latest(a)?;
        let e = entry(a)?;
        let csaf = csaf_file_name(&a.tracking_id);
        for meta in store.list_artifacts(Some(a.id)).await? {
            if meta.version > v.number {
                continue;
            }
            let (_, bytes) = store
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

// ---------------------------------------------------------------- one stored file

/// A CSAF document of the provider directory, its hashes or its signature:
/// `{WHITE_DIR}/{year}/{file}`. The document lives in the folder of its initial release year
/// only (CSAF 7.1.11).
pub async fn csaf_file(app: &App, year: &str, file: &str) -> Result<PublicFile> {
    // CSAF file names are lower case (5.1); other artifacts (CVE-….json, en.html) are not
    // in the provider directory.
    let csaf_like = file
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-_.".contains(c))
        && [".json", ".json.sha256", ".json.sha512", ".json.asc"]
            .iter()
            .any(|s| file.ends_with(s));
    if !csaf_like || year.len() != 4 || !year.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::NotFound);
    }
    let (meta, bytes) = app.store().public_latest_artifact_by_name(file).await?;
    let advisory = app.store().get_advisory(meta.advisory_id).await?;
    let e = entry(&advisory)?;
    let dir = distribution::relative_path(&e);
    if !dir.starts_with(&format!("{year}/")) {
        return Err(Error::NotFound);
    }
    Ok(PublicFile::new(
        format!("{WHITE_DIR}/{year}/{file}"),
        &meta.content_type,
        bytes,
        meta.created_at,
    ))
}

/// The bulletin a visitor asking for `lang` is sent to: that language's page when the
/// advisory is written in it, else the English one. Only a public advisory has one.
pub async fn page_name(app: &App, tracking_id: &str, lang: Locale) -> Result<String> {
    let name = html_file_name(lang);
    match app.store().public_artifact(tracking_id, None, &name).await {
        Ok(_) => Ok(name),
        Err(StoreError::NotFound) => {
            let english = html_file_name(Locale::En);
            app.store()
                .public_artifact(tracking_id, None, &english)
                .await?;
            Ok(english)
        }
        Err(e) => Err(e.into()),
    }
}

/// A file of a public advisory: any file of any version published (kept forever), or of the
/// latest version (`version` `None`) its pages only.
pub async fn advisory_file(
    app: &App,
    tracking_id: &str,
    version: Option<u32>,
    file: &str,
) -> Result<PublicFile> {
    if version.is_none() && !file.ends_with(".html") {
        return Err(Error::NotFound);
    }
    let (meta, bytes) = app
        .store()
        .public_artifact(tracking_id, version, file)
        .await?;
    let path = match version {
        Some(n) => format!("advisories/{tracking_id}/versions/{n}/{file}"),
        None => format!("advisories/{tracking_id}/{file}"),
    };
    Ok(PublicFile::new(
        path,
        &meta.content_type,
        bytes,
        meta.created_at,
    ))
}

// ---------------------------------------------------------------- security.txt

/// `security.txt` (RFC 9116), made afresh each time so that `Expires` always lies
/// `expires_days` ahead of the clock and the file never goes stale. It names the CSAF provider
/// metadata, which is always served (CSAF 2.0 7.1.8).
pub fn security_txt(app: &App) -> Result<String> {
    let config = app.config();
    let metadata = format!("{}/{PROVIDER_METADATA}", config.publishing.base_url());
    let settings = config
        .security_txt
        .clone()
        .with_csaf(&metadata)
        .unwrap_or_else(|_| config.security_txt.clone());
    let doc = settings
        .document(app.now())
        .map_err(|e| Error::internal(format!("security.txt: {e}")))?;
    Ok(doc.render())
}
