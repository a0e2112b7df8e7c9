//! Cases: a report or question, triaged into vulnerabilities and worked with the product team
//! until a fix is released. Every operation checks its rules and returns the [`Change`] the
//! audit log records; the store saves the case and the change together.

mod advisories;
mod clocks;
mod message;
mod report;
mod state;
mod vuln;

pub use advisories::CaseAdvisory;
pub use clocks::{CaseClock, ClockKind, ClockStatus};
pub use message::{AttachmentMeta, CaseMessage, Visibility, message_body};
pub use report::{Credit, Report, ReportInput, ReporterKey};
pub use state::{CaseKind, CaseState};
pub use vuln::{
    CveId, CvssVector, Cwe, Exploitation, Justification, ProductStatus, ProductStatusKind,
    RemediationCategory, RemediationDraft, SeverityLevel, SeverityScale, SlaTargets, Vulnerability,
    VulnerabilityInput, long_text,
};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::Change;
use crate::org::text_field;
use crate::{CaseId, DomainError, OrgId, OrgKind, Organisation, TaskId, UserId, VulnerabilityId};

/// The product team a case is routed to, with what they are asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assignment {
    /// An organisation of kind `own`: product teams are units of our own organisation.
    pub team: OrgId,
    pub instructions: String,
    #[schema(value_type = String)]
    pub assigned_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task {
    pub id: TaskId,
    pub title: String,
    pub owner: Option<UserId>,
    #[schema(value_type = Option<String>)]
    pub due: Option<Date>,
    #[schema(value_type = Option<String>)]
    pub done_at: Option<Timestamp>,
}

/// A zero-day or a vulnerability exploited in the wild: the case leaves the monthly train.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Emergency {
    pub reason: String,
    #[schema(value_type = String)]
    pub declared_at: Timestamp,
}

crate::names! {
    /// How the fix will ship.
    #[derive(Default)]
    pub enum ReleaseTrack("release_track", "a release track") {
        /// The monthly release (second Tuesday).
        #[default]
        Monthly = "monthly",
        OutOfBand = "out_of_band",
    }
}

/// When the case passed the points its SLA clocks measure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Milestones {
    #[schema(value_type = Option<String>)]
    pub acknowledged_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub triaged_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub fix_available_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub closed_at: Option<Timestamp>,
}

crate::names! {
    /// The EU Cyber Resilience Act (Article 14) reports on an actively exploited vulnerability.
    pub enum CraReport("report", "a CRA report") {
        EarlyWarning = "early_warning",
        Notification = "notification",
        FinalReport = "final_report",
    }
}

/// When each CRA report was marked sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CraSent {
    #[schema(value_type = Option<String>)]
    pub early_warning: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub notification: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub final_report: Option<Timestamp>,
}

impl CraSent {
    pub fn get(&self, r: CraReport) -> Option<Timestamp> {
        match r {
            CraReport::EarlyWarning => self.early_warning,
            CraReport::Notification => self.notification,
            CraReport::FinalReport => self.final_report,
        }
    }

