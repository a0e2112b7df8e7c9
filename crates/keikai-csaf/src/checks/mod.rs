//! The tests of CSAF 2.0 section 6 (mandatory 6.1, optional 6.2, informative 6.3).
//!
//! Every test reads the document as a `serde_json::Value`, not as the typed model: it must also
//! run on documents that fail the JSON schema, and it reports exact JSON pointers. Wrong types are
//! skipped silently (the schema reports them), so no test can panic on any JSON.
//!
//! A [`Ctx`] wraps one document and computes, once and only when a test asks, what several tests
//! share: the branches, the product definitions, the product groups and every product reference.

pub(crate) mod cvss;
pub(crate) mod cwe;
pub(crate) mod informative;
pub(crate) mod langtag;
pub(crate) mod mandatory;
pub(crate) mod optional;
pub(crate) mod version;

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::finding::{Finding, escape_pointer_token};
use crate::validator::{SpellChecker, UrlChecker};

/// One test: reads the context, appends its findings.
pub(crate) type Check = fn(&Ctx<'_>, &mut Vec<Finding>);

/// The findings of one check on `doc`, without URL or spell checker (for the checks' unit tests).
#[cfg(test)]
pub(crate) fn run_alone(check: Check, doc: &Value) -> Vec<Finding> {
    let ctx = Ctx::new(doc, None, None);
    let mut out = Vec::new();
    check(&ctx, &mut out);
    out
}

/// The three groups of section 6; they decide the severity of a finding and the preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    Mandatory,
    Optional,
    Informative,
}

pub(crate) struct TestDef {
    pub(crate) id: &'static str,
    pub(crate) group: Group,
    pub(crate) run: Check,
}

const fn m(id: &'static str, run: Check) -> TestDef {
    TestDef {
        id,
        group: Group::Mandatory,
        run,
    }
}
const fn o(id: &'static str, run: Check) -> TestDef {
    TestDef {
        id,
        group: Group::Optional,
        run,
    }
}
const fn i(id: &'static str, run: Check) -> TestDef {
    TestDef {
        id,
        group: Group::Informative,
        run,
    }
}

/// Every test of section 6, in the order of the specification.
pub(crate) static TESTS: &[TestDef] = &[
    m("6.1.1", mandatory::t_6_1_1),
    m("6.1.2", mandatory::t_6_1_2),
    m("6.1.3", mandatory::t_6_1_3),
    m("6.1.4", mandatory::t_6_1_4),
    m("6.1.5", mandatory::t_6_1_5),
    m("6.1.6", mandatory::t_6_1_6),
    m("6.1.7", mandatory::t_6_1_7),
    m("6.1.8", cvss::t_6_1_8),
    m("6.1.9", cvss::t_6_1_9),
    m("6.1.10", cvss::t_6_1_10),
    m("6.1.11", mandatory::t_6_1_11),
    m("6.1.12", mandatory::t_6_1_12),
    m("6.1.13", mandatory::t_6_1_13),
    m("6.1.14", mandatory::t_6_1_14),
    m("6.1.15", mandatory::t_6_1_15),
    m("6.1.16", mandatory::t_6_1_16),
    m("6.1.17", mandatory::t_6_1_17),
    m("6.1.18", mandatory::t_6_1_18),
    m("6.1.19", mandatory::t_6_1_19),
    m("6.1.20", mandatory::t_6_1_20),
    m("6.1.21", mandatory::t_6_1_21),
    m("6.1.22", mandatory::t_6_1_22),
    m("6.1.23", mandatory::t_6_1_23),
    m("6.1.24", mandatory::t_6_1_24),
    m("6.1.25", mandatory::t_6_1_25),
    m("6.1.26", mandatory::t_6_1_26),
    m("6.1.27.1", mandatory::t_6_1_27_1),
    m("6.1.27.2", mandatory::t_6_1_27_2),
    m("6.1.27.3", mandatory::t_6_1_27_3),
    m("6.1.27.4", mandatory::t_6_1_27_4),
    m("6.1.27.5", mandatory::t_6_1_27_5),
    m("6.1.27.6", mandatory::t_6_1_27_6),
    m("6.1.27.7", mandatory::t_6_1_27_7),
    m("6.1.27.8", mandatory::t_6_1_27_8),
    m("6.1.27.9", mandatory::t_6_1_27_9),
    m("6.1.27.10", mandatory::t_6_1_27_10),
    m("6.1.27.11", mandatory::t_6_1_27_11),
    m("6.1.28", mandatory::t_6_1_28),
    m("6.1.29", mandatory::t_6_1_29),
    m("6.1.30", mandatory::t_6_1_30),
    m("6.1.31", mandatory::t_6_1_31),
    m("6.1.32", mandatory::t_6_1_32),
    m("6.1.33", mandatory::t_6_1_33),
    o("6.2.1", optional::t_6_2_1),
    o("6.2.2", optional::t_6_2_2),
    o("6.2.3", optional::t_6_2_3),
    o("6.2.4", optional::t_6_2_4),
    o("6.2.5", optional::t_6_2_5),
    o("6.2.6", optional::t_6_2_6),
    o("6.2.7", optional::t_6_2_7),
    o("6.2.8", optional::t_6_2_8),
    o("6.2.9", optional::t_6_2_9),
    o("6.2.10", optional::t_6_2_10),
    o("6.2.11", optional::t_6_2_11),
    o("6.2.12", optional::t_6_2_12),
    o("6.2.13", optional::t_6_2_13),
    o("6.2.14", optional::t_6_2_14),
    o("6.2.15", optional::t_6_2_15),
    o("6.2.16", optional::t_6_2_16),
    o("6.2.17", optional::t_6_2_17),
    o("6.2.18", optional::t_6_2_18),
    o("6.2.19", cvss::t_6_2_19),
    o("6.2.20", optional::t_6_2_20),
    i("6.3.1", informative::t_6_3_1),
    i("6.3.2", informative::t_6_3_2),
    i("6.3.3", informative::t_6_3_3),
    i("6.3.4", informative::t_6_3_4),
    i("6.3.5", informative::t_6_3_5),
    i("6.3.6", informative::t_6_3_6),
    i("6.3.7", informative::t_6_3_7),
    i("6.3.8", informative::t_6_3_8),
    i("6.3.9", informative::t_6_3_9),
    i("6.3.10", informative::t_6_3_10),
    i("6.3.11", informative::t_6_3_11),
];

