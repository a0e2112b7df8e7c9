//! Checks our keys and signatures with the real GnuPG, which is what CSAF consumers run.
//!
//! Without `gpg` on PATH the tests say that they skip, except under CI (`CI` set), where a
//! missing `gpg` fails: `.ci/run` installs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use keikai_openpgp::{
    Error, ProviderKey, encrypt_to, encrypt_to_at, inspect_public_key, inspect_public_key_at,
    verify_detached,
};

const USER_ID: &str = "Example PSIRT <psirt@example.com>";

/// A throw-away GnuPG home; stops the agent that secret-key commands start.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Option<Self> {
        let found = Command::new("gpg")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                std::env::var_os("CI").is_none(),
                "gpg is not installed; CI needs it (Debian package gnupg)"
            );
            eprintln!("skipping: gpg not found on PATH (Debian package gnupg)");
            return None;
        }
        // A short path: gpg-agent's socket path has a length limit.
        let home = tempfile::Builder::new()
            .prefix("kg")
            .tempdir_in(std::env::temp_dir())
            .expect("temp dir");
        Some(Self { home })
    }

    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        use std::io::Write;
        let mut child = Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--no-tty", "--status-fd", "1"])
            .args(args)
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run gpg");
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin.unwrap_or_default()).expect("write");
        drop(input);
        child.wait_with_output().expect("gpg output")
    }

    fn import_public(&self, armored: &str) {
        let out = self.run(&["--import"], Some(armored.as_bytes()));
        assert!(out.status.success(), "gpg --import: {}", text(&out));
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, bytes).expect("write file");
        path
    }

    /// `gpg --verify sig data`.
    fn verify(&self, sig: &Path, data: &Path) -> Output {
        let sig = sig.to_str().expect("utf-8 path");
        let data = data.to_str().expect("utf-8 path");
        self.run(&["--verify", sig, data], None)
    }

    /// Runs gpg with an empty passphrase and asserts that it succeeds.
    fn ok(&self, args: &[&str]) -> Output {
        let mut all = vec!["--pinentry-mode", "loopback", "--passphrase", ""];
        all.extend(args);
        let out = self.run(&all, None);
        assert!(out.status.success(), "gpg {args:?}: {}", text(&out));
        out
    }

    /// `gpg --quick-gen-key`, with `before` (e.g. `--faked-system-time`) ahead of it; returns
    /// the new key's fingerprint.
    fn gen_key(
        &self,
        before: &[&str],
        user_id: &str,
        algo: &str,
        usage: &str,
        expire: &str,
    ) -> String {
        let mut args = before.to_vec();
        args.extend(["--quick-gen-key", user_id, algo, usage, expire]);
        let out = self.ok(&args);
        created_fingerprint(&out)
    }

    /// `gpg --quick-add-key`; returns the new subkey's fingerprint.
    fn add_key(&self, before: &[&str], fpr: &str, algo: &str, usage: &str, expire: &str) -> String {
        let mut args = before.to_vec();
        args.extend(["--quick-add-key", fpr, algo, usage, expire]);
        let out = self.ok(&args);
        created_fingerprint(&out)
    }

    fn export_public(&self, who: &str) -> String {
        without_status(&self.ok(&["--armor", "--export", who]))
    }

    /// `gpg --decrypt`: gpg's output and the plaintext.
    fn decrypt(&self, armored: &str) -> (Output, Vec<u8>) {
        let message = self.write("message.asc", armored.as_bytes());
        let plain = self.home.path().join("message.out");
        let out = self.run(
            &[
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--yes",
                "--output",
                plain.to_str().expect("utf-8 path"),
                "--decrypt",
                message.to_str().expect("utf-8 path"),
            ],
            None,
        );
        let bytes = std::fs::read(&plain).unwrap_or_default();
        let _ = std::fs::remove_file(&plain);
        (out, bytes)
    }
}

/// The fingerprint in gpg's `KEY_CREATED` status line.
fn created_fingerprint(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("[GNUPG:] KEY_CREATED "))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no KEY_CREATED: {}", text(out)))
        .to_owned()
}

