//! Webhooks: the POST a webhook job carries, its signature, and the handler that sends it.
//!
//! A delivery is one JSON body POSTed to an endpoint's URL with three headers of ours:
//! `X-Keikai-Event` (what happened), `X-Keikai-Delivery` (the idempotency id, the same on
//! every retry, so receivers can drop repeats) and `X-Keikai-Signature`
//! (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, see [`signature`] and
//! [`verify_signature`]).
//!
//! The URLs are the subscribers', so the handler guards against being turned on ourselves
//! (SSRF): unless [`WebhookPolicy::allow_private_targets`] is set, it resolves the host once,
//! refuses if any address is not a public one ([`restricted_range`]), and connects to the
//! addresses it checked, not to a second resolution's (DNS rebinding). Redirects are not
//! followed and no proxy is used, for the same reason.
//!
//! Retries and back-off are the worker's ([`crate::RetryPolicy`]). Whether an endpoint is
//! still enabled, and what each attempt did, is the application's business, reached through
//! [`WebhookHooks`]; [`should_disable`] is the rule for turning a failing endpoint off.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use keikai_store::Job;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Client, ClientBuilder, StatusCode, Url};
use sha2::Sha256;

use crate::worker::{Handler, JobError};

/// The job kind [`WebhookHandler`] is registered for, and its payload: one POST (see
/// [`WebhookRequest::to_job`]). Defined with the other jobs in `keikai_app::outbox`.
pub use keikai_app::outbox::{WEBHOOK_JOB_KIND, WebhookRequest};

/// Sent as `User-Agent`; the number changes when the signature scheme or headers do.
pub const USER_AGENT: &str = "Keikai-Webhook/1";
pub const EVENT_HEADER: &str = "X-Keikai-Event";
pub const DELIVERY_HEADER: &str = "X-Keikai-Delivery";
pub const SIGNATURE_HEADER: &str = "X-Keikai-Signature";

type HmacSha256 = Hmac<Sha256>;

/// The URL of a request that can be sent at all (see [`WebhookRequest::check`]).
fn checked_url(request: &WebhookRequest) -> Result<Url, WebhookError> {
    request.check().map_err(WebhookError::Invalid)?;
    check_url(&request.url)
}

fn check_url(raw: &str) -> Result<Url, WebhookError> {
    keikai_domain::subscription::webhook_url(raw).map_err(|e| WebhookError::Invalid(e.to_string()))
}

/// `scheme://host[:port]`: how error messages name the target. Not the whole URL, whose
/// path or query often holds a token (Slack-style hooks) and would end up in the jobs table.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn keyed_mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC hashes long keys and pads short ones: every length is accepted.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Keikai-Signature` value for `body` sent at `timestamp` (unix seconds):
/// `t=<timestamp>,v1=<lowercase hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = keyed_mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

/// What a receiver does with `X-Keikai-Signature`: checks that one of its `v1` values is
/// the HMAC of this body and timestamp (compared in constant time), and that the timestamp
/// is at most `tolerance_secs` from `now` (both unix seconds), so that a captured request
/// cannot be replayed later. Keys other than `t` and `v1` are ignored (later schemes).
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), WebhookError> {
    let malformed = |why: String| Err(WebhookError::MalformedSignature(why));
    if secret.is_empty() {
        // Anyone can compute an HMAC with an empty key.
        return Err(WebhookError::Invalid("the secret is empty".to_owned()));
    }
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return malformed(format!("{part:?} in {header:?} is not key=value"));
        };
        match key {
            "t" => {
                if timestamp.is_some() {
                    return malformed(format!("{header:?} has more than one t="));
                }
                match value.parse::<i64>() {
                    Ok(t) => timestamp = Some(t),
                    Err(_) => return malformed(format!("t={value:?} is not unix seconds")),
                }
            }
            "v1" => match hex::decode(value) {
                Ok(tag) => tags.push(tag),
                Err(_) => return malformed(format!("v1={value:?} is not hexadecimal")),
            },
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return malformed(format!("{header:?} has no t="));
    };
    if tags.is_empty() {
        return malformed(format!("{header:?} has no v1="));
    }
    let mac = keyed_mac(secret, timestamp, body);
    if !tags.iter().any(|tag| mac.clone().verify_slice(tag).is_ok()) {
        return Err(WebhookError::BadSignature);
    }
    let age = now.abs_diff(timestamp);
    if age > u64::try_from(tolerance_secs).unwrap_or(0) {
        return Err(WebhookError::StaleSignature {
            age,
            tolerance: tolerance_secs,
        });
    }
    Ok(())
}

