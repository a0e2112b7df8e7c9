//! Organisations: our own teams, partners, customers and coordinators. An organisation's
//! kind decides which roles its members may hold.

use keikai_domain::audit::Change;
use keikai_domain::{Action, OrgId, OrgKind, OrgName, Organisation};
use keikai_store::NewOrganisation;

use crate::{App, Caller, Error, Result};

/// Every organisation, by name.
pub async fn list(app: &App, who: &Caller) -> Result<Vec<Organisation>> {
    who.require(Action::ViewOrganisations)?;
    Ok(app.store().list_orgs().await?)
}

pub async fn get(app: &App, who: &Caller, id: OrgId) -> Result<Organisation> {
    who.require(Action::ViewOrganisations)?;
    Ok(app.store().get_org(id).await?)
}

/// An organisation by its name or id, or (`None`) our own organisation: how an operator
/// names one at the command line.
pub async fn find(app: &App, who: &Caller, key: Option<&str>) -> Result<Organisation> {
    let orgs = list(app, who).await?;
    let found = match key {
        Some(k) => orgs
            .into_iter()
            .find(|o| o.name.as_str() == k || o.id.to_string() == k),
        None => orgs.into_iter().find(|o| o.kind == OrgKind::Own),
    };
    found.ok_or_else(|| {
        let what = key.map_or_else(|| "of kind own yet".to_owned(), |k| format!("\"{k}\""));
        Error::invalid("org", format!("org: there is no organisation {what}"))
    })
}

pub async fn create(app: &App, who: &Caller, name: OrgName, kind: OrgKind) -> Result<Organisation> {
    who.require(Action::ManageOrganisations)?;
    let org = NewOrganisation {
        id: OrgId::new(),
        name,
        kind,
    };
    let fx = app.effects(who);
    let change = Change::new(
        "organisation.created",
        format!("organisation/{}", org.id),
        (),
        org.created(fx.at),
    );
    Ok(app.store().create_org(&org, &fx.with_audit(change)).await?)
}
