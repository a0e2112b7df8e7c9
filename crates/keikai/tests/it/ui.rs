//! The HTML interface: languages, signing in and its throttle, cookies and sessions, the
//! product form, response headers, static assets and the operational endpoints.

use jiff::SignedDuration;
use keikai_domain::{BranchCategory, Locale, Role};
use keikai_store::Effects;
use reqwest::Response;

use crate::support::{
    ADMIN_EMAIL, NowTs, PASSWORD, SessionCookie, TestApp, assert_content_type, cookie_set_by,
    location, set_cookies,
};

const FAILED: &str = "The e-mail address or password is wrong.";
const THROTTLED: &str = "Too many failed attempts.";

/// A GET with a session (if any) and an `Accept-Language` header (if any).
async fn get(
    app: &TestApp,
    path: &str,
    session: Option<&SessionCookie>,
    lang: Option<&str>,
) -> Response {
    let mut req = TestApp::plain_client().get(app.url(path));
    if let Some(s) = session {
        req = req.header("cookie", s.header());
    }
    if let Some(l) = lang {
        req = req.header("accept-language", l);
    }
    req.send().await.unwrap()
}

/// A form POST with a session and its CSRF token.
async fn post(
    app: &TestApp,
    path: &str,
    session: &SessionCookie,
    fields: &[(&str, &str)],
) -> Response {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf", &session.csrf));
    TestApp::plain_client()
        .post(app.url(path))
        .header("cookie", session.header())
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Submits the sign-in form as a browser that has just opened the sign-in page.
async fn sign_in(app: &TestApp, email: &str, password: &str, next: &str) -> Response {
    let csrf = app.pre_session_csrf().await;
    post_login(app, Some(&csrf), email, password, next).await
}

/// Posts the sign-in form, with the CSRF token of the sign-in page (cookie and field) or
/// without.
async fn post_login(
    app: &TestApp,
    csrf: Option<&str>,
    email: &str,
    password: &str,
    next: &str,
) -> Response {
    let mut form = vec![("email", email), ("password", password), ("next", next)];
    let mut req = TestApp::plain_client().post(app.url("/login"));
    if let Some(csrf) = csrf {
        req = req.header("cookie", format!("keikai_csrf={csrf}"));
        form.insert(0, ("csrf", csrf));
    }
    req.form(&form).send().await.unwrap()
}

/// A response header's value, or an empty string.
fn header(res: &Response, name: &str) -> String {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn text(res: Response) -> String {
    res.text().await.unwrap()
}

// ---------------------------------------------------------------- languages

#[tokio::test]
async fn the_profile_language_overrides_the_browsers() {
    let (app, user, _) = TestApp::with_user(Role::Reporter).await;
    let s = app.session_for(user).await;
    let dashboard = |lang: Option<&'static str>| {
        let s = s.clone();
        let app = &app;
        async move { text(get(app, "/", Some(&s), lang).await).await }
    };
    let ja = dashboard(Some("ja")).await;
    assert!(
        ja.contains("<h1>ダッシュボード</h1>") && ja.contains(r#"<html lang="ja">"#),
        "{ja}"
    );
    assert!(
        dashboard(Some("fr-FR, ja;q=0.8, en;q=0.5"))
            .await
            .contains("ダッシュボード")
    );
    assert!(
        dashboard(Some("en-GB,en;q=0.9,ja;q=0.8"))
            .await
            .contains("<h1>Dashboard</h1>")
    );
    assert!(dashboard(None).await.contains("<h1>Dashboard</h1>"));

    let res = post(&app, "/profile", &s, &[("locale", "en")]).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/profile".to_owned())
    );
    assert_eq!(
        app.store.get_user(user).await.unwrap().locale,
        Some(Locale::En)
    );
    assert!(
        dashboard(Some("ja")).await.contains("<h1>Dashboard</h1>"),
        "the setting beats the header"
    );
    post(&app, "/profile", &s, &[("locale", "ja")]).await;
    assert!(
        dashboard(Some("en"))
            .await
            .contains("<h1>ダッシュボード</h1>")
    );
    post(&app, "/profile", &s, &[("locale", "")]).await;
    assert_eq!(app.store.get_user(user).await.unwrap().locale, None);
    assert!(
        dashboard(Some("en")).await.contains("<h1>Dashboard</h1>"),
        "back to following the browser"
    );

    let res = post(&app, "/profile", &s, &[("locale", "fr")]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.store.get_user(user).await.unwrap().locale, None);

    // The header's switch saves to the profile too when signed in.
    let res = post(&app, "/language", &s, &[("locale", "ja")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.store.get_user(user).await.unwrap().locale,
        Some(Locale::Ja)
    );
}

#[tokio::test]
async fn an_anonymous_visitors_language_is_kept_in_a_cookie() {
    let app = TestApp::spawn().await;
    let csrf = app.pre_session_csrf().await;
    let cookie = format!("keikai_csrf={csrf}");
    // The language switch as an anonymous visitor on the page at `referer`.
    let switch = |referer: String, locale: &'static str| {
        TestApp::plain_client()
            .post(app.url("/language"))
            .header("cookie", &cookie)
            .header("referer", referer)
            .form(&[("csrf", csrf.as_str()), ("locale", locale)])
            .send()
    };
    let res = switch(app.url("/login?next=%2Fproducts"), "ja")
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        location(&res),
        "/login?next=%2Fproducts",
        "back where the visitor was"
    );
    assert_eq!(
        cookie_set_by(&res, "keikai_lang").as_deref(),
        Some("ja"),
        "{:?}",
        set_cookies(&res)
    );
    let page = TestApp::plain_client()
        .get(app.url("/login"))
        .header("cookie", format!("{cookie}; keikai_lang=ja"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let page = text(page).await;
    assert!(
        page.contains("<h1>ログイン</h1>"),
        "the cookie beats the header: {page}"
    );

    // The way back is a path on this site, whatever the Referer says.
    for referer in [
        "https://evil.example/",
        "https://evil.example//evil.example/x",
        "nonsense",
    ] {
        let res = switch(referer.to_owned(), "en").await.unwrap();
        assert_eq!(
            (res.status().as_u16(), location(&res)),
            (303, "/".to_owned()),
            "{referer}"
        );
    }
}

// ---------------------------------------------------------------- signing in

#[tokio::test]
async fn a_failed_sign_in_says_so_and_answers_401() {
    let (app, _, email) = TestApp::with_user(Role::Reporter).await;
    let res = sign_in(&app, &email, "not the right password", "/").await;
    assert_eq!(res.status(), 401);
    assert!(cookie_set_by(&res, "keikai_session").is_none());
    let page = text(res).await;
    assert!(page.contains(FAILED), "{page}");
    assert!(
        page.contains(&format!(r#"value="{email}""#)),
        "the address is kept: {page}"
    );
    // An address without an account gets the same answer.
    let res = sign_in(&app, "nobody@example.com", "not the right password", "/").await;
    assert_eq!(res.status(), 401);
    assert!(text(res).await.contains(FAILED));
    // The sign-in form refuses a post without its CSRF token.
    let res = post_login(&app, None, &email, PASSWORD, "/").await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn sign_in_is_throttled_per_account() {
    let (app, _, email) = TestApp::with_user(Role::Reporter).await;
    let (_, other) = app.user_with_role(Role::Reporter).await;
    for attempt in 1..=5 {
        let res = sign_in(&app, &email, "not the right password", "/").await;
        assert_eq!(res.status(), 401, "attempt {attempt}");
    }
    let res = sign_in(&app, &email, PASSWORD, "/").await;
    assert_eq!(
        res.status(),
        429,
        "the sixth attempt, with the right password"
    );
    assert!(cookie_set_by(&res, "keikai_session").is_none());
    assert!(text(res).await.contains(THROTTLED));
    // Another account from the same address is not held back.
    assert_eq!(sign_in(&app, &other, PASSWORD, "/").await.status(), 303);

    app.clock.advance(SignedDuration::from_mins(14));
    assert_eq!(
        sign_in(&app, &email, PASSWORD, "/").await.status(),
        429,
        "still inside the window"
    );
    app.clock.advance(SignedDuration::from_mins(2));
    let res = sign_in(&app, &email, PASSWORD, "/").await;
    assert_eq!(res.status(), 303, "16 minutes after the failures");
    assert!(cookie_set_by(&res, "keikai_session").is_some());
}

#[tokio::test]
async fn next_never_leads_off_the_site() {
    let (app, _, email) = TestApp::with_user(Role::Reporter).await;
    let hostile = [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "",
    ];
    for next in hostile {
        let path = format!(
            "/login?next={}",
            next.replace('/', "%2F")
                .replace('\t', "%09")
                .replace('\\', "%5C")
        );
        let page = text(get(&app, &path, None, None).await).await;
        assert!(
            page.contains(r#"name="next" value="/""#),
            "{next:?}: {page}"
        );
    }
    for next in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
    ] {
        let res = sign_in(&app, &email, PASSWORD, next).await;
        assert_eq!(
            (res.status().as_u16(), location(&res)),
            (303, "/".to_owned()),
            "{next:?}"
        );
    }
    let res = sign_in(&app, &email, PASSWORD, "/products?view=tree").await;
    assert_eq!(location(&res), "/products?view=tree");
}

// ---------------------------------------------------------------- cookies and sessions

/// The attributes of a `Set-Cookie` header, lower-cased, without the name and value.
fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_lowercase())
        .collect()
}

fn cookie_line(res: &Response, name: &str) -> String {
    set_cookies(res)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", set_cookies(res)))
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site() {
    let (app, _, email) = TestApp::with_user(Role::Reporter).await;
    let res = sign_in(&app, &email, PASSWORD, "/").await;
    assert_eq!(res.status(), 303);
    let a = attributes(&cookie_line(&res, "keikai_session"));
    for want in ["httponly", "samesite=lax", "path=/", "max-age=43200"] {
        assert!(a.contains(&want.to_owned()), "{want} missing: {a:?}");
    }
    assert!(
        !a.contains(&"secure".to_owned()),
        "Secure over plain HTTP: {a:?}"
    );
}

#[tokio::test]
async fn with_secure_cookies_every_cookie_is_secure() {
    let web = keikai_web::WebConfig {
        secure_cookies: true,
    };
    let app = TestApp::spawn_on(keikai_app::AppConfig::default(), web).await;
    let (user, email) = app.user_with_role(Role::Reporter).await;
    let mut lines = Vec::new();
    let page = get(&app, "/login", None, None).await;
    lines.push(cookie_line(&page, "keikai_csrf"));
    let res = sign_in(&app, &email, PASSWORD, "/").await;
    assert_eq!(res.status(), 303);
    lines.extend(set_cookies(&res));
    let s = app.session_for(user).await;
    lines.extend(set_cookies(
        &post(&app, "/language", &s, &[("locale", "ja")]).await,
    ));
    lines.extend(set_cookies(&post(&app, "/logout", &s, &[]).await));
    let names: Vec<&str> = lines.iter().map(|l| l.split('=').next().unwrap()).collect();
    for name in ["keikai_csrf", "keikai_session", "keikai_lang"] {
        assert!(names.contains(&name), "{name} never set: {lines:?}");
    }
    let insecure: Vec<&String> = lines
        .iter()
        .filter(|l| !attributes(l).contains(&"secure".to_owned()))
        .collect();
    assert!(insecure.is_empty(), "cookies without Secure: {insecure:?}");
}

#[tokio::test]
async fn sessions_end_after_twelve_idle_hours() {
    let (app, user, _) = TestApp::with_user(Role::Reporter).await;
    let idle = app.session_for(user).await;
    let busy = app.session_for(user).await;
    assert_eq!(get(&app, "/", Some(&idle), None).await.status(), 200);
    // Use within the second half of the lifetime extends it.
    app.clock.advance(SignedDuration::from_hours(7));
    assert_eq!(get(&app, "/", Some(&busy), None).await.status(), 200);
    app.clock
        .advance(SignedDuration::from_hours(5) + SignedDuration::from_mins(1));
    let res = get(&app, "/", Some(&idle), None).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/login?next=%2F".to_owned()),
        "idle 12 h 1 min"
    );
    assert_eq!(
        get(&app, "/", Some(&busy), None).await.status(),
        200,
        "last used 5 h ago"
    );
    app.clock
        .advance(SignedDuration::from_hours(12) + SignedDuration::from_mins(1));
    assert_eq!(get(&app, "/", Some(&busy), None).await.status(), 303);
    let api = get(&app, "/api/v1/me", Some(&busy), None).await;
    assert_eq!(api.status(), 401);
}

#[tokio::test]
async fn a_disabled_users_session_and_tokens_stop_working() {
    let (app, user, email) = TestApp::with_user(Role::PsirtAnalyst).await;
    let s = app.session_for(user).await;
    let token = app.read_token(user).await;
    let with_token = app.api(&token);
    assert_eq!(get(&app, "/products", Some(&s), None).await.status(), 200);
    assert_eq!(with_token.get("/api/v1/me").await.0, 200);

    app.store
        .set_disabled(
            user,
            Some(app.clock.now_ts()),
            &Effects::system(app.clock.now_ts()),
        )
        .await
        .unwrap();
    let res = get(&app, "/products", Some(&s), None).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/login?next=%2Fproducts".to_owned())
    );
    let with_session = get(&app, "/api/v1/me", Some(&s), None).await;
    assert_eq!(with_session.status(), 401);
    assert_eq!(with_token.get("/api/v1/me").await.0, 401);
    let res = sign_in(&app, &email, PASSWORD, "/").await;
    assert_eq!(res.status(), 401, "a disabled account cannot sign in");
    assert!(text(res).await.contains(FAILED));
}

// ---------------------------------------------------------------- the product form

#[tokio::test]
async fn products_are_added_and_removed_through_the_form() {
    let app = TestApp::spawn().await;
    let admin = app.session_for(app.user_id(ADMIN_EMAIL).await).await;
    let add = |parent: String, category: &'static str, name: &'static str| {
        let admin = admin.clone();
        let app = &app;
        async move {
            post(
                app,
                "/products",
                &admin,
                &[
                    ("parent_id", &parent),
                    ("category", category),
                    ("name", name),
                ],
            )
            .await
        }
    };
    let res = add(String::new(), "vendor", "Example Corp").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/products".to_owned())
    );
    let vendor = app.store.list_branches().await.unwrap()[0].clone();
    assert_eq!(
        (vendor.category, vendor.name.as_str()),
        (BranchCategory::Vendor, "Example Corp")
    );
    assert_eq!(
        add(vendor.id.to_string(), "product_name", "Router X")
            .await
            .status(),
        303
    );
    let router = app.branch_named("Router X").await;
    assert_eq!(router.parent_id, Some(vendor.id));

    let page = text(get(&app, "/products", Some(&admin), None).await).await;
    assert!(
        page.contains("Example Corp") && page.contains("Router X"),
        "{page}"
    );
    assert!(
        page.contains(&format!("KEIKAI-{}", router.id)),
        "the leaf shows its product id: {page}"
    );
    assert!(
        !page.contains(&format!("KEIKAI-{}", vendor.id)),
        "an inner node is no product: {page}"
    );

    // Refusals re-render the page with the reason.
    let res = add(String::new(), "product_version", "1.0").await;
    assert_eq!(res.status(), 422);
    let page = text(res).await;
    assert!(
        page.contains("product_version") && page.contains("id=\"add-branch\""),
        "{page}"
    );
    let res = add(vendor.id.to_string(), "product_name", "Router X").await;
    assert_eq!(res.status(), 409);
    assert!(text(res).await.contains("Router X"));
    let res = add("not-an-id".to_owned(), "product_name", "Y").await;
    assert_eq!(res.status(), 422);
    let delete = |id: keikai_domain::BranchId| {
        let (admin, app, path) = (admin.clone(), &app, format!("/products/{id}/delete"));
        async move { post(app, &path, &admin, &[]).await }
    };
    let res = delete(vendor.id).await;
    assert_eq!(res.status(), 409, "a vendor with products stays");
    assert!(text(res).await.contains("Example Corp"));
    assert_eq!(app.store.list_branches().await.unwrap().len(), 2);

    let res = delete(router.id).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/products".to_owned())
    );
    assert_eq!(app.store.list_branches().await.unwrap(), vec![vendor]);

    // Someone who may look but not change sees no form.
    let (engineer, _) = app.user_with_role(Role::ProductEngineer).await;
    let page = text(
        get(
            &app,
            "/products",
            Some(&app.session_for(engineer).await),
            None,
        )
        .await,
    )
    .await;
    assert!(
        page.contains("Example Corp") && !page.contains("add-branch"),
        "{page}"
    );
}

