//! Intake: the public report form, the same through the API, and the reporter's portal behind
//! the tracking link; what the reporter sees and what stays internal.

use jiff::SignedDuration;
use keikai_domain::audit::AuditActor;
use keikai_domain::case::{Case, CaseIndex, CaseState, Credit, Report, ReportInput, Visibility};
use keikai_domain::{CaseScope, Role};
use keikai_store::Effects;
use keikai_store::{CaseFilter, NewMessage};
use serde_json::{Value, json};

use crate::cases::{REPORT_TEXT_FIELDS, add_message, message, store_case, text_file};
use crate::matrix::{Body, form};
use crate::support::{FilePart, NowTs, TestApp, csrf_of, location, multipart};

const PUBLIC_KEY: &str =
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmDMEZ0test\n-----END PGP PUBLIC KEY BLOCK-----";
const PRIVATE_KEY: &str =
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlFgEZ0test\n-----END PGP PRIVATE KEY BLOCK-----";

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// A case with a tracking link and one file in its conversation, made through the store as
/// intake would make it: for the route matrix. Returns the secret and the file's id.
pub(crate) async fn tracked_case(app: &TestApp) -> (String, String) {
    let input = ReportInput {
        title: unique("Tracked report"),
        product: "Keikai Router".into(),
        description: "A fixture report.".into(),
        ..ReportInput::default()
    };
    let (case, change) = Case::open(
        Report::from_input(&input, None).unwrap(),
        app.clock.now_ts(),
    );
    let secret = keikai_app::secret::random_secret();
    let hash = keikai_app::secret::sha256_hex(&secret);
    let case = store_case(app, &case, Some(&hash), change).await;
    let mut sent = message(case.id, Visibility::Reporter, "Files sent with the report.");
    sent.from_reporter = true;
    sent.attachments
        .push(text_file("poc.txt", b"curl -d x http://router/"));
    let saved = add_message(app, AuditActor::System, "case.message_added", &sent).await;
    (secret, saved.attachments[0].id.to_string())
}

/// Opens the form as a browser would (the client keeps the form's CSRF cookie) and returns
/// the page and its token.
async fn open_form(app: &TestApp, client: &reqwest::Client) -> (String, String) {
    let res = client.get(app.url("/report")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let csrf = csrf_of(&page);
    (page, csrf)
}

/// A fresh app and a browser that has opened the report form: the app, the browser, the
/// form page and its token.
async fn at_the_form() -> (TestApp, reqwest::Client, String, String) {
    let app = TestApp::spawn().await;
    let client = TestApp::client();
    let (page, csrf) = open_form(&app, &client).await;
    (app, client, page, csrf)
}

/// A file from the reporter's portal, which must come as an opaque download: never shown
/// inline, never sniffed, sandboxed.
async fn download(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    let res = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let h = res.headers();
    let disposition = h["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("sandbox"), "{path}: {csp}");
    res
}

/// The form's fields for a good report, with `changes` replacing or adding fields.
fn fields<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("kind", "report"),
        ("title", "Authentication bypass in the admin page"),
        ("product", "Keikai Router"),
        ("version", "2.1"),
        ("description", "The admin page skips the session check."),
        ("impact", "Anyone on the LAN can change the settings."),
        ("steps", "1. Open /admin without signing in."),
        ("credit", "anonymous"),
        ("reporter_email", "researcher@example.org"),
        ("language", "en"),
    ];
    for (k, v) in changes {
        f.retain(|(name, _)| name != k);
        f.push((k, v));
    }
    f
}

