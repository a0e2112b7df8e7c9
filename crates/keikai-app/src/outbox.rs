//! The outbox's contract: the jobs a use case writes with its change (see
//! [`keikai_store::Effects`]) and what their payloads hold. The job worker
//! (`keikai-jobs`) runs them; the kinds and keys are defined here, once, so that whoever
//! writes a job and whoever runs it agree.
//!
//! Every job has an idempotency key: announcing one change twice (a retried request, two
//! instances) writes one job, so one message goes out.

use std::fmt;

use jiff::Timestamp;
use keikai_domain::Email;
use keikai_domain::edition::EventView;
use keikai_domain::subscription::Trigger;
use keikai_store::NewJob;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

// ------------------------------------------------------------------------------ mail

/// A mail job; the payload is a [`Message`] (see [`Message::to_job`]).
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
    /// The recipient's ASCII-armoured OpenPGP public key: when set, the message is sent
    /// encrypted to it (PGP/MIME), so it must have exactly one recipient. Check the key with
    /// `keikai_openpgp::inspect_public_key` when it is given; `to_job` only checks its shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypt_to: Option<String>,
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
            encrypt_to: None,
        }
    }

    /// A mail job for this message, checked now so that a message that could never be sent
    /// is refused when it is made, not when the job runs.
    pub fn to_job(&self, key: impl Into<String>, run_at: Timestamp) -> Result<NewJob> {
        self.check().map_err(Error::Internal)?;
        let payload = serde_json::to_value(self)
            .map_err(|e| Error::Internal(format!("cannot encode the message: {e}")))?;
        Ok(NewJob::new(MAIL_JOB_KIND, key, payload, run_at))
    }

    /// What lettre would not catch, or would catch only as a panic or a mangled header.
    pub fn check(&self) -> std::result::Result<(), String> {
        let invalid = |why: String| Err(format!("invalid message: {why}"));
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
        if let Some(key) = &self.encrypt_to {
            let key = key.trim();
            if !(key.starts_with(PUBLIC_KEY_BEGIN) && key.ends_with(PUBLIC_KEY_END)) {
                return invalid(format!(
                    "encrypt_to is not an ASCII-armoured OpenPGP public key (expected \
                     {PUBLIC_KEY_BEGIN} … {PUBLIC_KEY_END})"
                ));
            }
            if self.to.len() != 1 {
                return invalid(format!(
                    "encrypt_to is set but the message has {} recipients; only the key's \
                     holder could read it",
                    self.to.len()
                ));
            }
        }
        Ok(())
    }
}

const PUBLIC_KEY_BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const PUBLIC_KEY_END: &str = "-----END PGP PUBLIC KEY BLOCK-----";

fn has_line_break(s: &str) -> bool {
    s.contains(['\r', '\n'])
}

// ------------------------------------------------------------------------------ distribution

/// Plans an event's recipients; the payload is a [`FanoutRequest`].
pub const FANOUT_JOB_KIND: &str = "distribution.fanout";

/// One event to distribute.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FanoutRequest {
    pub trigger: Trigger,
    pub view: EventView,
}

impl FanoutRequest {
    pub fn new(trigger: Trigger, view: EventView) -> Self {
        Self { trigger, view }
    }

    /// The event's key: one fan-out, one event record, whoever enqueues it.
    pub fn key(&self) -> &str {
        &self.view.key
    }

    /// The fan-out job's idempotency key.
    pub fn job_key(key: &str) -> String {
        format!("fanout:{key}")
    }

    pub fn to_job(&self, run_at: Timestamp) -> Result<NewJob> {
        let payload = serde_json::to_value(self)
            .map_err(|e| Error::Internal(format!("cannot encode the event: {e}")))?;
        Ok(NewJob::new(
            FANOUT_JOB_KIND,
            Self::job_key(self.key()),
            payload,
            run_at,
        ))
    }
}

/// Sends one mail delivery of a fan-out; the payload is a [`DeliveryRequest`].
pub const DELIVERY_JOB_KIND: &str = "distribution.mail";

/// One recipient's delivery of an event, recorded by the fan-out: the job that sends it by
/// mail names it, and the message is made from the delivery when the job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRequest {
    pub delivery: uuid::Uuid,
}

impl DeliveryRequest {
    /// The idempotency key of a delivery's job, by mail or by webhook: one job per delivery.
    pub fn job_key(delivery: uuid::Uuid) -> String {
        format!("delivery:{delivery}")
    }

