//! Distribution's job handlers: the doors through which the worker reaches
//! `keikai_app::distribution` — the fan-out that turns one event into one delivery per
//! recipient, and the sending of those deliveries by mail ([`Mailer`]) and webhook
//! ([`WebhookHandler`]), the transports that stay here. Each handler reads its payload, calls
//! the application as Keikai itself ([`Caller::system`]) and turns its errors into job
//! errors: what no further run can change (a delivery or subscriber that no longer exists,
//! an edition that cannot be read or rendered) is permanent, everything else (the database
//! unavailable) is tried again.
//!
//! **Exactly once.** An event is announced by a fan-out job (written in the transaction of
//! the change that caused it, with the event's key as its idempotency key). The fan-out
//! plans the recipients and records the event, one delivery row per recipient and one job
//! per delivery in a single transaction; a repeated fan-out finds the event and does
//! nothing. A delivery job sends only while its delivery is still queued and marks it sent
//! as soon as the relay accepted it, so a repeated run of a finished job sends nothing.
//!
//! What no design can close is the moment between the relay's "250 OK" and the database
//! recording it (RFC 5321 §6.1 describes the same window between relays): a process killed
//! exactly there sends that message again when the job's lease runs out. The second copy
//! carries the same Message-ID, so mail clients and archives fold it into the first, and the
//! delivery notes that an earlier attempt was interrupted.

use std::sync::Arc;

use async_trait::async_trait;
use keikai_app::distribution::{self as app, Deliveries};
use keikai_app::outbox::{DeliveryRequest, FanoutRequest};
use keikai_app::{App, Caller};
use keikai_store::{DeliveryState, Job};
use serde::de::DeserializeOwned;

use crate::mail::{MailError, Mailer};
use crate::webhook::{WebhookHandler, WebhookHooks, WebhookOutcome, WebhookRequest};
use crate::worker::{Handler, JobError};

impl From<keikai_app::Error> for JobError {
    /// What another run cannot change is permanent: something that no longer exists, an
    /// input (a stored edition, an event) that cannot be used, a refusal. A conflict, the
    /// database unavailable or an internal error may pass.
    fn from(e: keikai_app::Error) -> Self {
        use keikai_app::Error as E;
        match e {
            E::NotFound => Self::permanent("not found (deleted meanwhile?)"),
            E::Invalid { message, .. } => Self::Permanent(message),
            E::InvalidReference(m) | E::Forbidden(m) => Self::Permanent(m),
            E::Unauthenticated => Self::permanent(e),
            E::Conflict(m) | E::RateLimited(m) | E::Unavailable(m) | E::Internal(m) => {
                Self::Retryable(m)
            }
        }
    }
}

/// The job's payload, or a permanent error naming `what` it should have been.
pub(crate) fn payload<T: DeserializeOwned>(job: &Job, what: &str) -> Result<T, JobError> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::permanent(format!("the payload is not {what}: {e}")))
}

/// Turns an event into deliveries ([`app::fan_out`]).
pub struct FanoutHandler {
    app: App,
}

impl FanoutHandler {
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

#[async_trait]
impl Handler for FanoutHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let request: FanoutRequest = payload(job, "an event")?;
        app::fan_out(&self.app, &Caller::system(), &request).await?;
        Ok(())
    }
}

/// Sends one mail delivery: the message [`Deliveries::message`] makes (the recipient's
/// edition in their language, with their unsubscribe and acknowledgement links), through
/// the mailer, and records the outcome on the delivery.
pub struct DeliveryHandler {
    app: App,
    mailer: Arc<dyn Mailer>,
    max_attempts: u32,
    deliveries: Deliveries,
}

impl DeliveryHandler {
    /// `max_attempts` is the retry policy's: the last failed attempt marks the delivery
    /// failed.
    pub fn new(app: App, mailer: Arc<dyn Mailer>, max_attempts: u32) -> Self {
        Self {
            app,
            mailer,
            max_attempts,
            deliveries: Deliveries::new(),
        }
    }

    async fn mark(
        &self,
        id: uuid::Uuid,
        state: DeliveryState,
        error: Option<&str>,
        attempts: u32,
    ) -> Result<(), JobError> {
        app::record_delivery(&self.app, &Caller::system(), id, state, error, attempts)
            .await
            .map_err(JobError::from)
    }
}

