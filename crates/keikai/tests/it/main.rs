//! Integration tests through the public HTTP API, the HTML interface and the command line,
//! against SQLite by default and PostgreSQL when `KEIKAI_TEST_DATABASE_URL` is set.
//! One test binary (crates.io's layout) so that linking happens once.

// Test helpers outside #[test] functions may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod advisories;
mod api;
mod audit;
mod browser;
mod cases;
mod cli;
mod csaf;
mod cvss_ui;
mod distribution;
mod distribution_crash;
mod distribution_ui;
mod follow;
mod intake;
mod mail;
mod matrix;
mod multi_instance;
mod openapi;
mod partners;
mod password;
mod process;
mod publishing;
mod security_txt;
/// What the benchmarks seed their stores with, shared with the tests that seed the same.
#[path = "../../benches/common/mod.rs"]
mod seed;
mod smoke;
mod startup;
mod support;
mod ui;
mod users_admin;
