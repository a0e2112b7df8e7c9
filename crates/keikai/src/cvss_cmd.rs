//! `keikai cvss score VECTOR…`: scores vectors and prints one JSON object per line.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum CvssCommand {
    /// Score CVSS 2.0, 3.0, 3.1 or 4.0 vectors; prints one JSON object per vector.
    Score {
        /// Vectors such as CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
        #[arg(required = true)]
        vectors: Vec<String>,
    },
}

pub fn run(cmd: CvssCommand) -> ExitCode {
    let CvssCommand::Score { vectors } = cmd;
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for v in vectors {
        let line = match keikai_cvss::parse(&v) {
            // The same record as `GET /api/v1/cvss` returns.
            Ok(c) => serde_json::to_value(c.report())
                .unwrap_or_else(|e| json!({ "vector": v, "error": e.to_string() })),
            Err(e) => {
                failed = true;
                json!({ "vector": v, "error": e.to_string() })
            }
        };
        let _ = writeln!(out, "{line}");
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
