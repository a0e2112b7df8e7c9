//! CVSS 2.0 ("A Complete Guide to the Common Vulnerability Scoring System Version 2.0",
//! FIRST, 2007): vector without prefix, e.g. `AV:N/AC:L/Au:N/C:P/I:P/A:P`.
//!
//! Temporal (E, RL, RC) and environmental (CDP, TD, CR, IR, AR) metrics are optional and may
//! be given individually; absent ones count as `ND` (not defined).

use std::fmt;
use std::str::FromStr;

use crate::metric::{self, MetricDef, Order, mandatory, optional};
use crate::{CvssError, Scores, Version, round_half_up_1};

const AV: usize = 0;
const AC: usize = 1;
const AU: usize = 2;
const C: usize = 3;
const I: usize = 4;
const A: usize = 5;
const E: usize = 6;
const RL: usize = 7;
const RC: usize = 8;
const CDP: usize = 9;
const TD: usize = 10;
const CR: usize = 11;
const IR: usize = 12;
const AR: usize = 13;

const N: usize = 14;

/// The metrics in the guide's order (Table 13), values in the guide's order.
pub(crate) static DEFS: [MetricDef; N] = [
    mandatory("AV", &["L", "A", "N"]),
    mandatory("AC", &["H", "M", "L"]),
    mandatory("Au", &["M", "S", "N"]),
    mandatory("C", &["N", "P", "C"]),
    mandatory("I", &["N", "P", "C"]),
    mandatory("A", &["N", "P", "C"]),
    optional("E", &["U", "POC", "F", "H", "ND"]),
    optional("RL", &["OF", "TF", "W", "U", "ND"]),
    optional("RC", &["UC", "UR", "C", "ND"]),
    optional("CDP", &["N", "L", "LM", "MH", "H", "ND"]),
    optional("TD", &["N", "L", "M", "H", "ND"]),
    optional("CR", &["L", "M", "H", "ND"]),
    optional("IR", &["L", "M", "H", "ND"]),
    optional("AR", &["L", "M", "H", "ND"]),
];

// Weights, indexed like the value lists above; "ND" is the last entry where it exists.
const AV_W: [f64; 3] = [0.395, 0.646, 1.0];
const AC_W: [f64; 3] = [0.35, 0.61, 0.71];
const AU_W: [f64; 3] = [0.45, 0.56, 0.704];
const IMPACT_W: [f64; 3] = [0.0, 0.275, 0.660];
const E_W: [f64; 5] = [0.85, 0.9, 0.95, 1.0, 1.0];
const RL_W: [f64; 5] = [0.87, 0.90, 0.95, 1.0, 1.0];
const RC_W: [f64; 4] = [0.90, 0.95, 1.0, 1.0];
const CDP_W: [f64; 6] = [0.0, 0.1, 0.3, 0.4, 0.5, 0.0];
const TD_W: [f64; 5] = [0.0, 0.25, 0.75, 1.0, 1.0];
const REQ_W: [f64; 4] = [0.5, 1.0, 1.51, 1.0];

/// A valid CVSS 2.0 vector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vector {
    values: [Option<u8>; N],
}

impl Vector {
    pub(crate) fn parse_body(body: &str, order: Order) -> Result<Self, CvssError> {
        metric::parse_body(body, &DEFS, Version::V2_0, order).map(|values| Self { values })
    }

