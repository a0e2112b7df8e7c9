//! The partner programme: organisations under agreement receive advance information about a
//! release (a pre-release package per tier), may ask questions, and get emergency alerts.
//!
//! Everything here decides; nothing reads a clock or a database. Access is a pure function of
//! the agreement, the release and the time, so that revoking an agreement or moving a release
//! takes effect on the next request, with nothing to clean up.

use std::collections::{BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::advisory::{Localized, Tlp};
use crate::case::long_text;
use crate::org::text_field;
use crate::release::{Release, ReleaseState};
use crate::{AdvisoryId, Branch, BranchId, DomainError, OrgId, ReleaseId, UserId};

crate::names! {
    /// What kind of organisation a partner is.
    pub enum PartnerType("partner_type", "a partner type") {
        SecurityVendor = "security_vendor",
        Csirt = "csirt",
        Government = "government",
        Other = "other",
    }
}

/// A tier of the programme: how long before a release its partners receive the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tier {
    /// A short name, e.g. `1`, `2`, `gov`.
    pub name: String,
    /// How long before the release time the package is delivered.
    #[schema(value_type = String)]
    pub lead: SignedDuration,
}

impl Tier {
    pub fn new(name: &str, lead: SignedDuration) -> Result<Self, DomainError> {
        let name = name.trim();
        let ok = (1..=32).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(DomainError::invalid(
                "tier",
                format!("\"{name}\" is not a tier name (1 to 32 letters, digits, - or _)"),
            ));
        }
        if lead.is_negative() || lead > SignedDuration::from_hours(24 * 60) {
            return Err(DomainError::invalid(
                "lead",
                "must be between 0 and 60 days before the release",
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            lead,
        })
    }
}

/// The configured tiers, earliest delivery first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tiers(Vec<Tier>);

impl Default for Tiers {
    /// Tier 1 five days before the release, tier 2 one day before (as MAPP-like programmes do).
    fn default() -> Self {
        Self(vec![
            Tier {
                name: "1".to_owned(),
                lead: SignedDuration::from_hours(5 * 24),
            },
            Tier {
                name: "2".to_owned(),
                lead: SignedDuration::from_hours(24),
            },
        ])
    }
}

impl Tiers {
    pub fn new(mut tiers: Vec<Tier>) -> Result<Self, DomainError> {
        if tiers.is_empty() {
            return Err(DomainError::invalid("tiers", "at least one tier is needed"));
        }
        let names: BTreeSet<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
        if names.len() != tiers.len() {
            return Err(DomainError::invalid("tiers", "tier names must be unique"));
        }
        tiers.sort_by(|a, b| b.lead.cmp(&a.lead).then_with(|| a.name.cmp(&b.name)));
        Ok(Self(tiers))
    }

    pub fn all(&self) -> &[Tier] {
        &self.0
    }

    pub fn get(&self, name: &str) -> Option<&Tier> {
        self.0.iter().find(|t| t.name == name)
    }

    pub fn check(&self, name: &str) -> Result<&Tier, DomainError> {
        self.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.0.iter().map(|t| t.name.as_str()).collect();
            DomainError::invalid(
                "tier",
                format!(
                    "\"{name}\" is not a configured tier (configured: {})",
                    known.join(", ")
                ),
            )
        })
    }
}

/// Which products a partner may see advance information about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "branches", rename_all = "snake_case")]
pub enum ProductScope {
    All,
    /// Branches of the product tree (a vendor, a product family, a product): the partner sees
    /// advisories affecting anything beneath them.
    #[schema(value_type = Vec<String>)]
    Areas(BTreeSet<BranchId>),
}

impl ProductScope {
    /// Whether an advisory affecting `affected` (leaf branches) falls in this scope.
    pub fn covers(&self, affected: &[BranchId], tree: &BranchParents) -> bool {
        match self {
            Self::All => true,
            Self::Areas(areas) => affected
                .iter()
                .any(|leaf| tree.lineage(*leaf).any(|b| areas.contains(&b))),
        }
    }
}

/// Parent links of the product tree, for scope checks.
#[derive(Debug, Clone, Default)]
pub struct BranchParents(HashMap<BranchId, Option<BranchId>>);

impl BranchParents {
    pub fn new(branches: &[Branch]) -> Self {
        Self(branches.iter().map(|b| (b.id, b.parent_id)).collect())
    }

