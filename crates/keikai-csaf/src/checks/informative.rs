//! Informative tests (CSAF 2.0 section 6.3): a finding is information. 6.3.6 and 6.3.7 need
//! the network and 6.3.8 a spell checker; the crate does no I/O, so they run only when the
//! caller passes a [`UrlChecker`](crate::UrlChecker) or [`SpellChecker`](crate::SpellChecker).

use std::collections::HashMap;

use serde_json::Value;

use super::{Ctx, arr, has, profile, quote, str_of};
use crate::finding::Finding;

fn info(id: &'static str, path: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding::info(id, path, message)
}

/// 6.3.1 Use of CVSS v2 as the only Scoring System.
pub(crate) fn t_6_3_1(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        for (si, s) in arr(v.get("scores")).iter().enumerate() {
            if has(s, "cvss_v2") && !has(s, "cvss_v3") {
                out.push(info(
                    "6.3.1",
                    format!("/vulnerabilities/{vi}/scores/{si}"),
                    "CVSS v2 is the only scoring system of this score; consider adding CVSS v3.1",
                ));
            }
        }
    }
}

/// 6.3.2 Use of CVSS v3.0.
pub(crate) fn t_6_3_2(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        for (si, s) in arr(v.get("scores")).iter().enumerate() {
            let Some(c) = s.get("cvss_v3") else { continue };
            if str_of(c, "version") == Some("3.0")
                || str_of(c, "vectorString").is_some_and(|x| x.starts_with("CVSS:3.0"))
            {
                out.push(info(
                    "6.3.2",
                    format!("/vulnerabilities/{vi}/scores/{si}/cvss_v3"),
                    "CVSS v3.0 is used; consider upgrading to CVSS v3.1",
                ));
            }
        }
    }
}

/// 6.3.3 Missing CVE.
pub(crate) fn t_6_3_3(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    out.extend(
        ctx.vulnerabilities_without(&["cve"])
            .map(|path| info("6.3.3", path, "the vulnerability has no CVE id")),
    );
}

/// 6.3.4 Missing CWE.
pub(crate) fn t_6_3_4(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    out.extend(
        ctx.vulnerabilities_without(&["cwe"])
            .map(|path| info("6.3.4", path, "the vulnerability has no CWE")),
    );
}

/// 6.3.5 Use of Short Hash: hash values have at least 64 characters.
pub(crate) fn t_6_3_5(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (path, h) in ctx.hash_items() {
        for (fi, f) in arr(h.get("file_hashes")).iter().enumerate() {
            let Some(value) = str_of(f, "value") else {
                continue;
            };
            let len = value.chars().count();
            if len < 64 {
                out.push(info(
                    "6.3.5",
                    format!("{path}/file_hashes/{fi}/value"),
                    format!("the hash value has only {len} characters (fewer than 64)"),
                ));
            }
        }
    }
}

