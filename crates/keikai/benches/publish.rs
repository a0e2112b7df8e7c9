//! Publishing a release of realistic advisories: the time to generate, validate, sign and write
//! every file (CSAF JSON with .sha256/.sha512/.asc, the ja and en HTML bulletins, CVE records).
//!
//! `cargo bench -p keikai --bench publish` (SQLite in a temporary folder). Environment:
//! - `KEIKAI_BENCH_ADVISORIES` (default 150), `KEIKAI_BENCH_RUNS` (default 3);
//! - `KEIKAI_BENCH_DATABASE_URL`: seed and keep this database instead (e.g. for `wrk` against a
//!   server on it, see `bench/publish/run.sh`); one run then.
//!
//! Prints the figures; it asserts nothing about time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use jiff::SignedDuration;

mod common;

use common::{World, env_usize, world};

async fn run(url: &str, n: usize) -> f64 {
    let World {
        store,
        clock,
        app,
        release,
        ..
    } = world(url, n).await;
    clock.advance(SignedDuration::from_hours(1));
    let t0 = Instant::now();
    let outcome =
        keikai_app::publishing::publish_release(&app, &keikai_app::Caller::system(), release.id())
            .await
            .unwrap();
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(outcome.published.len(), n, "{:?}", outcome.skipped);
    let artifacts = store.list_artifacts(None).await.unwrap();
    let bytes: u64 = artifacts.iter().map(|a| a.size).sum();
    println!(
        "published {n} advisories ({} files, {:.1} MB) in {secs:.3} s: {:.1} advisories/s, {:.2} ms each",
        artifacts.len(),
        bytes as f64 / 1e6,
        n as f64 / secs,
        secs * 1000.0 / n as f64
    );
    store.close().await;
    secs
}

fn main() {
    // `cargo test --benches` runs this with `--bench`-less arguments; do the work only when
    // benchmarking (or when run directly).
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env_usize("KEIKAI_BENCH_ADVISORIES", 150);
    let rt = tokio::runtime::Runtime::new().unwrap();
    if let Ok(url) = std::env::var("KEIKAI_BENCH_DATABASE_URL") {
        rt.block_on(run(&url, n));
        return;
    }
    let runs = env_usize("KEIKAI_BENCH_RUNS", 3);
    let mut times = Vec::new();
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        times.push(rt.block_on(run(&url, n)));
    }
    times.sort_by(f64::total_cmp);
    println!(
        "publish {n} advisories: median {:.3} s, best {:.3} s over {runs} runs (target: under 3 s)",
        times[times.len() / 2],
        times[0]
    );
}
