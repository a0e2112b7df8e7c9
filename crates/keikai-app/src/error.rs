//! The application's error: what went wrong in terms a door can answer with (a status code, a
//! page, an exit status, a retry), but without knowing any of them.

use keikai_domain::DomainError;
use keikai_store::StoreError;

/// Why a use case did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// There is no such thing, or the caller may not know that there is.
    #[error("not found")]
    NotFound,
    /// Nobody is signed in, and the use case needs someone.
    #[error("sign in or send an API token")]
    Unauthenticated,
    /// The caller may see the thing but not do this to it (a read-only token, for example).
    #[error("{0}")]
    Forbidden(String),
    /// The state does not allow it now: a stale revision, a name taken, something that
    /// happened already.
    #[error("{0}")]
    Conflict(String),
    /// An input is wrong; `field` names it and `message` says what is wrong with which value.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// An input names something that does not exist.
    #[error("{0}")]
    InvalidReference(String),
    /// Too many attempts; try again later.
    #[error("{0}")]
    RateLimited(String),
    /// A service Keikai needs (the database) does not answer.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or a broken installation; the log has the detail.
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An input error on `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A domain error reported under another field name than the domain gave it (the name
    /// the door's form or body uses).
    pub fn renamed(field: &'static str, e: &DomainError) -> Self {
        let DomainError::Invalid { message, .. } = e;
        Self::invalid(field, format!("{field}: {message}"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    /// The input field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Whether this is a conflict (a stale revision, something done already).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict(_))
    }
}

/// Refuses a change based on `given`, another revision than the `stored` one (a form or body
/// carries the revision it was made from); `conflict` says what to do about it.
pub(crate) fn expect_revision(stored: i64, given: Option<i64>, conflict: &str) -> Result<()> {
    match given {
        Some(r) if r != stored => Err(Error::conflict(conflict)),
        _ => Ok(()),
    }
}

/// What an optimistic save that failed answers: a revision saved by someone else since the
/// load is `conflict`; anything else keeps its meaning.
pub(crate) fn save_error(conflict: &str, e: StoreError) -> Error {
    match e {
        StoreError::Conflict(_) => Error::conflict(conflict),
        other => other.into(),
    }
}

impl From<DomainError> for Error {
    fn from(e: DomainError) -> Self {
        Self::invalid(e.field(), e.to_string())
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Invalid(e) => e.into(),
            StoreError::Reference(m) => Self::InvalidReference(m),
            StoreError::Unavailable(m) => {
                tracing::error!(error = %m, "database unavailable");
                Self::Unavailable("the database is unavailable".to_owned())
            }
            other => {
                // The detail goes to the log, not to the caller: it may name tables or hosts.
                tracing::error!(error = %other, "store error");
                Self::Internal("internal error".to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_keep_their_meaning() {
        assert_eq!(Error::from(StoreError::NotFound), Error::NotFound);
        assert!(Error::from(StoreError::Conflict("taken".into())).is_conflict());
        let e = Error::from(StoreError::Invalid(DomainError::invalid(
            "name", "too long",
        )));
        assert_eq!(e.field(), Some("name"));
        assert_eq!(e.to_string(), "name: too long");
        assert_eq!(
            Error::from(StoreError::Other("table x".into())),
            Error::Internal("internal error".into())
        );
    }
}
