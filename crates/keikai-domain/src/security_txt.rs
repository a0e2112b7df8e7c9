//! `security.txt` (RFC 9116): the file at `/.well-known/security.txt` that tells researchers
//! how to reach us, and the settings it is made from.
//!
//! Rules enforced here, so that a file that exists is one we may serve:
//! - at least one `Contact`, each an `https:`, `mailto:` or `tel:` URI (§2.5.3);
//! - web URIs begin with `https://` (§2.5: "If this field indicates a web URI, then it MUST
//!   begin with https://"). The one exception is local testing: URIs *derived* from a
//!   `public_url` that is itself `http://` keep its scheme, and the file then says so in a
//!   comment. URIs an operator writes into the configuration must always be `https://`;
//! - `Expires` is present once and lies in the future when the file is made (§2.5.5);
//! - no value holds a line break, control character or space, so no value can inject a
//!   field of its own.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::DomainError;

/// The fields whose values are URIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriField {
    Contact,
    Encryption,
    Acknowledgments,
    Canonical,
    Policy,
    Hiring,
    /// Registered by CSAF 2.0 §7.1.8: the URL of `provider-metadata.json`.
    Csaf,
}

impl UriField {
    /// The field name as written in the file.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Contact => "Contact",
            Self::Encryption => "Encryption",
            Self::Acknowledgments => "Acknowledgments",
            Self::Canonical => "Canonical",
            Self::Policy => "Policy",
            Self::Hiring => "Hiring",
            Self::Csaf => "CSAF",
        }
    }

    /// The configuration key, which errors name as their field.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Encryption => "encryption",
            Self::Acknowledgments => "acknowledgments",
            Self::Canonical => "canonical",
            Self::Policy => "policy",
            Self::Hiring => "hiring",
            Self::Csaf => "csaf",
        }
    }
}

/// A URI fit for one `security.txt` field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SecurityUri(String);

crate::text::checked_text!(SecurityUri);

impl SecurityUri {
    /// Checks a URI for a field. `plain_http` admits `http://` where `https://` is expected;
    /// only URIs derived from an `http://` public URL (local testing) pass `true`.
    pub fn parse(field: UriField, s: &str, plain_http: bool) -> Result<Self, DomainError> {
        let key = field.key();
        let v = s.trim();
        if v.is_empty() {
            return Err(DomainError::invalid(key, "must not be empty"));
        }
        if v.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(DomainError::invalid(
                key,
                format!(
                    "{} contains a line break, control character or space",
                    quoted(v)
                ),
            ));
        }
        let scheme_ok = |scheme: &str| {
            let mut cs = scheme.chars();
            cs.next().is_some_and(|c| c.is_ascii_alphabetic())
                && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        };
        let (scheme, rest) = match v.split_once(':') {
            Some((s, r)) if scheme_ok(s) && !r.is_empty() => (s.to_ascii_lowercase(), r),
            _ => {
                return Err(DomainError::invalid(
                    key,
                    format!("{} is not a URI (expected e.g. https://…)", quoted(v)),
                ));
            }
        };
        let has_host = || {
            rest.strip_prefix("//")
                .and_then(|r| r.chars().next())
                .is_some_and(|c| !matches!(c, '/' | '?' | '#'))
        };
        let not_web =
            || DomainError::invalid(key, format!("{} lacks a host after {scheme}://", quoted(v)));
        match (field, scheme.as_str()) {
            (_, "https") | (_, "http") if !has_host() => Err(not_web()),
            (_, "https") => Ok(Self(v.to_owned())),
            (_, "http") if plain_http => Ok(Self(v.to_owned())),
            (_, "http") => Err(DomainError::invalid(
                key,
                format!(
                    "{} must begin with https:// (RFC 9116 allows no plain-HTTP web URIs)",
                    quoted(v)
                ),
            )),
            (UriField::Contact, "mailto") if rest.contains('@') => Ok(Self(v.to_owned())),
            (UriField::Contact, "tel")
                if rest.starts_with('+') || rest.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                Ok(Self(v.to_owned()))
            }
            (UriField::Contact, _) => Err(DomainError::invalid(
                key,
                format!(
                    "{} is not an https:, mailto: or tel: URI (e.g. mailto:security@example.com)",
                    quoted(v)
                ),
            )),
            // Keys are also named by `dns:` or `openpgp4fpr:` URIs (§2.5.4).
            (UriField::Encryption, _) => Ok(Self(v.to_owned())),
            _ => Err(DomainError::invalid(
                key,
                format!("{} must be an https:// URL", quoted(v)),
            )),
        }
    }

    fn is_plain_http(&self) -> bool {
        self.0
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("http:"))
    }
}

