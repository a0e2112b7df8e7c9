//! Users and their memberships: creating accounts (from every door, and the first
//! administrator on the first start), roles in organisations, disabling, renaming and
//! resetting passwords.
//!
//! A role must fit its organisation's kind (a partner contact belongs to a partner, an
//! administrator to our own organisation). [`check_membership`] is the one check that names
//! the field at fault; the store refuses a misfit too, as the last guard of the data.

use keikai_domain::audit::Change;
use keikai_domain::user::check_can_disable;
use keikai_domain::{
    Action, DisplayName, DomainError, Email, Locale, Membership, OrgId, OrgKind, OrgName,
    Organisation, Password, Role, User, UserId,
};
use keikai_store::{NewOrganisation, NewUser, StoreError};
use serde::Serialize;

use crate::auth::{hash_password, sign_out_everywhere};
use crate::{App, Caller, Error, Result};

/// A user with their memberships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: User,
    pub memberships: Vec<Membership>,
}

fn subject(id: UserId) -> String {
    format!("user/{id}")
}

fn membership_added(user: UserId, m: Membership) -> Change {
    Change::new("user.membership_added", subject(user), (), m)
}

async fn account(app: &App, id: UserId) -> Result<Account> {
    Ok(Account {
        user: app.store().get_user(id).await?,
        memberships: app.store().memberships(id).await?,
    })
}

/// Every user, by e-mail address.
pub async fn list(app: &App, who: &Caller) -> Result<Vec<User>> {
    who.require(Action::ViewUsers)?;
    Ok(app.store().list_users().await?)
}

/// What the users page shows: every account with its memberships (by e-mail address), and
/// the organisations roles are held in (by name).
#[derive(Debug, Clone)]
pub struct Directory {
    pub accounts: Vec<Account>,
    pub organisations: Vec<Organisation>,
}

pub async fn directory(app: &App, who: &Caller) -> Result<Directory> {
    let mut accounts = Vec::new();
    for user in list(app, who).await? {
        let memberships = app.store().memberships(user.id).await?;
        accounts.push(Account { user, memberships });
    }
    Ok(Directory {
        accounts,
        organisations: app.store().list_orgs().await?,
    })
}

pub async fn get(app: &App, who: &Caller, id: UserId) -> Result<Account> {
    who.require(Action::ViewUsers)?;
    account(app, id).await
}