/// Every URL of the document with its pointer and whether it is a `self` reference.
fn urls<'a>(ctx: &Ctx<'a>) -> Vec<(String, &'a str, bool)> {
    let doc = ctx.doc;
    let mut out = Vec::new();
    let mut push = |path: String, v: Option<&'a Value>, is_self: bool| {
        if let Some(s) = v.and_then(Value::as_str) {
            out.push((path, s, is_self));
        }
    };
    let references = |base: &str,
                      refs: Option<&'a Value>,
                      push: &mut dyn FnMut(String, Option<&'a Value>, bool)| {
        for (ri, r) in arr(refs).iter().enumerate() {
            push(
                format!("{base}/references/{ri}/url"),
                r.get("url"),
                str_of(r, "category") == Some("self"),
            );
        }
    };
    let acknowledgments =
        |base: &str,
         acks: Option<&'a Value>,
         push: &mut dyn FnMut(String, Option<&'a Value>, bool)| {
            for (ai, a) in arr(acks).iter().enumerate() {
                for (ui, u) in arr(a.get("urls")).iter().enumerate() {
                    push(
                        format!("{base}/acknowledgments/{ai}/urls/{ui}"),
                        Some(u),
                        false,
                    );
                }
            }
        };
    let d = doc.get("document");
    acknowledgments(
        "/document",
        d.and_then(|d| d.get("acknowledgments")),
        &mut push,
    );
    push(
        "/document/aggregate_severity/namespace".to_owned(),
        doc.pointer("/document/aggregate_severity/namespace"),
        false,
    );
    push(
        "/document/distribution/tlp/url".to_owned(),
        doc.pointer("/document/distribution/tlp/url"),
        false,
    );
    push(
        "/document/publisher/namespace".to_owned(),
        doc.pointer("/document/publisher/namespace"),
        false,
    );
    references("/document", d.and_then(|d| d.get("references")), &mut push);
    for p in ctx.products() {
        let Some(h) = p.node.get("product_identification_helper") else {
            continue;
        };
        for (i, u) in arr(h.get("sbom_urls")).iter().enumerate() {
            push(
                format!("{}/product_identification_helper/sbom_urls/{i}", p.path),
                Some(u),
                false,
            );
        }
        for (i, g) in arr(h.get("x_generic_uris")).iter().enumerate() {
            for key in ["namespace", "uri"] {
                push(
                    format!(
                        "{}/product_identification_helper/x_generic_uris/{i}/{key}",
                        p.path
                    ),
                    g.get(key),
                    false,
                );
            }
        }
    }
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let base = format!("/vulnerabilities/{vi}");
        acknowledgments(&base, v.get("acknowledgments"), &mut push);
        references(&base, v.get("references"), &mut push);
        for (ri, r) in arr(v.get("remediations")).iter().enumerate() {
            push(format!("{base}/remediations/{ri}/url"), r.get("url"), false);
        }
    }
    out
}

fn check_urls(ctx: &Ctx<'_>, out: &mut Vec<Finding>, id: &'static str, self_refs: bool) {
    let Some(checker) = ctx.url_checker else {
        return;
    };
    // Each distinct URL is asked once per document.
    let mut answers: HashMap<&str, Result<(), String>> = HashMap::new();
    for (path, url, is_self) in urls(ctx) {
        if is_self != self_refs {
            continue;
        }
        let answer = answers.entry(url).or_insert_with(|| checker.resolves(url));
        if let Err(reason) = answer {
            out.push(info(
                id,
                path,
                format!(
                    "{} does not resolve with a 2xx or 3xx status: {reason}",
                    quote(url)
                ),
            ));
        }
    }
}

/// 6.3.6 Use of non-self referencing URLs Failing to Resolve (only with a `UrlChecker`).
pub(crate) fn t_6_3_6(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    check_urls(ctx, out, "6.3.6", false);
}

/// 6.3.7 Use of self referencing URLs Failing to Resolve (only with a `UrlChecker`).
pub(crate) fn t_6_3_7(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    check_urls(ctx, out, "6.3.7", true);
}

