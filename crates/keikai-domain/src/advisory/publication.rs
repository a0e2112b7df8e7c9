//! What one published version of an advisory becomes for machines: the CSAF 2.0 document, a
//! CVE JSON 5 record per CVE, and the `.sha256` / `.sha512` files beside each published file.
//!
//! Pure functions: the caller brings the advisory, the product catalogue and the publisher's
//! settings, and stores, signs and serves what comes back.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use keikai_csaf::BuildError;
use keikai_csaf::builder::{
    AdvisoryBuilder, Product, RemediationInput, Status, VulnerabilityBuilder, acknowledge,
};
use keikai_csaf::model::{
    CsafDocument, DocumentStatus, FlagLabel, NoteCategory, ProductId, Publisher, PublisherCategory,
    ThreatCategory, TlpLabel,
};
use keikai_formats::FormatError;
use keikai_formats::cve5;
use sha2::{Digest, Sha256, Sha512};

use super::{Acknowledgment, Advisory, PublishedVersion, Remediation, Text, Tlp, Vulnerability};
use crate::BranchId;
use crate::case::{Justification, ProductStatusKind, RemediationCategory};
use crate::partner::PartnerEdition;
use crate::product::{Branch, BranchCategory};

/// The TLP 1.0 definitions CSAF 2.0's labels refer to.
pub const TLP_URL: &str = "https://www.first.org/tlp/";

