//! The CVSS calculator: the page, the fragment htmx swaps in (`GET /cvss/score`) and the JSON
//! API (`GET /api/v1/cvss`). Expected scores are FIRST's (its calculators and specification
//! examples), not computed here.

use keikai_domain::Role;
use reqwest::Response;
use serde_json::Value;

use crate::support::{SessionCookie, TestApp, assert_content_type, is_json, location};

const V31_CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const V40_CRITICAL: &str = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

/// `path` with the query string of `query` (percent-encoded).
fn url(app: &TestApp, path: &str, query: &[(&str, &str)]) -> reqwest::Url {
    let mut url = reqwest::Url::parse(&app.url(path)).unwrap();
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    url
}

/// `GET path?query` in English, signed in or not.
async fn get(
    app: &TestApp,
    path: &str,
    query: &[(&str, &str)],
    session: Option<&SessionCookie>,
) -> Response {
    get_in(app, path, query, session, "en").await
}

/// [`get`] in another language.
async fn get_in(
    app: &TestApp,
    path: &str,
    query: &[(&str, &str)],
    session: Option<&SessionCookie>,
    lang: &str,
) -> Response {
    let mut req = TestApp::plain_client()
        .get(url(app, path, query))
        .header("accept-language", lang);
    if let Some(s) = session {
        req = req.header("cookie", s.header());
    }
    req.send().await.unwrap()
}

/// The calculator's fragment (`GET /cvss/score`) for `query`, as a signed-in user sees it.
async fn fragment(app: &TestApp, s: &SessionCookie, query: &[(&str, &str)], lang: &str) -> String {
    scored(app, s, query, lang).await.1
}

