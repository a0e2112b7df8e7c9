//! CVSS 4.0 (FIRST specification document, sections 7 and 8):
//! `CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N`.
//!
//! The score follows FIRST's calculator (<https://www.first.org/cvss/calculator/4.0>,
//! `cvss_score.js` in FIRSTdotorg/cvss-v4-calculator; Red Hat's `cvss40.js` and Python `cvss`
//! compute the same) step by step, including its floating-point order of operations and the
//! 10⁻⁶ lift before the final rounding, so results are identical: the vector's MacroVector
//! (EQ1–EQ6) gives
//! the score of its highest-severity vector, which is lowered by the mean proportional
//! severity distance to the next lower MacroVectors. There is one score; whether it is a
//! CVSS-B, -BT, -BE or -BTE score depends on which metric groups the vector defines
//! ([`Vector::nomenclature`]). Supplemental metrics never change the score.

use std::fmt;
use std::str::FromStr;

use crate::metric::{self, MetricDef, Order, mandatory, optional};
use crate::{CvssError, Scores, Version, severity_v4};

mod tables;

const AV: usize = 0;
const AC: usize = 1;
const AT: usize = 2;
const PR: usize = 3;
const UI: usize = 4;
const VC: usize = 5;
const VI: usize = 6;
const VA: usize = 7;
const SC: usize = 8;
const SI: usize = 9;
const SA: usize = 10;
const E: usize = 11;
const CR: usize = 12;
const IR: usize = 13;
const AR: usize = 14;
/// Index of the modified counterpart of base metric `m` (AV..SA) is `m + MODIFIED_OFFSET`.
const MODIFIED_OFFSET: usize = 15;
const MSA: usize = 25;

const N: usize = 32;

/// The metrics in the specification's order (Base, Threat, Environmental, Supplemental),
/// values in the specification's order.
pub(crate) static DEFS: [MetricDef; N] = [
    mandatory("AV", &["N", "A", "L", "P"]),
    mandatory("AC", &["L", "H"]),
    mandatory("AT", &["N", "P"]),
    mandatory("PR", &["N", "L", "H"]),
    mandatory("UI", &["N", "P", "A"]),
    mandatory("VC", &["H", "L", "N"]),
    mandatory("VI", &["H", "L", "N"]),
    mandatory("VA", &["H", "L", "N"]),
    mandatory("SC", &["H", "L", "N"]),
    mandatory("SI", &["H", "L", "N"]),
    mandatory("SA", &["H", "L", "N"]),
    optional("E", &["X", "A", "P", "U"]),
    optional("CR", &["X", "H", "M", "L"]),
    optional("IR", &["X", "H", "M", "L"]),
    optional("AR", &["X", "H", "M", "L"]),
    optional("MAV", &["X", "N", "A", "L", "P"]),
    optional("MAC", &["X", "L", "H"]),
    optional("MAT", &["X", "N", "P"]),
    optional("MPR", &["X", "N", "L", "H"]),
    optional("MUI", &["X", "N", "P", "A"]),
    optional("MVC", &["X", "H", "L", "N"]),
    optional("MVI", &["X", "H", "L", "N"]),
    optional("MVA", &["X", "H", "L", "N"]),
    optional("MSC", &["X", "H", "L", "N"]),
    optional("MSI", &["X", "S", "H", "L", "N"]),
    optional("MSA", &["X", "S", "H", "L", "N"]),
    optional("S", &["X", "N", "P"]),
    optional("AU", &["X", "N", "Y"]),
    optional("R", &["X", "A", "U", "I"]),
    optional("V", &["X", "D", "C"]),
    optional("RE", &["X", "L", "M", "H"]),
    optional("U", &["X", "Clear", "Green", "Amber", "Red"]),
];

/// The metrics whose severity distance is measured, in the reference calculator's order
/// (the order matters for floating-point sums). E is not among them: each EQ5 level has
/// exactly one E value, so its distance is always 0.
const DISTANCE_METRICS: [usize; 14] = [AV, PR, UI, AC, AT, VC, VI, VA, SC, SI, SA, CR, IR, AR];

/// A valid CVSS 4.0 vector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vector {
    values: [Option<u8>; N],
}

impl Vector {
    pub(crate) fn parse_body(body: &str, order: Order) -> Result<Self, CvssError> {
        metric::parse_body(body, &DEFS, Version::V4_0, order).map(|values| Self { values })
    }

