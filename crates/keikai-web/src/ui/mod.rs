//! The HTML door: server-rendered pages (askama) with htmx. Forms post back and redirect
//! (303) on success, or show the page again with the error on failure.

pub mod admin;
pub mod advisories;
pub mod cases;
pub mod intake;
pub mod layout;
pub mod public_site;
pub mod releases;
