//! Mandatory tests (CSAF 2.0 section 6.1): a finding is an error and makes the document invalid.
//! The CVSS tests 6.1.8-6.1.10 live in `cvss.rs`.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use serde_json::Value;

use super::version::{SortKey, Version};
use super::{Ctx, Profile, arr, cwe, each_uncovered, has, langtag, profile, quote, str_of, strs};
use crate::datetime::parse_rfc3339;
use crate::finding::Finding;
use crate::model::Timestamp;

fn err(id: &'static str, path: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding::error(id, path, message)
}

/// 6.1.1 Missing Definition of Product ID.
pub(crate) fn t_6_1_1(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let defined: HashSet<&str> = ctx.products().iter().filter_map(|p| p.id()).collect();
    for r in ctx.product_refs() {
        if !defined.contains(r.id) {
            out.push(err(
                "6.1.1",
                r.path.clone(),
                format!(
                    "product id {} is not defined in the product tree",
                    quote(r.id)
                ),
            ));
        }
    }
}

/// 6.1.2 Multiple Definition of Product ID.
pub(crate) fn t_6_1_2(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let mut first: HashMap<&str, &str> = HashMap::new();
    for p in ctx.products() {
        let Some(id) = p.id() else { continue };
        match first.get(id) {
            Some(at) => out.push(err(
                "6.1.2",
                format!("{}/product_id", p.path),
                format!("product id {} is already defined at {at}", quote(id)),
            )),
            None => _ = first.insert(id, &p.path),
        }
    }
}

/// 6.1.3 Circular Definition of Product ID: no relationship may, through the products it
/// references, end up in a circle of relationships (also when it only leads into one).
pub(crate) fn t_6_1_3(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let rels = arr(ctx.doc.pointer("/product_tree/relationships"));
    fn defined_by(r: &Value) -> Option<&str> {
        r.get("full_product_name")
            .and_then(|f| str_of(f, "product_id"))
    }
    let mut definers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (ri, r) in rels.iter().enumerate() {
        if let Some(id) = defined_by(r) {
            definers.entry(id).or_default().push(ri);
        }
    }
    let edges: Vec<Vec<usize>> = rels
        .iter()
        .map(|r| {
            ["product_reference", "relates_to_product_reference"]
                .iter()
                .filter_map(|k| str_of(r, k))
                .flat_map(|id| {
                    definers
                        .get(id)
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                        .iter()
                        .copied()
                })
                .collect()
        })
        .collect();
    // Iterative depth-first search: reaching a node that is still on the stack closes a
    // circle; a node reaches a circle if any successor does.
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnStack,
        Done,
    }
    let mut state = vec![State::New; rels.len()];
    let mut circular = vec![false; rels.len()];
    for start in 0..rels.len() {
        if state[start] != State::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = State::OnStack;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&succ) = edges[node].get(*next) {
                *next += 1;
                match state[succ] {
                    State::New => {
                        state[succ] = State::OnStack;
                        stack.push((succ, 0));
                    }
                    State::OnStack => circular[node] = true,
                    State::Done => circular[node] |= circular[succ],
                }
            } else {
                state[node] = State::Done;
                stack.pop();
                if let Some(&(parent, _)) = stack.last() {
                    circular[parent] |= circular[node];
                }
            }
        }
    }
    for (ri, r) in rels.iter().enumerate() {
        if circular[ri] {
            let id = defined_by(r).unwrap_or_default();
            out.push(err(
                "6.1.3",
                format!("/product_tree/relationships/{ri}/full_product_name/product_id"),
                format!(
                    "product id {} is defined through a circular chain of relationships",
                    quote(id)
                ),
            ));
        }
    }
}

/// 6.1.4 Missing Definition of Product Group ID.
pub(crate) fn t_6_1_4(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let groups = ctx.groups();
    for r in ctx.group_refs() {
        if !groups.contains_key(r.id) {
            out.push(err(
                "6.1.4",
                r.path,
                format!(
                    "product group id {} is not defined in the product tree",
                    quote(r.id)
                ),
            ));
        }
    }
}

/// 6.1.5 Multiple Definition of Product Group ID.
pub(crate) fn t_6_1_5(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (gi, g) in arr(ctx.doc.pointer("/product_tree/product_groups"))
        .iter()
        .enumerate()
    {
        let Some(id) = str_of(g, "group_id") else {
            continue;
        };
        match first.get(id) {
            Some(at) => out.push(err(
                "6.1.5",
                format!("/product_tree/product_groups/{gi}/group_id"),
                format!(
                    "product group id {} is already defined at /product_tree/product_groups/{at}",
                    quote(id)
                ),
            )),
            None => _ = first.insert(id, gi),
        }
    }
}

