//! The provider's OpenPGP key and the detached signatures (`.asc`) that CSAF 2.0 (section 7.1.20)
//! asks for beside every published document.
//!
//! Keys are v4 Ed25519 (EdDSA, "Ed25519Legacy" in rPGP): GnuPG 2.2, still common on Debian and
//! RHEL, verifies those but not the RFC 9580 v6 Ed25519 keys. Signatures are binary signatures
//! over SHA-256, so a document signs byte for byte as it is served.
//!
//! No I/O: callers store the armoured secret key (encrypted at rest, outside this crate) and
//! publish [`ProviderKey::public_key_armored`].
//!
//! The other direction is encryption to someone else's key ([`encrypt_to`]): a subscriber's
//! public key, usually made by GnuPG, so the message is SEIPD v1 (with MDC), which GnuPG 2.2
//! decrypts; the newer SEIPD v2 (AEAD) it does not.

use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, KeyType, MessageBuilder,
    SecretKeyParamsBuilder, SignedPublicKey, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::packet::{PublicKey, PublicSubkey, Signature, SignatureType};
use pgp::types::{KeyDetails, Password, Tag, Timestamp as PgpTimestamp};

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
    #[error(
        "this is a secret key, not a public key (expected \"{PUBLIC_KEY_HEADER}\", as \
         `gpg --armor --export` writes it; never hand out the secret key)"
    )]
    NotPublicKey,
    #[error("the key {fingerprint} has been revoked by its owner")]
    KeyRevoked { fingerprint: String },
    #[error("the key {fingerprint} expired at {expired}")]
    KeyExpired {
        fingerprint: String,
        expired: jiff::Timestamp,
    },
    #[error(
        "the key {fingerprint} has no key that can encrypt (none is flagged for encryption, or \
         those that are have expired or been revoked); add one, e.g. \
         `gpg --quick-add-key {fingerprint} cv25519 encr`"
    )]
    NoEncryptionKey { fingerprint: String },
    #[error("encrypting failed: {0}")]
    Encrypt(#[source] pgp::errors::Error),
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
        self.armored_signature(data, false)
    }

    /// Like [`Self::sign_detached`], but a text signature (type 0x01): line ends count as
    /// CRLF whether `data` has CRLF or LF. PGP/MIME (RFC 3156) uses these, since a mail reader
    /// may hand the signed part to the verifier with either.
    pub fn sign_detached_text(&self, data: &[u8]) -> Result<String> {
        self.armored_signature(data, true)
    }

    /// A detached SHA-256 signature of `data`, binary or text, armoured.
    fn armored_signature(&self, data: &[u8], text: bool) -> Result<String> {
        let rng = rand_08::rngs::OsRng;
        let key = &self.key.primary_key;
        let password = Password::empty();
        let signature = if text {
            DetachedSignature::sign_text_data(rng, key, &password, HashAlgorithm::Sha256, data)
        } else {
            DetachedSignature::sign_binary_data(rng, key, &password, HashAlgorithm::Sha256, data)
        }
        .map_err(Error::Sign)?;
        signature
            .to_armored_string(ArmorOptions::default())
            .map_err(Error::Armor)
    }
}

/// What a public key (someone else's, e.g. a subscriber's) is, as far as sending to it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// The primary key's fingerprint, upper-case hex without spaces.
    pub fingerprint: String,
    /// The user ids the key certifies itself (revoked ones left out).
    pub user_ids: Vec<String>,
    /// Whether [`encrypt_to`] can use the key now: it has a key flagged for encryption
    /// that has neither expired nor been revoked.
    pub can_encrypt: bool,
}

/// Reads and checks an armoured public key (`-----BEGIN PGP PUBLIC KEY BLOCK-----`), e.g. the
/// one a subscriber gives. Errors when it is no public key, is damaged, or has been revoked
/// or has expired (now); a key that merely cannot encrypt comes back with
/// `can_encrypt: false`.
pub fn inspect_public_key(armored: &str) -> Result<PublicKeyInfo> {
    inspect_public_key_at(armored, jiff::Timestamp::now())
}

