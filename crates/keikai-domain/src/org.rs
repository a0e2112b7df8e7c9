//! Organisations: our own PSIRT, partners under agreement, customers and coordinators.

use jiff::Timestamp;
use serde::Serialize;

use crate::{DomainError, OrgId};

crate::names! {
    /// What an organisation is to us. It bounds which roles its members may hold.
    pub enum OrgKind("kind", "an organisation kind") {
        /// The organisation that runs this Keikai (its PSIRT and product teams).
        Own = "own",
        /// Receives advance information under an agreement.
        Partner = "partner",
        /// Runs our products and tracks patches.
        Customer = "customer",
        /// A CERT or CSIRT that coordinates disclosure (e.g. JPCERT/CC).
        Coordinator = "coordinator",
    }
}

/// An organisation's name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct OrgName(String);

crate::text::checked_text!(OrgName);

impl OrgName {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        text_field("name", s, 200).map(Self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: OrgId,
    pub name: OrgName,
    pub kind: OrgKind,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Checks a one-line text field: trimmed, non-empty, at most `max` characters, no control
/// characters (they break mail headers, CSV exports and terminals).
pub(crate) fn text_field(field: &'static str, s: &str, max: usize) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    let len = t.chars().count();
    if len > max {
        return Err(DomainError::invalid(
            field,
            format!("is {len} characters long (at most {max})"),
        ));
    }
    if let Some(c) = t.chars().find(|c| c.is_control()) {
        return Err(DomainError::invalid(
            field,
            format!("contains the control character {c:?}"),
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_print() {
        for k in OrgKind::ALL {
            assert_eq!(k.as_str().parse::<OrgKind>(), Ok(k));
        }
        let err = "vendor".parse::<OrgKind>().unwrap_err();
        assert!(err.to_string().contains("\"vendor\""), "{err}");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            OrgName::parse("  JPCERT/CC ").map(|n| n.0),
            Ok("JPCERT/CC".to_owned())
        );
        assert!(OrgName::parse("   ").is_err());
        assert!(OrgName::parse(&"x".repeat(201)).is_err());
        assert!(OrgName::parse("a\nb").is_err());
        assert!(OrgName::parse("警戒株式会社").is_ok());
    }
}
