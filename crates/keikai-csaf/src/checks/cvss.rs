//! The CVSS tests: 6.1.8 (CVSS object valid against FIRST's schema), 6.1.9 (scores and
//! severities computed correctly), 6.1.10 (properties do not contradict the vector) and 6.2.19
//! (CVSS for fixed products).

use std::sync::LazyLock;

use serde_json::Value;

use super::{Ctx, arr, quote, str_of, strs};
use crate::finding::Finding;
use crate::model::cvss::{V2, V3};

/// The `cvss_v2` / `cvss_v3` objects of every score with their pointers.
fn cvss_objects<'a>(ctx: &Ctx<'a>) -> Vec<(String, &'static str, &'a Value)> {
    let mut out = Vec::new();
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        for (si, s) in arr(v.get("scores")).iter().enumerate() {
            for key in ["cvss_v2", "cvss_v3"] {
                if let Some(c) = s.get(key) {
                    out.push((format!("/vulnerabilities/{vi}/scores/{si}/{key}"), key, c));
                }
            }
        }
    }
    out
}

// --- 6.1.8 -----------------------------------------------------------------------------------

struct CvssSchemas {
    v2: Option<jsonschema::Validator>,
    v30: Option<jsonschema::Validator>,
    v31: Option<jsonschema::Validator>,
}

fn compile(text: &str) -> Option<jsonschema::Validator> {
    let schema: Value = serde_json::from_str(text).ok()?;
    jsonschema::validator_for(&schema).ok()
}

/// FIRST's CVSS schemas as the CSAF schema references them (non-strict: other properties are
/// test 6.2.20's business). The files are the ones `src/schema.rs` embeds.
static CVSS_SCHEMAS: LazyLock<CvssSchemas> = LazyLock::new(|| CvssSchemas {
    v2: compile(include_str!("../../schemas/cvss-v2.0.json")),
    v30: compile(include_str!("../../schemas/cvss-v3.0.json")),
    v31: compile(include_str!("../../schemas/cvss-v3.1.json")),
});

/// 6.1.8 Invalid CVSS: each CVSS object is valid against the schema it references.
pub(crate) fn t_6_1_8(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let schemas = &*CVSS_SCHEMAS;
    for (path, key, obj) in cvss_objects(ctx) {
        let validator = if key == "cvss_v2" {
            schemas.v2.as_ref()
        } else {
            // `cvss_v3` is oneOf 3.0 / 3.1; their `version` enums exclude each other, so the
            // one the object claims (or its vector's prefix) gives the useful error messages.
            let v30 = str_of(obj, "version") == Some("3.0")
                || (str_of(obj, "version").is_none()
                    && str_of(obj, "vectorString").is_some_and(|s| s.starts_with("CVSS:3.0/")));
            if v30 {
                schemas.v30.as_ref()
            } else {
                schemas.v31.as_ref()
            }
        };
        let Some(validator) = validator else { continue };
        for e in validator.iter_errors(obj) {
            out.push(Finding::error(
                "6.1.8",
                format!("{path}{}", e.instance_path()),
                format!("{key} is not valid against the CVSS schema: {e}"),
            ));
        }
    }
}

// --- 6.1.9 -----------------------------------------------------------------------------------

fn same_score(given: f64, expected: f64) -> bool {
    (given - expected).abs() < 1e-6
}

/// 6.1.9 Invalid CVSS computation: scores and severities that are given equal the values
/// computed from `vectorString` (the vector takes precedence, so its version decides the
/// equations). Vectors that do not parse are left to 6.1.8.
pub(crate) fn t_6_1_9(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (path, key, obj) in cvss_objects(ctx) {
        let Some(vector) = str_of(obj, "vectorString") else {
            continue;
        };
        let Ok(cvss) = keikai_cvss::parse(vector) else {
            continue;
        };
        let is_v2 = cvss.version() == keikai_cvss::Version::V2_0;
        if is_v2 != (key == "cvss_v2") || cvss.version() == keikai_cvss::Version::V4_0 {
            continue;
        }
        let scores = cvss.scores();
        let checks = [
            (
                "baseScore",
                Some(scores.base),
                "baseSeverity",
                scores.base_severity,
            ),
            (
                "temporalScore",
                scores.temporal,
                "temporalSeverity",
                scores.temporal_severity,
            ),
            (
                "environmentalScore",
                scores.environmental,
                "environmentalSeverity",
                scores.environmental_severity,
            ),
        ];
        for (score_key, expected, severity_key, expected_severity) in checks {
            if let (Some(given), Some(expected)) =
                (obj.get(score_key).and_then(Value::as_f64), expected)
                && !same_score(given, expected)
            {
                out.push(Finding::error(
                    "6.1.9",
                    format!("{path}/{score_key}"),
                    format!(
                        "{score_key} is {given} but the vector {} gives {expected:.1}",
                        quote(vector)
                    ),
                ));
            }
            if is_v2 {
                continue;
            }
            if let (Some(given), Some(expected)) = (str_of(obj, severity_key), expected_severity)
                && given != expected.as_str()
            {
                out.push(Finding::error(
                    "6.1.9",
                    format!("{path}/{severity_key}"),
                    format!(
                        "{severity_key} is {} but the vector {} gives {}",
                        quote(given),
                        quote(vector),
                        expected.as_str()
                    ),
                ));
            }
        }
    }
}

