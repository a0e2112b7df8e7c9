//! `keikai audit …`: checks on the hash-chained audit log.

use std::process::ExitCode;

use clap::Subcommand;
use keikai_domain::audit::{ChainVerifier, GENESIS};

use crate::UserError;
use crate::config::Config;
use crate::serve::open_store;

/// Entries read per query: the chain is checked page by page, so its length is no limit.
const PAGE: u32 = 1000;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Read the whole audit log and check every entry's hash and its link to the entry
    /// before it, and the end of the chain against the head recorded beside it. Exit status
    /// 0 when intact, 1 when an entry was changed or removed (the message names it).
    Verify,
}

pub async fn run(config: &Config, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify = cmd;
    let store = open_store(config).await?;
    store
        .check_schema()
        .await
        .map_err(|e| UserError(e.to_string()))?;
    let mut verifier = ChainVerifier::new();
    let mut after = 0;
    loop {
        let page = store.audit_page(after, PAGE).await?;
        for entry in &page {
            if let Err(broken) = verifier.push(entry) {
                store.close().await;
                eprintln!("audit log broken: {broken}");
                return Ok(ExitCode::from(1));
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = last.seq,
            _ => break,
        }
    }
    // An empty log records its head as entry 0 with the genesis hash.
    let head = store
        .audit_head()
        .await?
        .filter(|(seq, hash)| !(*seq == 0 && hash == GENESIS));
    store.close().await;
    match verifier.finish(head.as_ref().map(|(s, h)| (*s, h.as_str()))) {
        Ok(n) => {
            let hash = head.as_ref().map_or(GENESIS, |(_, h)| h.as_str());
            println!("audit log intact: {n} entries, head {hash}");
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            eprintln!("audit log broken: {broken}");
            Ok(ExitCode::from(1))
        }
    }
}
