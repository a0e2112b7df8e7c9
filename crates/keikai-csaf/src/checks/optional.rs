//! Optional tests (CSAF 2.0 section 6.2): a finding is a warning; the document stays valid.
//! 6.2.19 lives in `cvss.rs`.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::Value;

use super::version::Version;
use super::{Ctx, Profile, arr, each_uncovered, has, join, langtag, profile, quote, str_of, strs};
use crate::datetime::parse_rfc3339;
use crate::finding::Finding;
use crate::model::Timestamp;

fn warn(id: &'static str, path: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding::warning(id, path, message)
}

/// 6.2.1 Unused Definition of Product ID (skipped for informational advisories).
pub(crate) fn t_6_2_1(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if profile(ctx.category()) == Some(Profile::InformationalAdvisory) {
        return;
    }
    let used: HashSet<&str> = ctx.product_refs().iter().map(|r| r.id).collect();
    for p in ctx.products() {
        if let Some(id) = p.id()
            && !used.contains(id)
        {
            out.push(warn(
                "6.2.1",
                format!("{}/product_id", p.path),
                format!("product id {} is defined but never used", quote(id)),
            ));
        }
    }
}

/// 6.2.2 Missing Remediation: affected and under-investigation products have a remediation.
pub(crate) fn t_6_2_2(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let lists = [
        "first_affected",
        "known_affected",
        "last_affected",
        "under_investigation",
    ];
    each_uncovered(
        ctx,
        &lists,
        |v| ctx.covered(arr(v.get("remediations")).iter()),
        |path, list, p| {
            out.push(warn(
                "6.2.2",
                path,
                format!(
                    "product {} is in {list} but no remediation covers it",
                    quote(p)
                ),
            ));
        },
    );
}

/// 6.2.3 Missing Score: affected products are covered by a score.
pub(crate) fn t_6_2_3(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let lists = ["first_affected", "known_affected", "last_affected"];
    each_uncovered(
        ctx,
        &lists,
        |v| {
            arr(v.get("scores"))
                .iter()
                .flat_map(|s| strs(s.get("products")).map(|(_, p)| p))
                .collect()
        },
        |path, list, p| {
            out.push(warn(
                "6.2.3",
                path,
                format!("product {} is in {list} but no score covers it", quote(p)),
            ));
        },
    );
}

/// 6.2.4 Build Metadata in Revision History.
pub(crate) fn t_6_2_4(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (i, r) in arr(ctx.doc.pointer("/document/tracking/revision_history"))
        .iter()
        .enumerate()
    {
        let Some(n) = str_of(r, "number") else {
            continue;
        };
        if let Some(build) = Version::parse(n).and_then(|v| v.build()) {
            out.push(warn(
                "6.2.4",
                format!("/document/tracking/revision_history/{i}/number"),
                format!(
                    "revision number {} has the build metadata +{build}",
                    quote(n)
                ),
            ));
        }
    }
}

/// The parsed dates of the revision history with their strings.
fn revision_dates(doc: &Value) -> Vec<(Timestamp, &str)> {
    arr(doc.pointer("/document/tracking/revision_history"))
        .iter()
        .filter_map(|r| str_of(r, "date").and_then(|d| parse_rfc3339(d).ok().map(|i| (i, d))))
        .collect()
}

fn release_date_check(
    ctx: &Ctx<'_>,
    out: &mut Vec<Finding>,
    id: &'static str,
    key: &str,
    newest: bool,
) {
    let path = format!("/document/tracking/{key}");
    let Some(given) = ctx.text(&path) else {
        return;
    };
    let Ok(instant) = parse_rfc3339(given) else {
        return;
    };
    let dates = revision_dates(ctx.doc);
    let bound = if newest {
        dates.iter().max()
    } else {
        dates.iter().min()
    };
    if let Some(&(b, b_str)) = bound
        && instant < b
    {
        let which = if newest { "newest" } else { "oldest" };
        out.push(warn(
            id,
            path,
            format!(
                "{key} {} is older than {}, the date of the {which} revision",
                quote(given),
                quote(b_str)
            ),
        ));
    }
}

/// 6.2.5 Older Initial Release Date than Revision History.
pub(crate) fn t_6_2_5(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    release_date_check(ctx, out, "6.2.5", "initial_release_date", false);
}

/// 6.2.6 Older Current Release Date than Revision History.
pub(crate) fn t_6_2_6(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    release_date_check(ctx, out, "6.2.6", "current_release_date", true);
}

/// 6.2.7 Missing Date in Involvements.
pub(crate) fn t_6_2_7(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        for (ii, inv) in arr(v.get("involvements")).iter().enumerate() {
            if inv.is_object() && !has(inv, "date") {
                out.push(warn(
                    "6.2.7",
                    format!("/vulnerabilities/{vi}/involvements/{ii}"),
                    "the involvement has no date",
                ));
            }
        }
    }
}

