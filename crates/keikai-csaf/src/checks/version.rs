//! `version_t` (CSAF 2.0 section 3.1.11): integer versioning or semantic versioning 2.0.0.

use std::cmp::Ordering;

/// A semantic version, borrowed from the document. Numeric parts keep their digits (never a
/// leading zero), so arbitrarily long numbers compare correctly without overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Semver<'a> {
    pub(crate) major: &'a str,
    pub(crate) minor: &'a str,
    pub(crate) patch: &'a str,
    pub(crate) pre: Option<&'a str>,
    pub(crate) build: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version<'a> {
    /// Integer versioning: `0` or a number without leading zero.
    Integer(&'a str),
    Semantic(Semver<'a>),
}

impl<'a> Version<'a> {
    pub(crate) fn parse(s: &'a str) -> Option<Self> {
        if is_numeric_identifier(s) {
            return Some(Self::Integer(s));
        }
        parse_semver(s).map(Self::Semantic)
    }

    /// The integer, or the major version of a semantic version.
    pub(crate) fn major(&self) -> &'a str {
        match self {
            Self::Integer(n) => n,
            Self::Semantic(v) => v.major,
        }
    }

    pub(crate) fn pre(&self) -> Option<&'a str> {
        match self {
            Self::Integer(_) => None,
            Self::Semantic(v) => v.pre,
        }
    }

    pub(crate) fn build(&self) -> Option<&'a str> {
        match self {
            Self::Integer(_) => None,
            Self::Semantic(v) => v.build,
        }
    }
}

/// `0` or digits without a leading zero.
fn is_numeric_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

fn is_dot_separated(s: &str, numeric_no_leading_zero: bool) -> bool {
    !s.is_empty()
        && s.split('.').all(|id| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && (!numeric_no_leading_zero
                    || !id.bytes().all(|b| b.is_ascii_digit())
                    || is_numeric_identifier(id))
        })
}

fn parse_semver(s: &str) -> Option<Semver<'_>> {
    let (rest, build) = match s.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (s, None),
    };
    if build.is_some_and(|b| !is_dot_separated(b, false)) {
        return None;
    }
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    if pre.is_some_and(|p| !is_dot_separated(p, true)) {
        return None;
    }
    let mut parts = core.split('.');
    let (major, minor, patch) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || ![major, minor, patch].into_iter().all(is_numeric_identifier) {
        return None;
    }
    Some(Semver {
        major,
        minor,
        patch,
        pre,
        build,
    })
}

/// Compares two digit strings without leading zeros (or `0`) as numbers.
pub(crate) fn cmp_numeric(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Pre-release precedence (semver 2.0.0 item 11): no pre-release is greater than any.
fn cmp_pre(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            let mut xs = a.split('.');
            let mut ys = b.split('.');
            loop {
                match (xs.next(), ys.next()) {
                    (None, None) => return Ordering::Equal,
                    (None, Some(_)) => return Ordering::Less,
                    (Some(_), None) => return Ordering::Greater,
                    (Some(x), Some(y)) => {
                        let xn = x.bytes().all(|c| c.is_ascii_digit());
                        let yn = y.bytes().all(|c| c.is_ascii_digit());
                        let o = match (xn, yn) {
                            (true, true) => {
                                cmp_numeric(x.trim_start_matches('0'), y.trim_start_matches('0'))
                            }
                            (true, false) => Ordering::Less,
                            (false, true) => Ordering::Greater,
                            (false, false) => x.cmp(y),
                        };
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                }
            }
        }
    }
}

/// A total order on revision numbers used to sort the revision history: a semantic version by
/// precedence, an integer `n` as `n.0.0`, anything else by its leading digits (as JavaScript's
/// `parseInt` would) so that sorting never fails on a broken document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SortKey<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    pre: Option<&'a str>,
}

impl<'a> SortKey<'a> {
    pub(crate) fn new(number: &'a str) -> Self {
        match Version::parse(number) {
            Some(Version::Semantic(v)) => Self {
                major: v.major,
                minor: v.minor,
                patch: v.patch,
                pre: v.pre,
            },
            Some(Version::Integer(n)) => Self {
                major: n,
                minor: "0",
                patch: "0",
                pre: None,
            },
            None => Self {
                major: leading_number(number),
                minor: "0",
                patch: "0",
                pre: None,
            },
        }
    }
}

/// The leading digits of `s` without leading zeros (`"0"` when there are none).
pub(crate) fn leading_number(s: &str) -> &str {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let digits = s.get(..end).unwrap_or_default().trim_start_matches('0');
    if digits.is_empty() { "0" } else { digits }
}

impl Ord for SortKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_numeric(self.major, other.major)
            .then_with(|| cmp_numeric(self.minor, other.minor))
            .then_with(|| cmp_numeric(self.patch, other.patch))
            .then_with(|| cmp_pre(self.pre, other.pre))
    }
}

impl PartialOrd for SortKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_integer_and_semantic_versions() {
        assert_eq!(Version::parse("0"), Some(Version::Integer("0")));
        assert_eq!(Version::parse("12"), Some(Version::Integer("12")));
        assert_eq!(Version::parse("012"), None);
        let v = Version::parse("1.0.0-rc.1+exp.sha.5114f85");
        assert_eq!(v.and_then(|v| v.pre()), Some("rc.1"));
        assert_eq!(v.and_then(|v| v.build()), Some("exp.sha.5114f85"));
        for bad in [
            "",
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.0.0-",
            "1.0.0-01",
            "1.0.0+",
            "1.0.0-a..b",
            "v1.0.0",
            "1.0.0-ä",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        assert!(Version::parse("1.0.0-0a").is_some());
    }

    #[test]
    fn sort_key_follows_semver_precedence() {
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2",
            "2.0.1",
            "10",
        ];
        for w in ordered.windows(2) {
            assert!(
                SortKey::new(w[0]) < SortKey::new(w[1]),
                "{} < {}",
                w[0],
                w[1]
            );
        }
        assert_eq!(SortKey::new("1.0.0+a"), SortKey::new("1.0.0+b"));
        assert_eq!(SortKey::new("2"), SortKey::new("2.0.0"));
        assert!(SortKey::new("99999999999999999999999") > SortKey::new("9999999999999999999999"));
        assert_eq!(leading_number("007abc"), "7");
        assert_eq!(leading_number("abc"), "0");
    }
}
