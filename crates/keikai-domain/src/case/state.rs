//! The case workflow: the states a case moves through and the moves allowed between them.

crate::names! {
    /// Where a case stands. The happy path runs from `New` to `Closed`; `Rejected`, `Duplicate`
    /// and `OnHold` leave it.
    pub enum CaseState("state", "a case state") {
        New = "new",
        Triage = "triage",
        Investigating = "investigating",
        Remediation = "remediation",
        AwaitingRelease = "awaiting_release",
        Published = "published",
        Closed = "closed",
        Rejected = "rejected",
        Duplicate = "duplicate",
        OnHold = "on_hold",
    }
}

impl CaseState {
    /// Whether work on the case is finished (its SLA clocks stop).
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Rejected | Self::Duplicate)
    }

    /// The states a case in this state may move to.
    ///
    /// Work may step back one stage (a fix that fails review goes back to remediation), a
    /// finished case may be reopened, and any active case may be put on hold and resumed
    /// where it was. A published case only closes: changing what was published is a new
    /// advisory revision, not a rewind of the case.
    pub fn next(self, kind: CaseKind) -> &'static [Self] {
        use CaseState::*;
        match (self, kind) {
            // A question is answered in triage and then closed: it has no fix to track.
            (Triage, CaseKind::Question) => &[Investigating, Closed, Rejected, Duplicate, OnHold],
            (New, _) => &[Triage, Rejected, Duplicate, OnHold],
            (Triage, _) => &[Investigating, Rejected, Duplicate, OnHold],
            (Investigating, CaseKind::Question) => &[Triage, Closed, Duplicate, OnHold],
            (Investigating, _) => &[Remediation, Triage, Rejected, Duplicate, OnHold],
            (Remediation, _) => &[AwaitingRelease, Investigating, OnHold],
            (AwaitingRelease, _) => &[Published, Remediation, OnHold],
            (Published, _) => &[Closed],
            (Closed, _) => &[Investigating],
            (Rejected | Duplicate, _) => &[Triage],
            // Resuming goes back to the state the case was held in (checked by the case).
            (OnHold, _) => &[Triage, Investigating, Remediation, AwaitingRelease],
        }
    }

    /// Moves that need a written reason: leaving the normal path, or going back on it.
    pub fn needs_reason(self, to: Self) -> bool {
        matches!(to, Self::Rejected | Self::Duplicate | Self::OnHold)
            || matches!(self, Self::Closed | Self::Rejected | Self::Duplicate)
            || to.rank() < self.rank()
    }

    /// Position on the main path, for telling a step back from a step forward.
    const fn rank(self) -> u8 {
        match self {
            Self::New => 0,
            Self::Triage => 1,
            Self::Investigating => 2,
            Self::Remediation => 3,
            Self::AwaitingRelease => 4,
            Self::Published => 5,
            Self::Closed | Self::Rejected | Self::Duplicate => 6,
            // Leaving hold is a resume, never a step back.
            Self::OnHold => 0,
        }
    }
}

crate::names! {
    /// What entered the queue: a vulnerability report, or a customer's question such as "are we
    /// affected by CVE-…?".
    pub enum CaseKind("kind", "a kind of case") {
        Report = "report",
        Question = "question",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in CaseState::ALL {
            assert_eq!(s.as_str().parse::<CaseState>(), Ok(s));
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::from(s.as_str()))
            );
        }
        assert!("open".parse::<CaseState>().is_err());
    }

    #[test]
    fn the_main_path_is_allowed_in_order() {
        let path = [
            CaseState::New,
            CaseState::Triage,
            CaseState::Investigating,
            CaseState::Remediation,
            CaseState::AwaitingRelease,
            CaseState::Published,
            CaseState::Closed,
        ];
        for w in path.windows(2) {
            assert!(w[0].next(CaseKind::Report).contains(&w[1]), "{w:?}");
            assert!(!w[0].needs_reason(w[1]), "{w:?}");
        }
    }

    #[test]
    fn skipping_and_rewinding_are_refused() {
        let r = CaseKind::Report;
        assert!(!CaseState::New.next(r).contains(&CaseState::Published));
        assert!(!CaseState::Triage.next(r).contains(&CaseState::Remediation));
        assert!(
            !CaseState::Published
                .next(r)
                .contains(&CaseState::Remediation)
        );
        assert!(!CaseState::Closed.next(r).contains(&CaseState::New));
        // No state may move to itself: a transition must change something.
        for s in CaseState::ALL {
            for k in CaseKind::ALL {
                assert!(!s.next(k).contains(&s), "{s} → {s}");
            }
        }
    }

    #[test]
    fn questions_close_from_triage_but_reports_do_not() {
        assert!(
            CaseState::Triage
                .next(CaseKind::Question)
                .contains(&CaseState::Closed)
        );
        assert!(
            !CaseState::Triage
                .next(CaseKind::Report)
                .contains(&CaseState::Closed)
        );
    }

    #[test]
    fn leaving_the_path_needs_a_reason() {
        assert!(CaseState::Triage.needs_reason(CaseState::Rejected));
        assert!(CaseState::New.needs_reason(CaseState::OnHold));
        assert!(CaseState::Remediation.needs_reason(CaseState::Investigating));
        assert!(CaseState::Closed.needs_reason(CaseState::Investigating));
        assert!(!CaseState::OnHold.needs_reason(CaseState::Remediation));
    }
}
