//! The worker: claims due jobs of the kinds it has handlers for, runs them concurrently and
//! records each outcome.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use keikai_domain::Clock;
use keikai_domain::JobId;
use keikai_store::{Job, JobStore, StoreError};
use tokio::sync::watch;

/// Why a run failed, and whether another run may succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Try again later (a relay answered 4xx, a connection failed, a timeout).
    #[error("{0}")]
    Retryable(String),
    /// Another run would fail the same way (a rejected recipient, a payload that cannot be
    /// read): the job dies at once.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    pub fn retryable(why: impl Display) -> Self {
        Self::Retryable(why.to_string())
    }

    pub fn permanent(why: impl Display) -> Self {
        Self::Permanent(why.to_string())
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// Does the work of one job kind. A handler may run more than once for one job (see the
/// crate documentation), and should finish well within `WorkerConfig::handler_timeout`.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn run(&self, job: &Job) -> Result<(), JobError>;
}

/// When a failed job runs again: `base`, then twice as long after each further failure, at
/// most `cap`; after `max_attempts` runs it is dead. No jitter: jobs that failed together
/// because a relay was down are few, and the same times keep tests exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: SignedDuration,
    pub cap: SignedDuration,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min, … up to 1 h between runs; ten runs (about five hours) in all.
    fn default() -> Self {
        Self {
            base: SignedDuration::from_secs(30),
            cap: SignedDuration::from_hours(1),
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempt`-th run failed (1 for the first run).
    pub fn delay(&self, attempt: u32) -> SignedDuration {
        // 2^30 is the largest power of two an i32 holds; by then any base is past any cap.
        let factor = 1i32 << attempt.saturating_sub(1).min(30);
        self.base
            .checked_mul(factor)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// When to run again after the `attempt`-th run failed; `None` when no runs are left.
    pub fn retry_at(&self, attempt: u32, now: Timestamp) -> Option<Timestamp> {
        if attempt >= self.max_attempts {
            return None;
        }
        Some(now.saturating_add(self.delay(attempt)).unwrap_or(now))
    }
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Recorded in `jobs.locked_by`; unique per process, so that a worker that lost a job to
    /// another cannot complete it.
    pub name: String,
    /// The most jobs claimed (and run concurrently) at once.
    pub batch_size: u32,
    /// A handler still running after this long is stopped and its job retried. The lease
    /// is longer (see [`WorkerConfig::lease`]), so no other worker takes a job while its
    /// handler may still run.
    pub handler_timeout: Duration,
    /// How long `run` waits when nothing was due.
    pub poll_interval: Duration,
    /// The retry policy of kinds registered without their own.
    pub retry: RetryPolicy,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            name: default_name(),
            batch_size: 10,
            handler_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_secs(1),
            retry: RetryPolicy::default(),
        }
    }
}

/// Time for the store round trips around a handler, on top of its timeout; at most the
/// timeout itself, so that a short timeout (seconds) gives a short lease and a job of a
/// worker that died is taken over soon.
const LEASE_MARGIN: Duration = Duration::from_secs(60);

impl WorkerConfig {
    /// How long a claimed job stays with this worker: the handler's timeout plus a margin.
    pub fn lease(&self) -> SignedDuration {
        let margin = LEASE_MARGIN.min(self.handler_timeout);
        SignedDuration::try_from(self.handler_timeout.saturating_add(margin))
            .unwrap_or(SignedDuration::MAX)
    }
}

/// `HOST-PID-RANDOM`: readable in the jobs table, and unique even when two processes on one
/// host get the same pid in turn.
fn default_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "keikai".to_owned());
    // A v7 UUID ends in random bits (its start is the time).
    let random = uuid::Uuid::now_v7().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &random[24..])
}

/// What one `run_once` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    pub claimed: usize,
    pub done: usize,
    /// Failed, queued to run again.
    pub retried: usize,
    /// Failed for good (permanently, or out of attempts).
    pub dead: usize,
    /// Finished, but the outcome was not recorded: the lease had passed to another worker,
    /// or the database was unreachable (the job then runs again when its lease runs out).
    pub lost: usize,
}

#[derive(Clone)]
struct Registered {
    handler: Arc<dyn Handler>,
    retry: RetryPolicy,
}

/// Runs the jobs of the kinds registered with it.
pub struct Worker {
    store: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
    handlers: BTreeMap<String, Registered>,
}

/// Error texts are kept in `jobs.last_error`; a relay's answer fits easily.
const MAX_ERROR_CHARS: usize = 2000;

impl Worker {
    pub fn new(store: Arc<dyn JobStore>, clock: Arc<dyn Clock>, config: WorkerConfig) -> Self {
        Self {
            store,
            clock,
            config,
            handlers: BTreeMap::new(),
        }
    }

    /// Runs jobs of `kind` with `handler`, retried by the worker's policy.
    pub fn with_handler(self, kind: impl Into<String>, handler: Arc<dyn Handler>) -> Self {
        let retry = self.config.retry;
        self.with_handler_and_policy(kind, handler, retry)
    }

    pub fn with_handler_and_policy(
        mut self,
        kind: impl Into<String>,
        handler: Arc<dyn Handler>,
        retry: RetryPolicy,
    ) -> Self {
        self.handlers
            .insert(kind.into(), Registered { handler, retry });
        self
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The kinds this worker runs.
    pub fn kinds(&self) -> Vec<&str> {
        self.handlers.keys().map(String::as_str).collect()
    }

    /// Claims what is due now (at most a batch), runs it concurrently and records each
    /// outcome. Fails only when the claim itself fails.
    pub async fn run_once(&self) -> Result<RunStats, StoreError> {
        let kinds = self.kinds();
        let jobs = self
            .store
            .claim_jobs(
                &self.config.name,
                &kinds,
                self.clock.now(),
                self.config.lease(),
                self.config.batch_size,
            )
            .await?;
        let mut stats = RunStats {
            claimed: jobs.len(),
            ..RunStats::default()
        };
        let mut running = tokio::task::JoinSet::new();
        for job in jobs {
            let Some(registered) = self.handlers.get(&job.kind).cloned() else {
                // The claim asked for registered kinds only.
                continue;
            };
            if job.attempts > registered.retry.max_attempts {
                // Claimed again and again without an outcome: its runs keep stopping the
                // worker (a crash, a kill), so another run would too.
                let why = format!(
                    "gave up: claimed {} times without finishing (the worker stopped while \
                     running it)",
                    job.attempts
                );
                self.record_failure(
                    &job,
                    JobError::Permanent(why),
                    &registered.retry,
                    &mut stats,
                )
                .await;
                continue;
            }
            let timeout = self.config.handler_timeout;
            running.spawn(async move {
                let outcome = run_handler(registered.handler, job.clone(), timeout).await;
                (job, registered.retry, outcome)
            });
        }
        // Jobs that succeeded are marked done as soon as they finish, those finishing
        // together in one write. Waiting for the whole batch would leave a sent plain mail
        // unrecorded for as long as the batch's slowest job runs, and a stop then sends it
        // again.
        while let Some(first) = running.join_next().await {
            let mut finished = vec![first];
            while let Some(more) = running.try_join_next() {
                finished.push(more);
            }
            let mut done = Vec::new();
            for f in finished {
                match f {
                    Ok((job, _, Ok(()))) => {
                        tracing::debug!(kind = %job.kind, key = %job.key, "job done");
                        done.push(job);
                    }
                    Ok((job, retry, Err(e))) => {
                        self.record_failure(&job, e, &retry, &mut stats).await;
                    }
                    // `run_handler` catches the handler's panics; this task only awaits it.
                    Err(e) => {
                        stats.lost += 1;
                        tracing::error!(error = %e, "a job's task failed");
                    }
                }
            }
            self.complete(&done, &mut stats).await;
        }
        Ok(stats)
    }

    async fn complete(&self, done: &[Job], stats: &mut RunStats) {
        if done.is_empty() {
            return;
        }
        let ids: Vec<JobId> = done.iter().map(|j| j.id).collect();
        let worker = self.config.name.as_str();
        match self
            .store
            .complete_jobs(&ids, worker, self.clock.now())
            .await
        {
            Ok(n) => {
                let n = usize::try_from(n).unwrap_or(done.len()).min(done.len());
                stats.done += n;
                stats.lost += done.len() - n;
                if n < done.len() {
                    tracing::warn!(
                        worker,
                        lost = done.len() - n,
                        "jobs finished after their lease passed to another worker"
                    );
                }
            }
            Err(e) => {
                stats.lost += done.len();
                tracing::warn!(error = %e, jobs = done.len(), "the jobs' outcomes were not recorded");
            }
        }
    }

    async fn record_failure(
        &self,
        job: &Job,
        e: JobError,
        retry: &RetryPolicy,
        stats: &mut RunStats,
    ) {
        let now = self.clock.now();
        let permanent = e.is_permanent();
        let mut why = truncate(&e.to_string());
        let retry_at = if permanent {
            None
        } else {
            retry.retry_at(job.attempts, now)
        };
        if retry_at.is_none() && !permanent {
            why = format!("{why} (gave up after {} attempts)", job.attempts);
        }
        match retry_at {
            Some(at) => tracing::warn!(
                kind = %job.kind, key = %job.key, attempt = job.attempts, retry_at = %at,
                error = %why, "job failed; it will run again"
            ),
            None => tracing::error!(
                kind = %job.kind, key = %job.key, attempt = job.attempts,
                error = %why, "job failed for good"
            ),
        }
        let worker = self.config.name.as_str();
        match self
            .store
            .fail_job(job.id, worker, &why, retry_at, now)
            .await
        {
            Ok(()) if retry_at.is_some() => stats.retried += 1,
            Ok(()) => stats.dead += 1,
            Err(e) => {
                stats.lost += 1;
                tracing::warn!(
                    kind = %job.kind, key = %job.key, error = %e,
                    "the job's outcome was not recorded"
                );
            }
        }
    }

    /// Runs due jobs until `stop` says `true` (or its sender is dropped), then returns once
    /// the jobs in hand are recorded. Waits `poll_interval` when nothing was due, and goes
    /// on at once after a full batch. Returns at once when no handler is registered.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) {
        if self.handlers.is_empty() {
            return;
        }
        tracing::info!(worker = %self.config.name, kinds = ?self.kinds(), "job worker started");
        loop {
            if *stop.borrow_and_update() {
                break;
            }
            let full = match self.run_once().await {
                Ok(stats) => stats.claimed >= self.config.batch_size as usize,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming jobs failed");
                    false
                }
            };
            if full {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.config.poll_interval) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::info!(worker = %self.config.name, "job worker stopped");
    }
}

/// Runs a handler on a task of its own, so that a panic or a timeout becomes a retryable
/// failure of this job rather than of the worker.
async fn run_handler(
    handler: Arc<dyn Handler>,
    job: Job,
    timeout: Duration,
) -> Result<(), JobError> {
    let mut task = tokio::spawn(async move { handler.run(&job).await });
    match tokio::time::timeout(timeout, &mut task).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) if e.is_panic() => Err(JobError::Retryable(format!(
            "the handler panicked: {}",
            panic_message(e.into_panic())
        ))),
        Ok(Err(e)) => Err(JobError::Retryable(format!(
            "the handler was cancelled: {e}"
        ))),
        Err(_) => {
            task.abort();
            Err(JobError::Retryable(format!(
                "the handler did not finish within {} s",
                timeout.as_secs_f64()
            )))
        }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_ERROR_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            base: SignedDuration::from_secs(30),
            cap: SignedDuration::from_mins(10),
            max_attempts: 8,
        };
        let delays: Vec<i64> = (1..=7).map(|a| p.delay(a).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 600, 600]);
        // Huge attempt counts neither overflow nor go past the cap.
        assert_eq!(p.delay(u32::MAX), p.cap);
        assert_eq!(p.delay(0), p.base);
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(
            p.retry_at(2, now),
            Some(now + SignedDuration::from_secs(60))
        );
        assert_eq!(
            p.retry_at(7, now),
            Some(now + SignedDuration::from_mins(10))
        );
        assert_eq!(p.retry_at(8, now), None, "the eighth run was the last");
    }

    #[test]
    fn the_lease_outlasts_the_handler() {
        let c = WorkerConfig {
            handler_timeout: Duration::from_secs(120),
            ..WorkerConfig::default()
        };
        assert!(c.lease() > SignedDuration::from_secs(120));
        assert!(WorkerConfig::default().name != WorkerConfig::default().name);
    }

    #[test]
    fn long_errors_are_cut() {
        let long = "警".repeat(MAX_ERROR_CHARS + 5);
        let cut = truncate(&long);
        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS + 1);
        assert_eq!(truncate("short"), "short");
    }
}
