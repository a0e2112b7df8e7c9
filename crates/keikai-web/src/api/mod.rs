//! The JSON door under `/api/v1`, described by the OpenAPI document. Request and response
//! types live here, next to the handlers that use them.

pub mod admin;
pub mod advisories;
pub mod cases;
pub mod cvss;
pub mod distribution;
pub mod intake;
pub mod openapi;
pub mod partner_portal;
pub mod partners;
pub mod public;
pub mod releases;
