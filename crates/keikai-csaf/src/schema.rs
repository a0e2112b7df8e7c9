//! Validation against the official CSAF 2.0 JSON schema (and the FIRST CVSS schemas it uses),
//! embedded in the binary: no file or network access, ever.
//!
//! [`SchemaValidator::validate`] uses the non-strict schema, as a basic validator must (extra
//! properties are only the optional test 6.2.20, see [`strict_schema_findings`]). `format` is
//! checked (`date-time`, `uri`). Messages are rewritten from jsonschema's generic ones so that
//! they name the field, the wrong value and what was expected; a `cvss_v3` object is checked
//! against the schema of the version it declares instead of reporting a bare `oneOf` failure.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Retrieve, Uri, ValidationError, Validator};
use serde_json::Value;

use crate::finding::{Finding, Severity, escape_pointer_token};

const CSAF_SCHEMA: &str = include_str!("../schemas/csaf_2.0_json_schema.json");
const CSAF_SCHEMA_STRICT: &str = include_str!("../schemas/csaf_2.0_json_schema.strict.json");
const CVSS_V2: &str = include_str!("../schemas/cvss-v2.0.json");
const CVSS_V30: &str = include_str!("../schemas/cvss-v3.0.json");
const CVSS_V31: &str = include_str!("../schemas/cvss-v3.1.json");
const CVSS_V2_STRICT: &str = include_str!("../schemas/cvss-v2.0_strict.json");
const CVSS_V30_STRICT: &str = include_str!("../schemas/cvss-v3.0_strict.json");
const CVSS_V31_STRICT: &str = include_str!("../schemas/cvss-v3.1_strict.json");

/// The test id of schema findings.
pub const SCHEMA_TEST_ID: &str = "schema";

/// Serves the `$ref`s of the CSAF schema from the embedded files and refuses everything else, so
/// a schema can never make the validator fetch a URL.
struct EmbeddedSchemas {
    strict: bool,
}

impl Retrieve for EmbeddedSchemas {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        // The CSAF schema refers to `cvss-v3.1.json`; the file's own `$id` carries `?20211103`.
        let text = match (uri.as_str(), self.strict) {
            ("https://www.first.org/cvss/cvss-v2.0.json", false) => CVSS_V2,
            ("https://www.first.org/cvss/cvss-v3.0.json", false) => CVSS_V30,
            (
                "https://www.first.org/cvss/cvss-v3.1.json"
                | "https://www.first.org/cvss/cvss-v3.1.json?20211103",
                false,
            ) => CVSS_V31,
            ("https://www.first.org/cvss/cvss-v2.0.json", true) => CVSS_V2_STRICT,
            ("https://www.first.org/cvss/cvss-v3.0.json", true) => CVSS_V30_STRICT,
            (
                "https://www.first.org/cvss/cvss-v3.1.json"
                | "https://www.first.org/cvss/cvss-v3.1.json?20211103",
                true,
            ) => CVSS_V31_STRICT,
            (other, _) => {
                return Err(format!(
                    "refusing to retrieve {other}: only the embedded CVSS schemas are available"
                )
                .into());
            }
        };
        Ok(serde_json::from_str(text)?)
    }
}

fn compile(schema: &str, strict: bool) -> Result<Validator, String> {
    let schema: Value = serde_json::from_str(schema).map_err(|e| e.to_string())?;
    jsonschema::options()
        .with_retriever(EmbeddedSchemas { strict })
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(&schema)
        .map_err(|e| e.to_string())
}

/// The compiled CSAF 2.0 schema. Compiling takes a few milliseconds; share one instance
/// ([`schema_validator`]).
pub struct SchemaValidator {
    validator: Validator,
}

impl std::fmt::Debug for SchemaValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaValidator").finish_non_exhaustive()
    }
}

impl Default for SchemaValidator {
    fn default() -> Self {
        Self::new()
    }
}

