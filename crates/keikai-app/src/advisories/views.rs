//! What the editor pages show beside an advisory: the case and release it belongs to, the
//! releases it may be planned for, the catalogue, who edited and reviewed it, and the diff of
//! one edit.

use std::collections::HashMap;

use keikai_domain::advisory::{Advisory, Edit, FieldDiff, Readiness};
use keikai_domain::partner::PartnerEdition;
use keikai_domain::release::Release;
use keikai_domain::{Action, Branch, UserId};
use keikai_store::StoreError;

use super::load;
use crate::cases::user_names;
use crate::{App, Caller, Error, Result};

/// One advisory with what its editor page needs.
pub struct EditorView {
    pub advisory: Advisory,
    /// Its readiness, with what would stop its publication now.
    pub readiness: Readiness,
    /// The number of the case it was made from, while that case exists.
    pub case_number: Option<i64>,
    /// The release it is planned for.
    pub release: Option<Release>,
    /// The planned releases, soonest first (what it may be planned for).
    pub planned: Vec<Release>,
    /// The product catalogue, for naming product versions.
    pub branches: Vec<Branch>,
    /// The names of its editors and reviewers.
    pub names: HashMap<UserId, String>,
    /// For those who manage the partner programme: the partner edition, if one is written
    /// (`Some(None)` when none is yet).
    pub partner_edition: Option<Option<PartnerEdition>>,
}

pub async fn editor(app: &App, who: &Caller, key: &str) -> Result<EditorView> {
    let advisory = load(app, who, key).await?;
    let store = app.store();
    let case_number = match advisory.case_id {
        Some(c) => match store.get_case(c).await {
            Ok(case) => Some(case.number),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let release = match advisory.release {
        Some(r) => match store.get_release(r).await {
            Ok(release) => Some(release),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let partner_edition = if who.allows(Action::ManagePartners) {
        Some(store.partner_edition(advisory.id).await?)
    } else {
        None
    };
    Ok(EditorView {
        readiness: super::readiness_of(app, who, &advisory).await?,
        case_number,
        release,
        planned: store.list_releases(false).await?,
        branches: store.list_branches().await?,
        names: people(app, &advisory).await?,
        partner_edition,
        advisory,
    })
}

/// The display names of whoever edited or reviewed the advisory.
async fn people(app: &App, a: &Advisory) -> Result<HashMap<UserId, String>> {
    let ids = a
        .edits
        .iter()
        .map(|e| e.editor)
        .chain(a.reviews.iter().map(|r| r.reviewer))
        .collect();
    user_names(app, ids).await
}

/// One edit and what it changed against the edit before it.
pub async fn edit_diff(
    app: &App,
    who: &Caller,
    key: &str,
    number: u32,
) -> Result<(Advisory, Edit, Vec<FieldDiff>)> {
    let a = load(app, who, key).await?;
    let edit = a
        .edits
        .iter()
        .find(|e| e.number == number)
        .cloned()
        .ok_or(Error::NotFound)?;
    let diff = a.diff_of_edit(number).ok_or(Error::NotFound)?;
    Ok((a, edit, diff))
}

/// One edit's diff with what its page needs to name products and people.
pub struct DiffView {
    pub advisory: Advisory,
    pub edit: Edit,
    pub fields: Vec<FieldDiff>,
    /// The product catalogue, for naming the product versions the lines mention.
    pub branches: Vec<Branch>,
    pub names: HashMap<UserId, String>,
}

pub async fn diff_view(app: &App, who: &Caller, key: &str, number: u32) -> Result<DiffView> {
    let (advisory, edit, fields) = edit_diff(app, who, key, number).await?;
    Ok(DiffView {
        branches: app.store().list_branches().await?,
        names: people(app, &advisory).await?,
        advisory,
        edit,
        fields,
    })
}
