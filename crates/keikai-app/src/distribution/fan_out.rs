//! The fan-out: one event becomes one delivery per recipient — the subscribers
//! `subscription::plan` chooses, each once, in the edition of their first list, plus one call
//! per enabled webhook endpoint of a list the event reaches.
//!
//! The event, every delivery and the job that sends each are recorded in one transaction,
//! with the event's key unique: a fan-out run twice (the job repeated after a crash, two
//! instances) records the event once and sends nothing twice.

use std::collections::HashMap;

use keikai_domain::partner::BranchParents;
use keikai_domain::subscription::{AudienceList, Subscriber, plan};
use keikai_domain::{Action, ListId, Locale, SubscriberId};
use keikai_store::{Channel, DistributionEvent, NewDelivery};

use super::delivery::list_edition;
use super::links;
use crate::outbox::{DeliveryRequest, FanoutRequest, WebhookRequest, link_token};
use crate::{App, Caller, Error, Result};

/// Plans and records the event `request` announces; `false` when it had been recorded
/// already.
pub async fn fan_out(app: &App, who: &Caller, request: &FanoutRequest) -> Result<bool> {
    who.require(Action::ManageDistribution)?;
    let store = app.store();
    if store.event_by_key(request.key()).await?.is_some() {
        return Ok(false);
    }
    let fx = app.effects(who);
    let now = fx.at;
    let links = links(app);
    let audience = store.audience().await?;
    let tree = BranchParents::new(&store.list_branches().await?);
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
    let lists: HashMap<ListId, &AudienceList> = audience.lists.iter().map(|l| (l.id, l)).collect();
    // Whether each list's edition asks for an acknowledgement, reading each edition once.
    let mut acks: HashMap<String, bool> = HashMap::new();
    for list in &audience.lists {
        if !acks.contains_key(&list.edition) {
            let edition = list_edition(app, &list.edition).await?;
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
            message_id: links.message_id(id),
            ack_token: ack.then(link_token),
        });
        jobs.push(DeliveryRequest { delivery: id }.to_job(now)?);
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
            locale: Locale::En,
            message_id: links.message_id(id),
            ack_token: None,
        });
        // An endpoint whose call could never be made stops the fan-out for good: running
        // it again would not change that.
        let job = call
            .to_job(DeliveryRequest::job_key(id), now)
            .map_err(|e| Error::invalid("webhook", format!("webhook {}: {e}", w.id)))?;
        jobs.push(job);
    }
    let event = DistributionEvent {
        id: uuid::Uuid::now_v7(),
        key: request.key().to_owned(),
        kind: request.trigger.as_str().to_owned(),
        title: request.view.title.en.clone(),
        data: serde_json::to_value(request)
            .map_err(|e| Error::internal(format!("cannot encode the event: {e}")))?,
        created_at: now,
    };
    let recorded = store
        .record_fanout(&event, &deliveries, &fx.with_jobs(jobs))
        .await?;
    if recorded {
        tracing::info!(
            event = %event.key, recipients = deliveries.len(),
            "distribution planned"
        );
    }
    Ok(recorded)
}
