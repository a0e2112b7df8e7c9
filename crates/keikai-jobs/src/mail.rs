//! E-mail: the message a mail job carries, the SMTP mailer that sends it, and the handler
//! that connects the two.
//!
//! Subjects, display names and bodies may be Japanese: lettre encodes headers as RFC 2047
//! encoded-words and picks quoted-printable or base64 for bodies, so what goes on the wire
//! is ASCII and needs no 8BITMIME.
//!
//! With a signer ([`SmtpMailer::with_signer`]) every message is PGP/MIME signed (RFC 3156
//! section 5, `multipart/signed`), and a message with [`Message::encrypt_to`] is also
//! encrypted to the recipient's key (section 6.1: the signed entity, encrypted, inside
//! `multipart/encrypted`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use keikai_openpgp::ProviderKey;
use keikai_store::Job;
use lettre::message::header::{
    ContentDisposition, ContentTransferEncoding, ContentType, HeaderName, HeaderValue,
};
use lettre::message::{Body, Mailbox, MultiPart, MultiPartBuilder, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::TlsParameters;
use serde::{Deserialize, Serialize};

use crate::smtp::{Pool, Security, SendError};
use crate::worker::{Handler, JobError};

pub use keikai_app::outbox::{Address, MAIL_JOB_KIND, Message};

/// A [`Message`] on the wire: as lettre sends it, signed and encrypted as asked.
trait Compose {
    fn build(
        &self,
        default_from: &Address,
        signer: Option<&ProviderKey>,
    ) -> Result<lettre::Message, MailError>;
    fn plain_entity(&self) -> Entity;
    fn base64_entity(&self) -> Result<Entity, MailError>;
}

impl Compose for Message {
    /// The message as lettre sends it, with `default_from` when it names no sender, signed
    /// with `signer` if given and encrypted if `encrypt_to` is set.
    fn build(
        &self,
        default_from: &Address,
        signer: Option<&ProviderKey>,
    ) -> Result<lettre::Message, MailError> {
        self.check().map_err(MailError::Permanent)?;
        let mut b = lettre::Message::builder()
            .from(mailbox(self.from.as_ref().unwrap_or(default_from))?)
            .subject(self.subject.as_str())
            .message_id(Some(self.message_id.clone()));
        for to in &self.to {
            b = b.to(mailbox(to)?);
        }
        for (name, value) in &self.headers {
            let name = HeaderName::new_from_ascii(name.clone()).map_err(|e| {
                MailError::Permanent(format!("invalid message: header {name:?}: {e}"))
            })?;
            b = b.raw_header(HeaderValue::new(name, value.clone()));
        }
        let mut entity = match signer {
            None => self.plain_entity(),
            Some(key) => sign(self.base64_entity()?, key)?,
        };
        // Only the body is encrypted: the Subject and the other headers stay in the clear, as
        // RFC 3156 has it (no "protected headers"), so they must not say what is secret.
        if let Some(key) = &self.encrypt_to {
            entity = encrypt(&entity, key)?;
        }
        let built = match entity {
            Entity::Single(part) => b.singlepart(part),
            Entity::Multi(part) => b.multipart(part),
        };
        built.map_err(|e| MailError::Permanent(format!("invalid message: {e}")))
    }

    /// The body as it is sent unsigned: lettre picks each part's transfer encoding.
    fn plain_entity(&self) -> Entity {
        match &self.html {
            None => Entity::Single(SinglePart::plain(self.text.clone())),
            Some(html) => Entity::Multi(MultiPart::alternative_plain_html(
                self.text.clone(),
                html.clone(),
            )),
        }
    }

    /// The body with every part in base64, for signing. A signed part must reach the reader
    /// byte for byte, so it must be 7-bit and leave relays nothing to rewrite (RFC 3156
    /// section 3): base64 lines are short, end in no white space and never start with
    /// "From " or "-", which lettre's quoted-printable and 7bit bodies do not promise.
    fn base64_entity(&self) -> Result<Entity, MailError> {
        let part = |content_type: ContentType, text: &str| -> Result<SinglePart, MailError> {
            let body = Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::Base64)
                .map_err(|_| MailError::Permanent("cannot encode the body as base64".into()))?;
            Ok(SinglePart::builder().header(content_type).body(body))
        };
        let text = part(ContentType::TEXT_PLAIN, &self.text)?;
        Ok(match &self.html {
            None => Entity::Single(text),
            Some(html) => Entity::Multi(
                MultiPart::alternative()
                    .singlepart(text)
                    .singlepart(part(ContentType::TEXT_HTML, html)?),
            ),
        })
    }
}

