//! Case work through the API and the case pages: the workflow and its history, who sees
//! which case, internal notes kept from the reporter, escaping, search, clocks, emergencies
//! and optimistic saves.

use keikai_domain::audit::{AuditActor, Change};
use keikai_domain::case::{
    Case, CaseIndex, CaseMessage, RemediationCategory, RemediationDraft, Report, ReportInput,
    SeverityScale, Visibility, VulnerabilityInput,
};
use keikai_domain::{
    BranchCategory, BranchId, CaseId, OrgId, OrgKind, OrgName, Role, UserId, VulnerabilityId,
};
use keikai_store::Effects;
use keikai_store::{NewAttachment, NewMessage, NewOrganisation};
use serde_json::{Value, json};

use crate::publishing::branch;
use crate::support::{NowTs, SessionCookie, TestApp, multipart};

// ---------------------------------------------------------------- fixtures

pub(crate) fn report(title: &str) -> ReportInput {
    ReportInput {
        title: title.to_owned(),
        product: "Keikai Router".to_owned(),
        description: "The login form concatenates the user name into SQL.".to_owned(),
        ..Default::default()
    }
}

/// The report's free-text fields, by their names in the form and the API.
pub(crate) const REPORT_TEXT_FIELDS: [&str; 11] = [
    "title",
    "product",
    "version",
    "description",
    "impact",
    "steps",
    "disclosure_plans",
    "credit_name",
    "credit_organisation",
    "reporter_name",
    "reporter_organisation",
];

/// Opens a case as intake would (through the store) and returns it with its number.
pub(crate) async fn open_case(
    app: &TestApp,
    input: &ReportInput,
    reporter: Option<UserId>,
) -> Case {
    let report = Report::from_input(input, reporter).unwrap();
    let (case, change) = Case::open(report, app.clock.now_ts());
    store_case(app, &case, None, change).await
}

/// Stores a new case as Keikai would (with the hash of its tracking secret, if it has one),
/// with the audit entry of its opening.
pub(crate) async fn store_case(
    app: &TestApp,
    case: &Case,
    tracking_hash: Option<&str>,
    opened: Change,
) -> Case {
    let index = CaseIndex::of(case, &SeverityScale::default());
    let fx = Effects::system(case.updated_at).with_audit(opened);
    app.store
        .create_case(case, &index, tracking_hash, &[], &fx)
        .await
        .unwrap()
}

/// Adds a message to a case as Keikai would, audited as `action` by `actor`.
pub(crate) async fn add_message(
    app: &TestApp,
    actor: AuditActor,
    action: &'static str,
    message: &NewMessage,
) -> CaseMessage {
    let subject = format!("case/{}", message.case_id);
    let change = Change::new(action, subject, Value::Null, json!({}));
    let fx = Effects::new(actor, app.clock.now_ts()).with_audit(change);
    app.store.add_message(message, None, &fx).await.unwrap()
}

/// A message on a case from Keikai itself, with no files: to change into any other.
pub(crate) fn message(case_id: CaseId, visibility: Visibility, body: &str) -> NewMessage {
    NewMessage {
        case_id,
        visibility,
        author: None,
        from_reporter: false,
        body: body.to_owned(),
        attachments: Vec::new(),
    }
}

/// A text file to attach to a message.
pub(crate) fn text_file(name: &str, bytes: &[u8]) -> NewAttachment {
    NewAttachment {
        file_name: name.into(),
        content_type: "text/plain; charset=utf-8".into(),
        bytes: bytes.to_vec(),
    }
}

/// A product team (an organisation of our own) with a fresh name.
pub(crate) async fn team(app: &TestApp, name: &str) -> OrgId {
    let name = OrgName::parse(&format!("{name} {}", uuid::Uuid::now_v7().simple())).unwrap();
    app.store
        .create_org(
            &NewOrganisation {
                id: OrgId::new(),
                name,
                kind: OrgKind::Own,
            },
            &Effects::system(app.clock.now_ts()),
        )
        .await
        .unwrap()
        .id
}

/// A product engineer of one team.
pub(crate) async fn engineer_of(app: &TestApp, team: OrgId) -> UserId {
    app.user_in(team, Role::ProductEngineer).await.0
}

/// A product version in the catalogue: Vendor / Product / 1.0.
pub(crate) async fn product_version(app: &TestApp) -> BranchId {
    let name = format!("Keikai {}", uuid::Uuid::now_v7().simple());
    let vendor = branch(app, None, BranchCategory::Vendor, &name).await;
    let product = branch(app, Some(vendor), BranchCategory::ProductName, "Router").await;
    branch(app, Some(product), BranchCategory::ProductVersion, "1.0").await
}

/// A case with something for every case route to act on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FullCase {
    pub(crate) number: i64,
    pub(crate) vulnerability: VulnerabilityId,
    pub(crate) task: keikai_domain::TaskId,
    /// An internal note's attachment.
    pub(crate) attachment: keikai_domain::AttachmentId,
}

