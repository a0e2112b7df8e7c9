//! A case follows its advisory: publishing moves the case to published as Keikai itself,
//! stops its fix clock, tells the reporter in their portal with the advisory's link and mails
//! them, once; a move to triage tells the reporter nothing, so it meets no clock.

use std::sync::Arc;

use jiff::SignedDuration;
use keikai_app::outbox::{FOLLOW_UP_JOB_KIND, PublicationFollowUp};
use keikai_app::{App, Caller};
use keikai_domain::{BranchCategory, Email, Membership, Principal, Role, Scope};
use keikai_jobs::cases::FollowUpHandler;
use keikai_jobs::testing::SmtpSink;
use keikai_jobs::{Address, MAIL_JOB_KIND, MailHandler, SmtpMailer, Worker, WorkerConfig};
use serde_json::{Value, json};

use crate::publishing::branch;
use crate::support::{NowTs, TestApp, call};

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

async fn api(app: &TestApp, tok: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, body) = call(app, tok, method, path, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {body}"
    );
    body
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
    let app = TestApp::spawn().await;
    let (author, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (reviewer, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let rw = [Scope::Read, Scope::Write];
    let (_, author) = app.store_token(author, &rw, None).await;
    let (_, reviewer) = app.store_token(reviewer, &rw, None).await;

    // An anonymous report in Japanese, with an address to answer to.
    let res = TestApp::plain_client()
        .post(app.url("/api/v1/reports"))
        .json(&json!({
            "title": "ルーターの認証回避",
            "product": "Keikai Router",
            "description": "A crafted cookie skips the login.",
            "reporter_name": "Aiko",
            "reporter_email": "aiko@example.net",
            "language": "ja",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let secret = res.json::<Value>().await.unwrap()["tracking_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = api(&app, &author, "GET", "/api/v1/cases", None).await;
    let number = list["cases"][0]["number"].as_i64().unwrap();
    let case_path = format!("/api/v1/cases/{number}");

    // Triage tells the reporter nothing: the acknowledge clock keeps running.
    let case = api(
        &app,
        &author,
        "POST",
        &format!("{case_path}/transitions"),
        Some(json!({ "state": "triage" })),
    )
    .await;
    assert_eq!(case["state"], "triage");
    assert_eq!(clock(&case, "acknowledge").unwrap()["status"], "due");

    let saved = api(
        &app,
        &author,
        "POST",
        &format!("{case_path}/vulnerabilities"),
        Some(json!({
            "title": "Authentication bypass",
            "cvss_v3": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        })),
    )
    .await;
    let vendor = branch(&app, None, BranchCategory::Vendor, "Example").await;
    let product = branch(&app, Some(vendor), BranchCategory::ProductName, "Router").await;
    let fixed = branch(&app, Some(product), BranchCategory::ProductVersion, "2.0").await;
    api(
        &app,
        &author,
        "PUT",
        &format!(
            "{case_path}/vulnerabilities/{}/product-statuses",
            saved["id"].as_str().unwrap()
        ),
        Some(json!({ "branch_id": fixed.to_string(), "status": "fixed" })),
    )
    .await;

    // The advisory from the case, approved by the other analyst, released now.
    let created = api(
        &app,
        &author,
        "POST",
        "/api/v1/advisories",
        Some(json!({ "case": number })),
    )
    .await;
    let id = created["advisory"]["id"].as_str().unwrap().to_owned();
    let tracking = created["advisory"]["tracking_id"]
        .as_str()
        .unwrap()
        .to_owned();
    api(
        &app,
        &reviewer,
        "POST",
        &format!("/api/v1/advisories/{id}/reviews"),
        Some(json!({ "verdict": "approve", "text": "Looks right" })),
    )
    .await;
    let at = app.clock.now_ts() + SignedDuration::from_hours(24);
    let release = api(
        &app,
        &author,
        "POST",
        "/api/v1/releases",
        Some(json!({ "kind": "out_of_band", "scheduled_at": at.to_string(), "title": "Fix" })),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api(
        &app,
        &author,
        "POST",
        &format!("/api/v1/advisories/{id}/schedule"),
        Some(json!({ "release": release })),
    )
    .await;
    let outcome = api(
        &app,
        &author,
        "POST",
        &format!("/api/v1/releases/{release}/publish"),
        None,
    )
    .await;
    assert_eq!(
        outcome["published"][0]["tracking_id"],
        tracking.as_str(),
        "{outcome}"
    );

    // The follow-up was written with the publication and runs in the worker.
    let mut sink = SmtpSink::start().await;
    let w = worker(&app, &sink);
    drain(&w).await;
    let case = api(&app, &author, "GET", &case_path, None).await;
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
    let history = api(&app, &author, "GET", &format!("{case_path}/history"), None).await;
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
    let res = TestApp::plain_client()
        .get(app.url(&format!("/track/{secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let portal = res.text().await.unwrap();
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
    keikai_app::cases::follow_publication(&job_app(&app), &Caller::system(), &follow_up)
        .await
        .unwrap();
    drain(&w).await;
    assert_eq!(sink.received().len(), 1);
    let messages = api(&app, &author, "GET", &format!("{case_path}/messages"), None).await;
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
    let refused = keikai_app::cases::follow_publication(&job_app(&app), &who, &follow_up).await;
    assert!(refused.is_err(), "{refused:?}");
    sink.stop().await;
}
