//! Distribution: the fan-out that turns one event into one delivery per recipient, and the
//! handlers that send those deliveries by mail and webhook.
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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use keikai_domain::edition::{CompiledEdition, Edition, RecipientView};
use keikai_domain::partner::BranchParents;
use keikai_domain::subscription::{AudienceList, Subscriber, SubscriptionState, plan};
use keikai_domain::{Clock, ListId, SubscriberId};
use keikai_store::{
    Channel, DeliveryRecord, DeliveryState, DistributionEvent, Effects, Job, NewDelivery, NewJob,
    Store, StoreError,
};
use serde::Deserialize;

use crate::mail::{Address, MailError, Mailer, Message};
use crate::webhook::{WEBHOOK_JOB_KIND, WebhookHandler, WebhookRequest};
use crate::worker::{Handler, JobError};

pub use keikai_app::outbox::{
    FANOUT_JOB_KIND, FanoutRequest, Links as DistributionConfig, link_token,
};

/// Sends one delivery by mail; the payload is `{"delivery": "<id>"}`.
pub const DELIVERY_JOB_KIND: &str = "distribution.mail";
/// Calls one webhook delivery (the webhook channel's kind, run through
/// [`DistributionWebhookHandler`]).
pub const DELIVERY_WEBHOOK_JOB_KIND: &str = WEBHOOK_JOB_KIND;

fn store_error(e: StoreError) -> JobError {
    match e {
        StoreError::NotFound => JobError::permanent("not found (deleted meanwhile?)"),
        other => JobError::retryable(other),
    }
}

/// The edition a list names, or the built-in one when it names none that exists.
async fn load_edition(store: &dyn Store, name: &str) -> Result<Edition, JobError> {
    match store.get_edition(name).await.map_err(store_error)? {
        Some(record) => serde_json::from_value(record.data)
            .map_err(|e| JobError::permanent(format!("edition \"{name}\" cannot be read: {e}"))),
        None => Edition::new(name, name)
            .or_else(|_| Edition::new("default", "default"))
            .map_err(JobError::permanent),
    }
}

/// Turns an event into deliveries: the recipients `subscription::plan` chooses, plus one call
/// per enabled webhook endpoint of a list the event reaches.
pub struct FanoutHandler {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: DistributionConfig,
}

