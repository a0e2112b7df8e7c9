//! What the use cases need from the configuration. The binary builds it from the file, the
//! environment and the flags; tests build it by hand.

use jiff::SignedDuration;
use keikai_domain::SecurityTxtSettings;
use keikai_domain::advisory::publication::PublisherInfo;
use keikai_domain::case::SeverityScale;
use keikai_domain::partner::Tiers;
use keikai_domain::release::ReleaseSchedule;

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