/// Checks that the organisation exists and that the role fits its kind, before anything is
/// written; errors name the field as `{prefix}org_id` or `{prefix}role`.
async fn check_membership(app: &App, m: Membership, prefix: &str) -> Result<Organisation> {
    let org = match app.store().get_org(m.org_id).await {
        Ok(o) => o,
        Err(StoreError::NotFound) => {
            return Err(Error::invalid(
                format!("{prefix}org_id"),
                format!("{prefix}org_id: there is no organisation {}", m.org_id),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    m.role.check_allowed_in(org.kind).map_err(|e| {
        let DomainError::Invalid { message, .. } = e;
        Error::invalid(format!("{prefix}role"), format!("{prefix}role: {message}"))
    })?;
    Ok(org)
}

/// A new account as an administrator (or the operator) describes it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: Email,
    pub display_name: DisplayName,
    pub password: Password,
    pub locale: Option<Locale>,
    pub memberships: Vec<Membership>,
}

/// Creates a user with their memberships. Every membership is checked before anything is
/// written (errors name `memberships[i].org_id` or `memberships[i].role`); the user, the
/// memberships and the entries recording them ("user.created", one
/// "user.membership_added" each) commit together. A taken address is a conflict.
pub async fn create(app: &App, who: &Caller, cmd: NewAccount) -> Result<Account> {
    who.require(Action::ManageUsers)?;
    for (i, m) in cmd.memberships.iter().enumerate() {
        check_membership(app, *m, &format!("memberships[{i}].")).await?;
    }
    let new = NewUser {
        id: UserId::new(),
        email: cmd.email,
        display_name: cmd.display_name,
        password_hash: hash_password(&cmd.password).await?,
        locale: cmd.locale,
    };
    let fx = app.effects(who);
    let created = Change::new("user.created", subject(new.id), (), new.created(fx.at));
    let fx = fx
        .with_audit(created)
        .with_changes(cmd.memberships.iter().map(|m| membership_added(new.id, *m)));
    let user = app.store().create_user(&new, &cmd.memberships, &fx).await?;
    account(app, user.id).await
}

/// Gives a user a role in an organisation (a membership they hold already is kept as it is).
pub async fn add_membership(
    app: &App,
    who: &Caller,
    user: UserId,
    m: Membership,
) -> Result<Account> {
    who.require(Action::ManageUsers)?;
    app.store().get_user(user).await?;
    check_membership(app, m, "").await?;
    let fx = app.effects(who).with_audit(membership_added(user, m));
    app.store()
        .add_membership(user, m.org_id, m.role, &fx)
        .await?;
    account(app, user).await
}

/// Disables (or enables) an account. Disabling ends the user's sessions at once; their API
/// tokens stop working until the account is enabled again. Nobody disables their own account.
pub async fn set_disabled(app: &App, who: &Caller, id: UserId, disabled: bool) -> Result<User> {
    who.require(Action::ManageUsers)?;
    let user = app.store().get_user(id).await?;
    if disabled && let Some(me) = who.user_id() {
        check_can_disable(me, id)?;
    }
    let mut fx = app.effects(who);
    let at = disabled.then(|| user.disabled_at.unwrap_or(fx.at));
    if at != user.disabled_at {
        let action = if disabled {
            "user.disabled"
        } else {
            "user.enabled"
        };
        fx.audit.push(Change::new(
            action,
            subject(id),
            serde_json::json!({ "disabled_at": user.disabled_at }),
            serde_json::json!({ "disabled_at": at }),
        ));
    }
    app.store().set_disabled(id, at, &fx).await?;
    if disabled {
        sign_out_everywhere(app, who, id).await?;
    }
    Ok(app.store().get_user(id).await?)
}

/// What an administrator changes about an account; `None` leaves it as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditUser {
    pub disabled: Option<bool>,
    pub display_name: Option<DisplayName>,
}

pub async fn edit(app: &App, who: &Caller, id: UserId, cmd: EditUser) -> Result<Account> {
    who.require(Action::ManageUsers)?;
    let before = app.store().get_user(id).await?;
    if let Some(d) = cmd.disabled {
        set_disabled(app, who, id, d).await?;
    }
    if let Some(name) = cmd.display_name.filter(|n| *n != before.display_name) {
        let change = Change::new(
            "user.renamed",
            subject(id),
            serde_json::json!({ "display_name": before.display_name }),
            serde_json::json!({ "display_name": name }),
        );
        let fx = app.effects(who).with_audit(change);
        app.store().set_display_name(id, &name, &fx).await?;
    }
    account(app, id).await
}

/// Sets a new password and signs the user out everywhere; returns how many sessions ended.
/// The entry records that the password changed, never what to.
pub async fn reset_password(
    app: &App,
    who: &Caller,
    email: &Email,
    password: &Password,
) -> Result<(User, u64)> {
    who.require(Action::ManageUsers)?;
    let user = match app.store().credentials_by_email(email).await {
        Ok(c) => c.user,
        Err(StoreError::NotFound) => {
            return Err(Error::invalid(
                "email",
                format!("email: there is no user {email}"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let hash = hash_password(password).await?;
    let change = Change::new("user.password_reset", subject(user.id), (), ());
    let fx = app.effects(who).with_audit(change);
    app.store().set_password_hash(user.id, &hash, &fx).await?;
    let ended = sign_out_everywhere(app, who, user.id).await?;
    Ok((user, ended))
}

/// The first start: our own organisation and its first administrator.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub organisation: OrgName,
    pub email: Email,
    pub password: Password,
}

/// What the bootstrap entry records.
#[derive(Serialize)]
struct Bootstrapped<'a> {
    user: User,
    role: Role,
    organisation: &'a OrgName,
}

/// Creates our own organisation and an administrator in it, but only while no user exists:
/// returns `None` (and writes nothing) when there are users already or another instance
/// starting at the same time got there first. The entry "user.bootstrapped" commits with
/// them.
pub async fn bootstrap(app: &App, who: &Caller, cmd: Bootstrap) -> Result<Option<User>> {
    who.require(Action::ManageOrganisations)?;
    who.require(Action::ManageUsers)?;
    if app.store().count_users().await? > 0 {
        return Ok(None);
    }
    let org = NewOrganisation {
        id: OrgId::new(),
        name: cmd.organisation,
        kind: OrgKind::Own,
    };
    let user = NewUser {
        id: UserId::new(),
        email: cmd.email,
        display_name: DisplayName::parse("Administrator")?,
        password_hash: hash_password(&cmd.password).await?,
        locale: None,
    };
    let fx = app.effects(who);
    let change = Change::new(
        "user.bootstrapped",
        subject(user.id),
        (),
        Bootstrapped {
            user: user.created(fx.at),
            role: Role::Admin,
            organisation: &org.name,
        },
    );
    Ok(app
        .store()
        .bootstrap_admin(&org, &user, &fx.with_audit(change))
        .await?)
}

#[cfg(test)]
mod tests {
    use keikai_domain::{Membership, OrgKind, OrgName};

    use super::*;
    use crate::admin::organisations;
    use crate::admin::testing::{TestApp, bootstrap_command, password};

    fn account(email: &str, memberships: Vec<Membership>) -> NewAccount {
        NewAccount {
            email: Email::parse(email).unwrap(),
            display_name: DisplayName::parse("Aiko").unwrap(),
            password: password(),
            locale: None,
            memberships,
        }
    }

    #[tokio::test]
    async fn the_first_administrator_is_made_once() {
        let t = TestApp::new().await;
        let again = bootstrap(&t.app, &Caller::system(), bootstrap_command()).await;
        assert_eq!(again, Ok(None), "only while no user exists");
        let entries = t.app.store().audit_for(&subject(t.admin.id)).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].action.as_str(), entries[0].actor.as_str()),
            ("user.bootstrapped", "system")
        );
        assert!(!entries[0].after.contains(crate::admin::testing::PASSWORD));
    }

    #[tokio::test]
    async fn users_are_created_with_their_memberships_and_entries_in_one_write() {
        let t = TestApp::new().await;
        let (app, cli) = (&t.app, &Caller::cli());
        let own = organisations::find(app, cli, None).await.unwrap();
        let partner = organisations::create(
            app,
            cli,
            OrgName::parse("Partner").unwrap(),
            OrgKind::Partner,
        )
        .await
        .unwrap();
        let analyst = Membership {
            org_id: own.id,
            role: Role::PsirtAnalyst,
        };
        let contact = Membership {
            org_id: partner.id,
            role: Role::PartnerContact,
        };

        // Refusals name the membership at fault, and leave nothing behind.
        let misfit = Membership {
            org_id: partner.id,
            role: Role::Admin,
        };
        let e = create(app, cli, account("a@example.com", vec![analyst, misfit]))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("memberships[1].role"), "{e}");
        assert!(e.to_string().contains("admin"), "{e}");
        let nowhere = Membership {
            org_id: OrgId::new(),
            role: Role::Reporter,
        };
        let e = create(app, cli, account("a@example.com", vec![nowhere]))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("memberships[0].org_id"), "{e}");
        assert_eq!(app.store().count_users().await.unwrap(), 1);

        let created = create(app, cli, account("A@Example.com", vec![analyst, contact]))
            .await
            .unwrap();
        assert_eq!(created.user.email.as_str(), "a@example.com");
        assert_eq!(created.memberships.len(), 2);
        let entries = app
            .store()
            .audit_for(&subject(created.user.id))
            .await
            .unwrap();
        let seen: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.action.as_str(), e.actor.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("user.created", "cli"),
                ("user.membership_added", "cli"),
                ("user.membership_added", "cli"),
            ]
        );
        let taken = create(app, cli, account("a@example.com", Vec::new())).await;
        assert!(taken.unwrap_err().is_conflict());

        // Memberships added later follow the same rule, named without a prefix.
        let e = add_membership(app, cli, created.user.id, misfit)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("role"));
        let e = add_membership(app, cli, UserId::new(), contact)
            .await
            .unwrap_err();
        assert_eq!(e, Error::NotFound);
    }

    #[tokio::test]
    async fn nobody_disables_themselves_but_the_operator_may() {
        let t = TestApp::new().await;
        let admin = Caller::user(keikai_domain::Principal {
            user_id: t.admin.id,
            memberships: t.app.store().memberships(t.admin.id).await.unwrap(),
            token_scopes: None,
        });
        let e = set_disabled(&t.app, &admin, t.admin.id, true)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("disabled"), "nobody disables themselves");
        let user = set_disabled(&t.app, &Caller::cli(), t.admin.id, true)
            .await
            .unwrap();
        assert!(user.disabled_at.is_some(), "the operator may");
    }
}
