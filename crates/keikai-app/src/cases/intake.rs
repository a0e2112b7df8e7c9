//! Intake: reports and questions from anyone (the public form, the API), and the reporter's
//! portal behind an unguessable tracking link.
//!
//! Anyone may report without an account. The tracking link's secret is returned once; the
//! store keeps only its SHA-256, so a copy of the database opens nobody's portal. Whoever
//! holds the link sees the reporter's side of the case (status, the report, the
//! conversation) and nothing else: internal notes are never selected. The report and the
//! files sent with it are stored in one transaction.

use std::net::IpAddr;

use jiff::SignedDuration;
use keikai_domain::attachment::AttachmentError;
use keikai_domain::case::{
    AttachmentMeta, Case, CaseIndex, CaseMessage, Credit, Report, ReportInput, Visibility,
    message_body,
};
use keikai_domain::{Action, AttachmentId, Branch, BranchId, UserId};
use keikai_store::{NewMessage, StoreError};

use super::{CONFLICT_MESSAGE, Upload, checked_attachments, message_change, on_call_notices, save};
use crate::secret::{random_secret, sha256_hex};
use crate::{App, Caller, Error, Result, i18n};

/// Reports one address may send without an account in [`REPORT_WINDOW`]. Signed-in people
/// are accountable and not counted.
pub const ANONYMOUS_REPORTS_PER_WINDOW: u64 = 10;
pub const REPORT_WINDOW: SignedDuration = SignedDuration::from_hours(1);

/// The rate limiter's key for reports from one address.
fn rate_key(ip: IpAddr) -> String {
    format!("report:{ip}")
}

/// A report or question as the form or the API sent it.
#[derive(Debug, Clone)]
pub struct SubmitReport {
    pub input: ReportInput,
    pub uploads: Vec<Upload>,
    /// Files the door refused while reading (over the size limit).
    pub too_large: Vec<AttachmentError>,
    /// Where it came from, for the limit on anonymous reports.
    pub client: Option<IpAddr>,
}

/// A report that was stored: the case and the tracking secret, which exists nowhere else.
pub struct Submitted {
    pub case: Case,
    pub secret: String,
}

impl Submitted {
    /// `{public URL}/track/{secret}`.
    pub fn tracking_url(&self, app: &App) -> String {
        tracking_url(app, &self.secret)
    }
}

/// `{public URL}/track/{secret}`.
pub fn tracking_url(app: &App, secret: &str) -> String {
    format!(
        "{}/track/{secret}",
        app.config().security_txt.site().trim_end_matches('/')
    )
}

/// Validates and stores a report.
pub async fn submit(app: &App, who: &Caller, cmd: SubmitReport) -> Result<Submitted> {
    who.refuse_read_only_token()?;
    let user: Option<UserId> = who.user_id();
    let fx = app.effects(who);
    let now = fx.at;
    let limited = match (user, cmd.client) {
        (None, Some(ip)) => Some(rate_key(ip)),
        _ => None,
    };
    if let Some(key) = &limited {
        let since = now.checked_sub(REPORT_WINDOW).unwrap_or(now);
        if app.store().attempts_since(key, since).await? >= ANONYMOUS_REPORTS_PER_WINDOW {
            return Err(Error::RateLimited(format!(
                "too many reports from your address in the last hour (at most {ANONYMOUS_REPORTS_PER_WINDOW}); wait a while, or sign in"
            )));
        }
    }
    let report = Report::from_input(&cmd.input, user)?;
    check_branch(app, who, report.branch_id).await?;
    let attachments = checked_attachments(cmd.uploads, &cmd.too_large)?;

    let (mut case, opened) = Case::open(report, now);
    let secret = random_secret();
    let mut fx = fx.with_audit(opened);
    // A report said to be exploited opens as an emergency: the on-call PSIRT hears of it at
    // once.
    if case.emergency.is_some() {
        let text = format!(
            "New report, said to be exploited in the wild: {}",
            case.title
        );
        fx.notices = on_call_notices(app, &case, text).await?;
    }
    // The report and the files sent with it are stored together or not at all.
    let first = (!attachments.is_empty()).then(|| {
        let body = i18n::t(case.report.language, "intake-attachments-message");
        reporter_message(&case, user, body, attachments)
    });
    let mut messages: Vec<NewMessage> = first.into_iter().collect();
    // The PSIRT may answer every report at once that it arrived: that answer, not a state
    // move, meets the acknowledge clock.
    if app.config().intake.auto_acknowledge {
        let body = i18n::t(case.report.language, "intake-auto-acknowledgement");
        messages.push(NewMessage {
            case_id: case.id,
            visibility: Visibility::Reporter,
            author: None,
            from_reporter: false,
            body,
            attachments: Vec::new(),
        });
    }
    for m in &messages {
        fx.audit.push(message_change(&case, m));
    }
    if messages.iter().any(|m| !m.from_reporter)
        && let Some(ack) = case.acknowledge(now)
    {
        fx.audit.push(ack);
    }
    let index = CaseIndex::of(&case, &app.config().severity_scale);
    let case = app
        .store()
        .create_case(&case, &index, Some(&sha256_hex(&secret)), &messages, &fx)
        .await?;
    if let Some(key) = &limited
        && let Err(e) = app.store().record_attempt(key, now).await
    {
        tracing::warn!(error = %e, "could not count a report for the rate limit");
    }
    tracing::info!(case = %case.id, kind = %case.report.kind, "report received");
    Ok(Submitted { case, secret })
}

