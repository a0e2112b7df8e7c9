//! A case follows its advisory: publishing moves the case to published as Keikai itself,
//! stops its fix clock, tells the reporter in their portal with the advisory's link and mails
//! them, once; a move to triage tells the reporter nothing, so it meets no clock.

use std::sync::Arc;

use jiff::SignedDuration;
use keikai_app::outbox::{FOLLOW_UP_JOB_KIND, PublicationFollowUp};
use keikai_app::{App, Caller};
use keikai_domain::{BranchCategory, Email, Membership, Principal, Role, Scope, UserId};
use keikai_jobs::cases::FollowUpHandler;
use keikai_jobs::testing::SmtpSink;
use keikai_jobs::{Address, MAIL_JOB_KIND, MailHandler, SmtpMailer, Worker, WorkerConfig};
use serde_json::{Value, json};

use crate::publishing::branch;
use crate::support::{Api, As, NowTs, TestApp};

const BASE_URL: &str = "https://psirt.example.com";

/// The application as the job worker runs it, with the public address links point to.
fn job_app(app: &TestApp) -> App {
    let mut config = keikai_app::AppConfig::default();
    config.publishing.publisher.base_url = BASE_URL.to_owned();
    App::new(app.store.clone(), config, app.clock.clone())
}

/// The follow-up and mail handlers of `serve`'s worker, sending through `sink`.
fn worker(app: &TestApp, sink: &SmtpSink) -> Worker {
    let from = Address::named("Example PSIRT", Email::parse("psirt@example.com").unwrap());
    let mailer = Arc::new(SmtpMailer::new(sink.smtp_config(from)).unwrap());
    Worker::new(
        app.store.clone(),
        app.clock.clone(),
        WorkerConfig::default(),
    )
    .with_handler(
        FOLLOW_UP_JOB_KIND,
        Arc::new(FollowUpHandler::new(job_app(app))),
    )
    .with_handler(MAIL_JOB_KIND, Arc::new(MailHandler::new(mailer)))
}

async fn drain(w: &Worker) {
    for _ in 0..10 {
        if w.run_once().await.unwrap().claimed == 0 {
            return;
        }
    }
    panic!("the worker kept finding jobs");
}

/// A request that must succeed; returns the body.
async fn ok(api: &Api<'_>, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, body) = api.send(method, path, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {body}"
    );
    body
}

/// The first task up to a scheduled advisory: an anonymous report in Japanese with an
/// address to answer to, triaged, with a vulnerability fixed in one product version; the
/// advisory made from it, approved by a second analyst and scheduled for a release.
struct Scheduled {
    app: TestApp,
    author_id: UserId,
    author: String,
    secret: String,
    case_path: String,
    advisory: String,
    tracking: String,
    release: String,
}

