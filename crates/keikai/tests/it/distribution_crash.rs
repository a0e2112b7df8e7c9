//! Exactly once across a crash: `keikai serve` is killed with SIGKILL in the middle of a
//! fan-out to a real SMTP server (inside this test process), restarted, and every recipient
//! ends up with exactly one message. On SQLite and PostgreSQL, and on PostgreSQL also with
//! two instances sharing the database, one of which is killed.
//!
//! Where the kill lands is chosen, not left to chance: the relay is made to stall before it
//! answers DATA, so the messages in flight at the kill have not been accepted (a real relay
//! discards a transaction cut off before the end of its data). What no system can make
//! exactly once — a kill between the relay's final "250" and the database noting it — is
//! described in `keikai_jobs::distribution`; the stall keeps this test about what can be.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keikai_domain::subscription::{SubscriberInput, SubscriberKind};
use keikai_domain::{Email, Scope};
use keikai_jobs::testing::SmtpSink;
use keikai_store::Effects;
use keikai_store::testing::TestDatabase;
use keikai_store::{Backend, DeliveryState, Store};
use serde_json::json;

use crate::process::{Server, keikai};
use crate::seed::{active_subscribers, audience_list, save_lists, seeded};

const RECIPIENTS: usize = 150;
const ADMIN: &str = "admin@keikai.local";

fn config(dir: &Path, sink: &SmtpSink) -> std::path::PathBuf {
    let path = dir.join("keikai.toml");
    let toml = format!(
        "public_url = \"https://psirt.example.com\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
         from = \"Example PSIRT <psirt@example.com>\"\ntimeout_seconds = 2\n\
         [distribution]\njob_timeout_seconds = 3\nworker_batch = 8\n",
        sink.addr().port()
    );
    std::fs::write(&path, toml).unwrap();
    path
}

async fn seed(store: &Arc<dyn Store>) {
    let now = jiff::Timestamp::now();
    let list = audience_list("everyone".to_owned(), 1);
    save_lists(store, std::slice::from_ref(&list), now).await;
    let rows = active_subscribers(now, RECIPIENTS, |n| {
        let input = SubscriberInput {
            email: format!("r{n:04}@example.com"),
            name: format!("Recipient {n}"),
            kind: SubscriberKind::External,
            locale: None,
            time_zone: None,
            openpgp_key: None,
        };
        (input, vec![list.id])
    });
    let fx = Effects::system(now).with_audit(seeded());
    store.import_subscribers(&rows, &fx).await.unwrap();
}

/// An API token of the first administrator (created by the first `serve`).
async fn admin_token(store: &Arc<dyn Store>) -> String {
    let user = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email.as_str() == ADMIN)
        .unwrap();
    let secret = format!(
        "{}{}",
        keikai_domain::TokenSecret::PREFIX,
        keikai_app::secret::random_secret()
    );
    store
        .create_token(
            &keikai_store::NewToken {
                id: keikai_domain::TokenId::new(),
                user_id: user.id,
                name: "crash test".to_owned(),
                scopes: vec![Scope::Read, Scope::Write],
                secret_hash: keikai_app::secret::sha256_hex(&secret),
                expires_at: None,
            },
            &Effects::system(jiff::Timestamp::now()),
        )
        .await
        .unwrap();
    secret
}

fn per_recipient(sink: &SmtpSink) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for m in sink.received() {
        for r in m.rcpt_to {
            *n.entry(r.to_lowercase()).or_insert(0) += 1;
        }
    }
    n
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run(instances: usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDatabase::create());
    if instances > 1 && db.backend() != Backend::Postgres {
        eprintln!(
            "skipping the two-instance crash test: it needs KEIKAI_TEST_DATABASE_URL (PostgreSQL)"
        );
        return;
    }
    let sink = rt.block_on(SmtpSink::start());
    // Slow enough that the fan-out is still going when the kill comes.
    sink.set_delay(Duration::from_millis(3));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &sink);
    let command = || {
        let mut c = keikai(dir.path());
        c.env("KEIKAI_DATABASE_URL", &db.url)
            .env("KEIKAI_CONFIG", &cfg)
            .env("KEIKAI_ADMIN_PASSWORD", "crash test admin password");
        c
    };
    let first = Server::start(command());
    let mut others: Vec<Server> = (1..instances).map(|_| Server::start(command())).collect();
    let store = rt.block_on(async {
        let s = keikai_store::connect(&db.url).await.unwrap();
        seed(&s).await;
        s
    });
    let token = rt.block_on(admin_token(&store));

    let res = rt.block_on(async {
        reqwest::Client::new()
            .post(first.url("/api/v1/distribution/early-warnings"))
            .bearer_auth(&token)
            .json(
                &json!({"title_en": "Exploited parser bug", "body_en": "Block port 4242.",
                          "exploited": true}),
            )
            .send()
            .await
            .unwrap()
    });
    assert_eq!(
        res.status(),
        202,
        "the warning is queued, not sent, by the request"
    );

    // Mid-fan-out: some messages are through, most are not.
    wait_until("the first messages", Duration::from_secs(60), || {
        sink.received().len() >= RECIPIENTS / 5
    });
    // The relay stalls before answering DATA; what is in flight now is not accepted.
    sink.delay_command("DATA", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(400));
    let before_kill = sink.received().len();
    assert!(
        before_kill < RECIPIENTS,
        "the fan-out finished before the kill ({before_kill} sent); the test proves nothing"
    );
    let mut killed = first;
    killed.kill();
    // With two instances, the survivor goes on; it stalls on the relay like the first.
    sink.delay_command("DATA", Duration::ZERO);
    sink.set_delay(Duration::ZERO);
    let restarted = if instances == 1 {
        Some(Server::start(command()))
    } else {
        None
    };

    wait_until(
        "every recipient's message",
        Duration::from_secs(120),
        || per_recipient(&sink).len() >= RECIPIENTS,
    );
    // Let any duplicate that would come, come: the killed instance's leases run out after
    // a few seconds and its jobs are taken over then.
    std::thread::sleep(Duration::from_secs(8));
    let got = per_recipient(&sink);
    assert_eq!(got.len(), RECIPIENTS, "everyone got the warning");
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "received more than once: {twice:?}");

    rt.block_on(async {
        let events = store.list_events(10).await.unwrap();
        assert_eq!(events.len(), 1, "one event, planned once");
        let counts = store.delivery_counts(events[0].id).await.unwrap();
        assert_eq!(
            (counts.sent, counts.total()),
            (RECIPIENTS as u64, RECIPIENTS as u64),
            "{counts:?}"
        );
        let queued = store
            .list_deliveries(events[0].id, Some(DeliveryState::Queued), 10)
            .await
            .unwrap();
        assert!(queued.is_empty());
    });
    drop(restarted);
    others.clear();
    let _ = Email::parse(ADMIN);
}

#[test]
fn a_fan_out_killed_midway_finishes_after_a_restart_with_one_message_each() {
    run(1);
}

#[test]
fn with_two_instances_on_postgres_the_survivor_finishes_a_killed_fan_out() {
    run(2);
}
