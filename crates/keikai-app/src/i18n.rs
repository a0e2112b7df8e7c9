//! Japanese and English, from Fluent files embedded in the binary: one catalogue for the pages
//! and for what Keikai publishes and sends (bulletins, mail).

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use keikai_domain::Locale;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Unicode isolation marks around arguments show up as stray characters in e-mail
        // subjects and test assertions; our arguments are names, not bidi text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static LANG_IDS: LazyLock<HashMap<Locale, LanguageIdentifier>> = LazyLock::new(|| {
    Locale::ALL
        .into_iter()
        .filter_map(|l| {
            l.as_str()
                .parse::<LanguageIdentifier>()
                .ok()
                .map(|id| (l, id))
        })
        .collect()
});

/// The message for `key` in `locale`; the key itself when it is missing, so that a gap is
/// visible instead of silent.
pub fn t(locale: Locale, key: &str) -> String {
    LANG_IDS
        .get(&locale)
        .and_then(|id| LOCALES.try_lookup(id, key))
        .unwrap_or_else(|| key.to_owned())
}

pub fn t_with(locale: Locale, key: &str, args: &[(&'static str, &str)]) -> String {
    let args: HashMap<std::borrow::Cow<'static, str>, FluentValue<'_>> = args
        .iter()
        .map(|(k, v)| (std::borrow::Cow::Borrowed(*k), FluentValue::from(*v)))
        .collect();
    LANG_IDS
        .get(&locale)
        .and_then(|id| LOCALES.try_lookup_with_args(id, key, &args))
        .unwrap_or_else(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys(ftl: &str) -> BTreeSet<String> {
        ftl.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_owned()))
            .collect()
    }

    #[test]
    fn both_languages_define_the_same_keys() {
        let en = keys(include_str!("../locales/en/main.ftl"));
        let ja = keys(include_str!("../locales/ja/main.ftl"));
        assert!(en.len() > 50, "parsed only {} keys", en.len());
        let only_en: Vec<_> = en.difference(&ja).collect();
        let only_ja: Vec<_> = ja.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_ja.is_empty(),
            "only in en: {only_en:?}; only in ja: {only_ja:?}"
        );
    }

    #[test]
    fn every_key_resolves_in_both_languages() {
        for key in keys(include_str!("../locales/en/main.ftl")) {
            for l in Locale::ALL {
                // Every argument any message takes, so that messages with placeables resolve.
                let args = [
                    ("name", "N"),
                    ("email", "e@example.com"),
                    ("advisory", "EX-2026-0001"),
                    ("version", "2"),
                    ("url", "https://example.com/a"),
                    ("title", "T"),
                    ("ended", "1"),
                ];
                let text = t_with(l, &key, &args);
                assert_ne!(text, key, "{key} missing in {l}");
                assert!(
                    !text.contains('{'),
                    "{key} in {l} has an unresolved placeable: {text}"
                );
            }
        }
    }

    #[test]
    fn messages_take_arguments() {
        assert_eq!(
            t_with(Locale::En, "dashboard-welcome", &[("name", "Aiko")]),
            "Welcome, Aiko."
        );
        assert_eq!(
            t_with(Locale::Ja, "dashboard-welcome", &[("name", "愛子")]),
            "愛子 さん、ようこそ。"
        );
    }
}