/// Reported by `reporter`, assigned to `team`, on the emergency track, with an exploited
/// vulnerability carrying a remediation draft, a task, and an internal note with a file.
pub(crate) async fn full_case(app: &TestApp, reporter: UserId, team: OrgId) -> FullCase {
    let now = app.clock.now_ts();
    let scale = SeverityScale::default();
    let mut input = report("Full case");
    input.exploited = true;
    let (mut case, change) = Case::open(Report::from_input(&input, Some(reporter)).unwrap(), now);
    let org = app.store.get_org(team).await.unwrap();
    case.assign(&org, "please look", now).unwrap();
    let (vid, _) = case
        .save_vulnerability(
            None,
            &VulnerabilityInput {
                title: "SQL injection".into(),
                exploited: true,
                ..Default::default()
            },
            &scale,
            now,
        )
        .unwrap();
    let draft = RemediationDraft::new(
        RemediationCategory::Workaround,
        "Filter input",
        None,
        Vec::new(),
    )
    .unwrap();
    case.add_remediation(vid, draft, now).unwrap();
    let (task, _) = case.add_task("Reproduce", None, None, now).unwrap();
    let case = store_case(app, &case, None, change).await;
    let mut note = message(case.id, Visibility::Internal, "internal note");
    note.attachments
        .push(text_file("poc.txt", b"proof of concept"));
    let message = add_message(app, AuditActor::System, "case.note_added", &note).await;
    FullCase {
        number: case.number,
        vulnerability: vid,
        task,
        attachment: message.attachments[0].id,
    }
}

/// A PSIRT analyst with a read+write token.
pub(crate) async fn psirt_analyst(app: &TestApp) -> (UserId, String) {
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    (analyst, app.write_token(analyst).await)
}

/// Posts a form as a browser session (with its CSRF token).
async fn form(
    app: &TestApp,
    s: &SessionCookie,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let (status, _, body) = app.post_form(s, path, fields).await;
    (status, body)
}

fn numbers(list: &Value) -> Vec<i64> {
    let mut n: Vec<i64> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_i64().unwrap())
        .collect();
    n.sort_unstable();
    n
}

// ---------------------------------------------------------------- the workflow

#[tokio::test]
async fn a_case_runs_the_whole_workflow_and_each_step_is_in_its_history() {
    let app = TestApp::spawn().await;
    let (analyst, t) = psirt_analyst(&app).await;
    let n = open_case(&app, &report("Login bypass"), None).await.number;
    let case = app.api(&t).under(&format!("/api/v1/cases/{n}"));
    let path = [
        "triage",
        "investigating",
        "remediation",
        "awaiting_release",
        "published",
        "closed",
    ];
    for to in path {
        let (status, body) = case.post("/transitions", json!({ "state": to })).await;
        assert_eq!(status, 200, "to {to}: {body}");
        assert_eq!(body["state"], to);
    }
    let (status, history) = case.get("/history").await;
    assert_eq!(status, 200, "{history}");
    let entries = history.as_array().unwrap();
    assert_eq!(entries[0]["action"], "case.opened");
    let moves: Vec<(String, String, String)> = entries
        .iter()
        .filter(|e| e["action"] == "case.transition")
        .map(|e| {
            let before: Value = serde_json::from_str(e["before"].as_str().unwrap()).unwrap();
            let after: Value = serde_json::from_str(e["after"].as_str().unwrap()).unwrap();
            (
                before["state"].as_str().unwrap().to_owned(),
                after["state"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected_from = ["new"].into_iter().chain(path[..5].iter().copied());
    assert_eq!(moves.len(), 6, "{moves:?}");
    for ((from, to, actor), (want_from, want_to)) in moves.iter().zip(expected_from.zip(path)) {
        assert_eq!((from.as_str(), to.as_str()), (want_from, want_to));
        assert_eq!(actor, &format!("user:{analyst}"));
    }
    // The history page shows the same entries, with who did them.
    let s = app.session_for(analyst).await;
    let (status, html) = app.get_page(&s, &format!("/cases/{n}/history")).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("case.transition").count(), 6, "{html}");
    assert!(html.contains("psirt-analyst"), "the actor's name is shown");
}

#[tokio::test]
async fn a_forbidden_transition_is_refused_with_the_allowed_states_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let (_, t) = psirt_analyst(&app).await;
    let opened = open_case(&app, &report("Skipping ahead"), None).await;
    let case = app
        .api(&t)
        .under(&format!("/api/v1/cases/{}", opened.number));
    let (status, body) = case
        .post("/transitions", json!({ "state": "published" }))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "state");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("triage, rejected, duplicate, on_hold"),
        "{msg}"
    );
    // Unknown state names and a bad duplicate target are named too.
    for (body, field) in [
        (json!({ "state": "done" }), "state"),
        (
            json!({ "state": "duplicate", "reason": "same as", "duplicate_of": 999_999 }),
            "duplicate_of",
        ),
    ] {
        let (status, answer) = case.post("/transitions", body.clone()).await;
        assert_eq!(
            (status, answer["error"]["field"].clone()),
            (422, json!(field)),
            "{body}"
        );
    }
    let (_, detail) = case.get("").await;
    assert_eq!(detail["state"], "new");
    assert_eq!(detail["revision"], opened.revision);
    let (_, history) = case.get("/history").await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
}

