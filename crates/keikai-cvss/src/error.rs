use crate::Version;

/// Why a vector string is not a valid CVSS vector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CvssError {
    #[error("CVSS vector is empty")]
    Empty,
    #[error(
        "vector prefix {prefix:?} is not supported (expected CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/, \
         or no prefix for CVSS 2.0)"
    )]
    UnsupportedPrefix { prefix: String },
    #[error("expected a CVSS {expected} vector, found a CVSS {found} vector")]
    UnexpectedVersion {
        expected: &'static str,
        found: Version,
    },
    #[error("CVSS {version} vector has no metrics")]
    NoMetrics { version: Version },
    #[error("CVSS {version} vector has an empty component at position {position}")]
    EmptyComponent { version: Version, position: usize },
    #[error("component {component:?} is not of the form METRIC:VALUE")]
    MalformedComponent { component: String },
    #[error("unknown metric {metric:?} in a CVSS {version} vector")]
    UnknownMetric { version: Version, metric: String },
    #[error("metric {metric} appears more than once")]
    DuplicateMetric { metric: &'static str },
    #[error("metric {metric} has invalid value {value:?} (expected {})", expected.join(", "))]
    InvalidValue {
        metric: &'static str,
        value: String,
        expected: &'static [&'static str],
    },
    #[error("mandatory metric {metric} is missing")]
    MissingMetric { metric: &'static str },
    #[error("metric {metric} comes after {after}, but CVSS {version} lists it before")]
    OutOfOrder {
        version: Version,
        metric: &'static str,
        after: &'static str,
    },
}
