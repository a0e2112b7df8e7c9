//! From a Keikai vulnerability (independent of how the case store keeps it) to a CVE record.

use std::collections::HashSet;

use jiff::Timestamp;
use keikai_cvss::Cvss;
use uuid::Uuid;

use super::model::{
    CnaContainer, Containers, Credit, CveMetadata, CveRecord, CvssScore, Description, Metric,
    ProblemType, ProblemTypeDescription, Product, ProviderMetadata, Reference, Status, Version,
};
use super::schema::validate_cve_record;
use crate::FormatError;

/// The `dataType` of every record.
pub const DATA_TYPE: &str = "CVE_RECORD";
/// The `dataVersion` we write: the format version of the schema we validate against.
pub const DATA_VERSION: &str = "5.1.1";

/// Everything a published CVE record says, as plain values.
#[derive(Debug, Clone, PartialEq)]
pub struct CveRecordInput {
    /// `CVE-YYYY-NNNN…`.
    pub cve_id: String,
    /// The CNA's organisation id in CVE Services (a version 4 UUID).
    pub assigner_org_id: Uuid,
    /// The CNA's short name in CVE Services (2–32 characters), e.g. `JPCERT`.
    pub assigner_short_name: String,
    /// The English title (CVE 5 has one title, without a language).
    pub title: String,
    pub description_en: String,
    pub description_ja: Option<String>,
    pub affected: Vec<AffectedProduct>,
    pub cwe: Option<Cwe>,
    /// A CVSS 3.1 (or 3.0) vector.
    pub cvss_v3: Option<String>,
    /// A CVSS 4.0 vector.
    pub cvss_v4: Option<String>,
    /// URLs of advisories, patches, reports (at least one: the schema requires it).
    pub references: Vec<String>,
    /// The people and organisations to acknowledge as finders.
    pub credits: Vec<CreditInput>,
    /// When the vulnerability was made public (`datePublic`, `datePublished`).
    pub published: Timestamp,
    /// When the record last changed (`dateUpdated`).
    pub updated: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedProduct {
    pub vendor: String,
    pub product: String,
    pub versions: Vec<VersionStatus>,
    /// The status of versions not listed; needed when `versions` is empty.
    pub default_status: Option<Status>,
}

/// One version, or a range from `version` up to an upper bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionStatus {
    pub version: String,
    pub status: Status,
    /// The version scheme (`semver`, `custom`, …); the schema requires it for ranges.
    pub version_type: Option<String>,
    pub upper: Option<UpperBound>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpperBound {
    LessThan(String),
    LessThanOrEqual(String),
}

/// A CWE weakness: `CWE-79` and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cwe {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditInput {
    pub name: String,
    pub lang: Lang,
}

/// The languages Keikai writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ja => "ja",
        }
    }
}

/// Builds the record, checking each input field against what the CVE 5 schema allows, so that
/// a wrong value is reported by its input name rather than by a schema path.
///
/// The result is also validated against the embedded schema; a violation the field checks did
/// not foresee is reported as [`FormatError::Schema`] instead of producing an invalid record.
pub fn build(input: &CveRecordInput) -> Result<CveRecord, FormatError> {
    let cve_id = check_cve_id(&input.cve_id)?;
    let org_id = check_org_id(input.assigner_org_id)?;
    let short_name = text("assigner_short_name", &input.assigner_short_name, 32)?;
    if short_name.chars().count() < 2 {
        return Err(invalid(
            "assigner_short_name",
            short_name,
            "a short name of 2 to 32 characters",
        ));
    }
    let published = timestamp("published", input.published)?;
    let updated = timestamp("updated", input.updated)?;
    if input.updated < input.published {
        return Err(invalid(
            "updated",
            &updated,
            "a time not before `published`",
        ));
    }

    let title = text("title", &input.title, 256)?.to_owned();
    let mut descriptions = vec![Description {
        lang: Lang::En.as_str().to_owned(),
        value: text("description_en", &input.description_en, 4096)?.to_owned(),
    }];
    if let Some(ja) = &input.description_ja {
        descriptions.push(Description {
            lang: Lang::Ja.as_str().to_owned(),
            value: text("description_ja", ja, 4096)?.to_owned(),
        });
    }

    if input.affected.is_empty() {
        return Err(FormatError::Empty {
            field: "affected".to_owned(),
        });
    }
    let affected = input
        .affected
        .iter()
        .enumerate()
        .map(|(i, p)| product(i, p))
        .collect::<Result<Vec<_>, _>>()?;

    let problem_types = match &input.cwe {
        Some(cwe) => vec![problem_type(cwe)?],
        None => Vec::new(),
    };

    let mut metrics = Vec::new();
    if let Some(vector) = &input.cvss_v4 {
        metrics.push(metric("cvss_v4", vector)?);
    }
    if let Some(vector) = &input.cvss_v3 {
        metrics.push(metric("cvss_v3", vector)?);
    }

    let references = references(&input.references)?;
    let credits = credits(&input.credits)?;

    let record = CveRecord {
        data_type: DATA_TYPE.to_owned(),
        data_version: DATA_VERSION.to_owned(),
        cve_metadata: CveMetadata {
            cve_id: cve_id.to_owned(),
            assigner_org_id: org_id.clone(),
            assigner_short_name: Some(short_name.to_owned()),
            state: "PUBLISHED".to_owned(),
            date_published: Some(published.clone()),
            date_updated: Some(updated.clone()),
        },
        containers: Containers {
            cna: CnaContainer {
                provider_metadata: ProviderMetadata {
                    org_id,
                    short_name: Some(short_name.to_owned()),
                    date_updated: Some(updated),
                },
                date_public: Some(published),
                title: Some(title),
                descriptions,
                affected,
                problem_types,
                metrics,
                references,
                credits,
            },
        },
    };
    check_schema(&record)?;
    Ok(record)
}