impl SchemaValidator {
    /// Compiles the embedded non-strict CSAF 2.0 schema.
    pub fn new() -> Self {
        // The schemas are constants of this crate and a unit test compiles them, so failing
        // here is a build defect, not an input error.
        let validator = compile(CSAF_SCHEMA, false).expect("the embedded CSAF 2.0 schema compiles");
        Self { validator }
    }

    /// Whether the document is valid against the schema (faster than [`Self::validate`]).
    pub fn is_valid(&self, doc: &Value) -> bool {
        self.validator.is_valid(doc)
    }

    /// Every schema violation of `doc`, as errors with test id `"schema"` and the JSON pointer of
    /// the offending value.
    pub fn validate(&self, doc: &Value) -> Vec<Finding> {
        let mut described = Vec::new();
        for error in self.validator.iter_errors(doc) {
            describe(&error, &mut described);
        }
        described.into_iter().map(|d| d.finding).collect()
    }
}

/// The shared validator, compiled on first use.
pub fn schema_validator() -> &'static SchemaValidator {
    static VALIDATOR: LazyLock<SchemaValidator> = LazyLock::new(SchemaValidator::new);
    &VALIDATOR
}

/// Properties that CSAF 2.0 does not define, found with the strict schema (every object
/// `unevaluatedProperties: false`, strict CVSS schemas): the findings of optional test 6.2.20,
/// as warnings with test id `"6.2.20"` whose path points at the property itself. Other schema
/// violations are left to [`SchemaValidator::validate`].
pub fn strict_schema_findings(doc: &Value) -> Vec<Finding> {
    static STRICT: LazyLock<Validator> = LazyLock::new(|| {
        compile(CSAF_SCHEMA_STRICT, true).expect("the embedded strict CSAF 2.0 schema compiles")
    });
    let errors: Vec<ValidationError<'_>> = STRICT.iter_errors(doc).collect();
    // The strict schema puts `unevaluatedProperties: false` beside the `oneOf` of `cvss_v3`. When
    // the `oneOf` fails, no property counts as evaluated and every one would be reported; the
    // `oneOf` explanation (against the strict CVSS schema of the declared version) already names
    // the real extra properties, so drop that blanket error.
    let failed_one_of: Vec<&str> = errors
        .iter()
        .filter(|e| matches!(e.kind(), ValidationErrorKind::OneOfNotValid { .. }))
        .map(|e| e.instance_path().as_str())
        .collect();
    let mut described = Vec::new();
    for error in &errors {
        let blanket = matches!(
            error.kind(),
            ValidationErrorKind::UnevaluatedProperties { .. }
        ) && failed_one_of.contains(&error.instance_path().as_str());
        if !blanket {
            describe(error, &mut described);
        }
    }
    described
        .into_iter()
        .filter(|d| d.undefined_property)
        .map(|d| Finding {
            test_id: "6.2.20",
            severity: Severity::Warning,
            ..d.finding
        })
        .collect()
}

/// A finding, and whether it is about a property the schema does not define (the 6.2.20 kind).
struct Described {
    finding: Finding,
    undefined_property: bool,
}

fn finding(path: String, message: String) -> Described {
    Described {
        finding: Finding {
            test_id: SCHEMA_TEST_ID,
            severity: Severity::Error,
            path,
            message,
        },
        undefined_property: false,
    }
}

