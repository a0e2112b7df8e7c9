//! Each delivery as its transport (mail or webhook, in the job worker) sends it: whether it
//! still waits to be sent, the message made from it, and its outcome recorded. The
//! transports decide what an attempt's result means; these only read and write.
//!
//! A fan-out of thousands renders thousands of messages from one event in a few editions,
//! so [`Deliveries`] keeps what they share: the events (immutable), the editions with their
//! templates compiled, and the lists, each read once and the last two kept a few seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use keikai_domain::edition::{CompiledEdition, Edition, RecipientView};
use keikai_domain::subscription::{AudienceList, SubscriptionState};
use keikai_domain::{Action, ListId, SubscriberId};
use keikai_store::{DeliveryRecord, DeliveryState, StoreError};

use super::{decode_edition, links};
use crate::outbox::{Address, FanoutRequest, Message};
use crate::{App, Caller, Error, Result};

/// The edition a list names, or the built-in templates when it names none that exists. An
/// edition that cannot be read or rendered is invalid: sending again would not help.
pub(super) async fn list_edition(app: &App, name: &str) -> Result<Edition> {
    match app.store().get_edition(name).await? {
        Some(record) => decode_edition(record).map_err(|e| Error::invalid("edition", e)),
        None => Edition::new(name, name)
            .or_else(|_| Edition::new("default", "default"))
            .map_err(|e| Error::invalid("edition", e.to_string())),
    }
}

/// The delivery `id` if it still waits to be sent; `None` when an earlier run sent it (or
/// gave up) and its job was not marked done.
pub async fn queued_delivery(
    app: &App,
    who: &Caller,
    id: uuid::Uuid,
) -> Result<Option<DeliveryRecord>> {
    who.require(Action::ManageDistribution)?;
    let d = app.store().get_delivery(id).await?;
    Ok((d.state == DeliveryState::Queued).then_some(d))
}

/// Records an attempt's outcome on delivery `id`: its state, why (for a failure, or a note),
/// and the attempts made so far.
pub async fn record_delivery(
    app: &App,
    who: &Caller,
    id: uuid::Uuid,
    state: DeliveryState,
    error: Option<&str>,
    attempts: u32,
) -> Result<()> {
    who.require(Action::ManageDistribution)?;
    Ok(app
        .store()
        .mark_delivery(id, state, error, attempts, app.now())
        .await?)
}

/// Whether the webhook endpoint `id` is still enabled (a deleted one is not).
pub async fn webhook_enabled(app: &App, who: &Caller, id: uuid::Uuid) -> Result<bool> {
    who.require(Action::ManageDistribution)?;
    match app.store().get_webhook(id).await {
        Ok(w) => Ok(w.enabled),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Counts a call to endpoint `id`: a success (`error` `None`) resets its failures; a
/// failure adds one and, at `disable_after` in a row, disables it. Returns whether it is
/// (now) disabled; an endpoint deleted meanwhile counts nothing.
pub async fn record_webhook_attempt(
    app: &App,
    who: &Caller,
    id: uuid::Uuid,
    error: Option<&str>,
    disable_after: u32,
) -> Result<bool> {
    who.require(Action::ManageDistribution)?;
    match app
        .store()
        .record_webhook_attempt(id, error, disable_after, app.now())
        .await
    {
        Ok(disabled) => {
            if disabled && error.is_some() {
                tracing::warn!(endpoint = %id, "webhook endpoint disabled after repeated failures");
            }
            Ok(disabled)
        }
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// How long an edition or a list read from the database is reused: a fan-out of thousands
/// reads each once in that time, and an administrator's edit shows within it. (A cache's
/// age, so the process's monotonic clock, not the application's.)
const SETTINGS_TTL: Duration = Duration::from_secs(5);

/// The most events kept; events never change, so the bound only limits memory.
const MAX_EVENTS: usize = 256;

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

/// Makes the messages of mail deliveries, reusing what they share (see the module
/// documentation). One per worker; the locks are never held across an await.
pub struct Deliveries {
    events: Mutex<HashMap<uuid::Uuid, Arc<FanoutRequest>>>,
    editions: Recent<String, CompiledEdition>,
    lists: Recent<ListId, Option<AudienceList>>,
}

impl Default for Deliveries {
    fn default() -> Self {
        Self::new()
    }
}

impl Deliveries {
    pub fn new() -> Self {
        Self {
            events: Mutex::default(),
            editions: Recent::new(),
            lists: Recent::new(),
        }
    }

    async fn event(&self, app: &App, id: uuid::Uuid) -> Result<Arc<FanoutRequest>> {
        if let Some(e) = self
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return Ok(e.clone());
        }
        let event = app.store().get_event(id).await?;
        let request: Arc<FanoutRequest> = Arc::new(
            serde_json::from_value(event.data)
                .map_err(|e| Error::invalid("event", format!("event {id} cannot be read: {e}")))?,
        );
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if events.len() > MAX_EVENTS {
            events.clear();
        }
        events.insert(id, request.clone());
        Ok(request)
    }

    async fn edition(
        &self,
        app: &App,
        list: Option<&AudienceList>,
    ) -> Result<Arc<CompiledEdition>> {
        let name = list.map_or("default", |l| l.edition.as_str());
        if let Some(e) = self.editions.get(&name.to_owned()) {
            return Ok(e);
        }
        let edition = list_edition(app, name).await?;
        let compiled = CompiledEdition::new(edition).map_err(cannot_render)?;
        Ok(self.editions.put(name.to_owned(), compiled))
    }

    /// The delivery's list; `None` once it was deleted (its members still get the message).
    async fn list(&self, app: &App, id: ListId) -> Result<Arc<Option<AudienceList>>> {
        if let Some(l) = self.lists.get(&id) {
            return Ok(l);
        }
        let list = match app.store().get_list(id).await {
            Ok(l) => Some(l),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        Ok(self.lists.put(id, list))
    }

    /// The message of mail delivery `d` as it goes to the relay: the recipient's edition in
    /// their language, with their unsubscribe and acknowledgement links and the delivery's
    /// own Message-ID (the same on every attempt). `None` when the subscriber is no longer
    /// active.
    pub async fn message(
        &self,
        app: &App,
        who: &Caller,
        d: &DeliveryRecord,
    ) -> Result<Option<Message>> {
        who.require(Action::ManageDistribution)?;
        let event = self.event(app, d.event_id).await?;
        let record = app
            .store()
            .get_subscriber(SubscriberId::from_uuid(d.recipient_id))
            .await?;
        let s = &record.subscriber;
        if s.state != SubscriptionState::Active {
            return Ok(None);
        }
        let list = self.list(app, d.list_id).await?;
        let list = list.as_ref().as_ref();
        let edition = self.edition(app, list).await?;
        let links = links(app);
        let unsubscribe = links.unsubscribe_url(&record.token);
        let recipient = RecipientView {
            name: s.name.clone(),
            time_zone: s.time_zone.clone(),
            unsubscribe_url: unsubscribe.clone(),
            ack_url: d.ack_token.as_deref().map(|t| links.ack_url(t)),
            preferences_url: None,
        };
        let rendered = edition
            .render(&event.view, &recipient, d.locale)
            .map_err(cannot_render)?;
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
                format!("<{}.{}>", list.id.as_uuid().simple(), links.domain),
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

fn cannot_render(e: keikai_domain::DomainError) -> Error {
    Error::invalid("edition", format!("the edition cannot be rendered: {e}"))
}
