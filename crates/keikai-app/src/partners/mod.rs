//! The partner programme: organisations under agreement receive each release's advisories
//! before it goes out (a package per tier, under embargo), may ask about them, and get
//! emergency alerts. The PSIRT records the agreements, writes partner editions, answers the
//! questions, sends the alerts and reads the access trail.
//!
//! Isolation is the point. Every portal use case starts from [`seat`]: the signed-in partner
//! contact's organisation with an agreement valid *now*; without one, everything is "not
//! found". A package is visible only from its tier's delivery time, and only the advisories in
//! the organisation's product scope; questions of other organisations are reduced to the
//! answers addressed to everyone; an alert shows nobody who else received it. Nothing is
//! cached, so an expired or revoked agreement, or a moved release, takes effect on the next
//! request.

mod access;
mod agreements;
mod alerts;
mod delivery;
mod editions;
mod mail;
mod packages;
mod questions;

use keikai_domain::partner::Agreement;
use keikai_domain::{Action, Branch, Organisation, Role, UserId};

pub use access::*;
pub use agreements::*;
pub use alerts::*;
pub use delivery::*;
pub use editions::*;
pub use packages::*;
pub use questions::*;

use crate::{App, Caller, Error, Result};

/// The organisation a partner contact acts for, with its agreement valid now.
#[derive(Debug, Clone)]
pub struct Seat {
    pub user: UserId,
    pub org: Organisation,
    pub agreement: Agreement,
}

/// The caller's partner seat; "not found" for anyone without a valid agreement, so that the
/// portal reveals nothing, not even that the programme has something for them.
pub async fn seat(app: &App, who: &Caller) -> Result<Seat> {
    let p = who.require_user(Action::UsePartnerPortal)?;
    let now = app.now();
    for m in p
        .memberships
        .iter()
        .filter(|m| m.role == Role::PartnerContact)
    {
        if let Some(a) = app.store().agreement(m.org_id).await?
            && a.is_valid(now)
        {
            return Ok(Seat {
                user: p.user_id,
                org: app.store().get_org(m.org_id).await?,
                agreement: a,
            });
        }
    }
    Err(Error::NotFound)
}

/// What the partner portal's front page shows: the seat, its packages and its alerts. The
/// alerts count as seen (the access trail records each).
pub struct Portal {
    pub seat: Seat,
    pub packages: Vec<Package>,
    pub alerts: Vec<SeatAlert>,
}

pub async fn portal(app: &App, who: &Caller) -> Result<Portal> {
    let seat = seat(app, who).await?;
    let packages = seat_packages(app, &seat).await?;
    let alerts = seat_alerts(app, &seat).await?;
    Ok(Portal {
        seat,
        packages,
        alerts,
    })
}

/// What the PSIRT's overview of the programme shows.
pub struct Overview {
    /// Every partner organisation with its agreement, by name.
    pub partners: Vec<Partner>,
    /// The latest alerts with who acknowledged them.
    pub alerts: Vec<AlertReport>,
    /// Every question, newest first, with the names the PSIRT needs to answer it.
    pub questions: Vec<QuestionEntry>,
    /// How many questions have no answer yet.
    pub unanswered: usize,
    /// The product catalogue, for choosing an agreement's product areas.
    pub branches: Vec<Branch>,
}

/// How many alerts the overview shows.
pub const OVERVIEW_ALERTS: usize = 20;

pub async fn overview(app: &App, who: &Caller) -> Result<Overview> {
    who.require(Action::ViewPartners)?;
    let questions = question_entries(app).await?;
    Ok(Overview {
        partners: partners_unchecked(app).await?,
        alerts: reports(app, Some(OVERVIEW_ALERTS)).await?,
        unanswered: questions
            .iter()
            .filter(|q| !q.question.is_answered())
            .count(),
        questions,
        branches: app.store().list_branches().await?,
    })
}