#[tokio::test]
async fn a_duplicate_names_a_case_that_exists() {
    let app = TestApp::spawn().await;
    let (analyst, t) = psirt_analyst(&app).await;
    let first = open_case(&app, &report("Original"), None).await.number;
    let second = open_case(&app, &report("Same again"), None).await.number;
    let (status, body) = app
        .api(&t)
        .post(
            &format!("/api/v1/cases/{second}/transitions"),
            json!({ "state": "duplicate", "reason": "reported twice", "duplicate_of": first.to_string() }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let first_id = app.store.case_by_number(first).await.unwrap().id;
    assert_eq!(body["internal"]["case"]["duplicate_of"], json!(first_id));
    let s = app.session_for(analyst).await;
    let (_, html) = app.get_page(&s, &format!("/cases/{second}")).await;
    assert!(
        html.contains(&format!("href=\"/cases/{first}\"")),
        "the page links the original"
    );
}

// ---------------------------------------------------------------- who sees what

#[tokio::test]
async fn a_product_engineer_sees_only_their_teams_cases_and_may_note_but_not_triage() {
    let app = TestApp::spawn().await;
    let (_, t) = psirt_analyst(&app).await;
    let api = app.api(&t);
    let (team_a, team_b) = (team(&app, "Team A").await, team(&app, "Team B").await);
    let engineer = engineer_of(&app, team_a).await;
    let ours = open_case(&app, &report("Ours"), None).await.number;
    let theirs = open_case(&app, &report("Theirs"), None).await.number;
    let nobodys = open_case(&app, &report("Unassigned"), None).await.number;
    for (n, team) in [(ours, team_a), (theirs, team_b)] {
        let assignment =
            json!({ "team": team.to_string(), "instructions": "check the login code" });
        let (status, body) = api
            .post(&format!("/api/v1/cases/{n}/assignment"), assignment)
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let et = app.write_token(engineer).await;
    let eng = app.api(&et);
    let (status, list) = eng.get("/api/v1/cases").await;
    assert_eq!(status, 200);
    assert_eq!(numbers(&list), vec![ours]);
    assert_eq!(list["total"], 1);
    let es = app.session_for(engineer).await;
    let (_, html) = app.get_page(&es, "/cases").await;
    assert!(html.contains(&format!("data-case=\"{ours}\"")));
    let note = |body: &str| json!({ "visibility": "internal", "body": body });
    for other in [theirs, nobodys] {
        assert!(!html.contains(&format!("data-case=\"{other}\"")));
        let case = eng.under(&format!("/api/v1/cases/{other}"));
        for path in ["", "/messages", "/history"] {
            assert_eq!(case.get(path).await.0, 404, "{other}{path}");
        }
        assert_eq!(app.get_page(&es, &format!("/cases/{other}")).await.0, 404);
        assert_eq!(case.post("/messages", note("hello")).await.0, 404);
    }
    // Their own team's case: notes yes, triage no.
    let case = eng.under(&format!("/api/v1/cases/{ours}"));
    let (status, body) = case.post("/messages", note("reproduced on 1.0")).await;
    assert_eq!(status, 201, "{body}");
    let page = format!("/cases/{ours}");
    let (status, _) = form(
        &app,
        &es,
        &format!("{page}/notes"),
        &[("body", "and on 1.1")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = case
        .post("/transitions", json!({ "state": "triage" }))
        .await;
    assert_eq!(status, 404);
    let (status, _) = form(
        &app,
        &es,
        &format!("{page}/transition"),
        &[("state", "triage")],
    )
    .await;
    assert_eq!(status, 404);
    let ours_as_psirt = api.under(&format!("/api/v1/cases/{ours}"));
    let (_, detail) = ours_as_psirt.get("").await;
    assert_eq!(detail["state"], "new");
    let (_, messages) = ours_as_psirt.get("/messages").await;
    assert_eq!(messages.as_array().unwrap().len(), 2, "{messages}");
    // The page offers the engineer the note form but no state change.
    let (_, html) = app.get_page(&es, &page).await;
    assert!(html.contains("id=\"note-form\""));
    assert!(!html.contains("id=\"transition-form\""));
}

#[tokio::test]
async fn a_reporter_sees_only_their_own_case_and_never_an_internal_note() {
    let app = TestApp::spawn().await;
    let (analyst, t) = psirt_analyst(&app).await;
    let (reporter, _) = app.user_with_role(Role::Reporter).await;
    let mine = open_case(&app, &report("My report"), Some(reporter))
        .await
        .number;
    let (other_reporter, _) = app.user_with_role(Role::Reporter).await;
    let not_mine = open_case(&app, &report("Someone else's"), Some(other_reporter))
        .await
        .number;
    let case = app.api(&t).under(&format!("/api/v1/cases/{mine}"));
    let marker = format!("INTERNAL-{}", uuid::Uuid::now_v7().simple());
    let internal = format!("{marker} do not tell the reporter");
    let (status, _) = case
        .post(
            "/messages",
            json!({ "visibility": "internal", "body": internal }),
        )
        .await;
    assert_eq!(status, 201);
    let analyst_session = app.session_for(analyst).await;
    let body = format!("{marker} with a file");
    let markup: &[u8] = b"<script>alert(1)</script>";
    let file = ("attachments", "internal.html", Some("text/html"), markup);
    let note = multipart(&analyst_session.csrf, &[("body", &body)], &[file]);
    let notes = format!("/cases/{mine}/notes");
    let (status, _) = app.post_multipart(&analyst_session, &notes, note).await;
    assert_eq!(status, 303);
    let thanks = "Thank you, we are looking into it.";
    let (status, _) = case
        .post(
            "/messages",
            json!({ "visibility": "reporter", "body": thanks }),
        )
        .await;
    assert_eq!(status, 201);
    // The first answer acknowledged the case.
    let (_, detail) = case.get("").await;
    assert!(
        detail["internal"]["case"]["milestones"]["acknowledged_at"].is_string(),
        "{detail}"
    );

    let rt = app.write_token(reporter).await;
    let rep = app.api(&rt);
    let rs = app.session_for(reporter).await;
    let (_, list) = rep.get("/api/v1/cases").await;
    assert_eq!(numbers(&list), vec![mine]);
    let mut seen = Vec::new();
    for path in [
        format!("/api/v1/cases/{mine}"),
        format!("/api/v1/cases/{mine}/messages"),
        "/api/v1/cases".to_owned(),
    ] {
        let (status, body) = rep.get(&path).await;
        assert_eq!(status, 200, "{path}");
        seen.push((path, body.to_string()));
    }
    for path in [
        format!("/cases/{mine}"),
        "/cases".to_owned(),
        "/".to_owned(),
    ] {
        let (status, body) = app.get_page(&rs, &path).await;
        assert_eq!(status, 200, "{path}");
        seen.push((path, body));
    }
    for (path, body) in &seen {
        for (secret, what) in [
            (marker.as_str(), "an internal note"),
            ("internal.html", "an internal file"),
        ] {
            assert!(!body.contains(secret), "{path} shows the reporter {what}");
        }
    }
    let mine_as_reporter = rep.under(&format!("/api/v1/cases/{mine}"));
    let (_, detail) = mine_as_reporter.get("").await;
    assert!(detail.get("internal").is_none(), "{detail}");
    let (_, messages) = mine_as_reporter.get("/messages").await;
    assert_eq!(messages.as_array().unwrap().len(), 1, "{messages}");
    assert_eq!(messages[0]["visibility"], "reporter");
    assert!(
        messages[0]["author"].is_null(),
        "staff names stay internal: {messages}"
    );
    let (_, html) = app.get_page(&rs, &format!("/cases/{mine}")).await;
    assert!(html.contains(thanks));
    for internal_part in [
        "note-form",
        "transition-form",
        "id=\"tasks\"",
        "id=\"notes\"",
        "history",
    ] {
        assert!(
            !html.contains(internal_part),
            "reporter page has {internal_part}"
        );
    }
    // The history, the internal file and someone else's case are not there for them.
    let internal_file = app
        .store
        .list_messages(
            app.store.case_by_number(mine).await.unwrap().id,
            Some(Visibility::Internal),
        )
        .await
        .unwrap()
        .into_iter()
        .flat_map(|m| m.attachments)
        .next()
        .unwrap();
    let file_page = format!("/cases/{mine}/attachments/{}", internal_file.id);
    for path in [
        format!("/cases/{mine}/history"),
        file_page.clone(),
        format!("/cases/{not_mine}"),
    ] {
        assert_eq!(app.get_page(&rs, &path).await.0, 404, "{path}");
    }
    for path in [
        format!("/api/v1/cases/{mine}/history"),
        format!("/api/v1/cases/{not_mine}"),
        format!("/api/v1/cases/{not_mine}/messages"),
    ] {
        assert_eq!(rep.get(&path).await.0, 404, "{path}");
    }
    // The reporter answers in the conversation, and cannot write an internal note.
    let more = [("body", "Here is more detail.")];
    let (status, _) = form(&app, &rs, &format!("/cases/{mine}/messages"), &more).await;
    assert_eq!(status, 303);
    let sneaky = json!({ "visibility": "internal", "body": "sneaky" });
    assert_eq!(mine_as_reporter.post("/messages", sneaky).await.0, 404);
    let (_, messages) = case.get("/messages").await;
    let from_reporter: Vec<&Value> = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from_reporter"] == true)
        .collect();
    assert_eq!(from_reporter.len(), 1);
    assert_eq!(from_reporter[0]["visibility"], "reporter");

    // The PSIRT downloads the internal file: never inline, never sniffed, sandboxed.
    let res = app.get_as(&analyst_session, &file_page).await;
    assert_eq!(res.status(), 200);
    let h = |n: &str| res.headers().get(n).unwrap().to_str().unwrap().to_owned();
    let disposition = h("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("internal.html"));
    assert_ne!(
        h("content-type"),
        "text/html",
        "markup is never served as HTML"
    );
    assert_eq!(h("x-content-type-options"), "nosniff");
    let csp = h("content-security-policy");
    assert!(csp.starts_with("sandbox"), "{csp}");
    assert_eq!(h("cache-control"), "private, no-store");
    assert_eq!(
        res.bytes().await.unwrap().as_ref(),
        b"<script>alert(1)</script>"
    );
}

#[tokio::test]
async fn markup_in_every_text_field_is_escaped_on_the_case_pages() {
    let app = TestApp::spawn().await;
    let (analyst, t) = psirt_analyst(&app).await;
    let x = "<script>alert('x')</script>";
    let mut fields: serde_json::Map<String, Value> = REPORT_TEXT_FIELDS
        .iter()
        .map(|f| ((*f).to_owned(), json!(format!("{f} {x}"))))
        .collect();
    fields.insert("credit".into(), json!("named"));
    let input: ReportInput = serde_json::from_value(Value::Object(fields)).unwrap();
    let n = open_case(&app, &input, None).await.number;
    let case = app.api(&t).under(&format!("/api/v1/cases/{n}"));
    let (status, saved) = case
        .post("/vulnerabilities", json!({ "title": format!("vuln {x}") }))
        .await;
    assert_eq!(status, 201, "{saved}");
    let vid = saved["id"].as_str().unwrap().to_owned();
    let team = team(&app, "Team").await;
    for (path, body) in [
        (
            "/assignment",
            json!({ "team": team.to_string(), "instructions": format!("instructions {x}") }),
        ),
        (
            "/messages",
            json!({ "visibility": "internal", "body": format!("note {x}") }),
        ),
        (
            "/messages",
            json!({ "visibility": "reporter", "body": format!("message {x}") }),
        ),
        (
            "/emergency",
            json!({ "declared": true, "reason": format!("reason {x}") }),
        ),
        (
            "/transitions",
            json!({ "state": "on_hold", "reason": format!("hold {x}") }),
        ),
    ] {
        let (status, body) = case.post(path, body).await;
        assert!(status == 200 || status == 201, "{path}: {body}");
    }
    let s = app.session_for(analyst).await;
    for (path, fields) in [
        (
            format!("/cases/{n}/tasks"),
            vec![("title", format!("task {x}"))],
        ),
        (
            format!("/cases/{n}/vulnerabilities/{vid}/remediations"),
            vec![
                ("category", "workaround".to_owned()),
                ("details", format!("details {x}")),
            ],
        ),
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = form(&app, &s, &path, &fields).await;
        assert_eq!(status, 303, "{path}: {body}");
    }
    for path in [
        format!("/cases/{n}"),
        "/cases?open=false".to_owned(),
        format!("/cases/{n}/history"),
    ] {
        let (status, html) = app.get_page(&s, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            !html.contains("<script>alert"),
            "{path} has unescaped markup"
        );
        assert!(
            // askama escapes with numeric references.
            html.contains("&#60;script&#62;alert("),
            "{path} does not show the text"
        );
    }
    let (_, html) = app.get_page(&s, &format!("/cases/{n}")).await;
    let case_fields = [
        "vuln",
        "instructions",
        "note",
        "message",
        "reason",
        "task",
        "details",
    ];
    for field in REPORT_TEXT_FIELDS.iter().chain(&case_fields) {
        assert!(
            html.contains(&format!("{field} &#60;script&#62;")),
            "{field} is not shown escaped"
        );
    }
}

// ---------------------------------------------------------------- lists

#[tokio::test]
async fn search_finds_japanese_and_english_text() {
    let app = TestApp::spawn().await;
    let (analyst, t) = psirt_analyst(&app).await;
    let ja = open_case(&app, &report("管理画面の認証回避"), None).await;
    let en = open_case(
        &app,
        &report("Buffer overflow in the firmware parser"),
        None,
    )
    .await;
    let mut wide = report("ＸＳＳの脆弱性");
    // Half-width katakana: NFKC folds it to the usual forms.
    wide.description = "ﾛｸﾞｲﾝ画面".into();
    let fullwidth = open_case(&app, &wide, None).await.number;
    let (ja, en) = (ja.number, en.number);
    let cases = [
        ("認証回避", vec![ja]),
        ("overflow", vec![en]),
        ("OVERFLOW parser", vec![en]),
        ("xss", vec![fullwidth]),
        ("ログイン", vec![fullwidth]),
        ("concatenates", vec![ja, en]),
        ("存在しない", vec![]),
    ];
    for (q, want) in cases {
        let mut want = want;
        want.sort_unstable();
        let mut url = reqwest::Url::parse(&app.url("/api/v1/cases")).unwrap();
        url.query_pairs_mut().append_pair("q", q);
        let path = format!("{}?{}", url.path(), url.query().unwrap());
        let (status, list) = app.api(&t).get(&path).await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(numbers(&list), want, "search {q}");
    }
    let s = app.session_for(analyst).await;
    let (_, html) = app
        .get_page(&s, "/cases?q=%E8%AA%8D%E8%A8%BC%E5%9B%9E%E9%81%BF")
        .await;
    assert!(html.contains("管理画面の認証回避"));
    assert!(!html.contains("Buffer overflow"));
    assert!(
        html.contains("value=\"認証回避\""),
        "the search box keeps the words"
    );
}

#[tokio::test]
async fn lists_filter_and_bad_filters_are_named() {
    let app = TestApp::spawn().await;
    let (_, t) = psirt_analyst(&app).await;
    let api = app.api(&t);
    let a = open_case(&app, &report("First"), None).await.number;
    let b = open_case(&app, &report("Second"), None).await.number;
    let mut q = report("A question");
    q.kind = Some("question".into());
    q.product = String::new();
    let c_case = open_case(&app, &q, None).await;
    let c = c_case.number;
    let version = product_version(&app).await;
    let critical =
        json!({ "title": "RCE", "cvss_v3": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" });
    let (_, saved) = api
        .post(&format!("/api/v1/cases/{a}/vulnerabilities"), critical)
        .await;
    let vid = saved["id"].as_str().unwrap();
    assert_eq!(
        saved["case"]["internal"]["case"]["vulnerabilities"][0]["vendor_severity"],
        "Critical"
    );
    let affected = json!({ "branch_id": version.to_string(), "status": "known_affected" });
    let statuses = format!("/api/v1/cases/{a}/vulnerabilities/{vid}/product-statuses");
    let (status, body) = api.put(&statuses, affected).await;
    assert_eq!(status, 200, "{body}");
    let rejected = json!({ "state": "rejected", "reason": "not a bug" });
    api.post(&format!("/api/v1/cases/{b}/transitions"), rejected)
        .await;
    for (query, want) in [
        ("", vec![a, c]),
        ("?open=false", vec![a, b, c]),
        ("?state=rejected", vec![b]),
        ("?kind=question", vec![c]),
        ("?severity=critical", vec![a]),
        (&format!("?product={version}") as &str, vec![a]),
        ("?emergency=true", vec![]),
    ] {
        let (status, list) = api.get(&format!("/api/v1/cases{query}")).await;
        assert_eq!(status, 200, "{query}: {list}");
        assert_eq!(numbers(&list), want, "{query}");
    }
    for (query, field) in [
        ("?state=open", "state"),
        ("?kind=bug", "kind"),
        ("?severity=Severe", "severity"),
        ("?product=x", "product"),
        ("?owner=x", "owner"),
        ("?overdue=perhaps", "overdue"),
        ("?page=0", "page"),
    ] {
        let (status, body) = api.get(&format!("/api/v1/cases{query}")).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some(field)),
            "{query}: {body}"
        );
    }
    // Bad vulnerability input names its field, and nothing is stored.
    let case = api.under(&format!("/api/v1/cases/{c}"));
    for (body, field) in [
        (
            json!({ "title": "x", "cvss_v3": "CVSS:3.1/AV:X" }),
            "cvss_v3",
        ),
        (
            json!({ "title": "x", "cvss_v4": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }),
            "cvss_v4",
        ),
        (json!({ "title": "x", "cve": "CVE-1" }), "cve"),
        (json!({ "title": "x", "cwe": "CWE-99999999" }), "cwe"),
        (json!({ "title": "" }), "title"),
        (json!({ "cve": "CVE-2024-3094" }), "title"),
    ] {
        let (status, res) = case.post("/vulnerabilities", body.clone()).await;
        assert_eq!(
            (status, res["error"]["field"].as_str()),
            (422, Some(field)),
            "{body}: {res}"
        );
    }
    let (_, detail) = case.get("").await;
    assert_eq!(detail["internal"]["case"]["vulnerabilities"], json!([]));
    assert_eq!(detail["revision"], c_case.revision);
}

#[tokio::test]
async fn overdue_cases_are_found_once_the_clock_passes_their_deadline() {
    let app = TestApp::spawn().await;
    let (analyst, t) = psirt_analyst(&app).await;
    let api = app.api(&t);
    let early = open_case(&app, &report("Waiting for an answer"), None).await;
    let early = early.number;
    let (_, list) = api.get("/api/v1/cases?overdue=true").await;
    assert_eq!(numbers(&list), Vec::<i64>::new());
    // An unrated case must be acknowledged within 72 hours.
    app.clock.advance(jiff::SignedDuration::from_hours(73));
    let late = open_case(&app, &report("Just arrived"), None).await.number;
    let (_, list) = api.get("/api/v1/cases?overdue=true").await;
    assert_eq!(numbers(&list), vec![early]);
    let (_, all) = api.get("/api/v1/cases").await;
    for c in all["cases"].as_array().unwrap() {
        let n = c["number"].as_i64().unwrap();
        assert_eq!(c["overdue"], n == early, "case {n}");
        assert!(n == early || n == late);
    }
    let case = api.under(&format!("/api/v1/cases/{early}"));
    let (_, detail) = case.get("").await;
    let clocks = detail["internal"]["clocks"].as_array().unwrap();
    assert_eq!(clocks[0]["kind"], "acknowledge");
    assert_eq!(clocks[0]["status"], "overdue");
    let s = app.session_for(analyst).await;
    let (_, html) = app.get_page(&s, "/cases?overdue=true").await;
    assert!(
        html.contains(&format!("data-case=\"{early}\" class=\"overdue\"")),
        "{html}"
    );
    assert_tile(&app, &s, "overdue", 1).await;
    // Acknowledging (the first answer to the reporter) stops that clock.
    case.post(
        "/messages",
        json!({ "visibility": "reporter", "body": "received" }),
    )
    .await;
    let (_, detail) = case.get("").await;
    assert_eq!(detail["internal"]["clocks"][0]["status"], "met_late");
}

/// Asserts the number on a dashboard tile (`overdue`, `unread`, …).
async fn assert_tile(app: &TestApp, s: &SessionCookie, tile: &str, want: u32) {
    let (_, dash) = app.get_page(s, "/").await;
    assert!(
        dash.contains(&format!(
            "id=\"tile-{tile}\"><span class=\"n\">{want}</span>"
        )),
        "{tile} is not {want}: {dash}"
    );
}

// ---------------------------------------------------------------- emergencies and CRA

#[tokio::test]
async fn an_emergency_notifies_the_psirt_and_only_the_psirt() {
    let app = TestApp::spawn().await;
    let (analyst, t) = psirt_analyst(&app).await;
    let api = app.api(&t);
    let (other_analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (engineer, _) = app.user_with_role(Role::ProductEngineer).await;
    let (reporter, _) = app.user_with_role(Role::Reporter).await;
    let admin = app.user_id(crate::support::ADMIN_EMAIL).await;
    let n = open_case(&app, &report("Zero-day in the wild"), Some(reporter))
        .await
        .number;
    let case = api.under(&format!("/api/v1/cases/{n}"));
    let declared = json!({ "declared": true, "reason": "exploited in the wild" });
    let (status, body) = case.post("/emergency", declared).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["internal"]["case"]["track"], "out_of_band");
    for (user, want) in [
        (admin, 1),
        (analyst, 1),
        (other_analyst, 1),
        (engineer, 0),
        (reporter, 0),
    ] {
        let unread = app.store.notifications(user, true).await.unwrap();
        assert_eq!(unread.len(), want, "{user}");
        if let Some(n0) = unread.first() {
            assert_eq!(n0.kind, "emergency");
            assert!(n0.text.contains("exploited in the wild"), "{}", n0.text);
        }
    }
    let (_, list) = api.get("/api/v1/cases?emergency=true").await;
    assert_eq!(numbers(&list), vec![n]);
    let s = app.session_for(other_analyst).await;
    assert_tile(&app, &s, "emergencies", 1).await;
    assert_tile(&app, &s, "unread", 1).await;
    let (_, history) = case.get("/history").await;
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "case.emergency_declared")
    );
    // The dashboard's button marks them read, for that user only.
    let (status, _) = form(&app, &s, "/notifications/read", &[]).await;
    assert_eq!(status, 303);
    assert!(
        app.store
            .notifications(other_analyst, true)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.store.notifications(analyst, true).await.unwrap().len(),
        1
    );
    assert_tile(&app, &s, "unread", 0).await;
    // Ending it needs no reason; ending it twice is refused.
    let ended = json!({ "declared": false });
    assert_eq!(case.post("/emergency", ended.clone()).await.0, 200);
    let (status, body) = case.post("/emergency", ended).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("emergency"))
    );
}

#[tokio::test]
async fn cra_clocks_start_when_a_vulnerability_is_exploited_and_stop_when_marked_sent() {
    let app = TestApp::spawn().await;
    let (analyst, t) = psirt_analyst(&app).await;
    let n = open_case(&app, &report("Exploited"), None).await.number;
    let case = app.api(&t).under(&format!("/api/v1/cases/{n}"));
    let kinds = |detail: &Value| -> Vec<String> {
        detail["internal"]["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, detail) = case.get("").await;
    assert!(
        !kinds(&detail).iter().any(|k| k.starts_with("cra_")),
        "{detail}"
    );
    let exploited = json!({ "title": "Auth bypass", "exploited": true });
    let (status, saved) = case.post("/vulnerabilities", exploited).await;
    assert_eq!(status, 201, "{saved}");
    let clock = |detail: &Value, k: &str| {
        let clocks = detail["internal"]["clocks"].as_array().unwrap();
        clocks.iter().find(|c| c["kind"] == k).unwrap().clone()
    };
    let detail = &saved["case"];
    let now = app.clock.now_ts();
    let due: jiff::Timestamp = clock(detail, "cra_early_warning")["due"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let off = due.duration_since(now) - jiff::SignedDuration::from_hours(24);
    assert!(
        off.abs() < jiff::SignedDuration::from_secs(1),
        "{due} vs {now}"
    );
    assert_eq!(clock(detail, "cra_early_warning")["status"], "due");
    assert_eq!(clock(detail, "cra_notification")["status"], "due");
    assert_eq!(clock(detail, "cra_final_report")["status"], "waiting");
    let s = app.session_for(analyst).await;
    let (_, html) = app.get_page(&s, &format!("/cases/{n}")).await;
    assert!(
        html.contains("data-cra=\"early_warning\""),
        "mark-sent button"
    );
    let (status, body) = case.post("/cra/early_warning", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(clock(&body, "cra_early_warning")["status"], "met");
    let (status, body) = case.post("/cra/final_report", json!({})).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("report")),
        "{body}"
    );
    assert_eq!(case.post("/cra/weekly_report", json!({})).await.0, 404);
    // The UI button marks the notification sent.
    let (status, _) = form(&app, &s, &format!("/cases/{n}/cra/notification"), &[]).await;
    assert_eq!(status, 303);
    let (_, detail) = case.get("").await;
    assert!(
        detail["internal"]["case"]["cra_sent"]["notification"].is_string(),
        "{detail}"
    );
}

// ---------------------------------------------------------------- saves

#[tokio::test]
async fn a_change_based_on_a_stale_revision_is_refused_with_409() {
    let app = TestApp::spawn().await;
    let (analyst, t) = psirt_analyst(&app).await;
    let n = open_case(&app, &report("Two analysts at once"), None)
        .await
        .number;
    let case = app.api(&t).under(&format!("/api/v1/cases/{n}"));
    let (_, detail) = case.get("").await;
    let revision = detail["revision"].as_i64().unwrap();
    let triage = json!({ "state": "triage", "revision": revision });
    let (status, body) = case.post("/transitions", triage).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["revision"].as_i64().unwrap() > revision);
    // Another change made from the same, now stale, view.
    let reject = json!({ "state": "rejected", "reason": "spam", "revision": revision });
    let (status, body) = case.post("/transitions", reject).await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("reload"), "{body}");
    // The same in the browser: the form carried the old revision.
    let s = app.session_for(analyst).await;
    let (status, html) = form(
        &app,
        &s,
        &format!("/cases/{n}/transition"),
        &[
            ("state", "investigating"),
            ("revision", &revision.to_string()),
        ],
    )
    .await;
    assert_eq!(status, 409);
    assert!(html.contains("reload"), "{html}");
    let (_, detail) = case.get("").await;
    assert_eq!(detail["state"], "triage");
    // Concurrent saves without a revision: each either succeeds or is told to reload.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        let (url, t) = (app.url(&format!("/api/v1/cases/{n}/assignment")), t.clone());
        let team = app.own_org;
        tasks.spawn(async move {
            TestApp::plain_client()
                .post(url)
                .bearer_auth(t)
                .json(&json!({ "team": team.to_string(), "instructions": format!("try {i}") }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    while let Some(status) = tasks.join_next().await {
        let status = status.unwrap();
        assert!(status == 200 || status == 409, "{status}");
    }
}

/// Posts each form in turn; each must answer `want` (with the path named when one does not).
async fn forms_answer(
    app: &TestApp,
    s: &SessionCookie,
    want: u16,
    steps: &[(String, Vec<(&str, &str)>)],
) {
    for (path, fields) in steps {
        let (status, body) = form(app, s, path, fields).await;
        assert_eq!(status, want, "{path}: {body}");
    }
}

#[tokio::test]
async fn the_case_page_works_through_its_forms() {
    let (app, analyst, _) = TestApp::with_user(Role::PsirtAnalyst).await;
    let s = app.session_for(analyst).await;
    let version = product_version(&app).await;
    let n = open_case(&app, &report("Through the forms"), None)
        .await
        .number;
    let page = format!("/cases/{n}");
    let (status, html) = app.get_page(&s, &page).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("class=\"cvss-calc\""),
        "the CVSS calculator is embedded"
    );
    assert!(html.contains("Keikai Router"));
    let vulnerabilities = format!("{page}/vulnerabilities");
    let xss = [
        ("title", "Stored XSS"),
        ("cwe", "79"),
        ("cvss_v3", "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N"),
        ("cvss_v3-AV", "N"),
        ("vendor_severity", ""),
    ];
    let (status, body) = form(&app, &s, &vulnerabilities, &xss).await;
    assert_eq!(status, 303, "{body}");
    // A bad vector shows the form again with the error and what was typed.
    let typo = [("title", "Typo"), ("cvss_v4", "CVSS:4.0/AV:Q")];
    let (status, html) = form(&app, &s, &vulnerabilities, &typo).await;
    assert_eq!(status, 422);
    assert!(html.contains("role=\"alert\">cvss_v4:"), "{html}");
    assert!(html.contains("value=\"Typo\""), "the title is kept");
    let case = app.store.case_by_number(n).await.unwrap();
    assert_eq!(case.vulnerabilities.len(), 1);
    let v = &case.vulnerabilities[0];
    assert_eq!(v.cwe.as_ref().unwrap().id, "CWE-79");
    assert_eq!(v.vendor_severity.as_deref(), Some("Moderate"));
    let vid = v.id;
    let vuln = format!("{page}/vulnerabilities/{vid}");
    let (version, analyst_id) = (version.to_string(), analyst.to_string());
    forms_answer(
        &app,
        &s,
        303,
        &[
            (
                format!("{vuln}/statuses"),
                vec![
                    ("branch_id", &version),
                    ("status", "known_not_affected"),
                    ("justification", "component_not_present"),
                ],
            ),
            (format!("{page}/owner"), vec![("owner", &analyst_id)]),
            (
                format!("{page}/tasks"),
                vec![
                    ("title", "Write the fix"),
                    ("owner", &analyst_id),
                    ("due", "2030-01-31"),
                ],
            ),
        ],
    )
    .await;
    let unknown_branch = BranchId::new().to_string();
    let unknown_status = [("branch_id", unknown_branch.as_str()), ("status", "fixed")];
    let (status, html) = form(&app, &s, &format!("{vuln}/statuses"), &unknown_status).await;
    assert_eq!(status, 422);
    assert!(html.contains("role=\"alert\">branch_id:"), "{html}");
    let bad_date = [("title", "Bad date"), ("due", "soon")];
    let (status, _) = form(&app, &s, &format!("{page}/tasks"), &bad_date).await;
    assert_eq!(status, 422);
    let case = app.store.case_by_number(n).await.unwrap();
    assert_eq!(case.owner, Some(analyst));
    assert_eq!(case.tasks.len(), 1);
    let task = case.tasks[0].id;
    forms_answer(
        &app,
        &s,
        303,
        &[
            (format!("{page}/tasks/{task}/done"), vec![("done", "true")]),
            (format!("{page}/emergency"), vec![("reason", "exploited")]),
            (format!("{page}/emergency/end"), vec![]),
            (
                format!("{vuln}/remediations"),
                vec![
                    ("category", "mitigation"),
                    ("details", "Disable the feature"),
                    ("url", "https://example.com/kb/1"),
                ],
            ),
            (format!("{vuln}/remediations/0/delete"), vec![]),
        ],
    )
    .await;
    let (status, html) = app.get_page(&s, &format!("{page}?edit={vid}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("action=\"{vuln}\"")), "edit form");
    assert!(html.contains("value=\"Stored XSS\""));
    forms_answer(&app, &s, 303, &[(format!("{vuln}/delete"), vec![])]).await;
    let case = app.store.case_by_number(n).await.unwrap();
    assert!(case.vulnerabilities.is_empty());
    assert!(case.tasks[0].done_at.is_some());
    assert!(case.emergency.is_none());
    let (_, history) = app.get_page(&s, &format!("{page}/history")).await;
    for action in [
        "case.vulnerability_saved",
        "case.product_status",
        "case.owner",
        "case.task_added",
        "case.task_updated",
        "case.emergency_declared",
        "case.emergency_ended",
        "case.remediation_added",
        "case.remediation_removed",
        "case.vulnerability_removed",
    ] {
        assert!(history.contains(action), "history lacks {action}");
    }
}
