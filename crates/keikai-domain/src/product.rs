//! The product catalogue, kept in CSAF's shape: a tree of branches (vendor → product family →
//! product → version) whose leaves are the products an advisory can name.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::org::text_field;
use crate::{BranchId, DomainError};

crate::names! {
    /// CSAF 2.0 branch categories (`/$defs/branches_t/items/properties/category`).
    pub enum BranchCategory("category", "a branch category") {
        Architecture = "architecture",
        HostName = "host_name",
        Language = "language",
        Legacy = "legacy",
        PatchLevel = "patch_level",
        ProductFamily = "product_family",
        ProductName = "product_name",
        ProductVersion = "product_version",
        ProductVersionRange = "product_version_range",
        ServicePack = "service_pack",
        Specification = "specification",
        Vendor = "vendor",
    }
}

impl BranchCategory {
    /// Where a branch of this category may sit. CSAF itself allows any nesting; a catalogue
    /// is only useful if it reads vendor → (family →) product → version, so we keep to that
    /// and let the remaining categories refine a product or a version.
    pub fn check_parent(self, parent: Option<Self>) -> Result<(), DomainError> {
        let ok = match (parent, self) {
            (None, Self::Vendor) => true,
            (None, _) | (Some(_), Self::Vendor) => false,
            (Some(Self::Vendor | Self::ProductFamily), Self::ProductFamily | Self::ProductName) => {
                true
            }
            (Some(Self::ProductName), Self::ProductVersion | Self::ProductVersionRange) => true,
            (
                Some(
                    Self::ProductName
                    | Self::ProductVersion
                    | Self::ProductVersionRange
                    | Self::Architecture
                    | Self::Language
                    | Self::Legacy
                    | Self::PatchLevel
                    | Self::ServicePack
                    | Self::Specification
                    | Self::HostName,
                ),
                Self::Architecture
                | Self::HostName
                | Self::Language
                | Self::Legacy
                | Self::PatchLevel
                | Self::ServicePack
                | Self::Specification,
            ) => true,
            _ => false,
        };
        if ok {
            return Ok(());
        }
        let msg = match parent {
            None => {
                format!("a {self} branch needs a parent; only vendor branches stand at the top")
            }
            Some(p) => format!("a {self} branch cannot be placed under a {p} branch"),
        };
        Err(DomainError::invalid("category", msg))
    }
}

/// A branch's name as CSAF puts it in `branches[].name`: one line, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct BranchName(String);

crate::text::checked_text!(BranchName);

impl BranchName {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        text_field("name", s, 200).map(Self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Branch {
    pub id: BranchId,
    pub parent_id: Option<BranchId>,
    pub category: BranchCategory,
    pub name: BranchName,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl Branch {
    /// The CSAF `product_id` of this branch when it is a leaf. Derived from the branch id so
    /// that it stays the same in every advisory that names the product.
    pub fn product_id(&self) -> String {
        format!("KEIKAI-{}", self.id)
    }
}

/// One node of [`ProductTree`], serialised in the shape of CSAF's `branches_t`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
/// Fields are in alphabetical order because that is the order serde writes them in, and CSAF
/// test 6.2.13 expects sorted keys.
pub struct TreeNode {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<Self>,
    /// Not part of CSAF; lets a UI link each node back to the catalogue.
    #[serde(skip)]
    pub branch_id: BranchId,
    pub category: BranchCategory,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<FullProductName>,
}

/// CSAF's `full_product_name_t` for a leaf branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FullProductName {
    pub name: String,
    pub product_id: String,
}

/// The catalogue as a CSAF `product_tree`: `{"branches": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductTree {
    pub branches: Vec<TreeNode>,
}

impl ProductTree {
    /// Builds the tree from a flat list. Branches whose parent is missing from the list are
    /// dropped rather than promoted, so a partial list never yields a misleading tree.
    pub fn from_branches(branches: &[Branch]) -> Self {
        let mut children: HashMap<Option<BranchId>, Vec<&Branch>> = HashMap::new();
        for b in branches {
            children.entry(b.parent_id).or_default().push(b);
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()).then(a.id.cmp(&b.id)));
        }
        fn build(
            parent: Option<BranchId>,
            path: &[&str],
            children: &HashMap<Option<BranchId>, Vec<&Branch>>,
            depth: usize,
        ) -> Vec<TreeNode> {
            // A cycle cannot come from the store (parents exist before children), but a
            // bound keeps a corrupted list from recursing forever.
            if depth > 32 {
                return Vec::new();
            }
            let Some(list) = children.get(&parent) else {
                return Vec::new();
            };
            list.iter()
                .map(|b| {
                    let mut p = path.to_vec();
                    p.push(b.name.as_str());
                    let sub = build(Some(b.id), &p, children, depth + 1);
                    let product = sub.is_empty().then(|| FullProductName {
                        name: p.join(" "),
                        product_id: b.product_id(),
                    });
                    TreeNode {
                        branch_id: b.id,
                        category: b.category,
                        name: b.name.as_str().to_owned(),
                        branches: sub,
                        product,
                    }
                })
                .collect()
        }
        Self {
            branches: build(None, &[], &children, 0),
        }
    }

    /// Visits every node depth-first with its depth and the names on the way to it.
    pub fn walk(&self, visit: &mut dyn FnMut(&TreeNode, usize, &[&str])) {
        fn go<'a>(
            nodes: &'a [TreeNode],
            depth: usize,
            path: &mut Vec<&'a str>,
            visit: &mut dyn FnMut(&TreeNode, usize, &[&str]),
        ) {
            for n in nodes {
                path.push(&n.name);
                visit(n, depth, path);
                go(&n.branches, depth + 1, path, visit);
                path.pop();
            }
        }
        go(&self.branches, 0, &mut Vec::new(), visit);
    }

    /// How many products (leaves) the tree names.
    pub fn count_products(&self) -> usize {
        let mut n = 0;
        self.walk(&mut |node, _, _| n += usize::from(node.product.is_some()));
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_rules() {
        use BranchCategory as C;
        let table = [
            (None, C::Vendor, true),
            (None, C::ProductName, false),
            (Some(C::Vendor), C::Vendor, false),
            (Some(C::Vendor), C::ProductFamily, true),
            (Some(C::Vendor), C::ProductName, true),
            (Some(C::ProductFamily), C::ProductName, true),
            (Some(C::Vendor), C::ProductVersion, false),
            (Some(C::ProductName), C::ProductVersion, true),
            (Some(C::ProductVersion), C::ProductVersion, false),
            (Some(C::ProductVersion), C::Architecture, true),
            (Some(C::Vendor), C::Architecture, false),
        ];
        for (parent, child, ok) in table {
            assert_eq!(
                child.check_parent(parent).is_ok(),
                ok,
                "{child} under {parent:?}"
            );
        }
    }
}
