//! Advisories: drafts written from cases, translated, reviewed (four eyes) and scheduled into
//! a release. Drafts are embargoed: only the PSIRT sees them before publication.

use keikai_domain::advisory::Advisory;
use keikai_domain::{Action, AdvisoryId};
use keikai_store::StoreError;

use crate::{App, Caller, Result};

/// Loads an advisory the caller may see, by id or by tracking id (what people quote). The
/// policy is asked before the key is read, so a malformed key says nothing.
pub async fn load(app: &App, who: &Caller, key: &str) -> Result<Advisory> {
    who.require(Action::ViewAdvisories)?;
    let found = match key.parse::<AdvisoryId>() {
        Ok(id) => app.store().get_advisory(id).await,
        Err(_) if (5..=40).contains(&key.len()) => app.store().advisory_by_tracking_id(key).await,
        Err(_) => Err(StoreError::NotFound),
    };
    Ok(found?)
}
