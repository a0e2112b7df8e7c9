//! Running the real `keikai` binary as a child process.

#![allow(dead_code, reason = "used by several test modules")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_keikai");

/// A `keikai` command with a clean environment: no KEIKAI_* variables leak in from the
/// developer's shell (they would change what is tested).
pub fn keikai(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("KEIKAI_") {
            c.env_remove(k);
        }
    }
    c.env("KEIKAI_LOG", "warn");
    c
}

/// A running `keikai serve`, killed when dropped.
pub struct Server {
    pub url: String,
    /// What it printed on standard output before it started listening.
    pub banner: Vec<String>,
    /// What it has logged so far (read as it goes, so that the pipe never fills).
    logs: Arc<Mutex<String>>,
    child: Child,
}

impl Server {
    pub fn start(mut cmd: Command) -> Self {
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("cannot start keikai");
        let logs = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut logs = sink.lock().unwrap();
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("Keikai is listening on ") {
                        return Self {
                            url: url.trim().to_owned(),
                            banner,
                            logs,
                            child,
                        };
                    }
                    banner.push(line);
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    // The reader ends with the process; give it a moment to take the rest.
                    std::thread::sleep(Duration::from_millis(200));
                    panic!("keikai did not start ({e}): {}", logs.lock().unwrap());
                }
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// What it has logged on standard error so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// SIGKILL: no shutdown, no finishing the jobs in hand (as a crash or an OOM kill).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command to completion with a time limit, returning (status code, stdout, stderr).
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> (i32, String, String) {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("cannot start keikai");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
