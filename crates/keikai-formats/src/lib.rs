//! Vulnerability exchange formats: typed models, writers and schema validation. No I/O.
//!
//! So far: [`cve5`], the CVE Record Format 5.x (what a CNA publishes for each CVE id), and
//! [`atom`], Atom 1.0 feeds for the public site. OSV, NVD, JVN, CycloneDX and SPDX will follow as
//! sibling modules.

pub mod atom;
pub mod cve5;
mod error;

pub use error::FormatError;
