//! Security advisories that are valid by construction.
//!
//! [`AdvisoryBuilder`] takes simple inputs (strings, product handles) and produces a
//! `csaf_security_advisory` [`CsafDocument`] that passes the schema and the mandatory tests
//! (6.1), or a [`BuildError`] naming the input it cannot make valid. What it does for the
//! caller:
//! - the product tree: vendor → product name → version (or version range) branches, merged
//!   by name, with generated product ids (`CSAFPID-0001`, ...);
//! - CVSS objects computed from a vector with `keikai-cvss` (scores, severities, metrics);
//! - tracking: `version` is the latest revision's number, the release dates are the first and
//!   last revision dates, the revision history is sorted by date;
//! - the checks of the mandatory tests that depend on inputs: unknown or contradicting product
//!   statuses (6.1.1, 6.1.6), several scores of one CVSS version per product (6.1.7), revision
//!   numbers (6.1.14, 6.1.17-6.1.22, 6.1.30), duplicate CVEs (6.1.23), remediations without
//!   products (6.1.29), version ranges in a version (6.1.31), the security advisory profile
//!   (6.1.27.4-6, 6.1.27.11).
//!
//! - CWE names from the validator's CWE catalog (6.1.11), language tags checked like 6.1.12.
//! - threats (exploit status, impact, target set) and VEX justification flags, at most one
//!   flag per product.
//!
//! As a last step `build` runs the basic validator (schema + 6.1) on the result, so a document
//! it returns is valid even where the input checks above fall short.
//!
//! ```
//! use keikai_csaf::builder::{AdvisoryBuilder, Product, RemediationInput, Status, VulnerabilityBuilder};
//! use keikai_csaf::model::{Publisher, PublisherCategory, TlpLabel};
//!
//! let mut advisory = AdvisoryBuilder::new(
//!     "EXAMPLE-2024-0001",
//!     "Buffer overflow in Example Router",
//!     Publisher::new(PublisherCategory::Vendor, "Example Inc.", "https://example.com"),
//! );
//! advisory.tlp(TlpLabel::White).revision("2024-03-01T12:00:00Z", "1", "Initial version.");
//! let old = advisory.add_product(Product::new("Example Inc.", "Router X", "1.0"))?;
//! let new = advisory.add_product(Product::new("Example Inc.", "Router X", "1.1"))?;
//! advisory.add_vulnerability(
//!     VulnerabilityBuilder::new()
//!         .cve("CVE-2024-12345")
//!         .description("A crafted packet overflows a buffer.")
//!         .cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", [&old])
//!         .status(Status::KnownAffected, [&old])
//!         .status(Status::Fixed, [&new])
//!         .remediation(RemediationInput::vendor_fix("Update to 1.1.", [&old]).url("https://example.com/fw")),
//! );
//! let doc = advisory.build()?;
//! assert_eq!(doc.document.tracking.version, "1");
//! # Ok::<(), keikai_csaf::builder::BuildError>(())
//! ```

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::finding::{Finding, Severity};
use crate::model::{
    Acknowledgment, Branch, BranchCategory, CsafDocument, CsafVersion, CvssConversionError, CvssV2,
    CvssV3, Cwe, DateTime, DateTimeError, Distribution, Document, DocumentCategory, DocumentStatus,
    Engine, Extra, Flag, FlagLabel, FullProductName, Generator, Note, NoteCategory, ProductId,
    ProductIdentificationHelper, ProductStatus, ProductTree, Publisher, PublisherCategory,
    Reference, ReferenceCategory, Remediation, RemediationCategory, RestartCategory,
    RestartRequired, Revision, Score, Threat, ThreatCategory, Tlp, TlpLabel, Tracking,
    Vulnerability, VulnerabilityId,
};

/// Why the inputs cannot become a valid document. `field` names the input, e.g.
/// `vulnerabilities[1].cvss[0]`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("{field} must not be empty")]
    Empty { field: String },
    #[error("{field} {value:?} must not start or end with whitespace")]
    Whitespace { field: String, value: String },
    #[error("{field}: {source}")]
    Date {
        field: String,
        source: DateTimeError,
    },
    #[error(
        "{field} {value:?} is not an absolute URI (expected e.g. https://example.com/advisory)"
    )]
    Uri { field: String, value: String },
    #[error("{field} {value:?} {reason}")]
    Lang {
        field: String,
        value: String,
        reason: String,
    },
    #[error("{field} {value:?} is {expected}")]
    Format {
        field: String,
        value: String,
        expected: &'static str,
    },
    #[error("the revision history is empty: add at least one revision")]
    NoRevision,
    #[error(
        "{field} {value:?} is not a version number (expected an integer such as 2 or a semantic version such as 1.0.0)"
    )]
    VersionNumber { field: String, value: String },
    #[error("{field} {value:?} has a pre-release part; revision numbers must not (test 6.1.19)")]
    PreRelease { field: String, value: String },
    #[error(
        "revision numbers mix integer and semantic versioning: {first:?} and {second:?} (test 6.1.30)"
    )]
    MixedVersioning { first: String, second: String },
    #[error("revision number {number:?} is used twice (test 6.1.22)")]
    DuplicateRevision { number: String },
    #[error(
        "revision {later:?} is dated before revision {earlier:?}: numbers must grow with the date (test 6.1.14)"
    )]
    RevisionOrder { earlier: String, later: String },
    #[error(
        "the first revision must be 0 or 1 (or major version 0 or 1), not {number:?} (test 6.1.21)"
    )]
    FirstRevision { number: String },
    #[error(
        "revision {next:?} follows {previous:?}: a version is missing in between (test 6.1.21)"
    )]
    RevisionGap { previous: String, next: String },
    #[error(
        "revision {number:?} is a pre-release version 0, but the document status is {status} (tests 6.1.17, 6.1.18): use status draft"
    )]
    UnreleasedVersion {
        number: String,
        status: DocumentStatus,
    },
    #[error("a translator's document needs the source language (source_lang, test 6.1.15)")]
    MissingSourceLang,
    #[error(
        "{field} {value:?} is a version range, not a version (test 6.1.31): use Product::version_range"
    )]
    VersionRange { field: String, value: String },
    #[error("the advisory has no product: add at least one (test 6.1.27.4)")]
    NoProducts,
    #[error("the advisory has no vulnerability: add at least one (test 6.1.27.11)")]
    NoVulnerabilities,
    #[error("{field} needs at least one note, e.g. a description (test 6.1.27.5)")]
    MissingVulnerabilityNote { field: String },
    #[error("{field} needs at least one product status (test 6.1.27.6)")]
    MissingProductStatus { field: String },
    #[error("{field} names product {id:?}, which this advisory does not define (test 6.1.1)")]
    UnknownProduct { field: String, id: String },
    #[error("{field}: product {id:?} is both {first} and {second} (test 6.1.6)")]
    ContradictingStatus {
        field: String,
        id: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("{field}: product {id:?} has two CVSS {version} scores (test 6.1.7)")]
    DuplicateScore {
        field: String,
        id: String,
        version: String,
    },
    #[error("{field}: CVSS vector {vector:?} is invalid: {reason}")]
    Cvss {
        field: String,
        vector: String,
        reason: String,
    },
    #[error("{field}: {source}")]
    CvssVersion {
        field: String,
        source: CvssConversionError,
    },
    #[error("{field}: {id} is not a weakness of the CWE catalog {catalog} (test 6.1.11)")]
    UnknownCwe {
        field: String,
        id: String,
        catalog: &'static str,
    },
    #[error(
        "the assembled document is still invalid (a defect of the builder, please report): {}",
        summarize(findings)
    )]
    Invalid { findings: Vec<Finding> },
    #[error("CVE {cve:?} appears in two vulnerabilities (test 6.1.23)")]
    DuplicateCve { cve: String },
    #[error("{field} must name at least one person, organization, summary or URL")]
    EmptyAcknowledgment { field: String },
    #[error("{field}: product {id:?} has two flags; give each product one justification")]
    DuplicateFlag { field: String, id: String },
}

