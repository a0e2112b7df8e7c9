//! Emergency alerts: an urgent message (an outbreak, say) to chosen partner groups, sent at
//! once by mail and shown in the portal until acknowledged. The PSIRT sees who acknowledged
//! and who did not.

use std::collections::HashMap;

use jiff::Timestamp;
use keikai_domain::advisory::Tlp;
use keikai_domain::audit::Change;
use keikai_domain::partner::{AccessKind, Alert, AlertInput};
use keikai_domain::{Action, OrgId, UserId};
use keikai_store::AlertAck;
use serde_json::json;

use super::access::{effects, line, org_names, record};
use super::mail::{Contacts, alert_mail};
use super::{Seat, seat};
use crate::outbox::Links;
use crate::{App, Caller, Error, Result};

/// An alert with who acknowledged it and who did not.
#[derive(Debug, Clone)]
pub struct AlertReport {
    pub alert: Alert,
    pub acknowledged: Vec<Acknowledgement>,
    /// Recipient organisations nobody of which acknowledged, as (id, name).
    pub not_acknowledged: Vec<(OrgId, String)>,
}

/// Someone of a recipient organisation acknowledged the alert.
#[derive(Debug, Clone)]
pub struct Acknowledgement {
    pub org_id: OrgId,
    pub organisation: String,
    pub user_id: UserId,
    pub at: Timestamp,
}

/// Sends an emergency alert to the valid partners of the chosen groups: the alert and one
/// mail to each of their contacts commit together, so it goes out at once, and exactly once.
pub async fn send_alert(app: &App, who: &Caller, input: AlertInput) -> Result<AlertReport> {
    let by = who.require_user(Action::ManagePartners)?.user_id;
    let fx = app.effects(who);
    let agreements = app.store().list_agreements().await?;
    let alert = Alert::send(input, &app.config().partner_tiers, &agreements, by, fx.at)?;
    let change = Change::new(
        "partner.alert.sent",
        format!("partner-alert/{}", alert.id),
        serde_json::Value::Null,
        json!({ "title": alert.title, "recipients": alert.recipients }),
    );
    let links = Links::new(app.config().publishing.base_url());
    let contacts = Contacts::load(app).await?;
    let mut jobs = Vec::new();
    for org in &alert.recipients {
        for user in contacts.of(*org) {
            jobs.push(alert_mail(&links, user, &alert)?);
        }
    }
    let alert = app
        .store()
        .create_alert(&alert, &fx.with_audit(change).with_jobs(jobs))
        .await?;
    let names = org_names(app).await?;
    report(app, &names, alert).await
}

/// Every alert, newest first, with who acknowledged it.
pub async fn alert_reports(app: &App, who: &Caller) -> Result<Vec<AlertReport>> {
    who.require(Action::ViewPartners)?;
    reports(app, None).await
}

/// The newest `limit` alerts (all without one) with their acknowledgements.
pub(super) async fn reports(app: &App, limit: Option<usize>) -> Result<Vec<AlertReport>> {
    let names = org_names(app).await?;
    let alerts = app.store().list_alerts().await?;
    let mut out = Vec::new();
    for a in alerts.into_iter().take(limit.unwrap_or(usize::MAX)) {
        out.push(report(app, &names, a).await?);
    }
    Ok(out)
}

async fn report(app: &App, names: &HashMap<OrgId, String>, alert: Alert) -> Result<AlertReport> {
    let acks = app.store().alert_acks(alert.id).await?;
    let name = |o: &OrgId| names.get(o).cloned().unwrap_or_default();
    let not_acknowledged = alert
        .recipients
        .iter()
        .filter(|o| !acks.iter().any(|k| k.org_id == **o))
        .map(|o| (*o, name(o)))
        .collect();
    Ok(AlertReport {
        acknowledged: acks
            .iter()
            .map(|k| Acknowledgement {
                org_id: k.org_id,
                organisation: name(&k.org_id),
                user_id: k.user_id,
                at: k.at,
            })
            .collect(),
        not_acknowledged,
        alert,
    })
}

/// An alert as a partner sees it: not whom else it went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatAlert {
    pub id: uuid::Uuid,
    pub title: String,
    pub body: String,
    pub tlp: Tlp,
    pub sent_at: Timestamp,
    /// When someone of this organisation acknowledged it.
    pub acknowledged_at: Option<Timestamp>,
}

/// The alerts sent to the caller's organisation, newest first; each counts as seen (the
/// access trail records it).
pub async fn alerts(app: &App, who: &Caller) -> Result<Vec<SeatAlert>> {
    let seat = seat(app, who).await?;
    seat_alerts(app, &seat).await
}

pub(super) async fn seat_alerts(app: &App, seat: &Seat) -> Result<Vec<SeatAlert>> {
    let mut out = Vec::new();
    for a in app.store().list_alerts().await? {
        if !a.recipients.contains(&seat.org.id) {
            continue;
        }
        let acks = app.store().alert_acks(a.id).await?;
        out.push(SeatAlert {
            id: a.id,
            title: a.title,
            body: a.body,
            tlp: a.tlp,
            sent_at: a.sent_at,
            acknowledged_at: acks
                .iter()
                .filter(|k| k.org_id == seat.org.id)
                .map(|k| k.at)
                .min(),
        });
    }
    for a in &out {
        record(app, seat, AccessKind::ViewAlert, |r| {
            r.alert_id = Some(a.id)
        })
        .await?;
    }
    Ok(out)
}

/// Acknowledges an alert sent to the caller's organisation; `false` when this person had
/// acknowledged it before.
pub async fn acknowledge(app: &App, who: &Caller, alert: uuid::Uuid) -> Result<bool> {
    let seat = seat(app, who).await?;
    who.require(Action::RespondAsPartner)?;
    let a = app.store().get_alert(alert).await?;
    if !a.recipients.contains(&seat.org.id) {
        return Err(Error::NotFound);
    }
    // The acknowledgement and its line in the trail commit together.
    let access = line(app, &seat, AccessKind::AcknowledgeAlert, |r| {
        r.alert_id = Some(a.id);
    });
    let ack = AlertAck {
        alert_id: a.id,
        user_id: seat.user,
        org_id: seat.org.id,
        at: access.at,
    };
    Ok(app
        .store()
        .acknowledge_alert(&ack, &access, &effects(app, &seat))
        .await?)
}
