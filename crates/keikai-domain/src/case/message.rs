//! Messages on a case. Internal notes and the conversation with the reporter are one kind of
//! record with a visibility that never changes, so that a query for the reporter's side can
//! select by it and nothing else.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::vuln::long_text;
use crate::{AttachmentId, CaseId, DomainError, MessageId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Seen by the PSIRT and the team the case is routed to; never by the reporter.
    Internal,
    /// The conversation with the reporter.
    Reporter,
}

impl Visibility {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::Reporter => "reporter",
        }
    }
}

impl std::str::FromStr for Visibility {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "internal" => Ok(Self::Internal),
            "reporter" => Ok(Self::Reporter),
            other => Err(DomainError::invalid(
                "visibility",
                format!("\"{other}\" is not a visibility (internal or reporter)"),
            )),
        }
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