/// Submits the report form: a good report with `changes`, and `files`.
async fn submit_report(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    changes: &[(&str, &str)],
    files: &[(&str, Vec<u8>)],
) -> (u16, String) {
    let fields = fields(changes);
    let files: Vec<FilePart<'_>> = files
        .iter()
        .map(|(name, bytes)| ("attachments", *name, None, bytes.as_slice()))
        .collect();
    let form = multipart(csrf, &fields, &files);
    let res = client
        .post(app.url("/report"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// Posts a form of a page `client` holds (`csrf` is the page's token).
async fn post_page_form(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    client.post(app.url(path)).form(&form).send().await.unwrap()
}

/// `POST /api/v1/reports`, anonymously or with a token.
async fn report_api(app: &TestApp, token: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = TestApp::plain_client()
        .post(app.url("/api/v1/reports"))
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// The portal's path on the done page.
fn tracking_path(done: &str) -> String {
    let start = done
        .find("href=\"/track/")
        .expect("no tracking link on the done page")
        + "href=\"".len();
    done[start..].split('"').next().unwrap().to_owned()
}

fn secret_of(path: &str) -> &str {
    path.trim_start_matches("/track/")
}

async fn case_count(app: &TestApp) -> u64 {
    app.store
        .count_cases(&CaseFilter::new(CaseScope::All))
        .await
        .unwrap()
}

async fn case_of(app: &TestApp, secret: &str) -> Case {
    app.store
        .case_by_tracking_hash(&keikai_app::secret::sha256_hex(secret))
        .await
        .unwrap()
}

async fn get_text(client: &reqwest::Client, url: &str) -> (u16, String) {
    let res = client.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

/// The ids of the files a portal page links to, in order.
fn attachment_links(page: &str, secret: &str) -> Vec<String> {
    let marker = format!("/track/{secret}/attachments/");
    page.match_indices(&marker)
        .map(|(i, m)| page[i + m.len()..].split('"').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_anonymous_report_reaches_the_psirt_and_the_reporter_follows_it() {
    let (app, client, form_page, csrf) = at_the_form().await;
    assert!(form_page.contains("name=\"description\""));
    // The catalogue may name unreleased products: not for anonymous visitors.
    assert!(!form_page.contains("name=\"branch_id\""));

    let poc = b"GET /admin HTTP/1.1\r\nHost: router\r\n".to_vec();
    let (status, done) =
        submit_report(&app, &client, &csrf, &[], &[("poc.txt", poc.clone())]).await;
    assert_eq!(status, 200, "{done}");
    let path = tracking_path(&done);
    let secret = secret_of(&path).to_owned();
    assert_eq!(secret.len(), 43, "{path}");
    assert!(
        done.contains(&format!("/track/{secret}</code>")),
        "full URL shown"
    );

    // The store keeps only the hash of the secret.
    let case = case_of(&app, &secret).await;
    assert_eq!(case.state, CaseState::New);
    assert_eq!(case.report.reporter_user, None);
    assert!(case.emergency.is_none());
    let audit = app.store.audit_for(&case.subject()).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "case.opened" && e.actor == "system"),
        "{audit:?}"
    );

    // The PSIRT sees it in the case list and its file in the conversation.
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let token = app.write_token(analyst).await;
    let (_, list) = app.api(&token).get("/api/v1/cases").await;
    assert!(
        list["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["title"] == "Authentication bypass in the admin page"),
        "{list}"
    );
    let messages = app.store.list_messages(case.id, None).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].from_reporter);
    assert_eq!(messages[0].attachments[0].file_name, "poc.txt");

    // An internal note (with a file) and a PSIRT answer to the reporter.
    let note_marker = unique("INTERNAL-NOTE");
    let answer_marker = unique("PSIRT-ANSWER");
    let by_analyst = |visibility, body: &str| NewMessage {
        author: Some(analyst),
        ..message(case.id, visibility, body)
    };
    let mut note = by_analyst(Visibility::Internal, &note_marker);
    let analysis = text_file("internal-analysis.txt", b"root cause: missing check");
    note.attachments.push(analysis);
    let answer = by_analyst(Visibility::Reporter, &answer_marker);
    let note = add_message(&app, AuditActor::User(analyst), "test.message", &note).await;
    add_message(&app, AuditActor::User(analyst), "test.message", &answer).await;

    // The portal: status, the report, the file, the answer; never the note.
    let res = client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(
        h["cache-control"].to_str().unwrap().contains("no-store"),
        "{h:?}"
    );
    let portal = res.text().await.unwrap();
    assert!(portal.contains("data-state=\"new\""), "{portal}");
    assert!(portal.contains("Received"), "status in plain words");
    assert!(portal.contains("The admin page skips the session check."));
    assert!(portal.contains(&answer_marker));
    assert!(!portal.contains(&note_marker), "an internal note leaked");
    assert!(
        !portal.contains("internal-analysis.txt"),
        "an internal file leaked"
    );
    let links = attachment_links(&portal, &secret);
    assert_eq!(links.len(), 1, "{links:?}");

    let res = download(&app, &client, &format!("{path}/attachments/{}", links[0])).await;
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["content-disposition"], "attachment; filename=\"poc.txt\"");
    assert!(h["cache-control"].to_str().unwrap().contains("no-store"));
    assert_eq!(res.bytes().await.unwrap().to_vec(), poc);
    // The internal file is not there for the link, even by its id.
    let internal_id = note.attachments[0].id;
    let (status, _) = get_text(
        &client,
        &app.url(&format!("{path}/attachments/{internal_id}")),
    )
    .await;
    assert_eq!(status, 404);

    // The reporter answers, with a file.
    let reply_marker = unique("REPORTER-REPLY");
    let page_csrf = csrf_of(&portal);
    let more: &[u8] = b"more details";
    let file = ("attachments", "more.txt", None, more);
    let reply = multipart(&page_csrf, &[("body", &reply_marker)], &[file]);
    let res = client
        .post(app.url(&format!("{path}/messages")))
        .multipart(reply)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("{path}#conversation"));
    let (_, portal) = get_text(&client, &app.url(&path)).await;
    assert!(portal.contains(&reply_marker));
    assert_eq!(attachment_links(&portal, &secret).len(), 2);
    let all = app.store.list_messages(case.id, None).await.unwrap();
    let stored = all.iter().find(|m| m.body == reply_marker).unwrap();
    assert!(stored.from_reporter && stored.author.is_none());
    assert_eq!(stored.visibility, Visibility::Reporter);

    // The reporter changes their credit; the change is audited as theirs.
    let credit_form = format!("{path}/credit");
    let named = [
        ("credit", "named"),
        ("credit_name", "Aiko Tanaka"),
        ("credit_organisation", "Example Lab"),
    ];
    let res = post_page_form(&app, &client, &credit_form, &page_csrf, &named).await;
    assert_eq!(res.status(), 303);
    let case = case_of(&app, &secret).await;
    assert_eq!(
        case.report.credit,
        Credit::Named {
            name: "Aiko Tanaka".into(),
            organisation: Some("Example Lab".into())
        }
    );
    let audit = app.store.audit_for(&case.subject()).await.unwrap();
    let credit = audit
        .iter()
        .find(|e| e.action == "case.credit")
        .expect("the credit change is not in the audit log");
    assert_eq!(credit.actor, "reporter");
    assert!(credit.after.contains("Aiko Tanaka"), "{credit:?}");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "case.message_added" && e.actor == "reporter"),
        "{audit:?}"
    );
    // A credit the domain refuses re-renders the portal naming the field.
    let nameless = [("credit", "named"), ("credit_name", "")];
    let res = post_page_form(&app, &client, &credit_form, &page_csrf, &nameless).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("credit_name"));
}

