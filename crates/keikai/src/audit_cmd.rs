//! `keikai audit …`: checks on the hash-chained audit log.

use std::process::ExitCode;

use clap::Subcommand;
use keikai_app::Caller;
use keikai_app::admin::audit::{self, Verification};

use crate::UserError;
use crate::admin::app_error;
use crate::config::Config;
use crate::serve::{application, open_store};

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
    let verification = audit::verify(&application(config, store.clone()), &Caller::cli()).await;
    store.close().await;
    match verification.map_err(app_error)? {
        Verification::Intact { entries, head } => {
            println!("audit log intact: {entries} entries, head {head}");
            Ok(ExitCode::SUCCESS)
        }
        Verification::Broken(broken) => {
            eprintln!("audit log broken: {broken}");
            Ok(ExitCode::from(1))
        }
    }
}
