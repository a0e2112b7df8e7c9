//! Publishing and the public site: a release goes out at its time exactly once, its files are
//! valid (our CSAF validator, CVE JSON 5 schema, `gpg --verify`, feedparser), revisions keep
//! earlier files, and nothing unpublished or embargoed is reachable from the public site, the
//! feeds, the public API or the export.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use keikai_domain::advisory::{Advisory, Faq, RemediationInput, Text, Tlp, Verdict};
use keikai_domain::audit::AuditActor;
use keikai_domain::case::{CveId, CvssVector, Cwe, ProductStatus, ProductStatusKind};
use keikai_domain::release::{Release, ReleaseKind};
use keikai_domain::{BranchCategory, BranchId, BranchName, Locale, Role, UserId};
use keikai_store::Effects;
use keikai_store::NewBranch;
use serde_json::Value;

use crate::support::{NowTs, TestApp, assert_valid_csaf, string_pairs};

/// Markers that must never appear on the public side.
const DRAFT_MARKER: &str = "UNRELEASED-DRAFT-7f3a";
const AMBER_MARKER: &str = "PARTNER-ONLY-91c2";
const REVISION_MARKER: &str = "PENDING-REVISION-5d1e";

fn config() -> keikai_app::AppConfig {
    let mut c = keikai_app::AppConfig::default();
    c.publishing.publisher.base_url = "https://psirt.example.com".to_owned();
    c.publishing.publisher.namespace = "https://example.com".to_owned();
    c.publishing.publisher.name = "Example PSIRT".to_owned();
    c.publishing.publisher.cve_assigner = Some((
        "11111111-2222-4333-8444-555555555555".parse().unwrap(),
        "EXAMPLE".to_owned(),
    ));
    c.publishing.tracking_prefix = "EXA".to_owned();
    // The fixtures' advisories are written in English, some also in Japanese; which
    // languages a deployment requires is tested on its own (follow.rs).
    c.publishing.languages = vec![Locale::En];
    c
}

/// An out-of-band release planned at `now` for `after` that, stored with its audit entry.
pub(crate) async fn plan_release(
    app: &TestApp,
    now: Timestamp,
    after: SignedDuration,
    title: &str,
) -> Release {
    let r = Release::plan(
        ReleaseKind::OutOfBand,
        now + after,
        title,
        &keikai_app::AppConfig::default().publishing.schedule,
        now,
    )
    .unwrap();
    let change =
        keikai_domain::audit::Change::new("release.planned", r.subject(), Value::Null, Value::Null);
    app.store
        .create_release(&r, &Effects::system(now).with_audit(change))
        .await
        .unwrap()
}

pub(crate) struct Fixture {
    pub(crate) app: TestApp,
    pub(crate) author: UserId,
    pub(crate) reviewer: UserId,
    pub(crate) old: BranchId,
    pub(crate) new: BranchId,
    pub(crate) analyst_token: String,
}

pub(crate) async fn branch(
    app: &TestApp,
    parent: Option<BranchId>,
    c: BranchCategory,
    name: &str,
) -> BranchId {
    app.store
        .create_branch(
            &NewBranch {
                id: BranchId::new(),
                parent_id: parent,
                category: c,
                name: BranchName::parse(name).unwrap(),
            },
            &Effects::system(app.clock.now_ts()),
        )
        .await
        .unwrap()
        .id
}

