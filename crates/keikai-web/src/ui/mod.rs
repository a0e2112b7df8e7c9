//! The HTML door: server-rendered pages (askama) with htmx. Forms post back and redirect
//! (303) on success, or show the page again with the error on failure.

pub mod admin;
pub mod advisories;
pub mod cases;
pub mod cvss;
pub mod dashboard;
pub mod distribution;
pub mod intake;
pub mod layout;
pub mod login;
pub mod partner_portal;
pub mod partners;
pub mod profile;
pub mod public_site;
pub mod releases;
pub mod subscription;
pub mod view;
