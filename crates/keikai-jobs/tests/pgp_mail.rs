//! PGP/MIME mail (RFC 3156) as GnuPG reads it: messages go through a real `SmtpMailer` to
//! `testing::SmtpSink`, and the raw data received is taken apart and handed to `gpg`, which
//! must verify the signature over the signed part's exact bytes and decrypt what was
//! encrypted to a key it made.
//!
//! Without `gpg` on PATH the GnuPG tests say that they skip, unless `KEIKAI_REQUIRE_GPG=1`
//! or `CI` is set (`.ci/run` sets `CI` and installs gnupg), where a missing `gpg` fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use keikai_domain::Email;
use keikai_jobs::testing::{ReceivedMail, SmtpSink};
use keikai_jobs::{Address, MailError, Mailer, Message, SmtpMailer};
use keikai_openpgp::ProviderKey;

const PROVIDER_UID: &str = "警戒 PSIRT <psirt@keikai.example>";
const SUBJECT: &str = "【警戒情報】KEIKAI-2026-0001: 警戒ルーターの脆弱性";
const TEXT: &str = "購読者各位\n\n警戒ルーターに脆弱性が見つかりました。\nFrom the vendor: update now.\n-- \n警戒 PSIRT\n";
const HTML: &str = "<p>警戒ルーターに脆弱性が見つかりました。</p>\n";

fn email(s: &str) -> Email {
    Email::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn sender() -> Address {
    Address::named("警戒 PSIRT", email("psirt@keikai.example"))
}

fn message(to: &str, html: bool) -> Message {
    let mut m = Message::new(
        Address::named("購読者", email(to)),
        SUBJECT,
        TEXT,
        format!(
            "<KEIKAI-2026-0001.v1.{}@keikai.example>",
            to.replace('@', ".")
        ),
    );
    if html {
        m.html = Some(HTML.into());
    }
    m
}

fn provider_key() -> Arc<ProviderKey> {
    let created = "2026-01-02T03:04:05Z"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    Arc::new(ProviderKey::generate(PROVIDER_UID, created).unwrap_or_else(|e| panic!("{e}")))
}

fn mailer(sink: &SmtpSink, signer: Option<&Arc<ProviderKey>>) -> SmtpMailer {
    let mailer = SmtpMailer::new(sink.smtp_config(sender())).unwrap_or_else(|e| panic!("{e}"));
    match signer {
        Some(key) => mailer.with_signer(key.clone()),
        None => mailer,
    }
}

/// Sends `m` and returns the one message the sink received.
async fn send(mailer: &SmtpMailer, sink: &SmtpSink, m: &Message) -> ReceivedMail {
    mailer.send(m).await.unwrap_or_else(|e| panic!("{e}"));
    let mut received = sink.received();
    assert_eq!(received.len(), 1, "exactly one message");
    let got = received.remove(0);
    assert!(got.data.is_ascii(), "everything on the wire is 7-bit");
    got
}

// ---- taking MIME apart, byte for byte --------------------------------------------------------

/// An entity split at its blank line: the unfolded headers and the body's exact bytes.
struct Entity<'a> {
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn entity(data: &[u8]) -> Entity<'_> {
    let end = find(data, b"\r\n\r\n").unwrap_or_else(|| panic!("no blank line in the entity"));
    let head = std::str::from_utf8(&data[..end]).unwrap_or_else(|e| panic!("{e}"));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let last = headers
                .last_mut()
                .unwrap_or_else(|| panic!("folded first line"));
            last.1.push_str(line);
        } else {
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("not a header: {line:?}"));
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    Entity {
        headers,
        body: &data[end + 4..],
    }
}

impl<'a> Entity<'a> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_type(&self) -> &str {
        self.header("Content-Type")
            .unwrap_or_else(|| panic!("no Content-Type in {:?}", self.headers))
    }

    /// The parts of a multipart body as their exact bytes, without the line break that
    /// belongs to the next delimiter (RFC 2046 section 5.1.1): what RFC 3156 signs.
    fn parts(&self) -> Vec<&'a [u8]> {
        let content_type = self.content_type();
        let boundary = content_type
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .map(|b| b.trim_matches('"'))
            .unwrap_or_else(|| panic!("no boundary in {content_type}"));
        let first = format!("--{boundary}\r\n");
        let next = format!("\r\n--{boundary}");
        let start = find(self.body, first.as_bytes())
            .unwrap_or_else(|| panic!("no first delimiter"))
            + first.len();
        let body: &'a [u8] = self.body;
        let mut rest = &body[start..];
        let mut parts = Vec::new();
        loop {
            let end = find(rest, next.as_bytes()).unwrap_or_else(|| panic!("no delimiter"));
            parts.push(&rest[..end]);
            let after = &rest[end + next.len()..];
            if after.starts_with(b"--") {
                return parts;
            }
            rest = after
                .strip_prefix(b"\r\n")
                .unwrap_or_else(|| panic!("no line break after a delimiter"));
        }
    }
}