pub(crate) async fn fixture() -> Fixture {
    let app = TestApp::spawn_with(config()).await;
    let (author, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (reviewer, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let analyst_token = app.write_token(reviewer).await;
    let vendor = branch(&app, None, BranchCategory::Vendor, "Example").await;
    let product = branch(&app, Some(vendor), BranchCategory::ProductName, "Router X").await;
    let old = branch(&app, Some(product), BranchCategory::ProductVersion, "1.0").await;
    let new = branch(&app, Some(product), BranchCategory::ProductVersion, "1.1").await;
    Fixture {
        app,
        author,
        reviewer,
        old,
        new,
        analyst_token,
    }
}

fn text(title: &str) -> Text {
    Text {
        title: title.to_owned(),
        summary: format!("{title}: a crafted packet crashes the router."),
        description: "The parser trusts a length field.\n<script>alert(1)</script>".to_owned(),
        impact: "Remote code execution.".to_owned(),
        faqs: vec![Faq {
            question: "Am I affected?".to_owned(),
            answer: "Yes, if you run 1.0.".to_owned(),
        }],
    }
}

impl Fixture {
    pub(crate) fn now(&self) -> Timestamp {
        self.app.clock.now_ts()
    }

    /// A draft with one vulnerability (CVE, CWE, CVSS, statuses, a fix), saved.
    pub(crate) async fn advisory(&self, title: &str, tlp: Tlp) -> Advisory {
        let store = &self.app.store;
        let seq = store.next_advisory_seq(2026).await.unwrap();
        let (mut a, change) = Advisory::draft(
            keikai_domain::advisory::tracking_id("EXA", 2026, seq),
            Locale::En,
            text(title),
            self.author,
            self.now(),
        )
        .unwrap();
        let vid = keikai_domain::VulnerabilityId::new();
        a.content.tlp = tlp;
        a.content.severity = Some("Critical".to_owned());
        a.content
            .vulnerabilities
            .push(keikai_domain::advisory::Vulnerability {
                id: vid,
                title: "Stack overflow in the packet parser".to_owned(),
                cve: Some(CveId::parse(&format!("CVE-2026-{}", 10000 + seq)).unwrap()),
                cwe: Some(Cwe::parse("CWE-121").unwrap()),
                scores: vec![keikai_domain::advisory::Score {
                    vector: CvssVector::parse(
                        "cvss_v3",
                        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                        &[keikai_cvss::Version::V3_1],
                    )
                    .unwrap(),
                    branch_ids: Vec::new(),
                }],
                exploited: false,
                publicly_disclosed: false,
                product_statuses: vec![
                    ProductStatus::new(self.old, ProductStatusKind::KnownAffected, None).unwrap(),
                    ProductStatus::new(self.new, ProductStatusKind::Fixed, None).unwrap(),
                ],
                remediations: Vec::new(),
            });
        let a = store
            .create_advisory(
                &a,
                &Effects::new(AuditActor::User(self.author), a.updated_at)
                    .with_audit(change.clone()),
            )
            .await
            .unwrap();
        let mut a = a;
        let fix = RemediationInput {
            category: "vendor_fix".to_owned(),
            details: "Update to 1.1.".to_owned(),
            fixed_version: Some("1.1".to_owned()),
            branch_ids: vec![self.old],
            ..RemediationInput::default()
        };
        let c = a
            .add_remediation(vid, &fix, Locale::En, self.author, self.now())
            .unwrap();
        let mut ja = text("ルーターのスタックオーバーフロー");
        ja.summary = "細工されたパケットでルーターが停止します。".to_owned();
        // The Japanese text translates the English one: both stay current.
        let c2 = a
            .translate(
                Locale::Ja,
                ja,
                &["1.1 に更新してください。".to_owned()],
                self.author,
                self.now(),
            )
            .unwrap();
        self.save_as(self.author, &a, [c, c2]).await
    }

    pub(crate) async fn release(&self, in_minutes: i64) -> Release {
        let after = SignedDuration::from_mins(in_minutes);
        plan_release(&self.app, self.now(), after, "Out-of-band release").await
    }

    /// A draft (see [`Fixture::advisory`]), approved and scheduled into a new release.
    pub(crate) async fn scheduled(&self, title: &str, in_minutes: i64) -> (Advisory, Release) {
        let a = self.advisory(title, Tlp::Clear).await;
        let r = self.release(in_minutes).await;
        (self.approve_and_schedule(&a, &r).await, r)
    }

    /// A public advisory (TLP:CLEAR) and one for partners (TLP:AMBER), approved and scheduled
    /// in a release `in_minutes` from now, and a draft that is in none; the titles of the
    /// last two carry markers that must never be public. Returns the three and the release.
    async fn public_amber_and_draft(
        &self,
        in_minutes: i64,
    ) -> (Advisory, Advisory, Advisory, Release) {
        let public = self
            .advisory("Stack overflow in Router X", Tlp::Clear)
            .await;
        let amber = self
            .advisory(&format!("Partner notice {AMBER_MARKER}"), Tlp::Amber)
            .await;
        let draft = self
            .advisory(&format!("Embargoed {DRAFT_MARKER}"), Tlp::Clear)
            .await;
        let release = self.release(in_minutes).await;
        self.approve_and_schedule(&public, &release).await;
        self.approve_and_schedule(&amber, &release).await;
        (public, amber, draft, release)
    }

    /// Publishes a release as the scheduler would.
    pub(crate) async fn publish(&self, r: &Release) -> keikai_app::publishing::Outcome {
        let application = self.application(self.app.store.clone());
        keikai_app::publishing::publish_release(&application, &keikai_app::Caller::system(), r.id())
            .await
            .unwrap()
    }

    /// Approves (as the second analyst) and schedules.
    pub(crate) async fn approve_and_schedule(&self, a: &Advisory, r: &Release) -> Advisory {
        let mut a = self.app.store.get_advisory(a.id).await.unwrap();
        let c1 = a
            .review(self.reviewer, Verdict::Approve, "", self.now())
            .unwrap();
        let c2 = a.schedule(r.id(), self.now()).unwrap();
        self.save_as(self.reviewer, &a, [c1, c2]).await
    }

    /// Saves an advisory as `user`, with the audit entries of its changes.
    pub(crate) async fn save_as(
        &self,
        user: UserId,
        a: &Advisory,
        changes: impl IntoIterator<Item = keikai_domain::audit::Change>,
    ) -> Advisory {
        let fx = Effects::new(AuditActor::User(user), a.updated_at).with_changes(changes);
        self.app.store.save_advisory(a, &fx).await.unwrap()
    }

    /// Starts a revision of a published advisory ("Adds a workaround.") and makes one edit
    /// in it, as the author.
    pub(crate) async fn revise(
        &self,
        a: &Advisory,
        edit: impl FnOnce(&mut Advisory) -> keikai_domain::audit::Change,
    ) -> Advisory {
        let mut p = self.app.store.get_advisory(a.id).await.unwrap();
        let started = p
            .start_revision("Adds a workaround.", self.author, self.now())
            .unwrap();
        let edited = edit(&mut p);
        self.save_as(self.author, &p, [started, edited]).await
    }

    /// The application on `store` (a second connection stands for a second instance).
    pub(crate) fn application(&self, store: Arc<dyn keikai_store::Store>) -> keikai_app::App {
        keikai_app::App::new(store, config(), self.app.clock.clone())
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(self.app.url(path)).await.unwrap()
    }

    pub(crate) async fn body(&self, path: &str) -> (u16, Vec<u8>) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.bytes().await.unwrap().to_vec())
    }
}

