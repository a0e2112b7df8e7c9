//! People who sign in, and the roles they hold in organisations.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::org::text_field;
use crate::{DomainError, OrgId, OrgKind, UserId};

/// An e-mail address, trimmed and lower-cased so that one person has one account.
///
/// Deliberately not a full RFC 5322 parser: it rejects what cannot be delivered to (no `@`,
/// spaces, control characters, no dot in the domain) and leaves the rest to the mail server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

crate::text::checked_text!(Email, parse);

impl Email {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim().to_lowercase();
        let bad = |why: &str| {
            DomainError::invalid(
                "email",
                format!("\"{}\" is not an e-mail address: {why}", s.trim()),
            )
        };
        if t.is_empty() {
            return Err(DomainError::invalid("email", "must not be empty"));
        }
        if t.len() > 254 {
            return Err(bad("longer than 254 characters"));
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("contains white space"));
        }
        let Some((local, domain)) = t.rsplit_once('@') else {
            return Err(bad("no @"));
        };
        if local.is_empty() || local.contains('@') {
            return Err(bad("the part before @ is empty or holds another @"));
        }
        if domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad("the domain needs a dot, as in example.com"));
        }
        Ok(Self(t))
    }
}

/// How a person is shown to others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct DisplayName(String);

crate::text::checked_text!(DisplayName);

impl DisplayName {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        text_field("display_name", s, 200).map(Self)
    }
}

/// A password as typed. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Long enough to resist guessing; bounded so that hashing cannot be used to exhaust the
    /// server (Argon2 cost grows with input length only mildly, but request bodies should not).
    pub const MIN_CHARS: usize = 12;
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let chars = s.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(DomainError::invalid(
                "password",
                format!("is {chars} characters long (at least {})", Self::MIN_CHARS),
            ));
        }
        if s.len() > Self::MAX_BYTES {
            return Err(DomainError::invalid(
                "password",
                format!("is longer than {} bytes", Self::MAX_BYTES),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

crate::names! {
    /// The user interface languages.
    pub enum Locale("locale", "a supported language") {
        En = "en",
        Ja = "ja",
    }
}

crate::names! {
    /// What a person may do, held per organisation.
    pub enum Role("role", "a role") {
        Admin = "admin",
        PsirtAnalyst = "psirt-analyst",
        ProductEngineer = "product-engineer",
        PartnerContact = "partner-contact",
        CustomerContact = "customer-contact",
        Reporter = "reporter",
    }
}

impl Role {
    /// Internal roles belong to our own organisation, contact roles to the organisation they
    /// speak for; a reporter may come from anywhere. Holding a role in the wrong kind of
    /// organisation would let, say, a partner act as our PSIRT.
    pub const fn allowed_in(self, kind: OrgKind) -> bool {
        match self {
            Self::Admin | Self::PsirtAnalyst | Self::ProductEngineer => {
                matches!(kind, OrgKind::Own)
            }
            Self::PartnerContact => matches!(kind, OrgKind::Partner),
            Self::CustomerContact => matches!(kind, OrgKind::Customer),
            Self::Reporter => true,
        }
    }

    pub fn check_allowed_in(self, kind: OrgKind) -> Result<(), DomainError> {
        if self.allowed_in(kind) {
            Ok(())
        } else {
            Err(DomainError::invalid(
                "role",
                format!("the role {self} cannot be held in an organisation of kind {kind}"),
            ))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
pub struct Membership {
    pub org_id: OrgId,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub display_name: DisplayName,
    /// The language chosen in the profile; `None` follows the browser.
    pub locale: Option<Locale>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Disabled accounts cannot sign in and their sessions and tokens stop working.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<Timestamp>,
}

/// Nobody disables their own account: the last administrator could otherwise lock everyone
/// out, and a stolen session could not be used to hide its owner's tracks by locking them out.
pub fn check_can_disable(by: UserId, target: UserId) -> Result<(), DomainError> {
    if by == target {
        return Err(DomainError::invalid(
            "disabled",
            "you cannot disable your own account",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_disables_themselves() {
        let (a, b) = (UserId::new(), UserId::new());
        assert!(check_can_disable(a, b).is_ok());
        assert_eq!(check_can_disable(a, a).unwrap_err().field(), "disabled");
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse(" Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "al ice@example.com",
            "alice@example",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords_are_bounded_and_hidden() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(2000)).is_err());
        let p = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[test]
    fn roles_parse_and_respect_org_kinds() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!(
            "root"
                .parse::<Role>()
                .unwrap_err()
                .to_string()
                .contains("psirt-analyst")
        );
        let table = [
            (Role::Admin, OrgKind::Own, true),
            (Role::Admin, OrgKind::Partner, false),
            (Role::PsirtAnalyst, OrgKind::Customer, false),
            (Role::ProductEngineer, OrgKind::Own, true),
            (Role::PartnerContact, OrgKind::Partner, true),
            (Role::PartnerContact, OrgKind::Own, false),
            (Role::CustomerContact, OrgKind::Customer, true),
            (Role::CustomerContact, OrgKind::Coordinator, false),
            (Role::Reporter, OrgKind::Coordinator, true),
            (Role::Reporter, OrgKind::Own, true),
        ];
        for (role, kind, allowed) in table {
            assert_eq!(role.allowed_in(kind), allowed, "{role} in {kind}");
        }
    }
}
