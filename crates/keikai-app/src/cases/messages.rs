//! The conversation with the reporter, internal notes, their files, and a case's history.

use std::collections::HashMap;

use keikai_domain::attachment::{self, AttachmentError, AttachmentPolicy};
use keikai_domain::audit::{AuditEntry, Change};
use keikai_domain::case::{AttachmentMeta, Case, CaseIndex, CaseMessage, Visibility, message_body};
use keikai_domain::{Action, AttachmentId, Decision, UserId, authorize};
use keikai_store::{NewAttachment, NewMessage, StoreError};
use serde_json::json;

use super::{
    CONFLICT_MESSAGE, CaseNumber, internals_action, load, save_error, user_names, work_action,
};
use crate::{App, Caller, Error, Result};

/// A file as uploaded, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Checks the files against the attachment policy: the first problem names its file. Files
/// the door refused while reading (too large to keep) are reported first.
pub(crate) fn checked_attachments(
    uploads: Vec<Upload>,
    too_large: &[AttachmentError],
) -> Result<Vec<NewAttachment>> {
    let invalid = |e: &AttachmentError| Error::invalid("attachments", format!("attachments: {e}"));
    if let Some(e) = too_large.first() {
        return Err(invalid(e));
    }
    let policy = AttachmentPolicy::default();
    let mut out = Vec::with_capacity(uploads.len());
    for (i, up) in uploads.into_iter().enumerate() {
        policy.check_count(i).map_err(|e| invalid(&e))?;
        let checked =
            attachment::check(&policy, &up.file_name, &up.bytes).map_err(|e| invalid(&e))?;
        out.push(NewAttachment {
            file_name: checked.name.to_string(),
            content_type: checked.serve.content_type.to_owned(),
            bytes: up.bytes,
        });
    }
    Ok(out)
}

/// The audit entry of a message: what was said, on which side, with which files.
pub(crate) fn message_change(case: &Case, m: &NewMessage) -> Change {
    let action = match m.visibility {
        Visibility::Internal => "case.note_added",
        Visibility::Reporter => "case.message_added",
    };
    Change::new(
        action,
        case.subject(),
        serde_json::Value::Null,
        json!({
            "visibility": m.visibility,
            "from_reporter": m.from_reporter,
            "body": m.body,
            "attachments": m.attachments.iter().map(|a| &a.file_name).collect::<Vec<_>>(),
        }),
    )
}

/// An internal note, or a message in the conversation with the reporter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddMessage {
    pub case: CaseNumber,
    pub visibility: Visibility,
    pub body: String,
    pub uploads: Vec<Upload>,
    /// Files the door refused while reading (over the size limit).
    pub too_large: Vec<AttachmentError>,
}

/// Adds a note (`Visibility::Internal`) or a message to the reporter. The PSIRT writes to
/// the reporter; the reporter (signed in) answers on their own case. The first message to
/// the reporter acknowledges the case, in the same transaction.
pub async fn add_message(app: &App, who: &Caller, cmd: AddMessage) -> Result<CaseMessage> {
    let mut case = load(app, who, cmd.case).await?;
    let (user, from_reporter) = match cmd.visibility {
        Visibility::Internal => (who.require_user(work_action(&case))?.user_id, false),
        Visibility::Reporter => {
            // The PSIRT answers as the PSIRT (a read-only token is told so); anyone else may
            // only answer as the reporter of their own case.
            let psirt = authorize(who.actor(), Action::TriageCase);
            if matches!(psirt, Decision::Allow | Decision::Forbidden) {
                (who.require_user(Action::TriageCase)?.user_id, false)
            } else {
                let reply = Action::ReplyAsReporter {
                    reporter: case.report.reporter_user,
                };
                (who.require_user(reply)?.user_id, true)
            }
        }
    };
    let message = NewMessage {
        case_id: case.id,
        visibility: cmd.visibility,
        author: Some(user),
        from_reporter,
        body: message_body(&cmd.body)?,
        attachments: checked_attachments(cmd.uploads, &cmd.too_large)?,
    };
    let acknowledges = cmd.visibility == Visibility::Reporter && !from_reporter;
    // The message and the acknowledgement it makes commit together; a case saved meanwhile
    // by someone else is read again and the whole write retried.
    for _ in 0..3 {
        let mut fx = app.effects(who).with_audit(message_change(&case, &message));
        let ack = if acknowledges {
            case.acknowledge(fx.at)
        } else {
            None
        };
        let index;
        let with_case = match ack {
            Some(change) => {
                fx.audit.push(change);
                index = CaseIndex::of(&case, &app.config().severity_scale);
                Some((&case, &index))
            }
            None => None,
        };
        match app.store().add_message(&message, with_case, &fx).await {
            Ok(saved) => return Ok(saved),
            Err(StoreError::Conflict(_)) if with_case.is_some() => {
                case = app.store().get_case(case.id).await?;
            }
            Err(e) => return Err(save_error(e)),
        }
    }
    Err(Error::conflict(CONFLICT_MESSAGE))
}

/// The messages a caller may read: both sides for those who see the internals, the
/// conversation only for the reporter.
pub async fn messages(app: &App, who: &Caller, case: &Case) -> Result<Vec<CaseMessage>> {
    who.require(super::view_action(case))?;
    let side = if who.allows(internals_action(case)) {
        None
    } else {
        Some(Visibility::Reporter)
    };
    let mut list = app.store().list_messages(case.id, side).await?;
    // The store selects by visibility; this keeps the promise even if it did not. The
    // reporter hears from "the PSIRT", not from named staff.
    if side.is_some() {
        list.retain(|m| m.visibility == Visibility::Reporter);
        for m in &mut list {
            if !m.from_reporter {
                m.author = None;
            }
        }
    }
    Ok(list)
}

/// The messages with the display names of their authors.
pub async fn conversation(
    app: &App,
    who: &Caller,
    case: &Case,
) -> Result<(Vec<CaseMessage>, HashMap<UserId, String>)> {
    let list = messages(app, who, case).await?;
    let authors = list.iter().filter_map(|m| m.author).collect();
    let names = user_names(app, authors).await?;
    Ok((list, names))
}

/// A stored file of a case, if the caller may see the side of the case it belongs to.
pub async fn attachment(
    app: &App,
    who: &Caller,
    case: CaseNumber,
    id: AttachmentId,
) -> Result<(AttachmentMeta, Vec<u8>)> {
    let case = load(app, who, case).await?;
    let (meta, bytes) = app.store().get_attachment(id).await?;
    if meta.case_id != case.id {
        return Err(Error::NotFound);
    }
    if meta.visibility == Visibility::Internal {
        who.require(internals_action(&case))?;
    }
    Ok((meta, bytes))
}

/// A case's audit entries, oldest first, with the names of the people they name.
pub struct History {
    pub case: Case,
    pub entries: Vec<AuditEntry>,
    pub names: HashMap<UserId, String>,
}

pub async fn history(app: &App, who: &Caller, case: CaseNumber) -> Result<History> {
    let case = load(app, who, case).await?;
    who.require(internals_action(&case))?;
    let entries = app.store().audit_for(&case.subject()).await?;
    let ids = entries
        .iter()
        .filter_map(|e| e.actor.strip_prefix("user:"))
        .filter_map(|id| id.parse::<UserId>().ok())
        .collect();
    let names = user_names(app, ids).await?;
    Ok(History {
        case,
        entries,
        names,
    })
}
