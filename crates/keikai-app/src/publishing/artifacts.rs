//! The files of one published version: the CSAF document with its `.sha256`, `.sha512` and
//! OpenPGP `.asc`, the HTML bulletin in each written language, and a CVE JSON 5 record per
//! CVE.
//!
//! They are immutable once stored, so they are whole or not made at all: a document that
//! cannot be built, validated, serialized or rendered is an [`ArtifactError`] naming the file,
//! and no file is ever empty (an empty document would otherwise be hashed, signed and kept
//! forever).

use jiff::Timestamp;
use keikai_domain::Locale;
use keikai_domain::advisory::publication::{self, ProductNames, PublicationError, PublisherInfo};
use keikai_domain::advisory::{Advisory, AdvisoryState, PublishedVersion};
use keikai_openpgp::ProviderKey;
use keikai_store::NewArtifact;
use serde::Serialize;

use super::bulletin;

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

/// The CSAF document's file name (lower case, from the tracking id).
pub fn csaf_file_name(tracking_id: &str) -> String {
    keikai_csaf::distribution::file_name(tracking_id)
}

/// The bulletin's file name in a language.
pub fn html_file_name(lang: Locale) -> String {
    format!("{lang}.html")
}

/// Why a version's files were not made. Nothing of the version is stored then.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The advisory does not make a valid document (its content, the catalogue, the key).
    #[error(transparent)]
    Invalid(#[from] PublicationError),
    /// One file could not be written: a serialization or template failure, or an empty
    /// result. A bug, not the author's mistake.
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
}

impl ArtifactError {
    fn file(file: &str, reason: impl std::fmt::Display) -> Self {
        Self::File {
            file: file.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// How a bulletin is rendered (the real template, or a test's).
type Render = fn(
    &Advisory,
    &PublishedVersion,
    &ProductNames,
    &PublisherInfo,
    Locale,
    &[(String, serde_json::Value)],
) -> askama::Result<String>;

/// Makes every file of one published version, signed with `key`.
pub fn artifacts(
    advisory: &Advisory,
    version: &PublishedVersion,
    products: &ProductNames,
    publisher: &PublisherInfo,
    key: &ProviderKey,
) -> Result<Vec<NewArtifact>, ArtifactError> {
    build(
        advisory,
        version,
        products,
        publisher,
        Some(key),
        bulletin::render,
    )
}

/// What would stop the advisory's next version at publication at `at`, naming the field or
/// file: the same checks publication runs (what the content needs beyond the document, the
/// required languages written and current, then the CSAF document built and validated, the
/// CVE records, the bulletins), without signing or keeping anything. The review is left out: readiness shows it on its own.
pub fn blocker(
    advisory: &Advisory,
    languages: &[Locale],
    products: &ProductNames,
    publisher: &PublisherInfo,
    at: Timestamp,
) -> Option<String> {
    if let Err(e) = advisory
        .check_content()
        .and_then(|()| advisory.check_languages(languages))
    {
        return Some(e.to_string());
    }
    // The version as publication would make it: the advisory published in its release.
    let mut next = advisory.clone();
    let release = next.release.unwrap_or_default();
    next.state = AdvisoryState::Scheduled;
    next.release = Some(release);
    let version = next.upcoming_version(release, at);
    next.versions.push(version.clone());
    build(&next, &version, products, publisher, None, bulletin::render)
        .err()
        .map(|e| e.to_string())
}

fn build(
    advisory: &Advisory,
    version: &PublishedVersion,
    products: &ProductNames,
    publisher: &PublisherInfo,
    key: Option<&ProviderKey>,
    render: Render,
) -> Result<Vec<NewArtifact>, ArtifactError> {
    let doc = publication::csaf_document(advisory, version, products, publisher)?;
    let file = csaf_file_name(&advisory.tracking_id);
    // Serialized (and refused if empty) before anything is hashed or signed.
    let json = json_bytes(&file, &doc)?;
    let (sha256, sha512) = publication::digest_files(&file, &json);
    let asc = key
        .map(|key| key.sign_detached(&json))
        .transpose()
        .map_err(|e| PublicationError::Signature(e.to_string()))?;
    let cves = publication::cve_records(advisory, version, products, publisher)?;
    let mut out = Vec::new();
    for lang in Locale::ALL {
        if version.content.text.get(lang).is_empty() {
            continue;
        }
        let name = html_file_name(lang);
        let html = render(advisory, version, products, publisher, lang, &cves)
            .map_err(|e| ArtifactError::file(&name, format!("the template failed: {e}")))?;
        out.push(artifact(name, HTML, html.into_bytes())?);
    }
    out.push(artifact(
        format!("{file}.sha256"),
        TEXT,
        sha256.into_bytes(),
    )?);
    out.push(artifact(
        format!("{file}.sha512"),
        TEXT,
        sha512.into_bytes(),
    )?);
    if let Some(asc) = asc {
        out.push(artifact(
            format!("{file}.asc"),
            "application/pgp-signature",
            asc.into_bytes(),
        )?);
    }
    out.push(artifact(file, JSON, json)?);
    for (cve, record) in &cves {
        let name = format!("{cve}.json");
        let bytes = json_bytes(&name, record)?;
        out.push(artifact(name, JSON, bytes)?);
    }
    Ok(out)
}

/// A document as pretty JSON (what is published, hashed and signed).
fn json_bytes<T: Serialize>(file: &str, doc: &T) -> Result<Vec<u8>, ArtifactError> {
    let bytes = serde_json::to_vec_pretty(doc)
        .map_err(|e| ArtifactError::file(file, format!("cannot be serialized: {e}")))?;
    non_empty(file, &bytes)?;
    Ok(bytes)
}

fn non_empty(file: &str, bytes: &[u8]) -> Result<(), ArtifactError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ArtifactError::file(file, "came out empty"));
    }
    Ok(())
}

