//! Storage for Keikai: per-area traits, with a SQLite and a PostgreSQL implementation.
//!
//! The traits are the seam between the domain and SQL: the web layer holds an
//! `Arc<dyn Store>` and never sees sqlx. The backend is chosen from the database URL.

mod advisories;
mod cases;
mod codec;
mod distribution;
mod effects;
mod error;
mod jobs;
mod partners;
mod postgres;
mod schema;
mod shared;
mod sql;
mod sqlite;
pub mod testing;
mod traits;

pub use effects::Effects;
pub use error::StoreError;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use traits::*;

use std::sync::Arc;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL scheme, with an error that names the scheme otherwise.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or(url);
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            other => Err(StoreError::Config(format!(
                "database URL scheme \"{other}\" is not supported (expected sqlite:// or postgres://)"
            ))),
        }
    }
}

/// Opens the database a URL names, without migrating it.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    Ok(match Backend::from_url(url)? {
        Backend::Sqlite => Arc::new(SqliteStore::connect(url).await?),
        Backend::Postgres => Arc::new(PgStore::connect(url).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_url() {
        assert_eq!(
            Backend::from_url("sqlite://./x.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://localhost/k").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://localhost/k").ok(),
            Some(Backend::Postgres)
        );
        let err = Backend::from_url("mysql://localhost/k")
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"mysql\""), "{err}");
    }
}
