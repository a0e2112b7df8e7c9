//! Case work through the API and the case pages: the workflow and its history, who sees
//! which case, internal notes kept from the reporter, escaping, search, clocks, emergencies
//! and optimistic saves.

use keikai_domain::audit::Change;
use keikai_domain::case::{
    Case, CaseIndex, RemediationCategory, RemediationDraft, Report, ReportInput, SeverityScale,
    Visibility, VulnerabilityInput,
};
use keikai_domain::{
    BranchCategory, BranchId, BranchName, OrgId, OrgKind, OrgName, Role, Scope, UserId,
    VulnerabilityId,
};
use keikai_store::Effects;
use keikai_store::{NewAttachment, NewBranch, NewMessage, NewOrganisation};
use serde_json::{Value, json};

use crate::support::{NowTs, SessionCookie, TestApp, call};

// ---------------------------------------------------------------- fixtures

pub(crate) fn report(title: &str) -> ReportInput {
    ReportInput {
        title: title.to_owned(),
        product: "Keikai Router".to_owned(),
        description: "The login form concatenates the user name into SQL.".to_owned(),
        ..Default::default()
    }
}

/// Opens a case as intake would (through the store) and returns it with its number.
pub(crate) async fn open_case(
    app: &TestApp,
    input: &ReportInput,
    reporter: Option<UserId>,
) -> Case {
    let report = Report::from_input(input, reporter).unwrap();
    let (case, change) = Case::open(report, app.clock.now_ts());
    store_case(
        app,
        &case,
        &CaseIndex::of(&case, &SeverityScale::default()),
        change,
    )
    .await
}

/// Stores a new case as Keikai would, with the audit entry of its opening.
async fn store_case(app: &TestApp, case: &Case, index: &CaseIndex, opened: Change) -> Case {
    let fx = Effects::system(case.updated_at).with_audit(opened);
    app.store
        .create_case(case, index, None, None, &fx)
        .await
        .unwrap()
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
    let mut parent = None;
    let mut id = None;
    for (category, name) in [
        (
            BranchCategory::Vendor,
            format!("Keikai {}", uuid::Uuid::now_v7().simple()),
        ),
        (BranchCategory::ProductName, "Router".to_owned()),
        (BranchCategory::ProductVersion, "1.0".to_owned()),
    ] {
        let b = app
            .store
            .create_branch(
                &NewBranch {
                    id: BranchId::new(),
                    parent_id: parent,
                    category,
                    name: BranchName::parse(&name).unwrap(),
                },
                &Effects::system(app.clock.now_ts()),
            )
            .await
            .unwrap();
        parent = Some(b.id);
        id = Some(b.id);
    }
    id.unwrap()
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
    let index = CaseIndex::of(&case, &scale);
    let case = store_case(app, &case, &index, change).await;
    let note = NewMessage {
        case_id: case.id,
        visibility: Visibility::Internal,
        author: None,
        from_reporter: false,
        body: "internal note".into(),
        attachments: vec![NewAttachment {
            file_name: "poc.txt".into(),
            content_type: "text/plain; charset=utf-8".into(),
            bytes: b"proof of concept".to_vec(),
        }],
    };
    let change = Change::new("case.note_added", case.subject(), Value::Null, json!({}));
    let message = app
        .store
        .add_message(
            &note,
            None,
            &Effects::system(now).with_audit(change.clone()),
        )
        .await
        .unwrap();
    FullCase {
        number: case.number,
        vulnerability: vid,
        task,
        attachment: message.attachments[0].id,
    }
}

async fn token(app: &TestApp, user: UserId) -> String {
    app.store_token(user, &[Scope::Read, Scope::Write], None)
        .await
        .1
}