fn only_weak_hash(ctx: &Ctx<'_>, out: &mut Vec<Finding>, id: &'static str, algorithm: &str) {
    for (path, h) in ctx.hash_items() {
        let algs: Vec<&str> = arr(h.get("file_hashes"))
            .iter()
            .filter_map(|f| str_of(f, "algorithm"))
            .collect();
        if !algs.is_empty() && algs.iter().all(|a| a.eq_ignore_ascii_case(algorithm)) {
            out.push(warn(
                id,
                format!("{path}/file_hashes"),
                format!("{algorithm} is the only hash algorithm of this file; add a stronger one"),
            ));
        }
    }
}

/// 6.2.8 Use of MD5 as the only Hash Algorithm.
pub(crate) fn t_6_2_8(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    only_weak_hash(ctx, out, "6.2.8", "md5");
}

/// 6.2.9 Use of SHA-1 as the only Hash Algorithm.
pub(crate) fn t_6_2_9(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    only_weak_hash(ctx, out, "6.2.9", "sha1");
}

/// 6.2.10 Missing TLP label: present and one of the TLP 1.0 labels CSAF 2.0 allows.
pub(crate) fn t_6_2_10(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    match ctx.doc.pointer("/document/distribution/tlp/label") {
        Some(Value::String(l)) if matches!(l.as_str(), "AMBER" | "GREEN" | "RED" | "WHITE") => {}
        Some(other) => out.push(warn(
            "6.2.10",
            "/document/distribution/tlp/label",
            format!("the TLP label {other} is not one of AMBER, GREEN, RED, WHITE"),
        )),
        None => out.push(warn(
            "6.2.10",
            "/document/distribution",
            "the document has no TLP label",
        )),
    }
}

/// The file name of a document per section 5.1 (shared with the distribution files).
pub(crate) use crate::distribution::file_name;

/// 6.2.11 Missing Canonical URL: a `self` reference `https://…/<file name of the document>`.
pub(crate) fn t_6_2_11(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let id = ctx.text("/document/tracking/id");
    let expected = id.map(file_name);
    let ok = expected.as_ref().is_some_and(|name| {
        arr(ctx.doc.pointer("/document/references"))
            .iter()
            .any(|r| {
                str_of(r, "category") == Some("self")
                    && str_of(r, "url")
                        .is_some_and(|u| u.starts_with("https://") && u.ends_with(name.as_str()))
            })
    });
    if !ok {
        let msg = match expected {
            Some(name) => format!(
                "no reference of category self has an https URL ending in {}",
                quote(&name)
            ),
            None => "the document has no tracking id to derive its canonical URL from".to_owned(),
        };
        out.push(warn("6.2.11", "/document/references", msg));
    }
}

/// 6.2.12 Missing Document Language.
pub(crate) fn t_6_2_12(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if ctx.text("/document/lang").is_none_or(str::is_empty) {
        out.push(warn(
            "6.2.12",
            "/document/lang",
            "the document language is not set",
        ));
    }
}

/// Key order close to the Unicode collation the reference implementation uses
/// (`Intl.Collator`): separators and punctuation before digits before letters, letters
/// case-insensitive first, lower case before upper case on a tie, then code points.
pub(crate) fn collate(a: &str, b: &str) -> Ordering {
    fn primary(c: char) -> (u8, char) {
        let class = if c.is_whitespace() {
            0
        } else if c == '_' {
            1
        } else if c.is_ascii_punctuation() {
            2
        } else if c.is_numeric() {
            3
        } else {
            4
        };
        (class, c.to_lowercase().next().unwrap_or(c))
    }
    a.chars()
        .map(primary)
        .cmp(b.chars().map(primary))
        .then_with(|| {
            a.chars()
                .map(char::is_uppercase)
                .cmp(b.chars().map(char::is_uppercase))
        })
        .then_with(|| a.cmp(b))
}

/// 6.2.13 Sorting: every object's keys are sorted alphabetically.
pub(crate) fn t_6_2_13(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    // Without recursion, so that no nesting depth can exhaust the stack.
    let mut stack: Vec<(String, &Value)> = vec![(String::new(), ctx.doc)];
    while let Some((path, v)) = stack.pop() {
        match v {
            Value::Object(map) => {
                let keys: Vec<&String> = map.keys().collect();
                let unsorted = keys.windows(2).find_map(|w| match w {
                    [a, b] if collate(a, b) == Ordering::Greater => Some((*a, *b)),
                    _ => None,
                });
                if let Some((a, b)) = unsorted {
                    out.push(warn(
                        "6.2.13",
                        path.clone(),
                        format!(
                            "the keys are not sorted alphabetically: {} comes before {}",
                            quote(a),
                            quote(b)
                        ),
                    ));
                }
                for (k, child) in map.iter().rev() {
                    stack.push((join(&path, k), child));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate().rev() {
                    stack.push((format!("{path}/{i}"), child));
                }
            }
            _ => {}
        }
    }
}

fn languages<'a>(ctx: &Ctx<'a>) -> impl Iterator<Item = (&'static str, &'a str)> + use<'a> {
    let document = ctx.doc.get("document");
    ["lang", "source_lang"]
        .into_iter()
        .filter_map(move |k| document.and_then(|d| str_of(d, k)).map(|v| (k, v)))
}

