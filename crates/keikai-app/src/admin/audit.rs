//! Reading the audit log, page by page, for export and outside verification (each entry
//! carries its hash and the previous entry's), and checking the whole chain.

use keikai_domain::Action;
use keikai_domain::audit::{AuditEntry, ChainBreak, ChainVerifier, GENESIS};

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

/// Entries read per query when checking the chain.
const VERIFY_PAGE: u32 = 1000;

/// What checking the whole chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every entry's hash and link hold, and the chain ends at the recorded head.
    Intact {
        entries: u64,
        /// The last entry's hash (the genesis hash for an empty log).
        head: String,
    },
    /// An entry was changed, removed or added out of order.
    Broken(ChainBreak),
}

/// Reads the whole log, page by page (its length is no limit), and checks every entry's
/// hash, its link to the entry before it, and the end of the chain against the head
/// recorded beside it.
pub async fn verify(app: &App, who: &Caller) -> Result<Verification> {
    who.require(Action::ViewAudit)?;
    let store = app.store();
    let mut verifier = ChainVerifier::new();
    let mut after = 0;
    loop {
        let page = store.audit_page(after, VERIFY_PAGE).await?;
        for entry in &page {
            if let Err(broken) = verifier.push(entry) {
                return Ok(Verification::Broken(broken));
            }
        }
        match page.last() {
            Some(last) if page.len() == VERIFY_PAGE as usize => after = last.seq,
            _ => break,
        }
    }
    // An empty log records its head as entry 0 with the genesis hash.
    let head = store
        .audit_head()
        .await?
        .filter(|(seq, hash)| !(*seq == 0 && hash == GENESIS));
    Ok(
        match verifier.finish(head.as_ref().map(|(s, h)| (*s, h.as_str()))) {
            Ok(entries) => Verification::Intact {
                entries,
                head: head.map_or_else(|| GENESIS.to_owned(), |(_, h)| h),
            },
            Err(broken) => Verification::Broken(broken),
        },
    )
}
