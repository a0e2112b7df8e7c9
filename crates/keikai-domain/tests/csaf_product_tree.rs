//! The catalogue's product tree: leaves become products, and the tree is a CSAF 2.0
//! `product_tree` (a document carrying it passes the CSAF schema and every test of the full
//! preset that concerns products).

#![allow(clippy::unwrap_used, reason = "test helpers")]

use jiff::Timestamp;
use keikai_csaf::{Preset, ValidationOptions, validate};
use keikai_domain::{Branch, BranchCategory, BranchId, BranchName, ProductTree};
use serde_json::json;

fn branch(parent: Option<&Branch>, category: BranchCategory, name: &str) -> Branch {
    Branch {
        id: BranchId::new(),
        parent_id: parent.map(|p| p.id),
        category,
        name: BranchName::parse(name).unwrap(),
        created_at: Timestamp::UNIX_EPOCH,
    }
}

#[test]
fn leaves_become_products() {
    let v = branch(None, BranchCategory::Vendor, "Example Corp");
    let p = branch(Some(&v), BranchCategory::ProductName, "Router X");
    let v1 = branch(Some(&p), BranchCategory::ProductVersion, "1.0");
    let v2 = branch(Some(&p), BranchCategory::ProductVersion, "2.0");
    let orphan = Branch {
        parent_id: Some(BranchId::new()),
        ..branch(None, BranchCategory::ProductName, "lost")
    };
    let tree = ProductTree::from_branches(&[v2.clone(), v.clone(), orphan, p.clone(), v1.clone()]);
    assert_eq!(tree.branches.len(), 1);
    let router = &tree.branches[0].branches[0];
    assert_eq!(router.product, None);
    let names: Vec<_> = router
        .branches
        .iter()
        .map(|b| b.product.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Example Corp Router X 1.0", "Example Corp Router X 2.0"]
    );
    assert_eq!(
        router.branches[0].product.as_ref().unwrap().product_id,
        v1.product_id()
    );
    assert_eq!(tree.count_products(), 2);
    let mut seen = Vec::new();
    tree.walk(&mut |n, depth, path| seen.push((depth, path.join("/"), n.name.clone())));
    assert_eq!(
        seen[0],
        (0, "Example Corp".to_owned(), "Example Corp".to_owned())
    );
    assert_eq!(
        seen[3],
        (2, "Example Corp/Router X/2.0".to_owned(), "2.0".to_owned())
    );
}

#[test]
fn catalogue_tree_is_a_valid_csaf_product_tree() {
    let vendor = branch(None, BranchCategory::Vendor, "Example Corp");
    let family = branch(Some(&vendor), BranchCategory::ProductFamily, "Routers");
    let product = branch(Some(&family), BranchCategory::ProductName, "Router X");
    let v1 = branch(Some(&product), BranchCategory::ProductVersion, "1.0");
    let v2 = branch(Some(&product), BranchCategory::ProductVersion, "2.0");
    let jp = branch(Some(&vendor), BranchCategory::ProductName, "ルーター Y");
    let jp1 = branch(Some(&jp), BranchCategory::ProductVersion, "3.1");
    let tree = ProductTree::from_branches(&[
        vendor,
        family,
        product,
        v1.clone(),
        v2.clone(),
        jp,
        jp1.clone(),
    ]);

    let doc = json!({
        "document": {
            "category": "csaf_base",
            "csaf_version": "2.0",
            "lang": "en",
            "publisher": {"category": "vendor", "name": "Example Corp", "namespace": "https://psirt.example.com"},
            "title": "Catalogue export",
            "tracking": {
                "current_release_date": "2026-11-23T00:00:00.000Z",
                "id": "EXAMPLE-2026-0001",
                "initial_release_date": "2026-11-23T00:00:00.000Z",
                "revision_history": [{"date": "2026-11-23T00:00:00.000Z", "number": "1", "summary": "Initial version."}],
                "status": "final",
                "version": "1"
            }
        },
        "product_tree": serde_json::to_value(&tree).unwrap(),
        "vulnerabilities": [{
            "cve": "CVE-2026-0001",
            "product_status": {"fixed": [v2.product_id()], "known_affected": [v1.product_id(), jp1.product_id()]}
        }]
    });
    let report = validate(
        &doc,
        &ValidationOptions {
            preset: Preset::Full,
            ..Default::default()
        },
    );
    let product_findings: Vec<_> = report
        .findings
        .iter()
        .filter(|f| {
            f.severity == keikai_csaf::Severity::Error || f.path.starts_with("/product_tree")
        })
        .collect();
    // The catalogue does not hold purl or CPE identifiers yet, so each product draws the
    // optional 6.2.16 warning ("missing product identification helper"); nothing else.
    let (helpers, others): (Vec<_>, Vec<_>) = product_findings
        .into_iter()
        .partition(|f| f.test_id == "6.2.16");
    assert!(others.is_empty(), "{others:#?}");
    assert_eq!(helpers.len(), 3, "{helpers:#?}");
    // The leaves carry the full names a reader sees in an advisory.
    let names: Vec<_> = doc["product_tree"]["branches"][0]["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Routers", "ルーター Y"]);
    let leaf =
        &doc["product_tree"]["branches"][0]["branches"][0]["branches"][0]["branches"][0]["product"];
    assert_eq!(leaf["name"], "Example Corp Routers Router X 1.0");
}
