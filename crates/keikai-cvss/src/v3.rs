//! CVSS 3.0 and 3.1 (FIRST specification documents, sections 7 and 8 and, for 3.1,
//! Appendix A): `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`.
//!
//! Temporal (E, RL, RC) and environmental (CR, IR, AR, MAV … MA) metrics are optional, may be
//! given individually and may be `X` (not defined); absent ones count as `X`.
//!
//! # Roundup in CVSS 3.0
//!
//! Both versions define Roundup as the smallest number with one decimal that is equal to or
//! higher than its input. CVSS 3.1 Appendix A adds how to compute that with binary floating
//! point: round `input × 100 000` to an integer first, so that noise such as
//! 4.6000000000000005 (a value that is exactly 4.6 in decimal arithmetic) does not become 4.7.
//! CVSS 3.0 only gives the mathematical definition, and a naive `ceil(x × 10) / 10` on floats
//! breaks that definition for inputs that are exactly at one decimal. We apply the 3.1 integer
//! method to 3.0 as well because it yields the value the 3.0 equations define in exact
//! arithmetic — which is also what the decimal-arithmetic implementations (Red Hat `cvss`,
//! `cvsslib`) compute. Float-ceiling implementations (e.g. ae-cvss-calculator) are 0.1 higher
//! on some vectors; the crate's tests pin this choice on 20 such 3.0 vectors.

use std::fmt;
use std::str::FromStr;

use crate::metric::{self, MetricDef, Order, mandatory, optional};
use crate::{CvssError, Scores, Version, severity_v3};

const AV: usize = 0;
const AC: usize = 1;
const PR: usize = 2;
const UI: usize = 3;
const S: usize = 4;
const C: usize = 5;
const I: usize = 6;
const A: usize = 7;
const E: usize = 8;
const RL: usize = 9;
const RC: usize = 10;
const CR: usize = 11;
const IR: usize = 12;
const AR: usize = 13;
const MAV: usize = 14;
const MAC: usize = 15;
const MPR: usize = 16;
const MUI: usize = 17;
const MS: usize = 18;
const MC: usize = 19;
const MI: usize = 20;
const MA: usize = 21;

const N: usize = 22;

/// The metrics in the specification's order, values in the specification's order. Every
/// modified metric lists `X` followed by exactly the values of its base metric, so a
/// modified value index minus one is the base value index.
pub(crate) static DEFS: [MetricDef; N] = [
    mandatory("AV", &["N", "A", "L", "P"]),
    mandatory("AC", &["L", "H"]),
    mandatory("PR", &["N", "L", "H"]),
    mandatory("UI", &["N", "R"]),
    mandatory("S", &["U", "C"]),
    mandatory("C", &["H", "L", "N"]),
    mandatory("I", &["H", "L", "N"]),
    mandatory("A", &["H", "L", "N"]),
    optional("E", &["X", "H", "F", "P", "U"]),
    optional("RL", &["X", "U", "W", "T", "O"]),
    optional("RC", &["X", "C", "R", "U"]),
    optional("CR", &["X", "H", "M", "L"]),
    optional("IR", &["X", "H", "M", "L"]),
    optional("AR", &["X", "H", "M", "L"]),
    optional("MAV", &["X", "N", "A", "L", "P"]),
    optional("MAC", &["X", "L", "H"]),
    optional("MPR", &["X", "N", "L", "H"]),
    optional("MUI", &["X", "N", "R"]),
    optional("MS", &["X", "U", "C"]),
    optional("MC", &["X", "H", "L", "N"]),
    optional("MI", &["X", "H", "L", "N"]),
    optional("MA", &["X", "H", "L", "N"]),
];

// Weights, indexed like the value lists above.
const AV_W: [f64; 4] = [0.85, 0.62, 0.55, 0.2];
const AC_W: [f64; 2] = [0.77, 0.44];
const PR_UNCHANGED_W: [f64; 3] = [0.85, 0.62, 0.27];
const PR_CHANGED_W: [f64; 3] = [0.85, 0.68, 0.5];
const UI_W: [f64; 2] = [0.85, 0.62];
const CIA_W: [f64; 3] = [0.56, 0.22, 0.0];
const E_W: [f64; 5] = [1.0, 1.0, 0.97, 0.94, 0.91];
const RL_W: [f64; 5] = [1.0, 1.0, 0.97, 0.96, 0.95];
const RC_W: [f64; 4] = [1.0, 1.0, 0.96, 0.92];
const REQ_W: [f64; 4] = [1.0, 1.5, 1.0, 0.5];

/// Scope value index of "Changed".
const CHANGED: u8 = 1;

/// A valid CVSS 3.0 or 3.1 vector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vector {
    version: Version,
    values: [Option<u8>; N],
}

impl Vector {
    pub(crate) fn parse_body(
        body: &str,
        version: Version,
        order: Order,
    ) -> Result<Self, CvssError> {
        metric::parse_body(body, &DEFS, version, order).map(|values| Self { version, values })
    }

    /// [`Version::V3_0`] or [`Version::V3_1`].
    pub fn version(&self) -> Version {
        self.version
    }