// ---- gpg -------------------------------------------------------------------------------------

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
            let required = std::env::var("KEIKAI_REQUIRE_GPG").as_deref() == Ok("1")
                || std::env::var_os("CI").is_some();
            assert!(
                !required,
                "gpg is not installed, and KEIKAI_REQUIRE_GPG=1 or CI asks for it (Debian \
                 package gnupg)"
            );
            eprintln!("skipping: gpg not found on PATH (Debian package gnupg)");
            return None;
        }
        // A short path: gpg-agent's socket path has a length limit.
        let home = tempfile::Builder::new()
            .prefix("kg")
            .tempdir_in(std::env::temp_dir())
            .unwrap_or_else(|e| panic!("temp dir: {e}"));
        Some(Self { home })
    }

    fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        use std::io::Write;
        let mut child = Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--no-tty", "--status-fd", "1"])
            .args(["--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run gpg: {e}"));
        let mut input = child.stdin.take().unwrap_or_else(|| panic!("gpg's stdin"));
        input
            .write_all(stdin)
            .unwrap_or_else(|e| panic!("write to gpg: {e}"));
        drop(input);
        child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("gpg output: {e}"))
    }

    fn ok(&self, args: &[&str], stdin: &[u8]) -> Output {
        let out = self.run(args, stdin);
        assert!(out.status.success(), "gpg {args:?}: {}", text(&out));
        out
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {name}: {e}"));
        path
    }

    /// A new key for `user_id` without passphrase; returns its armoured public key.
    fn recipient(&self, user_id: &str, algo: &str) -> String {
        self.ok(&["--quick-gen-key", user_id, algo, "default", "never"], b"");
        let out = self.ok(&["--armor", "--export", user_id], b"");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with("[GNUPG:]"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `gpg --verify` of `signature` over `signed`; returns gpg's status output.
    fn verify(&self, signature: &[u8], signed: &[u8]) -> Output {
        let sig = self.write("part.asc", signature);
        let data = self.write("part.txt", signed);
        self.run(&["--verify", path(&sig), path(&data)], b"")
    }

    /// `gpg --decrypt`: the plaintext, after checking that gpg succeeded.
    fn decrypt(&self, armored: &[u8]) -> Vec<u8> {
        let message = self.write("message.asc", armored);
        let plain = self.home.path().join("message.out");
        let out = self.ok(
            &[
                "--yes",
                "--output",
                path(&plain),
                "--decrypt",
                path(&message),
            ],
            b"",
        );
        let status = String::from_utf8_lossy(&out.stdout);
        assert!(
            status.contains("[GNUPG:] DECRYPTION_OKAY"),
            "{}",
            text(&out)
        );
        std::fs::read(&plain).unwrap_or_else(|e| panic!("read the plaintext: {e}"))
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

fn path(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("not UTF-8: {}", p.display()))
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Checks a `multipart/signed` entity the RFC 3156 way and with gpg; returns its first part
/// (the signed content, as sent).
fn assert_signed_by<'a>(gpg: &Gpg, signed: &Entity<'a>, key: &ProviderKey) -> &'a [u8] {
    let content_type = signed.content_type();
    assert!(
        content_type.starts_with("multipart/signed;")
            && content_type.contains("protocol=\"application/pgp-signature\"")
            && content_type.contains("micalg=\"pgp-sha256\""),
        "{content_type}"
    );
    let parts = signed.parts();
    assert_eq!(parts.len(), 2, "content and signature");
    let (content, signature) = (parts[0], entity(parts[1]));
    assert!(
        signature
            .content_type()
            .starts_with("application/pgp-signature"),
        "{:?}",
        signature.headers
    );
    // RFC 3156 section 3: the signed part is 7-bit, so no relay has a reason to re-encode it.
    assert!(content.is_ascii(), "the signed part is 7-bit");
    for line in content.split(|b| *b == b'\n') {
        assert!(line.len() <= 78, "a long line in the signed part");
        assert!(!line.starts_with(b"From "), "an unescaped From line");
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(
            !line.ends_with(b" ") && !line.ends_with(b"\t"),
            "trailing white space in the signed part"
        );
    }

    let out = gpg.verify(signature.body, content);
    let all = text(&out);
    assert!(out.status.success(), "gpg --verify: {all}");
    assert!(
        all.contains(&format!("[GNUPG:] VALIDSIG {} ", key.fingerprint())),
        "no VALIDSIG: {all}"
    );
    // A reader that stores the part with LF line ends still gets a good signature.
    let lf = String::from_utf8_lossy(content).replace("\r\n", "\n");
    let out = gpg.verify(signature.body, lf.as_bytes());
    assert!(out.status.success(), "gpg --verify (LF): {}", text(&out));
    // One byte changed: gpg says BADSIG.
    let mut tampered = content.to_vec();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let out = gpg.verify(signature.body, &tampered);
    assert!(
        !out.status.success(),
        "a changed part verified: {}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("[GNUPG:] BADSIG "),
        "{}",
        text(&out)
    );
    // Our own verifier agrees.
    keikai_openpgp::verify_detached(
        &key.public_key_armored().unwrap_or_else(|e| panic!("{e}")),
        content,
        std::str::from_utf8(signature.body).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("verify_detached: {e}"));
    content
}

/// Checks a `multipart/encrypted` entity's structure and decrypts it with gpg.
fn decrypt(gpg: &Gpg, encrypted: &Entity<'_>) -> Vec<u8> {
    let content_type = encrypted.content_type();
    assert!(
        content_type.starts_with("multipart/encrypted;")
            && content_type.contains("protocol=\"application/pgp-encrypted\""),
        "{content_type}"
    );
    let parts = encrypted.parts();
    assert_eq!(parts.len(), 2, "version and data");
    let control = entity(parts[0]);
    assert_eq!(control.content_type(), "application/pgp-encrypted");
    assert_eq!(control.body, b"Version: 1\r\n");
    let data = entity(parts[1]);
    assert!(
        data.content_type().starts_with("application/octet-stream"),
        "{:?}",
        data.headers
    );
    assert!(
        data.body.starts_with(b"-----BEGIN PGP MESSAGE-----\r\n"),
        "{}",
        String::from_utf8_lossy(data.body)
    );
    gpg.decrypt(data.body)
}

/// The decoded text and HTML of a MIME entity (through the sink's own reader).
fn bodies(data: &[u8]) -> (Option<String>, Option<String>) {
    let mail = ReceivedMail {
        mail_from: String::new(),
        rcpt_to: Vec::new(),
        data: data.to_vec(),
    };
    (mail.text_body(), mail.html_body())
}

// ---- the tests -------------------------------------------------------------------------------

#[tokio::test]
async fn signed_mail_verifies_with_gpg() {
    let Some(gpg) = Gpg::new() else { return };
    let key = provider_key();
    gpg.ok(
        &["--import"],
        key.public_key_armored()
            .unwrap_or_else(|e| panic!("{e}"))
            .as_bytes(),
    );
    for html in [true, false] {
        let sink = SmtpSink::start().await;
        let mailer = mailer(&sink, Some(&key));
        let m = message("subscriber@example.com", html);
        let got = send(&mailer, &sink, &m).await;
        assert_eq!(got.decoded_header("Subject").as_deref(), Some(SUBJECT));
        assert_eq!(
            got.header("Message-ID").as_deref(),
            Some(m.message_id.as_str())
        );
        let top = entity(&got.data);
        let content = assert_signed_by(&gpg, &top, &key);
        let inner = entity(content);
        if html {
            assert!(
                inner.content_type().starts_with("multipart/alternative;"),
                "{:?}",
                inner.headers
            );
        } else {
            assert_eq!(inner.content_type(), "text/plain; charset=utf-8");
        }
        // A mail reader that knows nothing of PGP still finds the text.
        let (text, html_body) = bodies(&got.data);
        assert_eq!(text.as_deref(), Some(TEXT));
        assert_eq!(html_body.as_deref(), html.then_some(HTML));
    }
}

#[tokio::test]
async fn signed_mail_verifies_with_our_own_verifier() {
    // No gpg needed: the signature covers the first part's bytes as received.
    let key = provider_key();
    let sink = SmtpSink::start().await;
    let got = send(
        &mailer(&sink, Some(&key)),
        &sink,
        &message("s@example.com", true),
    )
    .await;
    let top = entity(&got.data);
    let parts = top.parts();
    assert_eq!(parts.len(), 2);
    let signature = std::str::from_utf8(entity(parts[1]).body).unwrap_or_else(|e| panic!("{e}"));
    let public = key.public_key_armored().unwrap_or_else(|e| panic!("{e}"));
    keikai_openpgp::verify_detached(&public, parts[0], signature)
        .unwrap_or_else(|e| panic!("verify_detached: {e}"));
    let mut tampered = parts[0].to_vec();
    tampered.extend_from_slice(b"\r\n");
    assert!(keikai_openpgp::verify_detached(&public, &tampered, signature).is_err());
}

#[tokio::test]
async fn encrypted_and_signed_mail_decrypts_and_verifies_with_gpg() {
    let Some(gpg) = Gpg::new() else { return };
    let key = provider_key();
    gpg.ok(
        &["--import"],
        key.public_key_armored()
            .unwrap_or_else(|e| panic!("{e}"))
            .as_bytes(),
    );
    let recipient = gpg.recipient("購読者 <subscriber@example.com>", "future-default");
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink, Some(&key));
    let mut m = message("subscriber@example.com", true);
    m.encrypt_to = Some(recipient);
    let got = send(&mailer, &sink, &m).await;

    // RFC 3156 leaves the headers in the clear; the body is not.
    assert_eq!(got.decoded_header("Subject").as_deref(), Some(SUBJECT));
    assert_eq!(bodies(&got.data), (None, None));
    let inner = decrypt(&gpg, &entity(&got.data));

    // Inside: the signed message, whose signature gpg verifies.
    let signed = entity(&inner);
    assert_signed_by(&gpg, &signed, &key);
    let (text, html) = bodies(&inner);
    assert_eq!(text.as_deref(), Some(TEXT));
    assert_eq!(html.as_deref(), Some(HTML));
}

