//! An application on a fresh, migrated database (SQLite, or PostgreSQL when
//! `KEIKAI_TEST_DATABASE_URL` names a server) with a clock the test moves, and its first
//! administrator.

use std::sync::Arc;

use keikai_domain::{Email, ManualClock, OrgName, Password, User};
use keikai_store::testing::TestDatabase;

use super::users::{Bootstrap, bootstrap};
use crate::{App, AppConfig, Caller};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

pub(crate) struct TestApp {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub admin: User,
    /// Held so that the database lives as long as the test.
    _db: TestDatabase,
}

pub(crate) fn password() -> Password {
    Password::parse(PASSWORD).unwrap()
}

pub(crate) fn bootstrap_command() -> Bootstrap {
    Bootstrap {
        organisation: OrgName::parse("Keikai PSIRT").unwrap(),
        email: Email::parse("admin@example.com").unwrap(),
        password: password(),
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(AppConfig::default()).await
    }

    pub async fn with_config(config: AppConfig) -> Self {
        let db = TestDatabase::create().await;
        let store = keikai_store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
        let app = App::new(store, config, clock.clone());
        let admin = bootstrap(&app, &Caller::system(), bootstrap_command())
            .await
            .unwrap()
            .unwrap();
        Self {
            app,
            clock,
            admin,
            _db: db,
        }
    }
}