/// A page (or any GET) as a browser session sees it: status and body.
async fn page(app: &TestApp, s: &SessionCookie, path: &str) -> (u16, String) {
    let res = app.get_as(s, path).await;
    (res.status().as_u16(), res.text().await.unwrap())
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

/// Posts a `multipart/form-data` body as a browser would: the CSRF token and `fields` as
/// parts, and `files` as (field, file name, bytes).
async fn multipart(
    app: &TestApp,
    s: &SessionCookie,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> (u16, String) {
    let boundary = "----keikai-test-boundary-7d3f";
    let mut body = Vec::new();
    let mut fields = fields.to_vec();
    fields.insert(0, ("csrf", &s.csrf));
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (k, name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: text/html\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let res = TestApp::plain_client()
        .post(app.url(path))
        .header("cookie", s.header())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
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
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = token(&app, analyst).await;
    let case = open_case(&app, &report("Login bypass"), None).await;
    let n = case.number;
    let path = [
        "triage",
        "investigating",
        "remediation",
        "awaiting_release",
        "published",
        "closed",
    ];
    for to in path {
        let (status, body) = call(
            &app,
            &t,
            "POST",
            &format!("/api/v1/cases/{n}/transitions"),
            Some(json!({ "state": to })),
        )
        .await;
        assert_eq!(status, 200, "to {to}: {body}");
        assert_eq!(body["state"], to);
    }
    let (status, history) =
        call(&app, &t, "GET", &format!("/api/v1/cases/{n}/history"), None).await;
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
    let expected_from = [
        "new",
        "triage",
        "investigating",
        "remediation",
        "awaiting_release",
        "published",
    ];
    assert_eq!(moves.len(), 6, "{moves:?}");
    for ((from, to, actor), (want_from, want_to)) in
        moves.iter().zip(expected_from.iter().zip(path))
    {
        assert_eq!((from.as_str(), to.as_str()), (*want_from, want_to));
        assert_eq!(actor, &format!("user:{analyst}"));
    }
    // The history page shows the same entries, with who did them.
    let s = app.session_for(analyst).await;
    let (status, html) = page(&app, &s, &format!("/cases/{n}/history")).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("case.transition").count(), 6, "{html}");
    assert!(html.contains("psirt-analyst"), "the actor's name is shown");
}

#[tokio::test]
async fn a_forbidden_transition_is_refused_with_the_allowed_states_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = token(&app, analyst).await;
    let opened = open_case(&app, &report("Skipping ahead"), None).await;
    let n = opened.number;
    let (status, body) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{n}/transitions"),
        Some(json!({ "state": "published" })),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "state");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("triage, rejected, duplicate, on_hold"),
        "{msg}"
    );
    // Unknown state names and a bad duplicate target are named too.
    let (status, body) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{n}/transitions"),
        Some(json!({ "state": "done" })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("state"))
    );
    let (status, body) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{n}/transitions"),
        Some(json!({ "state": "duplicate", "reason": "same as", "duplicate_of": 999_999 })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (422, json!("duplicate_of"))
    );
    let (_, case) = call(&app, &t, "GET", &format!("/api/v1/cases/{n}"), None).await;
    assert_eq!(case["state"], "new");
    assert_eq!(case["revision"], opened.revision);
    let (_, history) = call(&app, &t, "GET", &format!("/api/v1/cases/{n}/history"), None).await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
}

#[tokio::test]
async fn a_duplicate_names_a_case_that_exists() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = token(&app, analyst).await;
    let first = open_case(&app, &report("Original"), None).await.number;
    let second = open_case(&app, &report("Same again"), None).await.number;
    let (status, body) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{second}/transitions"),
        Some(json!({ "state": "duplicate", "reason": "reported twice", "duplicate_of": first.to_string() })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let first_id = app.store.case_by_number(first).await.unwrap().id;
    assert_eq!(body["internal"]["case"]["duplicate_of"], json!(first_id));
    let s = app.session_for(analyst).await;
    let (_, html) = page(&app, &s, &format!("/cases/{second}")).await;
    assert!(
        html.contains(&format!("href=\"/cases/{first}\"")),
        "the page links the original"
    );
}

// ---------------------------------------------------------------- who sees what

