//! The provider's OpenPGP key and the detached signatures (`.asc`) that CSAF 2.0 (section 7.1.20)
//! asks for beside every published document.
//!
//! Keys are v4 Ed25519 (EdDSA, "Ed25519Legacy" in rPGP): GnuPG 2.2, still common on Debian and
//! RHEL, verifies those but not the RFC 9580 v6 Ed25519 keys. Signatures are binary signatures
//! over SHA-256, so a document signs byte for byte as it is served.
//!
//! No I/O: callers store the armoured secret key (encrypted at rest, outside this crate) and
//! publish [`ProviderKey::public_key_armored`].

use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, KeyType, SecretKeyParamsBuilder,
    SignedPublicKey, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::{KeyDetails, Password, Timestamp as PgpTimestamp};

/// What went wrong with a key or a signature.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the user id is empty (expected e.g. \"Example PSIRT <psirt@example.com>\")")]
    EmptyUserId,
    #[error("the key creation time {0} is outside what OpenPGP can store (1970 to 2106)")]
    CreationTimeOutOfRange(jiff::Timestamp),
    #[error("generating the key failed: {0}")]
    Generate(#[source] pgp::errors::Error),
    #[error("generating the key failed: invalid parameters: {0}")]
    KeyParams(String),
    #[error("this is a public key, not a secret key (expected \"{SECRET_KEY_HEADER}\")")]
    NotSecretKey,
    #[error("not an ASCII-armoured {0} (expected a \"-----BEGIN PGP {0}-----\" line)")]
    NotArmored(&'static str),
    #[error("the armoured {what} is damaged or not valid OpenPGP: {source}")]
    Damaged {
        what: &'static str,
        #[source]
        source: pgp::errors::Error,
    },
    #[error(
        "the secret key is protected by a passphrase, which is not supported; export it without one"
    )]
    PassphraseProtected,
    #[error("the key's self-signatures do not verify: {0}")]
    BadSelfSignature(#[source] pgp::errors::Error),
    #[error("signing failed: {0}")]
    Sign(#[source] pgp::errors::Error),
    #[error("writing the armour failed: {0}")]
    Armor(#[source] pgp::errors::Error),
    #[error("the signature does not verify with this public key (wrong key or changed data)")]
    BadSignature,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

const SECRET_KEY_HEADER: &str = "-----BEGIN PGP PRIVATE KEY BLOCK-----";
const PUBLIC_KEY_HEADER: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const SIGNATURE_HEADER: &str = "-----BEGIN PGP SIGNATURE-----";

/// The provider's signing key (secret part included).
#[derive(Clone)]
pub struct ProviderKey {
    key: SignedSecretKey,
}

// The secret must never end up in logs.
impl std::fmt::Debug for ProviderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl ProviderKey {
    /// A new Ed25519 key that certifies and signs, with `user_id` as its primary user id.
    pub fn generate(user_id: &str, created: jiff::Timestamp) -> Result<Self> {
        let user_id = user_id.trim();
        if user_id.is_empty() {
            return Err(Error::EmptyUserId);
        }
        let secs = u32::try_from(created.as_second())
            .map_err(|_| Error::CreationTimeOutOfRange(created))?;
        let params = SecretKeyParamsBuilder::default()
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .created_at(PgpTimestamp::from_secs(secs))
            .preferred_hash_algorithms(vec![HashAlgorithm::Sha256, HashAlgorithm::Sha512].into())
            .primary_user_id(user_id.to_owned())
            .build()
            .map_err(|e| Error::KeyParams(e.to_string()))?;
        let key = params
            .generate(rand_08::rngs::OsRng)
            .map_err(Error::Generate)?;
        Ok(Self { key })
    }

    /// Imports an armoured secret key (`-----BEGIN PGP PRIVATE KEY BLOCK-----`), as
    /// `gpg --export-secret-keys --armor` writes it for a key without a passphrase.
    pub fn from_armored_secret(armored: &str) -> Result<Self> {
        if armored.contains(PUBLIC_KEY_HEADER) {
            return Err(Error::NotSecretKey);
        }
        if !armored.contains(SECRET_KEY_HEADER) {
            return Err(Error::NotArmored("PRIVATE KEY BLOCK"));
        }
        let (key, _headers) =
            SignedSecretKey::from_string(armored).map_err(|source| Error::Damaged {
                what: "secret key",
                source,
            })?;
        if key.primary_key.secret_params().is_encrypted() {
            return Err(Error::PassphraseProtected);
        }
        key.verify_bindings().map_err(Error::BadSelfSignature)?;
        Ok(Self { key })
    }

    /// The whole key, secret part included, ASCII-armoured. Store it encrypted.
    pub fn to_armored_secret(&self) -> Result<String> {
        self.key
            .to_armored_string(ArmorOptions::default())
            .map_err(Error::Armor)
    }

    /// The public key (certificate) that the provider publishes for verifiers.
    pub fn public_key_armored(&self) -> Result<String> {
        self.key
            .to_public_key()
            .to_armored_string(ArmorOptions::default())
            .map_err(Error::Armor)
    }

    /// The primary key's fingerprint as upper-case hex without spaces (40 digits for v4), as
    /// `gpg --with-colons` prints it.
    pub fn fingerprint(&self) -> String {
        format!("{:X}", self.key.primary_key.fingerprint())
    }

    /// An ASCII-armoured detached signature of `data` (`-----BEGIN PGP SIGNATURE-----`), the
    /// content of the `.asc` file next to the document.
    pub fn sign_detached(&self, data: &[u8]) -> Result<String> {
        let signature = DetachedSignature::sign_binary_data(
            rand_08::rngs::OsRng,
            &self.key.primary_key,
            &Password::empty(),
            HashAlgorithm::Sha256,
            data,
        )
        .map_err(Error::Sign)?;
        signature
            .to_armored_string(ArmorOptions::default())
            .map_err(Error::Armor)
    }
}

/// Checks that `sig_armored` is a valid detached signature of `data` by the primary key or a
/// subkey of `public_armored`.
pub fn verify_detached(public_armored: &str, data: &[u8], sig_armored: &str) -> Result<()> {
    if !public_armored.contains(PUBLIC_KEY_HEADER) {
        return Err(Error::NotArmored("PUBLIC KEY BLOCK"));
    }
    if !sig_armored.contains(SIGNATURE_HEADER) {
        return Err(Error::NotArmored("SIGNATURE"));
    }
    let (public, _headers) =
        SignedPublicKey::from_string(public_armored).map_err(|source| Error::Damaged {
            what: "public key",
            source,
        })?;
    let (signature, _headers) =
        DetachedSignature::from_string(sig_armored).map_err(|source| Error::Damaged {
            what: "signature",
            source,
        })?;
    if signature.verify(&public.primary_key, data).is_ok() {
        return Ok(());
    }
    // Imported keys may sign with a subkey rather than the primary key.
    if public
        .public_subkeys
        .iter()
        .any(|sub| signature.verify(&sub.key, data).is_ok())
    {
        return Ok(());
    }
    Err(Error::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER_ID: &str = "Example PSIRT <psirt@example.com>";

    fn created() -> jiff::Timestamp {
        "2026-01-02T03:04:05Z".parse().expect("timestamp")
    }

    fn key() -> ProviderKey {
        ProviderKey::generate(USER_ID, created()).expect("generate")
    }

    #[test]
    fn signs_and_verifies() {
        let key = key();
        let public = key.public_key_armored().expect("public");
        assert!(public.starts_with(PUBLIC_KEY_HEADER), "{public}");
        let data = br#"{"document":{"title":"x"}}"#;
        let sig = key.sign_detached(data).expect("sign");
        assert!(sig.starts_with(SIGNATURE_HEADER), "{sig}");
        verify_detached(&public, data, &sig).expect("verifies");
    }

    #[test]
    fn tampered_data_fails() {
        let key = key();
        let public = key.public_key_armored().expect("public");
        let sig = key.sign_detached(b"original").expect("sign");
        let err = verify_detached(&public, b"originaL", &sig).expect_err("tampered");
        assert!(matches!(err, Error::BadSignature), "{err}");
    }

    #[test]
    fn wrong_key_fails() {
        let signer = key();
        let other = key();
        assert_ne!(signer.fingerprint(), other.fingerprint());
        let sig = signer.sign_detached(b"data").expect("sign");
        let other_public = other.public_key_armored().expect("public");
        let err = verify_detached(&other_public, b"data", &sig).expect_err("wrong key");
        assert!(matches!(err, Error::BadSignature), "{err}");
    }

    #[test]
    fn export_import_keeps_fingerprint_and_signs() {
        let key = key();
        let fp = key.fingerprint();
        assert_eq!(fp.len(), 40);
        assert!(
            fp.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        let armored = key.to_armored_secret().expect("export");
        assert!(armored.starts_with(SECRET_KEY_HEADER), "{armored}");
        let imported = ProviderKey::from_armored_secret(&armored).expect("import");
        assert_eq!(imported.fingerprint(), fp);
        // The imported key signs in a way the original's published key accepts.
        let sig = imported.sign_detached(b"data").expect("sign");
        verify_detached(&key.public_key_armored().expect("public"), b"data", &sig)
            .expect("verifies");
    }

    #[test]
    fn creation_time_is_part_of_the_key() {
        // Same creation time, different key material: fingerprints differ anyway, but the
        // creation time must be the one asked for (it is hashed into the fingerprint).
        let key = key();
        assert_eq!(
            i64::from(key.key.primary_key.created_at().as_secs()),
            created().as_second()
        );
    }

    #[test]
    fn rejects_bad_inputs() {
        assert!(matches!(
            ProviderKey::generate("  ", created()),
            Err(Error::EmptyUserId)
        ));
        let before_1970: jiff::Timestamp = "1969-12-31T23:59:59Z".parse().expect("ts");
        assert!(matches!(
            ProviderKey::generate(USER_ID, before_1970),
            Err(Error::CreationTimeOutOfRange(_))
        ));

        let key = key();
        let public = key.public_key_armored().expect("public");
        assert!(matches!(
            ProviderKey::from_armored_secret(&public),
            Err(Error::NotSecretKey)
        ));
        assert!(matches!(
            ProviderKey::from_armored_secret("hello"),
            Err(Error::NotArmored(_))
        ));

        // Damage the base64 body of the armour.
        let armored = key.to_armored_secret().expect("export");
        let damaged = armored.replacen('\n', "\n!!!!", 3);
        let err = ProviderKey::from_armored_secret(&damaged).expect_err("damaged");
        assert!(matches!(err, Error::Damaged { .. }), "{err}");

        let sig = key.sign_detached(b"data").expect("sign");
        assert!(matches!(
            verify_detached(&public, b"data", "not a signature"),
            Err(Error::NotArmored("SIGNATURE"))
        ));
        assert!(matches!(
            verify_detached("", b"data", &sig),
            Err(Error::NotArmored("PUBLIC KEY BLOCK"))
        ));
    }
}
