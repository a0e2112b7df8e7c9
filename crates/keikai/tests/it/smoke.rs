//! The shortest path through the product: sign in, see the dashboard, sign out.

use crate::support::{ADMIN_EMAIL, TestApp, sign_out};

#[tokio::test]
async fn sign_in_see_dashboard_sign_out() {
    let app = TestApp::spawn().await;
    let (client, csrf) = app.login(ADMIN_EMAIL).await;
    let page = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Dashboard</h1>"), "{html}");

    sign_out(&client, &app.base, &csrf).await;
    let res = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303, "still signed in after logout");
    assert_eq!(res.headers()["location"], "/login?next=%2F");
}
