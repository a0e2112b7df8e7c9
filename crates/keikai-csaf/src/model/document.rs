//! The root object and `/document` (metadata of the advisory).

use serde::{Deserialize, Serialize};

use super::common::{Acknowledgment, DateTime, Extra, Note, Reference};
use super::enums::{CsafVersion, DocumentCategory, DocumentStatus, PublisherCategory, TlpLabel};
use super::product_tree::ProductTree;
use super::vulnerability::Vulnerability;

/// A whole CSAF 2.0 document.
///
/// Properties the schema does not define (e.g. `$schema`) are kept in `extra` of the object
/// they appear in, so `from_value(v)` followed by `to_value` gives back `v`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsafDocument {
    pub document: Document,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_tree: Option<ProductTree>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<Vec<Vulnerability>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `/document`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledgments: Option<Vec<Acknowledgment>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregate_severity: Option<AggregateSeverity>,
    pub category: DocumentCategory,
    pub csaf_version: CsafVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<Note>>,
    pub publisher: Publisher,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<Reference>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_lang: Option<String>,
    pub title: String,
    pub tracking: Tracking,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `/document/aggregate_severity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateSeverity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub text: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `/document/distribution`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Distribution {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tlp: Option<Tlp>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `/document/distribution/tlp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tlp {
    pub label: TlpLabel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `/document/publisher`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Publisher {
    pub category: PublisherCategory,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuing_authority: Option<String>,
    pub name: String,
    pub namespace: String,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Publisher {
    /// A publisher with the three required properties.
    pub fn new(
        category: PublisherCategory,
        name: impl Into<String>,
        namespace: impl Into<String>,
    ) -> Self {
        Self {
            category,
            contact_details: None,
            issuing_authority: None,
            name: name.into(),
            namespace: namespace.into(),
            extra: Extra::new(),
        }
    }
}

/// `/document/tracking`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracking {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<String>>,
    pub current_release_date: DateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<Generator>,
    pub id: String,
    pub initial_release_date: DateTime,
    pub revision_history: Vec<Revision>,
    pub status: DocumentStatus,
    /// `version_t`: an integer (`"3"`) or a semantic version (`"1.0.2"`), as text.
    pub version: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `/document/tracking/generator`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<DateTime>,
    pub engine: Engine,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `/document/tracking/generator/engine`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Engine {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `/document/tracking/revision_history[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub date: DateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_version: Option<String>,
    /// `version_t`, like [`Tracking::version`].
    pub number: String,
    pub summary: String,
    #[serde(flatten)]
    pub extra: Extra,
}