impl Scheduled {
    async fn new(references: Value) -> Self {
        let app = TestApp::spawn().await;
        let rw = [Scope::Read, Scope::Write];
        let (author_id, _) = app.user_with_role(Role::PsirtAnalyst).await;
        let (reviewer, _) = app.user_with_role(Role::PsirtAnalyst).await;
        let (_, author) = app.store_token(author_id, &rw, None).await;
        let (_, reviewer) = app.store_token(reviewer, &rw, None).await;
        let report = json!({
            "title": "ルーターの認証回避",
            "product": "Keikai Router",
            "description": "A crafted cookie skips the login.",
            "reporter_name": "Aiko",
            "reporter_email": "aiko@example.net",
            "language": "ja",
        });
        let secret = ok(
            &app.api_as(As::Nobody),
            "POST",
            "/api/v1/reports",
            Some(report),
        )
        .await["tracking_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let api = app.api(&author);
        let number = api.ok("/api/v1/cases").await["cases"][0]["number"]
            .as_i64()
            .unwrap();
        let case_path = format!("/api/v1/cases/{number}");
        let case = api.under(&case_path);
        // Triage tells the reporter nothing: the acknowledge clock keeps running.
        let triaged = ok(
            &case,
            "POST",
            "/transitions",
            Some(json!({ "state": "triage" })),
        )
        .await;
        assert_eq!(clock(&triaged, "acknowledge").unwrap()["status"], "due");
        let vulnerability = json!({
            "title": "Authentication bypass",
            "cvss_v3": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        });
        let saved = ok(&case, "POST", "/vulnerabilities", Some(vulnerability)).await;
        let vendor = branch(&app, None, BranchCategory::Vendor, "Example").await;
        let product = branch(&app, Some(vendor), BranchCategory::ProductName, "Router").await;
        let fixed = branch(&app, Some(product), BranchCategory::ProductVersion, "2.0").await;
        let statuses = format!(
            "/vulnerabilities/{}/product-statuses",
            saved["id"].as_str().unwrap()
        );
        let status = json!({ "branch_id": fixed.to_string(), "status": "fixed" });
        ok(&case, "PUT", &statuses, Some(status)).await;

        let created = ok(
            &api,
            "POST",
            "/api/v1/advisories",
            Some(json!({ "case": number })),
        )
        .await;
        let advisory = created["advisory"]["id"].as_str().unwrap().to_owned();
        let tracking = created["advisory"]["tracking_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/api/v1/advisories/{advisory}");
        // The report was in Japanese, so the draft is; the translator adds English.
        let en = json!({
            "title": "Authentication bypass in the router",
            "summary": "Authentication bypass",
            "description": "A crafted cookie skips the login.",
            "translation": true,
        });
        ok(&api, "PUT", &format!("{path}/text/en"), Some(en)).await;
        if references != Value::Null {
            let facts = json!({ "references": references });
            ok(&api, "PUT", &format!("{path}/facts"), Some(facts)).await;
        }
        let approve = json!({ "verdict": "approve", "text": "Looks right" });
        ok(
            &app.api(&reviewer),
            "POST",
            &format!("{path}/reviews"),
            Some(approve),
        )
        .await;
        let at = app.clock.now_ts() + SignedDuration::from_hours(24);
        let plan = json!({ "kind": "out_of_band", "scheduled_at": at.to_string(), "title": "Fix" });
        let release = ok(&api, "POST", "/api/v1/releases", Some(plan)).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let schedule = json!({ "release": release });
        ok(&api, "POST", &format!("{path}/schedule"), Some(schedule)).await;
        Self {
            author_id,
            author,
            secret,
            case_path,
            advisory,
            tracking,
            release,
            app,
        }
    }

    fn api(&self) -> Api<'_> {
        self.app.api(&self.author)
    }

    /// "Publish now"; returns the outcome.
    async fn publish(&self) -> Value {
        let path = format!("/api/v1/releases/{}/publish", self.release);
        ok(&self.api(), "POST", &path, None).await
    }
}

fn clock<'a>(case: &'a Value, kind: &str) -> Option<&'a Value> {
    case["internal"]["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
}