/// A BCP 47 language tag such as `en`, `ja` or `pt-BR` (checked for shape, not looked up).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct LanguageTag(String);

crate::text::checked_text!(LanguageTag);

impl LanguageTag {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let v = s.trim();
        let bad = || {
            DomainError::invalid(
                "preferred_languages",
                format!(
                    "{} is not a language tag such as en, ja or pt-BR",
                    quoted(v)
                ),
            )
        };
        let mut subtags = v.split('-');
        let primary = subtags.next().unwrap_or_default();
        if !(2..=8).contains(&primary.len()) || !primary.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(bad());
        }
        if !subtags
            .all(|t| (1..=8).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(bad());
        }
        Ok(Self(v.to_owned()))
    }
}

/// A valid `security.txt`. Made by [`SecurityTxt::builder`] or
/// [`SecurityTxtSettings::document`]; rendered by [`SecurityTxt::render`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityTxt {
    contacts: Vec<SecurityUri>,
    expires: Timestamp,
    encryption: Vec<SecurityUri>,
    acknowledgments: Vec<SecurityUri>,
    canonical: Vec<SecurityUri>,
    policy: Vec<SecurityUri>,
    hiring: Vec<SecurityUri>,
    preferred_languages: Vec<LanguageTag>,
    csaf: Vec<SecurityUri>,
}

impl SecurityTxt {
    pub fn builder() -> SecurityTxtBuilder {
        SecurityTxtBuilder::default()
    }

    /// In order of preference: the first is the way we would rather be reached (§2.5.3).
    pub fn contacts(&self) -> &[SecurityUri] {
        &self.contacts
    }

    pub const fn expires(&self) -> Timestamp {
        self.expires
    }

    pub fn encryption(&self) -> &[SecurityUri] {
        &self.encryption
    }

    pub fn acknowledgments(&self) -> &[SecurityUri] {
        &self.acknowledgments
    }

    pub fn canonical(&self) -> &[SecurityUri] {
        &self.canonical
    }

    pub fn policy(&self) -> &[SecurityUri] {
        &self.policy
    }

    pub fn hiring(&self) -> &[SecurityUri] {
        &self.hiring
    }

    pub fn preferred_languages(&self) -> &[LanguageTag] {
        &self.preferred_languages
    }

    pub fn csaf(&self) -> &[SecurityUri] {
        &self.csaf
    }

