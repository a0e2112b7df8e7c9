//! What a validator reports about a document.

use serde::Serialize;

/// How much a finding matters. CSAF 2.0 section 6 maps mandatory tests (6.1) to errors, optional
/// tests (6.2) to warnings and informative tests (6.3) to information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One problem found in one place of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The test that raised it: a section 6 id such as `"6.1.27.3"`, or `"schema"`.
    pub test_id: &'static str,
    pub severity: Severity,
    /// JSON pointer (RFC 6901) to the offending value, e.g. `/vulnerabilities/0/cve`.
    pub path: String,
    /// A sentence a person understands, naming the value that is wrong.
    pub message: String,
}

impl Finding {
    fn new(
        test_id: &'static str,
        severity: Severity,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            test_id,
            severity,
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn error(
        test_id: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(test_id, Severity::Error, path, message)
    }

    pub fn warning(
        test_id: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(test_id, Severity::Warning, path, message)
    }

    pub fn info(
        test_id: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(test_id, Severity::Info, path, message)
    }
}

/// Escapes one reference token of a JSON pointer (RFC 6901 section 3).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