    pub fn to_job(&self, run_at: Timestamp) -> Result<NewJob> {
        let payload = serde_json::to_value(self)
            .map_err(|e| Error::Internal(format!("cannot encode the delivery: {e}")))?;
        Ok(NewJob::new(
            DELIVERY_JOB_KIND,
            Self::job_key(self.delivery),
            payload,
            run_at,
        ))
    }
}

// ------------------------------------------------------------------------------ cases

/// Brings a case up to date with a publication of its advisory; the payload is a
/// [`PublicationFollowUp`].
pub const FOLLOW_UP_JOB_KIND: &str = "case.follow_publication";

/// One published advisory version that a case follows: written with the publication, run
/// as Keikai itself (`keikai_app::cases::follow_publication`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationFollowUp {
    pub case: keikai_domain::CaseId,
    pub tracking_id: String,
    pub version: u32,
}

impl PublicationFollowUp {
    /// One follow-up per case and advisory version, whoever publishes it.
    pub fn job_key(&self) -> String {
        format!(
            "follow-publication:{}:{}:{}",
            self.case, self.tracking_id, self.version
        )
    }

    pub fn to_job(&self, run_at: Timestamp) -> Result<NewJob> {
        let payload = serde_json::to_value(self)
            .map_err(|e| Error::Internal(format!("cannot encode the follow-up: {e}")))?;
        Ok(NewJob::new(
            FOLLOW_UP_JOB_KIND,
            self.job_key(),
            payload,
            run_at,
        ))
    }
}

// ------------------------------------------------------------------------------ webhooks

/// A webhook call; the payload is a [`WebhookRequest`] (see [`WebhookRequest::to_job`]).
pub const WEBHOOK_JOB_KIND: &str = "webhook";

/// One POST, as a webhook job carries it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookRequest {
    /// The endpoint's id, opaque to the sender: it is handed back when the attempt is
    /// recorded.
    pub endpoint: String,
    /// An `http` or `https` URL with a host and without user information.
    pub url: String,
    /// The HMAC key the receiver shares with us.
    pub secret: String,
    /// What happened, e.g. `advisory.published`; sent as `X-Keikai-Event`.
    pub event: String,
    /// The idempotency id, sent as `X-Keikai-Delivery`; the same on every retry.
    pub delivery: String,
    pub body: serde_json::Value,
}

impl fmt::Debug for WebhookRequest {
    /// Without the secret, which would otherwise end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookRequest")
            .field("endpoint", &self.endpoint)
            .field("url", &self.url)
            .field("secret", &"***")
            .field("event", &self.event)
            .field("delivery", &self.delivery)
            .field("body", &self.body)
            .finish()
    }
}

impl WebhookRequest {
    /// A webhook job for this request, checked now so that a request that could never be
    /// sent is refused when it is made, not when the job runs. Whether the host is a public
    /// address is decided when the job runs (by the sender's policy, and DNS may change).
    pub fn to_job(&self, key: impl Into<String>, run_at: Timestamp) -> Result<NewJob> {
        self.check().map_err(Error::Internal)?;
        let payload = serde_json::to_value(self)
            .map_err(|e| Error::Internal(format!("cannot encode the request: {e}")))?;
        Ok(NewJob::new(WEBHOOK_JOB_KIND, key, payload, run_at))
    }

    /// Whether the request can be sent at all: a URL as
    /// [`keikai_domain::subscription::webhook_url`] accepts it, a secret, and an event and
    /// delivery id that can go into headers as they are.
    pub fn check(&self) -> std::result::Result<(), String> {
        keikai_domain::subscription::webhook_url(&self.url).map_err(|e| e.to_string())?;
        if self.secret.is_empty() {
            return Err("the secret is empty".to_owned());
        }
        for (name, value) in [("event", &self.event), ("delivery", &self.delivery)] {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(format!(
                    "{name} {value:?} must be non-empty printable ASCII without spaces"
                ));
            }
        }
        Ok(())
    }
}

/// Where links in messages point and how message ids are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// The public base URL, e.g. `https://psirt.example.com` (no trailing slash).
    pub base_url: String,
    /// The right-hand side of Message-IDs and List-Ids, e.g. `psirt.example.com`.
    pub domain: String,
}

