//! The REST API: organisations, users and memberships, the product catalogue, API tokens, and
//! the one error format every refusal uses.

use keikai_domain::{OrgKind, Role};
use serde_json::{Value, json};

use crate::support::{ADMIN_EMAIL, Api, As, NowTs, PASSWORD, SessionCookie, TestApp, strings};

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

/// What an error answer says: its status, code and the field it names.
type Refusal<'a> = (u16, &'a str, Option<&'a str>);

const NOT_FOUND: Refusal = (404, "not_found", None);
const CONFLICT: Refusal = (409, "conflict", None);
const FORBIDDEN: Refusal = (403, "forbidden", None);
const UNAUTHENTICATED: Refusal = (401, "unauthenticated", None);
const BAD_REQUEST: Refusal = (400, "bad_request", None);

fn invalid(field: &str) -> Refusal<'_> {
    (422, "invalid_field", Some(field))
}

/// Asserts an error answer in the one format; `request` names what was sent.
#[track_caller]
fn assert_error(request: &str, got: &(u16, Value), (status, code, field): Refusal<'_>) {
    let (s, body) = got;
    assert_eq!(*s, status, "{request}: {body}");
    let e = &body["error"];
    assert_eq!(e["code"], code, "{request}: {body}");
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{request}: {body}"
    );
    assert_eq!(
        e.get("field"),
        Some(&field.map_or(Value::Null, Value::from)),
        "{request}: {body}"
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "only `error` at the top: {request}: {body}"
    );
    assert_eq!(
        e.as_object().unwrap().len(),
        3,
        "error has code, message, field: {request}: {body}"
    );
}

