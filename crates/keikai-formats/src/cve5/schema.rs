//! Validation against the CVE Record Format 5.1.1 schema, embedded in the binary (from PyPI
//! `cvelib`, see `schemas/SOURCE.md`). The bundled schema has only local `$ref`s; anything else is
//! refused, so validation never reads a file or the network.

use std::sync::LazyLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Retrieve, Uri, ValidationError, Validator};
use serde_json::Value;

const RECORD_SCHEMA: &str = include_str!("../../schemas/CVE_JSON_bundled_5.1.1.json");
const CNA_CONTAINER_SCHEMA: &str =
    include_str!("../../schemas/CVE_JSON_cnaPublishedContainer_5.1.1.json");

struct NoRetrieval;

impl Retrieve for NoRetrieval {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!(
            "refusing to retrieve {}: the CVE 5 schemas are self-contained",
            uri.as_str()
        )
        .into())
    }
}

fn compile(schema: &str) -> Result<Validator, String> {
    let schema: Value = serde_json::from_str(schema).map_err(|e| e.to_string())?;
    jsonschema::options()
        .with_retriever(NoRetrieval)
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| e.to_string())
}

static RECORD: LazyLock<Validator> = LazyLock::new(|| {
    // A constant of this crate, compiled by a unit test: failing here is a build defect.
    compile(RECORD_SCHEMA).expect("the embedded CVE 5 record schema compiles")
});

static CNA_CONTAINER: LazyLock<Validator> = LazyLock::new(|| {
    compile(CNA_CONTAINER_SCHEMA).expect("the embedded CVE 5 CNA container schema compiles")
});

/// Every violation of the CVE Record Format 5.1.1 schema in a complete record, as
/// `"<JSON pointer>: <message>"` (empty when the record is valid).
pub fn validate_cve_record(record: &Value) -> Vec<String> {
    messages(&RECORD, record)
}

/// The same for a published CNA container alone (what CVE Services accepts when a CNA
/// publishes), e.g. `record["containers"]["cna"]`.
pub fn validate_cna_container(container: &Value) -> Vec<String> {
    messages(&CNA_CONTAINER, container)
}

fn messages(validator: &Validator, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for error in validator.iter_errors(value) {
        explain(&error, &mut out);
    }
    out
}

/// A failed `oneOf`/`anyOf` (the record's Published/Rejected split, product and metric
/// alternatives) only says "not valid under any of the schemas"; report instead the errors of
/// the branch that came closest, which name the real field.
fn explain(error: &ValidationError<'_>, out: &mut Vec<String>) {
    let branches = match error.kind() {
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            Some(context)
        }
        _ => None,
    };
    let closest = branches.and_then(|branches| {
        branches
            .iter()
            .filter(|errors| !errors.is_empty())
            .min_by_key(|errors| errors.len())
    });
    match closest {
        Some(errors) => {
            for inner in errors {
                explain(inner, out);
            }
        }
        None => out.push(message(error)),
    }
}

fn message(error: &ValidationError<'_>) -> String {
    let path = error.instance_path().as_str();
    let path = if path.is_empty() { "/" } else { path };
    let mut text = error.to_string();
    // Messages quote the offending value, which may be a whole container.
    const MAX: usize = 300;
    if text.chars().count() > MAX {
        text = text.chars().take(MAX).collect::<String>() + "…";
    }
    format!("{path}: {text}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn embedded_schemas_compile() {
        assert!(compile(RECORD_SCHEMA).is_ok());
        assert!(compile(CNA_CONTAINER_SCHEMA).is_ok());
    }

    #[test]
    fn remote_references_are_refused() {
        let schema = json!({"$ref": "https://example.com/evil.json"});
        let err = jsonschema::options()
            .with_retriever(NoRetrieval)
            .build(&schema)
            .expect_err("a remote $ref must not be fetched");
        assert!(err.to_string().contains("refusing to retrieve"), "{err}");
    }

    #[test]
    fn violations_carry_their_path() {
        let errors = validate_cve_record(&json!({"dataType": "CVE_RECORD"}));
        assert!(!errors.is_empty());
        assert!(errors.iter().all(|e| e.starts_with('/')), "{errors:?}");
    }
}
