//! Releases: the monthly train (on the second Tuesday, at the time and in the zone of the
//! release schedule) and out-of-band releases at any future time. Advisories are planned for
//! a release and go out with it ([`crate::publishing`]).
//!
//! Only the PSIRT sees releases (`ViewAdvisories`); planning and moving them asks for
//! `ManageReleases`. A month has one monthly release.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use keikai_domain::advisory::{Advisory, AdvisoryState, Readiness};
use keikai_domain::audit::Change;
use keikai_domain::release::{Release, ReleaseKind, ReleaseSchedule, ReleaseState};
use keikai_domain::{Action, ReleaseId};
use keikai_store::{AdvisoryFilter, StoreError};
use serde_json::json;

use crate::error::{expect_revision, save_error};
use crate::{App, Caller, Error, Result};

/// What a save refused for a stale revision answers.
pub const CONFLICT_MESSAGE: &str =
    "the release changed since you loaded it; reload it and make your change again";

/// The most advisories one release (planned or published) reads.
pub const MAX_ADVISORIES: u32 = 5_000;

/// The releases page: planned releases, soonest first; those gone out, latest first; and the
/// next month without a monthly release.
pub struct Overview {
    pub planned: Vec<Release>,
    /// At most as many as asked for.
    pub gone: Vec<Release>,
    /// The first monthly release after now that is not planned yet (within a year).
    pub next_monthly: Option<Timestamp>,
}

pub async fn overview(app: &App, who: &Caller, recent: usize) -> Result<Overview> {
    who.require(Action::ViewAdvisories)?;
    let all = app.store().list_releases(true).await?;
    let next_monthly = next_unplanned_monthly(app, &all);
    let (mut gone, planned): (Vec<Release>, Vec<Release>) = all
        .into_iter()
        .partition(|r| r.state() == ReleaseState::Published);
    gone.sort_by_key(|r| std::cmp::Reverse(r.published_at().unwrap_or(r.scheduled_at())));
    gone.truncate(recent);
    Ok(Overview {
        planned,
        gone,
        next_monthly,
    })
}

fn next_unplanned_monthly(app: &App, all: &[Release]) -> Option<Timestamp> {
    let schedule = &app.config().publishing.schedule;
    let taken: Vec<Timestamp> = all
        .iter()
        .filter(|r| r.kind() == ReleaseKind::Monthly)
        .map(Release::scheduled_at)
        .collect();
    let mut at = app.now();
    for _ in 0..12 {
        let next = schedule.next_monthly_after(at).ok()?;
        if !taken.contains(&next) {
            return Some(next);
        }
        at = next;
    }
    None
}

// ---------------------------------------------------------------- when a release leaves

/// A local date and time, read in a zone.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalTime {
    pub at: DateTime,
    /// Default: the release schedule's zone.
    pub zone: Option<TimeZone>,
}

/// When a release leaves, as a form or body gives it; the first given of these decides: an
/// instant, a month (for a monthly release: the schedule gives the instant), a local time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReleaseTime {
    pub at: Option<Timestamp>,
    /// (year, month); a month of an out-of-band release says nothing.
    pub month: Option<(i16, i8)>,
    pub local: Option<LocalTime>,
}

impl ReleaseTime {
    /// The field a problem with the resolved instant is reported under.
    fn field(&self) -> &'static str {
        if self.at.is_some() {
            "scheduled_at"
        } else if self.month.is_some() {
            "month"
        } else {
            "local_time"
        }
    }

    fn instant(&self, kind: ReleaseKind, schedule: &ReleaseSchedule) -> Result<Timestamp> {
        if let Some(at) = self.at {
            return Ok(at);
        }
        if kind == ReleaseKind::Monthly
            && let Some((year, month)) = self.month
        {
            return schedule
                .monthly_release(year, month)
                .map_err(|e| Error::renamed("month", &e));
        }
        if let Some(local) = &self.local {
            let zone = local
                .zone
                .clone()
                .unwrap_or_else(|| schedule.zone().clone());
            // A time in a DST gap moves forward, one in a fold takes the earlier instant.
            return local
                .at
                .to_zoned(zone)
                .map(|z| z.timestamp())
                .map_err(|e| Error::invalid("local_time", format!("local_time: {e}")));
        }
        Err(Error::invalid(
            "scheduled_at",
            if kind == ReleaseKind::Monthly {
                "scheduled_at: give the month (YYYY-MM) or the instant"
            } else {
                "scheduled_at: give the local date and time, or the instant"
            },
        ))
    }
}

// ---------------------------------------------------------------- planning and moving

/// Plans a release.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRelease {
    pub kind: ReleaseKind,
    /// Default (blank): "Monthly release YYYY-MM" or "Out-of-band release YYYY-MM-DD".
    pub title: String,
    pub time: ReleaseTime,
}

