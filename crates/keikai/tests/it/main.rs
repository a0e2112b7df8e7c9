//! Integration tests through the public HTTP API, the HTML interface and the command line,
//! against SQLite by default and PostgreSQL when `KEIKAI_TEST_DATABASE_URL` is set.
//! One test binary (crates.io's layout) so that linking happens once.

mod support;
mod smoke;
mod cli;
mod process;
mod multi_instance;
