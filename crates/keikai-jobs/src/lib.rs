//! The outbox's other half: a worker that claims due jobs from the store, runs a handler per
//! job kind and records the outcome (done, retried with back-off, or dead), the mailer
//! that the mail handler sends through, the webhook handler, distribution's handlers
//! (doors onto `keikai_app::distribution` that send through those two transports) and the
//! schedule's ticker and handler (doors onto `keikai_app::schedule`).
//!
//! A change and the jobs announcing it are written in one transaction by the store; this
//! crate does the side effects afterwards. Delivery is at least once: a worker that stops
//! after sending but before recording leaves the job to be run again when its lease runs
//! out. Handlers therefore make repeats harmless or recognisable (an e-mail keeps the
//! Message-ID its job was given, a webhook its `X-Keikai-Delivery`).

pub mod cases;
pub mod distribution;
pub mod mail;
pub mod schedule;
mod smtp;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhook;
mod worker;

pub use mail::{
    Address, DEFAULT_SMTP_CONNECTIONS, MAIL_JOB_KIND, MailError, MailHandler, Mailer, Message,
    SmtpConfig, SmtpMailer, SmtpSecurity,
};
pub use webhook::{
    WEBHOOK_JOB_KIND, WebhookError, WebhookHandler, WebhookHooks, WebhookOutcome, WebhookPolicy,
    WebhookRequest, restricted_range, should_disable, signature, verify_signature,
};
pub use worker::{Handler, JobError, RetryPolicy, RunStats, Worker, WorkerConfig};
