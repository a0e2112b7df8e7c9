//! `keikai audit verify` on a log written through the API, then tampered with in the
//! database directly, as someone with write access to it could.

use keikai_domain::Role;
use keikai_store::Backend;
use serde_json::json;

use crate::cases::{open_case, psirt_analyst, report};
use crate::process::{keikai, run};
use crate::support::TestApp;

/// Runs `keikai audit verify`, which must exit with `code`; returns what it printed.
fn verify(app: &TestApp, code: i32) -> String {
    let dir = tempfile::tempdir().unwrap();
    let args = ["audit", "verify", "--database-url", &app.db.url];
    let (exit, out, err) = tokio::task::block_in_place(|| run(keikai(dir.path()).args(args), None));
    let out = format!("{out}{err}");
    assert_eq!(exit, code, "{out}");
    out
}

/// Runs SQL as the database owner, past the triggers that keep the log append-only.
async fn tamper(app: &TestApp, statements: &[&str]) {
    use sqlx::Connection;
    let url = &app.db.url;
    match app.db.backend() {
        Backend::Sqlite => {
            let drop_triggers = [
                "DROP TRIGGER IF EXISTS audit_log_no_update",
                "DROP TRIGGER IF EXISTS audit_log_no_delete",
            ];
            let c = sqlx::SqliteConnection::connect(url).await.unwrap();
            execute(c, drop_triggers.iter().chain(statements)).await;
        }
        Backend::Postgres => {
            let drop_triggers = ["DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log"];
            let c = sqlx::PgConnection::connect(url).await.unwrap();
            execute(c, drop_triggers.iter().chain(statements)).await;
        }
    }
}

/// Tampers with the log through `statement`; `keikai audit verify` must then fail, saying
/// each of `findings`.
async fn assert_tampering_found(app: &TestApp, statement: &str, findings: &[&str]) {
    tamper(app, &[statement]).await;
    let out = verify(app, 1);
    for finding in findings {
        assert!(
            out.contains(finding),
            "{statement}: no {finding:?} in {out}"
        );
    }
}

/// Runs each statement on the connection, then closes it.
async fn execute<'s, C>(mut c: C, statements: impl Iterator<Item = &'s &'s str>)
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    for s in statements {
        // Test-only SQL written in this file.
        sqlx::raw_sql(sqlx::AssertSqlSafe(s.to_string()))
            .execute(&mut c)
            .await
            .unwrap();
    }
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_a_changed_and_a_removed_entry() {
    let app = TestApp::spawn().await;
    let (_, t) = psirt_analyst(&app).await;
    let n = open_case(&app, &report("Audited"), None).await.number;
    let case = app.api(&t).under(&format!("/api/v1/cases/{n}"));
    for to in ["triage", "investigating", "remediation"] {
        let (status, body) = case.post("/transitions", json!({ "state": to })).await;
        assert_eq!(status, 200, "{body}");
    }
    let entries = app.store.audit_page(0, 1000).await.unwrap();
    assert!(entries.len() >= 4, "{entries:?}");
    let head = app.store.audit_head().await.unwrap().unwrap();
    let out = verify(&app, 0);
    assert!(
        out.contains(&format!(
            "audit log intact: {} entries, head {}",
            entries.len(),
            head.1
        )),
        "{out}"
    );

    // Entry 2 says something else now.
    let change = "UPDATE audit_log SET after_json = '{\"state\":\"closed\"}' WHERE seq = 2";
    assert_tampering_found(&app, change, &["entry 2", "changed"]).await;

    // Put it back: intact again. Then remove it.
    let original = entries[1].after.clone();
    let restore = format!(
        "UPDATE audit_log SET after_json = '{}' WHERE seq = 2",
        original.replace('\'', "''")
    );
    tamper(&app, &[&restore]).await;
    verify(&app, 0);
    let remove = "DELETE FROM audit_log WHERE seq = 2";
    assert_tampering_found(&app, remove, &["entry 3", "missing"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_entries_removed_from_the_end() {
    let app = TestApp::spawn().await;
    let n = open_case(&app, &report("Short log"), None).await.number;
    assert!(n > 0);
    open_case(&app, &report("Second"), None).await;
    verify(&app, 0);
    let last = app.store.audit_head().await.unwrap().unwrap().0;
    assert!(last >= 2);
    let remove_last = "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)";
    assert_tampering_found(&app, remove_last, &["removed"]).await;
}

/// Changes outside cases (organisations, users, the catalogue, tokens) are in the log too,
/// with who made them, and the log can be read page by page through the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foundation_changes_are_audited_and_exported() {
    let (app, admin, _) = TestApp::with_user(Role::Admin).await;
    let t = app.write_token(admin).await;
    let api = app.api(&t);
    let team = json!({ "name": "Router team", "kind": "own" });
    let (s, org) = api.post("/api/v1/organisations", team).await;
    assert_eq!(s, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_owned();
    let engineer = json!({
        "email": "eng@example.com", "display_name": "Eng",
        "password": "correct horse battery staple",
        "memberships": [{ "org_id": org_id, "role": "product-engineer" }]
    });
    let (s, user) = api.post("/api/v1/users", engineer).await;
    assert_eq!(s, 201, "{user}");
    let user_id = user["user"]["id"].as_str().unwrap().to_owned();
    let (s, _) = api
        .patch(
            &format!("/api/v1/users/{user_id}"),
            json!({ "disabled": true }),
        )
        .await;
    assert_eq!(s, 200);
    let vendor = json!({ "category": "vendor", "name": "Example" });
    let (s, branch) = api.post("/api/v1/branches", vendor).await;
    assert_eq!(s, 201, "{branch}");
    let branch_id = branch["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/branches/{branch_id}");
    let (s, _) = api.patch(&path, json!({ "name": "Example Corp" })).await;
    assert_eq!(s, 200);
    let (s, _) = api.delete(&path).await;
    assert_eq!(s, 204);

    let (s, log) = api.get("/api/v1/audit?limit=1000").await;
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
    let (_, page) = api
        .get(&format!("/api/v1/audit?after={second}&limit=2"))
        .await;
    assert_eq!(page[0]["seq"].as_i64(), Some(second + 1));
    assert_eq!(page.as_array().unwrap().len(), 2);
    verify(&app, 0);
}