    /// The value code of metric `abbrev` as written (`"X"` included), if present.
    pub fn metric(&self, abbrev: &str) -> Option<&'static str> {
        metric::lookup(&DEFS, &self.values, abbrev)
    }

    /// Whether metric `m` is given with a value other than `X`.
    fn defined(&self, m: usize) -> bool {
        matches!(self.values[m], Some(code) if code > 0)
    }

    /// "CVSS-B", "CVSS-BT", "CVSS-BE" or "CVSS-BTE": which metric groups the score reflects
    /// (explicit `X` counts as not given).
    pub fn nomenclature(&self) -> &'static str {
        let threat = self.defined(E);
        let environmental = (CR..=MSA).any(|m| self.defined(m));
        match (threat, environmental) {
            (false, false) => "CVSS-B",
            (true, false) => "CVSS-BT",
            (false, true) => "CVSS-BE",
            (true, true) => "CVSS-BTE",
        }
    }

    /// The value used for scoring: the modified metric when defined, `X` of E / CR / IR / AR
    /// as their worst case (A / H), otherwise the metric as given.
    fn effective(&self, m: usize) -> &'static str {
        match m {
            E if !self.defined(E) => "A",
            CR | IR | AR if !self.defined(m) => "H",
            AV..=SA if self.defined(m + MODIFIED_OFFSET) => self.value(m + MODIFIED_OFFSET),
            _ => self.value(m),
        }
    }

    fn value(&self, m: usize) -> &'static str {
        self.values[m].map_or("", |code| metric::value_str(&DEFS[m], code))
    }

    /// EQ1..EQ6 levels (the MacroVector).
    fn macro_vector(&self) -> [u8; 6] {
        let e = |m| self.effective(m);
        let (av, pr, ui) = (e(AV), e(PR), e(UI));
        let eq1 = if av == "N" && pr == "N" && ui == "N" {
            0
        } else if (av == "N" || pr == "N" || ui == "N") && av != "P" {
            1
        } else {
            2
        };
        let eq2 = u8::from(!(e(AC) == "L" && e(AT) == "N"));
        let (vc, vi, va) = (e(VC), e(VI), e(VA));
        let eq3 = if vc == "H" && vi == "H" {
            0
        } else if vc == "H" || vi == "H" || va == "H" {
            1
        } else {
            2
        };
        let eq4 = if e(SI) == "S" || e(SA) == "S" {
            0
        } else if e(SC) == "H" || e(SI) == "H" || e(SA) == "H" {
            1
        } else {
            2
        };
        let eq5 = match e(E) {
            "A" => 0,
            "P" => 1,
            _ => 2,
        };
        let eq6 = u8::from(
            !((e(CR) == "H" && vc == "H")
                || (e(IR) == "H" && vi == "H")
                || (e(AR) == "H" && va == "H")),
        );
        [eq1, eq2, eq3, eq4, eq5, eq6]
    }

    /// The CVSS 4.0 score (0.0–10.0, one decimal).
    pub fn score(&self) -> f64 {
        if [VC, VI, VA, SC, SI, SA]
            .iter()
            .all(|&m| self.effective(m) == "N")
        {
            return 0.0;
        }
        let mv = self.macro_vector();
        let [eq1, eq2, eq3, eq4, eq5, eq6] = mv;
        let Some(value) = lookup(mv) else {
            // Every valid vector has a MacroVector in the table; this is unreachable.
            return 0.0;
        };

        let lower = |i: usize, by: u8| {
            let mut key = mv;
            key[i] += by;
            lookup(key)
        };
        let lower_eq1 = lower(0, 1);
        let lower_eq2 = lower(1, 1);
        let lower_eq3_eq6 = match (eq3, eq6) {
            // 00 can go down to 01 or to 10: take the higher score.
            (0, 0) => match (lower(5, 1), lower(2, 1)) {
                (Some(left), Some(right)) => Some(f64::max(left, right)),
                _ => None,
            },
            (0 | 1, 1) => lower(2, 1),
            (1, 0) => lower(5, 1),
            _ => {
                let mut key = mv;
                key[2] += 1;
                key[5] += 1;
                lookup(key)
            }
        };
        let lower_eq4 = lower(3, 1);
        let lower_eq5 = lower(4, 1);

        let distances = self.distances_to_max(eq1, eq2, eq3, eq4, eq5, eq6);
        let [av, pr, ui, ac, at, vc, vi, va, sc, si, sa, cr, ir, ar] = distances;
        let current_eq1 = av + pr + ui;
        let current_eq2 = ac + at;
        let current_eq3_eq6 = vc + vi + va + cr + ir + ar;
        let current_eq4 = sc + si + sa;

        const STEP: f64 = 0.1;
        let depth = |d: Option<&u8>| d.map_or(f64::NAN, |&d| f64::from(d) * STEP);
        let max_eq1 = depth(tables::MAX_SEVERITY_EQ1.get(usize::from(eq1)));
        let max_eq2 = depth(tables::MAX_SEVERITY_EQ2.get(usize::from(eq2)));
        let max_eq3_eq6 = depth(
            tables::MAX_SEVERITY_EQ3_EQ6
                .get(usize::from(eq3))
                .and_then(|row| row.get(usize::from(eq6)))
                .and_then(Option::as_ref),
        );
        let max_eq4 = depth(tables::MAX_SEVERITY_EQ4.get(usize::from(eq4)));

        let mut existing = 0_u8;
        let mut normalized = |lower: Option<f64>, current: f64, max: f64| {
            lower.map_or(0.0, |lower| {
                existing += 1;
                (value - lower) * (current / max)
            })
        };
        let n1 = normalized(lower_eq1, current_eq1, max_eq1);
        let n2 = normalized(lower_eq2, current_eq2, max_eq2);
        let n3 = normalized(lower_eq3_eq6, current_eq3_eq6, max_eq3_eq6);
        let n4 = normalized(lower_eq4, current_eq4, max_eq4);
        // The EQ5 proportion is always 0 (E has one value per level), but an existing lower
        // EQ5 MacroVector still counts towards the mean.
        let n5 = normalized(lower_eq5, 0.0, 1.0);
        let mean = if existing == 0 {
            0.0
        } else {
            (n1 + n2 + n3 + n4 + n5) / f64::from(existing)
        };
        round_1((value - mean).clamp(0.0, 10.0))
    }

    /// Severity distances from the first highest-severity vector of the MacroVector that is
    /// at least as severe as this vector in every metric (in [`DISTANCE_METRICS`] order).
    fn distances_to_max(&self, eq1: u8, eq2: u8, eq3: u8, eq4: u8, eq5: u8, eq6: u8) -> [f64; 14] {
        let list =
            |table: &'static [&'static [&'static str]], level: u8| -> &'static [&'static str] {
                table.get(usize::from(level)).copied().unwrap_or(&[])
            };
        let eq3_list = tables::MAX_COMPOSED_EQ3
            .get(usize::from(eq3))
            .and_then(|row| row.get(usize::from(eq6)))
            .copied()
            .unwrap_or(&[]);
        let effective_levels = DISTANCE_METRICS.map(|m| level(m, self.effective(m)));
        let mut distances = [0.0; 14];
        for p1 in list(&tables::MAX_COMPOSED_EQ1, eq1) {
            for p2 in list(&tables::MAX_COMPOSED_EQ2, eq2) {
                for p3 in eq3_list {
                    for p4 in list(&tables::MAX_COMPOSED_EQ4, eq4) {
                        for p5 in list(&tables::MAX_COMPOSED_EQ5, eq5) {
                            let parts = [*p1, *p2, *p3, *p4, *p5];
                            for (i, &m) in DISTANCE_METRICS.iter().enumerate() {
                                let max = level(m, max_vector_value(&parts, DEFS[m].abbrev));
                                distances[i] = effective_levels[i] - max;
                            }
                            if distances.iter().all(|&d| d >= 0.0) {
                                return distances;
                            }
                        }
                    }
                }
            }
        }
        // Like the reference calculator, fall back to the last candidate (cannot happen for
        // the FIRST tables).
        distances
    }

    pub fn scores(&self) -> Scores {
        let score = self.score();
        Scores {
            base: score,
            temporal: None,
            environmental: None,
            base_severity: Some(severity_v4(score)),
            temporal_severity: None,
            environmental_severity: None,
        }
    }
}