/// The schedule's slots go to one worker each, whichever instance queued them; a slot that
/// a later one has overtaken does nothing.
#[tokio::test]
async fn each_slot_of_the_schedule_is_run_by_one_instance() {
    use keikai_app::schedule;
    use keikai_jobs::{Worker, WorkerConfig};
    use keikai_store::{JobFilter, JobState, Store};

    let f = fixture().await;
    let (a, r) = f.scheduled("Stack overflow in Router X", 60).await;
    let second: Arc<dyn Store> = f.app.db.connect().await;
    let one = f.application(f.app.store.clone());
    let two = f.application(second.clone());
    let system = keikai_app::Caller::system();
    let worker = |app: &keikai_app::App, store: Arc<dyn Store>| {
        keikai_jobs::schedule::register(
            Worker::new(store, f.app.clock.clone(), WorkerConfig::default()),
            app,
        )
    };
    let (w1, w2) = (
        worker(&one, f.app.store.clone()),
        worker(&two, second.clone()),
    );
    f.app.clock.advance(SignedDuration::from_mins(61));
    // To just past the start of a housekeeping slot (ten minutes), so that the minute that
    // passes below stays inside it whatever time the test starts at.
    let into_slot = f.app.clock.now_ts().as_second().rem_euclid(600);
    f.app
        .clock
        .advance(SignedDuration::from_secs(600 - into_slot + 1));

    // Both instances queue the current slots: one job per tick.
    let (x, y) = tokio::join!(
        schedule::enqueue(&one, &system),
        schedule::enqueue(&two, &system)
    );
    assert_eq!(x.unwrap() + y.unwrap(), schedule::Tick::ALL.len() as u64);
    // Time passes before a worker gets to it: a later slot is due, so it does nothing.
    f.app.clock.advance(SignedDuration::from_mins(1));
    let stats = w1.run_once().await.unwrap();
    assert_eq!((stats.claimed, stats.done), (2, 2), "{stats:?}");
    let planned = f.app.store.get_release(r.id()).await.unwrap();
    assert_eq!(
        planned.state(),
        keikai_domain::release::ReleaseState::Planned
    );

    // The next slot: queued by both, run by whichever worker claims it first.
    let (x, y) = tokio::join!(
        schedule::enqueue(&one, &system),
        schedule::enqueue(&two, &system)
    );
    assert_eq!(
        x.unwrap() + y.unwrap(),
        1,
        "housekeeping's slot is still the same"
    );
    let (s1, s2) = tokio::join!(w1.run_once(), w2.run_once());
    let (s1, s2) = (s1.unwrap(), s2.unwrap());
    assert_eq!(s1.claimed + s2.claimed, 1, "{s1:?} {s2:?}");
    assert_eq!(s1.done + s2.done, 1, "{s1:?} {s2:?}");
    let stored = f.app.store.get_advisory(a.id).await.unwrap();
    assert_eq!(stored.versions.len(), 1);
    let jobs = f
        .app
        .store
        .list_jobs(&JobFilter {
            kind_prefix: Some(schedule::JOB_KIND_PREFIX.to_owned()),
            state: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:?}");
}

#[tokio::test]
async fn a_release_goes_out_at_its_time_exactly_once_with_two_instances() {
    let f = fixture().await;
    let (a, _) = f.scheduled("Stack overflow in Router X", 60).await;
    // Two instances, each with its own connection to the one database.
    let one = f.application(f.app.store.clone());
    let two = f.application(f.app.db.connect().await);
    let system = keikai_app::Caller::system();
    // Before its time nothing happens.
    let (x, y) = tokio::join!(
        keikai_app::publishing::publish_due(&one, &system),
        keikai_app::publishing::publish_due(&two, &system)
    );
    assert!(x.unwrap().is_empty() && y.unwrap().is_empty());
    assert_eq!(
        f.get(&format!("/advisories/{}", a.tracking_id))
            .await
            .status(),
        404
    );

    f.app.clock.advance(SignedDuration::from_mins(61));
    let (x, y) = tokio::join!(
        keikai_app::publishing::publish_due(&one, &system),
        keikai_app::publishing::publish_due(&two, &system)
    );
    let published: Vec<_> = x
        .unwrap()
        .into_iter()
        .chain(y.unwrap())
        .flat_map(|(_, o)| o.published)
        .collect();
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0].tracking_id, a.tracking_id);
    assert_eq!(published[0].version, 1);
    // Once more, nothing.
    assert!(
        keikai_app::publishing::publish_due(&one, &system)
            .await
            .unwrap()
            .is_empty()
    );
    let stored = f.app.store.get_advisory(a.id).await.unwrap();
    assert_eq!(stored.versions.len(), 1);
    let files = f.app.store.list_artifacts(Some(a.id)).await.unwrap();
    let names: BTreeSet<_> = files.iter().map(|m| m.name.as_str()).collect();
    let file = "exa-2026-0001.json";
    for n in [
        file.to_owned(),
        format!("{file}.sha256"),
        format!("{file}.sha512"),
        format!("{file}.asc"),
        "en.html".to_owned(),
        "ja.html".to_owned(),
        "CVE-2026-10001.json".to_owned(),
    ] {
        assert!(names.contains(n.as_str()), "{n} missing from {names:?}");
    }
    assert_eq!(files.len(), names.len(), "each file once");
    let history = f.app.store.audit_for(&a.subject()).await.unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|e| e.action == "advisory.published")
            .count(),
        1
    );
}