/// One branch of `/product_tree/branches` (at any depth).
pub(crate) struct Branch<'a> {
    /// JSON pointer to the branch object.
    pub(crate) path: String,
    pub(crate) node: &'a Value,
    /// Index of the parent branch in [`Ctx::branches`].
    pub(crate) parent: Option<usize>,
}

/// One element of type `full_product_name_t`: in a branch, in `full_product_names` or in a
/// relationship.
pub(crate) struct ProductDef<'a> {
    /// JSON pointer to the `full_product_name_t` object.
    pub(crate) path: String,
    pub(crate) node: &'a Value,
}

impl<'a> ProductDef<'a> {
    pub(crate) fn id(&self) -> Option<&'a str> {
        str_of(self.node, "product_id")
    }
}

/// A product id or group id used outside its definition.
pub(crate) struct IdRef<'a> {
    pub(crate) id: &'a str,
    /// JSON pointer to the string.
    pub(crate) path: String,
}

/// One document under test plus the caller's optional checkers.
pub(crate) struct Ctx<'a> {
    pub(crate) doc: &'a Value,
    pub(crate) url_checker: Option<&'a dyn UrlChecker>,
    pub(crate) spell_checker: Option<&'a dyn SpellChecker>,
    branches: OnceCell<Vec<Branch<'a>>>,
    products: OnceCell<Vec<ProductDef<'a>>>,
    groups: OnceCell<HashMap<&'a str, Vec<&'a str>>>,
    product_refs: OnceCell<Vec<IdRef<'a>>>,
}

