//! The web interface in a real browser: runs `tests/browser/e2e.mjs` (Node.js driving Debian's
//! headless Chromium through playwright-core) against this build's `keikai` binary, on SQLite or
//! on a fresh PostgreSQL database when `KEIKAI_TEST_DATABASE_URL` is set.
//!
//! Needs `node`, Chromium and `tests/browser/node_modules` (`bash tests/browser/install.sh`).
//! Without them the test skips, except under CI (`CI` set), where it fails instead.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use keikai_store::testing::{TEST_DATABASE_URL_VAR, TestDatabase};

/// The script stops itself after 60 s; this only catches a Node.js that never gets that far.
const WRAPPER_TIMEOUT: Duration = Duration::from_secs(90);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// What the test cannot run without, as messages; empty when everything is there.
fn missing_prerequisites(dir: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    let node = std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        missing.push("`node` is not on PATH".to_owned());
    }
    let chromium = chromium();
    if !chromium.is_file() {
        missing.push(format!("{} does not exist", chromium.display()));
    }
    if !dir.join("node_modules/playwright-core").is_dir() {
        missing.push(format!(
            "{} has no node_modules/playwright-core",
            dir.display()
        ));
    }
    missing
}

#[tokio::test]
async fn sign_in_and_build_a_product_in_chromium() {
    let dir = browser_dir();
    let missing = missing_prerequisites(&dir);
    if !missing.is_empty() {
        let what = missing.join("; ");
        assert!(
            std::env::var_os("CI").is_none(),
            "browser test cannot run under CI: {what} (run `bash tests/browser/install.sh`)"
        );
        println!("skipping browser test: {what} (run `bash tests/browser/install.sh`)");
        return;
    }

    let db = match std::env::var(TEST_DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(TestDatabase::create().await),
        _ => None,
    };

    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(dir.join("e2e.mjs"))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    // The developer's own KEIKAI_* settings must not change what is tested; the screenshot's
    // path is the one that is kept, so that CI can store the picture.
    for (k, _) in std::env::vars_os() {
        if k.to_str()
            .is_some_and(|k| k.starts_with("KEIKAI_") && k != "KEIKAI_SCREENSHOT")
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("KEIKAI_BIN", env!("CARGO_BIN_EXE_keikai"));
    if let Some(db) = &db {
        cmd.env("KEIKAI_DATABASE_URL", &db.url);
    }

    let started = Instant::now();
    let output = tokio::time::timeout(WRAPPER_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("node e2e.mjs did not finish within {WRAPPER_TIMEOUT:?}"))
        .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}{stderr}");
    println!("browser test took {:.1} s", started.elapsed().as_secs_f64());
    if let Some(db) = db {
        db.drop_now().await;
    }
    assert!(
        output.status.success(),
        "the browser test failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
}