/// The texts 6.3.8 spell-checks, with their pointers.
fn texts<'a>(ctx: &Ctx<'a>) -> Vec<(String, &'a str)> {
    let doc = ctx.doc;
    let mut out: Vec<(String, &'a str)> = Vec::new();
    let mut add = |path: String, v: Option<&'a Value>| {
        if let Some(s) = v.and_then(Value::as_str) {
            out.push((path, s));
        }
    };
    fn each<'a>(
        base: &str,
        list: Option<&'a Value>,
        keys: &[&str],
        add: &mut dyn FnMut(String, Option<&'a Value>),
    ) {
        for (i, item) in arr(list).iter().enumerate() {
            for key in keys {
                add(format!("{base}/{i}/{key}"), item.get(*key));
            }
        }
    }
    fn each_str<'a>(
        base: &str,
        list: Option<&'a Value>,
        add: &mut dyn FnMut(String, Option<&'a Value>),
    ) {
        for (i, s) in arr(list).iter().enumerate() {
            add(format!("{base}/{i}"), Some(s));
        }
    }
    let d = doc.get("document");
    let dget = |k: &str| d.and_then(|d| d.get(k));
    for (ai, a) in arr(dget("acknowledgments")).iter().enumerate() {
        each_str(
            &format!("/document/acknowledgments/{ai}/names"),
            a.get("names"),
            &mut add,
        );
        add(
            format!("/document/acknowledgments/{ai}/organization"),
            a.get("organization"),
        );
        add(
            format!("/document/acknowledgments/{ai}/summary"),
            a.get("summary"),
        );
    }
    add(
        "/document/aggregate_severity/text".to_owned(),
        doc.pointer("/document/aggregate_severity/text"),
    );
    // The category is only prose for CSAF Base documents.
    if profile(ctx.category()).is_none() {
        add("/document/category".to_owned(), dget("category"));
    }
    add(
        "/document/distribution/text".to_owned(),
        doc.pointer("/document/distribution/text"),
    );
    each(
        "/document/notes",
        dget("notes"),
        &["audience", "text", "title"],
        &mut add,
    );
    add(
        "/document/publisher/issuing_authority".to_owned(),
        doc.pointer("/document/publisher/issuing_authority"),
    );
    add(
        "/document/publisher/name".to_owned(),
        doc.pointer("/document/publisher/name"),
    );
    each(
        "/document/references",
        dget("references"),
        &["summary"],
        &mut add,
    );
    add("/document/title".to_owned(), dget("title"));
    each_str(
        "/document/tracking/aliases",
        doc.pointer("/document/tracking/aliases"),
        &mut add,
    );
    add(
        "/document/tracking/generator/engine/name".to_owned(),
        doc.pointer("/document/tracking/generator/engine/name"),
    );
    each(
        "/document/tracking/revision_history",
        doc.pointer("/document/tracking/revision_history"),
        &["summary"],
        &mut add,
    );
    for b in ctx.branches() {
        add(format!("{}/name", b.path), b.node.get("name"));
    }
    for p in ctx.products() {
        add(format!("{}/name", p.path), p.node.get("name"));
    }
    each(
        "/product_tree/product_groups",
        doc.pointer("/product_tree/product_groups"),
        &["summary"],
        &mut add,
    );
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let base = format!("/vulnerabilities/{vi}");
        for (ai, a) in arr(v.get("acknowledgments")).iter().enumerate() {
            each_str(
                &format!("{base}/acknowledgments/{ai}/names"),
                a.get("names"),
                &mut add,
            );
            add(
                format!("{base}/acknowledgments/{ai}/organization"),
                a.get("organization"),
            );
            add(
                format!("{base}/acknowledgments/{ai}/summary"),
                a.get("summary"),
            );
        }
        each(
            &format!("{base}/involvements"),
            v.get("involvements"),
            &["summary"],
            &mut add,
        );
        each(
            &format!("{base}/notes"),
            v.get("notes"),
            &["audience", "text", "title"],
            &mut add,
        );
        each(
            &format!("{base}/references"),
            v.get("references"),
            &["summary"],
            &mut add,
        );
        for (ri, r) in arr(v.get("remediations")).iter().enumerate() {
            add(
                format!("{base}/remediations/{ri}/details"),
                r.get("details"),
            );
            each_str(
                &format!("{base}/remediations/{ri}/entitlements"),
                r.get("entitlements"),
                &mut add,
            );
            add(
                format!("{base}/remediations/{ri}/restart_required/details"),
                r.get("restart_required").and_then(|x| x.get("details")),
            );
        }
        each(
            &format!("{base}/threats"),
            v.get("threats"),
            &["details"],
            &mut add,
        );
        add(format!("{base}/title"), v.get("title"));
    }
    out
}

