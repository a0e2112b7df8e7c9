use super::*;
use crate::case::{ProductStatusKind, RemediationCategory};
use crate::testing::{ts, vulnerability};

fn text(title: &str) -> Text {
    Text {
        title: title.to_owned(),
        summary: format!("{title} summary"),
        description: "line one\nline two".to_owned(),
        impact: "remote code execution".to_owned(),
        faqs: vec![Faq {
            question: "Am I affected?".to_owned(),
            answer: "If you run 1.0.".to_owned(),
        }],
    }
}

/// Adds a vulnerability (a fresh id) that affects `b`.
fn with_vulnerability(a: &mut Advisory, b: BranchId) -> VulnerabilityId {
    let id = VulnerabilityId::new();
    a.content.vulnerabilities.push(Vulnerability {
        id,
        product_statuses: vec![
            ProductStatus::new(b, ProductStatusKind::KnownAffected, None).expect("status"),
        ],
        ..vulnerability(0, "Overflow", "CVE-2026-1234")
    });
    id
}

fn draft(author: UserId) -> Advisory {
    Advisory::draft(
        "KEIKAI-2026-0001".to_owned(),
        Locale::En,
        text("Overflow in Router"),
        author,
        ts("2026-01-01T00:00:00Z"),
    )
    .expect("draft")
    .0
}

/// A draft, its author, and when the test works on it (the next day).
fn fresh() -> (Advisory, UserId, Timestamp) {
    let author = UserId::new();
    (draft(author), author, ts("2026-01-02T00:00:00Z"))
}

/// `reviewer` approves the current edit.
fn approve(a: &mut Advisory, reviewer: UserId, now: Timestamp) {
    a.review(reviewer, Verdict::Approve, "", now)
        .expect("approve");
}

/// Whether the English and the Japanese text are current.
fn translations(a: &Advisory) -> (TranslationState, TranslationState) {
    (
        a.translation_state(Locale::En),
        a.translation_state(Locale::Ja),
    )
}

#[test]
fn the_author_cannot_approve_but_someone_else_can() {
    let (mut a, author, now) = fresh();
    let reviewer = UserId::new();
    let err = a.review(author, Verdict::Approve, "", now).unwrap_err();
    assert_eq!(err.field(), "verdict");
    assert_eq!(a.review_state(), ReviewState::NotReviewed);
    approve(&mut a, reviewer, now);
    assert_eq!(a.review_state(), ReviewState::Approved);
}

#[test]
fn an_edit_after_approval_needs_a_new_review_and_leaves_the_schedule() {
    let (mut a, author, now) = fresh();
    let reviewer = UserId::new();
    with_vulnerability(&mut a, BranchId::new());
    let release = ReleaseId::new();
    assert_eq!(
        a.schedule(release, now).unwrap_err().field(),
        "review",
        "an unreviewed draft cannot be scheduled"
    );
    approve(&mut a, reviewer, now);
    a.schedule(release, now).expect("schedule");
    assert!(a.readiness(None).ready);
    let blocked = a.readiness(Some("references: not a URL".to_owned()));
    assert!(!blocked.ready, "what stops publication stops readiness");
    assert_eq!(blocked.blocker.as_deref(), Some("references: not a URL"));
    a.edit_text(Locale::En, text("Overflow in Router X"), &[], author, now)
        .expect("edit");
    assert_eq!(a.state, AdvisoryState::Draft);
    assert_eq!(a.release, Some(release), "it stays planned for its release");
    assert_eq!(a.review_state(), ReviewState::NotReviewed);
    assert!(!a.readiness(None).ready);
    assert!(a.publish(release, now).is_err());
}

#[test]
fn a_reviewer_who_edits_becomes_an_author() {
    let (mut a, _, now) = fresh();
    let reviewer = UserId::new();
    a.edit_text(
        Locale::En,
        text("Changed by the reviewer"),
        &[],
        reviewer,
        now,
    )
    .expect("edit");
    assert!(a.review(reviewer, Verdict::Approve, "", now).is_err());
}

