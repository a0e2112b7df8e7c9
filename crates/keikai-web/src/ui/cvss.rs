//! The CVSS calculator's pages: the calculator page, and the HTML fragment htmx asks for
//! whenever a metric or the vector changes. What is scored is decided by
//! [`keikai_app::cvss`]; the browser only sends what was picked or typed.
//!
//! The calculator is a reusable component (the `calculator` macro in
//! `templates/cvss_calculator.html`, fed a [`CvssCalculator`]) so that other forms can embed it:
//! its vector field carries the name the embedding form wants, and each answer of
//! `GET /cvss/score` replaces the whole component, so the radios, the vector and the result
//! always come from one parse on the server.

use askama::Template;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::Response;
use keikai_app::cvss::{self, Evaluation, Input, Outcome};
use keikai_cvss::{Cvss, Severity, Version};
use keikai_domain::Locale;
use serde::Deserialize;

pub use keikai_app::cvss::Family as CvssFamily;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::i18n;
use crate::ui::layout::{Page, render};

/// The metrics offered as radio buttons, by group; any other metric of a vector (environmental,
/// supplemental) is kept in hidden fields so that picking a radio does not drop it.
const V3_GROUPS: &[(&str, &[&str])] = &[
    (
        "cvss-group-base",
        &["AV", "AC", "PR", "UI", "S", "C", "I", "A"],
    ),
    ("cvss-group-temporal", &["E", "RL", "RC"]),
];
const V4_GROUPS: &[(&str, &[&str])] = &[
    (
        "cvss-group-base",
        &[
            "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
        ],
    ),
    ("cvss-group-threat", &["E"]),
];
const V3_TEMPORAL: &[&str] = &["E", "RL", "RC"];
const V3_ENVIRONMENTAL: &[&str] = &[
    "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
];

/// The vector field's name when the request does not say (the standalone API-like use).
const DEFAULT_NAME: &str = "vector";

/// The metric groups offered as radio buttons.
fn metric_groups(family: CvssFamily) -> &'static [(&'static str, &'static [&'static str])] {
    match family {
        CvssFamily::V3 => V3_GROUPS,
        CvssFamily::V4 => V4_GROUPS,
    }
}

/// Prefix of the Fluent keys naming metrics and values (`cvss3-av`, `cvss3-av-n`).
fn key_prefix(family: CvssFamily) -> &'static str {
    match family {
        CvssFamily::V3 => "cvss3",
        CvssFamily::V4 => "cvss4",
    }
}

/// Everything the `calculator` macro of `templates/cvss_calculator.html` renders.
pub struct CvssCalculator {
    /// The component's element id (`cvss-<name>`); radio and field ids start with it.
    pub id: String,
    /// The `name` of the vector field, e.g. `cvss_v3` inside a case form.
    pub name: String,
    /// The CVSS version the vector has or, when blank, will have (`3.1`, `3.0`, `4.0`).
    pub version: &'static str,
    /// The vector field's value: canonical when it parsed, else as given.
    pub vector: String,
    pub vector_label: String,
    pub groups: Vec<MetricGroup>,
    /// Metrics of the vector that have no radio buttons, kept as hidden fields.
    pub kept: Vec<KeptMetric>,
    /// `kept` as text (`CR:H/MAV:N`), shown so that nothing is carried along unseen.
    pub kept_text: String,
    pub kept_label: String,
    /// `hx-vals` of the component: what each request repeats besides the fields.
    pub hx_vals: String,
    pub result: CalcResult,
}

pub struct MetricGroup {
    pub legend: String,
    pub metrics: Vec<MetricPicker>,
}

pub struct MetricPicker {
    pub abbrev: &'static str,
    pub label: String,
    /// The radios' `name`: `<vector field name>-<abbrev>`.
    pub field: String,
    pub options: Vec<MetricOption>,
}

pub struct MetricOption {
    pub value: &'static str,
    pub label: String,
    pub id: String,
    pub checked: bool,
}

pub struct KeptMetric {
    pub abbrev: &'static str,
    pub field: String,
    pub value: String,
}

/// The result area: a prompt, an error, or the scores.
pub struct CalcResult {
    /// Shown when nothing has been picked or typed yet.
    pub prompt: Option<String>,
    /// Label and message (naming the metric at fault) when the vector is not valid.
    pub error: Option<(String, String)>,
    pub rows: Vec<ScoreRow>,
    /// CVSS 4.0: `CVSS-B`, `CVSS-BT`, `CVSS-BE` or `CVSS-BTE`.
    pub nomenclature: Option<&'static str>,
}