/// Turns one jsonschema error into findings (more than one for several unexpected properties or
/// a `cvss_v3` object that fails its version's schema in several places).
fn describe(error: &ValidationError<'_>, out: &mut Vec<Described>) {
    let path = error.instance_path().as_str().to_owned();
    let field = field_name(&path);
    let instance = error.instance().as_ref();
    let message = match error.kind() {
        ValidationErrorKind::Required { property } => {
            let property = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            format!(
                "{field} is missing the required property \"{property}\"{}",
                cvss_hint(&path)
            )
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            for property in unexpected {
                let mut described = finding(
                    format!("{path}/{}", escape_pointer_token(property)),
                    format!(
                        "property \"{property}\" of {field} is not defined by CSAF 2.0{}",
                        cvss_hint(&path)
                    ),
                );
                described.undefined_property = true;
                out.push(described);
            }
            return;
        }
        ValidationErrorKind::OneOfNotValid { context } if path.ends_with("/cvss_v3") => {
            describe_cvss_v3(&path, instance, context, out);
            return;
        }
        ValidationErrorKind::Type { kind } => {
            format!(
                "{field} must be {}, found {}",
                expected_type(kind),
                type_of(instance)
            )
        }
        ValidationErrorKind::Enum { options } => {
            let allowed: Vec<String> = options
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{field} {} is not one of: {}",
                short(instance),
                allowed.join(", ")
            )
        }
        ValidationErrorKind::Format { format } => {
            let expected = match format.as_str() {
                "date-time" => "an RFC 3339 date-time with time zone, e.g. 2024-03-01T12:00:00Z",
                "uri" => "an absolute URI, e.g. https://example.com/advisory",
                other => other,
            };
            format!("{field} {} is not {expected}", short(instance))
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!(
                "{field} {} is not {}",
                short(instance),
                pattern_hint(&path, pattern)
            )
        }
        ValidationErrorKind::MinItems { limit: 1 } => format!("{field} must not be an empty list"),
        ValidationErrorKind::MinItems { limit } => {
            format!("{field} must have at least {limit} items")
        }
        ValidationErrorKind::MinLength { limit: 1 } => {
            format!("{field} must not be an empty string")
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("{field} must have at least {limit} characters")
        }
        ValidationErrorKind::MinProperties { limit } => {
            format!(
                "{field} must have at least {limit} propert{}",
                if *limit == 1 { "y" } else { "ies" }
            )
        }
        ValidationErrorKind::UniqueItems => match first_duplicate(instance) {
            Some(item) => format!("{field} lists {} more than once", short(item)),
            None => format!("{field} must not contain duplicate items"),
        },
        ValidationErrorKind::Minimum { limit } => {
            format!(
                "{field} {} is less than the minimum {limit}{}",
                short(instance),
                cvss_hint(&path)
            )
        }
        ValidationErrorKind::Maximum { limit } => {
            format!(
                "{field} {} is more than the maximum {limit}{}",
                short(instance),
                cvss_hint(&path)
            )
        }
        _ => format!("{field}: {}", truncate(&error.to_string())),
    };
    out.push(finding(path, message));
}

/// A `cvss_v3` object matches neither the v3.0 nor the v3.1 schema: explain it against the schema
/// of the version the object declares.
fn describe_cvss_v3(
    path: &str,
    instance: &Value,
    branches: &[Vec<ValidationError<'static>>],
    out: &mut Vec<Described>,
) {
    // Order of the `oneOf` in the CSAF schema: v3.0 first, then v3.1.
    let branch = match instance.get("version").and_then(Value::as_str) {
        Some("3.0") => Some(("3.0", 0)),
        Some("3.1") => Some(("3.1", 1)),
        _ => None,
    };
    let Some((version, index)) = branch else {
        let found = instance
            .get("version")
            .map_or_else(|| "no version".to_owned(), short);
        out.push(finding(
            path.to_owned(),
            format!("cvss_v3 must declare version \"3.0\" or \"3.1\" to match a CVSS v3 schema, found {found}"),
        ));
        return;
    };
    let mut inner = Vec::new();
    for error in branches.get(index).into_iter().flatten() {
        describe(error, &mut inner);
    }
    if inner.is_empty() {
        // Valid against its own version's schema but the oneOf still failed: the object also
        // matched the other version (cannot happen with the FIRST schemas, kept for safety).
        out.push(finding(path.to_owned(), format!("cvss_v3 does not match exactly one of the CVSS v3.0 and v3.1 schemas (version \"{version}\")")));
    }
    for mut d in inner {
        d.finding.message = format!(
            "cvss_v3 does not match the CVSS v{version} schema: {}",
            d.finding.message
        );
        out.push(d);
    }
}

/// How a message names the value at `path`: its property name, `"revision_history" item 2`, or
/// "the document" for the root.
fn field_name(path: &str) -> String {
    let mut segments = path.rsplit('/');
    let last = segments.next().unwrap_or("");
    if path.is_empty() {
        return "the document".to_owned();
    }
    let unescape = |s: &str| s.replace("~1", "/").replace("~0", "~");
    if last.bytes().all(|b| b.is_ascii_digit()) && !last.is_empty() {
        match segments.next() {
            Some(parent) if !parent.is_empty() => format!("\"{}\" item {last}", unescape(parent)),
            _ => format!("item {last}"),
        }
    } else {
        format!("\"{}\"", unescape(last))
    }
}

fn cvss_hint(path: &str) -> &'static str {
    if path.contains("/cvss_v2") {
        " (CVSS v2.0 schema)"
    } else {
        ""
    }
}