/// The product status lists of a vulnerability, in schema order.
pub(crate) const STATUS_LISTS: [&str; 8] = [
    "first_affected",
    "first_fixed",
    "fixed",
    "known_affected",
    "known_not_affected",
    "last_affected",
    "recommended",
    "under_investigation",
];

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        doc: &'a Value,
        url_checker: Option<&'a dyn UrlChecker>,
        spell_checker: Option<&'a dyn SpellChecker>,
    ) -> Self {
        Self {
            doc,
            url_checker,
            spell_checker,
            branches: OnceCell::new(),
            products: OnceCell::new(),
            groups: OnceCell::new(),
            product_refs: OnceCell::new(),
        }
    }

    /// The string at a JSON pointer, if there is one.
    pub(crate) fn text(&self, pointer: &str) -> Option<&'a str> {
        self.doc.pointer(pointer).and_then(Value::as_str)
    }

    /// `/document/category`, if it is a string.
    pub(crate) fn category(&self) -> Option<&'a str> {
        self.text("/document/category")
    }

    pub(crate) fn vulnerabilities(&self) -> &'a [Value] {
        arr(self.doc.get("vulnerabilities"))
    }

    /// The pointers of the vulnerabilities that have none of `keys` (the tests that require a
    /// property in every vulnerability).
    pub(crate) fn vulnerabilities_without<'k>(
        &self,
        keys: &'k [&str],
    ) -> impl Iterator<Item = String> + use<'a, 'k> {
        self.vulnerabilities()
            .iter()
            .enumerate()
            .filter(|(_, v)| !keys.iter().any(|k| has(v, k)))
            .map(|(vi, _)| format!("/vulnerabilities/{vi}"))
    }

    /// All branches in document order (pre-order), walked without recursion so that no
    /// nesting depth can exhaust the stack.
    pub(crate) fn branches(&self) -> &[Branch<'a>] {
        self.branches.get_or_init(|| {
            let mut out = Vec::new();
            let mut stack: Vec<(String, &'a Value, Option<usize>)> = Vec::new();
            let top = arr(self.doc.pointer("/product_tree/branches"));
            for (idx, b) in top.iter().enumerate().rev() {
                stack.push((format!("/product_tree/branches/{idx}"), b, None));
            }
            while let Some((path, node, parent)) = stack.pop() {
                let me = out.len();
                for (idx, b) in arr(node.get("branches")).iter().enumerate().rev() {
                    stack.push((format!("{path}/branches/{idx}"), b, Some(me)));
                }
                out.push(Branch { path, node, parent });
            }
            out
        })
    }

    /// Every `full_product_name_t`: branches first, then `full_product_names`, then
    /// relationships (the order of the keys in a sorted document).
    pub(crate) fn products(&self) -> &[ProductDef<'a>] {
        self.products.get_or_init(|| {
            let mut out = Vec::new();
            for b in self.branches() {
                if let Some(p) = b.node.get("product") {
                    out.push(ProductDef {
                        path: format!("{}/product", b.path),
                        node: p,
                    });
                }
            }
            let fpns = arr(self.doc.pointer("/product_tree/full_product_names"));
            for (idx, p) in fpns.iter().enumerate() {
                out.push(ProductDef {
                    path: format!("/product_tree/full_product_names/{idx}"),
                    node: p,
                });
            }
            let rels = arr(self.doc.pointer("/product_tree/relationships"));
            for (idx, r) in rels.iter().enumerate() {
                if let Some(p) = r.get("full_product_name") {
                    out.push(ProductDef {
                        path: format!("/product_tree/relationships/{idx}/full_product_name"),
                        node: p,
                    });
                }
            }
            out
        })
    }

    /// Product groups: `group_id` to its product ids. A group id defined twice (test 6.1.5)
    /// keeps its first definition.
    pub(crate) fn groups(&self) -> &HashMap<&'a str, Vec<&'a str>> {
        self.groups.get_or_init(|| {
            let mut out: HashMap<&'a str, Vec<&'a str>> = HashMap::new();
            for g in arr(self.doc.pointer("/product_tree/product_groups")) {
                if let Some(id) = str_of(g, "group_id") {
                    out.entry(id)
                        .or_insert_with(|| strs(g.get("product_ids")).map(|(_, s)| s).collect());
                }
            }
            out
        })
    }

    /// Every product id used outside a `full_product_name_t` (the paths of test 6.1.1 plus
    /// `/vulnerabilities[]/flags[]/product_ids[]`, which the specification forgot:
    /// oasis-tcs/csaf#909).
    pub(crate) fn product_refs(&self) -> &[IdRef<'a>] {
        self.product_refs.get_or_init(|| {
            let mut out = Vec::new();
            for (gi, g) in arr(self.doc.pointer("/product_tree/product_groups"))
                .iter()
                .enumerate()
            {
                push_refs(
                    &mut out,
                    g.get("product_ids"),
                    &format!("/product_tree/product_groups/{gi}/product_ids"),
                );
            }
            for (ri, r) in arr(self.doc.pointer("/product_tree/relationships"))
                .iter()
                .enumerate()
            {
                for key in ["product_reference", "relates_to_product_reference"] {
                    if let Some(id) = str_of(r, key) {
                        out.push(IdRef {
                            id,
                            path: format!("/product_tree/relationships/{ri}/{key}"),
                        });
                    }
                }
            }
            for (vi, v) in self.vulnerabilities().iter().enumerate() {
                if let Some(ps) = v.get("product_status") {
                    for list in STATUS_LISTS {
                        push_refs(
                            &mut out,
                            ps.get(list),
                            &format!("/vulnerabilities/{vi}/product_status/{list}"),
                        );
                    }
                }
                for (key, ids) in [
                    ("remediations", "product_ids"),
                    ("scores", "products"),
                    ("threats", "product_ids"),
                    ("flags", "product_ids"),
                ] {
                    for (xi, x) in arr(v.get(key)).iter().enumerate() {
                        push_refs(
                            &mut out,
                            x.get(ids),
                            &format!("/vulnerabilities/{vi}/{key}/{xi}/{ids}"),
                        );
                    }
                }
            }
            out
        })
    }

    /// Every group id used outside `product_groups` (test 6.1.4 plus flags, oasis-tcs/csaf#909).
    pub(crate) fn group_refs(&self) -> Vec<IdRef<'a>> {
        let mut out = Vec::new();
        for (vi, v) in self.vulnerabilities().iter().enumerate() {
            for key in ["remediations", "threats", "flags"] {
                for (xi, x) in arr(v.get(key)).iter().enumerate() {
                    push_refs(
                        &mut out,
                        x.get("group_ids"),
                        &format!("/vulnerabilities/{vi}/{key}/{xi}/group_ids"),
                    );
                }
            }
        }
        out
    }

    /// The products that the given items (remediations, threats, flags) apply to, directly or
    /// through product groups: one set per vulnerability instead of a scan per product.
    pub(crate) fn covered<'v>(&self, items: impl Iterator<Item = &'v Value>) -> HashSet<&'v str>
    where
        'a: 'v,
    {
        let mut out = HashSet::new();
        for item in items {
            out.extend(self.expand_products(item));
        }
        out
    }

    /// Every item of a product's `product_identification_helper/hashes`, with its JSON pointer.
    pub(crate) fn hash_items(&self) -> impl Iterator<Item = (String, &'a Value)> + '_ {
        self.products().iter().flat_map(|p| {
            let hashes = p
                .node
                .get("product_identification_helper")
                .and_then(|h| h.get("hashes"));
            arr(hashes).iter().enumerate().map(move |(hi, h)| {
                (
                    format!("{}/product_identification_helper/hashes/{hi}", p.path),
                    h,
                )
            })
        })
    }

    /// The product ids an item (remediation, threat, flag) applies to, directly or through
    /// product groups, without duplicates, in order of appearance.
    pub(crate) fn expand_products<'v>(&self, item: &'v Value) -> Vec<&'v str>
    where
        'a: 'v,
    {
        let mut seen: HashSet<&'v str> = HashSet::new();
        let mut out: Vec<&'v str> = Vec::new();
        let groups = self.groups();
        let direct = strs(item.get("product_ids")).map(|(_, p)| p);
        let via_groups = strs(item.get("group_ids")).flat_map(|(_, g)| {
            groups
                .get(g)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .copied()
        });
        for p in direct.chain(via_groups) {
            if seen.insert(p) {
                out.push(p);
            }
        }
        out
    }
}

