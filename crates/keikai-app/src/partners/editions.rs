//! Partner editions: what partners receive about an advisory beyond the public text
//! (technical details, detection guidance, indicators), TLP:AMBER or AMBER+STRICT, never
//! published.

use keikai_domain::Action;
use keikai_domain::audit::Change;
use keikai_domain::partner::{PartnerEdition, PartnerEditionInput};

use crate::{App, Caller, Result, advisories};

/// The partner edition of an advisory (by id or tracking id), if one is written.
pub async fn edition(app: &App, who: &Caller, advisory: &str) -> Result<Option<PartnerEdition>> {
    who.require(Action::ViewPartners)?;
    let a = advisories::load(app, who, advisory).await?;
    Ok(app.store().partner_edition(a.id).await?)
}

/// Writes (or rewrites) the partner edition of an advisory.
pub async fn put_edition(
    app: &App,
    who: &Caller,
    advisory: &str,
    input: PartnerEditionInput,
) -> Result<PartnerEdition> {
    let by = who.require_user(Action::ManagePartners)?.user_id;
    let a = advisories::load(app, who, advisory).await?;
    let fx = app.effects(who);
    let previous = app.store().partner_edition(a.id).await?;
    let e = PartnerEdition::write(a.id, input, by, fx.at, previous.as_ref())?;
    let change = Change::new(
        "partner.edition.written",
        format!("advisory/{}", a.id),
        &previous,
        &e,
    );
    Ok(app
        .store()
        .save_partner_edition(&e, &fx.with_audit(change))
        .await?)
}
