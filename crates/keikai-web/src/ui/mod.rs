//! The HTML door: server-rendered pages (askama) with htmx. Forms post back and redirect
//! (303) on success, or show the page again with the error on failure.

pub mod admin;
pub mod cases;
pub mod distribution;
pub mod intake;
pub mod layout;
pub mod subscription;
