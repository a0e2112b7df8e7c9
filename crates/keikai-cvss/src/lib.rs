//! CVSS 2.0, 3.0, 3.1 and 4.0: parse, validate and score vector strings exactly as FIRST
//! specifies. No I/O.
//!
//! ```
//! let cvss = keikai_cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")?;
//! assert_eq!(cvss.version(), keikai_cvss::Version::V3_1);
//! assert_eq!(cvss.scores().base, 9.8);
//! assert_eq!(cvss.scores().base_severity, Some(keikai_cvss::Severity::Critical));
//! assert_eq!(cvss.metric("AV"), Some("N"));
//! # Ok::<(), keikai_cvss::CvssError>(())
//! ```
//!
//! # Parsing
//!
//! The version comes from the prefix: `CVSS:3.0/`, `CVSS:3.1/`, `CVSS:4.0/`; a vector without
//! a prefix is CVSS 2.0 (which has none). Parsing is strict about everything the
//! specifications define — metric names and values are case-sensitive, every mandatory base
//! metric must be present, no metric may appear twice, no empty component, no surrounding
//! whitespace or parentheses — with one deliberate exception: **metric order**. The
//! specifications list metrics in a fixed order (FIRST's 4.0 calculator enforces it, Red
//! Hat's `cvss` library does not), but real publishers deviate (203 of 34,097 real CVSS 3.1
//! vectors in our corpus, e.g. `CVSS:3.1/AC:H/AV:N/...`) while the meaning is unambiguous.
//! [`parse`] therefore accepts any order for every version; [`parse_strict`] additionally
//! requires the specification's order, for tools that want to flag such vectors.
//! [`Cvss::vector_string`] (and `Display`) always writes the specification's order and keeps
//! exactly the metrics that were given, including explicit "not defined" values (`X`, `ND`),
//! so `parse(&cvss.to_string()) == Ok(cvss)`.
//!
//! # Scores
//!
//! * CVSS 2.0: the v2 guide's equations, with the guide's round-to-one-decimal (half up).
//! * CVSS 3.0 and 3.1: the specifications' equations and `Roundup` (see [`v3`] for why 3.0
//!   uses the float-safe Roundup of 3.1's Appendix A).
//! * CVSS 4.0: MacroVector lookup and severity-distance interpolation as in FIRST's
//!   calculator, with FIRST's data tables (BSD-2-Clause, see `LICENSE-FIRST-CVSS-V4`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod error;
mod metric;
#[cfg(test)]
mod proptests;
pub mod v2;
pub mod v3;
pub mod v4;

pub use error::CvssError;
pub use metric::MetricDef;
use metric::Order;

/// Parses a CVSS vector of any supported version; metrics may appear in any order.
pub fn parse(vector: &str) -> Result<Cvss, CvssError> {
    parse_with(vector, Order::Any)
}

/// Like [`parse`], but also requires the metrics in the order the specification lists them.
pub fn parse_strict(vector: &str) -> Result<Cvss, CvssError> {
    parse_with(vector, Order::Canonical)
}

fn parse_with(vector: &str, order: Order) -> Result<Cvss, CvssError> {
    if vector.is_empty() {
        return Err(CvssError::Empty);
    }
    // Any case of "CVSS:" marks a prefixed vector, so "cvss:3.1/..." gets a prefix error
    // rather than "unknown metric cvss" from the CVSS 2.0 parser.
    let prefixed = vector
        .as_bytes()
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"CVSS:"));
    if let Some(body) = vector.get(5..).filter(|_| prefixed) {
        let (version, body) = body.split_once('/').unwrap_or((body, ""));
        if !vector.starts_with("CVSS:") {
            return Err(CvssError::UnsupportedPrefix {
                prefix: vector.split('/').next().unwrap_or(vector).to_owned(),
            });
        }
        return match version {
            "3.0" => v3::Vector::parse_body(body, Version::V3_0, order).map(Cvss::V3),
            "3.1" => v3::Vector::parse_body(body, Version::V3_1, order).map(Cvss::V3),
            "4.0" => v4::Vector::parse_body(body, order).map(Cvss::V4),
            _ => Err(CvssError::UnsupportedPrefix {
                prefix: format!("CVSS:{version}"),
            }),
        };
    }
    v2::Vector::parse_body(vector, order).map(Cvss::V2)
}

/// A parsed, valid CVSS vector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cvss {
    V2(v2::Vector),
    V3(v3::Vector),
    V4(v4::Vector),
}

