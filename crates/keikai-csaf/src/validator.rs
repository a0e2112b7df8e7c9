//! The CSAF 2.0 validator: the JSON schema plus the tests of section 6, grouped in the presets
//! of the conformance targets "basic", "extended" and "full validator" (section 9.1.14-16).
//!
//! ```
//! use keikai_csaf::{Preset, ValidationOptions, validate};
//! let doc = serde_json::json!({"document": {"category": "csaf_vex"}});
//! let report = validate(&doc, &ValidationOptions { preset: Preset::Basic, ..Default::default() });
//! assert!(!report.valid);
//! assert!(report.findings.iter().any(|f| f.test_id == "6.1.27.11"));
//! ```

use serde::Serialize;
use serde_json::Value;

use crate::checks::{Ctx, Group, TESTS};
use crate::finding::{Finding, Severity};

/// Which tests run besides the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Schema and the mandatory tests (6.1): what decides whether a document is valid.
    #[default]
    Basic,
    /// Basic plus the optional tests (6.2), reported as warnings.
    Extended,
    /// Extended plus the informative tests (6.3), reported as information.
    Full,
}

impl Preset {
    fn includes(self, group: Group) -> bool {
        match group {
            Group::Mandatory => true,
            Group::Optional => self != Self::Basic,
            Group::Informative => self == Self::Full,
        }
    }
}

/// Checks whether a URL resolves, for tests 6.3.6 and 6.3.7. The crate does no I/O, so the
/// caller brings the HTTP client; without one these tests are skipped.
pub trait UrlChecker {
    /// `Ok(())` when a request to `url` answers with a 2xx or 3xx status, else why not.
    fn resolves(&self, url: &str) -> Result<(), String>;
}

/// Spell-checks text for test 6.3.8 (e.g. with hunspell); without one the test is skipped.
pub trait SpellChecker {
    /// The misspelled words of `text` in language `lang` (a BCP 47 tag such as `en-US`). A
    /// checker that does not support `lang` should say so in its answer, since the
    /// specification makes an unsupported language a failure of the test.
    fn misspelled(&self, lang: &str, text: &str) -> Vec<String>;
}

/// What to run.
#[derive(Clone, Copy, Default)]
pub struct ValidationOptions<'a> {
    pub preset: Preset,
    pub url_checker: Option<&'a dyn UrlChecker>,
    pub spell_checker: Option<&'a dyn SpellChecker>,
}

impl std::fmt::Debug for ValidationOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidationOptions")
            .field("preset", &self.preset)
            .field("url_checker", &self.url_checker.is_some())
            .field("spell_checker", &self.spell_checker.is_some())
            .finish()
    }
}

/// The outcome of [`validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// No finding is an error: the schema and every mandatory test passed.
    pub valid: bool,
    /// Schema findings first, then the tests in the order of the specification.
    pub findings: Vec<Finding>,
}

/// Validates `doc` against the schema and the tests of `options.preset`. Every test runs even
/// when the schema fails, so a broken document gets all its findings at once.
pub fn validate(doc: &Value, options: &ValidationOptions<'_>) -> Report {
    let mut findings = crate::schema::schema_validator().validate(doc);
    let ctx = Ctx::new(doc, options.url_checker, options.spell_checker);
    for test in TESTS.iter().filter(|t| options.preset.includes(t.group)) {
        (test.run)(&ctx, &mut findings);
    }
    let valid = !findings.iter().any(|f| f.severity == Severity::Error);
    Report { valid, findings }
}

/// Runs one test: a section 6 id such as `"6.1.27.3"`, or `"schema"`. `None` for an unknown
/// id. The preset of `options` does not matter here.
pub fn run_test(
    test_id: &str,
    doc: &Value,
    options: &ValidationOptions<'_>,
) -> Option<Vec<Finding>> {
    if test_id == "schema" {
        return Some(crate::schema::schema_validator().validate(doc));
    }
    let test = TESTS.iter().find(|t| t.id == test_id)?;
    let ctx = Ctx::new(doc, options.url_checker, options.spell_checker);
    let mut findings = Vec::new();
    (test.run)(&ctx, &mut findings);
    Some(findings)
}