/// A MIME entity (lettre keeps its own such type private).
enum Entity {
    Single(SinglePart),
    Multi(MultiPart),
}

impl Entity {
    /// Headers, blank line and body, with CRLF line ends, exactly as they go on the wire.
    fn formatted(&self) -> Vec<u8> {
        match self {
            Self::Single(part) => part.formatted(),
            Self::Multi(part) => part.formatted(),
        }
    }

    /// `parent` with this entity as its first part.
    fn first_part_of(self, parent: MultiPartBuilder) -> MultiPart {
        match self {
            Self::Single(part) => parent.singlepart(part),
            Self::Multi(part) => parent.multipart(part),
        }
    }
}

/// `entity` signed (RFC 3156 section 5): `multipart/signed` holding the entity as it was and a
/// detached signature over its bytes.
fn sign(entity: Entity, key: &ProviderKey) -> Result<Entity, MailError> {
    let mut signed = entity.formatted();
    // The line break before the next boundary belongs to the boundary, not to the part
    // (RFC 2046 section 5.1.1), so it is not signed.
    if signed.ends_with(b"\r\n") {
        signed.truncate(signed.len() - 2);
    }
    // A text signature (type 0x01), like the ones GnuPG-based mail readers make: it still
    // verifies when a reader hands the part over with LF line ends instead of CRLF.
    let signature = key
        .sign_detached_text(&signed)
        .map_err(|e| MailError::Permanent(format!("cannot sign the message: {e}")))?;
    let signature = SinglePart::builder()
        .header(content_type(
            "application/pgp-signature; name=\"signature.asc\"",
        )?)
        .header(ContentDisposition::attachment("signature.asc"))
        .body(seven_bit(signature, "the signature")?);
    // `micalg` names the signature's hash: `sign_detached_text` uses SHA-256.
    let multipart = MultiPart::signed("application/pgp-signature".into(), "pgp-sha256".into());
    Ok(Entity::Multi(
        entity.first_part_of(multipart).singlepart(signature),
    ))
}

/// `entity` encrypted to `public_key` (RFC 3156 section 4): `multipart/encrypted` with the
/// version part and the armoured OpenPGP message.
fn encrypt(entity: &Entity, public_key: &str) -> Result<Entity, MailError> {
    let message = keikai_openpgp::encrypt_to(public_key, &entity.formatted()).map_err(|e| {
        MailError::Permanent(format!(
            "cannot encrypt to the recipient's OpenPGP key: {e}"
        ))
    })?;
    let control = SinglePart::builder()
        .header(content_type("application/pgp-encrypted")?)
        .body(seven_bit("Version: 1\n".to_owned(), "the version part")?);
    let data = SinglePart::builder()
        .header(content_type(
            "application/octet-stream; name=\"encrypted.asc\"",
        )?)
        .header(ContentDisposition::inline_with_name("encrypted.asc"))
        .body(seven_bit(message, "the encrypted message")?);
    Ok(Entity::Multi(
        MultiPart::encrypted("application/pgp-encrypted".into())
            .singlepart(control)
            .singlepart(data),
    ))
}

fn content_type(s: &str) -> Result<ContentType, MailError> {
    ContentType::parse(s)
        .map_err(|e| MailError::Permanent(format!("invalid Content-Type {s:?}: {e}")))
}

/// An ASCII-armoured text as a 7bit body (its line ends made CRLF).
fn seven_bit(text: String, what: &str) -> Result<Body, MailError> {
    Body::new_with_encoding(text, ContentTransferEncoding::SevenBit)
        .map_err(|_| MailError::Permanent(format!("{what} is not 7-bit text")))
}

fn mailbox(a: &Address) -> Result<Mailbox, MailError> {
    let address = a.email.as_str().parse::<lettre::Address>().map_err(|e| {
        MailError::Permanent(format!("invalid message: cannot send to {}: {e}", a.email))
    })?;
    Ok(Mailbox::new(a.name.clone(), address))
}

/// Why a message was not sent: `Permanent` when sending it again would fail the same way
/// (the relay answered 5xx, e.g. an unknown recipient; the message is malformed), else
/// `Transient` (4xx, refused or dropped connections, timeouts, TLS failures).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Permanent(String),
    #[error("{0}")]
    Transient(String),
}

impl MailError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

impl From<MailError> for JobError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Permanent(m) => Self::Permanent(m),
            MailError::Transient(m) => Self::Retryable(m),
        }
    }
}

