//! `keikai export DIR`: the public site as files, for a static web server or a CDN; and
//! `keikai key`: the provider's OpenPGP signing key.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use keikai_app::{App, Caller};
use keikai_store::Store;

use crate::UserError;
use crate::config::Config;

/// The application on the configured database, without serving it.
async fn open_app(config: &Config) -> anyhow::Result<(App, Arc<dyn Store>)> {
    let store = crate::serve::open_store(config).await?;
    store
        .check_schema()
        .await
        .map_err(|e| UserError(e.to_string()))?;
    let app = crate::serve::application(config, store.clone());
    Ok((app, store))
}

/// Writes every public file under `dir` (created if needed). Files are written to a temporary
/// name and renamed, so a web server never serves half a file.
pub async fn export(config: &Config, dir: &Path) -> anyhow::Result<ExitCode> {
    let (app, store) = open_app(config).await?;
    let files = keikai_app::public::tree(&app).await?;
    let mut bytes = 0usize;
    for f in &files {
        let path = safe_join(dir, &f.path)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| UserError(format!("cannot create {}: {e}", parent.display())))?;
        }
        let tmp = path.with_extension("keikai-tmp");
        std::fs::write(&tmp, &f.bytes)
            .map_err(|e| UserError(format!("cannot write {}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| UserError(format!("cannot write {}: {e}", path.display())))?;
        bytes += f.bytes.len();
    }
    println!(
        "Exported {} files ({} bytes) to {}",
        files.len(),
        bytes,
        dir.display()
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `dir/relative`, refusing anything that would leave `dir`.
fn safe_join(dir: &Path, relative: &str) -> anyhow::Result<PathBuf> {
    let rel = Path::new(relative);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(UserError(format!(
            "refusing to write outside the export folder: {relative}"
        ))
        .into());
    }
    Ok(dir.join(rel))
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Print the provider's public key (ASCII armor); makes the key on first use.
    Show,
    /// Use an existing OpenPGP secret key (ASCII armor, unprotected) as the provider key.
    /// Refused when a key exists, since documents already signed name it.
    Import {
        /// The armored secret key file.
        file: PathBuf,
    },
}

pub async fn key(config: &Config, cmd: KeyCommand) -> anyhow::Result<ExitCode> {
    let (app, store) = open_app(config).await?;
    match cmd {
        KeyCommand::Show => {
            let key = keikai_app::publishing::provider_key(&app).await?;
            print!(
                "{}",
                key.public_key_armored()
                    .map_err(|e| anyhow::anyhow!("{e}"))?
            );
            eprintln!("fingerprint: {}", key.fingerprint());
        }
        KeyCommand::Import { file } => {
            let armored = std::fs::read_to_string(&file)
                .map_err(|e| UserError(format!("cannot read {}: {e}", file.display())))?;
            let fingerprint = keikai_app::publishing::import_key(&app, &Caller::cli(), &armored)
                .await
                .map_err(|e| match e {
                    // The file is not a usable key, or a key exists: the operator's to fix.
                    keikai_app::Error::Invalid { message, .. } => {
                        UserError(format!("{}: {message}", file.display())).into()
                    }
                    keikai_app::Error::Conflict(message) => UserError(message).into(),
                    other => anyhow::Error::from(other),
                })?;
            println!("Imported the provider key {fingerprint}");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