// ---------------------------------------------------------------- headers, assets, operations

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let mut problems = Vec::new();
    for path in [
        "/login",
        "/",
        "/api/v1/me",
        "/api/v1/openapi.json",
        "/static/keikai.css",
        "/no-such-page",
        "/healthz",
    ] {
        let res = get(&app, path, None, None).await;
        let value = |name: &str| header(&res, name);
        let csp = value("content-security-policy");
        if !(csp.contains("default-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && csp.contains("script-src 'self'"))
        {
            problems.push(format!("{path}: content-security-policy {csp:?}"));
        }
        if value("x-frame-options") != "DENY" {
            problems.push(format!(
                "{path}: x-frame-options {:?}",
                value("x-frame-options")
            ));
        }
        if value("x-content-type-options") != "nosniff" {
            problems.push(format!(
                "{path}: x-content-type-options {:?}",
                value("x-content-type-options")
            ));
        }
        if value("referrer-policy").is_empty() {
            problems.push(format!("{path}: no referrer-policy"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn static_assets_are_served_with_etags_and_cache_headers() {
    let app = TestApp::spawn().await;
    // Every asset the layout links to exists.
    let page = text(get(&app, "/login", None, None).await).await;
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/static/"))
        .collect();
    assert!(assets.len() >= 3, "{assets:?}");
    let mut problems = Vec::new();
    for asset in &assets {
        let res = get(&app, asset, None, None).await;
        let value = |name: &str| header(&res, name);
        let etag = value("etag");
        let cache = value("cache-control");
        let want_cache = if asset.starts_with("/static/vendor/") {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=300"
        };
        let etag_ok = etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"');
        if res.status() != 200
            || !etag_ok
            || cache != want_cache
            || value("content-type").is_empty()
        {
            problems.push(format!(
                "{asset}: {} etag {etag:?} cache-control {cache:?}",
                res.status()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let css = get(&app, "/static/keikai.css", None, None).await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let etag = css.headers()["etag"].clone();
    assert_eq!(
        get(&app, "/static/keikai.css", None, None).await.headers()["etag"],
        etag,
        "stable"
    );
    // Revalidation: the same tag answers 304 with no body; another tag gets the file.
    let revalidate =
        |tag: &'static str| app.fetch_with("/static/keikai.css", ("if-none-match", tag));
    let tag = etag.to_str().unwrap().to_owned();
    let res = app
        .fetch_with("/static/keikai.css", ("if-none-match", &tag))
        .await;
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"], etag);
    assert!(res.bytes().await.unwrap().is_empty());
    let res = revalidate("\"stale\"").await;
    assert_eq!(res.status(), 200);
    let js = get(&app, "/static/keikai.js", None, None).await;
    assert_ne!(js.headers()["etag"], etag, "one tag per content");
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(
        get(&app, "/static/no-such-file.css", None, None)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn health_and_readiness_are_public() {
    let app = TestApp::spawn().await;
    let res = get(&app, "/healthz", None, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(text(res).await, "ok");
    let res = get(&app, "/readyz", None, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(text(res).await, "ready");
}

#[tokio::test]
async fn metrics_are_for_administrators_only() {
    keikai_web::http::ops::init_metrics();
    let app = TestApp::spawn().await;
    let admin = app.session_for(app.user_id(ADMIN_EMAIL).await).await;
    assert_eq!(get(&app, "/", Some(&admin), None).await.status(), 200);
    let res = get(&app, "/metrics", Some(&admin), None).await;
    assert_eq!(res.status(), 200);
    assert_content_type(&res, "text/plain");
    let body = text(res).await;
    assert!(body.contains("keikai_http_requests_total"), "{body}");
    assert!(body.contains(r#"route="/""#), "{body}");

    let read = app.read_token(app.user_id(ADMIN_EMAIL).await).await;
    let (status, _) = app.api(&read).text("GET", "/metrics", None).await;
    assert_eq!(status, 200, "a scraper uses an admin's read-only token");

    assert_eq!(
        get(&app, "/metrics", None, None).await.status(),
        404,
        "anonymous"
    );
    for role in [Role::PsirtAnalyst, Role::ProductEngineer, Role::Reporter] {
        let (user, _) = app.user_with_role(role).await;
        let res = get(&app, "/metrics", Some(&app.session_for(user).await), None).await;
        assert_eq!(res.status(), 404, "{role}");
    }
}
