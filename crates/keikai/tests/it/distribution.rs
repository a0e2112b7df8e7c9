//! Distribution through the public API and the job worker, against a real SMTP server in
//! the test process and a real HTTP receiver for webhooks: lists, the CSV import report,
//! editions, the no-duplicates rule, triggers, tracking, faults.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiff::SignedDuration;
use keikai_app::outbox::{DELIVERY_JOB_KIND, FANOUT_JOB_KIND, WEBHOOK_JOB_KIND};
use keikai_domain::{Clock, Email};
use keikai_jobs::distribution::{
    DeliveryHandler, DistributionWebhookHandler, DistributionWebhookHooks, FanoutHandler,
};
use keikai_jobs::testing::{ReceivedMail, SmtpSink};
use keikai_jobs::webhook::{WebhookHandler, WebhookPolicy};
use keikai_jobs::{Address, MAIL_JOB_KIND, MailHandler, Mailer, SmtpMailer, Worker, WorkerConfig};
use serde_json::{Value, json};

use crate::publishing::{Fixture, fixture};
use crate::support::{Api, NowTs, TestApp, string_pairs};

/// The application the worker's handlers use: the test's store and clock, with links to
/// `https://psirt.example.com`.
pub(crate) fn job_app(app: &TestApp) -> keikai_app::App {
    let mut config = keikai_app::AppConfig::default();
    config.publishing.publisher.base_url = "https://psirt.example.com".to_owned();
    keikai_app::App::new(app.store.clone(), config, app.clock.clone())
}

/// The worker `serve` runs, over the test's store and clock, sending through `sink`.
pub(crate) fn worker(
    app: &TestApp,
    sink: &SmtpSink,
    allow_private: bool,
    disable_after: u32,
) -> Worker {
    let from = Address::named("Example PSIRT", Email::parse("psirt@example.com").unwrap());
    let mailer: Arc<dyn Mailer> = Arc::new(SmtpMailer::new(sink.smtp_config(from)).unwrap());
    let clock: Arc<dyn Clock> = app.clock.clone();
    let jobs = job_app(app);
    let wc = WorkerConfig {
        batch_size: 100,
        ..WorkerConfig::default()
    };
    let attempts = wc.retry.max_attempts;
    let policy = WebhookPolicy {
        allow_private_targets: allow_private,
        timeout: std::time::Duration::from_millis(500),
        disable_after,
    };
    let hooks = Arc::new(DistributionWebhookHooks::new(jobs.clone(), disable_after));
    Worker::new(app.store.clone(), clock, wc)
        .with_handler(FANOUT_JOB_KIND, Arc::new(FanoutHandler::new(jobs.clone())))
        .with_handler(
            DELIVERY_JOB_KIND,
            Arc::new(DeliveryHandler::new(jobs.clone(), mailer.clone(), attempts)),
        )
        .with_handler(MAIL_JOB_KIND, Arc::new(MailHandler::new(mailer)))
        .with_handler(
            WEBHOOK_JOB_KIND,
            Arc::new(DistributionWebhookHandler::new(
                WebhookHandler::new(policy, hooks).unwrap(),
                jobs,
                attempts,
            )),
        )
}

/// Runs the worker until nothing is due now.
pub(crate) async fn drain(w: &Worker) {
    for _ in 0..100 {
        let stats = w.run_once().await.unwrap();
        if stats.claimed == 0 {
            return;
        }
    }
    panic!("the worker kept finding jobs");
}

