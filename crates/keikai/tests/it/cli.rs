//! The command line: help texts, configuration errors, migrations and account chores.

use std::time::Instant;

use crate::process::{Server, keikai, run};

/// Runs `keikai` with `args` in `dir`, nothing on standard input: exit code, stdout, stderr.
fn keikai_in(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    run(keikai(dir).args(args), None)
}

#[test]
fn help_explains_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = keikai_in(dir.path(), &["--help"]);
    assert_eq!(code, 0);
    for word in [
        "serve",
        "check-config",
        "db",
        "admin",
        "cvss",
        "--database-url",
        "--data-dir",
        "--config",
    ] {
        assert!(out.contains(word), "--help does not mention {word}:\n{out}");
    }
    for sub in [
        &["serve", "--help"][..],
        &["db", "migrate", "--help"],
        &["admin", "create-user", "--help"],
        &["admin", "reset-password", "--help"],
        &["check-config", "--help"],
    ] {
        let (code, out, err) = keikai_in(dir.path(), sub);
        assert_eq!(code, 0, "{sub:?}: {err}");
        assert!(out.lines().count() > 3, "{sub:?} help is too thin:\n{out}");
    }
}

#[test]
fn check_config_shows_effective_values_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k.toml"),
        "listen = \"127.0.0.1:9999\"\norganisation_name = \"警戒 PSIRT\"\n\
         [smtp]\nhost = \"smtp.example.com\"\nusername = \"keikai\"\n\
         password = \"smtp-hunter3\"\nfrom = \"psirt@example.com\"\n",
    )
    .unwrap();
    let mut cmd = keikai(dir.path());
    cmd.args(["--config", "k.toml", "check-config"]).env(
        "KEIKAI_DATABASE_URL",
        "postgres://keikai:hunter2@db.example:5432/keikai",
    );
    let (code, out, err) = run(&mut cmd, None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("listen = \"127.0.0.1:9999\""), "{out}");
    assert!(out.contains("警戒 PSIRT"), "{out}");
    assert!(
        out.contains("postgres://keikai:***@db.example:5432/keikai"),
        "{out}"
    );
    assert!(!out.contains("hunter2"));
    assert!(out.contains("[smtp]\nhost = \"smtp.example.com\""), "{out}");
    assert!(out.contains("password = \"***\""), "{out}");
    assert!(!out.contains("smtp-hunter3"), "{out}");
    // A flag beats the environment and the file.
    let mut cmd = keikai(dir.path());
    cmd.args([
        "--config",
        "k.toml",
        "check-config",
        "--database-url",
        "sqlite://other.db",
    ]);
    let (_, out, _) = run(&mut cmd, None);
    assert!(out.contains("sqlite://other.db"), "{out}");
}

/// Each configuration mistake gives one line naming it, exit status 2, and writes nothing.
#[test]
fn bad_configuration_is_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("typo.toml"),
        "databse_url = \"sqlite://x.db\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.toml"), "listen = \n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--config", "typo.toml", "serve"], "databse_url"),
        (vec!["--config", "broken.toml", "serve"], "broken.toml"),
        (vec!["--config", "missing.toml", "serve"], "missing.toml"),
        (
            vec!["serve", "--database-url", "mysql://localhost/keikai"],
            "\"mysql\"",
        ),
        (vec!["serve", "--listen", "localhost"], "ADDRESS:PORT"),
        (
            vec!["db", "migrate", "--database-url", "redis://localhost"],
            "\"redis\"",
        ),
    ];
    for (args, needle) in cases {
        let (code, out, err) = keikai_in(dir.path(), &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        let line = err.trim();
        assert_eq!(
            line.lines().count(),
            1,
            "{args:?}: more than one line:\n{err}"
        );
        assert!(line.contains(needle), "{args:?}: {line}");
    }
    assert!(
        !dir.path().join("keikai-data").exists(),
        "a refused start wrote data"
    );
}

