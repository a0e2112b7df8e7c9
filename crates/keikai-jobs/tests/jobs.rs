//! The worker and the mailer against a real database (SQLite by default, PostgreSQL with
//! `KEIKAI_TEST_DATABASE_URL`) and a real SMTP conversation with `testing::SmtpSink`.
//! Time is a `ManualClock` moved by the tests; `run_once` runs what is due at that time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use keikai_domain::{Clock, Email, ManualClock};
use keikai_jobs::{Handler, JobError, RetryPolicy, RunStats, Worker, WorkerConfig};
use keikai_store::Effects;
use keikai_store::testing::TestDatabase;
use keikai_store::{Job, JobState, NewJob, Store};
use serde_json::json;

/// `t(0)` is 2026-09-21T14:13:20Z.
fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + secs).unwrap()
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

struct Env {
    db: TestDatabase,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
}

impl Env {
    async fn new() -> Self {
        let db = TestDatabase::create().await;
        let store = db.store().await;
        Self {
            db,
            store,
            clock: Arc::new(ManualClock::new(t(0))),
        }
    }

    fn worker(&self, config: WorkerConfig) -> Worker {
        Worker::new(self.store.clone(), self.clock.clone(), config)
    }

    async fn enqueue(&self, jobs: &[NewJob]) {
        self.store
            .commit(&Effects::system(self.clock.now()).with_jobs(jobs.to_vec()))
            .await
            .unwrap();
    }

    async fn job(&self, key: &str) -> Job {
        self.store.get_job_by_key(key).await.unwrap()
    }

    async fn done(self) {
        self.db.drop_now().await;
    }
}

fn config(retry: RetryPolicy) -> WorkerConfig {
    WorkerConfig {
        name: "test-worker".into(),
        retry,
        ..WorkerConfig::default()
    }
}

fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        base: secs(30),
        cap: secs(3600),
        max_attempts,
    }
}

mod worker {
    use super::*;

    /// Does what the payload's `outcome` says, and counts its runs.
    #[derive(Default)]
    struct Scripted {
        runs: AtomicUsize,
    }