fn push_refs<'a>(out: &mut Vec<IdRef<'a>>, list: Option<&'a Value>, base: &str) {
    for (idx, id) in strs(list) {
        out.push(IdRef {
            id,
            path: format!("{base}/{idx}"),
        });
    }
}

/// The elements of an array, or nothing when the value is missing or not an array.
pub(crate) fn arr(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(a)) => a,
        _ => &[],
    }
}

/// The string elements of an array with their indices; other elements are skipped.
/// For every vulnerability with a `product_status`: each product of the lists `lists` that is
/// not in `covering(vulnerability)` goes to `report` with its JSON pointer and its list. The
/// "every product in list X needs a Y" tests share this.
pub(crate) fn each_uncovered<'a>(
    ctx: &Ctx<'a>,
    lists: &[&str],
    covering: impl Fn(&'a Value) -> HashSet<&'a str>,
    mut report: impl FnMut(String, &str, &'a str),
) {
    for (vi, v) in ctx.vulnerabilities().iter().enumerate() {
        let Some(ps) = v.get("product_status") else {
            continue;
        };
        let covered = covering(v);
        for list in lists {
            for (pi, p) in strs(ps.get(*list)) {
                if !covered.contains(p) {
                    report(
                        format!("/vulnerabilities/{vi}/product_status/{list}/{pi}"),
                        list,
                        p,
                    );
                }
            }
        }
    }
}

pub(crate) fn strs(v: Option<&Value>) -> impl Iterator<Item = (usize, &str)> {
    arr(v)
        .iter()
        .enumerate()
        .filter_map(|(idx, s)| s.as_str().map(|s| (idx, s)))
}

/// `v[key]` as a string.
pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Whether `v[key]` is present and not `null`.
pub(crate) fn has(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

/// `base` + `/` + escaped `key`.
pub(crate) fn join(base: &str, key: &str) -> String {
    format!("{base}/{}", escape_pointer_token(key))
}

/// A value for a message: quoted, with control characters escaped, cut at 200 characters so a
/// hostile document cannot blow up a report.
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 200;
    let mut out = String::with_capacity(s.len().min(MAX) + 2);
    out.push('"');
    for (n, c) in s.chars().enumerate() {
        if n == MAX {
            out.push('…');
            break;
        }
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The profile of a document category; `None` is CSAF Base (any other value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    SecurityIncidentResponse,
    InformationalAdvisory,
    SecurityAdvisory,
    Vex,
}

pub(crate) fn profile(category: Option<&str>) -> Option<Profile> {
    match category? {
        "csaf_security_incident_response" => Some(Profile::SecurityIncidentResponse),
        "csaf_informational_advisory" => Some(Profile::InformationalAdvisory),
        "csaf_security_advisory" => Some(Profile::SecurityAdvisory),
        "csaf_vex" => Some(Profile::Vex),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_test_id_is_unique_and_has_its_group() {
        let mut seen = HashSet::new();
        for t in TESTS {
            assert!(seen.insert(t.id), "{} twice", t.id);
            let expected = match &t.id[..3] {
                "6.1" => Group::Mandatory,
                "6.2" => Group::Optional,
                _ => Group::Informative,
            };
            assert_eq!(t.group, expected, "{}", t.id);
        }
        assert_eq!(TESTS.len(), 43 + 20 + 11);
    }

    #[test]
    fn branches_are_walked_in_document_order_with_parents() {
        let doc = json!({"product_tree": {"branches": [
            {"name": "a", "branches": [{"name": "a1"}, {"name": "a2", "branches": [{"name": "a21"}]}]},
            {"name": "b"}
        ]}});
        let ctx = Ctx::new(&doc, None, None);
        let got: Vec<(&str, Option<usize>)> = ctx
            .branches()
            .iter()
            .map(|b| (b.path.as_str(), b.parent))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/product_tree/branches/0", None),
                ("/product_tree/branches/0/branches/0", Some(0)),
                ("/product_tree/branches/0/branches/1", Some(0)),
                ("/product_tree/branches/0/branches/1/branches/0", Some(2)),
                ("/product_tree/branches/1", None),
            ]
        );
    }

    #[test]
    fn helpers_tolerate_wrong_types() {
        let doc = json!({"product_tree": {"branches": "x", "product_groups": [1, {"group_id": 2}]},
                         "vulnerabilities": {"a": 1}});
        let ctx = Ctx::new(&doc, None, None);
        assert!(ctx.branches().is_empty());
        assert!(ctx.products().is_empty());
        assert!(ctx.groups().is_empty());
        assert!(ctx.product_refs().is_empty());
        assert!(ctx.vulnerabilities().is_empty());
    }

    #[test]
    fn quote_cuts_and_escapes() {
        assert_eq!(quote("a\"b\n'c\\"), "\"a\\\"b\\n'c\\\\\"");
        assert_eq!(quote(&"x".repeat(500)).chars().count(), 200 + 3);
    }
}