/// 6.1.6 Contradicting Product Status.
pub(crate) fn t_6_1_6(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    const GROUPS: [(&str, &str); 7] = [
        ("first_affected", "affected"),
        ("known_affected", "affected"),
        ("last_affected", "affected"),
        ("known_not_affected", "not affected"),
        ("first_fixed", "fixed"),
        ("fixed", "fixed"),
        ("under_investigation", "under investigation"),
    ];
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let Some(ps) = v.get("product_status") else {
            continue;
        };
        let mut seen: HashMap<&str, (&str, &str)> = HashMap::new();
        for (list, group) in GROUPS {
            for (idx, id) in strs(ps.get(list)) {
                match seen.get(id) {
                    Some(&(g, l)) if g != group => out.push(err(
                        "6.1.6",
                        format!("/vulnerabilities/{vi}/product_status/{list}/{idx}"),
                        format!(
                            "product {} is both {group} ({list}) and {g} ({l})",
                            quote(id)
                        ),
                    )),
                    Some(_) => {}
                    None => _ = seen.insert(id, (group, list)),
                }
            }
        }
    }
}

/// 6.1.7 Multiple Scores with same Version per Product.
pub(crate) fn t_6_1_7(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
        for (si, s) in arr(v.get("scores")).iter().enumerate() {
            let mut versions: Vec<&str> = Vec::new();
            if let Some(c) = s.get("cvss_v2") {
                versions.push(str_of(c, "version").unwrap_or("2.0"));
            }
            if let Some(c) = s.get("cvss_v3") {
                let from_vector = || {
                    str_of(c, "vectorString")
                        .and_then(|x| x.strip_prefix("CVSS:"))
                        .and_then(|x| x.get(..3))
                };
                if let Some(ver) = str_of(c, "version").or_else(from_vector) {
                    versions.push(ver);
                }
            }
            for (pi, p) in strs(s.get("products")) {
                for ver in &versions {
                    match seen.get(&(p, *ver)) {
                        Some(&other) if other != si => out.push(err(
                            "6.1.7",
                            format!("/vulnerabilities/{vi}/scores/{si}/products/{pi}"),
                            format!("product {} already has a CVSS {ver} score at /vulnerabilities/{vi}/scores/{other}", quote(p)),
                        )),
                        Some(_) => {}
                        None => _ = seen.insert((p, ver), si),
                    }
                }
            }
        }
    }
}

/// 6.1.11 CWE: the id exists in the catalog and the name is the catalog's.
pub(crate) fn t_6_1_11(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let Some(c) = v.get("cwe") else { continue };
        let Some(id) = str_of(c, "id") else { continue };
        match cwe::name(id) {
            None => out.push(err(
                "6.1.11",
                format!("/vulnerabilities/{vi}/cwe/id"),
                format!(
                    "{} is not a weakness of the CWE catalog {}",
                    quote(id),
                    cwe::CATALOG_VERSION
                ),
            )),
            Some(expected) => {
                if let Some(name) = str_of(c, "name")
                    && name != expected
                {
                    out.push(err(
                        "6.1.11",
                        format!("/vulnerabilities/{vi}/cwe/name"),
                        format!(
                            "the name of {id} is {}, not {}",
                            quote(expected),
                            quote(name)
                        ),
                    ));
                }
            }
        }
    }
}

/// 6.1.12 Language: `lang` and `source_lang` are valid BCP 47 tags with registered subtags.
pub(crate) fn t_6_1_12(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for key in ["lang", "source_lang"] {
        let path = format!("/document/{key}");
        if let Some(tag) = ctx.text(&path)
            && let Some(reason) = langtag::invalid_reason(tag)
        {
            out.push(err(
                "6.1.12",
                path,
                format!("language {} {reason}", quote(tag)),
            ));
        }
    }
}

/// 6.1.13 PURL: every `purl` parses according to the purl specification (including the rules
/// of the known package types, e.g. `oci` has no namespace).
pub(crate) fn t_6_1_13(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for p in ctx.products() {
        let Some(purl) = p
            .node
            .get("product_identification_helper")
            .and_then(|h| str_of(h, "purl"))
        else {
            continue;
        };
        if let Err(e) = packageurl::PackageUrl::from_str(purl) {
            out.push(err(
                "6.1.13",
                format!("{}/product_identification_helper/purl", p.path),
                format!("{} is not a valid package URL: {e}", quote(purl)),
            ));
        }
    }
}

/// A revision history item with the fields the version tests need.
struct Revision<'a> {
    index: usize,
    number: &'a str,
    date: Option<Timestamp>,
}

