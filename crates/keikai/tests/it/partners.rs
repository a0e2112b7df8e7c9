//! The partner programme through HTTP: packages appear at their tier's time, only in scope,
//! only under a valid agreement; questions, alerts and the access trail; and the isolation
//! crawl: nobody else reaches partner content through any route, before or after release.

use jiff::SignedDuration;
use keikai_domain::advisory::{Advisory, Tlp};
use keikai_domain::audit::Change;
use keikai_domain::case::{ProductStatus, ProductStatusKind};
use keikai_domain::{BranchCategory, OrgId, OrgKind, Role, UserId};
use keikai_store::Effects;
use keikai_store::NewOrganisation;
use serde_json::{Value, json};

use crate::publishing::{Fixture, PUBLIC_ENTRY_POINTS, branch, fixture};
use crate::support::{Api, As, NowTs, TestApp, assert_valid_csaf, send_mail};

const ROUTER_SECRET: &str = "PARTNER-ONLY-ROUTER-7f3a";
const OFFICE_SECRET: &str = "PARTNER-ONLY-OFFICE-9c2e";
const QUESTION_SECRET: &str = "ASKER-PRIVATE-QUESTION-51d0";
const PRIVATE_ANSWER: &str = "ASKER-ONLY-ANSWER-0b77";

struct Partner {
    org: OrgId,
    token: String,
}

async fn partner_org(app: &TestApp, name: &str) -> (OrgId, UserId, String) {
    let org = app
        .store
        .create_org(
            &NewOrganisation {
                id: OrgId::new(),
                name: keikai_domain::OrgName::parse(name).unwrap(),
                kind: OrgKind::Partner,
            },
            &Effects::system(app.clock.now_ts()),
        )
        .await
        .unwrap()
        .id;
    let (user, _) = app.user_with_role(Role::PartnerContact).await;
    app.store
        .add_membership(
            user,
            org,
            Role::PartnerContact,
            &Effects::system(app.clock.now_ts()),
        )
        .await
        .unwrap();
    let token = app.write_token(user).await;
    (org, user, token)
}

/// The body of `PUT /api/v1/partners/{org}/agreement`: signed and expiring that many days
/// from now (negative: in the past).
fn agreement(app: &TestApp, kind: &str, tier: &str, scope: Value, days: (i64, i64)) -> Value {
    let at = |d: i64| (app.clock.now_ts() + SignedDuration::from_hours(24 * d)).to_string();
    json!({
        "partner_type": kind,
        "tier": tier,
        "scope": scope,
        "signed_at": at(days.0),
        "expires_at": at(days.1),
    })
}

/// A partner with an agreement of `tier` over `scope`, signed a year ago, valid for `days`.
async fn partner(f: &Fixture, name: &str, tier: &str, scope: Value, days: i64) -> Partner {
    let (org, _, token) = partner_org(&f.app, name).await;
    let body = agreement(&f.app, "csirt", tier, scope, (-365, days));
    let (status, body) = f
        .app
        .api(&f.analyst_token)
        .put(&format!("/api/v1/partners/{org}/agreement"), body)
        .await;
    assert_eq!(status, 200, "{body}");
    Partner { org, token }
}