impl Cvss {
    pub fn version(&self) -> Version {
        match self {
            Self::V2(_) => Version::V2_0,
            Self::V3(v) => v.version(),
            Self::V4(_) => Version::V4_0,
        }
    }

    /// All scores the vector's version defines (see [`Scores`] for what each version fills in).
    pub fn scores(&self) -> Scores {
        match self {
            Self::V2(v) => v.scores(),
            Self::V3(v) => v.scores(),
            Self::V4(v) => v.scores(),
        }
    }

    /// The value code of metric `abbrev` as written in the vector (`metric("AV") == Some("N")`);
    /// `None` when the metric is absent or unknown to this version.
    pub fn metric(&self, abbrev: &str) -> Option<&str> {
        match self {
            Self::V2(v) => v.metric(abbrev),
            Self::V3(v) => v.metric(abbrev),
            Self::V4(v) => v.metric(abbrev),
        }
    }

    /// The canonical vector string: the specification's metric order, prefix for 3.x/4.0,
    /// no prefix for 2.0.
    pub fn vector_string(&self) -> String {
        self.to_string()
    }

    /// The vector with all its scores, in the form the CLI prints and the API returns.
    pub fn report(&self) -> ScoreReport {
        let s = self.scores();
        ScoreReport {
            vector: self.vector_string(),
            version: self.version(),
            base: s.base,
            temporal: s.temporal,
            environmental: s.environmental,
            severity: s.base_severity,
            temporal_severity: s.temporal_severity,
            environmental_severity: s.environmental_severity,
            nomenclature: match self {
                Self::V4(v) => Some(v.nomenclature()),
                _ => None,
            },
        }
    }
}

/// A vector and its scores as one serialisable record: what `keikai cvss score` prints and
/// `GET /api/v1/cvss` returns, so that both doors give the same answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
// Schema names carry "Cvss": the API document has one namespace for all crates' types.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema), schema(as = CvssScoreReport))]
pub struct ScoreReport {
    /// The canonical vector (specification order).
    pub vector: String,
    pub version: Version,
    /// The base score; for CVSS 4.0 the one score, whose nomenclature says what it covers.
    pub base: f64,
    /// CVSS 2.0/3.x temporal score (the base score when no temporal metric is defined);
    /// `null` for CVSS 4.0.
    pub temporal: Option<f64>,
    /// CVSS 2.0/3.x environmental score; `null` for CVSS 4.0.
    pub environmental: Option<f64>,
    /// Severity of `base` (CVSS 3.x and 4.0; `null` for 2.0, which has no rating scale).
    pub severity: Option<Severity>,
    pub temporal_severity: Option<Severity>,
    pub environmental_severity: Option<Severity>,
    /// CVSS 4.0 only: `CVSS-B`, `CVSS-BT`, `CVSS-BE` or `CVSS-BTE`.
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>))]
    pub nomenclature: Option<&'static str>,
}

impl fmt::Display for Cvss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::V2(v) => v.fmt(f),
            Self::V3(v) => v.fmt(f),
            Self::V4(v) => v.fmt(f),
        }
    }
}

