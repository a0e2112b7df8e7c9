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

use std::sync::Arc;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use keikai_domain::advisory::{
    Acknowledgment, Advisory, Faq, Reference, Remediation, Score, Text, Tlp, Verdict, Vulnerability,
};
use keikai_domain::audit::{AuditActor, Change};
use keikai_domain::case::RemediationCategory;
use keikai_domain::case::{CveId, CvssVector, Cwe, ProductStatus, ProductStatusKind};
use keikai_domain::release::{Release, ReleaseKind};
use keikai_domain::{
    BranchCategory, BranchId, BranchName, DisplayName, Email, Locale, ManualClock, UserId,
    VulnerabilityId,
};
use keikai_store::{NewBranch, NewUser, Store};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn user(store: &Arc<dyn Store>, email: &str, now: Timestamp) -> UserId {
    store
        .create_user(
            &NewUser {
                email: Email::parse(email).unwrap(),
                display_name: DisplayName::parse("Bench").unwrap(),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                locale: None,
            },
            now,
        )
        .await
        .unwrap()
        .id
}

async fn branch(
    store: &Arc<dyn Store>,
    parent: Option<BranchId>,
    category: BranchCategory,
    name: &str,
    now: Timestamp,
) -> BranchId {
    store
        .create_branch(
            &NewBranch {
                parent_id: parent,
                category,
                name: BranchName::parse(name).unwrap(),
            },
            now,
        )
        .await
        .unwrap()
        .id
}

const VECTORS: [&str; 4] = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:L/A:N",
];

/// One advisory like a vendor's monthly bulletin: two vulnerabilities over three versions of
/// a product, a per-product score, a fix and a workaround, FAQ, Japanese and English.
fn advisory(
    i: usize,
    versions: &[BranchId; 3],
    author: UserId,
    now: Timestamp,
) -> (Advisory, Change) {
    let long = "The service does not check the length of a field in a crafted request before \
                copying it, which lets a remote attacker overwrite memory. "
        .repeat(6);
    let text = Text {
        title: format!("Multiple vulnerabilities in Example Server (bulletin {i})"),
        summary: format!("Two vulnerabilities in Example Server {i} allow remote code execution."),
        description: long.clone(),
        impact: "An attacker could run code as the service account.".to_owned(),
        faqs: vec![
            Faq {
                question: "Am I affected?".to_owned(),
                answer: "Versions 1.0 and 1.1 are affected; 2.0 is not.".to_owned(),
            },
            Faq {
                question: "Is there a workaround?".to_owned(),
                answer: "Block the management port at the firewall.".to_owned(),
            },
        ],
    };
    let ja = Text {
        title: format!("Example Server における複数の脆弱性（公開情報 {i}）"),
        summary: "Example Server に遠隔からコードを実行される脆弱性が二件あります。".to_owned(),
        description: "細工されたリクエストのフィールド長を確認せずに複写するため、遠隔の攻撃者がメモリを上書きできます。"
            .repeat(4),
        impact: "サービスアカウントの権限でコードが実行される可能性があります。".to_owned(),
        faqs: vec![Faq {
            question: "影響を受けますか。".to_owned(),
            answer: "1.0 と 1.1 が影響を受けます。2.0 は影響を受けません。".to_owned(),
        }],
    };
    let (mut a, change) = Advisory::draft(
        keikai_domain::advisory::tracking_id("BENCH", 2026, i as i64),
        Locale::En,
        text,
        author,
        now,
    )
    .unwrap();
    a.content.text.ja = ja;
    a.content.tlp = Tlp::Clear;
    a.content.severity = Some("Critical".to_owned());
    a.content.references = vec![Reference {
        url: format!("https://example.com/kb/{i}"),
        summary: "Knowledge base article".to_owned(),
    }];
    a.content.acknowledgments = vec![Acknowledgment {
        names: vec!["Hanako Yamada".to_owned()],
        organization: Some("Example Research".to_owned()),
    }];
    for k in 0..2 {
        let vector =
            |s: &str| CvssVector::parse("cvss_v3", s, &[keikai_cvss::Version::V3_1]).unwrap();
        a.content.vulnerabilities.push(Vulnerability {
            id: VulnerabilityId::new(),
            title: format!("Buffer overflow {k} in the request parser"),
            cve: Some(CveId::parse(&format!("CVE-2026-{}", 20000 + i * 2 + k)).unwrap()),
            cwe: Some(Cwe::parse("CWE-787").unwrap()),
            scores: vec![
                Score {
                    vector: vector(VECTORS[(i + k) % 4]),
                    branch_ids: Vec::new(),
                },
                Score {
                    vector: vector(VECTORS[(i + k + 1) % 4]),
                    branch_ids: vec![versions[1]],
                },
            ],
            exploited: i.is_multiple_of(10),
            publicly_disclosed: false,
            product_statuses: vec![
                ProductStatus::new(versions[0], ProductStatusKind::KnownAffected, None).unwrap(),
                ProductStatus::new(versions[1], ProductStatusKind::KnownAffected, None).unwrap(),
                ProductStatus::new(versions[2], ProductStatusKind::Fixed, None).unwrap(),
            ],
            remediations: vec![
                Remediation {
                    category: RemediationCategory::VendorFix,
                    details: keikai_domain::advisory::Localized {
                        en: "Update to 2.0.".to_owned(),
                        ja: "2.0 に更新してください。".to_owned(),
                    },
                    fixed_version: Some("2.0".to_owned()),
                    kb: Some(format!("KB{}", 500000 + i)),
                    url: Some(format!("https://example.com/download/{i}")),
                    branch_ids: vec![versions[0], versions[1]],
                },
                Remediation {
                    category: RemediationCategory::Workaround,
                    details: keikai_domain::advisory::Localized {
                        en: "Block the management port.".to_owned(),
                        ja: "管理ポートを遮断してください。".to_owned(),
                    },
                    fixed_version: None,
                    kb: None,
                    url: None,
                    branch_ids: Vec::new(),
                },
            ],
        });
    }
    (a, change)
}