/// One product: a version (or version range) of a named product of a vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    vendor: String,
    name: String,
    version: String,
    range: bool,
    cpe: Option<String>,
    purl: Option<String>,
}

impl Product {
    /// One version, e.g. `Product::new("Example Inc.", "Router X", "1.0.2")`.
    pub fn new(
        vendor: impl Into<String>,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            vendor: vendor.into(),
            name: name.into(),
            version: version.into(),
            range: false,
            cpe: None,
            purl: None,
        }
    }

    /// A range of versions, preferably a `vers:` string such as `vers:generic/<1.0.3`.
    pub fn version_range(
        vendor: impl Into<String>,
        name: impl Into<String>,
        range: impl Into<String>,
    ) -> Self {
        Self {
            range: true,
            ..Self::new(vendor, name, range)
        }
    }

    /// A CPE 2.2 or 2.3 name identifying the product.
    #[must_use]
    pub fn cpe(mut self, cpe: impl Into<String>) -> Self {
        self.cpe = Some(cpe.into());
        self
    }

    /// A package URL identifying the product.
    #[must_use]
    pub fn purl(mut self, purl: impl Into<String>) -> Self {
        self.purl = Some(purl.into());
        self
    }
}

/// The product status lists of a vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    FirstAffected,
    FirstFixed,
    Fixed,
    KnownAffected,
    KnownNotAffected,
    LastAffected,
    Recommended,
    UnderInvestigation,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Self::FirstAffected => "first_affected",
            Self::FirstFixed => "first_fixed",
            Self::Fixed => "fixed",
            Self::KnownAffected => "known_affected",
            Self::KnownNotAffected => "known_not_affected",
            Self::LastAffected => "last_affected",
            Self::Recommended => "recommended",
            Self::UnderInvestigation => "under_investigation",
        }
    }

    /// The contradiction groups of test 6.1.6; `recommended` contradicts nothing.
    fn group(self) -> Option<&'static str> {
        match self {
            Self::FirstAffected | Self::KnownAffected | Self::LastAffected => Some("affected"),
            Self::KnownNotAffected => Some("not affected"),
            Self::FirstFixed | Self::Fixed => Some("fixed"),
            Self::UnderInvestigation => Some("under investigation"),
            Self::Recommended => None,
        }
    }
}

/// A remediation for some products.
#[derive(Debug, Clone, PartialEq)]
pub struct RemediationInput {
    category: RemediationCategory,
    details: String,
    products: Vec<ProductId>,
    url: Option<String>,
    date: Option<String>,
    restart: Option<RestartCategory>,
}

impl RemediationInput {
    pub fn new<'a>(
        category: RemediationCategory,
        details: impl Into<String>,
        products: impl IntoIterator<Item = &'a ProductId>,
    ) -> Self {
        Self {
            category,
            details: details.into(),
            products: products.into_iter().cloned().collect(),
            url: None,
            date: None,
            restart: None,
        }
    }

    /// A fix from the vendor (an update); add [`Self::url`] for where to get it.
    pub fn vendor_fix<'a>(
        details: impl Into<String>,
        products: impl IntoIterator<Item = &'a ProductId>,
    ) -> Self {
        Self::new(RemediationCategory::VendorFix, details, products)
    }

    /// A configuration or deployment change that avoids the vulnerability.
    pub fn workaround<'a>(
        details: impl Into<String>,
        products: impl IntoIterator<Item = &'a ProductId>,
    ) -> Self {
        Self::new(RemediationCategory::Workaround, details, products)
    }

    /// A change that reduces the risk without fixing the vulnerability.
    pub fn mitigation<'a>(
        details: impl Into<String>,
        products: impl IntoIterator<Item = &'a ProductId>,
    ) -> Self {
        Self::new(RemediationCategory::Mitigation, details, products)
    }

    /// No fix yet.
    pub fn none_available<'a>(
        details: impl Into<String>,
        products: impl IntoIterator<Item = &'a ProductId>,
    ) -> Self {
        Self::new(RemediationCategory::NoneAvailable, details, products)
    }

    /// No fix will come (e.g. end of life).
    pub fn no_fix_planned<'a>(
        details: impl Into<String>,
        products: impl IntoIterator<Item = &'a ProductId>,
    ) -> Self {
        Self::new(RemediationCategory::NoFixPlanned, details, products)
    }

    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// When the remediation became available (RFC 3339).
    #[must_use]
    pub fn date(mut self, date: impl Into<String>) -> Self {
        self.date = Some(date.into());
        self
    }

    /// What has to be restarted to apply it.
    #[must_use]
    pub fn restart_required(mut self, category: RestartCategory) -> Self {
        self.restart = Some(category);
        self
    }
}

/// One vulnerability of the advisory. Methods only record; [`AdvisoryBuilder::build`] checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VulnerabilityBuilder {
    cve: Option<String>,
    title: Option<String>,
    cwe: Option<String>,
    notes: Vec<Note>,
    discovery_date: Option<String>,
    release_date: Option<String>,
    ids: Vec<(String, String)>,
    cvss: Vec<(String, Vec<ProductId>)>,
    statuses: Vec<(Status, Vec<ProductId>)>,
    remediations: Vec<RemediationInput>,
    threats: Vec<(ThreatCategory, String, Vec<ProductId>)>,
    flags: Vec<(FlagLabel, Vec<ProductId>)>,
    acknowledgments: Vec<Acknowledgment>,
    references: Vec<(ReferenceCategory, String, String)>,
}