/// stdout without gpg's status lines (`--status-fd 1` mixes them in).
fn without_status(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("[GNUPG:]"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--kill", "all"])
            .output();
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Signs `data` with `key`, checks that gpg accepts it and names the key, and that gpg rejects
/// the signature once one byte of the data changes.
fn assert_gpg_verifies(gpg: &Gpg, key: &ProviderKey, data: &[u8]) {
    gpg.import_public(&key.public_key_armored().expect("public key"));
    let sig = key.sign_detached(data).expect("sign");
    let data_path = gpg.write("doc.json", data);
    let sig_path = gpg.write("doc.json.asc", sig.as_bytes());

    let out = gpg.verify(&sig_path, &data_path);
    let all = text(&out);
    assert!(out.status.success(), "gpg --verify failed: {all}");
    let fpr = key.fingerprint();
    assert!(
        all.contains(&format!("[GNUPG:] VALIDSIG {fpr} ")),
        "no VALIDSIG for {fpr}: {all}"
    );
    assert!(all.contains("[GNUPG:] GOODSIG "), "no GOODSIG: {all}");
    assert!(all.contains(USER_ID), "user id not shown: {all}");

    let mut tampered = data.to_vec();
    let last = tampered.last_mut().expect("non-empty data");
    *last ^= 0x01;
    let tampered_path = gpg.write("tampered.json", &tampered);
    let out = gpg.verify(&sig_path, &tampered_path);
    assert!(
        !out.status.success(),
        "tampered data verified: {}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("[GNUPG:] BADSIG "),
        "no BADSIG: {}",
        text(&out)
    );
}

fn created() -> jiff::Timestamp {
    "2026-01-02T03:04:05Z".parse().expect("timestamp")
}

#[test]
fn gpg_verifies_our_signature() {
    let Some(gpg) = Gpg::new() else { return };
    let key = ProviderKey::generate(USER_ID, created()).expect("generate");
    assert_gpg_verifies(&gpg, &key, b"{\"document\":{\"title\":\"Example\"}}\n");
}

#[test]
fn gpg_verifies_a_signed_csaf_document_from_the_corpus() {
    let Some(gpg) = Gpg::new() else { return };
    let dir = std::env::var_os("KEIKAI_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let doc = dir.join("csaf/examples/csaf/rhsa-2021_5186.json");
    if !doc.exists() {
        eprintln!("skipping: {} not found (set KEIKAI_CORPUS)", doc.display());
        return;
    }
    let data = std::fs::read(&doc).expect("read CSAF document");
    let key = ProviderKey::generate(USER_ID, created()).expect("generate");
    assert_gpg_verifies(&gpg, &key, &data);
    // Our own check agrees with gpg.
    let sig = key.sign_detached(&data).expect("sign");
    verify_detached(&key.public_key_armored().expect("public"), &data, &sig).expect("verify");
}

#[test]
fn a_key_exported_by_gpg_imports_and_signs() {
    let Some(gpg) = Gpg::new() else { return };
    let out = gpg.run(
        &[
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            USER_ID,
            "ed25519",
            "sign,cert",
            "never",
        ],
        None,
    );
    assert!(out.status.success(), "gpg --quick-gen-key: {}", text(&out));
    let out = gpg.run(
        &[
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--armor",
            "--export-secret-keys",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "gpg --export-secret-keys: {}",
        text(&out)
    );
    let armored = String::from_utf8(out.stdout).expect("utf-8");
    let armored = armored
        .lines()
        .filter(|l| !l.starts_with("[GNUPG:]"))
        .collect::<Vec<_>>()
        .join("\n");
    let key = ProviderKey::from_armored_secret(&armored).expect("import gpg's key");

    // gpg's own listing names the same fingerprint.
    let out = gpg.run(&["--with-colons", "--list-keys"], None);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains(&format!("fpr:::::::::{}:", key.fingerprint())),
        "fingerprint {} not in {listing}",
        key.fingerprint()
    );
    assert_gpg_verifies(&gpg, &key, b"signed with an imported key\n");
}

#[test]
fn a_passphrase_protected_key_is_refused_by_name() {
    let Some(gpg) = Gpg::new() else { return };
    let pass = ["--pinentry-mode", "loopback", "--passphrase", "secret"];
    let mut args = pass.to_vec();
    args.extend(["--quick-gen-key", USER_ID, "ed25519", "sign", "never"]);
    let out = gpg.run(&args, None);
    assert!(out.status.success(), "gpg --quick-gen-key: {}", text(&out));
    let mut args = pass.to_vec();
    args.extend(["--armor", "--export-secret-keys"]);
    let out = gpg.run(&args, None);
    assert!(
        out.status.success(),
        "gpg --export-secret-keys: {}",
        text(&out)
    );
    let armored = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("[GNUPG:]"))
        .collect::<Vec<_>>()
        .join("\n");
    let err = ProviderKey::from_armored_secret(&armored).expect_err("protected key");
    assert!(matches!(err, Error::PassphraseProtected), "{err}");
}

#[test]
fn gpg_verifies_a_text_signature_with_crlf_or_lf_line_ends() {
    let Some(gpg) = Gpg::new() else { return };
    let key = ProviderKey::generate(USER_ID, created()).expect("generate");
    gpg.import_public(&key.public_key_armored().expect("public key"));
    let sig = key
        .sign_detached_text("件名: テスト\r\n本文\r\n".as_bytes())
        .expect("sign");
    let sig_path = gpg.write("part.asc", sig.as_bytes());
    for (name, data) in [
        ("crlf.txt", "件名: テスト\r\n本文\r\n"),
        ("lf.txt", "件名: テスト\n本文\n"),
    ] {
        let out = gpg.verify(&sig_path, &gpg.write(name, data.as_bytes()));
        assert!(out.status.success(), "{name}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .contains(&format!("[GNUPG:] VALIDSIG {} ", key.fingerprint())),
            "{name}: {}",
            text(&out)
        );
    }
    let out = gpg.verify(
        &sig_path,
        &gpg.write("changed.txt", "件名: テスト\n本文!\n".as_bytes()),
    );
    assert!(
        !out.status.success(),
        "changed data verified: {}",
        text(&out)
    );
}

/// Encrypts to the key gpg exports for `who` and checks that gpg decrypts it (SEIPD v1 with
/// MDC, AES-256) to the same bytes.
fn assert_gpg_decrypts(gpg: &Gpg, who: &str) {
    let public = gpg.export_public(who);
    let data: Vec<u8> = "警戒のお知らせ\r\n".bytes().chain(0..=255).collect();
    let message = encrypt_to(&public, &data).unwrap_or_else(|e| panic!("{who}: {e}"));
    assert!(
        message.starts_with("-----BEGIN PGP MESSAGE-----"),
        "{message}"
    );
    let (out, plain) = gpg.decrypt(&message);
    let status = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{who}: gpg --decrypt: {}", text(&out));
    assert!(
        status.contains("[GNUPG:] DECRYPTION_OKAY"),
        "{who}: {status}"
    );
    // mdc_method 2 (SEIPD v1 with MDC), cipher 9 (AES-256).
    assert!(
        status.contains("[GNUPG:] DECRYPTION_INFO 2 9"),
        "{who}: {status}"
    );
    assert_eq!(plain, data, "{who}: the plaintext differs");
}

#[test]
fn gpg_decrypts_what_is_encrypted_to_its_keys() {
    let Some(gpg) = Gpg::new() else { return };
    // Ed25519 with a Curve25519 encryption subkey (ECDH), GnuPG 2.2's "future-default".
    let curve = "Curve <curve@example.com>";
    let fpr = gpg.gen_key(&[], curve, "future-default", "default", "never");
    let info = inspect_public_key(&gpg.export_public(curve)).expect("inspect");
    assert_eq!(info.fingerprint, fpr);
    assert_eq!(info.user_ids, [curve]);
    assert!(info.can_encrypt);
    assert_gpg_decrypts(&gpg, "curve@example.com");

    // RSA 3072 with an RSA 3072 encryption subkey, GnuPG 2.2's default.
    let rsa = "RSA <rsa@example.com>";
    let fpr = gpg.gen_key(&[], rsa, "rsa3072", "default", "never");
    gpg.add_key(&[], &fpr, "rsa3072", "encr", "never");
    assert!(
        inspect_public_key(&gpg.export_public(rsa))
            .expect("inspect")
            .can_encrypt
    );
    assert_gpg_decrypts(&gpg, "rsa@example.com");

    // An RSA primary key that encrypts itself, without subkeys.
    let single = "Single <single@example.com>";
    gpg.gen_key(&[], single, "rsa3072", "sign,cert,encr", "never");
    assert_gpg_decrypts(&gpg, "single@example.com");
}

#[test]
fn keys_that_cannot_encrypt_are_refused_by_name() {
    let Some(gpg) = Gpg::new() else { return };
    let signing = "Signing <signing@example.com>";
    let fpr = gpg.gen_key(&[], signing, "ed25519", "sign,cert", "never");
    let public = gpg.export_public(signing);
    assert!(!inspect_public_key(&public).expect("inspect").can_encrypt);
    let err = encrypt_to(&public, b"data").expect_err("no encryption key");
    assert!(
        matches!(&err, Error::NoEncryptionKey { fingerprint } if *fingerprint == fpr),
        "{err}"
    );
    assert!(err.to_string().contains("gpg --quick-add-key"), "{err}");

    // The secret key is refused, not read as the public one.
    let secret = without_status(&gpg.ok(&["--armor", "--export-secret-keys", signing]));
    assert!(matches!(
        encrypt_to(&secret, b"data"),
        Err(Error::NotPublicKey)
    ));
}

#[test]
fn expired_keys_and_subkeys_are_not_used() {
    let Some(gpg) = Gpg::new() else { return };
    let past = ["--faked-system-time", "20200101T000000"];

    // The whole key expired a day after it was made, in 2020.
    let old = "Old <old@example.com>";
    let fpr = gpg.gen_key(&past, old, "future-default", "default", "1d");
    let public = gpg.export_public(old);
    match encrypt_to(&public, b"data") {
        Err(Error::KeyExpired {
            fingerprint,
            expired,
        }) => {
            assert_eq!(fingerprint, fpr);
            assert_eq!(expired.to_string(), "2020-01-02T00:00:00Z");
        }
        other => panic!("expected KeyExpired, got {other:?}"),
    }
    assert!(matches!(
        inspect_public_key(&public),
        Err(Error::KeyExpired { .. })
    ));
    // Judged as of 2020-01-01T12:00Z it was still good.
    let then: jiff::Timestamp = "2020-01-01T12:00:00Z".parse().expect("ts");
    assert!(
        inspect_public_key_at(&public, then)
            .expect("inspect")
            .can_encrypt
    );
    encrypt_to_at(&public, b"data", then).expect("encrypt as of then");

    // A key that does not expire, whose only encryption subkey has.
    let partly = "Partly <partly@example.com>";
    let fpr = gpg.gen_key(&past, partly, "ed25519", "sign,cert", "never");
    gpg.add_key(&past, &fpr, "cv25519", "encr", "1d");
    let public = gpg.export_public(partly);
    let info = inspect_public_key(&public).expect("inspect");
    assert!(!info.can_encrypt, "{info:?}");
    assert!(matches!(
        encrypt_to(&public, b"data"),
        Err(Error::NoEncryptionKey { .. })
    ));
    // A fresh subkey is taken over the expired one, and gpg decrypts with it.
    gpg.add_key(&[], &fpr, "cv25519", "encr", "never");
    assert!(
        inspect_public_key(&gpg.export_public(partly))
            .expect("inspect")
            .can_encrypt
    );
    assert_gpg_decrypts(&gpg, "partly@example.com");
}

#[test]
fn a_revoked_key_is_refused() {
    let Some(gpg) = Gpg::new() else { return };
    let gone = "Gone <gone@example.com>";
    let fpr = gpg.gen_key(&[], gone, "future-default", "default", "never");
    // GnuPG stores a revocation certificate for every key it makes, its armour line
    // prefixed with ':' so that it is not imported by accident.
    let path = gpg.home.path().join(format!("openpgp-revocs.d/{fpr}.rev"));
    let certificate = std::fs::read_to_string(&path).expect("revocation certificate");
    let certificate = certificate.replace(
        ":-----BEGIN PGP PUBLIC KEY BLOCK-----",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----",
    );
    gpg.import_public(&certificate);
    let public = gpg.export_public(gone);
    match encrypt_to(&public, b"data") {
        Err(Error::KeyRevoked { fingerprint }) => assert_eq!(fingerprint, fpr),
        other => panic!("expected KeyRevoked, got {other:?}"),
    }
    assert!(matches!(
        inspect_public_key(&public),
        Err(Error::KeyRevoked { .. })
    ));
}