/// Why a version cannot be published as CSAF or CVE records. Each variant names the field or
/// the product at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PublicationError {
    #[error("product {id} is not in the product catalogue")]
    UnknownProduct { id: BranchId },
    #[error("product {id} ({path}) {reason}")]
    NotAProductVersion {
        id: BranchId,
        path: String,
        reason: &'static str,
    },
    #[error("{field} is empty: write the English text before publishing")]
    MissingText { field: &'static str },
    #[error("{field} {value:?} is not an http(s) URL")]
    Url { field: &'static str, value: String },
    #[error("{field} applies to every affected product, but no product is affected")]
    NoAffectedProduct { field: String },
    #[error("product {id}: {source}")]
    CsafProduct {
        id: BranchId,
        #[source]
        source: BuildError,
    },
    #[error("CSAF document: {0}")]
    Csaf(#[from] BuildError),
    #[error("CVE record {cve}: {source}")]
    Cve {
        cve: String,
        #[source]
        source: FormatError,
    },
    #[error("cannot sign the CSAF document: {0}")]
    Signature(String),
}

/// How a catalogue leaf is named in CSAF and CVE records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName {
    pub vendor: String,
    /// The names between the vendor and the version (family and product), joined by a space.
    pub product: String,
    /// The version branch's name, followed by the names of any branches refining it (e.g.
    /// an architecture), joined by a space.
    pub version: String,
    /// The version branch is a `product_version_range`.
    pub range: bool,
}

/// The names of every product version of the catalogue, by branch id.
#[derive(Debug, Clone, Default)]
pub struct ProductNames {
    /// A branch that cannot name a product version keeps its path and the reason, for errors.
    entries: HashMap<BranchId, Result<ProductName, (String, &'static str)>>,
}

/// Deeper than any real catalogue; bounds the walk up a corrupted (cyclic) list.
const MAX_DEPTH: usize = 32;

impl ProductNames {
    pub fn from_branches(branches: &[Branch]) -> Self {
        let by_id: HashMap<BranchId, &Branch> = branches.iter().map(|b| (b.id, b)).collect();
        let mut entries = HashMap::with_capacity(branches.len());
        for b in branches {
            let mut path = vec![b];
            let mut orphan = false;
            while let Some(parent) = path.last().and_then(|p| p.parent_id) {
                match by_id.get(&parent) {
                    Some(p) if path.len() <= MAX_DEPTH => path.push(p),
                    _ => {
                        orphan = true;
                        break;
                    }
                }
            }
            path.reverse();
            let names: Vec<&str> = path.iter().map(|b| b.name.as_str()).collect();
            let version_at = path.iter().position(|b| {
                matches!(
                    b.category,
                    BranchCategory::ProductVersion | BranchCategory::ProductVersionRange
                )
            });
            let entry = if orphan {
                Err("has a parent missing from the catalogue")
            } else if path[0].category != BranchCategory::Vendor {
                Err("is not under a vendor")
            } else {
                match version_at {
                    None => Err("is not a product version: no version branch on its path"),
                    Some(0 | 1) => Err("has no product name between vendor and version"),
                    Some(v) => Ok(ProductName {
                        vendor: names[0].to_owned(),
                        product: names[1..v].join(" "),
                        version: names[v..].join(" "),
                        range: path[v].category == BranchCategory::ProductVersionRange,
                    }),
                }
            };
            entries.insert(b.id, entry.map_err(|reason| (names.join(" "), reason)));
        }
        Self { entries }
    }

    /// The names of a product version; an error names the branch that is unknown or that is
    /// not a version.
    pub fn get(&self, id: BranchId) -> Result<&ProductName, PublicationError> {
        match self.entries.get(&id) {
            None => Err(PublicationError::UnknownProduct { id }),
            Some(Ok(name)) => Ok(name),
            Some(Err((path, reason))) => Err(PublicationError::NotAProductVersion {
                id,
                path: path.clone(),
                reason,
            }),
        }
    }
}

/// Who publishes, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherInfo {
    /// CSAF `/document/publisher/name`.
    pub name: String,
    /// CSAF `/document/publisher/namespace`: an https URL of the publisher's organisation.
    pub namespace: String,
    pub contact_details: Option<String>,
    pub issuing_authority: Option<String>,
    /// The public site, e.g. `https://psirt.example.com` (a trailing `/` is ignored).
    pub base_url: String,
    /// The CNA's organisation id in CVE Services and its short name; `None`: the publisher is
    /// no CNA and writes no CVE records.
    pub cve_assigner: Option<(uuid::Uuid, String)>,
}

impl PublisherInfo {
    fn base(&self) -> Result<&str, PublicationError> {
        let base = self.base_url.trim().trim_end_matches('/');
        let host = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"));
        if host.is_some_and(|h| !h.is_empty() && !h.contains(char::is_whitespace)) {
            Ok(base)
        } else {
            Err(PublicationError::Url {
                field: "base_url",
                value: self.base_url.clone(),
            })
        }
    }

    /// The public page of an advisory.
    pub fn advisory_url(&self, tracking_id: &str) -> Result<String, PublicationError> {
        Ok(format!("{}/advisories/{tracking_id}", self.base()?))
    }
}

/// The versions up to and including `version`: the revision history it publishes. `version`
/// itself need not be stored in the advisory yet.
fn history<'a>(advisory: &'a Advisory, version: &'a PublishedVersion) -> Vec<&'a PublishedVersion> {
    let mut out: Vec<&PublishedVersion> = advisory
        .versions
        .iter()
        .filter(|v| v.number < version.number)
        .collect();
    out.sort_by_key(|v| v.number);
    out.push(version);
    out
}

fn first_published(advisory: &Advisory, version: &PublishedVersion) -> Timestamp {
    history(advisory, version)
        .first()
        .map_or(version.at, |v| v.at)
}

/// The English narrative, which must have a title and a summary.
fn english(content: &Text) -> Result<&Text, PublicationError> {
    if content.title.trim().is_empty() {
        return Err(PublicationError::MissingText {
            field: "text.en.title",
        });
    }
    if content.summary.trim().is_empty() {
        return Err(PublicationError::MissingText {
            field: "text.en.summary",
        });
    }
    Ok(content)
}

const fn tlp_label(tlp: Tlp) -> TlpLabel {
    // CSAF 2.0 uses TLP 1.0: CLEAR was WHITE, and AMBER+STRICT has no label of its own.
    match tlp {
        Tlp::Clear => TlpLabel::White,
        Tlp::Green => TlpLabel::Green,
        Tlp::Amber | Tlp::AmberStrict => TlpLabel::Amber,
        Tlp::Red => TlpLabel::Red,
    }
}

const fn status(kind: ProductStatusKind) -> Status {
    match kind {
        ProductStatusKind::FirstAffected => Status::FirstAffected,
        ProductStatusKind::KnownAffected => Status::KnownAffected,
        ProductStatusKind::LastAffected => Status::LastAffected,
        ProductStatusKind::KnownNotAffected => Status::KnownNotAffected,
        ProductStatusKind::UnderInvestigation => Status::UnderInvestigation,
        ProductStatusKind::FirstFixed => Status::FirstFixed,
        ProductStatusKind::Fixed => Status::Fixed,
        ProductStatusKind::Recommended => Status::Recommended,
    }
}

const fn flag_label(j: Justification) -> FlagLabel {
    match j {
        Justification::ComponentNotPresent => FlagLabel::ComponentNotPresent,
        Justification::VulnerableCodeNotPresent => FlagLabel::VulnerableCodeNotPresent,
        Justification::VulnerableCodeCannotBeControlledByAdversary => {
            FlagLabel::VulnerableCodeCannotBeControlledByAdversary
        }
        Justification::VulnerableCodeNotInExecutePath => FlagLabel::VulnerableCodeNotInExecutePath,
        Justification::InlineMitigationsAlreadyExist => FlagLabel::InlineMitigationsAlreadyExist,
    }
}

/// The text of a remediation with its fixed version and KB article in front, e.g.
/// "Update to 1.1 (KB123). Download it from the support portal."
fn remediation_details(r: &Remediation) -> String {
    let head = match (&r.fixed_version, &r.kb) {
        (Some(v), Some(kb)) => format!("Update to {v} ({kb})."),
        (Some(v), None) => format!("Update to {v}."),
        (None, Some(kb)) => format!("Apply {kb}."),
        (None, None) => String::new(),
    };
    let details = r.details.en.trim();
    let details = if details.is_empty() {
        r.details.ja.trim()
    } else {
        details
    };
    match (head.is_empty(), details.is_empty()) {
        (false, false) => format!("{head} {details}"),
        (false, true) => head,
        (true, false) => details.to_owned(),
        // Nothing to say but where to look, or what kind of remediation it is.
        (true, true) => r.url.as_ref().map_or_else(
            || r.category.as_str().replace('_', " "),
            |u| format!("See {u}."),
        ),
    }
}

fn dedup(ids: impl IntoIterator<Item = BranchId>) -> Vec<BranchId> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// The products each score of a vulnerability applies to, in the order of `v.scores`: a score
/// naming products applies to those; one naming none applies to every affected product that no
/// other score of its CVSS version names.
fn score_products(v: &Vulnerability) -> Vec<Vec<BranchId>> {
    let affected = dedup(v.affected());
    v.scores
        .iter()
        .map(|s| {
            if !s.branch_ids.is_empty() {
                return dedup(s.branch_ids.iter().copied());
            }
            let version = s.vector.cvss().version();
            let named: HashSet<BranchId> = v
                .scores
                .iter()
                .filter(|o| o.vector.cvss().version() == version)
                .flat_map(|o| o.branch_ids.iter().copied())
                .collect();
            affected
                .iter()
                .copied()
                .filter(|b| !named.contains(b))
                .collect()
        })
        .collect()
}

/// The CSAF 2.0 document of one published version, in English.
pub fn csaf_document(
    advisory: &Advisory,
    version: &PublishedVersion,
    products: &ProductNames,
    publisher: &PublisherInfo,
) -> Result<CsafDocument, PublicationError> {
    build_csaf(advisory, version, products, publisher, None)
}

/// Who receives a partner document, and what it adds to the public one.
pub struct PartnerCsaf<'a> {
    /// The receiving organisation, named in the distribution text.
    pub org_name: &'a str,
    /// The release time: the document is embargoed until then.
    pub embargo_until: Timestamp,
    pub edition: Option<&'a PartnerEdition>,
}

