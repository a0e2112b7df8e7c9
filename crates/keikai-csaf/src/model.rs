//! Serde types for a whole CSAF 2.0 document (`csaf_json_schema.json`).
//!
//! Design rules, so that reading and writing never loses information:
//! - Every object keeps the properties the schema does not define in `extra` (flattened), and
//!   every optional property is an `Option` (an empty array `[]` stays `Some(vec![])`, an absent
//!   one stays `None`). `from_value(v)` then `to_value` gives back a value equal to `v`.
//! - Closed vocabularies are enums with an `Unknown(String)` variant (see [`enums`]), so a
//!   document using a value outside CSAF 2.0 still reads; the schema validator reports it.
//! - Required properties and JSON types follow the schema: a document that lacks a required
//!   property or has a wrong type does not deserialize (validate such input as a
//!   `serde_json::Value` with [`crate::schema`] to get findings with paths instead).
//! - Timestamps ([`DateTime`]) and CVSS scores ([`serde_json::Number`]) keep their exact text.
//! - Serialization writes properties in the schema's (alphabetical) order, `extra` last.

pub mod common;
pub mod cvss;
pub mod document;
pub mod enums;
pub mod product_tree;
pub mod vulnerability;

pub use common::{
    Acknowledgment, DateTime, DateTimeError, Extra, Note, ProductGroupId, ProductId, Reference,
    Timestamp,
};
pub use cvss::{CvssConversionError, CvssV2, CvssV3};
pub use document::{
    AggregateSeverity, CsafDocument, Distribution, Document, Engine, Generator, Publisher,
    Revision, Tlp, Tracking,
};
pub use enums::{
    BranchCategory, CsafVersion, DocumentCategory, DocumentStatus, FlagLabel, InvolvementParty,
    InvolvementStatus, NoteCategory, PublisherCategory, ReferenceCategory, RelationshipCategory,
    RemediationCategory, RestartCategory, ThreatCategory, TlpLabel,
};
pub use product_tree::{
    Branch, FileHash, FullProductName, GenericUri, Hashes, ProductGroup,
    ProductIdentificationHelper, ProductTree, Relationship,
};
pub use vulnerability::{
    Cwe, Flag, Involvement, ProductStatus, Remediation, RestartRequired, Score, Threat,
    Vulnerability, VulnerabilityId,
};

/// A JSON value that does not have the shape of a CSAF 2.0 document.
#[derive(Debug, thiserror::Error)]
#[error("not a CSAF 2.0 document: {0}")]
pub struct ModelError(#[from] serde_json::Error);

impl CsafDocument {
    /// Reads a document from a JSON value (e.g. from [`crate::parse::parse_json`]).
    pub fn from_value(value: serde_json::Value) -> Result<Self, ModelError> {
        Ok(serde_json::from_value(value)?)
    }

    /// The document as a JSON value.
    pub fn to_value(&self) -> Result<serde_json::Value, ModelError> {
        Ok(serde_json::to_value(self)?)
    }

    /// The document as pretty-printed JSON text.
    pub fn to_json_pretty(&self) -> Result<String, ModelError> {
        Ok(serde_json::to_string_pretty(self)?)
    }
}