#[async_trait]
impl Handler for DeliveryHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let DeliveryRequest { delivery } = payload(job, "a delivery")?;
        let who = Caller::system();
        let Some(d) = app::queued_delivery(&self.app, &who, delivery).await? else {
            // Sent (or given up) by an earlier run whose job was not marked done.
            return Ok(());
        };
        let message = match self.deliveries.message(&self.app, &who, &d).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                let why = "not sent: the subscriber unsubscribed before it went out";
                return self
                    .mark(d.id, DeliveryState::Failed, Some(why), job.attempts)
                    .await;
            }
            Err(e) => {
                let e = JobError::from(e);
                if e.is_permanent() {
                    self.mark(
                        d.id,
                        DeliveryState::Failed,
                        Some(&e.to_string()),
                        job.attempts,
                    )
                    .await?;
                }
                return Err(e);
            }
        };
        // A run before this one ended without recording anything: the process stopped.
        let interrupted = job.attempts > 1 && d.error.is_none();
        match self.mailer.send(&message).await {
            Ok(()) => {
                let note = interrupted.then_some(
                    "an earlier attempt was interrupted (the process stopped); had it reached \
                     the relay, the recipient has this message twice with one Message-ID",
                );
                self.mark(d.id, DeliveryState::Sent, note, job.attempts)
                    .await
            }
            Err(e) => {
                let text = e.to_string();
                let (state, result) = match &e {
                    // The relay refused the recipient or the message: a bounce.
                    MailError::Permanent(_) if is_relay_answer(&text) => {
                        (DeliveryState::Bounced, Err(JobError::from(e)))
                    }
                    MailError::Permanent(_) => (DeliveryState::Failed, Err(JobError::from(e))),
                    MailError::Transient(_) if job.attempts >= self.max_attempts => (
                        DeliveryState::Failed,
                        Err(JobError::permanent(format!(
                            "{text} (gave up after {} attempts)",
                            job.attempts
                        ))),
                    ),
                    MailError::Transient(_) => (DeliveryState::Queued, Err(JobError::from(e))),
                };
                let why = match &result {
                    Err(JobError::Permanent(m) | JobError::Retryable(m)) => m.clone(),
                    Ok(()) => text,
                };
                self.mark(d.id, state, Some(&why), job.attempts).await?;
                result
            }
        }
    }
}

/// The mailer prefixes the relay's own answers with `SMTP host:port:`; anything else
/// permanent is a message that could not be built.
fn is_relay_answer(error: &str) -> bool {
    error.starts_with("SMTP ") && !error.contains("invalid message")
}

/// Runs webhook deliveries through the webhook transport and keeps the delivery's state: the
/// endpoint's own health (and disabling) is recorded by [`DistributionWebhookHooks`].
pub struct DistributionWebhookHandler {
    inner: WebhookHandler,
    app: App,
    max_attempts: u32,
}

impl DistributionWebhookHandler {
    pub fn new(inner: WebhookHandler, app: App, max_attempts: u32) -> Self {
        Self {
            inner,
            app,
            max_attempts,
        }
    }
}

#[async_trait]
impl Handler for DistributionWebhookHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let request: WebhookRequest = payload(job, "a webhook call")?;
        let who = Caller::system();
        // A call without a delivery of ours (or whose delivery is gone) is still made.
        let delivery = uuid::Uuid::parse_str(&request.delivery).ok();
        if let Some(id) = delivery {
            match app::queued_delivery(&self.app, &who, id).await {
                Ok(None) => return Ok(()),
                Ok(Some(_)) | Err(keikai_app::Error::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let outcome = self.inner.run(job).await;
        if let Some(id) = delivery {
            let (state, error) = match &outcome {
                Ok(()) => (DeliveryState::Sent, None),
                Err(e) if e.is_permanent() || job.attempts >= self.max_attempts => {
                    (DeliveryState::Failed, Some(e.to_string()))
                }
                Err(e) => (DeliveryState::Queued, Some(e.to_string())),
            };
            app::record_delivery(&self.app, &who, id, state, error.as_deref(), job.attempts)
                .await?;
        }
        outcome
    }
}

/// The webhook transport's hooks, kept by the application: whether an endpoint is enabled,
/// and its failures in a row (disabling it at the configured number).
pub struct DistributionWebhookHooks {
    app: App,
    disable_after: u32,
}

impl DistributionWebhookHooks {
    pub fn new(app: App, disable_after: u32) -> Self {
        Self { app, disable_after }
    }
}

/// The endpoint id a webhook request carries.
fn endpoint(id: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(id).map_err(|e| e.to_string())
}

#[async_trait]
impl WebhookHooks for DistributionWebhookHooks {
    async fn is_enabled(&self, endpoint_id: &str) -> Result<bool, String> {
        app::webhook_enabled(&self.app, &Caller::system(), endpoint(endpoint_id)?)
            .await
            .map_err(|e| e.to_string())
    }

    async fn record(
        &self,
        request: &WebhookRequest,
        outcome: &WebhookOutcome,
    ) -> Result<(), String> {
        let error = match outcome {
            WebhookOutcome::Delivered { .. } => None,
            WebhookOutcome::Failed { error, .. } => Some(error.as_str()),
        };
        let id = endpoint(&request.endpoint)?;
        app::record_webhook_attempt(&self.app, &Caller::system(), id, error, self.disable_after)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