impl VulnerabilityBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The CVE id, e.g. `CVE-2024-12345`.
    #[must_use]
    pub fn cve(mut self, cve: impl Into<String>) -> Self {
        self.cve = Some(cve.into());
        self
    }

    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The CWE id (`CWE-79`); the name is taken from the CWE catalog the validator uses for
    /// test 6.1.11.
    #[must_use]
    pub fn cwe(mut self, id: impl Into<String>) -> Self {
        self.cwe = Some(id.into());
        self
    }

    /// A `description` note titled "Vulnerability description".
    #[must_use]
    pub fn description(self, text: impl Into<String>) -> Self {
        self.note(NoteCategory::Description, "Vulnerability description", text)
    }

    /// A `summary` note titled "Summary".
    #[must_use]
    pub fn summary(self, text: impl Into<String>) -> Self {
        self.note(NoteCategory::Summary, "Summary", text)
    }

    /// A question and its answer, as a `faq` note.
    #[must_use]
    pub fn faq(self, question: impl Into<String>, answer: impl Into<String>) -> Self {
        self.note(NoteCategory::Faq, question, answer)
    }

    #[must_use]
    pub fn note(
        mut self,
        category: NoteCategory,
        title: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        self.notes.push(Note {
            title: Some(title.into()),
            ..Note::new(category, text)
        });
        self
    }

    /// When the vulnerability was discovered (RFC 3339).
    #[must_use]
    pub fn discovery_date(mut self, date: impl Into<String>) -> Self {
        self.discovery_date = Some(date.into());
        self
    }

    /// When the vulnerability was first made public (RFC 3339).
    #[must_use]
    pub fn release_date(mut self, date: impl Into<String>) -> Self {
        self.release_date = Some(date.into());
        self
    }

    /// An id in another system, e.g. `("Example Bugzilla", "BUG-1234")`.
    #[must_use]
    pub fn id(mut self, system_name: impl Into<String>, text: impl Into<String>) -> Self {
        self.ids.push((system_name.into(), text.into()));
        self
    }

    /// A CVSS 3.0/3.1 (or 2.0) vector for some products; scores are computed.
    #[must_use]
    pub fn cvss<'a>(
        mut self,
        vector: impl Into<String>,
        products: impl IntoIterator<Item = &'a ProductId>,
    ) -> Self {
        self.cvss
            .push((vector.into(), products.into_iter().cloned().collect()));
        self
    }

    /// Adds products to one status list.
    #[must_use]
    pub fn status<'a>(
        mut self,
        status: Status,
        products: impl IntoIterator<Item = &'a ProductId>,
    ) -> Self {
        self.statuses
            .push((status, products.into_iter().cloned().collect()));
        self
    }

    #[must_use]
    pub fn remediation(mut self, remediation: RemediationInput) -> Self {
        self.remediations.push(remediation);
        self
    }

    /// A threat (`exploit_status`, `impact` or `target_set`) for some products, or with no
    /// products for the vulnerability as a whole.
    #[must_use]
    pub fn threat<'a>(
        mut self,
        category: ThreatCategory,
        details: impl Into<String>,
        products: impl IntoIterator<Item = &'a ProductId>,
    ) -> Self {
        self.threats.push((
            category,
            details.into(),
            products.into_iter().cloned().collect(),
        ));
        self
    }

    /// A VEX justification flag (why products are not affected), e.g.
    /// `vulnerable_code_not_present`, for at least one product.
    #[must_use]
    pub fn flag<'a>(
        mut self,
        label: FlagLabel,
        products: impl IntoIterator<Item = &'a ProductId>,
    ) -> Self {
        self.flags
            .push((label, products.into_iter().cloned().collect()));
        self
    }

    #[must_use]
    pub fn acknowledgment(mut self, acknowledgment: Acknowledgment) -> Self {
        self.acknowledgments.push(acknowledgment);
        self
    }

    /// An external reference (e.g. the CVE record).
    #[must_use]
    pub fn reference(mut self, url: impl Into<String>, summary: impl Into<String>) -> Self {
        self.references
            .push((ReferenceCategory::External, url.into(), summary.into()));
        self
    }
}

/// An acknowledgment of people and/or an organization.
pub fn acknowledge<S: Into<String>>(
    names: impl IntoIterator<Item = S>,
    organization: Option<&str>,
) -> Acknowledgment {
    let names: Vec<String> = names.into_iter().map(Into::into).collect();
    Acknowledgment {
        names: (!names.is_empty()).then_some(names),
        organization: organization.map(str::to_owned),
        ..Acknowledgment::default()
    }
}

#[derive(Debug, Clone)]
struct ProductEntry {
    vendor: String,
    name: String,
    version: String,
    range: bool,
    id: ProductId,
    helper: Option<ProductIdentificationHelper>,
}

/// Builds a `csaf_security_advisory`. Setters return `&mut Self` for chaining.
#[derive(Debug, Clone)]
pub struct AdvisoryBuilder {
    tracking_id: String,
    title: String,
    publisher: Publisher,
    status: DocumentStatus,
    lang: Option<String>,
    source_lang: Option<String>,
    tlp: Option<(TlpLabel, Option<String>)>,
    distribution_text: Option<String>,
    aggregate_severity: Option<String>,
    notes: Vec<Note>,
    references: Vec<(ReferenceCategory, String, String)>,
    acknowledgments: Vec<Acknowledgment>,
    aliases: Vec<String>,
    revisions: Vec<(String, String, String)>,
    engine: Engine,
    products: Vec<ProductEntry>,
    vulnerabilities: Vec<VulnerabilityBuilder>,
}