    fn slot(&mut self, r: CraReport) -> &mut Option<Timestamp> {
        match r {
            CraReport::EarlyWarning => &mut self.early_warning,
            CraReport::Notification => &mut self.notification,
            CraReport::FinalReport => &mut self.final_report,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Case {
    pub id: CaseId,
    /// A short number people quote ("case 42"); 0 until the store assigns it.
    pub number: i64,
    pub title: String,
    pub state: CaseState,
    /// While on hold: the state to resume.
    pub held_from: Option<CaseState>,
    pub report: Report,
    pub vulnerabilities: Vec<Vulnerability>,
    pub assignment: Option<Assignment>,
    /// The PSIRT analyst who owns the case.
    pub owner: Option<UserId>,
    pub tasks: Vec<Task>,
    pub emergency: Option<Emergency>,
    pub track: ReleaseTrack,
    pub duplicate_of: Option<CaseId>,
    pub milestones: Milestones,
    pub cra_sent: CraSent,
    /// The versions of advisories published for the case (a case stored before they were
    /// recorded has none).
    #[serde(default)]
    pub advisories: Vec<CaseAdvisory>,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
    /// Counts saves; a save based on an older revision is refused.
    pub revision: i64,
}

fn subject(id: CaseId) -> String {
    format!("case/{id}")
}

impl Case {
    /// A new case for a submitted report. A report that says the bug is exploited opens
    /// on the emergency track at once, so that it cannot wait in the queue.
    pub fn open(report: Report, now: Timestamp) -> (Self, Change) {
        let emergency = report.exploited.then(|| Emergency {
            reason: "the reporter says it is exploited".to_owned(),
            declared_at: now,
        });
        let case = Self {
            id: CaseId::new(),
            number: 0,
            title: report.title.clone(),
            state: CaseState::New,
            held_from: None,
            track: if emergency.is_some() {
                ReleaseTrack::OutOfBand
            } else {
                ReleaseTrack::Monthly
            },
            emergency,
            report,
            vulnerabilities: Vec::new(),
            assignment: None,
            owner: None,
            tasks: Vec::new(),
            duplicate_of: None,
            milestones: Milestones::default(),
            cra_sent: CraSent::default(),
            advisories: Vec::new(),
            created_at: now,
            updated_at: now,
            revision: 0,
        };
        let change = Change::new(
            "case.opened",
            subject(case.id),
            serde_json::Value::Null,
            json!({ "kind": case.report.kind, "title": case.title, "state": case.state }),
        );
        (case, change)
    }

    pub fn subject(&self) -> String {
        subject(self.id)
    }

    fn touched(&mut self, now: Timestamp, change: Change) -> Change {
        self.updated_at = now;
        change
    }

    /// Moves the case to another state, if the workflow allows it.
    pub fn transition(
        &mut self,
        to: CaseState,
        reason: &str,
        duplicate_of: Option<CaseId>,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let from = self.state;
        let allowed = from.next(self.report.kind);
        if !allowed.contains(&to) {
            let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            return Err(DomainError::invalid(
                "state",
                format!(
                    "a case cannot move from {from} to {to} (from {from} it may move to {})",
                    names.join(", ")
                ),
            ));
        }
        if from == CaseState::OnHold && self.held_from.is_some_and(|h| h != to) {
            let held = self.held_from.map_or("", CaseState::as_str);
            return Err(DomainError::invalid(
                "state",
                format!("the case was put on hold in {held}; resume it there"),
            ));
        }
        let reason = long_text("reason", reason, 5_000)?;
        if reason.is_empty() && from.needs_reason(to) {
            return Err(DomainError::invalid(
                "reason",
                format!("say why the case moves from {from} to {to}"),
            ));
        }
        let duplicate_of = match (to, duplicate_of) {
            (CaseState::Duplicate, None) => {
                return Err(DomainError::invalid(
                    "duplicate_of",
                    "name the case this one duplicates",
                ));
            }
            (CaseState::Duplicate, Some(d)) if d == self.id => {
                return Err(DomainError::invalid(
                    "duplicate_of",
                    "a case cannot duplicate itself",
                ));
            }
            (CaseState::Duplicate, d) => d,
            _ => None,
        };
        self.held_from = (to == CaseState::OnHold).then_some(from);
        self.state = to;
        self.duplicate_of = duplicate_of;
        // The acknowledge clock is met by an answer to the reporter (`acknowledge`), never by
        // a move: a case can be triaged without the reporter hearing anything.
        let m = &mut self.milestones;
        if matches!(to, CaseState::Investigating | CaseState::Remediation)
            || (to == CaseState::Closed && self.report.kind == CaseKind::Question)
        {
            m.triaged_at.get_or_insert(now);
        }
        if matches!(to, CaseState::AwaitingRelease | CaseState::Published) {
            m.fix_available_at.get_or_insert(now);
        }
        if to.is_terminal() {
            m.closed_at = Some(now);
        } else {
            m.closed_at = None;
        }
        let change = Change::new(
            "case.transition",
            self.subject(),
            json!({ "state": from }),
            json!({ "state": to, "reason": reason, "duplicate_of": duplicate_of }),
        );
        Ok(self.touched(now, change))
    }

    /// Records that the reporter was answered; the first answer meets the acknowledge clock.
    pub fn acknowledge(&mut self, now: Timestamp) -> Option<Change> {
        if self.milestones.acknowledged_at.is_some() {
            return None;
        }
        self.milestones.acknowledged_at = Some(now);
        let change = Change::new(
            "case.acknowledged",
            self.subject(),
            json!({ "acknowledged_at": null }),
            json!({ "acknowledged_at": now }),
        );
        Some(self.touched(now, change))
    }

    /// Routes the case to a product team (an organisation of our own) with instructions.
    pub fn assign(
        &mut self,
        team: &Organisation,
        instructions: &str,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        if team.kind != OrgKind::Own {
            return Err(DomainError::invalid(
                "team",
                format!(
                    "\"{}\" is a {} organisation; cases go to product teams of our own organisation",
                    team.name,
                    team.kind.as_str()
                ),
            ));
        }
        let instructions = long_text("instructions", instructions, 20_000)?;
        let after = Assignment {
            team: team.id,
            instructions,
            assigned_at: now,
        };
        let before = self.assignment.replace(after.clone());
        let change = Change::new("case.assigned", self.subject(), before, after);
        Ok(self.touched(now, change))
    }

    pub fn set_owner(&mut self, owner: Option<UserId>, now: Timestamp) -> Change {
        let before = std::mem::replace(&mut self.owner, owner);
        let change = Change::new(
            "case.owner",
            self.subject(),
            json!({ "owner": before }),
            json!({ "owner": owner }),
        );
        self.touched(now, change)
    }

    pub fn add_task(
        &mut self,
        title: &str,
        owner: Option<UserId>,
        due: Option<Date>,
        now: Timestamp,
    ) -> Result<(TaskId, Change), DomainError> {
        if self.tasks.len() >= 500 {
            return Err(DomainError::invalid(
                "title",
                "a case holds at most 500 tasks",
            ));
        }
        let task = Task {
            id: TaskId::new(),
            title: text_field("title", title, 300)?,
            owner,
            due,
            done_at: None,
        };
        let id = task.id;
        let change = Change::new(
            "case.task_added",
            self.subject(),
            serde_json::Value::Null,
            &task,
        );
        self.tasks.push(task);
        Ok((id, self.touched(now, change)))
    }

    /// Marks a task done, or open again.
    pub fn set_task_done(
        &mut self,
        id: TaskId,
        done: bool,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let task = self.tasks.iter_mut().find(|t| t.id == id).ok_or_else(|| {
            DomainError::invalid("task", format!("task {id} is not on this case"))
        })?;
        let before = task.clone();
        task.done_at = if done {
            task.done_at.or(Some(now))
        } else {
            None
        };
        let change = Change::new("case.task_updated", subject(self.id), &before, &*task);
        Ok(self.touched(now, change))
    }

    /// Puts the case on the out-of-band track. The caller notifies the on-call role in the
    /// same transaction.
    pub fn declare_emergency(
        &mut self,
        reason: &str,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let reason = text_field("reason", reason, 1_000)?;
        let after = Emergency {
            reason,
            declared_at: now,
        };
        let before = self.emergency.replace(after.clone());
        self.track = ReleaseTrack::OutOfBand;
        let change = Change::new("case.emergency_declared", self.subject(), before, after);
        Ok(self.touched(now, change))
    }

    pub fn end_emergency(&mut self, now: Timestamp) -> Result<Change, DomainError> {
        let Some(before) = self.emergency.take() else {
            return Err(DomainError::invalid(
                "emergency",
                "the case is not an emergency",
            ));
        };
        self.track = ReleaseTrack::Monthly;
        let change = Change::new(
            "case.emergency_ended",
            self.subject(),
            before,
            serde_json::Value::Null,
        );
        Ok(self.touched(now, change))
    }

    /// Adds a vulnerability (`id` = `None`) or changes one.
    pub fn save_vulnerability(
        &mut self,
        id: Option<VulnerabilityId>,
        input: &VulnerabilityInput,
        scale: &SeverityScale,
        now: Timestamp,
    ) -> Result<(VulnerabilityId, Change), DomainError> {
        let index = match id {
            Some(id) => Some(self.vulnerability_index(id)?),
            None if self.vulnerabilities.len() >= 100 => {
                return Err(DomainError::invalid(
                    "title",
                    "a case holds at most 100 vulnerabilities",
                ));
            }
            None => None,
        };
        let existing = index.map(|i| &self.vulnerabilities[i]);
        let v = Vulnerability::from_input(input, scale, existing, now)?;
        if let Some(cve) = &v.cve
            && self
                .vulnerabilities
                .iter()
                .any(|o| o.id != v.id && o.cve.as_ref() == Some(cve))
        {
            return Err(DomainError::invalid(
                "cve",
                format!("{cve} is already recorded on this case"),
            ));
        }
        let vid = v.id;
        let before = existing.cloned();
        let change = Change::new("case.vulnerability_saved", self.subject(), &before, &v);
        match index {
            Some(i) => self.vulnerabilities[i] = v,
            None => self.vulnerabilities.push(v),
        }
        Ok((vid, self.touched(now, change)))
    }

    pub fn remove_vulnerability(
        &mut self,
        id: VulnerabilityId,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let i = self.vulnerability_index(id)?;
        let before = self.vulnerabilities.remove(i);
        let change = Change::new(
            "case.vulnerability_removed",
            self.subject(),
            before,
            serde_json::Value::Null,
        );
        Ok(self.touched(now, change))
    }

    fn vulnerability_index(&self, id: VulnerabilityId) -> Result<usize, DomainError> {
        self.vulnerabilities
            .iter()
            .position(|v| v.id == id)
            .ok_or_else(|| {
                DomainError::invalid(
                    "vulnerability",
                    format!("vulnerability {id} is not on this case"),
                )
            })
    }

    /// Sets the status of a product version (a catalogue branch the caller has checked).
    pub fn set_product_status(
        &mut self,
        id: VulnerabilityId,
        status: ProductStatus,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let i = self.vulnerability_index(id)?;
        let v = &mut self.vulnerabilities[i];
        let before = v
            .product_statuses
            .iter()
            .find(|s| s.branch_id == status.branch_id)
            .cloned();
        v.set_status(status.clone());
        let change = Change::new(
            "case.product_status",
            subject(self.id),
            json!({ "vulnerability": id, "status": before }),
            json!({ "vulnerability": id, "status": status }),
        );
        Ok(self.touched(now, change))
    }

    pub fn add_remediation(
        &mut self,
        id: VulnerabilityId,
        draft: RemediationDraft,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let i = self.vulnerability_index(id)?;
        let v = &mut self.vulnerabilities[i];
        if v.remediations.len() >= 50 {
            return Err(DomainError::invalid(
                "details",
                "a vulnerability holds at most 50 remediations",
            ));
        }
        v.remediations.push(draft.clone());
        let change = Change::new(
            "case.remediation_added",
            subject(self.id),
            serde_json::Value::Null,
            json!({ "vulnerability": id, "remediation": draft }),
        );
        Ok(self.touched(now, change))
    }

    pub fn remove_remediation(
        &mut self,
        id: VulnerabilityId,
        index: usize,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        let i = self.vulnerability_index(id)?;
        let v = &mut self.vulnerabilities[i];
        if index >= v.remediations.len() {
            return Err(DomainError::invalid(
                "remediation",
                format!("vulnerability {id} has no remediation {index}"),
            ));
        }
        let before = v.remediations.remove(index);
        let change = Change::new(
            "case.remediation_removed",
            subject(self.id),
            json!({ "vulnerability": id, "remediation": before }),
            serde_json::Value::Null,
        );
        Ok(self.touched(now, change))
    }

    /// The reporter changes how they want to be credited.
    pub fn set_credit(&mut self, credit: Credit, now: Timestamp) -> Change {
        let before = std::mem::replace(&mut self.report.credit, credit);
        let change = Change::new("case.credit", self.subject(), before, &self.report.credit);
        self.touched(now, change)
    }

    /// Marks a CRA report sent. The final report can only follow a fix.
    pub fn mark_cra_sent(
        &mut self,
        report: CraReport,
        now: Timestamp,
    ) -> Result<Change, DomainError> {
        if self.exploited_since().is_none() {
            return Err(DomainError::invalid(
                "report",
                "no vulnerability of this case is marked actively exploited",
            ));
        }
        if report == CraReport::FinalReport && self.milestones.fix_available_at.is_none() {
            return Err(DomainError::invalid(
                "report",
                "the final report follows a fix; no fix is available yet",
            ));
        }
        let slot = self.cra_sent.slot(report);
        if slot.is_some() {
            return Err(DomainError::invalid(
                "report",
                format!("the {} was already marked sent", report.as_str()),
            ));
        }
        *slot = Some(now);
        let change = Change::new(
            "case.cra_report_sent",
            self.subject(),
            serde_json::Value::Null,
            json!({ "report": report, "sent_at": now }),
        );
        Ok(self.touched(now, change))
    }

    /// The highest vendor severity of the case's vulnerabilities.
    pub fn severity<'s>(&self, scale: &'s SeverityScale) -> Option<&'s SeverityLevel> {
        self.vulnerabilities
            .iter()
            .filter_map(|v| v.vendor_severity.as_deref())
            .filter_map(|n| scale.rank(n))
            .min()
            .map(|r| &scale.levels()[r])
    }

    /// When the first vulnerability became known to be exploited.
    pub fn exploited_since(&self) -> Option<Timestamp> {
        self.vulnerabilities
            .iter()
            .filter_map(|v| v.exploitation.exploited_since)
            .min()
    }

    /// The catalogue entries the case concerns: the reporter's pick and every product status.
    pub fn branch_ids(&self) -> Vec<crate::BranchId> {
        let mut ids: Vec<_> = self
            .report
            .branch_id
            .into_iter()
            .chain(
                self.vulnerabilities
                    .iter()
                    .flat_map(|v| v.product_statuses.iter().map(|s| s.branch_id)),
            )
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Everything a search should find the case by, in one text.
    pub fn search_text(&self) -> String {
        let mut parts = vec![self.title.clone(), self.report.search_text()];
        for v in &self.vulnerabilities {
            parts.push(v.title.clone());
            if let Some(c) = &v.cve {
                parts.push(c.to_string());
            }
            if let Some(c) = &v.cwe {
                parts.push(format!("{} {}", c.id, c.name));
            }
        }
        parts.join("\n")
    }
}

/// What lists filter and search on, derived from a case each time it is saved.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseIndex {
    pub severity: Option<String>,
    /// 0 for the highest level of the scale.
    pub severity_rank: Option<i64>,
    pub next_deadline: Option<Timestamp>,
    /// [`normalize_search`] of [`Case::search_text`].
    pub search_text: String,
    pub branch_ids: Vec<crate::BranchId>,
}

impl CaseIndex {
    pub fn of(case: &Case, scale: &SeverityScale) -> Self {
        let level = case.severity(scale);
        Self {
            severity: level.map(|l| l.name.clone()),
            severity_rank: level
                .and_then(|l| scale.rank(&l.name))
                .and_then(|r| i64::try_from(r).ok()),
            next_deadline: case.next_deadline(scale),
            search_text: normalize_search(&case.search_text()),
            branch_ids: case.branch_ids(),
        }
    }
}

/// Folds text for substring search in any script: NFKC (full-width Ｌａｔｉｎ and half-width
/// ｶﾅ become their usual forms) and lower case. Substring matching needs no word breaking,
/// which Japanese text does not mark with spaces.
pub fn normalize_search(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfkc().collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests;
