//! Table-driven parsing and writing shared by all versions: each version is a list of metric
//! definitions in specification order, and a vector is one optional value index per metric.

use std::fmt;

use crate::{CvssError, Version};

/// One metric of a version: its abbreviation, its value codes and whether it is mandatory.
#[derive(Debug)]
pub struct MetricDef {
    pub(crate) abbrev: &'static str,
    pub(crate) values: &'static [&'static str],
    pub(crate) mandatory: bool,
}

impl MetricDef {
    /// The abbreviation as written in vectors (`AV`).
    pub fn abbrev(&self) -> &'static str {
        self.abbrev
    }

    /// The value codes in the specification's order (`N`, `A`, `L`, `P`); optional metrics
    /// include their "not defined" code (`X` first; `ND` last in CVSS 2.0).
    pub fn values(&self) -> &'static [&'static str] {
        self.values
    }

    /// Whether every vector of the version must define the metric (the base metrics).
    pub fn is_mandatory(&self) -> bool {
        self.mandatory
    }
}

pub(crate) const fn mandatory(abbrev: &'static str, values: &'static [&'static str]) -> MetricDef {
    MetricDef {
        abbrev,
        values,
        mandatory: true,
    }
}

pub(crate) const fn optional(abbrev: &'static str, values: &'static [&'static str]) -> MetricDef {
    MetricDef {
        abbrev,
        values,
        mandatory: false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Any,
    Canonical,
}

/// Parses `AV:N/AC:L/...` (without prefix) into one value index per metric of `defs`.
pub(crate) fn parse_body<const N: usize>(
    body: &str,
    defs: &'static [MetricDef; N],
    version: Version,
    order: Order,
) -> Result<[Option<u8>; N], CvssError> {
    if body.is_empty() {
        return Err(CvssError::NoMetrics { version });
    }
    let mut values = [None; N];
    let mut last: Option<usize> = None;
    for (position, component) in body.split('/').enumerate() {
        if component.is_empty() {
            return Err(CvssError::EmptyComponent {
                version,
                position: position + 1,
            });
        }
        let Some((name, value)) = component.split_once(':') else {
            return Err(CvssError::MalformedComponent {
                component: component.to_owned(),
            });
        };
        let Some(index) = defs.iter().position(|d| d.abbrev == name) else {
            return Err(CvssError::UnknownMetric {
                version,
                metric: name.to_owned(),
            });
        };
        let def = &defs[index];
        if values[index].is_some() {
            return Err(CvssError::DuplicateMetric { metric: def.abbrev });
        }
        // Value lists have at most 6 entries, so the index always fits in a u8.
        let Some(code) = def
            .values
            .iter()
            .position(|v| *v == value)
            .and_then(|c| u8::try_from(c).ok())
        else {
            return Err(CvssError::InvalidValue {
                metric: def.abbrev,
                value: value.to_owned(),
                expected: def.values,
            });
        };
        if order == Order::Canonical
            && let Some(prev) = last
            && prev > index
        {
            return Err(CvssError::OutOfOrder {
                version,
                metric: def.abbrev,
                after: defs[prev].abbrev,
            });
        }
        last = Some(index);
        values[index] = Some(code);
    }
    if let Some(def) = defs
        .iter()
        .zip(&values)
        .find_map(|(def, value)| (def.mandatory && value.is_none()).then_some(def))
    {
        return Err(CvssError::MissingMetric { metric: def.abbrev });
    }
    Ok(values)
}

/// Writes the present metrics in specification order, each preceded by `/` except the first
/// when `leading_slash` is false (CVSS 2.0 has no prefix).
pub(crate) fn write_body<const N: usize>(
    f: &mut fmt::Formatter<'_>,
    defs: &'static [MetricDef; N],
    values: &[Option<u8>; N],
    leading_slash: bool,
) -> fmt::Result {
    let mut slash = leading_slash;
    for (def, value) in defs.iter().zip(values) {
        if let Some(code) = value {
            if slash {
                f.write_str("/")?;
            }
            slash = true;
            f.write_str(def.abbrev)?;
            f.write_str(":")?;
            f.write_str(value_str(def, *code))?;
        }
    }
    Ok(())
}

/// The value code of metric `abbrev`, as written, if present.
pub(crate) fn lookup<const N: usize>(
    defs: &'static [MetricDef; N],
    values: &[Option<u8>; N],
    abbrev: &str,
) -> Option<&'static str> {
    let index = defs.iter().position(|d| d.abbrev == abbrev)?;
    values[index].map(|code| value_str(&defs[index], code))
}

pub(crate) fn value_str(def: &MetricDef, code: u8) -> &'static str {
    def.values.get(usize::from(code)).copied().unwrap_or("")
}
