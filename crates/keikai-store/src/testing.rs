//! Fresh databases for tests, here and in the crates above.
//!
//! `TestDatabase::create()` gives each test a database of its own: a SQLite file in a
//! temporary directory by default, or, when `KEIKAI_TEST_DATABASE_URL` names a PostgreSQL
//! server (`postgres://postgres@127.0.0.1:5432/postgres`), a new database on it that is
//! dropped again afterwards. Helpers panic on failure: they only run in tests.

use std::sync::Arc;

use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

use crate::{Backend, Store};

/// The environment variable that selects PostgreSQL for tests.
pub const TEST_DATABASE_URL_VAR: &str = "KEIKAI_TEST_DATABASE_URL";

/// A database that exists for one test.
pub struct TestDatabase {
    /// The URL to hand to `keikai_store::connect` (or to the application's configuration).
    pub url: String,
    backend: Backend,
    inner: Inner,
}

enum Inner {
    /// The directory is deleted, with the file, when the struct is dropped.
    Sqlite(#[allow(dead_code, reason = "held for its Drop")] tempfile::TempDir),
    Postgres {
        server_url: String,
        name: String,
        dropped: bool,
    },
}

/// Why running SQL outside the store failed.
enum RawError {
    Connect(sqlx::Error),
    Run(sqlx::Error),
}

impl TestDatabase {
    /// Creates an empty, unmigrated database.
    pub async fn create() -> Self {
        match std::env::var(TEST_DATABASE_URL_VAR) {
            Ok(url) if !url.is_empty() => match Backend::from_url(&url) {
                Ok(Backend::Postgres) => Self::create_postgres(url).await,
                Ok(Backend::Sqlite) => {
                    panic!(
                        "{TEST_DATABASE_URL_VAR} must name a PostgreSQL server; leave it unset for SQLite"
                    )
                }
                Err(e) => panic!("{TEST_DATABASE_URL_VAR}: {e}"),
            },
            _ => Self::create_sqlite(),
        }
    }

    fn create_sqlite() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("keikai-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let url = format!("sqlite://{}", dir.path().join("keikai.db").display());
        Self {
            url,
            backend: Backend::Sqlite,
            inner: Inner::Sqlite(dir),
        }
    }

    async fn create_postgres(server_url: String) -> Self {
        // A UUID v7's random bits make the name unique across parallel tests and runs.
        let name = format!("keikai_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::connect(&server_url)
            .await
            .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL_VAR}: cannot connect: {e}"));
        // The name is ours (letters, digits, underscores), so formatting it in is safe.
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        let _ = conn.close().await;
        Self {
            url: with_database(&server_url, &name),
            backend: Backend::Postgres,
            inner: Inner::Postgres {
                server_url,
                name,
                dropped: false,
            },
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A store on this database, connected and migrated.
    pub async fn store(&self) -> Arc<dyn Store> {
        let store = self.connect().await;
        store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("cannot migrate the test database: {e}"));
        store
    }

    /// A store on this database, connected but not migrated.
    pub async fn connect(&self) -> Arc<dyn Store> {
        crate::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"))
    }

    /// Runs SQL statements directly, outside the store: for tests that play the part of
    /// someone editing the database behind Keikai's back (tampering with the audit log).
    pub async fn execute_raw(&self, sql: &str) {
        match self.run_raw(sql).await {
            Ok(()) => {}
            Err(RawError::Connect(e)) => panic!("cannot connect to the test database: {e}"),
            Err(RawError::Run(e)) => panic!("raw SQL failed: {e}"),
        }
    }

    /// Like [`Self::execute_raw`], but gives the error instead of panicking.
    pub async fn try_execute_raw(&self, sql: &str) -> Result<(), String> {
        self.run_raw(sql).await.map_err(|e| match e {
            RawError::Connect(e) | RawError::Run(e) => e.to_string(),
        })
    }

    /// Connects outside the store and runs `sql`, saying which of the two failed.
    async fn run_raw(&self, sql: &str) -> Result<(), RawError> {
        match self.backend {
            Backend::Sqlite => run_raw_on::<SqliteConnection>(&self.url, sql).await,
            Backend::Postgres => run_raw_on::<PgConnection>(&self.url, sql).await,
        }
    }

    /// Drops a PostgreSQL test database now (ending its connections). Dropping the struct
    /// does the same, but blocks the test's thread while it does.
    pub async fn drop_now(mut self) {
        if let Inner::Postgres {
            server_url,
            name,
            dropped,
        } = &mut self.inner
        {
            drop_database(server_url, name).await;
            *dropped = true;
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Inner::Postgres {
            server_url,
            name,
            dropped: false,
        } = &self.inner
        else {
            return;
        };
        let (server_url, name) = (server_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with a
        // runtime of its own can. A failure leaves the database behind, which is harmless.
        let dropper =
            std::thread::spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(drop_database(&server_url, &name)),
                    Err(e) => eprintln!("cannot drop the test database {name}: {e}"),
                }
            });
        let _ = dropper.join();
    }
}

/// Connects to `url` with a connection of type `C` and runs `sql`.
async fn run_raw_on<C>(url: &str, sql: &str) -> Result<(), RawError>
where
    C: Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    let mut conn = C::connect(url).await.map_err(RawError::Connect)?;
    let sql = AssertSqlSafe(sql.to_owned());
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .map_err(RawError::Run)?;
    Ok(())
}

async fn drop_database(server_url: &str, name: &str) {
    let result = async {
        let mut conn = PgConnection::connect(server_url).await?;
        // FORCE ends connections the test's pools still hold.
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await
    }
    .await;
    if let Err(e) = result {
        eprintln!("cannot drop the test database {name}: {e}");
    }
}

/// The URL of another database on the same server: the path is replaced, the rest (user,
/// password, host, query parameters) kept.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h", "t1"),
            "postgres://u:p@h/t1"
        );
        assert_eq!(
            with_database("postgresql://u:p@h:1/db?sslmode=disable", "t1"),
            "postgresql://u:p@h:1/t1?sslmode=disable"
        );
    }
}