/// The catalogue may hold products not yet announced, so only those who may see it may
/// pick an entry; everyone else names the product in words.
async fn check_branch(app: &App, who: &Caller, branch: Option<BranchId>) -> Result<()> {
    let Some(id) = branch else {
        return Ok(());
    };
    if !who.allows(Action::ViewProducts) {
        return Err(Error::invalid(
            "branch_id",
            "branch_id: choosing a catalogue entry needs an internal account; name the product in product instead",
        ));
    }
    match app.store().get_branch(id).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(Error::invalid(
            "branch_id",
            format!("branch_id: {id} is not in the product catalogue"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The catalogue a report may name an entry of: only for those who may see it (it may hold
/// products not yet announced); `None` for everyone else.
pub async fn catalogue(app: &App, who: &Caller) -> Result<Option<Vec<Branch>>> {
    if !who.allows(Action::ViewProducts) {
        return Ok(None);
    }
    Ok(Some(app.store().list_branches().await?))
}

fn reporter_message(
    case: &Case,
    author: Option<UserId>,
    body: String,
    attachments: Vec<keikai_store::NewAttachment>,
) -> NewMessage {
    NewMessage {
        case_id: case.id,
        visibility: Visibility::Reporter,
        author,
        from_reporter: true,
        body,
        attachments,
    }
}

// ---------------------------------------------------------------- the portal

/// The case behind a tracking secret. Every secret takes the same path (hash, one lookup),
/// so the answer's timing says nothing about which secrets exist. The link is the
/// reporter's authority: no other check applies.
pub async fn tracked(app: &App, secret: &str) -> Result<Case> {
    Ok(app
        .store()
        .case_by_tracking_hash(&sha256_hex(secret))
        .await?)
}

/// The reporter's side of the conversation only.
pub async fn conversation(app: &App, case: &Case) -> Result<Vec<CaseMessage>> {
    let mut list = app
        .store()
        .list_messages(case.id, Some(Visibility::Reporter))
        .await?;
    // The store selects by visibility; this keeps the promise even if it did not.
    list.retain(|m| m.visibility == Visibility::Reporter);
    Ok(list)
}

/// The reporter writes to the PSIRT through their link, with files if they like.
pub async fn reply(
    app: &App,
    who: &Caller,
    secret: &str,
    body: &str,
    uploads: Vec<Upload>,
    too_large: &[AttachmentError],
) -> Result<CaseMessage> {
    who.refuse_read_only_token()?;
    let case = tracked(app, secret).await?;
    let body = message_body(body)?;
    let attachments = checked_attachments(uploads, too_large)?;
    let message = reporter_message(&case, None, body, attachments);
    let fx = app
        .effects(&Caller::reporter_link())
        .with_audit(message_change(&case, &message));
    Ok(app.store().add_message(&message, None, &fx).await?)
}

/// How the reporter wants to be thanked in the advisory.
pub async fn set_credit(app: &App, who: &Caller, secret: &str, credit: Credit) -> Result<Case> {
    who.refuse_read_only_token()?;
    // The credit replaces what was there, so a save that lost a race is simply redone.
    for _ in 0..3 {
        let mut case = tracked(app, secret).await?;
        let fx = app.effects(&Caller::reporter_link());
        let change = case.set_credit(credit.clone(), fx.at);
        match save(app, &case, &fx.with_audit(change)).await {
            Ok(saved) => return Ok(saved),
            Err(e) if e.is_conflict() => {}
            Err(e) => return Err(e),
        }
    }
    Err(Error::conflict(CONFLICT_MESSAGE))
}

/// A file of the conversation, through the link.
pub async fn attachment(
    app: &App,
    secret: &str,
    id: AttachmentId,
) -> Result<(AttachmentMeta, Vec<u8>)> {
    let case = tracked(app, secret).await?;
    let (meta, bytes) = app.store().get_attachment(id).await?;
    if meta.case_id != case.id || meta.visibility != Visibility::Reporter {
        return Err(Error::NotFound);
    }
    Ok((meta, bytes))
}

#[cfg(test)]
mod tests {
    use keikai_domain::attachment::{AttachmentName, AttachmentPolicy};

    use super::*;

    #[test]
    fn oversized_files_are_named() {
        let too_large = [AttachmentError::TooLarge {
            name: AttachmentName::sanitise("../../poc.bin"),
            size: 30 << 20,
            limit: 20 << 20,
        }];
        let e = checked_attachments(Vec::new(), &too_large).unwrap_err();
        assert_eq!(e.field(), Some("attachments"));
        assert!(e.to_string().contains("poc.bin"), "{e}");
    }

    #[test]
    fn active_content_is_stored_as_opaque_bytes() {
        let up = Upload {
            file_name: "x.svg".to_owned(),
            bytes: b"<svg onload=alert(1)>".to_vec(),
        };
        let out = checked_attachments(vec![up], &[]).unwrap_or_default();
        assert_eq!(out[0].content_type, "application/octet-stream");
    }

    #[tokio::test]
    async fn an_automatic_acknowledgement_answers_the_reporter_and_meets_the_clock() {
        for auto in [false, true] {
            let mut config = crate::AppConfig::default();
            config.intake.auto_acknowledge = auto;
            let t = crate::admin::testing::TestApp::with_config(config).await;
            let cmd = SubmitReport {
                input: ReportInput {
                    title: "認証回避".into(),
                    product: "Router".into(),
                    description: "細工したクッキーでログインを回避できる。".into(),
                    language: Some("ja".into()),
                    ..ReportInput::default()
                },
                uploads: vec![Upload {
                    file_name: "poc.txt".to_owned(),
                    bytes: b"curl -b admin=1 http://router/".to_vec(),
                }],
                too_large: Vec::new(),
                client: None,
            };
            let case = submit(&t.app, &Caller::anonymous(), cmd)
                .await
                .unwrap()
                .case;
            assert_eq!(case.milestones.acknowledged_at.is_some(), auto, "{auto}");
            let stored = t.app.store().get_case(case.id).await.unwrap();
            assert_eq!(stored.milestones, case.milestones, "{auto}");
            let said: Vec<(bool, String)> = conversation(&t.app, &case)
                .await
                .unwrap()
                .into_iter()
                .map(|m| (m.from_reporter, m.body))
                .collect();
            let mut want = vec![(
                true,
                i18n::t(keikai_domain::Locale::Ja, "intake-attachments-message"),
            )];
            if auto {
                want.push((
                    false,
                    i18n::t(keikai_domain::Locale::Ja, "intake-auto-acknowledgement"),
                ));
            }
            assert_eq!(said, want, "{auto}: the files first, then the answer");
            let history = t.app.store().audit_for(&case.subject()).await.unwrap();
            assert_eq!(
                history.iter().any(|e| e.action == "case.acknowledged"),
                auto,
                "{auto}"
            );
        }
    }

    #[test]
    fn too_many_files_are_refused() {
        let ups: Vec<Upload> = (0..=AttachmentPolicy::default().max_per_report)
            .map(|i| Upload {
                file_name: format!("f{i}.txt"),
                bytes: b"log".to_vec(),
            })
            .collect();
        let e = checked_attachments(ups, &[]).unwrap_err();
        assert_eq!(e.field(), Some("attachments"));
    }
}