/// The revision history items that have a string `number` and `date`, sorted ascending by
/// date and, for equal dates, by number (the order CSAF 2.1 made explicit; without it equal
/// timestamps give false failures, oasis-tcs/csaf#628).
fn sorted_revisions(doc: &Value) -> Vec<Revision<'_>> {
    let mut revs: Vec<Revision<'_>> = arr(doc.pointer("/document/tracking/revision_history"))
        .iter()
        .enumerate()
        .filter_map(|(index, r)| {
            let number = str_of(r, "number")?;
            let date = parse_rfc3339(str_of(r, "date")?).ok();
            Some(Revision {
                index,
                number,
                date,
            })
        })
        .collect();
    revs.sort_by(|a, b| {
        a.date
            .cmp(&b.date)
            .then_with(|| SortKey::new(a.number).cmp(&SortKey::new(b.number)))
            .then(a.index.cmp(&b.index))
    });
    revs
}

fn tracking_str<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.pointer("/document/tracking")
        .and_then(|t| str_of(t, key))
}

/// 6.1.14 Sorted Revision History: sorted by date, the numbers ascend.
pub(crate) fn t_6_1_14(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let revs = sorted_revisions(ctx.doc);
    let mut seen: HashSet<SortKey<'_>> = HashSet::new();
    let mut previous: Option<(&Revision<'_>, SortKey<'_>)> = None;
    for r in &revs {
        if Version::parse(r.number).is_none() {
            continue;
        }
        let key = SortKey::new(r.number);
        // A number used twice is 6.1.22's finding, not a disorder.
        if !seen.insert(key) {
            continue;
        }
        if let Some((p, pk)) = previous
            && key < pk
        {
            out.push(err(
                "6.1.14",
                format!("/document/tracking/revision_history/{}/number", r.index),
                format!(
                    "revision {} is dated after revision {}, so the numbers do not ascend with the dates",
                    quote(r.number),
                    quote(p.number)
                ),
            ));
        }
        previous = Some((r, key));
    }
}

/// 6.1.15 Translator: a translator's document has `source_lang`.
pub(crate) fn t_6_1_15(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if ctx.text("/document/publisher/category") == Some("translator")
        && ctx.text("/document/source_lang").is_none_or(str::is_empty)
    {
        out.push(err(
            "6.1.15",
            "/document/source_lang",
            "the publisher is a translator, so source_lang must be set",
        ));
    }
}

/// 6.1.16 Latest Document Version: the version equals the number of the last revision when
/// sorted by date (build metadata ignored; pre-release ignored for drafts).
pub(crate) fn t_6_1_16(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let Some(version) = tracking_str(ctx.doc, "version") else {
        return;
    };
    let revs = sorted_revisions(ctx.doc);
    let Some(last) = revs.last() else { return };
    let draft = tracking_str(ctx.doc, "status") == Some("draft");
    let normalize = |v: &'_ str| -> String {
        let v = v.split('+').next().unwrap_or_default();
        if draft {
            v.split('-').next().unwrap_or_default().to_owned()
        } else {
            v.to_owned()
        }
    };
    if normalize(version) != normalize(last.number) {
        out.push(err(
            "6.1.16",
            "/document/tracking/version",
            format!(
                "version is {} but the latest revision (by date) is {}",
                quote(version),
                quote(last.number)
            ),
        ));
    }
}

fn status_final_or_interim(doc: &Value) -> Option<&str> {
    tracking_str(doc, "status").filter(|s| *s == "final" || *s == "interim")
}

/// 6.1.17 Document Status Draft: version 0, 0.y.z or a pre-release requires status `draft`.
pub(crate) fn t_6_1_17(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let (Some(version), Some(status)) = (
        tracking_str(ctx.doc, "version"),
        tracking_str(ctx.doc, "status"),
    ) else {
        return;
    };
    if status == "draft" {
        return;
    }
    if let Some(v) = Version::parse(version)
        && (v.major() == "0" || v.pre().is_some())
    {
        out.push(err(
            "6.1.17",
            "/document/tracking/status",
            format!(
                "status is {} but version {} is a draft version",
                quote(status),
                quote(version)
            ),
        ));
    }
}

fn revision_numbers(doc: &Value) -> impl Iterator<Item = (usize, &str)> {
    arr(doc.pointer("/document/tracking/revision_history"))
        .iter()
        .enumerate()
        .filter_map(|(i, r)| str_of(r, "number").map(|n| (i, n)))
}