    /// The file: one `Field: value` line each, LF line ends (§4 allows CRLF or LF), in a
    /// fixed order: Contact, Expires, Encryption, Acknowledgments, Policy, Hiring,
    /// Preferred-Languages, Canonical, CSAF. `Expires` is RFC 3339 in UTC to the second,
    /// e.g. `2025-12-31T23:59:59Z`.
    pub fn render(&self) -> String {
        fn lines(out: &mut String, field: UriField, values: &[SecurityUri]) {
            for v in values {
                out.push_str(&format!("{}: {v}\n", field.name()));
            }
        }
        let mut out = String::new();
        let all = [
            &self.contacts,
            &self.encryption,
            &self.acknowledgments,
            &self.canonical,
            &self.policy,
            &self.hiring,
            &self.csaf,
        ];
        if all.iter().any(|v| v.iter().any(SecurityUri::is_plain_http)) {
            out.push_str(
                "# Local testing: these URLs use http:// because Keikai's public_url does.\n\
                 # RFC 9116 requires https:// for a file that is published.\n",
            );
        }
        lines(&mut out, UriField::Contact, &self.contacts);
        out.push_str(&format!("Expires: {}\n", rfc3339(self.expires)));
        lines(&mut out, UriField::Encryption, &self.encryption);
        lines(&mut out, UriField::Acknowledgments, &self.acknowledgments);
        lines(&mut out, UriField::Policy, &self.policy);
        lines(&mut out, UriField::Hiring, &self.hiring);
        if !self.preferred_languages.is_empty() {
            let tags: Vec<&str> = self
                .preferred_languages
                .iter()
                .map(LanguageTag::as_str)
                .collect();
            out.push_str(&format!("Preferred-Languages: {}\n", tags.join(", ")));
        }
        lines(&mut out, UriField::Canonical, &self.canonical);
        lines(&mut out, UriField::Csaf, &self.csaf);
        out
    }
}

/// Collects raw values; [`SecurityTxtBuilder::build`] checks them all.
#[derive(Debug, Clone, Default)]
pub struct SecurityTxtBuilder {
    uris: Vec<(UriField, String)>,
    languages: Vec<String>,
    expires: Option<Timestamp>,
    plain_http: bool,
}

impl SecurityTxtBuilder {
    #[must_use]
    pub fn uri(mut self, field: UriField, uri: impl Into<String>) -> Self {
        self.uris.push((field, uri.into()));
        self
    }

    #[must_use]
    pub fn contact(self, uri: impl Into<String>) -> Self {
        self.uri(UriField::Contact, uri)
    }

    #[must_use]
    pub fn encryption(self, uri: impl Into<String>) -> Self {
        self.uri(UriField::Encryption, uri)
    }

    #[must_use]
    pub fn acknowledgments(self, uri: impl Into<String>) -> Self {
        self.uri(UriField::Acknowledgments, uri)
    }

    #[must_use]
    pub fn canonical(self, uri: impl Into<String>) -> Self {
        self.uri(UriField::Canonical, uri)
    }

    #[must_use]
    pub fn policy(self, uri: impl Into<String>) -> Self {
        self.uri(UriField::Policy, uri)
    }

    #[must_use]
    pub fn hiring(self, uri: impl Into<String>) -> Self {
        self.uri(UriField::Hiring, uri)
    }

    #[must_use]
    pub fn csaf(self, uri: impl Into<String>) -> Self {
        self.uri(UriField::Csaf, uri)
    }

    #[must_use]
    pub fn preferred_language(mut self, tag: impl Into<String>) -> Self {
        self.languages.push(tag.into());
        self
    }

    #[must_use]
    pub const fn expires(mut self, at: Timestamp) -> Self {
        self.expires = Some(at);
        self
    }

    /// Admits `http://` web URIs: for local testing only, never for a published file.
    #[must_use]
    pub const fn allow_plain_http(mut self, allow: bool) -> Self {
        self.plain_http = allow;
        self
    }

    /// Checks every value; `now` is when the file will be served, which `Expires` must
    /// follow.
    pub fn build(self, now: Timestamp) -> Result<SecurityTxt, DomainError> {
        let mut uris = Vec::with_capacity(self.uris.len());
        for (field, raw) in &self.uris {
            uris.push((*field, SecurityUri::parse(*field, raw, self.plain_http)?));
        }
        let preferred_languages = self
            .languages
            .iter()
            .map(|t| LanguageTag::parse(t))
            .collect::<Result<Vec<_>, _>>()?;
        let Some(expires) = self.expires else {
            return Err(DomainError::invalid(
                "expires",
                "is required (RFC 9116 §2.5.5)",
            ));
        };
        SecurityTxt::assemble(uris, preferred_languages, expires, now)
    }
}