/// Where a visitor enters the public site: the lists, the feeds, the public API, the CSAF
/// provider's files and security.txt.
pub(crate) const PUBLIC_ENTRY_POINTS: [&str; 11] = [
    "/advisories",
    "/advisories?lang=ja",
    "/advisories/feed.atom",
    "/advisories/feed.ja.atom",
    "/api/v1/public/advisories",
    "/.well-known/csaf/provider-metadata.json",
    "/.well-known/csaf/service.json",
    "/.well-known/csaf/white/index.txt",
    "/.well-known/csaf/white/changes.csv",
    "/.well-known/csaf/white/feed-tlp-white.json",
    "/.well-known/security.txt",
];

/// Fetches everything a visitor can reach from the public entry points, following links.
async fn crawl(f: &Fixture) -> Vec<(String, Vec<u8>)> {
    let link = regex::Regex::new(
        r#"(?:href|src)="([^"]+)"|"(https://psirt\.example\.com/[^"]+)"|<link>([^<]+)</link>"#,
    )
    .unwrap();
    let mut seen = HashSet::new();
    let mut queue: Vec<String> = PUBLIC_ENTRY_POINTS.map(str::to_owned).to_vec();
    let mut out = Vec::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (status, bytes) = f.body(&path).await;
        if status != 200 {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes).to_string();
        // index.txt and changes.csv name documents relative to the directory.
        if path.ends_with("index.txt") {
            for l in text.lines() {
                queue.push(format!("/.well-known/csaf/white/{l}"));
            }
        }
        for c in link.captures_iter(&text) {
            let raw = c.get(1).or(c.get(2)).or(c.get(3)).unwrap().as_str();
            let local = raw
                .strip_prefix("https://psirt.example.com")
                .unwrap_or(raw)
                .replace("&amp;", "&");
            if local.starts_with('/') && !local.starts_with("//") {
                queue.push(local);
            }
        }
        out.push((path, bytes));
    }
    out
}

