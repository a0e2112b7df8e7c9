use std::collections::BTreeSet;

use uuid::Uuid;

use super::*;
use crate::advisory::{AdvisoryState, Content, Remediation, Text};
use crate::case::ProductStatusKind;
use crate::testing::{
    V1_0, V2_0, V2_1, firmware_fix, fixed_in_2_1, id, loc, router_catalogue, score, status, ts,
    vector, vulnerability,
};
use crate::{AdvisoryId, ReleaseId};

fn names() -> ProductNames {
    ProductNames::from_branches(&router_catalogue())
}

/// Two vulnerabilities of a router; both are fixed by the same firmware.
fn content() -> Content {
    use ProductStatusKind as K;
    let text = |title: &str, summary: &str, q: &str, a: &str| Text {
        title: title.to_owned(),
        summary: summary.to_owned(),
        description: String::new(),
        impact: String::new(),
        faqs: vec![Faq {
            question: q.to_owned(),
            answer: a.to_owned(),
        }],
    };
    Content {
        text: Localized {
            en: text(
                "Authentication bypass in Router X",
                "An attacker on the network can log in to the web interface without a password.\nNo user interaction is needed.",
                "Is version 2.1 affected?",
                "No. Version 2.1 fixes both vulnerabilities.",
            ),
            ja: text(
                "Router X における認証回避の脆弱性",
                "ネットワーク上の攻撃者が、パスワードなしで Web 管理画面にログインできます。\n利用者の操作は必要ありません。",
                "バージョン 2.1 は影響を受けますか？",
                "いいえ。バージョン 2.1 で両方の脆弱性を修正しています。",
            ),
        },
        tlp: Tlp::Clear,
        severity: Some("Critical".to_owned()),
        vulnerabilities: vec![
            Vulnerability {
                scores: vec![score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")],
                exploited: true,
                product_statuses: fixed_in_2_1(),
                remediations: vec![firmware_fix()],
                ..vulnerability(1, "Authentication bypass", "CVE-2026-10001")
            },
            Vulnerability {
                scores: vec![score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N")],
                product_statuses: vec![
                    status(V2_0, K::KnownAffected, None),
                    status(V2_1, K::Fixed, None),
                ],
                remediations: vec![
                    firmware_fix(),
                    Remediation {
                        category: RemediationCategory::Workaround,
                        details: loc(
                            "Turn off the web interface until you can update.",
                            "更新できるまで Web 管理画面を無効にしてください。",
                        ),
                        fixed_version: None,
                        kb: None,
                        url: None,
                        branch_ids: vec![id(V2_0)],
                    },
                ],
                ..vulnerability(2, "Information disclosure", "CVE-2026-10002")
            },
        ],
        references: vec![Reference {
            url: "https://www.example.org/research/router-x".to_owned(),
            summary: "Researcher's write-up".to_owned(),
        }],
        acknowledgments: vec![
            Acknowledgment {
                names: vec!["Hanako Yamada".to_owned(), "Ken Sato".to_owned()],
                organization: Some("Example Research".to_owned()),
            },
            Acknowledgment {
                names: Vec::new(),
                organization: Some("JPCERT/CC".to_owned()),
            },
        ],
    }
}

fn version(number: u32, at: &str, summary: &str, content: Content) -> PublishedVersion {
    PublishedVersion {
        number,
        at: ts(at),
        summary: summary.to_owned(),
        release: ReleaseId::from_uuid(Uuid::from_u128(7)),
        content,
    }
}

/// An advisory published twice: version 2 adds nothing but a note in the history.
fn advisory() -> Advisory {
    let v1 = version(1, "2026-12-08T01:00:00Z", "Initial release.", content());
    let v2 = version(2, "2026-12-15T01:00:00Z", "Added a workaround.", content());
    Advisory {
        id: AdvisoryId::from_uuid(Uuid::from_u128(3)),
        tracking_id: "KEIKAI-2026-0001".to_owned(),
        case_id: None,
        state: AdvisoryState::Published,
        content: content(),
        outdated: Vec::new(),
        authors: BTreeSet::new(),
        edits: Vec::new(),
        reviews: Vec::new(),
        release: None,
        revision_summary: None,
        versions: vec![v1, v2],
        created_at: ts("2026-12-01T00:00:00Z"),
        updated_at: ts("2026-12-15T01:00:00Z"),
        revision: 0,
    }
}

const BASE: &str = "https://psirt.example.com/";

fn recipient() -> RecipientView {
    RecipientView {
        name: "Taro Suzuki".to_owned(),
        time_zone: "Asia/Tokyo".to_owned(),
        unsubscribe_url: "https://psirt.example.com/unsubscribe/abc".to_owned(),
        ack_url: Some("https://psirt.example.com/ack/abc".to_owned()),
        preferences_url: Some("https://psirt.example.com/preferences/abc".to_owned()),
    }
}

fn edition(name: &str) -> Edition {
    Edition::new(name, "Keikai security advisories").unwrap_or_else(|e| panic!("{e}"))
}

fn engineers() -> Edition {
    Edition {
        title: "Example Corp engineers".to_owned(),
        supplement: loc(
            "Ship 2.1 to the remaining lab devices this week.\nAsk #psirt before announcing anything.",
            "今週中に残りの検証機へ 2.1 を配布してください。\n公表前に #psirt へ相談してください。",
        ),
        ack_requested: true,
        ..edition("engineers")
    }
}

/// Version `version` (0-based) of `a` as an advisory item of a summary or digest.
fn item(a: &Advisory, version: usize) -> AdvisoryItem {
    AdvisoryItem::new(a, &a.versions[version], &names(), BASE)
}

/// The publication of version `version` (0-based) of `a`.
fn publication(a: &Advisory, version: usize) -> EventView {
    EventView::publication(a, &a.versions[version], &names(), BASE)
}

/// The first publication of [`advisory`].
fn first_publication() -> EventView {
    publication(&advisory(), 0)
}

fn render_ok(e: &Edition, event: &EventView, lang: Locale) -> Rendered {
    render(e, event, &recipient(), lang).unwrap_or_else(|e| panic!("{e}"))
}

fn with_templates(subject: &str, text: &str, html: &str) -> Edition {
    let same = |s: &str| loc(s, s);
    Edition {
        templates: Some(Templates {
            subject: same(subject),
            text: same(text),
            html: same(html),
        }),
        ..edition("custom")
    }
}

/// Checking `e` fails on `field`, with a message that says `words`.
#[track_caller]
fn assert_refused(e: &Edition, field: &str, words: &str) {
    let err = e.check().unwrap_err();
    assert_eq!(err.field(), field);
    assert!(err.to_string().contains(words), "{err}");
}

#[test]
fn sections_parse_print_and_serialise_as_snake_case() {
    for s in Section::ALL {
        assert_eq!(s.to_string().parse::<Section>(), Ok(s));
        assert_eq!(
            serde_json::to_value(s).unwrap_or_else(|e| panic!("{e}")),
            serde_json::json!(s.as_str())
        );
    }
    assert_eq!("affected_products".parse(), Ok(Section::AffectedProducts));
    let e = "faqs".parse::<Section>().unwrap_err();
    assert_eq!(e.field(), "sections");
    assert!(e.to_string().contains("\"faqs\""), "{e}");
}

#[test]
fn an_edition_has_a_slug_and_a_title() {
    let e = Edition::new("customers-ja", "Customers").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.sections.len(), Section::ALL.len());
    assert!(e.templates.is_none() && !e.ack_requested);
    assert!(e.check().is_ok());
    for bad in ["", "Customers", "a b", "über", &"x".repeat(41)] {
        let err = Edition::new(bad, "T").unwrap_err();
        assert_eq!(err.field(), "name", "{bad}");
    }
    assert_eq!(Edition::new("x", " ").unwrap_err().field(), "title");
    let mut e = edition("x");
    e.supplement.ja = "a\u{7}b".to_owned();
    assert_eq!(e.check().unwrap_err().field(), "supplement.ja");
}

#[test]
fn the_built_in_templates_pass_the_check_with_any_sections() {
    assert!(engineers().check().is_ok());
    let mut bare = edition("bare");
    bare.sections.clear();
    assert!(bare.check().is_ok());
    // Saving the built-in text as an edition's own is the same as having none.
    let own = Edition {
        templates: Some(Edition::built_in_templates()),
        ..engineers()
    };
    own.check().unwrap_or_else(|e| panic!("{e}"));
    let event = first_publication();
    assert_eq!(
        render_ok(&own, &event, Locale::Ja),
        render_ok(&engineers(), &event, Locale::Ja)
    );
}

#[test]
fn a_publication_in_english_and_japanese() {
    let event = first_publication();
    let e = edition("everyone");
    let en = render_ok(&e, &event, Locale::En);
    let ja = render_ok(&e, &event, Locale::Ja);
    assert_eq!(
        en.subject,
        "[Exploited] Security advisory KEIKAI-2026-0001: Authentication bypass in Router X"
    );
    assert_eq!(
        ja.subject,
        "【悪用を確認】【セキュリティアドバイザリ】KEIKAI-2026-0001 Router X における認証回避の脆弱性"
    );
    insta::assert_snapshot!("publication_text_en", en.text);
    insta::assert_snapshot!("publication_text_ja", ja.text);
    insta::assert_snapshot!("publication_html_en", en.html);
}

#[test]
fn a_restricted_revision_for_engineers_with_supplement_and_ack_link() {
    let mut a = advisory();
    for v in &mut a.versions {
        v.content.tlp = Tlp::Amber;
    }
    let event = publication(&a, 1);
    assert_eq!(event.kind, EventKind::Revision);
    // The public site does not show it: no link.
    assert_eq!(event.url, None);
    let ja = render_ok(&engineers(), &event, Locale::Ja);
    assert!(
        ja.subject.starts_with(
            "【TLP:AMBER】【悪用を確認】【セキュリティアドバイザリ更新】KEIKAI-2026-0001（第2版）"
        ),
        "{}",
        ja.subject
    );
    assert!(ja.text.starts_with("TLP:AMBER："), "{}", ja.text);
    insta::assert_snapshot!("revision_engineers_text_ja", ja.text);
    insta::assert_snapshot!("revision_engineers_html_ja", ja.html);
}

#[test]
fn sections_left_out_are_not_shown() {
    let event = first_publication();
    let mut e = edition("customers");
    e.sections = [
        Section::Summary,
        Section::AffectedProducts,
        Section::Remediations,
    ]
    .into();
    let en = render_ok(&e, &event, Locale::En);
    insta::assert_snapshot!("customers_text_en", en.text);
    for absent in [
        "Workarounds",
        "Frequently asked questions",
        "Acknowledgments",
        "Revision history",
        "References",
        "Severity",
    ] {
        assert!(!en.text.contains(absent), "{absent} in\n{}", en.text);
        assert!(!en.html.contains(absent), "{absent} in\n{}", en.html);
    }
    let ja = render_ok(&e, &event, Locale::Ja);
    for absent in [
        "回避策",
        "よくある質問",
        "謝辞",
        "改訂履歴",
        "参考情報",
        "深刻度",
    ] {
        assert!(!ja.text.contains(absent), "{absent} in\n{}", ja.text);
        assert!(!ja.html.contains(absent), "{absent} in\n{}", ja.html);
    }
    assert!(ja.text.contains("影響を受ける製品") && ja.html.contains("影響を受ける製品"));
}

#[test]
fn html_escapes_advisory_text_and_plain_text_does_not() {
    let mut a = advisory();
    a.versions[0].content.text.en.title = "<script>alert(1)</script> & more".to_owned();
    a.versions[0].content.text.en.summary = "<img src=x onerror=alert(2)>".to_owned();
    let event = publication(&a, 0);
    let en = render_ok(&engineers(), &event, Locale::En);
    assert!(!en.html.contains("<script>"), "{}", en.html);
    assert!(!en.html.contains("<img"), "{}", en.html);
    assert!(
        en.html
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; more")
    );
    assert!(en.text.contains("<script>alert(1)</script> & more"));
    assert!(en.text.contains("<img src=x onerror=alert(2)>"));
    assert!(en.subject.contains("<script>alert(1)</script>"));
    // An administrator cannot switch escaping off.
    assert_refused(
        &with_templates(
            "{{ event.title }}",
            "{{ event.title }}",
            "{{ event.title|safe }}",
        ),
        "templates.html.en",
        "safe",
    );
}

#[test]
fn check_names_the_template_the_line_and_the_undefined_name() {
    let mut e = with_templates(
        "{{ event.title }}",
        "{{ event.title }}",
        "<p>\n{{ event.titel }}</p>",
    );
    e.templates
        .as_mut()
        .unwrap_or_else(|| panic!("templates"))
        .html
        .en = "<p>{{ event.title }}</p>".to_owned();
    let err = e.check().unwrap_err();
    assert_eq!(err.field(), "templates.html.ja");
    let msg = err.to_string();
    assert!(msg.contains("line 2"), "{msg}");
    assert!(msg.contains("event.titel"), "{msg}");
    assert!(msg.contains("undefined"), "{msg}");

    assert_refused(
        &with_templates("{% if event.exploited %}x", "t", "h"),
        "templates.subject.en",
        "line 1: syntax error",
    );

    // Attributes of an absent value fail too; only a sample with it absent shows that.
    assert_refused(
        &with_templates("{{ event.period.label }}", "t", "h"),
        "templates.subject.en",
        "sample",
    );
}

#[test]
fn an_empty_template_means_the_built_in_one() {
    let mut e = with_templates("", "", "");
    e.templates
        .as_mut()
        .unwrap_or_else(|| panic!("templates"))
        .text
        .ja = "{{ lang }}: {{ event.title }}".to_owned();
    e.check().unwrap_or_else(|e| panic!("{e}"));
    let event = first_publication();
    let plain = edition("custom");
    let ja = render_ok(&e, &event, Locale::Ja);
    assert_eq!(ja.text, "ja: Router X における認証回避の脆弱性");
    assert_eq!(ja.html, render_ok(&plain, &event, Locale::Ja).html);
    assert_eq!(
        render_ok(&e, &event, Locale::En),
        render_ok(&plain, &event, Locale::En)
    );
}

#[test]
fn runaway_templates_are_stopped() {
    assert_refused(
        &with_templates(
            "s",
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "h",
        ),
        "templates.text.en",
        "fuel",
    );

    assert_refused(
        &with_templates(
            "s",
            "t",
            "{% for i in range(40000) %}0123456789abcdef0123456789abcdef{% endfor %}",
        ),
        "templates.html.en",
        "more than 1 MB",
    );

    let mut e = with_templates("s", "t", "h");
    e.templates
        .as_mut()
        .unwrap_or_else(|| panic!("templates"))
        .text
        .en = "x".repeat(MAX_TEMPLATE_BYTES + 1);
    assert_eq!(e.check().unwrap_err().field(), "templates.text.en");
}

#[test]
fn a_subject_is_one_line() {
    let e = with_templates("{{ event.title }}\n\tsecond line\n", "t", "h");
    assert_refused(&e, "templates.subject.en", "one line");
    // At send time the line breaks are folded rather than failing the delivery.
    let event = first_publication();
    let r = render_ok(&e, &event, Locale::En);
    assert_eq!(r.subject, "Authentication bypass in Router X second line");
    let e = with_templates("{{ '' }}", "t", "h");
    assert!(e.check().unwrap_err().to_string().contains("empty subject"));
}

#[test]
fn the_ack_link_only_when_the_edition_asks_and_the_unsubscribe_link_always() {
    let event = first_publication();
    let ack = "https://psirt.example.com/ack/abc";
    let unsubscribe = "https://psirt.example.com/unsubscribe/abc";
    let escaped = |u: &str| u.replace('/', "&#x2f;");
    for lang in Locale::ALL {
        let asks = render_ok(&engineers(), &event, lang);
        assert!(asks.text.contains(ack) && asks.html.contains(&escaped(ack)));
        let not = render_ok(&edition("plain"), &event, lang);
        assert!(!not.text.contains(ack) && !not.html.contains(&escaped(ack)));
    }
    let mut bare = edition("bare");
    bare.sections.clear();
    for (label, event) in samples() {
        for lang in Locale::ALL {
            for e in [&bare, &engineers()] {
                let r = render_ok(e, &event, lang);
                assert!(r.text.contains(unsubscribe), "{label} {lang}\n{}", r.text);
                assert!(r.html.contains(&escaped(unsubscribe)), "{label} {lang}");
            }
        }
    }
}

#[test]
fn times_are_shown_in_the_recipients_zone() {
    let event = first_publication();
    let tokyo = render_ok(&edition("x"), &event, Locale::En);
    assert!(
        tokyo.text.contains("Published: 2026-12-08 10:00 JST"),
        "{}",
        tokyo.text
    );
    let mut r = recipient();
    r.time_zone = "America/Los_Angeles".to_owned();
    let la = render(&edition("x"), &event, &r, Locale::En).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        la.text.contains("Published: 2026-12-07 17:00 PST"),
        "{}",
        la.text
    );
    r.time_zone = "Mars/Olympus".to_owned();
    let err = render(&edition("x"), &event, &r, Locale::En).unwrap_err();
    assert_eq!(err.field(), "time_zone");
}

