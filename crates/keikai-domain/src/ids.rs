//! Identifiers are distinct types so that one kind of id cannot be passed where another is
//! expected. All are UUID v7: time-ordered, so indexes stay compact.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An organisation.
    OrgId
);
id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A node of the product tree (a CSAF branch).
    BranchId
);
id_type!(
    /// An API token.
    TokenId
);
id_type!(
    /// A case: one report or question, worked until it is closed.
    CaseId
);
id_type!(
    /// A vulnerability within a case.
    VulnerabilityId
);
id_type!(
    /// A task within a case.
    TaskId
);
id_type!(
    /// A message or internal note on a case.
    MessageId
);
id_type!(
    /// A file attached to a case.
    AttachmentId
);
id_type!(
    /// A security advisory (one CSAF document and its bulletins, across its versions).
    AdvisoryId
);
id_type!(
    /// A release: the monthly train or an out-of-band one.
    ReleaseId
);
id_type!(
    /// A job of the outbox (an e-mail to send, a webhook to call).
    JobId
);
id_type!(
    /// A person or mailbox that receives security information.
    SubscriberId
);
id_type!(
    /// A mailing list: an audience with its filter, priority and edition.
    ListId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings() {
        let id = OrgId::new();
        assert_eq!(id.to_string().parse::<OrgId>(), Ok(id));
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = BranchId::new();
        let b = BranchId::new();
        assert!(a < b);
    }
}