#[test]
fn changes_requested_then_approved() {
    let (mut a, author, now) = fresh();
    let reviewer = UserId::new();
    assert!(
        a.review(reviewer, Verdict::RequestChanges, "", now)
            .is_err(),
        "needs a text"
    );
    a.review(
        reviewer,
        Verdict::RequestChanges,
        "Say which versions.",
        now,
    )
    .expect("request");
    assert_eq!(a.review_state(), ReviewState::ChangesRequested);
    a.review(reviewer, Verdict::Comment, "Also a typo.", now)
        .expect("comment");
    assert_eq!(a.review_state(), ReviewState::ChangesRequested);
    a.edit_text(Locale::En, text("Overflow in Router 1.0"), &[], author, now)
        .expect("edit");
    assert_eq!(a.review_state(), ReviewState::NotReviewed);
    approve(&mut a, reviewer, now);
    assert_eq!(a.review_state(), ReviewState::Approved);
}

#[test]
fn a_change_in_one_language_outdates_the_other_until_its_translator_updates_it() {
    let (mut a, author, now) = fresh();
    let translator = UserId::new();
    assert_eq!(a.translation_state(Locale::Ja), TranslationState::Missing);
    a.edit_text(
        Locale::Ja,
        text("ルーターのオーバーフロー"),
        &[],
        translator,
        now,
    )
    .expect("ja");
    assert_eq!(a.translation_state(Locale::Ja), TranslationState::Current);
    assert_eq!(
        a.translation_state(Locale::En),
        TranslationState::Outdated,
        "a new translation is newer than the English text"
    );
    a.confirm_translation(Locale::En, author, now)
        .expect("confirm");
    assert_eq!(a.translation_state(Locale::En), TranslationState::Current);

    a.edit_text(
        Locale::En,
        text("Overflow in Router (updated)"),
        &[],
        author,
        now,
    )
    .expect("en");
    assert_eq!(
        translations(&a),
        (TranslationState::Current, TranslationState::Outdated)
    );
    // The translator's update, a translation with nothing new, clears it and does not
    // outdate the English original.
    a.translate(
        Locale::Ja,
        text("ルーターのオーバーフロー（更新）"),
        &[],
        translator,
        now,
    )
    .expect("ja update");
    assert_eq!(
        translations(&a),
        (TranslationState::Current, TranslationState::Current)
    );
    assert!(a.confirm_translation(Locale::Ja, author, now).is_err());

    // Japanese edited, then English with a new fact: Japanese is outdated again, although
    // English was the outdated one before its edit.
    a.edit_text(Locale::Ja, text("ルーター（修正版）"), &[], translator, now)
        .expect("ja");
    assert_eq!(
        translations(&a),
        (TranslationState::Outdated, TranslationState::Current)
    );
    a.edit_text(Locale::En, text("Router (fixed in 2.0)"), &[], author, now)
        .expect("en with a new fact");
    assert_eq!(
        translations(&a),
        (TranslationState::Current, TranslationState::Outdated),
        "a new fact in English outdates the Japanese text"
    );
    assert_eq!(
        a.check_languages(&[Locale::En, Locale::Ja])
            .unwrap_err()
            .field(),
        "ja",
        "an outdated required language stops publication"
    );
    assert!(a.check_languages(&[Locale::En]).is_ok());
}

#[test]
fn a_draft_from_a_case_holds_the_case_text_in_the_reports_language_only() {
    let input = crate::case::ReportInput {
        title: "ルーターの認証回避".into(),
        product: "Router".into(),
        description: "細工したクッキーでログインを回避できる。".into(),
        language: Some("ja".into()),
        ..Default::default()
    };
    let now = ts("2026-02-10T18:00:00Z");
    let report = crate::case::Report::from_input(&input, None).expect("report");
    let (case, _) = Case::open(report, now);
    let (a, _) = Advisory::from_case("EX-2026-0001".to_owned(), &case, UserId::new(), now);
    assert_eq!(a.content.text.ja.title, "ルーターの認証回避");
    assert!(
        a.content.text.en.is_empty(),
        "nothing untranslated in English"
    );
    assert_eq!(a.translation_state(Locale::Ja), TranslationState::Current);
    assert_eq!(a.translation_state(Locale::En), TranslationState::Missing);
    assert_eq!(a.check_languages(&[Locale::En]).unwrap_err().field(), "en");
}

