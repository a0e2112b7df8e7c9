//! What several pages show alike: times, the choices of a select, the product catalogue by
//! path, and the product statuses of a vulnerability (the case page and the advisory editor
//! show and set them the same way).

use std::collections::HashMap;

use jiff::Timestamp;
use keikai_app::App;
use keikai_domain::case::{
    Cwe, Justification, ProductStatus, ProductStatusKind, RemediationCategory,
};
use keikai_domain::{Branch, BranchCategory, BranchId};

/// Options of a `<select>`: (value, label).
pub(crate) type Options = Vec<(String, String)>;

/// A moment as the pages show it.
pub(crate) fn at(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// The levels of the severity scale, by name.
pub(crate) fn severity_names(app: &App) -> Vec<String> {
    app.config()
        .severity_scale
        .levels()
        .iter()
        .map(|l| l.name.clone())
        .collect()
}

/// "Vendor / Product / 1.0" for every branch of the catalogue.
pub(crate) fn branch_paths(branches: &[Branch]) -> HashMap<BranchId, String> {
    let by_id: HashMap<BranchId, &Branch> = branches.iter().map(|b| (b.id, b)).collect();
    branches
        .iter()
        .map(|b| {
            let mut names = vec![b.name.as_str()];
            let mut parent = b.parent_id;
            // The depth bound guards against a cycle in damaged data.
            for _ in 0..32 {
                let Some(p) = parent.and_then(|id| by_id.get(&id)) else {
                    break;
                };
                names.push(p.name.as_str());
                parent = p.parent_id;
            }
            names.reverse();
            (b.id, names.join(" / "))
        })
        .collect()
}

/// A product version by its path; by its id when the catalogue no longer has it.
pub(crate) fn product_name(paths: &HashMap<BranchId, String>, id: BranchId) -> String {
    paths.get(&id).cloned().unwrap_or_else(|| id.to_string())
}

/// Every branch of the catalogue, sorted by path.
pub(crate) fn branch_options(branches: &[Branch]) -> Options {
    let mut out: Options = branch_paths(branches)
        .into_iter()
        .map(|(id, path)| (id.to_string(), path))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// The product versions of the catalogue, sorted by path.
pub(crate) fn product_versions(branches: &[Branch], paths: &HashMap<BranchId, String>) -> Options {
    let mut out: Options = branches
        .iter()
        .filter(|b| b.category == BranchCategory::ProductVersion)
        .map(|b| (b.id.to_string(), product_name(paths, b.id)))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// "CWE-79 Improper Neutralization …", or nothing.
pub(crate) fn cwe_text(cwe: Option<&Cwe>) -> String {
    cwe.map(|c| format!("{} {}", c.id, c.name))
        .unwrap_or_default()
}

/// The status of one product version for a vulnerability.
pub(crate) struct StatusRow {
    pub(crate) branch_id: String,
    pub(crate) product: String,
    pub(crate) status: &'static str,
    pub(crate) justification: &'static str,
}

pub(crate) fn status_rows(
    statuses: &[ProductStatus],
    paths: &HashMap<BranchId, String>,
) -> Vec<StatusRow> {
    statuses
        .iter()
        .map(|s| StatusRow {
            branch_id: s.branch_id.to_string(),
            product: product_name(paths, s.branch_id),
            status: s.status.as_str(),
            justification: s.justification.map_or("", Justification::as_str),
        })
        .collect()
}

/// What the forms of a vulnerability offer: the product versions, statuses and
/// justifications of the product status form (`forms::product_status`), and the
/// remediation categories.
pub(crate) struct VulnChoices {
    pub(crate) product_versions: Options,
    pub(crate) statuses: Vec<&'static str>,
    pub(crate) justifications: Vec<&'static str>,
    pub(crate) categories: Vec<&'static str>,
}

impl VulnChoices {
    pub(crate) fn new(branches: &[Branch], paths: &HashMap<BranchId, String>) -> Self {
        Self {
            product_versions: product_versions(branches, paths),
            statuses: ProductStatusKind::ALL.iter().map(|s| s.as_str()).collect(),
            justifications: Justification::ALL.iter().map(|j| j.as_str()).collect(),
            categories: RemediationCategory::ALL
                .iter()
                .map(|c| c.as_str())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keikai_domain::BranchName;

    #[test]
    fn branch_paths_follow_parents() {
        let t = Timestamp::UNIX_EPOCH;
        let branch = |parent: Option<BranchId>, category, name: &str| Branch {
            id: BranchId::new(),
            parent_id: parent,
            category,
            name: BranchName::parse(name).unwrap(),
            created_at: t,
        };
        let v = branch(None, BranchCategory::Vendor, "Keikai");
        let p = branch(Some(v.id), BranchCategory::ProductName, "Router");
        let r = branch(Some(p.id), BranchCategory::ProductVersion, "1.0");
        let paths = branch_paths(&[r.clone(), v, p]);
        assert_eq!(paths[&r.id], "Keikai / Router / 1.0");
    }
}