fn leaks(files: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, bytes) in files {
        let text = String::from_utf8_lossy(bytes);
        for marker in [DRAFT_MARKER, AMBER_MARKER, REVISION_MARKER] {
            if text.contains(marker) {
                found.push(format!("{marker} in {path}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn published_files_are_valid_and_nothing_unpublished_is_reachable() {
    let f = fixture().await;
    let (public, amber, draft, r) = f.public_amber_and_draft(5).await;
    // Published through the API, before its time (an out-of-band "publish now").
    let api = f.app.api(&f.analyst_token);
    let publish = format!("/api/v1/releases/{}/publish", r.id());
    let (status, outcome) = api.send("POST", &publish, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        outcome["published"].as_array().unwrap().len(),
        2,
        "{outcome}"
    );
    // A second attempt is refused.
    assert_eq!(api.send("POST", &publish, None).await.0, 409);

    // A pending revision of the public advisory, not yet published.
    let pending = text(&format!("Stack overflow {REVISION_MARKER}"));
    f.revise(&public, |p| {
        p.edit_text(Locale::En, pending, &[], f.author, f.now())
            .unwrap()
    })
    .await;

    let files = crawl(&f).await;
    let paths: BTreeSet<_> = files.iter().map(|(p, _)| p.clone()).collect();
    let tid = &public.tracking_id;
    let csaf = "/.well-known/csaf/white/2026/exa-2026-0001.json".to_owned();
    for want in [
        format!("/advisories/{tid}/en.html"),
        format!("/advisories/{tid}/ja.html"),
        csaf.clone(),
        format!("{csaf}.sha256"),
        format!("{csaf}.sha512"),
        format!("{csaf}.asc"),
    ] {
        assert!(
            paths.contains(&want),
            "{want} not reachable; crawled {paths:#?}"
        );
    }
    assert_eq!(leaks(&files), Vec::<String>::new());
    // Guessing does not help either.
    for path in [
        format!("/advisories/{}", draft.tracking_id),
        format!("/advisories/{}/en.html", draft.tracking_id),
        format!("/advisories/{}/en.html", amber.tracking_id),
        format!("/advisories/{}/versions/1/en.html", amber.tracking_id),
        format!("/advisories/{tid}/versions/2/en.html"),
        format!("/api/v1/public/advisories/{}", draft.tracking_id),
        format!("/api/v1/public/advisories/{}", amber.tracking_id),
        "/.well-known/csaf/white/2026/exa-2026-0002.json".to_owned(),
        "/.well-known/csaf/white/2026/CVE-2026-10001.json".to_owned(),
        "/.well-known/csaf/white/2025/exa-2026-0001.json".to_owned(),
        format!("/advisories?q={DRAFT_MARKER}"),
        format!("/advisories?q={REVISION_MARKER}"),
        format!("/api/v1/public/advisories?q={AMBER_MARKER}"),
    ] {
        let (status, bytes) = f.body(&path).await;
        let text = String::from_utf8_lossy(&bytes).to_string();
        if path.contains("?q=") {
            // A search answers (echoing the query in its search box), but finds nothing.
            assert_eq!(status, 200, "{path}");
            assert!(
                text.contains("id=\"empty\"") || text == "[]",
                "{path}: {text}"
            );
        } else {
            assert!(leaks(&[(path.clone(), bytes)]).is_empty(), "{path} leaks");
            assert_eq!(status, 404, "{path}");
        }
    }

    // The CSAF document: valid with our validator, hashes right, signature good with gpg.
    let doc = files.iter().find(|(p, _)| *p == csaf).unwrap().1.clone();
    let json: Value = serde_json::from_slice(&doc).unwrap();
    assert_valid_csaf(&json);
    assert_eq!(json["document"]["tracking"]["version"], "1");
    assert_eq!(json["document"]["distribution"]["tlp"]["label"], "WHITE");
    let sha = files
        .iter()
        .find(|(p, _)| *p == format!("{csaf}.sha256"))
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&sha.1),
        format!(
            "{}  exa-2026-0001.json\n",
            hex::encode(sha2::Sha256::digest(&doc))
        )
    );
    let asc = files
        .iter()
        .find(|(p, _)| *p == format!("{csaf}.asc"))
        .unwrap();
    let metadata: Value = serde_json::from_slice(
        &files
            .iter()
            .find(|(p, _)| p == "/.well-known/csaf/provider-metadata.json")
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(metadata["role"], "csaf_trusted_provider");
    let key_url = metadata["public_openpgp_keys"][0]["url"].as_str().unwrap();
    let key_path = key_url.strip_prefix("https://psirt.example.com").unwrap();
    let (status, key) = f.body(key_path).await;
    assert_eq!(status, 200);
    gpg_verify(&key, &doc, &asc.1);
    // security.txt names the provider metadata.
    let (_, sec) = f.body("/.well-known/security.txt").await;
    assert!(
        String::from_utf8_lossy(&sec)
            .contains("CSAF: https://psirt.example.com/.well-known/csaf/provider-metadata.json"),
        "{}",
        String::from_utf8_lossy(&sec)
    );

    // The CVE record validates against the CVE JSON 5 schema.
    let cve_path = format!("/advisories/{tid}/versions/1/CVE-2026-10001.json");
    let cve = files
        .iter()
        .find(|(p, _)| *p == cve_path)
        .expect("CVE record linked");
    let record: Value = serde_json::from_slice(&cve.1).unwrap();
    assert_eq!(
        keikai_formats::cve5::validate_cve_record(&record),
        Vec::<String>::new()
    );
    corpus_cve_schema_check(&record);

    // The Atom feed parses with feedparser; the page escapes markup.
    let feed = files
        .iter()
        .find(|(p, _)| p == "/advisories/feed.atom")
        .unwrap();
    feedparser_check(&feed.1, 1);
    let page = files
        .iter()
        .find(|(p, _)| *p == format!("/advisories/{tid}/en.html"))
        .unwrap();
    let html = String::from_utf8_lossy(&page.1);
    assert!(
        (html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"))
            && !html.contains("<script>alert"),
        "{html}"
    );
    let ja = files
        .iter()
        .find(|(p, _)| *p == format!("/advisories/{tid}/ja.html"))
        .unwrap();
    assert!(String::from_utf8_lossy(&ja.1).contains("1.1 に更新してください。"));
}

fn gpg_verify(key: &[u8], data: &[u8], sig: &[u8]) {
    use std::process::Command;
    if Command::new("gpg").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "gpg is missing under CI");
        eprintln!("skipping gpg --verify: gpg not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("gnupg");
    std::fs::create_dir(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::write(dir.path().join("key.asc"), key).unwrap();
    std::fs::write(dir.path().join("doc.json"), data).unwrap();
    std::fs::write(dir.path().join("doc.json.asc"), sig).unwrap();
    let gpg = |args: &[&str]| {
        Command::new("gpg")
            .arg("--homedir")
            .arg(&home)
            .args(["--batch", "--status-fd", "1"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let import = gpg(&["--import", "key.asc"]);
    assert!(import.status.success(), "{import:?}");
    let verify = gpg(&["--verify", "doc.json.asc", "doc.json"]);
    let status = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && status.contains("VALIDSIG"),
        "{status}"
    );
    // One changed byte: a bad signature.
    let mut changed = data.to_vec();
    changed[10] ^= 1;
    std::fs::write(dir.path().join("doc.json"), &changed).unwrap();
    let verify = gpg(&["--verify", "doc.json.asc", "doc.json"]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("BADSIG"));
}

fn feedparser_check(feed: &[u8], entries: usize) {
    use std::process::Command;
    let ok = Command::new("python3")
        .args(["-c", "import feedparser"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("KEIKAI_REQUIRE_FEEDPARSER").is_none(),
            "feedparser is required"
        );
        eprintln!("skipping the feedparser check: python3 -m pip install feedparser");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.atom");
    std::fs::write(&path, feed).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import feedparser,sys; d=feedparser.parse(sys.argv[1]); print(d.bozo, len(d.entries), d.feed.get('title',''))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("False {entries} ")),
        "{text} {out:?}"
    );
}

fn corpus_cve_schema_check(record: &Value) {
    let dir = std::env::var_os("KEIKAI_CORPUS").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        std::path::PathBuf::from,
    );
    let schema = dir.join("cve5/schema/CVE_JSON_bundled_5.1.1.json");
    let Ok(text) = std::fs::read_to_string(&schema) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} missing under CI",
            schema.display()
        );
        eprintln!(
            "skipping: {} not found (set KEIKAI_CORPUS)",
            schema.display()
        );
        return;
    };
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(record)
        .map(|e| e.to_string())
        .collect();
    assert_eq!(errors, Vec::<String>::new());
}

use sha2::Digest as _;

/// Paths and bodies for the route × role matrix.
pub(crate) async fn prepare(
    app: &TestApp,
    method: &str,
    template: &str,
) -> Option<(String, crate::matrix::Body)> {
    use crate::matrix::Body;
    if template.ends_with("/releases/{id}/publish") {
        // A fresh planned release for each caller: publishing consumes it.
        let now = app.clock.now_ts();
        let r = plan_release(app, now, SignedDuration::from_hours(1), "Matrix release").await;
        return Some((template.replace("{id}", &r.id().to_string()), Body::Empty));
    }
    if !(template.starts_with("/.well-known/csaf/")
        || template.starts_with("/advisories")
        || template.starts_with("/api/v1/public/"))
    {
        return None;
    }
    let (tracking_id, fingerprint) = published_sample(app).await;
    let file = keikai_app::publishing::csaf_file_name(&tracking_id);
    let path = match template {
        "/.well-known/csaf/openpgp/{file}" => {
            format!("/.well-known/csaf/openpgp/{fingerprint}.asc")
        }
        "/.well-known/csaf/white/{name}" => "/.well-known/csaf/white/index.txt".to_owned(),
        "/.well-known/csaf/white/{year}/{file}" => {
            format!(
                "/.well-known/csaf/white/{}/{file}",
                app.clock.now_ts().strftime("%Y")
            )
        }
        t if t.starts_with("/advisories/{tracking_id}")
            || t.starts_with("/api/v1/public/advisories/{tracking_id}") =>
        {
            t.replace("{tracking_id}", &tracking_id)
                .replace("{version}", "1")
                .replace("{file}", "en.html")
        }
        t if t.starts_with("/.well-known/csaf/")
            || t.starts_with("/advisories")
            || t.starts_with("/api/v1/public/") =>
        {
            t.to_owned()
        }
        _ => return None,
    };
    debug_assert_eq!(method, "GET");
    Some((path, Body::Empty))
}

/// One published advisory in `app` (made on first use): its tracking id and the key's
/// fingerprint. The public routes answer the same to every caller.
async fn published_sample(app: &TestApp) -> (String, String) {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _guard = LOCK.lock().await;
    let application = keikai_app::App::new(
        app.store.clone(),
        keikai_app::AppConfig::default(),
        app.clock.clone(),
    );
    let key = keikai_app::publishing::provider_key(&application)
        .await
        .unwrap();
    let public = keikai_app::public::advisories(&application, None)
        .await
        .unwrap();
    if let Some(a) = public.first() {
        return (a.tracking_id.clone(), key.fingerprint());
    }
    let now = app.clock.now_ts();
    let (author, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let (reviewer, _) = app.user_with_role(Role::PsirtAnalyst).await;
    let vendor = branch(app, None, BranchCategory::Vendor, "Sample vendor").await;
    let product = branch(app, Some(vendor), BranchCategory::ProductName, "Sample").await;
    let version = branch(app, Some(product), BranchCategory::ProductVersion, "1.0").await;
    let year = now.to_zoned(jiff::tz::TimeZone::UTC).year();
    let seq = app.store.next_advisory_seq(year).await.unwrap();
    let (mut a, created) = Advisory::draft(
        keikai_domain::advisory::tracking_id("KEIKAI", year, seq),
        Locale::En,
        text("Sample advisory"),
        author,
        now,
    )
    .unwrap();
    // Both languages, as the default configuration requires.
    a.content.text.ja = text("サンプルのアドバイザリ");
    a.content
        .vulnerabilities
        .push(keikai_domain::advisory::Vulnerability {
            id: keikai_domain::VulnerabilityId::new(),
            title: "Sample vulnerability".to_owned(),
            cve: None,
            cwe: None,
            scores: Vec::new(),
            exploited: false,
            publicly_disclosed: false,
            product_statuses: vec![
                ProductStatus::new(version, ProductStatusKind::UnderInvestigation, None).unwrap(),
            ],
            remediations: Vec::new(),
        });
    let a = app
        .store
        .create_advisory(
            &a,
            &Effects::new(AuditActor::User(author), a.updated_at).with_audit(created.clone()),
        )
        .await
        .unwrap();
    let r = plan_release(app, now, SignedDuration::from_mins(1), "Sample release").await;
    let mut a = a;
    let c1 = a.review(reviewer, Verdict::Approve, "", now).unwrap();
    let c2 = a.schedule(r.id(), now).unwrap();
    app.store
        .save_advisory(
            &a,
            &Effects::new(AuditActor::User(reviewer), a.updated_at).with_changes([c1, c2]),
        )
        .await
        .unwrap();
    let outcome = keikai_app::publishing::publish_release(
        &application,
        &keikai_app::Caller::system(),
        r.id(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.published.len(), 1, "{outcome:?}");
    (a.tracking_id.clone(), key.fingerprint())
}

#[tokio::test]
async fn a_revision_is_a_new_version_that_keeps_the_earlier_files() {
    let f = fixture().await;
    let (a, r1) = f.scheduled("Stack overflow in Router X", 10).await;
    f.publish(&r1).await;
    let tid = &a.tracking_id;
    let csaf = "/.well-known/csaf/white/2026/exa-2026-0001.json";
    let (_, v1_doc) = f
        .body(&format!("/advisories/{tid}/versions/1/exa-2026-0001.json"))
        .await;
    let (_, v1_changes) = f.body("/.well-known/csaf/white/changes.csv").await;
    // ETag and Last-Modified: a client with the current copy gets 304.
    let res = f.get(csaf).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(res.headers().contains_key("last-modified"));
    let if_none_match = ("if-none-match", etag.as_str());
    let res = f.app.fetch_with(csaf, if_none_match).await;
    assert_eq!(res.status(), 304);

    f.app.clock.advance(SignedDuration::from_hours(24));
    let workaround = RemediationInput {
        category: "workaround".to_owned(),
        details: "Block UDP port 9999.".to_owned(),
        ..RemediationInput::default()
    };
    f.revise(&a, |p| {
        let vid = p.content.vulnerabilities[0].id;
        p.add_remediation(vid, &workaround, Locale::En, f.author, f.now())
            .unwrap()
    })
    .await;
    let r2 = f.release(10).await;
    f.approve_and_schedule(&a, &r2).await;
    assert_eq!(f.publish(&r2).await.published[0].version, 2);

    let (status, doc) = f.body(csaf).await;
    assert_eq!(status, 200);
    let json: Value = serde_json::from_slice(&doc).unwrap();
    assert_eq!(json["document"]["tracking"]["version"], "2");
    let history = &json["document"]["tracking"]["revision_history"];
    assert_eq!(
        string_pairs(history, "number", "summary"),
        [("1", "Initial release."), ("2", "Adds a workaround.")]
    );
    assert!(String::from_utf8_lossy(&doc).contains("Block UDP port 9999."));
    // The first version's files are still there, byte for byte.
    let (_, again) = f
        .body(&format!("/advisories/{tid}/versions/1/exa-2026-0001.json"))
        .await;
    assert_eq!(again, v1_doc);
    assert_ne!(again, doc);
    // The distribution files follow: a new ETag, a new date in changes.csv and the feed.
    let res = f.app.fetch_with(csaf, if_none_match).await;
    assert_eq!(res.status(), 200);
    let (_, changes) = f.body("/.well-known/csaf/white/changes.csv").await;
    assert_ne!(changes, v1_changes);
    let updated = json["document"]["tracking"]["current_release_date"]
        .as_str()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&changes).contains(updated),
        "{}",
        String::from_utf8_lossy(&changes)
    );
    let (_, feed) = f.body("/.well-known/csaf/white/feed-tlp-white.json").await;
    let feed: Value = serde_json::from_slice(&feed).unwrap();
    assert_eq!(feed["feed"]["entry"][0]["updated"], updated);
    let (_, page) = f.body(&format!("/advisories/{tid}/en.html")).await;
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("Adds a workaround.") && page.contains("Initial release."));
}

/// `keikai export` writes the same bytes the site serves; the peer validators (BSI
/// csaf-validator-lib and PyPI `csaf`) accept every CSAF document in it.
#[tokio::test]
async fn the_export_matches_the_site_and_passes_the_peer_validators() {
    let f = fixture().await;
    let (_, amber, draft, release) = f.public_amber_and_draft(10).await;
    f.publish(&release).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keikai.toml");
    std::fs::write(
        &config,
        "public_url = \"https://psirt.example.com\"\norganisation_name = \"Example PSIRT\"\n\
         [publishing]\ntracking_prefix = \"EXA\"\npublisher_namespace = \"https://example.com\"\n\
         cve_org_id = \"11111111-2222-4333-8444-555555555555\"\ncve_short_name = \"EXAMPLE\"\n",
    )
    .unwrap();
    let out_dir = dir.path().join("site");
    let db_url = f.app.db.url.clone();
    let out = tokio::task::spawn_blocking({
        let out_dir = out_dir.clone();
        let config = config.clone();
        let cwd = dir.path().to_owned();
        move || {
            crate::process::keikai(&cwd)
                .env("KEIKAI_DATABASE_URL", db_url)
                .arg("--config")
                .arg(&config)
                .arg("export")
                .arg(&out_dir)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut exported = Vec::new();
    let mut stack = vec![out_dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(&out_dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                exported.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    assert!(exported.len() >= 20, "{}", exported.len());
    assert_eq!(leaks(&exported), Vec::<String>::new());
    for (rel, bytes) in &exported {
        assert!(
            !rel.contains(&draft.tracking_id) && !rel.contains(&amber.tracking_id),
            "{rel}"
        );
        let url = match rel.as_str() {
            "advisories/index.html" => "/advisories".to_owned(),
            "advisories/index.ja.html" => "/advisories?lang=ja".to_owned(),
            other => format!("/{other}"),
        };
        let (status, served) = f.body(&url).await;
        assert_eq!(status, 200, "{url}");
        assert!(served == *bytes, "{url} differs from the export");
    }
    peer_validators(&out_dir);
}

fn peer_validators(dir: &std::path::Path) {
    use std::process::Command;
    let kit =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/peers/csaf");
    let peers = std::env::var_os("PEERS_DIR").map_or_else(
        || {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/keikai-peers")
        },
        std::path::PathBuf::from,
    );
    let required = std::env::var_os("KEIKAI_REQUIRE_PEERS").is_some();
    let lib = peers.join("node/node_modules/@secvisogram/csaf-validator-lib");
    let pypi = peers.join("py/venv-csaf/bin/csaf");
    if !kit.exists() || !lib.exists() || !pypi.exists() {
        assert!(
            !required,
            "peer validators not installed in {}",
            peers.display()
        );
        eprintln!("skipping the peer validators: run ../shared/bench/peers/csaf/install.sh");
        return;
    }
    // Name, program, its runner in the kit, the runner's flag for the validator, the
    // validator, and what its output must say.
    let peers = [
        (
            "BSI csaf-validator-lib",
            "node",
            "run_csaf_validator_lib.mjs",
            "--lib",
            lib,
            " 0 invalid",
        ),
        (
            "PyPI csaf",
            "python3",
            "run_csaf_pypi.py",
            "--csaf",
            pypi,
            "",
        ),
    ];
    for preset in ["basic", "full"] {
        for (name, program, runner, flag, validator, says) in &peers {
            let out = Command::new(program)
                .arg(kit.join(runner))
                .arg("--dir")
                .arg(dir)
                .args(["--preset", preset, flag])
                .arg(validator)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{name} ({preset}): {text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(text.contains(says), "{name} ({preset}): {text}");
        }
    }
}

/// `keikai key import` installs an organisation's own key while none exists; `key show` prints
/// it; a second import is refused with a message, since published signatures name the first.
#[tokio::test]
async fn key_import_installs_a_key_once_and_key_show_prints_it() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let ours = keikai_openpgp::ProviderKey::generate(
        "Example PSIRT <psirt@example.com>",
        app.clock.now_ts(),
    )
    .unwrap();
    let file = dir.path().join("key.asc");
    std::fs::write(&file, ours.to_armored_secret().unwrap()).unwrap();
    let other = dir.path().join("other.asc");
    let second =
        keikai_openpgp::ProviderKey::generate("Other <o@example.com>", app.clock.now_ts()).unwrap();
    std::fs::write(&other, second.to_armored_secret().unwrap()).unwrap();
    let garbage = dir.path().join("garbage.asc");
    std::fs::write(&garbage, "not a key").unwrap();
    let db_url = app.db.url.clone();
    let cwd = dir.path().to_owned();
    let run = move |args: Vec<std::ffi::OsString>| {
        let db_url = db_url.clone();
        let cwd = cwd.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                crate::process::keikai(&cwd)
                    .env("KEIKAI_DATABASE_URL", db_url)
                    .args(args)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let out = run(vec!["key".into(), "import".into(), garbage.clone().into()]).await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("garbage.asc"),
        "{out:?}"
    );
    let out = run(vec!["key".into(), "import".into(), file.into()]).await;
    assert!(out.status.success(), "{out:?}");
    let out = run(vec!["key".into(), "show".into()]).await;
    assert!(out.status.success(), "{out:?}");
    let public = String::from_utf8(out.stdout).unwrap();
    assert!(
        public.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"),
        "{public}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&ours.fingerprint()),
        "{:?}",
        out.stderr
    );
    let sig = ours.sign_detached(b"hello").unwrap();
    keikai_openpgp::verify_detached(&public, b"hello", &sig).unwrap();
    let out = run(vec!["key".into(), "import".into(), other.into()]).await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a provider key exists already"),
        "{out:?}"
    );
    // The import is audited, with the operator and the key's fingerprint; the refused
    // second one left nothing.
    let entries = app.store.audit_for("provider-key").await.unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].action, "publishing.key_imported");
    assert_eq!(entries[0].actor, "cli");
    assert!(
        entries[0].after.contains(&ours.fingerprint()),
        "{entries:?}"
    );
}
