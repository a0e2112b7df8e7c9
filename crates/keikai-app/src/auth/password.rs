//! Passwords: Argon2id with the crate's recommended parameters, off the async threads (one
//! hash takes tens of milliseconds of CPU). The store keeps only the PHC string.

use keikai_domain::Password;
use tokio::sync::OnceCell;

use crate::secret::random_secret;
use crate::{Error, Result};

/// The PHC string (Argon2id, random salt) of a password.
pub async fn hash_password(password: &Password) -> Result<String> {
    let pw = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::PasswordHasher;
        argon2::Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| Error::internal(format!("hashing task failed: {e}")))?
    .map_err(|e| Error::internal(format!("hashing failed: {e}")))
}

/// Whether `password` is the one `hash` was made from; a malformed hash matches nothing.
pub async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::PasswordVerifier;
        use argon2::password_hash::phc::PasswordHash;
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so that the answer takes as long
/// as for a real account and does not reveal which addresses have one.
pub(super) async fn dummy_hash() -> Result<String> {
    static DUMMY_HASH: OnceCell<String> = OnceCell::const_new();
    DUMMY_HASH
        .get_or_try_init(|| async {
            let pw = Password::parse(&random_secret())?;
            hash_password(&pw).await
        })
        .await
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let pw = Password::parse("correct horse battery staple").unwrap();
        let hash = hash_password(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(pw.expose()));
        assert!(verify_password(hash.clone(), pw.expose().to_owned()).await);
        assert!(!verify_password(hash, "correct horse battery stapler".to_owned()).await);
        assert!(!verify_password("not a hash".to_owned(), pw.expose().to_owned()).await);
        let dummy = dummy_hash().await.unwrap();
        assert!(!verify_password(dummy, pw.expose().to_owned()).await);
    }
}
