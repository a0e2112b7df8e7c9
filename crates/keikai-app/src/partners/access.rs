//! The access trail: every package a partner opened, every file downloaded, every alert seen
//! and acknowledged, with who and when, for the PSIRT and its auditors.

use std::collections::HashMap;

use jiff::Timestamp;
use keikai_domain::audit::AuditActor;
use keikai_domain::partner::AccessKind;
use keikai_domain::{Action, AdvisoryId, OrgId, ReleaseId, UserId};
use keikai_store::{AccessRecord, Effects, StoreError};

use super::Seat;
use crate::{App, Caller, Result};

/// The most lines the trail shows.
pub const ACCESS_TRAIL_LIMIT: i64 = 100_000;

/// Records what the seat's contact did now; `f` says what it concerned.
pub(super) async fn record(
    app: &App,
    seat: &Seat,
    kind: AccessKind,
    f: impl FnOnce(&mut AccessRecord),
) -> Result<()> {
    app.store()
        .log_access(&line(app, seat, kind, f), &effects(app, seat))
        .await?;
    Ok(())
}

/// The effects of what the seat's contact does now (none yet beyond the trail's line).
pub(super) fn effects(app: &App, seat: &Seat) -> Effects {
    Effects::new(AuditActor::User(seat.user), app.now())
}

/// The trail's line for what the seat's contact does now.
pub(super) fn line(
    app: &App,
    seat: &Seat,
    kind: AccessKind,
    f: impl FnOnce(&mut AccessRecord),
) -> AccessRecord {
    let mut r = AccessRecord::new(app.now(), seat.user, seat.org.id, kind);
    f(&mut r);
    r
}

/// One line of the access trail, with names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine {
    pub at: Timestamp,
    pub organisation: String,
    /// The contact's e-mail address.
    pub user: String,
    pub kind: AccessKind,
    pub release: Option<ReleaseId>,
    /// The advisory's tracking id.
    pub advisory: Option<String>,
    pub alert: Option<uuid::Uuid>,
    pub detail: String,
}

/// The whole trail, newest first.
pub async fn access_trail(app: &App, who: &Caller) -> Result<Vec<AccessLine>> {
    who.require(Action::ViewPartners)?;
    let store = app.store();
    let records = store.list_access(None, ACCESS_TRAIL_LIMIT).await?;
    let orgs = org_names(app).await?;
    let users: HashMap<UserId, String> = store
        .list_users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.email.to_string()))
        .collect();
    let mut tracking = TrackingIds::default();
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let advisory = match r.advisory_id {
            Some(id) => Some(tracking.of(app, id).await?),
            None => None,
        };
        out.push(AccessLine {
            at: r.at,
            organisation: orgs.get(&r.org_id).cloned().unwrap_or_default(),
            user: users.get(&r.user_id).cloned().unwrap_or_default(),
            kind: r.kind,
            release: r.release_id,
            advisory,
            alert: r.alert_id,
            detail: r.detail,
        });
    }
    Ok(out)
}

/// The names of all organisations.
pub(super) async fn org_names(app: &App) -> Result<HashMap<OrgId, String>> {
    Ok(app
        .store()
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| (o.id, o.name.to_string()))
        .collect())
}

/// Advisories' tracking ids, each looked up once; an advisory that is gone keeps its id.
#[derive(Default)]
pub(super) struct TrackingIds(HashMap<AdvisoryId, String>);

impl TrackingIds {
    pub async fn of(&mut self, app: &App, id: AdvisoryId) -> Result<String> {
        if let Some(t) = self.0.get(&id) {
            return Ok(t.clone());
        }
        let t = match app.store().get_advisory(id).await {
            Ok(a) => a.tracking_id,
            Err(StoreError::NotFound) => id.to_string(),
            Err(e) => return Err(e.into()),
        };
        self.0.insert(id, t.clone());
        Ok(t)
    }
}