/// Something that sends e-mail: [`SmtpMailer`], or a recorder in tests.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), MailError>;
}

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP, for a relay on the same host or network (port 25).
    None,
    /// Plain, then upgraded with STARTTLS; refused if the relay cannot (port 587).
    StartTls,
    /// TLS from the first byte, "implicit TLS" (port 465).
    #[default]
    Tls,
}

impl SmtpSecurity {
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::StartTls => "starttls",
            Self::Tls => "tls",
        }
    }
}

/// The relay to send through.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender of messages that name none.
    pub from: Address,
    /// The most one message may take, connecting included.
    pub timeout: Duration,
    /// Connections kept open to the relay, and so messages sent at once. More concurrent
    /// sends than this would open connections only to close them after one message.
    pub max_connections: u32,
}

impl SmtpConfig {
    /// The security's usual port and a 30-second timeout, without credentials.
    pub fn new(host: impl Into<String>, security: SmtpSecurity, from: Address) -> Self {
        Self {
            host: host.into(),
            port: security.default_port(),
            security,
            username: None,
            password: None,
            from,
            timeout: Duration::from_secs(30),
            max_connections: DEFAULT_SMTP_CONNECTIONS,
        }
    }
}

/// Relays commonly allow a client ten or more connections (Postfix: 50).
pub const DEFAULT_SMTP_CONNECTIONS: u32 = 8;

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Sends through an SMTP relay, keeping connections open between messages.
pub struct SmtpMailer {
    config: SmtpConfig,
    pool: Pool,
    signer: Option<Arc<ProviderKey>>,
}

impl SmtpMailer {
    /// Prepares TLS (reading the system's root certificates); connects only when the first
    /// message is sent.
    pub fn new(config: SmtpConfig) -> Result<Self, MailError> {
        let tls = || {
            TlsParameters::new(config.host.clone()).map_err(|e| {
                MailError::Transient(format!(
                    "SMTP {}:{}: cannot set up TLS: {e}",
                    config.host, config.port
                ))
            })
        };
        let security = match config.security {
            SmtpSecurity::None => Security::None,
            SmtpSecurity::StartTls => Security::StartTls(tls()?),
            SmtpSecurity::Tls => Security::Tls(tls()?),
        };
        let credentials = config.username.as_ref().map(|user| {
            Credentials::new(user.clone(), config.password.clone().unwrap_or_default())
        });
        let pool = Pool::new(
            config.host.clone(),
            config.port,
            security,
            credentials,
            config.max_connections,
        );
        Ok(Self {
            config,
            pool,
            signer: None,
        })
    }

    /// Signs every message with `key` (the provider's OpenPGP key), as PGP/MIME.
    pub fn with_signer(mut self, key: Arc<ProviderKey>) -> Self {
        self.signer = Some(key);
        self
    }

    pub fn config(&self) -> &SmtpConfig {
        &self.config
    }

    fn target(&self) -> String {
        format!("SMTP {}:{}", self.config.host, self.config.port)
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        // Built (and signed) before waiting for a connection: that work runs in parallel.
        let email = message.build(&self.config.from, self.signer.as_deref())?;
        let raw = email.formatted();
        // Lettre bounds no command; a relay that stops answering mid-command would hold the
        // job until its lease ran out.
        let sending = self.pool.send(email.envelope(), &raw);
        match tokio::time::timeout(self.config.timeout, sending).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(SendError::Smtp(e))) => {
                let text = format!("{}: {e}", self.target());
                // Client errors are ours (e.g. an address the relay's extensions cannot
                // carry): sending again changes nothing.
                Err(if e.is_permanent() || e.is_client() {
                    MailError::Permanent(text)
                } else {
                    MailError::Transient(text)
                })
            }
            Ok(Err(SendError::Connect(e))) => {
                Err(MailError::Transient(format!("{}: {e}", self.target())))
            }
            Err(_) => Err(MailError::Transient(format!(
                "{}: timed out after {} s",
                self.target(),
                self.config.timeout.as_secs_f64()
            ))),
        }
    }
}

/// Runs mail jobs: the payload is a [`Message`], sent through the mailer.
pub struct MailHandler {
    mailer: Arc<dyn Mailer>,
}

impl MailHandler {
    pub fn new(mailer: Arc<dyn Mailer>) -> Self {
        Self { mailer }
    }
}

