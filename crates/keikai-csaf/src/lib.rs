//! CSAF 2.0: a serde model of documents, a validator (JSON schema plus the tests of section 6)
//! and a builder for documents that are valid by construction.
//!
//! The crate does no I/O: callers hand it bytes or JSON values and get findings back.

pub mod builder;
mod checks;
mod datetime;
pub mod distribution;
pub mod finding;
pub mod model;
pub mod parse;
pub mod schema;
pub mod validator;

pub use builder::{AdvisoryBuilder, BuildError};
pub use finding::{Finding, Severity};
pub use model::CsafDocument;
pub use parse::{ParseError, parse_json, parse_json_limited};
pub use schema::{SchemaValidator, schema_validator, strict_schema_findings};
/// The name of a CWE weakness in the catalogue the validator uses (6.1.11), by id ("CWE-79").
pub fn cwe_name(id: &str) -> Option<&'static str> {
    checks::cwe::name(id)
}

/// The CWE catalogue version behind [`cwe_name`].
pub const CWE_CATALOG_VERSION: &str = checks::cwe::CATALOG_VERSION;

pub use validator::{
    Preset, Report, SpellChecker, UrlChecker, ValidationOptions, run_test, test_ids, validate,
};