impl AdvisoryBuilder {
    /// Starts an advisory with status `final`, generator "Keikai".
    pub fn new(
        tracking_id: impl Into<String>,
        title: impl Into<String>,
        publisher: Publisher,
    ) -> Self {
        Self {
            tracking_id: tracking_id.into(),
            title: title.into(),
            publisher,
            status: DocumentStatus::Final,
            lang: None,
            source_lang: None,
            tlp: None,
            distribution_text: None,
            aggregate_severity: None,
            notes: Vec::new(),
            references: Vec::new(),
            acknowledgments: Vec::new(),
            aliases: Vec::new(),
            revisions: Vec::new(),
            engine: Engine {
                name: "Keikai".to_owned(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
                extra: Extra::new(),
            },
            products: Vec::new(),
            vulnerabilities: Vec::new(),
        }
    }

    pub fn status(&mut self, status: DocumentStatus) -> &mut Self {
        self.status = status;
        self
    }

    /// The document language, e.g. `en`.
    pub fn lang(&mut self, lang: impl Into<String>) -> &mut Self {
        self.lang = Some(lang.into());
        self
    }

    /// The language of the original, for translations.
    pub fn source_lang(&mut self, lang: impl Into<String>) -> &mut Self {
        self.source_lang = Some(lang.into());
        self
    }

    pub fn tlp(&mut self, label: TlpLabel) -> &mut Self {
        self.tlp = Some((label, None));
        self
    }

    /// TLP label with the URL of the TLP definition used.
    pub fn tlp_with_url(&mut self, label: TlpLabel, url: impl Into<String>) -> &mut Self {
        self.tlp = Some((label, Some(url.into())));
        self
    }

    /// Free-text distribution rules.
    pub fn distribution_text(&mut self, text: impl Into<String>) -> &mut Self {
        self.distribution_text = Some(text.into());
        self
    }

    /// The publisher's overall rating, e.g. "Important".
    pub fn aggregate_severity(&mut self, text: impl Into<String>) -> &mut Self {
        self.aggregate_severity = Some(text.into());
        self
    }

    /// Another tracking id of the same advisory.
    pub fn alias(&mut self, alias: impl Into<String>) -> &mut Self {
        self.aliases.push(alias.into());
        self
    }

    /// Overrides the generator engine (default: Keikai and this crate's version).
    pub fn generator(&mut self, name: impl Into<String>, version: Option<&str>) -> &mut Self {
        self.engine = Engine {
            name: name.into(),
            version: version.map(str::to_owned),
            extra: Extra::new(),
        };
        self
    }

    pub fn note(
        &mut self,
        category: NoteCategory,
        title: impl Into<String>,
        text: impl Into<String>,
    ) -> &mut Self {
        self.notes.push(Note {
            title: Some(title.into()),
            ..Note::new(category, text)
        });
        self
    }

    /// A `summary` note titled "Summary".
    pub fn summary(&mut self, text: impl Into<String>) -> &mut Self {
        self.note(NoteCategory::Summary, "Summary", text)
    }

    /// A `legal_disclaimer` note titled "Legal disclaimer".
    pub fn legal_disclaimer(&mut self, text: impl Into<String>) -> &mut Self {
        self.note(NoteCategory::LegalDisclaimer, "Legal disclaimer", text)
    }

    /// A question and its answer, as a `faq` note.
    pub fn faq(&mut self, question: impl Into<String>, answer: impl Into<String>) -> &mut Self {
        self.note(NoteCategory::Faq, question, answer)
    }

    /// An external reference.
    pub fn reference(&mut self, url: impl Into<String>, summary: impl Into<String>) -> &mut Self {
        self.references
            .push((ReferenceCategory::External, url.into(), summary.into()));
        self
    }

    /// The canonical URL of this advisory.
    pub fn self_reference(
        &mut self,
        url: impl Into<String>,
        summary: impl Into<String>,
    ) -> &mut Self {
        self.references
            .push((ReferenceCategory::SelfRef, url.into(), summary.into()));
        self
    }

    pub fn acknowledgment(&mut self, acknowledgment: Acknowledgment) -> &mut Self {
        self.acknowledgments.push(acknowledgment);
        self
    }

    /// A revision: RFC 3339 date, number (integer `1` or semantic version `1.0.0`, the same
    /// scheme for all), summary. Order does not matter; the history is sorted by date.
    pub fn revision(
        &mut self,
        date: impl Into<String>,
        number: impl Into<String>,
        summary: impl Into<String>,
    ) -> &mut Self {
        self.revisions
            .push((date.into(), number.into(), summary.into()));
        self
    }

    /// Adds a product and returns its id. Adding the same vendor, name and version again
    /// returns the first id (identification helpers of the later call are ignored).
    pub fn add_product(&mut self, product: Product) -> Result<ProductId, BuildError> {
        let field = format!(
            "product {} {} {}",
            product.vendor, product.name, product.version
        );
        text("product vendor", &product.vendor)?;
        text("product name", &product.name)?;
        text("product version", &product.version)?;
        if !product.range && is_version_range(&product.version) {
            return Err(BuildError::VersionRange {
                field: format!("{field}: version"),
                value: product.version,
            });
        }
        if let Some(existing) = self.products.iter().find(|p| {
            p.vendor == product.vendor
                && p.name == product.name
                && p.version == product.version
                && p.range == product.range
        }) {
            return Ok(existing.id.clone());
        }
        if let Some(cpe) = &product.cpe {
            matches(
                &CPE,
                &format!("{field}: cpe"),
                cpe,
                "not a CPE 2.2 or 2.3 name",
            )?;
        }
        if let Some(purl) = &product.purl {
            matches(
                &PURL,
                &format!("{field}: purl"),
                purl,
                "not a package URL (expected e.g. pkg:npm/example@1.0.0)",
            )?;
            if let Err(e) = <packageurl::PackageUrl<'_> as std::str::FromStr>::from_str(purl) {
                return Err(BuildError::Format {
                    field: format!("{field}: purl ({e})"),
                    value: purl.clone(),
                    expected: "not a valid package URL",
                });
            }
        }
        let helper = (product.cpe.is_some() || product.purl.is_some()).then(|| {
            ProductIdentificationHelper {
                cpe: product.cpe.clone(),
                purl: product.purl.clone(),
                ..ProductIdentificationHelper::default()
            }
        });
        let id = ProductId(format!("CSAFPID-{:04}", self.products.len() + 1));
        self.products.push(ProductEntry {
            vendor: product.vendor,
            name: product.name,
            version: product.version,
            range: product.range,
            id: id.clone(),
            helper,
        });
        Ok(id)
    }

    pub fn add_vulnerability(&mut self, vulnerability: VulnerabilityBuilder) -> &mut Self {
        self.vulnerabilities.push(vulnerability);
        self
    }

