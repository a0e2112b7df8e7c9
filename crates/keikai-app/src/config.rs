//! What the use cases need from the configuration. The binary builds it from the file, the
//! environment and the flags; tests build it by hand.

use jiff::SignedDuration;
use keikai_domain::advisory::publication::PublisherInfo;
use keikai_domain::case::SeverityScale;
use keikai_domain::partner::Tiers;
use keikai_domain::release::ReleaseSchedule;
use keikai_domain::{Locale, SecurityTxtSettings};

/// The settings every use case may read.
#[derive(Debug, Clone, Default)]
pub struct AppConfig {
    /// What `/.well-known/security.txt` says.
    pub security_txt: SecurityTxtSettings,
    /// The vendor's severity scale with its SLA targets.
    pub severity_scale: SeverityScale,
    pub publishing: Publishing,
    /// The partner programme's tiers (how long before a release each receives its package).
    pub partner_tiers: Tiers,
    /// Sessions and the sign-in throttle.
    pub auth: AuthSettings,
    /// What happens when a report arrives.
    pub intake: IntakeSettings,
}

/// What happens when a report arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntakeSettings {
    /// Answer each report at once with a message in the reporter's language that it was
    /// received: that answer meets the acknowledge clock. Off by default, so that the clock
    /// measures a person's answer.
    pub auto_acknowledge: bool,
}

/// How long a browser session lasts without activity, by default.
pub const DEFAULT_SESSION_TTL: SignedDuration = SignedDuration::from_hours(12);

/// Sessions and the sign-in throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// How long a browser session lasts without activity (each use extends it).
    pub session_ttl: SignedDuration,
    pub sign_in: SignInLimits,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_ttl: DEFAULT_SESSION_TTL,
            sign_in: SignInLimits::default(),
        }
    }
}

/// How many failed sign-ins are tolerated within a window before further attempts are
/// refused without looking at the password: per account (guessing one person's password) and
/// per client address (trying many accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    pub window: SignedDuration,
    pub per_account: u64,
    pub per_ip: u64,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            window: SignedDuration::from_mins(15),
            per_account: 5,
            per_ip: 50,
        }
    }
}

/// How advisories are numbered, released and published.
#[derive(Debug, Clone)]
pub struct Publishing {
    /// Tracking ids are `PREFIX-YYYY-NNNN`.
    pub tracking_prefix: String,
    /// The CSAF publisher, the public base URL and the CNA identity for CVE records.
    pub publisher: PublisherInfo,
    /// The monthly train (second Tuesday) at a local time in a zone.
    pub schedule: ReleaseSchedule,
    /// How often the schedule looks for work whose time has come.
    pub poll_interval: SignedDuration,
    /// The languages an advisory must have, current, to be published (English always).
    pub languages: Vec<Locale>,
}

impl Publishing {
    /// The public base URL without a trailing slash, e.g. `https://psirt.example.com`.
    pub fn base_url(&self) -> &str {
        self.publisher.base_url.trim_end_matches('/')
    }
}

impl Default for Publishing {
    fn default() -> Self {
        Self {
            tracking_prefix: "KEIKAI".to_owned(),
            publisher: PublisherInfo {
                name: "Keikai PSIRT".to_owned(),
                namespace: "https://keikai.invalid".to_owned(),
                contact_details: None,
                issuing_authority: None,
                base_url: "http://127.0.0.1:8080".to_owned(),
                cve_assigner: None,
            },
            schedule: default_schedule(),
            poll_interval: SignedDuration::from_secs(10),
            languages: Locale::ALL.to_vec(),
        }
    }
}

/// The second Tuesday at 10:00 in Redmond, as Patch Tuesday is.
fn default_schedule() -> ReleaseSchedule {
    ReleaseSchedule::parse("10:00", "America/Los_Angeles")
        .or_else(|_| ReleaseSchedule::parse("10:00", "UTC"))
        .unwrap_or_else(|e| panic!("the built-in release schedule must parse: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_is_in_redmond() {
        let p = Publishing::default();
        assert_eq!(p.schedule.zone_name(), "America/Los_Angeles");
        assert_eq!(p.base_url(), "http://127.0.0.1:8080");
    }
}