fn check_schema(record: &CveRecord) -> Result<(), FormatError> {
    let value = serde_json::to_value(record).map_err(|e| FormatError::Schema {
        messages: vec![e.to_string()],
    })?;
    let messages = validate_cve_record(&value);
    if messages.is_empty() {
        Ok(())
    } else {
        Err(FormatError::Schema { messages })
    }
}

fn invalid(field: &str, value: &str, expected: &'static str) -> FormatError {
    FormatError::Invalid {
        field: field.to_owned(),
        value: value.to_owned(),
        expected,
    }
}

/// A non-blank text of at most `max` characters.
fn text<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str, FormatError> {
    if value.trim().is_empty() {
        return Err(FormatError::Empty {
            field: field.to_owned(),
        });
    }
    let len = value.chars().count();
    if len > max {
        return Err(FormatError::TooLong {
            field: field.to_owned(),
            len,
            max,
        });
    }
    Ok(value)
}

fn check_cve_id(id: &str) -> Result<&str, FormatError> {
    let ok = id.strip_prefix("CVE-").is_some_and(|rest| {
        rest.split_once('-').is_some_and(|(year, number)| {
            year.len() == 4
                && (4..=19).contains(&number.len())
                && year
                    .bytes()
                    .chain(number.bytes())
                    .all(|b| b.is_ascii_digit())
        })
    });
    if ok {
        Ok(id)
    } else {
        Err(invalid(
            "cve_id",
            id,
            "a CVE id such as CVE-2024-12345 (4-digit year, 4 to 19 digits)",
        ))
    }
}

fn check_org_id(id: Uuid) -> Result<String, FormatError> {
    // CVE Services issues random (version 4) UUIDs and the schema's pattern accepts only those.
    if id.get_version_num() == 4 && id.get_variant() == uuid::Variant::RFC4122 {
        Ok(id.hyphenated().to_string())
    } else {
        Err(invalid(
            "assigner_org_id",
            &id.to_string(),
            "a version 4 UUID (the CNA's org id in CVE Services)",
        ))
    }
}

/// RFC 3339 in UTC with milliseconds, as CVE Services writes them.
fn timestamp(field: &str, ts: Timestamp) -> Result<String, FormatError> {
    let text = ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    // The schema's pattern accepts years 1900-2999 only.
    let year = ts.to_zoned(jiff::tz::TimeZone::UTC).year();
    if (1900..=2999).contains(&year) {
        Ok(text)
    } else {
        Err(invalid(
            field,
            &text,
            "a time between the years 1900 and 2999",
        ))
    }
}

fn product(i: usize, input: &AffectedProduct) -> Result<Product, FormatError> {
    let field = |name: &str| format!("affected[{i}].{name}");
    let vendor = text(&field("vendor"), &input.vendor, 512)?.to_owned();
    let product = text(&field("product"), &input.product, 2048)?.to_owned();
    if input.versions.is_empty() && input.default_status.is_none() {
        return Err(FormatError::Empty {
            field: field("versions"),
        });
    }
    let mut versions = Vec::with_capacity(input.versions.len());
    for (j, v) in input.versions.iter().enumerate() {
        let version = version(&field(&format!("versions[{j}]")), v)?;
        if versions.contains(&version) {
            return Err(FormatError::Duplicate {
                field: field("versions"),
                value: v.version.clone(),
            });
        }
        versions.push(version);
    }
    Ok(Product {
        vendor,
        product,
        versions,
        default_status: input.default_status,
    })
}