    /// The value code of metric `abbrev` as written (`"ND"` included), if present.
    pub fn metric(&self, abbrev: &str) -> Option<&'static str> {
        metric::lookup(&DEFS, &self.values, abbrev)
    }

    /// Weight of metric `m`; absent optional metrics take the last ("ND") weight.
    fn weight(&self, m: usize, weights: &[f64]) -> f64 {
        let fallback = weights.last().copied().unwrap_or(1.0);
        match self.values[m] {
            Some(code) => weights.get(usize::from(code)).copied().unwrap_or(fallback),
            None => fallback,
        }
    }

    fn exploitability(&self) -> f64 {
        20.0 * self.weight(AV, &AV_W) * self.weight(AC, &AC_W) * self.weight(AU, &AU_W)
    }

    fn temporal_factor(&self) -> f64 {
        self.weight(E, &E_W) * self.weight(RL, &RL_W) * self.weight(RC, &RC_W)
    }

    fn base_from_impact(&self, impact: f64) -> f64 {
        let f_impact = if impact == 0.0 { 0.0 } else { 1.176 };
        round_half_up_1(((0.6 * impact) + (0.4 * self.exploitability()) - 1.5) * f_impact)
    }

    pub fn base_score(&self) -> f64 {
        let impact = 10.41
            * (1.0
                - (1.0 - self.weight(C, &IMPACT_W))
                    * (1.0 - self.weight(I, &IMPACT_W))
                    * (1.0 - self.weight(A, &IMPACT_W)));
        // Positive zero: with no impact the guide's product is -1.5 * 0.
        self.base_from_impact(impact) + 0.0
    }

    pub fn temporal_score(&self) -> f64 {
        round_half_up_1(self.base_score() * self.temporal_factor()) + 0.0
    }

    pub fn environmental_score(&self) -> f64 {
        let adjusted_impact = f64::min(
            10.0,
            10.41
                * (1.0
                    - (1.0 - self.weight(C, &IMPACT_W) * self.weight(CR, &REQ_W))
                        * (1.0 - self.weight(I, &IMPACT_W) * self.weight(IR, &REQ_W))
                        * (1.0 - self.weight(A, &IMPACT_W) * self.weight(AR, &REQ_W))),
        );
        // With low requirements (CR/IR/AR:L) the adjusted impact can fall so far that the
        // guide's base equation goes below zero (e.g. AV:L/AC:H/Au:M/C:P/I:N/A:N/CR:L gives
        // -0.2). Scores range from 0 to 10, so the adjusted base stops at 0.
        let adjusted_base = self.base_from_impact(adjusted_impact).max(0.0);
        let adjusted_temporal = round_half_up_1(adjusted_base * self.temporal_factor());
        let cdp = self.weight(CDP, &CDP_W);
        round_half_up_1(
            (adjusted_temporal + (10.0 - adjusted_temporal) * cdp) * self.weight(TD, &TD_W),
        ) + 0.0
    }

    pub fn scores(&self) -> Scores {
        Scores {
            base: self.base_score(),
            temporal: Some(self.temporal_score()),
            environmental: Some(self.environmental_score()),
            base_severity: None,
            temporal_severity: None,
            environmental_severity: None,
        }
    }
}

impl fmt::Display for Vector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        metric::write_body(f, &DEFS, &self.values, false)
    }
}

impl FromStr for Vector {
    type Err = CvssError;

    /// Parses a CVSS 2.0 vector (no prefix), metrics in any order.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match crate::parse(s)? {
            crate::Cvss::V2(v) => Ok(v),
            other => Err(CvssError::UnexpectedVersion {
                expected: "2.0",
                found: other.version(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guide_examples() {
        // CVE-2002-0392 from the v2 guide, section 3.3.1: base 7.8, temporal 6.4.
        let v: Vector = "AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C".parse().unwrap();
        assert_eq!(v.base_score(), 7.8);
        assert_eq!(v.temporal_score(), 6.4);
        let v: Vector = "AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:H"
            .parse()
            .unwrap();
        assert_eq!(v.environmental_score(), 9.2);
        // CVE-2003-0818, section 3.3.2: base 10.0, temporal 8.3.
        let v: Vector = "AV:N/AC:L/Au:N/C:C/I:C/A:C/E:F/RL:OF/RC:C".parse().unwrap();
        assert_eq!(v.base_score(), 10.0);
        assert_eq!(v.temporal_score(), 8.3);
        let v: Vector = "AV:N/AC:L/Au:N/C:C/I:C/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:L"
            .parse()
            .unwrap();
        assert_eq!(v.environmental_score(), 9.0);
        // CVE-2003-0062, section 3.3.3: base 6.2, temporal 4.9.
        let v: Vector = "AV:L/AC:H/Au:N/C:C/I:C/A:C/E:POC/RL:OF/RC:C"
            .parse()
            .unwrap();
        assert_eq!(v.base_score(), 6.2);
        assert_eq!(v.temporal_score(), 4.9);
        let v: Vector = "AV:L/AC:H/Au:N/C:C/I:C/A:C/E:POC/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:M"
            .parse()
            .unwrap();
        assert_eq!(v.environmental_score(), 7.5);
    }

    /// Found by the property test: the adjusted base went negative and so did the score.
    #[test]
    fn environmental_scores_never_go_below_zero() {
        let v: Vector = "AV:L/AC:H/Au:M/C:P/I:N/A:N/RL:U/RC:UC/CDP:N/TD:M/CR:L/IR:M/AR:ND"
            .parse()
            .unwrap();
        let e = v.environmental_score();
        assert!(e == 0.0 && e.is_sign_positive(), "{e}");
        // Collateral damage still counts on top of the clamped base: (0 + 10 * 0.1) * 1.
        let v: Vector = "AV:L/AC:H/Au:M/C:P/I:N/A:N/CDP:L/TD:H/CR:L"
            .parse()
            .unwrap();
        assert_eq!(v.environmental_score(), 1.0);
    }

    #[test]
    fn no_impact_is_positive_zero() {
        let v: Vector = "AV:L/AC:H/Au:M/C:N/I:N/A:N".parse().unwrap();
        assert!(v.base_score().is_sign_positive());
        assert_eq!(v.base_score(), 0.0);
    }
}