/// Plans a release. A monthly release falls on its month's instant; any release is in the
/// future.
pub async fn plan(app: &App, who: &Caller, cmd: PlanRelease) -> Result<Release> {
    who.require(Action::ViewAdvisories)?;
    who.require(Action::ManageReleases)?;
    let schedule = &app.config().publishing.schedule;
    let at = cmd.time.instant(cmd.kind, schedule)?;
    let title = if cmd.title.trim().is_empty() {
        let local = at.to_zoned(schedule.zone().clone());
        match cmd.kind {
            ReleaseKind::Monthly => {
                format!("Monthly release {:04}-{:02}", local.year(), local.month())
            }
            ReleaseKind::OutOfBand => format!("Out-of-band release {}", local.date()),
        }
    } else {
        cmd.title
    };
    if cmd.kind == ReleaseKind::Monthly {
        no_second_monthly(app, None, at, cmd.time.field()).await?;
    }
    let fx = app.effects(who);
    let release = Release::plan(cmd.kind, at, &title, schedule, fx.at)?;
    let change = Change::new(
        "release.planned",
        release.subject(),
        serde_json::Value::Null,
        json!({ "kind": cmd.kind, "scheduled_at": at, "title": release.title() }),
    );
    Ok(app
        .store()
        .create_release(&release, &fx.with_audit(change))
        .await?)
}

/// One train a month: a monthly release at an instant that has one already is refused.
async fn no_second_monthly(
    app: &App,
    except: Option<ReleaseId>,
    at: Timestamp,
    field: &'static str,
) -> Result<()> {
    // Releases are few (a dozen or two a year), so reading them all costs less than a query
    // of its own would be worth.
    let taken = app
        .store()
        .list_releases(true)
        .await?
        .into_iter()
        .find(|r| {
            r.kind() == ReleaseKind::Monthly && r.scheduled_at() == at && Some(r.id()) != except
        });
    match taken {
        Some(r) => Err(Error::invalid(
            field,
            format!(
                "{field}: that month's release is planned already (\"{}\")",
                r.title()
            ),
        )),
        None => Ok(()),
    }
}

/// Moves a planned release.
#[derive(Debug, Clone, PartialEq)]
pub struct Reschedule {
    pub release: ReleaseId,
    pub time: ReleaseTime,
    /// The release's revision the change is based on.
    pub revision: Option<i64>,
}

/// Moves a planned release; its advisories point to it and so move with it.
pub async fn reschedule(app: &App, who: &Caller, cmd: Reschedule) -> Result<Release> {
    who.require(Action::ViewAdvisories)?;
    let mut release = app.store().get_release(cmd.release).await?;
    who.require(Action::ManageReleases)?;
    expect_revision(release.revision, cmd.revision, CONFLICT_MESSAGE)?;
    let schedule = &app.config().publishing.schedule;
    let at = cmd.time.instant(release.kind(), schedule)?;
    if release.kind() == ReleaseKind::Monthly {
        no_second_monthly(app, Some(cmd.release), at, cmd.time.field()).await?;
    }
    let fx = app.effects(who);
    let change = release.reschedule(at, schedule, fx.at)?;
    app.store()
        .save_release(&release, &fx.with_audit(change))
        .await
        .map_err(|e| save_error(CONFLICT_MESSAGE, e))
}

/// A release an advisory may be planned for (named in a form or body): one that exists and
/// has not gone out.
pub(crate) async fn planned(app: &App, id: ReleaseId) -> Result<Release> {
    match app.store().get_release(id).await {
        Ok(r) if r.state() == ReleaseState::Planned => Ok(r),
        Ok(_) => Err(Error::invalid(
            "release",
            "release: that release has gone out; pick a planned one",
        )),
        Err(StoreError::NotFound) => Err(no_planned_release(id)),
        Err(e) => Err(e.into()),
    }
}

/// The answer to a form or body naming a release that does not exist.
pub fn no_planned_release(named: impl std::fmt::Display) -> Error {
    Error::invalid(
        "release",
        format!("release: there is no planned release {named}"),
    )
}

// ---------------------------------------------------------------- readiness

/// A release and every advisory planned for it, in any state (or, once it has gone out,
/// published in it), by tracking id, each with its readiness.
pub async fn readiness(
    app: &App,
    who: &Caller,
    id: ReleaseId,
) -> Result<(Release, Vec<(Advisory, Readiness)>)> {
    who.require(Action::ViewAdvisories)?;
    let release = app.store().get_release(id).await?;
    let planned = AdvisoryFilter {
        release: Some(id),
        limit: MAX_ADVISORIES,
        ..AdvisoryFilter::default()
    };
    let mut list = app.store().list_advisories(&planned).await?;
    if release.state() == ReleaseState::Published {
        // Publication clears an advisory's planned release; its versions remember it.
        let published = AdvisoryFilter {
            state: Some(AdvisoryState::Published),
            limit: MAX_ADVISORIES,
            ..AdvisoryFilter::default()
        };
        for a in app.store().list_advisories(&published).await? {
            if a.versions.iter().any(|v| v.release == id) && !list.iter().any(|b| b.id == a.id) {
                list.push(a);
            }
        }
    }
    list.sort_by(|a, b| a.tracking_id.cmp(&b.tracking_id));
    let readiness = crate::advisories::readiness(app, who, &list).await?;
    Ok((release, list.into_iter().zip(readiness).collect()))
}
