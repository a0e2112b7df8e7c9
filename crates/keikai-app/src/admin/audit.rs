//! Reading the audit log, page by page, for export and outside verification (each entry
//! carries its hash and the previous entry's).

use keikai_domain::Action;
use keikai_domain::audit::AuditEntry;

use crate::{App, Caller, Result};

/// How many entries a page has unless asked for fewer or more.
pub const DEFAULT_PAGE: u32 = 500;
/// The most entries one page may have.
pub const MAX_PAGE: u32 = 5000;

/// The entries after sequence number `after` (0: from the start), at most `limit` of them
/// (kept within 1..=[`MAX_PAGE`]), in order.
pub async fn page(app: &App, who: &Caller, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
    who.require(Action::ViewAudit)?;
    Ok(app
        .store()
        .audit_page(after, limit.clamp(1, MAX_PAGE))
        .await?)
}
