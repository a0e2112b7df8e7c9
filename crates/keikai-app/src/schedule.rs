//! The schedule: Keikai's own recurring work, done once per slot however many instances run.
//!
//! Time is cut into slots per [`Tick`] (the publishing tick's slot is the configured poll
//! interval, housekeeping's ten minutes). Every instance queues the current slot of each tick
//! as a job whose key names the slot ([`enqueue`]); the key makes the second insert a no-op,
//! so each slot is one job, and the job worker that claims it runs it ([`run`]) through the
//! same use cases as everyone else, as [`Caller::system`]. An instance that does not hold
//! the claim does nothing: it builds and signs no file.
//!
//! A slot is skipped (not run) when a later one is already due — after an outage only the
//! latest runs — and when the previous slot's run still holds its lease, so that a long
//! publication is never started twice.

use jiff::{SignedDuration, Timestamp};
use keikai_domain::Action;
use keikai_store::{Job, JobFilter, JobState, NewJob};

use crate::{App, AppConfig, Caller, Error, Result, auth, distribution, partners, publishing};

/// The kinds of the schedule's jobs start with this.
pub const JOB_KIND_PREFIX: &str = "schedule.";

/// How long the schedule's finished jobs are kept (for the operator's eyes), then pruned.
const JOBS_KEPT: SignedDuration = SignedDuration::from_hours(24);

/// How often housekeeping runs.
const HOUSEKEEPING_EVERY: SignedDuration = SignedDuration::from_mins(10);

/// One kind of recurring work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Partner packages that are due, releases whose time has come, digests whose period
    /// ended.
    Publishing,
    /// Expired sessions, old sign-in failures and the schedule's own finished jobs.
    Housekeeping,
}

impl Tick {
    pub const ALL: [Self; 2] = [Self::Publishing, Self::Housekeeping];

    /// The job kind its slots are queued as.
    pub const fn kind(self) -> &'static str {
        match self {
            Self::Publishing => "schedule.publishing",
            Self::Housekeeping => "schedule.housekeeping",
        }
    }

    pub fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.kind() == kind)
    }

    /// The length of its slots (at least one second).
    pub fn period(self, config: &AppConfig) -> SignedDuration {
        let period = match self {
            Self::Publishing => config.publishing.poll_interval,
            Self::Housekeeping => HOUSEKEEPING_EVERY,
        };
        period.max(SignedDuration::from_secs(1))
    }

    /// The number of the slot `at` falls in (slots count from the Unix epoch).
    pub fn slot(self, config: &AppConfig, at: Timestamp) -> i64 {
        at.as_second()
            .div_euclid(self.period(config).as_secs().max(1))
    }
}

/// The shortest slot: how often an instance should call [`enqueue`].
pub fn interval(config: &AppConfig) -> SignedDuration {
    Tick::ALL
        .into_iter()
        .map(|t| t.period(config))
        .min()
        .unwrap_or(HOUSEKEEPING_EVERY)
}

/// Queues the current slot of every tick; returns how many were new (0 when another
/// instance queued them first).
pub async fn enqueue(app: &App, who: &Caller) -> Result<u64> {
    who.require(Action::RunSchedule)?;
    let config = app.config();
    let fx = app.effects(who);
    let jobs = Tick::ALL.map(|tick| {
        let slot = tick.slot(config, fx.at);
        let starts = Timestamp::from_second(slot * tick.period(config).as_secs()).unwrap_or(fx.at);
        NewJob::new(
            tick.kind(),
            format!("{}:{slot}", tick.kind()),
            serde_json::json!({ "slot": slot }),
            starts,
        )
    });
    Ok(app.store().commit(&fx.with_jobs(jobs)).await?)
}

/// What running a slot came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// The tick's work was done.
    Done,
    /// Nothing was done, for this reason.
    Skipped(&'static str),
}