/// 6.1.18 Released Revision History: final/interim documents have no revision 0 or 0.y.z.
pub(crate) fn t_6_1_18(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let Some(status) = status_final_or_interim(ctx.doc) else {
        return;
    };
    for (i, n) in revision_numbers(ctx.doc) {
        if Version::parse(n).is_some_and(|v| v.major() == "0") {
            out.push(err(
                "6.1.18",
                format!("/document/tracking/revision_history/{i}/number"),
                format!(
                    "status is {} but the revision history has the draft number {}",
                    quote(status),
                    quote(n)
                ),
            ));
        }
    }
}

/// 6.1.19 Revision History Entries for Pre-release Versions.
pub(crate) fn t_6_1_19(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (i, n) in revision_numbers(ctx.doc) {
        if let Some(pre) = Version::parse(n).and_then(|v| v.pre()) {
            out.push(err(
                "6.1.19",
                format!("/document/tracking/revision_history/{i}/number"),
                format!(
                    "revision number {} has the pre-release part {}",
                    quote(n),
                    quote(pre)
                ),
            ));
        }
    }
}

/// 6.1.20 Non-draft Document Version: final/interim versions have no pre-release part.
pub(crate) fn t_6_1_20(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let Some(status) = status_final_or_interim(ctx.doc) else {
        return;
    };
    let Some(version) = tracking_str(ctx.doc, "version") else {
        return;
    };
    if let Some(pre) = Version::parse(version).and_then(|v| v.pre()) {
        out.push(err(
            "6.1.20",
            "/document/tracking/version",
            format!(
                "status is {} but version {} has the pre-release part {}",
                quote(status),
                quote(version),
                quote(pre)
            ),
        ));
    }
}

/// 6.1.21 Missing Item in Revision History: sorted by date, no (major) version is skipped and
/// the first one is 0 or 1.
pub(crate) fn t_6_1_21(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let mut majors: Vec<&str> = Vec::new();
    for r in sorted_revisions(ctx.doc) {
        if let Some(v) = Version::parse(r.number)
            && !majors.contains(&v.major())
        {
            majors.push(v.major());
        }
    }
    let Some(first) = majors.first() else { return };
    const PATH: &str = "/document/tracking/revision_history";
    if *first != "0" && *first != "1" {
        out.push(err(
            "6.1.21",
            PATH,
            format!("sorted by date, the revision history starts with version {first}, not 0 or 1"),
        ));
    }
    for pair in majors.windows(2) {
        let [a, b] = pair else { continue };
        // Numbers beyond u64 are beyond any real revision history.
        let (Ok(x), Ok(y)) = (a.parse::<u64>(), b.parse::<u64>()) else {
            continue;
        };
        if y > x.saturating_add(1) {
            let missing = if y - x == 2 {
                format!("version {} is", x + 1)
            } else {
                format!("versions {} to {} are", x + 1, y - 1)
            };
            out.push(err(
                "6.1.21",
                PATH,
                format!("{missing} missing between {a} and {b} (sorted by date)"),
            ));
        }
    }
}

/// 6.1.22 Multiple Definition in Revision History.
pub(crate) fn t_6_1_22(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, n) in revision_numbers(ctx.doc) {
        match first.get(n) {
            Some(at) => out.push(err(
                "6.1.22",
                format!("/document/tracking/revision_history/{i}/number"),
                format!("revision number {} is already used at /document/tracking/revision_history/{at}", quote(n)),
            )),
            None => _ = first.insert(n, i),
        }
    }
}

/// 6.1.23 Multiple Use of Same CVE.
pub(crate) fn t_6_1_23(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let Some(cve) = str_of(v, "cve") else {
            continue;
        };
        match first.get(cve) {
            Some(at) => out.push(err(
                "6.1.23",
                format!("/vulnerabilities/{vi}/cve"),
                format!("{} is already used by /vulnerabilities/{at}", quote(cve)),
            )),
            None => _ = first.insert(cve, vi),
        }
    }
}

/// A date as an instant when it parses, else as written (the schema reports it).
#[derive(PartialEq, Eq, Hash)]
enum DateKey<'a> {
    Instant(Timestamp),
    Raw(&'a str),
}

/// 6.1.24 Multiple Definition in Involvements: the same party at the same date only once. Two
/// undated involvements of one party share the tuple (party, no date), as in csaf-rs.
pub(crate) fn t_6_1_24(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let mut first: HashMap<(&str, Option<DateKey<'_>>), usize> = HashMap::new();
        for (ii, inv) in arr(v.get("involvements")).iter().enumerate() {
            let Some(party) = str_of(inv, "party") else {
                continue;
            };
            let date = str_of(inv, "date");
            let key = (
                party,
                date.map(|d| parse_rfc3339(d).map_or(DateKey::Raw(d), DateKey::Instant)),
            );
            match first.get(&key) {
                Some(at) => out.push(err(
                    "6.1.24",
                    format!("/vulnerabilities/{vi}/involvements/{ii}"),
                    format!(
                        "party {} already has an involvement {} (/vulnerabilities/{vi}/involvements/{at})",
                        quote(party),
                        date.map_or_else(|| "without date".to_owned(), |d| format!("at {}", quote(d)))
                    ),
                )),
                None => _ = first.insert(key, ii),
            }
        }
    }
}