    /// The branch and its ancestors, nearest first (bounded, in case of a damaged tree).
    pub fn lineage(&self, id: BranchId) -> impl Iterator<Item = BranchId> + '_ {
        let mut next = Some(id);
        let mut steps = 0;
        std::iter::from_fn(move || {
            let current = next?;
            steps += 1;
            next = if steps < 64 {
                self.0.get(&current).copied().flatten()
            } else {
                None
            };
            Some(current)
        })
    }
}

/// The signed agreement of one partner organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Agreement {
    pub org_id: OrgId,
    pub partner_type: PartnerType,
    pub tier: String,
    pub scope: ProductScope,
    #[schema(value_type = String)]
    pub signed_at: Timestamp,
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
    pub revoked: Option<Revocation>,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
    /// The store's optimistic-concurrency counter.
    #[serde(default)]
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Revocation {
    #[schema(value_type = String)]
    pub at: Timestamp,
    pub by: UserId,
    pub reason: String,
}

/// What an administrator enters for an agreement.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AgreementInput {
    pub partner_type: PartnerType,
    pub tier: String,
    pub scope: ProductScope,
    #[schema(value_type = String)]
    pub signed_at: Timestamp,
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
}

impl Agreement {
    /// Records an agreement (new or renewed); a renewal lifts an earlier revocation.
    pub fn record(
        org_id: OrgId,
        input: AgreementInput,
        tiers: &Tiers,
        now: Timestamp,
        previous: Option<&Self>,
    ) -> Result<Self, DomainError> {
        tiers.check(&input.tier)?;
        if input.expires_at <= input.signed_at {
            return Err(DomainError::invalid(
                "expires_at",
                "must be after the signing date",
            ));
        }
        if input.signed_at > now {
            return Err(DomainError::invalid(
                "signed_at",
                "an agreement counts once signed; the date is in the future",
            ));
        }
        if let ProductScope::Areas(a) = &input.scope
            && a.is_empty()
        {
            return Err(DomainError::invalid(
                "scope",
                "choose at least one product area, or all products",
            ));
        }
        Ok(Self {
            org_id,
            partner_type: input.partner_type,
            tier: input.tier.trim().to_owned(),
            scope: input.scope,
            signed_at: input.signed_at,
            expires_at: input.expires_at,
            revoked: None,
            updated_at: now,
            revision: previous.map_or(0, |p| p.revision),
        })
    }

    /// Whether the agreement grants access at `now`.
    pub fn is_valid(&self, now: Timestamp) -> bool {
        self.revoked.is_none() && self.signed_at <= now && now < self.expires_at
    }

    pub fn status(&self, now: Timestamp) -> AgreementStatus {
        if self.revoked.is_some() {
            AgreementStatus::Revoked
        } else if now >= self.expires_at {
            AgreementStatus::Expired
        } else {
            AgreementStatus::Valid
        }
    }

    pub fn revoke(&mut self, by: UserId, reason: &str, now: Timestamp) -> Result<(), DomainError> {
        if self.revoked.is_some() {
            return Err(DomainError::invalid("agreement", "is revoked already"));
        }
        let reason = text_field("reason", reason, 500)?;
        self.revoked = Some(Revocation {
            at: now,
            by,
            reason,
        });
        self.updated_at = now;
        Ok(())
    }

    /// When this partner receives the package of `release` (its tier's lead before the release
    /// time), or `None` when the tier is no longer configured.
    pub fn delivery_at(&self, release: &Release, tiers: &Tiers) -> Option<Timestamp> {
        let tier = tiers.get(&self.tier)?;
        delivery_at(release, tier)
    }

    /// Whether this partner may see the package of `release` now: a valid agreement, and the
    /// tier's delivery time has come. After the release the package stays readable for
    /// partners whose agreement is still valid.
    pub fn sees_release(&self, release: &Release, tiers: &Tiers, now: Timestamp) -> bool {
        self.is_valid(now) && self.delivery_at(release, tiers).is_some_and(|at| at <= now)
    }
}

/// When a tier receives a release's package. Derived from the release time, so moving the
/// release moves the package with it.
pub fn delivery_at(release: &Release, tier: &Tier) -> Option<Timestamp> {
    if release.state() == ReleaseState::Published && release.published_at().is_some() {
        // A release that went out early (published now) delivers at the latest then.
        let planned = release.scheduled_at().checked_sub(tier.lead).ok()?;
        let published = release.published_at()?;
        return Some(planned.min(published));
    }
    release.scheduled_at().checked_sub(tier.lead).ok()
}

crate::names! {
    pub enum AgreementStatus("status", "an agreement status") {
        Valid = "valid",
        Expired = "expired",
        Revoked = "revoked",
    }
}