/// What a `pattern` of the CSAF schema means, named by the property it applies to.
fn pattern_hint(path: &str, pattern: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or("");
    let parent = path.rsplit('/').nth(1).unwrap_or("");
    let hint = match (parent, last) {
        (_, "cve") => "a CVE id such as CVE-2024-12345",
        ("cwe", "id") => "a CWE id such as CWE-79",
        (_, "version" | "number") => "an integer such as 2 or a semantic version such as 1.0.0",
        (_, "lang" | "source_lang") => "a language tag such as en or de-DE",
        (_, "purl") => "a package URL such as pkg:npm/example@1.0.0",
        (_, "cpe") => "a CPE 2.2 or 2.3 name such as cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*",
        (_, "value") if path.contains("/file_hashes/") => {
            "a hexadecimal hash of at least 32 digits"
        }
        ("document", "category") => {
            "a category without leading or trailing whitespace, '-', '_' or '.', e.g. csaf_security_advisory"
        }
        _ if pattern == "^[\\S](.*[\\S])?$" => "a text without leading or trailing whitespace",
        _ => return format!("matching the pattern {pattern}"),
    };
    hint.to_owned()
}

fn expected_type(kind: &TypeKind) -> String {
    let name = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "object" => "an object".to_owned(),
        "array" => "an array".to_owned(),
        "integer" => "an integer".to_owned(),
        other => format!("a {other}"),
    };
    match kind {
        TypeKind::Single(t) => name(t),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| name(&t))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn type_of(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => format!("the string {}", short(value)),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn first_duplicate(value: &Value) -> Option<&Value> {
    // Linear: a hostile document may list many items.
    let mut seen = std::collections::HashSet::new();
    value
        .as_array()?
        .iter()
        .find(|item| !seen.insert(item.to_string()))
}

/// A value for a message: JSON text, cut to a readable length (documents are untrusted and can
/// be huge).
fn short(value: &Value) -> String {
    truncate(&value.to_string())
}

fn truncate(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn embedded_schemas_compile() {
        assert!(compile(CSAF_SCHEMA, false).is_ok());
        assert!(compile(CSAF_SCHEMA_STRICT, true).is_ok());
    }

    #[test]
    fn other_references_are_refused() {
        let schema = json!({"$ref": "https://example.com/evil.json"});
        let result = jsonschema::options()
            .with_retriever(EmbeddedSchemas { strict: false })
            .build(&schema);
        let err = result.expect_err("unknown $ref must not be fetched");
        assert!(err.to_string().contains("refusing to retrieve"), "{err}");
    }

    #[test]
    fn field_names() {
        assert_eq!(field_name(""), "the document");
        assert_eq!(field_name("/document/title"), "\"title\"");
        assert_eq!(
            field_name("/document/tracking/revision_history/2"),
            "\"revision_history\" item 2"
        );
        assert_eq!(field_name("/a~1b"), "\"a/b\"");
    }

    #[test]
    fn long_values_are_cut() {
        let long = Value::String("x".repeat(500));
        assert_eq!(short(&long).chars().count(), 121);
    }
}