#[test]
fn a_publication_carries_what_the_filters_need() {
    let a = advisory();
    let event = publication(&a, 0);
    assert_eq!(event.kind, EventKind::Publication);
    assert_eq!(event.key, "advisory:KEIKAI-2026-0001:v1");
    assert_eq!(
        event.url.as_deref(),
        Some("https://psirt.example.com/advisories/KEIKAI-2026-0001")
    );
    let facts = event.facts();
    assert_eq!(facts.affected, vec![id(V1_0), id(V2_0)]);
    assert_eq!(facts.max_score, Some(9.8));
    assert!(facts.exploited);
    assert_eq!(facts.tlp, Tlp::Clear);
    assert_eq!(facts.languages, Locale::ALL.into_iter().collect());
    let item = &event.advisories[0];
    assert_eq!(item.cves, ["CVE-2026-10001", "CVE-2026-10002"]);
    assert_eq!(
        item.products,
        ["Example Corp Router X 1.0", "Example Corp Router X 2.0"]
    );
    // The fix shared by both vulnerabilities is shown once, for every product it fixes.
    assert_eq!(item.remediations.len(), 1);
    assert_eq!(item.remediations[0].products, item.products);
    assert_eq!(item.workarounds.len(), 1);
    assert_eq!(item.workarounds[0].products, ["Example Corp Router X 2.0"]);
    let history: Vec<u32> = item.revisions.iter().map(|r| r.number).collect();
    assert_eq!(history, [1]);
    let v2 = publication(&a, 1);
    let history: Vec<u32> = v2.advisories[0]
        .revisions
        .iter()
        .map(|r| r.number)
        .collect();
    assert_eq!(history, [1, 2]);
}