// --- 6.1.10 ----------------------------------------------------------------------------------

/// The components of a vector as `(abbrev, code)`, without the `CVSS:3.x` prefix.
fn components(vector: &str) -> impl Iterator<Item = (&str, &str)> {
    vector
        .split('/')
        .filter(|c| !c.starts_with("CVSS:"))
        .filter_map(|c| c.split_once(':'))
}

/// 6.1.10 Inconsistent CVSS: properties that are present do not contradict the metrics the
/// vector gives; properties that are absent never contradict (the csaf-rs/csaf#634 trap).
pub(crate) fn t_6_1_10(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (path, key, obj) in cvss_objects(ctx) {
        let Some(vector) = str_of(obj, "vectorString") else {
            continue;
        };
        let table = if key == "cvss_v2" { V2 } else { V3 };
        if key == "cvss_v3"
            && let Some(version) = str_of(obj, "version")
            && let Some(prefix) = vector
                .split('/')
                .next()
                .and_then(|p| p.strip_prefix("CVSS:"))
            && matches!(prefix, "3.0" | "3.1")
            && matches!(version, "3.0" | "3.1")
            && prefix != version
        {
            out.push(Finding::error(
                "6.1.10",
                format!("{path}/version"),
                format!(
                    "version is {} but the vector is CVSS {prefix}",
                    quote(version)
                ),
            ));
        }
        for m in table {
            let Some(given) = str_of(obj, m.property) else {
                continue;
            };
            let Some(&(_, given_code)) = m.values.iter().find(|(v, _)| *v == given) else {
                continue;
            };
            // A metric the vector omits is not contradicted: the OASIS corpus (6-2-19-*) gives
            // environmental metrics only as properties, next to a base-only vector.
            let Some(expected) = components(vector)
                .find(|(a, _)| *a == m.abbrev)
                .map(|(_, c)| c)
            else {
                continue;
            };
            if given_code != expected {
                let expected_value = m
                    .values
                    .iter()
                    .find(|(_, c)| *c == expected)
                    .map_or(expected, |(v, _)| v);
                out.push(Finding::error(
                    "6.1.10",
                    format!("{path}/{}", m.property),
                    format!(
                        "{} is {} but the vector {} says {}:{expected} ({expected_value})",
                        m.property,
                        quote(given),
                        quote(vector),
                        m.abbrev
                    ),
                ));
            }
        }
    }
}

// --- 6.2.19 ----------------------------------------------------------------------------------

/// The environmental score a CVSS object gives, computed from its vector completed with the
/// properties for environmental metrics the vector omits; `None` when it cannot be computed.
fn environmental_score(key: &str, obj: &Value) -> Option<f64> {
    let vector = str_of(obj, "vectorString")?;
    let table = if key == "cvss_v2" { V2 } else { V3 };
    let mut full = vector.to_owned();
    for m in table.iter().filter(|m| !m.base) {
        if components(vector).any(|(a, _)| a == m.abbrev) {
            continue;
        }
        if let Some(&(_, code)) =
            str_of(obj, m.property).and_then(|p| m.values.iter().find(|(v, _)| *v == p))
        {
            full.push('/');
            full.push_str(m.abbrev);
            full.push(':');
            full.push_str(code);
        }
    }
    keikai_cvss::parse(&full).ok()?.scores().environmental
}

