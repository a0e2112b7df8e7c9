//! E-mail: the message a mail job carries, the SMTP mailer that sends it, and the handler
//! that connects the two.
//!
//! Subjects, display names and bodies may be Japanese: lettre encodes headers as RFC 2047
//! encoded-words and picks quoted-printable or base64 for bodies, so what goes on the wire
//! is ASCII and needs no 8BITMIME.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use keikai_domain::Email;
use keikai_store::{Job, NewJob};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::worker::{Handler, JobError};

/// The job kind [`MailHandler`] is registered for in `keikai serve`; the payload is a
/// [`Message`] (see [`Message::to_job`]).
pub const MAIL_JOB_KIND: &str = "mail";

/// A mailbox: an address with an optional display name (`警戒 PSIRT <psirt@example.com>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub email: Email,
}

impl Address {
    pub fn new(email: Email) -> Self {
        Self { name: None, email }
    }

    pub fn named(name: impl Into<String>, email: Email) -> Self {
        Self {
            name: Some(name.into()),
            email,
        }
    }
}

impl std::str::FromStr for Address {
    type Err = keikai_domain::DomainError;

    /// `psirt@example.com`, `Example PSIRT <psirt@example.com>` or
    /// `"Example, PSIRT" <psirt@example.com>`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let Some((name, rest)) = s.rsplit_once('<') else {
            return Email::parse(s).map(Self::new);
        };
        let Some(email) = rest.strip_suffix('>') else {
            return Err(keikai_domain::DomainError::invalid(
                "email",
                format!("\"{s}\" has a < without a closing >"),
            ));
        };
        let email = Email::parse(email)?;
        let name = name.trim().trim_matches('"').trim();
        Ok(if name.is_empty() {
            Self::new(email)
        } else {
            Self::named(name, email)
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{n} <{}>", self.email),
            None => write!(f, "{}", self.email),
        }
    }
}

/// One e-mail, as a mail job carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `None`: the configured sender (`[smtp] from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Address>,
    pub to: Vec<Address>,
    pub subject: String,
    /// The plain-text body, always sent.
    pub text: String,
    /// An HTML alternative to `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Further headers, such as `List-Unsubscribe` and `List-Unsubscribe-Post`. Headers
    /// the mailer writes itself (From, To, Subject, Message-ID, Date, Content-*) are refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// `<unique@domain>`, chosen by the caller from what the message announces (e.g. the
    /// advisory, its version and the recipient), so that a message sent again (a job run
    /// twice) is recognisable as the same one.
    pub message_id: String,
}

/// Headers the mailer sets from `Message`'s own fields or the MIME structure.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "subject",
    "message-id",
    "date",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "return-path",
];

impl Message {
    pub fn new(
        to: Address,
        subject: impl Into<String>,
        text: impl Into<String>,
        message_id: impl Into<String>,
    ) -> Self {
        Self {
            from: None,
            to: vec![to],
            subject: subject.into(),
            text: text.into(),
            html: None,
            headers: Vec::new(),
            message_id: message_id.into(),
        }
    }

    /// A mail job for this message, checked now so that a message that could never be sent
    /// is refused when it is made, not when the job runs.
    pub fn to_job(&self, key: impl Into<String>, run_at: Timestamp) -> Result<NewJob, MailError> {
        self.check()?;
        let payload = serde_json::to_value(self)
            .map_err(|e| MailError::Permanent(format!("cannot encode the message: {e}")))?;
        Ok(NewJob::new(MAIL_JOB_KIND, key, payload, run_at))
    }

