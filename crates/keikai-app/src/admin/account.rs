//! A person's own account: who they are, their profile and language, their notices and the
//! dashboard they start from.

use keikai_domain::{Action, ApiToken, Locale, ProductTree, User};

use super::users::Account;
use crate::cases::{self, Counts};
use crate::{App, Caller, Result};

/// The caller with their memberships.
pub async fn me(app: &App, who: &Caller) -> Result<Account> {
    let p = who.require_user(Action::ViewProfile)?;
    Ok(Account {
        user: app.store().get_user(p.user_id).await?,
        memberships: p.memberships.clone(),
    })
}

/// What the profile page shows: the person and their API tokens.
#[derive(Debug, Clone)]
pub struct Profile {
    pub user: User,
    pub tokens: Vec<ApiToken>,
}

pub async fn profile(app: &App, who: &Caller) -> Result<Profile> {
    let p = who.require_user(Action::ViewProfile)?;
    Ok(Profile {
        user: app.store().get_user(p.user_id).await?,
        tokens: app.store().list_tokens(p.user_id).await?,
    })
}

/// The language the caller's pages and mail are in; `None` follows the browser.
pub async fn set_locale(app: &App, who: &Caller, locale: Option<Locale>) -> Result<()> {
    let p = who.require_user(Action::UpdateProfile)?;
    let fx = app.effects(who);
    Ok(app.store().set_locale(p.user_id, locale, &fx).await?)
}

/// Marks the caller's notices read; returns how many were unread.
pub async fn mark_notifications_read(app: &App, who: &Caller) -> Result<u64> {
    // A change to the person's own state: the same permission as editing their profile.
    let p = who.require_user(Action::UpdateProfile)?;
    Ok(app
        .store()
        .mark_notifications_read(p.user_id, app.now())
        .await?)
}

/// The dashboard: counts of what the caller may see (`None` where they may not), their cases
/// and their unread notices.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub products: Option<usize>,
    pub organisations: Option<usize>,
    pub users: Option<usize>,
    pub cases: Counts,
    /// The texts of unread notices, newest first.
    pub unread: Vec<String>,
}

pub async fn dashboard(app: &App, who: &Caller) -> Result<Dashboard> {
    let p = who.require_user(Action::ViewDashboard)?;
    let store = app.store();
    let products = if who.allows(Action::ViewProducts) {
        let branches = store.list_branches().await?;
        Some(ProductTree::from_branches(&branches).count_products())
    } else {
        None
    };
    let organisations = if who.allows(Action::ViewOrganisations) {
        Some(store.list_orgs().await?.len())
    } else {
        None
    };
    let users = if who.allows(Action::ViewUsers) {
        Some(store.list_users().await?.len())
    } else {
        None
    };
    Ok(Dashboard {
        products,
        organisations,
        users,
        cases: cases::counts(app, who).await?,
        unread: store
            .notifications(p.user_id, true)
            .await?
            .into_iter()
            .map(|n| n.text)
            .collect(),
    })
}
