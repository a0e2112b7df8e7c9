//! The effective configuration: built-in defaults, then the TOML file, then `KEIKAI_*`
//! environment variables and command-line flags (clap reads both; a flag wins over its
//! variable).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use keikai_domain::case::{SeverityLevel, SeverityScale, SlaTargets};
use serde::{Deserialize, Serialize};

/// What the TOML file may contain. Unknown keys are refused so that a typo does not silently
/// leave a setting at its default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub organisation_name: Option<String>,
    pub admin_email: Option<String>,
    pub public_url: Option<String>,
    pub session_ttl_hours: Option<u32>,
    #[serde(default)]
    pub security_txt: SecurityTxtFile,
    /// The vendor's severity scale, highest level first (`[[severity]]` tables); the
    /// default is Critical / Important / Moderate / Low.
    pub severity: Option<Vec<SeverityFile>>,
    #[serde(default)]
    pub publishing: PublishingFile,
    /// The partner programme's tiers (`[[partner_tier]]` tables); the default is tier 1
    /// (120 hours before a release) and tier 2 (24 hours).
    pub partner_tier: Option<Vec<PartnerTierFile>>,
    pub smtp: Option<SmtpFile>,
    #[serde(default)]
    pub distribution: DistributionFile,
    #[serde(default)]
    pub intake: IntakeFile,
}

/// The `[intake]` table: what happens when a report arrives.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IntakeFile {
    /// Answer every report at once, in the reporter's language, that it was received; that
    /// answer meets the acknowledge clock (default off: the clock waits for a person).
    #[serde(default)]
    pub auto_acknowledge: bool,
}

/// The `[distribution]` table: how messages to subscribers and webhooks go out.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DistributionFile {
    /// Let webhooks call loopback and private addresses (10/8, 192.168/16, ::1…). Off by
    /// default: a webhook URL must not reach into the network Keikai runs in.
    #[serde(default)]
    pub webhook_allow_private_targets: bool,
    /// The most one webhook call may take (default 10 seconds).
    pub webhook_timeout_seconds: Option<u32>,
    /// Failed calls in a row after which an endpoint is disabled (default 10).
    pub webhook_disable_after: Option<u32>,
    /// Jobs one worker claims and runs at once (default 32).
    pub worker_batch: Option<u32>,
    /// The most one job may run before it is stopped and retried (default 120 seconds). A
    /// job of an instance that died is taken over after about twice this.
    pub job_timeout_seconds: Option<u32>,
}

/// The `[smtp]` table: the relay that e-mail (mail jobs) goes through. Without it, mail
/// jobs stay queued.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SmtpFile {
    pub host: String,
    /// Default: 465 for `tls`, 587 for `starttls`, 25 for `none`.
    pub port: Option<u16>,
    /// `tls` (implicit TLS, the default), `starttls` or `none` (a relay on this host).
    pub security: Option<keikai_jobs::SmtpSecurity>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender: `psirt@example.com` or `Example PSIRT <psirt@example.com>`.
    pub from: String,
    /// The most one message may take (default 30).
    pub timeout_seconds: Option<u32>,
    /// Connections to the relay at once, and so messages sent at once (default 8).
    pub max_connections: Option<u32>,
}

impl fmt::Debug for SmtpFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpFile")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

fn smtp(f: &SmtpFile) -> Result<keikai_jobs::SmtpConfig, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        field: "smtp",
        message,
    };
    if f.host.trim().is_empty() {
        return Err(invalid("host: must not be empty".to_owned()));
    }
    let from = f
        .from
        .parse::<keikai_jobs::Address>()
        .map_err(|e| invalid(format!("from: {e}")))?;
    let security = f.security.unwrap_or_default();
    let port = f.port.unwrap_or(security.default_port());
    if port == 0 {
        return Err(invalid("port: 0 is not a port".to_owned()));
    }
    if f.username.is_some() != f.password.is_some() {
        return Err(invalid("username and password go together".to_owned()));
    }
    let timeout = f.timeout_seconds.unwrap_or(30);
    if !(1..=600).contains(&timeout) {
        return Err(invalid(format!(
            "timeout_seconds: {timeout} is outside 1..=600"
        )));
    }
    let max_connections = f
        .max_connections
        .unwrap_or(keikai_jobs::DEFAULT_SMTP_CONNECTIONS);
    if !(1..=100).contains(&max_connections) {
        return Err(invalid(format!(
            "max_connections: {max_connections} is outside 1..=100"
        )));
    }
    Ok(keikai_jobs::SmtpConfig {
        host: f.host.trim().to_owned(),
        port,
        security,
        username: f.username.clone(),
        password: f.password.clone(),
        from,
        timeout: std::time::Duration::from_secs(u64::from(timeout)),
        max_connections,
    })
}

