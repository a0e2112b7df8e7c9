//! `keikai export DIR`: the public site as files, for a static web server or a CDN; and
//! `keikai key`: the provider's OpenPGP signing key.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use keikai_domain::SystemClock;

use crate::UserError;
use crate::config::Config;

/// Writes every public file under `dir` (created if needed). Files are written to a temporary
/// name and renamed, so a web server never serves half a file.
pub async fn export(config: &Config, dir: &Path) -> anyhow::Result<ExitCode> {
    let store = crate::serve::open_store(config).await?;
    store
        .check_schema()
        .await
        .map_err(|e| UserError(e.to_string()))?;
    let state = keikai_web::AppState::new(store.clone(), config.web(), Arc::new(SystemClock));
    let files = keikai_web::public_site::public_tree(&state)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
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
    let store = crate::serve::open_store(config).await?;
    store
        .check_schema()
        .await
        .map_err(|e| UserError(e.to_string()))?;
    match cmd {
        KeyCommand::Show => {
            let state =
                keikai_web::AppState::new(store.clone(), config.web(), Arc::new(SystemClock));
            let key = keikai_web::publishing::provider_key(&state)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
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
            let key = keikai_openpgp::ProviderKey::from_armored_secret(&armored)
                .map_err(|e| UserError(format!("{}: {e}", file.display())))?;
            let normalised = key
                .to_armored_secret()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let stored = store
                .put_setting_if_absent(keikai_web::publishing::KEY_SETTING, &normalised)
                .await?;
            if stored != normalised {
                return Err(UserError(
                    "a provider key exists already; documents published so far are signed with it"
                        .to_owned(),
                )
                .into());
            }
            println!("Imported the provider key {}", key.fingerprint());
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
