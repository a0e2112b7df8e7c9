//! Vulnerability exchange formats: typed models, writers and schema validation. No I/O.
//!
//! So far: [`cve5`], the CVE Record Format 5.x (what a CNA publishes for each CVE id). OSV, NVD,
//! JVN, CycloneDX and SPDX will follow as sibling modules.

pub mod cve5;
mod error;

pub use error::FormatError;