/// The ids of every test of section 6, in the order of the specification.
pub fn test_ids() -> impl Iterator<Item = &'static str> {
    TESTS.iter().map(|t| t.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn presets_select_the_groups() {
        // A document that fails 6.1.27.11, 6.2.12 and nothing informative.
        let doc = json!({"document": {"category": "csaf_vex"}});
        let ids = |preset| -> Vec<&'static str> {
            let r = validate(
                &doc,
                &ValidationOptions {
                    preset,
                    ..Default::default()
                },
            );
            r.findings
                .iter()
                .map(|f| f.test_id)
                .filter(|id| *id != "schema")
                .collect()
        };
        assert!(ids(Preset::Basic).iter().all(|id| id.starts_with("6.1.")));
        assert!(ids(Preset::Extended).contains(&"6.2.12"));
        assert!(
            !ids(Preset::Extended)
                .iter()
                .any(|id| id.starts_with("6.3."))
        );
    }

    #[test]
    fn run_test_knows_every_id() {
        let doc = json!({});
        for id in test_ids() {
            assert!(
                run_test(id, &doc, &ValidationOptions::default()).is_some(),
                "{id}"
            );
        }
        assert!(run_test("6.1.99", &doc, &ValidationOptions::default()).is_none());
        assert_eq!(test_ids().count(), 74);
    }

    struct Fails;
    impl UrlChecker for Fails {
        fn resolves(&self, url: &str) -> Result<(), String> {
            if url.contains("invalid") {
                Err("HTTP 404".to_owned())
            } else {
                Ok(())
            }
        }
    }
    struct Speller;
    impl SpellChecker for Speller {
        fn misspelled(&self, _lang: &str, text: &str) -> Vec<String> {
            text.split_whitespace()
                .filter(|w| *w == "Secruity")
                .map(str::to_owned)
                .collect()
        }
    }

    #[test]
    fn network_and_spelling_tests_run_only_with_a_checker() {
        let doc = json!({"document": {"lang": "en", "title": "Secruity advisory", "references": [
            {"category": "self", "url": "https://example.invalid/a.json", "summary": "s"},
            {"category": "external", "url": "https://example.invalid/b", "summary": "s"},
            {"category": "external", "url": "https://example.com/c", "summary": "s"}]}});
        let none = ValidationOptions::default();
        for id in ["6.3.6", "6.3.7", "6.3.8"] {
            assert_eq!(run_test(id, &doc, &none), Some(vec![]), "{id}");
        }
        let with = ValidationOptions {
            url_checker: Some(&Fails),
            spell_checker: Some(&Speller),
            ..Default::default()
        };
        let paths = |id| {
            run_test(id, &doc, &with)
                .unwrap_or_default()
                .into_iter()
                .map(|f| f.path)
                .collect::<Vec<_>>()
        };
        assert_eq!(paths("6.3.6"), ["/document/references/1/url"]);
        assert_eq!(paths("6.3.7"), ["/document/references/0/url"]);
        assert_eq!(paths("6.3.8"), ["/document/title"]);
    }

    /// Deep branches and large product lists: every test walks them without recursion and
    /// without a scan per product (this took minutes when 6.1.27.10 scanned per product).
    #[test]
    fn deep_and_wide_documents() {
        let mut branch = json!({"category": "product_version", "name": "1",
                                "product": {"name": "leaf", "product_id": "LEAF"}});
        for depth in 0..1000 {
            branch =
                json!({"category": "vendor", "name": format!("v{depth}"), "branches": [branch]});
        }
        let ids: Vec<String> = (0..20_000).map(|i| format!("P{i}")).collect();
        let products: Vec<Value> = ids
            .iter()
            .map(|id| json!({"name": id, "product_id": id}))
            .collect();
        let doc = json!({
            "document": {"category": "csaf_vex"},
            "product_tree": {"branches": [branch], "full_product_names": products,
                             "product_groups": [{"group_id": "G", "product_ids": ids}]},
            "vulnerabilities": [{"product_status": {"known_affected": ids},
                                 "remediations": [{"category": "workaround", "group_ids": ["G"]}],
                                 "flags": [{"label": "component_not_present", "group_ids": ["G"]}]}]
        });
        let started = std::time::Instant::now();
        for id in test_ids() {
            let findings = run_test(id, &doc, &ValidationOptions::default()).unwrap_or_default();
            if id == "6.3.9" {
                let paths: Vec<&str> = findings.iter().map(|f| f.path.as_str()).collect();
                assert_eq!(paths.len(), 1, "{paths:?}");
            }
            if matches!(id, "6.1.1" | "6.1.27.10" | "6.2.2") {
                assert!(findings.is_empty(), "{id}: {:?}", findings.first());
            }
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn no_panic_on_wrong_types_anywhere() {
        let weird = [
            json!(null),
            json!(1),
            json!("x"),
            json!([]),
            json!({"document": 1, "product_tree": [], "vulnerabilities": "v"}),
            json!({"document": {"tracking": {"revision_history": [1, {"number": 2, "date": []}], "version": {}}, "lang": 5},
                   "product_tree": {"branches": [1, {"branches": {"a": 1}, "product": "p"}], "relationships": [{"product_reference": 1}],
                                    "full_product_names": [{"product_identification_helper": {"hashes": [{"file_hashes": [1]}], "purl": 3}}]},
                   "vulnerabilities": [1, {"scores": [{"cvss_v3": "x", "cvss_v2": {"vectorString": 3}, "products": [null]}],
                       "product_status": {"fixed": [1, "a"]}, "flags": [{"group_ids": 1}], "involvements": [{"date": 1}]}]}),
        ];
        let full = ValidationOptions {
            preset: Preset::Full,
            url_checker: Some(&Fails),
            spell_checker: Some(&Speller),
        };
        for doc in weird {
            let r = validate(&doc, &full);
            assert!(!r.valid);
        }
    }
}