impl FanoutHandler {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: DistributionConfig) -> Self {
        Self {
            store,
            clock,
            config,
        }
    }

    /// Plans and records `request`; `false` when it had been recorded already.
    pub async fn fan_out(&self, request: &FanoutRequest) -> Result<bool, JobError> {
        let store = self.store.as_ref();
        if store
            .event_by_key(request.key())
            .await
            .map_err(store_error)?
            .is_some()
        {
            return Ok(false);
        }
        let now = self.clock.now();
        let audience = store.audience().await.map_err(store_error)?;
        let tree = BranchParents::new(&store.list_branches().await.map_err(store_error)?);
        let mut facts = request.view.facts();
        facts.trigger = request.trigger;
        let subscribers: HashMap<SubscriberId, Subscriber> = audience
            .subscribers
            .iter()
            .map(|r| (r.subscriber.id, r.subscriber.clone()))
            .collect();
        let planned = plan(
            &facts,
            &audience.lists,
            &audience.members,
            &subscribers,
            &tree,
        );
        let lists: HashMap<ListId, &AudienceList> =
            audience.lists.iter().map(|l| (l.id, l)).collect();
        let mut acks: HashMap<String, bool> = HashMap::new();
        for list in &audience.lists {
            if !acks.contains_key(&list.edition) {
                let edition = load_edition(store, &list.edition).await?;
                acks.insert(list.edition.clone(), edition.ack_requested);
            }
        }
        let mut deliveries = Vec::with_capacity(planned.len());
        let mut jobs = Vec::with_capacity(planned.len());
        for d in planned {
            let (Some(s), Some(list)) = (subscribers.get(&d.subscriber), lists.get(&d.list)) else {
                continue;
            };
            let id = uuid::Uuid::now_v7();
            let ack = acks.get(&list.edition).copied().unwrap_or(false);
            deliveries.push(NewDelivery {
                id,
                channel: Channel::Mail,
                recipient_id: s.id.as_uuid(),
                list_id: list.id,
                address: s.email.as_str().to_owned(),
                locale: d.locale,
                message_id: self.config.message_id(id),
                ack_token: ack.then(link_token),
            });
            jobs.push(NewJob::new(
                DELIVERY_JOB_KIND,
                format!("delivery:{id}"),
                serde_json::json!({ "delivery": id }),
                now,
            ));
        }
        for w in &audience.webhooks {
            let Some(list) = lists.get(&w.list_id) else {
                continue;
            };
            if !list.triggers.contains(&request.trigger) || !list.filter.matches(&facts, &tree) {
                continue;
            }
            let id = uuid::Uuid::now_v7();
            let call = WebhookRequest {
                endpoint: w.id.to_string(),
                url: w.url.clone(),
                // The secret travels in the job so that the call needs no further lookup;
                // the jobs table is as private as the endpoints table.
                secret: w.secret.clone(),
                event: format!("{}", request.trigger),
                delivery: id.to_string(),
                body: serde_json::json!({
                    "event": request.trigger,
                    "key": request.key(),
                    "delivery": id,
                    "data": request.view,
                }),
            };
            deliveries.push(NewDelivery {
                id,
                channel: Channel::Webhook,
                recipient_id: w.id,
                list_id: list.id,
                address: w.url.clone(),
                locale: keikai_domain::Locale::En,
                message_id: self.config.message_id(id),
                ack_token: None,
            });
            jobs.push(
                call.to_job(format!("delivery:{id}"), now)
                    .map_err(JobError::permanent)?,
            );
        }
        let event = DistributionEvent {
            id: uuid::Uuid::now_v7(),
            key: request.key().to_owned(),
            kind: request.trigger.as_str().to_owned(),
            title: request.view.title.en.clone(),
            data: serde_json::to_value(request)
                .map_err(|e| JobError::permanent(format!("cannot encode the event: {e}")))?,
            created_at: now,
        };
        let recorded = store
            .record_fanout(&event, &deliveries, &Effects::system(now).with_jobs(jobs))
            .await
            .map_err(store_error)?;
        if recorded {
            tracing::info!(
                event = %event.key, recipients = deliveries.len(),
                "distribution planned"
            );
        }
        Ok(recorded)
    }
}

#[async_trait]
impl Handler for FanoutHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let request: FanoutRequest = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::permanent(format!("the payload is not an event: {e}")))?;
        self.fan_out(&request).await.map(|_| ())
    }
}

#[derive(Deserialize)]
struct DeliveryPayload {
    delivery: uuid::Uuid,
}

/// How long an edition or a list read from the database is reused: a fan-out of thousands
/// reads each once in that time, and an administrator's edit shows within it.
const SETTINGS_TTL: Duration = Duration::from_secs(5);

/// Values read recently, by key, each kept for [`SETTINGS_TTL`].
struct Recent<K, V> {
    entries: Mutex<HashMap<K, (Instant, Arc<V>)>>,
}

impl<K: std::hash::Hash + Eq, V> Recent<K, V> {
    fn new() -> Self {
        Self {
            entries: Mutex::default(),
        }
    }

    fn get(&self, key: &K) -> Option<Arc<V>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < SETTINGS_TTL)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: K, value: V) -> Arc<V> {
        let value = Arc::new(value);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|_, (at, _)| at.elapsed() < SETTINGS_TTL);
        entries.insert(key, (Instant::now(), value.clone()));
        value
    }
}

/// Sends one mail delivery: renders the recipient's edition in their language, with their
/// unsubscribe and acknowledgement links, and records the outcome on the delivery.
pub struct DeliveryHandler {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    mailer: Arc<dyn Mailer>,
    config: DistributionConfig,
    max_attempts: u32,
    events: Mutex<HashMap<uuid::Uuid, Arc<FanoutRequest>>>,
    editions: Recent<String, CompiledEdition>,
    lists: Recent<ListId, Option<AudienceList>>,
}

