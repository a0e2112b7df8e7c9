//! `/.well-known/security.txt` (RFC 9116): public, well-formed, never stale.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use keikai_domain::{Role, SecurityTxtInput, SecurityTxtSettings};

use crate::support::{NowTs, TestApp};

const PUBLIC_URL: &str = "https://psirt.example.test";
const PATH: &str = "/.well-known/security.txt";

async fn app() -> TestApp {
    let input = SecurityTxtInput {
        contact: vec!["mailto:psirt@example.test".to_owned()],
        policy: vec![format!("{PUBLIC_URL}/policy")],
        ..SecurityTxtInput::default()
    };
    TestApp::spawn_with(keikai_app::AppConfig {
        security_txt: SecurityTxtSettings::new(PUBLIC_URL, &input).unwrap(),
        ..keikai_app::AppConfig::default()
    })
    .await
}

/// Fetches the file without cookies or credentials, as a scanner would.
async fn fetch(app: &TestApp, cookie: Option<String>) -> String {
    let mut req = TestApp::plain_client().get(app.url(PATH));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct, "text/plain; charset=utf-8");
    assert!(
        crate::support::set_cookies(&res).is_empty(),
        "a public file sets no cookies"
    );
    res.text().await.unwrap()
}

/// Field name → values, per RFC 9116 §4: `name: value` lines, `#` comments, blank lines,
/// field names case-insensitive. Panics on any other line.
fn parse(body: &str) -> BTreeMap<String, Vec<String>> {
    const KNOWN: [&str; 9] = [
        "acknowledgments",
        "canonical",
        "contact",
        "csaf",
        "encryption",
        "expires",
        "hiring",
        "policy",
        "preferred-languages",
    ];
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in body.split('\n') {
        assert!(!line.contains('\r'), "stray CR in {line:?}");
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not a field line: {line:?}"));
        let name = name.to_ascii_lowercase();
        assert!(KNOWN.contains(&name.as_str()), "unknown field {name}");
        let value = value.strip_prefix(' ').unwrap_or(value);
        assert!(!value.is_empty() && value.trim() == value, "{line:?}");
        fields.entry(name).or_default().push(value.to_owned());
    }
    assert!(body.ends_with('\n'), "the last line ends with a line break");
    fields
}

fn once<'a>(fields: &'a BTreeMap<String, Vec<String>>, name: &str) -> &'a str {
    let values = fields.get(name).map(Vec::as_slice).unwrap_or_default();
    assert_eq!(
        values.len(),
        1,
        "{name} must appear exactly once: {values:?}"
    );
    &values[0]
}

#[tokio::test]
async fn the_file_is_public_and_well_formed() {
    let app = app().await;
    let body = fetch(&app, None).await;
    let fields = parse(&body);

    let contacts = &fields["contact"];
    assert_eq!(
        contacts,
        &[
            format!("{PUBLIC_URL}/report"),
            "mailto:psirt@example.test".to_owned()
        ],
        "the report form first, then the configured contacts"
    );
    let now = app.clock.now_ts();
    let expires: Timestamp = once(&fields, "expires").parse().unwrap();
    assert!(expires > now, "Expires {expires} is not after {now}");
    assert!(
        expires <= now + SignedDuration::from_hours(24 * 365),
        "Expires {expires} is more than a year ahead"
    );
    assert_eq!(once(&fields, "canonical"), format!("{PUBLIC_URL}{PATH}"));
    assert_eq!(once(&fields, "preferred-languages"), "en, ja");
    assert_eq!(fields["policy"], [format!("{PUBLIC_URL}/policy")]);
    for (name, values) in &fields {
        for v in values {
            assert!(!v.starts_with("http:"), "{name}: {v} is not https");
        }
    }
    assert!(
        !body.contains('#'),
        "no local-testing comment over https: {body}"
    );
}

#[tokio::test]
async fn expires_moves_with_the_clock() {
    let app = app().await;
    let first: Timestamp = once(&parse(&fetch(&app, None).await), "expires")
        .parse()
        .unwrap();
    app.clock.advance(SignedDuration::from_hours(24 * 400));
    let now = app.clock.now_ts();
    assert!(now > first, "the first file would be stale by now");
    let second: Timestamp = once(&parse(&fetch(&app, None).await), "expires")
        .parse()
        .unwrap();
    assert!(second > now, "Expires {second} is not after {now}");
}

#[tokio::test]
async fn signed_in_or_not_the_file_is_the_same() {
    let app = app().await;
    let anonymous = fetch(&app, None).await;
    let (admin, _) = app.user_with_role(Role::Admin).await;
    let session = app.session_for(admin).await;
    assert_eq!(fetch(&app, Some(session.header())).await, anonymous);
}

#[tokio::test]
async fn the_legacy_location_redirects() {
    let app = app().await;
    let res = app.fetch("/security.txt").await;
    assert_eq!(res.status(), 301);
    assert_eq!(crate::support::location(&res), PATH);
}

#[tokio::test]
async fn without_configuration_the_local_default_is_served() {
    let app = TestApp::spawn().await;
    let body = fetch(&app, None).await;
    let fields = parse(&body);
    assert!(body.starts_with("# Local testing"), "{body}");
    assert_eq!(fields["contact"], ["http://127.0.0.1:8080/report"]);
    assert_eq!(
        once(&fields, "canonical"),
        "http://127.0.0.1:8080/.well-known/security.txt"
    );
}