/// One `[[partner_tier]]`: how long before a release its partners receive the package.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerTierFile {
    pub name: String,
    pub lead_hours: u32,
}

/// The `[publishing]` table: advisory numbering, the CSAF publisher, the monthly train.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublishingFile {
    /// Tracking ids are `PREFIX-YYYY-NNNN` (default `KEIKAI`).
    pub tracking_prefix: Option<String>,
    /// CSAF publisher name (default: the organisation name).
    pub publisher_name: Option<String>,
    /// CSAF publisher namespace, an https URL of the organisation (default: the public URL).
    pub publisher_namespace: Option<String>,
    pub contact_details: Option<String>,
    pub issuing_authority: Option<String>,
    /// The CNA's organisation id (UUID) and short name in CVE Services; without them no CVE
    /// records are written.
    pub cve_org_id: Option<String>,
    pub cve_short_name: Option<String>,
    /// The monthly release's local time (default `10:00`) and IANA zone (default
    /// `America/Los_Angeles`).
    pub release_time: Option<String>,
    pub release_zone: Option<String>,
    /// Seconds between checks for due releases (default 10).
    pub poll_seconds: Option<u32>,
    /// The languages an advisory must be written in, current, before it is published
    /// (default `["en", "ja"]`; English is always needed, since CSAF is written in it).
    pub languages: Option<Vec<String>>,
}

/// One `[[severity]]` level with its SLA targets.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityFile {
    pub name: String,
    /// The lowest CVSS score that suggests this level.
    pub cvss_from: f64,
    pub acknowledge_hours: u32,
    pub triage_hours: u32,
    /// Leave out for a level with no fix deadline.
    pub fix_days: Option<u32>,
}

impl SeverityFile {
    fn from_level(l: &SeverityLevel) -> Self {
        let hours = |d: jiff::SignedDuration| u32::try_from(d.as_hours()).unwrap_or(u32::MAX);
        Self {
            name: l.name.clone(),
            cvss_from: l.cvss_from,
            acknowledge_hours: hours(l.sla.acknowledge),
            triage_hours: hours(l.sla.triage),
            fix_days: l.sla.fix.map(|f| hours(f) / 24),
        }
    }

    fn to_level(&self) -> SeverityLevel {
        let h = |n: u32| jiff::SignedDuration::from_hours(i64::from(n));
        SeverityLevel {
            name: self.name.clone(),
            cvss_from: self.cvss_from,
            sla: SlaTargets {
                acknowledge: h(self.acknowledge_hours),
                triage: h(self.triage_hours),
                fix: self.fix_days.map(|d| h(d.saturating_mul(24))),
            },
        }
    }
}

fn severity_scale(levels: &[SeverityFile]) -> Result<SeverityScale, ConfigError> {
    let unrated = SeverityScale::default().targets(None);
    SeverityScale::new(levels.iter().map(SeverityFile::to_level).collect(), unrated).map_err(|e| {
        ConfigError::Invalid {
            field: "severity",
            message: e.to_string(),
        }
    })
}

/// The `[security_txt]` table. Keikai always lists its report form (`{public_url}/report`)
/// as the first Contact and `{public_url}/.well-known/security.txt` as Canonical; these keys
/// add to that. Every URL here must be `https://` (RFC 9116).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityTxtFile {
    /// Further contacts after the report form, in order of preference: `mailto:`, `tel:`
    /// or `https:` URIs.
    #[serde(default)]
    pub contact: Vec<String>,
    #[serde(default)]
    pub encryption: Vec<String>,
    #[serde(default)]
    pub acknowledgments: Vec<String>,
    /// The disclosure policy; left out unless given.
    #[serde(default)]
    pub policy: Vec<String>,
    #[serde(default)]
    pub hiring: Vec<String>,
    /// Default `["en", "ja"]`; `[]` leaves the field out.
    pub preferred_languages: Option<Vec<String>>,
    /// How far ahead of each request `Expires` lies: 1 to 365, default 180.
    pub expires_days: Option<u16>,
}

