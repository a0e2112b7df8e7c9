//! The schedule, for now: every `poll_interval` this instance delivers the partner packages
//! that are due, publishes the releases whose time has come and queues the digests whose
//! period ended, as Keikai itself ([`Caller::system`]). (A temporary home: the schedule is to
//! become claimed jobs, so that one instance does each tick.)

use keikai_app::Caller;

use crate::http::state::AppState;

/// Runs the schedule until the process ends.
pub async fn run_scheduler(state: AppState) {
    let every = state
        .app
        .config()
        .publishing
        .poll_interval
        .unsigned_abs()
        .max(std::time::Duration::from_millis(50));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let system = Caller::system();
    loop {
        tick.tick().await;
        // Partners' packages first: at a release's time its last tier is due as well.
        if let Err(e) = keikai_app::partners::deliver_due_packages(&state.app, &system).await {
            tracing::error!(error = %e, "delivering partner packages failed");
        }
        if let Err(e) = keikai_app::publishing::publish_due(&state.app, &system).await {
            tracing::error!(error = %e, "publishing due releases failed");
        }
        if let Err(e) = keikai_app::distribution::enqueue_due_digests(&state.app, &system).await {
            tracing::error!(error = %e, "queueing digests failed");
        }
    }
}
