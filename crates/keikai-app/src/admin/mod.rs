//! Administration and a person's own account: organisations, users and their memberships,
//! the product catalogue, API tokens, the audit log, the profile and the dashboard.
//!
//! Every change is written with its audit entry in one store call. Users are created in one
//! place ([`users::create`]) whichever door asks — the API, the users page, `keikai admin
//! create-user` — and the first administrator by [`users::bootstrap`].

pub mod account;
pub mod audit;
pub mod organisations;
pub mod products;
pub mod tokens;
pub mod users;

#[cfg(test)]
pub(crate) mod testing;
