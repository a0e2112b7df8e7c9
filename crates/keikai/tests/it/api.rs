//! The REST API: organisations, users and memberships, the product catalogue, API tokens, and
//! the one error format every refusal uses.

use keikai_domain::{OrgKind, Role};
use serde_json::{Value, json};

use crate::support::{ADMIN_EMAIL, NowTs, PASSWORD, SessionCookie, TestApp};

/// How a request authenticates.
#[derive(Clone, Copy)]
enum As<'a> {
    /// A browser session; the CSRF header goes along on every request.
    Session(&'a SessionCookie),
    Token(&'a str),
    Nobody,
}

/// Sends a JSON request and returns the status with the body parsed (`null` when empty).
async fn call(
    app: &TestApp,
    who: As<'_>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = TestApp::plain_client().request(method.parse().unwrap(), app.url(path));
    match who {
        As::Session(s) => {
            req = req
                .header("cookie", s.header())
                .header(keikai_web::http::auth::CSRF_HEADER, &s.csrf)
        }
        As::Token(t) => req = req.bearer_auth(t),
        As::Nobody => {}
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// Sends a body as it is, with the given content type (or none).
async fn raw(
    app: &TestApp,
    s: &SessionCookie,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut req = TestApp::plain_client()
        .post(app.url(path))
        .header("cookie", s.header())
        .header(keikai_web::http::auth::CSRF_HEADER, &s.csrf)
        .body(body.to_owned());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// An app with an administrator's session.
async fn admin_app() -> (TestApp, SessionCookie) {
    let app = TestApp::spawn().await;
    let admin = app.session_for(app.user_id(ADMIN_EMAIL).await).await;
    (app, admin)
}

/// Asserts an error answer: status, code and the field it names.
#[track_caller]
fn assert_error(got: &(u16, Value), status: u16, code: &str, field: Option<&str>) {
    let (s, body) = got;
    assert_eq!(*s, status, "{body}");
    let e = &body["error"];
    assert_eq!(e["code"], code, "{body}");
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(
        e.get("field"),
        Some(&field.map_or(Value::Null, Value::from)),
        "{body}"
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "only `error` at the top: {body}"
    );
    assert_eq!(
        e.as_object().unwrap().len(),
        3,
        "error has code, message, field: {body}"
    );
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------- organisations

#[tokio::test]
async fn organisations_are_created_read_and_listed() {
    let (app, admin) = admin_app().await;
    let me = As::Session(&admin);
    let (status, org) = call(
        &app,
        me,
        "POST",
        "/api/v1/organisations",
        Some(json!({ "name": "  Example Partner ", "kind": "partner" })),
    )
    .await;
    assert_eq!(status, 201, "{org}");
    insta::assert_json_snapshot!("created_organisation", org, { ".id" => "[id]", ".created_at" => "[ts]" });
    let id = id_of(&org);
    assert_eq!(
        call(
            &app,
            me,
            "GET",
            &format!("/api/v1/organisations/{id}"),
            None
        )
        .await,
        (200, org.clone())
    );

    let (status, list) = call(&app, me, "GET", "/api/v1/organisations", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Example Partner", "Keikai PSIRT"],
        "ordered by name"
    );
    assert!(list.as_array().unwrap().contains(&org));

    let unknown = format!("/api/v1/organisations/{}", uuid::Uuid::now_v7());
    assert_error(
        &call(&app, me, "GET", &unknown, None).await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(&app, me, "GET", "/api/v1/organisations/42", None).await,
        404,
        "not_found",
        None,
    );

    let long = "x".repeat(201);
    for (body, field) in [
        (json!({ "name": "", "kind": "partner" }), "name"),
        (json!({ "name": "   ", "kind": "partner" }), "name"),
        (json!({ "name": long, "kind": "partner" }), "name"),
        (json!({ "name": "a\u{7}b", "kind": "partner" }), "name"),
        (json!({ "name": 5, "kind": "partner" }), "name"),
        (json!({ "kind": "partner" }), "name"),
        (json!({ "name": "Vendor Inc" }), "kind"),
        (json!({ "name": "Vendor Inc", "kind": "vendor" }), "kind"),
    ] {
        let got = call(
            &app,
            me,
            "POST",
            "/api/v1/organisations",
            Some(body.clone()),
        )
        .await;
        assert_error(&got, 422, "invalid_field", Some(field));
    }
    assert_eq!(
        app.store.list_orgs().await.unwrap().len(),
        2,
        "a refused organisation was stored"
    );
}

// ---------------------------------------------------------------- users

#[tokio::test]
async fn users_are_created_with_memberships_that_fit_their_organisations() {
    let (app, admin) = admin_app().await;
    let me = As::Session(&admin);
    let partner = app.org(OrgKind::Partner).await.to_string();
    let coordinator = app.org(OrgKind::Coordinator).await.to_string();
    let own = app.own_org.to_string();

    let (status, created) = call(
        &app,
        me,
        "POST",
        "/api/v1/users",
        Some(json!({
            "email": " Aiko@Example.COM ",
            "display_name": "Aiko",
            "password": PASSWORD,
            "locale": "ja",
            "memberships": [{ "org_id": partner, "role": "partner-contact" }],
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let user = &created["user"];
    assert_eq!(
        user["email"], "aiko@example.com",
        "addresses are normalised"
    );
    assert_eq!(user["locale"], "ja");
    assert_eq!(user["disabled_at"], Value::Null);
    assert_eq!(
        created["memberships"],
        json!([{ "org_id": partner, "role": "partner-contact" }])
    );
    let text = created.to_string();
    assert!(
        !text.contains(PASSWORD) && !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
    let id = id_of(user);
    assert_eq!(
        call(&app, me, "GET", &format!("/api/v1/users/{id}"), None).await,
        (200, created.clone())
    );
    let (_, list) = call(&app, me, "GET", "/api/v1/users", None).await;
    let emails: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["admin@keikai.test", "aiko@example.com"],
        "ordered by e-mail address"
    );

    // The person can sign in with the password given.
    let (client, _) = app.login("aiko@example.com").await;
    assert_eq!(
        client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let users_before = app.store.list_users().await.unwrap().len();
    let new_user = |email: &str, memberships: Value| json!({ "email": email, "display_name": "X", "password": PASSWORD, "memberships": memberships });
    let taken = call(
        &app,
        me,
        "POST",
        "/api/v1/users",
        Some(new_user("AIKO@example.com", json!([]))),
    )
    .await;
    assert_error(&taken, 409, "conflict", None);
    // A role the organisation's kind does not allow, and an organisation that does not exist:
    // refused, naming the membership, and no user is left behind without it.
    let misfit = new_user(
        "kenji@example.com",
        json!([{ "org_id": own, "role": "partner-contact" }]),
    );
    assert_error(
        &call(&app, me, "POST", "/api/v1/users", Some(misfit)).await,
        422,
        "invalid_field",
        Some("memberships[0].role"),
    );
    let nowhere = new_user(
        "kenji@example.com",
        json!([{ "org_id": own, "role": "product-engineer" }, { "org_id": uuid::Uuid::now_v7(), "role": "reporter" }]),
    );
    assert_error(
        &call(&app, me, "POST", "/api/v1/users", Some(nowhere)).await,
        422,
        "invalid_field",
        Some("memberships[1].org_id"),
    );
    for (body, field) in [
        (
            new_user(
                "kenji@example.com",
                json!([{ "org_id": own, "role": "root" }]),
            ),
            "memberships[0].role",
        ),
        (
            new_user("kenji@example.com", json!([{ "role": "reporter" }])),
            "memberships[0].org_id",
        ),
        (
            new_user(
                "kenji@example.com",
                json!([{ "org_id": "nope", "role": "reporter" }]),
            ),
            "memberships[0].org_id",
        ),
        (new_user("kenji", json!([])), "email"),
        (
            json!({ "display_name": "X", "password": PASSWORD }),
            "email",
        ),
        (
            json!({ "email": "kenji@example.com", "password": PASSWORD }),
            "display_name",
        ),
        (
            json!({ "email": "kenji@example.com", "display_name": "X", "password": "short" }),
            "password",
        ),
        (
            json!({ "email": "kenji@example.com", "display_name": "X", "password": PASSWORD, "locale": "fr" }),
            "locale",
        ),
    ] {
        let got = call(&app, me, "POST", "/api/v1/users", Some(body)).await;
        assert_error(&got, 422, "invalid_field", Some(field));
    }
    assert_eq!(
        app.store.list_users().await.unwrap().len(),
        users_before,
        "a refused user was stored"
    );

    // Memberships added later follow the same rule.
    let path = format!("/api/v1/users/{id}/memberships");
    let (status, with_two) = call(
        &app,
        me,
        "POST",
        &path,
        Some(json!({ "org_id": coordinator, "role": "reporter" })),
    )
    .await;
    assert_eq!(status, 200, "{with_two}");
    assert_eq!(
        with_two["memberships"].as_array().unwrap().len(),
        2,
        "{with_two}"
    );
    let misfit = call(
        &app,
        me,
        "POST",
        &path,
        Some(json!({ "org_id": own, "role": "customer-contact" })),
    )
    .await;
    assert_error(&misfit, 422, "invalid_field", Some("role"));
    let nowhere = call(
        &app,
        me,
        "POST",
        &path,
        Some(json!({ "org_id": uuid::Uuid::now_v7(), "role": "reporter" })),
    )
    .await;
    assert_error(&nowhere, 422, "invalid_field", Some("org_id"));
    let nobody = format!("/api/v1/users/{}/memberships", uuid::Uuid::now_v7());
    let got = call(
        &app,
        me,
        "POST",
        &nobody,
        Some(json!({ "org_id": own, "role": "reporter" })),
    )
    .await;
    assert_error(&got, 404, "not_found", None);
    assert_eq!(
        call(&app, me, "GET", &format!("/api/v1/users/{id}"), None)
            .await
            .1["memberships"],
        with_two["memberships"]
    );
}

// ---------------------------------------------------------------- product catalogue

async fn branch(
    app: &TestApp,
    me: As<'_>,
    parent: Option<&str>,
    category: &str,
    name: &str,
) -> Value {
    let body = json!({ "parent_id": parent, "category": category, "name": name });
    let (status, b) = call(app, me, "POST", "/api/v1/branches", Some(body)).await;
    assert_eq!(status, 201, "{category} {name}: {b}");
    b
}

#[tokio::test]
async fn branches_follow_the_placement_rules() {
    let (app, admin) = admin_app().await;
    let me = As::Session(&admin);
    let body = json!({ "parent_id": null, "category": "vendor", "name": "Example Corp" });
    let (status, vendor) = call(&app, me, "POST", "/api/v1/branches", Some(body)).await;
    assert_eq!(status, 201, "{vendor}");
    insta::assert_json_snapshot!("created_branch", vendor, { ".id" => "[id]", ".created_at" => "[ts]" });
    let v = id_of(&vendor);
    let product = branch(&app, me, Some(&v), "product_name", "Router X").await;
    let p = id_of(&product);
    assert_eq!(product["parent_id"], v.as_str());
    let version = branch(&app, me, Some(&p), "product_version", "1.0").await;
    let ver = id_of(&version);
    assert_eq!(
        call(&app, me, "GET", &format!("/api/v1/branches/{ver}"), None).await,
        (200, version.clone())
    );

    let create = |parent: Option<&str>, category: &str, name: &str| json!({ "parent_id": parent, "category": category, "name": name });
    for (parent, category) in [
        (None, "product_name"),
        (None, "product_version"),
        (Some(v.as_str()), "vendor"),
        (Some(v.as_str()), "product_version"),
        (Some(v.as_str()), "architecture"),
        (Some(ver.as_str()), "product_version"),
    ] {
        let got = call(
            &app,
            me,
            "POST",
            "/api/v1/branches",
            Some(create(parent, category, "Misplaced")),
        )
        .await;
        assert_error(&got, 422, "invalid_field", Some("category"));
    }
    let unknown = uuid::Uuid::now_v7().to_string();
    let (status, body) = call(
        &app,
        me,
        "POST",
        "/api/v1/branches",
        Some(create(Some(&unknown), "product_name", "Orphan")),
    )
    .await;
    assert_eq!(status, 422, "unknown parent: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&unknown),
        "{body}"
    );
    for (body, field) in [
        (create(Some("nope"), "product_name", "X"), "parent_id"),
        (create(None, "vendorx", "X"), "category"),
        (json!({ "category": "vendor" }), "name"),
        (create(None, "vendor", ""), "name"),
    ] {
        let got = call(&app, me, "POST", "/api/v1/branches", Some(body)).await;
        assert_error(&got, 422, "invalid_field", Some(field));
    }

    // Names are unique among siblings, top level included, and only there.
    assert_error(
        &call(
            &app,
            me,
            "POST",
            "/api/v1/branches",
            Some(create(Some(&v), "product_name", "Router X")),
        )
        .await,
        409,
        "conflict",
        None,
    );
    assert_error(
        &call(
            &app,
            me,
            "POST",
            "/api/v1/branches",
            Some(create(None, "vendor", "Example Corp")),
        )
        .await,
        409,
        "conflict",
        None,
    );
    let other = branch(&app, me, None, "vendor", "Other Corp").await;
    branch(&app, me, Some(&id_of(&other)), "product_name", "Router X").await;

    // Renaming.
    let rename = |name: &str| Some(json!({ "name": name }));
    let (status, renamed) = call(
        &app,
        me,
        "PATCH",
        &format!("/api/v1/branches/{p}"),
        rename(" Router X Pro "),
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "Router X Pro");
    assert_eq!(renamed["id"], product["id"]);
    assert_eq!(
        call(&app, me, "GET", &format!("/api/v1/branches/{p}"), None)
            .await
            .1["name"],
        "Router X Pro"
    );
    let switch = id_of(&branch(&app, me, Some(&v), "product_name", "Switch").await);
    let clash = call(
        &app,
        me,
        "PATCH",
        &format!("/api/v1/branches/{switch}"),
        rename("Router X Pro"),
    )
    .await;
    assert_error(&clash, 409, "conflict", None);
    assert_error(
        &call(
            &app,
            me,
            "PATCH",
            &format!("/api/v1/branches/{switch}"),
            rename(""),
        )
        .await,
        422,
        "invalid_field",
        Some("name"),
    );
    let nowhere = format!("/api/v1/branches/{}", uuid::Uuid::now_v7());
    assert_error(
        &call(&app, me, "PATCH", &nowhere, rename("Anything")).await,
        404,
        "not_found",
        None,
    );

    // Deleting: not while children remain.
    assert_error(
        &call(&app, me, "DELETE", &format!("/api/v1/branches/{v}"), None).await,
        409,
        "conflict",
        None,
    );
    assert_eq!(
        call(&app, me, "GET", &format!("/api/v1/branches/{v}"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        call(&app, me, "DELETE", &format!("/api/v1/branches/{ver}"), None).await,
        (204, Value::Null)
    );
    assert_error(
        &call(&app, me, "GET", &format!("/api/v1/branches/{ver}"), None).await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(&app, me, "DELETE", &format!("/api/v1/branches/{ver}"), None).await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(&app, me, "DELETE", &nowhere, None).await,
        404,
        "not_found",
        None,
    );

    let (_, list) = call(&app, me, "GET", "/api/v1/branches", None).await;
    let mut names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "Example Corp",
            "Other Corp",
            "Router X",
            "Router X Pro",
            "Switch"
        ]
    );
}

#[tokio::test]
async fn the_product_tree_is_a_csaf_product_tree() {
    let (app, admin) = admin_app().await;
    let me = As::Session(&admin);
    let example = id_of(&branch(&app, me, None, "vendor", "Example Corp").await);
    branch(&app, me, None, "vendor", "Acme").await;
    let family = id_of(&branch(&app, me, Some(&example), "product_family", "Routers").await);
    let router = id_of(&branch(&app, me, Some(&family), "product_name", "Router X").await);
    let v2 = id_of(&branch(&app, me, Some(&router), "product_version", "2.0").await);
    let v1 = id_of(&branch(&app, me, Some(&router), "product_version", "1.0").await);
    let switch = id_of(&branch(&app, me, Some(&example), "product_name", "Switch Y").await);

    let (status, tree) = call(&app, me, "GET", "/api/v1/product-tree", None).await;
    assert_eq!(status, 200, "{tree}");
    // Leaves carry `product` with the product id the catalogue gives each branch; inner nodes
    // carry `branches` and nothing else.
    let mut leaves = Vec::new();
    fn walk(nodes: &Value, path: &mut Vec<String>, leaves: &mut Vec<(String, String)>) {
        for n in nodes.as_array().unwrap() {
            path.push(n["name"].as_str().unwrap().to_owned());
            match (n.get("branches"), n.get("product")) {
                (Some(children), None) => walk(children, path, leaves),
                (None, Some(p)) => {
                    assert_eq!(p["name"], path.join(" "), "{n}");
                    leaves.push((
                        path.join(" / "),
                        p["product_id"].as_str().unwrap().to_owned(),
                    ));
                }
                _ => panic!("a node has branches or a product, not both or neither: {n}"),
            }
            path.pop();
        }
    }
    walk(&tree["branches"], &mut Vec::new(), &mut leaves);
    let product_id = |id: &str| format!("KEIKAI-{id}");
    let acme = tree["branches"][0]["product"]["product_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        leaves,
        [
            ("Acme".to_owned(), acme),
            (
                "Example Corp / Routers / Router X / 1.0".to_owned(),
                product_id(&v1)
            ),
            (
                "Example Corp / Routers / Router X / 2.0".to_owned(),
                product_id(&v2)
            ),
            ("Example Corp / Switch Y".to_owned(), product_id(&switch)),
        ],
        "leaves in name order"
    );
    let version = &tree["branches"][1]["branches"][0]["branches"][0]["branches"][0];
    assert_eq!(version["category"], "product_version");
    assert_eq!(version["product"]["product_id"], product_id(&v1));
    insta::assert_json_snapshot!("product_tree", tree, { ".**.product_id" => "[product_id]" });

    // The same object validates as the product tree of a CSAF 2.0 document.
    let doc = json!({
        "document": {
            "category": "csaf_base",
            "csaf_version": "2.0",
            "publisher": { "category": "vendor", "name": "Example Corp", "namespace": "https://example.com" },
            "title": "Product tree check",
            "tracking": {
                "current_release_date": "2026-01-01T00:00:00Z",
                "id": "EXAMPLE-1",
                "initial_release_date": "2026-01-01T00:00:00Z",
                "revision_history": [{ "date": "2026-01-01T00:00:00Z", "number": "1", "summary": "Initial" }],
                "status": "final",
                "version": "1"
            }
        },
        "product_tree": tree,
    });
    let mut findings = keikai_csaf::schema_validator().validate(&doc);
    findings.extend(keikai_csaf::strict_schema_findings(&doc));
    assert!(findings.is_empty(), "{findings:#?}");
}

// ---------------------------------------------------------------- tokens

#[tokio::test]
async fn a_token_secret_is_shown_once_and_revocation_ends_it() {
    let app = TestApp::spawn().await;
    let (user, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let session = app.session_for(user).await;
    let me = As::Session(&session);
    let (status, created) = call(
        &app,
        me,
        "POST",
        "/api/v1/tokens",
        Some(json!({ "name": "CI publisher", "scopes": ["read", "write"] })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("kk_") && secret.len() == 46, "{secret}");
    let token = created["token"].clone();
    let mut keys: Vec<&str> = token
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "expires_at",
            "id",
            "last_used_at",
            "name",
            "revoked_at",
            "scopes",
            "user_id"
        ]
    );
    assert_eq!(token["scopes"], json!(["read", "write"]));
    assert_eq!(token["user_id"], user.to_string());
    assert_eq!(token["last_used_at"], Value::Null);
    let id = id_of(&token);

    // Never again: not in the list, not on the profile page.
    let (status, list) = call(&app, me, "GET", "/api/v1/tokens", None).await;
    assert_eq!(status, 200);
    assert_eq!(list, json!([token]));
    let profile = app.get_as(&session, "/profile").await;
    let profile = profile.text().await.unwrap();
    assert!(profile.contains("CI publisher"), "{profile}");
    assert!(
        !profile.contains(&secret[3..]),
        "the secret is on the profile page again"
    );
    let listed = list.to_string();
    assert!(
        !listed.contains(&secret[3..]) && !listed.contains("secret"),
        "{listed}"
    );

    // In use: it acts for its owner and records when it was last used.
    app.clock.advance(jiff::SignedDuration::from_mins(5));
    let (status, whoami) = call(&app, As::Token(&secret), "GET", "/api/v1/me", None).await;
    assert_eq!(status, 200, "{whoami}");
    assert_eq!(whoami["user"]["id"], user.to_string());
    let stored = app.store.get_token(id.parse().unwrap()).await.unwrap();
    let used = stored.last_used_at.expect("last_used_at set after use");
    assert!(
        (used - app.clock.now_ts()).get_seconds().abs() < 1,
        "{used}"
    );
    let (_, list) = call(&app, me, "GET", "/api/v1/tokens", None).await;
    assert!(list[0]["last_used_at"].is_string(), "{list}");
    let new_branch = json!({ "parent_id": null, "category": "vendor", "name": "Via token" });
    assert_eq!(
        call(
            &app,
            As::Token(&secret),
            "POST",
            "/api/v1/branches",
            Some(new_branch)
        )
        .await
        .0,
        201
    );

    // Revoked: refused from then on, on the API and in the UI.
    assert_eq!(
        call(&app, me, "DELETE", &format!("/api/v1/tokens/{id}"), None).await,
        (204, Value::Null)
    );
    let got = call(&app, As::Token(&secret), "GET", "/api/v1/me", None).await;
    assert_error(&got, 401, "unauthenticated", None);
    let ui = TestApp::plain_client()
        .get(app.url("/"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 303);
    let (_, list) = call(&app, me, "GET", "/api/v1/tokens", None).await;
    assert!(list[0]["revoked_at"].is_string(), "{list}");
}

#[tokio::test]
async fn refused_credentials_answer_401_with_a_challenge() {
    let app = TestApp::spawn().await;
    let well_formed_unknown = format!("kk_{}", keikai_app::secret::random_secret());
    for auth in [
        "Bearer nonsense",
        "Basic YWRtaW46cGFzc3dvcmQ=",
        &format!("Bearer {well_formed_unknown}"),
        "Bearer ",
    ] {
        let res = TestApp::plain_client()
            .get(app.url("/api/v1/me"))
            .header("authorization", auth)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{auth}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{auth}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated", "{auth}");
    }
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (user, _) = app.user_with_role(Role::Reporter).await;
    let session = app.session_for(user).await;
    let me = As::Session(&session);
    let in_an_hour = app
        .clock
        .now_ts()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap();
    let body =
        json!({ "name": "short-lived", "scopes": ["read"], "expires_at": in_an_hour.to_string() });
    let (status, created) = call(&app, me, "POST", "/api/v1/tokens", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(
        call(&app, As::Token(secret), "GET", "/api/v1/me", None)
            .await
            .0,
        200
    );
    app.clock.advance(jiff::SignedDuration::from_mins(61));
    assert_error(
        &call(&app, As::Token(secret), "GET", "/api/v1/me", None).await,
        401,
        "unauthenticated",
        None,
    );

    let past = app
        .clock
        .now_ts()
        .checked_sub(jiff::SignedDuration::from_mins(1))
        .unwrap()
        .to_string();
    for (body, field) in [
        (
            json!({ "name": "t", "scopes": ["read"], "expires_at": past }),
            "expires_at",
        ),
        (
            json!({ "name": "t", "scopes": ["read"], "expires_at": "tomorrow" }),
            "expires_at",
        ),
        (json!({ "name": "t", "scopes": [] }), "scopes"),
        (json!({ "name": "t" }), "scopes"),
        (json!({ "name": "t", "scopes": ["admin"] }), "scopes[0]"),
        (json!({ "name": "", "scopes": ["read"] }), "name"),
    ] {
        let got = call(&app, me, "POST", "/api/v1/tokens", Some(body.clone())).await;
        assert_error(&got, 422, "invalid_field", Some(field));
    }
    assert_eq!(
        app.store.list_tokens(user).await.unwrap().len(),
        1,
        "a refused token was stored"
    );
}

#[tokio::test]
async fn read_tokens_cannot_write_and_tokens_cannot_make_tokens() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (_, read) = app
        .store_token(analyst, &[keikai_domain::Scope::Read], None)
        .await;
    let (_, write) = app
        .store_token(
            analyst,
            &[keikai_domain::Scope::Read, keikai_domain::Scope::Write],
            None,
        )
        .await;
    let reader = As::Token(&read);
    let vendor = json!({ "parent_id": null, "category": "vendor", "name": "Example Corp" });
    assert_eq!(
        call(&app, reader, "GET", "/api/v1/branches", None).await,
        (200, json!([]))
    );
    assert_error(
        &call(
            &app,
            reader,
            "POST",
            "/api/v1/branches",
            Some(vendor.clone()),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    let (status, b) = call(
        &app,
        As::Token(&write),
        "POST",
        "/api/v1/branches",
        Some(vendor),
    )
    .await;
    assert_eq!(status, 201);
    let path = format!("/api/v1/branches/{}", id_of(&b));
    assert_error(
        &call(
            &app,
            reader,
            "PATCH",
            &path,
            Some(json!({ "name": "Renamed" })),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    assert_error(
        &call(&app, reader, "DELETE", &path, None).await,
        403,
        "forbidden",
        None,
    );
    assert_eq!(call(&app, reader, "GET", &path, None).await, (200, b));
    for t in [&read, &write] {
        let got = call(
            &app,
            As::Token(t),
            "POST",
            "/api/v1/tokens",
            Some(json!({ "name": "child", "scopes": ["read"] })),
        )
        .await;
        assert_error(&got, 403, "forbidden", None);
    }
    assert_eq!(app.store.list_tokens(analyst).await.unwrap().len(), 2);
}

#[tokio::test]
async fn only_owners_and_admins_revoke_a_token() {
    let app = TestApp::spawn().await;
    let (alice, _) = app.user_with_role(Role::Reporter).await;
    let (bob, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (admin, _) = app.user_with_role(Role::Admin).await;
    let (alice_token, alice_secret) = app
        .store_token(alice, &[keikai_domain::Scope::Read], None)
        .await;
    let (other_token, _) = app
        .store_token(alice, &[keikai_domain::Scope::Read], None)
        .await;
    let bob_s = app.session_for(bob).await;
    let alice_s = app.session_for(alice).await;
    let admin_s = app.session_for(admin).await;
    let path = |id: keikai_domain::TokenId| format!("/api/v1/tokens/{id}");

    assert_error(
        &call(
            &app,
            As::Session(&bob_s),
            "DELETE",
            &path(alice_token),
            None,
        )
        .await,
        404,
        "not_found",
        None,
    );
    assert_eq!(
        call(&app, As::Token(&alice_secret), "GET", "/api/v1/me", None)
            .await
            .0,
        200,
        "still works"
    );
    assert_eq!(
        call(
            &app,
            As::Session(&alice_s),
            "DELETE",
            &path(alice_token),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        call(
            &app,
            As::Session(&admin_s),
            "DELETE",
            &path(other_token),
            None
        )
        .await
        .0,
        204
    );
    assert!(
        app.store
            .list_tokens(alice)
            .await
            .unwrap()
            .iter()
            .all(|t| t.revoked_at.is_some())
    );
    let unknown = format!("/api/v1/tokens/{}", uuid::Uuid::now_v7());
    assert_error(
        &call(&app, As::Session(&admin_s), "DELETE", &unknown, None).await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(
            &app,
            As::Session(&admin_s),
            "DELETE",
            "/api/v1/tokens/nope",
            None,
        )
        .await,
        404,
        "not_found",
        None,
    );
}

// ---------------------------------------------------------------- errors

#[tokio::test]
async fn every_refusal_uses_the_error_format() {
    let (app, admin) = admin_app().await;
    let orgs = "/api/v1/organisations";
    let valid = r#"{"name": "Example", "kind": "partner"}"#;
    assert_error(
        &raw(&app, &admin, orgs, Some("application/json"), r#"{"name": "#).await,
        400,
        "bad_request",
        None,
    );
    assert_error(
        &raw(
            &app,
            &admin,
            orgs,
            Some("application/json"),
            r#"{"name": "X", "kind": "partner""#,
        )
        .await,
        400,
        "bad_request",
        None,
    );
    assert_error(
        &raw(
            &app,
            &admin,
            orgs,
            Some("application/json"),
            "{'name': 'X'}",
        )
        .await,
        400,
        "bad_request",
        None,
    );
    assert_error(
        &raw(&app, &admin, orgs, Some("application/json"), "").await,
        400,
        "bad_request",
        None,
    );
    assert_error(
        &raw(&app, &admin, orgs, Some("text/plain"), valid).await,
        400,
        "bad_request",
        None,
    );
    assert_error(
        &raw(
            &app,
            &admin,
            orgs,
            Some("application/x-www-form-urlencoded"),
            valid,
        )
        .await,
        400,
        "bad_request",
        None,
    );
    assert_error(
        &raw(&app, &admin, orgs, None, valid).await,
        400,
        "bad_request",
        None,
    );
    assert_eq!(
        raw(
            &app,
            &admin,
            orgs,
            Some("application/json; charset=utf-8"),
            valid
        )
        .await
        .0,
        201
    );

    let missing = raw(
        &app,
        &admin,
        orgs,
        Some("application/json"),
        r#"{"kind": "partner"}"#,
    )
    .await;
    assert_error(&missing, 422, "invalid_field", Some("name"));
    insta::assert_json_snapshot!("error_missing_field", missing.1);
    let wrong_enum = raw(
        &app,
        &admin,
        orgs,
        Some("application/json"),
        r#"{"name": "X", "kind": "vendor"}"#,
    )
    .await;
    assert_error(&wrong_enum, 422, "invalid_field", Some("kind"));
    let message = wrong_enum.1["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("vendor") && message.contains("partner"),
        "names the value and the choices: {message}"
    );

    let me = As::Session(&admin);
    assert_error(
        &call(&app, me, "GET", "/api/v1/no-such-thing", None).await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(&app, As::Nobody, "GET", "/api/v1/no-such-thing", None).await,
        404,
        "not_found",
        None,
    );
    assert_error(
        &call(&app, me, "PUT", "/api/v1/branches", Some(json!({}))).await,
        405,
        "method_not_allowed",
        None,
    );
    let res = TestApp::plain_client()
        .delete(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(
        res.headers()["allow"],
        "GET,HEAD",
        "405 still says what the path takes"
    );
}

#[tokio::test]
async fn markup_in_names_is_stored_verbatim_and_escaped_in_pages() {
    let (app, admin) = admin_app().await;
    let me = As::Session(&admin);
    let script = "<script>alert(1)</script>";
    let vendor = branch(&app, me, None, "vendor", script).await;
    assert_eq!(vendor["name"], script);
    let (_, got) = call(
        &app,
        me,
        "GET",
        &format!("/api/v1/branches/{}", id_of(&vendor)),
        None,
    )
    .await;
    assert_eq!(got["name"], script, "stored verbatim");
    let attr = r#""><img src=x onerror=alert(2)>"#;
    branch(&app, me, Some(&id_of(&vendor)), "product_name", attr).await;
    let org = "<b>Evil</b> & Co";
    let (status, created) = call(
        &app,
        me,
        "POST",
        "/api/v1/organisations",
        Some(json!({ "name": org, "kind": "partner" })),
    )
    .await;
    assert_eq!((status, created["name"].as_str()), (201, Some(org)));

    let page = |path: &'static str| {
        let req = TestApp::plain_client()
            .get(app.url(path))
            .header("cookie", admin.header());
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    // Askama writes numeric character references (`&#60;`); `&lt;` would do as well.
    let escaped = |html: &str, text: &str| {
        let named = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        let numeric = text
            .replace('&', "&#38;")
            .replace('<', "&#60;")
            .replace('>', "&#62;")
            .replace('"', "&#34;");
        html.contains(&named) || html.contains(&numeric)
    };
    let products = page("/products").await;
    assert!(
        escaped(&products, script) && escaped(&products, attr),
        "{products}"
    );
    assert!(
        !products.contains(script),
        "raw markup on the products page"
    );
    assert!(
        !products.contains("<img src=x"),
        "raw markup on the products page"
    );
    let orgs = page("/organisations").await;
    assert!(escaped(&orgs, org), "{orgs}");
    assert!(
        !orgs.contains("<b>Evil</b>"),
        "raw markup on the organisations page"
    );
}