    /// The value code of metric `abbrev` as written (`"X"` included), if present.
    pub fn metric(&self, abbrev: &str) -> Option<&'static str> {
        metric::lookup(&DEFS, &self.values, abbrev)
    }

    /// Value index of metric `m`; absent optional metrics are `X` (index 0). Mandatory
    /// metrics are always present after parsing.
    fn code(&self, m: usize) -> u8 {
        self.values[m].unwrap_or(0)
    }

    /// Effective base value index: the modified metric when defined, else the base metric.
    fn modified(&self, modified: usize, base: usize) -> u8 {
        match self.values[modified] {
            Some(code) if code > 0 => code - 1,
            _ => self.code(base),
        }
    }

    pub fn base_score(&self) -> f64 {
        let changed = self.code(S) == CHANGED;
        let iss = 1.0
            - (1.0 - w(&CIA_W, self.code(C)))
                * (1.0 - w(&CIA_W, self.code(I)))
                * (1.0 - w(&CIA_W, self.code(A)));
        let impact = if changed {
            7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
        } else {
            6.42 * iss
        };
        let exploitability = exploitability(
            changed,
            self.code(AV),
            self.code(AC),
            self.code(PR),
            self.code(UI),
        );
        if impact <= 0.0 {
            0.0
        } else {
            roundup(capped(impact, exploitability, changed))
        }
    }

    fn temporal_factor(&self) -> f64 {
        w(&E_W, self.code(E)) * w(&RL_W, self.code(RL)) * w(&RC_W, self.code(RC))
    }

    pub fn temporal_score(&self) -> f64 {
        roundup(self.base_score() * self.temporal_factor())
    }

    pub fn environmental_score(&self) -> f64 {
        let changed = self.modified(MS, S) == CHANGED;
        let miss = f64::min(
            1.0 - (1.0 - w(&REQ_W, self.code(CR)) * w(&CIA_W, self.modified(MC, C)))
                * (1.0 - w(&REQ_W, self.code(IR)) * w(&CIA_W, self.modified(MI, I)))
                * (1.0 - w(&REQ_W, self.code(AR)) * w(&CIA_W, self.modified(MA, A))),
            0.915,
        );
        let impact = if !changed {
            6.42 * miss
        } else if self.version == Version::V3_0 {
            7.52 * (miss - 0.029) - 3.25 * (miss - 0.02).powi(15)
        } else {
            7.52 * (miss - 0.029) - 3.25 * (miss * 0.9731 - 0.02).powi(13)
        };
        let exploitability = exploitability(
            changed,
            self.modified(MAV, AV),
            self.modified(MAC, AC),
            self.modified(MPR, PR),
            self.modified(MUI, UI),
        );
        if impact <= 0.0 {
            0.0
        } else {
            roundup(roundup(capped(impact, exploitability, changed)) * self.temporal_factor())
        }
    }

    pub fn scores(&self) -> Scores {
        let base = self.base_score();
        let temporal = self.temporal_score();
        let environmental = self.environmental_score();
        Scores {
            base,
            temporal: Some(temporal),
            environmental: Some(environmental),
            base_severity: Some(severity_v3(base)),
            temporal_severity: Some(severity_v3(temporal)),
            environmental_severity: Some(severity_v3(environmental)),
        }
    }
}

/// The exploitability sub-score; privileges weigh more when the scope changes.
fn exploitability(scope_changed: bool, av: u8, ac: u8, pr: u8, ui: u8) -> f64 {
    let pr_weights = if scope_changed {
        &PR_CHANGED_W
    } else {
        &PR_UNCHANGED_W
    };
    8.22 * w(&AV_W, av) * w(&AC_W, ac) * w(pr_weights, pr) * w(&UI_W, ui)
}

/// Impact plus exploitability (times 1.08 when the scope changes), at most 10, not yet
/// rounded.
fn capped(impact: f64, exploitability: f64, scope_changed: bool) -> f64 {
    let sum = impact + exploitability;
    f64::min(if scope_changed { 1.08 * sum } else { sum }, 10.0)
}

fn w(weights: &[f64], code: u8) -> f64 {
    weights.get(usize::from(code)).copied().unwrap_or(0.0)
}

/// CVSS 3.1 Appendix A Roundup, used for both 3.0 and 3.1 (see the module documentation).
pub(crate) fn roundup(input: f64) -> f64 {
    let int_input = (input * 100_000.0).round();
    if int_input % 10_000.0 == 0.0 {
        int_input / 100_000.0
    } else {
        ((int_input / 10_000.0).floor() + 1.0) / 10.0
    }
}

impl fmt::Display for Vector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CVSS:")?;
        f.write_str(self.version.as_str())?;
        metric::write_body(f, &DEFS, &self.values, true)
    }
}

impl FromStr for Vector {
    type Err = CvssError;

    /// Parses a `CVSS:3.0/` or `CVSS:3.1/` vector, metrics in any order.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match crate::parse(s)? {
            crate::Cvss::V3(v) => Ok(v),
            other => Err(CvssError::UnexpectedVersion {
                expected: "3.0 or 3.1",
                found: other.version(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(s: &str) -> (f64, f64, f64) {
        let v: Vector = s.parse().unwrap();
        (v.base_score(), v.temporal_score(), v.environmental_score())
    }

    #[test]
    fn roundup_appendix_a() {
        assert_eq!(roundup(4.000_000_000_000_001), 4.0);
        assert_eq!(roundup(4.02), 4.1);
        assert_eq!(roundup(4.6000000000000005), 4.6);
        assert_eq!(roundup(0.0), 0.0);
    }

    #[test]
    fn specification_examples() {
        // CVSS 3.1 specification, "CVSS v3.1 Examples" document (CVE-2014-0160, Heartbleed).
        assert_eq!(
            scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N").0,
            7.5
        );
        // CVE-2013-1937 (phpMyAdmin reflected XSS), scope changed.
        assert_eq!(
            scores("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N").0,
            6.1
        );
        assert_eq!(
            scores("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F/RL:O/RC:C"),
            (9.8, 9.1, 9.1)
        );
    }

    #[test]
    fn explicit_x_equals_absent() {
        let a = scores("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:L/A:N");
        let b =
            scores("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:L/A:N/E:X/RL:X/RC:X/CR:X/MAV:X/MS:X");
        assert_eq!(a, b);
    }
}
