//! The HTML bulletin of a published version, in one language: what people read, with links to
//! the machine-readable files of the same version.

use askama::Template;
use jiff::Timestamp;
use keikai_domain::advisory::publication::{ProductNames, PublisherInfo};
use keikai_domain::advisory::{Advisory, Faq, PublishedVersion, Reference};
use keikai_domain::case::{ProductStatusKind, RemediationCategory};
use keikai_domain::{BranchId, Locale};

use super::csaf_file_name;
use crate::i18n::t;

struct ScoreView {
    vector: String,
    score: String,
    severity: String,
    products: String,
}

struct StatusView {
    product: String,
    status: String,
}

struct RemediationView {
    category: String,
    details: String,
    fixed_version: Option<String>,
    kb: Option<String>,
    url: Option<String>,
    products: String,
}

struct VulnerabilityView {
    cve: Option<String>,
    cve_link: Option<String>,
    cwe: Option<String>,
    title: String,
    exploited: bool,
    publicly_disclosed: bool,
    scores: Vec<ScoreView>,
    statuses: Vec<StatusView>,
    remediations: Vec<RemediationView>,
}

#[derive(Template)]
#[template(path = "bulletin.html")]
struct BulletinTemplate<'a> {
    lang: Locale,
    other_lang: Option<Locale>,
    publisher: &'a str,
    tracking_id: &'a str,
    version: u32,
    title: &'a str,
    summary: &'a str,
    description: &'a str,
    impact: &'a str,
    faqs: &'a [Faq],
    severity: Option<&'a str>,
    tlp: &'a str,
    initial_release: String,
    current_release: String,
    vulnerabilities: Vec<VulnerabilityView>,
    acknowledgments: Vec<String>,
    references: &'a [Reference],
    revisions: Vec<(u32, String, String)>,
    csaf_file: String,
}

impl BulletinTemplate<'_> {
    fn t(&self, key: &str) -> String {
        t(self.lang, key)
    }
}

fn day(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn status_key(s: ProductStatusKind) -> &'static str {
    match s {
        ProductStatusKind::FirstAffected
        | ProductStatusKind::KnownAffected
        | ProductStatusKind::LastAffected => "bulletin-status-affected",
        ProductStatusKind::KnownNotAffected => "bulletin-status-not-affected",
        ProductStatusKind::UnderInvestigation => "bulletin-status-under-investigation",
        ProductStatusKind::FirstFixed
        | ProductStatusKind::Fixed
        | ProductStatusKind::Recommended => "bulletin-status-fixed",
    }
}

fn remediation_key(c: RemediationCategory) -> &'static str {
    match c {
        RemediationCategory::VendorFix => "bulletin-remediation-vendor-fix",
        RemediationCategory::Workaround => "bulletin-remediation-workaround",
        RemediationCategory::Mitigation => "bulletin-remediation-mitigation",
        RemediationCategory::NoneAvailable => "bulletin-remediation-none-available",
        RemediationCategory::NoFixPlanned => "bulletin-remediation-no-fix-planned",
    }
}

fn product_label(products: &ProductNames, id: BranchId) -> String {
    products.get(id).map_or_else(
        |_| id.to_string(),
        |p| format!("{} {} {}", p.vendor, p.product, p.version),
    )
}

/// The bulletin of `version` in `lang`; `cves` are the CVE records published with it (their
/// files are linked).
pub(super) fn render(
    advisory: &Advisory,
    version: &PublishedVersion,
    products: &ProductNames,
    publisher: &PublisherInfo,
    lang: Locale,
    cves: &[(String, serde_json::Value)],
) -> askama::Result<String> {
    let content = &version.content;
    let text = content.text.get(lang);
    let other = Locale::ALL
        .into_iter()
        .find(|l| *l != lang && !content.text.get(*l).is_empty());
    let all_products = |ids: &[BranchId]| -> String {
        if ids.is_empty() {
            t(lang, "bulletin-all-affected")
        } else {
            ids.iter()
                .map(|b| product_label(products, *b))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let vulnerabilities = content
        .vulnerabilities
        .iter()
        .map(|v| VulnerabilityView {
            cve: v.cve.as_ref().map(|c| c.as_str().to_owned()),
            cve_link: v.cve.as_ref().and_then(|c| {
                cves.iter()
                    .any(|(id, _)| id == c.as_str())
                    .then(|| format!("{}.json", c.as_str()))
            }),
            cwe: v.cwe.as_ref().map(|c| format!("{}: {}", c.id, c.name)),
            title: v.title.clone(),
            exploited: v.exploited,
            publicly_disclosed: v.publicly_disclosed,
            scores: v
                .scores
                .iter()
                .map(|s| {
                    let cvss = s.vector.cvss();
                    let report = cvss.report();
                    ScoreView {
                        vector: s.vector.as_str().to_owned(),
                        score: format!("{:.1}", s.vector.score()),
                        severity: report.severity.map(|s| s.to_string()).unwrap_or_default(),
                        products: all_products(&s.branch_ids),
                    }
                })
                .collect(),
            statuses: v
                .product_statuses
                .iter()
                .map(|s| StatusView {
                    product: product_label(products, s.branch_id),
                    status: t(lang, status_key(s.status)),
                })
                .collect(),
            remediations: v
                .remediations
                .iter()
                .map(|r| RemediationView {
                    category: t(lang, remediation_key(r.category)),
                    details: r.details.get(lang).clone(),
                    fixed_version: r.fixed_version.clone(),
                    kb: r.kb.clone(),
                    url: r.url.clone(),
                    products: all_products(&r.branch_ids),
                })
                .collect(),
        })
        .collect();
    let mut revisions: Vec<(u32, String, String)> = advisory
        .versions
        .iter()
        .filter(|v| v.number <= version.number)
        .map(|v| (v.number, day(v.at), v.summary.clone()))
        .collect();
    if !revisions.iter().any(|r| r.0 == version.number) {
        revisions.push((version.number, day(version.at), version.summary.clone()));
    }
    let initial = advisory
        .versions
        .first()
        .map_or(version.at, |v| v.at.min(version.at));
    BulletinTemplate {
        lang,
        other_lang: other,
        publisher: &publisher.name,
        tracking_id: &advisory.tracking_id,
        version: version.number,
        title: &text.title,
        summary: &text.summary,
        description: &text.description,
        impact: &text.impact,
        faqs: &text.faqs,
        severity: content.severity.as_deref(),
        tlp: content.tlp.label(),
        initial_release: day(initial),
        current_release: day(version.at),
        vulnerabilities,
        acknowledgments: content
            .acknowledgments
            .iter()
            .map(|a| match (&a.organization, a.names.is_empty()) {
                (Some(o), false) => format!("{} ({o})", a.names.join(", ")),
                (Some(o), true) => o.clone(),
                (None, _) => a.names.join(", "),
            })
            .collect(),
        references: &content.references,
        revisions,
        csaf_file: csaf_file_name(&advisory.tracking_id),
    }
    .render()
}
