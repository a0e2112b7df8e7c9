//! The SQLite backend: the default, for a single instance.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::StoreError;
use crate::shared::impl_store;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

const MIGRATIONS_TABLE_EXISTS: &str =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'";

/// One writer connection: a claim runs alone, so it needs no row lock.
const CLAIM_LOCK: &str = "";

/// How long a statement waits for another process's write lock (e.g. `keikai db migrate`
/// run while the server is up) before failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const READERS: u32 = 4;

/// A SQLite database file.
///
/// SQLite lets one connection write at a time. All writes go through a pool of exactly one
/// connection, so concurrent writers queue in the pool (asynchronously, holding no thread)
/// rather than racing for the file lock: a deferred transaction that reads and then writes
/// can fail with SQLITE_BUSY at once in WAL mode, whatever `busy_timeout` says. Reads use a
/// separate pool of `query_only` connections and, thanks to WAL, run alongside the writer.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (and creates, with its directory, if missing) the database a `sqlite:` URL names.
    /// Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("the SQLite URL \"{url}\" is invalid: {e}")))?
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Normal);
        // An in-memory database exists once per connection (or per shared cache, where
        // table locks are not covered by busy_timeout): give it a single connection.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let path = base.get_filename().to_path_buf();
        let unavailable = |e: &dyn std::fmt::Display| {
            StoreError::Unavailable(format!(
                "cannot open the SQLite database {}: {e}",
                path.display()
            ))
        };
        if !in_memory {
            create_parent_dir(&path).await?;
        }
        let mut writer_opts = base.clone().create_if_missing(true);
        if !in_memory {
            // WAL is a property of the file; setting it again on later connections is a no-op.
            writer_opts = writer_opts.journal_mode(SqliteJournalMode::Wal);
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // One long-lived connection: it also keeps the -wal and -shm files in place.
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(writer_opts)
            .await
            .map_err(|e| unavailable(&e))?;
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .connect_with(base.pragma("query_only", "ON"))
                .await
                .map_err(|e| unavailable(&e))?
        };
        Ok(Self { writer, reader })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// `BEGIN IMMEDIATE` takes the write lock before the first read, so a second process
    /// bootstrapping the same file waits (busy_timeout) and then sees the first one's user.
    async fn begin_bootstrap(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| crate::codec::db_error(crate::Backend::Sqlite, e))
    }

    async fn close_pools(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

async fn create_parent_dir(path: &Path) -> Result<(), StoreError> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    tokio::fs::create_dir_all(parent).await.map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot create the directory {} for the SQLite database: {e}",
            parent.display()
        ))
    })
}

impl_store!(store: SqliteStore, db: sqlx::Sqlite, backend: Sqlite);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[tokio::test]
    async fn connect_creates_the_file_and_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/keikai.db");
        let store = SqliteStore::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        assert!(file.exists());
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(store.writer())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
            .fetch_one(store.reader())
            .await
            .unwrap();
        assert_eq!(fk, 1);
        // Readers cannot write, even by mistake.
        let err = sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(store.reader())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("readonly"), "{err}");
        store.ping().await.unwrap();
        store.close().await;
    }

    #[tokio::test]
    async fn in_memory_databases_work() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store.check_schema().await.unwrap();
        assert_eq!(crate::UserStore::count_users(&store).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn unopenable_files_are_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be.
        let err = SqliteStore::connect(&format!("sqlite://{}", dir.path().display()))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
    }
}
