//! CVE Record Format 5.x: the record a CNA publishes for a CVE id.
//!
//! [`build`] turns a [`CveRecordInput`] into a [`CveRecord`] (serialise it with serde_json);
//! [`validate_cve_record`] checks any record against the embedded 5.1.1 schema.

mod build;
mod model;
mod schema;

pub use build::{
    AffectedProduct, CreditInput, CveRecordInput, Cwe, DATA_TYPE, DATA_VERSION, Lang, UpperBound,
    VersionStatus, build,
};
pub use model::{
    CnaContainer, Containers, Credit, CveMetadata, CveRecord, CvssScore, Description, Metric,
    ProblemType, ProblemTypeDescription, Product, ProviderMetadata, Reference, Status, Version,
};
pub use schema::{validate_cna_container, validate_cve_record};