/// [`inspect_public_key`] as of `now` (an injected clock).
pub fn inspect_public_key_at(armored: &str, now: jiff::Timestamp) -> Result<PublicKeyInfo> {
    let key = parse_public(armored)?;
    let state = KeyState::of(&key, now)?;
    Ok(PublicKeyInfo {
        fingerprint: state.fingerprint,
        user_ids: state.user_ids,
        can_encrypt: state.encryption_key.is_some(),
    })
}

/// `data` encrypted to `public_armored`'s newest valid encryption subkey (or its primary key
/// if only that is flagged for encryption), as an ASCII-armoured OpenPGP message
/// (`-----BEGIN PGP MESSAGE-----`): SEIPD v1 with AES-256 (AES-128 if the key's preferences
/// exclude AES-256), no compression, so `gpg --decrypt` gives back exactly `data`.
pub fn encrypt_to(public_armored: &str, data: &[u8]) -> Result<String> {
    encrypt_to_at(public_armored, data, jiff::Timestamp::now())
}

/// [`encrypt_to`] with the key's validity judged as of `now`.
pub fn encrypt_to_at(public_armored: &str, data: &[u8], now: jiff::Timestamp) -> Result<String> {
    let key = parse_public(public_armored)?;
    let state = KeyState::of(&key, now)?;
    let Some(recipient) = state.encryption_key else {
        return Err(Error::NoEncryptionKey {
            fingerprint: state.fingerprint,
        });
    };
    let mut rng = rand_08::rngs::OsRng;
    let mut builder =
        MessageBuilder::from_bytes("", data.to_vec()).seipd_v1(&mut rng, state.cipher);
    match recipient {
        Recipient::Primary(k) => builder.encrypt_to_key(&mut rng, k),
        Recipient::Subkey(k) => builder.encrypt_to_key(&mut rng, k),
    }
    .map_err(Error::Encrypt)?;
    builder
        .to_armored_string(rng, ArmorOptions::default())
        .map_err(Error::Encrypt)
}

fn parse_public(armored: &str) -> Result<SignedPublicKey> {
    if armored.contains(SECRET_KEY_HEADER) {
        return Err(Error::NotPublicKey);
    }
    if !armored.contains(PUBLIC_KEY_HEADER) {
        return Err(Error::NotArmored("PUBLIC KEY BLOCK"));
    }
    let (key, _headers) =
        SignedPublicKey::from_string(armored).map_err(|source| Error::Damaged {
            what: "public key",
            source,
        })?;
    Ok(key)
}

enum Recipient<'a> {
    Primary(&'a PublicKey),
    Subkey(&'a PublicSubkey),
}

/// A public key judged at one moment. Only self-signatures count: a key from a keyserver may
/// carry third-party certifications, which say nothing about its validity (and which rPGP's
/// `verify_bindings` would reject), so signatures that do not verify with the primary key are
/// skipped rather than refused.
struct KeyState<'a> {
    fingerprint: String,
    user_ids: Vec<String>,
    encryption_key: Option<Recipient<'a>>,
    cipher: SymmetricKeyAlgorithm,
}

