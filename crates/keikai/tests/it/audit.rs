//! `keikai audit verify` on a log written through the API, then tampered with in the
//! database directly, as someone with write access to it could.

use keikai_domain::{Role, Scope};
use keikai_store::Backend;
use serde_json::json;

use crate::cases::{open_case, report};
use crate::process::{keikai, run};
use crate::support::TestApp;
use crate::support::call;

fn verify(app: &TestApp) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(
        keikai(dir.path()).args(["audit", "verify", "--database-url", &app.db.url]),
        None,
    );
    (code, format!("{out}{err}"))
}

/// Runs SQL as the database owner, past the triggers that keep the log append-only.
async fn tamper(app: &TestApp, statements: &[&str]) {
    use sqlx::Connection;
    match app.db.backend() {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
            for s in [
                "DROP TRIGGER IF EXISTS audit_log_no_update",
                "DROP TRIGGER IF EXISTS audit_log_no_delete",
            ]
            .iter()
            .chain(statements)
            {
                // Test-only SQL written in this file.
                sqlx::query(sqlx::AssertSqlSafe(s.to_string()))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            c.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
            for s in ["DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log"]
                .iter()
                .chain(statements)
            {
                // Test-only SQL written in this file.
                sqlx::query(sqlx::AssertSqlSafe(s.to_string()))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            c.close().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_a_changed_and_a_removed_entry() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let t = app
        .store_token(analyst, &[Scope::Read, Scope::Write], None)
        .await
        .1;
    let n = open_case(&app, &report("Audited"), None).await.number;
    for to in ["triage", "investigating", "remediation"] {
        let (status, body) = call(
            &app,
            &t,
            "POST",
            &format!("/api/v1/cases/{n}/transitions"),
            Some(json!({ "state": to })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let entries = app.store.audit_page(0, 1000).await.unwrap();
    assert!(entries.len() >= 4, "{entries:?}");
    let head = app.store.audit_head().await.unwrap().unwrap();
    let (code, out) = tokio::task::block_in_place(|| verify(&app));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "audit log intact: {} entries, head {}",
            entries.len(),
            head.1
        )),
        "{out}"
    );

    // Entry 2 says something else now.
    tamper(
        &app,
        &["UPDATE audit_log SET after_json = '{\"state\":\"closed\"}' WHERE seq = 2"],
    )
    .await;
    let (code, out) = tokio::task::block_in_place(|| verify(&app));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("entry 2"), "{out}");
    assert!(out.contains("changed"), "{out}");

    // Put it back: intact again. Then remove it.
    let original = entries[1].after.clone();
    let restore = format!(
        "UPDATE audit_log SET after_json = '{}' WHERE seq = 2",
        original.replace('\'', "''")
    );
    tamper(&app, &[&restore]).await;
    let (code, out) = tokio::task::block_in_place(|| verify(&app));
    assert_eq!(code, 0, "{out}");
    tamper(&app, &["DELETE FROM audit_log WHERE seq = 2"]).await;
    let (code, out) = tokio::task::block_in_place(|| verify(&app));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("entry 3") && out.contains("missing"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_entries_removed_from_the_end() {
    let app = TestApp::spawn().await;
    let n = open_case(&app, &report("Short log"), None).await.number;
    assert!(n > 0);
    open_case(&app, &report("Second"), None).await;
    let (code, out) = tokio::task::block_in_place(|| verify(&app));
    assert_eq!(code, 0, "{out}");
    let last = app.store.audit_head().await.unwrap().unwrap().0;
    assert!(last >= 2);
    tamper(
        &app,
        &["DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)"],
    )
    .await;
    let (code, out) = tokio::task::block_in_place(|| verify(&app));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("removed"), "{out}");
}

/// Changes outside cases (organisations, users, the catalogue, tokens) are in the log too,
/// with who made them, and the log can be read page by page through the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foundation_changes_are_audited_and_exported() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.user_with_role(Role::Admin).await;
    let t = app
        .store_token(admin, &[Scope::Read, Scope::Write], None)
        .await
        .1;
    let (s, org) = call(
        &app,
        &t,
        "POST",
        "/api/v1/organisations",
        Some(json!({ "name": "Router team", "kind": "own" })),
    )
    .await;
    assert_eq!(s, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_owned();
    let (s, user) = call(
        &app,
        &t,
        "POST",
        "/api/v1/users",
        Some(json!({
            "email": "eng@example.com", "display_name": "Eng",
            "password": "correct horse battery staple",
            "memberships": [{ "org_id": org_id, "role": "product-engineer" }]
        })),
    )
    .await;
    assert_eq!(s, 201, "{user}");
    let user_id = user["user"]["id"].as_str().unwrap().to_owned();
    let (s, _) = call(
        &app,
        &t,
        "PATCH",
        &format!("/api/v1/users/{user_id}"),
        Some(json!({ "disabled": true })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, branch) = call(
        &app,
        &t,
        "POST",
        "/api/v1/branches",
        Some(json!({ "category": "vendor", "name": "Example" })),
    )
    .await;
    assert_eq!(s, 201, "{branch}");
    let branch_id = branch["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/branches/{branch_id}");
    let (s, _) = call(
        &app,
        &t,
        "PATCH",
        &path,
        Some(json!({ "name": "Example Corp" })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(&app, &t, "DELETE", &path, None).await;
    assert_eq!(s, 204);

    let (s, log) = call(&app, &t, "GET", "/api/v1/audit?limit=1000", None).await;
    assert_eq!(s, 200, "{log}");
    let entries = log.as_array().unwrap();
    let actor = format!("user:{admin}");
    let find = |action: &str, subject: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action && e["subject"] == subject)
            .unwrap_or_else(|| panic!("no {action} for {subject} in {log:#}"))
    };
    for (action, subject) in [
        ("organisation.created", format!("organisation/{org_id}")),
        ("user.created", format!("user/{user_id}")),
        ("user.membership_added", format!("user/{user_id}")),
        ("user.disabled", format!("user/{user_id}")),
        ("branch.created", format!("branch/{branch_id}")),
        ("branch.renamed", format!("branch/{branch_id}")),
        ("branch.deleted", format!("branch/{branch_id}")),
    ] {
        assert_eq!(find(action, &subject)["actor"], actor.as_str(), "{action}");
    }
    let renamed = find("branch.renamed", &format!("branch/{branch_id}"));
    assert!(renamed["before"].as_str().unwrap().contains("\"Example\""));
    assert!(
        renamed["after"]
            .as_str()
            .unwrap()
            .contains("\"Example Corp\"")
    );
    // Secrets never reach the log.
    let text = log.to_string();
    assert!(!text.contains("password"), "{text}");
    assert!(!text.contains("argon2"), "{text}");
    // Pages continue where the last one ended.
    let second = entries[1]["seq"].as_i64().unwrap();
    let (_, page) = call(
        &app,
        &t,
        "GET",
        &format!("/api/v1/audit?after={second}&limit=2"),
        None,
    )
    .await;
    assert_eq!(page[0]["seq"].as_i64(), Some(second + 1));
    assert_eq!(page.as_array().unwrap().len(), 2);
    let (code, out) = tokio::task::block_in_place(|| verify(&app));
    assert_eq!(code, 0, "{out}");
}
