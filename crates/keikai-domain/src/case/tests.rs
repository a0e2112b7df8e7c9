use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::{OrgName, Organisation};

pub(super) fn t(hours: i64) -> Timestamp {
    Timestamp::UNIX_EPOCH + SignedDuration::from_hours(1_000_000 + hours)
}

fn report(kind: &str) -> Report {
    let input = ReportInput {
        kind: Some(kind.into()),
        title: "Overflow".into(),
        product: "Router".into(),
        description: "details".into(),
        ..Default::default()
    };
    Report::from_input(&input, None).unwrap()
}

pub(super) fn case() -> Case {
    Case::open(report("report"), t(0)).0
}

pub(super) fn go(c: &mut Case, to: CaseState, at: i64) {
    c.transition(to, "", None, t(at)).unwrap();
}

#[test]
fn opening_records_the_report() {
    let (c, change) = Case::open(report("report"), t(0));
    assert_eq!(c.state, CaseState::New);
    assert_eq!(change.action, "case.opened");
    assert_eq!(change.subject, format!("case/{}", c.id));
    assert_eq!(c.track, ReleaseTrack::Monthly);
}

#[test]
fn an_exploited_report_opens_as_an_emergency() {
    let mut r = report("report");
    r.exploited = true;
    let (c, _) = Case::open(r, t(0));
    assert!(c.emergency.is_some());
    assert_eq!(c.track, ReleaseTrack::OutOfBand);
}

#[test]
fn forbidden_transitions_name_the_allowed_ones() {
    let mut c = case();
    let e = c
        .transition(CaseState::Published, "", None, t(1))
        .unwrap_err();
    assert_eq!(e.field(), "state");
    assert!(
        e.to_string().contains("may move to triage, rejected"),
        "{e}"
    );
    assert_eq!(c.state, CaseState::New, "a refused move changes nothing");
}

#[test]
fn rejecting_needs_a_reason_and_duplicates_need_a_target() {
    let mut c = case();
    assert_eq!(
        c.transition(CaseState::Rejected, " ", None, t(1))
            .unwrap_err()
            .field(),
        "reason"
    );
    assert_eq!(
        c.transition(CaseState::Duplicate, "same as 7", None, t(1))
            .unwrap_err()
            .field(),
        "duplicate_of"
    );
    let own = c.id;
    assert!(
        c.transition(CaseState::Duplicate, "x", Some(own), t(1))
            .is_err()
    );
    let other = CaseId::new();
    let change = c
        .transition(CaseState::Duplicate, "same as 7", Some(other), t(1))
        .unwrap();
    assert_eq!(c.duplicate_of, Some(other));
    assert_eq!(change.before["state"], "new");
    assert_eq!(change.after["state"], "duplicate");
    assert_eq!(change.after["reason"], "same as 7");
}

#[test]
fn hold_resumes_where_it_was() {
    let mut c = case();
    go(&mut c, CaseState::Triage, 1);
    go(&mut c, CaseState::Investigating, 2);
    c.transition(CaseState::OnHold, "waiting for the reporter", None, t(3))
        .unwrap();
    assert_eq!(c.held_from, Some(CaseState::Investigating));
    assert!(
        c.transition(CaseState::Remediation, "", None, t(4))
            .is_err()
    );
    go(&mut c, CaseState::Investigating, 4);
    assert_eq!(c.held_from, None);
}

#[test]
fn milestones_follow_the_path() {
    let mut c = case();
    go(&mut c, CaseState::Triage, 1);
    assert_eq!(
        c.milestones.acknowledged_at, None,
        "moving to triage tells the reporter nothing"
    );
    go(&mut c, CaseState::Investigating, 2);
    assert_eq!(c.milestones.triaged_at, Some(t(2)));
    go(&mut c, CaseState::Remediation, 3);
    go(&mut c, CaseState::AwaitingRelease, 4);
    assert_eq!(c.milestones.fix_available_at, Some(t(4)));
    go(&mut c, CaseState::Published, 5);
    go(&mut c, CaseState::Closed, 6);
    assert_eq!(c.milestones.closed_at, Some(t(6)));
    c.transition(CaseState::Investigating, "regression", None, t(7))
        .unwrap();
    assert_eq!(c.milestones.closed_at, None);
}

