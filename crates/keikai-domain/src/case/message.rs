//! Messages on a case. Internal notes and the conversation with the reporter are one kind of
//! record with a visibility that never changes, so that a query for the reporter's side can
//! select by it and nothing else.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::vuln::long_text;
use crate::{AttachmentId, CaseId, DomainError, MessageId, UserId};

crate::names! {
    pub enum Visibility("visibility", "a visibility") {
        /// Seen by the PSIRT and the team the case is routed to; never by the reporter.
        Internal = "internal",
        /// The conversation with the reporter.
        Reporter = "reporter",
    }
}

/// The text of a message: not empty, at most 50,000 characters.
pub fn message_body(s: &str) -> Result<String, DomainError> {
    let body = long_text("body", s, 50_000)?;
    if body.is_empty() {
        return Err(DomainError::invalid("body", "must not be empty"));
    }
    Ok(body)
}

/// A file kept with a case, as listed (the bytes are fetched separately).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttachmentMeta {
    pub id: AttachmentId,
    pub case_id: CaseId,
    pub message_id: Option<MessageId>,
    /// Internal attachments are never offered to the reporter.
    pub visibility: Visibility,
    pub file_name: String,
    /// Sniffed from the bytes, never taken from the client.
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseMessage {
    pub id: MessageId,
    pub case_id: CaseId,
    pub visibility: Visibility,
    /// The PSIRT member or engineer who wrote it; `None` when the reporter wrote it through
    /// the tracking link.
    pub author: Option<UserId>,
    pub from_reporter: bool,
    pub body: String,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    pub attachments: Vec<AttachmentMeta>,
}
