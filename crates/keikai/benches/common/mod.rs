//! What the benchmarks share: a product tree and realistic bilingual advisories scheduled
//! in a release, ready to publish.

#![allow(dead_code, reason = "each bench uses part of it")]

use std::sync::Arc;

use jiff::Timestamp;
use keikai_domain::ListId;
use keikai_domain::advisory::{
    Acknowledgment, Advisory, Faq, Reference, Remediation, Score, Text, Tlp, Verdict, Vulnerability,
};
use keikai_domain::audit::{AuditActor, Change};
use keikai_domain::case::RemediationCategory;
use keikai_domain::case::{CveId, CvssVector, Cwe, ProductStatus, ProductStatusKind};
use keikai_domain::release::{Release, ReleaseKind};
use keikai_domain::subscription::{
    AudienceList, Filter, Subscriber, SubscriberInput, SubscriptionState, default_triggers,
};
use keikai_domain::{
    BranchCategory, BranchId, BranchName, DisplayName, Email, Locale, ManualClock, UserId,
    VulnerabilityId,
};
use keikai_store::{Effects, NewBranch, NewSubscription, NewUser, Store};

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The audit entry of what a benchmark or test seeds the store with.
pub fn seeded() -> Change {
    Change::new("seed", "distribution", (), ())
}

/// A private distribution list with the default edition, filter and triggers.
pub fn audience_list(name: String, priority: u32) -> AudienceList {
    AudienceList {
        id: ListId::new(),
        name,
        priority,
        edition: "default".to_owned(),
        internal_only: false,
        filter: Filter::default(),
        triggers: default_triggers(),
        public: false,
        description: String::new(),
    }
}

/// Stores distribution lists as a seed.
pub async fn save_lists(store: &Arc<dyn Store>, lists: &[AudienceList], now: Timestamp) {
    for l in lists {
        store
            .save_list(l, &Effects::system(now).with_audit(seeded()))
            .await
            .unwrap();
    }
}

/// `count` confirmed subscribers, the `n`th from `subscriber(n)`: its details and the lists
/// it is on.
pub fn active_subscribers(
    now: Timestamp,
    count: usize,
    subscriber: impl Fn(usize) -> (SubscriberInput, Vec<ListId>),
) -> Vec<NewSubscription> {
    (0..count)
        .map(|n| {
            let (input, lists) = subscriber(n);
            let mut s = Subscriber::subscribe(input, now).unwrap();
            s.state = SubscriptionState::Active;
            NewSubscription {
                subscriber: s,
                token: format!("{n:05}-seed-token-0123456789abcdef0123456789"),
                lists,
            }
        })
        .collect()
}

pub async fn user(store: &Arc<dyn Store>, email: &str, now: Timestamp) -> UserId {
    store
        .create_user(
            &NewUser {
                id: UserId::new(),
                email: Email::parse(email).unwrap(),
                display_name: DisplayName::parse("Bench").unwrap(),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                locale: None,
            },
            &[],
            &Effects::system(now),
        )
        .await
        .unwrap()
        .id
}

pub async fn branch(
    store: &Arc<dyn Store>,
    parent: Option<BranchId>,
    category: BranchCategory,
    name: &str,
    now: Timestamp,
) -> BranchId {
    store
        .create_branch(
            &NewBranch {
                id: BranchId::new(),
                parent_id: parent,
                category,
                name: BranchName::parse(name).unwrap(),
            },
            &Effects::system(now),
        )
        .await
        .unwrap()
        .id
}

pub const VECTORS: [&str; 4] = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:L/A:N",
];

/// One advisory like a vendor's monthly bulletin: two vulnerabilities over three versions of
/// a product, a per-product score, a fix and a workaround, FAQ, Japanese and English.
pub fn advisory(
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

/// A store with `n` advisories approved and scheduled in a monthly release.
pub struct World {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub app: keikai_app::App,
    pub release: Release,
    /// Per product: versions 1.0, 1.1 and 2.0.
    pub products: Vec<[BranchId; 3]>,
    pub now: Timestamp,
}

pub async fn world(url: &str, n: usize) -> World {
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
    let mut config = keikai_app::AppConfig::default();
    config.publishing.publisher.base_url = "http://127.0.0.1:8080".to_owned();
    config.publishing.publisher.cve_assigner = Some((
        "11111111-2222-4333-8444-555555555555".parse().unwrap(),
        "EXAMPLE".to_owned(),
    ));
    let app = keikai_app::App::new(store.clone(), config, clock.clone());
    keikai_app::publishing::provider_key(&app).await.unwrap();
    let release = Release::plan(
        ReleaseKind::Monthly,
        app.config()
            .publishing
            .schedule
            .next_monthly_after(now)
            .unwrap(),
        "Monthly release",
        &app.config().publishing.schedule,
        now,
    )
    .unwrap();
    let change = Change::new("release.planned", release.subject(), (), ());
    let release = store
        .create_release(&release, &Effects::system(now).with_audit(change))
        .await
        .unwrap();
    for i in 1..=n {
        let (mut a, change) = advisory(i, &products[i % products.len()], author, now);
        a.review(reviewer, Verdict::Approve, "", now).unwrap();
        a.schedule(release.id(), now).unwrap();
        store
            .create_advisory(
                &a,
                &Effects::new(AuditActor::User(author), a.updated_at).with_audit(change),
            )
            .await
            .unwrap();
    }
    World {
        store,
        clock,
        app,
        release,
        products,
        now,
    }
}