impl DeliveryHandler {
    /// `max_attempts` is the retry policy's: the last failed attempt marks the delivery
    /// failed.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn Mailer>,
        config: DistributionConfig,
        max_attempts: u32,
    ) -> Self {
        Self {
            store,
            clock,
            mailer,
            config,
            max_attempts,
            events: Mutex::default(),
            editions: Recent::new(),
            lists: Recent::new(),
        }
    }

    async fn event(&self, id: uuid::Uuid) -> Result<Arc<FanoutRequest>, JobError> {
        if let Some(e) = self
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return Ok(e.clone());
        }
        let event = self.store.get_event(id).await.map_err(store_error)?;
        let request: Arc<FanoutRequest> = Arc::new(
            serde_json::from_value(event.data)
                .map_err(|e| JobError::permanent(format!("event {id} cannot be read: {e}")))?,
        );
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        // Events are immutable; the cache only needs a bound.
        if events.len() > 256 {
            events.clear();
        }
        events.insert(id, request.clone());
        Ok(request)
    }

    async fn edition(&self, list: Option<&AudienceList>) -> Result<Arc<CompiledEdition>, JobError> {
        let name = list.map_or("default", |l| l.edition.as_str());
        if let Some(e) = self.editions.get(&name.to_owned()) {
            return Ok(e);
        }
        let edition = load_edition(self.store.as_ref(), name).await?;
        let compiled = CompiledEdition::new(edition)
            .map_err(|e| JobError::permanent(format!("the edition cannot be rendered: {e}")))?;
        Ok(self.editions.put(name.to_owned(), compiled))
    }

    /// The delivery's list; `None` once it was deleted (its members still get the message).
    async fn list(&self, id: ListId) -> Result<Arc<Option<AudienceList>>, JobError> {
        if let Some(l) = self.lists.get(&id) {
            return Ok(l);
        }
        let list = match self.store.get_list(id).await {
            Ok(l) => Some(l),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(JobError::retryable(e)),
        };
        Ok(self.lists.put(id, list))
    }

    async fn mark(
        &self,
        d: &DeliveryRecord,
        state: DeliveryState,
        error: Option<&str>,
        attempts: u32,
    ) -> Result<(), JobError> {
        self.store
            .mark_delivery(d.id, state, error, attempts, self.clock.now())
            .await
            .map_err(store_error)
    }

    /// The message for one delivery, as it goes to the relay.
    pub async fn message(&self, d: &DeliveryRecord) -> Result<Option<Message>, JobError> {
        let event = self.event(d.event_id).await?;
        let record = self
            .store
            .get_subscriber(SubscriberId::from_uuid(d.recipient_id))
            .await
            .map_err(store_error)?;
        let s = &record.subscriber;
        if s.state != SubscriptionState::Active {
            return Ok(None);
        }
        let list = self.list(d.list_id).await?;
        let list = list.as_ref().as_ref();
        let edition = self.edition(list).await?;
        let unsubscribe = self.config.unsubscribe_url(&record.token);
        let recipient = RecipientView {
            name: s.name.clone(),
            time_zone: s.time_zone.clone(),
            unsubscribe_url: unsubscribe.clone(),
            ack_url: d.ack_token.as_deref().map(|t| self.config.ack_url(t)),
            preferences_url: None,
        };
        let rendered = edition
            .render(&event.view, &recipient, d.locale)
            .map_err(|e| JobError::permanent(format!("the edition cannot be rendered: {e}")))?;
        let to = if s.name.is_empty() {
            Address::new(s.email.clone())
        } else {
            Address::named(s.name.clone(), s.email.clone())
        };
        let mut headers = vec![
            // RFC 2369 and RFC 8058: mail clients offer a one-click unsubscribe button.
            ("List-Unsubscribe".to_owned(), format!("<{unsubscribe}>")),
            (
                "List-Unsubscribe-Post".to_owned(),
                "List-Unsubscribe=One-Click".to_owned(),
            ),
            // RFC 3834: no vacation auto-replies to a notification.
            ("Auto-Submitted".to_owned(), "auto-generated".to_owned()),
        ];
        if let Some(list) = list {
            headers.push((
                "List-Id".to_owned(),
                format!("<{}.{}>", list.id.as_uuid().simple(), self.config.domain),
            ));
        }
        Ok(Some(Message {
            from: None,
            to: vec![to],
            subject: rendered.subject,
            text: rendered.text,
            html: Some(rendered.html),
            headers,
            message_id: d.message_id.clone(),
            encrypt_to: s.openpgp_key.clone(),
        }))
    }
}

