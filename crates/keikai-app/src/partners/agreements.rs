//! Agreements: which partner organisations take part, in which tier, over which products,
//! and until when. Recording one (new or renewed) and revoking one are audited.

use std::collections::HashMap;

use jiff::Timestamp;
use keikai_domain::audit::Change;
use keikai_domain::partner::{Agreement, AgreementInput, AgreementStatus};
use keikai_domain::{Action, OrgId, OrgKind, Organisation, UserId};

use crate::{App, Caller, Error, Result};

/// A partner organisation with its agreement, as the PSIRT sees it.
#[derive(Debug, Clone)]
pub struct Partner {
    pub org: Organisation,
    pub agreement: Option<Agreement>,
    /// The agreement's status now.
    pub status: Option<AgreementStatus>,
}

/// Every partner organisation, by name.
pub async fn partners(app: &App, who: &Caller) -> Result<Vec<Partner>> {
    who.require(Action::ViewPartners)?;
    partners_unchecked(app).await
}

pub(super) async fn partners_unchecked(app: &App) -> Result<Vec<Partner>> {
    let now = app.now();
    let mut agreements: HashMap<OrgId, Agreement> = app
        .store()
        .list_agreements()
        .await?
        .into_iter()
        .map(|a| (a.org_id, a))
        .collect();
    let mut out: Vec<Partner> = app
        .store()
        .list_orgs()
        .await?
        .into_iter()
        .filter(|o| o.kind == OrgKind::Partner)
        .map(|org| {
            let agreement = agreements.remove(&org.id);
            Partner {
                status: agreement.as_ref().map(|a| a.status(now)),
                agreement,
                org,
            }
        })
        .collect();
    out.sort_by(|a, b| a.org.name.as_str().cmp(b.org.name.as_str()));
    Ok(out)
}

/// Records or renews the agreement of a partner organisation.
pub async fn record_agreement(
    app: &App,
    who: &Caller,
    org: OrgId,
    input: AgreementInput,
) -> Result<Agreement> {
    change(
        app,
        who,
        org,
        "partner.agreement.recorded",
        |o, previous, _, now| {
            let tiers = &app.config().partner_tiers;
            Ok(Agreement::record(o.id, input, tiers, now, previous)?)
        },
    )
    .await
}

/// Revokes a partner organisation's agreement: its portal is gone on the next request.
pub async fn revoke_agreement(
    app: &App,
    who: &Caller,
    org: OrgId,
    reason: &str,
) -> Result<Agreement> {
    change(
        app,
        who,
        org,
        "partner.agreement.revoked",
        |o, previous, by, now| {
            let mut a = previous
                .cloned()
                .ok_or_else(|| Error::invalid("org", format!("{} has no agreement", o.name)))?;
            a.revoke(by, reason, now)?;
            Ok(a)
        },
    )
    .await
}

/// Loads a partner organisation's agreement, makes the change and saves it with its audit
/// entry (the agreement before and after), optimistically.
async fn change(
    app: &App,
    who: &Caller,
    org: OrgId,
    action: &'static str,
    make: impl FnOnce(&Organisation, Option<&Agreement>, UserId, Timestamp) -> Result<Agreement>,
) -> Result<Agreement> {
    let by = who.require_user(Action::ManagePartners)?.user_id;
    let o = app.store().get_org(org).await?;
    if o.kind != OrgKind::Partner {
        return Err(Error::invalid(
            "org",
            format!("{} is not a partner organisation", o.name),
        ));
    }
    let fx = app.effects(who);
    let previous = app.store().agreement(o.id).await?;
    let a = make(&o, previous.as_ref(), by, fx.at)?;
    let change = Change::new(action, format!("organisation/{}", o.id), &previous, &a);
    Ok(app
        .store()
        .save_agreement(&a, &fx.with_audit(change))
        .await?)
}
