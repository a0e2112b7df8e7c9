//! The PostgreSQL backend: for several instances sharing one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres, Transaction};

use crate::StoreError;
use crate::shared::impl_store;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

const MIGRATIONS_TABLE_EXISTS: &str = "SELECT COUNT(*) FROM pg_catalog.pg_tables \
     WHERE schemaname = current_schema() AND tablename = '_sqlx_migrations'";

/// Concurrent claimers pass over rows another claimer has locked instead of waiting for it.
const CLAIM_LOCK: &str = " FOR UPDATE SKIP LOCKED";

/// An unreachable database should stop start-up quickly with a clear message, not hang.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 10;

/// Any 64-bit number, the same in every Keikai: instances bootstrapping at once queue on it.
const BOOTSTRAP_LOCK: i64 = 0x6b65_696b_6169_0001;

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database a `postgres:` URL names, failing within a few seconds with
    /// `Unavailable` (naming host, port and database, never the password) when it cannot.
    /// Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        // sqlx's parse errors do not repeat the URL, so the password cannot leak through them.
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("the PostgreSQL URL is invalid: {e}")))?;
        let target = describe(&opts);
        // A direct first connection reports why it failed (refused, unknown host, wrong
        // password); the pool would retry until its timeout and say only "timed out".
        match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&opts)).await {
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "PostgreSQL at {target} did not answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )));
            }
            Ok(Err(e)) => {
                return Err(StoreError::Unavailable(format!(
                    "cannot connect to PostgreSQL at {target}: {e}"
                )));
            }
            Ok(Ok(conn)) => {
                // Failing to say goodbye politely does not matter.
                let _ = conn.close().await;
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(opts)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot connect to PostgreSQL at {target}: {e}"))
            })?;
        Ok(Self { pool })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    /// Two instances starting at once both see no user under READ COMMITTED; a transaction
    /// advisory lock makes the second wait until the first has committed its admin.
    async fn begin_bootstrap(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let db = |e| crate::codec::db_error(crate::Backend::Postgres, e);
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(BOOTSTRAP_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        Ok(tx)
    }

    async fn close_pools(&self) {
        self.pool.close().await;
    }
}

/// "host:port/database" (or the socket path) for messages; deliberately no user or password.
fn describe(opts: &PgConnectOptions) -> String {
    let place = match opts.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", opts.get_host(), opts.get_port()),
    };
    match opts.get_database() {
        Some(db) => format!("{place}/{db}"),
        None => place,
    }
}

impl_store!(store: PgStore, db: sqlx::Postgres, backend: Postgres);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unreachable_databases_fail_fast_and_name_the_place() {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let started = std::time::Instant::now();
        let err = PgStore::connect("postgres://keikai:s3cret-pw@127.0.0.1:1/keikai")
            .await
            .unwrap_err();
        assert!(started.elapsed() < CONNECT_TIMEOUT + Duration::from_secs(2));
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(msg.contains("127.0.0.1:1/keikai"), "{msg}");
        assert!(!msg.contains("s3cret-pw"), "{msg}");
    }

    #[tokio::test]
    async fn bad_urls_are_config_errors_without_the_password() {
        let err = PgStore::connect("postgres://keikai:s3cret-pw@127.0.0.1:notaport/keikai")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Config(_)), "{err:?}");
        assert!(!err.to_string().contains("s3cret-pw"), "{err}");
    }
}
