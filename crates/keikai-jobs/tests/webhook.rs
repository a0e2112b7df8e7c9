//! Webhook jobs through the real worker and store (SQLite by default, PostgreSQL with
//! `KEIKAI_TEST_DATABASE_URL`) to a real HTTP receiver on 127.0.0.1 in the test process.
//! The receiver answers from a script and records every request with its raw body.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use keikai_domain::{Clock, ManualClock};
use keikai_jobs::webhook::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use keikai_jobs::{
    RetryPolicy, WEBHOOK_JOB_KIND, WebhookError, WebhookHandler, WebhookHooks, WebhookOutcome,
    WebhookPolicy, WebhookRequest, Worker, WorkerConfig, verify_signature,
};
use keikai_store::Effects;
use keikai_store::testing::TestDatabase;
use keikai_store::{Job, JobState, Store};
use serde_json::json;
use tokio::task::JoinHandle;

const SECRET: &str = "whsec-test-秘密";

/// `t(0)` is 2026-09-21T14:13:20Z.
fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + secs).unwrap()
}

// ---------------------------------------------------------------------------------------
// The receiver.

#[derive(Debug, Clone)]
enum Reply {
    Status(u16, &'static str),
    /// Answers 200 after this long.
    Hang(Duration),
    /// 302 to this path on the receiver.
    Redirect(&'static str),
}

#[derive(Debug, Clone)]
struct Received {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    /// Replies to the next requests, in order; 200 once it is empty.
    script: VecDeque<Reply>,
    addr: Option<SocketAddr>,
}

type Shared = Arc<Mutex<ReceiverState>>;

struct Receiver {
    addr: SocketAddr,
    state: Shared,
    task: JoinHandle<()>,
}

impl Receiver {
    async fn start(script: impl IntoIterator<Item = Reply>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state: Shared = Arc::new(Mutex::new(ReceiverState {
            script: script.into_iter().collect(),
            addr: Some(addr),
            ..ReceiverState::default()
        }));
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, state, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (reply, addr) = {
        let mut s = state.lock().unwrap();
        s.received.push(Received {
            method,
            uri,
            headers,
            body,
        });
        let reply = s.script.pop_front().unwrap_or(Reply::Status(200, "ok"));
        (reply, s.addr.unwrap())
    };
    match reply {
        Reply::Status(code, text) => (StatusCode::from_u16(code).unwrap(), text).into_response(),
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            "late".into_response()
        }
        Reply::Redirect(path) => (
            StatusCode::FOUND,
            [(header::LOCATION, format!("http://{addr}{path}"))],
        )
            .into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// The application's side.

#[derive(Default)]
struct Hooks {
    disabled: AtomicBool,
    fail_record: AtomicBool,
    records: Mutex<Vec<(WebhookRequest, WebhookOutcome)>>,
}

impl Hooks {
    fn outcomes(&self) -> Vec<WebhookOutcome> {
        self.records
            .lock()
            .unwrap()
            .iter()
            .map(|(_, o)| o.clone())
            .collect()
    }
}

#[async_trait]
impl WebhookHooks for Hooks {
    async fn is_enabled(&self, _endpoint: &str) -> Result<bool, String> {
        Ok(!self.disabled.load(Ordering::SeqCst))
    }

    async fn record(
        &self,
        request: &WebhookRequest,
        outcome: &WebhookOutcome,
    ) -> Result<(), String> {
        if self.fail_record.load(Ordering::SeqCst) {
            return Err("the database is gone".into());
        }
        self.records
            .lock()
            .unwrap()
            .push((request.clone(), outcome.clone()));
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// The worker.

struct Env {
    db: TestDatabase,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    hooks: Arc<Hooks>,
    worker: Worker,
}

/// Private targets allowed (the receiver is on 127.0.0.1). Answers come at once, so a
/// generous timeout costs nothing and keeps a loaded machine from failing tests; the
/// hanging receiver's test sets 200 ms.
fn test_policy() -> WebhookPolicy {
    WebhookPolicy {
        allow_private_targets: true,
        timeout: Duration::from_secs(5),
        ..WebhookPolicy::default()
    }
}

impl Env {
    async fn new(policy: WebhookPolicy) -> Self {
        let db = TestDatabase::create().await;
        let store = db.store().await;
        let clock = Arc::new(ManualClock::new(t(0)));
        let hooks = Arc::new(Hooks::default());
        let handler = WebhookHandler::new(policy, hooks.clone()).unwrap();
        let worker = Worker::new(
            store.clone(),
            clock.clone(),
            WorkerConfig {
                name: "test-worker".into(),
                retry: RetryPolicy {
                    base: SignedDuration::from_secs(30),
                    cap: SignedDuration::from_secs(3600),
                    max_attempts: 5,
                },
                ..WorkerConfig::default()
            },
        )
        .with_handler(WEBHOOK_JOB_KIND, Arc::new(handler));
        Self {
            db,
            store,
            clock,
            hooks,
            worker,
        }
    }

    async fn enqueue(&self, key: &str, request: &WebhookRequest) {
        let job = request.to_job(key, self.clock.now()).unwrap();
        assert_eq!(
            self.store
                .commit(&Effects::system(self.clock.now()).with_jobs([job]))
                .await
                .unwrap(),
            1
        );
    }

    async fn job(&self, key: &str) -> Job {
        self.store.get_job_by_key(key).await.unwrap()
    }

    async fn done(self) {
        self.db.drop_now().await;
    }
}

fn request(url: String) -> WebhookRequest {
    WebhookRequest {
        endpoint: "ep-1".into(),
        url,
        secret: SECRET.into(),
        event: "advisory.published".into(),
        delivery: "0193e3a0-7c1f-7000-8000-00000000d001".into(),
        body: json!({
            "advisory": "KEIKAI-2026-0001",
            "title": "警戒ルーターの脆弱性",
            "cvss": { "version": "3.1", "score": 9.8 },
        }),
    }
}

fn failed(outcome: &WebhookOutcome) -> (&str, bool) {
    match outcome {
        WebhookOutcome::Failed { error, permanent } => (error.as_str(), *permanent),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// What a receiver does: check the signature over the raw body, against its own clock.
fn verify(r: &Received) -> Result<(), WebhookError> {
    verify_signature(
        SECRET.as_bytes(),
        r.header(SIGNATURE_HEADER),
        &r.body,
        Timestamp::now().as_second(),
        300,
    )
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_delivery_is_signed_over_the_raw_body() {
    let env = Env::new(test_policy()).await;
    let receiver = Receiver::start([Reply::Status(202, "queued")]).await;
    let r = request(receiver.url("/hooks/keikai?team=psirt"));
    env.enqueue("webhook:ep-1:adv-1", &r).await;

    let stats = env.worker.run_once().await.unwrap();
    assert_eq!((stats.claimed, stats.done), (1, 1));
    assert_eq!(env.job("webhook:ep-1:adv-1").await.state, JobState::Done);

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let got = &got[0];
    assert_eq!(got.method, Method::POST);
    assert_eq!(got.uri.to_string(), "/hooks/keikai?team=psirt");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header("user-agent"), "Keikai-Webhook/1");
    assert_eq!(got.header(EVENT_HEADER), "advisory.published");
    assert_eq!(got.header(DELIVERY_HEADER), r.delivery);
    verify(got).unwrap();
    let body: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body, r.body);

    // The signature binds the body and the secret.
    let mut tampered = got.clone();
    // The same JSON, other bytes.
    tampered.body = Bytes::from([&got.body[..], b" "].concat());
    assert_eq!(verify(&tampered), Err(WebhookError::BadSignature));
    assert_eq!(
        verify_signature(
            b"another secret",
            got.header(SIGNATURE_HEADER),
            &got.body,
            Timestamp::now().as_second(),
            300
        ),
        Err(WebhookError::BadSignature)
    );

    let records = env.hooks.records.lock().unwrap().clone();
    assert_eq!(records, [(r, WebhookOutcome::Delivered { status: 202 })]);
    env.done().await;
}

#[tokio::test]
async fn a_server_error_is_retried_with_the_same_delivery_id() {
    let env = Env::new(test_policy()).await;
    let receiver = Receiver::start([Reply::Status(500, "database down")]).await;
    let r = request(receiver.url("/hook"));
    env.enqueue("w:retry", &r).await;

    let stats = env.worker.run_once().await.unwrap();
    assert_eq!((stats.claimed, stats.retried), (1, 1));
    let j = env.job("w:retry").await;
    assert_eq!(
        (j.state, j.run_at, j.attempts),
        (JobState::Queued, t(30), 1)
    );
    let error = j.last_error.unwrap();
    assert!(error.contains("500 Internal Server Error"), "{error}");
    assert!(error.contains("database down"), "{error}");
    assert!(!error.contains("/hook"), "the path stays out: {error}");
    let outcomes = env.hooks.outcomes();
    assert_eq!(outcomes.len(), 1, "reported before the handler returned");
    assert_eq!(failed(&outcomes[0]), (error.as_str(), false));

    env.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(env.worker.run_once().await.unwrap().done, 1);
    let j = env.job("w:retry").await;
    assert_eq!((j.state, j.attempts), (JobState::Done, 2));
    assert_eq!(
        env.hooks.outcomes()[1],
        WebhookOutcome::Delivered { status: 200 }
    );

    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].header(DELIVERY_HEADER),
        got[1].header(DELIVERY_HEADER)
    );
    assert_eq!(got[0].body, got[1].body);
    for g in &got {
        verify(g).unwrap();
    }
    env.done().await;
}

#[tokio::test]
async fn a_hanging_receiver_fails_the_attempt_retryably() {
    let env = Env::new(WebhookPolicy {
        timeout: Duration::from_millis(200),
        ..test_policy()
    })
    .await;
    let receiver = Receiver::start([Reply::Hang(Duration::from_secs(10))]).await;
    env.enqueue("w:hang", &request(receiver.url("/hook"))).await;

    let started = Instant::now();
    let stats = env.worker.run_once().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stats.retried, 1);
    let j = env.job("w:hang").await;
    assert_eq!(j.state, JobState::Queued);
    let error = j.last_error.unwrap();
    assert!(error.contains("no answer within 0.2 s"), "{error}");
    let outcomes = env.hooks.outcomes();
    assert_eq!(failed(&outcomes[0]), (error.as_str(), false));
    assert_eq!(receiver.received().len(), 1, "the request did arrive");
    env.done().await;
}

#[tokio::test]
async fn client_errors_are_permanent_but_408_and_429_are_retried() {
    let env = Env::new(test_policy()).await;
    let receiver = Receiver::start([Reply::Status(404, "no such hook")]).await;
    env.enqueue("w:404", &request(receiver.url("/hook"))).await;
    let stats = env.worker.run_once().await.unwrap();
    assert_eq!((stats.claimed, stats.dead), (1, 1));
    let j = env.job("w:404").await;
    assert_eq!((j.state, j.attempts), (JobState::Dead, 1));
    let error = j.last_error.unwrap();
    assert!(error.contains("404 Not Found: no such hook"), "{error}");
    assert_eq!(failed(&env.hooks.outcomes()[0]), (error.as_str(), true));

    for (code, key) in [(408, "w:408"), (429, "w:429"), (503, "w:503")] {
        receiver
            .state
            .lock()
            .unwrap()
            .script
            .push_back(Reply::Status(code, "later"));
        let mut r = request(receiver.url("/hook"));
        r.delivery = format!("d-{code}");
        env.enqueue(key, &r).await;
        assert_eq!(env.worker.run_once().await.unwrap().retried, 1, "{code}");
        let last = env.hooks.outcomes().pop().unwrap();
        assert!(!failed(&last).1, "{code}");
    }
    env.done().await;
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let env = Env::new(test_policy()).await;
    let receiver = Receiver::start([Reply::Redirect("/internal/admin")]).await;
    env.enqueue("w:302", &request(receiver.url("/hook"))).await;
    assert_eq!(env.worker.run_once().await.unwrap().dead, 1);

    let paths: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.uri.path().to_owned())
        .collect();
    assert_eq!(paths, ["/hook"], "the redirect's target saw nothing");
    let error = env.job("w:302").await.last_error.unwrap();
    assert!(error.contains("302 Found"), "{error}");
    assert!(error.contains("/internal/admin"), "{error}");
    assert!(error.contains("not followed"), "{error}");
    assert!(failed(&env.hooks.outcomes()[0]).1);
    env.done().await;
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let env = Env::new(WebhookPolicy {
        allow_private_targets: false,
        ..test_policy()
    })
    .await;
    let receiver = Receiver::start([]).await;
    let port = receiver.addr.port();
    let cases = [
        (
            format!("http://127.0.0.1:{port}/hook"),
            "127.0.0.1, which is not a public address: loopback",
        ),
        // The URL parser reads this as 127.0.0.1 too.
        (
            format!("http://2130706433:{port}/hook"),
            "127.0.0.1, which is not a public address: loopback",
        ),
        (
            format!("http://[::1]:{port}/hook"),
            "::1, which is not a public address: loopback",
        ),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/hook"),
            "not a public address: IPv4-mapped",
        ),
        (
            format!("http://localhost:{port}/hook"),
            "localhost resolves to 127.0.0.1, which is not a public address: loopback",
        ),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "link-local",
        ),
        ("https://10.0.0.1/hook".to_owned(), "private (10.0.0.0/8)"),
    ];
    for (i, (url, _)) in cases.iter().enumerate() {
        env.enqueue(&format!("w:{i}"), &request(url.clone())).await;
    }
    let stats = env.worker.run_once().await.unwrap();
    assert_eq!((stats.claimed, stats.dead), (cases.len(), cases.len()));
    for (i, (url, want)) in cases.iter().enumerate() {
        let j = env.job(&format!("w:{i}")).await;
        let error = j.last_error.unwrap();
        assert_eq!(j.state, JobState::Dead, "{url}");
        assert!(error.contains(want), "{url}: {error}");
        assert!(error.contains("refused"), "{url}: {error}");
    }
    assert!(
        receiver.received().is_empty(),
        "no request reached the receiver"
    );
    let outcomes = env.hooks.outcomes();
    assert_eq!(outcomes.len(), cases.len(), "every refusal is reported");
    assert!(outcomes.iter().all(|o| failed(o).1));
    env.done().await;
}

#[tokio::test]
async fn a_host_name_is_sent_to_the_address_it_was_resolved_to() {
    let env = Env::new(test_policy()).await;
    let receiver = Receiver::start([]).await;
    let url = format!("http://localhost:{}/hook", receiver.addr.port());
    env.enqueue("w:name", &request(url)).await;
    assert_eq!(env.worker.run_once().await.unwrap().done, 1);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("host"),
        format!("localhost:{}", receiver.addr.port())
    );
    verify(&got[0]).unwrap();
    env.done().await;
}

