//! Publishing: when a release's time comes, every approved advisory scheduled for it becomes
//! its next version, and the version's files are written once: the CSAF document with its
//! `.sha256`, `.sha512` and OpenPGP `.asc`, the HTML bulletin in each language, and a CVE
//! JSON 5 record per CVE ([`artifacts`]).
//!
//! Exactly once, also with several instances: the files are made first, outside any
//! transaction; the store then moves the release from planned to published, saves the
//! advisories and writes the files in one transaction that only the first instance to read
//! the release can commit (the others get a conflict and drop what they made). The fan-outs
//! announcing the publication, and the follow-up of each advisory's case
//! ([`crate::cases::follow_publication`]), commit with it.
//!
//! An advisory whose files cannot all be made (its content does not make a valid document,
//! or a file fails to serialize or render) is left out of the release with the reason in the
//! [`Outcome`], as a draft that is no longer approved is; the rest of the release goes out.
//! Nothing of the advisory left out is stored, so no partial or empty file is ever kept.

mod artifacts;
mod bulletin;
mod signing_key;

use keikai_domain::advisory::publication::ProductNames;
use keikai_domain::advisory::{Advisory, AdvisoryState, ReviewState};
use keikai_domain::{Action, ReleaseId};
use keikai_store::{AdvisoryFilter, StoreError};

pub use artifacts::{ArtifactError, artifacts, blocker, csaf_file_name, html_file_name};
pub use signing_key::{KEY_SETTING, import_key, provider_key};

use crate::{App, Caller, Error, Result, releases};

/// What a publication did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub published: Vec<Published>,
    /// Advisories planned for the release that were not published, with the reason.
    pub skipped: Vec<Skipped>,
}

/// An advisory version that went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub tracking_id: String,
    pub version: u32,
}

/// An advisory planned for the release that did not go out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub tracking_id: String,
    pub reason: String,
}

/// Publishes a release now: every advisory scheduled for it and still approved gets its next
/// version. A conflict when it has gone out already (here or on another instance).
pub async fn publish_release(app: &App, who: &Caller, id: ReleaseId) -> Result<Outcome> {
    who.require(Action::ManageReleases)?;
    let store = app.store();
    let mut release = store.get_release(id).await?;
    let planned = store
        .list_advisories(&AdvisoryFilter {
            release: Some(id),
            limit: releases::MAX_ADVISORIES,
            ..AdvisoryFilter::default()
        })
        .await?;
    let products = ProductNames::from_branches(&store.list_branches().await?);
    let key = provider_key(app).await?;
    tracing::info!(
        release = %id,
        advisories = planned.len(),
        "building and signing the files of a release"
    );
    let publisher = &app.config().publishing.publisher;
    let mut fx = app.effects(who);
    let now = fx.at;
    fx.audit.push(
        release
            .mark_published(now)
            .map_err(|_| Error::conflict("the release has gone out already"))?,
    );
    let mut outcome = Outcome::default();
    let mut batch = Vec::new();
    for mut advisory in planned {
        let tracking_id = advisory.tracking_id.clone();
        if advisory.state != AdvisoryState::Scheduled
            || advisory.review_state() != ReviewState::Approved
        {
            outcome.skipped.push(Skipped {
                tracking_id,
                reason: "not approved in its current edit (changed after scheduling?)".to_owned(),
            });
            continue;
        }
        if let Err(e) = advisory.check_languages(&app.config().publishing.languages) {
            outcome.skipped.push(Skipped {
                tracking_id,
                reason: e.to_string(),
            });
            continue;
        }
        let change = match advisory.publish(id, now) {
            Ok(c) => c,
            Err(e) => {
                outcome.skipped.push(Skipped {
                    tracking_id,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let Some(version) = advisory.latest_version().cloned() else {
            continue;
        };
        match artifacts(&advisory, &version, &products, publisher, &key) {
            Ok(files) => {
                outcome.published.push(Published {
                    tracking_id,
                    version: version.number,
                });
                fx.audit.push(change);
                batch.push((advisory, files));
            }
            Err(e) => {
                match &e {
                    ArtifactError::File { file, reason } => tracing::error!(
                        advisory = %tracking_id, %file, %reason,
                        "a file of the advisory could not be made; it is not published"
                    ),
                    ArtifactError::Invalid(e) => tracing::warn!(
                        advisory = %tracking_id, error = %e, "advisory not published"
                    ),
                }
                outcome.skipped.push(Skipped {
                    tracking_id,
                    reason: e.to_string(),
                });
            }
        }
    }
    // The distribution of what goes out commits with it (the outbox); the fan-outs run
    // after this returns.
    let published: Vec<&Advisory> = batch.iter().map(|(a, _)| a).collect();
    let mut jobs =
        crate::distribution::publication_jobs(app, &release, &published, &products, now)?;
    // Each case follows its advisory (state, clocks, the reporter told), as Keikai itself.
    jobs.extend(crate::cases::follow_up_jobs(&published, now)?);
    match store
        .publish_release(&release, &batch, &fx.with_jobs(jobs))
        .await
    {
        Ok(()) => {
            tracing::info!(
                release = %id,
                published = outcome.published.len(),
                skipped = outcome.skipped.len(),
                "release published"
            );
            Ok(outcome)
        }
        Err(StoreError::Conflict(_)) => Err(Error::conflict(
            "the release has gone out already (published by another instance or request)",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Publishes every release whose time has come (what the schedule runs).
pub async fn publish_due(app: &App, who: &Caller) -> Result<Vec<(ReleaseId, Outcome)>> {
    who.require(Action::ManageReleases)?;
    let due = app.store().due_releases(app.now()).await?;
    let mut done = Vec::new();
    for release in due {
        match publish_release(app, who, release.id()).await {
            Ok(outcome) => done.push((release.id(), outcome)),
            // Another instance was quicker: nothing to do.
            Err(e) if e.is_conflict() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
