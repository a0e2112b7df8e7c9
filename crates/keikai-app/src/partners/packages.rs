//! Packages: a release's advisories as a partner receives them before it goes out. A tier's
//! package is visible from its delivery time (the tier's lead before the release, or the
//! release itself when it went out early) and holds the advisories in the organisation's
//! product scope, each with the version the release will publish (or published) and the
//! partner edition. Every package opened and every file downloaded is recorded.

use jiff::Timestamp;
use keikai_domain::advisory::publication::{PartnerCsaf, ProductNames, partner_csaf_document};
use keikai_domain::advisory::{Advisory, AdvisoryState, PublishedVersion, Tlp};
use keikai_domain::partner::{AccessKind, Agreement, BranchParents, PartnerEdition};
use keikai_domain::release::Release;
use keikai_domain::{AdvisoryId, Branch, ReleaseId};
use keikai_store::AdvisoryFilter;

use super::access::record;
use super::{Seat, SeenQuestion, seat};
use crate::{App, Caller, Error, Result};

/// The most advisories one release is read with.
const MAX_RELEASE_ADVISORIES: u32 = 5000;

/// One advisory of a package: the content of the version it belongs to (the upcoming one, or
/// the one published with the release) and the partner edition.
#[derive(Debug, Clone)]
pub struct PackageItem {
    pub advisory: Advisory,
    pub version: PublishedVersion,
    pub edition: Option<PartnerEdition>,
}

impl PackageItem {
    /// Whether the agreement's product scope covers a product the advisory affects.
    pub(super) fn in_scope(&self, agreement: &Agreement, tree: &BranchParents) -> bool {
        let affected: Vec<_> = self
            .version
            .content
            .vulnerabilities
            .iter()
            .flat_map(|v| v.affected())
            .collect();
        agreement.scope.covers(&affected, tree)
    }
}

/// One release's package as one partner organisation receives it.
#[derive(Debug, Clone)]
pub struct Package {
    pub release: Release,
    /// When the organisation's tier receives it.
    pub delivered_at: Timestamp,
    /// The advisories in the organisation's scope, by tracking id.
    pub items: Vec<PackageItem>,
}

impl Package {
    /// The package's marking: AMBER+STRICT when anything in it is, else AMBER.
    pub fn tlp(&self) -> Tlp {
        let strict = self.items.iter().any(|i| {
            i.edition
                .as_ref()
                .is_some_and(|e| e.tlp == Tlp::AmberStrict)
                || i.version.content.tlp == Tlp::AmberStrict
        });
        if strict { Tlp::AmberStrict } else { Tlp::Amber }
    }

    /// The embargo lifts at the public release time.
    pub fn embargo_until(&self) -> Timestamp {
        self.release.scheduled_at()
    }
}

/// Every advisory of a release, scheduled or published with it (not drafts: those lost their
/// approval), whatever the scope, by tracking id.
pub(super) async fn release_items(app: &App, release: &Release) -> Result<Vec<PackageItem>> {
    let store = app.store();
    let mut found = Vec::new();
    let scheduled = store
        .list_advisories(&AdvisoryFilter {
            release: Some(release.id()),
            state: Some(AdvisoryState::Scheduled),
            limit: MAX_RELEASE_ADVISORIES,
            ..AdvisoryFilter::default()
        })
        .await?;
    for a in scheduled {
        let version = a.upcoming_version(release.id(), release.scheduled_at());
        found.push((a, version));
    }
    if release.published_at().is_some() {
        let published = store
            .list_advisories(&AdvisoryFilter {
                state: Some(AdvisoryState::Published),
                limit: MAX_RELEASE_ADVISORIES,
                ..AdvisoryFilter::default()
            })
            .await?;
        for a in published {
            if let Some(v) = a.versions.iter().find(|v| v.release == release.id()) {
                let v = v.clone();
                found.push((a, v));
            }
        }
    }
    let mut items = Vec::with_capacity(found.len());
    for (advisory, version) in found {
        let edition = store.partner_edition(advisory.id).await?;
        items.push(PackageItem {
            advisory,
            version,
            edition,
        });
    }
    items.sort_by(|a, b| a.advisory.tracking_id.cmp(&b.advisory.tracking_id));
    Ok(items)
}

/// The release, if the seat sees its package now; else "not found".
pub(super) async fn visible_release(app: &App, seat: &Seat, id: ReleaseId) -> Result<Release> {
    let r = app.store().get_release(id).await?;
    if seat
        .agreement
        .sees_release(&r, &app.config().partner_tiers, app.now())
    {
        Ok(r)
    } else {
        Err(Error::NotFound)
    }
}

/// The seat's package of a release it sees (possibly with nothing in its scope).
async fn package(app: &App, seat: &Seat, release: Release, branches: &[Branch]) -> Result<Package> {
    let delivered_at = seat
        .agreement
        .delivery_at(&release, &app.config().partner_tiers)
        .ok_or(Error::NotFound)?;
    let tree = BranchParents::new(branches);
    let items = release_items(app, &release)
        .await?
        .into_iter()
        .filter(|i| i.in_scope(&seat.agreement, &tree))
        .collect();
    Ok(Package {
        release,
        delivered_at,
        items,
    })
}