/// How webhooks are sent.
#[derive(Debug, Clone)]
pub struct WebhookPolicy {
    /// Let webhooks go to loopback, private and other non-public addresses. Off in
    /// production: on, a subscriber could make us POST to our own network. Tests and
    /// closed installations turn it on.
    pub allow_private_targets: bool,
    /// The most one attempt may take: resolving, connecting, sending and reading the
    /// status. A receiver that hangs fails the attempt (retryably). Keep it well below
    /// `WorkerConfig::handler_timeout`, or the worker stops the handler before it reports.
    pub timeout: Duration,
    /// After this many failed attempts in a row, the application disables the endpoint
    /// (see [`should_disable`]); 0 never disables.
    pub disable_after: u32,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            timeout: Duration::from_secs(10),
            disable_after: 10,
        }
    }
}

/// Whether an endpoint whose last `consecutive_failures` attempts all failed is to be
/// disabled. The application counts (it resets the count on a delivery, see
/// [`WebhookOutcome`]); this is the rule.
pub fn should_disable(consecutive_failures: u32, policy: &WebhookPolicy) -> bool {
    policy.disable_after > 0 && consecutive_failures >= policy.disable_after
}

/// What the handler reports after every attempt, so the application can keep the endpoint's
/// health and the delivery's status.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookOutcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// `permanent`: the job ends here; otherwise it runs again if attempts are left.
    Failed { error: String, permanent: bool },
}

/// The application's side of webhooks: which endpoints are still on, and what each attempt
/// did.
#[async_trait]
pub trait WebhookHooks: Send + Sync {
    /// false: the endpoint was disabled or removed; the job ends without a request
    /// (Permanent error "endpoint disabled"), and nothing is recorded.
    async fn is_enabled(&self, endpoint: &str) -> Result<bool, String>;
    /// Called after every attempt, before the job's outcome is returned to the worker. An
    /// error fails the job retryably, so the attempt (and its report) is made again.
    async fn record(
        &self,
        request: &WebhookRequest,
        outcome: &WebhookOutcome,
    ) -> Result<(), String>;
}

/// Why a webhook was not sent, or a signature not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The request cannot be sent as it is (URL, secret, event or delivery id).
    #[error("invalid webhook request: {0}")]
    Invalid(String),
    /// The target is not a public address and the policy does not allow private ones.
    #[error("{0}")]
    Refused(String),
    /// The receiver said no for good (a 4xx other than 408 and 429, a redirect).
    #[error("{0}")]
    Permanent(String),
    /// Another attempt may succeed (5xx, 408, 429, no connection, a timeout).
    #[error("{0}")]
    Transient(String),
    /// The HTTP client could not be set up (e.g. no CA certificates on the system).
    #[error("cannot set up the webhook HTTP client: {0}")]
    Client(String),
    /// [`verify_signature`]: the header cannot be read.
    #[error("malformed X-Keikai-Signature: {0}")]
    MalformedSignature(String),
    /// [`verify_signature`]: no `v1` matches; the body, timestamp or secret differ.
    #[error("X-Keikai-Signature: no v1 signature matches the body")]
    BadSignature,
    /// [`verify_signature`]: authentic, but signed too long ago (or in the future).
    #[error(
        "X-Keikai-Signature: the timestamp is {age} s away from now, more than the {tolerance} s \
         allowed"
    )]
    StaleSignature { age: u64, tolerance: i64 },
}

