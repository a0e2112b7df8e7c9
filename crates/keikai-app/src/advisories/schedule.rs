//! Planning an approved advisory for a release, and taking it out again.

use keikai_domain::ReleaseId;
use keikai_domain::advisory::Advisory;

use super::Loaded;
use crate::{App, Caller, Result, releases};

/// Plans the approved advisory for a planned release.
pub async fn schedule(
    app: &App,
    who: &Caller,
    advisory: &str,
    release: ReleaseId,
    revision: Option<i64>,
) -> Result<Advisory> {
    let mut c = Loaded::load(app, who, advisory).await?;
    c.expect(revision)?;
    releases::planned(app, release).await?;
    let change = c.advisory.schedule(release, c.at())?;
    c.save(app, change).await
}

/// Takes the advisory out of its release.
pub async fn unschedule(
    app: &App,
    who: &Caller,
    advisory: &str,
    revision: Option<i64>,
) -> Result<Advisory> {
    Loaded::apply(app, who, advisory, revision, |a, _, at| a.unschedule(at)).await
}
