//! The provider's OpenPGP signing key, shared by every instance through the database.

use std::sync::Arc;

use keikai_domain::Action;
use keikai_domain::audit::Change;
use keikai_openpgp::ProviderKey;

use crate::{App, Caller, Error, Result};

/// Where the provider's signing key is kept (armored secret key), shared by every instance.
pub const KEY_SETTING: &str = "openpgp.provider_key";

/// The signing key: read from the database, or made on first use. When two instances start
/// together, the first to store its key wins and the other uses that one.
pub async fn provider_key(app: &App) -> Result<Arc<ProviderKey>> {
    if let Some(k) = app.inner.provider_key.get() {
        return Ok(k.clone());
    }
    let armored = match app.store().setting(KEY_SETTING).await? {
        Some(a) => a,
        None => {
            let user_id = format!(
                "{} (CSAF signing key)",
                app.config().publishing.publisher.name
            );
            let key = ProviderKey::generate(&user_id, app.now())
                .map_err(|e| Error::internal(format!("cannot make the signing key: {e}")))?;
            let armored = key
                .to_armored_secret()
                .map_err(|e| Error::internal(format!("cannot encode the signing key: {e}")))?;
            let made = key_change("publishing.key_created", &key);
            let fx = app.effects(&Caller::system()).with_audit(made);
            app.store()
                .put_setting_if_absent(KEY_SETTING, &armored, &fx)
                .await?
        }
    };
    let key = ProviderKey::from_armored_secret(&armored)
        .map_err(|e| Error::internal(format!("the stored signing key is unreadable: {e}")))?;
    let key = Arc::new(key);
    Ok(app.inner.provider_key.get_or_init(|| key).clone())
}

/// Makes an organisation's own OpenPGP secret key (ASCII armor, unprotected) the provider
/// key, while there is none yet: documents published so far are signed with the key there
/// is, so it is never replaced. Returns the key's fingerprint.
pub async fn import_key(app: &App, who: &Caller, armored: &str) -> Result<String> {
    who.require(Action::ManageReleases)?;
    let key = ProviderKey::from_armored_secret(armored)
        .map_err(|e| Error::invalid("key", format!("key: {e}")))?;
    let normalised = key
        .to_armored_secret()
        .map_err(|e| Error::internal(format!("cannot encode the signing key: {e}")))?;
    let fx = app
        .effects(who)
        .with_audit(key_change("publishing.key_imported", &key));
    let stored = app
        .store()
        .put_setting_if_absent(KEY_SETTING, &normalised, &fx)
        .await?;
    if stored != normalised {
        return Err(Error::conflict(
            "a provider key exists already; documents published so far are signed with it",
        ));
    }
    Ok(key.fingerprint())
}

/// The audit entry of a provider key coming into use: its fingerprint, never the key.
fn key_change(action: &'static str, key: &ProviderKey) -> Change {
    Change::new(
        action,
        "provider-key",
        (),
        serde_json::json!({ "fingerprint": key.fingerprint() }),
    )
}