/// 6.2.19 CVSS for Fixed Products: a score covering a product in `first_fixed` / `fixed` has
/// an environmental score of 0 (given, and as computed from the vector).
pub(crate) fn t_6_2_19(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let Some(ps) = v.get("product_status") else {
            continue;
        };
        let fixed: Vec<&str> = strs(ps.get("first_fixed"))
            .chain(strs(ps.get("fixed")))
            .map(|(_, p)| p)
            .collect();
        if fixed.is_empty() {
            continue;
        }
        for (si, s) in arr(v.get("scores")).iter().enumerate() {
            let Some((_, product)) = strs(s.get("products")).find(|(_, p)| fixed.contains(p))
            else {
                continue;
            };
            for key in ["cvss_v2", "cvss_v3"] {
                let Some(obj) = s.get(key) else { continue };
                let given = obj.get("environmentalScore").and_then(Value::as_f64);
                let computed = environmental_score(key, obj);
                let zero = given.is_none_or(|g| g == 0.0) && computed.is_some_and(|c| c == 0.0);
                if !zero {
                    let shown = given
                        .or(computed)
                        .map_or_else(|| "not computable".to_owned(), |x| format!("{x:.1}"));
                    out.push(Finding::warning(
                        "6.2.19",
                        format!("/vulnerabilities/{vi}/scores/{si}/{key}"),
                        format!("{} is listed as fixed, but the environmental score of this {key} is {shown} instead of 0", quote(product)),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::run_alone as run;
    use super::*;
    use serde_json::json;

    fn doc_with(cvss: Value) -> Value {
        json!({"vulnerabilities": [{"scores": [{"products": ["P"], "cvss_v3": cvss}],
                                    "product_status": {"fixed": ["P"]}}]})
    }

    #[test]
    fn schemas_compile() {
        assert!(
            CVSS_SCHEMAS.v2.is_some() && CVSS_SCHEMAS.v30.is_some() && CVSS_SCHEMAS.v31.is_some()
        );
    }

    #[test]
    fn invalid_cvss_object_points_into_it() {
        let doc = doc_with(
            json!({"version": "3.1", "vectorString": "CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", "baseScore": 6.5}),
        );
        let f = run(t_6_1_8, &doc);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].path, "/vulnerabilities/0/scores/0/cvss_v3");
    }

    #[test]
    fn wrong_computation_is_found() {
        let doc = doc_with(
            json!({"version": "3.1", "vectorString": "CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", "baseScore": 10.0, "baseSeverity": "LOW"}),
        );
        let paths: Vec<String> = run(t_6_1_9, &doc).into_iter().map(|f| f.path).collect();
        assert_eq!(
            paths,
            [
                "/vulnerabilities/0/scores/0/cvss_v3/baseScore",
                "/vulnerabilities/0/scores/0/cvss_v3/baseSeverity"
            ]
        );
        let ok = doc_with(
            json!({"version": "3.1", "vectorString": "CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", "baseScore": 6.5, "baseSeverity": "MEDIUM", "temporalScore": 6.5, "environmentalScore": 6.5}),
        );
        assert!(run(t_6_1_9, &ok).is_empty());
    }

    #[test]
    fn only_present_properties_can_contradict() {
        let minimal = doc_with(
            json!({"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL"}),
        );
        assert!(run(t_6_1_10, &minimal).is_empty());
        let bad = doc_with(
            json!({"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL",
            "attackVector": "LOCAL", "scope": "CHANGED", "availabilityImpact": "LOW", "exploitCodeMaturity": "HIGH"}),
        );
        let props: Vec<String> = run(t_6_1_10, &bad)
            .into_iter()
            .map(|f| f.path.rsplit('/').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(props, ["attackVector", "scope", "availabilityImpact"]);
    }

    #[test]
    fn fixed_products_need_a_zero_environmental_score() {
        let doc = doc_with(
            json!({"version": "3.1", "vectorString": "CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", "baseScore": 6.5, "baseSeverity": "MEDIUM"}),
        );
        assert_eq!(run(t_6_2_19, &doc).len(), 1);
        let zero = doc_with(
            json!({"version": "3.1", "vectorString": "CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H/MC:N/MI:N/MA:N", "baseScore": 6.5, "baseSeverity": "MEDIUM", "environmentalScore": 0}),
        );
        assert!(run(t_6_2_19, &zero).is_empty());
        let by_properties = doc_with(
            json!({"version": "3.1", "vectorString": "CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H", "baseScore": 6.5, "baseSeverity": "MEDIUM",
            "modifiedConfidentialityImpact": "NONE", "modifiedIntegrityImpact": "NONE", "modifiedAvailabilityImpact": "NONE"}),
        );
        assert!(run(t_6_2_19, &by_properties).is_empty());
    }
}