/// 6.1.25 Multiple Use of Same Hash Algorithm (within one `file_hashes` list).
pub(crate) fn t_6_1_25(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (path, h) in ctx.hash_items() {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (fi, f) in arr(h.get("file_hashes")).iter().enumerate() {
            let Some(alg) = str_of(f, "algorithm") else {
                continue;
            };
            match seen.get(&alg.to_ascii_lowercase()) {
                Some(at) => out.push(err(
                    "6.1.25",
                    format!("{path}/file_hashes/{fi}"),
                    format!(
                        "hash algorithm {} is already used in file_hashes/{at} of the same item",
                        quote(alg)
                    ),
                )),
                None => _ = seen.insert(alg.to_ascii_lowercase(), fi),
            }
        }
    }
}

/// 6.1.26 Prohibited Document Category Name: a CSAF Base category must not look like another
/// profile's name or value (case, `-`, `_` and whitespace ignored), nor start with `csaf_`.
pub(crate) fn t_6_1_26(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    const PROFILE_VALUES: [&str; 5] = [
        "csaf_base",
        "csaf_security_incident_response",
        "csaf_informational_advisory",
        "csaf_security_advisory",
        "csaf_vex",
    ];
    // The other profiles' names ("Security Advisory") and values ("csaf_security_advisory"),
    // normalized.
    const PROHIBITED: [&str; 8] = [
        "securityincidentresponse",
        "informationaladvisory",
        "securityadvisory",
        "vex",
        "csafsecurityincidentresponse",
        "csafinformationaladvisory",
        "csafsecurityadvisory",
        "csafvex",
    ];
    let Some(category) = ctx.category() else {
        return;
    };
    if PROFILE_VALUES.contains(&category) {
        return;
    }
    let lower = category.to_lowercase();
    if lower.starts_with("csaf_") {
        out.push(err(
            "6.1.26",
            "/document/category",
            format!(
                "category {} uses the reserved prefix csaf_",
                quote(category)
            ),
        ));
        return;
    }
    let normalized: String = lower
        .chars()
        .filter(|c| !matches!(c, '-' | '_') && !c.is_whitespace())
        .collect();
    if PROHIBITED.contains(&normalized.as_str()) {
        out.push(err(
            "6.1.26",
            "/document/category",
            format!(
                "category {} is the name or value of another profile",
                quote(category)
            ),
        ));
    }
}

/// 6.1.27.1 Document Notes (informational advisory, security incident response).
pub(crate) fn t_6_1_27_1(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if !matches!(
        profile(ctx.category()),
        Some(Profile::InformationalAdvisory | Profile::SecurityIncidentResponse)
    ) {
        return;
    }
    let ok = arr(ctx.doc.pointer("/document/notes")).iter().any(|n| {
        matches!(
            str_of(n, "category"),
            Some("description" | "details" | "general" | "summary")
        )
    });
    if !ok {
        out.push(err("6.1.27.1", "/document/notes", "this profile needs a document note of category description, details, general or summary"));
    }
}

/// 6.1.27.2 Document References (informational advisory, security incident response).
pub(crate) fn t_6_1_27_2(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if !matches!(
        profile(ctx.category()),
        Some(Profile::InformationalAdvisory | Profile::SecurityIncidentResponse)
    ) {
        return;
    }
    // `category` defaults to `external` (schema `references_t`).
    let ok = arr(ctx.doc.pointer("/document/references"))
        .iter()
        .any(|r| r.is_object() && str_of(r, "category").unwrap_or("external") == "external");
    if !ok {
        out.push(err(
            "6.1.27.2",
            "/document/references",
            "this profile needs a document reference of category external",
        ));
    }
}

/// 6.1.27.3 Vulnerabilities (informational advisory): there are none.
pub(crate) fn t_6_1_27_3(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if profile(ctx.category()) == Some(Profile::InformationalAdvisory)
        && has(ctx.doc, "vulnerabilities")
    {
        out.push(err(
            "6.1.27.3",
            "/vulnerabilities",
            "an informational advisory must not have vulnerabilities",
        ));
    }
}

fn advisory_or_vex(ctx: &Ctx<'_>) -> bool {
    matches!(
        profile(ctx.category()),
        Some(Profile::SecurityAdvisory | Profile::Vex)
    )
}