impl<'a> KeyState<'a> {
    fn of(key: &'a SignedPublicKey, now: jiff::Timestamp) -> Result<Self> {
        let primary = &key.primary_key;
        let fingerprint = format!("{:X}", primary.fingerprint());
        // Before 1970 nothing is valid yet; after 2106 everything has expired.
        let now = u32::try_from(now.as_second().max(0)).unwrap_or(u32::MAX);

        if key
            .details
            .revocation_signatures
            .iter()
            .any(|sig| sig.verify_key(primary).is_ok())
        {
            return Err(Error::KeyRevoked { fingerprint });
        }

        let mut user_ids = Vec::new();
        let mut self_sig: Option<&Signature> = None;
        for user in &key.details.users {
            let mut certification: Option<&Signature> = None;
            let mut revoked = false;
            for sig in &user.signatures {
                if sig
                    .verify_certification(primary, Tag::UserId, &user.id)
                    .is_err()
                {
                    continue;
                }
                match sig.typ() {
                    Some(SignatureType::CertRevocation) => revoked = true,
                    Some(
                        SignatureType::CertGeneric
                        | SignatureType::CertPersona
                        | SignatureType::CertCasual
                        | SignatureType::CertPositive,
                    ) => certification = newer(certification, sig),
                    _ => {}
                }
            }
            if let (Some(sig), false) = (certification, revoked) {
                user_ids.push(String::from_utf8_lossy(user.id.id()).into_owned());
                self_sig = newer(self_sig, sig);
            }
        }
        for sig in &key.details.direct_signatures {
            if sig.typ() == Some(SignatureType::Key) && sig.verify_key(primary).is_ok() {
                self_sig = newer(self_sig, sig);
            }
        }

        if let Some(end) = self_sig.and_then(|sig| expiry(primary.created_at(), sig))
            && end <= u64::from(now)
        {
            let expired = i64::try_from(end)
                .ok()
                .and_then(|s| jiff::Timestamp::from_second(s).ok())
                .unwrap_or(jiff::Timestamp::MAX);
            return Err(Error::KeyExpired {
                fingerprint,
                expired,
            });
        }

        // GnuPG's choice: the newest valid encryption subkey, else the primary key.
        let mut subkey: Option<&PublicSubkey> = None;
        for sub in &key.public_subkeys {
            if !sub.key.algorithm().can_encrypt() {
                continue;
            }
            let mut binding: Option<&Signature> = None;
            let mut revoked = false;
            for sig in &sub.signatures {
                if sig.verify_subkey_binding(primary, &sub.key).is_err() {
                    continue;
                }
                match sig.typ() {
                    Some(SignatureType::SubkeyRevocation) => revoked = true,
                    Some(SignatureType::SubkeyBinding) => binding = newer(binding, sig),
                    _ => {}
                }
            }
            let Some(binding) = binding else { continue };
            let usable = !revoked
                && encrypts(binding)
                && expiry(sub.key.created_at(), binding).is_none_or(|end| end > u64::from(now));
            if usable && subkey.is_none_or(|s| s.created_at() < sub.key.created_at()) {
                subkey = Some(&sub.key);
            }
        }
        let encryption_key = match subkey {
            Some(sub) => Some(Recipient::Subkey(sub)),
            None => self_sig
                .filter(|sig| primary.algorithm().can_encrypt() && encrypts(sig))
                .map(|_| Recipient::Primary(primary)),
        };

        // AES-128 is the one cipher every implementation must have (RFC 9580 section 9.3).
        let preferred = self_sig
            .map(Signature::preferred_symmetric_algs)
            .unwrap_or_default();
        let cipher = if preferred.is_empty() || preferred.contains(&SymmetricKeyAlgorithm::AES256) {
            SymmetricKeyAlgorithm::AES256
        } else {
            SymmetricKeyAlgorithm::AES128
        };

        Ok(Self {
            fingerprint,
            user_ids,
            encryption_key,
            cipher,
        })
    }
}

/// The later-made of two signatures.
fn newer<'s>(current: Option<&'s Signature>, candidate: &'s Signature) -> Option<&'s Signature> {
    match current {
        Some(c) if c.created() >= candidate.created() => Some(c),
        _ => Some(candidate),
    }
}

/// Whether a self-signature flags its key for encryption (of messages or of storage).
fn encrypts(sig: &Signature) -> bool {
    let flags = sig.key_flags();
    flags.encrypt_comms() || flags.encrypt_storage()
}