#[test]
fn unreachable_database_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let (code, _, err) = keikai_in(
        dir.path(),
        &[
            "serve",
            "--database-url",
            "postgres://postgres:pw@127.0.0.1:1/keikai",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains(":pw@"), "password printed: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}

#[test]
fn database_from_a_newer_keikai_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = keikai_in(dir.path(), &["db", "migrate"]);
    assert_eq!(code, 0, "{err}");
    let db = dir.path().join("keikai-data/keikai.db");
    assert!(db.exists());
    // Pretend a later Keikai applied a migration this one does not know.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99990101000000, 'future', 1, x'00', 0)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    });
    let before = std::fs::read(&db).unwrap();
    for args in [&["serve"][..], &["db", "migrate"]] {
        let (code, _, err) = keikai_in(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("newer"), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the newer database was written to"
    );
}

#[test]
fn first_start_creates_an_administrator_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(keikai(dir.path()));
    let banner = server.banner.join("\n");
    assert!(
        banner.contains("Created the administrator admin@keikai.local"),
        "{banner}"
    );
    let password = banner
        .lines()
        .find_map(|l| l.split("signing in): ").nth(1))
        .unwrap_or_else(|| panic!("no one-time password in: {banner}"))
        .to_owned();
    assert!(password.len() >= 16);
    assert!(dir.path().join("keikai-data/keikai.db").exists());
    let res = http::blocking_get(&server.url("/readyz"));
    assert_eq!(res, 200);
    drop(server);
    // The second start finds the administrator and prints no password.
    let server = Server::start(keikai(dir.path()));
    assert!(
        !server.banner.join("\n").contains("password"),
        "{:?}",
        server.banner
    );
}

#[test]
fn admin_commands_create_users_and_reset_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = keikai_in(dir.path(), &["db", "migrate"]);
    assert_eq!(code, 0, "{err}");
    let create_user = |email, role| ["admin", "create-user", "--email", email, "--role", role];
    // No organisation yet: the first `serve` creates it; the command says so.
    let (code, _, err) = keikai_in(dir.path(), &create_user("a@example.com", "psirt-analyst"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("organisation"), "{err}");
    let mut cmd = keikai(dir.path());
    cmd.env("KEIKAI_ADMIN_PASSWORD", "first admin password");
    drop(Server::start(cmd));

    let aiko = [
        &create_user("Aiko@Example.com", "psirt-analyst")[..],
        &["--name", "Aiko"],
    ]
    .concat();
    let (code, out, err) = keikai_in(dir.path(), &aiko);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Created aiko@example.com (psirt-analyst in Keikai PSIRT)"),
        "{out}"
    );
    assert!(out.contains("Initial password: "), "{out}");
    // Refused: a taken address, a role that does not fit our own organisation, no such role.
    for (email, role, needle) in [
        ("aiko@example.com", "reporter", "aiko@example.com"),
        ("p@example.com", "partner-contact", "partner-contact"),
        ("x@example.com", "root", "\"root\""),
    ] {
        let args = create_user(email, role);
        let (code, _, err) = keikai_in(dir.path(), &args);
        assert_eq!(code, 2, "{args:?} accepted");
        assert!(err.contains(needle), "{args:?}: {err}");
    }

    let reset = [
        "admin",
        "reset-password",
        "--email",
        "aiko@example.com",
        "--password-stdin",
    ];
    let (code, out, err) = run(
        keikai(dir.path()).args(reset),
        Some("a brand new password\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("reset"), "{out}");
    let (code, _, err) = run(keikai(dir.path()).args(reset), Some("short\n"));
    assert_eq!(code, 2);
    assert!(err.contains("password"), "{err}");

    // The new password works through the login form.
    let server = Server::start(keikai(dir.path()));
    for (password, accepted) in [
        ("a brand new password", true),
        ("first admin password", false),
    ] {
        let signed_in = http::blocking_login(&server.url, "aiko@example.com", password);
        assert_eq!(signed_in, accepted, "{password}");
    }
}

#[test]
fn cvss_score_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let score = |vectors: &[&str]| keikai_in(dir.path(), &[&["cvss", "score"], vectors].concat());
    let (code, out, _) = score(&[
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    ]);
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["base"], 9.8);
    assert_eq!(lines[0]["severity"], "CRITICAL");
    assert_eq!(lines[1]["base"], 9.3);
    assert_eq!(lines[1]["version"], "4.0");
    let (code, out, _) = score(&["CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"]);
    assert_eq!(code, 2);
    assert!(out.contains("AV"), "{out}");
}

/// Blocking HTTP helpers for tests that drive a child process.
mod http {
    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    pub fn blocking_get(url: &str) -> u16 {
        rt().block_on(async { ::reqwest::get(url).await.unwrap().status().as_u16() })
    }

    /// Signs in through the form; true when the server accepted the password.
    pub fn blocking_login(base: &str, email: &str, password: &str) -> bool {
        let client = crate::support::TestApp::client();
        rt().block_on(async {
            let res = crate::support::sign_in(&client, base, email, password).await;
            res.status() == 303
        })
    }
}