#[tokio::test]
async fn bad_fields_are_named_the_input_is_kept_and_nothing_is_stored() {
    let (app, client, _, csrf) = at_the_form().await;
    let before = case_count(&app).await;
    let cases: [(&str, &str, &str); 5] = [
        ("title", "title", "  "),
        ("description", "description", ""),
        ("reporter_email", "reporter_email", "not an address"),
        ("pgp_key", "pgp_key", PRIVATE_KEY),
        ("planned_disclosure", "planned_disclosure", "next week"),
    ];
    for (field, name, value) in cases {
        let kept = unique("kept-impact");
        let (status, page) = submit_report(
            &app,
            &client,
            &csrf,
            &[(name, value), ("impact", &kept)],
            &[],
        )
        .await;
        assert_eq!(status, 422, "{field}: {page}");
        let alert = page
            .split("role=\"alert\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{field}: no error shown"));
        let alert = alert.split("</p>").next().unwrap();
        assert!(alert.contains(field), "{field}: {alert}");
        assert!(page.contains(&kept), "{field}: the typed impact was lost");
        assert!(page.contains("id=\"report-form\""), "{field}: not the form");
    }
    // The private key's message says what matters.
    let (_, page) = submit_report(&app, &client, &csrf, &[("pgp_key", PRIVATE_KEY)], &[]).await;
    assert!(page.contains("private key"), "{page}");
    assert_eq!(
        case_count(&app).await,
        before,
        "a refused report was stored"
    );
    // A public key is fine, and so is a question without a product.
    let (status, page) = submit_report(
        &app,
        &client,
        &csrf,
        &[
            ("pgp_key", PUBLIC_KEY),
            ("kind", "question"),
            ("product", ""),
            ("cve", "CVE-2024-3094"),
        ],
        &[],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(case_count(&app).await, before + 1);
}

