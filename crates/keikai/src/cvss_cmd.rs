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
            Ok(c) => {
                let s = c.scores();
                let version = c.version();
                let is_v4 = matches!(version, keikai_cvss::Version::V4_0);
                json!({
                    "vector": c.vector_string(),
                    "version": version.to_string(),
                    "base": s.base,
                    // CVSS 4.0 has one score whose nomenclature says which groups it covers.
                    "temporal": s.temporal,
                    "environmental": s.environmental,
                    "severity": s.base_severity,
                    "temporal_severity": s.temporal_severity,
                    "environmental_severity": s.environmental_severity,
                    "nomenclature": match &c { keikai_cvss::Cvss::V4(v4) if is_v4 => Some(v4.nomenclature()), _ => None },
                })
            }
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