/// Sends each request in turn; each must be refused as given.
async fn assert_refusals(api: &Api<'_>, requests: &[(&str, &str, Option<Value>, Refusal<'_>)]) {
    for (method, path, body, refusal) in requests {
        let got = api.send(method, path, body.clone()).await;
        assert_error(&format!("{method} {path} {body:?}"), &got, *refusal);
    }
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------- organisations

#[tokio::test]
async fn organisations_are_created_read_and_listed() {
    let (app, admin) = admin_app().await;
    let me = app.api_as(As::Session(&admin));
    let partner = json!({ "name": "  Example Partner ", "kind": "partner" });
    let (status, org) = me.post("/api/v1/organisations", partner).await;
    assert_eq!(status, 201, "{org}");
    insta::assert_json_snapshot!("created_organisation", org, { ".id" => "[id]", ".created_at" => "[ts]" });
    let id = id_of(&org);
    assert_eq!(
        me.get(&format!("/api/v1/organisations/{id}")).await,
        (200, org.clone())
    );

    let (status, list) = me.get("/api/v1/organisations").await;
    assert_eq!(status, 200);
    assert_eq!(
        strings(&list, "name"),
        ["Example Partner", "Keikai PSIRT"],
        "ordered by name"
    );
    assert!(list.as_array().unwrap().contains(&org));

    let unknown = format!("/api/v1/organisations/{}", uuid::Uuid::now_v7());
    let orgs = "/api/v1/organisations";
    let long = "x".repeat(201);
    let misfit = |body: Value, field| ("POST", orgs, Some(body), invalid(field));
    assert_refusals(
        &me,
        &[
            ("GET", unknown.as_str(), None, NOT_FOUND),
            ("GET", "/api/v1/organisations/42", None, NOT_FOUND),
            misfit(json!({ "name": "", "kind": "partner" }), "name"),
            misfit(json!({ "name": "   ", "kind": "partner" }), "name"),
            misfit(json!({ "name": long, "kind": "partner" }), "name"),
            misfit(json!({ "name": "a\u{7}b", "kind": "partner" }), "name"),
            misfit(json!({ "name": 5, "kind": "partner" }), "name"),
            misfit(json!({ "kind": "partner" }), "name"),
            misfit(json!({ "name": "Vendor Inc" }), "kind"),
            misfit(json!({ "name": "Vendor Inc", "kind": "vendor" }), "kind"),
        ],
    )
    .await;
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
    let me = app.api_as(As::Session(&admin));
    let partner = app.org(OrgKind::Partner).await.to_string();
    let coordinator = app.org(OrgKind::Coordinator).await.to_string();
    let own = app.own_org.to_string();

    let aiko = json!({
        "email": " Aiko@Example.COM ",
        "display_name": "Aiko",
        "password": PASSWORD,
        "locale": "ja",
        "memberships": [{ "org_id": partner, "role": "partner-contact" }],
    });
    let (status, created) = me.post("/api/v1/users", aiko).await;
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
        me.get(&format!("/api/v1/users/{id}")).await,
        (200, created.clone())
    );
    let (_, list) = me.get("/api/v1/users").await;
    assert_eq!(
        strings(&list, "email"),
        ["admin@keikai.test", "aiko@example.com"],
        "ordered by e-mail address"
    );

    // The person can sign in with the password given.
    let (client, _) = app.login("aiko@example.com").await;
    let res = client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 200);

    let users_before = app.store.list_users().await.unwrap().len();
    let new_user = |email: &str, memberships: Value| json!({ "email": email, "display_name": "X", "password": PASSWORD, "memberships": memberships });
    let kenji = |memberships: Value| new_user("kenji@example.com", memberships);
    let users = "/api/v1/users";
    let refused = |body: Value, refusal| ("POST", users, Some(body), refusal);
    assert_refusals(
        &me,
        &[
            refused(new_user("AIKO@example.com", json!([])), CONFLICT),
            // A role the organisation's kind does not allow, and an organisation that does not
            // exist: refused, naming the membership, and no user is left behind without it.
            refused(
                kenji(json!([{ "org_id": own, "role": "partner-contact" }])),
                invalid("memberships[0].role"),
            ),
            refused(
                kenji(
                    json!([{ "org_id": own, "role": "product-engineer" }, { "org_id": uuid::Uuid::now_v7(), "role": "reporter" }]),
                ),
                invalid("memberships[1].org_id"),
            ),
            refused(
                kenji(json!([{ "org_id": own, "role": "root" }])),
                invalid("memberships[0].role"),
            ),
            refused(
                kenji(json!([{ "role": "reporter" }])),
                invalid("memberships[0].org_id"),
            ),
            refused(
                kenji(json!([{ "org_id": "nope", "role": "reporter" }])),
                invalid("memberships[0].org_id"),
            ),
            refused(new_user("kenji", json!([])), invalid("email")),
            refused(
                json!({ "display_name": "X", "password": PASSWORD }),
                invalid("email"),
            ),
            refused(
                json!({ "email": "kenji@example.com", "password": PASSWORD }),
                invalid("display_name"),
            ),
            refused(
                json!({ "email": "kenji@example.com", "display_name": "X", "password": "short" }),
                invalid("password"),
            ),
            refused(
                json!({ "email": "kenji@example.com", "display_name": "X", "password": PASSWORD, "locale": "fr" }),
                invalid("locale"),
            ),
        ],
    )
    .await;
    assert_eq!(
        app.store.list_users().await.unwrap().len(),
        users_before,
        "a refused user was stored"
    );

    // Memberships added later follow the same rule.
    let path = format!("/api/v1/users/{id}/memberships");
    let (status, with_two) = me
        .post(&path, json!({ "org_id": coordinator, "role": "reporter" }))
        .await;
    assert_eq!(status, 200, "{with_two}");
    assert_eq!(
        with_two["memberships"].as_array().unwrap().len(),
        2,
        "{with_two}"
    );
    let nobody = format!("/api/v1/users/{}/memberships", uuid::Uuid::now_v7());
    assert_refusals(
        &me,
        &[
            (
                "POST",
                path.as_str(),
                Some(json!({ "org_id": own, "role": "customer-contact" })),
                invalid("role"),
            ),
            (
                "POST",
                path.as_str(),
                Some(json!({ "org_id": uuid::Uuid::now_v7(), "role": "reporter" })),
                invalid("org_id"),
            ),
            (
                "POST",
                nobody.as_str(),
                Some(json!({ "org_id": own, "role": "reporter" })),
                NOT_FOUND,
            ),
        ],
    )
    .await;
    assert_eq!(
        me.get(&format!("/api/v1/users/{id}")).await.1["memberships"],
        with_two["memberships"]
    );
}

// ---------------------------------------------------------------- product catalogue

fn new_branch(parent: Option<&str>, category: &str, name: &str) -> Value {
    json!({ "parent_id": parent, "category": category, "name": name })
}

async fn branch(me: &Api<'_>, parent: Option<&str>, category: &str, name: &str) -> Value {
    let body = new_branch(parent, category, name);
    let (status, b) = me.post("/api/v1/branches", body).await;
    assert_eq!(status, 201, "{category} {name}: {b}");
    b
}

