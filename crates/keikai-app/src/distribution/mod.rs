//! Distribution: subscribers and the audience lists they are on, the editions (templates and
//! supplements) each list receives, webhook endpoints, and the events that reach them —
//! publications, revisions, release summaries, early warnings and digests — with a delivery
//! report per event.
//!
//! The PSIRT manages it (lists, subscribers and their CSV import, editions with a preview,
//! webhooks, early warnings, bounces); the public subscribes itself with a double opt-in and
//! uses the secret links in its messages ([`self_service`]).
//!
//! Nothing here sends anything. A change records, in its own transaction, the fan-out job
//! that announces it; the job worker runs [`fan_out`], which plans the recipients and
//! records the event with one delivery and one job per recipient in a single transaction;
//! then the worker's mail and webhook transports send each delivery, made ready by
//! [`Deliveries::message`] and recorded by [`record_delivery`].

mod bounces;
mod delivery;
mod early_warning;
mod editions;
mod fan_out;
mod lists;
mod reports;
pub mod self_service;
mod subscribers;
mod triggers;
mod webhooks;

use keikai_domain::edition::Edition;
use keikai_store::EditionRecord;

pub use bounces::record_bounce;
// The records the doors show, as the store keeps them.
pub use delivery::{
    Deliveries, queued_delivery, record_delivery, record_webhook_attempt, webhook_enabled,
};
pub use early_warning::{EarlyWarning, early_warning};
pub use editions::{
    EditionUses, NewEdition, Preview, StoredEdition, create_edition, edition, edition_uses,
    editions, preview, save_edition,
};
pub use fan_out::fan_out;
pub use keikai_store::{DeliveryCounts, DeliveryRecord, DeliveryState, SubscriberRecord};
pub use lists::{SaveList, delete_list, lists, save_list};
pub use reports::{
    DELIVERIES_CSV_HEADER, EventReport, EventSummary, Overview, event_report, events, overview,
};
pub use subscribers::{
    AddSubscriber, ImportReport, MAX_IMPORT_ROWS, PAGE_SIZE, PatchSubscriber, SubscriberPage,
    add_subscriber, import_csv, patch_subscriber, subscriber_page, subscribers,
};
pub use triggers::{enqueue_due_digests, publication_jobs};
pub use webhooks::{NewWebhook, create_webhook, enable_webhook, webhooks};

use crate::outbox::Links;
use crate::{App, Error, Result};

/// Where the links in messages point and how message ids are made: from the public URL.
fn links(app: &App) -> Links {
    Links::new(app.config().publishing.base_url())
}

/// Why an OpenPGP key given for a subscriber is not one that mail can be encrypted to.
fn openpgp_key_problem(key: Option<&str>) -> Option<String> {
    let info = match keikai_openpgp::inspect_public_key(key?) {
        Ok(info) => info,
        Err(e) => return Some(e.to_string()),
    };
    (!info.can_encrypt).then(|| {
        format!(
            "the key {} has no encryption-capable (sub)key",
            info.fingerprint
        )
    })
}

/// An OpenPGP key given for a subscriber must be one that mail can be encrypted to.
fn check_openpgp_key(key: Option<&str>) -> Result<()> {
    match openpgp_key_problem(key) {
        Some(why) => Err(Error::invalid("openpgp_key", format!("openpgp_key: {why}"))),
        None => Ok(()),
    }
}

/// The edition stored under `name`, as the domain's [`Edition`]; the error says why it
/// cannot be read (the caller decides what kind of failure that is).
fn decode_edition(record: EditionRecord) -> std::result::Result<Edition, String> {
    let name = record.name;
    serde_json::from_value(record.data)
        .map_err(|e| format!("edition \"{name}\" cannot be read: {e}"))
}
