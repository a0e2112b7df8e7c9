//! CSAF 2.0: a serde model of documents, a validator (JSON schema plus the tests of section 6)
//! and a builder for documents that are valid by construction.
//!
//! The crate does no I/O: callers hand it bytes or JSON values and get findings back.

pub mod builder;
mod checks;
mod datetime;
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
pub use validator::{
    Preset, Report, SpellChecker, UrlChecker, ValidationOptions, run_test, test_ids, validate,
};