impl SecurityTxt {
    fn assemble(
        uris: Vec<(UriField, SecurityUri)>,
        preferred_languages: Vec<LanguageTag>,
        expires: Timestamp,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        // Whole seconds, so that the value rendered is the value checked.
        let expires = Timestamp::from_second(expires.as_second()).unwrap_or(expires);
        if expires <= now {
            return Err(DomainError::invalid(
                "expires",
                format!(
                    "{} is not after {}: a stale security.txt must not be served",
                    rfc3339(expires),
                    rfc3339(now),
                ),
            ));
        }
        let pick = |f: UriField| -> Vec<SecurityUri> {
            uris.iter()
                .filter(|(g, _)| *g == f)
                .map(|(_, u)| u.clone())
                .collect()
        };
        let contacts = pick(UriField::Contact);
        if contacts.is_empty() {
            return Err(DomainError::invalid(
                "contact",
                "at least one Contact is required (RFC 9116 §2.5.3)",
            ));
        }
        Ok(Self {
            contacts,
            expires,
            encryption: pick(UriField::Encryption),
            acknowledgments: pick(UriField::Acknowledgments),
            canonical: pick(UriField::Canonical),
            policy: pick(UriField::Policy),
            hiring: pick(UriField::Hiring),
            preferred_languages,
            csaf: pick(UriField::Csaf),
        })
    }
}

/// What an operator may configure (the `[security_txt]` table); empty means "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityTxtInput {
    /// Contacts after the report form, in order of preference.
    pub contact: Vec<String>,
    pub encryption: Vec<String>,
    pub acknowledgments: Vec<String>,
    pub policy: Vec<String>,
    pub hiring: Vec<String>,
    /// `None`: [`SecurityTxtSettings::DEFAULT_LANGUAGES`]; `Some(vec![])` leaves the field out.
    pub preferred_languages: Option<Vec<String>>,
    /// `None`: [`SecurityTxtSettings::DEFAULT_EXPIRES_DAYS`].
    pub expires_days: Option<u16>,
}

/// The checked configuration from which each request's `security.txt` is made.
///
/// Derived from the public URL, always: the first `Contact` is Keikai's report form
/// (`{public_url}/report`), and `Canonical` is `{public_url}/.well-known/security.txt`.
/// Configured contacts follow the form. `Policy` is left out unless configured: the form is
/// a way to report, not a disclosure policy. `Expires` is the time of the request plus
/// `expires_days`, so the file never goes stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityTxtSettings {
    #[serde(skip)]
    site: String,
    contact: Vec<SecurityUri>,
    encryption: Vec<SecurityUri>,
    acknowledgments: Vec<SecurityUri>,
    policy: Vec<SecurityUri>,
    hiring: Vec<SecurityUri>,
    preferred_languages: Vec<LanguageTag>,
    expires_days: u16,
    /// Set by the CSAF provider (not configured by hand).
    #[serde(skip)]
    csaf: Vec<SecurityUri>,
}

impl SecurityTxtSettings {
    /// Where the file is served, relative to the public URL.
    pub const PATH: &str = "/.well-known/security.txt";
    /// The public report form, the preferred contact.
    pub const REPORT_PATH: &str = "/report";
    pub const DEFAULT_EXPIRES_DAYS: u16 = 180;
    /// RFC 9116 §2.5.5 recommends less than a year.
    pub const MAX_EXPIRES_DAYS: u16 = 365;
    pub const DEFAULT_LANGUAGES: [&str; 2] = ["en", "ja"];