fn critical(exploited: bool) -> VulnerabilityInput {
    VulnerabilityInput {
        title: "RCE".into(),
        cvss_v3: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
        exploited,
        ..Default::default()
    }
}

#[test]
fn sla_clocks_use_the_highest_severity() {
    let scale = SeverityScale::default();
    let mut c = case();
    // Unrated: acknowledge in 72 h, triage in 10 days, no fix clock yet.
    let clocks = c.clocks(&scale, t(1));
    assert_eq!(clocks.len(), 2);
    assert_eq!(clocks[0].due, Some(t(72)));
    c.save_vulnerability(None, &critical(false), &scale, t(1))
        .unwrap();
    let clocks = c.clocks(&scale, t(30));
    assert_eq!(clocks[0].kind, ClockKind::Acknowledge);
    assert_eq!(clocks[0].due, Some(t(24)));
    assert_eq!(clocks[0].status, ClockStatus::Overdue);
    assert_eq!(clocks[2].kind, ClockKind::Fix);
    assert_eq!(clocks[2].due, Some(t(30 * 24)));
    assert_eq!(c.next_deadline(&scale), Some(t(24)));
    go(&mut c, CaseState::Triage, 31);
    let clocks = c.clocks(&scale, t(32));
    assert_eq!(
        clocks[0].status,
        ClockStatus::Overdue,
        "a move is not an answer to the reporter"
    );
    assert!(c.acknowledge(t(31)).is_some());
    let clocks = c.clocks(&scale, t(32));
    assert_eq!(clocks[0].status, ClockStatus::MetLate);
    assert_eq!(c.next_deadline(&scale), Some(t(72)));
}

#[test]
fn finished_cases_stop_their_sla_clocks() {
    let scale = SeverityScale::default();
    let mut c = case();
    c.transition(CaseState::Rejected, "not a vulnerability", None, t(1))
        .unwrap();
    let clocks = c.clocks(&scale, t(1000));
    assert!(clocks.iter().all(|c| !c.is_open()), "{clocks:?}");
    assert_eq!(c.next_deadline(&scale), None);
}

#[test]
fn questions_have_no_fix_clock() {
    let scale = SeverityScale::default();
    let mut c = Case::open(report("question"), t(0)).0;
    c.save_vulnerability(None, &critical(false), &scale, t(0))
        .unwrap();
    assert!(
        c.clocks(&scale, t(1))
            .iter()
            .all(|c| c.kind != ClockKind::Fix)
    );
    go(&mut c, CaseState::Triage, 1);
    go(&mut c, CaseState::Closed, 2);
    assert_eq!(c.milestones.triaged_at, Some(t(2)));
}

#[test]
fn cra_clocks_start_when_exploitation_is_known_and_stay_until_sent() {
    let scale = SeverityScale::default();
    let mut c = case();
    assert!(c.mark_cra_sent(CraReport::EarlyWarning, t(1)).is_err());
    let (vid, _) = c
        .save_vulnerability(None, &critical(true), &scale, t(10))
        .unwrap();
    let clocks = c.clocks(&scale, t(11));
    let cra: Vec<_> = clocks
        .iter()
        .filter(|c| c.kind.as_str().starts_with("cra_"))
        .collect();
    assert_eq!(cra.len(), 3);
    assert_eq!(cra[0].due, Some(t(34)));
    assert_eq!(cra[1].due, Some(t(82)));
    assert_eq!(cra[2].status, ClockStatus::Waiting);
    assert!(c.mark_cra_sent(CraReport::FinalReport, t(12)).is_err());
    c.mark_cra_sent(CraReport::EarlyWarning, t(20)).unwrap();
    assert!(c.mark_cra_sent(CraReport::EarlyWarning, t(21)).is_err());
    // Rejecting the case does not end a legal duty.
    c.transition(CaseState::Rejected, "wontfix", None, t(22))
        .unwrap();
    let open: Vec<_> = c
        .clocks(&scale, t(100))
        .into_iter()
        .filter(CaseClock::is_open)
        .collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, ClockKind::CraNotification);
    assert_eq!(open[0].status, ClockStatus::Overdue);
    // Marking a product fixed does not start the final report; a fix release does.
    c.transition(CaseState::Triage, "reopened", None, t(101))
        .unwrap();
    go(&mut c, CaseState::Investigating, 102);
    go(&mut c, CaseState::Remediation, 103);
    go(&mut c, CaseState::AwaitingRelease, 104);
    let fin = c
        .clocks(&scale, t(105))
        .into_iter()
        .find(|c| c.kind == ClockKind::CraFinalReport)
        .unwrap();
    assert_eq!(fin.due, Some(t(104 + 14 * 24)));
    let _ = vid;
}

