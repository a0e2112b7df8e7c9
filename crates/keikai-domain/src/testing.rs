//! Fixtures shared by the unit tests of several modules (compiled for tests only).

use jiff::Timestamp;
use uuid::Uuid;

use crate::advisory::{Localized, Remediation, Score, Vulnerability};
use crate::case::{
    CveId, CvssVector, Justification, ProductStatus, ProductStatusKind, RemediationCategory,
};
use crate::partner::BranchParents;
use crate::product::{Branch, BranchCategory, BranchName};
use crate::{BranchId, VulnerabilityId};

/// A timestamp written in a test (RFC 3339).
pub(crate) fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The branch id numbered `n`: the same in every run, so product ids (and snapshots) are too.
pub(crate) fn id(n: u128) -> BranchId {
    BranchId::from_uuid(Uuid::from_u128(n))
}

/// Example Corp's Router X in versions 1.0, 2.0 and 2.1 (see [`router_catalogue`]).
pub(crate) const VENDOR: u128 = 0x10;
pub(crate) const ROUTER: u128 = 0x11;
pub(crate) const V1_0: u128 = 0x12;
pub(crate) const V2_0: u128 = 0x13;
pub(crate) const V2_1: u128 = 0x14;

fn make(id: BranchId, parent_id: Option<BranchId>, category: BranchCategory, name: &str) -> Branch {
    Branch {
        id,
        parent_id,
        category,
        name: BranchName::parse(name).unwrap_or_else(|e| panic!("{name}: {e}")),
        created_at: Timestamp::UNIX_EPOCH,
    }
}

/// The catalogue branch numbered `n` (see [`id`]) under the one numbered `parent`.
pub(crate) fn branch(
    n: u128,
    parent: Option<u128>,
    category: BranchCategory,
    name: &str,
) -> Branch {
    make(id(n), parent.map(id), category, name)
}

/// Example's Router and Office, each in version 1.0, with fresh ids: the ids that partner
/// scopes and subscription filters name, and the parents that relate them.
pub(crate) struct Tree {
    pub(crate) parents: BranchParents,
    pub(crate) vendor: BranchId,
    pub(crate) router: BranchId,
    pub(crate) router_1: BranchId,
    pub(crate) office_1: BranchId,
}

pub(crate) fn tree() -> Tree {
    use BranchCategory as C;
    let child = |parent: Option<&Branch>, category, name: &str| {
        make(BranchId::new(), parent.map(|p| p.id), category, name)
    };
    let vendor = child(None, C::Vendor, "Example");
    let router = child(Some(&vendor), C::ProductName, "Router");
    let router_1 = child(Some(&router), C::ProductVersion, "1.0");
    let office = child(Some(&vendor), C::ProductName, "Office");
    let office_1 = child(Some(&office), C::ProductVersion, "1.0");
    Tree {
        vendor: vendor.id,
        router: router.id,
        router_1: router_1.id,
        office_1: office_1.id,
        parents: BranchParents::new(&[vendor, router, router_1, office, office_1]),
    }
}

/// The vendor, the product and the three versions of Router X.
pub(crate) fn router_catalogue() -> Vec<Branch> {
    use BranchCategory as C;
    vec![
        branch(VENDOR, None, C::Vendor, "Example Corp"),
        branch(ROUTER, Some(VENDOR), C::ProductName, "Router X"),
        branch(V1_0, Some(ROUTER), C::ProductVersion, "1.0"),
        branch(V2_0, Some(ROUTER), C::ProductVersion, "2.0"),
        branch(V2_1, Some(ROUTER), C::ProductVersion, "2.1"),
    ]
}

pub(crate) fn loc(en: &str, ja: &str) -> Localized<String> {
    Localized {
        en: en.to_owned(),
        ja: ja.to_owned(),
    }
}

pub(crate) fn vector(s: &str) -> CvssVector {
    CvssVector::try_from(s.to_owned()).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Router X 1.0 and 2.0 affected, 2.1 fixed.
pub(crate) fn fixed_in_2_1() -> Vec<ProductStatus> {
    vec![
        status(V1_0, ProductStatusKind::KnownAffected, None),
        status(V2_0, ProductStatusKind::KnownAffected, None),
        status(V2_1, ProductStatusKind::Fixed, None),
    ]
}

/// The status of the product version numbered `b` (see [`id`]).
pub(crate) fn status(
    b: u128,
    kind: ProductStatusKind,
    justification: Option<Justification>,
) -> ProductStatus {
    ProductStatus::new(id(b), kind, justification).unwrap_or_else(|e| panic!("{e}"))
}

/// The vulnerability numbered `n` (a stable id) with its title and CVE, and nothing else yet:
/// no CWE, scores, statuses or remediations, neither exploited nor public.
pub(crate) fn vulnerability(n: u128, title: &str, cve: &str) -> Vulnerability {
    Vulnerability {
        id: VulnerabilityId::from_uuid(Uuid::from_u128(n)),
        title: title.to_owned(),
        cve: Some(CveId::parse(cve).unwrap_or_else(|e| panic!("{cve}: {e}"))),
        cwe: None,
        scores: Vec::new(),
        exploited: false,
        publicly_disclosed: false,
        product_statuses: Vec::new(),
        remediations: Vec::new(),
    }
}

/// A score of every affected product.
pub(crate) fn score(v: &str) -> Score {
    Score {
        vector: vector(v),
        branch_ids: Vec::new(),
    }
}

/// Router X firmware 2.1 (KB123), for every affected product.
pub(crate) fn firmware_fix() -> Remediation {
    Remediation {
        category: RemediationCategory::VendorFix,
        details: loc(
            "Download the firmware from the support portal.",
            "サポートポータルからファームウェアをダウンロードしてください。",
        ),
        fixed_version: Some("2.1".to_owned()),
        kb: Some("KB123".to_owned()),
        url: Some("https://support.example.com/kb/123".to_owned()),
        branch_ids: Vec::new(),
    }
}
