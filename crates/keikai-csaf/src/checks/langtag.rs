//! BCP 47 language tags (RFC 5646) for `language_t`: well-formedness, validity against the IANA
//! Language Subtag Registry (test 6.1.12) and private-use subtags (test 6.2.14).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// The registry, vendored from npm `language-subtag-registry` (see `data/SOURCE.md`).
static REGISTRY_TEXT: &str = include_str!("../../data/language-subtags.txt");

struct Registry {
    languages: HashSet<&'static str>,
    extlangs: HashMap<&'static str, Vec<&'static str>>,
    scripts: HashSet<&'static str>,
    regions: HashSet<&'static str>,
    variants: HashSet<&'static str>,
    grandfathered: HashSet<&'static str>,
    /// `qaa..qtz`-style ranges per type letter.
    ranges: Vec<(u8, &'static str, &'static str)>,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut r = Registry {
        languages: HashSet::new(),
        extlangs: HashMap::new(),
        scripts: HashSet::new(),
        regions: HashSet::new(),
        variants: HashSet::new(),
        grandfathered: HashSet::new(),
        ranges: Vec::new(),
    };
    for line in REGISTRY_TEXT.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.split(' ');
        let (Some(kind), Some(subtag)) = (parts.next(), parts.next()) else {
            continue;
        };
        let prefixes: Vec<&'static str> = parts
            .next()
            .map(|p| p.split('|').collect())
            .unwrap_or_default();
        if let Some((lo, hi)) = subtag.split_once("..") {
            if let Some(k) = kind.bytes().next() {
                r.ranges.push((k, lo, hi));
            }
            continue;
        }
        match kind {
            "l" => _ = r.languages.insert(subtag),
            "e" => _ = r.extlangs.insert(subtag, prefixes),
            "s" => _ = r.scripts.insert(subtag),
            "r" => _ = r.regions.insert(subtag),
            "v" => _ = r.variants.insert(subtag),
            "g" => _ = r.grandfathered.insert(subtag),
            _ => {}
        }
    }
    r
});

impl Registry {
    fn in_range(&self, kind: u8, subtag: &str) -> bool {
        // Range ends have the same length as the subtag, so string order is alphabetical order.
        self.ranges.iter().any(|&(k, lo, hi)| {
            k == kind && lo.len() == subtag.len() && lo <= subtag && subtag <= hi
        })
    }
}

/// A well-formed tag split into its parts, all lower case.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct LangTag {
    pub(crate) grandfathered: bool,
    pub(crate) language: Option<String>,
    pub(crate) extlangs: Vec<String>,
    pub(crate) script: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) variants: Vec<String>,
    /// Singleton and its subtags.
    pub(crate) extensions: Vec<(String, Vec<String>)>,
    /// The subtags after `x`.
    pub(crate) private_use: Vec<String>,
}

fn alpha(s: &str, lo: usize, hi: usize) -> bool {
    (lo..=hi).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic())
}
fn alnum(s: &str, lo: usize, hi: usize) -> bool {
    (lo..=hi).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}
fn is_variant(s: &str) -> bool {
    alnum(s, 5, 8)
        || (s.len() == 4 && s.as_bytes().first().is_some_and(u8::is_ascii_digit) && alnum(s, 4, 4))
}

/// Parses a tag per the ABNF of RFC 5646 section 2.1; `None` when it is not well-formed.
pub(crate) fn parse(tag: &str) -> Option<LangTag> {
    let lower = tag.to_ascii_lowercase();
    if REGISTRY.grandfathered.contains(lower.as_str()) {
        return Some(LangTag {
            grandfathered: true,
            ..LangTag::default()
        });
    }
    let subtags: Vec<&str> = lower.split('-').collect();
    let mut out = LangTag::default();
    let mut i = 0;
    let at = |i: usize| subtags.get(i).copied();
    if at(0) != Some("x") {
        let lang = at(0)?;
        if !alpha(lang, 2, 8) {
            return None;
        }
        out.language = Some(lang.to_owned());
        i = 1;
        if lang.len() <= 3 {
            while out.extlangs.len() < 3 && at(i).is_some_and(|s| alpha(s, 3, 3)) {
                out.extlangs.push(at(i)?.to_owned());
                i += 1;
            }
        }
        if let Some(s) = at(i).filter(|s| alpha(s, 4, 4)) {
            out.script = Some(s.to_owned());
            i += 1;
        }
        if let Some(s) = at(i)
            .filter(|s| alpha(s, 2, 2) || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())))
        {
            out.region = Some(s.to_owned());
            i += 1;
        }
        while let Some(s) = at(i).filter(|s| is_variant(s)) {
            out.variants.push(s.to_owned());
            i += 1;
        }
        while let Some(s) = at(i).filter(|s| s.len() == 1 && *s != "x" && alnum(s, 1, 1)) {
            i += 1;
            let mut parts = Vec::new();
            while let Some(p) = at(i).filter(|p| alnum(p, 2, 8)) {
                parts.push(p.to_owned());
                i += 1;
            }
            if parts.is_empty() {
                return None;
            }
            out.extensions.push((s.to_owned(), parts));
        }
    }
    if at(i) == Some("x") {
        i += 1;
        while let Some(p) = at(i).filter(|p| alnum(p, 1, 8)) {
            out.private_use.push(p.to_owned());
            i += 1;
        }
        if out.private_use.is_empty() {
            return None;
        }
    }
    (i == subtags.len()).then_some(out)
}

