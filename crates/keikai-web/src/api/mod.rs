//! The JSON door under `/api/v1`, described by the OpenAPI document. Request and response
//! types live here, next to the handlers that use them.

pub mod cases;
pub mod distribution;
pub mod intake;
pub mod openapi;
