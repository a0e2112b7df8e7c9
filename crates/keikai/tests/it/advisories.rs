//! Advisories and releases through the API and the editor pages: creating from a case, the
//! four-eyes review, translations marked outdated, diffs of edits, scheduling into releases,
//! the release-readiness page, escaping, and every editor form once. Who may use the routes
//! at all is the route × role matrix's business (see `matrix.rs`, which calls [`prepare`]).

use jiff::SignedDuration;
use keikai_domain::advisory::{Advisory, RemediationInput, Verdict};
use keikai_domain::case::{CvssVector, ProductStatus, ProductStatusKind};
use keikai_domain::{
    AdvisoryId, BranchId, Locale, OrgId, ReleaseId, Role, UserId, VulnerabilityId,
};
use keikai_store::Effects;
use serde_json::{Value, json};

use crate::cases::{FullCase, full_case, product_version};
use crate::matrix::{Body, Fixture, form};
use crate::publishing::plan_release;
use crate::support::{Api, NowTs, TestApp};

// ---------------------------------------------------------------- helpers

/// Two PSIRT analysts: an author and a reviewer, with a read+write token each.
async fn analysts(app: &TestApp) -> ((UserId, String), (UserId, String)) {
    let (a, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (b, _) = app.user_with_role(Role::PsirtAnalyst).await;
    ((a, app.write_token(a).await), (b, app.write_token(b).await))
}

/// An advisory made from a fresh case through the API: the case and the response body.
async fn from_case(api: &Api<'_>) -> (FullCase, Value) {
    let app = api.app;
    let (reporter, _) = app.user_with_role(Role::Reporter).await;
    let case = full_case(app, reporter, app.own_org).await;
    let (status, body) = api
        .post("/api/v1/advisories", json!({ "case": case.number }))
        .await;
    assert_eq!(status, 201, "{body}");
    (case, body)
}

fn id_of(body: &Value) -> String {
    body["advisory"]["id"].as_str().unwrap().to_owned()
}

fn revision_of(body: &Value) -> i64 {
    body["advisory"]["revision"].as_i64().unwrap()
}

async fn plan_out_of_band(api: &Api<'_>, days: i64, title: &str) -> String {
    let at = api.app.clock.now_ts() + SignedDuration::from_hours(24 * days);
    let release = json!({ "kind": "out_of_band", "scheduled_at": at.to_string(), "title": title });
    let (status, body) = api.post("/api/v1/releases", release).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn review(api: &Api<'_>, id: &str, verdict: &str, text: &str) -> (u16, Value) {
    let review = json!({ "verdict": verdict, "text": text });
    api.post(&format!("/api/v1/advisories/{id}/reviews"), review)
        .await
}

/// Asserts an API refusal: the status and the field named.
#[track_caller]
fn assert_refused((status, body): &(u16, Value), want: u16, field: &str) {
    assert_eq!(*status, want, "{body}");
    assert_eq!(body["error"]["field"], field, "{body}");
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn an_advisory_is_made_from_a_case_once_through_the_api() {
    let app = TestApp::spawn().await;
    let ((author, tok), _) = analysts(&app).await;
    let api = app.api(&tok);
    let (case, body) = from_case(&api).await;
    let a = &body["advisory"];
    let year = app.clock.now_ts().to_zoned(jiff::tz::TimeZone::UTC).year();
    assert_eq!(a["tracking_id"], format!("KEIKAI-{year:04}-0001"));
    assert_eq!(a["state"], "draft");
    assert_eq!(a["content"]["text"]["en"]["title"], "Full case");
    let vulns = a["content"]["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1);
    assert_eq!(vulns[0]["id"], case.vulnerability.to_string());
    assert_eq!(vulns[0]["remediations"].as_array().unwrap().len(), 1);
    assert_eq!(a["edits"][0]["editor"], author.to_string());
    // Asking again returns the same advisory instead of a second one.
    let (status, again) = api
        .post("/api/v1/advisories", json!({ "case": case.number }))
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["advisory"]["id"], a["id"]);
    let bad = api
        .post("/api/v1/advisories", json!({ "case": 99_999 }))
        .await;
    assert_refused(&bad, 422, "case");
    // By id and by tracking id; the list has it once.
    let tracking = a["tracking_id"].as_str().unwrap();
    for key in [a["id"].as_str().unwrap(), tracking] {
        let (status, got) = api.get(&format!("/api/v1/advisories/{key}")).await;
        assert_eq!(status, 200, "{key}");
        assert_eq!(got["advisory"]["id"], a["id"]);
        assert_eq!(got["readiness"]["review"], "not_reviewed");
    }
    let list = api.ok("/api/v1/advisories").await;
    assert_eq!(list["advisories"].as_array().unwrap().len(), 1);
    let list = api.ok("/api/v1/advisories?state=published").await;
    assert!(list["advisories"].as_array().unwrap().is_empty());
    // The case page links to it instead of offering to make another.
    let s = app.session_for(author).await;
    let (status, html) = app.get_page(&s, &format!("/cases/{}", case.number)).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("id=\"advisory-link\"><code>{tracking}</code>")),
        "{html}"
    );
    assert!(
        !html.contains("id=\"advisory-form\""),
        "no second advisory is offered"
    );
    let (status, loc, _) = app
        .post_form(&s, &format!("/cases/{}/advisory", case.number), &[])
        .await;
    assert_eq!(
        (status, loc),
        (
            303,
            format!("/editor/advisories/{}", a["id"].as_str().unwrap())
        )
    );
}

#[tokio::test]
async fn only_someone_other_than_the_authors_approves_and_an_edit_drops_the_approval() {
    let app = TestApp::spawn().await;
    let ((_, author), (_, reviewer)) = analysts(&app).await;
    let (author, reviewer) = (app.api(&author), app.api(&reviewer));
    let (_, created) = from_case(&author).await;
    let id = id_of(&created);
    assert_refused(&review(&author, &id, "approve", "").await, 422, "verdict");
    assert_refused(
        &review(&reviewer, &id, "request_changes", "").await,
        422,
        "text",
    );
    let (status, body) = review(&reviewer, &id, "request_changes", "Name the versions").await;
    assert_eq!(status, 200);
    assert_eq!(body["readiness"]["review"], "changes_requested");
    let (status, body) = review(&reviewer, &id, "approve", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["readiness"]["review"], "approved");
    // The author changes the English text: the approval was for the edit before.
    let advisory = author.under(&format!("/api/v1/advisories/{id}"));
    let text = json!({
        "title": "SQL injection in Keikai Router",
        "summary": "An attacker can read the database.",
        "revision": revision_of(&body),
    });
    let (status, body) = advisory.put("/text/en", text).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["readiness"]["review"], "not_reviewed");
    // A stale revision is refused.
    let stale = json!({ "tlp": "green", "revision": revision_of(&body) - 1 });
    let (status, stale) = advisory.put("/facts", stale).await;
    assert_eq!(status, 409, "{stale}");
    // Once the reviewer edits, they are an author too and may not approve any more.
    let facts = json!({ "tlp": "green", "references": [{ "url": "https://example.com/kb/1", "summary": "Notice" }] });
    let (status, body) = reviewer
        .put(&format!("/api/v1/advisories/{id}/facts"), facts)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["advisory"]["content"]["tlp"], "green");
    assert_refused(&review(&reviewer, &id, "approve", "").await, 422, "verdict");
    let not_a_url = json!({ "references": [{ "url": "not a url", "summary": "x" }] });
    assert_refused(
        &advisory.put("/facts", not_a_url).await,
        422,
        "references.url",
    );
}