    pub fn new(public_url: &str, input: &SecurityTxtInput) -> Result<Self, DomainError> {
        let site = public_url.trim().trim_end_matches('/');
        let site_ok = ["https://", "http://"].iter().any(|p| {
            site.get(..p.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(p))
                && site.len() > p.len()
        }) && !site.contains(['?', '#'])
            && !site.chars().any(|c| c.is_control() || c.is_whitespace());
        if !site_ok {
            return Err(DomainError::invalid(
                "public_url",
                format!(
                    "{} is not an http(s) URL without query or fragment",
                    quoted(public_url)
                ),
            ));
        }
        // What the operator writes must be https: the http exception is for derived URIs.
        let strict = |field: UriField, values: &[String]| {
            values
                .iter()
                .map(|v| SecurityUri::parse(field, v, false))
                .collect::<Result<Vec<_>, _>>()
        };
        let preferred_languages = match &input.preferred_languages {
            Some(tags) => tags
                .iter()
                .map(|t| LanguageTag::parse(t))
                .collect::<Result<Vec<_>, _>>()?,
            None => Self::default_languages(),
        };
        let expires_days = input.expires_days.unwrap_or(Self::DEFAULT_EXPIRES_DAYS);
        if !(1..=Self::MAX_EXPIRES_DAYS).contains(&expires_days) {
            return Err(DomainError::invalid(
                "expires_days",
                format!(
                    "{expires_days} is outside 1..={} (RFC 9116 recommends less than a year)",
                    Self::MAX_EXPIRES_DAYS
                ),
            ));
        }
        let settings = Self {
            site: site.to_owned(),
            contact: strict(UriField::Contact, &input.contact)?,
            encryption: strict(UriField::Encryption, &input.encryption)?,
            acknowledgments: strict(UriField::Acknowledgments, &input.acknowledgments)?,
            policy: strict(UriField::Policy, &input.policy)?,
            hiring: strict(UriField::Hiring, &input.hiring)?,
            preferred_languages,
            expires_days,
            csaf: Vec::new(),
        };
        // The derived URIs are checked now, so that a bad public URL stops start-up rather
        // than every request.
        settings.document(Timestamp::UNIX_EPOCH)?;
        Ok(settings)
    }

    /// Adds the `CSAF` field: the URL of our `provider-metadata.json` (must be https).
    pub fn with_csaf(mut self, provider_metadata_url: &str) -> Result<Self, DomainError> {
        self.csaf.push(SecurityUri::parse(
            UriField::Csaf,
            provider_metadata_url,
            false,
        )?);
        Ok(self)
    }

    /// The public URL without a trailing slash.
    pub fn site(&self) -> &str {
        &self.site
    }

    pub fn canonical_url(&self) -> String {
        format!("{}{}", self.site, Self::PATH)
    }

    pub fn report_url(&self) -> String {
        format!("{}{}", self.site, Self::REPORT_PATH)
    }

    pub const fn expires_days(&self) -> u16 {
        self.expires_days
    }

    fn plain_http_site(&self) -> bool {
        self.site
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
    }

    fn default_languages() -> Vec<LanguageTag> {
        Self::DEFAULT_LANGUAGES
            .iter()
            .map(|t| LanguageTag((*t).to_owned()))
            .collect()
    }

    /// The file as served at `now`: it expires `expires_days` later.
    pub fn document(&self, now: Timestamp) -> Result<SecurityTxt, DomainError> {
        let plain_http = self.plain_http_site();
        let mut uris = vec![(
            UriField::Contact,
            SecurityUri::parse(UriField::Contact, &self.report_url(), plain_http)?,
        )];
        let configured = [
            (UriField::Contact, &self.contact),
            (UriField::Encryption, &self.encryption),
            (UriField::Acknowledgments, &self.acknowledgments),
            (UriField::Policy, &self.policy),
            (UriField::Hiring, &self.hiring),
            (UriField::Csaf, &self.csaf),
        ];
        for (field, values) in configured {
            uris.extend(values.iter().map(|v| (field, v.clone())));
        }
        uris.push((
            UriField::Canonical,
            SecurityUri::parse(UriField::Canonical, &self.canonical_url(), plain_http)?,
        ));
        let expires = now
            .checked_add(SignedDuration::from_hours(
                i64::from(self.expires_days) * 24,
            ))
            .map_err(|e| DomainError::invalid("expires", e.to_string()))?;
        SecurityTxt::assemble(uris, self.preferred_languages.clone(), expires, now)
    }
}