/// 6.2.14 Use of Private Language.
pub(crate) fn t_6_2_14(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (key, tag) in languages(ctx) {
        if let Some(subtag) = langtag::private_use(tag) {
            out.push(warn(
                "6.2.14",
                format!("/document/{key}"),
                format!(
                    "language {} uses the private-use subtag {}",
                    quote(tag),
                    quote(&subtag)
                ),
            ));
        }
    }
}

/// 6.2.15 Use of Default Language (`i-default`).
pub(crate) fn t_6_2_15(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (key, tag) in languages(ctx) {
        if tag.eq_ignore_ascii_case("i-default") {
            out.push(warn(
                "6.2.15",
                format!("/document/{key}"),
                format!("language {} is the default language tag", quote(tag)),
            ));
        }
    }
}

/// 6.2.16 Missing Product Identification Helper.
pub(crate) fn t_6_2_16(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for p in ctx.products() {
        if p.node.is_object() && p.node.get("product_identification_helper").is_none() {
            let what = p.id().map_or_else(
                || "this product".to_owned(),
                |id| format!("product {}", quote(id)),
            );
            out.push(warn(
                "6.2.16",
                p.path.clone(),
                format!("{what} has no product identification helper"),
            ));
        }
    }
}

/// `^CVE-[0-9]{4}-[0-9]{4,}$`
fn is_cve(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && number.len() >= 4
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// 6.2.17 CVE in field IDs.
pub(crate) fn t_6_2_17(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        for (ii, id) in arr(v.get("ids")).iter().enumerate() {
            if let Some(text) = str_of(id, "text")
                && is_cve(text)
            {
                out.push(warn(
                    "6.2.17",
                    format!("/vulnerabilities/{vi}/ids/{ii}"),
                    format!("{} is a CVE id; put it in cve", quote(text)),
                ));
            }
        }
    }
}

/// `^vers:[a-z\.\-\+][a-z0-9\.\-\+]*/.+` (JavaScript semantics: `.` is no line terminator).
pub(crate) fn looks_like_vers(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("vers:") else {
        return false;
    };
    let type_char =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '+');
    let mut chars = rest.chars();
    if !chars
        .next()
        .is_some_and(|c| type_char(c) && !c.is_ascii_digit())
    {
        return false;
    }
    let after_type = chars.as_str().trim_start_matches(type_char);
    let Some(constraints) = after_type.strip_prefix('/') else {
        return false;
    };
    constraints
        .chars()
        .next()
        .is_some_and(|c| !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'))
}

/// 6.2.18 Product Version Range without vers.
pub(crate) fn t_6_2_18(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for b in ctx.branches() {
        if str_of(b.node, "category") != Some("product_version_range") {
            continue;
        }
        if let Some(name) = str_of(b.node, "name")
            && !looks_like_vers(name)
        {
            out.push(warn(
                "6.2.18",
                format!("{}/name", b.path),
                format!(
                    "product_version_range {} is not a vers range (vers:<type>/<constraints>)",
                    quote(name)
                ),
            ));
        }
    }
}

/// 6.2.20 Additional Properties: validation against the strict schema (every object closed),
/// which the specification deems sufficient; `crate::schema` owns the schemas.
pub(crate) fn t_6_2_20(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    out.extend(crate::schema::strict_schema_findings(ctx.doc));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_section_5_1() {
        assert_eq!(file_name("2022_#01-A"), "2022_01-a.json");
        assert_eq!(
            file_name("Example Company - 2019-YH3234"),
            "example_company_-_2019-yh3234.json"
        );
        assert_eq!(file_name("RHBA-2019:0024"), "rhba-2019_0024.json");
        assert_eq!(
            file_name("OASIS_CSAF_TC-CSAF_2.0-2021-6-2-11-01"),
            "oasis_csaf_tc-csaf_2_0-2021-6-2-11-01.json"
        );
    }

    #[test]
    fn collation_matches_the_reference_order() {
        for (a, b) in [
            ("category", "csaf_version"),
            ("baseScore", "baseSeverity"),
            ("product_id", "product_identification_helper"),
            ("cvss_v2", "cvss_v3"),
            ("a", "B"),
            ("b", "B"),
            ("x_generic_uris", "xa"),
        ] {
            assert_eq!(collate(a, b), Ordering::Less, "{a} < {b}");
        }
    }

    #[test]
    fn vers_and_cve_patterns() {
        assert!(looks_like_vers("vers:generic/>=1.0|<2.0"));
        assert!(looks_like_vers("vers:all/*"));
        for bad in [
            ">4.2",
            "vers:/x",
            "vers:1x/a",
            "vers:generic",
            "vers:generic/",
            "vers:Generic/1",
            "vers:generic/\nx",
        ] {
            assert!(!looks_like_vers(bad), "{bad}");
        }
        assert!(is_cve("CVE-2021-44228"));
        assert!(!is_cve("CVE-2021-442") && !is_cve("cve-2021-44228") && !is_cve("CVE-2021-44228 "));
    }
}
