//! The `keikai` binary: one program that serves the web interface and API, manages the
//! database and accounts, and offers the format tools (CVSS scoring, CSAF validation).

mod admin;
mod audit_cmd;
mod config;
mod csaf_cmd;
mod cvss_cmd;
mod export_cmd;
mod serve;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Config, Overrides};

#[derive(Parser)]
#[command(
    name = "keikai",
    version,
    about = "Keikai (警戒): vulnerability response for PSIRTs and CSIRTs",
    long_about = "Keikai runs a product security team's vulnerability response: intake, triage, \
                  cases, advisories (CSAF 2.0), releases and distribution.\n\n\
                  Start it with `keikai serve`: with no configuration it keeps its data in \
                  ./keikai-data/keikai.db (SQLite) and listens on http://127.0.0.1:8080. \
                  Several instances can share one PostgreSQL database (--database-url postgres://…)."
)]
struct Cli {
    /// A TOML configuration file (keys: listen, data_dir, database_url, organisation_name,
    /// admin_email, public_url, session_ttl_hours). Flags and KEIKAI_* variables override it.
    #[arg(long, global = true, env = "KEIKAI_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "KEIKAI_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Where the SQLite database and other local data live [default: ./keikai-data].
    #[arg(long, global = true, env = "KEIKAI_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB [default: sqlite://DATA_DIR/keikai.db].
    #[arg(long, global = true, env = "KEIKAI_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web interface and API (migrates the database and, on first start, creates
    /// an administrator).
    Serve {
        /// ADDRESS:PORT to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "KEIKAI_LISTEN", value_name = "ADDR:PORT")]
        listen: Option<String>,
    },
    /// Print the effective configuration (passwords redacted) and exit.
    CheckConfig,
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCommand),
    /// Account administration from the command line.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// CVSS tools.
    #[command(subcommand)]
    Cvss(cvss_cmd::CvssCommand),
    /// CSAF 2.0 tools.
    #[command(subcommand)]
    Csaf(csaf_cmd::CsafCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCommand),
    /// Write the public site (advisories, feeds, the CSAF provider tree) into DIR, for a
    /// static web server or a CDN.
    Export {
        /// The folder to write into (created if needed).
        dir: PathBuf,
    },
    /// The provider's OpenPGP key that signs CSAF documents.
    #[command(subcommand)]
    Key(export_cmd::KeyCommand),
}

#[derive(Subcommand)]
enum DbCommand {
    /// Apply pending migrations and exit.
    Migrate,
}

/// A failure the user can fix: printed as one line, exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "keikai: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let overrides = |listen: Option<String>| Overrides {
        listen,
        data_dir: cli.db.data_dir.clone(),
        database_url: cli.db.database_url.clone(),
    };
    let load = |listen| {
        Config::load(cli.config.as_deref(), &overrides(listen))
            .map_err(|e| UserError(e.to_string()))
    };
    match cli.command {
        Command::Cvss(cmd) => Ok(cvss_cmd::run(cmd)),
        Command::Csaf(cmd) => csaf_cmd::run(cmd),
        Command::CheckConfig => {
            let config = load(None)?;
            print!("{}", config.to_redacted_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { listen } => {
            let config = load(listen)?;
            runtime()?.block_on(serve::serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Db(DbCommand::Migrate) => {
            let config = load(None)?;
            runtime()?.block_on(async {
                let store = serve::open_store(&config).await?;
                store
                    .migrate()
                    .await
                    .map_err(|e| UserError(e.to_string()))?;
                println!("database is up to date");
                store.close().await;
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(cmd) => {
            let config = load(None)?;
            runtime()?.block_on(admin::run(&config, cmd))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(cmd) => {
            let config = load(None)?;
            runtime()?.block_on(audit_cmd::run(&config, cmd))
        }
        Command::Export { dir } => {
            let config = load(None)?;
            runtime()?.block_on(export_cmd::export(&config, &dir))
        }
        Command::Key(cmd) => {
            let config = load(None)?;
            runtime()?.block_on(export_cmd::key(&config, cmd))
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KEIKAI_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