/// The partner edition of an upcoming version as a CSAF 2.0 document: TLP:AMBER, `interim`,
/// with the receiving organisation and the embargo in its distribution text and the
/// partner-only details as notes.
pub fn partner_csaf_document(
    advisory: &Advisory,
    version: &PublishedVersion,
    products: &ProductNames,
    publisher: &PublisherInfo,
    partner: &PartnerCsaf<'_>,
) -> Result<CsafDocument, PublicationError> {
    build_csaf(advisory, version, products, publisher, Some(partner))
}

fn build_csaf(
    advisory: &Advisory,
    version: &PublishedVersion,
    products: &ProductNames,
    publisher: &PublisherInfo,
    partner: Option<&PartnerCsaf<'_>>,
) -> Result<CsafDocument, PublicationError> {
    let content = &version.content;
    let text = english(&content.text.en)?;
    let mut csaf_publisher = Publisher::new(
        PublisherCategory::Vendor,
        publisher.name.clone(),
        publisher.namespace.clone(),
    );
    csaf_publisher.contact_details = publisher.contact_details.clone();
    csaf_publisher.issuing_authority = publisher.issuing_authority.clone();

    let mut b = AdvisoryBuilder::new(
        advisory.tracking_id.clone(),
        text.title.trim(),
        csaf_publisher,
    );
    let label = match partner {
        None => tlp_label(content.tlp),
        Some(_) => TlpLabel::Amber,
    };
    b.lang("en").tlp_with_url(label.clone(), TLP_URL);
    if let Some(p) = partner {
        let strict = p
            .edition
            .is_some_and(|e| e.tlp == Tlp::AmberStrict || content.tlp == Tlp::AmberStrict);
        let (marking, limit) = if strict {
            ("TLP:AMBER+STRICT", format!("within {} only", p.org_name))
        } else {
            (
                "TLP:AMBER",
                format!(
                    "within {} and its clients on a need-to-know basis",
                    p.org_name
                ),
            )
        };
        b.status(DocumentStatus::Interim).distribution_text(format!(
            "{marking}. Advance information for {} under the partner agreement with {}. \
             Embargoed until {}: do not publish or share it before then, and share it {limit}.",
            p.org_name, publisher.name, p.embargo_until
        ));
    }
    for v in history(advisory, version) {
        let summary = v.summary.trim();
        let summary = if summary.is_empty() {
            format!("Version {}.", v.number)
        } else {
            summary.to_owned()
        };
        b.revision(v.at.to_string(), v.number.to_string(), summary);
    }
    if let Some(severity) = content.severity.as_deref().map(str::trim)
        && !severity.is_empty()
    {
        b.aggregate_severity(severity);
    }

    b.summary(text.summary.trim());
    for (category, title, body) in [
        (NoteCategory::Description, "Description", &text.description),
        (NoteCategory::General, "Impact", &text.impact),
    ] {
        if !body.trim().is_empty() {
            b.note(category, title, body.trim());
        }
    }
    for faq in &text.faqs {
        let (q, a) = (faq.question.trim(), faq.answer.trim());
        if !q.is_empty() && !a.is_empty() {
            b.faq(q, a);
        }
    }

    if let Some(e) = partner.and_then(|p| p.edition) {
        let en_or_ja = |l: &super::Localized<String>| {
            let en = l.en.trim();
            if en.is_empty() {
                l.ja.trim().to_owned()
            } else {
                en.to_owned()
            }
        };
        for (category, title, body) in [
            (
                NoteCategory::Details,
                "Technical details",
                en_or_ja(&e.technical_details),
            ),
            (
                NoteCategory::Other,
                "Detection guidance",
                en_or_ja(&e.detection_guidance),
            ),
            (NoteCategory::Other, "Indicators", e.indicators.join("\n")),
        ] {
            if !body.is_empty() {
                b.note(category, title, body);
            }
        }
    }

    let page = publisher.advisory_url(&advisory.tracking_id)?;
    b.self_reference(
        page,
        format!("{} {}", advisory.tracking_id, text.title.trim()),
    );
    if label == TlpLabel::White {
        // The canonical URL of the document in the provider's distribution directory
        // (CSAF 7.1.11: one folder per year of the initial release date).
        let year = first_published(advisory, version)
            .to_zoned(TimeZone::UTC)
            .year();
        let file = keikai_csaf::distribution::file_name(&advisory.tracking_id);
        b.self_reference(
            format!(
                "{}/.well-known/csaf/white/{year:04}/{file}",
                publisher.base()?
            ),
            format!("CSAF document {}", advisory.tracking_id),
        );
    }
    for r in &content.references {
        let summary = r.summary.trim();
        b.reference(
            r.url.trim(),
            if summary.is_empty() {
                r.url.trim()
            } else {
                summary
            },
        );
    }
    for a in &content.acknowledgments {
        b.acknowledgment(csaf_acknowledgment(a));
    }

    // Products in name order, so product ids read in the order of the tree.
    let mut named = Vec::new();
    for id in content.branch_ids() {
        named.push((products.get(id)?, id));
    }
    named.sort_by(|(a, x), (b, y)| {
        (&a.vendor, &a.product, &a.version, a.range, x)
            .cmp(&(&b.vendor, &b.product, &b.version, b.range, y))
    });
    let mut pid: HashMap<BranchId, ProductId> = HashMap::new();
    for (name, id) in named {
        let product = if name.range {
            Product::version_range(&name.vendor, &name.product, &name.version)
        } else {
            Product::new(&name.vendor, &name.product, &name.version)
        };
        let product_id = b
            .add_product(product)
            .map_err(|source| PublicationError::CsafProduct { id, source })?;
        pid.insert(id, product_id);
    }
    let ids = |branches: &[BranchId]| -> Vec<ProductId> {
        branches
            .iter()
            .filter_map(|b| pid.get(b).cloned())
            .collect()
    };

    for (i, v) in content.vulnerabilities.iter().enumerate() {
        b.add_vulnerability(csaf_vulnerability(i, v, &ids)?);
    }
    Ok(b.build()?)
}