impl SecurityTxtFile {
    fn into_input(self) -> keikai_domain::SecurityTxtInput {
        keikai_domain::SecurityTxtInput {
            contact: self.contact,
            encryption: self.encryption,
            acknowledgments: self.acknowledgments,
            policy: self.policy,
            hiring: self.hiring,
            preferred_languages: self.preferred_languages,
            expires_days: self.expires_days,
        }
    }
}

/// Values given on the command line or in the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

#[derive(Clone, Serialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The name given to our own organisation when the database is first set up.
    pub organisation_name: String,
    pub admin_email: String,
    /// Where people reach Keikai; `https://` turns on `Secure` cookies.
    pub public_url: String,
    pub session_ttl_hours: u32,
    /// Printed last: TOML needs tables after plain keys.
    pub security_txt: keikai_domain::SecurityTxtSettings,
    pub severity: Vec<SeverityFile>,
    #[serde(skip)]
    pub severity_scale: SeverityScale,
    pub publishing: PublishingFile,
    #[serde(skip)]
    pub publishing_settings: keikai_app::Publishing,
    pub partner_tier: Vec<PartnerTierFile>,
    #[serde(skip)]
    pub partner_tiers: keikai_domain::partner::Tiers,
    /// As given, for `check-config` (the password redacted there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpFile>,
    #[serde(skip)]
    pub smtp_settings: Option<keikai_jobs::SmtpConfig>,
    pub distribution: DistributionFile,
    pub intake: IntakeFile,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("organisation_name", &self.organisation_name)
            .field("admin_email", &self.admin_email)
            .field("public_url", &self.public_url)
            .field("session_ttl_hours", &self.session_ttl_hours)
            .field("security_txt", &self.security_txt)
            .field("severity", &self.severity)
            .field("publishing", &self.publishing)
            .field("partner_tier", &self.partner_tier)
            .field("smtp", &self.smtp)
            .field("distribution", &self.distribution)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Config {
    pub fn load(file: Option<&Path>, over: &Overrides) -> Result<Self, ConfigError> {
        let fc = match file {
            None => FileConfig::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.display().to_string(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError::Parse {
                    path: p.display().to_string(),
                    message: e.message().to_owned(),
                })?
            }
        };
        let listen_s = over
            .listen
            .clone()
            .or(fc.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_s
            .parse::<SocketAddr>()
            .map_err(|_| ConfigError::Invalid {
                field: "listen",
                message: format!("\"{listen_s}\" is not an ADDRESS:PORT such as 127.0.0.1:8080"),
            })?;
        let data_dir = over
            .data_dir
            .clone()
            .or(fc.data_dir)
            .unwrap_or_else(|| PathBuf::from("keikai-data"));
        let database_url = over
            .database_url
            .clone()
            .or(fc.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("keikai.db").display()));
        keikai_store::Backend::from_url(&database_url).map_err(|e| ConfigError::Invalid {
            field: "database_url",
            message: e.to_string(),
        })?;
        let public_url = fc.public_url.unwrap_or_else(|| format!("http://{listen}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                field: "public_url",
                message: format!("\"{public_url}\" must start with http:// or https://"),
            });
        }
        let security_txt =
            keikai_domain::SecurityTxtSettings::new(&public_url, &fc.security_txt.into_input())
                // The domain's message names the key within the table, e.g. `contact: …`.
                .map_err(|e| ConfigError::Invalid {
                    field: "security_txt",
                    message: e.to_string(),
                })?;
        let admin_email = fc
            .admin_email
            .unwrap_or_else(|| "admin@keikai.local".to_owned());
        keikai_domain::Email::parse(&admin_email).map_err(|e| ConfigError::Invalid {
            field: "admin_email",
            message: e.to_string(),
        })?;
        let severity = fc.severity.unwrap_or_else(|| {
            SeverityScale::default()
                .levels()
                .iter()
                .map(SeverityFile::from_level)
                .collect()
        });
        let severity_scale = severity_scale(&severity)?;
        let organisation_name = fc
            .organisation_name
            .unwrap_or_else(|| "Keikai PSIRT".to_owned());
        let publishing_settings = publishing(&fc.publishing, &organisation_name, &public_url)?;
        let partner_tier = fc.partner_tier.unwrap_or_else(|| {
            keikai_domain::partner::Tiers::default()
                .all()
                .iter()
                .map(|t| PartnerTierFile {
                    name: t.name.clone(),
                    lead_hours: u32::try_from(t.lead.as_hours()).unwrap_or(0),
                })
                .collect()
        });
        let partner_tiers = partner_tiers(&partner_tier)?;
        let smtp_settings = fc.smtp.as_ref().map(smtp).transpose()?;
        let d = &fc.distribution;
        if d.webhook_timeout_seconds == Some(0)
            || d.webhook_disable_after == Some(0)
            || d.job_timeout_seconds == Some(0)
            || d.worker_batch.is_some_and(|b| !(1..=1000).contains(&b))
        {
            return Err(ConfigError::Invalid {
                field: "distribution",
                message: "webhook_timeout_seconds and webhook_disable_after must be at least 1, \
                          worker_batch 1 to 1000"
                    .to_owned(),
            });
        }
        let session_ttl_hours = fc.session_ttl_hours.unwrap_or(12);
        if !(1..=24 * 30).contains(&session_ttl_hours) {
            return Err(ConfigError::Invalid {
                field: "session_ttl_hours",
                message: format!("{session_ttl_hours} is outside 1..=720"),
            });
        }
        Ok(Self {
            listen,
            data_dir,
            database_url,
            organisation_name,
            admin_email,
            public_url,
            session_ttl_hours,
            security_txt,
            severity,
            severity_scale,
            publishing: fc.publishing,
            publishing_settings,
            partner_tier,
            partner_tiers,
            smtp: fc.smtp,
            smtp_settings,
            distribution: fc.distribution,
            intake: fc.intake,
        })
    }

    /// The configuration as TOML, with the database and SMTP passwords replaced by `***`.
    pub fn to_redacted_toml(&self) -> String {
        let mut c = self.clone();
        c.database_url = redact_url(&self.database_url);
        if let Some(password) = c.smtp.as_mut().and_then(|s| s.password.as_mut()) {
            *password = "***".to_owned();
        }
        toml::to_string(&c).unwrap_or_else(|e| format!("# cannot print the configuration: {e}\n"))
    }

    /// What the use cases read.
    pub fn app(&self) -> keikai_app::AppConfig {
        keikai_app::AppConfig {
            security_txt: self.security_txt.clone(),
            severity_scale: self.severity_scale.clone(),
            publishing: self.publishing_settings.clone(),
            partner_tiers: self.partner_tiers.clone(),
            auth: keikai_app::AuthSettings {
                session_ttl: jiff::SignedDuration::from_hours(i64::from(self.session_ttl_hours)),
                ..keikai_app::AuthSettings::default()
            },
            intake: keikai_app::IntakeSettings {
                auto_acknowledge: self.intake.auto_acknowledge,
            },
        }
    }

    /// What the web doors read beyond the application.
    pub fn web(&self) -> keikai_web::WebConfig {
        keikai_web::WebConfig {
            secure_cookies: self.public_url.starts_with("https://"),
        }
    }
}

