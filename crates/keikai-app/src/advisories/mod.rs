//! Advisories: drafts written from cases, translated, reviewed (four eyes) and scheduled into
//! a release. Drafts are embargoed: only the PSIRT sees them before publication.
//!
//! Every use case first asks for `ViewAdvisories`, so that anyone but the PSIRT gets "not
//! found" and an anonymous caller is asked to sign in before anything is looked up. A change
//! then asks for `EditAdvisory` ([`Loaded`]), applies the domain operation and saves the
//! advisory with the audit entry the operation returned, in one transaction. Saves are
//! optimistic: a form carries the revision it was rendered at, and an advisory saved since is
//! refused with a conflict that asks to reload.

mod editing;
mod review;
mod schedule;
mod views;

use jiff::Timestamp;
use keikai_domain::advisory::publication::ProductNames;
use keikai_domain::advisory::{Advisory, AdvisoryState, Readiness};
use keikai_domain::audit::Change;
use keikai_domain::{Action, AdvisoryId, CaseId, DomainError, UserId, VulnerabilityId};
use keikai_store::{AdvisoryFilter, Effects, StoreError};

pub use editing::*;
pub use review::*;
pub use schedule::*;
pub use views::*;

use crate::error::{expect_revision, save_error};
use crate::{App, Caller, Error, Result};

/// What a save refused for a stale revision answers.
pub const CONFLICT_MESSAGE: &str =
    "the advisory changed since you loaded it; reload it and make your change again";

/// How many advisories a list page shows.
pub const PAGE_SIZE: u32 = 50;

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

/// An advisory loaded for a change: the caller may edit it (and is the editor the domain
/// records), and [`Loaded::save`] writes it with its audit entry.
pub(crate) struct Loaded {
    pub advisory: Advisory,
    pub editor: UserId,
    pub fx: Effects,
}

impl Loaded {
    pub async fn load(app: &App, who: &Caller, key: &str) -> Result<Self> {
        let advisory = load(app, who, key).await?;
        let editor = who.require_user(Action::EditAdvisory)?.user_id;
        Ok(Self {
            advisory,
            editor,
            fx: app.effects(who),
        })
    }

    /// Refuses a change based on another revision than the one loaded (after the command
    /// found what it names, so that a missing thing is "not found" first).
    pub fn expect(&self, revision: Option<i64>) -> Result<()> {
        expect_revision(self.advisory.revision, revision, CONFLICT_MESSAGE)
    }

    /// When the change happens.
    pub fn at(&self) -> Timestamp {
        self.fx.at
    }

    /// A vulnerability of the advisory that exists, or "not found".
    pub fn vulnerability(&self, id: VulnerabilityId) -> Result<VulnerabilityId> {
        if self
            .advisory
            .content
            .vulnerabilities
            .iter()
            .any(|v| v.id == id)
        {
            Ok(id)
        } else {
            Err(Error::NotFound)
        }
    }

    /// The whole of a simple change: loads the advisory, refuses a stale `revision`, applies
    /// `op` (a domain operation, given the editor and the time) and saves.
    pub async fn apply(
        app: &App,
        who: &Caller,
        key: &str,
        revision: Option<i64>,
        op: impl FnOnce(&mut Advisory, UserId, Timestamp) -> Result<Change, DomainError>,
    ) -> Result<Advisory> {
        let mut c = Self::load(app, who, key).await?;
        c.expect(revision)?;
        let at = c.at();
        let change = op(&mut c.advisory, c.editor, at)?;
        c.save(app, change).await
    }

    /// Saves the advisory with `change` in one transaction; a stale revision is a conflict.
    pub async fn save(self, app: &App, change: Change) -> Result<Advisory> {
        app.store()
            .save_advisory(&self.advisory, &self.fx.with_audit(change))
            .await
            .map_err(|e| save_error(CONFLICT_MESSAGE, e))
    }
}

// ---------------------------------------------------------------- lists

/// Which advisories a list shows; the door parses these from a query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub state: Option<AdvisoryState>,
    /// Text to search for in the tracking id and the text of either language.
    pub text: Option<String>,
    /// From 1.
    pub page: u32,
}

/// One page of advisories, newest change first, and whether more follow.
pub async fn list(app: &App, who: &Caller, query: &ListQuery) -> Result<(Vec<Advisory>, bool)> {
    who.require(Action::ViewAdvisories)?;
    let page = query.page.max(1);
    let filter = AdvisoryFilter {
        state: query.state,
        text: crate::cases::search_text(query.text.as_deref())?,
        // One more than a page tells whether there is a next one.
        limit: PAGE_SIZE + 1,
        offset: (page - 1).saturating_mul(PAGE_SIZE),
        ..AdvisoryFilter::default()
    };
    let mut rows = app.store().list_advisories(&filter).await?;
    let more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    Ok((rows, more))
}

/// The readiness of each advisory: its review and translations, and what would stop it at
/// publication now (publication's own checks, run without signing), so that an advisory
/// shown ready is one that publishes. A published advisory with no pending revision has
/// nothing to check.
pub async fn readiness(app: &App, who: &Caller, advisories: &[Advisory]) -> Result<Vec<Readiness>> {
    who.require(Action::ViewAdvisories)?;
    let products = ProductNames::from_branches(&app.store().list_branches().await?);
    let publishing = &app.config().publishing;
    let (publisher, languages) = (&publishing.publisher, &publishing.languages);
    let at = app.now();
    Ok(advisories
        .iter()
        .map(|a| {
            let blocker = (a.state != AdvisoryState::Published)
                .then(|| crate::publishing::blocker(a, languages, &products, publisher, at))
                .flatten();
            a.readiness(blocker)
        })
        .collect())
}

/// The readiness of one advisory (see [`readiness`]).
pub async fn readiness_of(app: &App, who: &Caller, advisory: &Advisory) -> Result<Readiness> {
    let mut one = readiness(app, who, std::slice::from_ref(advisory)).await?;
    one.pop()
        .ok_or_else(|| Error::Internal("no readiness for the advisory".to_owned()))
}

/// The advisory made from a case, if there is one.
pub(crate) async fn for_case(app: &App, case: CaseId) -> Result<Option<Advisory>> {
    let filter = AdvisoryFilter {
        case: Some(case),
        limit: 1,
        ..AdvisoryFilter::default()
    };
    Ok(app
        .store()
        .list_advisories(&filter)
        .await?
        .into_iter()
        .next())
}