fn csaf_acknowledgment(a: &Acknowledgment) -> keikai_csaf::model::Acknowledgment {
    acknowledge(
        a.names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()),
        a.organization
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty()),
    )
}

fn csaf_vulnerability(
    index: usize,
    v: &Vulnerability,
    ids: &dyn Fn(&[BranchId]) -> Vec<ProductId>,
) -> Result<VulnerabilityBuilder, PublicationError> {
    let mut out = VulnerabilityBuilder::new();
    let title = v.title.trim();
    if !title.is_empty() {
        out = out.title(title).description(title);
    }
    if let Some(cve) = &v.cve {
        out = out.cve(cve.as_str()).reference(
            format!("https://www.cve.org/CVERecord?id={}", cve.as_str()),
            format!("{} record", cve.as_str()),
        );
        if title.is_empty() {
            out = out.description(cve.as_str());
        }
    }
    if let Some(cwe) = &v.cwe {
        out = out.cwe(cwe.id.clone());
    }

    for kind in ProductStatusKind::ALL {
        let branches: Vec<BranchId> = v
            .product_statuses
            .iter()
            .filter(|s| s.status == kind)
            .map(|s| s.branch_id)
            .collect();
        if !branches.is_empty() {
            out = out.status(status(kind), &ids(&branches));
        }
    }
    for j in Justification::ALL {
        let branches: Vec<BranchId> = v
            .product_statuses
            .iter()
            .filter(|s| s.status == ProductStatusKind::KnownNotAffected)
            .filter(|s| s.justification == Some(j))
            .map(|s| s.branch_id)
            .collect();
        if !branches.is_empty() {
            out = out.flag(flag_label(j), &ids(&branches));
        }
    }

    for (score, branches) in v.scores.iter().zip(score_products(v)) {
        // CSAF 2.0 has no place for CVSS 4.0 (2.1 adds one); the CVE record carries it.
        if score.vector.cvss().version() == keikai_cvss::Version::V4_0 || branches.is_empty() {
            continue;
        }
        out = out.cvss(score.vector.as_str(), &ids(&branches));
    }

    let affected = dedup(v.affected());
    for (j, r) in v.remediations.iter().enumerate() {
        let branches = if r.branch_ids.is_empty() {
            if affected.is_empty() {
                return Err(PublicationError::NoAffectedProduct {
                    field: format!("vulnerabilities[{index}].remediations[{j}]"),
                });
            }
            affected.clone()
        } else {
            dedup(r.branch_ids.iter().copied())
        };
        let category = match r.category {
            RemediationCategory::VendorFix => keikai_csaf::model::RemediationCategory::VendorFix,
            RemediationCategory::Workaround => keikai_csaf::model::RemediationCategory::Workaround,
            RemediationCategory::Mitigation => keikai_csaf::model::RemediationCategory::Mitigation,
            RemediationCategory::NoneAvailable => {
                keikai_csaf::model::RemediationCategory::NoneAvailable
            }
            RemediationCategory::NoFixPlanned => {
                keikai_csaf::model::RemediationCategory::NoFixPlanned
            }
        };
        let product_ids = ids(&branches);
        let mut input = RemediationInput::new(category, remediation_details(r), &product_ids);
        if let Some(url) = r.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            input = input.url(url);
        }
        out = out.remediation(input);
    }

    let affected_ids = ids(&affected);
    if v.exploited {
        out = out.threat(
            ThreatCategory::ExploitStatus,
            "Exploitation of this vulnerability has been observed.",
            &affected_ids,
        );
    }
    if v.publicly_disclosed {
        out = out.threat(
            ThreatCategory::ExploitStatus,
            "This vulnerability was publicly disclosed before this advisory was released.",
            &affected_ids,
        );
    }
    Ok(out)
}