#[tokio::test]
async fn an_oversized_file_is_refused_by_name_and_nothing_is_stored() {
    let (app, client, _, csrf) = at_the_form().await;
    let before = case_count(&app).await;
    let limit = keikai_domain::attachment::AttachmentPolicy::default().max_bytes;
    let big = vec![b'a'; usize::try_from(limit).unwrap() + 1];
    let (status, page) = submit_report(
        &app,
        &client,
        &csrf,
        &[],
        &[("small.txt", b"ok".to_vec()), ("huge-dump.bin", big)],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("huge-dump.bin"), "the file is not named");
    assert!(page.contains("the limit is 20 MiB"), "{page}");
    assert!(page.contains("id=\"files-again\""));
    assert!(page.contains("Authentication bypass in the admin page"));
    assert_eq!(case_count(&app).await, before);

    // An empty file, and an empty file input, are told apart.
    let (status, page) =
        submit_report(&app, &client, &csrf, &[], &[("empty.txt", Vec::new())]).await;
    assert_eq!(status, 422);
    assert!(page.contains("empty.txt"), "{page}");
    let (status, _) = submit_report(&app, &client, &csrf, &[], &[("", Vec::new())]).await;
    assert_eq!(status, 200, "an empty file input must not count as a file");
    assert_eq!(case_count(&app).await, before + 1);
}