#[async_trait]
impl Handler for DeliveryHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: DeliveryPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::permanent(format!("the payload is not a delivery: {e}")))?;
        let d = self
            .store
            .get_delivery(payload.delivery)
            .await
            .map_err(store_error)?;
        if d.state != DeliveryState::Queued {
            // Sent (or given up) by an earlier run whose job was not marked done.
            return Ok(());
        }
        let message = match self.message(&d).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                let why = "not sent: the subscriber unsubscribed before it went out";
                return self
                    .mark(&d, DeliveryState::Failed, Some(why), job.attempts)
                    .await;
            }
            Err(e) if e.is_permanent() => {
                self.mark(
                    &d,
                    DeliveryState::Failed,
                    Some(&e.to_string()),
                    job.attempts,
                )
                .await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        // A run before this one ended without recording anything: the process stopped.
        let interrupted = job.attempts > 1 && d.error.is_none();
        match self.mailer.send(&message).await {
            Ok(()) => {
                let note = interrupted.then_some(
                    "an earlier attempt was interrupted (the process stopped); had it reached \
                     the relay, the recipient has this message twice with one Message-ID",
                );
                self.mark(&d, DeliveryState::Sent, note, job.attempts).await
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
                self.mark(&d, state, Some(&why), job.attempts).await?;
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

/// Runs webhook deliveries through the webhook channel and keeps the delivery's state: the
/// endpoint's own health (and disabling) is recorded by the channel's hooks.
pub struct DistributionWebhookHandler {
    inner: WebhookHandler,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    max_attempts: u32,
}

impl DistributionWebhookHandler {
    pub fn new(
        inner: WebhookHandler,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        max_attempts: u32,
    ) -> Self {
        Self {
            inner,
            store,
            clock,
            max_attempts,
        }
    }
}

#[async_trait]
impl Handler for DistributionWebhookHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let request: WebhookRequest = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::permanent(format!("the payload is not a webhook call: {e}")))?;
        let delivery = uuid::Uuid::parse_str(&request.delivery).ok();
        if let Some(id) = delivery {
            match self.store.get_delivery(id).await {
                Ok(d) if d.state != DeliveryState::Queued => return Ok(()),
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(JobError::retryable(e)),
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
            self.store
                .mark_delivery(id, state, error.as_deref(), job.attempts, self.clock.now())
                .await
                .map_err(store_error)?;
        }
        outcome
    }
}

/// The webhook channel's hooks, kept in the store: whether an endpoint is enabled, and its
/// failures in a row (disabling it at the configured number).
pub struct StoreWebhookHooks {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    disable_after: u32,
}

impl StoreWebhookHooks {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, disable_after: u32) -> Self {
        Self {
            store,
            clock,
            disable_after,
        }
    }
}

#[async_trait]
impl crate::webhook::WebhookHooks for StoreWebhookHooks {
    async fn is_enabled(&self, endpoint: &str) -> Result<bool, String> {
        let id = uuid::Uuid::parse_str(endpoint).map_err(|e| e.to_string())?;
        match self.store.get_webhook(id).await {
            Ok(w) => Ok(w.enabled),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn record(
        &self,
        request: &WebhookRequest,
        outcome: &crate::webhook::WebhookOutcome,
    ) -> Result<(), String> {
        let id = uuid::Uuid::parse_str(&request.endpoint).map_err(|e| e.to_string())?;
        let error = match outcome {
            crate::webhook::WebhookOutcome::Delivered { .. } => None,
            crate::webhook::WebhookOutcome::Failed { error, .. } => Some(error.as_str()),
        };
        match self
            .store
            .record_webhook_attempt(id, error, self.disable_after, self.clock.now())
            .await
        {
            Ok(disabled) => {
                if disabled && error.is_some() {
                    tracing::warn!(endpoint = %id, "webhook endpoint disabled after repeated failures");
                }
                Ok(())
            }
            Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}