impl FromStr for Cvss {
    type Err = CvssError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl Serialize for Cvss {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cvss {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

/// CVSS specification version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema), schema(as = CvssVersion))]
pub enum Version {
    #[serde(rename = "2.0")]
    V2_0,
    #[serde(rename = "3.0")]
    V3_0,
    #[serde(rename = "3.1")]
    V3_1,
    #[serde(rename = "4.0")]
    V4_0,
}

impl Version {
    /// The metrics this version defines, in the specification's order.
    pub fn metrics(self) -> &'static [MetricDef] {
        match self {
            Self::V2_0 => &v2::DEFS,
            Self::V3_0 | Self::V3_1 => &v3::DEFS,
            Self::V4_0 => &v4::DEFS,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2_0 => "2.0",
            Self::V3_0 => "3.0",
            Self::V3_1 => "3.1",
            Self::V4_0 => "4.0",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Qualitative severity rating (CVSS 3.x and 4.0), spelled as in FIRST's JSON schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema), schema(as = CvssSeverity))]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// CVSS 3.x rating scale: None 0.0, Low 0.1–3.9, Medium 4.0–6.9, High 7.0–8.9,
/// Critical 9.0–10.0. Scores are expected with one decimal; anything above 0 and below 4.0
/// is Low, and so on (NaN and negatives count as None).
pub fn severity_v3(score: f64) -> Severity {
    if score.is_nan() || score <= 0.0 {
        Severity::None
    } else if score < 4.0 {
        Severity::Low
    } else if score < 7.0 {
        Severity::Medium
    } else if score < 9.0 {
        Severity::High
    } else {
        Severity::Critical
    }
}

/// CVSS 4.0 rating scale; the same bands as [`severity_v3`].
pub fn severity_v4(score: f64) -> Severity {
    severity_v3(score)
}

/// The scores of one vector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    pub base: f64,
    /// v2/v3: always set (equals `base` when no temporal metric is defined); v4: `None`.
    pub temporal: Option<f64>,
    /// v2/v3: always set (not-defined metrics take their defaults); v4: `None`.
    pub environmental: Option<f64>,
    /// v3: severity of `base`; v4: severity of the single v4 score; v2: `None` (the v2 guide
    /// defines no rating scale).
    pub base_severity: Option<Severity>,
    /// v3 only.
    pub temporal_severity: Option<Severity>,
    /// v3 only.
    pub environmental_severity: Option<Severity>,
}

/// Round half up to one decimal, robust against binary floating-point noise.
///
/// The value is first snapped to 5 decimals (as CVSS 3.1's Appendix A does for Roundup) so
/// that e.g. 4.45 computed as 4.4499999999999993 still rounds to 4.5, as the decimal
/// arithmetic the guides assume would.
pub(crate) fn round_half_up_1(x: f64) -> f64 {
    let scaled = (x * 100_000.0).round();
    ((scaled + 5_000.0) / 10_000.0).floor() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_bands() {
        assert_eq!(severity_v3(0.0), Severity::None);
        assert_eq!(severity_v3(0.1), Severity::Low);
        assert_eq!(severity_v3(3.9), Severity::Low);
        assert_eq!(severity_v3(4.0), Severity::Medium);
        assert_eq!(severity_v3(6.9), Severity::Medium);
        assert_eq!(severity_v3(7.0), Severity::High);
        assert_eq!(severity_v3(8.9), Severity::High);
        assert_eq!(severity_v3(9.0), Severity::Critical);
        assert_eq!(severity_v4(10.0), Severity::Critical);
        assert_eq!(severity_v3(f64::NAN), Severity::None);
    }

    #[test]
    fn display_spellings() {
        assert_eq!(Severity::Medium.to_string(), "MEDIUM");
        assert_eq!(Version::V3_1.to_string(), "3.1");
        assert_eq!(Version::V2_0.to_string(), "2.0");
    }

    #[test]
    fn metric_tables_are_public_in_specification_order() {
        let v3: Vec<_> = Version::V3_1
            .metrics()
            .iter()
            .map(MetricDef::abbrev)
            .collect();
        assert_eq!(v3[..8], ["AV", "AC", "PR", "UI", "S", "C", "I", "A"]);
        let av = &Version::V4_0.metrics()[0];
        assert_eq!(
            (av.abbrev(), av.values()),
            ("AV", &["N", "A", "L", "P"][..])
        );
        assert!(av.is_mandatory());
        let e = Version::V4_0.metrics().iter().find(|d| d.abbrev() == "E");
        assert!(e.is_some_and(|e| !e.is_mandatory() && e.values()[0] == "X"));
    }

    #[test]
    fn report_serialises_like_the_cli() {
        let r = parse("CVSS:3.1/AC:L/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P")
            .unwrap()
            .report();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json["vector"],
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P"
        );
        assert_eq!(json["version"], "3.1");
        assert_eq!(json["base"], 9.8);
        assert_eq!(json["temporal"], 9.3); // Roundup(9.8 × 0.94)
        assert_eq!(json["severity"], "CRITICAL");
        assert_eq!(json["nomenclature"], serde_json::Value::Null);
        let r = parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U")
            .unwrap()
            .report();
        assert_eq!((r.temporal, r.nomenclature), (None, Some("CVSS-BT")));
        assert_eq!(r.severity, Some(severity_v4(r.base)));
    }

    #[test]
    fn round_half_up() {
        assert_eq!(round_half_up_1(4.45), 4.5);
        // One ULP below 4.45, as float arithmetic often produces it.
        assert_eq!(round_half_up_1(f64::from_bits(4.45_f64.to_bits() - 1)), 4.5);
        assert_eq!(round_half_up_1(4.44), 4.4);
        assert_eq!(round_half_up_1(-0.0), 0.0);
        assert_eq!(round_half_up_1(10.0), 10.0);
    }
}