pub struct ScoreRow {
    /// `base`, `temporal`, `environmental` or `score` (CVSS 4.0): for styling and tests.
    pub kind: &'static str,
    pub label: String,
    /// One decimal, as the specifications write scores.
    pub score: String,
    pub severity: String,
    /// Lower-case severity (`critical`) for the CSS class `sev-<severity>`.
    pub severity_class: &'static str,
}

fn version_metrics(version: Version) -> impl Iterator<Item = &'static str> {
    version.metrics().iter().map(keikai_cvss::MetricDef::abbrev)
}

fn severity_parts(lang: Locale, s: Option<Severity>) -> (String, &'static str) {
    let class = match s {
        Some(Severity::None) | None => "none",
        Some(Severity::Low) => "low",
        Some(Severity::Medium) => "medium",
        Some(Severity::High) => "high",
        Some(Severity::Critical) => "critical",
    };
    match s {
        Some(_) => (i18n::t(lang, &format!("cvss-severity-{class}")), class),
        None => (String::new(), class),
    }
}

fn score_rows(lang: Locale, cvss: &Cvss) -> Vec<ScoreRow> {
    let s = cvss.scores();
    let row = |kind, key: &str, score: f64, severity| {
        let (severity, severity_class) = severity_parts(lang, severity);
        ScoreRow {
            kind,
            label: i18n::t(lang, key),
            score: format!("{score:.1}"),
            severity,
            severity_class,
        }
    };
    if let Cvss::V4(_) = cvss {
        return vec![row("score", "cvss-score", s.base, s.base_severity)];
    }
    let defined = |metrics: &[&str]| {
        metrics
            .iter()
            .any(|m| cvss.metric(m).is_some_and(|v| v != "X"))
    };
    let mut rows = vec![row("base", "cvss-base-score", s.base, s.base_severity)];
    if let Some(t) = s.temporal.filter(|_| defined(V3_TEMPORAL)) {
        rows.push(row(
            "temporal",
            "cvss-temporal-score",
            t,
            s.temporal_severity,
        ));
    }
    if let Some(e) = s.environmental.filter(|_| defined(V3_ENVIRONMENTAL)) {
        rows.push(row(
            "environmental",
            "cvss-environmental-score",
            e,
            s.environmental_severity,
        ));
    }
    rows
}

/// A vector field name the component can carry into ids, selectors and `hx-vals`.
fn check_name(name: &str) -> AppResult<()> {
    let mut chars = name.chars();
    let usable = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if usable {
        Ok(())
    } else {
        Err(AppError::invalid(
            "name",
            format!("name: {name:?} is not a usable field name (letters, digits, _ and -)"),
        ))
    }
}

impl CvssCalculator {
    /// A calculator of `family` whose vector field is named `name` (letters, digits, `_`, `-`;
    /// starting with a letter), showing `vector`, which may be empty or invalid (the error is
    /// then shown in the result area). For forms that embed the calculator.
    pub fn new(lang: Locale, family: CvssFamily, name: &str, vector: &str) -> AppResult<Self> {
        Self::build(
            lang,
            family,
            family.default_version(),
            name,
            Input::Vector(vector.to_owned()),
        )
    }

    /// The calculator for an input; `version` is the one to write when building from metrics.
    fn build(
        lang: Locale,
        family: CvssFamily,
        version: Version,
        name: &str,
        input: Input,
    ) -> AppResult<Self> {
        check_name(name)?;
        let eval = cvss::evaluate(family, version, input)?;
        Ok(Self::render(lang, family, name, eval))
    }