/// Runs the slot `job` stands for (the job worker holds it). Each part of the tick runs even
/// when an earlier one failed; the first failure is returned after all have run.
pub async fn run(app: &App, who: &Caller, job: &Job) -> Result<Ran> {
    who.require(Action::RunSchedule)?;
    let tick = Tick::from_kind(&job.kind).ok_or_else(|| Error::Invalid {
        field: "kind".to_owned(),
        message: format!("\"{}\" is not one of the schedule's ticks", job.kind),
    })?;
    let slot = job
        .payload
        .get("slot")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| Error::Invalid {
            field: "slot".to_owned(),
            message: "the schedule's job names no slot".to_owned(),
        })?;
    let now = app.now();
    if slot + 1 < tick.slot(app.config(), now) {
        return Ok(Ran::Skipped("a later slot is due"));
    }
    if previous_still_running(app, tick, job, now).await? {
        return Ok(Ran::Skipped("the previous slot is still running"));
    }
    let results = match tick {
        Tick::Publishing => publishing_tick(app, who).await,
        Tick::Housekeeping => housekeeping_tick(app, who, now).await,
    };
    results
        .into_iter()
        .find_map(Result::err)
        .map_or(Ok(Ran::Done), Err)
}

/// Whether another slot of `tick` is running under a lease that has not run out.
async fn previous_still_running(app: &App, tick: Tick, job: &Job, now: Timestamp) -> Result<bool> {
    let running = app
        .store()
        .list_jobs(&JobFilter {
            kind_prefix: Some(tick.kind().to_owned()),
            state: Some(JobState::Running),
            limit: 16,
        })
        .await?;
    Ok(running
        .iter()
        .any(|j| j.id != job.id && j.kind == job.kind && j.locked_until.is_some_and(|u| u > now)))
}

/// Partners' packages first: at a release's time its last tier is due as well.
async fn publishing_tick(app: &App, who: &Caller) -> Vec<Result<()>> {
    let packages = partners::deliver_due_packages(app, who).await;
    if let Err(e) = &packages {
        tracing::error!(error = %e, "delivering partner packages failed");
    }
    let releases = publishing::publish_due(app, who).await;
    if let Err(e) = &releases {
        tracing::error!(error = %e, "publishing due releases failed");
    }
    let digests = distribution::enqueue_due_digests(app, who).await;
    if let Err(e) = &digests {
        tracing::error!(error = %e, "queueing digests failed");
    }
    vec![packages.map(drop), releases.map(drop), digests.map(drop)]
}

async fn housekeeping_tick(app: &App, who: &Caller, now: Timestamp) -> Vec<Result<()>> {
    let swept = auth::housekeeping(app, who).await;
    match &swept {
        Ok(s) => tracing::debug!(
            sessions = s.sessions,
            failures = s.failed_sign_ins,
            "housekeeping removed expired rows"
        ),
        Err(e) => tracing::warn!(error = %e, "removing expired sessions failed"),
    }
    let before = now.checked_sub(JOBS_KEPT).unwrap_or(now);
    let pruned = app
        .store()
        .prune_jobs(JOB_KIND_PREFIX, before)
        .await
        .map_err(Error::from);
    if let Err(e) = &pruned {
        tracing::warn!(error = %e, "pruning the schedule's jobs failed");
    }
    vec![swept.map(drop), pruned.map(drop)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_period() {
        let mut config = AppConfig::default();
        config.publishing.poll_interval = SignedDuration::from_secs(10);
        let at = Timestamp::from_second(1_000_005).unwrap();
        assert_eq!(Tick::Publishing.slot(&config, at), 100_000);
        assert_eq!(Tick::Housekeeping.slot(&config, at), 1_000_005 / 600);
        assert_eq!(interval(&config), SignedDuration::from_secs(10));
        // A period under a second (tests) still makes slots of a second.
        config.publishing.poll_interval = SignedDuration::from_millis(50);
        assert_eq!(Tick::Publishing.slot(&config, at), 1_000_005);
    }

    #[test]
    fn kinds_round_trip() {
        for tick in Tick::ALL {
            assert_eq!(Tick::from_kind(tick.kind()), Some(tick));
            assert!(tick.kind().starts_with(JOB_KIND_PREFIX));
        }
        assert_eq!(Tick::from_kind("mail"), None);
    }
}
