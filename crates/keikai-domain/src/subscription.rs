//! Distribution to subscribers (issue 7, the rules only): subscribers, lists (audiences) with
//! filters and priorities, and the plan that says who receives which list's edition of an
//! event.
//!
//! **The no-duplicates rule.** A subscriber receives at most one message per event. Among the
//! lists they are on whose filters (and their own) let the event through, the list with the
//! highest priority — the lowest `priority` number, then the oldest list — decides the
//! edition. A subscriber on no matching list receives nothing.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::advisory::Tlp;
use crate::org::text_field;
use crate::partner::BranchParents;
use crate::{BranchId, DomainError, Email, ListId, Locale, SubscriberId};

pub mod import;

crate::names! {
    pub enum SubscriberKind("kind", "a subscriber kind") {
        /// Someone of our own organisation (e.g. an engineer who needs the internal supplement).
        Internal = "internal",
        External = "external",
    }
}

crate::names! {
    /// Where a subscription stands: double opt-in makes it active; unsubscribing ends it.
    pub enum SubscriptionState("state", "a subscription state") {
        /// Waiting for the address to confirm (double opt-in).
        Pending = "pending",
        Active = "active",
        Unsubscribed = "unsubscribed",
    }
}

/// What an audience, or a subscriber, wants to receive. Empty sets mean "any".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Filter {
    /// Branches of the product tree; an event matches when it affects anything beneath one.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub products: BTreeSet<BranchId>,
    /// The lowest CVSS base score (of the event's highest) that goes out.
    #[serde(default)]
    pub min_score: Option<f64>,
    #[serde(default)]
    pub exploited_only: bool,
    /// Languages the audience reads; the event must be available in one of them.
    #[serde(default)]
    pub languages: BTreeSet<Locale>,
    /// The most restricted TLP label the audience may receive.
    #[serde(default)]
    pub max_tlp: Tlp,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            products: BTreeSet::new(),
            min_score: None,
            exploited_only: false,
            languages: BTreeSet::new(),
            max_tlp: Tlp::Clear,
        }
    }
}

/// TLP labels from least to most restricted.
const fn tlp_rank(t: Tlp) -> u8 {
    match t {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

impl Filter {
    pub fn check(self) -> Result<Self, DomainError> {
        if let Some(s) = self.min_score
            && !(0.0..=10.0).contains(&s)
        {
            return Err(DomainError::invalid(
                "min_score",
                format!("{s} is not a CVSS score (0.0 to 10.0)"),
            ));
        }
        Ok(self)
    }

    /// Whether the event gets through this filter.
    pub fn matches(&self, event: &EventFacts, tree: &BranchParents) -> bool {
        if tlp_rank(event.tlp) > tlp_rank(self.max_tlp) {
            return false;
        }
        if self.exploited_only && !event.exploited {
            return false;
        }
        if let Some(min) = self.min_score
            && event.max_score.is_none_or(|s| s < min)
        {
            return false;
        }
        if !self.languages.is_empty() && self.languages.is_disjoint(&event.languages) {
            return false;
        }
        self.products.is_empty()
            || event
                .affected
                .iter()
                .any(|leaf| tree.lineage(*leaf).any(|b| self.products.contains(&b)))
    }
}

crate::names! {
    /// What sets off a distribution; each list says which it receives.
    pub enum Trigger("triggers", "a trigger") {
        /// A new advisory is published.
        Publication = "publication",
        /// A published advisory gets a new version.
        Revision = "revision",
        /// A release (e.g. the monthly train) went out: one summary of all its advisories.
        ReleaseSummary = "release_summary",
        /// An early warning written by the PSIRT (e.g. an exploited bug before its fix).
        EarlyWarning = "early_warning",
        DailyDigest = "daily_digest",
        WeeklyDigest = "weekly_digest",
    }
}

/// What a new list receives unless told otherwise: each advisory as it comes, and early
/// warnings. Summaries and digests repeat those, so a list opts into them.
pub fn default_triggers() -> BTreeSet<Trigger> {
    [
        Trigger::Publication,
        Trigger::Revision,
        Trigger::EarlyWarning,
    ]
    .into()
}

/// What the filters look at in an event (a publication, a revision, a release summary…).
#[derive(Debug, Clone, PartialEq)]
pub struct EventFacts {
    /// What set it off: a list receives only the triggers it chose.
    pub trigger: Trigger,
    /// The product versions it concerns (leaf branches).
    pub affected: Vec<BranchId>,
    /// The highest CVSS base score in it, if any.
    pub max_score: Option<f64>,
    pub exploited: bool,
    pub tlp: Tlp,
    /// The languages it is available in.
    pub languages: BTreeSet<Locale>,
}

/// A subscriber as the plan needs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Subscriber {
    pub id: SubscriberId,
    pub email: Email,
    pub name: String,
    pub kind: SubscriberKind,
    pub locale: Locale,
    /// An IANA zone for the times in their messages, e.g. `Asia/Tokyo`.
    pub time_zone: String,
    /// An ASCII-armored OpenPGP public key: their mail is encrypted to it.
    pub openpgp_key: Option<String>,
    pub state: SubscriptionState,
    /// Their own narrowing of what their lists send.
    pub filter: Filter,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
}

/// What someone (or an import row) gives to subscribe.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SubscriberInput {
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default = "external")]
    pub kind: SubscriberKind,
    #[serde(default)]
    pub locale: Option<Locale>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub openpgp_key: Option<String>,
}

