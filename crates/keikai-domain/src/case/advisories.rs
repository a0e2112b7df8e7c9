//! A case follows its advisory: when a version of the advisory made from the case is
//! published, the case records it, moves to published and stops its fix clock.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Case, CaseState};
use crate::audit::Change;

/// A version of an advisory published for the case: what the reporter's page links to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseAdvisory {
    pub tracking_id: String,
    pub version: u32,
    #[schema(value_type = String)]
    pub published_at: Timestamp,
}

impl Case {
    /// Records that `version` of the advisory `tracking_id` went out at `now`. A case still
    /// being worked on (or held) moves to published, whatever stage it had reached: the fix
    /// is out, so its triage and fix clocks are met now if they were not before. A case that
    /// was published, closed or set aside keeps its state and only records the version (a
    /// revision). `None` when this version is recorded already: announcing a publication
    /// twice changes nothing.
    pub fn advisory_published(
        &mut self,
        tracking_id: &str,
        version: u32,
        now: Timestamp,
    ) -> Option<Change> {
        if self
            .advisories
            .iter()
            .any(|a| a.tracking_id == tracking_id && a.version == version)
        {
            return None;
        }
        self.advisories.push(CaseAdvisory {
            tracking_id: tracking_id.to_owned(),
            version,
            published_at: now,
        });
        let from = self.state;
        let moves = !matches!(
            from,
            CaseState::Published | CaseState::Closed | CaseState::Rejected | CaseState::Duplicate
        );
        if moves {
            self.state = CaseState::Published;
            self.held_from = None;
            let m = &mut self.milestones;
            m.triaged_at.get_or_insert(now);
            m.fix_available_at.get_or_insert(now);
            m.closed_at = None;
        }
        let change = Change::new(
            "case.advisory_published",
            self.subject(),
            json!({ "state": from }),
            json!({ "state": self.state, "advisory": tracking_id, "version": version }),
        );
        Some(self.touched(now, change))
    }

    /// The latest version of each advisory published for the case, newest first.
    pub fn published_advisories(&self) -> Vec<&CaseAdvisory> {
        let mut latest: Vec<&CaseAdvisory> = Vec::new();
        for a in &self.advisories {
            match latest.iter_mut().find(|l| l.tracking_id == a.tracking_id) {
                Some(l) if l.version < a.version => *l = a,
                Some(_) => {}
                None => latest.push(a),
            }
        }
        latest.sort_by_key(|a| std::cmp::Reverse(a.published_at));
        latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::tests::{case, go, t};
    use crate::case::{ClockKind, ClockStatus, SeverityScale};

    #[test]
    fn publication_moves_a_case_in_triage_to_published_and_meets_its_clocks() {
        let mut c = case();
        go(&mut c, CaseState::Triage, 1);
        let change = c.advisory_published("EX-2026-0001", 1, t(2)).unwrap();
        assert_eq!(c.state, CaseState::Published);
        assert_eq!(change.action, "case.advisory_published");
        assert_eq!(change.after["state"], "published");
        assert_eq!(change.before["state"], "triage");
        assert_eq!(c.milestones.fix_available_at, Some(t(2)));
        assert_eq!(c.milestones.triaged_at, Some(t(2)));
        let scale = SeverityScale::default();
        let fix = c
            .clocks(&scale, t(3))
            .into_iter()
            .find(|k| k.kind == ClockKind::Fix);
        assert!(
            fix.is_none_or(|k| !k.is_open()),
            "the fix clock still runs: {fix:?}"
        );
        // Publication is not an answer to the reporter: the acknowledge clock is met by the
        // message that announces it, not here.
        assert_eq!(c.milestones.acknowledged_at, None);
        let ack = c.clocks(&scale, t(3));
        assert!(
            ack.iter()
                .any(|k| k.kind == ClockKind::Acknowledge && k.status != ClockStatus::Met)
        );
    }

    #[test]
    fn a_held_case_leaves_hold_for_published() {
        let mut c = case();
        go(&mut c, CaseState::Triage, 1);
        go(&mut c, CaseState::Investigating, 2);
        c.transition(CaseState::OnHold, "waiting", None, t(3))
            .unwrap();
        c.advisory_published("EX-2026-0001", 1, t(4)).unwrap();
        assert_eq!((c.state, c.held_from), (CaseState::Published, None));
    }

    #[test]
    fn the_same_version_twice_changes_nothing_and_a_revision_is_recorded() {
        let mut c = case();
        go(&mut c, CaseState::Triage, 1);
        c.advisory_published("EX-2026-0001", 1, t(2)).unwrap();
        let before = c.clone();
        assert!(c.advisory_published("EX-2026-0001", 1, t(3)).is_none());
        assert_eq!(c, before);
        go(&mut c, CaseState::Closed, 4);
        let change = c.advisory_published("EX-2026-0001", 2, t(5)).unwrap();
        assert_eq!(c.state, CaseState::Closed, "a revision does not reopen");
        assert_eq!(change.after["version"], 2);
        assert_eq!(c.milestones.fix_available_at, Some(t(2)));
        let latest: Vec<(&str, u32)> = c
            .published_advisories()
            .iter()
            .map(|a| (a.tracking_id.as_str(), a.version))
            .collect();
        assert_eq!(latest, [("EX-2026-0001", 2)]);
    }

    #[test]
    fn a_rejected_case_keeps_its_state() {
        let mut c = case();
        c.transition(CaseState::Rejected, "not a vulnerability", None, t(1))
            .unwrap();
        c.advisory_published("EX-2026-0001", 1, t(2)).unwrap();
        assert_eq!(c.state, CaseState::Rejected);
    }
}