impl WebhookError {
    pub fn is_permanent(&self) -> bool {
        !matches!(self, Self::Transient(_))
    }
}

impl From<WebhookError> for JobError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::Transient(m) => Self::Retryable(m),
            other => Self::Permanent(other.to_string()),
        }
    }
}

/// Why `ip` is not a public internet address a webhook may go to (the range, for error
/// messages), or `None` when it is one. IPv4 addresses embedded in IPv6 ones (mapped,
/// NAT64, 6to4) are judged by the IPv4 address.
pub fn restricted_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "unspecified (0.0.0.0)",
        _ if ip.is_broadcast() => "broadcast (255.255.255.255)",
        (0, ..) => "\"this network\" (0.0.0.0/8)",
        (10, ..) => "private (10.0.0.0/8)",
        (100, 64..=127, _) => "carrier-grade NAT (100.64.0.0/10)",
        (127, ..) => "loopback (127.0.0.0/8)",
        (169, 254, _) => "link-local (169.254.0.0/16)",
        (172, 16..=31, _) => "private (172.16.0.0/12)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) => "documentation (192.0.2.0/24)",
        (192, 168, _) => "private (192.168.0.0/16)",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (198, 51, 100) => "documentation (198.51.100.0/24)",
        (203, 0, 113) => "documentation (203.0.113.0/24)",
        (224..=239, ..) => "multicast (224.0.0.0/4)",
        (240..=255, ..) => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    Some(match s {
        _ if ip.is_unspecified() => "unspecified (::)",
        _ if ip.is_loopback() => "loopback (::1)",
        [0, 0, 0, 0, 0, 0xffff, h, l] => {
            v4_range(embedded(h, l))?;
            "IPv4-mapped (::ffff:0:0/96) form of a non-public IPv4"
        }
        [0, 0, 0, 0, 0, 0, _, _] => "IPv4-compatible (::/96, deprecated)",
        [0x64, 0xff9b, 0, 0, 0, 0, h, l] => {
            v4_range(embedded(h, l))?;
            "NAT64 (64:ff9b::/96) form of a non-public IPv4"
        }
        [0x64, 0xff9b, 1, ..] => "local-use NAT64 (64:ff9b:1::/48)",
        [0x100, 0, 0, 0, ..] => "discard-only (100::/64)",
        [x, ..] if x & 0xfe00 == 0xfc00 => "unique-local (fc00::/7)",
        [x, ..] if x & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        [x, ..] if x & 0xffc0 == 0xfec0 => "site-local (fec0::/10, deprecated)",
        [x, ..] if x & 0xff00 == 0xff00 => "multicast (ff00::/8)",
        // Only 2000::/3 is handed out for global unicast; the rest is reserved.
        [x, ..] if x & 0xe000 != 0x2000 => "reserved (outside 2000::/3)",
        [0x2001, 0, ..] => "Teredo (2001::/32)",
        [0x2001, 2, 0, ..] => "benchmarking (2001:2::/48)",
        [0x2001, 0xdb8, ..] => "documentation (2001:db8::/32)",
        [x, ..] if x & 0xfff0 == 0x3ff0 => "documentation (3fff::/20)",
        [0x2002, h, l, ..] => {
            v4_range(embedded(h, l))?;
            "6to4 (2002::/16) form of a non-public IPv4"
        }
        _ => return None,
    })
}

/// Runs webhook jobs: the payload is a [`WebhookRequest`], POSTed to its URL.
pub struct WebhookHandler {
    policy: WebhookPolicy,
    hooks: Arc<dyn WebhookHooks>,
    /// For URLs whose host is an IP address: nothing to resolve, so nothing to pin.
    client: Client,
}