#[tokio::test]
async fn branches_follow_the_placement_rules() {
    let (app, admin) = admin_app().await;
    let me = app.api_as(As::Session(&admin));
    let body = new_branch(None, "vendor", "Example Corp");
    let (status, vendor) = me.post("/api/v1/branches", body).await;
    assert_eq!(status, 201, "{vendor}");
    insta::assert_json_snapshot!("created_branch", vendor, { ".id" => "[id]", ".created_at" => "[ts]" });
    let v = id_of(&vendor);
    let product = branch(&me, Some(&v), "product_name", "Router X").await;
    let p = id_of(&product);
    assert_eq!(product["parent_id"], v.as_str());
    let version = branch(&me, Some(&p), "product_version", "1.0").await;
    let ver = id_of(&version);
    assert_eq!(
        me.get(&format!("/api/v1/branches/{ver}")).await,
        (200, version.clone())
    );

    let branches = "/api/v1/branches";
    let create = |parent: Option<&str>, category: &str, name: &str, refusal: Refusal<'static>| {
        let body = new_branch(parent, category, name);
        ("POST", branches, Some(body), refusal)
    };
    let misplaced = |parent: Option<&str>, category: &str| {
        create(parent, category, "Misplaced", invalid("category"))
    };
    assert_refusals(
        &me,
        &[
            misplaced(None, "product_name"),
            misplaced(None, "product_version"),
            misplaced(Some(v.as_str()), "vendor"),
            misplaced(Some(v.as_str()), "product_version"),
            misplaced(Some(v.as_str()), "architecture"),
            misplaced(Some(ver.as_str()), "product_version"),
        ],
    )
    .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let orphan = new_branch(Some(&unknown), "product_name", "Orphan");
    let (status, body) = me.post(branches, orphan).await;
    assert_eq!(status, 422, "unknown parent: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&unknown), "{body}");
    assert_refusals(
        &me,
        &[
            create(Some("nope"), "product_name", "X", invalid("parent_id")),
            create(None, "vendorx", "X", invalid("category")),
            (
                "POST",
                branches,
                Some(json!({ "category": "vendor" })),
                invalid("name"),
            ),
            create(None, "vendor", "", invalid("name")),
            // Names are unique among siblings, top level included, and only there.
            create(Some(v.as_str()), "product_name", "Router X", CONFLICT),
            create(None, "vendor", "Example Corp", CONFLICT),
        ],
    )
    .await;
    let other = branch(&me, None, "vendor", "Other Corp").await;
    branch(&me, Some(&id_of(&other)), "product_name", "Router X").await;

    // Renaming.
    let rename = |name: &str| json!({ "name": name });
    let (status, renamed) = me
        .patch(&format!("{branches}/{p}"), rename(" Router X Pro "))
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "Router X Pro");
    assert_eq!(renamed["id"], product["id"]);
    assert_eq!(
        me.get(&format!("{branches}/{p}")).await.1["name"],
        "Router X Pro"
    );
    let switch = id_of(&branch(&me, Some(&v), "product_name", "Switch").await);
    let switch = format!("{branches}/{switch}");
    let nowhere = format!("{branches}/{}", uuid::Uuid::now_v7());
    let (vendor, version) = (format!("{branches}/{v}"), format!("{branches}/{ver}"));
    assert_refusals(
        &me,
        &[
            (
                "PATCH",
                switch.as_str(),
                Some(rename("Router X Pro")),
                CONFLICT,
            ),
            ("PATCH", switch.as_str(), Some(rename("")), invalid("name")),
            (
                "PATCH",
                nowhere.as_str(),
                Some(rename("Anything")),
                NOT_FOUND,
            ),
            // Deleting: not while children remain.
            ("DELETE", vendor.as_str(), None, CONFLICT),
        ],
    )
    .await;
    assert_eq!(me.get(&vendor).await.0, 200);
    assert_eq!(me.delete(&version).await, (204, Value::Null));
    assert_refusals(
        &me,
        &[
            ("GET", version.as_str(), None, NOT_FOUND),
            ("DELETE", version.as_str(), None, NOT_FOUND),
            ("DELETE", nowhere.as_str(), None, NOT_FOUND),
        ],
    )
    .await;

    let (_, list) = me.get(branches).await;
    let mut names = strings(&list, "name");
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
    let me = app.api_as(As::Session(&admin));
    let example = id_of(&branch(&me, None, "vendor", "Example Corp").await);
    branch(&me, None, "vendor", "Acme").await;
    let family = id_of(&branch(&me, Some(&example), "product_family", "Routers").await);
    let router = id_of(&branch(&me, Some(&family), "product_name", "Router X").await);
    let v2 = id_of(&branch(&me, Some(&router), "product_version", "2.0").await);
    let v1 = id_of(&branch(&me, Some(&router), "product_version", "1.0").await);
    let switch = id_of(&branch(&me, Some(&example), "product_name", "Switch Y").await);

    let (status, tree) = me.get("/api/v1/product-tree").await;
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
    let (app, user, _) = TestApp::with_user(Role::PsirtAnalyst).await;
    let session = app.session_for(user).await;
    let me = app.api_as(As::Session(&session));
    let ci = json!({ "name": "CI publisher", "scopes": ["read", "write"] });
    let (status, created) = me.post("/api/v1/tokens", ci).await;
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
    let (status, list) = me.get("/api/v1/tokens").await;
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
    let (status, whoami) = app.api(&secret).get("/api/v1/me").await;
    assert_eq!(status, 200, "{whoami}");
    assert_eq!(whoami["user"]["id"], user.to_string());
    let stored = app.store.get_token(id.parse().unwrap()).await.unwrap();
    let used = stored.last_used_at.expect("last_used_at set after use");
    assert!(
        (used - app.clock.now_ts()).get_seconds().abs() < 1,
        "{used}"
    );
    let (_, list) = me.get("/api/v1/tokens").await;
    assert!(list[0]["last_used_at"].is_string(), "{list}");
    let new_branch = json!({ "parent_id": null, "category": "vendor", "name": "Via token" });
    assert_eq!(
        app.api(&secret)
            .post("/api/v1/branches", new_branch)
            .await
            .0,
        201
    );

    // Revoked: refused from then on, on the API and in the UI.
    assert_eq!(
        me.delete(&format!("/api/v1/tokens/{id}")).await,
        (204, Value::Null)
    );
    let got = app.api(&secret).get("/api/v1/me").await;
    assert_error("a revoked token", &got, UNAUTHENTICATED);
    let ui = TestApp::plain_client()
        .get(app.url("/"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 303);
    let (_, list) = me.get("/api/v1/tokens").await;
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
    let (app, user, _) = TestApp::with_user(Role::Reporter).await;
    let session = app.session_for(user).await;
    let me = app.api_as(As::Session(&session));
    let in_an_hour = app
        .clock
        .now_ts()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap();
    let body =
        json!({ "name": "short-lived", "scopes": ["read"], "expires_at": in_an_hour.to_string() });
    let (status, created) = me.post("/api/v1/tokens", body).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(app.api(secret).get("/api/v1/me").await.0, 200);
    app.clock.advance(jiff::SignedDuration::from_mins(61));
    let got = app.api(secret).get("/api/v1/me").await;
    assert_error("an expired token", &got, UNAUTHENTICATED);

    let past = app
        .clock
        .now_ts()
        .checked_sub(jiff::SignedDuration::from_mins(1))
        .unwrap()
        .to_string();
    let refused = |body: Value, field| ("POST", "/api/v1/tokens", Some(body), invalid(field));
    assert_refusals(
        &me,
        &[
            refused(
                json!({ "name": "t", "scopes": ["read"], "expires_at": past }),
                "expires_at",
            ),
            refused(
                json!({ "name": "t", "scopes": ["read"], "expires_at": "tomorrow" }),
                "expires_at",
            ),
            refused(json!({ "name": "t", "scopes": [] }), "scopes"),
            refused(json!({ "name": "t" }), "scopes"),
            refused(json!({ "name": "t", "scopes": ["admin"] }), "scopes[0]"),
            refused(json!({ "name": "", "scopes": ["read"] }), "name"),
        ],
    )
    .await;
    assert_eq!(
        app.store.list_tokens(user).await.unwrap().len(),
        1,
        "a refused token was stored"
    );
}