/// What the partner edition of an advisory adds to the public one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerEditionInput {
    #[serde(default)]
    pub technical_details: Localized<String>,
    #[serde(default)]
    pub detection_guidance: Localized<String>,
    /// Indicators of compromise or attack, one per entry (hashes, signatures, patterns).
    #[serde(default)]
    pub indicators: Vec<String>,
    /// `amber` or `amber_strict`.
    #[serde(default = "amber")]
    pub tlp: Tlp,
}

fn amber() -> Tlp {
    Tlp::Amber
}

impl Default for PartnerEditionInput {
    fn default() -> Self {
        Self {
            technical_details: Localized::default(),
            detection_guidance: Localized::default(),
            indicators: Vec::new(),
            tlp: amber(),
        }
    }
}

/// The partner edition of one advisory: TLP:AMBER or TLP:AMBER+STRICT, never public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerEdition {
    pub advisory_id: AdvisoryId,
    pub technical_details: Localized<String>,
    pub detection_guidance: Localized<String>,
    pub indicators: Vec<String>,
    pub tlp: Tlp,
    pub updated_by: UserId,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
    #[serde(default)]
    pub revision: i64,
}

impl PartnerEdition {
    pub fn write(
        advisory_id: AdvisoryId,
        input: PartnerEditionInput,
        by: UserId,
        now: Timestamp,
        previous: Option<&Self>,
    ) -> Result<Self, DomainError> {
        if !matches!(input.tlp, Tlp::Amber | Tlp::AmberStrict) {
            return Err(DomainError::invalid(
                "tlp",
                "a partner edition is TLP:AMBER or TLP:AMBER+STRICT",
            ));
        }
        let both = |field: &'static str, l: Localized<String>, max: usize| {
            Ok::<_, DomainError>(Localized {
                en: long_text(field, &l.en, max)?,
                ja: long_text(field, &l.ja, max)?,
            })
        };
        let mut indicators = Vec::new();
        for i in input.indicators {
            let i = i.trim();
            if i.is_empty() {
                continue;
            }
            indicators.push(text_field("indicators", i, 2_000)?);
        }
        if indicators.len() > 500 {
            return Err(DomainError::invalid("indicators", "at most 500 entries"));
        }
        let edition = Self {
            advisory_id,
            technical_details: both("technical_details", input.technical_details, 50_000)?,
            detection_guidance: both("detection_guidance", input.detection_guidance, 50_000)?,
            indicators,
            tlp: input.tlp,
            updated_by: by,
            updated_at: now,
            revision: previous.map_or(0, |p| p.revision),
        };
        if edition.is_empty() {
            return Err(DomainError::invalid(
                "technical_details",
                "a partner edition needs technical details, detection guidance or indicators",
            ));
        }
        Ok(edition)
    }

    pub fn is_empty(&self) -> bool {
        self.technical_details.en.is_empty()
            && self.technical_details.ja.is_empty()
            && self.detection_guidance.en.is_empty()
            && self.detection_guidance.ja.is_empty()
            && self.indicators.is_empty()
    }
}

/// Who sees an answer to a partner's question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Every partner who receives the package (the asker's organisation is not named).
    Everyone,
    /// The asking organisation only.
    Asker,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    pub by: UserId,
    pub text: String,
    pub audience: Audience,
    #[schema(value_type = String)]
    pub at: Timestamp,
}

/// A partner's question about an advisory of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Question {
    #[schema(value_type = String)]
    pub id: uuid::Uuid,
    pub release_id: ReleaseId,
    pub advisory_id: AdvisoryId,
    pub org_id: OrgId,
    pub asked_by: UserId,
    pub text: String,
    #[schema(value_type = String)]
    pub asked_at: Timestamp,
    pub answers: Vec<Answer>,
    /// The store's optimistic-concurrency counter.
    #[serde(default)]
    pub revision: i64,
}

impl Question {
    pub fn ask(
        release_id: ReleaseId,
        advisory_id: AdvisoryId,
        org_id: OrgId,
        asked_by: UserId,
        text: &str,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        let text = long_text("text", text, 10_000)?;
        if text.is_empty() {
            return Err(DomainError::invalid("text", "must not be empty"));
        }
        Ok(Self {
            id: uuid::Uuid::now_v7(),
            release_id,
            advisory_id,
            org_id,
            asked_by,
            text,
            asked_at: now,
            answers: Vec::new(),
            revision: 0,
        })
    }