impl Links {
    pub fn new(base_url: &str) -> Self {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let domain = base_url
            .split("://")
            .nth(1)
            .unwrap_or(&base_url)
            .split(['/', ':'])
            .next()
            .filter(|h| !h.is_empty())
            .unwrap_or("keikai.invalid")
            .to_owned();
        Self { base_url, domain }
    }

    pub fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}/unsubscribe/{token}", self.base_url)
    }

    pub fn ack_url(&self, token: &str) -> String {
        format!("{}/ack/{token}", self.base_url)
    }

    /// `<{id}@{domain}>` for a delivery.
    pub fn message_id(&self, delivery: uuid::Uuid) -> String {
        format!("<{}@{}>", delivery.simple(), self.domain)
    }

    /// `<{local}@{domain}>` for a message named by what it announces.
    pub fn message_id_for(&self, local: &str) -> String {
        format!("<{local}@{}>", self.domain)
    }
}

/// A fresh secret for links (confirmation, unsubscribe, acknowledgement): 256 random bits
/// from the operating system's generator, as hex (safe in URLs and headers).
pub fn link_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request() -> WebhookRequest {
        WebhookRequest {
            endpoint: "ep-1".into(),
            url: "https://hooks.example.com/keikai?token=abc".into(),
            secret: "s3cret".into(),
            event: "advisory.published".into(),
            delivery: "0193e3a0-7c1f-7000-8000-000000000001".into(),
            body: json!({ "advisory": "KEIKAI-2026-0001", "title": "警戒ルーター" }),
        }
    }

    #[test]
    fn webhook_requests_round_trip_as_job_payloads() {
        let r = request();
        let job = r
            .to_job("webhook:ep-1:adv-1", Timestamp::UNIX_EPOCH)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(job.kind, WEBHOOK_JOB_KIND);
        assert_eq!(job.key, "webhook:ep-1:adv-1");
        let back: WebhookRequest =
            serde_json::from_value(job.payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, r);
    }

    #[test]
    fn malformed_webhook_requests_are_refused_when_made() {
        type Spoil = fn(&mut WebhookRequest);
        let cases: &[(Spoil, &str)] = &[
            (|r| r.url = "hooks.example.com/x".into(), "is not a URL"),
            (
                |r| r.url = "ftp://hooks.example.com/x".into(),
                "scheme \"ftp\"",
            ),
            (|r| r.url = "file:///etc/passwd".into(), "scheme \"file\""),
            (
                |r| r.url = "http://user:pw@hooks.example.com/".into(),
                "user name or password",
            ),
            (
                |r| r.url = "https://user@hooks.example.com/".into(),
                "user name or password",
            ),
            // Special schemes always need a host: the parser itself refuses an empty one.
            (|r| r.url = "http://".into(), "is not a URL"),
            (|r| r.secret.clear(), "secret is empty"),
            (|r| r.event.clear(), "event"),
            (|r| r.event = "advisory published".into(), "event"),
            (|r| r.delivery = "d\r\nX-Evil: 1".into(), "delivery"),
        ];
        for (spoil, want) in cases {
            let mut r = request();
            spoil(&mut r);
            match r.to_job("k", Timestamp::UNIX_EPOCH) {
                Err(Error::Internal(msg)) => assert!(msg.contains(want), "{want}: {msg}"),
                other => panic!("{want}: expected an invalid request, got {other:?}"),
            }
        }
        for good in [
            "http://hooks.example.com",
            "https://hooks.example.com:8443/a/b?c=d",
            "https://[2606:2800:220:1::1]/x",
            "http://93.184.216.34/x",
        ] {
            let mut r = request();
            r.url = good.into();
            assert!(r.to_job("k", Timestamp::UNIX_EPOCH).is_ok(), "{good}");
        }
    }

    #[test]
    fn the_webhook_secret_stays_out_of_debug_output() {
        let debug = format!("{:?}", request());
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("advisory.published"), "{debug}");
    }

    #[test]
    fn a_delivery_job_names_its_delivery() {
        let id = uuid::Uuid::now_v7();
        let job = DeliveryRequest { delivery: id }
            .to_job(Timestamp::UNIX_EPOCH)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(job.kind, DELIVERY_JOB_KIND);
        assert_eq!(job.key, format!("delivery:{id}"));
        assert_eq!(job.payload, json!({ "delivery": id }));
    }
}