/// One CVE JSON 5 record per CVE of the version, as `(CVE id, record)`. None when the
/// publisher is no CNA (`cve_assigner` is `None`) or the advisory is not TLP:CLEAR, since a
/// CVE record is public.
pub fn cve_records(
    advisory: &Advisory,
    version: &PublishedVersion,
    products: &ProductNames,
    publisher: &PublisherInfo,
) -> Result<Vec<(String, serde_json::Value)>, PublicationError> {
    let Some((org_id, short_name)) = &publisher.cve_assigner else {
        return Ok(Vec::new());
    };
    let content = &version.content;
    if !content.tlp.is_public() {
        return Ok(Vec::new());
    }
    let en = english(&content.text.en)?;
    let ja = &content.text.ja;
    let several = content.vulnerabilities.len() > 1;

    let mut references = vec![publisher.advisory_url(&advisory.tracking_id)?];
    for r in &content.references {
        let url = r.url.trim().to_owned();
        if !references.contains(&url) {
            references.push(url);
        }
    }
    let mut credits: Vec<cve5::CreditInput> = Vec::new();
    for a in &content.acknowledgments {
        for name in credit_names(a) {
            let credit = cve5::CreditInput {
                name,
                lang: cve5::Lang::En,
            };
            if !credits.contains(&credit) {
                credits.push(credit);
            }
        }
    }

    let mut out = Vec::new();
    for v in &content.vulnerabilities {
        let Some(cve) = &v.cve else { continue };
        let cve_id = cve.as_str().to_owned();
        let err = |source| PublicationError::Cve {
            cve: cve_id.clone(),
            source,
        };
        let title = if v.title.trim().is_empty() {
            en.title.trim()
        } else {
            v.title.trim()
        };
        let description_ja =
            (!ja.title.trim().is_empty()).then(|| cve_description(several.then_some(title), ja));
        let input = cve5::CveRecordInput {
            cve_id: cve_id.clone(),
            assigner_org_id: *org_id,
            assigner_short_name: short_name.clone(),
            title: title.to_owned(),
            description_en: cve_description(several.then_some(title), en),
            description_ja,
            affected: cve_affected(v, products)?,
            cwe: v.cwe.as_ref().map(|c| cve5::Cwe {
                id: c.id.clone(),
                name: c.name.clone(),
            }),
            cvss_v3: common_vector(v, &[keikai_cvss::Version::V3_1, keikai_cvss::Version::V3_0]),
            cvss_v4: common_vector(v, &[keikai_cvss::Version::V4_0]),
            references: references.clone(),
            credits: credits.clone(),
            published: first_published(advisory, version),
            updated: version.at,
        };
        let record = cve5::build(&input).map_err(err)?;
        let value = serde_json::to_value(&record).map_err(|e| {
            err(FormatError::Schema {
                messages: vec![e.to_string()],
            })
        })?;
        out.push((cve_id, value));
    }
    Ok(out)
}