async fn run(url: &str, n: usize) -> f64 {
    let store = keikai_store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let now = Timestamp::now();
    let clock = Arc::new(ManualClock::new(now));
    let author = user(&store, "author@bench.test", now).await;
    let reviewer = user(&store, "reviewer@bench.test", now).await;
    let vendor = branch(&store, None, BranchCategory::Vendor, "Example", now).await;
    let mut products = Vec::new();
    for p in 0..10 {
        let product = branch(
            &store,
            Some(vendor),
            BranchCategory::ProductName,
            &format!("Server {p}"),
            now,
        )
        .await;
        let mut v = [BranchId::new(); 3];
        for (slot, name) in v.iter_mut().zip(["1.0", "1.1", "2.0"]) {
            *slot = branch(
                &store,
                Some(product),
                BranchCategory::ProductVersion,
                name,
                now,
            )
            .await;
        }
        products.push(v);
    }
    let mut config = keikai_web::WebConfig::default();
    config.publishing.publisher.base_url = "http://127.0.0.1:8080".to_owned();
    config.publishing.publisher.cve_assigner = Some((
        "11111111-2222-4333-8444-555555555555".parse().unwrap(),
        "EXAMPLE".to_owned(),
    ));
    let state = keikai_web::AppState::new(store.clone(), config, clock.clone());
    keikai_web::publishing::provider_key(&state).await.unwrap();
    let release = Release::plan(
        ReleaseKind::Monthly,
        state
            .config
            .publishing
            .schedule
            .next_monthly_after(now)
            .unwrap(),
        "Monthly release",
        &state.config.publishing.schedule,
        now,
    )
    .unwrap();
    let change = Change::new("release.planned", release.subject(), (), ());
    let release = store
        .create_release(&release, AuditActor::System, &change, now)
        .await
        .unwrap();
    for i in 1..=n {
        let (mut a, change) = advisory(i, &products[i % products.len()], author, now);
        a.review(reviewer, Verdict::Approve, "", now).unwrap();
        a.schedule(release.id(), now).unwrap();
        store
            .create_advisory(&a, AuditActor::User(author), &change)
            .await
            .unwrap();
    }
    clock.advance(SignedDuration::from_hours(1));
    let t0 = Instant::now();
    let outcome = keikai_web::publishing::publish_release(&state, release.id(), AuditActor::System)
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
