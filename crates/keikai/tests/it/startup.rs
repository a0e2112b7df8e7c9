//! Starting `keikai serve` where it cannot listen changes nothing: the first start's
//! administrator and one-time password come with the start that serves.

use crate::process::{Server, keikai, run};

#[test]
fn a_start_on_a_busy_port_creates_no_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let (code, out, err) = run(keikai(dir.path()).args(["serve", "--listen", &addr]), None);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(!out.contains("password"), "{out}");
    drop(busy);
    // The next start is the first one that serves: it makes the administrator and says so.
    let server = Server::start(keikai(dir.path()));
    let banner = server.banner.join("\n");
    assert!(
        banner.contains("Created the administrator admin@keikai.local"),
        "{banner}"
    );
    assert!(banner.contains("signing in): "), "{banner}");
}
