//! API tokens: bearer credentials for scripts and integrations. Only a hash is stored; the
//! secret is shown once when the token is made.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;

use crate::org::text_field;
use crate::{DomainError, TokenId, UserId};

crate::names! {
    /// What a token may be used for. A token never grants more than its owner's roles.
    pub enum Scope("scopes", "a scope") {
        /// Read what the owner may read.
        Read = "read",
        /// Also change what the owner may change.
        Write = "write",
    }
}

/// The secret part of a token as presented by a client: `kk_` followed by 43 base64url
/// characters (32 random bytes). The prefix lets secret scanners recognise leaked tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

impl TokenSecret {
    pub const PREFIX: &'static str = "kk_";

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let Some(rest) = s.strip_prefix(Self::PREFIX) else {
            return Err(DomainError::invalid("token", "does not start with kk_"));
        };
        if rest.len() != 43
            || !rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(DomainError::invalid("token", "is not a Keikai API token"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(***)")
    }
}

/// A token's label, chosen by its owner ("CI publisher", "SIEM import").
pub fn parse_token_name(s: &str) -> Result<String, DomainError> {
    text_field("name", s, 100)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub scopes: Vec<Scope>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }

    pub fn allows_writes(&self) -> bool {
        self.scopes.contains(&Scope::Write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_a_fixed_shape() {
        let good = format!("kk_{}", "A".repeat(43));
        assert!(TokenSecret::parse(&good).is_ok());
        assert!(TokenSecret::parse(&"A".repeat(46)).is_err());
        assert!(TokenSecret::parse(&format!("kk_{}", "A".repeat(42))).is_err());
        assert!(TokenSecret::parse(&format!("kk_{}+", "A".repeat(42))).is_err());
        assert_eq!(
            format!("{:?}", TokenSecret::parse(&good).unwrap()),
            "TokenSecret(***)"
        );
    }

    #[test]
    fn activity_follows_revocation_and_expiry() {
        let now = Timestamp::from_second(1_000).unwrap();
        let mut t = ApiToken {
            id: TokenId::new(),
            user_id: UserId::new(),
            name: "ci".into(),
            scopes: vec![Scope::Read],
            created_at: Timestamp::UNIX_EPOCH,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        };
        assert!(t.is_active(now));
        t.expires_at = Some(now);
        assert!(!t.is_active(now));
        t.expires_at = None;
        t.revoked_at = Some(now);
        assert!(!t.is_active(now));
    }
}
