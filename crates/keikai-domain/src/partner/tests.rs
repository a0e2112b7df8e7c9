use super::*;
use crate::release::{ReleaseKind, ReleaseSchedule};
use crate::testing::{tree, ts};

fn agreement(tier: &str, scope: ProductScope, now: Timestamp) -> Agreement {
    Agreement::record(
        OrgId::new(),
        AgreementInput {
            partner_type: PartnerType::Csirt,
            tier: tier.to_owned(),
            scope,
            signed_at: now - SignedDuration::from_hours(24),
            expires_at: now + SignedDuration::from_hours(24 * 365),
        },
        &Tiers::default(),
        now,
        None,
    )
    .unwrap()
}

fn release(at: Timestamp, now: Timestamp) -> Release {
    let schedule = ReleaseSchedule::parse("10:00", "UTC").unwrap();
    Release::plan(ReleaseKind::OutOfBand, at, "OOB", &schedule, now).unwrap()
}

#[test]
fn a_tier_sees_its_package_from_its_lead_time_and_moving_the_release_moves_it() {
    let now = ts("2026-12-01T00:00:00Z");
    let tiers = Tiers::default();
    let mut r = release(ts("2026-12-10T17:00:00Z"), now);
    let t1 = agreement("1", ProductScope::All, now);
    let t2 = agreement("2", ProductScope::All, now);
    assert_eq!(t1.delivery_at(&r, &tiers), Some(ts("2026-12-05T17:00:00Z")));
    assert_eq!(t2.delivery_at(&r, &tiers), Some(ts("2026-12-09T17:00:00Z")));
    let day6 = ts("2026-12-06T00:00:00Z");
    assert!(t1.sees_release(&r, &tiers, day6));
    assert!(!t2.sees_release(&r, &tiers, day6));
    assert!(!t1.sees_release(&r, &tiers, ts("2026-12-05T16:59:59Z")));
    // Moving the release a week later hides the package again until the new lead time.
    let schedule = ReleaseSchedule::parse("10:00", "UTC").unwrap();
    r.reschedule(ts("2026-12-17T17:00:00Z"), &schedule, now)
        .unwrap();
    assert!(!t1.sees_release(&r, &tiers, day6));
    assert!(t1.sees_release(&r, &tiers, ts("2026-12-12T17:00:00Z")));
}

#[test]
fn expiry_and_revocation_end_access_at_once() {
    let now = ts("2026-12-01T00:00:00Z");
    let tiers = Tiers::default();
    let r = release(ts("2026-12-03T00:00:00Z"), now);
    let mut a = agreement("1", ProductScope::All, now);
    assert!(a.sees_release(&r, &tiers, now));
    assert!(!a.sees_release(&r, &tiers, a.expires_at));
    assert_eq!(a.status(a.expires_at), AgreementStatus::Expired);
    a.revoke(UserId::new(), "left the programme", now).unwrap();
    assert!(!a.sees_release(&r, &tiers, now));
    assert_eq!(a.status(now), AgreementStatus::Revoked);
    assert!(a.revoke(UserId::new(), "again", now).is_err());
    // A renewal lifts the revocation.
    let renewed = Agreement::record(
        a.org_id,
        AgreementInput {
            partner_type: a.partner_type,
            tier: "2".into(),
            scope: ProductScope::All,
            signed_at: now,
            expires_at: now + SignedDuration::from_hours(24),
        },
        &tiers,
        now,
        Some(&a),
    )
    .unwrap();
    assert!(renewed.is_valid(now));
}

#[test]
fn agreements_refuse_unknown_tiers_empty_scopes_and_backwards_dates() {
    let now = ts("2026-12-01T00:00:00Z");
    let input = |tier: &str, scope: ProductScope, expires: Timestamp| AgreementInput {
        partner_type: PartnerType::Government,
        tier: tier.to_owned(),
        scope,
        signed_at: now,
        expires_at: expires,
    };
    let later = now + SignedDuration::from_hours(1);
    let tiers = Tiers::default();
    let e = Agreement::record(
        OrgId::new(),
        input("9", ProductScope::All, later),
        &tiers,
        now,
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("configured: 1, 2"), "{e}");
    let e = Agreement::record(
        OrgId::new(),
        input("1", ProductScope::Areas(BTreeSet::new()), later),
        &tiers,
        now,
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("product area"), "{e}");
    assert!(
        Agreement::record(
            OrgId::new(),
            input("1", ProductScope::All, now),
            &tiers,
            now,
            None
        )
        .is_err()
    );
    assert!("vendor".parse::<PartnerType>().is_err());
    assert_eq!("csirt".parse::<PartnerType>(), Ok(PartnerType::Csirt));
    assert!(Tiers::new(vec![]).is_err());
    let dup = Tier::new("1", SignedDuration::from_hours(1)).unwrap();
    assert!(Tiers::new(vec![dup.clone(), dup]).is_err());
    assert!(Tier::new("a b", SignedDuration::from_hours(1)).is_err());
    assert!(Tier::new("x", SignedDuration::from_hours(-1)).is_err());
}