    /// Checks the inputs and assembles the document.
    pub fn build(&self) -> Result<CsafDocument, BuildError> {
        text("tracking id", &self.tracking_id)?;
        text("title", &self.title)?;
        text("publisher name", &self.publisher.name)?;
        uri("publisher namespace", &self.publisher.namespace)?;
        for (field, lang) in [("lang", &self.lang), ("source_lang", &self.source_lang)] {
            if let Some(lang) = lang {
                let reason = if LANG.is_match(lang) {
                    crate::checks::langtag::invalid_reason(lang)
                } else {
                    Some("is not a language tag (expected e.g. en or de-DE)".to_owned())
                };
                if let Some(reason) = reason {
                    return Err(BuildError::Lang {
                        field: field.to_owned(),
                        value: lang.clone(),
                        reason,
                    });
                }
            }
        }
        if self.publisher.category == PublisherCategory::Translator && self.source_lang.is_none() {
            return Err(BuildError::MissingSourceLang);
        }
        let (revision_history, version) = self.revision_history()?;
        let tlp = match &self.tlp {
            Some((label, url)) => {
                if let Some(url) = url {
                    uri("TLP URL", url)?;
                }
                Some(Tlp {
                    label: label.clone(),
                    url: url.clone(),
                    extra: Extra::new(),
                })
            }
            None => None,
        };
        let distribution =
            (tlp.is_some() || self.distribution_text.is_some()).then(|| Distribution {
                text: self.distribution_text.clone(),
                tlp,
                extra: Extra::new(),
            });
        if let Some(text_) = &self.distribution_text {
            text("distribution text", text_)?;
        }
        let first = revision_history
            .first()
            .map(|r| r.date.clone())
            .ok_or(BuildError::NoRevision)?;
        let last = revision_history
            .last()
            .map(|r| r.date.clone())
            .ok_or(BuildError::NoRevision)?;
        let tracking = Tracking {
            aliases: optional_list(self.aliases.clone()),
            current_release_date: last,
            generator: Some(Generator {
                date: None,
                engine: self.engine.clone(),
                extra: Extra::new(),
            }),
            id: self.tracking_id.clone(),
            initial_release_date: first,
            revision_history,
            status: self.status.clone(),
            version,
            extra: Extra::new(),
        };
        for alias in &self.aliases {
            text("tracking alias", alias)?;
        }
        let document = Document {
            acknowledgments: optional_list(acknowledgments(
                "acknowledgments",
                &self.acknowledgments,
            )?),
            aggregate_severity: match &self.aggregate_severity {
                Some(severity) => {
                    text("aggregate severity", severity)?;
                    Some(crate::model::AggregateSeverity {
                        namespace: None,
                        text: severity.clone(),
                        extra: Extra::new(),
                    })
                }
                None => None,
            },
            category: DocumentCategory::SecurityAdvisory,
            csaf_version: CsafVersion::V2_0,
            distribution,
            lang: self.lang.clone(),
            notes: optional_list(notes("notes", &self.notes)?),
            publisher: self.publisher.clone(),
            references: optional_list(references("references", &self.references)?),
            source_lang: self.source_lang.clone(),
            title: self.title.clone(),
            tracking,
            extra: Extra::new(),
        };
        if self.products.is_empty() {
            return Err(BuildError::NoProducts);
        }
        if self.vulnerabilities.is_empty() {
            return Err(BuildError::NoVulnerabilities);
        }
        let known: HashSet<&str> = self.products.iter().map(|p| p.id.as_str()).collect();
        let mut cves = HashSet::new();
        let mut vulnerabilities = Vec::new();
        for (index, input) in self.vulnerabilities.iter().enumerate() {
            let vulnerability = build_vulnerability(index, input, &known)?;
            if let Some(cve) = &vulnerability.cve
                && !cves.insert(cve.clone())
            {
                return Err(BuildError::DuplicateCve { cve: cve.clone() });
            }
            vulnerabilities.push(vulnerability);
        }
        let doc = CsafDocument {
            document,
            product_tree: Some(self.product_tree()),
            vulnerabilities: Some(vulnerabilities),
            extra: Extra::new(),
        };
        // The checks above give precise errors for the inputs; this guarantees the promise
        // "valid by construction" for whatever they miss.
        let value = serde_json::to_value(&doc).map_err(|e| BuildError::Invalid {
            findings: vec![Finding::error("schema", "", e.to_string())],
        })?;
        let report =
            crate::validator::validate(&value, &crate::validator::ValidationOptions::default());
        if !report.valid {
            let findings = report
                .findings
                .into_iter()
                .filter(|f| f.severity == Severity::Error)
                .collect();
            return Err(BuildError::Invalid { findings });
        }
        Ok(doc)
    }

    /// The sorted revision history and the current version, after the revision tests.
    fn revision_history(&self) -> Result<(Vec<Revision>, String), BuildError> {
        if self.revisions.is_empty() {
            return Err(BuildError::NoRevision);
        }
        let mut parsed = Vec::new();
        for (i, (date, number, summary)) in self.revisions.iter().enumerate() {
            let field = format!("revision {i}");
            let date = DateTime::parse(date.clone()).map_err(|source| BuildError::Date {
                field: format!("{field} date"),
                source,
            })?;
            let instant = date.timestamp().map_err(|source| BuildError::Date {
                field: format!("{field} date"),
                source,
            })?;
            text(&format!("{field} summary"), summary)?;
            let version =
                VersionNumber::parse(number).ok_or_else(|| BuildError::VersionNumber {
                    field: format!("{field} number"),
                    value: number.clone(),
                })?;
            if version.pre_release {
                return Err(BuildError::PreRelease {
                    field: format!("{field} number"),
                    value: number.clone(),
                });
            }
            parsed.push((
                instant,
                version,
                Revision {
                    date,
                    legacy_version: None,
                    number: number.clone(),
                    summary: summary.clone(),
                    extra: Extra::new(),
                },
            ));
        }
        if let Some((_, first, _)) = parsed.first()
            && let Some((_, other, _)) =
                parsed.iter().find(|(_, v, _)| v.semantic != first.semantic)
        {
            return Err(BuildError::MixedVersioning {
                first: first.text.clone(),
                second: other.text.clone(),
            });
        }
        // Equal dates are ordered by number (the reading CSAF 2.1 made explicit).
        parsed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp_precedence(&b.1)));
        for pair in parsed.windows(2) {
            let (earlier, later) = (&pair[0].1, &pair[1].1);
            match earlier.cmp_precedence(later) {
                Ordering::Less => {}
                Ordering::Equal => {
                    return Err(BuildError::DuplicateRevision {
                        number: later.text.clone(),
                    });
                }
                Ordering::Greater => {
                    return Err(BuildError::RevisionOrder {
                        earlier: earlier.text.clone(),
                        later: later.text.clone(),
                    });
                }
            }
            if !earlier.major_follows(later) {
                return Err(BuildError::RevisionGap {
                    previous: earlier.text.clone(),
                    next: later.text.clone(),
                });
            }
        }
        let first = &parsed[0].1;
        if first.major != "0" && first.major != "1" {
            return Err(BuildError::FirstRevision {
                number: first.text.clone(),
            });
        }
        if self.status != DocumentStatus::Draft
            && let Some((_, zero, _)) = parsed.iter().find(|(_, v, _)| v.major == "0")
        {
            return Err(BuildError::UnreleasedVersion {
                number: zero.text.clone(),
                status: self.status.clone(),
            });
        }
        let version = parsed
            .last()
            .map(|(_, v, _)| v.text.clone())
            .unwrap_or_default();
        Ok((parsed.into_iter().map(|(_, _, r)| r).collect(), version))
    }

    /// vendor → product_name → product_version(_range), in the order products were added.
    fn product_tree(&self) -> ProductTree {
        let mut vendors: Vec<Branch> = Vec::new();
        for entry in &self.products {
            let vendor = child(&mut vendors, BranchCategory::Vendor, &entry.vendor);
            let name = child(
                vendor.branches.get_or_insert_with(Vec::new),
                BranchCategory::ProductName,
                &entry.name,
            );
            let category = if entry.range {
                BranchCategory::ProductVersionRange
            } else {
                BranchCategory::ProductVersion
            };
            name.branches.get_or_insert_with(Vec::new).push(Branch {
                branches: None,
                category,
                name: entry.version.clone(),
                product: Some(FullProductName {
                    name: format!("{} {} {}", entry.vendor, entry.name, entry.version),
                    product_id: entry.id.clone(),
                    product_identification_helper: entry.helper.clone(),
                    extra: Extra::new(),
                }),
                extra: Extra::new(),
            });
        }
        ProductTree {
            branches: Some(vendors),
            ..ProductTree::default()
        }
    }
}

