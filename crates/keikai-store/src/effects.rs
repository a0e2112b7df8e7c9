//! The unit of work's side effects: what a write brings with it and commits in the same
//! transaction as its state change.
//!
//! Every write method of the store takes an [`Effects`] as its last argument (and
//! [`AuditStore::commit`](crate::AuditStore::commit) writes one on its own), so that a change,
//! the audit entries that record it, the outbox jobs that announce it and the in-app notices
//! it raises are committed together or not at all. The application layer builds one per use
//! case from the caller and its clock.

use jiff::Timestamp;
use keikai_domain::audit::{AuditActor, Change};

use crate::{NewJob, NewNotification};

/// Audit entries, outbox jobs and notices, with who caused them and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Effects {
    /// Who the audit entries name.
    pub actor: AuditActor,
    /// When the change happens: the time of its audit entries, notices and stored rows.
    pub at: Timestamp,
    /// Appended to the hash chain in this order.
    pub audit: Vec<Change>,
    /// Inserted into the outbox; a job whose key exists already is skipped.
    pub jobs: Vec<NewJob>,
    pub notices: Vec<NewNotification>,
}

impl Effects {
    /// Nothing yet: a change by `actor` at `at`.
    pub fn new(actor: AuditActor, at: Timestamp) -> Self {
        Self {
            actor,
            at,
            audit: Vec::new(),
            jobs: Vec::new(),
            notices: Vec::new(),
        }
    }

    /// A change Keikai makes itself (scheduled work, start-up).
    pub fn system(at: Timestamp) -> Self {
        Self::new(AuditActor::System, at)
    }

    #[must_use]
    pub fn with_audit(mut self, change: Change) -> Self {
        self.audit.push(change);
        self
    }

    #[must_use]
    pub fn with_changes(mut self, changes: impl IntoIterator<Item = Change>) -> Self {
        self.audit.extend(changes);
        self
    }

    #[must_use]
    pub fn with_jobs(mut self, jobs: impl IntoIterator<Item = NewJob>) -> Self {
        self.jobs.extend(jobs);
        self
    }

    #[must_use]
    pub fn with_notices(mut self, notices: impl IntoIterator<Item = NewNotification>) -> Self {
        self.notices.extend(notices);
        self
    }

    /// Whether there is nothing to write beside the change itself.
    pub fn is_empty(&self) -> bool {
        self.audit.is_empty() && self.jobs.is_empty() && self.notices.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_up_in_order() {
        let at = Timestamp::UNIX_EPOCH;
        let fx = Effects::system(at)
            .with_audit(Change::new("a.one", "x/1", (), ()))
            .with_changes([Change::new("a.two", "x/1", (), ())]);
        assert_eq!(fx.actor, AuditActor::System);
        assert_eq!(
            fx.audit.iter().map(|c| c.action).collect::<Vec<_>>(),
            ["a.one", "a.two"]
        );
        assert!(!fx.is_empty());
        assert!(Effects::system(at).is_empty());
    }
}
