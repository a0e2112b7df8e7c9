//! HTTP plumbing shared by both doors: who asks (sessions, tokens, CSRF), the request
//! context, errors, body extractors, language negotiation, conditional GET and the
//! operational endpoints.

pub mod auth;
pub mod cache;
pub mod ctx;
pub mod error;
pub mod extract;
pub(crate) mod forms;
pub mod i18n;
pub mod ops;
pub mod state;