/// The branch named `name` among `branches`, created if missing.
fn child<'a>(
    branches: &'a mut Vec<Branch>,
    category: BranchCategory,
    name: &str,
) -> &'a mut Branch {
    let index = match branches
        .iter()
        .position(|b| b.category == category && b.name == name)
    {
        Some(index) => index,
        None => {
            branches.push(Branch {
                branches: None,
                category,
                name: name.to_owned(),
                product: None,
                extra: Extra::new(),
            });
            branches.len() - 1
        }
    };
    &mut branches[index]
}

fn build_vulnerability(
    index: usize,
    input: &VulnerabilityBuilder,
    known: &HashSet<&str>,
) -> Result<Vulnerability, BuildError> {
    let at = |what: &str| format!("vulnerabilities[{index}].{what}");
    let check_products =
        |field: String, products: &[ProductId]| -> Result<Vec<ProductId>, BuildError> {
            if products.is_empty() {
                return Err(BuildError::Empty { field });
            }
            let mut unique = Vec::new();
            for id in products {
                if !known.contains(id.as_str()) {
                    return Err(BuildError::UnknownProduct {
                        field,
                        id: id.0.clone(),
                    });
                }
                // Lists must not repeat an id (uniqueItems); repeating one is harmless, so drop it.
                if !unique.contains(id) {
                    unique.push(id.clone());
                }
            }
            Ok(unique)
        };

    if let Some(cve) = &input.cve {
        matches(
            &CVE,
            &at("cve"),
            cve,
            "not a CVE id (expected e.g. CVE-2024-12345)",
        )?;
    }
    if let Some(title) = &input.title {
        text(&at("title"), title)?;
    }
    let cwe = match &input.cwe {
        Some(id) => {
            matches(&CWE, &at("cwe"), id, "not a CWE id (expected e.g. CWE-79)")?;
            let name = crate::checks::cwe::name(id).ok_or_else(|| BuildError::UnknownCwe {
                field: at("cwe"),
                id: id.clone(),
                catalog: crate::checks::cwe::CATALOG_VERSION,
            })?;
            Some(Cwe {
                id: id.clone(),
                name: name.to_owned(),
                extra: Extra::new(),
            })
        }
        None => None,
    };
    if input.notes.is_empty() {
        return Err(BuildError::MissingVulnerabilityNote {
            field: format!("vulnerabilities[{index}]"),
        });
    }
    let date = |what: &str, value: &Option<String>| -> Result<Option<DateTime>, BuildError> {
        value
            .as_ref()
            .map(|d| {
                DateTime::parse(d.clone()).map_err(|source| BuildError::Date {
                    field: at(what),
                    source,
                })
            })
            .transpose()
    };

    // Product status, with the contradiction groups of 6.1.6.
    if input.statuses.is_empty() {
        return Err(BuildError::MissingProductStatus {
            field: format!("vulnerabilities[{index}]"),
        });
    }
    let mut lists: BTreeMap<Status, Vec<ProductId>> = BTreeMap::new();
    let mut group_of: BTreeMap<ProductId, Status> = BTreeMap::new();
    for (status, products) in &input.statuses {
        let field = at(status.name());
        for id in check_products(field.clone(), products)? {
            if let Some(group) = status.group() {
                match group_of.get(&id) {
                    Some(other) if other.group() != Some(group) => {
                        return Err(BuildError::ContradictingStatus {
                            field,
                            id: id.0,
                            first: other.name(),
                            second: status.name(),
                        });
                    }
                    Some(_) => {}
                    None => {
                        group_of.insert(id.clone(), *status);
                    }
                }
            }
            let list = lists.entry(*status).or_default();
            if !list.contains(&id) {
                list.push(id);
            }
        }
    }
    let take = |status: Status| lists.get(&status).cloned();
    let product_status = ProductStatus {
        first_affected: take(Status::FirstAffected),
        first_fixed: take(Status::FirstFixed),
        fixed: take(Status::Fixed),
        known_affected: take(Status::KnownAffected),
        known_not_affected: take(Status::KnownNotAffected),
        last_affected: take(Status::LastAffected),
        recommended: take(Status::Recommended),
        under_investigation: take(Status::UnderInvestigation),
        extra: Extra::new(),
    };

    // Scores: one CVSS object per vector, at most one per CVSS version and product (6.1.7).
    let mut scores = Vec::new();
    let mut seen: BTreeSet<(ProductId, String)> = BTreeSet::new();
    for (i, (vector, products)) in input.cvss.iter().enumerate() {
        let field = at(&format!("cvss[{i}]"));
        let cvss = keikai_cvss::parse(vector).map_err(|e| BuildError::Cvss {
            field: field.clone(),
            vector: vector.clone(),
            reason: e.to_string(),
        })?;
        let products = check_products(field.clone(), products)?;
        let version = cvss.version().as_str().to_owned();
        for id in &products {
            if !seen.insert((id.clone(), version.clone())) {
                return Err(BuildError::DuplicateScore {
                    field,
                    id: id.0.clone(),
                    version,
                });
            }
        }
        let (cvss_v2, cvss_v3) = if cvss.version() == keikai_cvss::Version::V2_0 {
            let v2 = CvssV2::from_cvss(&cvss).map_err(|source| BuildError::CvssVersion {
                field: field.clone(),
                source,
            })?;
            (Some(v2), None)
        } else {
            let v3 = CvssV3::from_cvss(&cvss).map_err(|source| BuildError::CvssVersion {
                field: field.clone(),
                source,
            })?;
            (None, Some(v3))
        };
        scores.push(Score {
            cvss_v2,
            cvss_v3,
            products,
            extra: Extra::new(),
        });
    }

    let mut remediations = Vec::new();
    for (i, r) in input.remediations.iter().enumerate() {
        let field = at(&format!("remediations[{i}]"));
        text(&format!("{field}.details"), &r.details)?;
        if let Some(url) = &r.url {
            uri(&format!("{field}.url"), url)?;
        }
        remediations.push(Remediation {
            category: r.category.clone(),
            date: date(&format!("remediations[{i}].date"), &r.date)?,
            details: r.details.clone(),
            entitlements: None,
            group_ids: None,
            product_ids: Some(check_products(format!("{field}.products"), &r.products)?),
            restart_required: r.restart.clone().map(|category| RestartRequired {
                category,
                details: None,
                extra: Extra::new(),
            }),
            url: r.url.clone(),
            extra: Extra::new(),
        });
    }

    let mut threats = Vec::new();
    for (i, (category, details, products)) in input.threats.iter().enumerate() {
        let field = at(&format!("threats[{i}]"));
        text(&format!("{field}.details"), details)?;
        let product_ids = if products.is_empty() {
            None
        } else {
            Some(check_products(format!("{field}.products"), products)?)
        };
        threats.push(Threat {
            category: category.clone(),
            date: None,
            details: details.clone(),
            group_ids: None,
            product_ids,
            extra: Extra::new(),
        });
    }

    // One justification per product: two would leave a VEX reader to pick one (CSAF 2.1 makes
    // that test 6.1.33).
    let mut flags = Vec::new();
    let mut flagged: HashSet<ProductId> = HashSet::new();
    for (i, (label, products)) in input.flags.iter().enumerate() {
        let field = at(&format!("flags[{i}]"));
        let product_ids = check_products(format!("{field}.products"), products)?;
        for id in &product_ids {
            if !flagged.insert(id.clone()) {
                return Err(BuildError::DuplicateFlag {
                    field,
                    id: id.0.clone(),
                });
            }
        }
        flags.push(Flag {
            date: None,
            group_ids: None,
            label: label.clone(),
            product_ids: Some(product_ids),
            extra: Extra::new(),
        });
    }

    let mut ids = Vec::new();
    for (i, (system_name, id_text)) in input.ids.iter().enumerate() {
        text(&at(&format!("ids[{i}].system_name")), system_name)?;
        text(&at(&format!("ids[{i}].text")), id_text)?;
        ids.push(VulnerabilityId {
            system_name: system_name.clone(),
            text: id_text.clone(),
            extra: Extra::new(),
        });
    }

    Ok(Vulnerability {
        acknowledgments: optional_list(acknowledgments(
            &at("acknowledgments"),
            &input.acknowledgments,
        )?),
        cve: input.cve.clone(),
        cwe,
        discovery_date: date("discovery_date", &input.discovery_date)?,
        flags: optional_list(flags),
        ids: optional_list(ids),
        involvements: None,
        notes: optional_list(notes(&at("notes"), &input.notes)?),
        product_status: Some(product_status),
        references: optional_list(references(&at("references"), &input.references)?),
        release_date: date("release_date", &input.release_date)?,
        remediations: optional_list(remediations),
        scores: optional_list(scores),
        threats: optional_list(threats),
        title: input.title.clone(),
        extra: Extra::new(),
    })
}