#[tokio::test]
async fn read_tokens_cannot_write_and_tokens_cannot_make_tokens() {
    let (app, analyst, _) = TestApp::with_user(Role::PsirtAnalyst).await;
    let read = app.read_token(analyst).await;
    let write = app.write_token(analyst).await;
    let reader = app.api(&read);
    let vendor = json!({ "parent_id": null, "category": "vendor", "name": "Example Corp" });
    assert_eq!(reader.get("/api/v1/branches").await, (200, json!([])));
    let branches = "/api/v1/branches";
    assert_refusals(
        &reader,
        &[("POST", branches, Some(vendor.clone()), FORBIDDEN)],
    )
    .await;
    let (status, b) = app.api(&write).post(branches, vendor).await;
    assert_eq!(status, 201);
    let path = format!("{branches}/{}", id_of(&b));
    let renamed = json!({ "name": "Renamed" });
    assert_refusals(
        &reader,
        &[
            ("PATCH", path.as_str(), Some(renamed), FORBIDDEN),
            ("DELETE", path.as_str(), None, FORBIDDEN),
        ],
    )
    .await;
    assert_eq!(reader.get(&path).await, (200, b));
    let child = json!({ "name": "child", "scopes": ["read"] });
    for t in [&read, &write] {
        let tokens = [("POST", "/api/v1/tokens", Some(child.clone()), FORBIDDEN)];
        assert_refusals(&app.api(t), &tokens).await;
    }
    assert_eq!(app.store.list_tokens(analyst).await.unwrap().len(), 2);
}

