//! Administering accounts: disabling ends access at once; memberships follow the role rules.

use keikai_domain::Role;
use serde_json::json;

use crate::support::{ADMIN_EMAIL, As, NowTs, TestApp};

#[tokio::test]
async fn disabling_a_user_ends_sessions_and_tokens_until_enabled() {
    let app = TestApp::spawn().await;
    let admin = app.user_id(ADMIN_EMAIL).await;
    let admin_session = app.session_for(admin).await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let analyst_session = app.session_for(analyst).await;
    let analyst_token = app.read_token(analyst).await;
    let with_token = app.api(&analyst_token);
    assert_eq!(with_token.get("/api/v1/me").await.0, 200);

    let as_admin = app.api_as(As::Session(&admin_session));
    let user = |id: keikai_domain::UserId| format!("/api/v1/users/{id}");
    let (status, body) = as_admin
        .patch(&user(analyst), json!({"disabled": true}))
        .await;
    assert_eq!(status, 200);
    assert!(body["user"]["disabled_at"].is_string(), "{body}");
    assert_eq!(
        with_token.get("/api/v1/me").await.0,
        401,
        "a disabled user's token still works"
    );
    let res = app.get_as(&analyst_session, "/api/v1/me").await;
    assert_eq!(res.status(), 401, "a disabled user's session still works");
    // The session was ended, not merely suspended: enabling does not bring it back.
    assert!(
        app.store
            .active_session(&analyst_session.id_hash(), app.clock.now_ts())
            .await
            .is_err()
    );

    let enable = json!({"disabled": false, "display_name": "  Aiko Suzuki "});
    let (status, body) = as_admin.patch(&user(analyst), enable).await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["display_name"], "Aiko Suzuki");
    assert!(body["user"]["disabled_at"].is_null());
    assert_eq!(
        with_token.get("/api/v1/me").await.0,
        200,
        "the token works again once enabled"
    );

    // Administrators cannot lock themselves out; bad values are refused.
    for (id, body, field) in [
        (admin, json!({"disabled": true}), Some("disabled")),
        (analyst, json!({"display_name": ""}), None),
        (analyst, json!({"disabled": "yes"}), Some("disabled")),
    ] {
        let (status, answer) = as_admin.patch(&user(id), body.clone()).await;
        assert_eq!(status, 422, "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
        }
    }
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
    let disabled = || async {
        let user = app.store.get_user(engineer).await.unwrap();
        user.disabled_at.is_some()
    };
    let disable = format!("/users/{engineer}/disable");
    assert_eq!(app.post_form(&admin, &disable, &[]).await.0, 303);
    assert!(disabled().await);
    let page = app.get_page(&admin, "/users").await.1;
    let enable = format!("/users/{engineer}/enable");
    assert!(
        page.contains(&format!("action=\"{enable}\"")),
        "no enable button"
    );
    // No role is chosen for the administrator: the least privilege is none until one is
    // picked.
    assert!(
        page.contains(
            "<select name=\"role\" required><option value=\"\" selected disabled>Choose a role</option>"
        ),
        "{page}"
    );
    assert_eq!(app.post_form(&admin, &enable, &[]).await.0, 303);
    assert!(!disabled().await);

    let memberships = format!("/users/{engineer}/memberships");
    let own = app.own_org.to_string();
    let membership = |role| [("org_id", own.as_str()), ("role", role)];
    let (status, _, _) = app
        .post_form(&admin, &memberships, &membership("psirt-analyst"))
        .await;
    assert_eq!(status, 303);
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
    let (status, _, page) = app
        .post_form(&admin, &memberships, &membership("partner-contact"))
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("partner-contact"));
    assert_eq!(app.store.memberships(engineer).await.unwrap().len(), 2);
}