fn summarize(findings: &[Finding]) -> String {
    let shown: Vec<String> = findings
        .iter()
        .take(3)
        .map(|f| format!("{} at {:?}: {}", f.test_id, f.path, f.message))
        .collect();
    let more = findings.len().saturating_sub(3);
    if more > 0 {
        format!("{}; and {more} more", shown.join("; "))
    } else {
        shown.join("; ")
    }
}

fn optional_list<T>(list: Vec<T>) -> Option<Vec<T>> {
    (!list.is_empty()).then_some(list)
}

fn notes(field: &str, notes: &[Note]) -> Result<Vec<Note>, BuildError> {
    for (i, note) in notes.iter().enumerate() {
        text(&format!("{field}[{i}].text"), &note.text)?;
        if let Some(title) = &note.title {
            text(&format!("{field}[{i}].title"), title)?;
        }
    }
    Ok(notes.to_vec())
}

fn references(
    field: &str,
    references: &[(ReferenceCategory, String, String)],
) -> Result<Vec<Reference>, BuildError> {
    references
        .iter()
        .enumerate()
        .map(|(i, (category, url, summary))| {
            uri(&format!("{field}[{i}].url"), url)?;
            text(&format!("{field}[{i}].summary"), summary)?;
            Ok(Reference {
                category: Some(category.clone()),
                summary: summary.clone(),
                url: url.clone(),
                extra: Extra::new(),
            })
        })
        .collect()
}

fn acknowledgments(
    field: &str,
    list: &[Acknowledgment],
) -> Result<Vec<Acknowledgment>, BuildError> {
    for (i, ack) in list.iter().enumerate() {
        let field = format!("{field}[{i}]");
        let names = ack.names.as_deref().unwrap_or_default();
        let urls = ack.urls.as_deref().unwrap_or_default();
        if names.is_empty()
            && urls.is_empty()
            && ack.organization.is_none()
            && ack.summary.is_none()
        {
            return Err(BuildError::EmptyAcknowledgment { field });
        }
        for name in names {
            text(&format!("{field}.names"), name)?;
        }
        for url in urls {
            uri(&format!("{field}.urls"), url)?;
        }
        for (what, value) in [
            ("organization", &ack.organization),
            ("summary", &ack.summary),
        ] {
            if let Some(value) = value {
                text(&format!("{field}.{what}"), value)?;
            }
        }
    }
    // Empty optional lists would fail minItems; drop them.
    Ok(list
        .iter()
        .map(|ack| Acknowledgment {
            names: ack.names.clone().filter(|n| !n.is_empty()),
            urls: ack.urls.clone().filter(|u| !u.is_empty()),
            ..ack.clone()
        })
        .collect())
}

