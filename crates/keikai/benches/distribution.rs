//! Distribution at scale: 10,000 subscribers on 20 lists, one publication. Measures how long
//! the publish action takes (it only queues the fan-out), how long until every message was
//! handed to a local SMTP server, the messages per second, and the process's peak memory.
//!
//! `cargo bench -p keikai --bench distribution` (SQLite in a temporary folder). Environment:
//! `KEIKAI_BENCH_SUBSCRIBERS` (default 10000), `KEIKAI_BENCH_LISTS` (default 20),
//! `KEIKAI_BENCH_DATABASE_URL` (e.g. a PostgreSQL database to use instead),
//! `KEIKAI_BENCH_WORKERS` (default 2: two workers, as two instances would run),
//! `KEIKAI_BENCH_BATCH` (default 32, `[distribution] worker_batch`).
//!
//! The SMTP server runs inside this process (`keikai_jobs::testing::SmtpSink`), so the peak
//! memory includes the messages it keeps. Every message is signed (PGP/MIME), as `serve`
//! sends them. Prints the figures; it asserts nothing about time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use keikai_app::outbox::{DELIVERY_JOB_KIND, FANOUT_JOB_KIND};
use keikai_domain::advisory::Tlp;
use keikai_domain::subscription::{AudienceList, Filter, SubscriberInput, SubscriberKind};
use keikai_domain::{Clock, Email, Locale};
use keikai_jobs::distribution::{DeliveryHandler, FanoutHandler};
use keikai_jobs::testing::SmtpSink;
use keikai_jobs::{Address, Mailer, SmtpMailer, Worker, WorkerConfig};
use keikai_store::Effects;

mod common;

use common::{World, active_subscribers, audience_list, env_usize, save_lists, seeded, world};

/// The lists: half filter on a product (the published advisory's or another), some on a
/// minimum score, a language, or exploited bugs only; priorities 1..=n.
fn lists(n: usize, w: &World) -> Vec<AudienceList> {
    (0..n)
        .map(|i| {
            let mut filter = Filter::default();
            match i % 5 {
                0 => {
                    filter.products = [w.products[i % w.products.len()][0]].into();
                }
                1 => filter.min_score = Some(7.0),
                2 => filter.languages = [Locale::Ja].into(),
                3 => filter.max_tlp = Tlp::Green,
                _ => {}
            }
            AudienceList {
                filter,
                ..audience_list(format!("list-{i:02}"), u32::try_from(i + 1).unwrap())
            }
        })
        .collect()
}

/// VmHWM (peak resident set) of this process, in MB.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