    #[async_trait]
    impl Handler for Scripted {
        async fn run(&self, job: &Job) -> Result<(), JobError> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            match job.payload["outcome"].as_str() {
                Some("ok") => Ok(()),
                Some("retry") => Err(JobError::retryable("the far end is busy")),
                Some("fail") => Err(JobError::permanent("the far end said no")),
                Some("hang") => {
                    std::future::pending::<()>().await;
                    Ok(())
                }
                _ => panic!("boom in {}", job.key),
            }
        }
    }

    fn job(key: &str, outcome: &str) -> NewJob {
        NewJob::new("test", key, json!({ "outcome": outcome }), t(0))
    }

    #[tokio::test]
    async fn a_finished_job_is_done_while_a_slower_one_of_its_batch_still_runs() {
        let env = Env::new().await;
        let worker = env
            .worker(WorkerConfig {
                handler_timeout: Duration::from_secs(600),
                ..config(policy(5))
            })
            .with_handler("test", Arc::new(Scripted::default()));
        env.enqueue(&[job("quick", "ok"), job("slow", "hang")])
            .await;
        let running = tokio::spawn(async move { worker.run_once().await });
        // A stop now must not send "quick" again: it is recorded before "slow" ends.
        let mut waited = 0;
        while env.job("quick").await.state != JobState::Done {
            assert!(waited < 1000, "the finished job was not recorded done");
            waited += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(env.job("slow").await.state, JobState::Running);
        running.abort();
        env.done().await;
    }

    #[tokio::test]
    async fn outcomes_are_recorded() {
        let env = Env::new().await;
        let handler = Arc::new(Scripted::default());
        let worker = env
            .worker(config(policy(5)))
            .with_handler("test", handler.clone());
        env.enqueue(&[
            job("ok", "ok"),
            job("retry", "retry"),
            job("fail", "fail"),
            job("panic", "panic"),
            NewJob::new("other", "other", json!({}), t(0)),
        ])
        .await;
        let stats = worker.run_once().await.unwrap();
        assert_eq!(
            stats,
            RunStats {
                claimed: 4,
                done: 1,
                retried: 2,
                dead: 1,
                lost: 0
            }
        );
        assert_eq!(handler.runs.load(Ordering::SeqCst), 4);
        let ok = env.job("ok").await;
        assert_eq!(
            (ok.state, ok.locked_by.as_deref()),
            (JobState::Done, Some("test-worker"))
        );
        let retry = env.job("retry").await;
        assert_eq!(
            (retry.state, retry.run_at, retry.last_error.as_deref()),
            (JobState::Queued, t(30), Some("the far end is busy"))
        );
        let fail = env.job("fail").await;
        assert_eq!(
            (fail.state, fail.last_error.as_deref()),
            (JobState::Dead, Some("the far end said no"))
        );
        let panicked = env.job("panic").await;
        assert_eq!(panicked.state, JobState::Queued);
        assert_eq!(
            panicked.last_error.as_deref(),
            Some("the handler panicked: boom in panic")
        );
        assert_eq!(
            env.job("other").await.state,
            JobState::Queued,
            "no handler, not claimed"
        );
        // Nothing else is due until the retries' time.
        assert_eq!(worker.run_once().await.unwrap(), RunStats::default());
        env.done().await;
    }

    #[tokio::test]
    async fn retries_back_off_and_end() {
        let env = Env::new().await;
        let handler = Arc::new(Scripted::default());
        let worker = env
            .worker(config(policy(3)))
            .with_handler("test", handler.clone());
        env.enqueue(&[job("r", "retry")]).await;
        let mut run_ats = Vec::new();
        for wait in [0, 30, 60] {
            if wait > 0 {
                env.clock.advance(secs(wait - 1));
                assert_eq!(
                    worker.run_once().await.unwrap().claimed,
                    0,
                    "before {wait} s"
                );
                env.clock.advance(secs(1));
            }
            let stats = worker.run_once().await.unwrap();
            assert_eq!(stats.claimed, 1, "after {wait} s");
            run_ats.push(env.job("r").await.run_at);
        }
        assert_eq!(
            run_ats,
            [t(30), t(90), t(90)],
            "the last run leaves run_at alone"
        );
        let r = env.job("r").await;
        assert_eq!((r.state, r.attempts), (JobState::Dead, 3));
        assert_eq!(
            r.last_error.as_deref(),
            Some("the far end is busy (gave up after 3 attempts)")
        );
        assert_eq!(handler.runs.load(Ordering::SeqCst), 3);
        env.done().await;
    }

    #[tokio::test]
    async fn a_hanging_handler_is_stopped_and_retried() {
        let env = Env::new().await;
        let worker = env
            .worker(WorkerConfig {
                handler_timeout: Duration::from_millis(100),
                ..config(policy(5))
            })
            .with_handler("test", Arc::new(Scripted::default()));
        env.enqueue(&[job("h", "hang")]).await;
        let stats = worker.run_once().await.unwrap();
        assert_eq!(stats.retried, 1);
        let h = env.job("h").await;
        assert_eq!(h.state, JobState::Queued);
        assert_eq!(
            h.last_error.as_deref(),
            Some("the handler did not finish within 0.1 s")
        );
        env.done().await;
    }

    #[tokio::test]
    async fn a_job_that_keeps_stopping_its_worker_is_buried_unrun() {
        let env = Env::new().await;
        let handler = Arc::new(Scripted::default());
        let worker = env
            .worker(config(policy(2)))
            .with_handler("test", handler.clone());
        env.enqueue(&[job("crash", "ok")]).await;
        // Two workers claimed it and died before recording anything.
        for i in 0..2 {
            let claimed = env
                .store
                .claim_jobs("crashed", &["test"], t(i * 10), secs(10), 1)
                .await
                .unwrap();
            assert_eq!(claimed.len(), 1);
        }
        env.clock.advance(secs(20));
        let stats = worker.run_once().await.unwrap();
        assert_eq!((stats.claimed, stats.dead), (1, 1));
        assert_eq!(handler.runs.load(Ordering::SeqCst), 0);
        let j = env.job("crash").await;
        assert_eq!((j.state, j.attempts), (JobState::Dead, 3));
        assert!(j.last_error.unwrap().contains("claimed 3 times"));
        env.done().await;
    }

    /// Plays a worker that stalls past its lease while another takes the job over.
    struct Stalls {
        store: Arc<dyn Store>,
        clock: Arc<ManualClock>,
    }

    #[async_trait]
    impl Handler for Stalls {
        async fn run(&self, _job: &Job) -> Result<(), JobError> {
            self.clock
                .advance(WorkerConfig::default().lease() + secs(1));
            let taken = self
                .store
                .claim_jobs("other-worker", &["test"], self.clock.now(), secs(600), 10)
                .await
                .unwrap();
            assert_eq!(taken.len(), 1);
            Ok(())
        }
    }

    #[tokio::test]
    async fn an_outcome_after_a_takeover_is_not_recorded() {
        let env = Env::new().await;
        let stalls = Stalls {
            store: env.store.clone(),
            clock: env.clock.clone(),
        };
        let worker = env
            .worker(config(policy(5)))
            .with_handler("test", Arc::new(stalls));
        env.enqueue(&[job("s", "ok")]).await;
        let stats = worker.run_once().await.unwrap();
        assert_eq!((stats.claimed, stats.done, stats.lost), (1, 0, 1));
        let s = env.job("s").await;
        assert_eq!(
            (s.state, s.locked_by.as_deref(), s.attempts),
            (JobState::Running, Some("other-worker"), 2)
        );
        env.done().await;
    }

    #[tokio::test]
    async fn the_loop_runs_until_told_to_stop() {
        let env = Env::new().await;
        let worker = Arc::new(
            env.worker(WorkerConfig {
                poll_interval: Duration::from_millis(20),
                ..config(policy(5))
            })
            .with_handler("test", Arc::new(Scripted::default())),
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let running = tokio::spawn({
            let worker = worker.clone();
            async move { worker.run(stopped).await }
        });
        // Enqueued while the loop sleeps: picked up by a later poll.
        env.enqueue(&[job("late", "ok")]).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while env.job("late").await.state != JobState::Done {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the loop never ran the job"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("the loop did not stop")
            .unwrap();
        env.done().await;
    }
}

mod mail {
    use super::*;
    use keikai_jobs::testing::SmtpSink;
    use keikai_jobs::{
        Address, MAIL_JOB_KIND, MailError, MailHandler, Mailer, Message, SmtpMailer,
    };

    fn sender() -> Address {
        Address::named("警戒 PSIRT", email("psirt@keikai.example"))
    }

    fn partner_message(to: &str) -> Message {
        let mut m = Message::new(
            Address::named("パートナー 担当者", email(to)),
            "【事前通知】KEIKAI-2026-0001: 警戒ルーターの脆弱性",
            "関係者各位\n\n警戒ルーターに脆弱性が見つかりました。\n公開予定日: 2026-10-13\n",
            format!(
                "<KEIKAI-2026-0001.v1.{}@keikai.example>",
                to.replace('@', ".")
            ),
        );
        m.html = Some("<p>警戒ルーターに脆弱性が見つかりました。</p>".into());
        m.headers.push((
            "List-Unsubscribe".into(),
            "<https://keikai.example/unsubscribe/abc123>".into(),
        ));
        m.headers.push((
            "List-Unsubscribe-Post".into(),
            "List-Unsubscribe=One-Click".into(),
        ));
        m
    }

    fn mail_worker(env: &Env, sink: &SmtpSink, retry: RetryPolicy) -> Worker {
        let mailer = SmtpMailer::new(sink.smtp_config(sender())).unwrap();
        env.worker(config(retry))
            .with_handler(MAIL_JOB_KIND, Arc::new(MailHandler::new(Arc::new(mailer))))
    }

    async fn enqueue_mail(env: &Env, key: &str, m: &Message) {
        env.enqueue(&[m.to_job(key, env.clock.now()).unwrap()])
            .await;
    }

    #[tokio::test]
    async fn a_mail_job_is_delivered_once_with_its_headers() {
        let env = Env::new().await;
        let sink = SmtpSink::start().await;
        let worker = mail_worker(&env, &sink, policy(5));
        let m = partner_message("partner@example.com");
        enqueue_mail(&env, "prerelease:1:partner", &m).await;
        // Announcing the same thing again adds nothing.
        assert_eq!(
            env.store
                .commit(
                    &Effects::system(t(0))
                        .with_jobs([m.to_job("prerelease:1:partner", t(0)).unwrap()])
                )
                .await
                .unwrap(),
            0
        );

        assert_eq!(worker.run_once().await.unwrap().done, 1);
        assert_eq!(env.job("prerelease:1:partner").await.state, JobState::Done);
        assert_eq!(worker.run_once().await.unwrap().claimed, 0);

        let received = sink.received();
        assert_eq!(received.len(), 1, "exactly one message");
        let got = &received[0];
        assert_eq!(got.mail_from, "psirt@keikai.example");
        assert_eq!(got.rcpt_to, ["partner@example.com"]);
        assert!(got.data.is_ascii(), "everything on the wire is encoded");
        assert_eq!(
            got.decoded_header("Subject").as_deref(),
            Some("【事前通知】KEIKAI-2026-0001: 警戒ルーターの脆弱性")
        );
        assert_ne!(got.header("Subject"), got.decoded_header("Subject"));
        assert_eq!(
            got.header("Message-ID").as_deref(),
            Some("<KEIKAI-2026-0001.v1.partner.example.com@keikai.example>")
        );
        assert_eq!(
            got.header("List-Unsubscribe").as_deref(),
            Some("<https://keikai.example/unsubscribe/abc123>")
        );
        assert_eq!(
            got.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        assert_eq!(
            got.decoded_header("From").as_deref(),
            Some("警戒 PSIRT <psirt@keikai.example>")
        );
        assert_eq!(
            got.decoded_header("To").as_deref(),
            Some("パートナー 担当者 <partner@example.com>")
        );
        assert!(got.header("Date").is_some());
        assert_eq!(got.text_body().unwrap().trim_end(), m.text.trim_end());
        assert_eq!(got.html_body().unwrap().trim_end(), m.html.unwrap());
        env.done().await;
    }

    #[tokio::test]
    async fn a_rejected_recipient_kills_the_job_with_the_relays_answer() {
        let env = Env::new().await;
        let sink = SmtpSink::start().await;
        sink.reject_recipient("gone@example.com");
        let worker = mail_worker(&env, &sink, policy(5));
        enqueue_mail(&env, "m:gone", &partner_message("gone@example.com")).await;
        let stats = worker.run_once().await.unwrap();
        assert_eq!((stats.claimed, stats.dead), (1, 1));
        let j = env.job("m:gone").await;
        assert_eq!((j.state, j.attempts), (JobState::Dead, 1));
        let error = j.last_error.unwrap();
        assert!(error.contains("550"), "{error}");
        assert!(error.contains("Recipient address rejected"), "{error}");
        assert!(error.contains(&sink.addr().to_string()), "{error}");
        assert!(sink.received().is_empty());
        env.done().await;
    }

    #[tokio::test]
    async fn a_busy_relay_is_retried_with_back_off_and_delivers_once() {
        let env = Env::new().await;
        let sink = SmtpSink::start().await;
        sink.fail_next(2);
        let worker = mail_worker(&env, &sink, policy(5));
        enqueue_mail(&env, "m:busy", &partner_message("busy@example.com")).await;

        // First run: 451, back in 30 s.
        assert_eq!(worker.run_once().await.unwrap().retried, 1);
        let j = env.job("m:busy").await;
        assert_eq!(
            (j.state, j.run_at, j.attempts),
            (JobState::Queued, t(30), 1)
        );
        assert!(j.last_error.unwrap().contains("451"));
        env.clock.advance(secs(29));
        assert_eq!(
            worker.run_once().await.unwrap().claimed,
            0,
            "not before its time"
        );
        env.clock.advance(secs(1));
        // Second run: 451 again, back in 60 s more.
        assert_eq!(worker.run_once().await.unwrap().retried, 1);
        assert_eq!(env.job("m:busy").await.run_at, t(90));
        env.clock.advance(secs(59));
        assert_eq!(worker.run_once().await.unwrap().claimed, 0);
        env.clock.advance(secs(1));
        // Third run: accepted.
        assert_eq!(worker.run_once().await.unwrap().done, 1);
        let j = env.job("m:busy").await;
        assert_eq!((j.state, j.attempts), (JobState::Done, 3));
        assert_eq!(sink.received().len(), 1, "delivered exactly once");
        env.done().await;
    }

    #[tokio::test]
    async fn a_stopped_relay_is_a_transient_failure() {
        let env = Env::new().await;
        let mut sink = SmtpSink::start().await;
        let worker = mail_worker(&env, &sink, policy(5));
        sink.stop().await;
        let m = partner_message("partner@example.com");
        let mailer = SmtpMailer::new(sink.smtp_config(sender())).unwrap();
        match mailer.send(&m).await {
            Err(MailError::Transient(e)) => assert!(e.contains("onnection"), "{e}"),
            other => panic!("expected a transient error, got {other:?}"),
        }
        enqueue_mail(&env, "m:down", &m).await;
        assert_eq!(worker.run_once().await.unwrap().retried, 1);
        let j = env.job("m:down").await;
        assert_eq!((j.state, j.run_at), (JobState::Queued, t(30)));
        env.done().await;
    }

    #[tokio::test]
    async fn a_slow_relay_times_out_and_the_mailer_recovers() {
        let sink = SmtpSink::start().await;
        let mut config = sink.smtp_config(sender());
        config.timeout = Duration::from_millis(300);
        let mailer = SmtpMailer::new(config).unwrap();
        // Leaves a connection in the pool.
        mailer
            .send(&partner_message("first@example.com"))
            .await
            .unwrap();
        // The relay stalls in the middle of the next transaction, on the pooled connection.
        sink.delay_command("MAIL", Duration::from_secs(2));
        match mailer.send(&partner_message("slow@example.com")).await {
            Err(MailError::Transient(e)) => assert!(e.contains("timed out"), "{e}"),
            other => panic!("expected a timeout, got {other:?}"),
        }
        sink.delay_command("MAIL", Duration::ZERO);
        // Lettre returns the abandoned connection to its pool in a task of its own.
        tokio::time::sleep(Duration::from_millis(100)).await;
        // That connection's late answers must not be read as this message's.
        mailer
            .send(&partner_message("after@example.com"))
            .await
            .unwrap();
        let to: Vec<Vec<String>> = sink.received().into_iter().map(|m| m.rcpt_to).collect();
        assert_eq!(to, [["first@example.com"], ["after@example.com"]]);

        // Every reply slow, the greeting included.
        sink.set_delay(Duration::from_secs(5));
        let mut config = sink.smtp_config(sender());
        config.timeout = Duration::from_millis(300);
        match SmtpMailer::new(config)
            .unwrap()
            .send(&partner_message("slow@example.com"))
            .await
        {
            Err(MailError::Transient(e)) => assert!(e.contains("timed out"), "{e}"),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn concurrent_messages_share_the_configured_connections() {
        let sink = SmtpSink::start().await;
        let mut config = sink.smtp_config(sender());
        config.max_connections = 3;
        let mailer = Arc::new(SmtpMailer::new(config).unwrap());
        let mut sending = tokio::task::JoinSet::new();
        for n in 0..40 {
            let mailer = mailer.clone();
            sending.spawn(async move {
                mailer
                    .send(&partner_message(&format!("p{n}@example.com")))
                    .await
            });
        }
        while let Some(sent) = sending.join_next().await {
            sent.unwrap().unwrap();
        }
        assert_eq!(sink.received_count(), 40);
        let opened = sink.commands().iter().filter(|c| *c == "EHLO").count();
        // Lettre's own pool opened a connection for every sender beyond its size and closed
        // it after one message.
        assert!(
            (1..=3).contains(&opened),
            "{opened} connections opened for 40 messages"
        );
        assert_eq!(
            sink.commands().iter().filter(|c| *c == "QUIT").count(),
            0,
            "no connection was closed"
        );
    }

    #[tokio::test]
    async fn lines_starting_with_a_dot_survive_the_trip() {
        let sink = SmtpSink::start().await;
        let mailer = SmtpMailer::new(sink.smtp_config(sender())).unwrap();
        let text = "line one\n.\n.leading dot\n..two dots\nend\n";
        let m = Message::new(
            Address::new(email("dots@example.com")),
            "dots",
            text,
            "<dots@keikai.example>",
        );
        mailer.send(&m).await.unwrap();
        let got = &sink.received()[0];
        assert_eq!(got.text_body().unwrap().trim_end(), text.trim_end());
        // The client stuffed the dots, so the sink saw DATA end only once.
        assert_eq!(sink.commands().iter().filter(|c| *c == "DATA").count(), 1);
    }

    #[tokio::test]
    async fn a_payload_that_is_not_a_message_kills_the_job() {
        let env = Env::new().await;
        let sink = SmtpSink::start().await;
        let worker = mail_worker(&env, &sink, policy(5));
        env.enqueue(&[NewJob::new(
            MAIL_JOB_KIND,
            "m:bad",
            json!({ "to": 3 }),
            t(0),
        )])
        .await;
        assert_eq!(worker.run_once().await.unwrap().dead, 1);
        let error = env.job("m:bad").await.last_error.unwrap();
        assert!(
            error.starts_with("the payload is not a mail message"),
            "{error}"
        );
        env.done().await;
    }
}
