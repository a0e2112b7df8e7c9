//! What was distributed to whom: the recent events with their delivery counts, each event's
//! delivery report (also as CSV), and the overview the PSIRT's distribution page shows.

use std::collections::HashMap;

use keikai_domain::subscription::{AudienceList, WebhookEndpoint};
use keikai_domain::{Action, Branch, ListId};
use keikai_store::{DeliveryCounts, DeliveryRecord, DeliveryState, DistributionEvent};

use super::editions::{StoredEdition, editions};
use super::webhooks::webhooks;
use crate::{App, Caller, Result};

/// The most deliveries a report holds.
const MAX_DELIVERIES: u32 = 100_000;

/// An event and where its deliveries are.
#[derive(Debug, Clone)]
pub struct EventSummary {
    pub event: DistributionEvent,
    pub counts: DeliveryCounts,
}

async fn summaries(app: &App, limit: u32) -> Result<Vec<EventSummary>> {
    let mut out = Vec::new();
    for event in app.store().list_events(limit).await? {
        let counts = app.store().delivery_counts(event.id).await?;
        out.push(EventSummary { event, counts });
    }
    Ok(out)
}

/// The `limit` most recent events, newest first, with their counts.
pub async fn events(app: &App, who: &Caller, limit: u32) -> Result<Vec<EventSummary>> {
    who.require(Action::ViewDistribution)?;
    summaries(app, limit).await
}

/// One event's delivery report: its counts, and each recipient's delivery (of one state or
/// all), by address.
#[derive(Debug, Clone)]
pub struct EventReport {
    pub summary: EventSummary,
    pub deliveries: Vec<DeliveryRecord>,
    /// The names of the lists, by id (a deleted list has none).
    pub list_names: HashMap<ListId, String>,
}

impl EventReport {
    /// The name of a delivery's list, or its id once the list is deleted.
    pub fn list_name(&self, id: ListId) -> String {
        self.list_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// The report as CSV rows, one per delivery, in the columns of
    /// [`DELIVERIES_CSV_HEADER`] (the door quotes the cells).
    pub fn csv_rows(&self) -> impl Iterator<Item = [String; 10]> + '_ {
        let time = |t: Option<jiff::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        self.deliveries.iter().map(move |d| {
            [
                d.address.clone(),
                d.channel.as_str().to_owned(),
                self.list_name(d.list_id),
                d.locale.as_str().to_owned(),
                d.state.as_str().to_owned(),
                d.attempts.to_string(),
                d.error.clone().unwrap_or_default(),
                d.message_id.clone(),
                time(d.sent_at),
                time(d.acked_at),
            ]
        })
    }
}

/// The columns of [`EventReport::csv_rows`].
pub const DELIVERIES_CSV_HEADER: [&str; 10] = [
    "address",
    "channel",
    "list",
    "language",
    "state",
    "attempts",
    "error",
    "message_id",
    "sent_at",
    "acknowledged_at",
];

/// The report of event `id`; `only` narrows it to the deliveries in one state.
pub async fn event_report(
    app: &App,
    who: &Caller,
    id: uuid::Uuid,
    only: Option<DeliveryState>,
) -> Result<EventReport> {
    who.require(Action::ViewDistribution)?;
    let store = app.store();
    let event = store.get_event(id).await?;
    let deliveries = store.list_deliveries(id, only, MAX_DELIVERIES).await?;
    let counts = store.delivery_counts(id).await?;
    let list_names = store
        .list_lists()
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    Ok(EventReport {
        summary: EventSummary { event, counts },
        deliveries,
        list_names,
    })
}

/// Everything distribution holds, as the PSIRT's overview shows it.
pub struct Overview {
    /// Every list, by priority, with its number of members.
    pub lists: Vec<(AudienceList, u64)>,
    /// Subscribers on any list or none.
    pub subscribers: u64,
    pub editions: Vec<StoredEdition>,
    /// Without their secrets.
    pub webhooks: Vec<WebhookEndpoint>,
    /// The most recent events, newest first.
    pub events: Vec<EventSummary>,
    /// The product tree, for filters and warnings.
    pub branches: Vec<Branch>,
}

/// The overview, with the `events` most recent events.
pub async fn overview(app: &App, who: &Caller, events: u32) -> Result<Overview> {
    who.require(Action::ViewDistribution)?;
    let store = app.store();
    let mut lists = Vec::new();
    for l in store.list_lists().await? {
        let members = store.count_subscribers(Some(l.id)).await?;
        lists.push((l, members));
    }
    Ok(Overview {
        lists,
        subscribers: store.count_subscribers(None).await?,
        editions: editions(app, who).await?,
        webhooks: webhooks(app, who).await?,
        events: summaries(app, events).await?,
        branches: store.list_branches().await?,
    })
}