const fn external() -> SubscriberKind {
    SubscriberKind::External
}

impl Subscriber {
    /// A new subscription, pending until the address confirms it.
    pub fn subscribe(input: SubscriberInput, now: Timestamp) -> Result<Self, DomainError> {
        Ok(Self {
            id: SubscriberId::new(),
            email: Email::parse(&input.email)?,
            name: name_field(&input.name)?,
            kind: input.kind,
            locale: input.locale.unwrap_or(Locale::En),
            time_zone: time_zone_field(input.time_zone.as_deref())?,
            openpgp_key: openpgp_key_field(input.openpgp_key.as_deref())?,
            state: SubscriptionState::Pending,
            // A person narrows nothing until they choose to: their lists decide, TLP included
            // (a list's own default stops at CLEAR; a person's would block every list above it).
            filter: Filter {
                max_tlp: Tlp::Red,
                ..Filter::default()
            },
            created_at: now,
        })
    }

    /// Applies the changes given, each checked as when subscribing; nothing changes when
    /// one is invalid.
    pub fn update(&mut self, changes: SubscriberChanges) -> Result<(), DomainError> {
        let mut next = self.clone();
        if let Some(name) = &changes.name {
            next.name = name_field(name)?;
        }
        if let Some(locale) = changes.locale {
            next.locale = locale;
        }
        if let Some(zone) = &changes.time_zone {
            next.time_zone = time_zone_field(Some(zone))?;
        }
        if let Some(key) = &changes.openpgp_key {
            next.openpgp_key = openpgp_key_field(Some(key))?;
        }
        if let Some(state) = changes.state {
            next.state = state;
        }
        if let Some(filter) = changes.filter {
            next.filter = filter.check()?;
        }
        *self = next;
        Ok(())
    }
}

/// Changes to a subscriber's settings; `None` keeps a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct SubscriberChanges {
    pub name: Option<String>,
    pub locale: Option<Locale>,
    pub time_zone: Option<String>,
    /// An empty string removes the key.
    pub openpgp_key: Option<String>,
    pub state: Option<SubscriptionState>,
    pub filter: Option<Filter>,
}

fn name_field(name: &str) -> Result<String, DomainError> {
    if name.trim().is_empty() {
        Ok(String::new())
    } else {
        text_field("name", name, 200)
    }
}

/// An IANA zone; UTC when none is given.
fn time_zone_field(zone: Option<&str>) -> Result<String, DomainError> {
    let zone = zone
        .map(str::trim)
        .filter(|z| !z.is_empty())
        .unwrap_or("UTC");
    if jiff::tz::TimeZone::get(zone).is_err() {
        return Err(DomainError::invalid(
            "time_zone",
            format!("\"{zone}\" is not an IANA time zone (e.g. Asia/Tokyo)"),
        ));
    }
    Ok(zone.to_owned())
}

/// An ASCII-armored public key block; `None` for none (or an empty string).
fn openpgp_key_field(key: Option<&str>) -> Result<Option<String>, DomainError> {
    match key.map(str::trim) {
        None | Some("") => Ok(None),
        Some(k)
            if k.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")
                && k.ends_with("-----END PGP PUBLIC KEY BLOCK-----") =>
        {
            Ok(Some(k.to_owned()))
        }
        Some(_) => Err(DomainError::invalid(
            "openpgp_key",
            "not an ASCII-armored OpenPGP public key block",
        )),
    }
}

