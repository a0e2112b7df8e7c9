//! What operators ask of a running Keikai: whether it is ready to serve, and how its job
//! queue stands (for the metrics an administrator's scraper reads).

use keikai_domain::Action;
use keikai_store::JobCounts;

use crate::{App, Caller, Error, Result};

/// Whether the database answers. Anyone may ask (a load balancer, an orchestrator).
pub async fn ready(app: &App) -> Result<()> {
    app.store().ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        Error::Unavailable("the database is unavailable".to_owned())
    })
}

/// How many jobs of the outbox are queued, running, done and dead. For administrators only;
/// anyone else is told that there is nothing here (metrics are not a page to sign in for).
pub async fn job_counts(app: &App, who: &Caller) -> Result<JobCounts> {
    who.require(Action::ViewMetrics)
        .map_err(|_| Error::NotFound)?;
    Ok(app.store().count_jobs_by_state(None).await?)
}