impl WebhookHandler {
    /// Sets up the HTTP client (reading the system's root certificates), so that a system
    /// without them fails at start-up rather than at the first delivery.
    pub fn new(policy: WebhookPolicy, hooks: Arc<dyn WebhookHooks>) -> Result<Self, WebhookError> {
        let client = client_builder()
            .build()
            .map_err(|e| WebhookError::Client(error_chain(&e)))?;
        Ok(Self {
            policy,
            hooks,
            client,
        })
    }

    pub fn policy(&self) -> &WebhookPolicy {
        &self.policy
    }

    /// One attempt: the receiver's status when it answered 2xx.
    async fn deliver(&self, request: &WebhookRequest) -> Result<u16, WebhookError> {
        let url = checked_url(request)?;
        // Serialised once: the signature covers exactly the bytes sent.
        let body = serde_json::to_vec(&request.body)
            .map_err(|e| WebhookError::Invalid(format!("cannot encode the body: {e}")))?;
        let target = origin(&url);
        let attempt = async {
            let client = self.client_for(&url, &target).await?;
            let signed = signature(
                request.secret.as_bytes(),
                Timestamp::now().as_second(),
                &body,
            );
            let response = client
                .post(url.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(EVENT_HEADER, &request.event)
                .header(DELIVERY_HEADER, &request.delivery)
                .header(SIGNATURE_HEADER, signed)
                .body(body)
                .send()
                .await
                .map_err(|e| WebhookError::Transient(format!("{target}: {}", error_chain(&e))))?;
            judge(&target, response).await
        };
        match tokio::time::timeout(self.policy.timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(WebhookError::Transient(format!(
                "{target}: no answer within {} s",
                self.policy.timeout.as_secs_f64()
            ))),
        }
    }

    /// The client to send with: for a host name, one that connects only to the addresses
    /// resolved (and vetted) here, so that a second resolution cannot lead elsewhere.
    async fn client_for(&self, url: &Url, target: &str) -> Result<Client, WebhookError> {
        let (host, port) = match (target_host(url), url.port_or_known_default()) {
            (Some(TargetHost::Ip(ip)), _) => {
                self.vet(target, None, ip)?;
                return Ok(self.client.clone());
            }
            (Some(TargetHost::Name(host)), Some(port)) => (host, port),
            _ => {
                return Err(WebhookError::Invalid(format!(
                    "{target}: no host or port to send to"
                )));
            }
        };
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| WebhookError::Transient(format!("{target}: cannot resolve {host}: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(WebhookError::Transient(format!(
                "{target}: {host} resolves to no address"
            )));
        }
        // Any bad address refuses the lot: the connector may try them in any order.
        for addr in &addrs {
            self.vet(target, Some(host), addr.ip())?;
        }
        client_builder()
            .resolve_to_addrs(host, &addrs)
            .build()
            .map_err(|e| WebhookError::Transient(format!("{target}: {}", error_chain(&e))))
    }

    fn vet(&self, target: &str, host: Option<&str>, ip: IpAddr) -> Result<(), WebhookError> {
        if self.policy.allow_private_targets {
            return Ok(());
        }
        let Some(range) = restricted_range(ip) else {
            return Ok(());
        };
        let what = match host {
            Some(host) => format!("{host} resolves to {ip}"),
            None => ip.to_string(),
        };
        Err(WebhookError::Refused(format!(
            "{target}: refused: {what}, which is not a public address: {range}; webhooks go \
             to public addresses only"
        )))
    }
}

enum TargetHost<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// The URL's host as an address or a name. The URL parser has already turned every IPv4
/// spelling (`2130706433`, `0x7f.1`) into dotted decimal, so a name is never an address.
fn target_host(url: &Url) -> Option<TargetHost<'_>> {
    let host = url.host_str()?;
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| TargetHost::Ip(ip.into()));
    }
    Some(match host.parse::<Ipv4Addr>() {
        Ok(ip) => TargetHost::Ip(ip.into()),
        Err(_) => TargetHost::Name(host),
    })
}

fn client_builder() -> ClientBuilder {
    Client::builder()
        .user_agent(USER_AGENT)
        // A redirect could lead to an internal address, past the check.
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would connect wherever the name resolves to on its side.
        .no_proxy()
}

