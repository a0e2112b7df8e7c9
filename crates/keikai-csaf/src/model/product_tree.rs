//! `/product_tree`: the products a document talks about.

use serde::{Deserialize, Serialize};

use super::common::{Extra, ProductGroupId, ProductId};
use super::enums::{BranchCategory, RelationshipCategory};

/// `/product_tree`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProductTree {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branches: Option<Vec<Branch>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_product_names: Option<Vec<FullProductName>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_groups: Option<Vec<ProductGroup>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relationships: Option<Vec<Relationship>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `branches_t` item: one level of the vendor → product → version hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branches: Option<Vec<Self>>,
    pub category: BranchCategory,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<FullProductName>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `full_product_name_t`: the definition of one product id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FullProductName {
    pub name: String,
    pub product_id: ProductId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_identification_helper: Option<ProductIdentificationHelper>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `full_product_name_t/product_identification_helper`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProductIdentificationHelper {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Vec<Hashes>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_numbers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbom_urls: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_numbers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skus: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_generic_uris: Option<Vec<GenericUri>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `product_identification_helper/hashes[]`: the hashes of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hashes {
    pub file_hashes: Vec<FileHash>,
    pub filename: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `hashes[]/file_hashes[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileHash {
    /// The schema leaves the name open (`sha256`, `sha512`, `md5`, ...).
    pub algorithm: String,
    pub value: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `product_identification_helper/x_generic_uris[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenericUri {
    pub namespace: String,
    pub uri: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `/product_tree/product_groups[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductGroup {
    pub group_id: ProductGroupId,
    pub product_ids: Vec<ProductId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `/product_tree/relationships[]`: a product made of two others (e.g. a component installed
/// on a platform).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relationship {
    pub category: RelationshipCategory,
    pub full_product_name: FullProductName,
    pub product_reference: ProductId,
    pub relates_to_product_reference: ProductId,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ProductTree {
    /// Every `full_product_name_t` of the tree (in branches at any depth, in
    /// `full_product_names` and in relationships), in document order, with its JSON pointer.
    pub fn product_definitions(&self) -> Vec<(String, &FullProductName)> {
        let mut out = Vec::new();
        if let Some(branches) = &self.branches {
            collect_branch_products(branches, "/product_tree/branches", &mut out);
        }
        for (i, product) in self.full_product_names.iter().flatten().enumerate() {
            out.push((format!("/product_tree/full_product_names/{i}"), product));
        }
        for (i, relationship) in self.relationships.iter().flatten().enumerate() {
            out.push((
                format!("/product_tree/relationships/{i}/full_product_name"),
                &relationship.full_product_name,
            ));
        }
        out
    }

    /// Finds the definition of a product id (the first one, if the id is defined twice).
    pub fn find_product(&self, id: &str) -> Option<&FullProductName> {
        self.product_definitions()
            .into_iter()
            .map(|(_, product)| product)
            .find(|product| product.product_id.as_str() == id)
    }
}

// An explicit stack instead of recursion, and pointers built only for products: the walk
// stays linear in the size of the tree, however deep it is.
fn collect_branch_products<'a>(
    branches: &'a [Branch],
    pointer: &str,
    out: &mut Vec<(String, &'a FullProductName)>,
) {
    // Each frame: a list of sibling branches and the index of the next one to visit.
    let mut stack: Vec<(&'a [Branch], usize)> = vec![(branches, 0)];
    while let Some(frame) = stack.last_mut() {
        let (list, index) = *frame;
        let Some(branch) = list.get(index) else {
            stack.pop();
            continue;
        };
        frame.1 += 1;
        if let Some(product) = &branch.product {
            let mut here = pointer.to_owned();
            for (_, next) in &stack {
                here.push_str(&format!("/{}/branches", next - 1));
            }
            // The last "/branches" belongs to children that were not entered.
            here.truncate(here.len() - "/branches".len());
            out.push((format!("{here}/product"), product));
        }
        if let Some(children) = &branch.branches {
            stack.push((children, 0));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn product_definitions_in_document_order_with_pointers() {
        let tree: ProductTree = serde_json::from_value(json!({
            "branches": [{
                "category": "vendor", "name": "V",
                "branches": [
                    {"category": "product_name", "name": "P",
                     "branches": [{"category": "product_version", "name": "1",
                                   "product": {"name": "V P 1", "product_id": "A"}}]},
                    {"category": "product_name", "name": "Q",
                     "product": {"name": "V Q", "product_id": "B"}}
                ]
            }],
            "full_product_names": [{"name": "C", "product_id": "C"}],
            "relationships": [{
                "category": "installed_on", "product_reference": "A",
                "relates_to_product_reference": "C",
                "full_product_name": {"name": "A on C", "product_id": "D"}
            }]
        }))
        .expect("valid tree");
        let found: Vec<(String, &str)> = tree
            .product_definitions()
            .into_iter()
            .map(|(pointer, p)| (pointer, p.product_id.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "/product_tree/branches/0/branches/0/branches/0/product".to_owned(),
                    "A"
                ),
                (
                    "/product_tree/branches/0/branches/1/product".to_owned(),
                    "B"
                ),
                ("/product_tree/full_product_names/0".to_owned(), "C"),
                (
                    "/product_tree/relationships/0/full_product_name".to_owned(),
                    "D"
                ),
            ]
        );
        assert_eq!(
            tree.find_product("D").map(|p| p.name.as_str()),
            Some("A on C")
        );
        assert!(tree.find_product("E").is_none());
    }

    #[test]
    fn deep_branches_do_not_recurse() {
        // Only code can build such a tree (parsing stops at 127 levels), but the walk must
        // still cope.
        let mut branch = Branch {
            branches: None,
            category: BranchCategory::ProductVersion,
            name: "leaf".to_owned(),
            product: Some(FullProductName {
                name: "leaf".to_owned(),
                product_id: ProductId::from("LEAF"),
                product_identification_helper: None,
                extra: Extra::new(),
            }),
            extra: Extra::new(),
        };
        for _ in 0..5_000 {
            branch = Branch {
                branches: Some(vec![branch]),
                category: BranchCategory::ProductFamily,
                name: "f".to_owned(),
                product: None,
                extra: Extra::new(),
            };
        }
        let tree = ProductTree {
            branches: Some(vec![branch]),
            ..ProductTree::default()
        };
        let found = tree.product_definitions();
        assert_eq!(found.len(), 1);
        assert!(found[0].0.ends_with("/product"));
        // Dropping the 5,000-level tree is recursive in Rust; keep it off this thread's stack
        // by leaking (test only).
        std::mem::forget(tree);
    }
}