#[tokio::test]
async fn html_and_svg_files_are_served_as_opaque_downloads() {
    let (app, client, _, csrf) = at_the_form().await;
    let (status, done) = submit_report(
        &app,
        &client,
        &csrf,
        &[],
        &[
            (
                "page.html",
                b"<html><script>alert(1)</script></html>".to_vec(),
            ),
            (
                "image.svg",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            ),
            ("shot.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let path = tracking_path(&done);
    let (_, portal) = get_text(&client, &app.url(&path)).await;
    let links = attachment_links(&portal, secret_of(&path));
    assert_eq!(links.len(), 3);
    let mut types = Vec::new();
    for id in links {
        let res = download(&app, &client, &format!("{path}/attachments/{id}")).await;
        types.push(res.headers()["content-type"].to_str().unwrap().to_owned());
    }
    assert_eq!(
        types,
        [
            "application/octet-stream",
            "application/octet-stream",
            "image/png"
        ]
    );
}

#[tokio::test]
async fn markup_in_every_text_field_is_escaped_on_the_portal() {
    let (app, client, _, csrf) = at_the_form().await;
    let script = |f: &str| format!("<script>alert(\"{f}\")</script>");
    let text_fields = REPORT_TEXT_FIELDS;
    let values: Vec<(String, String)> = text_fields
        .iter()
        .map(|f| (*f, script(f)))
        .map(|(f, s)| (f.to_owned(), s))
        .collect();
    let mut changes: Vec<(&str, &str)> = values
        .iter()
        .map(|(f, s)| (f.as_str(), s.as_str()))
        .collect();
    changes.push(("credit", "named"));
    let (status, done) = submit_report(
        &app,
        &client,
        &csrf,
        &changes,
        &[("<img src=x onerror=alert(1)>.txt", b"x".to_vec())],
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let path = tracking_path(&done);
    let (_, portal) = get_text(&client, &app.url(&path)).await;
    let page_csrf = csrf_of(&portal);
    let reply = script("reply");
    let messages = format!("{path}/messages");
    let reply = [("body", reply.as_str())];
    let res = post_page_form(&app, &client, &messages, &page_csrf, &reply).await;
    assert_eq!(res.status(), 303);
    let (_, portal) = get_text(&client, &app.url(&path)).await;
    assert!(
        !portal.contains("<script>alert"),
        "unescaped markup on the portal"
    );
    assert!(
        !portal.contains("<img src=x"),
        "unescaped file name on the portal"
    );
    for f in text_fields.iter().chain(&["reply"]) {
        // askama's escapes: `<` `>` `"` as numeric character references.
        let escaped = format!("&#60;script&#62;alert(&#34;{f}&#34;)&#60;/script&#62;");
        assert!(portal.contains(&escaped), "{f} is not shown escaped");
    }
}

#[tokio::test]
async fn unknown_secrets_answer_404() {
    let app = TestApp::spawn().await;
    let (secret, attachment) = tracked_case(&app).await;
    let other = keikai_app::secret::random_secret();
    for path in [
        format!("/track/{other}"),
        "/track/short".to_owned(),
        format!("/track/{other}/attachments/{attachment}"),
        format!("/track/{secret}/attachments/{}", uuid::Uuid::now_v7()),
        format!("/track/{secret}/attachments/not-an-id"),
    ] {
        let res = app.fetch(&path).await;
        assert_eq!(res.status(), 404, "{path}");
        let content_type = res.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert_eq!(res.headers()["referrer-policy"], "no-referrer", "{path}");
    }
    // Another case's file is not reachable through this link; its own is.
    let (other_secret, _) = tracked_case(&app).await;
    for (link, want) in [(&other_secret, 404), (&secret, 200)] {
        let path = format!("/track/{link}/attachments/{attachment}");
        assert_eq!(app.fetch(&path).await.status(), want, "{path}");
    }
}

#[tokio::test]
async fn a_duplicate_shows_no_trace_of_the_other_case() {
    let app = TestApp::spawn().await;
    let (first, _) = tracked_case(&app).await;
    let (second, _) = tracked_case(&app).await;
    let original = case_of(&app, &first).await;
    let mut dup = case_of(&app, &second).await;
    let change = dup
        .transition(
            CaseState::Duplicate,
            "same as the first",
            Some(original.id),
            app.clock.now_ts(),
        )
        .unwrap();
    let index = CaseIndex::of(&dup, &keikai_domain::case::SeverityScale::default());
    app.store
        .save_case(
            &dup,
            &index,
            &Effects::system(dup.updated_at).with_changes([change]),
        )
        .await
        .unwrap();
    let (status, portal) = get_text(
        &TestApp::plain_client(),
        &app.url(&format!("/track/{second}")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(portal.contains("id=\"duplicate\""));
    assert!(portal.contains("Handled under another report"));
    assert!(!portal.contains(&original.title));
    assert!(!portal.contains(&original.id.to_string()));
}

/// The portal sends no `Referer`, so its language switch says where to come back to.
#[tokio::test]
async fn the_language_switch_returns_to_the_portal() {
    let app = TestApp::spawn().await;
    let (secret, _) = tracked_case(&app).await;
    let client = TestApp::client();
    let path = format!("/track/{secret}");
    let (_, portal) = get_text(&client, &app.url(&path)).await;
    assert!(portal.contains(&format!("name=\"back\" value=\"{path}\"")));
    let ja = [("locale", "ja"), ("back", path.as_str())];
    let res = post_page_form(&app, &client, "/language", &csrf_of(&portal), &ja).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), path);
    let (_, portal) = get_text(&client, &app.url(&path)).await;
    assert!(portal.contains("受付済み"), "{portal}");
    // Only paths of this site.
    let elsewhere = [("locale", "en"), ("back", "//evil.example/")];
    let res = post_page_form(&app, &client, "/language", &csrf_of(&portal), &elsewhere).await;
    assert_eq!(location(&res), "/");
}

#[tokio::test]
async fn anonymous_reports_are_limited_per_address() {
    let app = TestApp::spawn().await;
    let body = json!({
        "title": "Rate limited",
        "product": "Keikai Router",
        "description": "One of many.",
    });
    for i in 0..keikai_app::cases::intake::ANONYMOUS_REPORTS_PER_WINDOW {
        let res = report_api(&app, None, &body).await;
        assert_eq!(res.status(), 201, "report {i}");
    }
    let res = report_api(&app, None, &body).await;
    assert_eq!(res.status(), 429);
    let err: Value = res.json().await.unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many reports"),
        "{err}"
    );
    // The form says so too, and keeps what was typed.
    let browser = TestApp::client();
    let (_, csrf) = open_form(&app, &browser).await;
    let (status, page) = submit_report(&app, &browser, &csrf, &[], &[]).await;
    assert_eq!(status, 429);
    assert!(page.contains("too many reports"));
    assert!(page.contains("Authentication bypass in the admin page"));
    // Signed-in people are not counted.
    let (user, _) = app.user_with_role(Role::Reporter).await;
    let token = app.write_token(user).await;
    let res = report_api(&app, Some(&token), &body).await;
    assert_eq!(res.status(), 201);
    // An hour later the address may report again.
    app.clock.advance(SignedDuration::from_mins(61));
    let res = report_api(&app, None, &body).await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn the_api_takes_reports_anonymously_and_names_bad_fields() {
    let app = TestApp::spawn().await;
    let client = TestApp::plain_client();
    let before = case_count(&app).await;
    let exploited = json!({
        "title": "Exploited RCE",
        "product": "Keikai Router",
        "description": "Seen in the wild.",
        "exploited": true,
        "credit": "named",
        "credit_name": "Aiko",
        "language": "ja",
    });
    let res = report_api(&app, None, &exploited).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let token = body["tracking_token"].as_str().unwrap();
    assert_eq!(token.len(), 43);
    assert!(
        body["tracking_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/track/{token}")),
        "{body}"
    );
    assert_eq!(body["state"], "new");
    // Internal numbering stays internal.
    assert!(body.get("number").is_none() && body.get("case_number").is_none());
    let case = case_of(&app, token).await;
    assert!(
        case.emergency.is_some(),
        "an exploited report is an emergency"
    );
    // The on-call PSIRT is told.
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (engineer, _) = app.user_with_role(Role::ProductEngineer).await;
    assert!(
        app.store
            .notifications(analyst, true)
            .await
            .unwrap()
            .is_empty(),
        "users made after the report were notified"
    );
    let again = json!({ "title": "Exploited again", "product": "X", "description": "d", "exploited": true });
    let res = report_api(&app, None, &again).await;
    assert_eq!(res.status(), 201);
    let notes = app.store.notifications(analyst, true).await.unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].kind, "emergency");
    assert!(notes[0].text.contains("Exploited again"));
    assert!(
        app.store
            .notifications(engineer, true)
            .await
            .unwrap()
            .is_empty()
    );
    let (status, portal) = get_text(&client, &app.url(&format!("/track/{token}"))).await;
    assert_eq!(status, 200);
    assert!(portal.contains("Exploited RCE"));

    // Each bad field is named.
    for (field, body) in [
        ("title", json!({ "product": "X", "description": "d" })),
        (
            "description",
            json!({ "title": "t", "product": "X", "description": " " }),
        ),
        (
            "reporter_email",
            json!({ "title": "t", "product": "X", "description": "d", "reporter_email": "nobody" }),
        ),
        (
            "pgp_key",
            json!({ "title": "t", "product": "X", "description": "d", "pgp_key": PRIVATE_KEY }),
        ),
        (
            "cve",
            json!({ "kind": "question", "title": "t", "description": "d", "cve": "CVE-1" }),
        ),
        (
            "nonsense",
            json!({ "title": "t", "product": "X", "description": "d", "nonsense": 1 }),
        ),
        // Anonymous callers may not name catalogue entries, real or not.
        (
            "branch_id",
            json!({ "title": "t", "description": "d", "branch_id": uuid::Uuid::now_v7() }),
        ),
    ] {
        let res = report_api(&app, None, &body).await;
        assert_eq!(res.status(), 422, "{field}");
        let err: Value = res.json().await.unwrap();
        let named = err["error"]["field"].as_str().unwrap_or_default();
        assert!(
            named == field || err["error"]["message"].as_str().unwrap().contains(field),
            "{field}: {err}"
        );
    }
    assert_eq!(case_count(&app).await, before + 2);

    // With an account, the report is theirs; a read-only token may not send one.
    let (reporter, _) = app.user_with_role(Role::Reporter).await;
    let write = app.write_token(reporter).await;
    let read = app.read_token(reporter).await;
    let good = json!({ "title": "Mine", "product": "X", "description": "d" });
    let res = report_api(&app, Some(&read), &good).await;
    assert_eq!(res.status(), 403);
    let res = report_api(&app, Some(&write), &good).await;
    assert_eq!(res.status(), 201);
    let token: Value = res.json().await.unwrap();
    let case = case_of(&app, token["tracking_token"].as_str().unwrap()).await;
    assert_eq!(case.report.reporter_user, Some(reporter));
    let audit = app.store.audit_for(&case.subject()).await.unwrap();
    assert_eq!(audit[0].actor, format!("user:{reporter}"));
}

#[tokio::test]
async fn only_internal_users_choose_from_the_catalogue() {
    let app = TestApp::spawn().await;
    let vendor = keikai_domain::BranchCategory::Vendor;
    let branch = crate::publishing::branch(&app, None, vendor, "Unreleased Vendor X").await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (customer, _) = app.user_with_role(Role::CustomerContact).await;
    for (who, user, sees) in [("analyst", analyst, true), ("customer", customer, false)] {
        let session = app.session_for(user).await;
        let page = app.get_page(&session, "/report").await.1;
        assert_eq!(page.contains("Unreleased Vendor X"), sees, "{who}");
        assert_eq!(page.contains("name=\"branch_id\""), sees, "{who}");
    }
    // The analyst's pick is kept with the report.
    let session = app.session_for(analyst).await;
    let branch_id = branch.to_string();
    let fields = fields(&[("branch_id", &branch_id)]);
    let form = multipart(&session.csrf, &fields, &[]);
    let (status, done) = app.post_multipart(&session, "/report", form).await;
    assert_eq!(status, 200);
    let case = case_of(&app, secret_of(&tracking_path(&done))).await;
    assert_eq!(case.report.branch_id, Some(branch));
    assert_eq!(case.report.reporter_user, Some(analyst));
}

#[tokio::test]
async fn the_form_needs_its_csrf_token() {
    let (app, client, _, csrf) = at_the_form().await;
    let before = case_count(&app).await;
    for token in ["", "forged-token-value"] {
        let (status, _) = submit_report(&app, &client, token, &[], &[]).await;
        assert_eq!(status, 403, "{token:?}");
    }
    // A client that never opened the form has no cookie to match.
    let (status, _) = submit_report(&app, &TestApp::client(), &csrf, &[], &[]).await;
    assert_eq!(status, 403);
    assert_eq!(case_count(&app).await, before);
    // A Japanese visitor gets the form in Japanese.
    let res = app.fetch_with("/report", ("accept-language", "ja")).await;
    let page = res.text().await.unwrap();
    assert!(page.contains("脆弱性の報告"), "{page}");
}

/// The path and body for an intake route in the route matrix. Each request gets a case of
/// its own, so that callers working in parallel never race for one.
pub(crate) async fn prepare(app: &TestApp, method: &str, template: &str) -> (String, Body) {
    let path = if template.starts_with("/track/") {
        let (secret, attachment) = tracked_case(app).await;
        template
            .replace("{secret}", &secret)
            .replace("{attachment}", &attachment)
    } else {
        template.to_owned()
    };
    let body = match (method, template) {
        ("GET", _) => Body::Empty,
        ("POST", "/report") => form(&[
            ("title", "Matrix report"),
            ("product", "Keikai Router"),
            ("description", "Sent by the route matrix."),
        ]),
        ("POST", "/track/{secret}/messages") => form(&[("body", "A reply from the matrix.")]),
        ("POST", "/track/{secret}/credit") => form(&[("credit", "anonymous")]),
        ("POST", "/api/v1/reports") => Body::Json(json!({
            "title": "Matrix report",
            "product": "Keikai Router",
            "description": "Sent by the route matrix.",
        })),
        _ => panic!("no body for {method} {template}: add one to intake::prepare()"),
    };
    (path, body)
}