fn version(field: &str, input: &VersionStatus) -> Result<Version, FormatError> {
    let version = text(&format!("{field}.version"), &input.version, 1024)?.to_owned();
    let version_type = input
        .version_type
        .as_deref()
        .map(|t| text(&format!("{field}.version_type"), t, 128).map(str::to_owned))
        .transpose()?;
    let (less_than, less_than_or_equal) = match &input.upper {
        None => (None, None),
        Some(UpperBound::LessThan(v)) => (
            Some(text(&format!("{field}.less_than"), v, 1024)?.to_owned()),
            None,
        ),
        Some(UpperBound::LessThanOrEqual(v)) => (
            None,
            Some(text(&format!("{field}.less_than_or_equal"), v, 1024)?.to_owned()),
        ),
    };
    if input.upper.is_some() && version_type.is_none() {
        return Err(FormatError::Empty {
            field: format!("{field}.version_type"),
        });
    }
    Ok(Version {
        version,
        status: input.status,
        version_type,
        less_than,
        less_than_or_equal,
    })
}

fn problem_type(cwe: &Cwe) -> Result<ProblemType, FormatError> {
    let digits = cwe.id.strip_prefix("CWE-").unwrap_or("");
    let ok = (1..=5).contains(&digits.len())
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(invalid("cwe.id", &cwe.id, "a CWE id such as CWE-79"));
    }
    let name = text("cwe.name", &cwe.name, 4096)?;
    Ok(ProblemType {
        descriptions: vec![ProblemTypeDescription {
            lang: Lang::En.as_str().to_owned(),
            description: format!("{} {name}", cwe.id),
            cwe_id: Some(cwe.id.clone()),
            kind: Some("CWE".to_owned()),
        }],
    })
}

fn metric(field: &str, vector: &str) -> Result<Metric, FormatError> {
    let cvss = keikai_cvss::parse(vector).map_err(|source| FormatError::Cvss {
        field: field.to_owned(),
        source,
    })?;
    let version = cvss.version();
    let wrong_version = |expected| FormatError::CvssVersion {
        field: field.to_owned(),
        expected,
        found: version,
    };
    let mut metric = Metric {
        format: Some("CVSS".to_owned()),
        scenarios: vec![Description {
            lang: Lang::En.as_str().to_owned(),
            value: "GENERAL".to_owned(),
        }],
        cvss_v4_0: None,
        cvss_v3_1: None,
        cvss_v3_0: None,
    };
    let score = score(&cvss);
    match (field, version) {
        ("cvss_v4", keikai_cvss::Version::V4_0) => metric.cvss_v4_0 = Some(score),
        ("cvss_v4", _) => return Err(wrong_version("4.0")),
        (_, keikai_cvss::Version::V3_1) => metric.cvss_v3_1 = Some(score),
        (_, keikai_cvss::Version::V3_0) => metric.cvss_v3_0 = Some(score),
        _ => return Err(wrong_version("3.1 or 3.0")),
    }
    Ok(metric)
}

fn score(cvss: &Cvss) -> CvssScore {
    let scores = cvss.scores();
    CvssScore {
        version: cvss.version().as_str().to_owned(),
        vector_string: cvss.vector_string(),
        base_score: scores.base,
        // 3.x and 4.0 always have a severity; NONE mirrors a 0.0 score if it ever had not.
        base_severity: scores
            .base_severity
            .unwrap_or(keikai_cvss::Severity::None)
            .as_str()
            .to_owned(),
    }
}

fn references(urls: &[String]) -> Result<Vec<Reference>, FormatError> {
    if urls.is_empty() {
        return Err(FormatError::Empty {
            field: "references".to_owned(),
        });
    }
    if urls.len() > 512 {
        return Err(invalid(
            "references",
            &format!("{} URLs", urls.len()),
            "at most 512 URLs",
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(urls.len());
    for (i, url) in urls.iter().enumerate() {
        let field = format!("references[{i}]");
        let url = text(&field, url, 2048)?;
        if !is_web_url(url) {
            return Err(invalid(
                &field,
                url,
                "an absolute http(s) URL without spaces, e.g. https://example.com/advisory",
            ));
        }
        if !seen.insert(url) {
            return Err(FormatError::Duplicate {
                field: "references".to_owned(),
                value: url.to_owned(),
            });
        }
        out.push(Reference {
            url: url.to_owned(),
        });
    }
    Ok(out)
}

/// `http(s)://host…` made only of characters RFC 3986 allows (percent-encode the rest).
fn is_web_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with('/')
            && url
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b))
    })
}

fn credits(input: &[CreditInput]) -> Result<Vec<Credit>, FormatError> {
    let mut out: Vec<Credit> = Vec::with_capacity(input.len());
    for (i, credit) in input.iter().enumerate() {
        let value = text(&format!("credits[{i}].name"), &credit.name, 4096)?;
        let credit = Credit {
            lang: credit.lang.as_str().to_owned(),
            value: value.to_owned(),
            kind: Some("finder".to_owned()),
        };
        if out.contains(&credit) {
            return Err(FormatError::Duplicate {
                field: "credits".to_owned(),
                value: value.to_owned(),
            });
        }
        out.push(credit);
    }
    Ok(out)
}