/// Why a well-formed tag is not valid, or `None` when it is valid: every subtag is registered,
/// at most one extended language subtag which fits its primary language, no variant or
/// extension singleton twice, and only registered extensions (`t`, RFC 6497; `u`, RFC 6067).
pub(crate) fn invalid_reason(tag: &str) -> Option<String> {
    let Some(t) = parse(tag) else {
        return Some("is not a well-formed BCP 47 language tag".to_owned());
    };
    let reg = &*REGISTRY;
    if let Some(l) = &t.language
        && !reg.languages.contains(l.as_str())
        && !reg.in_range(b'l', l)
    {
        return Some(format!(
            "has the unregistered primary language subtag {l:?}"
        ));
    }
    if t.extlangs.len() > 1 {
        return Some("has more than one extended language subtag".to_owned());
    }
    if let Some(e) = t.extlangs.first() {
        match reg.extlangs.get(e.as_str()) {
            None => {
                return Some(format!(
                    "has the unregistered extended language subtag {e:?}"
                ));
            }
            Some(prefixes) if !prefixes.iter().any(|p| Some(*p) == t.language.as_deref()) => {
                return Some(format!(
                    "uses the extended language subtag {e:?} after a language it does not belong to"
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(s) = &t.script
        && !reg.scripts.contains(s.as_str())
        && !reg.in_range(b's', s)
    {
        return Some(format!("has the unregistered script subtag {s:?}"));
    }
    if let Some(r) = &t.region
        && !reg.regions.contains(r.as_str())
        && !reg.in_range(b'r', r)
    {
        return Some(format!("has the unregistered region subtag {r:?}"));
    }
    let mut seen = HashSet::new();
    for v in &t.variants {
        if !reg.variants.contains(v.as_str()) {
            return Some(format!("has the unregistered variant subtag {v:?}"));
        }
        if !seen.insert(v.as_str()) {
            return Some(format!("repeats the variant subtag {v:?}"));
        }
    }
    let mut seen = HashSet::new();
    for (s, _) in &t.extensions {
        if s != "t" && s != "u" {
            return Some(format!("uses the unregistered extension {s:?}"));
        }
        if !seen.insert(s.as_str()) {
            return Some(format!("repeats the extension {s:?}"));
        }
    }
    None
}

/// Whether a well-formed tag contains a subtag reserved for private use (RFC 5646 sections
/// 2.2.1, 2.2.3, 2.2.4 and 2.2.7): language `qaa`-`qtz`, script `Qaaa`-`Qabx`, region `AA`,
/// `QM`-`QZ`, `XA`-`XZ`, `ZZ`, or a private-use sequence `x-…`.
pub(crate) fn private_use(tag: &str) -> Option<String> {
    let t = parse(tag)?;
    if !t.private_use.is_empty() {
        return Some(format!("x-{}", t.private_use.join("-")));
    }
    if let Some(l) = t
        .language
        .filter(|l| l.len() == 3 && ("qaa"..="qtz").contains(&l.as_str()))
    {
        return Some(l);
    }
    if let Some(s) = t.script.filter(|s| ("qaaa"..="qabx").contains(&s.as_str())) {
        return Some(s);
    }
    t.region.filter(|r| {
        r == "aa"
            || r == "zz"
            || (r.len() == 2
                && (("qm"..="qz").contains(&r.as_str()) || ("xa"..="xz").contains(&r.as_str())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_and_valid_tags() {
        for ok in [
            "en",
            "en-US",
            "de-CH-1996",
            "zh-Hant-TW",
            "es-419",
            "i-default",
            "EN-gb-OED",
            "x-private",
            "en-x-a-b",
            "de-u-co-phonebk",
            "zh-yue-HK",
            "sgn-ase",
            "qtx",
            "en-QM",
            "en-Qabc",
            "az-Latn-x-latn",
        ] {
            assert_eq!(invalid_reason(ok), None, "{ok}");
        }
    }

    #[test]
    fn invalid_tags() {
        for bad in [
            "EZ",
            "ZZZ",
            "",
            "en-",
            "-en",
            "en--US",
            "en-US-US",
            "e",
            "123",
            "en-a",
            "en-x",
            "en-Latn-Latn",
            "ar-aao-abh",
            "de-yue",
            "de-1996-1996",
            "en-y-abc",
            "en-u-co-u-ca",
            "en-ZY",
            "en-Zyxw",
            "en-abcde",
            "toolonglang",
        ] {
            assert!(invalid_reason(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn private_use_subtags() {
        for (tag, subtag) in [
            ("qtx", "qtx"),
            ("en-QM", "qm"),
            ("en-XP", "xp"),
            ("en-Qabc", "qabc"),
            ("en-AA", "aa"),
            ("fr-ZZ", "zz"),
            ("x-this-is-private", "x-this-is-private"),
            ("en-x-abc", "x-abc"),
        ] {
            assert_eq!(private_use(tag).as_deref(), Some(subtag), "{tag}");
        }
        for tag in [
            "en-US",
            "de-DE",
            "i-default",
            "qzz",
            "en-Qaby",
            "not well formed!",
        ] {
            assert_eq!(private_use(tag), None, "{tag}");
        }
    }
}
