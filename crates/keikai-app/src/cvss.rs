//! The CVSS calculator: what a vector scores, and which vector the metrics someone picked
//! make. All scoring is `keikai_cvss`'s; this decides what to score. The pages render an
//! [`Evaluation`] (radios, the vector field, the result); the API returns a score report.
//!
//! The calculator is a triage tool for internal staff ([`Action::ScoreCvss`]). Forms that
//! embed it (a case's vulnerability, an advisory's scores) evaluate with [`evaluate`], having
//! asked their own use case's policy already.

use std::collections::HashMap;

use keikai_cvss::{Cvss, CvssError, MetricDef, Version};
use keikai_domain::Action;

use crate::{Caller, Error, Result};

/// Which calculator: the metrics of CVSS 3.x or of CVSS 4.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V3,
    V4,
}

impl Family {
    /// The family of a version (CVSS 2.0 has no calculator).
    pub fn of(version: Version) -> Option<Self> {
        match version {
            Version::V3_0 | Version::V3_1 => Some(Self::V3),
            Version::V4_0 => Some(Self::V4),
            Version::V2_0 => None,
        }
    }

    /// The version a blank calculator writes.
    pub fn default_version(self) -> Version {
        match self {
            Self::V3 => Version::V3_1,
            Self::V4 => Version::V4_0,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Self::V3 => "3.0 or 3.1",
            Self::V4 => "4.0",
        }
    }
}

/// What the calculator is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A vector as typed or stored (may be empty).
    Vector(String),
    /// Metric abbreviation → value code, as picked.
    Metrics(HashMap<String, String>),
}

/// What one evaluation found: the version to show, the vector field's text, the metrics to
/// show as picked, and the outcome.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub version: Version,
    /// Canonical when the vector parsed, else as given (trimmed).
    pub text: String,
    /// Metric abbreviation → value code: what the vector states, as far as it can be read.
    pub picked: HashMap<String, String>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// Nothing typed or picked yet.
    Empty,
    /// The error names the metric at fault.
    Invalid(CvssError),
    Scored(Cvss),
}

/// Scores a vector of any version, for a caller who may use the calculator.
pub fn score(who: &Caller, vector: &str) -> Result<Cvss> {
    who.require(Action::ScoreCvss)?;
    keikai_cvss::parse(vector).map_err(|e| Error::invalid("vector", format!("vector: {e}")))
}

/// [`evaluate`] for a caller who may use the calculator.
pub fn calculate(
    who: &Caller,
    family: Family,
    version: Version,
    input: Input,
) -> Result<Evaluation> {
    who.require(Action::ScoreCvss)?;
    evaluate(family, version, input)
}

/// What the calculator shows for an input: `version` is the one to write when building a
/// vector from picked metrics, and must be of `family`. An invalid vector is an outcome, not
/// an error: the calculator shows what is wrong with it.
pub fn evaluate(family: Family, version: Version, input: Input) -> Result<Evaluation> {
    if Family::of(version) != Some(family) {
        return Err(Error::invalid(
            "version",
            format!("version: CVSS {version} is not offered by this calculator"),
        ));
    }
    let (text, picked, parsed) = match input {
        Input::Vector(text) => {
            // Pasted vectors often bring a trailing newline or space; the API stays strict.
            let text = text.trim().to_owned();
            if text.is_empty() {
                (text, HashMap::new(), None)
            } else {
                let parsed =
                    keikai_cvss::parse(&text).and_then(|c| match Family::of(c.version()) {
                        Some(f) if f == family => Ok(c),
                        _ => Err(CvssError::UnexpectedVersion {
                            expected: family.expected(),
                            found: c.version(),
                        }),
                    });
                let picked = lenient_picks(version, &text);
                (text, picked, Some(parsed))
            }
        }
        Input::Metrics(picked) => match vector_from_metrics(version, &picked) {
            Ok(None) => (String::new(), picked, None),
            Ok(Some(text)) => {
                let parsed = keikai_cvss::parse(&text);
                (text, picked, Some(parsed))
            }
            Err(e) => (String::new(), picked, Some(Err(e))),
        },
    };
    Ok(match parsed {
        None => Evaluation {
            version,
            text,
            picked,
            outcome: Outcome::Empty,
        },
        Some(Err(e)) => Evaluation {
            version,
            text,
            picked,
            outcome: Outcome::Invalid(e),
        },
        Some(Ok(cvss)) => {
            let picked = cvss
                .version()
                .metrics()
                .iter()
                .map(MetricDef::abbrev)
                .filter_map(|abbrev| {
                    cvss.metric(abbrev)
                        .map(|v| (abbrev.to_owned(), v.to_owned()))
                })
                .collect();
            Evaluation {
                version: cvss.version(),
                text: cvss.vector_string(),
                picked,
                outcome: Outcome::Scored(cvss),
            }
        }
    })
}