#[tokio::test]
async fn a_disabled_endpoint_gets_nothing() {
    let env = Env::new(test_policy()).await;
    let receiver = Receiver::start([]).await;
    env.hooks.disabled.store(true, Ordering::SeqCst);
    env.enqueue("w:off", &request(receiver.url("/hook"))).await;
    assert_eq!(env.worker.run_once().await.unwrap().dead, 1);
    let j = env.job("w:off").await;
    assert_eq!(j.last_error.as_deref(), Some("endpoint disabled"));
    assert!(receiver.received().is_empty());
    assert!(
        env.hooks.outcomes().is_empty(),
        "no attempt, nothing to report"
    );
    env.done().await;
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    let env = Env::new(test_policy()).await;
    // A port that was free a moment ago.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    env.enqueue("w:down", &request(format!("http://127.0.0.1:{port}/hook")))
        .await;
    assert_eq!(env.worker.run_once().await.unwrap().retried, 1);
    let error = env.job("w:down").await.last_error.unwrap();
    assert!(error.contains("cannot connect"), "{error}");
    assert!(!failed(&env.hooks.outcomes()[0]).1);
    env.done().await;
}

#[tokio::test]
async fn an_unrecorded_attempt_is_retried() {
    let env = Env::new(test_policy()).await;
    let receiver = Receiver::start([]).await;
    env.hooks.fail_record.store(true, Ordering::SeqCst);
    env.enqueue("w:unrecorded", &request(receiver.url("/hook")))
        .await;
    assert_eq!(env.worker.run_once().await.unwrap().retried, 1);
    let error = env.job("w:unrecorded").await.last_error.unwrap();
    assert!(error.contains("recording that failed"), "{error}");
    assert!(error.contains("the database is gone"), "{error}");
    assert_eq!(receiver.received().len(), 1);
    env.done().await;
}

#[tokio::test]
async fn https_is_spoken() {
    // The receiver speaks plain HTTP, so the handshake fails; what matters is that the
    // client tried TLS (a client built without it refuses https URLs outright).
    let env = Env::new(test_policy()).await;
    let receiver = Receiver::start([]).await;
    let url = format!("https://127.0.0.1:{}/hook", receiver.addr.port());
    env.enqueue("w:tls", &request(url)).await;
    assert_eq!(env.worker.run_once().await.unwrap().retried, 1);
    let error = env.job("w:tls").await.last_error.unwrap();
    assert!(error.contains("cannot connect"), "{error}");
    assert!(!error.contains("scheme"), "{error}");
    assert!(receiver.received().is_empty());
    env.done().await;
}