    pub fn answer(
        &mut self,
        by: UserId,
        text: &str,
        audience: Audience,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let text = long_text("text", text, 20_000)?;
        if text.is_empty() {
            return Err(DomainError::invalid("text", "must not be empty"));
        }
        self.answers.push(Answer {
            by,
            text,
            audience,
            at: now,
        });
        Ok(())
    }

    /// What a partner organisation sees of this question: its own questions whole; another
    /// organisation's only when an answer went to everyone, then without the asker and with
    /// only those answers. `None` when it sees nothing of it.
    pub fn as_seen_by(&self, org: OrgId) -> Option<Self> {
        if self.org_id == org {
            return Some(self.clone());
        }
        let answers: Vec<Answer> = self
            .answers
            .iter()
            .filter(|a| a.audience == Audience::Everyone)
            .cloned()
            .collect();
        if answers.is_empty() {
            return None;
        }
        Some(Self {
            answers,
            ..self.clone()
        })
    }

    pub fn is_answered(&self) -> bool {
        !self.answers.is_empty()
    }
}

/// Which partners an emergency alert goes to: every partner whose tier or type is named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertGroups {
    #[serde(default)]
    pub tiers: BTreeSet<String>,
    #[serde(default)]
    pub partner_types: BTreeSet<PartnerType>,
}

impl AlertGroups {
    pub fn includes(&self, agreement: &Agreement) -> bool {
        self.tiers.contains(&agreement.tier) || self.partner_types.contains(&agreement.partner_type)
    }
}

/// What the PSIRT writes for an alert.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AlertInput {
    pub title: String,
    pub body: String,
    pub tlp: Tlp,
    pub groups: AlertGroups,
}

/// An urgent message to chosen partner groups (e.g. an outbreak of a worm), sent at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    #[schema(value_type = String)]
    pub id: uuid::Uuid,
    pub title: String,
    pub body: String,
    pub tlp: Tlp,
    pub groups: AlertGroups,
    /// The organisations it went to, fixed when it was sent.
    pub recipients: Vec<OrgId>,
    pub sent_by: UserId,
    #[schema(value_type = String)]
    pub sent_at: Timestamp,
    #[serde(default)]
    pub revision: i64,
}

impl Alert {
    /// Addresses an alert to every partner with a valid agreement in the chosen groups.
    pub fn send(
        input: AlertInput,
        tiers: &Tiers,
        agreements: &[Agreement],
        by: UserId,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        let AlertInput {
            title,
            body,
            tlp,
            groups,
        } = input;
        let title = text_field("title", &title, 300)?;
        let body = long_text("body", &body, 50_000)?;
        if body.is_empty() {
            return Err(DomainError::invalid("body", "must not be empty"));
        }
        if tlp == Tlp::Clear {
            return Err(DomainError::invalid(
                "tlp",
                "an alert to partners is not public: choose green, amber, amber_strict or red",
            ));
        }
        for t in &groups.tiers {
            tiers.check(t)?;
        }
        if groups.tiers.is_empty() && groups.partner_types.is_empty() {
            return Err(DomainError::invalid(
                "groups",
                "choose at least one tier or partner type",
            ));
        }
        let recipients: Vec<OrgId> = agreements
            .iter()
            .filter(|a| a.is_valid(now) && groups.includes(a))
            .map(|a| a.org_id)
            .collect();
        if recipients.is_empty() {
            return Err(DomainError::invalid(
                "groups",
                "no partner with a valid agreement is in the chosen groups",
            ));
        }
        Ok(Self {
            id: uuid::Uuid::now_v7(),
            title,
            body,
            tlp,
            groups,
            recipients,
            sent_by: by,
            sent_at: now,
            revision: 0,
        })
    }
}

crate::names! {
    /// What a partner did with advance information; the access trail records each.
    pub enum AccessKind("kind", "an access kind") {
        ViewPackage = "view_package",
        ViewAdvisory = "view_advisory",
        Download = "download",
        ViewAlert = "view_alert",
        AcknowledgeAlert = "acknowledge_alert",
    }
}

/// A file name that carries the receiving organisation, e.g.
/// `keikai-2026-0001.partner.example-cert.json`: the name's letters and digits (any script),
/// lower-cased, other characters as `-`.
pub fn partner_file_name(tracking_id: &str, org_name: &str, extension: &str) -> String {
    let mut slug = String::new();
    for c in org_name.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "partner" } else { slug };
    let slug: String = slug.chars().take(60).collect();
    format!(
        "{}.partner.{}.{extension}",
        tracking_id.to_ascii_lowercase(),
        slug.trim_end_matches('-')
    )
}

#[cfg(test)]
mod tests;
