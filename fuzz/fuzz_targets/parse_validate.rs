//! Untrusted bytes through everything `keikai csaf validate` does with them: the size-limited
//! parser, the validator with every test (including the URL and spelling tests, with fake
//! checkers, since the crate does no I/O), and the serde model.
//!
//! Any panic, stack overflow, or an inconsistent report is a bug.

#![no_main]

use keikai_csaf::{
    CsafDocument, Preset, Severity, SpellChecker, UrlChecker, ValidationOptions,
    parse_json_limited, validate,
};
use libfuzzer_sys::fuzz_target;

/// The binary's default cap is 64 MiB; libFuzzer inputs stay far below 1 MiB anyway.
const MAX_LEN: usize = 1 << 20;

/// Answers without the network: a URL "fails" when it contains a digit, so both outcomes of
/// 6.3.6/6.3.7 are explored.
struct FakeUrls;
impl UrlChecker for FakeUrls {
    fn resolves(&self, url: &str) -> Result<(), String> {
        if url.bytes().any(|b| b.is_ascii_digit()) {
            Err("HTTP 404".to_owned())
        } else {
            Ok(())
        }
    }
}

/// Calls every capitalised word a mistake, so 6.3.8 reports something on most texts.
struct FakeSpeller;
impl SpellChecker for FakeSpeller {
    fn misspelled(&self, _lang: &str, text: &str) -> Vec<String> {
        text.split_whitespace()
            .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
            .map(str::to_owned)
            .collect()
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = parse_json_limited(data, MAX_LEN) else {
        return;
    };
    let options = ValidationOptions {
        preset: Preset::Full,
        url_checker: Some(&FakeUrls),
        spell_checker: Some(&FakeSpeller),
    };
    let report = validate(&value, &options);
    let has_error = report
        .findings
        .iter()
        .any(|f| f.severity == Severity::Error);
    assert_eq!(
        report.valid, !has_error,
        "valid must mean: no finding is an error"
    );
    for f in &report.findings {
        assert!(
            f.path.is_empty() || f.path.starts_with('/'),
            "{}: not a JSON pointer: {:?}",
            f.test_id,
            f.path
        );
    }
    let original = roundtrip().then(|| value.clone());
    if let Ok(doc) = serde_json::from_value::<CsafDocument>(value) {
        // Writing back must not fail either.
        let written = doc.to_value();
        // The model promises that reading then writing gives back an equal value.
        if let (Some(original), Ok(written)) = (original, written) {
            assert_eq!(
                written, original,
                "from_value then to_value changed the document"
            );
        }
    }
});

/// `KEIKAI_FUZZ_ROUNDTRIP=1` also checks the model's round trip (off by default: a mismatch
/// is a fidelity bug, not a crash, and would stop the run that hunts for panics).
fn roundtrip() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("KEIKAI_FUZZ_ROUNDTRIP").is_some())
}