/// Score of a MacroVector from FIRST's table.
fn lookup(mv: [u8; 6]) -> Option<f64> {
    let key = mv.map(|d| b'0' + d);
    tables::LOOKUP
        .binary_search_by(|(k, _)| k.as_bytes().cmp(&key[..]))
        .ok()
        .and_then(|i| tables::LOOKUP.get(i))
        .map(|(_, score)| *score)
}

/// Value of `abbrev` in partial vectors such as `["AV:N/PR:N/UI:N/", "AC:L/AT:N/", ...]`.
fn max_vector_value(parts: &[&'static str; 5], abbrev: &str) -> &'static str {
    parts
        .iter()
        .flat_map(|part| part.split('/'))
        .find_map(|component| {
            component
                .split_once(':')
                .and_then(|(k, v)| (k == abbrev).then_some(v))
        })
        .unwrap_or("")
}

/// Severity level of a value, in steps of 0.1 (lower is more severe); NaN for a value the
/// reference calculator has no level for, which then never counts as "at least as severe".
fn level(m: usize, value: &str) -> f64 {
    match (m, value) {
        (AV, "N") | (PR, "N") | (UI, "N") | (AC, "L") | (AT, "N") => 0.0,
        (AV, "A") | (PR, "L") | (UI, "P") | (AC, "H") | (AT, "P") => 0.1,
        (AV, "L") | (PR, "H") | (UI, "A") => 0.2,
        (AV, "P") => 0.3,
        (VC | VI | VA, "H") | (CR | IR | AR, "H") | (SI | SA, "S") => 0.0,
        (VC | VI | VA, "L") | (CR | IR | AR, "M") | (SC | SI | SA, "H") => 0.1,
        (VC | VI | VA, "N") | (CR | IR | AR, "L") | (SC | SI | SA, "L") => 0.2,
        (SC | SI | SA, "N") => 0.3,
        _ => f64::NAN,
    }
}

/// Round half up to one decimal as FIRST's calculator does: lifted by 10⁻⁶ first, because
/// the interpolation can land one ULP below an x.x5 tie (5.6499999999999995 for 5.65).
fn round_1(x: f64) -> f64 {
    const EPSILON: f64 = 1e-6;
    ((x + EPSILON) * 10.0).round() / 10.0
}

impl fmt::Display for Vector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CVSS:4.0")?;
        metric::write_body(f, &DEFS, &self.values, true)
    }
}