/// 6.1.27.4 Product Tree (security advisory, VEX).
pub(crate) fn t_6_1_27_4(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if advisory_or_vex(ctx) && !has(ctx.doc, "product_tree") {
        out.push(err("6.1.27.4", "", "this profile needs /product_tree"));
    }
}

/// 6.1.27.5 Vulnerability Notes (security advisory, VEX).
pub(crate) fn t_6_1_27_5(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if !advisory_or_vex(ctx) {
        return;
    }
    out.extend(ctx.vulnerabilities_without(&["notes"]).map(|path| {
        err(
            "6.1.27.5",
            path,
            "this profile needs notes in every vulnerability",
        )
    }));
}

/// 6.1.27.6 Product Status (security advisory).
pub(crate) fn t_6_1_27_6(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if profile(ctx.category()) != Some(Profile::SecurityAdvisory) {
        return;
    }
    out.extend(
        ctx.vulnerabilities_without(&["product_status"])
            .map(|path| {
                err(
                    "6.1.27.6",
                    path,
                    "a security advisory needs product_status in every vulnerability",
                )
            }),
    );
}

/// 6.1.27.7 VEX Product Status: fixed, known_affected, known_not_affected or
/// under_investigation.
pub(crate) fn t_6_1_27_7(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if profile(ctx.category()) != Some(Profile::Vex) {
        return;
    }
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let ps = v.get("product_status");
        let ok = ps.is_some_and(|ps| {
            [
                "fixed",
                "known_affected",
                "known_not_affected",
                "under_investigation",
            ]
            .iter()
            .any(|k| has(ps, k))
        });
        if !ok {
            let path = if ps.is_some() {
                format!("/vulnerabilities/{vi}/product_status")
            } else {
                format!("/vulnerabilities/{vi}")
            };
            out.push(err(
                "6.1.27.7",
                path,
                "a VEX document needs fixed, known_affected, known_not_affected or under_investigation in every product_status",
            ));
        }
    }
}

/// 6.1.27.8 Vulnerability ID (VEX): `cve` or `ids`.
pub(crate) fn t_6_1_27_8(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if profile(ctx.category()) != Some(Profile::Vex) {
        return;
    }
    out.extend(ctx.vulnerabilities_without(&["cve", "ids"]).map(|path| {
        err(
            "6.1.27.8",
            path,
            "a VEX document needs cve or ids in every vulnerability",
        )
    }));
}

/// 6.1.27.9 Impact Statement (VEX): each known_not_affected product has a flag or an `impact`
/// threat, directly or through a product group.
pub(crate) fn t_6_1_27_9(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if profile(ctx.category()) != Some(Profile::Vex) {
        return;
    }
    each_uncovered(
        ctx,
        &["known_not_affected"],
        |v| {
            let impact_threats = arr(v.get("threats"))
                .iter()
                .filter(|t| str_of(t, "category") == Some("impact"));
            ctx.covered(arr(v.get("flags")).iter().chain(impact_threats))
        },
        |path, _, p| {
            out.push(err(
                "6.1.27.9",
                path,
                format!(
                    "product {} is known_not_affected but has no impact statement (flag or \
                     threat of category impact)",
                    quote(p)
                ),
            ));
        },
    );
}

/// 6.1.27.10 Action Statement (VEX): each known_affected product has a remediation.
pub(crate) fn t_6_1_27_10(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if profile(ctx.category()) != Some(Profile::Vex) {
        return;
    }
    each_uncovered(
        ctx,
        &["known_affected"],
        |v| ctx.covered(arr(v.get("remediations")).iter()),
        |path, _, p| {
            out.push(err(
                "6.1.27.10",
                path,
                format!(
                    "product {} is known_affected but has no action statement (remediation)",
                    quote(p)
                ),
            ));
        },
    );
}

/// 6.1.27.11 Vulnerabilities (security advisory, VEX): they exist.
pub(crate) fn t_6_1_27_11(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    if advisory_or_vex(ctx) && !has(ctx.doc, "vulnerabilities") {
        out.push(err("6.1.27.11", "", "this profile needs /vulnerabilities"));
    }
}

/// 6.1.28 Translation: `source_lang` differs from `lang` (tags compare case-insensitively).
pub(crate) fn t_6_1_28(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let lang = ctx.text("/document/lang");
    let source = ctx.text("/document/source_lang");
    if let (Some(l), Some(s)) = (lang, source)
        && l.eq_ignore_ascii_case(s)
    {
        out.push(err(
            "6.1.28",
            "/document/source_lang",
            format!("source_lang {} is the same as lang {}", quote(s), quote(l)),
        ));
    }
}

