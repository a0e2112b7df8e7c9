//! The schedule's doors ([`keikai_app::schedule`]): a ticker that queues each tick's current
//! slot, and the handler through which the worker that claims a slot runs it. Every instance
//! runs the ticker; the slot's key lets one job in, and only the instance whose worker
//! claims it does the work.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keikai_app::schedule::{self, Ran, Tick};
use keikai_app::{App, Caller};
use keikai_store::Job;
use tokio::sync::watch;

use crate::worker::{Handler, JobError, RetryPolicy, Worker};

/// Runs a claimed slot as Keikai itself.
pub struct ScheduleHandler {
    app: App,
}

impl ScheduleHandler {
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

#[async_trait]
impl Handler for ScheduleHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        match schedule::run(&self.app, &Caller::system(), job).await? {
            Ran::Done => {}
            Ran::Skipped(why) => {
                tracing::debug!(kind = %job.kind, key = %job.key, why, "slot skipped")
            }
        }
        Ok(())
    }
}

/// Adds the handler of every tick to `worker`. A slot runs once: a failed one is not tried
/// again, since the next slot does the same work.
pub fn register(worker: Worker, app: &App) -> Worker {
    let once = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    let handler: Arc<dyn Handler> = Arc::new(ScheduleHandler::new(app.clone()));
    Tick::ALL.into_iter().fold(worker, |w, tick| {
        w.with_handler_and_policy(tick.kind(), handler.clone(), once)
    })
}

/// Queues the current slots every [`schedule::interval`] until `stop` says `true` (or its
/// sender is dropped).
pub async fn run_ticker(app: App, mut stop: watch::Receiver<bool>) {
    let every = schedule::interval(app.config())
        .unsigned_abs()
        .max(Duration::from_millis(50));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let system = Caller::system();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
                continue;
            }
        }
        if let Err(e) = schedule::enqueue(&app, &system).await {
            tracing::warn!(error = %e, "queueing the schedule's slots failed");
        }
    }
    tracing::debug!("schedule ticker stopped");
}