#[test]
fn an_untranslated_advisory_is_shown_in_its_other_language() {
    let mut a = advisory();
    a.versions[0].content.text.ja = Text::default();
    let event = publication(&a, 0);
    assert_eq!(event.languages, [Locale::En].into());
    let ja = render_ok(&edition("x"), &event, Locale::Ja);
    assert!(ja.subject.ends_with("Authentication bypass in Router X"));
    assert!(ja.text.contains("Is version 2.1 affected?"), "{}", ja.text);
    assert!(ja.text.contains("影響を受ける製品"), "{}", ja.text);
}

#[test]
fn summaries_and_digests_gather_their_advisories() {
    let a = advisory();
    let mut b = advisory();
    b.tracking_id = "KEIKAI-2026-0002".to_owned();
    for v in &mut b.versions {
        v.content.tlp = Tlp::Green;
        v.content.text.ja = Text::default();
        v.content.vulnerabilities.truncate(1);
        v.content.vulnerabilities[0].exploited = false;
        v.content.vulnerabilities[0].scores[0].vector =
            vector("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N");
        v.content.vulnerabilities[0].product_statuses =
            vec![status(V2_1, ProductStatusKind::KnownAffected, None)];
    }
    let items = || vec![item(&a, 0), item(&b, 1)];
    let schedule = crate::release::ReleaseSchedule::parse("10:00", "Asia/Tokyo")
        .unwrap_or_else(|e| panic!("{e}"));
    let release = Release::plan(
        crate::release::ReleaseKind::OutOfBand,
        ts("2026-12-08T01:00:00Z"),
        "December 2026",
        &schedule,
        ts("2026-12-01T00:00:00Z"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let summary = EventView::release_summary(&release, items());
    assert_eq!(summary.kind, EventKind::ReleaseSummary);
    assert_eq!(summary.key, format!("release:{}", release.id()));
    assert_eq!(summary.published_at, Some(ts("2026-12-08T01:00:00Z")));
    let facts = summary.facts();
    assert_eq!(facts.tlp, Tlp::Green);
    assert_eq!(facts.max_score, Some(9.8));
    assert!(facts.exploited);
    assert_eq!(facts.affected, vec![id(V1_0), id(V2_0), id(V2_1)]);
    assert_eq!(facts.languages, Locale::ALL.into_iter().collect());
    assert_eq!(summary.advisories[1].url, None);
    let ja = render_ok(&edition("x"), &summary, Locale::Ja);
    assert_eq!(
        ja.subject,
        "【TLP:GREEN】【悪用を確認】【セキュリティリリース】December 2026（アドバイザリ 2 件）"
    );

    let digest = EventView::digest(
        DigestPeriod::Weekly,
        ts("2026-12-07T15:00:00Z"),
        ts("2026-12-14T15:00:00Z"),
        items(),
    );
    assert_eq!(digest.key, "digest:weekly:2026-12-07T15:00:00Z");
    let en = render_ok(&edition("x"), &digest, Locale::En);
    assert_eq!(
        en.subject,
        "[TLP:GREEN] [Exploited] Weekly digest of security advisories"
    );
    insta::assert_snapshot!("digest_text_en", en.text);
    let empty = EventView::digest(
        DigestPeriod::Daily,
        ts("2026-12-07T15:00:00Z"),
        ts("2026-12-08T15:00:00Z"),
        Vec::new(),
    );
    let ja = render_ok(&edition("x"), &empty, Locale::Ja);
    assert!(
        ja.text
            .contains("この期間に公開したアドバイザリはありません。")
    );
    assert_eq!(ja.subject, "セキュリティアドバイザリ 日次まとめ");
}

#[test]
fn a_long_digest_fits_the_limits() {
    let a = advisory();
    let items = vec![item(&a, 1); 100];
    let digest = EventView::digest(
        DigestPeriod::Weekly,
        ts("2026-12-07T15:00:00Z"),
        ts("2026-12-14T15:00:00Z"),
        items,
    );
    for lang in Locale::ALL {
        let r = render_ok(&engineers(), &digest, lang);
        assert_eq!(r.text.matches("==== KEIKAI-2026-0001").count(), 100);
        assert_eq!(r.html.matches("<h2 ").count(), 100);
        // Room to spare: a digest this long is far above what a week brings.
        assert!(r.html.len() < MAX_OUTPUT_BYTES / 2, "{}", r.html.len());
    }
}

#[test]
fn an_early_warning_is_the_psirts_own_text() {
    let now = ts("2026-12-02T03:00:00Z");
    let warn = |title: Localized<String>, body: Localized<String>, score| {
        EventView::early_warning(title, body, Tlp::Amber, true, score, vec![id(V2_0)], now)
    };
    let event = warn(
        loc("Attacks on Router X", "Router X への攻撃について"),
        loc(
            "We see attacks on the web interface.\nRestrict access to it.",
            "Web 管理画面への攻撃を確認しています。\nアクセスを制限してください。",
        ),
        Some(9.8),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(event.key, "early-warning:2026-12-02T03:00:00Z");
    assert_eq!(event.facts().affected, vec![id(V2_0)]);
    let ja = render_ok(&edition("x"), &event, Locale::Ja);
    assert_eq!(
        ja.subject,
        "【TLP:AMBER】【悪用を確認】【早期警戒情報】Router X への攻撃について"
    );
    insta::assert_snapshot!("early_warning_text_ja", ja.text);

    let english_only = warn(
        loc("Attacks on Router X", ""),
        loc("Restrict access.", ""),
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(english_only.languages, [Locale::En].into());
    let err = warn(loc("", ""), loc("", ""), None).unwrap_err();
    assert_eq!(err.field(), "title");
    let err = warn(loc("T", ""), loc("", "本文"), None).unwrap_err();
    assert_eq!(err.field(), "title.ja");
    let err = warn(loc("T", ""), loc("", ""), Some(10.5)).unwrap_err();
    assert_eq!(err.field(), "max_score");
    let err = warn(loc("T\nU", ""), loc("", ""), None).unwrap_err();
    assert_eq!(err.field(), "title.en");
}

#[test]
fn an_edition_round_trips_through_json() {
    let e = Edition {
        templates: Some(Edition::built_in_templates()),
        ..engineers()
    };
    let json = serde_json::to_string(&e).unwrap_or_else(|e| panic!("{e}"));
    assert!(json.contains("\"affected_products\""), "{json}");
    let back: Edition = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, e);
    let minimal: Edition =
        serde_json::from_str(r#"{"name":"x","title":"X","sections":["faq","summary"]}"#)
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(minimal.sections, [Section::Summary, Section::Faq].into());
    assert!(minimal.templates.is_none());
}

#[test]
fn a_compiled_edition_renders_what_render_does() {
    let mut custom = Edition::new("customers", "Customers").unwrap_or_else(|e| panic!("{e}"));
    let mut templates = Edition::built_in_templates();
    templates.subject.en = "Custom: {{ event.title }}".to_owned();
    custom.templates = Some(templates);
    for edition in [
        Edition::new("plain", "Plain").unwrap_or_else(|e| panic!("{e}")),
        custom,
    ] {
        let compiled = CompiledEdition::new(edition.clone()).unwrap_or_else(|e| panic!("{e}"));
        for (label, event) in samples() {
            for recipient in sample_recipients() {
                for lang in Locale::ALL {
                    let once = render(&edition, &event, &recipient, lang);
                    let again = compiled.render(&event, &recipient, lang);
                    assert_eq!(
                        once.map_err(|e| e.to_string()),
                        again.map_err(|e| e.to_string()),
                        "{} {label} {lang:?}",
                        edition.name
                    );
                }
            }
        }
    }
    let mut broken = Edition::new("broken", "Broken").unwrap_or_else(|e| panic!("{e}"));
    let mut templates = Edition::built_in_templates();
    templates.html.ja = "{% if %}".to_owned();
    broken.templates = Some(templates);
    let e = CompiledEdition::new(broken).unwrap_err();
    assert_eq!(e.field(), "templates.html.ja", "{e}");
}
