//! Delivering packages: the schedule mails each tier's partners when their package of a
//! release is in the portal. Each (release, tier) goes out once, however many instances run
//! the schedule: the store's delivery claim and the mail jobs commit in one transaction, so
//! only the instance whose claim wins writes the mail, and a crash loses nothing.

use std::collections::HashMap;

use jiff::SignedDuration;
use keikai_domain::partner::{Agreement, BranchParents, delivery_at};
use keikai_domain::{Action, OrgId, Organisation};
use keikai_store::PackageDelivery;

use super::mail::{Contacts, PackageNotice};
use super::packages::release_items;
use crate::outbox::Links;
use crate::{App, Caller, Error, Result};

/// How long after a release went out its last packages may still be delivered (a release
/// published early brings every tier's time forward to it).
const DELIVERY_WINDOW: SignedDuration = SignedDuration::from_hours(48);

/// Who receives packages, read once per run and only when a package is due.
struct Recipients {
    agreements: Vec<Agreement>,
    orgs: HashMap<OrgId, Organisation>,
    contacts: Contacts,
    tree: BranchParents,
}

impl Recipients {
    async fn load(app: &App) -> Result<Self> {
        let store = app.store();
        Ok(Self {
            agreements: store.list_agreements().await?,
            orgs: store
                .list_orgs()
                .await?
                .into_iter()
                .map(|o| (o.id, o))
                .collect(),
            contacts: Contacts::load(app).await?,
            tree: BranchParents::new(&store.list_branches().await?),
        })
    }
}

/// Delivers every tier's package whose time has come: claims each delivery (once, also with
/// several instances) and queues one notice per partner contact in the same transaction.
/// Returns how many packages went out. Keikai itself runs it, on the schedule.
pub async fn deliver_due_packages(app: &App, who: &Caller) -> Result<usize> {
    who.require(Action::ManagePartners)?;
    let store = app.store();
    // One time for the whole run: what is due, the deliveries and their mail.
    let fx = app.effects(who);
    let now = fx.at;
    let tiers = &app.config().partner_tiers;
    let links = Links::new(app.config().publishing.base_url());
    let schedule = &app.config().publishing.schedule;
    let mut recipients: Option<Recipients> = None;
    let mut delivered = 0;
    for r in store.releases_to_deliver(now - DELIVERY_WINDOW).await? {
        // Releases that went out long ago have nothing left to deliver.
        if r.published_at().is_some_and(|p| p < now - DELIVERY_WINDOW) {
            continue;
        }
        let done: Vec<String> = store
            .package_deliveries(r.id())
            .await?
            .into_iter()
            .map(|d| d.tier)
            .collect();
        let due: Vec<_> = tiers
            .all()
            .iter()
            .filter(|t| !done.contains(&t.name))
            .filter(|t| delivery_at(&r, t).is_some_and(|at| at <= now))
            .collect();
        if due.is_empty() {
            continue;
        }
        let items = release_items(app, &r).await?;
        if items.is_empty() {
            // Nothing scheduled yet: the package goes out once something is.
            continue;
        }
        let to = match &mut recipients {
            Some(to) => to,
            empty => empty.insert(Recipients::load(app).await?),
        };
        for tier in due {
            let mut jobs = Vec::new();
            let mut orgs = 0;
            for a in to
                .agreements
                .iter()
                .filter(|a| a.tier == tier.name && a.is_valid(now))
            {
                let mine: Vec<_> = items.iter().filter(|i| i.in_scope(a, &to.tree)).collect();
                if mine.is_empty() {
                    continue;
                }
                let org = to.orgs.get(&a.org_id).ok_or_else(|| {
                    Error::internal(format!("an agreement names no organisation: {}", a.org_id))
                })?;
                orgs += 1;
                let notice = PackageNotice {
                    release: &r,
                    tier: &tier.name,
                    org,
                    items: &mine,
                };
                for user in to.contacts.of(a.org_id) {
                    jobs.push(notice.to_job(&links, schedule, user, now)?);
                }
            }
            let messages = jobs.len();
            let delivery = PackageDelivery {
                release_id: r.id(),
                tier: tier.name.clone(),
                delivered_at: now,
                recipients: orgs,
            };
            let fx = fx.clone().with_jobs(jobs);
            if store.record_package_delivery(&delivery, &fx).await? {
                delivered += 1;
                tracing::info!(release = %r.id(), tier = %tier.name, organisations = orgs,
                    messages, "partner package delivered");
            }
        }
    }
    Ok(delivered)
}
