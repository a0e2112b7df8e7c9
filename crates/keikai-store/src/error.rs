use keikai_domain::DomainError;
use thiserror::Error;

/// What can go wrong when storing or loading. Database errors are mapped here, at the
/// boundary, so that no caller depends on sqlx.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the string names what already exists.
    #[error("{0}")]
    Conflict(String),
    /// A referenced row does not exist (e.g. a parent branch or an organisation).
    #[error("{0}")]
    Reference(String),
    /// The request broke a domain rule that only the store can check (e.g. a role that the
    /// organisation's kind does not allow, or a branch placed under the wrong category).
    /// `DomainError::field` names the input at fault.
    #[error("{0}")]
    Invalid(#[from] DomainError),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Config(String),
    /// The database was migrated by a newer Keikai than this one.
    #[error(
        "the database schema is at version {found}, newer than this Keikai knows ({known}); upgrade Keikai"
    )]
    TooNew { found: i64, known: i64 },
    #[error("database error: {0}")]
    Other(String),
}
