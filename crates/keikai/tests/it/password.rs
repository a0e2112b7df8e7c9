//! One's own account from the profile page: the password (the current one is asked for, this
//! session stays, the person's other sessions end) and the name others see.

use keikai_domain::Role;

use crate::support::{PASSWORD, TestApp};

#[tokio::test]
async fn a_person_changes_their_password_and_their_other_sessions_end() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let here = app.session_for(analyst).await;
    let elsewhere = app.session_for(analyst).await;
    let (status, page) = app.get_page(&here, "/profile").await;
    assert_eq!(status, 200);
    assert!(page.contains("action=\"/profile/password\""), "{page}");
    let new = "a brand new long password";
    let form = |current: &'static str| {
        [
            ("current_password", current),
            ("new_password", new),
            ("confirm_password", new),
        ]
    };
    let (status, _, body) = app
        .post_form(&here, "/profile/password", &form("a wrong guess here"))
        .await;
    assert_eq!(status, 422, "{body}");
    // The profile page again, saying what was wrong, not a bare error page.
    assert!(
        body.contains("role=\"alert\">The current password is not right.<"),
        "{body}"
    );
    assert!(body.contains("id=\"password-form\""), "{body}");
    let (status, _, body) = app
        .post_form(&here, "/profile/password", &form(PASSWORD))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Your password was changed"), "{body}");
    assert_eq!(
        app.get_page(&here, "/profile").await.0,
        200,
        "this session stays"
    );
    let (status, _) = app.get_page(&elsewhere, "/profile").await;
    assert_ne!(status, 200, "the other session ended");

    // The name others see is theirs to change too; a blank one is refused by name.
    let form = [("display_name", "Aiko Tanaka"), ("locale", "ja")];
    let (status, _, body) = app.post_form(&here, "/profile", &form).await;
    assert_eq!(status, 303, "{body}");
    let user = app.store.get_user(analyst).await.unwrap();
    assert_eq!(user.display_name.to_string(), "Aiko Tanaka");
    let (status, _, body) = app
        .post_form(&here, "/profile", &[("display_name", " "), ("locale", "")])
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("display_name"), "{body}");
}
