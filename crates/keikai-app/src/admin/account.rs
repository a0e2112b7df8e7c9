//! A person's own account: who they are, their profile and language, their notices and the
//! dashboard they start from.

use keikai_domain::audit::Change;
use keikai_domain::{
    Action, ApiToken, DisplayName, DomainError, Locale, Password, ProductTree, User,
};
use keikai_store::Session;

use super::users::Account;
use crate::auth::{hash_password, verify_password};
use crate::cases::{self, Counts};
use crate::{App, Caller, Error, Result};

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

/// Renames the caller (how others see them), audited as `user.renamed`; the same name again
/// changes nothing.
pub async fn rename(app: &App, who: &Caller, display_name: &str) -> Result<User> {
    let p = who.require_user(Action::UpdateProfile)?;
    who.refuse_read_only_token()?;
    let name = DisplayName::parse(display_name)?;
    let user = app.store().get_user(p.user_id).await?;
    if name != user.display_name {
        let change = Change::new(
            "user.renamed",
            format!("user/{}", user.id),
            serde_json::json!({ "display_name": user.display_name }),
            serde_json::json!({ "display_name": name }),
        );
        let fx = app.effects(who).with_audit(change);
        app.store().set_display_name(user.id, &name, &fx).await?;
    }
    Ok(app.store().get_user(p.user_id).await?)
}

/// A change of one's own password, as the form or the API sends it.
#[derive(Clone)]
pub struct ChangePassword {
    pub current: String,
    pub new: String,
    /// The new password typed again.
    pub confirm: String,
}

/// Changes the caller's own password after checking the current one (someone at an
/// unattended session cannot lock its owner out). Every other session of theirs ends; the
/// one they changed it in (`keep`) stays. Returns how many sessions ended. Audited as
/// `user.password_changed`, without the password.
pub async fn change_password(
    app: &App,
    who: &Caller,
    cmd: ChangePassword,
    keep: Option<&Session>,
) -> Result<u64> {
    let p = who.require_user(Action::UpdateProfile)?;
    who.refuse_read_only_token()?;
    let store = app.store();
    let user = store.get_user(p.user_id).await?;
    let credentials = store.credentials_by_email(&user.email).await?;
    if !verify_password(credentials.password_hash, cmd.current.clone()).await {
        return Err(Error::invalid(
            "current_password",
            "current_password: this is not your current password",
        ));
    }
    let new = Password::parse(&cmd.new).map_err(|e| {
        let DomainError::Invalid { message, .. } = e;
        Error::invalid("new_password", format!("new_password: {message}"))
    })?;
    if cmd.confirm != cmd.new {
        return Err(Error::invalid(
            "confirm_password",
            "confirm_password: the two new passwords differ",
        ));
    }
    if cmd.new == cmd.current {
        return Err(Error::invalid(
            "new_password",
            "new_password: choose a password other than the current one",
        ));
    }
    let hash = hash_password(&new).await?;
    let change = Change::new("user.password_changed", format!("user/{}", user.id), (), ());
    store
        .set_password_hash(user.id, &hash, &app.effects(who).with_audit(change))
        .await?;
    let ended = match keep.filter(|s| s.user_id == user.id) {
        Some(s) => store.delete_other_sessions(user.id, &s.id_hash).await?,
        None => store.delete_user_sessions(user.id).await?,
    };
    Ok(ended)
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