/// A list: an audience, its filter, its priority (1 is the highest) and the edition it gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AudienceList {
    pub id: ListId,
    pub name: String,
    pub priority: u32,
    /// The edition (template and supplement) this list's members receive.
    pub edition: String,
    /// Only internal subscribers may be on it (internal supplements).
    pub internal_only: bool,
    pub filter: Filter,
    /// The events it receives.
    #[serde(default = "default_triggers")]
    pub triggers: BTreeSet<Trigger>,
    /// Offered on the public subscription page.
    #[serde(default)]
    pub public: bool,
    /// What the list is for, shown to subscribers.
    #[serde(default)]
    pub description: String,
}

/// One message to send: to whom, as which list's edition, in which language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub subscriber: SubscriberId,
    pub list: ListId,
    pub locale: Locale,
}

/// Who receives an event, each at most once (see the module's rule).
pub fn plan(
    event: &EventFacts,
    lists: &[AudienceList],
    members: &[(ListId, SubscriberId)],
    subscribers: &HashMap<SubscriberId, Subscriber>,
    tree: &BranchParents,
) -> Vec<Delivery> {
    let lists: HashMap<ListId, &AudienceList> = lists.iter().map(|l| (l.id, l)).collect();
    let mut best: HashMap<SubscriberId, &AudienceList> = HashMap::new();
    for (list_id, subscriber_id) in members {
        let (Some(list), Some(s)) = (lists.get(list_id), subscribers.get(subscriber_id)) else {
            continue;
        };
        if s.state != SubscriptionState::Active
            || !list.triggers.contains(&event.trigger)
            || (list.internal_only && s.kind != SubscriberKind::Internal)
            || !list.filter.matches(event, tree)
            || !s.filter.matches(event, tree)
        {
            continue;
        }
        let better = best
            .get(subscriber_id)
            .is_none_or(|b| (list.priority, list.id) < (b.priority, b.id));
        if better {
            best.insert(*subscriber_id, list);
        }
    }
    let mut out: Vec<Delivery> = best
        .into_iter()
        .filter_map(|(id, list)| {
            let s = subscribers.get(&id)?;
            let locale = if event.languages.contains(&s.locale) || event.languages.is_empty() {
                s.locale
            } else {
                *event.languages.iter().next()?
            };
            Some(Delivery {
                subscriber: id,
                list: list.id,
                locale,
            })
        })
        .collect();
    out.sort_by_key(|d| d.subscriber);
    out
}

#[cfg(test)]
mod tests;

/// A system that receives events as signed JSON (a SOAR, a chat bridge): one per list it
/// serves. The secret keys the HMAC-SHA256 signature of every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookEndpoint {
    pub id: uuid::Uuid,
    #[schema(value_type = String)]
    pub list_id: ListId,
    pub name: String,
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub secret: String,
    pub enabled: bool,
    /// Failed attempts in a row; the endpoint is disabled when they reach the configured
    /// number, and a success resets them.
    pub consecutive_failures: u32,
    pub disabled_reason: Option<String>,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
}

impl WebhookEndpoint {
    /// A new, enabled endpoint with a URL `webhook_url` accepts; whether its address may be
    /// called is decided when it is called (DNS can change).
    pub fn new(
        list_id: ListId,
        name: &str,
        url: &str,
        secret: String,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        let name = text_field("name", name, 200)?;
        let url = url.trim();
        webhook_url(url)?;
        if secret.len() < 16 {
            return Err(DomainError::invalid(
                "secret",
                "must be at least 16 characters",
            ));
        }
        Ok(Self {
            id: uuid::Uuid::now_v7(),
            list_id,
            name,
            url: url.to_owned(),
            secret,
            enabled: true,
            consecutive_failures: 0,
            disabled_reason: None,
            created_at: now,
        })
    }
}

/// A webhook target: an http(s) URL with a host and no user name or password (credentials
/// belong in the signature secret, not in a URL that is logged and shown). The one rule for
/// endpoints when they are saved and for requests when they are sent.
pub fn webhook_url(raw: &str) -> Result<url::Url, DomainError> {
    let invalid = |why: String| Err(DomainError::invalid("url", format!("{raw:?} {why}")));
    let url = match url::Url::parse(raw) {
        Ok(url) => url,
        Err(e) => return invalid(format!("is not a URL: {e}")),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return invalid(format!(
            "has the scheme {:?}; expected http or https",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return invalid("has no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return invalid("holds a user name or password".to_owned());
    }
    Ok(url)
}