#[test]
fn assignment_goes_to_our_own_teams_only() {
    let mut c = case();
    let team = Organisation {
        id: OrgId::new(),
        name: OrgName::parse("Router team").unwrap(),
        kind: OrgKind::Own,
        created_at: t(0),
    };
    let partner = Organisation {
        kind: OrgKind::Partner,
        ..team.clone()
    };
    assert_eq!(
        c.assign(&partner, "fix it", t(1)).unwrap_err().field(),
        "team"
    );
    let change = c.assign(&team, "Please confirm on 2.x", t(1)).unwrap();
    assert_eq!(change.before, serde_json::Value::Null);
    assert_eq!(c.assignment.as_ref().map(|a| a.team), Some(team.id));
}

#[test]
fn tasks_and_remediations() {
    let scale = SeverityScale::default();
    let mut c = case();
    let (task, _) = c.add_task("Reproduce", None, None, t(1)).unwrap();
    c.set_task_done(task, true, t(2)).unwrap();
    assert_eq!(c.tasks[0].done_at, Some(t(2)));
    assert!(c.set_task_done(TaskId::new(), true, t(2)).is_err());
    let (vid, _) = c
        .save_vulnerability(None, &critical(false), &scale, t(1))
        .unwrap();
    let draft = RemediationDraft::new(
        RemediationCategory::Workaround,
        "Disable the web UI",
        None,
        vec![],
    )
    .unwrap();
    c.add_remediation(vid, draft, t(3)).unwrap();
    assert_eq!(c.vulnerabilities[0].remediations.len(), 1);
    // Editing the vulnerability keeps its remediations and statuses.
    let mut input = critical(false);
    input.title = "Remote code execution".into();
    c.save_vulnerability(Some(vid), &input, &scale, t(4))
        .unwrap();
    assert_eq!(c.vulnerabilities[0].remediations.len(), 1);
    c.remove_remediation(vid, 0, t(5)).unwrap();
    assert!(c.remove_remediation(vid, 0, t(5)).is_err());
}

#[test]
fn one_cve_once_per_case() {
    let scale = SeverityScale::default();
    let mut c = case();
    let mut input = critical(false);
    input.cve = Some("CVE-2024-3094".into());
    c.save_vulnerability(None, &input, &scale, t(1)).unwrap();
    let e = c
        .save_vulnerability(None, &input, &scale, t(1))
        .unwrap_err();
    assert_eq!(e.field(), "cve");
}

#[test]
fn the_case_round_trips_through_json() {
    let scale = SeverityScale::default();
    let mut c = case();
    c.save_vulnerability(None, &critical(true), &scale, t(1))
        .unwrap();
    let json = serde_json::to_string(&c).unwrap();
    let back: Case = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
}

#[test]
fn search_folds_width_and_case() {
    assert_eq!(
        normalize_search("ＳＱＬインジェクション"),
        "sqlインジェクション"
    );
    assert_eq!(normalize_search("ﾙｰﾀｰ Heap"), "ルーター heap");
}