async fn run(url: &str, subscribers: usize, list_count: usize, workers: usize, batch: u32) {
    let w = world(url, 1).await;
    let store = w.store.clone();
    let now = w.now;
    let lists = lists(list_count, &w);
    save_lists(&store, &lists, now).await;
    let rows = active_subscribers(now, subscribers, |n| {
        let input = SubscriberInput {
            email: format!("subscriber{n:05}@example.com"),
            name: format!("購読者 {n}"),
            kind: SubscriberKind::External,
            locale: Some(if n % 3 == 0 { Locale::Ja } else { Locale::En }),
            time_zone: Some(if n % 2 == 0 { "Asia/Tokyo" } else { "UTC" }.to_owned()),
            openpgp_key: None,
        };
        // One to three lists each, spread over all of them.
        let on: BTreeSet<usize> = [n, n * 7 + 3, n * 13 + 5]
            .iter()
            .take(1 + n % 3)
            .map(|k| k % list_count)
            .collect();
        (input, on.into_iter().map(|k| lists[k].id).collect())
    });
    let t = Instant::now();
    store
        .import_subscribers(&rows, &Effects::system(now).with_audit(seeded()))
        .await
        .unwrap();
    println!(
        "seeded {subscribers} subscribers on {list_count} lists in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let sink = SmtpSink::start().await;
    let from = Address::named("Bench PSIRT", Email::parse("psirt@example.com").unwrap());
    let key = keikai_app::publishing::provider_key(&w.app).await.unwrap();
    let mailer: Arc<dyn Mailer> = Arc::new(
        SmtpMailer::new(sink.smtp_config(from))
            .unwrap()
            .with_signer(key),
    );
    let clock: Arc<dyn Clock> = w.clock.clone();
    // The handlers work through the application, as `serve` wires them.
    let app = w.app.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut running = Vec::new();
    for _ in 0..workers {
        let wc = WorkerConfig {
            batch_size: batch,
            poll_interval: Duration::from_millis(20),
            ..WorkerConfig::default()
        };
        let attempts = wc.retry.max_attempts;
        let worker = Worker::new(store.clone(), clock.clone(), wc)
            .with_handler(FANOUT_JOB_KIND, Arc::new(FanoutHandler::new(app.clone())))
            .with_handler(
                DELIVERY_JOB_KIND,
                Arc::new(DeliveryHandler::new(app.clone(), mailer.clone(), attempts)),
            );
        let stop = stop_rx.clone();
        running.push(tokio::spawn(async move { worker.run(stop).await }));
    }

    w.clock.advance(SignedDuration::from_hours(1));
    let t0 = Instant::now();
    let outcome = keikai_app::publishing::publish_release(
        &w.app,
        &keikai_app::Caller::system(),
        w.release.id(),
    )
    .await
    .unwrap();
    let publish = t0.elapsed();
    assert_eq!(outcome.published.len(), 1, "{:?}", outcome.skipped);
    let sent_at_return = sink.received_count();

    // The plan: wait for the publication's event, then for its deliveries.
    let (event, planned_after) = loop {
        let events = store.list_events(10).await.unwrap();
        if let Some(e) = events.into_iter().find(|e| e.kind == "publication") {
            break (e, t0.elapsed());
        }
        assert!(t0.elapsed() < Duration::from_secs(300), "no fan-out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let planned = store.delivery_counts(event.id).await.unwrap().total() as usize;
    let total_time = loop {
        if sink.received_count() >= planned {
            break t0.elapsed();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "only {} of {planned} sent",
            sink.received_count()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let _ = stop_tx.send(true);
    for r in running {
        r.await.unwrap();
    }
    let counts = store.delivery_counts(event.id).await.unwrap();
    let sending = total_time - planned_after;
    println!(
        "publish returned in {:.1} ms with {sent_at_return} messages sent (the fan-out runs after)",
        publish.as_secs_f64() * 1000.0
    );
    println!(
        "fan-out planned {planned} deliveries (one per subscriber whose lists match) {:.2} s after publishing",
        planned_after.as_secs_f64()
    );
    println!(
        "all {planned} messages handed to SMTP {:.2} s after publishing: {:.0} messages/s overall, \
         {:.0} messages/s once planned (target: at least 1,000/s)",
        total_time.as_secs_f64(),
        planned as f64 / total_time.as_secs_f64(),
        planned as f64 / sending.as_secs_f64()
    );
    println!(
        "deliveries: {} sent, {} queued, {} failed, {} bounced; peak memory {:.0} MB",
        counts.sent,
        counts.queued,
        counts.failed,
        counts.bounced,
        peak_memory_mb().unwrap_or(f64::NAN)
    );
    store.close().await;
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let subscribers = env_usize("KEIKAI_BENCH_SUBSCRIBERS", 10_000);
    let list_count = env_usize("KEIKAI_BENCH_LISTS", 20).max(1);
    let workers = env_usize("KEIKAI_BENCH_WORKERS", 2).max(1);
    let batch = u32::try_from(env_usize("KEIKAI_BENCH_BATCH", 32)).unwrap_or(32);
    let rt = tokio::runtime::Runtime::new().unwrap();
    match std::env::var("KEIKAI_BENCH_DATABASE_URL") {
        Ok(url) => rt.block_on(run(&url, subscribers, list_count, workers, batch)),
        Err(_) => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            rt.block_on(run(&url, subscribers, list_count, workers, batch));
        }
    }
}