#[tokio::test]
async fn a_japanese_edit_marks_english_outdated_and_the_diff_shows_the_lines() {
    let app = TestApp::spawn().await;
    let ((author, tok), _) = analysts(&app).await;
    let api = app.api(&tok);
    let (_, created) = from_case(&api).await;
    let id = id_of(&created);
    let advisory = api.under(&format!("/api/v1/advisories/{id}"));
    let ja = json!({
        "title": "Keikai Router における SQL インジェクション",
        "summary": "データベースを読み取られるおそれがあります。",
        "faqs": [{ "question": "影響を受けますか", "answer": "1.0 が影響を受けます" }],
    });
    let (status, body) = advisory.put("/text/ja", ja).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["readiness"]["en"], "outdated");
    assert_eq!(body["readiness"]["ja"], "current");
    let s = app.session_for(author).await;
    let (status, html) = app.get_page(&s, &format!("/editor/advisories/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("class=\"badge translation-outdated\" id=\"badge-en\">Outdated<"),
        "{html}"
    );
    assert!(html.contains("class=\"badge translation-current\" id=\"badge-ja\">Current<"));
    assert!(
        html.contains("id=\"confirm-en\""),
        "a confirm button for English"
    );
    assert!(!html.contains("id=\"confirm-ja\""));
    // The FAQ entry and two empty slots.
    assert!(html.contains("value=\"影響を受けますか\""));
    let faq_slots = html.matches("name=\"faq_question\"").count();
    assert_eq!(
        faq_slots,
        1 + 2 + 2,
        "ja: one entry and two slots; en: two slots"
    );
    // The diff of that edit against the one before.
    let (status, html) = app
        .get_page(&s, &format!("/editor/advisories/{id}/edits/2"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("data-field=\"ja.title\""), "{html}");
    // The Japanese text started empty: the case's text went into its report's language
    // (English) only.
    assert!(
        !html.contains("<span class=\"removed\">- Full case</span>"),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"added\">+ Keikai Router における SQL インジェクション</span>")
    );
    assert!(html.contains("data-field=\"ja.faq[1]\""));
    assert!(
        !html.contains("data-field=\"en.title\""),
        "English did not change"
    );
    let diff = advisory.ok("/edits/2").await;
    let title = diff["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "ja.title")
        .unwrap();
    assert_eq!(
        title["lines"],
        json!([{ "op": "added", "line": "Keikai Router における SQL インジェクション" }]),
        "the Japanese title was empty before"
    );
    assert_eq!(advisory.get("/edits/9").await.0, 404);
    // The translator confirms English is still right.
    let (status, loc, body) = app
        .post_form(
            &s,
            &format!("/editor/advisories/{id}/translation/en/confirm"),
            &[("revision", &revision_of(&body).to_string())],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(loc, format!("/editor/advisories/{id}#texts"));
    let (_, html) = app.get_page(&s, &format!("/editor/advisories/{id}")).await;
    assert!(html.contains("id=\"badge-en\">Current<"));
}

#[tokio::test]
async fn scheduling_needs_an_approval_and_the_readiness_page_lists_the_advisory() {
    let app = TestApp::spawn().await;
    let ((author_id, author), (_, reviewer)) = analysts(&app).await;
    let (author, reviewer) = (app.api(&author), app.api(&reviewer));
    let (case, created) = from_case(&author).await;
    let id = id_of(&created);
    let tracking = created["advisory"]["tracking_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The product version it affects (the case's workaround applies to it): without a
    // product its CSAF document would be refused at publication, so it would not be ready.
    let s = app.session_for(author_id).await;
    let version = product_version(&app).await.to_string();
    let statuses = format!(
        "/editor/advisories/{id}/vulnerabilities/{}/statuses",
        case.vulnerability
    );
    let revision = app
        .store
        .get_advisory(id.parse().unwrap())
        .await
        .unwrap()
        .revision
        .to_string();
    let fixed = [
        ("branch_id", version.as_str()),
        ("status", "known_affected"),
        ("revision", &revision),
    ];
    let (status, _, body) = app.post_form(&s, &statuses, &fixed).await;
    assert_eq!(status, 303, "{body}");
    let release = plan_out_of_band(&author, 7, "Emergency fix").await;
    let advisory = author.under(&format!("/api/v1/advisories/{id}"));
    // The case's text is in its report's language (English); Japanese, required by
    // default, is missing until it is written, and readiness says so.
    let (_, before) = advisory.get("").await;
    assert_eq!(
        before["readiness"]["blocker"], "ja: the Japanese text is not written yet",
        "{before}"
    );
    let ja = json!({
        "title": "ログインフォームの SQL インジェクション",
        "summary": "SQL インジェクション",
        "description": "ログインフォームが入力を連結します。",
        "translation": true,
    });
    let (status, body) = advisory.put("/text/ja", ja).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["readiness"]["en"], &body["readiness"]["ja"]),
        (&json!("current"), &json!("current")),
        "a translation leaves English current"
    );
    let schedule_body = json!({ "release": release });
    let refused = advisory.post("/schedule", schedule_body.clone()).await;
    assert_refused(&refused, 422, "review");
    let (status, _) = review(&reviewer, &id, "approve", "Looks right").await;
    assert_eq!(status, 200);
    let (status, body) = advisory.post("/schedule", schedule_body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["advisory"]["state"], "scheduled");
    assert_eq!(body["advisory"]["release"], release);
    assert_eq!(body["readiness"]["ready"], true, "{body}");
    let rel_path = format!("/api/v1/releases/{release}");
    let rel = author.ok(&rel_path).await;
    assert_eq!(rel["release"]["kind"], "out_of_band");
    let row = &rel["advisories"][0];
    assert_eq!(row["tracking_id"], tracking.as_str());
    assert_eq!(row["readiness"]["review"], "approved");
    assert_eq!(row["readiness"]["en"], "current");
    // Its one product version has a workaround but no fix yet: shown, and no blocker.
    assert_eq!(row["readiness"]["fixed"], false);
    assert_eq!(row["readiness"]["blocker"], Value::Null);
    assert_eq!(row["readiness"]["ready"], true);
    let page = format!("/releases/{release}");
    let (status, html) = app.get_page(&s, &page).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("<tr data-advisory=\"{tracking}\">")),
        "{html}"
    );
    assert!(html.contains("class=\"badge review-approved\">Approved<"));
    assert!(html.contains("<td class=\"ready-true\">Yes</td>"));
    assert!(
        html.contains("id=\"ready-count\">Will be published: 1 / 1<"),
        "{html}"
    );
    // An edit after scheduling takes it back to draft: still in the release, but not ready.
    let (status, body) = advisory.put("/facts", json!({ "tlp": "amber" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["advisory"]["state"], "draft");
    assert_eq!(body["readiness"]["ready"], false);
    let (_, html) = app.get_page(&s, &page).await;
    assert!(html.contains(&format!(
        "<tr data-advisory=\"{tracking}\" class=\"not-ready\">"
    )));
    assert!(html.contains("Will be published: 0 / 1"));
    // Moving the release moves its advisories with it.
    let later = (app.clock.now_ts() + SignedDuration::from_hours(24 * 9))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .datetime()
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let reschedule = [("local_time", later.as_str()), ("zone", "UTC")];
    let (status, loc, body) = app
        .post_form(&s, &format!("{page}/reschedule"), &reschedule)
        .await;
    assert_eq!((status, loc.as_str()), (303, page.as_str()), "{body}");
    let (_, rel) = author.get(&rel_path).await;
    assert_eq!(rel["advisories"][0]["tracking_id"], tracking.as_str());
    assert!(
        rel["release"]["scheduled_at"]
            .as_str()
            .unwrap()
            .starts_with(&later[..10])
    );
    // Only planned releases take advisories.
    let nowhere = json!({ "release": ReleaseId::new().to_string() });
    assert_refused(&advisory.post("/schedule", nowhere).await, 422, "release");
    // "Publish now" sends the release out at once; the advisory edited after its approval
    // stays unpublished, and a second press is refused.
    let (_, html) = app.get_page(&s, &page).await;
    assert!(html.contains("id=\"publish-now-form\""), "{html}");
    let (status, loc, body) = app.post_form(&s, &format!("{page}/publish"), &[]).await;
    assert_eq!((status, loc.as_str()), (303, page.as_str()), "{body}");
    let (_, html) = app.get_page(&s, &page).await;
    assert!(!html.contains("id=\"publish-now-form\""), "{html}");
    let (_, rel) = author.get(&rel_path).await;
    assert_eq!(rel["release"]["state"], "published", "{rel}");
    let (_, adv) = advisory.get("").await;
    assert_eq!(adv["advisory"]["state"], "draft", "{adv}");
    let (status, body) = author
        .send("POST", &format!("{rel_path}/publish"), None)
        .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn a_monthly_release_must_be_at_its_months_instant_and_shows_in_the_viewers_zone() {
    let app = TestApp::spawn().await;
    let ((analyst, tok), _) = analysts(&app).await;
    let api = app.api(&tok);
    let schedule = keikai_app::AppConfig::default().publishing.schedule;
    let now = app.clock.now_ts();
    let next = schedule.next_monthly_after(now).unwrap();
    let wrong = next + SignedDuration::from_hours(1);
    let past = now - SignedDuration::from_hours(1);
    for (release, field) in [
        (
            json!({ "kind": "monthly", "scheduled_at": wrong.to_string() }),
            "scheduled_at",
        ),
        (
            json!({ "kind": "out_of_band", "scheduled_at": past.to_string() }),
            "scheduled_at",
        ),
        (json!({ "kind": "weekly", "month": "2030-01" }), "kind"),
    ] {
        let (status, body) = api.post("/api/v1/releases", release.clone()).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some(field)),
            "{release}: {body}"
        );
    }
    let local = next.to_zoned(schedule.zone().clone());
    let month = format!("{:04}-{:02}", local.year(), local.month());
    let monthly = json!({ "kind": "monthly", "month": month });
    let (status, body) = api.post("/api/v1/releases", monthly.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["scheduled_at"], next.to_string());
    assert_eq!(body["title"], format!("Monthly release {month}"));
    assert_eq!(body["scheduled_at_local"], schedule.display(next));
    let list = api.ok("/api/v1/releases").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // One train a month.
    assert_refused(&api.post("/api/v1/releases", monthly).await, 422, "month");
    // Shown in the schedule's zone and, for a Japanese-speaking viewer, in Japan's.
    app.store
        .set_locale(
            analyst,
            Some(Locale::Ja),
            &Effects::system(app.clock.now_ts()),
        )
        .await
        .unwrap();
    let s = app.session_for(analyst).await;
    let (status, html) = app.get_page(&s, "/releases").await;
    assert_eq!(status, 200);
    let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    assert!(html.contains(&schedule.display(next)), "{html}");
    assert!(
        html.contains(&keikai_domain::release::display_in(next, &tokyo)),
        "{html}"
    );
    assert!(html.contains(" JST<"), "{html}");
    // The form offers the next month without a release: the one after.
    let after = local.date().last_of_month().tomorrow().unwrap();
    let m2 = format!("{:04}-{:02}", after.year(), after.month());
    assert!(
        html.contains(&format!("id=\"month\" value=\"{m2}\"")),
        "{html}"
    );
    let (status, loc, body) = app
        .post_form(
            &s,
            "/releases",
            &[("kind", "monthly"), ("month", &m2), ("title", "")],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    assert!(loc.starts_with("/releases/"), "{loc}");
    let out_of_band = |local_time, zone| {
        vec![
            ("kind", "out_of_band"),
            ("local_time", local_time),
            ("zone", zone),
        ]
    };
    let pages = app
        .refused_forms(
            &s,
            422,
            &[
                (
                    "/releases",
                    &out_of_band("2001-01-01T10:00", "Asia/Tokyo"),
                    &["role=\"alert\">scheduled_at:"],
                ),
                (
                    "/releases",
                    &out_of_band("2099-01-01T10:00", "Mars/Olympus"),
                    &["role=\"alert\">zone:"],
                ),
            ],
        )
        .await;
    assert!(
        pages[1].contains("value=\"Mars/Olympus\""),
        "what was typed is kept"
    );
}

#[tokio::test]
async fn markup_in_titles_is_escaped_on_every_page() {
    let app = TestApp::spawn().await;
    let ((author_id, author), (_, reviewer)) = analysts(&app).await;
    let (author, reviewer) = (app.api(&author), app.api(&reviewer));
    let evil = "<script>alert(1)</script>";
    let blank =
        json!({ "language": "en", "title": evil, "summary": "<img src=x onerror=alert(2)>" });
    let (status, body) = author.post("/api/v1/advisories", blank).await;
    assert_eq!(status, 201, "{body}");
    let id = id_of(&body);
    // A vulnerability for it to be schedulable: from a case whose title is markup too.
    let (case, from_case) = from_case(&author).await;
    let case_adv = id_of(&from_case);
    let advisory = author.under(&format!("/api/v1/advisories/{case_adv}"));
    let text = json!({ "title": evil, "summary": "<b>summary</b>" });
    assert_eq!(advisory.put("/text/en", text).await.0, 200);
    let release = plan_out_of_band(&author, 3, "<b>bold</b> release").await;
    review(&reviewer, &case_adv, "approve", "<i>ok</i>").await;
    let (status, body) = advisory
        .post("/schedule", json!({ "release": release }))
        .await;
    assert_eq!(status, 200, "{body}");
    let s = app.session_for(author_id).await;
    for path in [
        "/editor/advisories".to_owned(),
        "/editor/advisories?q=%3Cscript%3E".to_owned(),
        format!("/editor/advisories/{id}"),
        format!("/editor/advisories/{id}/edits/1"),
        format!("/editor/advisories/{case_adv}"),
        format!("/editor/advisories/{case_adv}/edits/2"),
        "/releases".to_owned(),
        format!("/releases/{release}"),
        format!("/cases/{}", case.number),
    ] {
        let (status, html) = app.get_page(&s, &path).await;
        assert_eq!(status, 200, "{path}");
        for raw in [
            "<script>alert",
            "<img src=x",
            "<b>bold",
            "<b>summary",
            "<i>ok",
        ] {
            assert!(!html.contains(raw), "{path} shows {raw} unescaped");
        }
        if path != "/releases" && !path.starts_with("/cases/") {
            assert!(
                html.contains("&#60;script&#62;alert(1)"),
                "{path} lacks the escaped title"
            );
        }
    }
}

#[tokio::test]
async fn every_editor_form_works_once() {
    let app = TestApp::spawn().await;
    let ((author, _), (reviewer, _)) = analysts(&app).await;
    let s = app.session_for(author).await;
    let r = app.session_for(reviewer).await;
    let version = product_version(&app).await;
    let (reporter, _) = app.user_with_role(Role::Reporter).await;
    let case = full_case(&app, reporter, app.own_org).await;
    // The list and a blank draft.
    let (status, html) = app.get_page(&s, "/editor/advisories").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"new-advisory-form\""));
    let draft = |title, summary| vec![("language", "ja"), ("title", title), ("summary", summary)];
    let (status, loc, _) = app
        .post_form(&s, "/editor/advisories", &draft("空の下書き", "概要"))
        .await;
    assert_eq!(status, 303);
    assert!(loc.starts_with("/editor/advisories/"), "{loc}");
    let nothing_to_say = draft("概要のない下書き", "");
    let pages = app
        .refused_forms(
            &s,
            422,
            &[(
                "/editor/advisories",
                &nothing_to_say,
                &["role=\"alert\">summary:"],
            )],
        )
        .await;
    assert!(
        pages[0].contains("value=\"概要のない下書き\""),
        "the title is kept"
    );
    // From the case page's button.
    let (status, html) = app.get_page(&s, &format!("/cases/{}", case.number)).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"create-advisory\""));
    let (status, loc, _) = app
        .post_form(&s, &format!("/cases/{}/advisory", case.number), &[])
        .await;
    assert_eq!(status, 303);
    let id = loc.trim_start_matches("/editor/advisories/").to_owned();
    let aid: AdvisoryId = id.parse().unwrap();
    let vid = case.vulnerability;
    let rev = || async {
        app.store
            .get_advisory(aid)
            .await
            .unwrap()
            .revision
            .to_string()
    };
    let base = format!("/editor/advisories/{id}");
    let v = format!("{base}/vulnerabilities/{vid}");
    let (status, html) = app.get_page(&s, &base).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("action=\"{v}/statuses\"")));
    let version_s = version.to_string();
    // Each form once: (path, fields, expected status).
    let steps: Vec<(String, Vec<(&str, String)>)> = vec![
        (
            format!("{base}/text/ja"),
            vec![
                ("title", "日本語のタイトル".into()),
                ("summary", "日本語の概要".into()),
                ("description", "説明".into()),
                ("impact", "影響".into()),
                ("faq_question", "質問".into()),
                ("faq_answer", "回答".into()),
                ("faq_question", String::new()),
                ("faq_answer", String::new()),
                ("remediation_details", "入力を検査する".into()),
            ],
        ),
        (format!("{base}/translation/en/confirm"), vec![]),
        (
            format!("{base}/facts"),
            vec![
                ("tlp", "clear".into()),
                ("severity", "Critical".into()),
                ("references", "https://example.com/a Vendor notice".into()),
                ("acknowledgments", "Hanako Yamada (Example Lab)".into()),
            ],
        ),
        (
            format!("{v}/statuses"),
            vec![
                ("branch_id", version_s.clone()),
                ("status", "known_affected".into()),
            ],
        ),
        (
            format!("{v}/scores"),
            vec![
                (
                    "vector",
                    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
                ),
                ("branch_ids", version_s.clone()),
            ],
        ),
        (
            format!("{v}/remediations"),
            vec![
                ("category", "vendor_fix".into()),
                ("lang", "en".into()),
                ("details", "Update to 1.1".into()),
                ("fixed_version", "1.1".into()),
                ("kb", "KB-1".into()),
                ("url", "https://example.com/fix".into()),
                ("branch_ids", version_s.clone()),
            ],
        ),
        (format!("{v}/remediations/1/delete"), vec![]),
        (format!("{v}/scores/0/delete"), vec![]),
    ];
    for (path, fields) in &steps {
        let revision = rev().await;
        let mut f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        f.push(("revision", &revision));
        let (status, loc, body) = app.post_form(&s, path, &f).await;
        assert_eq!(status, 303, "{path}: {body}");
        assert!(loc.starts_with(&base), "{path}: {loc}");
    }
    let a = app.store.get_advisory(aid).await.unwrap();
    let ja = &a.content.text.ja;
    assert_eq!(ja.title, "日本語のタイトル");
    assert_eq!(ja.faqs.len(), 1, "the empty FAQ slot is dropped");
    assert_eq!(a.content.severity.as_deref(), Some("Critical"));
    assert_eq!(a.content.references[0].summary, "Vendor notice");
    assert_eq!(
        a.content.acknowledgments[0].organization.as_deref(),
        Some("Example Lab")
    );
    let vuln = &a.content.vulnerabilities[0];
    assert_eq!(vuln.product_statuses.len(), 1);
    assert_eq!(
        vuln.remediations.len(),
        1,
        "the new one is removed, the case's one is left"
    );
    assert_eq!(vuln.remediations[0].details.ja, "入力を検査する");
    assert!(vuln.scores.is_empty());
    // The page names the product and the remediation's language fields.
    let (_, html) = app.get_page(&s, &base).await;
    assert!(html.contains(" / Router / 1.0</td>"), "{html}");
    // Bad input: the page again with the field named, what was typed kept.
    let revision = rev().await;
    let unknown_branch = BranchId::new().to_string();
    let at = |fields: &[(&'static str, &'static str)]| {
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        fields.push(("revision", revision.as_str()));
        fields
    };
    let unknown_status: Vec<_> = [("branch_id", unknown_branch.as_str())]
        .into_iter()
        .chain(at(&[("status", "fixed")]))
        .collect();
    let pages = app
        .refused_forms(
            &s,
            422,
            &[
                (
                    &format!("{base}/text/en"),
                    &at(&[("title", "Only a title"), ("summary", "")]),
                    &["role=\"alert\">summary:"],
                ),
                (
                    &format!("{v}/scores"),
                    &at(&[("vector", "CVSS:3.1/AV:Q")]),
                    &["role=\"alert\">vector:"],
                ),
                (
                    &format!("{v}/statuses"),
                    &unknown_status,
                    &["role=\"alert\">branch_id:"],
                ),
                (
                    &format!("{base}/facts"),
                    &at(&[("references", "https://example.com/x")]),
                    &["role=\"alert\">references.summary:"],
                ),
            ],
        )
        .await;
    assert!(pages[0].contains("value=\"Only a title\""));
    // A stale revision.
    let stale = vec![("tlp", "red"), ("revision", "0")];
    app.refused_forms(&s, 409, &[(&format!("{base}/facts"), &stale, &[])])
        .await;
    // Status removal, refresh from the case, review, schedule, unschedule.
    for path in [
        format!("{v}/statuses/{version}/delete"),
        format!("{base}/refresh"),
    ] {
        let revision = rev().await;
        let (status, _, body) = app.post_form(&s, &path, &[("revision", &revision)]).await;
        assert_eq!(status, 303, "{path}: {body}");
    }
    let (status, loc, _) = app
        .post_form(
            &s,
            "/releases",
            &[
                ("kind", "out_of_band"),
                ("local_time", "2099-01-05T10:00"),
                ("zone", "Asia/Tokyo"),
                ("title", "OOB"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let release: ReleaseId = loc.trim_start_matches("/releases/").parse().unwrap();
    let release = release.to_string();
    let revision = rev().await;
    fn approve(revision: &str) -> Vec<(&str, &str)> {
        vec![("verdict", "approve"), ("text", ""), ("revision", revision)]
    }
    // Not approved yet, and the author may not approve.
    app.refused_forms(
        &s,
        422,
        &[
            (
                &format!("{base}/schedule"),
                &[("release", &release), ("revision", &revision)],
                &["role=\"alert\">review:"],
            ),
            (
                &format!("{base}/reviews"),
                &approve(&revision),
                &["role=\"alert\">verdict:"],
            ),
        ],
    )
    .await;
    let comment = [
        ("verdict", "comment"),
        ("text", "Please add the KB"),
        ("revision", &revision),
    ];
    let (status, _, _) = app
        .post_form(&r, &format!("{base}/reviews"), &comment)
        .await;
    assert_eq!(status, 303);
    let (status, _, _) = app
        .post_form(&r, &format!("{base}/reviews"), &approve(&rev().await))
        .await;
    assert_eq!(status, 303);
    let (status, loc, body) = app
        .post_form(
            &s,
            &format!("{base}/schedule"),
            &[("release", &release), ("revision", &rev().await)],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(loc, format!("{base}#schedule"));
    let (_, html) = app.get_page(&s, &base).await;
    assert!(html.contains("id=\"review-state\">Approved<"));
    assert!(html.contains("id=\"unschedule\""));
    let (status, _, _) = app
        .post_form(
            &s,
            &format!("{base}/unschedule"),
            &[("revision", &rev().await)],
        )
        .await;
    assert_eq!(status, 303);
    assert!(app.store.get_advisory(aid).await.unwrap().release.is_none());
    // Published (as the publisher would), then revised.
    let mut a = app.store.get_advisory(aid).await.unwrap();
    let release: ReleaseId = release.parse().unwrap();
    a.schedule(release, app.clock.now_ts()).unwrap();
    let change = a.publish(release, app.clock.now_ts()).unwrap();
    app.store
        .save_advisory(&a, &Effects::system(a.updated_at).with_changes([change]))
        .await
        .unwrap();
    let (_, html) = app.get_page(&s, &base).await;
    assert!(html.contains("id=\"revision-form\""));
    assert!(
        !html.contains("id=\"save-facts\""),
        "a published version is not edited in place"
    );
    let (status, _, body) = app
        .post_form(
            &s,
            &format!("{base}/revision"),
            &[
                ("summary", "Added the KB number."),
                ("revision", &rev().await),
            ],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let a = app.store.get_advisory(aid).await.unwrap();
    assert_eq!(a.revision_summary.as_deref(), Some("Added the KB number."));
    // The history links each edit to its diff; the list finds it by tracking id.
    let (_, html) = app.get_page(&s, &base).await;
    for n in 1..=a.current_edit() {
        assert!(
            html.contains(&format!("href=\"{base}/edits/{n}\"")),
            "edit {n}"
        );
    }
    let (status, html) = app
        .get_page(&s, &format!("/editor/advisories?q={}", a.tracking_id))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("<tr data-advisory=\"{}\">", a.tracking_id)));
    let (status, html) = app.get_page(&s, "/editor/advisories?state=bogus").await;
    assert_eq!(status, 422);
    assert!(html.contains("state:"), "{html}");
    let (status, html) = app.get_page(&s, "/releases").await;
    assert_eq!(status, 200);
    assert!(html.contains("OOB"));
}

// ---------------------------------------------------------------- the matrix's requests

/// An advisory made from a fresh case, with a product status, a vendor fix and a score,
/// approved by someone who did not write it, and scheduled into a fresh out-of-band release
/// (or, `published`, already published with it). Japanese is outdated (the remediation was
/// written in English), so that every editor route has something to act on.
pub(crate) struct MatrixAdvisory {
    pub(crate) id: AdvisoryId,
    vid: VulnerabilityId,
    pub(crate) release: ReleaseId,
}

pub(crate) async fn matrix_advisory(
    app: &TestApp,
    version: BranchId,
    reporter: UserId,
    team: OrgId,
    published: bool,
) -> MatrixAdvisory {
    let now = app.clock.now_ts();
    let title = format!("Matrix release {}", uuid::Uuid::now_v7().simple());
    let release = plan_release(app, now, SignedDuration::from_hours(24 * 7), &title).await;
    let full = full_case(app, reporter, team).await;
    let case = app.store.case_by_number(full.number).await.unwrap();
    let author = UserId::new();
    let tracking = format!("MATRIX-{}", uuid::Uuid::now_v7().simple());
    let (mut a, created) = Advisory::from_case(tracking, &case, author, now);
    // Both languages written (the case's text is English only), so that an edit of one
    // outdates the other and a translator can confirm it.
    let ja = keikai_domain::advisory::Text {
        title: "マトリクスのアドバイザリ".to_owned(),
        summary: "SQL インジェクション".to_owned(),
        ..Default::default()
    };
    a.translate(Locale::Ja, ja, &[], author, now).unwrap();
    let vid = full.vulnerability;
    a.set_product_status(
        vid,
        ProductStatus::new(version, ProductStatusKind::KnownAffected, None).unwrap(),
        author,
        now,
    )
    .unwrap();
    let fix = RemediationInput {
        category: "vendor_fix".into(),
        details: "Update to 1.1".into(),
        fixed_version: Some("1.1".into()),
        ..RemediationInput::default()
    };
    a.add_remediation(vid, &fix, Locale::En, author, now)
        .unwrap();
    let vector =
        CvssVector::try_from("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_owned()).unwrap();
    a.set_score(vid, vector, Vec::new(), author, now).unwrap();
    a.review(UserId::new(), Verdict::Approve, "", now).unwrap();
    a.schedule(release.id(), now).unwrap();
    if published {
        a.publish(release.id(), now).unwrap();
    }
    let a = app
        .store
        .create_advisory(
            &a,
            &Effects::system(a.updated_at).with_audit(created.clone()),
        )
        .await
        .unwrap();
    MatrixAdvisory {
        id: a.id,
        vid,
        release: release.id(),
    }
}

fn is_ours(template: &str) -> bool {
    // The partner edition belongs to the partner programme (`crate::partners::prepare`).
    (template.starts_with("/editor/advisories") && !template.ends_with("/partner-edition"))
        || (template.starts_with("/api/v1/advisories") && !template.ends_with("/partner-edition"))
        || matches!(
            template,
            "/releases"
                | "/releases/{id}"
                | "/releases/{id}/reschedule"
                | "/api/v1/releases"
                | "/api/v1/releases/{id}"
        )
}

/// The path and a valid body for an advisory or release route, or `None` for a route that
/// is not one of them. Every request gets fresh resources, so callers never race.
pub(crate) async fn prepare(
    app: &TestApp,
    fx: &Fixture,
    method: &str,
    template: &str,
) -> Option<(String, Body)> {
    // Exactly the routes this work added (publishing's routes under /releases are not).
    let ours = keikai_web::ROUTES
        .iter()
        .filter(|(m, _)| *m == method)
        .any(|(_, t)| *t == template && is_ours(t));
    if !ours {
        return None;
    }
    // Lists and creations need nothing; the rest a fresh advisory and release each.
    let m = if template.contains("{id}") {
        Some(
            matrix_advisory(
                app,
                fx.version,
                fx.victim,
                fx.own_org,
                template.ends_with("/revision"),
            )
            .await,
        )
    } else {
        None
    };
    let (id, vid, release) = m.as_ref().map_or_else(Default::default, |m| {
        let id = if template.contains("releases/") {
            m.release.to_string()
        } else {
            m.id.to_string()
        };
        (id, m.vid.to_string(), m.release.to_string())
    });
    let path = template
        .replace("{id}", &id)
        .replace("{vid}", &vid)
        .replace("{branch}", &fx.version.to_string())
        .replace("{index}", "0")
        .replace("{number}", "1")
        // Japanese is the outdated language; English is edited.
        .replace("/translation/{lang}", "/translation/ja")
        .replace("{lang}", "en");
    let unique = format!("Matrix {}", uuid::Uuid::now_v7().simple());
    let version = fx.version.to_string();
    let later = |days: i64| app.clock.now_ts() + SignedDuration::from_hours(24 * days);
    let local = |days: i64| {
        later(days)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .datetime()
            .strftime("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let body = if method == "GET" {
        Body::Empty
    } else if let Some(rest) = template.strip_prefix("/api/v1") {
        Body::Json(match rest {
            "/advisories" => json!({ "language": "en", "title": unique, "summary": "matrix" }),
            "/advisories/{id}/text/{lang}" => json!({ "title": unique, "summary": "matrix" }),
            "/advisories/{id}/facts" => json!({
                "references": [{ "url": "https://example.com/matrix", "summary": unique }],
            }),
            "/advisories/{id}/reviews" => json!({ "verdict": "comment", "text": "matrix" }),
            "/advisories/{id}/schedule" => json!({ "release": release }),
            "/releases" => json!({
                "kind": "out_of_band",
                "scheduled_at": later(30).to_string(),
                "title": unique,
            }),
            other => {
                panic!("no body for {method} /api/v1{other}: add one to advisories::prepare()")
            }
        })
    } else {
        let rest = template.trim_start_matches("/editor/advisories/{id}");
        let reference = format!("https://example.com/matrix {unique}");
        match (template, rest) {
            ("/editor/advisories", _) => form(&[
                ("language", "en"),
                ("title", &unique),
                ("summary", "matrix"),
            ]),
            ("/releases", _) => form(&[
                ("kind", "out_of_band"),
                ("local_time", &local(30)),
                ("zone", "UTC"),
                ("title", &unique),
            ]),
            ("/releases/{id}/reschedule", _) => {
                form(&[("local_time", &local(10)), ("zone", "UTC")])
            }
            (_, "/text/{lang}") => form(&[("title", &unique), ("summary", "matrix")]),
            (_, "/facts") => form(&[("tlp", "clear"), ("references", &reference)]),
            (_, "/vulnerabilities/{vid}/statuses") => {
                form(&[("branch_id", &version), ("status", "fixed")])
            }
            (_, "/vulnerabilities/{vid}/remediations") => form(&[
                ("category", "workaround"),
                ("details", "matrix"),
                ("lang", "en"),
            ]),
            (_, "/vulnerabilities/{vid}/scores") => form(&[(
                "vector",
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            )]),
            (_, "/reviews") => form(&[("verdict", "comment"), ("text", "matrix")]),
            (_, "/schedule") => form(&[("release", &release)]),
            (_, "/revision") => form(&[("summary", "matrix")]),
            // Removals, confirming a translation, refreshing, unscheduling.
            _ => form(&[]),
        }
    };
    Some((path, body))
}
