//! Checked text: the newtypes that hold a `String` only once their `parse` accepted it.

/// For `struct Name(String)`: `Name::as_str` and a `Display` that writes the text as it is.
///
/// `checked_text!(Name, parse)` adds the `TryFrom<String>` (through `Name::parse`) and the
/// `From<Name> for String` that `#[serde(try_from = "String", into = "String")]` needs, so
/// that what is read back is checked again.
macro_rules! checked_text {
    ($name:ident) => {
        impl $name {
            /// The text, as checked.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
    ($name:ident, parse) => {
        $crate::text::checked_text!($name);

        impl ::std::convert::TryFrom<String> for $name {
            type Error = $crate::DomainError;

            fn try_from(s: String) -> ::std::result::Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(text: $name) -> Self {
                text.0
            }
        }
    };
}

pub(crate) use checked_text;