/// CVE 5 allows 4096 characters per description.
const CVE_DESCRIPTION_MAX: usize = 4096;

/// The advisory's description (or summary when it has none or it is too long), after the
/// vulnerability's title when the advisory describes several.
fn cve_description(title: Option<&str>, text: &Text) -> String {
    let join = |body: &str| match title {
        Some(t) => format!("{t}\n\n{body}"),
        None => body.to_owned(),
    };
    [text.description.trim(), text.summary.trim()]
        .into_iter()
        .filter(|b| !b.is_empty())
        .map(join)
        .find(|d| d.chars().count() <= CVE_DESCRIPTION_MAX)
        .unwrap_or_else(|| {
            title
                .unwrap_or(text.title.trim())
                .chars()
                .take(CVE_DESCRIPTION_MAX)
                .collect()
        })
}

fn credit_names(a: &Acknowledgment) -> Vec<String> {
    let org = a
        .organization
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty());
    let names: Vec<&str> = a
        .names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .collect();
    match (names.is_empty(), org) {
        (true, Some(o)) => vec![o.to_owned()],
        (true, None) => Vec::new(),
        (false, Some(o)) => names.iter().map(|n| format!("{n} ({o})")).collect(),
        (false, None) => names.iter().map(|n| (*n).to_owned()).collect(),
    }
}