#[test]
fn a_scope_covers_advisories_affecting_anything_beneath_its_areas() {
    let t = tree();
    let routers = ProductScope::Areas([t.router].into());
    assert!(routers.covers(&[t.router_1], &t.parents));
    assert!(!routers.covers(&[t.office_1], &t.parents));
    assert!(routers.covers(&[t.office_1, t.router_1], &t.parents));
    assert!(!routers.covers(&[], &t.parents));
    assert!(ProductScope::Areas([t.vendor].into()).covers(&[t.office_1], &t.parents));
    assert!(ProductScope::All.covers(&[t.office_1], &t.parents));
}

#[test]
fn answers_to_the_asker_stay_with_the_asker() {
    let now = ts("2026-12-01T00:00:00Z");
    let (asker, other) = (OrgId::new(), OrgId::new());
    let mut q = Question::ask(
        ReleaseId::new(),
        AdvisoryId::new(),
        asker,
        UserId::new(),
        "Does the workaround cover the IPv6 path?",
        now,
    )
    .unwrap();
    assert!(q.as_seen_by(other).is_none());
    q.answer(
        UserId::new(),
        "Only for your deployment: yes.",
        Audience::Asker,
        now,
    )
    .unwrap();
    assert!(q.as_seen_by(other).is_none());
    assert_eq!(q.as_seen_by(asker).unwrap().answers.len(), 1);
    q.answer(UserId::new(), "Yes, both paths.", Audience::Everyone, now)
        .unwrap();
    let seen = q.as_seen_by(other).unwrap();
    assert_eq!(seen.answers.len(), 1);
    assert_eq!(seen.answers[0].text, "Yes, both paths.");
    assert!(
        Question::ask(
            ReleaseId::new(),
            AdvisoryId::new(),
            asker,
            UserId::new(),
            " ",
            now
        )
        .is_err()
    );
}

#[test]
fn alerts_go_to_valid_partners_of_the_chosen_groups() {
    let now = ts("2026-12-01T00:00:00Z");
    let tiers = Tiers::default();
    let t1 = agreement("1", ProductScope::All, now);
    let t2 = agreement("2", ProductScope::All, now);
    let mut gov = agreement("2", ProductScope::All, now);
    gov.partner_type = PartnerType::Government;
    let mut revoked = agreement("1", ProductScope::All, now);
    revoked.revoke(UserId::new(), "ended", now).unwrap();
    let all = [t1.clone(), t2.clone(), gov.clone(), revoked.clone()];
    let groups = AlertGroups {
        tiers: ["1".to_owned()].into(),
        partner_types: [PartnerType::Government].into(),
    };
    let input = |tlp: Tlp, groups: AlertGroups| AlertInput {
        title: "Worm outbreak".into(),
        body: "Block port 445 now.".into(),
        tlp,
        groups,
    };
    let alert = Alert::send(
        input(Tlp::Amber, groups.clone()),
        &tiers,
        &all,
        UserId::new(),
        now,
    )
    .unwrap();
    assert_eq!(alert.recipients, vec![t1.org_id, gov.org_id]);
    let e = Alert::send(input(Tlp::Clear, groups), &tiers, &all, UserId::new(), now).unwrap_err();
    assert!(e.to_string().contains("not public"), "{e}");
    let none = AlertGroups::default();
    assert!(Alert::send(input(Tlp::Red, none), &tiers, &all, UserId::new(), now).is_err());
}

#[test]
fn a_partner_edition_is_amber_and_not_empty() {
    let now = ts("2026-12-01T00:00:00Z");
    let id = AdvisoryId::new();
    let input = PartnerEditionInput {
        technical_details: Localized {
            en: "Heap overflow in the parser.".into(),
            ja: String::new(),
        },
        indicators: vec!["  ".into(), "sha256:abcd".into()],
        ..PartnerEditionInput::default()
    };
    let e = PartnerEdition::write(id, input.clone(), UserId::new(), now, None).unwrap();
    assert_eq!(e.tlp, Tlp::Amber);
    assert_eq!(e.indicators, vec!["sha256:abcd".to_owned()]);
    let clear = PartnerEditionInput {
        tlp: Tlp::Clear,
        ..input
    };
    assert!(PartnerEdition::write(id, clear, UserId::new(), now, None).is_err());
    assert!(
        PartnerEdition::write(id, PartnerEditionInput::default(), UserId::new(), now, None)
            .is_err()
    );
}

#[test]
fn file_names_carry_the_receiving_organisation() {
    assert_eq!(
        partner_file_name("KEIKAI-2026-0001", "Example CERT/CC", "json"),
        "keikai-2026-0001.partner.example-cert-cc.json"
    );
    assert_eq!(
        partner_file_name("KEIKAI-2026-0001", "警戒 株式会社", "json"),
        "keikai-2026-0001.partner.警戒-株式会社.json"
    );
    assert_eq!(
        partner_file_name("KEIKAI-2026-0001", "!!!", "json"),
        "keikai-2026-0001.partner.partner.json"
    );
}