fn partner_tiers(files: &[PartnerTierFile]) -> Result<keikai_domain::partner::Tiers, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        field: "partner_tier",
        message,
    };
    let mut tiers = Vec::new();
    for f in files {
        let lead = jiff::SignedDuration::from_hours(i64::from(f.lead_hours));
        tiers.push(
            keikai_domain::partner::Tier::new(&f.name, lead).map_err(|e| invalid(e.to_string()))?,
        );
    }
    keikai_domain::partner::Tiers::new(tiers).map_err(|e| invalid(e.to_string()))
}

fn publishing(
    f: &PublishingFile,
    organisation_name: &str,
    public_url: &str,
) -> Result<keikai_app::Publishing, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        field: "publishing",
        message,
    };
    let tracking_prefix =
        keikai_domain::advisory::check_prefix(f.tracking_prefix.as_deref().unwrap_or("KEIKAI"))
            .map_err(|e| invalid(e.to_string()))?;
    let schedule = keikai_domain::release::ReleaseSchedule::parse(
        f.release_time.as_deref().unwrap_or("10:00"),
        f.release_zone.as_deref().unwrap_or("America/Los_Angeles"),
    )
    .map_err(|e| invalid(e.to_string()))?;
    let cve_assigner = match (&f.cve_org_id, &f.cve_short_name) {
        (None, None) => None,
        (Some(id), Some(name)) => Some((
            id.parse::<uuid::Uuid>()
                .map_err(|e| invalid(format!("cve_org_id: \"{id}\" is not a UUID ({e})")))?,
            name.clone(),
        )),
        _ => {
            return Err(invalid(
                "cve_org_id and cve_short_name go together".to_owned(),
            ));
        }
    };
    let poll = f.poll_seconds.unwrap_or(10);
    if !(1..=3600).contains(&poll) {
        return Err(invalid(format!("poll_seconds: {poll} is outside 1..=3600")));
    }
    let namespace = f
        .publisher_namespace
        .clone()
        .unwrap_or_else(|| public_url.trim_end_matches('/').to_owned());
    if !namespace.starts_with("https://") && !namespace.starts_with("http://") {
        return Err(invalid(format!(
            "publisher_namespace: \"{namespace}\" is not a URL"
        )));
    }
    Ok(keikai_app::Publishing {
        tracking_prefix,
        publisher: keikai_domain::advisory::publication::PublisherInfo {
            name: f
                .publisher_name
                .clone()
                .unwrap_or_else(|| organisation_name.to_owned()),
            namespace,
            contact_details: f.contact_details.clone(),
            issuing_authority: f.issuing_authority.clone(),
            base_url: public_url.trim_end_matches('/').to_owned(),
            cve_assigner,
        },
        schedule,
        poll_interval: jiff::SignedDuration::from_secs(i64::from(poll)),
        languages: required_languages(f.languages.as_deref()).map_err(invalid)?,
    })
}