fn without_product_reference(
    ctx: &Ctx<'_>,
    out: &mut Vec<Finding>,
    id: &'static str,
    key: &str,
    what: &str,
) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        for (xi, x) in arr(v.get(key)).iter().enumerate() {
            if x.is_object() && !has(x, "product_ids") && !has(x, "group_ids") {
                out.push(err(
                    id,
                    format!("/vulnerabilities/{vi}/{key}/{xi}"),
                    format!("the {what} names neither product_ids nor group_ids"),
                ));
            }
        }
    }
}

/// 6.1.29 Remediation without Product Reference.
pub(crate) fn t_6_1_29(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    without_product_reference(ctx, out, "6.1.29", "remediations", "remediation");
}

/// 6.1.30 Mixed Integer and Semantic Versioning.
pub(crate) fn t_6_1_30(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let mut items: Vec<(String, &str)> = revision_numbers(ctx.doc)
        .map(|(i, n)| (format!("/document/tracking/revision_history/{i}/number"), n))
        .collect();
    if let Some(v) = tracking_str(ctx.doc, "version") {
        items.push(("/document/tracking/version".to_owned(), v));
    }
    let kind = |s: &str| Version::parse(s).map(|v| matches!(v, Version::Integer(_)));
    let Some((first_path, first_integer)) = items
        .iter()
        .find_map(|(p, n)| kind(n).map(|k| (p.clone(), k)))
    else {
        return;
    };
    let scheme = |integer: bool| if integer { "integer" } else { "semantic" };
    for (path, n) in items {
        if kind(n).is_some_and(|k| k != first_integer) {
            out.push(err(
                "6.1.30",
                path,
                format!(
                    "{} uses {} versioning but {first_path} uses {} versioning",
                    quote(n),
                    scheme(!first_integer),
                    scheme(first_integer)
                ),
            ));
        }
    }
}

/// 6.1.31 Version Range in Product Version: a `product_version` name contains none of `<`,
/// `<=`, `>`, `>=` and none of the words after, all, before, earlier, later, prior, versions
/// (as words: "overall" or "install" are no ranges).
pub(crate) fn t_6_1_31(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    const WORDS: [&str; 7] = [
        "after", "all", "before", "earlier", "later", "prior", "versions",
    ];
    for b in ctx.branches() {
        if str_of(b.node, "category") != Some("product_version") {
            continue;
        }
        let Some(name) = str_of(b.node, "name") else {
            continue;
        };
        let lower = name.to_lowercase();
        let hit =
            lower.contains(['<', '>']) || lower.split_whitespace().any(|w| WORDS.contains(&w));
        if hit {
            out.push(err(
                "6.1.31",
                format!("{}/name", b.path),
                format!("product_version {} looks like a version range", quote(name)),
            ));
        }
    }
}

/// 6.1.32 Flag without Product Reference.
pub(crate) fn t_6_1_32(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    without_product_reference(ctx, out, "6.1.32", "flags", "flag");
}

/// The VEX justification codes of CSAF 2.0 (section 3.2.3.5).
const VEX_JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "inline_mitigations_already_exist",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_not_present",
];

