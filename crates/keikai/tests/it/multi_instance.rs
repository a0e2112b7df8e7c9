//! Two `keikai serve` processes on one PostgreSQL database behave as one service: a session
//! made through one works on the other, each sees what was made through the other, and the
//! schedule's work is done by one of them.

use jiff::{SignedDuration, Timestamp};
use keikai_domain::advisory::Tlp;
use keikai_domain::release::ReleaseState;
use keikai_store::Backend;
use keikai_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::process::{Server, keikai};
use crate::publishing::plan_release;
use crate::support::{csrf_of, sign_in, sign_out};

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
        let res = sign_in(
            &client,
            &a.url,
            "admin@keikai.local",
            "shared admin password",
        )
        .await;
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
        sign_out(&client, &b.url, &csrf).await;
        let res = client.get(a.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(res.status(), 401);
    });
    drop((a, b));
    rt.block_on(db.drop_now());
}

/// What `publish_release` logs before it builds and signs anything.
const SIGNING: &str = "building and signing the files of a release";

#[test]
fn exactly_one_instance_publishes_a_due_release() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let f = rt.block_on(crate::publishing::fixture());
    if f.app.db.backend() != Backend::Postgres {
        eprintln!(
            "skipping exactly_one_instance_publishes_a_due_release: set KEIKAI_TEST_DATABASE_URL to a PostgreSQL server"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A tick a second, so that both instances are polling when the release falls due.
    std::fs::write(
        dir.path().join("keikai.toml"),
        "[publishing]\npoll_seconds = 1\n",
    )
    .unwrap();
    let command = || {
        let mut c = keikai(dir.path());
        c.args(["--config", "keikai.toml"])
            .env("KEIKAI_DATABASE_URL", &f.app.db.url)
            .env("KEIKAI_LOG", "info,sqlx=warn,tower_http=warn");
        c
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Server::start(command()));
        let b = s.spawn(|| Server::start(command()));
        (a.join().unwrap(), b.join().unwrap())
    });

    let release = rt.block_on(async {
        let advisory = f.advisory("Due release", Tlp::Clear).await;
        let now = Timestamp::now();
        let after = SignedDuration::from_secs(3);
        let release = plan_release(&f.app, now, after, "Out-of-band release").await;
        f.approve_and_schedule(&advisory, &release).await;
        release
    });

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let state = rt
            .block_on(f.app.store.get_release(release.id()))
            .unwrap()
            .state();
        if state == ReleaseState::Published {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not published within a minute:\n--- A\n{}\n--- B\n{}",
            a.logs(),
            b.logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // Several more ticks on both: neither starts on the release again.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let (la, lb) = (a.logs(), b.logs());
    let count = |needle: &str| la.matches(needle).count() + lb.matches(needle).count();
    assert_eq!(count(SIGNING), 1, "--- A\n{la}\n--- B\n{lb}");
    assert_eq!(count("release published"), 1, "--- A\n{la}\n--- B\n{lb}");
    let files = rt.block_on(f.app.store.list_artifacts(None)).unwrap();
    assert!(!files.is_empty());
    drop((a, b));
}
