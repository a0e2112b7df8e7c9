//! The CWE catalog for test 6.1.11: weakness ids and names of CWE 4.17, the catalog the BSI
//! reference validator uses for CSAF 2.0 (see `data/SOURCE.md`).

use std::collections::HashMap;
use std::sync::LazyLock;

static CATALOG_TEXT: &str = include_str!("../../data/cwe-4.17.tsv");

/// The catalog version, named in messages.
pub(crate) const CATALOG_VERSION: &str = "4.17";

static CATALOG: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    CATALOG_TEXT
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .collect()
});

/// The name of weakness `CWE-<number>`, if the catalog has it.
pub(crate) fn name(id: &str) -> Option<&'static str> {
    let number = id.strip_prefix("CWE-")?;
    CATALOG.get(number).copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn looks_up_weaknesses() {
        assert_eq!(
            super::name("CWE-79"),
            Some(
                "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"
            )
        );
        assert_eq!(super::name("CWE-20"), Some("Improper Input Validation"));
        assert_eq!(super::name("CWE-0"), None);
        assert_eq!(super::name("79"), None);
        assert!(super::CATALOG.len() > 900);
    }
}