impl Default for SecurityTxtSettings {
    /// For Keikai's default public URL, `http://127.0.0.1:8080`, with nothing configured.
    fn default() -> Self {
        Self {
            site: "http://127.0.0.1:8080".to_owned(),
            contact: Vec::new(),
            encryption: Vec::new(),
            acknowledgments: Vec::new(),
            policy: Vec::new(),
            hiring: Vec::new(),
            preferred_languages: Self::default_languages(),
            expires_days: Self::DEFAULT_EXPIRES_DAYS,
            csaf: Vec::new(),
        }
    }
}

/// RFC 3339 in UTC to the second, as in RFC 9116's example.
fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A value in quotes with line breaks and control characters escaped, safe to show.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.escape_debug())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ts;

    /// The least a file needs: a contact, and an expiry at the end of 2021.
    fn minimal() -> SecurityTxtBuilder {
        SecurityTxt::builder()
            .contact("mailto:security@example.com")
            .expires(ts("2021-12-31T00:00:00Z"))
    }

    /// The example values of RFC 9116 §2.5, in one file.
    fn rfc_example() -> SecurityTxtBuilder {
        SecurityTxt::builder()
            .contact("mailto:security@example.com")
            .contact("tel:+1-201-555-0123")
            .contact("https://example.com/security-contact.html")
            .expires(ts("2021-12-31T18:37:07Z"))
            .encryption("https://example.com/pgp-key.txt")
            .encryption("dns:5d2d37ab76d47d36._openpgpkey.example.com?type=OPENPGPKEY")
            .encryption("openpgp4fpr:5f2de5521c63a801ab59ccb603d49de44b29100f")
            .acknowledgments("https://example.com/hall-of-fame.html")
            .policy("https://example.com/disclosure-policy.html")
            .hiring("https://example.com/jobs.html")
            .preferred_language("en")
            .preferred_language("es")
            .preferred_language("fr")
            .canonical("https://www.example.com/.well-known/security.txt")
            .csaf("https://example.com/.well-known/csaf/provider-metadata.json")
    }

    #[test]
    fn renders_the_rfc_example_fields_in_order() {
        let txt = rfc_example().build(ts("2021-06-01T00:00:00Z")).unwrap();
        assert_eq!(
            txt.render(),
            "Contact: mailto:security@example.com\n\
             Contact: tel:+1-201-555-0123\n\
             Contact: https://example.com/security-contact.html\n\
             Expires: 2021-12-31T18:37:07Z\n\
             Encryption: https://example.com/pgp-key.txt\n\
             Encryption: dns:5d2d37ab76d47d36._openpgpkey.example.com?type=OPENPGPKEY\n\
             Encryption: openpgp4fpr:5f2de5521c63a801ab59ccb603d49de44b29100f\n\
             Acknowledgments: https://example.com/hall-of-fame.html\n\
             Policy: https://example.com/disclosure-policy.html\n\
             Hiring: https://example.com/jobs.html\n\
             Preferred-Languages: en, es, fr\n\
             Canonical: https://www.example.com/.well-known/security.txt\n\
             CSAF: https://example.com/.well-known/csaf/provider-metadata.json\n"
        );
        assert_eq!(txt.contacts().len(), 3);
        assert_eq!(txt.expires(), ts("2021-12-31T18:37:07Z"));
    }

    #[test]
    fn expires_is_cut_to_whole_seconds() {
        let txt = SecurityTxt::builder()
            .contact("mailto:security@example.com")
            .expires(ts("2030-01-02T03:04:05.999Z"))
            .build(ts("2030-01-01T00:00:00Z"))
            .unwrap();
        assert!(txt.render().contains("Expires: 2030-01-02T03:04:05Z\n"));
        assert_eq!(txt.expires(), ts("2030-01-02T03:04:05Z"));
    }

    #[test]
    fn refusals_name_the_field() {
        let now = ts("2021-06-01T00:00:00Z");
        let no_contact = SecurityTxt::builder().expires(ts("2021-12-31T00:00:00Z"));
        let bad_contacts = [
            "http://example.com/report",
            "ftp://example.com/report",
            "security@example.com",
            "mailto:nobody",
            "https:///no-host",
            "tel:call-us",
        ];
        let mut cases = vec![("no contact", no_contact.clone(), "contact")];
        for uri in bad_contacts {
            cases.push((uri, no_contact.clone().contact(uri), "contact"));
        }
        cases.extend([
            (
                "http policy",
                minimal().policy("http://example.com/p"),
                "policy",
            ),
            (
                "mailto policy",
                minimal().policy("mailto:a@example.com"),
                "policy",
            ),
            (
                "http key",
                minimal().encryption("http://example.com/k"),
                "encryption",
            ),
            (
                "http canonical",
                minimal().canonical("http://example.com/s"),
                "canonical",
            ),
            ("empty hiring", minimal().hiring(""), "hiring"),
            (
                "http csaf",
                minimal().csaf("http://example.com/c.json"),
                "csaf",
            ),
            (
                "en_US",
                minimal().preferred_language("en_US"),
                "preferred_languages",
            ),
            (
                "e",
                minimal().preferred_language("e"),
                "preferred_languages",
            ),
            (
                "no expiry",
                SecurityTxt::builder().contact("mailto:a@example.com"),
                "expires",
            ),
        ]);
        for (what, builder, field) in cases {
            assert_eq!(builder.build(now).unwrap_err().field(), field, "{what}");
        }
        minimal().build(now).unwrap();
    }

    #[test]
    fn no_value_can_inject_a_line() {
        let now = ts("2021-06-01T00:00:00Z");
        for evil in [
            "https://example.com/\nContact: https://evil.example",
            "https://example.com/\r\nExpires: 2099-01-01T00:00:00Z",
            "https://example.com/\rx",
            "https://example.com/\u{2028}x",
            "https://example.com/ x",
            "https://example.com/\u{7f}",
        ] {
            let e = minimal().policy(evil).build(now).unwrap_err();
            assert_eq!(e.field(), "policy", "{evil:?}");
            assert!(!e.to_string().contains('\n'), "{e}");
            assert_eq!(
                minimal().contact(evil).build(now).unwrap_err().field(),
                "contact"
            );
        }
        let e = minimal().preferred_language("en\nContact: x").build(now);
        assert_eq!(e.unwrap_err().field(), "preferred_languages");
    }

    #[test]
    fn a_stale_file_is_refused() {
        let b = minimal();
        assert!(b.clone().build(ts("2021-12-30T23:59:59Z")).is_ok());
        for now in ["2021-12-31T00:00:00Z", "2022-01-01T00:00:00Z"] {
            let e = b.clone().build(ts(now)).unwrap_err();
            assert_eq!(e.field(), "expires");
            assert!(e.to_string().contains("2021-12-31T00:00:00Z"), "{e}");
        }
    }

    #[test]
    fn settings_derive_contact_and_canonical_from_the_public_url() {
        let input = SecurityTxtInput {
            contact: vec!["mailto:psirt@example.com".into()],
            encryption: vec!["https://psirt.example.com/key.asc".into()],
            ..SecurityTxtInput::default()
        };
        let s = SecurityTxtSettings::new("https://psirt.example.com/", &input).unwrap();
        let now = ts("2026-03-01T12:00:00Z");
        let txt = s.document(now).unwrap();
        let contacts: Vec<&str> = txt.contacts().iter().map(SecurityUri::as_str).collect();
        assert_eq!(
            contacts,
            [
                "https://psirt.example.com/report",
                "mailto:psirt@example.com"
            ]
        );
        assert_eq!(
            txt.canonical()[0].as_str(),
            "https://psirt.example.com/.well-known/security.txt"
        );
        assert!(txt.policy().is_empty());
        assert_eq!(txt.expires(), ts("2026-08-28T12:00:00Z"), "180 days on");
        let rendered = txt.render();
        assert!(
            rendered.contains("Preferred-Languages: en, ja\n"),
            "{rendered}"
        );
        assert!(
            !rendered.contains('#'),
            "no local-testing comment: {rendered}"
        );
        // Served a year later, the file has moved on with the clock.
        let later = ts("2027-03-01T12:00:00Z");
        assert!(s.document(later).unwrap().expires() > later);
    }

    #[test]
    fn an_http_public_url_is_for_local_testing_only() {
        let s = SecurityTxtSettings::new("http://127.0.0.1:8080", &SecurityTxtInput::default())
            .unwrap();
        let rendered = s.document(ts("2026-01-01T00:00:00Z")).unwrap().render();
        assert!(rendered.starts_with("# Local testing"), "{rendered}");
        assert!(rendered.contains("Contact: http://127.0.0.1:8080/report\n"));
        // What the operator writes must still be https, whatever the public URL.
        let input = SecurityTxtInput {
            policy: vec!["http://127.0.0.1:8080/policy".into()],
            ..SecurityTxtInput::default()
        };
        let e = SecurityTxtSettings::new("http://127.0.0.1:8080", &input).unwrap_err();
        assert_eq!(e.field(), "policy");
        assert_eq!(SecurityTxtSettings::default(), s);
    }

    #[test]
    fn settings_refuse_bad_input() {
        let new = |url: &str, input: SecurityTxtInput| {
            SecurityTxtSettings::new(url, &input).unwrap_err().field()
        };
        let url = "https://psirt.example.com";
        for bad in ["ftp://x", "https://", "https://x/?a=b"] {
            assert_eq!(new(bad, SecurityTxtInput::default()), "public_url", "{bad}");
        }
        let days = |d| SecurityTxtInput {
            expires_days: Some(d),
            ..SecurityTxtInput::default()
        };
        assert_eq!(new(url, days(0)), "expires_days");
        assert_eq!(new(url, days(366)), "expires_days");
        assert!(SecurityTxtSettings::new(url, &days(365)).is_ok());
        let contact = SecurityTxtInput {
            contact: vec!["http://psirt.example.com/mail".into()],
            ..SecurityTxtInput::default()
        };
        assert_eq!(new(url, contact), "contact");
        let langs = SecurityTxtInput {
            preferred_languages: Some(vec!["ja".into(), "日本語".into()]),
            ..SecurityTxtInput::default()
        };
        assert_eq!(new(url, langs), "preferred_languages");
        let none = SecurityTxtInput {
            preferred_languages: Some(Vec::new()),
            ..SecurityTxtInput::default()
        };
        let txt = SecurityTxtSettings::new(url, &none).unwrap();
        let rendered = txt.document(ts("2026-01-01T00:00:00Z")).unwrap().render();
        assert!(!rendered.contains("Preferred-Languages"), "{rendered}");
    }

    #[test]
    fn csaf_is_added_by_the_provider() {
        let s = SecurityTxtSettings::new("https://psirt.example.com", &SecurityTxtInput::default())
            .unwrap()
            .with_csaf("https://psirt.example.com/.well-known/csaf/provider-metadata.json")
            .unwrap();
        let rendered = s.document(ts("2026-01-01T00:00:00Z")).unwrap().render();
        assert!(
            rendered.ends_with(
                "CSAF: https://psirt.example.com/.well-known/csaf/provider-metadata.json\n"
            ),
            "{rendered}"
        );
        let e = s.with_csaf("http://x.example/p.json").unwrap_err();
        assert_eq!(e.field(), "csaf");
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "ja", "pt-BR", "zh-Hant-TW", "de-CH-1996"] {
            assert_eq!(LanguageTag::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "e",
            "en_US",
            "en-",
            "-en",
            "toolongtag",
            "en-toolongsub",
            "1a",
        ] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad:?}");
        }
    }
}