#[tokio::test]
async fn a_product_engineer_sees_only_their_teams_cases_and_may_note_but_not_triage() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = token(&app, analyst).await;
    let (team_a, team_b) = (team(&app, "Team A").await, team(&app, "Team B").await);
    let engineer = engineer_of(&app, team_a).await;
    let ours = open_case(&app, &report("Ours"), None).await.number;
    let theirs = open_case(&app, &report("Theirs"), None).await.number;
    let nobodys = open_case(&app, &report("Unassigned"), None).await.number;
    for (n, team) in [(ours, team_a), (theirs, team_b)] {
        let (status, body) = call(
            &app,
            &t,
            "POST",
            &format!("/api/v1/cases/{n}/assignment"),
            Some(json!({ "team": team.to_string(), "instructions": "check the login code" })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let et = token(&app, engineer).await;
    let (status, list) = call(&app, &et, "GET", "/api/v1/cases", None).await;
    assert_eq!(status, 200);
    assert_eq!(numbers(&list), vec![ours]);
    assert_eq!(list["total"], 1);
    let es = app.session_for(engineer).await;
    let (_, html) = page(&app, &es, "/cases").await;
    assert!(html.contains(&format!("data-case=\"{ours}\"")));
    for other in [theirs, nobodys] {
        assert!(!html.contains(&format!("data-case=\"{other}\"")));
        for path in [
            format!("/api/v1/cases/{other}"),
            format!("/api/v1/cases/{other}/messages"),
            format!("/api/v1/cases/{other}/history"),
        ] {
            assert_eq!(call(&app, &et, "GET", &path, None).await.0, 404, "{path}");
        }
        assert_eq!(page(&app, &es, &format!("/cases/{other}")).await.0, 404);
        let (status, _) = call(
            &app,
            &et,
            "POST",
            &format!("/api/v1/cases/{other}/messages"),
            Some(json!({ "visibility": "internal", "body": "hello" })),
        )
        .await;
        assert_eq!(status, 404);
    }
    // Their own team's case: notes yes, triage no.
    let (status, body) = call(
        &app,
        &et,
        "POST",
        &format!("/api/v1/cases/{ours}/messages"),
        Some(json!({ "visibility": "internal", "body": "reproduced on 1.0" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = form(
        &app,
        &es,
        &format!("/cases/{ours}/notes"),
        &[("body", "and on 1.1")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = call(
        &app,
        &et,
        "POST",
        &format!("/api/v1/cases/{ours}/transitions"),
        Some(json!({ "state": "triage" })),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = form(
        &app,
        &es,
        &format!("/cases/{ours}/transition"),
        &[("state", "triage")],
    )
    .await;
    assert_eq!(status, 404);
    let (_, case) = call(&app, &t, "GET", &format!("/api/v1/cases/{ours}"), None).await;
    assert_eq!(case["state"], "new");
    let (_, messages) = call(
        &app,
        &t,
        "GET",
        &format!("/api/v1/cases/{ours}/messages"),
        None,
    )
    .await;
    assert_eq!(messages.as_array().unwrap().len(), 2, "{messages}");
    // The page offers the engineer the note form but no state change.
    let (_, html) = page(&app, &es, &format!("/cases/{ours}")).await;
    assert!(html.contains("id=\"note-form\""));
    assert!(!html.contains("id=\"transition-form\""));
}

#[tokio::test]
async fn a_reporter_sees_only_their_own_case_and_never_an_internal_note() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (reporter, _) = app.user_with_role(Role::Reporter).await;
    let t = token(&app, analyst).await;
    let mine = open_case(&app, &report("My report"), Some(reporter))
        .await
        .number;
    let (other_reporter, _) = app.user_with_role(Role::Reporter).await;
    let not_mine = open_case(&app, &report("Someone else's"), Some(other_reporter))
        .await
        .number;
    let marker = format!("INTERNAL-{}", uuid::Uuid::now_v7().simple());
    let (status, _) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{mine}/messages"),
        Some(json!({ "visibility": "internal", "body": format!("{marker} do not tell the reporter") })),
    )
    .await;
    assert_eq!(status, 201);
    let analyst_session = app.session_for(analyst).await;
    let (status, _) = multipart(
        &app,
        &analyst_session,
        &format!("/cases/{mine}/notes"),
        &[("body", &format!("{marker} with a file"))],
        &[("attachments", "internal.html", b"<script>alert(1)</script>")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{mine}/messages"),
        Some(json!({ "visibility": "reporter", "body": "Thank you, we are looking into it." })),
    )
    .await;
    assert_eq!(status, 201);
    // The first answer acknowledged the case.
    let (_, case) = call(&app, &t, "GET", &format!("/api/v1/cases/{mine}"), None).await;
    assert!(
        case["internal"]["case"]["milestones"]["acknowledged_at"].is_string(),
        "{case}"
    );

    let rt = token(&app, reporter).await;
    let rs = app.session_for(reporter).await;
    let (_, list) = call(&app, &rt, "GET", "/api/v1/cases", None).await;
    assert_eq!(numbers(&list), vec![mine]);
    let mut seen = Vec::new();
    for path in [
        format!("/api/v1/cases/{mine}"),
        format!("/api/v1/cases/{mine}/messages"),
        "/api/v1/cases".to_owned(),
    ] {
        let (status, body) = call(&app, &rt, "GET", &path, None).await;
        assert_eq!(status, 200, "{path}");
        seen.push((path, body.to_string()));
    }
    for path in [
        format!("/cases/{mine}"),
        "/cases".to_owned(),
        "/".to_owned(),
    ] {
        let (status, body) = page(&app, &rs, &path).await;
        assert_eq!(status, 200, "{path}");
        seen.push((path, body));
    }
    for (path, body) in &seen {
        assert!(
            !body.contains(&marker),
            "{path} shows an internal note to the reporter"
        );
        assert!(
            !body.contains("internal.html"),
            "{path} lists an internal file"
        );
    }
    let (_, detail) = call(&app, &rt, "GET", &format!("/api/v1/cases/{mine}"), None).await;
    assert!(detail.get("internal").is_none(), "{detail}");
    let (_, messages) = call(
        &app,
        &rt,
        "GET",
        &format!("/api/v1/cases/{mine}/messages"),
        None,
    )
    .await;
    assert_eq!(messages.as_array().unwrap().len(), 1, "{messages}");
    assert_eq!(messages[0]["visibility"], "reporter");
    assert!(
        messages[0]["author"].is_null(),
        "staff names stay internal: {messages}"
    );
    let (_, html) = page(&app, &rs, &format!("/cases/{mine}")).await;
    assert!(html.contains("Thank you, we are looking into it."));
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
    for path in [
        format!("/cases/{mine}/history"),
        format!("/cases/{mine}/attachments/{}", internal_file.id),
        format!("/cases/{not_mine}"),
    ] {
        assert_eq!(page(&app, &rs, &path).await.0, 404, "{path}");
    }
    for path in [
        format!("/api/v1/cases/{mine}/history"),
        format!("/api/v1/cases/{not_mine}"),
        format!("/api/v1/cases/{not_mine}/messages"),
    ] {
        assert_eq!(call(&app, &rt, "GET", &path, None).await.0, 404, "{path}");
    }
    // The reporter answers in the conversation, and cannot write an internal note.
    let (status, _) = form(
        &app,
        &rs,
        &format!("/cases/{mine}/messages"),
        &[("body", "Here is more detail.")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = call(
        &app,
        &rt,
        "POST",
        &format!("/api/v1/cases/{mine}/messages"),
        Some(json!({ "visibility": "internal", "body": "sneaky" })),
    )
    .await;
    assert_eq!(status, 404);
    let (_, messages) = call(
        &app,
        &t,
        "GET",
        &format!("/api/v1/cases/{mine}/messages"),
        None,
    )
    .await;
    let from_reporter: Vec<&Value> = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from_reporter"] == true)
        .collect();
    assert_eq!(from_reporter.len(), 1);
    assert_eq!(from_reporter[0]["visibility"], "reporter");

    // The PSIRT downloads the internal file: never inline, never sniffed, sandboxed.
    let res = app
        .get_as(
            &analyst_session,
            &format!("/cases/{mine}/attachments/{}", internal_file.id),
        )
        .await;
    assert_eq!(res.status(), 200);
    let h = |n: &str| res.headers().get(n).unwrap().to_str().unwrap().to_owned();
    assert!(
        h("content-disposition").starts_with("attachment;"),
        "{}",
        h("content-disposition")
    );
    assert!(h("content-disposition").contains("internal.html"));
    assert_ne!(
        h("content-type"),
        "text/html",
        "markup is never served as HTML"
    );
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert!(
        h("content-security-policy").starts_with("sandbox"),
        "{}",
        h("content-security-policy")
    );
    assert_eq!(h("cache-control"), "private, no-store");
    assert_eq!(
        res.bytes().await.unwrap().as_ref(),
        b"<script>alert(1)</script>"
    );
}

#[tokio::test]
async fn markup_in_every_text_field_is_escaped_on_the_case_pages() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = token(&app, analyst).await;
    let x = "<script>alert('x')</script>";
    let input = ReportInput {
        title: format!("title {x}"),
        product: format!("product {x}"),
        version: format!("version {x}"),
        description: format!("description {x}"),
        impact: format!("impact {x}"),
        steps: format!("steps {x}"),
        disclosure_plans: format!("plans {x}"),
        credit: Some("named".into()),
        credit_name: Some(format!("credit {x}")),
        credit_organisation: Some(format!("org {x}")),
        reporter_name: Some(format!("name {x}")),
        reporter_organisation: Some(format!("reporter org {x}")),
        ..Default::default()
    };
    let n = open_case(&app, &input, None).await.number;
    let base = format!("/api/v1/cases/{n}");
    let (status, saved) = call(
        &app,
        &t,
        "POST",
        &format!("{base}/vulnerabilities"),
        Some(json!({ "title": format!("vuln {x}") })),
    )
    .await;
    assert_eq!(status, 201, "{saved}");
    let vid = saved["id"].as_str().unwrap().to_owned();
    let team = team(&app, "Team").await;
    for (path, body) in [
        (
            format!("{base}/assignment"),
            json!({ "team": team.to_string(), "instructions": format!("instructions {x}") }),
        ),
        (
            format!("{base}/messages"),
            json!({ "visibility": "internal", "body": format!("note {x}") }),
        ),
        (
            format!("{base}/messages"),
            json!({ "visibility": "reporter", "body": format!("message {x}") }),
        ),
        (
            format!("{base}/emergency"),
            json!({ "declared": true, "reason": format!("reason {x}") }),
        ),
        (
            format!("{base}/transitions"),
            json!({ "state": "on_hold", "reason": format!("hold {x}") }),
        ),
    ] {
        let (status, body) = call(&app, &t, "POST", &path, Some(body)).await;
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
        let (status, html) = page(&app, &s, &path).await;
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
    let (_, html) = page(&app, &s, &format!("/cases/{n}")).await;
    for field in [
        "title",
        "product",
        "version",
        "description",
        "impact",
        "steps",
        "plans",
        "credit",
        "name",
        "reporter org",
        "vuln",
        "instructions",
        "note",
        "message",
        "reason",
        "task",
        "details",
    ] {
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
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = token(&app, analyst).await;
    let ja = open_case(&app, &report("管理画面の認証回避"), None)
        .await
        .number;
    let en = open_case(
        &app,
        &report("Buffer overflow in the firmware parser"),
        None,
    )
    .await
    .number;
    let mut wide = report("ＸＳＳの脆弱性");
    // Half-width katakana: NFKC folds it to the usual forms.
    wide.description = "ﾛｸﾞｲﾝ画面".into();
    let fullwidth = open_case(&app, &wide, None).await.number;
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
        let (status, list) = call(&app, &t, "GET", &path, None).await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(numbers(&list), want, "search {q}");
    }
    let s = app.session_for(analyst).await;
    let (_, html) = page(&app, &s, "/cases?q=%E8%AA%8D%E8%A8%BC%E5%9B%9E%E9%81%BF").await;
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
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = token(&app, analyst).await;
    let a = open_case(&app, &report("First"), None).await.number;
    let b = open_case(&app, &report("Second"), None).await.number;
    let mut q = report("A question");
    q.kind = Some("question".into());
    q.product = String::new();
    let c_case = open_case(&app, &q, None).await;
    let c = c_case.number;
    let version = product_version(&app).await;
    let (_, saved) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{a}/vulnerabilities"),
        Some(json!({ "title": "RCE", "cvss_v3": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" })),
    )
    .await;
    let vid = saved["id"].as_str().unwrap();
    assert_eq!(
        saved["case"]["internal"]["case"]["vulnerabilities"][0]["vendor_severity"],
        "Critical"
    );
    let (status, body) = call(
        &app,
        &t,
        "PUT",
        &format!("/api/v1/cases/{a}/vulnerabilities/{vid}/product-statuses"),
        Some(json!({ "branch_id": version.to_string(), "status": "known_affected" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{b}/transitions"),
        Some(json!({ "state": "rejected", "reason": "not a bug" })),
    )
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
        let (status, list) = call(&app, &t, "GET", &format!("/api/v1/cases{query}"), None).await;
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
        let (status, body) = call(&app, &t, "GET", &format!("/api/v1/cases{query}"), None).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (422, Some(field)),
            "{query}: {body}"
        );
    }
    // Bad vulnerability input names its field, and nothing is stored.
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
        let (status, res) = call(
            &app,
            &t,
            "POST",
            &format!("/api/v1/cases/{c}/vulnerabilities"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (status, res["error"]["field"].as_str()),
            (422, Some(field)),
            "{body}: {res}"
        );
    }
    let (_, detail) = call(&app, &t, "GET", &format!("/api/v1/cases/{c}"), None).await;
    assert_eq!(detail["internal"]["case"]["vulnerabilities"], json!([]));
    assert_eq!(detail["revision"], c_case.revision);
}

#[tokio::test]
async fn overdue_cases_are_found_once_the_clock_passes_their_deadline() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = token(&app, analyst).await;
    let early = open_case(&app, &report("Waiting for an answer"), None)
        .await
        .number;
    let (_, list) = call(&app, &t, "GET", "/api/v1/cases?overdue=true", None).await;
    assert_eq!(numbers(&list), Vec::<i64>::new());
    // An unrated case must be acknowledged within 72 hours.
    app.clock.advance(jiff::SignedDuration::from_hours(73));
    let late = open_case(&app, &report("Just arrived"), None).await.number;
    let (_, list) = call(&app, &t, "GET", "/api/v1/cases?overdue=true", None).await;
    assert_eq!(numbers(&list), vec![early]);
    let (_, all) = call(&app, &t, "GET", "/api/v1/cases", None).await;
    for c in all["cases"].as_array().unwrap() {
        let n = c["number"].as_i64().unwrap();
        assert_eq!(c["overdue"], n == early, "case {n}");
        assert!(n == early || n == late);
    }
    let (_, detail) = call(&app, &t, "GET", &format!("/api/v1/cases/{early}"), None).await;
    let clocks = detail["internal"]["clocks"].as_array().unwrap();
    assert_eq!(clocks[0]["kind"], "acknowledge");
    assert_eq!(clocks[0]["status"], "overdue");
    let s = app.session_for(analyst).await;
    let (_, html) = page(&app, &s, "/cases?overdue=true").await;
    assert!(
        html.contains(&format!("data-case=\"{early}\" class=\"overdue\"")),
        "{html}"
    );
    let (_, dash) = page(&app, &s, "/").await;
    assert!(
        dash.contains("id=\"tile-overdue\"><span class=\"n\">1</span>"),
        "{dash}"
    );
    // Acknowledging (the first answer to the reporter) stops that clock.
    call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{early}/messages"),
        Some(json!({ "visibility": "reporter", "body": "received" })),
    )
    .await;
    let (_, detail) = call(&app, &t, "GET", &format!("/api/v1/cases/{early}"), None).await;
    assert_eq!(detail["internal"]["clocks"][0]["status"], "met_late");
}

// ---------------------------------------------------------------- emergencies and CRA

#[tokio::test]
async fn an_emergency_notifies_the_psirt_and_only_the_psirt() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (other_analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (engineer, _) = app.user_with_role(Role::ProductEngineer).await;
    let (reporter, _) = app.user_with_role(Role::Reporter).await;
    let admin = app.user_id(crate::support::ADMIN_EMAIL).await;
    let t = token(&app, analyst).await;
    let n = open_case(&app, &report("Zero-day in the wild"), Some(reporter))
        .await
        .number;
    let (status, body) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{n}/emergency"),
        Some(json!({ "declared": true, "reason": "exploited in the wild" })),
    )
    .await;
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
    let (_, list) = call(&app, &t, "GET", "/api/v1/cases?emergency=true", None).await;
    assert_eq!(numbers(&list), vec![n]);
    let s = app.session_for(other_analyst).await;
    let (_, dash) = page(&app, &s, "/").await;
    assert!(
        dash.contains("id=\"tile-emergencies\"><span class=\"n\">1</span>"),
        "{dash}"
    );
    assert!(
        dash.contains("id=\"tile-unread\"><span class=\"n\">1</span>"),
        "{dash}"
    );
    let (_, history) = call(&app, &t, "GET", &format!("/api/v1/cases/{n}/history"), None).await;
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
    let (_, dash) = page(&app, &s, "/").await;
    assert!(
        dash.contains("id=\"tile-unread\"><span class=\"n\">0</span>"),
        "{dash}"
    );
    // Ending it needs no reason; ending it twice is refused.
    let path = format!("/api/v1/cases/{n}/emergency");
    assert_eq!(
        call(&app, &t, "POST", &path, Some(json!({ "declared": false })))
            .await
            .0,
        200
    );
    let (status, body) = call(&app, &t, "POST", &path, Some(json!({ "declared": false }))).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("emergency"))
    );
}

#[tokio::test]
async fn cra_clocks_start_when_a_vulnerability_is_exploited_and_stop_when_marked_sent() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = token(&app, analyst).await;
    let n = open_case(&app, &report("Exploited"), None).await.number;
    let kinds = |detail: &Value| -> Vec<String> {
        detail["internal"]["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, detail) = call(&app, &t, "GET", &format!("/api/v1/cases/{n}"), None).await;
    assert!(
        !kinds(&detail).iter().any(|k| k.starts_with("cra_")),
        "{detail}"
    );
    let (status, saved) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{n}/vulnerabilities"),
        Some(json!({ "title": "Auth bypass", "exploited": true })),
    )
    .await;
    assert_eq!(status, 201, "{saved}");
    let detail = &saved["case"];
    let clocks = detail["internal"]["clocks"].as_array().unwrap();
    let clock = |k: &str| clocks.iter().find(|c| c["kind"] == k).unwrap().clone();
    let now = app.clock.now_ts();
    let due: jiff::Timestamp = clock("cra_early_warning")["due"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let off = due.duration_since(now) - jiff::SignedDuration::from_hours(24);
    assert!(
        off.abs() < jiff::SignedDuration::from_secs(1),
        "{due} vs {now}"
    );
    assert_eq!(clock("cra_early_warning")["status"], "due");
    assert_eq!(clock("cra_notification")["status"], "due");
    assert_eq!(clock("cra_final_report")["status"], "waiting");
    let s = app.session_for(analyst).await;
    let (_, html) = page(&app, &s, &format!("/cases/{n}")).await;
    assert!(
        html.contains("data-cra=\"early_warning\""),
        "mark-sent button"
    );
    let (status, body) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{n}/cra/early_warning"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let sent = body["internal"]["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "cra_early_warning")
        .unwrap()
        .clone();
    assert_eq!(sent["status"], "met");
    let (status, body) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{n}/cra/final_report"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("report")),
        "{body}"
    );
    let (status, _) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{n}/cra/weekly_report"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 404);
    // The UI button marks the notification sent.
    let (status, _) = form(&app, &s, &format!("/cases/{n}/cra/notification"), &[]).await;
    assert_eq!(status, 303);
    let (_, detail) = call(&app, &t, "GET", &format!("/api/v1/cases/{n}"), None).await;
    assert!(
        detail["internal"]["case"]["cra_sent"]["notification"].is_string(),
        "{detail}"
    );
}

// ---------------------------------------------------------------- saves

#[tokio::test]
async fn a_change_based_on_a_stale_revision_is_refused_with_409() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = token(&app, analyst).await;
    let n = open_case(&app, &report("Two analysts at once"), None)
        .await
        .number;
    let (_, detail) = call(&app, &t, "GET", &format!("/api/v1/cases/{n}"), None).await;
    let revision = detail["revision"].as_i64().unwrap();
    let (status, body) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{n}/transitions"),
        Some(json!({ "state": "triage", "revision": revision })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["revision"].as_i64().unwrap() > revision);
    // Another change made from the same, now stale, view.
    let (status, body) = call(
        &app,
        &t,
        "POST",
        &format!("/api/v1/cases/{n}/transitions"),
        Some(json!({ "state": "rejected", "reason": "spam", "revision": revision })),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reload"),
        "{body}"
    );
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
    let (_, detail) = call(&app, &t, "GET", &format!("/api/v1/cases/{n}"), None).await;
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

#[tokio::test]
async fn the_case_page_works_through_its_forms() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let s = app.session_for(analyst).await;
    let version = product_version(&app).await;
    let n = open_case(&app, &report("Through the forms"), None)
        .await
        .number;
    let (status, html) = page(&app, &s, &format!("/cases/{n}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("class=\"cvss-calc\""),
        "the CVSS calculator is embedded"
    );
    assert!(html.contains("Keikai Router"));
    let (status, body) = form(
        &app,
        &s,
        &format!("/cases/{n}/vulnerabilities"),
        &[
            ("title", "Stored XSS"),
            ("cwe", "79"),
            ("cvss_v3", "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N"),
            ("cvss_v3-AV", "N"),
            ("vendor_severity", ""),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    // A bad vector shows the form again with the error and what was typed.
    let (status, html) = form(
        &app,
        &s,
        &format!("/cases/{n}/vulnerabilities"),
        &[("title", "Typo"), ("cvss_v4", "CVSS:4.0/AV:Q")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("role=\"alert\">cvss_v4:"), "{html}");
    assert!(html.contains("value=\"Typo\""), "the title is kept");
    let case = app.store.case_by_number(n).await.unwrap();
    assert_eq!(case.vulnerabilities.len(), 1);
    let v = &case.vulnerabilities[0];
    assert_eq!(v.cwe.as_ref().unwrap().id, "CWE-79");
    assert_eq!(v.vendor_severity.as_deref(), Some("Moderate"));
    let vid = v.id;
    let (status, _) = form(
        &app,
        &s,
        &format!("/cases/{n}/vulnerabilities/{vid}/statuses"),
        &[
            ("branch_id", &version.to_string()),
            ("status", "known_not_affected"),
            ("justification", "component_not_present"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (status, html) = form(
        &app,
        &s,
        &format!("/cases/{n}/vulnerabilities/{vid}/statuses"),
        &[
            ("branch_id", &BranchId::new().to_string()),
            ("status", "fixed"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("role=\"alert\">branch_id:"), "{html}");
    let (status, _) = form(
        &app,
        &s,
        &format!("/cases/{n}/owner"),
        &[("owner", &analyst.to_string())],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = form(
        &app,
        &s,
        &format!("/cases/{n}/tasks"),
        &[
            ("title", "Write the fix"),
            ("owner", &analyst.to_string()),
            ("due", "2030-01-31"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = form(
        &app,
        &s,
        &format!("/cases/{n}/tasks"),
        &[("title", "Bad date"), ("due", "soon")],
    )
    .await;
    assert_eq!(status, 422);
    let case = app.store.case_by_number(n).await.unwrap();
    assert_eq!(case.owner, Some(analyst));
    assert_eq!(case.tasks.len(), 1);
    let task = case.tasks[0].id;
    let (status, _) = form(
        &app,
        &s,
        &format!("/cases/{n}/tasks/{task}/done"),
        &[("done", "true")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = form(
        &app,
        &s,
        &format!("/cases/{n}/emergency"),
        &[("reason", "exploited")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = form(&app, &s, &format!("/cases/{n}/emergency/end"), &[]).await;
    assert_eq!(status, 303);
    let (status, _) = form(
        &app,
        &s,
        &format!("/cases/{n}/vulnerabilities/{vid}/remediations"),
        &[
            ("category", "mitigation"),
            ("details", "Disable the feature"),
            ("url", "https://example.com/kb/1"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = form(
        &app,
        &s,
        &format!("/cases/{n}/vulnerabilities/{vid}/remediations/0/delete"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let (status, html) = page(&app, &s, &format!("/cases/{n}?edit={vid}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("action=\"/cases/{n}/vulnerabilities/{vid}\"")),
        "edit form"
    );
    assert!(html.contains("value=\"Stored XSS\""));
    let (status, _) = form(
        &app,
        &s,
        &format!("/cases/{n}/vulnerabilities/{vid}/delete"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let case = app.store.case_by_number(n).await.unwrap();
    assert!(case.vulnerabilities.is_empty());
    assert!(case.tasks[0].done_at.is_some());
    assert!(case.emergency.is_none());
    let (_, history) = page(&app, &s, &format!("/cases/{n}/history")).await;
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
