//! Types shared by several parts of a document: identifiers, timestamps, notes, references,
//! acknowledgments.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::enums::{NoteCategory, ReferenceCategory};
use crate::datetime;

/// Extra properties that CSAF 2.0 does not define, kept so that nothing is lost on a round trip.
pub type Extra = Map<String, Value>;

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self(text.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id! {
    /// `product_id_t`: a token naming one product inside the document (e.g. `CSAFPID-0001`).
    ProductId
}

string_id! {
    /// `product_group_id_t`: a token naming one product group inside the document.
    ProductGroupId
}

/// A `date-time` value of the schema, kept as the exact text of the document.
///
/// Deserializing does not check the text: reading a document must not fail on a bad date (the
/// schema validator reports it with its path). [`DateTime::parse`] checks RFC 3339 and
/// [`DateTime::timestamp`] gives a comparable instant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DateTime(String);

/// An instant in UTC: seconds since 1970-01-01T00:00:00Z and nanoseconds. Ordered, so dates with
/// different offsets compare correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    pub unix_seconds: i64,
    pub nanos: u32,
}

/// Why a text is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an RFC 3339 date-time ({reason}), expected e.g. 2024-03-01T12:00:00Z")]
pub struct DateTimeError {
    pub text: String,
    pub reason: &'static str,
}

impl DateTime {
    /// Checks that `text` is an RFC 3339 date-time with a time zone, as the schema's
    /// `date-time` format requires.
    pub fn parse(text: impl Into<String>) -> Result<Self, DateTimeError> {
        let text = text.into();
        match datetime::parse_rfc3339(&text) {
            Ok(_) => Ok(Self(text)),
            Err(reason) => Err(DateTimeError { text, reason }),
        }
    }

    /// Wraps a text without checking it (for values read from a document).
    pub fn from_unchecked(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant this text denotes, or why it is not a valid date-time.
    pub fn timestamp(&self) -> Result<Timestamp, DateTimeError> {
        datetime::parse_rfc3339(&self.0).map_err(|reason| DateTimeError {
            text: self.0.clone(),
            reason,
        })
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `notes_t` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    pub category: NoteCategory,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Note {
    pub fn new(category: NoteCategory, text: impl Into<String>) -> Self {
        Self {
            audience: None,
            category,
            text: text.into(),
            title: None,
            extra: Extra::new(),
        }
    }
}

/// `references_t` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<ReferenceCategory>,
    pub summary: String,
    pub url: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `acknowledgments_t` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Acknowledgment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_and_compares_across_offsets() {
        let utc = DateTime::parse("2024-03-01T12:00:00Z").expect("valid");
        let plus = DateTime::parse("2024-03-01T14:00:00+02:00").expect("valid");
        assert_eq!(utc.timestamp(), plus.timestamp());
        let later = DateTime::parse("2024-03-01T12:00:00.5z").expect("valid");
        assert!(later.timestamp().expect("valid") > utc.timestamp().expect("valid"));
        assert_eq!(
            DateTime::parse("1970-01-01T00:00:01.000000001Z")
                .expect("valid")
                .timestamp(),
            Ok(Timestamp {
                unix_seconds: 1,
                nanos: 1
            })
        );
        assert_eq!(
            DateTime::parse("2000-02-29T00:00:00Z")
                .expect("leap day")
                .timestamp(),
            Ok(Timestamp {
                unix_seconds: 951_782_400,
                nanos: 0
            })
        );
    }

    #[test]
    fn rejects_malformed_dates_with_a_reason() {
        for bad in [
            "2024-03-01",
            "2024-03-01T12:00:00",
            "2024-13-01T12:00:00Z",
            "2023-02-29T12:00:00Z",
            "2024-03-01T24:00:00Z",
            "2024-03-01 12:00:00Z",
            "2024-03-01T12:00:00.Z",
            "2024-03-01T12:00:00Zx",
            "2024-03-01T12:00:00+0200",
            "２０２４-03-01T12:00:00Z",
            "",
        ] {
            let err = DateTime::parse(bad).expect_err(bad);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn deserializing_keeps_any_text() {
        let date: DateTime = serde_json::from_str("\"yesterday\"").expect("any string");
        assert_eq!(date.as_str(), "yesterday");
        assert!(date.timestamp().is_err());
    }
}