/// 6.1.33 Multiple Flags with VEX Justification Codes per Product (groups included).
pub(crate) fn t_6_1_33(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (fi, f) in arr(v.get("flags")).iter().enumerate() {
            if !str_of(f, "label").is_some_and(|l| VEX_JUSTIFICATIONS.contains(&l)) {
                continue;
            }
            let mut reported = false;
            for p in ctx.expand_products(f) {
                match first.get(p) {
                    Some(&at) if !reported => {
                        reported = true;
                        out.push(err(
                            "6.1.33",
                            format!("/vulnerabilities/{vi}/flags/{fi}"),
                            format!("product {} already has a VEX justification flag at /vulnerabilities/{vi}/flags/{at}", quote(p)),
                        ));
                    }
                    Some(_) => {}
                    None => _ = first.insert(p, fi),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::run_alone;
    use super::*;
    use serde_json::json;

    /// The paths of the findings of `check` on `doc`.
    fn run(check: super::super::Check, doc: &Value) -> Vec<String> {
        run_alone(check, doc).into_iter().map(|f| f.path).collect()
    }

    #[test]
    fn circular_relationships_include_those_leading_into_a_circle() {
        let doc = json!({"product_tree": {
        "full_product_names": [{"product_id": "A", "name": "A"}],
        "relationships": [
            {"product_reference": "A", "relates_to_product_reference": "C", "full_product_name": {"product_id": "B", "name": "B"}},
            {"product_reference": "D", "relates_to_product_reference": "A", "full_product_name": {"product_id": "C", "name": "C"}},
            {"product_reference": "C", "relates_to_product_reference": "A", "full_product_name": {"product_id": "D", "name": "D"}},
            {"product_reference": "A", "relates_to_product_reference": "A", "full_product_name": {"product_id": "E", "name": "E"}},
            {"product_reference": "F", "relates_to_product_reference": "A", "full_product_name": {"product_id": "F", "name": "F"}}
        ]}});
        let rel =
            |i: usize| format!("/product_tree/relationships/{i}/full_product_name/product_id");
        assert_eq!(run(t_6_1_3, &doc), [rel(0), rel(1), rel(2), rel(4)]);
    }

    #[test]
    fn revision_history_with_equal_timestamps_sorts_by_number() {
        let doc = json!({"document": {"tracking": {"status": "final", "version": "2", "revision_history": [
            {"date": "2021-07-21T10:00:00Z", "number": "2"},
            {"date": "2021-07-21T10:00:00Z", "number": "1"}]}}});
        assert!(run(t_6_1_14, &doc).is_empty());
        assert!(run(t_6_1_16, &doc).is_empty());
        assert!(run(t_6_1_21, &doc).is_empty());
    }

    #[test]
    fn missing_versions_are_named_once_per_gap() {
        let doc = json!({"document": {"tracking": {"revision_history": [
            {"date": "2021-07-21T10:00:00Z", "number": "2.0.0"},
            {"date": "2021-07-22T10:00:00Z", "number": "5.1.0"}]}}});
        let out = run_alone(t_6_1_21, &doc);
        let msgs: Vec<&str> = out.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "sorted by date, the revision history starts with version 2, not 0 or 1",
                "versions 3 to 4 are missing between 2 and 5 (sorted by date)"
            ]
        );
    }

    #[test]
    fn prohibited_categories() {
        for (cat, bad) in [
            ("Csaf_a", true),
            ("Informational Advisory", true),
            ("security-incident-response", true),
            ("Security      Advisory", true),
            ("veX", true),
            ("V_eX", true),
            ("csafsecurityadvisory", true),
            ("csaf_vex", false),
            ("csaf_base", false),
            ("Example Company Advisory", false),
            ("csafbase", false),
        ] {
            let doc = json!({"document": {"category": cat}});
            assert_eq!(!run(t_6_1_26, &doc).is_empty(), bad, "{cat}");
        }
    }

    #[test]
    fn version_range_words() {
        for (name, bad) in [
            ("prior to 4.2", true),
            ("<=4", true),
            ("ALL", true),
            ("overall otter", false),
            ("2.4.X", false),
            ("install 1.0", false),
        ] {
            let doc = json!({"product_tree": {"branches": [{"category": "product_version", "name": name}]}});
            assert_eq!(!run(t_6_1_31, &doc).is_empty(), bad, "{name}");
        }
    }

    #[test]
    fn purls() {
        let check = |purl: &str| {
            let doc = json!({"product_tree": {"full_product_names": [
                {"name": "A", "product_id": "A", "product_identification_helper": {"purl": purl}}]}});
            run(t_6_1_13, &doc).is_empty()
        };
        for ok in [
            "pkg:maven/com.example/product-A",
            "pkg:oci/product-A@sha256%3Add134261219b2?repository_url=https://registry.example.com",
            "pkg:npm/%40angular/animation@12.3.1",
            "pkg:generic/openssl@1.1.10g?download_url=https://openssl.org/source/openssl-1.1.0g.tar.gz",
        ] {
            assert!(check(ok), "{ok}");
        }
        for bad in [
            "pkg:maven/@1.3.4",
            "pkg:oci/com.example/product-A@sha256%3Add134261219b2",
            "http://maven/logging@1.3.4",
            "somepackage",
            "",
        ] {
            assert!(!check(bad), "{bad}");
        }
        // Whatever the verdict, odd input must not panic.
        for odd in [
            "pkg:",
            "pkg:/",
            "pkg:a/%",
            "pkg:a/b@%FF",
            "pkg:a/b?x=%zz&&=",
            "pkg:a/b#%/..//",
            "pkg:ä/ö@ü",
            "pkg:a/b?=1",
        ] {
            let _ = check(odd);
        }
    }

    #[test]
    fn vex_flags_through_groups() {
        let doc = json!({
            "product_tree": {"product_groups": [{"group_id": "G", "product_ids": ["A", "B"]}]},
            "vulnerabilities": [{"flags": [
                {"label": "component_not_present", "group_ids": ["G"]},
                {"label": "vulnerable_code_cannot_be_controlled_by_adversary", "product_ids": ["A"]}]}]});
        assert_eq!(run(t_6_1_33, &doc), ["/vulnerabilities/0/flags/1"]);
    }
}
