//! The product catalogue: vendors, product families, products and versions as a tree of
//! branches, the shape of a CSAF `product_tree`.

use keikai_domain::audit::Change;
use keikai_domain::{Action, Branch, BranchCategory, BranchId, BranchName, ProductTree};
use keikai_store::NewBranch;

use crate::{App, Caller, Result};

fn subject(id: BranchId) -> String {
    format!("branch/{id}")
}

pub async fn list(app: &App, who: &Caller) -> Result<Vec<Branch>> {
    who.require(Action::ViewProducts)?;
    Ok(app.store().list_branches().await?)
}

/// The catalogue as a tree.
pub async fn tree(app: &App, who: &Caller) -> Result<ProductTree> {
    Ok(ProductTree::from_branches(&list(app, who).await?))
}

pub async fn get(app: &App, who: &Caller, id: BranchId) -> Result<Branch> {
    who.require(Action::ViewProducts)?;
    Ok(app.store().get_branch(id).await?)
}

/// A new branch of the catalogue, under `parent` (a vendor has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddBranch {
    pub parent: Option<BranchId>,
    pub category: BranchCategory,
    pub name: BranchName,
}

/// Adds a branch. The store checks where its category may stand and refuses a second
/// sibling of the same name.
pub async fn add(app: &App, who: &Caller, cmd: AddBranch) -> Result<Branch> {
    who.require(Action::ManageProducts)?;
    let new = NewBranch {
        id: BranchId::new(),
        parent_id: cmd.parent,
        category: cmd.category,
        name: cmd.name,
    };
    let fx = app.effects(who);
    let change = Change::new("branch.created", subject(new.id), (), new.created(fx.at));
    Ok(app
        .store()
        .create_branch(&new, &fx.with_audit(change))
        .await?)
}

pub async fn rename(app: &App, who: &Caller, id: BranchId, name: BranchName) -> Result<Branch> {
    who.require(Action::ManageProducts)?;
    let before = app.store().get_branch(id).await?;
    let after = Branch {
        name: name.clone(),
        ..before.clone()
    };
    let change = Change::new("branch.renamed", subject(id), &before, &after);
    let fx = app.effects(who).with_audit(change);
    Ok(app.store().rename_branch(id, &name, &fx).await?)
}

/// Removes a branch that has no children.
pub async fn delete(app: &App, who: &Caller, id: BranchId) -> Result<()> {
    who.require(Action::ManageProducts)?;
    let before = app.store().get_branch(id).await?;
    let change = Change::new("branch.deleted", subject(id), &before, ());
    let fx = app.effects(who).with_audit(change);
    Ok(app.store().delete_branch(id, &fx).await?)
}
