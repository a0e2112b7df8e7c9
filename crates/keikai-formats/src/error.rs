use keikai_cvss::CvssError;

/// Why an input cannot become a valid record. Every variant names the input field (with its
/// index for list items, e.g. `affected[1].versions[0].version`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    #[error("{field} must not be empty")]
    Empty { field: String },
    #[error("{field} {value:?} is not {expected}")]
    Invalid {
        field: String,
        value: String,
        expected: &'static str,
    },
    #[error("{field} is {len} characters long, more than the {max} allowed")]
    TooLong {
        field: String,
        len: usize,
        max: usize,
    },
    #[error("{field} lists {value:?} more than once")]
    Duplicate { field: String, value: String },
    #[error("{field} is not a valid CVSS vector: {source}")]
    Cvss {
        field: String,
        #[source]
        source: CvssError,
    },
    #[error("{field} must be a CVSS {expected} vector, found a CVSS {found} vector")]
    CvssVersion {
        field: String,
        expected: &'static str,
        found: keikai_cvss::Version,
    },
    /// The record broke a schema rule the field checks did not catch (a defect to fix here).
    #[error("the record does not match the CVE JSON 5 schema: {}", messages.join("; "))]
    Schema { messages: Vec<String> },
}

impl FormatError {
    /// The input field the error is about.
    pub fn field(&self) -> &str {
        match self {
            Self::Empty { field }
            | Self::Invalid { field, .. }
            | Self::TooLong { field, .. }
            | Self::Duplicate { field, .. }
            | Self::Cvss { field, .. }
            | Self::CvssVersion { field, .. } => field,
            Self::Schema { .. } => "record",
        }
    }
}