/// When a key created at `created` expires by `sig` (seconds since 1970), if it does.
fn expiry(created: PgpTimestamp, sig: &Signature) -> Option<u64> {
    let after = sig.key_expiration_time()?.as_secs();
    // Zero means "does not expire".
    (after != 0).then(|| u64::from(created.as_secs()) + u64::from(after))
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

    #[test]
    fn text_signatures_ignore_the_kind_of_line_end() {
        let key = key();
        let public = key.public_key_armored().expect("public");
        let sig = key
            .sign_detached_text(b"line 1\r\nline 2\r\n")
            .expect("sign");
        assert!(sig.starts_with(SIGNATURE_HEADER), "{sig}");
        verify_detached(&public, b"line 1\r\nline 2\r\n", &sig).expect("CRLF verifies");
        verify_detached(&public, b"line 1\nline 2\n", &sig).expect("LF verifies");
        let err = verify_detached(&public, b"line 1\nline 3\n", &sig).expect_err("changed");
        assert!(matches!(err, Error::BadSignature), "{err}");
    }

    /// A recipient's key as rPGP makes it: Ed25519 primary, Curve25519 ECDH subkey.
    fn recipient() -> SignedSecretKey {
        use pgp::composed::{EncryptionCaps, SubkeyParamsBuilder};
        use pgp::crypto::ecc_curve::ECCCurve;
        let secs = u32::try_from(created().as_second()).expect("secs");
        let subkey = SubkeyParamsBuilder::default()
            .key_type(KeyType::ECDH(ECCCurve::Curve25519Legacy))
            .can_encrypt(EncryptionCaps::All)
            .created_at(PgpTimestamp::from_secs(secs))
            .build()
            .expect("subkey params");
        SecretKeyParamsBuilder::default()
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .created_at(PgpTimestamp::from_secs(secs))
            .primary_user_id("Subscriber <subscriber@example.com>".into())
            .subkeys(vec![subkey])
            .build()
            .expect("params")
            .generate(rand_08::rngs::OsRng)
            .expect("generate")
    }

    #[test]
    fn encrypts_to_a_recipients_subkey() {
        use pgp::composed::Message;
        let secret = recipient();
        let public = secret
            .to_public_key()
            .to_armored_string(ArmorOptions::default())
            .expect("armour");
        let info = inspect_public_key(&public).expect("inspect");
        assert_eq!(
            info,
            PublicKeyInfo {
                fingerprint: format!("{:X}", secret.primary_key.fingerprint()),
                user_ids: vec!["Subscriber <subscriber@example.com>".into()],
                can_encrypt: true,
            }
        );
        let data = "警戒のお知らせ\r\n\u{0}\u{ff}".as_bytes();
        let armored = encrypt_to(&public, data).expect("encrypt");
        assert!(
            armored.starts_with("-----BEGIN PGP MESSAGE-----"),
            "{armored}"
        );
        let (message, _) = Message::from_string(&armored).expect("parse");
        let mut plain = message
            .decrypt(&Password::empty(), &secret)
            .expect("decrypt");
        assert_eq!(plain.as_data_vec().expect("data"), data);
    }

    #[test]
    fn a_signing_only_key_cannot_be_encrypted_to() {
        let key = key();
        let public = key.public_key_armored().expect("public");
        let info = inspect_public_key(&public).expect("inspect");
        assert_eq!(info.fingerprint, key.fingerprint());
        assert_eq!(info.user_ids, [USER_ID]);
        assert!(!info.can_encrypt);
        match encrypt_to(&public, b"data") {
            Err(Error::NoEncryptionKey { fingerprint }) => {
                assert_eq!(fingerprint, key.fingerprint());
            }
            other => panic!("expected NoEncryptionKey, got {other:?}"),
        }
    }

    #[test]
    fn encryption_refuses_what_is_not_a_public_key() {
        let key = key();
        let secret = key.to_armored_secret().expect("secret");
        assert!(matches!(
            encrypt_to(&secret, b"data"),
            Err(Error::NotPublicKey)
        ));
        assert!(matches!(
            inspect_public_key(&secret),
            Err(Error::NotPublicKey)
        ));
        assert!(matches!(
            inspect_public_key("hello"),
            Err(Error::NotArmored("PUBLIC KEY BLOCK"))
        ));
        let public = key.public_key_armored().expect("public");
        let damaged = public.replacen('\n', "\n!!!!", 3);
        let err = inspect_public_key(&damaged).expect_err("damaged");
        assert!(matches!(err, Error::Damaged { .. }), "{err}");
    }
}