/// The first vector of the given CVSS versions (in order of preference) that applies to every
/// affected product: one naming no products, or one naming all of them.
fn common_vector(v: &Vulnerability, versions: &[keikai_cvss::Version]) -> Option<String> {
    let affected: HashSet<BranchId> = v.affected().collect();
    versions.iter().find_map(|version| {
        v.scores
            .iter()
            .filter(|s| s.vector.cvss().version() == *version)
            .find(|s| {
                s.branch_ids.is_empty()
                    || (!affected.is_empty() && affected.iter().all(|b| s.branch_ids.contains(b)))
            })
            .map(|s| s.vector.as_str().to_owned())
    })
}

const fn cve_status(kind: ProductStatusKind) -> cve5::Status {
    match kind {
        ProductStatusKind::FirstAffected
        | ProductStatusKind::KnownAffected
        | ProductStatusKind::LastAffected => cve5::Status::Affected,
        ProductStatusKind::KnownNotAffected
        | ProductStatusKind::FirstFixed
        | ProductStatusKind::Fixed
        | ProductStatusKind::Recommended => cve5::Status::Unaffected,
        ProductStatusKind::UnderInvestigation => cve5::Status::Unknown,
    }
}

/// Product statuses grouped by vendor and product, each version once.
fn cve_affected(
    v: &Vulnerability,
    products: &ProductNames,
) -> Result<Vec<cve5::AffectedProduct>, PublicationError> {
    let mut groups: BTreeMap<(String, String), Vec<cve5::VersionStatus>> = BTreeMap::new();
    for s in &v.product_statuses {
        let name = products.get(s.branch_id)?;
        let version = cve_version(name, cve_status(s.status));
        let list = groups
            .entry((name.vendor.clone(), name.product.clone()))
            .or_default();
        if !list
            .iter()
            .any(|o| o.version == version.version && o.upper == version.upper)
        {
            list.push(version);
        }
    }
    Ok(groups
        .into_iter()
        .map(|((vendor, product), versions)| cve5::AffectedProduct {
            vendor,
            product,
            versions,
            default_status: None,
        })
        .collect())
}

/// A version, or a range as CVE 5 writes it: from a lower version (`0` when open) up to a
/// bound. Ranges it cannot read (anything but `<`/`<=` with an optional `>=` lower bound, as
/// `vers:` or plain text) are kept as written.
fn cve_version(name: &ProductName, status: cve5::Status) -> cve5::VersionStatus {
    let plain = cve5::VersionStatus {
        version: name.version.clone(),
        status,
        version_type: None,
        upper: None,
    };
    if !name.range {
        return plain;
    }
    let (scheme, constraints) = match name.version.strip_prefix("vers:") {
        Some(rest) => match rest.split_once('/') {
            Some((scheme, c)) => (scheme.to_owned(), c.to_owned()),
            None => return plain,
        },
        None => ("custom".to_owned(), name.version.clone()),
    };
    let mut lower = None;
    let mut upper = None;
    // A version is one word: "<3.2.0 arm64" is not a range we can read.
    let word = |v: &str| {
        let v = v.trim();
        (!v.is_empty() && !v.contains(char::is_whitespace)).then(|| v.to_owned())
    };
    for c in constraints.split('|').map(str::trim) {
        let parsed = if let Some(v) = c.strip_prefix(">=") {
            word(v).map(|v| lower = Some(v))
        } else if let Some(v) = c.strip_prefix("<=") {
            word(v).map(|v| upper = Some(cve5::UpperBound::LessThanOrEqual(v)))
        } else if let Some(v) = c.strip_prefix('<') {
            word(v).map(|v| upper = Some(cve5::UpperBound::LessThan(v)))
        } else {
            None
        };
        if parsed.is_none() {
            return plain;
        }
    }
    if upper.is_none() {
        return plain;
    }
    cve5::VersionStatus {
        version: lower.unwrap_or_else(|| "0".to_owned()),
        status,
        version_type: Some(scheme),
        upper,
    }
}

/// The `.sha256` and `.sha512` files of a published file, in `sha256sum` format
/// (`<hex>  <file name>\n`), as CSAF 7.1.18 asks.
pub fn digest_files(file_name: &str, bytes: &[u8]) -> (String, String) {
    (
        format!("{}  {file_name}\n", hex::encode(Sha256::digest(bytes))),
        format!("{}  {file_name}\n", hex::encode(Sha512::digest(bytes))),
    )
}

#[cfg(test)]
#[path = "publication_tests.rs"]
mod tests;
