//! The effective configuration: built-in defaults, then the TOML file, then `KEIKAI_*`
//! environment variables and command-line flags (clap reads both; a flag wins over its
//! variable).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
        let admin_email = fc
            .admin_email
            .unwrap_or_else(|| "admin@keikai.local".to_owned());
        keikai_domain::Email::parse(&admin_email).map_err(|e| ConfigError::Invalid {
            field: "admin_email",
            message: e.to_string(),
        })?;
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
            organisation_name: fc
                .organisation_name
                .unwrap_or_else(|| "Keikai PSIRT".to_owned()),
            admin_email,
            public_url,
            session_ttl_hours,
        })
    }

    /// The configuration as TOML, with the database password replaced by `***`.
    pub fn to_redacted_toml(&self) -> String {
        let mut c = self.clone();
        c.database_url = redact_url(&self.database_url);
        toml::to_string(&c).unwrap_or_else(|e| format!("# cannot print the configuration: {e}\n"))
    }

    pub fn web(&self) -> keikai_web::WebConfig {
        keikai_web::WebConfig {
            secure_cookies: self.public_url.starts_with("https://"),
            session_ttl: jiff::SignedDuration::from_hours(i64::from(self.session_ttl_hours)),
            ..keikai_web::WebConfig::default()
        }
    }
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
