//! Two `keikai serve` processes on one PostgreSQL database behave as one service: a session
//! made through one works on the other, and each sees what was made through the other.

use keikai_store::Backend;
use keikai_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::process::{Server, keikai};
use crate::support::csrf_of;

#[test]
fn two_instances_share_sessions_and_data() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDatabase::create());
    if db.backend() != Backend::Postgres {
        eprintln!(
            "skipping two_instances_share_sessions_and_data: set KEIKAI_TEST_DATABASE_URL to a PostgreSQL server"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let command = || {
        let mut c = keikai(dir.path());
        c.env("KEIKAI_DATABASE_URL", &db.url)
            .env("KEIKAI_ADMIN_PASSWORD", "shared admin password");
        c
    };
    // Both start at once, racing to migrate and to create the first administrator.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Server::start(command()));
        let b = s.spawn(|| Server::start(command()));
        (a.join().unwrap(), b.join().unwrap())
    });
    let created = [&a, &b]
        .iter()
        .filter(|s| {
            s.banner
                .iter()
                .any(|l| l.contains("Created the administrator"))
        })
        .count();
    assert_eq!(created, 1, "banners: {:?} / {:?}", a.banner, b.banner);

    rt.block_on(async {
        // Cookies are scoped to the host, not the port: the session made on A is sent to B.
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = client
            .get(a.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let res = client
            .post(a.url("/login"))
            .form(&[
                ("csrf", csrf_of(&page).as_str()),
                ("email", "admin@keikai.local"),
                ("password", "shared admin password"),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);

        let res = client.get(b.url("/")).send().await.unwrap();
        assert_eq!(
            res.status(),
            200,
            "the session made on A does not work on B"
        );
        let html = res.text().await.unwrap();
        assert!(html.contains("Dashboard"));
        let csrf = csrf_of(&html);

        // Creates through one instance, then lists through the other.
        let create_then_list = |created: String, body: Value, listed: String| {
            let client = client.clone();
            let csrf = csrf.clone();
            async move {
                let res = client
                    .post(created)
                    .header("x-csrf-token", csrf)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                client
                    .get(listed)
                    .send()
                    .await
                    .unwrap()
                    .json::<Vec<Value>>()
                    .await
                    .unwrap()
            }
        };
        let branches = create_then_list(
            a.url("/api/v1/branches"),
            json!({"category": "vendor", "name": "Example Corp"}),
            b.url("/api/v1/branches"),
        )
        .await;
        assert_eq!(branches.len(), 1);
        assert_eq!(branches[0]["name"], "Example Corp");
        let orgs = create_then_list(
            b.url("/api/v1/organisations"),
            json!({"name": "JPCERT/CC", "kind": "coordinator"}),
            a.url("/api/v1/organisations"),
        )
        .await;
        assert!(orgs.iter().any(|o| o["name"] == "JPCERT/CC"), "{orgs:?}");

        // Signing out on B ends the session on A too.
        let res = client
            .post(b.url("/logout"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let res = client.get(a.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(res.status(), 401);
    });
    drop((a, b));
    rt.block_on(db.drop_now());
}
