//! The four eyes: reviews of the current edit (an author cannot approve their own draft), and
//! opening a published advisory for its next version.

use keikai_domain::advisory::{Advisory, Verdict};

use super::Loaded;
use crate::{App, Caller, Result};

/// A review of the advisory's current edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub advisory: String,
    pub verdict: Verdict,
    /// Required for a comment or a request for changes.
    pub text: String,
    pub revision: Option<i64>,
}

pub async fn review(app: &App, who: &Caller, cmd: Review) -> Result<Advisory> {
    Loaded::apply(app, who, &cmd.advisory, cmd.revision, |a, reviewer, at| {
        a.review(reviewer, cmd.verdict, &cmd.text, at)
    })
    .await
}

/// Opens a published advisory for its next version; `summary` says what it changes, for the
/// revision history.
pub async fn start_revision(
    app: &App,
    who: &Caller,
    advisory: &str,
    summary: &str,
    revision: Option<i64>,
) -> Result<Advisory> {
    Loaded::apply(app, who, advisory, revision, |a, editor, at| {
        a.start_revision(summary, editor, at)
    })
    .await
}
