//! Checks our keys and signatures with the real GnuPG, which is what CSAF consumers run.
//!
//! Without `gpg` on PATH the tests say that they skip, except under CI (`CI` set), where a
//! missing `gpg` fails: `.ci/run` installs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use keikai_openpgp::{Error, ProviderKey, verify_detached};

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