#[tokio::test]
async fn only_owners_and_admins_revoke_a_token() {
    let (app, alice, _) = TestApp::with_user(Role::Reporter).await;
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
    let (as_bob, as_alice, as_admin) = (
        app.api_as(As::Session(&bob_s)),
        app.api_as(As::Session(&alice_s)),
        app.api_as(As::Session(&admin_s)),
    );
    let path = |id: keikai_domain::TokenId| format!("/api/v1/tokens/{id}");

    assert_refusals(&as_bob, &[("DELETE", &path(alice_token), None, NOT_FOUND)]).await;
    assert_eq!(
        app.api(&alice_secret).get("/api/v1/me").await.0,
        200,
        "still works"
    );
    assert_eq!(as_alice.delete(&path(alice_token)).await.0, 204);
    assert_eq!(as_admin.delete(&path(other_token)).await.0, 204);
    assert!(
        app.store
            .list_tokens(alice)
            .await
            .unwrap()
            .iter()
            .all(|t| t.revoked_at.is_some())
    );
    let unknown = format!("/api/v1/tokens/{}", uuid::Uuid::now_v7());
    assert_refusals(
        &as_admin,
        &[
            ("DELETE", unknown.as_str(), None, NOT_FOUND),
            ("DELETE", "/api/v1/tokens/nope", None, NOT_FOUND),
        ],
    )
    .await;
}

// ---------------------------------------------------------------- errors

#[tokio::test]
async fn every_refusal_uses_the_error_format() {
    let (app, admin) = admin_app().await;
    let orgs = "/api/v1/organisations";
    let valid = r#"{"name": "Example", "kind": "partner"}"#;
    let json = Some("application/json");
    for (content_type, body) in [
        (json, r#"{"name": "#),
        (json, r#"{"name": "X", "kind": "partner""#),
        (json, "{'name': 'X'}"),
        (json, ""),
        (Some("text/plain"), valid),
        (Some("application/x-www-form-urlencoded"), valid),
        (None, valid),
    ] {
        let got = raw(&app, &admin, orgs, content_type, body).await;
        assert_error(&format!("{content_type:?} {body}"), &got, BAD_REQUEST);
    }
    let utf8 = Some("application/json; charset=utf-8");
    assert_eq!(raw(&app, &admin, orgs, utf8, valid).await.0, 201);

    let missing = raw(&app, &admin, orgs, json, r#"{"kind": "partner"}"#).await;
    assert_error("no name", &missing, invalid("name"));
    insta::assert_json_snapshot!("error_missing_field", missing.1);
    let vendor = r#"{"name": "X", "kind": "vendor"}"#;
    let wrong_enum = raw(&app, &admin, orgs, json, vendor).await;
    assert_error("an unknown kind", &wrong_enum, invalid("kind"));
    let message = wrong_enum.1["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("vendor") && message.contains("partner"),
        "names the value and the choices: {message}"
    );

    let me = app.api_as(As::Session(&admin));
    let nothing = "/api/v1/no-such-thing";
    assert_refusals(&me, &[("GET", nothing, None, NOT_FOUND)]).await;
    assert_refusals(
        &app.api_as(As::Nobody),
        &[("GET", nothing, None, NOT_FOUND)],
    )
    .await;
    let put = (
        "PUT",
        "/api/v1/branches",
        Some(json!({})),
        (405, "method_not_allowed", None),
    );
    assert_refusals(&me, &[put]).await;
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
    let me = app.api_as(As::Session(&admin));
    let script = "<script>alert(1)</script>";
    let vendor = branch(&me, None, "vendor", script).await;
    assert_eq!(vendor["name"], script);
    let (_, got) = me
        .get(&format!("/api/v1/branches/{}", id_of(&vendor)))
        .await;
    assert_eq!(got["name"], script, "stored verbatim");
    let attr = r#""><img src=x onerror=alert(2)>"#;
    branch(&me, Some(&id_of(&vendor)), "product_name", attr).await;
    let org = "<b>Evil</b> & Co";
    let partner = json!({ "name": org, "kind": "partner" });
    let (status, created) = me.post("/api/v1/organisations", partner).await;
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
