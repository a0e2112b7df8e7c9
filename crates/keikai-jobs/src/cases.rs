//! Case work's job handler: the door through which the worker brings a case up to date with
//! a publication of its advisory ([`keikai_app::cases::follow_publication`]), as Keikai
//! itself.

use async_trait::async_trait;
use keikai_app::outbox::PublicationFollowUp;
use keikai_app::{App, Caller, cases};
use keikai_store::Job;

use crate::distribution::payload;
use crate::worker::{Handler, JobError};

/// Runs a [`PublicationFollowUp`]; a repeated run changes nothing.
pub struct FollowUpHandler {
    app: App,
}

impl FollowUpHandler {
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

#[async_trait]
impl Handler for FollowUpHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let follow_up: PublicationFollowUp = payload(job, "a publication follow-up")?;
        cases::follow_publication(&self.app, &Caller::system(), &follow_up).await?;
        Ok(())
    }
}