/// Sorts the receiver's answer: 2xx delivered; 5xx, 408 and 429 worth another try; the
/// rest (other 4xx, redirects, 1xx) final.
async fn judge(target: &str, response: reqwest::Response) -> Result<u16, WebhookError> {
    let status = response.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    let location = response
        .headers()
        .get(LOCATION)
        .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
    let mut text = format!("{target}: answered {}", describe(status));
    if status.is_redirection() {
        text.push_str(&format!(
            " (to {}); redirects are not followed, so the endpoint's URL needs updating",
            clean(location.as_deref().unwrap_or("nowhere"))
        ));
    } else {
        let excerpt = excerpt(response).await;
        if !excerpt.is_empty() {
            text.push_str(&format!(": {excerpt}"));
        }
    }
    let retryable = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    Err(if retryable {
        WebhookError::Transient(text)
    } else {
        WebhookError::Permanent(text)
    })
}

fn describe(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// Enough bytes of a failed answer's body to say why, read within the attempt's timeout.
const EXCERPT_BYTES: usize = 512;
const EXCERPT_CHARS: usize = 200;

async fn excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            // A body cut short or unreadable: the status says enough.
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    clean(&String::from_utf8_lossy(&bytes))
}

/// One line of at most `EXCERPT_CHARS` characters, fit for a log and the jobs table.
fn clean(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    match trimmed.char_indices().nth(EXCERPT_CHARS) {
        Some((i, _)) => format!("{}…", &trimmed[..i]),
        None => trimmed.to_owned(),
    }
}