#[tokio::test]
async fn encrypted_mail_without_a_signer_decrypts_with_gpg_to_an_rsa_key() {
    let Some(gpg) = Gpg::new() else { return };
    // GnuPG 2.2's default: RSA 3072 with an RSA 3072 encryption subkey.
    let recipient = gpg.recipient("RSA Subscriber <rsa@example.com>", "default");
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink, None);
    let mut m = message("rsa@example.com", true);
    m.encrypt_to = Some(recipient);
    let got = send(&mailer, &sink, &m).await;
    let inner = decrypt(&gpg, &entity(&got.data));
    assert!(
        entity(&inner)
            .content_type()
            .starts_with("multipart/alternative;"),
        "{}",
        String::from_utf8_lossy(&inner)
    );
    let (text, html) = bodies(&inner);
    assert_eq!(text.as_deref(), Some(TEXT));
    assert_eq!(html.as_deref(), Some(HTML));
}

#[tokio::test]
async fn a_key_that_cannot_encrypt_fails_the_mail_permanently() {
    // The provider's own key signs but cannot encrypt: no gpg needed to see it refused.
    let key = provider_key();
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink, Some(&key));
    let mut m = message("subscriber@example.com", false);
    m.encrypt_to = Some(key.public_key_armored().unwrap_or_else(|e| panic!("{e}")));
    m.to_job("k", jiff::Timestamp::UNIX_EPOCH)
        .unwrap_or_else(|e| panic!("the shape is right: {e}"));
    match mailer.send(&m).await {
        Err(MailError::Permanent(msg)) => {
            assert!(msg.contains("cannot encrypt"), "{msg}");
            assert!(msg.contains(&key.fingerprint()), "{msg}");
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
    assert!(sink.received().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn unsigned_mail_is_sent_as_before() {
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink, None);
    let got = send(&mailer, &sink, &message("subscriber@example.com", true)).await;
    let top = entity(&got.data);
    assert!(
        top.content_type().starts_with("multipart/alternative;"),
        "{:?}",
        top.headers
    );
    assert!(!String::from_utf8_lossy(&got.data).contains("pgp"));
    let (text, html) = bodies(&got.data);
    assert_eq!(text.as_deref(), Some(TEXT));
    assert_eq!(html.as_deref(), Some(HTML));
}