#[async_trait]
impl Handler for MailHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let message: Message = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::permanent(format!("the payload is not a mail message: {e}")))?;
        self.mailer.send(&message).await.map_err(JobError::from)
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use keikai_domain::Email;

    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Only the shape: `to_job` does not parse the key.
    const ARMORED_KEY: &str =
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ…\n-----END PGP PUBLIC KEY BLOCK-----\n";

    fn message() -> Message {
        Message::new(
            Address::named("山田 太郎", email("taro@example.com")),
            "件名",
            "本文",
            "<adv-1.v1.taro@keikai.example>",
        )
    }

    #[test]
    fn messages_round_trip_as_job_payloads() {
        let mut m = message();
        m.html = Some("<p>本文</p>".into());
        m.headers
            .push(("List-Unsubscribe".into(), "<https://x.example/u/1>".into()));
        m.encrypt_to = Some(ARMORED_KEY.into());
        let job = m
            .to_job("mail:adv-1:taro", Timestamp::UNIX_EPOCH)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(job.kind, MAIL_JOB_KIND);
        let back: Message = serde_json::from_value(job.payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, m);
    }

    #[test]
    fn malformed_messages_are_refused_when_made() {
        type Spoil = Box<dyn Fn(&mut Message)>;
        let cases: Vec<(Spoil, &str)> = vec![
            (Box::new(|m| m.to.clear()), "no recipient"),
            (Box::new(|m| m.message_id = "adv-1@x".into()), "message_id"),
            (
                Box::new(|m| m.message_id = "<adv 1@x>".into()),
                "message_id",
            ),
            (Box::new(|m| m.message_id = "<adv-1>".into()), "message_id"),
            (
                Box::new(|m| m.subject = "a\r\nBcc: x@example.com".into()),
                "subject",
            ),
            (
                Box::new(|m| m.headers.push(("Bcc".into(), "x@example.com".into()))),
                "Bcc",
            ),
            (
                Box::new(|m| {
                    m.headers
                        .push(("X-A".into(), "1\nBcc: x@example.com".into()))
                }),
                "line break",
            ),
            (
                Box::new(|m| m.headers.push(("X A".into(), "1".into()))),
                "header name",
            ),
            (
                Box::new(|m| m.to[0].name = Some("a\nb".into())),
                "control character",
            ),
            (
                Box::new(|m| m.encrypt_to = Some("mQINBGT…".into())),
                "encrypt_to is not an ASCII-armoured OpenPGP public key",
            ),
            (
                Box::new(|m| {
                    m.encrypt_to = Some(ARMORED_KEY.replace("PUBLIC KEY", "PRIVATE KEY"));
                }),
                "encrypt_to is not an ASCII-armoured OpenPGP public key",
            ),
            (
                Box::new(|m| {
                    m.encrypt_to = Some(ARMORED_KEY.into());
                    m.to.push(Address::new(email("hanako@example.com")));
                }),
                "2 recipients",
            ),
        ];
        for (spoil, want) in cases {
            let mut m = message();
            spoil(&mut m);
            match m.to_job("k", Timestamp::UNIX_EPOCH) {
                Err(keikai_app::Error::Internal(msg)) => {
                    assert!(msg.contains(want), "{want}: {msg}")
                }
                other => panic!("{want}: expected a permanent error, got {other:?}"),
            }
        }
    }

    #[test]
    fn addresses_parse() {
        let parse = |s: &str| s.parse::<Address>().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(
            parse("psirt@example.com"),
            Address::new(email("psirt@example.com"))
        );
        assert_eq!(
            parse(" 警戒 PSIRT <psirt@example.com> "),
            Address::named("警戒 PSIRT", email("psirt@example.com"))
        );
        assert_eq!(
            parse("\"Example, PSIRT\" <psirt@example.com>"),
            Address::named("Example, PSIRT", email("psirt@example.com"))
        );
        assert_eq!(
            parse("<psirt@example.com>"),
            Address::new(email("psirt@example.com"))
        );
        for bad in ["PSIRT <psirt@example.com", "PSIRT", "a <b>"] {
            assert!(bad.parse::<Address>().is_err(), "{bad}");
        }
        let a = parse("警戒 PSIRT <psirt@example.com>");
        assert_eq!(a.to_string().parse::<Address>().ok(), Some(a));
    }

    #[test]
    fn passwords_stay_out_of_debug_output() {
        let mut c = SmtpConfig::new(
            "smtp.example.com",
            SmtpSecurity::StartTls,
            Address::new(email("psirt@example.com")),
        );
        c.username = Some("keikai".into());
        c.password = Some("hunter2-secret".into());
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("***") && debug.contains("keikai"), "{debug}");
        assert_eq!(c.port, 587);
    }
}