    /// The component showing an evaluation; `name` was checked with [`check_name`].
    fn render(lang: Locale, family: CvssFamily, name: &str, eval: Evaluation) -> Self {
        let id = format!("cvss-{name}");
        let prefix = key_prefix(family);
        let groups: Vec<MetricGroup> = metric_groups(family)
            .iter()
            .map(|(legend, abbrevs)| MetricGroup {
                legend: i18n::t(lang, legend),
                metrics: abbrevs
                    .iter()
                    .filter_map(|a| eval.version.metrics().iter().find(|d| d.abbrev() == *a))
                    .map(|def| {
                        let abbrev = def.abbrev();
                        let lower = abbrev.to_ascii_lowercase();
                        // An optional metric that is not given is "not defined".
                        let current = eval
                            .picked
                            .get(abbrev)
                            .map(String::as_str)
                            .or((!def.is_mandatory()).then_some("X"));
                        MetricPicker {
                            abbrev,
                            label: i18n::t(lang, &format!("{prefix}-{lower}")),
                            field: format!("{name}-{abbrev}"),
                            options: def
                                .values()
                                .iter()
                                .map(|&value| MetricOption {
                                    value,
                                    label: i18n::t(
                                        lang,
                                        &format!("{prefix}-{lower}-{}", value.to_ascii_lowercase()),
                                    ),
                                    id: format!("{id}-{abbrev}-{value}"),
                                    checked: current == Some(value),
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect();
        let shown: Vec<&str> = metric_groups(family)
            .iter()
            .flat_map(|(_, abbrevs)| abbrevs.iter().copied())
            .collect();
        let kept: Vec<KeptMetric> = version_metrics(eval.version)
            .filter(|a| !shown.contains(a))
            .filter_map(|a| {
                eval.picked
                    .get(a)
                    .filter(|v| !v.is_empty())
                    .map(|v| (a, v.clone()))
            })
            .map(|(abbrev, value)| KeptMetric {
                abbrev,
                field: format!("{name}-{abbrev}"),
                value,
            })
            .collect();
        let kept_text = kept
            .iter()
            .map(|k| format!("{}:{}", k.abbrev, k.value))
            .collect::<Vec<_>>()
            .join("/");
        let result = match &eval.outcome {
            Outcome::Empty => CalcResult {
                prompt: Some(i18n::t(lang, "cvss-empty")),
                error: None,
                rows: Vec::new(),
                nomenclature: None,
            },
            Outcome::Invalid(e) => CalcResult {
                prompt: None,
                error: Some((i18n::t(lang, "cvss-invalid"), e.to_string())),
                rows: Vec::new(),
                nomenclature: None,
            },
            Outcome::Scored(cvss) => CalcResult {
                prompt: None,
                error: None,
                rows: score_rows(lang, cvss),
                nomenclature: match cvss {
                    Cvss::V4(v) => Some(v.nomenclature()),
                    _ => None,
                },
            },
        };
        let hx_vals = serde_json::json!({
            "version": eval.version.as_str(),
            "name": name,
            "from": "metrics",
        })
        .to_string();
        Self {
            id,
            name: name.to_owned(),
            version: eval.version.as_str(),
            vector: eval.text,
            vector_label: i18n::t(lang, "cvss-vector"),
            groups,
            kept,
            kept_text,
            kept_label: i18n::t(lang, "cvss-kept"),
            hx_vals,
            result,
        }
    }
}

/// What a `GET /cvss/score` query asks the calculator (see [`score_fragment`]).
struct CalcQuery {
    name: String,
    family: CvssFamily,
    version: Version,
    input: Input,
}

impl CalcQuery {
    fn parse(params: &[(String, String)]) -> AppResult<Self> {
        let get = |k: &str| {
            params
                .iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let name = get("name").unwrap_or(DEFAULT_NAME);
        check_name(name)?;
        let vector = get(name).unwrap_or_default();
        let version = match get("version") {
            Some("3.0") => Version::V3_0,
            Some("3.1") => Version::V3_1,
            Some("4.0") => Version::V4_0,
            // No version: the vector's prefix says, else a blank 3.1 calculator.
            None if vector.trim_start().starts_with("CVSS:4.0/") => Version::V4_0,
            None => Version::V3_1,
            Some(other) => {
                return Err(AppError::invalid(
                    "version",
                    format!("version: {other:?} is not 3.0, 3.1 or 4.0"),
                ));
            }
        };
        let family = CvssFamily::of(version).unwrap_or(CvssFamily::V3);
        let from_metrics = match get("from") {
            Some("metrics") => true,
            Some("vector") => false,
            Some(other) => {
                return Err(AppError::invalid(
                    "from",
                    format!("from: {other:?} is not \"vector\" or \"metrics\""),
                ));
            }
            None => vector.trim().is_empty(),
        };
        let input = if from_metrics {
            let field_prefix = format!("{name}-");
            Input::Metrics(
                params
                    .iter()
                    .filter_map(|(k, v)| {
                        k.strip_prefix(&field_prefix)
                            .map(|abbrev| (abbrev.to_owned(), v.clone()))
                    })
                    .collect(),
            )
        } else {
            Input::Vector(vector.to_owned())
        };
        Ok(Self {
            name: name.to_owned(),
            family,
            version,
            input,
        })
    }
}

// ---------------------------------------------------------------- handlers

#[derive(Template)]
#[template(path = "cvss.html")]
struct CvssPageTemplate {
    page: Page,
    v3: CvssCalculator,
    v4: CvssCalculator,
}

#[derive(Template)]
#[template(
    source = r#"{% import "cvss_calculator.html" as cvss %}{% call cvss::calculator(calc) %}{% endcall %}"#,
    ext = "html"
)]
struct FragmentTemplate {
    calc: CvssCalculator,
}

#[derive(Deserialize)]
pub struct PageQuery {
    v3: Option<String>,
    v4: Option<String>,
}

/// The calculator of `family` named `name`, showing `vector`, for the caller.
fn calculator(
    ctx: &Ctx,
    family: CvssFamily,
    name: &str,
    vector: Option<String>,
) -> AppResult<CvssCalculator> {
    let input = Input::Vector(vector.unwrap_or_default());
    let eval = cvss::calculate(&ctx.caller, family, family.default_version(), input)?;
    Ok(CvssCalculator::render(ctx.lang, family, name, eval))
}

/// `GET /cvss[?v3=…&v4=…]`: both calculators, optionally filled in (a link can carry vectors).
pub async fn page(
    ctx: Ctx,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let tpl = CvssPageTemplate {
        v3: calculator(&ctx, CvssFamily::V3, "v3", q.v3)?,
        v4: calculator(&ctx, CvssFamily::V4, "v4", q.v4)?,
        page: ctx.page("cvss-title"),
    };
    Ok(render(StatusCode::OK, &tpl))
}

/// `GET /cvss/score`: the whole calculator component, re-rendered for what was picked or typed
/// (htmx swaps it in place). Parameters:
///
/// * `version` — `3.1`, `3.0` or `4.0` (default: the vector's, else 3.1);
/// * `name` — the vector field's name (default `vector`), which also names the radios
///   `<name>-<metric>`;
/// * `<name>` — the vector; `<name>-AV`, `<name>-AC`, … — picked metric values;
/// * `from` — `vector` or `metrics`: which of the two to believe (default: the vector when it
///   is not blank).
///
/// An invalid vector is shown in the fragment with a 200, so that htmx swaps it like any other
/// answer; only a malformed request (unknown version, unusable name) is a 422.
pub async fn score_fragment(
    ctx: Ctx,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> AppResult<Response> {
    ctx.signed_in()?;
    let Query(params) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let q = CalcQuery::parse(&params)?;
    let eval = cvss::calculate(&ctx.caller, q.family, q.version, q.input)?;
    let calc = CvssCalculator::render(ctx.lang, q.family, &q.name, eval);
    Ok(render(StatusCode::OK, &FragmentTemplate { calc }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calculator a `GET /cvss/score` query describes, as [`score_fragment`] builds it.
    fn from_query(lang: Locale, params: &[(String, String)]) -> AppResult<CvssCalculator> {
        let q = CalcQuery::parse(params)?;
        CvssCalculator::build(lang, q.family, q.version, &q.name, q.input)
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn checked(calc: &CvssCalculator) -> Vec<String> {
        calc.groups
            .iter()
            .flat_map(|g| &g.metrics)
            .flat_map(|m| {
                m.options
                    .iter()
                    .filter(|o| o.checked)
                    .map(move |o| format!("{}:{}", m.abbrev, o.value))
            })
            .collect()
    }

    #[test]
    fn a_typed_vector_is_scored_and_sets_the_radios() {
        let c = from_query(
            Locale::En,
            &q(&[
                ("version", "3.1"),
                ("vector", " CVSS:3.1/AC:L/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H\n"),
            ]),
        )
        .unwrap();
        assert_eq!(c.vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        let row = &c.result.rows[0];
        assert_eq!(
            (row.kind, row.score.as_str(), row.severity.as_str()),
            ("base", "9.8", "Critical")
        );
        assert_eq!(
            c.result.rows.len(),
            1,
            "no temporal metric, no temporal row"
        );
        assert_eq!(
            checked(&c),
            [
                "AV:N", "AC:L", "PR:N", "UI:N", "S:U", "C:H", "I:H", "A:H", "E:X", "RL:X", "RC:X"
            ]
        );
    }

    #[test]
    fn picked_metrics_build_the_vector_in_specification_order() {
        let c = from_query(
            Locale::Ja,
            &q(&[
                ("version", "4.0"),
                ("name", "cvss_v4"),
                ("from", "metrics"),
                ("cvss_v4", "stale text"),
                ("cvss_v4-VA", "H"),
                ("cvss_v4-AV", "N"),
                ("cvss_v4-AC", "L"),
                ("cvss_v4-AT", "N"),
                ("cvss_v4-PR", "N"),
                ("cvss_v4-UI", "N"),
                ("cvss_v4-VC", "H"),
                ("cvss_v4-VI", "H"),
                ("cvss_v4-SC", "N"),
                ("cvss_v4-SI", "N"),
                ("cvss_v4-SA", "N"),
                ("cvss_v4-E", "X"),
            ]),
        )
        .unwrap();
        assert_eq!(
            c.vector,
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
        );
        assert_eq!(c.id, "cvss-cvss_v4");
        assert_eq!(c.result.rows[0].score, "9.3");
        assert_eq!(c.result.rows[0].severity, "緊急");
        assert_eq!(c.result.nomenclature, Some("CVSS-B"));
        assert_eq!(c.groups[0].metrics[0].label, "攻撃元区分");
    }

    #[test]
    fn missing_and_bad_metrics_are_named_and_the_picks_stay() {
        let c = from_query(
            Locale::En,
            &q(&[("from", "metrics"), ("vector-AV", "N"), ("vector-AC", "H")]),
        )
        .unwrap();
        assert_eq!(c.vector, "CVSS:3.1/AV:N/AC:H");
        let (_, msg) = c.result.error.as_ref().unwrap();
        assert!(msg.contains("PR"), "{msg}");
        assert_eq!(checked(&c)[..2], ["AV:N", "AC:H"]);

        // A field value that is not one of the metric's codes cannot smuggle in a metric.
        let c = from_query(
            Locale::En,
            &q(&[("from", "metrics"), ("vector-AV", "N/E:H")]),
        )
        .unwrap();
        let (_, msg) = c.result.error.as_ref().unwrap();
        assert!(msg.contains("metric AV has invalid value"), "{msg}");

        let c = from_query(
            Locale::En,
            &q(&[("vector", "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")]),
        )
        .unwrap();
        assert!(c.result.error.as_ref().unwrap().1.contains("AV"));
        assert_eq!(c.vector, "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        // The radios follow what is readable; AV:Q selects nothing.
        assert_eq!(checked(&c)[..2], ["AC:L", "PR:N"]);
    }

    #[test]
    fn a_vector_of_the_other_family_is_refused() {
        let c = CvssCalculator::new(
            Locale::En,
            CvssFamily::V3,
            "cvss_v3",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        )
        .unwrap();
        let (_, msg) = c.result.error.unwrap();
        assert!(msg.contains("expected a CVSS 3.0 or 3.1 vector"), "{msg}");
    }

    #[test]
    fn temporal_and_kept_environmental_metrics() {
        let c = CvssCalculator::new(
            Locale::En,
            CvssFamily::V3,
            "cvss_v3",
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F/RL:O/RC:C/CR:H",
        )
        .unwrap();
        assert_eq!(c.version, "3.0");
        let rows: Vec<_> = c
            .result
            .rows
            .iter()
            .map(|r| (r.kind, r.score.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("base", "9.8"),
                ("temporal", "9.1"),
                ("environmental", "9.1")
            ]
        );
        assert_eq!(c.kept_text, "CR:H");
        assert_eq!(c.kept[0].field, "cvss_v3-CR");
        // Picking a radio afterwards keeps CR (sent back from its hidden field) and the version.
        let again = from_query(
            Locale::En,
            &q(&[
                ("version", "3.0"),
                ("name", "cvss_v3"),
                ("from", "metrics"),
                ("cvss_v3-AV", "L"),
                ("cvss_v3-AC", "L"),
                ("cvss_v3-PR", "N"),
                ("cvss_v3-UI", "N"),
                ("cvss_v3-S", "U"),
                ("cvss_v3-C", "H"),
                ("cvss_v3-I", "H"),
                ("cvss_v3-A", "H"),
                ("cvss_v3-CR", "H"),
            ]),
        )
        .unwrap();
        assert_eq!(
            again.vector,
            "CVSS:3.0/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:H"
        );
    }

    #[test]
    fn blank_and_malformed_requests() {
        let c = from_query(Locale::En, &[]).unwrap();
        assert!(c.result.prompt.is_some() && c.vector.is_empty());
        assert_eq!(c.version, "3.1");
        for bad in [
            q(&[("version", "2.0")]),
            q(&[("version", "9")]),
            q(&[("name", "x\"><script>")]),
            q(&[("from", "somewhere")]),
        ] {
            let e = from_query(Locale::En, &bad).err().unwrap();
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
    }
}