#[tokio::test]
async fn publishing_an_advisory_brings_its_case_and_reporter_up_to_date_once() {
    let f = Scheduled::new(Value::Null).await;
    let (app, secret, case_path, tracking) = (&f.app, &f.secret, &f.case_path, &f.tracking);
    let outcome = f.publish().await;
    assert_eq!(
        outcome["published"][0]["tracking_id"],
        tracking.as_str(),
        "{outcome}"
    );
    let api = f.api();
    // The release page says what went out and links its public page.
    let s = app.session_for(f.author_id).await;
    let (_, html) = app.get_page(&s, &format!("/releases/{}", f.release)).await;
    assert!(
        html.contains("id=\"published-count\">Published in this release: 1 / 1<"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "<a href=\"/advisories/{tracking}\" class=\"public-link\">Public page</a>"
        )),
        "{html}"
    );

    // The follow-up was written with the publication and runs in the worker.
    let mut sink = SmtpSink::start().await;
    let w = worker(app, &sink);
    drain(&w).await;
    let case = api.ok(case_path).await;
    assert_eq!(case["state"], "published", "{case}");
    assert!(
        clock(&case, "fix").is_none_or(|c| c["status"] == "met"),
        "{case}"
    );
    // The message that announces the advisory is the first answer to the reporter.
    assert_eq!(clock(&case, "acknowledge").unwrap()["status"], "met");
    let advisories = &case["internal"]["case"]["advisories"];
    assert_eq!(advisories[0]["tracking_id"], tracking.as_str(), "{case}");
    assert_eq!(advisories[0]["version"], 1);
    let history = api.ok(&format!("{case_path}/history")).await;
    let entry = history
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "case.advisory_published")
        .unwrap_or_else(|| panic!("no case.advisory_published entry: {history}"));
    assert_eq!(entry["actor"], "system", "{entry}");
    let before: Value = serde_json::from_str(entry["before"].as_str().unwrap()).unwrap();
    assert_eq!(before["state"], "triage");

    // The reporter's portal links the advisory, and the conversation says so in Japanese.
    let (status, portal) = app
        .api_as(As::Nobody)
        .text("GET", &format!("/track/{secret}"), None)
        .await;
    assert_eq!(status, 200);
    assert!(
        portal.contains(&format!(
            "<a href=\"/advisories/{tracking}\">{tracking}</a>"
        )),
        "{portal}"
    );
    let link = format!("{BASE_URL}/advisories/{tracking}");
    assert!(portal.contains(&link), "{portal}");
    assert!(portal.contains("を公開しました"), "{portal}");

    // One mail to the reporter, in their language, with the link.
    let mails = sink.received();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].rcpt_to, ["aiko@example.net"]);
    let text = mails[0].text_body().unwrap();
    assert!(text.contains(&link), "{text}");
    let subject = mails[0].decoded_header("Subject").unwrap();
    assert!(
        subject.contains(&format!("アドバイザリ {tracking} を公開しました")),
        "{subject}"
    );

    // Announcing the same version again changes nothing and sends nothing.
    let case_id = case["internal"]["case"]["id"].as_str().unwrap();
    let follow_up = PublicationFollowUp {
        case: case_id.parse().unwrap(),
        tracking_id: tracking.clone(),
        version: 1,
    };
    keikai_app::cases::follow_publication(&job_app(app), &Caller::system(), &follow_up)
        .await
        .unwrap();
    drain(&w).await;
    assert_eq!(sink.received().len(), 1);
    let messages = api.ok(&format!("{case_path}/messages")).await;
    let announcements = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["body"].as_str().unwrap().contains(&link))
        .count();
    assert_eq!(announcements, 1, "{messages}");
    // Nobody but Keikai itself follows a publication.
    let (admin, _) = app.user_with_role(Role::Admin).await;
    let who = Caller::user(Principal {
        user_id: admin,
        memberships: vec![Membership {
            org_id: app.own_org,
            role: Role::Admin,
        }],
        token_scopes: None,
    });
    let refused = keikai_app::cases::follow_publication(&job_app(app), &who, &follow_up).await;
    assert!(refused.is_err(), "{refused:?}");
    sink.stop().await;
}

/// Readiness runs publication's checks: an advisory that publication would skip (a
/// reference URL the CSAF schema refuses) is not shown ready, for the same reason.
#[tokio::test]
async fn readiness_says_what_publication_would_refuse() {
    let bad = "https://example.org/?q=\"><script>alert(1)</script>";
    let f = Scheduled::new(json!([{ "url": bad, "summary": "Details" }])).await;
    let api = f.api();
    let detail = api.ok(&format!("/api/v1/advisories/{}", f.advisory)).await;
    let readiness = &detail["readiness"];
    assert_eq!(readiness["review"], "approved", "{detail}");
    assert_eq!(readiness["ready"], false, "{detail}");
    let blocker = readiness["blocker"]
        .as_str()
        .unwrap_or_else(|| panic!("{detail}"));
    assert!(
        blocker.contains("references[") && blocker.contains("is not an absolute URI"),
        "{blocker}"
    );
    let release = api.ok(&format!("/api/v1/releases/{}", f.release)).await;
    assert_eq!(release["advisories"][0]["readiness"]["blocker"], blocker);
    // Publishing now asks first, saying how many are ready.
    let s = f.app.session_for(f.author_id).await;
    let (_, html) = f
        .app
        .get_page(&s, &format!("/releases/{}", f.release))
        .await;
    assert!(
        html.contains("<strong id=\"publish-now-count\">0 / 1</strong>"),
        "{html}"
    );
    let outcome = f.publish().await;
    assert_eq!(outcome["published"], json!([]), "{outcome}");
    assert_eq!(outcome["skipped"][0]["tracking_id"], f.tracking.as_str());
    assert_eq!(outcome["skipped"][0]["reason"], blocker, "the same reason");
}