/// Imports subscribers from CSV as the fixture's analyst.
async fn import(f: &Fixture, csv: &str, dry_run: bool) -> (u16, Value) {
    let res = TestApp::client()
        .post(f.app.url(&format!(
            "/api/v1/distribution/subscribers/import?dry_run={dry_run}"
        )))
        .bearer_auth(&f.analyst_token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

async fn create_list(f: &Fixture, body: Value) -> String {
    let (status, list) = distribution(f).post("/lists", body).await;
    assert_eq!(status, 201, "{list}");
    list["id"].as_str().unwrap().to_owned()
}

/// The distribution API as the fixture's analyst sees it.
pub(crate) fn distribution(f: &Fixture) -> Api<'_> {
    f.app.api(&f.analyst_token).under("/api/v1/distribution")
}

/// Messages by recipient address.
fn by_recipient(mail: &[ReceivedMail]) -> BTreeMap<String, Vec<&ReceivedMail>> {
    let mut out: BTreeMap<String, Vec<&ReceivedMail>> = BTreeMap::new();
    for m in mail {
        for r in &m.rcpt_to {
            out.entry(r.to_lowercase()).or_default().push(m);
        }
    }
    out
}

/// Publishes one advisory (EXA-…) in a release, as the scheduler would.
async fn publish_one(f: &Fixture, title: &str) {
    let (_, r) = f.scheduled(title, 60).await;
    let outcome = f.publish(&r).await;
    assert_eq!(outcome.published.len(), 1, "{:?}", outcome.skipped);
}

#[tokio::test]
async fn a_publication_reaches_each_subscriber_once_in_the_edition_of_their_first_list() {
    let f = fixture().await;
    let mut sink = SmtpSink::start().await;
    let dist = distribution(&f);

    // The engineers' edition carries an internal supplement and asks for acknowledgement.
    let (status, body) = dist
        .put(
            "/editions/engineers",
            json!({
                "name": "engineers",
                "title": "Engineering",
                "sections": ["summary", "severity", "affected_products", "remediations"],
                "supplement": {"en": "INTERNAL: patch the lab routers first.",
                               "ja": "社内向け: 検証環境のルーターから更新してください。"},
                "ack_requested": true,
                "templates": null,
                "revision": 0
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let engineers = create_list(
        &f,
        json!({"name": "engineers", "priority": 1, "edition": "engineers", "internal_only": true}),
    )
    .await;
    let customers = create_list(
        &f,
        json!({"name": "customers", "priority": 2,
               "filter": {"products": [f.old.to_string()]}}),
    )
    .await;
    let everyone = create_list(
        &f,
        json!({"name": "everyone", "priority": 3,
               "triggers": ["publication", "revision", "release_summary"]}),
    )
    .await;
    assert_ne!(engineers, customers);

    // A messy file: valid rows go in; each rejected row is named with its reason.
    let csv = "email,name,kind,language,time_zone,lists\r\n\
               alice@example.com,山田 花子,internal,ja,Asia/Tokyo,engineers;everyone\r\n\
               bob@example.org,Bob,external,en,Europe/Berlin,customers|everyone\r\n\
               carol@example.net,\"Carol, C.\",external,en,,everyone\r\n\
               not-an-address,Nobody,external,en,,everyone\r\n\
               dave@example.org,Dave,external,en,,no-such-list\r\n\
               BOB@example.org,Bob again,external,en,,everyone\r\n\
               erin@example.org,Erin,external,xx,,everyone\r\n\
               mallory@example.org,Mallory,external,en,,engineers\r\n";
    let (status, dry) = import(&f, csv, true).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["accepted"], 3, "{dry}");
    assert_eq!(dry["created"], 0, "a dry run writes nothing: {dry}");
    let (status, report) = import(&f, csv, false).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 3, "{report}");
    let rejected: Vec<(u64, String)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                format!("{} {}", r["field"], r["reason"]),
            )
        })
        .collect();
    assert_eq!(
        rejected.iter().map(|r| r.0).collect::<Vec<_>>(),
        [5, 6, 7, 8, 9],
        "{rejected:?}"
    );
    assert!(rejected[0].1.contains("not-an-address"), "{rejected:?}");
    assert!(rejected[1].1.contains("no-such-list"), "{rejected:?}");
    assert!(
        rejected[2].1.contains("line 3"),
        "duplicate names the first: {rejected:?}"
    );
    assert!(rejected[4].1.contains("internal"), "{rejected:?}");
    // Importing again adds nobody twice.
    let (_, again) = import(&f, csv, false).await;
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(3))
    );

    // A preview renders without sending.
    let (status, preview) = dist
        .post("/editions/engineers/preview", json!({"locale": "ja"}))
        .await;
    assert_eq!(status, 200, "{preview}");
    assert!(
        preview["text"].as_str().unwrap().contains("社内向け"),
        "{preview}"
    );

    publish_one(&f, "Router overflow").await;
    assert!(
        sink.received().is_empty(),
        "publishing only queues the fan-out; nothing is sent before the worker runs"
    );
    let w = worker(&f.app, &sink, true, 10);
    drain(&w).await;

    let mail = sink.received();
    let got = by_recipient(&mail);
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["alice@example.com", "bob@example.org", "carol@example.net"]
    );
    for (who, messages) in &got {
        // One publication and one release summary each (only "everyone" takes summaries).
        assert_eq!(messages.len(), 2, "{who}: {}", messages.len());
        let ids: std::collections::BTreeSet<_> =
            messages.iter().map(|m| m.header("Message-ID")).collect();
        assert_eq!(ids.len(), 2, "{who}");
        for m in messages {
            let unsubscribe = m.header("List-Unsubscribe").unwrap_or_default();
            assert!(
                unsubscribe.starts_with("<https://psirt.example.com/unsubscribe/"),
                "{who}: {unsubscribe}"
            );
            assert_eq!(
                m.header("List-Unsubscribe-Post").as_deref(),
                Some("List-Unsubscribe=One-Click")
            );
        }
    }
    let body = |m: &&ReceivedMail| {
        format!(
            "{}{}",
            m.text_body().unwrap_or_default(),
            m.html_body().unwrap_or_default()
        )
    };
    let alice: String = got["alice@example.com"].iter().map(body).collect();
    assert!(
        alice.contains("/ack/"),
        "the engineers' edition asks for an ack: {alice}"
    );
    assert!(
        alice.contains("社内向け"),
        "with its supplement, in Japanese: {alice}"
    );
    let bob: String = got["bob@example.org"].iter().map(body).collect();
    assert!(
        !bob.contains("/ack/"),
        "customers are not asked to acknowledge"
    );
    assert!(
        !bob.contains("INTERNAL"),
        "nor given the internal supplement"
    );
    assert!(bob.contains("Router overflow"), "{bob}");

    // The report: two events, every delivery sent.
    let (status, events) = dist.get("/events").await;
    assert_eq!(status, 200, "{events}");
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    for e in events {
        assert_eq!(e["counts"]["sent"], 3, "{e}");
        assert_eq!(e["counts"]["total"], 3, "{e}");
    }
    let publication = events.iter().find(|e| e["kind"] == "publication").unwrap();
    let (_, report) = dist
        .get(&format!("/events/{}", publication["id"].as_str().unwrap()))
        .await;
    let lists: BTreeMap<&str, &str> = string_pairs(&report["deliveries"], "address", "list")
        .into_iter()
        .collect();
    assert_eq!(
        lists["alice@example.com"], engineers,
        "the highest-priority list decides"
    );
    assert_eq!(lists["bob@example.org"], customers);
    assert_eq!(lists["carol@example.net"], everyone);

    // Nothing is sent twice: the jobs are done, and a repeated fan-out finds its event.
    drain(&w).await;
    assert_eq!(sink.received().len(), 6);
    sink.stop().await;
}