/// The packages the seat sees now with something in its scope, soonest release first.
pub(super) async fn seat_packages(app: &App, seat: &Seat) -> Result<Vec<Package>> {
    let now = app.now();
    let tiers = &app.config().partner_tiers;
    let branches = app.store().list_branches().await?;
    let mut out = Vec::new();
    for r in app.store().list_releases(true).await? {
        if !seat.agreement.sees_release(&r, tiers, now) {
            continue;
        }
        let p = package(app, seat, r, &branches).await?;
        if !p.items.is_empty() {
            out.push(p);
        }
    }
    out.sort_by_key(|p| p.release.scheduled_at());
    Ok(out)
}

/// The packages the caller's organisation sees now.
pub async fn packages(app: &App, who: &Caller) -> Result<Vec<Package>> {
    let seat = seat(app, who).await?;
    seat_packages(app, &seat).await
}

/// A package opened by a partner contact, with the questions their organisation sees.
#[derive(Debug, Clone)]
pub struct OpenedPackage {
    /// The receiving organisation's name.
    pub organisation: String,
    pub package: Package,
    /// About the package's advisories, oldest first.
    pub questions: Vec<SeenQuestion>,
}

impl OpenedPackage {
    /// The questions about one advisory of the package.
    pub fn questions_about(&self, advisory: AdvisoryId) -> impl Iterator<Item = &SeenQuestion> {
        self.questions
            .iter()
            .filter(move |q| q.question.advisory_id == advisory)
    }
}

/// Opens the package of a release the caller's organisation sees; the access trail records
/// it. A package with nothing in the organisation's scope is "not found".
pub async fn open_package(app: &App, who: &Caller, release: ReleaseId) -> Result<OpenedPackage> {
    let seat = seat(app, who).await?;
    let r = visible_release(app, &seat, release).await?;
    let branches = app.store().list_branches().await?;
    let package = package(app, &seat, r, &branches).await?;
    if package.items.is_empty() {
        return Err(Error::NotFound);
    }
    let questions = app
        .store()
        .list_questions(Some(release))
        .await?
        .iter()
        .filter(|q| package.items.iter().any(|i| i.advisory.id == q.advisory_id))
        .filter_map(|q| SeenQuestion::of(q, seat.org.id))
        .collect();
    record(app, &seat, AccessKind::ViewPackage, |a| {
        a.release_id = Some(release);
    })
    .await?;
    Ok(OpenedPackage {
        organisation: seat.org.name.to_string(),
        package,
        questions,
    })
}

/// One advisory of the seat's package of a release, if it is in the seat's scope.
pub(super) async fn package_item(
    app: &App,
    seat: &Seat,
    release: &Release,
    advisory: AdvisoryId,
    branches: &[Branch],
) -> Result<PackageItem> {
    let tree = BranchParents::new(branches);
    release_items(app, release)
        .await?
        .into_iter()
        .find(|i| i.advisory.id == advisory && i.in_scope(&seat.agreement, &tree))
        .ok_or(Error::NotFound)
}

/// A file made for one partner organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerFile {
    /// Names the advisory and the receiving organisation.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The partner CSAF document of one advisory of a package: an interim TLP:AMBER document
/// naming the receiving organisation and the embargo. The download is recorded first.
pub async fn download_csaf(
    app: &App,
    who: &Caller,
    release: ReleaseId,
    advisory: AdvisoryId,
) -> Result<PartnerFile> {
    let seat = seat(app, who).await?;
    let r = visible_release(app, &seat, release).await?;
    let branches = app.store().list_branches().await?;
    let item = package_item(app, &seat, &r, advisory, &branches).await?;
    let doc = partner_csaf_document(
        &item.advisory,
        &item.version,
        &ProductNames::from_branches(&branches),
        &app.config().publishing.publisher,
        &PartnerCsaf {
            org_name: seat.org.name.as_str(),
            embargo_until: r.scheduled_at(),
            edition: item.edition.as_ref(),
        },
    )
    .map_err(|e| Error::invalid("advisory", e.to_string()))?;
    let mut bytes = serde_json::to_vec_pretty(&doc)
        .map_err(|e| Error::internal(format!("cannot encode the CSAF document: {e}")))?;
    bytes.push(b'\n');
    let name = keikai_domain::partner::partner_file_name(
        &item.advisory.tracking_id,
        seat.org.name.as_str(),
        "json",
    );
    record(app, &seat, AccessKind::Download, |a| {
        a.release_id = Some(release);
        a.advisory_id = Some(item.advisory.id);
        a.detail.clone_from(&name);
    })
    .await?;
    Ok(PartnerFile { name, bytes })
}