/// A non-empty text without leading or trailing whitespace (several CSAF strings have that
/// pattern; the others read better without it too).
fn text(field: &str, value: &str) -> Result<(), BuildError> {
    if value.is_empty() {
        return Err(BuildError::Empty {
            field: field.to_owned(),
        });
    }
    if value.trim() != value {
        return Err(BuildError::Whitespace {
            field: field.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(())
}

fn matches(
    regex: &Regex,
    field: &str,
    value: &str,
    expected: &'static str,
) -> Result<(), BuildError> {
    if regex.is_match(value) {
        Ok(())
    } else {
        Err(BuildError::Format {
            field: field.to_owned(),
            value: value.to_owned(),
            expected,
        })
    }
}

/// An absolute URI (RFC 3986): a scheme, `:`, and only characters a URI may contain.
fn uri(field: &str, value: &str) -> Result<(), BuildError> {
    let err = || BuildError::Uri {
        field: field.to_owned(),
        value: value.to_owned(),
    };
    let (scheme, rest) = value.split_once(':').ok_or_else(err)?;
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !hex {
                return Err(err());
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b);
        if !allowed {
            return Err(err());
        }
        i += 1;
    }
    if scheme_ok && !rest.is_empty() {
        Ok(())
    } else {
        Err(err())
    }
}

/// Test 6.1.31: words and operators that make a version name a range.
fn is_version_range(version: &str) -> bool {
    let lower = version.to_lowercase();
    if lower.starts_with("vers:") || ["<", ">"].iter().any(|op| lower.contains(op)) {
        return true;
    }
    lower.split(|c: char| !c.is_alphanumeric()).any(|word| {
        matches!(
            word,
            "after" | "all" | "before" | "earlier" | "later" | "prior" | "versions"
        )
    })
}

/// A `version_t` value: integer or semantic version. Numbers are compared by their digits, so
/// any length works.
struct VersionNumber {
    text: String,
    semantic: bool,
    major: String,
    minor: String,
    patch: String,
    pre_release: bool,
}

impl VersionNumber {
    fn parse(text: &str) -> Option<Self> {
        if INTEGER.is_match(text) {
            return Some(Self {
                text: text.to_owned(),
                semantic: false,
                major: text.to_owned(),
                minor: String::new(),
                patch: String::new(),
                pre_release: false,
            });
        }
        let caps = SEMVER.captures(text)?;
        let part = |i: usize| {
            caps.get(i)
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default()
        };
        Some(Self {
            text: text.to_owned(),
            semantic: true,
            major: part(1),
            minor: part(2),
            patch: part(3),
            pre_release: caps.get(4).is_some(),
        })
    }

    /// Precedence without pre-release and build metadata (both excluded from revisions).
    fn cmp_precedence(&self, other: &Self) -> Ordering {
        let num = |a: &str, b: &str| a.len().cmp(&b.len()).then_with(|| a.cmp(b));
        num(&self.major, &other.major)
            .then_with(|| num(&self.minor, &other.minor))
            .then_with(|| num(&self.patch, &other.patch))
    }

    /// Whether `next`'s integer (or major version) is this one or the one after it.
    fn major_follows(&self, next: &Self) -> bool {
        next.major == self.major || next.major == increment(&self.major)
    }
}

/// Adds one to a decimal number given as digits.
fn increment(digits: &str) -> String {
    let mut out: Vec<u8> = digits.bytes().collect();
    for b in out.iter_mut().rev() {
        if *b == b'9' {
            *b = b'0';
        } else {
            *b += 1;
            return String::from_utf8_lossy(&out).into_owned();
        }
    }
    format!("1{}", String::from_utf8_lossy(&out))
}

// Patterns of the CSAF 2.0 schema (constants, so compiling them cannot fail).
static INTEGER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(0|[1-9][0-9]*)$").expect("valid regex"));
static SEMVER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")
        .expect("valid regex")
});
static CVE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^CVE-[0-9]{4}-[0-9]{4,}$").expect("valid regex"));
static CWE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^CWE-[1-9]\d{0,5}$").expect("valid regex"));
static LANG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(([A-Za-z]{2,3}(-[A-Za-z]{3}(-[A-Za-z]{3}){0,2})?|[A-Za-z]{4,8})(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*(-[A-WY-Za-wy-z0-9](-[A-Za-z0-9]{2,8})+)*(-[Xx](-[A-Za-z0-9]{1,8})+)?|[Xx](-[A-Za-z0-9]{1,8})+|[Ii]-[Dd][Ee][Ff][Aa][Uu][Ll][Tt]|[Ii]-[Mm][Ii][Nn][Gg][Oo])$")
        .expect("valid regex")
});
static PURL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^pkg:[A-Za-z\.\-\+][A-Za-z0-9\.\-\+]*/.+").expect("valid regex"));
static CPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r##"^(cpe:2\.3:[aho\*\-](:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#\$%&'\(\)\+,/:;<=>@\[\]\^`\{\|\}~]))+(\?*|\*?))|[\*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[\*\-]))(:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#\$%&'\(\)\+,/:;<=>@\[\]\^`\{\|\}~]))+(\?*|\*?))|[\*\-])){4})|([c][pP][eE]:/[AHOaho]?(:[A-Za-z0-9\._\-~%]*){0,6})$"##)
        .expect("valid regex")
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_numbers() {
        let v = |s: &str| VersionNumber::parse(s).expect(s);
        assert!(VersionNumber::parse("1.0").is_none());
        assert!(VersionNumber::parse("01").is_none());
        assert!(v("1.0.0-rc.1").pre_release);
        assert_eq!(v("10").cmp_precedence(&v("9")), Ordering::Greater);
        assert_eq!(v("1.10.0").cmp_precedence(&v("1.9.9")), Ordering::Greater);
        assert_eq!(
            v("1.0.0+build").cmp_precedence(&v("1.0.0")),
            Ordering::Equal
        );
        assert!(v("1.9.0").major_follows(&v("2.0.0")));
        assert!(!v("1").major_follows(&v("3")));
        assert!(v("99999999999999999999").major_follows(&v("100000000000000000000")));
    }

    #[test]
    fn increments_any_length() {
        assert_eq!(increment("0"), "1");
        assert_eq!(increment("9"), "10");
        assert_eq!(increment("1299"), "1300");
    }

    #[test]
    fn uris() {
        for good in [
            "https://example.com",
            "https://example.com/a?b=c#d",
            "urn:example:a",
            "mailto:psirt@example.com",
            "https://x/%20",
        ] {
            assert!(uri("u", good).is_ok(), "{good}");
        }
        for bad in [
            "example.com",
            "https://exa mple.com",
            "://x",
            "1http://x",
            "https:",
            "https://x/%zz",
            "https://x/<a>",
        ] {
            assert!(uri("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn version_ranges() {
        for range in [
            "< 1.2",
            "<=1.2",
            "all versions",
            "1.2 and later",
            "prior to 3.0",
            "vers:generic/<1",
            "Before 2",
        ] {
            assert!(is_version_range(range), "{range}");
        }
        for version in [
            "1.2.3",
            "2.4.X",
            "R2 SP1",
            "V3.1 Update 2",
            "Allen-Bradley 5",
        ] {
            assert!(!is_version_range(version), "{version}");
        }
    }

    #[test]
    fn embedded_patterns_compile() {
        for re in [&INTEGER, &SEMVER, &CVE, &CWE, &LANG, &PURL, &CPE] {
            assert!(!re.as_str().is_empty());
        }
        assert!(CPE.is_match("cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*"));
        assert!(CPE.is_match("cpe:/a:vendor:product:1.0"));
        assert!(LANG.is_match("de-DE") && !LANG.is_match("english!"));
    }
}