#[tokio::test]
async fn a_refused_recipient_bounces_a_busy_relay_is_retried_and_nothing_is_sent_twice() {
    let f = fixture().await;
    let mut sink = SmtpSink::start().await;
    let dist = distribution(&f);
    create_list(&f, json!({"name": "all", "priority": 1})).await;
    let csv = "email,lists\nx@example.com,all\ny@example.com,all\nz@example.com,all\n";
    let (status, report) = import(&f, csv, false).await;
    assert_eq!(
        (status, report["created"].as_u64()),
        (200, Some(3)),
        "{report}"
    );
    sink.reject_recipient("y@example.com");
    sink.fail_next(1);

    let (status, queued) = dist
        .post(
            "/early-warnings",
            json!({"title_en": "Exploitation of the router parser",
                    "body_en": "Block port 4242 until the fix ships.",
                    "exploited": true, "max_score": 9.8}),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    let w = worker(&f.app, &sink, true, 10);
    drain(&w).await;

    let (_, events) = dist.get("/events").await;
    let id = events[0]["id"].as_str().unwrap().to_owned();
    let report = |state: &'static str| {
        let (dist, id) = (&dist, id.clone());
        async move {
            let (_, r) = dist.get(&format!("/events/{id}?state={state}")).await;
            r["deliveries"].as_array().unwrap().clone()
        }
    };
    // Whichever message met the busy relay (they go out concurrently) waits for its retry.
    let queued = report("queued").await;
    assert_eq!(
        queued.len(),
        1,
        "one message met the busy relay: {queued:?}"
    );
    assert!(
        queued[0]["error"].as_str().unwrap().contains("451"),
        "{queued:?}"
    );

    // Its retry is due after the back-off.
    f.app.clock.advance(SignedDuration::from_secs(31));
    drain(&w).await;
    assert_eq!(report("sent").await.len(), 2);
    assert!(report("queued").await.is_empty());
    let bounced = report("bounced").await;
    assert_eq!(bounced.len(), 1, "{bounced:?}");
    assert_eq!(bounced[0]["address"], "y@example.com");
    assert!(
        bounced[0]["error"].as_str().unwrap().contains("550"),
        "{bounced:?}"
    );
    let mail = sink.received();
    let got = by_recipient(&mail);
    assert_eq!(got.get("x@example.com").map(Vec::len), Some(1));
    assert_eq!(got.get("z@example.com").map(Vec::len), Some(1));
    assert!(!got.contains_key("y@example.com"));

    // A bounce reported later turns a sent delivery into a bounced one.
    let sent = report("sent").await;
    let (status, d) = dist
        .post(
            "/bounces",
            json!({"message_id": sent[0]["message_id"], "reason": "5.1.1 mailbox unknown"}),
        )
        .await;
    assert_eq!((status, d["state"].as_str()), (200, Some("bounced")), "{d}");
    sink.stop().await;
}

