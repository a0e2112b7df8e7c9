//! Administering accounts: disabling ends access at once; memberships follow the role rules.

use keikai_domain::{Role, Scope};
use serde_json::{Value, json};

use crate::support::{ADMIN_EMAIL, NowTs, TestApp};

#[tokio::test]
async fn disabling_a_user_ends_sessions_and_tokens_until_enabled() {
    let app = TestApp::spawn().await;
    let admin = app.user_id(ADMIN_EMAIL).await;
    let admin_session = app.session_for(admin).await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let analyst_session = app.session_for(analyst).await;
    let (_, analyst_token) = app.store_token(analyst, &[Scope::Read], None).await;
    let client = TestApp::plain_client();
    let me = |auth: String| {
        let client = client.clone();
        let url = app.url("/api/v1/me");
        async move {
            client
                .get(url)
                .header("authorization", auth)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(me(format!("Bearer {analyst_token}")).await, 200);

    let patch = |body: Value, id: String| {
        let client = client.clone();
        let url = app.url(&format!("/api/v1/users/{id}"));
        let (cookie, csrf) = (admin_session.header(), admin_session.csrf.clone());
        async move {
            client
                .patch(url)
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let res = patch(json!({"disabled": true}), analyst.to_string()).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body["user"]["disabled_at"].is_string(), "{body}");
    assert_eq!(
        me(format!("Bearer {analyst_token}")).await,
        401,
        "a disabled user's token still works"
    );
    let res = client
        .get(app.url("/api/v1/me"))
        .header("cookie", analyst_session.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a disabled user's session still works");
    // The session was ended, not merely suspended: enabling does not bring it back.
    assert!(
        app.store
            .active_session(&analyst_session.id_hash(), app.clock.now_ts())
            .await
            .is_err()
    );

    let res = patch(
        json!({"disabled": false, "display_name": "  Aiko Suzuki "}),
        analyst.to_string(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["display_name"], "Aiko Suzuki");
    assert!(body["user"]["disabled_at"].is_null());
    assert_eq!(
        me(format!("Bearer {analyst_token}")).await,
        200,
        "the token works again once enabled"
    );

    // Administrators cannot lock themselves out.
    let res = patch(json!({"disabled": true}), admin.to_string()).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "disabled");
    let res = patch(json!({"display_name": ""}), analyst.to_string()).await;
    assert_eq!(res.status(), 422);
    let res = patch(json!({"disabled": "yes"}), analyst.to_string()).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "disabled");
    assert!(
        app.store
            .get_user(analyst)
            .await
            .unwrap()
            .disabled_at
            .is_none(),
        "a refused request changed the user"
    );
}

#[tokio::test]
async fn users_page_disables_and_adds_memberships() {
    let app = TestApp::spawn().await;
    let admin = app.session_for(app.user_id(ADMIN_EMAIL).await).await;
    let (engineer, _) = app.user_with_role(Role::ProductEngineer).await;
    let client = TestApp::plain_client();
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let client = client.clone();
        let url = app.url(&path);
        let cookie = admin.header();
        let mut form = form;
        form.push(("csrf", admin.csrf.clone()));
        async move {
            client
                .post(url)
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };

    let res = post(format!("/users/{engineer}/disable"), vec![]).await;
    assert_eq!(res.status(), 303);
    assert!(
        app.store
            .get_user(engineer)
            .await
            .unwrap()
            .disabled_at
            .is_some()
    );
    let page = app.get_page(&admin, "/users").await.1;
    assert!(
        page.contains(&format!("action=\"/users/{engineer}/enable\"")),
        "no enable button"
    );
    let res = post(format!("/users/{engineer}/enable"), vec![]).await;
    assert_eq!(res.status(), 303);
    assert!(
        app.store
            .get_user(engineer)
            .await
            .unwrap()
            .disabled_at
            .is_none()
    );

    let res = post(
        format!("/users/{engineer}/memberships"),
        vec![
            ("org_id", app.own_org.to_string()),
            ("role", "psirt-analyst".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let roles: Vec<Role> = app
        .store
        .memberships(engineer)
        .await
        .unwrap()
        .iter()
        .map(|m| m.role)
        .collect();
    assert!(roles.contains(&Role::PsirtAnalyst), "{roles:?}");

    // A role that does not fit the organisation is refused with the reason on the page.
    let res = post(
        format!("/users/{engineer}/memberships"),
        vec![
            ("org_id", app.own_org.to_string()),
            ("role", "partner-contact".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("partner-contact"));
    assert_eq!(app.store.memberships(engineer).await.unwrap().len(), 2);
}
