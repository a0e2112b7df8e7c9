//! The clocks that run on a case: SLA targets per severity, and the EU Cyber Resilience Act
//! deadlines once a vulnerability is actively exploited.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::{Case, CaseKind, CraReport, SeverityScale};

crate::names! {
    pub enum ClockKind("clock", "a case clock") {
        Acknowledge = "acknowledge",
        Triage = "triage",
        Fix = "fix",
        CraEarlyWarning = "cra_early_warning",
        CraNotification = "cra_notification",
        CraFinalReport = "cra_final_report",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    /// Not done, due in the future.
    Due,
    /// Not done, past its deadline.
    Overdue,
    /// Done in time.
    Met,
    /// Done, but after the deadline.
    MetLate,
    /// Cannot start yet (the CRA final report waits for a fix).
    Waiting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CaseClock {
    pub kind: ClockKind,
    #[schema(value_type = Option<String>)]
    pub due: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub done_at: Option<Timestamp>,
    pub status: ClockStatus,
}

impl CaseClock {
    fn new(
        kind: ClockKind,
        due: Option<Timestamp>,
        done_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Self {
        let status = match (due, done_at) {
            (None, _) => ClockStatus::Waiting,
            (Some(d), Some(at)) if at <= d => ClockStatus::Met,
            (Some(_), Some(_)) => ClockStatus::MetLate,
            (Some(d), None) if now > d => ClockStatus::Overdue,
            (Some(_), None) => ClockStatus::Due,
        };
        Self {
            kind,
            due,
            done_at,
            status,
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self.status, ClockStatus::Due | ClockStatus::Overdue)
    }
}

/// CRA Article 14: early warning within 24 hours and a notification within 72 hours of
/// becoming aware of active exploitation; a final report within 14 days of a fix.
pub const CRA_EARLY_WARNING: SignedDuration = SignedDuration::from_hours(24);
pub const CRA_NOTIFICATION: SignedDuration = SignedDuration::from_hours(72);
pub const CRA_FINAL_REPORT: SignedDuration = SignedDuration::from_hours(14 * 24);

impl Case {
    /// Every clock of the case at `now`. SLA clocks stop mattering once the case is finished
    /// unmet (a rejected report has nothing to fix); CRA clocks stay until each report is
    /// marked sent, since they are legal duties.
    pub fn clocks(&self, scale: &SeverityScale, now: Timestamp) -> Vec<CaseClock> {
        let level = self.severity(scale).map(|l| l.name.as_str());
        let targets = scale.targets(level);
        let m = &self.milestones;
        let start = self.created_at;
        let mut out = vec![
            CaseClock::new(
                ClockKind::Acknowledge,
                start.checked_add(targets.acknowledge).ok(),
                m.acknowledged_at,
                now,
            ),
            CaseClock::new(
                ClockKind::Triage,
                start.checked_add(targets.triage).ok(),
                m.triaged_at,
                now,
            ),
        ];
        if self.report.kind == CaseKind::Report
            && let Some(fix) = targets.fix
        {
            out.push(CaseClock::new(
                ClockKind::Fix,
                start.checked_add(fix).ok(),
                m.fix_available_at,
                now,
            ));
        }
        if self.state.is_terminal() {
            out.retain(|c| !c.is_open());
        }
        if let Some(aware) = self.exploited_since() {
            let sent = |r| self.cra_sent.get(r);
            out.push(CaseClock::new(
                ClockKind::CraEarlyWarning,
                aware.checked_add(CRA_EARLY_WARNING).ok(),
                sent(CraReport::EarlyWarning),
                now,
            ));
            out.push(CaseClock::new(
                ClockKind::CraNotification,
                aware.checked_add(CRA_NOTIFICATION).ok(),
                sent(CraReport::Notification),
                now,
            ));
            out.push(CaseClock::new(
                ClockKind::CraFinalReport,
                m.fix_available_at
                    .and_then(|f| f.checked_add(CRA_FINAL_REPORT).ok()),
                sent(CraReport::FinalReport),
                now,
            ));
        }
        out
    }

    /// The earliest deadline still open, whatever `now` is: a list shows the case as overdue
    /// when this has passed. Stored beside the case so that lists can filter on it.
    pub fn next_deadline(&self, scale: &SeverityScale) -> Option<Timestamp> {
        // Evaluated at the start of time so that every unmet clock counts as open.
        self.clocks(scale, Timestamp::MIN)
            .iter()
            .filter(|c| c.is_open())
            .filter_map(|c| c.due)
            .min()
    }
}