async fn edition(f: &Fixture, a: &Advisory, secret: &str) {
    let (status, body) = f
        .app
        .api(&f.analyst_token)
        .put(
            &format!("/api/v1/advisories/{}/partner-edition", a.id),
            json!({
                "technical_details": { "en": format!("Details {secret}"), "ja": "" },
                "detection_guidance": { "en": "", "ja": format!("検知 {secret}") },
                "indicators": [format!("sha256:{secret}")],
                "tlp": "amber",
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Points the advisory's vulnerability at another product version.
async fn retarget(f: &Fixture, a: &Advisory, version: keikai_domain::BranchId) -> Advisory {
    let mut a = f.app.store.get_advisory(a.id).await.unwrap();
    let v = &mut a.content.vulnerabilities[0];
    v.product_statuses =
        vec![ProductStatus::new(version, ProductStatusKind::KnownAffected, None).unwrap()];
    for r in &mut v.remediations {
        r.branch_ids = vec![version];
    }
    let change = Change::new("test.retarget", "advisory/test", Value::Null, Value::Null);
    f.app
        .store
        .save_advisory(&a, &Effects::system(a.updated_at).with_changes([change]))
        .await
        .unwrap()
}

struct World {
    f: Fixture,
    router: Advisory,
    office: Advisory,
    release: keikai_domain::release::Release,
    /// Tier 1, scope: the Router product only.
    p1: Partner,
    /// Tier 2, every product.
    p2: Partner,
    /// Tier 1, every product, agreement expired.
    expired: Partner,
    /// Tier 1, every product, agreement revoked.
    revoked: Partner,
}

impl World {
    /// The API as the PSIRT's analyst sees it.
    fn psirt(&self) -> Api<'_> {
        self.f.app.api(&self.f.analyst_token)
    }

    /// The API as a partner's contact sees it.
    fn partner<'a>(&'a self, p: &'a Partner) -> Api<'a> {
        self.f.app.api(&p.token)
    }

    /// Sends an alert to tier 1 as the PSIRT; returns the report.
    async fn alert(&self, title: &str, body: &str) -> Value {
        let alert =
            json!({ "title": title, "body": body, "tlp": "amber", "groups": { "tiers": ["1"] } });
        let (status, report) = self.psirt().post("/api/v1/partners/alerts", alert).await;
        assert_eq!(status, 201, "{report}");
        report
    }
}

async fn world() -> World {
    let f = fixture().await;
    // The fixture's product is "Router X" (versions `old`, `new`); add an Office product.
    let vendor = f.app.store.list_branches().await.unwrap();
    let vendor = vendor
        .iter()
        .find(|b| b.category == BranchCategory::Vendor)
        .unwrap()
        .id;
    let office = branch(&f.app, Some(vendor), BranchCategory::ProductName, "Office").await;
    let office_1 = branch(&f.app, Some(office), BranchCategory::ProductVersion, "2.0").await;
    let router_product = f.app.branch_named("Router X").await.id;

    let router = f.advisory("Router overflow", Tlp::Clear).await;
    let office_adv = f.advisory("Office overflow", Tlp::Clear).await;
    let office_adv = retarget(&f, &office_adv, office_1).await;
    edition(&f, &router, ROUTER_SECRET).await;
    edition(&f, &office_adv, OFFICE_SECRET).await;
    // Released in three days: tier 1 (five days ahead) sees it now, tier 2 (one day) not yet.
    let release = f.release(3 * 24 * 60).await;
    let router = f.approve_and_schedule(&router, &release).await;
    let office_adv = f.approve_and_schedule(&office_adv, &release).await;

    let router_scope = json!({ "kind": "areas", "branches": [router_product] });
    let p1 = partner(&f, "Router CERT", "1", router_scope, 365).await;
    let p2 = partner(&f, "Tier Two Labs", "2", json!({ "kind": "all" }), 365).await;
    let expired = partner(&f, "Lapsed Agency", "1", json!({ "kind": "all" }), 1).await;
    let revoked = partner(&f, "Revoked Vendor", "1", json!({ "kind": "all" }), 365).await;
    revoke(
        &f.app.api(&f.analyst_token),
        revoked.org,
        "Breach of the agreement",
    )
    .await;
    // Two days pass: the expired agreement ran out.
    f.app.clock.advance(SignedDuration::from_hours(36));
    World {
        f,
        router,
        office: office_adv,
        release,
        p1,
        p2,
        expired,
        revoked,
    }
}

/// Revokes an organisation's agreement through the API.
async fn revoke(psirt: &Api<'_>, org: OrgId, reason: &str) {
    let (status, body) = psirt
        .post(
            &format!("/api/v1/partners/{org}/revoke"),
            json!({ "reason": reason }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn package_paths(w: &World) -> Vec<String> {
    let r = w.release.id();
    let mut out = vec![
        "/partner".to_owned(),
        format!("/partner/releases/{r}"),
        "/api/v1/partner/packages".to_owned(),
        format!("/api/v1/partner/packages/{r}"),
        "/api/v1/partner/alerts".to_owned(),
    ];
    for a in [&w.router, &w.office] {
        out.push(format!("/partner/releases/{r}/advisories/{}/csaf", a.id));
        out.push(format!(
            "/api/v1/partner/packages/{r}/advisories/{}/csaf",
            a.id
        ));
    }
    out
}

/// Every place where partner content could leak to someone else.
fn crawl_paths(w: &World) -> Vec<String> {
    let mut out = package_paths(w);
    out.extend(PUBLIC_ENTRY_POINTS.map(str::to_owned));
    out.extend(
        [
            "/",
            "/.well-known/csaf/white/csaf-feed-tlp-white.json",
            "/api/v1/partners",
            "/api/v1/partners/questions",
            "/api/v1/partners/alerts",
            "/api/v1/partners/access",
            "/partners",
            "/partners/access.csv",
            "/api/v1/advisories",
            "/editor/advisories",
            "/releases",
            "/api/v1/releases",
            "/cases",
            "/api/v1/audit",
            // Searches for the markers themselves, public and internal.
            "/advisories?q=PARTNER-ONLY",
            "/advisories?lang=ja&q=PARTNER-ONLY",
            "/api/v1/public/advisories?q=PARTNER-ONLY",
            "/api/v1/advisories?q=PARTNER-ONLY",
            "/editor/advisories?q=PARTNER-ONLY",
        ]
        .map(str::to_owned),
    );
    for a in [&w.router, &w.office] {
        out.push(format!("/api/v1/advisories/{}/partner-edition", a.id));
        out.push(format!("/api/v1/advisories/{}", a.id));
        out.push(format!("/editor/advisories/{}", a.id));
        out.push(format!("/advisories/{}", a.tracking_id));
        out.push(format!("/advisories/{}/en.html", a.tracking_id));
        out.push(format!("/api/v1/public/advisories/{}", a.tracking_id));
    }
    out.push(format!("/releases/{}", w.release.id()));
    out.push(format!("/api/v1/releases/{}", w.release.id()));
    out
}

/// `GET path` with a bearer token, or as an anonymous visitor: status and body.
async fn fetch(app: &TestApp, token: Option<&str>, path: &str) -> (u16, String) {
    let who = token.map_or(As::Nobody, As::Token);
    app.api_as(who).text("GET", path, None).await
}

/// Asserts that none of `secrets` appears anywhere `token` (or an anonymous visitor) can
/// reach, and that the partner portal answers 404 (or asks an anonymous visitor to sign in).
async fn assert_sealed(w: &World, who: &str, token: Option<&str>, secrets: &[&str]) {
    for path in crawl_paths(w) {
        let (status, body) = fetch(&w.f.app, token, &path).await;
        for s in secrets {
            assert!(
                !body.contains(s),
                "{who} found {s} at {path} ({status}): {body}"
            );
        }
        // The package itself, and its files, do not exist for them.
        if package_paths(w).contains(&path) && path.contains(&w.release.id().to_string()) {
            assert!(
                matches!(status, 401 | 303 | 404),
                "{who} got {status} at {path}: {body}"
            );
        }
    }
}

/// The release's package as a partner's contact gets it: status and body.
async fn package(w: &World, p: &Partner) -> (u16, String) {
    let path = format!("/api/v1/partner/packages/{}", w.release.id());
    w.partner(p).text("GET", &path, None).await
}

#[tokio::test]
async fn packages_follow_tier_time_scope_and_agreement_and_nothing_leaks() {
    let w = world().await;
    let app = &w.f.app;
    let r = w.release.id();

    // Tier 1, Router scope: the Router advisory with its partner edition, not Office.
    let (status, list) = w.partner(&w.p1).get("/api/v1/partner/packages").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["advisories"], 1);
    assert_eq!(list[0]["tlp"], "amber");
    let (status, body) = package(&w, &w.p1).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(ROUTER_SECRET), "{body}");
    assert!(!body.contains(OFFICE_SECRET), "{body}");
    assert!(!body.contains(&w.office.tracking_id), "{body}");
    // The Office advisory is out of scope: its CSAF is "not found" for this partner.
    let csaf = |a: &Advisory| format!("/partner/releases/{r}/advisories/{}/csaf", a.id);
    let (status, _) = fetch(app, Some(&w.p1.token), &csaf(&w.office)).await;
    assert_eq!(status, 404);

    // The download names the receiving organisation in its file name and distribution text.
    let res = reqwest::Client::new()
        .get(app.url(&csaf(&w.router)))
        .bearer_auth(&w.p1.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let file = format!(
        "{}.partner.router-cert.json",
        w.router.tracking_id.to_ascii_lowercase()
    );
    assert!(disposition.contains(&file), "{disposition}");
    let doc: Value = res.json().await.unwrap();
    let dist = doc["document"]["distribution"]["text"].as_str().unwrap();
    assert!(
        dist.contains("Router CERT") && dist.starts_with("TLP:AMBER."),
        "{dist}"
    );
    assert_eq!(doc["document"]["distribution"]["tlp"]["label"], "AMBER");
    assert_eq!(doc["document"]["tracking"]["status"], "interim");
    assert!(doc.to_string().contains(ROUTER_SECRET));
    assert_valid_csaf(&doc);
    // The portal page shows the same, in HTML.
    let (status, html) = fetch(app, Some(&w.p1.token), &format!("/partner/releases/{r}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(ROUTER_SECRET) && !html.contains(OFFICE_SECRET));
    assert!(html.contains("TLP:AMBER") && !html.contains("TLP:TLP"));

    // Tier 2, the expired and the revoked partner, and everyone else see nothing of it.
    let all = [ROUTER_SECRET, OFFICE_SECRET];
    assert_sealed(&w, "tier 2 before its time", Some(&w.p2.token), &all).await;
    assert_sealed(&w, "an expired partner", Some(&w.expired.token), &all).await;
    assert_sealed(&w, "a revoked partner", Some(&w.revoked.token), &all).await;
    assert_sealed(&w, "an anonymous visitor", None, &all).await;
    for role in [
        Role::Reporter,
        Role::CustomerContact,
        Role::ProductEngineer,
        Role::PartnerContact,
    ] {
        let (user, _) = app.user_with_role(role).await;
        let token = app.read_token(user).await;
        assert_sealed(&w, role.as_str(), Some(&token), &all).await;
    }

    // A day before the release tier 2 gets both advisories.
    app.clock.advance(SignedDuration::from_hours(24));
    let (status, body) = package(&w, &w.p2).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(ROUTER_SECRET) && body.contains(OFFICE_SECRET));

    // Moving the release a week later hides it from tier 2 again, at once.
    let later = w.release.scheduled_at() + SignedDuration::from_hours(24 * 7);
    let local = later
        .to_zoned(jiff::tz::TimeZone::UTC)
        .datetime()
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let s = app.session_for(w.f.reviewer).await;
    let reschedule = [("local_time", local.as_str()), ("zone", "UTC")];
    app.submit(&s, &format!("/releases/{r}/reschedule"), &reschedule)
        .await;
    assert_sealed(&w, "tier 2 after the move", Some(&w.p2.token), &all).await;

    // Revoking tier 1's agreement takes its access away on the next request.
    revoke(&w.psirt(), w.p1.org, "Programme left").await;
    assert_sealed(&w, "tier 1 after revocation", Some(&w.p1.token), &all).await;

    // The access trail has the download, with the file name, and exports as CSV.
    let (status, csv) = fetch(app, Some(&w.f.analyst_token), "/partners/access.csv").await;
    assert_eq!(status, 200, "{csv}");
    assert!(csv.starts_with("at,organisation,user,kind,release,advisory,alert,detail\r\n"));
    let line = csv
        .lines()
        .find(|l| l.contains(",download,"))
        .unwrap_or_else(|| panic!("no download in {csv}"));
    assert!(
        line.contains("Router CERT") && line.contains(&file),
        "{line}"
    );
    assert!(line.contains(&w.router.tracking_id), "{line}");
    assert!(csv.lines().any(|l| l.contains(",view_package,")), "{csv}");
}

#[tokio::test]
async fn after_the_release_the_public_gets_the_public_edition_only() {
    let w = world().await;
    let app = &w.f.app;
    let application = w.f.application(app.store.clone());
    w.f.publish(&w.release).await;
    // Public files exist now, and carry no partner content.
    let public = format!("/advisories/{}/en.html", w.router.tracking_id);
    assert_eq!(fetch(app, None, &public).await.0, 200);
    let all = [ROUTER_SECRET, OFFICE_SECRET];
    let mut files = Vec::new();
    for m in app.store.list_artifacts(None).await.unwrap() {
        let (_, bytes) = app
            .store
            .artifact(m.advisory_id, m.version, &m.name)
            .await
            .unwrap();
        files.push((format!("the artifact {}", m.name), bytes));
    }
    // What `keikai export` writes for a static server carries none of it either.
    let tree = keikai_app::public::tree(&application).await.unwrap();
    assert!(tree.len() > 10, "{}", tree.len());
    files.extend(
        tree.into_iter()
            .map(|file| (format!("the export's {}", file.path), file.bytes)),
    );
    for (what, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        for secret in all {
            assert!(!text.contains(secret), "{secret} in {what}");
        }
    }
    assert_sealed(&w, "an anonymous visitor", None, &all).await;
    assert_sealed(&w, "an expired partner", Some(&w.expired.token), &all).await;
    // Tier 1 keeps its package of the release that went out.
    let (status, body) = package(&w, &w.p1).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(ROUTER_SECRET) && !body.contains(OFFICE_SECRET));
    // A release that goes out early brings every tier's time forward to it: tier 2, whose
    // day had not come, gets its package now (and only what its scope allows).
    let (status, body) = package(&w, &w.p2).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(ROUTER_SECRET) && body.contains(OFFICE_SECRET));
}

#[tokio::test]
async fn questions_and_answers_reach_only_their_audience() {
    let w = world().await;
    let app = &w.f.app;
    let r = w.release.id();
    let p1 = w.partner(&w.p1);
    // Tier 2 needs its time to see the package.
    app.clock.advance(SignedDuration::from_hours(24));
    let questions =
        |a: &Advisory| format!("/api/v1/partner/packages/{r}/advisories/{}/questions", a.id);
    let path = questions(&w.router);
    let (status, body) = p1.post(&path, json!({ "text": QUESTION_SECRET })).await;
    assert_eq!(status, 201, "{body}");
    // Out of scope or unseen: no asking; nor an empty question.
    for (who, path, text, want) in [
        (&p1, questions(&w.office), "x", 404),
        (&w.partner(&w.expired), path.clone(), "x", 404),
        (&p1, path.clone(), "  ", 422),
    ] {
        let (status, body) = who.post(&path, json!({ "text": text })).await;
        assert_eq!(status, want, "{path} {text:?}: {body}");
    }

    let (_, qs) = w.psirt().get("/api/v1/partners/questions").await;
    let id = qs[0]["id"].as_str().unwrap().to_owned();
    let answer = format!("/api/v1/partners/questions/{id}/answers");
    let private = json!({ "text": PRIVATE_ANSWER, "audience": "asker" });
    let (status, body) = w.psirt().post(&answer, private).await;
    assert_eq!(status, 200, "{body}");
    let (_, mine) = package(&w, &w.p1).await;
    assert!(
        mine.contains(QUESTION_SECRET) && mine.contains(PRIVATE_ANSWER),
        "{mine}"
    );
    let (status, theirs) = package(&w, &w.p2).await;
    assert_eq!(status, 200);
    assert!(
        !theirs.contains(QUESTION_SECRET) && !theirs.contains(PRIVATE_ANSWER),
        "{theirs}"
    );
    // An answer to everyone reaches tier 2, without the private answer and without the asker.
    let public = json!({ "text": "Port 445 only.", "audience": "everyone" });
    let (status, body) = w.psirt().post(&answer, public).await;
    assert_eq!(status, 200, "{body}");
    let (_, theirs) = package(&w, &w.p2).await;
    assert!(theirs.contains("Port 445 only."), "{theirs}");
    assert!(!theirs.contains(PRIVATE_ANSWER), "{theirs}");
    assert!(!theirs.contains("Router CERT"), "{theirs}");
    // Partners never reach the PSIRT's question list.
    assert_eq!(p1.get("/api/v1/partners/questions").await.0, 404);
}

#[tokio::test]
async fn alerts_reach_the_chosen_valid_partners_and_report_who_acknowledged() {
    let w = world().await;
    let app = &w.f.app;
    let (p1, p2) = (w.partner(&w.p1), w.partner(&w.p2));
    let report = w
        .alert("Worm outbreak", "Block port 445 at the perimeter now.")
        .await;
    let recipients = report["alert"]["recipients"].as_array().unwrap();
    assert_eq!(
        recipients,
        &vec![json!(w.p1.org)],
        "expired, revoked and tier 2 get none"
    );
    let id = report["alert"]["id"].as_str().unwrap().to_owned();
    let ack = format!("/api/v1/partner/alerts/{id}/ack");
    let (_, theirs) = p2.text("GET", "/api/v1/partner/alerts", None).await;
    assert!(!theirs.contains("Worm outbreak"), "{theirs}");
    assert_eq!(p2.send("POST", &ack, None).await.0, 404);
    let (_, mine) = p1.text("GET", "/api/v1/partner/alerts", None).await;
    assert!(mine.contains("Worm outbreak"), "{mine}");
    let (status, page) = fetch(app, Some(&w.p1.token), "/partner").await;
    assert_eq!(status, 200);
    assert!(page.contains("Worm outbreak"), "{page}");
    // Both views are in the access trail.
    let (_, trail) = w.psirt().get("/api/v1/partners/access").await;
    let views = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "view_alert" && r["alert"] == json!(id))
        .count();
    assert_eq!(views, 2, "{trail}");
    // Before anyone acknowledges, the report names tier 1's organisation as silent.
    let (_, list) = w.psirt().get("/api/v1/partners/alerts").await;
    assert_eq!(list[0]["not_acknowledged"][0]["name"], "Router CERT");
    let (status, body) = p1.send("POST", &ack, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["first"], true);
    let (_, again) = p1.send("POST", &ack, None).await;
    assert_eq!(again["first"], false);
    let (_, list) = w.psirt().get("/api/v1/partners/alerts").await;
    assert_eq!(list[0]["not_acknowledged"], json!([]));
    assert_eq!(list[0]["acknowledged"][0]["organisation"], "Router CERT");
    // A public alert, or one to nobody, is refused with the field named.
    let public = json!({ "title": "x", "body": "y", "tlp": "clear", "groups": { "tiers": ["1"] } });
    let (status, body) = w
        .psirt()
        .text("POST", "/api/v1/partners/alerts", Some(public))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("tlp"), "{body}");
    // The PSIRT's overview page shows the report.
    let (status, html) = fetch(app, Some(&w.f.analyst_token), "/partners").await;
    assert_eq!(status, 200);
    assert!(html.contains("Worm outbreak") && html.contains("Router CERT"));
}

fn day(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .strftime("%Y-%m-%d")
        .to_string()
}

/// Asserts that the audit log holds `action` on `subject` by the fixture's author.
async fn audited(w: &World, action: &str, subject: &str) {
    let (status, log) = w.psirt().get("/api/v1/audit?limit=1000").await;
    assert_eq!(status, 200, "{log}");
    let actor = format!("user:{}", w.f.author);
    assert!(
        log.as_array().unwrap().iter().any(|e| e["action"] == action
            && e["subject"] == subject
            && e["actor"] == actor.as_str()),
        "no {action} on {subject} by {actor}: {log:#}"
    );
}

/// The row of one organisation on `/partners`.
fn org_row(html: &str, org: OrgId) -> &str {
    let start = html
        .find(&format!("<tr data-org=\"{org}\""))
        .unwrap_or_else(|| panic!("no row for {org}: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

#[tokio::test]
async fn the_psirt_records_and_revokes_agreements_through_forms() {
    let w = world().await;
    let app = &w.f.app;
    let s = app.session_for(w.f.author).await;
    let now = app.clock.now_ts();
    let (org, _, token) = partner_org(app, "Evil <b>Partner</b> & Co").await;
    let path = format!("/partners/{org}/agreement");
    let partner = app.api(&token);

    // Bad input shows the page again with the field named, and records nothing.
    let signed = day(now - SignedDuration::from_hours(24 * 30));
    let expires = day(now + SignedDuration::from_hours(24 * 365));
    let before = day(now - SignedDuration::from_hours(24 * 60));
    fn form<'a>(tier: &'a str, signed_at: &'a str, expires_at: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("partner_type", "csirt"),
            ("tier", tier),
            ("scope", "all"),
            ("signed_at", signed_at),
            ("expires_at", expires_at),
        ]
    }
    app.refused_forms(
        &s,
        422,
        &[
            (
                path.as_str(),
                &form("1", &signed, &before),
                &["expires_at: must be after the signing date"],
            ),
            (
                &path,
                &form("9", &signed, &expires),
                &["tier: ", "is not a configured tier"],
            ),
            (
                &path,
                &form("1", "next tuesday", &expires),
                &["signed_at: "],
            ),
        ],
    )
    .await;
    assert!(app.store.agreement(org).await.unwrap().is_none());
    let (status, _) = partner.get("/api/v1/partner/packages").await;
    assert_eq!(status, 404, "no agreement, no portal");

    // A valid agreement over the Router product (a multi-select of branches).
    let router_product = app.branch_named("Router X").await.id.to_string();
    let loc = app
        .submit(
            &s,
            &path,
            &[
                ("partner_type", "security_vendor"),
                ("tier", "1"),
                ("scope", "areas"),
                ("branches", &router_product),
                ("signed_at", &signed),
                ("expires_at", &expires),
            ],
        )
        .await;
    assert_eq!(loc, format!("/partners#org-{org}"));
    let a = app.store.agreement(org).await.unwrap().unwrap();
    assert_eq!(a.tier, "1");
    assert_eq!(a.signed_at.to_string(), format!("{signed}T00:00:00Z"));
    assert!(matches!(a.scope, keikai_domain::partner::ProductScope::Areas(ref b) if b.len() == 1));
    let (status, html) = app.get_page(&s, "/partners").await;
    assert_eq!(status, 200);
    let row = org_row(&html, org);
    assert!(row.contains("agreement-valid"), "{row}");
    assert!(
        row.contains("Evil &#60;b&#62;Partner&#60;/b&#62; &#38; Co")
            || row.contains("Evil &lt;b&gt;Partner&lt;/b&gt; &amp; Co"),
        "{row}"
    );
    assert!(
        !html.contains("<b>Partner</b>"),
        "markup in names is escaped"
    );
    let (status, body) = partner.text("GET", "/api/v1/partner/packages", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&w.release.id().to_string()), "{body}");
    // The audit trail has the entry the API writes, by the signed-in analyst.
    let subject = format!("organisation/{org}");
    audited(&w, "partner.agreement.recorded", &subject).await;

    // Revoking: the reason is required; then the portal is gone for that partner.
    let revoke = format!("/partners/{org}/revoke");
    app.refused_forms(&s, 422, &[(&revoke, &[("reason", "  ")], &["reason: "])])
        .await;
    let loc = app
        .submit(&s, &revoke, &[("reason", "Shared <i>embargoed</i> data")])
        .await;
    assert_eq!(loc, format!("/partners#org-{org}"));
    assert_eq!(partner.get("/api/v1/partner/packages").await.0, 404);
    assert_eq!(fetch(app, Some(&token), "/partner").await.0, 404);
    let (_, html) = app.get_page(&s, "/partners").await;
    assert!(org_row(&html, org).contains("agreement-revoked"));
    audited(&w, "partner.agreement.revoked", &subject).await;
    // Another partner's portal is untouched.
    let (status, _) = w.partner(&w.p1).get("/api/v1/partner/packages").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_psirt_sends_alerts_answers_questions_and_writes_editions_through_forms() {
    let w = world().await;
    let app = &w.f.app;
    let s = app.session_for(w.f.author).await;
    let r = w.release.id();

    // An alert with an empty body is refused with the field named.
    app.refused_forms(
        &s,
        422,
        &[(
            "/partners/alerts",
            &[
                ("title", "Worm"),
                ("body", " "),
                ("tlp", "red"),
                ("tier", "1"),
            ],
            &["body: must not be empty", "value=\"Worm\""],
        )],
    )
    .await;
    assert!(app.store.list_alerts().await.unwrap().is_empty());
    // To tier 2 and CSIRTs: p2 (tier 2) and p1 (a CSIRT); not the expired or revoked ones.
    let loc = app
        .submit(
            &s,
            "/partners/alerts",
            &[
                ("title", "Worm <script>outbreak</script>"),
                ("body", "Block port 445."),
                ("tlp", "amber_strict"),
                ("tier", "2"),
                ("partner_type", "csirt"),
            ],
        )
        .await;
    let alerts = app.store.list_alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(loc, format!("/partners#alert-{}", alerts[0].id));
    let mut got = alerts[0].recipients.clone();
    got.sort();
    let mut want = vec![w.p1.org, w.p2.org];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(alerts[0].tlp, Tlp::AmberStrict);
    let (_, mine) = w
        .partner(&w.p2)
        .text("GET", "/api/v1/partner/alerts", None)
        .await;
    assert!(mine.contains("Block port 445."), "{mine}");
    let (_, html) = app.get_page(&s, "/partners").await;
    assert!(
        html.contains("Worm &#60;script&#62;") || html.contains("Worm &lt;script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>outbreak"), "{html}");

    // A question from tier 1, answered through the form to the asker only.
    let (status, body) = w
        .partner(&w.p1)
        .post(
            &format!(
                "/api/v1/partner/packages/{r}/advisories/{}/questions",
                w.router.id
            ),
            json!({ "text": "Is <em>1.1</em> affected?" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let (_, html) = app.get_page(&s, "/partners").await;
    let q = &html[html
        .find(&format!("id=\"question-{id}\""))
        .expect("question listed")..];
    assert!(
        q.contains(&w.router.tracking_id) && q.contains("Router CERT"),
        "{q}"
    );
    assert!(
        q.contains("Is &#60;em&#62;1.1") || q.contains("Is &lt;em&gt;1.1"),
        "{q}"
    );
    let answer = format!("/partners/questions/{id}/answers");
    let empty = vec![("text", " "), ("audience", "asker")];
    app.refused_forms(&s, 422, &[(&answer, &empty, &["text: must not be empty"])])
        .await;
    let loc = app
        .submit(
            &s,
            &answer,
            &[("text", PRIVATE_ANSWER), ("audience", "asker")],
        )
        .await;
    assert_eq!(loc, format!("/partners#question-{id}"));
    let (_, mine) = package(&w, &w.p1).await;
    assert!(mine.contains(PRIVATE_ANSWER), "{mine}");
    let (_, html) = app.get_page(&s, "/partners").await;
    assert!(html.contains(PRIVATE_ANSWER), "{html}");
    // Tier 2 sees the package a day later, without the answer to the asker.
    app.clock.advance(SignedDuration::from_hours(24));
    let (status, theirs) = package(&w, &w.p2).await;
    assert_eq!(status, 200, "{theirs}");
    assert!(!theirs.contains(PRIVATE_ANSWER), "{theirs}");
    // Sessions lapse when idle; the analyst signs in again.
    let s = app.session_for(w.f.author).await;

    // The partner edition from the advisory editor.
    let editor = format!("/editor/advisories/{}", w.router.id);
    let (status, html) = app.get_page(&s, &editor).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"partner-edition-form\""), "{html}");
    assert!(html.contains(ROUTER_SECRET), "the current edition is shown");
    let form = format!("{editor}/partner-edition");
    app.refused_forms(
        &s,
        422,
        &[
            (&form, &[("tlp", "amber")], &["technical_details: "]),
            (
                &form,
                &[("technical_details_en", "x"), ("tlp", "red")],
                &["tlp: "],
            ),
        ],
    )
    .await;
    let loc = app
        .submit(
            &s,
            &form,
            &[
                ("technical_details_en", "FORM-EDITION-DETAILS <b>bold</b>"),
                ("technical_details_ja", "技術的詳細"),
                ("detection_guidance_en", "Watch port 445."),
                ("detection_guidance_ja", "445 番ポートを監視"),
                ("indicators", "sha256:aaa\n\n  sha256:bbb  \n"),
                ("tlp", "amber_strict"),
            ],
        )
        .await;
    assert_eq!(loc, format!("{editor}#partner-edition"));
    let e = app
        .store
        .partner_edition(w.router.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.indicators, vec!["sha256:aaa", "sha256:bbb"]);
    assert_eq!(e.tlp, Tlp::AmberStrict);
    let (_, mine) = package(&w, &w.p1).await;
    assert!(
        mine.contains("FORM-EDITION-DETAILS") && mine.contains("sha256:bbb"),
        "{mine}"
    );
    assert!(
        !mine.contains(ROUTER_SECRET),
        "the edition was replaced: {mine}"
    );
    let (_, html) = app.get_page(&s, &editor).await;
    assert!(
        html.contains("FORM-EDITION-DETAILS &#60;b&#62;")
            || html.contains("FORM-EDITION-DETAILS &lt;b&gt;"),
        "{html}"
    );

    // Audit entries as the API writes them, by the signed-in analyst.
    for (action, subject) in [
        (
            "partner.alert.sent",
            format!("partner-alert/{}", alerts[0].id),
        ),
        (
            "partner.question.answered",
            format!("partner-question/{id}"),
        ),
        (
            "partner.edition.written",
            format!("advisory/{}", w.router.id),
        ),
    ] {
        audited(&w, action, &subject).await;
    }
}

/// The portal's routes: 404 for everyone without a valid agreement.
pub(crate) fn is_portal(template: &str) -> bool {
    template == "/partner"
        || template.starts_with("/partner/")
        || template.starts_with("/api/v1/partner/")
}

/// Requests for the matrix test (`crate::matrix`): the partner routes, with real resources
/// where the PSIRT acts on one, and unknown ids on the portal, which nobody in the fixture
/// may use (its partner contact has no agreement).
pub(crate) async fn prepare(
    app: &TestApp,
    fx: &crate::matrix::Fixture,
    method: &str,
    template: &str,
) -> Option<(String, crate::matrix::Body)> {
    use crate::matrix::{Body, form};
    let ours = template.starts_with("/partner") || template.contains("/partner");
    if !ours {
        return None;
    }
    let now = app.clock.now_ts();
    let new_org = || async {
        let name = format!("Matrix partner {}", uuid::Uuid::now_v7().simple());
        partner_org(app, &name).await.0
    };
    let valid = |tier: &str| {
        agreement(
            app,
            "security_vendor",
            tier,
            json!({ "kind": "all" }),
            (-1, 365),
        )
    };
    // A partner organisation with a valid tier-1 agreement, written through the store.
    let with_agreement = || async {
        let org = new_org().await;
        let a = keikai_domain::partner::Agreement::record(
            org,
            serde_json::from_value(valid("1")).unwrap(),
            &keikai_domain::partner::Tiers::default(),
            now,
            None,
        )
        .unwrap();
        let change = Change::new("test.agreement", "partner/test", Value::Null, Value::Null);
        app.store
            .save_agreement(&a, &Effects::system(now).with_audit(change.clone()))
            .await
            .unwrap();
        org
    };
    let advisory =
        || crate::advisories::matrix_advisory(app, fx.version, fx.victim, fx.own_org, false);
    let unknown = uuid::Uuid::now_v7().to_string();
    let with = |id: String| template.replace("{org}", &id).replace("{id}", &id);
    let (path, body) = match (method, template) {
        ("POST", "/partners/{org}/agreement") => {
            let days = |d: i64| day(now + SignedDuration::from_hours(24 * d));
            let (signed, expires) = (days(-2), days(365));
            (
                with(new_org().await.to_string()),
                form(&[
                    ("partner_type", "csirt"),
                    ("tier", "2"),
                    ("scope", "all"),
                    ("signed_at", &signed),
                    ("expires_at", &expires),
                ]),
            )
        }
        ("POST", "/partners/{org}/revoke") => (
            with(with_agreement().await.to_string()),
            form(&[("reason", "matrix")]),
        ),
        ("POST", "/editor/advisories/{id}/partner-edition") => (
            with(advisory().await.id.to_string()),
            form(&[("indicators", "matrix"), ("tlp", "amber")]),
        ),
        ("POST", "/partners/alerts") => {
            with_agreement().await;
            (
                template.to_owned(),
                form(&[
                    ("title", "Matrix alert"),
                    ("body", "matrix"),
                    ("tlp", "amber"),
                    ("tier", "1"),
                ]),
            )
        }
        ("PUT", "/api/v1/partners/{org}/agreement") => {
            (with(new_org().await.to_string()), Body::Json(valid("2")))
        }
        ("POST", "/api/v1/partners/{org}/revoke") => (
            with(with_agreement().await.to_string()),
            Body::Json(json!({ "reason": "matrix" })),
        ),
        (_, "/api/v1/advisories/{id}/partner-edition") => {
            let body = if method == "PUT" {
                Body::Json(json!({ "indicators": ["matrix"], "tlp": "amber" }))
            } else {
                Body::Empty
            };
            (with(advisory().await.id.to_string()), body)
        }
        (
            "POST",
            "/api/v1/partners/questions/{id}/answers" | "/partners/questions/{id}/answers",
        ) => {
            let m = advisory().await;
            let org = with_agreement().await;
            let (asker, _) = app.user_with_role(Role::PartnerContact).await;
            let q =
                keikai_domain::partner::Question::ask(m.release, m.id, org, asker, "matrix?", now)
                    .unwrap();
            let change = Change::new("test.question", "partner/test", Value::Null, Value::Null);
            app.store
                .create_question(&q, &Effects::system(q.asked_at).with_audit(change.clone()))
                .await
                .unwrap();
            let body = if template.starts_with("/api/") {
                Body::Json(json!({ "text": "matrix", "audience": "everyone" }))
            } else {
                form(&[("text", "matrix"), ("audience", "everyone")])
            };
            (with(q.id.to_string()), body)
        }
        ("POST", "/api/v1/partners/alerts") => {
            with_agreement().await;
            (
                template.to_owned(),
                Body::Json(json!({
                    "title": "Matrix alert",
                    "body": "matrix",
                    "tlp": "amber",
                    "groups": { "tiers": ["1"] },
                })),
            )
        }
        _ => {
            let path = template
                .replace("{release}", &unknown)
                .replace("{advisory}", &unknown)
                .replace("{id}", &unknown);
            let body = match (method, template.starts_with("/api/")) {
                ("GET", _) => Body::Empty,
                (_, true) => Body::Json(json!({ "text": "matrix" })),
                (_, false) => form(&[("text", "matrix")]),
            };
            (path, body)
        }
    };
    Some((path, body))
}

async fn contact_email(w: &World, p: &Partner) -> String {
    let (_, me) = w.partner(p).get("/api/v1/me").await;
    me["email"]
        .as_str()
        .or_else(|| me["user"]["email"].as_str())
        .unwrap_or_else(|| panic!("no email in {me}"))
        .to_owned()
}

#[tokio::test]
async fn packages_and_alerts_are_mailed_once_at_their_time_to_their_contacts_only() {
    let w = world().await;
    let app = &w.f.app;
    let sink = keikai_jobs::testing::SmtpSink::start().await;
    // Two instances on one database deliver at the same moment: one package goes out.
    let one = w.f.application(app.store.clone());
    let two = w.f.application(app.db.connect().await);
    let system = keikai_app::Caller::system();
    let (a, b) = tokio::join!(
        keikai_app::partners::deliver_due_packages(&one, &system),
        keikai_app::partners::deliver_due_packages(&two, &system)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "tier 1 only, once");
    assert_eq!(
        keikai_app::partners::deliver_due_packages(&one, &system)
            .await
            .unwrap(),
        0
    );
    send_mail(app, &sink).await;
    let p1_mail = contact_email(&w, &w.p1).await;
    let got = sink.received();
    assert_eq!(got.len(), 1, "only the valid tier-1 partner's contact");
    assert_eq!(got[0].rcpt_to, std::slice::from_ref(&p1_mail));
    let subject = got[0].decoded_header("Subject").unwrap();
    assert!(subject.starts_with("[TLP:AMBER]"), "{subject}");
    let text = got[0].text_body().unwrap();
    assert!(text.contains(&w.router.tracking_id), "{text}");
    assert!(
        !text.contains(&w.office.tracking_id),
        "out of scope: {text}"
    );
    assert!(
        !text.contains(ROUTER_SECRET),
        "details stay in the portal: {text}"
    );
    assert!(
        text.contains(&format!("/partner/releases/{}", w.release.id())),
        "{text}"
    );

    // A day before the release tier 2's package goes out, with both advisories.
    app.clock.advance(SignedDuration::from_hours(24));
    assert_eq!(
        keikai_app::partners::deliver_due_packages(&two, &system)
            .await
            .unwrap(),
        1
    );
    send_mail(app, &sink).await;
    let got = sink.received();
    assert_eq!(got.len(), 2);
    let p2_mail = contact_email(&w, &w.p2).await;
    assert_eq!(got[1].rcpt_to, [p2_mail]);
    let text = got[1].text_body().unwrap();
    assert!(text.contains(&w.router.tracking_id) && text.contains(&w.office.tracking_id));

    // An alert goes out at once, to tier 1's valid partners.
    w.alert("Worm outbreak", "Block port 445 now.").await;
    send_mail(app, &sink).await;
    send_mail(app, &sink).await;
    let got = sink.received();
    assert_eq!(got.len(), 3, "one alert message, sent once");
    assert_eq!(got[2].rcpt_to, [p1_mail]);
    assert_eq!(
        got[2].decoded_header("Subject").as_deref(),
        Some("[URGENT][TLP:AMBER] Worm outbreak")
    );
}