#[test]
fn publishing_snapshots_the_content_and_revisions_need_a_summary() {
    let (author, reviewer) = (UserId::new(), UserId::new());
    let mut a = draft(author);
    let b = BranchId::new();
    let v = with_vulnerability(&mut a, b);
    let t0 = ts("2026-02-10T18:00:00Z");
    let r1 = ReleaseId::new();
    approve(&mut a, reviewer, t0);
    a.schedule(r1, t0).expect("schedule");
    assert!(a.publish(ReleaseId::new(), t0).is_err(), "another release");
    a.publish(r1, t0).expect("publish");
    assert_eq!(a.state, AdvisoryState::Published);
    assert_eq!(a.latest_version().map(|v| v.number), Some(1));
    assert!(a.edit_text(Locale::En, text("x"), &[], author, t0).is_err());

    a.start_revision("Added a workaround.", author, t0)
        .expect("revise");
    let input = RemediationInput {
        category: "workaround".to_owned(),
        details: "Disable the service.".to_owned(),
        ..RemediationInput::default()
    };
    a.add_remediation(v, &input, Locale::En, author, t0)
        .expect("remediation");
    // The public still sees version 1.
    assert!(
        a.latest_version().expect("v1").content.vulnerabilities[0]
            .remediations
            .is_empty()
    );
    let r2 = ReleaseId::new();
    assert!(a.schedule(r2, t0).is_err(), "needs a new approval");
    a.review(author, Verdict::Approve, "", t0).unwrap_err();
    approve(&mut a, reviewer, t0);
    a.schedule(r2, t0).expect("schedule");
    // What partners receive before the release is what the release publishes.
    let upcoming = a.upcoming_version(r2, ts("2026-02-11T00:00:00Z"));
    assert_eq!(
        (upcoming.number, upcoming.summary.as_str()),
        (2, "Added a workaround.")
    );
    a.publish(r2, ts("2026-02-11T00:00:00Z"))
        .expect("publish v2");
    assert_eq!(a.latest_version(), Some(&upcoming));
    assert_eq!(a.revision_summary, None);
    let versions: Vec<_> = a
        .versions
        .iter()
        .map(|v| (v.number, v.summary.as_str()))
        .collect();
    assert_eq!(
        versions,
        [(1, "Initial release."), (2, "Added a workaround.")]
    );
}

#[test]
fn remediations_are_checked() {
    let (mut a, author, now) = fresh();
    let b = BranchId::new();
    let v = with_vulnerability(&mut a, b);
    let fix = RemediationInput {
        category: "vendor_fix".to_owned(),
        details: "Update.".to_owned(),
        ..RemediationInput::default()
    };
    let err = a
        .add_remediation(v, &fix, Locale::En, author, now)
        .unwrap_err();
    assert_eq!(err.field(), "fixed_version");
    let other = RemediationInput {
        fixed_version: Some("1.1".to_owned()),
        branch_ids: vec![BranchId::new()],
        ..fix.clone()
    };
    let err = a
        .add_remediation(v, &other, Locale::En, author, now)
        .unwrap_err();
    assert_eq!(err.field(), "branch_ids");
    let ok = RemediationInput {
        fixed_version: Some("1.1".to_owned()),
        branch_ids: vec![b],
        ..fix
    };
    a.add_remediation(v, &ok, Locale::En, author, now)
        .expect("fix");
    assert!(a.content.vulnerabilities[0].is_fixed());
    assert!(a.readiness(None).fixed);
    let bad = RemediationInput {
        category: "patch".to_owned(),
        ..RemediationInput::default()
    };
    assert_eq!(
        a.add_remediation(v, &bad, Locale::En, author, now)
            .unwrap_err()
            .field(),
        "category"
    );
    assert_eq!(
        a.content.vulnerabilities[0].remediations[0].category,
        RemediationCategory::VendorFix
    );
}