/// `[publishing] languages`: known languages, English among them (the CSAF document is
/// written in English).
fn required_languages(names: Option<&[String]>) -> Result<Vec<keikai_domain::Locale>, String> {
    let Some(names) = names else {
        return Ok(keikai_domain::Locale::ALL.to_vec());
    };
    let mut out = Vec::new();
    for n in names {
        let l = n
            .parse::<keikai_domain::Locale>()
            .map_err(|_| format!("languages: \"{n}\" is not a supported language (en or ja)"))?;
        if !out.contains(&l) {
            out.push(l);
        }
    }
    if !out.contains(&keikai_domain::Locale::En) {
        return Err(
            "languages: English (\"en\") is always needed: the CSAF document is written in it"
                .to_owned(),
        );
    }
    Ok(out)
}

/// Hides the password in `scheme://user:password@host/…`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest
        .split_once('/')
        .map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    match tail {
        Some(t) => format!("{scheme}://{authority}/{}", redact_query(t)),
        None => format!("{scheme}://{authority}"),
    }
}

fn redact_query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let q: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{path}?{}", q.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let c = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://keikai-data/keikai.db");
        assert!(!c.web().secure_cookies);
    }

    #[test]
    fn overrides_beat_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.toml");
        std::fs::write(
            &p,
            "listen = \"127.0.0.1:9000\"\npublic_url = \"https://psirt.example.com\"\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&p),
            &Overrides {
                listen: Some("127.0.0.1:9100".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert!(c.web().secure_cookies);
    }

    #[test]
    fn bad_input_names_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.toml");
        std::fs::write(&p, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let e = Config::load(Some(&p), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("lisen"), "{e}");
        let e = Config::load(
            None,
            &Overrides {
                database_url: Some("mysql://x/y".into()),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("mysql"), "{e}");
        let e = Config::load(
            None,
            &Overrides {
                listen: Some("localhost".into()),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("ADDRESS:PORT"), "{e}");
    }

    #[test]
    fn partner_tiers_table() {
        let c = load_toml(
            "[[partner_tier]]\nname = \"gov\"\nlead_hours = 240\n\
             [[partner_tier]]\nname = \"2\"\nlead_hours = 12\n",
        )
        .unwrap();
        let tiers = c.app().partner_tiers;
        let names: Vec<(&str, i64)> = tiers
            .all()
            .iter()
            .map(|t| (t.name.as_str(), t.lead.as_hours()))
            .collect();
        assert_eq!(names, [("gov", 240), ("2", 12)]);
        let again = load_toml(&c.to_redacted_toml()).unwrap();
        assert_eq!(again.partner_tier, c.partner_tier);
        let e = load_toml("[[partner_tier]]\nname = \"a b\"\nlead_hours = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("partner_tier: "), "{e}");
        let d = load_toml("").unwrap().app().partner_tiers;
        assert_eq!(d, keikai_domain::partner::Tiers::default());
    }

    #[test]
    fn severity_scale_table() {
        let c = load_toml(
            "[[severity]]\nname = \"High\"\ncvss_from = 7.0\nacknowledge_hours = 12\n\
             triage_hours = 48\nfix_days = 14\n\
             [[severity]]\nname = \"Low\"\ncvss_from = 0.0\nacknowledge_hours = 48\n\
             triage_hours = 240\n",
        )
        .unwrap();
        let scale = c.app().severity_scale;
        let names: Vec<&str> = scale.levels().iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["High", "Low"]);
        assert_eq!(
            scale.targets(Some("High")).fix,
            Some(jiff::SignedDuration::from_hours(14 * 24))
        );
        assert_eq!(scale.targets(Some("Low")).fix, None);
        assert_eq!(scale.suggest(9.8).map(|l| l.name.as_str()), Some("High"));
        let again = load_toml(&c.to_redacted_toml()).unwrap();
        assert_eq!(again.severity, c.severity);
        // The default scale prints and loads back the same.
        let d = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(d.severity_scale, SeverityScale::default());
        let again = load_toml(&d.to_redacted_toml()).unwrap();
        assert_eq!(again.severity_scale, SeverityScale::default());
        // Levels out of order are refused, naming the key.
        let e = load_toml(
            "[[severity]]\nname = \"Low\"\ncvss_from = 0.0\nacknowledge_hours = 1\n\
             triage_hours = 1\n[[severity]]\nname = \"High\"\ncvss_from = 7.0\n\
             acknowledge_hours = 1\ntriage_hours = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("severity: "), "{e}");
        assert!(e.contains("highest first"), "{e}");
    }

    fn load_toml(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.toml");
        std::fs::write(&p, text).unwrap();
        Config::load(Some(&p), &Overrides::default())
    }

    #[test]
    fn security_txt_table() {
        let c = load_toml(
            "public_url = \"https://psirt.example.com/\"\n\
             [security_txt]\n\
             contact = [\"mailto:psirt@example.com\", \"tel:+81-3-0000-0000\"]\n\
             encryption = [\"https://psirt.example.com/pgp.asc\"]\n\
             policy = [\"https://psirt.example.com/policy\"]\n\
             preferred_languages = [\"ja\", \"en\"]\n\
             expires_days = 90\n",
        )
        .unwrap();
        let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let txt = c.app().security_txt.document(now).unwrap().render();
        let want_lines = [
            "Contact: https://psirt.example.com/report",
            "Contact: mailto:psirt@example.com",
            "Contact: tel:+81-3-0000-0000",
            "Expires: 2026-04-01T00:00:00Z",
            "Encryption: https://psirt.example.com/pgp.asc",
            "Policy: https://psirt.example.com/policy",
            "Preferred-Languages: ja, en",
            "Canonical: https://psirt.example.com/.well-known/security.txt",
        ];
        assert_eq!(txt.lines().collect::<Vec<_>>(), want_lines, "{txt}");
        // The printed configuration loads back to the same settings.
        let again = load_toml(&c.to_redacted_toml()).unwrap();
        assert_eq!(again.security_txt, c.security_txt);
        // With no table, the defaults: the report form, English and Japanese, 180 days.
        let d = Config::load(None, &Overrides::default()).unwrap();
        let txt = d.app().security_txt.document(now).unwrap().render();
        assert!(
            txt.contains("Contact: http://127.0.0.1:8080/report\n"),
            "{txt}"
        );
        assert!(txt.contains("Expires: 2026-06-30T00:00:00Z\n"), "{txt}");
        assert!(txt.contains("Preferred-Languages: en, ja\n"), "{txt}");
    }

    #[test]
    fn publication_needs_english_and_japanese_unless_configured() {
        use keikai_domain::Locale;
        let d = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(d.app().publishing.languages, [Locale::En, Locale::Ja]);
        let en = load_toml("[publishing]\nlanguages = [\"en\"]\n").unwrap();
        assert_eq!(en.app().publishing.languages, [Locale::En]);
        for (toml, why) in [
            ("[publishing]\nlanguages = [\"ja\"]\n", "English"),
            ("[publishing]\nlanguages = [\"en\", \"fr\"]\n", "\"fr\""),
        ] {
            let e = load_toml(toml).unwrap_err().to_string();
            assert!(e.contains("languages") && e.contains(why), "{toml}: {e}");
        }
    }

    #[test]
    fn security_txt_refusals_name_the_key() {
        let cases = [
            ("contact = [\"http://psirt.example.com/report\"]", "contact"),
            ("contact = [\"security@example.com\"]", "contact"),
            ("policy = [\"https://x.example/a\\nContact: x\"]", "policy"),
            ("expires_days = 400", "expires_days"),
            (
                "preferred_languages = [\"english!\"]",
                "preferred_languages",
            ),
        ];
        for (line, key) in cases {
            let e = load_toml(&format!(
                "public_url = \"https://psirt.example.com\"\n[security_txt]\n{line}\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(
                e.starts_with(&format!("security_txt: {key}: ")),
                "{line}: {e}"
            );
        }
        let e = load_toml("[security_txt]\ncontacts = [\"mailto:a@example.com\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("contacts"), "{e}");
    }

    #[test]
    fn smtp_table() {
        // Without the table there is no mailer.
        let d = Config::load(None, &Overrides::default()).unwrap();
        assert!(d.smtp_settings.is_none());
        assert!(!d.to_redacted_toml().contains("[smtp]"));

        let c = load_toml(
            "[smtp]\nhost = \"smtp.example.com\"\nsecurity = \"starttls\"\n\
             username = \"keikai\"\npassword = \"s3cret-smtp-pw\"\n\
             from = \"警戒 PSIRT <psirt@example.com>\"\n",
        )
        .unwrap();
        let s = c.smtp_settings.clone().unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.security),
            ("smtp.example.com", 587, keikai_jobs::SmtpSecurity::StartTls)
        );
        assert_eq!(s.from.to_string(), "警戒 PSIRT <psirt@example.com>");
        assert_eq!(s.username.as_deref(), Some("keikai"));
        assert_eq!(s.timeout, std::time::Duration::from_secs(30));
        // The password is in neither the printed configuration nor Debug output.
        let printed = c.to_redacted_toml();
        assert!(!printed.contains("s3cret-smtp-pw"), "{printed}");
        assert!(printed.contains("password = \"***\""), "{printed}");
        assert!(!format!("{c:?}").contains("s3cret-smtp-pw"));
        assert!(!format!("{:?}", c.smtp_settings).contains("s3cret-smtp-pw"));
        // What is printed loads again (with the placeholder as the password).
        let again = load_toml(&printed).unwrap();
        assert_eq!(again.smtp_settings.unwrap().port, 587);

        // Defaults: implicit TLS on 465; a plain local relay on 25.
        let tls = load_toml("[smtp]\nhost = \"mail\"\nfrom = \"psirt@example.com\"\n").unwrap();
        assert_eq!(tls.smtp_settings.unwrap().port, 465);
        let plain = load_toml(
            "[smtp]\nhost = \"localhost\"\nsecurity = \"none\"\nfrom = \"a@example.com\"\n",
        )
        .unwrap();
        assert_eq!(plain.smtp_settings.unwrap().port, 25);

        // Refusals name the key.
        let cases = [
            ("host = \"\"\nfrom = \"a@example.com\"", "host"),
            ("host = \"m\"\nfrom = \"not an address\"", "from"),
            (
                "host = \"m\"\nfrom = \"a@example.com\"\nusername = \"u\"",
                "password",
            ),
            (
                "host = \"m\"\nfrom = \"a@example.com\"\ntimeout_seconds = 0",
                "timeout_seconds",
            ),
            (
                "host = \"m\"\nfrom = \"a@example.com\"\nmax_connections = 0",
                "max_connections",
            ),
        ];
        for (body, key) in cases {
            let e = load_toml(&format!("[smtp]\n{body}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("smtp: ") && e.contains(key), "{body}: {e}");
        }
        for body in [
            "host = \"m\"\nfrom = \"a@example.com\"\nsecurity = \"ssl\"",
            "host = \"m\"\nfrom = \"a@example.com\"\npasword = \"x\"",
        ] {
            assert!(load_toml(&format!("[smtp]\n{body}\n")).is_err(), "{body}");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://k:secret@db:5432/keikai"),
            "postgres://k:***@db:5432/keikai"
        );
        assert_eq!(
            redact_url("postgres://db/keikai?password=x&sslmode=require"),
            "postgres://db/keikai?password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("sqlite://keikai-data/keikai.db"),
            "sqlite://keikai-data/keikai.db"
        );
        let c = Config::load(
            None,
            &Overrides {
                database_url: Some("postgres://k:hunter2@db/k".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(!c.to_redacted_toml().contains("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
