//! Bounces that come back after the relay accepted a message: a delivery status
//! notification, read by the mail system in front of Keikai, names the message by its
//! Message-ID.

use keikai_domain::Action;
use keikai_store::{DeliveryRecord, DeliveryState};

use crate::{App, Caller, Error, Result};

/// Marks the delivery whose message bounced (named by its Message-ID, with or without the
/// angle brackets) as bounced, for `reason`.
pub async fn record_bounce(
    app: &App,
    who: &Caller,
    message_id: &str,
    reason: &str,
) -> Result<DeliveryRecord> {
    who.require(Action::ManageDistribution)?;
    let id = message_id.trim();
    let id = if id.starts_with('<') {
        id.to_owned()
    } else {
        format!("<{id}>")
    };
    let d = app.store().delivery_by_message_id(&id).await?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid("reason", "reason: must not be empty"));
    }
    app.store()
        .mark_delivery(
            d.id,
            DeliveryState::Bounced,
            Some(reason),
            d.attempts,
            app.now(),
        )
        .await?;
    Ok(app.store().get_delivery(d.id).await?)
}