impl FromStr for Vector {
    type Err = CvssError;

    /// Parses a `CVSS:4.0/` vector, metrics in any order.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match crate::parse(s)? {
            crate::Cvss::V4(v) => Ok(v),
            other => Err(CvssError::UnexpectedVersion {
                expected: "4.0",
                found: other.version(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(s: &str) -> f64 {
        s.parse::<Vector>().unwrap().score()
    }

    #[test]
    fn tables_are_complete_and_sorted() {
        assert_eq!(tables::LOOKUP.len(), 270);
        assert!(tables::LOOKUP.windows(2).all(|w| w[0].0 < w[1].0));
        // Every MacroVector a valid vector can have is in the table.
        for eq1 in 0..3 {
            for eq2 in 0..2 {
                for (eq3, eq6) in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 1)] {
                    for eq4 in 0..3 {
                        for eq5 in 0..3 {
                            assert!(lookup([eq1, eq2, eq3, eq4, eq5, eq6]).is_some());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn specification_examples() {
        // Examples of FIRST's calculator documentation and the reference calculator.
        assert_eq!(
            score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            9.3
        );
        assert_eq!(
            score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A"),
            8.7
        );
        assert_eq!(
            score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"),
            0.0
        );
    }

    #[test]
    fn nomenclature() {
        let base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        let n = |suffix: &str| {
            format!("{base}{suffix}")
                .parse::<Vector>()
                .unwrap()
                .nomenclature()
        };
        assert_eq!(n(""), "CVSS-B");
        assert_eq!(n("/E:X/CR:X"), "CVSS-B");
        assert_eq!(n("/E:P"), "CVSS-BT");
        assert_eq!(n("/MSI:S"), "CVSS-BE");
        assert_eq!(n("/E:U/CR:L/S:P"), "CVSS-BTE");
        assert_eq!(n("/S:P/U:Red"), "CVSS-B");
    }

    #[test]
    fn supplemental_metrics_do_not_change_the_score() {
        let base = "CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:A/VC:L/VI:H/VA:N/SC:L/SI:N/SA:H";
        let with = format!("{base}/S:P/AU:Y/R:I/V:C/RE:H/U:Amber");
        assert_eq!(score(base), score(&with));
    }
}