    /// What lettre would not catch, or would catch only as a panic or a mangled header.
    fn check(&self) -> Result<(), MailError> {
        let invalid = |why: String| Err(MailError::Permanent(format!("invalid message: {why}")));
        if self.to.is_empty() {
            return invalid("it has no recipient".to_owned());
        }
        let id = self.message_id.as_str();
        let id_ok = id.len() > 4
            && id.starts_with('<')
            && id.ends_with('>')
            && id[1..id.len() - 1].contains('@')
            && id.bytes().all(|b| b.is_ascii_graphic())
            && !id[1..id.len() - 1].contains(['<', '>']);
        if !id_ok {
            return invalid(format!(
                "message_id {id:?} is not of the form <unique@domain>"
            ));
        }
        if has_line_break(&self.subject) {
            return invalid("the subject holds a line break".to_owned());
        }
        for a in self.from.iter().chain(&self.to) {
            if a.name
                .as_deref()
                .is_some_and(|n| n.chars().any(char::is_control))
            {
                return invalid(format!("the name of {} holds a control character", a.email));
            }
        }
        for (name, value) in &self.headers {
            let name_ok =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
            if !name_ok {
                return invalid(format!("{name:?} is not a header name"));
            }
            if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return invalid(format!(
                    "the header {name} is written by the mailer; set the message's own field"
                ));
            }
            if has_line_break(value) {
                return invalid(format!("the header {name} holds a line break"));
            }
        }
        Ok(())
    }

    /// The message as lettre sends it, with `default_from` when it names no sender.
    fn build(&self, default_from: &Address) -> Result<lettre::Message, MailError> {
        self.check()?;
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
        let built = match &self.html {
            None => b.singlepart(SinglePart::plain(self.text.clone())),
            Some(html) => b.multipart(MultiPart::alternative_plain_html(
                self.text.clone(),
                html.clone(),
            )),
        };
        built.map_err(|e| MailError::Permanent(format!("invalid message: {e}")))
    }
}

fn has_line_break(s: &str) -> bool {
    s.contains(['\r', '\n'])
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
        }
    }
}

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
            .finish()
    }
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Sends through an SMTP relay, keeping connections open between messages.
pub struct SmtpMailer {
    config: SmtpConfig,
    transport: Mutex<Transport>,
}

impl SmtpMailer {
    /// Prepares the transport (and TLS, reading the system's root certificates); connects
    /// only when the first message is sent.
    pub fn new(config: SmtpConfig) -> Result<Self, MailError> {
        let transport = transport(&config)?;
        Ok(Self {
            config,
            transport: Mutex::new(transport),
        })
    }

    pub fn config(&self) -> &SmtpConfig {
        &self.config
    }

    fn target(&self) -> String {
        format!("SMTP {}:{}", self.config.host, self.config.port)
    }

    fn current(&self) -> Transport {
        self.transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// After a timeout the abandoned connection goes back to the pool in the middle of a
    /// command, and its late replies would be read as the answers to the next message's
    /// commands. Lettre cannot mark it broken from outside, so the whole pool is replaced.
    fn replace_transport(&self) {
        match transport(&self.config) {
            Ok(fresh) => {
                let old = std::mem::replace(
                    &mut *self
                        .transport
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner),
                    fresh,
                );
                tokio::spawn(async move { old.shutdown().await });
            }
            Err(e) => tracing::warn!(error = %e, "cannot renew the SMTP connection pool"),
        }
    }
}

fn transport(c: &SmtpConfig) -> Result<Transport, MailError> {
    let tls = || {
        TlsParameters::new(c.host.clone()).map_err(|e| {
            MailError::Transient(format!(
                "SMTP {}:{}: cannot set up TLS: {e}",
                c.host, c.port
            ))
        })
    };
    let tls = match c.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::StartTls => Tls::Required(tls()?),
        SmtpSecurity::Tls => Tls::Wrapper(tls()?),
    };
    let mut builder = Transport::builder_dangerous(c.host.as_str())
        .port(c.port)
        .tls(tls)
        .timeout(Some(c.timeout));
    if let Some(user) = &c.username {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            c.password.clone().unwrap_or_default(),
        ));
    }
    Ok(builder.build())
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        let email = message.build(&self.config.from)?;
        // Lettre bounds only the TCP connect; a relay that stops answering mid-command would
        // hold the job until its lease ran out.
        match tokio::time::timeout(self.config.timeout, self.current().send(email)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                let text = format!("{}: {e}", self.target());
                // Client errors are ours (e.g. an address the relay's extensions cannot
                // carry): sending again changes nothing.
                Err(if e.is_permanent() || e.is_client() {
                    MailError::Permanent(text)
                } else {
                    MailError::Transient(text)
                })
            }
            Err(_) => {
                self.replace_transport();
                Err(MailError::Transient(format!(
                    "{}: timed out after {} s",
                    self.target(),
                    self.config.timeout.as_secs_f64()
                )))
            }
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
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

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
        ];
        for (spoil, want) in cases {
            let mut m = message();
            spoil(&mut m);
            match m.to_job("k", Timestamp::UNIX_EPOCH) {
                Err(MailError::Permanent(msg)) => assert!(msg.contains(want), "{want}: {msg}"),
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