/// 6.3.8 Spell check (only with a `SpellChecker`; skipped when the document has no `lang`).
pub(crate) fn t_6_3_8(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let Some(checker) = ctx.spell_checker else {
        return;
    };
    let Some(lang) = ctx.text("/document/lang") else {
        return;
    };
    for (path, text) in texts(ctx) {
        let words = checker.misspelled(lang, text);
        if !words.is_empty() {
            let list: Vec<String> = words.iter().map(|w| quote(w)).collect();
            out.push(info(
                "6.3.8",
                path,
                format!("possible spelling mistakes ({lang}): {}", list.join(", ")),
            ));
        }
    }
}

/// Where the path to a branch stands with respect to vendor, product_name, product_version.
#[derive(Clone, Copy, Default)]
struct CategoryPath<'a> {
    /// How many of the three appeared in order so far.
    in_order: usize,
    /// One of the three came out of order.
    out_of_order: bool,
    /// Bit i: `ORDER[i]` appeared.
    seen: u8,
    /// The last of the three, so that a repetition in place (vendor under vendor) is ignored.
    last: Option<&'a str>,
}

const ORDER: [&str; 3] = ["vendor", "product_name", "product_version"];

impl<'a> CategoryPath<'a> {
    fn step(mut self, category: Option<&'a str>) -> Self {
        let Some((rank, c)) =
            category.and_then(|c| ORDER.iter().position(|o| *o == c).map(|r| (r, c)))
        else {
            return self;
        };
        if self.last == Some(c) {
            return self;
        }
        if !self.out_of_order && rank == self.in_order {
            self.in_order += 1;
        } else {
            self.out_of_order = true;
        }
        self.seen |= 1 << rank;
        self.last = Some(c);
        self
    }
}

/// 6.3.9 Branch Categories: along the path from the product tree to every product in the
/// branches (the product's own branch included), the categories vendor, product_name and
/// product_version appear in that order. Other categories may stand anywhere; one of the three
/// may repeat in place (a vendor under a vendor), but not come back after a later one.
pub(crate) fn t_6_3_9(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let branches = ctx.branches();
    // Parents come before their children (pre-order), so one pass computes every path.
    let mut paths: Vec<CategoryPath<'_>> = Vec::with_capacity(branches.len());
    for b in branches {
        let parent = b
            .parent
            .and_then(|i| paths.get(i))
            .copied()
            .unwrap_or_default();
        let path = parent.step(str_of(b.node, "category"));
        paths.push(path);
        if b.node.get("product").is_none() || (!path.out_of_order && path.in_order == ORDER.len()) {
            continue;
        }
        let missing: Vec<&str> = ORDER
            .iter()
            .enumerate()
            .filter(|(i, _)| path.seen & (1 << i) == 0)
            .map(|(_, c)| *c)
            .collect();
        let problem = if missing.is_empty() {
            "the categories vendor, product_name, product_version are out of order".to_owned()
        } else {
            format!("no ancestor branch has the category {}", missing.join(", "))
        };
        out.push(info(
            "6.3.9",
            b.path.clone(),
            format!(
                "{problem}; recommended is vendor, product_name, product_version in that order"
            ),
        ));
    }
}

/// 6.3.10 Usage of Product Version Range.
pub(crate) fn t_6_3_10(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for b in ctx.branches() {
        if str_of(b.node, "category") == Some("product_version_range") {
            out.push(info("6.3.10", format!("{}/category", b.path), "the branch category product_version_range is used; enumerate versions where possible"));
        }
    }
}

/// 6.3.11 Usage of V as Version Indicator: `^[vV][0-9].*$` (no line terminator after it).
pub(crate) fn t_6_3_11(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for b in ctx.branches() {
        if str_of(b.node, "category") != Some("product_version") {
            continue;
        }
        let Some(name) = str_of(b.node, "name") else {
            continue;
        };
        let mut chars = name.chars();
        let hit = matches!(chars.next(), Some('v' | 'V'))
            && chars.next().is_some_and(|c| c.is_ascii_digit())
            && !chars.any(|c| matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'));
        if hit {
            out.push(info(
                "6.3.11",
                format!("{}/name", b.path),
                format!(
                    "product_version {} starts with v as version indicator",
                    quote(name)
                ),
            ));
        }
    }
}