/// [`fragment`] with the status it came with.
async fn scored(
    app: &TestApp,
    s: &SessionCookie,
    query: &[(&str, &str)],
    lang: &str,
) -> (u16, String) {
    let res = get_in(app, "/cvss/score", query, Some(s), lang).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

/// An app with a signed-in user of `role`.
async fn signed_in(role: Role) -> (TestApp, SessionCookie) {
    let app = TestApp::spawn().await;
    let session = session(&app, role).await;
    (app, session)
}

async fn session(app: &TestApp, role: Role) -> SessionCookie {
    let (user, _) = app.user_with_role(role).await;
    app.session_for(user).await
}

/// The text of the first element after `marker` (`<span class="cvss-score">9.8</span>`).
fn text_after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &html[html.find(marker)? + marker.len()..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(rest[..rest.find('<')?].trim())
}

/// Score and severity of the result row of `kind` (`base`, `temporal`, `score`…).
fn row(html: &str, kind: &str) -> Option<(String, String)> {
    let start = html.find(&format!("data-kind=\"{kind}\""))?;
    let row = &html[start..];
    Some((
        text_after(row, "class=\"cvss-score\"")?.to_owned(),
        text_after(row, "class=\"cvss-severity")?.to_owned(),
    ))
}

/// The `value` of the input with this `id`.
fn input_value(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let tag = &html[start..start + html[start..].find('>')?];
    let v = &tag[tag.find("value=\"")? + 7..];
    Some(v[..v.find('"')?].to_owned())
}

/// Whether the radio with this id is checked.
fn checked(html: &str, id: &str) -> bool {
    html.find(&format!("id=\"{id}\"")).is_some_and(|start| {
        let tag = &html[start..start + html[start..].find('>').unwrap_or(0)];
        tag.contains(" checked")
    })
}

#[tokio::test]
async fn the_fragment_shows_firsts_scores_for_known_vectors() {
    let (app, analyst) = signed_in(Role::PsirtAnalyst).await;

    // Metrics out of order and a trailing newline, as pasted: scored, and written canonically.
    let pasted = [
        ("version", "3.1"),
        ("vector", "CVSS:3.1/AC:L/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H\n"),
    ];
    let res = get(&app, "/cvss/score", &pasted, Some(&analyst)).await;
    assert_eq!(res.status(), 200);
    assert_content_type(&res, "text/html");
    let html = res.text().await.unwrap();
    assert!(
        !html.contains("<html"),
        "a fragment, not a page: {html:.200}"
    );
    assert_eq!(row(&html, "base"), Some(("9.8".into(), "Critical".into())));
    assert_eq!(row(&html, "temporal"), None, "no temporal metric given");
    assert_eq!(
        input_value(&html, "cvss-vector-vector").as_deref(),
        Some(V31_CRITICAL)
    );
    for id in [
        "AV-N", "AC-L", "PR-N", "UI-N", "S-U", "C-H", "I-H", "A-H", "E-X",
    ] {
        assert!(
            checked(&html, &format!("cvss-vector-{id}")),
            "{id} not checked"
        );
    }
    assert!(!checked(&html, "cvss-vector-AV-L"));

    // CVSS 4.0 (FIRST's calculator: 9.3), and the labels in Japanese.
    let v4 = [("version", "4.0"), ("vector", V40_CRITICAL)];
    let html = fragment(&app, &analyst, &v4, "ja").await;
    assert_eq!(row(&html, "score"), Some(("9.3".into(), "緊急".into())));
    assert!(html.contains("CVSS-B"), "nomenclature missing");
    assert!(
        html.contains("攻撃の前提条件"),
        "Japanese metric names missing"
    );

    // Temporal metrics get their own row (CVSS 3.0 specification example: 9.8 → 9.1).
    let temporal = "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F/RL:O/RC:C";
    let html = fragment(&app, &analyst, &[("vector", temporal)], "en").await;
    assert_eq!(
        row(&html, "temporal"),
        Some(("9.1".into(), "Critical".into()))
    );
    assert!(
        html.contains("data-version=\"3.0\""),
        "the vector's version is kept"
    );
}

#[tokio::test]
async fn picked_metrics_build_the_vector() {
    let (app, engineer) = signed_in(Role::ProductEngineer).await;
    // As the component embedded in a form with a field named cvss_v3 sends it after a click.
    let mut query = vec![
        ("version", "3.1"),
        ("name", "cvss_v3"),
        ("from", "metrics"),
        ("cvss_v3", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L"),
    ];
    let picks = [
        ("cvss_v3-AV", "N"),
        ("cvss_v3-AC", "L"),
        ("cvss_v3-PR", "N"),
        ("cvss_v3-UI", "R"),
        ("cvss_v3-S", "C"),
        ("cvss_v3-C", "L"),
        ("cvss_v3-I", "L"),
        ("cvss_v3-A", "N"),
        ("cvss_v3-E", "X"),
    ];
    query.extend(picks);
    let html = fragment(&app, &engineer, &query, "en").await;
    // CVE-2013-1937 in FIRST's CVSS 3.1 examples: 6.1 Medium.
    assert_eq!(
        input_value(&html, "cvss-cvss_v3-vector").as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N")
    );
    assert!(
        html.contains("name=\"cvss_v3\""),
        "the field keeps its name"
    );
    assert!(
        html.contains("name=\"cvss_v3-AV\""),
        "radios are named after it"
    );
    assert_eq!(row(&html, "base"), Some(("6.1".into(), "Medium".into())));
    assert!(checked(&html, "cvss-cvss_v3-S-C"));

    // A metric not yet picked is named.
    let html = fragment(
        &app,
        &engineer,
        &[
            ("name", "cvss_v3"),
            ("from", "metrics"),
            ("cvss_v3-AV", "N"),
            ("cvss_v3-AC", "L"),
        ],
        "en",
    )
    .await;
    assert!(
        html.contains("mandatory metric PR is missing"),
        "{html:.2000}"
    );
    assert!(checked(&html, "cvss-cvss_v3-AV-N"), "the picks stay");
}

#[tokio::test]
async fn a_bad_vector_names_the_metric_and_markup_is_escaped() {
    let (app, analyst) = signed_in(Role::PsirtAnalyst).await;
    let bad = [("vector", "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")];
    let (status, html) = scored(&app, &analyst, &bad, "en").await;
    // 200, so that htmx swaps the message in like any other answer.
    assert_eq!(status, 200);
    let alert = text_after(&html, "role=\"alert\"").unwrap();
    assert!(
        alert.contains("metric AV has invalid value") && alert.contains("expected N, A, L, P"),
        "{alert}"
    );
    assert!(
        row(&html, "base").is_none(),
        "no score for an invalid vector"
    );
    // The radios follow the readable part of the text.
    assert!(checked(&html, "cvss-vector-AC-L") && !checked(&html, "cvss-vector-AV-N"));
    // The text stays as typed, so that it can be corrected.
    assert_eq!(
        input_value(&html, "cvss-vector-vector").as_deref(),
        Some("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    );

    let evil = "CVSS:3.1/AV:N\"><script>alert(1)</script><b x=\"";
    let html = fragment(&app, &analyst, &[("vector", evil)], "en").await;
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(!html.contains("<b x="), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(1)") || html.contains("&lt;script&gt;alert(1)"),
        "the text is shown, escaped: {html}"
    );
    // A CVSS 4.0 vector in the 3.x calculator is refused with the version named.
    let v4_in_v3 = [("version", "3.1"), ("vector", V40_CRITICAL)];
    let html = fragment(&app, &analyst, &v4_in_v3, "en").await;
    assert!(html.contains("found a CVSS 4.0 vector"), "{html:.3000}");

    // A field name that could break out of attributes or selectors is refused outright.
    let breakout = [("name", "x\"><script>"), ("version", "3.1")];
    let (status, html) = scored(&app, &analyst, &breakout, "en").await;
    assert_eq!(status, 422);
    assert!(!html.contains("<script>"));
}

#[tokio::test]
async fn the_page_holds_both_calculators_without_inline_code() {
    let (app, analyst) = signed_in(Role::PsirtAnalyst).await;
    let both = [("v3", V31_CRITICAL), ("v4", V40_CRITICAL)];
    let res = get(&app, "/cvss", &both, Some(&analyst)).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"cvss-v3\"") && html.contains("id=\"cvss-v4\""));
    assert!(html.contains("hx-get=\"/cvss/score\""));
    let v3 = &html[html.find("id=\"cvss-v3\"").unwrap()..html.find("id=\"cvss-v4\"").unwrap()];
    let v4 = &html[html.find("id=\"cvss-v4\"").unwrap()..];
    assert_eq!(row(v3, "base"), Some(("9.8".into(), "Critical".into())));
    assert_eq!(row(v4, "score"), Some(("9.3".into(), "Critical".into())));
    // The Content-Security-Policy allows no inline script and no style attributes.
    assert!(!html.contains(" style="), "style attribute in the page");
    for script in html.split("<script").skip(1) {
        let tag = &script[..script.find('>').unwrap()];
        assert!(tag.contains(" src="), "inline script: <script{tag}>");
    }
    // Internal roles find the calculator in the navigation.
    assert!(html.contains("<a href=\"/cvss\">"));
}

#[tokio::test]
async fn the_api_scores_like_the_cli() {
    let (app, analyst, _) = TestApp::with_user(Role::PsirtAnalyst).await;
    let token = app.read_token(analyst).await;
    let api = |vector: Option<&'static str>| {
        let query: &[(&str, &str)] = match vector {
            Some(v) => &[("vector", v)],
            None => &[],
        };
        TestApp::plain_client()
            .get(url(&app, "/api/v1/cvss", query))
            .bearer_auth(&token)
            .send()
    };
    let res = api(Some("CVSS:3.1/AC:L/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(is_json(&res));
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["vector"], V31_CRITICAL);
    assert_eq!(v["version"], "3.1");
    assert_eq!(v["base"], 9.8);
    assert_eq!(v["severity"], "CRITICAL");
    assert_eq!(v["nomenclature"], Value::Null);

    let v: Value = api(Some(V40_CRITICAL)).await.unwrap().json().await.unwrap();
    assert_eq!(
        (&v["version"], &v["base"], &v["nomenclature"]),
        (&"4.0".into(), &9.3.into(), &"CVSS-B".into())
    );

    // The API takes every version the engine does, CVSS 2.0 included (v2 guide: 10.0).
    let v: Value = api(Some("AV:N/AC:L/Au:N/C:C/I:C/A:C"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((&v["version"], &v["base"]), (&"2.0".into(), &10.0.into()));

    for (vector, names) in [
        (
            Some("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            "metric AV",
        ),
        (Some("CVSS:4.0/AV:N/AC:L"), "AT"),
        (None, "vector"),
    ] {
        let res = api(vector).await.unwrap();
        assert_eq!(res.status(), 422, "{vector:?}");
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["error"]["field"], "vector");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(msg.contains(names), "{vector:?}: {msg}");
    }
}

#[tokio::test]
async fn only_internal_roles_may_use_the_calculator() {
    let app = TestApp::spawn().await;
    // Anonymous: sign in first (htmx is told to load the sign-in page whole); the API says 401.
    let res = app
        .fetch_with("/cvss/score?vector=x", ("hx-request", "true"))
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        location(&res).starts_with("/login?next="),
        "{}",
        location(&res)
    );
    assert!(res.headers().contains_key("hx-redirect"));
    let res = get(&app, "/api/v1/cvss", &[("vector", V31_CRITICAL)], None).await;
    assert_eq!(res.status(), 401);

    // A reporter is told the calculator does not exist, and is not shown the link.
    let reporter = session(&app, Role::Reporter).await;
    for path in ["/cvss", "/cvss/score", "/api/v1/cvss"] {
        let res = get(&app, path, &[("vector", V31_CRITICAL)], Some(&reporter)).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    let dashboard = get(&app, "/", &[], Some(&reporter))
        .await
        .text()
        .await
        .unwrap();
    assert!(!dashboard.contains("href=\"/cvss\""));
}