/// `code` if it is one of the metric's value codes: only those go into a built vector, so a
/// crafted field value cannot smuggle in other metrics (`N/E:H`).
fn checked_value(def: &'static MetricDef, code: &str) -> Result<&'static str, CvssError> {
    def.values()
        .iter()
        .copied()
        .find(|v| *v == code)
        .ok_or_else(|| CvssError::InvalidValue {
            metric: def.abbrev(),
            value: code.to_owned(),
            expected: def.values(),
        })
}

/// Builds the vector string from picked metrics, in the specification's order; "not defined"
/// values are left out, as FIRST's calculators do. `None` when nothing is picked.
fn vector_from_metrics(
    version: Version,
    picked: &HashMap<String, String>,
) -> Result<Option<String>, CvssError> {
    let mut out = format!("CVSS:{version}");
    let mut any = false;
    for def in version.metrics() {
        let Some(code) = picked.get(def.abbrev()).filter(|c| !c.is_empty()) else {
            continue;
        };
        let code = checked_value(def, code)?;
        if !def.is_mandatory() && code == "X" {
            continue;
        }
        out.push('/');
        out.push_str(def.abbrev());
        out.push(':');
        out.push_str(code);
        any = true;
    }
    Ok(any.then_some(out))
}

/// The metrics a vector that may not parse states plainly (a known metric with one of its
/// values), so that the radios follow a half-typed or broken vector as far as it goes.
fn lenient_picks(version: Version, text: &str) -> HashMap<String, String> {
    text.split('/')
        .filter_map(|component| component.split_once(':'))
        .filter_map(|(metric, value)| {
            let def = version.metrics().iter().find(|d| d.abbrev() == metric)?;
            def.values()
                .contains(&value)
                .then(|| (metric.to_owned(), value.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picks(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn picked_metrics_make_a_vector_in_specification_order() {
        let v = vector_from_metrics(
            Version::V3_1,
            &picks(&[("AC", "L"), ("AV", "N"), ("E", "X"), ("RL", "")]),
        )
        .unwrap();
        assert_eq!(v.as_deref(), Some("CVSS:3.1/AV:N/AC:L"));
        assert_eq!(
            vector_from_metrics(Version::V4_0, &picks(&[])).unwrap(),
            None
        );
        let e = vector_from_metrics(Version::V3_1, &picks(&[("AV", "N/E:H")])).unwrap_err();
        assert!(e.to_string().contains("AV"), "{e}");
    }

    #[test]
    fn a_broken_vector_keeps_what_can_be_read() {
        let p = lenient_picks(Version::V3_1, "CVSS:3.1/AV:Q/AC:L/PR:N/XX:Y");
        assert_eq!(p, picks(&[("AC", "L"), ("PR", "N")]));
    }

    #[test]
    fn a_vector_of_the_other_family_is_an_invalid_outcome() {
        let e = evaluate(
            Family::V3,
            Version::V3_1,
            Input::Vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into()),
        )
        .unwrap();
        assert!(matches!(
            e.outcome,
            Outcome::Invalid(CvssError::UnexpectedVersion { .. })
        ));
        let wrong = evaluate(Family::V4, Version::V3_1, Input::Vector(String::new()));
        assert_eq!(wrong.unwrap_err().field(), Some("version"));
    }

    #[test]
    fn only_internal_staff_use_the_calculator() {
        assert_eq!(
            score(
                &Caller::anonymous(),
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
            )
            .unwrap_err(),
            Error::Unauthenticated
        );
        let e = score(&Caller::system(), "nonsense");
        assert!(matches!(e, Err(Error::Forbidden(_))), "{e:?}");
    }
}