/// An error with its causes: reqwest's own text says only "error sending request". Without
/// the URL (see [`origin`]).
fn error_chain(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[async_trait]
impl Handler for WebhookHandler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let request: WebhookRequest = serde_json::from_value(job.payload.clone()).map_err(|e| {
            JobError::permanent(format!("the payload is not a webhook request: {e}"))
        })?;
        match self.hooks.is_enabled(&request.endpoint).await {
            Ok(true) => {}
            Ok(false) => return Err(JobError::permanent("endpoint disabled")),
            Err(e) => {
                return Err(JobError::retryable(format!(
                    "webhook endpoint {}: cannot tell whether it is enabled: {e}",
                    request.endpoint
                )));
            }
        }
        let result = self.deliver(&request).await;
        let outcome = match &result {
            Ok(status) => WebhookOutcome::Delivered { status: *status },
            Err(e) => WebhookOutcome::Failed {
                error: e.to_string(),
                permanent: e.is_permanent(),
            },
        };
        if let Err(e) = self.hooks.record(&request, &outcome).await {
            return Err(JobError::retryable(format!(
                "webhook delivery {}: {outcome:?}, but recording that failed: {e}",
                request.delivery
            )));
        }
        match result {
            Ok(status) => {
                tracing::debug!(
                    endpoint = %request.endpoint, delivery = %request.delivery, status,
                    "webhook delivered"
                );
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn the_classifier_knows_the_ranges() {
        let table: &[(&str, Option<&str>)] = &[
            // Public.
            ("93.184.216.34", None),
            ("8.8.8.8", None),
            ("1.1.1.1", None),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("172.15.255.255", None),
            ("172.32.0.0", None),
            ("192.0.1.1", None),
            ("192.167.1.1", None),
            ("198.17.255.255", None),
            ("198.20.0.0", None),
            ("223.255.255.255", None),
            ("2606:2800:220:1:248:1893:25c8:1946", None),
            ("2a00:1450:4001:82a::200e", None),
            ("::ffff:93.184.216.34", None),
            ("64:ff9b::808:808", None),
            ("2002:5db8:d822::1", None),
            // Not public.
            ("0.0.0.0", Some("unspecified")),
            ("0.1.2.3", Some("\"this network\"")),
            ("10.0.0.1", Some("private (10.")),
            ("10.255.255.255", Some("private (10.")),
            ("100.64.0.1", Some("carrier-grade NAT")),
            ("100.127.255.255", Some("carrier-grade NAT")),
            ("127.0.0.1", Some("loopback")),
            ("127.255.0.9", Some("loopback")),
            ("169.254.169.254", Some("link-local")),
            ("172.16.0.1", Some("private (172.16")),
            ("172.31.255.255", Some("private (172.16")),
            ("192.0.0.8", Some("IETF protocol")),
            ("192.0.2.1", Some("documentation")),
            ("192.168.1.1", Some("private (192.168")),
            ("198.18.0.1", Some("benchmarking")),
            ("198.51.100.7", Some("documentation")),
            ("203.0.113.9", Some("documentation")),
            ("224.0.0.1", Some("multicast")),
            ("239.255.255.250", Some("multicast")),
            ("240.0.0.1", Some("reserved")),
            ("255.255.255.255", Some("broadcast")),
            ("::", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::ffff:127.0.0.1", Some("IPv4-mapped")),
            ("::ffff:10.1.2.3", Some("IPv4-mapped")),
            ("::ffff:169.254.169.254", Some("IPv4-mapped")),
            ("::127.0.0.1", Some("IPv4-compatible")),
            ("64:ff9b::a00:1", Some("NAT64")),
            ("64:ff9b:1::1", Some("local-use NAT64")),
            ("100::1", Some("discard-only")),
            ("fc00::1", Some("unique-local")),
            ("fd12:3456:789a::1", Some("unique-local")),
            ("fe80::1", Some("link-local")),
            ("febf::1", Some("link-local")),
            ("fec0::1", Some("site-local")),
            ("ff02::1", Some("multicast")),
            ("ff0e::1", Some("multicast")),
            ("2001::1", Some("Teredo")),
            ("2001:2::1", Some("benchmarking")),
            ("2001:db8::1", Some("documentation")),
            ("3fff::1", Some("documentation")),
            ("2002:7f00:1::1", Some("6to4")),
            ("2002:c0a8:101::1", Some("6to4")),
            ("4000::1", Some("reserved")),
            ("1::1", Some("reserved")),
        ];
        let mut wrong = Vec::new();
        for (addr, want) in table {
            let got = restricted_range(ip(addr));
            let ok = match (got, want) {
                (None, None) => true,
                (Some(g), Some(w)) => g.starts_with(w),
                _ => false,
            };
            if !ok {
                wrong.push(format!("{addr}: got {got:?}, want {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn signatures_verify_and_reject() {
        let body = br#"{"advisory":"KEIKAI-2026-0001"}"#;
        let header = signature(b"s3cret", 1_790_000_000, body);
        assert!(header.starts_with("t=1790000000,v1="), "{header}");
        let hex_part = &header["t=1790000000,v1=".len()..];
        assert_eq!(hex_part.len(), 64);
        assert!(
            hex_part
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        let ok = |h: &str, body: &[u8], now| verify_signature(b"s3cret", h, body, now, 300);

        assert_eq!(ok(&header, body, 1_790_000_000), Ok(()));
        assert_eq!(ok(&header, body, 1_790_000_300), Ok(()));
        assert_eq!(ok(&header, body, 1_789_999_700), Ok(()));
        // Spaces after commas, unknown schemes and a second (rotated) v1 are fine.
        let rotated = format!("t=1790000000, v0=zz, v1={}, v1={hex_part}", "00".repeat(32));
        assert_eq!(ok(&rotated, body, 1_790_000_000), Ok(()));

        assert_eq!(
            ok(
                &header,
                b"{\"advisory\":\"KEIKAI-2026-0002\"}",
                1_790_000_000
            ),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_signature(b"other", &header, body, 1_790_000_000, 300),
            Err(WebhookError::BadSignature)
        );
        let moved = header.replace("t=1790000000", "t=1790000001");
        assert_eq!(
            ok(&moved, body, 1_790_000_000),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            ok(&header, body, 1_790_000_301),
            Err(WebhookError::StaleSignature {
                age: 301,
                tolerance: 300
            })
        );
        assert!(matches!(
            ok(&header, body, 1_789_999_000),
            Err(WebhookError::StaleSignature { age: 1000, .. })
        ));
        for bad in [
            "",
            "v1=00",
            "t=1790000000",
            "t=soon,v1=00",
            "t=1,t=2,v1=00",
            "t=1790000000,v1=xyz",
            "t=1790000000;v1=00",
        ] {
            assert!(
                matches!(
                    ok(bad, body, 1_790_000_000),
                    Err(WebhookError::MalformedSignature(_))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            verify_signature(b"", &header, body, 1_790_000_000, 300),
            Err(WebhookError::Invalid(_))
        ));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        assert_eq!(
            signature(b"key", 1_700_000_000, b"{}"),
            format!(
                "t=1700000000,v1={}",
                hex::encode(reference_hmac(b"key", b"1700000000.{}"))
            )
        );
    }

    /// HMAC-SHA256 written out from RFC 2104 with sha2 alone, to check the hmac crate's use.
    fn reference_hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        let mut block = [0u8; 64];
        if key.len() > 64 {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let pad = |b: u8| block.map(|k| k ^ b);
        let inner = Sha256::new()
            .chain_update(pad(0x36))
            .chain_update(message)
            .finalize();
        Sha256::new()
            .chain_update(pad(0x5c))
            .chain_update(inner)
            .finalize()
            .into()
    }

    #[test]
    fn every_spelling_of_an_address_is_an_address() {
        for (raw, want) in [
            ("http://127.0.0.1:8080/", "127.0.0.1"),
            ("http://2130706433/", "127.0.0.1"),
            ("http://0x7f.1/", "127.0.0.1"),
            ("http://017700000001/", "127.0.0.1"),
            ("http://[::1]/", "::1"),
            ("http://[::ffff:7f00:1]/", "::ffff:127.0.0.1"),
        ] {
            let url = check_url(raw).unwrap_or_else(|e| panic!("{e}"));
            match target_host(&url) {
                Some(TargetHost::Ip(got)) => assert_eq!(got, ip(want), "{raw}"),
                _ => panic!("{raw}: not read as an address"),
            }
        }
        let url = check_url("https://Hooks.Example.com./x").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            target_host(&url),
            Some(TargetHost::Name("hooks.example.com."))
        ));
    }

    #[test]
    fn messages_name_the_origin_not_the_url() {
        let url = check_url("https://hooks.example.com:8443/T000/B000/XXXX?token=abc")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(origin(&url), "https://hooks.example.com:8443");
    }

    #[test]
    fn endpoints_are_disabled_after_the_set_number_of_failures() {
        let policy = WebhookPolicy::default();
        assert_eq!(policy.disable_after, 10);
        assert_eq!(policy.timeout, Duration::from_secs(10));
        assert!(!policy.allow_private_targets);
        assert!(!should_disable(0, &policy));
        assert!(!should_disable(9, &policy));
        assert!(should_disable(10, &policy));
        assert!(should_disable(11, &policy));
        let never = WebhookPolicy {
            disable_after: 0,
            ..WebhookPolicy::default()
        };
        assert!(!should_disable(u32::MAX, &never));
    }

    #[test]
    fn answers_are_cleaned_for_the_jobs_table() {
        assert_eq!(clean(" a\r\nb\tc "), "a  b c");
        let long = "警".repeat(EXCERPT_CHARS + 3);
        assert_eq!(clean(&long).chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn errors_map_to_job_errors() {
        let retry: JobError = WebhookError::Transient("503".into()).into();
        assert_eq!(retry, JobError::Retryable("503".into()));
        for e in [
            WebhookError::Permanent("404".into()),
            WebhookError::Refused("loopback".into()),
            WebhookError::Invalid("url".into()),
        ] {
            assert!(e.is_permanent());
            assert!(JobError::from(e).is_permanent());
        }
    }
}