/// One file of the version; an empty one is refused.
fn artifact(
    name: String,
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<NewArtifact, ArtifactError> {
    non_empty(&name, &bytes)?;
    Ok(NewArtifact {
        name,
        content_type: content_type.to_owned(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use keikai_domain::advisory::{Text, Vulnerability};
    use keikai_domain::case::{ProductStatus, ProductStatusKind};
    use keikai_domain::{
        Branch, BranchCategory, BranchId, BranchName, ReleaseId, UserId, VulnerabilityId,
    };

    use super::*;

    fn branch(parent: Option<BranchId>, category: BranchCategory, name: &str) -> Branch {
        Branch {
            id: BranchId::new(),
            parent_id: parent,
            category,
            name: BranchName::parse(name).expect("name"),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    struct Fixture {
        advisory: Advisory,
        version: PublishedVersion,
        products: ProductNames,
        publisher: PublisherInfo,
        key: ProviderKey,
    }

    /// A publishable advisory in English (one vulnerability of one product version) and its
    /// first version.
    fn fixture() -> Fixture {
        let now: Timestamp = "2026-03-10T17:00:00Z".parse().expect("time");
        let vendor = branch(None, BranchCategory::Vendor, "Example");
        let product = branch(Some(vendor.id), BranchCategory::ProductName, "Router");
        let v1 = branch(Some(product.id), BranchCategory::ProductVersion, "1.0");
        let text = Text {
            title: "Stack overflow".to_owned(),
            summary: "A crafted packet crashes the router.".to_owned(),
            description: "The parser trusts a length field.".to_owned(),
            impact: "Denial of service.".to_owned(),
            faqs: Vec::new(),
        };
        let (mut advisory, _) = Advisory::draft(
            "EXA-2026-0001".to_owned(),
            Locale::En,
            text,
            UserId::new(),
            now,
        )
        .expect("draft");
        advisory.content.vulnerabilities.push(Vulnerability {
            id: VulnerabilityId::new(),
            title: "Stack overflow in the parser".to_owned(),
            cve: None,
            cwe: None,
            scores: Vec::new(),
            exploited: false,
            publicly_disclosed: false,
            product_statuses: vec![
                ProductStatus::new(v1.id, ProductStatusKind::UnderInvestigation, None)
                    .expect("status"),
            ],
            remediations: Vec::new(),
        });
        let version = PublishedVersion {
            number: 1,
            at: now,
            summary: "Initial release.".to_owned(),
            release: ReleaseId::new(),
            content: advisory.content.clone(),
        };
        Fixture {
            advisory,
            version,
            products: ProductNames::from_branches(&[vendor, product, v1]),
            publisher: crate::Publishing::default().publisher,
            key: ProviderKey::generate("Test PSIRT", now).expect("key"),
        }
    }

    impl Fixture {
        fn build(&self, render: Render) -> Result<Vec<NewArtifact>, ArtifactError> {
            build(
                &self.advisory,
                &self.version,
                &self.products,
                &self.publisher,
                Some(&self.key),
                render,
            )
        }
    }

    #[test]
    fn readiness_runs_publications_checks_without_signing() {
        let f = fixture();
        let at = f.version.at;
        assert_eq!(
            blocker(&f.advisory, &[Locale::En], &f.products, &f.publisher, at),
            None,
            "an advisory that publishes has no blocker (its review is shown on its own)"
        );
        // A reference whose URL is not one: accepted while editing, refused by the CSAF
        // schema at publication, so readiness says so first.
        let mut bad = f.advisory.clone();
        bad.content
            .references
            .push(keikai_domain::advisory::Reference {
                url: "https://example.org/?q=\"><script>alert(1)</script>".to_owned(),
                summary: "Details".to_owned(),
            });
        let why = blocker(&bad, &[Locale::En], &f.products, &f.publisher, at).expect("a blocker");
        let version = PublishedVersion {
            content: bad.content.clone(),
            ..f.version.clone()
        };
        let published = build(
            &bad,
            &version,
            &f.products,
            &f.publisher,
            Some(&f.key),
            bulletin::render,
        );
        assert_eq!(
            published.err().map(|e| e.to_string()),
            Some(why.clone()),
            "readiness and publication give the same reason"
        );
        assert!(why.contains("reference"), "{why}");
        let mut empty = f.advisory.clone();
        empty.content.vulnerabilities.clear();
        let why = blocker(&empty, &[Locale::En], &f.products, &f.publisher, at).expect("a blocker");
        assert!(why.starts_with("vulnerabilities"), "{why}");
    }

    #[test]
    fn every_file_of_a_version_is_whole() {
        let files = fixture().build(bulletin::render).expect("files");
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "en.html",
                "exa-2026-0001.json.sha256",
                "exa-2026-0001.json.sha512",
                "exa-2026-0001.json.asc",
                "exa-2026-0001.json"
            ]
        );
        assert!(files.iter().all(|f| !f.bytes.is_empty()));
        let html = String::from_utf8_lossy(&files[0].bytes);
        assert!(html.contains("EXA-2026-0001: Stack overflow"), "{html}");
    }

    #[test]
    fn a_bulletin_that_fails_to_render_stops_the_version_naming_the_file() {
        let f = fixture();
        let err = f
            .build(|_, _, _, _, _, _| Err(askama::Error::Fmt))
            .expect_err("a failed template must not be published");
        assert!(
            matches!(&err, ArtifactError::File { file, .. } if file == "en.html"),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("en.html: the template failed"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_bulletin_is_refused_not_stored() {
        let err = fixture()
            .build(|_, _, _, _, _, _| Ok("\n".to_owned()))
            .expect_err("an empty page must not be published");
        assert_eq!(err.to_string(), "en.html: came out empty");
    }

    /// A document whose serialization fails, as a broken `Serialize` would.
    struct Unserializable;

    impl Serialize for Unserializable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("a map key that is not a string"))
        }
    }

    #[test]
    fn a_document_that_cannot_be_serialized_is_an_error_not_an_empty_file() {
        let err = json_bytes("exa-2026-0001.json", &Unserializable).expect_err("must fail");
        assert_eq!(
            err.to_string(),
            "exa-2026-0001.json: cannot be serialized: a map key that is not a string"
        );
    }
}