/// A webhook receiver on loopback: answers with the statuses given in turn (then 200),
/// and keeps what it received.
/// What a receiver got: headers and raw body of each request.
type Seen = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

struct Receiver {
    url: String,
    seen: Seen,
}

async fn receiver(statuses: Vec<u16>) -> Receiver {
    let seen: Seen = Arc::default();
    let queue = Arc::new(Mutex::new(statuses));
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let s = s.clone();
                let queue = queue.clone();
                async move {
                    s.lock().unwrap().push((headers, body.to_vec()));
                    let mut q = queue.lock().unwrap();
                    let status = if q.is_empty() { 200 } else { q.remove(0) };
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url: format!("http://{addr}/hook"),
        seen,
    }
}

#[tokio::test]
async fn webhooks_are_signed_retried_disabled_after_failures_and_kept_off_private_networks() {
    let f = fixture().await;
    let mut sink = SmtpSink::start().await;
    let dist = distribution(&f);
    let list = create_list(&f, json!({"name": "soc", "priority": 1})).await;
    let flaky = receiver(vec![500]).await;
    let broken = receiver(vec![500; 100]).await;
    let secret = "a-very-long-shared-secret";
    let (status, hook) = dist
        .post(
            "/webhooks",
            json!({"list": list, "name": "SOAR", "url": flaky.url, "secret": secret}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let (status, bad) = dist
        .post(
            "/webhooks",
            json!({"list": list, "name": "Broken", "url": broken.url}),
        )
        .await;
    assert_eq!(status, 201, "{bad}");
    let (status, invalid) = dist
        .post(
            "/webhooks",
            json!({"list": list, "name": "FTP", "url": "ftp://example.com/x"}),
        )
        .await;
    assert_eq!(status, 422, "{invalid}");
    assert!(invalid.to_string().contains("url"), "{invalid}");

    let warn = |n: u32| json!({"title_en": format!("Warning {n}"), "body_en": "Body."});
    let (status, _) = dist.post("/early-warnings", warn(1)).await;
    assert_eq!(status, 202);
    let w = worker(&f.app, &sink, true, 2);
    drain(&w).await;
    assert_eq!(
        flaky.seen.lock().unwrap().len(),
        1,
        "the first call failed with 500"
    );
    f.app.clock.advance(SignedDuration::from_secs(31));
    drain(&w).await;
    {
        let seen = flaky.seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "retried after the back-off");
        let (h1, _) = &seen[0];
        let (h2, body) = &seen[1];
        assert_eq!(
            h1["x-keikai-delivery"], h2["x-keikai-delivery"],
            "one delivery id"
        );
        let sig = h2["x-keikai-signature"].to_str().unwrap();
        keikai_jobs::webhook::verify_signature(
            secret.as_bytes(),
            sig,
            body,
            f.app.clock.now().as_second(),
            3600,
        )
        .unwrap();
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["event"], "early_warning", "{event}");
    }
    // The broken endpoint failed twice in a row: disabled, with the reason.
    let (_, hooks) = dist.get("/webhooks").await;
    let broken_state = hooks
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "Broken")
        .unwrap()
        .clone();
    assert_eq!(broken_state["enabled"], false, "{broken_state}");
    assert!(
        broken_state["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("500")
    );
    assert!(
        hooks.to_string().find(secret).is_none(),
        "secrets are not listed"
    );
    let calls_before = broken.seen.lock().unwrap().len();
    dist.post("/early-warnings", warn(2)).await;
    drain(&w).await;
    assert_eq!(
        broken.seen.lock().unwrap().len(),
        calls_before,
        "a disabled endpoint gets nothing"
    );
    assert_eq!(flaky.seen.lock().unwrap().len(), 3);

    // Loopback targets are refused unless configured.
    dist.post("/early-warnings", warn(3)).await;
    let strict = worker(&f.app, &sink, false, 10);
    drain(&strict).await;
    assert_eq!(
        flaky.seen.lock().unwrap().len(),
        3,
        "no request reached the loopback receiver"
    );
    let (_, events) = dist.get("/events").await;
    let newest = events[0]["id"].as_str().unwrap();
    let (_, report) = dist.get(&format!("/events/{newest}?state=failed")).await;
    let failed = report["deliveries"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{report}");
    assert!(
        failed[0]["error"].as_str().unwrap().contains("127.0.0.1"),
        "{report}"
    );
    sink.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named() {
    let f = fixture().await;
    let dist = distribution(&f);
    let cases = [
        (
            "POST",
            "/lists",
            json!({"name": "x", "priority": 0}),
            "priority",
        ),
        (
            "POST",
            "/lists",
            json!({"name": "x", "priority": 1, "filter": {"min_score": 11.0}}),
            "min_score",
        ),
        (
            "POST",
            "/lists",
            json!({"name": "x", "priority": 1, "triggers": ["sometimes"]}),
            "sometimes",
        ),
        (
            "POST",
            "/subscribers",
            json!({"email": "not an address"}),
            "email",
        ),
        (
            "POST",
            "/subscribers",
            json!({"email": "a@example.com", "time_zone": "Mars/Olympus"}),
            "time_zone",
        ),
        (
            "POST",
            "/subscribers",
            json!({"email": "a@example.com", "openpgp_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\nxyz\n-----END PGP PUBLIC KEY BLOCK-----"}),
            "openpgp_key",
        ),
        (
            "PUT",
            "/editions/broken",
            json!({"name": "broken", "title": "Broken", "sections": [], "supplement": {"en": "", "ja": ""},
                   "ack_requested": false, "revision": 0,
                   "templates": {"subject": {"en": "{{ event.title.en", "ja": "x"},
                                 "text": {"en": "x", "ja": "x"}, "html": {"en": "x", "ja": "x"}}}),
            "subject",
        ),
        (
            "POST",
            "/early-warnings",
            json!({"title_en": "x", "body_en": "y", "products": ["nope"]}),
            "products",
        ),
    ];
    for (method, path, body, want) in cases {
        let (status, answer) = dist.send(method, path, Some(body.clone())).await;
        assert_eq!(status, 422, "{path} {body}: {answer}");
        assert!(
            answer.to_string().contains(want),
            "{path}: {want} not in {answer}"
        );
    }
    let (status, answer) = import(&f, "name,lists\nBob,all\n", false).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer.to_string().contains("email"), "{answer}");
    // A reporter's token sees nothing of distribution.
    let (reporter, _) = f.app.user_with_role(keikai_domain::Role::Reporter).await;
    let rt = f.app.read_token(reporter).await;
    let (status, _) = f.app.api(&rt).get("/api/v1/distribution/subscribers").await;
    assert_eq!(status, 404);
    let _ = f.app.clock.now_ts();
}

#[tokio::test]
async fn a_daily_digest_goes_out_once_after_its_day_to_the_lists_that_take_it() {
    let f = fixture().await;
    let mut sink = SmtpSink::start().await;
    let digest = json!({"name": "digest", "priority": 1, "triggers": ["daily_digest"]});
    create_list(&f, digest).await;
    let (status, _) = import(&f, "email,lists\nd@example.com,digest\n", false).await;
    assert_eq!(status, 200);
    publish_one(&f, "Digest item").await;
    let application = f.application(f.app.store.clone());
    let w = worker(&f.app, &sink, true, 10);
    drain(&w).await;
    assert_eq!(
        sink.received_count(),
        0,
        "the digest list takes no single publications"
    );
    // The day is not over: no digest yet.
    assert_eq!(
        keikai_app::distribution::enqueue_due_digests(&application, &keikai_app::Caller::system())
            .await
            .unwrap(),
        0
    );
    f.app.clock.advance(SignedDuration::from_hours(24));
    // One daily digest (and, when the day was a Sunday, last week's weekly one, which no
    // list here takes).
    assert!(
        keikai_app::distribution::enqueue_due_digests(&application, &keikai_app::Caller::system())
            .await
            .unwrap()
            >= 1
    );
    // A second instance (or tick) queues nothing more.
    assert_eq!(
        keikai_app::distribution::enqueue_due_digests(&application, &keikai_app::Caller::system())
            .await
            .unwrap(),
        0
    );
    drain(&w).await;
    let mail = sink.received();
    assert_eq!(mail.len(), 1);
    let text = mail[0].text_body().unwrap_or_default();
    assert!(text.contains("Digest item"), "{text}");
    sink.stop().await;
}
