//! Keikai's application layer: every use case, one module per capability, callable from any
//! door — the HTML pages, the JSON API, the job worker, the schedule and the command line.
//!
//! A use case takes the [`App`], a [`Caller`] (who asks) and a typed command. It asks the
//! authorization policy itself ([`Caller::require`]), applies the domain's rules, and writes
//! the change with its [`Effects`] (audit entries, outbox jobs, notices) in one store call, so
//! that a change and what announces it commit together. It returns domain values or an
//! [`Error`] that knows nothing of HTTP. The doors translate requests into commands and
//! results into responses; none of them reaches the store.

pub mod admin;
pub mod advisories;
pub mod auth;
pub mod caller;
pub mod cases;
pub mod config;
pub mod cvss;
pub mod distribution;
pub mod error;
pub mod i18n;
pub mod ops;
pub mod outbox;
pub mod partners;
pub mod public;
pub mod publishing;
pub mod releases;
pub mod schedule;
pub mod secret;

use std::sync::{Arc, OnceLock};

use jiff::Timestamp;
use keikai_domain::Clock;
use keikai_openpgp::ProviderKey;
use keikai_store::{Effects, Store};

pub use caller::{Caller, Via};
pub use config::{AppConfig, AuthSettings, IntakeSettings, Publishing, SignInLimits};
pub use error::{Error, Result};

/// The application: the store, the clock and the configuration, shared by every door. Cheap
/// to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: AppConfig,
    /// The provider's signing key, read from the database on first use.
    provider_key: OnceLock<Arc<ProviderKey>>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, config: AppConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                config,
                provider_key: OnceLock::new(),
            }),
        }
    }

    /// The time now, from the injected clock (tests move it).
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    pub fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// The effects of a change `who` makes now: add its audit entries, jobs and notices, then
    /// pass it to the store write that makes the change.
    pub(crate) fn effects(&self, who: &Caller) -> Effects {
        Effects::new(who.audit_actor(), self.now())
    }
}