#[test]
fn one_score_per_cvss_version_and_product() {
    use keikai_cvss::Version::*;
    let (mut a, author, now) = fresh();
    let (b1, b2) = (BranchId::new(), BranchId::new());
    let v = with_vulnerability(&mut a, b1);
    a.content.vulnerabilities[0]
        .product_statuses
        .push(ProductStatus::new(b2, ProductStatusKind::KnownAffected, None).expect("status"));
    let base = CvssVector::parse(
        "cvss_v3",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        &[V3_1],
    )
    .expect("vector");
    let local = CvssVector::parse(
        "cvss_v3",
        "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        &[V3_1],
    )
    .expect("vector");
    a.set_score(v, base.clone(), vec![], author, now)
        .expect("base");
    a.set_score(v, local.clone(), vec![b2], author, now)
        .expect("override");
    assert_eq!(a.content.vulnerabilities[0].scores.len(), 2);
    // Two vectors of one version for one product are refused (CSAF 6.1.7)...
    let err = a
        .set_score(v, base.clone(), vec![b1, b2], author, now)
        .unwrap_err();
    assert_eq!(err.field(), "branch_ids");
    // ...but a vector for the same products replaces the old one.
    a.set_score(v, base.clone(), vec![b2], author, now)
        .expect("replace");
    let scores = &a.content.vulnerabilities[0].scores;
    assert_eq!(scores.len(), 2);
    assert_eq!(scores[1].vector, base);
    assert_eq!(scores[1].branch_ids, [b2]);
    assert!(
        a.set_score(v, base, vec![b2], author, now).is_err(),
        "nothing changed"
    );
}

#[test]
fn diffs_show_changed_lines_of_changed_fields() {
    let (mut a, author, now) = fresh();
    let mut t = text("Overflow in Router");
    t.description = "line one\nline 2".to_owned();
    a.edit_text(Locale::En, t, &[], author, now).expect("edit");
    let d = a.diff_of_edit(2).expect("edit 2");
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].field, "en.description");
    assert_eq!(
        d[0].lines,
        [
            LineChange::Same("line one".into()),
            LineChange::Removed("line two".into()),
            LineChange::Added("line 2".into()),
        ]
    );
    // A line added after the last one leaves the last one alone.
    let mut t = text("Overflow in Router");
    t.description = "line one\nline 2\nline three".to_owned();
    a.edit_text(Locale::En, t, &[], author, now).expect("edit");
    let d = a.diff_of_edit(3).expect("edit 3");
    assert_eq!(
        d[0].lines,
        [
            LineChange::Same("line one".into()),
            LineChange::Same("line 2".into()),
            LineChange::Added("line three".into()),
        ]
    );
    // The first edit compares with nothing.
    assert!(a.diff_of_edit(1).expect("edit 1").len() >= 5);
    assert!(a.diff_of_edit(9).is_none());
}

#[test]
fn text_is_checked_field_by_field() {
    let author = UserId::new();
    let mut t = text("x");
    t.summary = String::new();
    let err = Advisory::draft(
        "T-1".into(),
        Locale::En,
        t,
        author,
        ts("2026-01-01T00:00:00Z"),
    )
    .unwrap_err();
    assert_eq!(err.field(), "summary");
    let mut t = text("x");
    t.faqs.push(Faq {
        question: "Why?".into(),
        answer: String::new(),
    });
    assert_eq!(t.checked().unwrap_err().field(), "faqs.answer");
    assert_eq!(
        check_prefix("keikai").unwrap_err().field(),
        "tracking_prefix"
    );
    assert_eq!(check_prefix("ACME-PSIRT").as_deref(), Ok("ACME-PSIRT"));
    assert_eq!(tracking_id("ACME", 2026, 7), "ACME-2026-0007");
}
