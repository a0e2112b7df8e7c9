//! Distribution through the HTML pages: the public side (subscribe, confirm, unsubscribe —
//! also RFC 8058 one-click from a cookie-less mail client — and acknowledge, each behind the
//! secret in its link), and the PSIRT's forms (lists, the CSV import report, editions with
//! their errors and preview, webhooks, early warnings, delivery reports). Also the matrix's
//! resources for the distribution routes.

use keikai_domain::advisory::Tlp;
use keikai_domain::audit::Change;
use keikai_domain::subscription::{
    AudienceList, Subscriber, SubscriberInput, SubscriberKind, SubscriptionState, WebhookEndpoint,
};
use keikai_domain::{Email, ListId, Locale};
use keikai_jobs::testing::{ReceivedMail, SmtpSink};
use keikai_store::Effects;
use keikai_store::{Channel, DistributionEvent, NewDelivery, NewSubscription};
use serde_json::{Value, json};

use crate::distribution::distribution;
use crate::publishing::{Fixture, fixture};
use crate::seed::audience_list;
use crate::support::{
    NowTs, TestApp, assert_content_type, csrf_of, multipart, page_text, send_mail,
};

// ---------------------------------------------------------------- helpers

/// The path of the first link in `text` that starts with `https://psirt.example.com{prefix}`.
fn link_path(text: &str, prefix: &str) -> String {
    let start = format!("https://psirt.example.com{prefix}");
    let at = text
        .find(&start)
        .unwrap_or_else(|| panic!("no {start} link in:\n{text}"));
    let link = text[at..]
        .split(|c: char| c.is_whitespace() || c == '>' || c == '"')
        .next()
        .unwrap();
    link.trim_start_matches("https://psirt.example.com")
        .to_owned()
}

fn to(mail: &[ReceivedMail], address: &str) -> Vec<ReceivedMail> {
    mail.iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(address)))
        .cloned()
        .collect()
}

async fn subscriber_state(app: &TestApp, email: &str) -> Option<SubscriptionState> {
    app.store
        .subscriber_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .map(|r| r.subscriber.state)
}

/// The id of the newest distribution event and its counts.
async fn newest_event(f: &Fixture) -> Value {
    let (status, events) = distribution(f).get("/events").await;
    assert_eq!(status, 200, "{events}");
    events[0].clone()
}

// ---------------------------------------------------------------- the public side

#[tokio::test]
async fn the_public_subscribes_confirms_acknowledges_and_unsubscribes_in_one_click() {
    let f = fixture().await;
    let app = &f.app;
    let mut sink = SmtpSink::start().await;

    // Customers get an edition that asks for an acknowledgement; the engineers' list is
    // internal, so the public form must not offer it even though it is marked public.
    let (status, body) = distribution(&f)
        .put(
            "/editions/customers",
            json!({"name": "customers", "title": "Customers",
            "sections": ["summary", "severity"], "supplement": {"en": "", "ja": ""},
            "ack_requested": true, "templates": null, "revision": 0}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, public) = distribution(&f)
        .post(
            "/lists",
            json!({"name": "Security advisories", "priority": 2, "public": true,
            "edition": "customers", "description": "Every advisory and early warning"}),
        )
        .await;
    assert_eq!(status, 201, "{public}");
    let public_id = public["id"].as_str().unwrap().to_owned();
    let (status, _) = distribution(&f)
        .post(
            "/lists",
            json!({"name": "Engineers only", "priority": 1, "public": true,
            "internal_only": true}),
        )
        .await;
    assert_eq!(status, 201);

    let browser = TestApp::client();
    let form = page_text(&browser, app.url("/subscribe")).await;
    assert!(form.contains("Security advisories"), "{form}");
    assert!(form.contains("Every advisory and early warning"));
    assert!(
        !form.contains("Engineers only"),
        "internal lists are not offered"
    );
    let csrf = csrf_of(&form);
    let submit = |email: &'static str| {
        let browser = browser.clone();
        let csrf = csrf.clone();
        let url = app.url("/subscribe");
        let list = public_id.clone();
        async move {
            let res = browser
                .post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("email", email),
                    ("name", "山田 花子"),
                    ("language", "ja"),
                    ("time_zone", "Asia/Tokyo"),
                    ("openpgp_key", ""),
                    ("lists", list.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };

    // A mistake shows the form again, with the field named and what was typed.
    let (status, page) = submit("not-an-address").await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("E-mail address —"), "{page}");
    assert!(page.contains("value=\"not-an-address\""), "{page}");
    assert!(page.contains("山田 花子"));
    assert!(page.contains(&format!("value=\"{public_id}\" checked")));

    let (status, sent) = submit("hanako@example.com").await;
    assert_eq!(status, 200, "{sent}");
    assert!(sent.contains("Check your mail"), "{sent}");
    assert_eq!(
        subscriber_state(app, "hanako@example.com").await,
        Some(SubscriptionState::Pending)
    );
    // The same address again: the same answer, and no second message.
    let (status, again) = submit("hanako@example.com").await;
    assert_eq!(status, 200);
    assert_eq!(
        again.replace(&csrf, ""),
        sent.replace(&csrf, ""),
        "the answer says nothing about whether the address was known"
    );
    send_mail(app, &sink).await;
    send_mail(app, &sink).await;
    let mail = sink.received();
    assert_eq!(mail.len(), 1, "exactly one confirmation message");
    assert_eq!(mail[0].rcpt_to, ["hanako@example.com"]);
    let text = mail[0].text_body().unwrap();
    let confirm = link_path(&text, "/subscribe/confirm/");

    // Opening the link (as a mail scanner would) changes nothing.
    let scanner = TestApp::plain_client();
    let res = scanner.get(app.url(&confirm)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "private, no-store",
        "a page behind a secret is not cached"
    );
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let page = res.text().await.unwrap();
    assert!(page.contains("hanako@example.com") && page.contains("id=\"link-button\""));
    assert_eq!(
        subscriber_state(app, "hanako@example.com").await,
        Some(SubscriptionState::Pending)
    );
    // Pressing the button confirms; the secret is the authority, no cookie or token needed.
    let res = scanner.post(app.url(&confirm)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("is subscribed"));
    assert_eq!(
        subscriber_state(app, "hanako@example.com").await,
        Some(SubscriptionState::Active)
    );
    for path in [
        "/subscribe/confirm/not-a-real-token",
        "/unsubscribe/not-a-real-token",
    ] {
        for method in ["GET", "POST"] {
            let res = scanner
                .request(method.parse().unwrap(), app.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404, "{method} {path}");
        }
    }

    // An early warning reaches her in her language, with an acknowledgement link.
    let (status, body) = distribution(&f)
        .post(
            "/early-warnings",
            json!({"title_en": "Router parser exploited",
                    "title_ja": "ルーターの解析処理の悪用",
                    "body_en": "Block port 4242.", "body_ja": "4242 番ポートを遮断してください。",
                    "exploited": true, "max_score": 9.8}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let w = crate::distribution::worker(app, &sink, true, 10);
    crate::distribution::drain(&w).await;
    let warning = to(&sink.received(), "hanako@example.com");
    assert_eq!(warning.len(), 2, "the confirmation and the warning");
    let text = warning[1].text_body().unwrap();
    assert!(text.contains("4242 番ポート"), "{text}");
    let ack = link_path(&text, "/ack/");
    let unsubscribe_header = warning[1].header("List-Unsubscribe").unwrap();
    let unsubscribe = link_path(&unsubscribe_header, "/unsubscribe/");

    let event = newest_event(&f).await;
    assert_eq!(event["counts"]["sent"], 1, "{event}");
    let res = scanner.get(app.url(&ack)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"link-button\""));
    assert_eq!(
        newest_event(&f).await["counts"]["acknowledged"],
        0,
        "opening the link records nothing"
    );
    let res = scanner.post(app.url(&ack)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("recorded"));
    assert_eq!(newest_event(&f).await["counts"]["acknowledged"], 1);
    // Opened again, the link says it was recorded instead of offering the button.
    let page = scanner.get(app.url(&ack)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("recorded"), "{page}");
    assert!(!page.contains("id=\"link-button\""), "{page}");
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let res = scanner
            .request(method.clone(), app.url("/ack/not-a-real-token"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{method} of an unknown link");
    }

    // RFC 8058 one-click: the mail client POSTs the header's URL with this body, without
    // cookies or a CSRF token.
    let res = reqwest::Client::new()
        .post(app.url(&unsubscribe))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        subscriber_state(app, "hanako@example.com").await,
        Some(SubscriptionState::Unsubscribed)
    );
    let page = page_text(&scanner, app.url(&unsubscribe)).await;
    assert!(
        !page.contains("id=\"link-button\""),
        "nothing left to do: {page}"
    );
    // Nothing more reaches her.
    distribution(&f)
        .post(
            "/early-warnings",
            json!({"title_en": "Second warning", "body_en": "More."}),
        )
        .await;
    crate::distribution::drain(&w).await;
    assert_eq!(to(&sink.received(), "hanako@example.com").len(), 2);

    // She comes back: the same answer as for a stranger, and a new confirmation link (the
    // same secret); a second request within the hour sends nothing more.
    let (status, back) = submit("hanako@example.com").await;
    assert_eq!(status, 200);
    assert_eq!(back.replace(&csrf, ""), sent.replace(&csrf, ""));
    assert_eq!(
        subscriber_state(app, "hanako@example.com").await,
        Some(SubscriptionState::Pending)
    );
    assert_eq!(submit("hanako@example.com").await.0, 200);
    send_mail(app, &sink).await;
    let mail = to(&sink.received(), "hanako@example.com");
    assert_eq!(mail.len(), 3, "one more confirmation message");
    assert_eq!(
        link_path(&mail[2].text_body().unwrap(), "/subscribe/confirm/"),
        confirm
    );
    let res = scanner.post(app.url(&confirm)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        subscriber_state(app, "hanako@example.com").await,
        Some(SubscriptionState::Active)
    );
    sink.stop().await;
}

#[tokio::test]
async fn the_subscription_form_speaks_japanese_and_keeps_csrf() {
    let f = fixture().await;
    let app = &f.app;
    let (status, _) = distribution(&f)
        .post(
            "/lists",
            json!({"name": "公開リスト", "priority": 1, "public": true}),
        )
        .await;
    assert_eq!(status, 201);
    let res = app
        .fetch_with("/subscribe", ("accept-language", "ja"))
        .await;
    assert!(res.headers().get("set-cookie").is_some(), "a CSRF cookie");
    let page = res.text().await.unwrap();
    assert!(page.contains("セキュリティ情報の配信登録"), "{page}");
    assert!(page.contains("value=\"Asia/Tokyo\""), "{page}");
    // Without the form's token the subscription is refused (unlike the mailed links).
    let res = TestApp::plain_client()
        .post(app.url("/subscribe"))
        .form(&[("email", "x@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(subscriber_state(app, "x@example.com").await, None);
}

// ---------------------------------------------------------------- the PSIRT's pages

#[tokio::test]
async fn the_psirt_runs_distribution_from_the_pages() {
    let f = fixture().await;
    let app = &f.app;
    let mut sink = SmtpSink::start().await;
    let s = app.session_for(f.author).await;

    let (status, page) = app.get_page(&s, "/distribution").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("href=\"/distribution\""), "the nav links it");
    let old = f.old.to_string();

    // A list through the form; a mistake keeps what was typed.
    let list_fields = |priority: &'static str| {
        vec![
            ("name", "Customers"),
            ("description", "Router customers"),
            ("priority", priority),
            ("edition", "default"),
            ("public", "1"),
            ("triggers", "publication"),
            ("triggers", "early_warning"),
            ("min_score", "7.0"),
            ("max_tlp", "amber"),
        ]
    };
    let mut bad = list_fields("first");
    bad.push(("products", &old));
    let (status, _, page) = app.post_form(&s, "/distribution/lists", &bad).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Priority —"), "{page}");
    assert!(page.contains("value=\"Customers\""));
    let mut good = list_fields("2");
    good.push(("products", &old));
    let to_page = app.submit(&s, "/distribution/lists", &good).await;
    assert!(
        to_page.starts_with("/distribution?done=list#list-"),
        "{to_page}"
    );
    let (_, page) = app.get_page(&s, &to_page).await;
    assert!(page.contains("The list was created."), "{page}");
    assert!(page.contains("data-list=\"Customers\""));
    assert!(
        page.contains("Example / Router X / 1.0"),
        "the filter names the product"
    );
    assert!(page.contains("CVSS score at least 7.0"), "{page}");

    // A second list for webhooks only: it takes weekly digests, so the warning skips it.
    app.submit(
        &s,
        "/distribution/lists",
        &[
            ("name", "SOC"),
            ("priority", "5"),
            ("triggers", "weekly_digest"),
        ],
    )
    .await;
    let lists = app.store.list_lists().await.unwrap();
    let soc = lists
        .iter()
        .find(|l| l.name == "SOC")
        .unwrap()
        .id
        .to_string();

    // The CSV import: a dry run first, then for real; a bad row is reported by its line.
    let csv = "email,name,kind,language,lists\n\
               alice@example.com,Alice,external,en,Customers\n\
               not-an-address,Nobody,external,en,Customers\n\
               bob@example.org,Bob,external,xx,Customers\n";
    let import = |dry: bool| {
        let fields: &[(&str, &str)] = if dry { &[("dry_run", "1")] } else { &[] };
        let file = ("file", "subscribers.csv", Some("text/csv"), csv.as_bytes());
        let form = multipart(&s.csrf, fields, &[file]);
        app.post_multipart(&s, "/distribution/subscribers/import", form)
    };
    let (status, report) = import(true).await;
    assert_eq!(status, 200);
    assert!(report.contains("id=\"dry-run\""), "{report}");
    assert!(report.contains("<dd id=\"accepted\">1</dd>"), "{report}");
    assert!(report.contains("<dd id=\"created\">0</dd>"), "{report}");
    assert!(report.contains("data-line=\"3\""), "{report}");
    assert!(report.contains("not-an-address"));
    assert!(
        report.contains("data-line=\"4\""),
        "the unknown language: {report}"
    );
    assert_eq!(subscriber_state(app, "alice@example.com").await, None);
    let (_, report) = import(false).await;
    assert!(!report.contains("id=\"dry-run\""));
    assert!(report.contains("<dd id=\"created\">1</dd>"), "{report}");
    assert_eq!(
        subscriber_state(app, "alice@example.com").await,
        Some(SubscriptionState::Active),
        "the administrator vouches for imported subscribers"
    );
    let customers = lists.iter().find(|l| l.name == "Customers").unwrap().id;
    let (status, page) = app
        .get_page(&s, &format!("/distribution/subscribers?list={customers}"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("data-email=\"alice@example.com\""), "{page}");
    let (_, page) = app
        .get_page(&s, &format!("/distribution/subscribers?list={soc}"))
        .await;
    assert!(!page.contains("alice@example.com"), "filtered by list");

    // An edition: created, then a broken template is refused with its name and line.
    let to_edition = app
        .submit(
            &s,
            "/distribution/editions",
            &[("name", "engineers"), ("title", "Engineering")],
        )
        .await;
    assert_eq!(to_edition, "/distribution/editions/engineers");
    let (status, page) = app.get_page(&s, &to_edition).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("name=\"revision\" value=\"1\""), "{page}");
    let edition = |supplement: &'static str, html_en: &'static str| {
        vec![
            ("revision", "1"),
            ("title", "Engineering"),
            ("sections", "summary"),
            ("sections", "severity"),
            ("sections", "affected_products"),
            ("supplement_en", supplement),
            ("supplement_ja", "社内向け: 検証環境から更新してください。"),
            ("ack_requested", "1"),
            ("html_en", html_en),
        ]
    };
    let broken = edition("INTERNAL-GUIDANCE-42", "<p>{{ event.title }}</p>\n{% if %}");
    let (status, _, page) = app.post_form(&s, &to_edition, &broken).await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("HTML template (English)") && page.contains("templates.html.en"),
        "the error names the template: {page}"
    );
    assert!(page.contains("line 2"), "and its line: {page}");
    assert!(page.contains("{% if %}"), "the template as typed is kept");

    // The preview renders the edition as typed, without saving it.
    let mut preview = edition("INTERNAL-GUIDANCE-42", "");
    preview.push(("preview_lang", "en"));
    preview.push(("advisory", ""));
    let (status, _, page) = app
        .post_form(&s, "/distribution/editions/engineers/preview", &preview)
        .await;
    assert_eq!(status, 200, "{page}");
    let text = page
        .split("<pre id=\"preview-text\">")
        .nth(1)
        .unwrap()
        .split("</pre>")
        .next()
        .unwrap();
    assert!(text.contains("INTERNAL-GUIDANCE-42"), "{text}");
    assert!(page.contains("sandbox=\"\" srcdoc=\""), "{page}");
    let (_, stored) = app.get_page(&s, &to_edition).await;
    assert!(
        !stored.contains("INTERNAL-GUIDANCE-42"),
        "a preview saves nothing"
    );
    // In Japanese, for a real advisory.
    let a = f.advisory("Router overflow", Tlp::Clear).await;
    let mut preview = edition("", "");
    preview.push(("preview_lang", "ja"));
    preview.push(("advisory", &a.tracking_id));
    let (status, _, page) = app
        .post_form(&s, "/distribution/editions/engineers/preview", &preview)
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("社内向け"), "{page}");
    assert!(page.contains(&a.tracking_id));
    let mut unknown = edition("", "");
    unknown.push(("advisory", "EXA-1999-9999"));
    let (status, _, page) = app
        .post_form(&s, "/distribution/editions/engineers/preview", &unknown)
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("EXA-1999-9999"));
    // Saved for real.
    let good = edition("INTERNAL-GUIDANCE-42", "");
    let saved = app.submit(&s, &to_edition, &good).await;
    let (_, page) = app.get_page(&s, &saved).await;
    assert!(page.contains("The edition was saved."));
    assert!(page.contains("INTERNAL-GUIDANCE-42"));
    assert!(page.contains("name=\"revision\" value=\"2\""));
    // A stale form (revision 1) does not overwrite the newer one.
    let (status, _, page) = app.post_form(&s, &to_edition, &good).await;
    assert_eq!(status, 409, "{page}");

    // Webhooks: a typed secret redirects; a generated one is shown once.
    app.submit(
        &s,
        "/distribution/webhooks",
        &[
            ("list", &soc),
            ("name", "SOAR"),
            ("url", "https://soar.example.com/hook"),
            ("secret", "a-very-long-shared-secret"),
        ],
    )
    .await;
    let (status, _, page) = app
        .post_form(
            &s,
            "/distribution/webhooks",
            &[
                ("list", &soc),
                ("name", "Chat"),
                ("url", "https://chat.example.com/hook"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"webhook-secret\""), "{page}");
    let ftp = [
        ("list", soc.as_str()),
        ("name", "FTP"),
        ("url", "ftp://example.com/x"),
    ];
    let kept = ["value=\"ftp://example.com/x\""];
    app.refused_forms(&s, 422, &[("/distribution/webhooks", &ftp, &kept)])
        .await;
    let (_, page) = app.get_page(&s, "/distribution").await;
    assert!(page.contains("data-webhook=\"SOAR\"") && page.contains("data-webhook=\"Chat\""));
    assert!(
        !page.contains("a-very-long-shared-secret"),
        "secrets are not listed"
    );

    // An early warning through the form: queued, then sent by the worker.
    let to_page = app
        .submit(
            &s,
            "/distribution/early-warnings",
            &[
                ("title_en", "Router parser exploited"),
                ("body_en", "Block port 4242 until the fix ships."),
                ("title_ja", ""),
                ("body_ja", ""),
                // Clear: a subscriber's own filter lets nothing more restricted through unless
                // it is widened (the default Filter's max_tlp).
                ("tlp", "clear"),
                ("exploited", "1"),
                ("max_score", "9.8"),
                ("products", &old),
            ],
        )
        .await;
    assert_eq!(to_page, "/distribution?done=warning#events");
    let fanouts = app
        .store
        .count_jobs_by_state(Some(keikai_app::outbox::FANOUT_JOB_KIND))
        .await
        .unwrap();
    assert_eq!(fanouts.queued, 1, "one fan-out queued");
    let (status, _, page) = app
        .post_form(
            &s,
            "/distribution/early-warnings",
            &[
                ("title_en", ""),
                ("body_en", "No title"),
                ("max_score", "11"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("No title"), "what was typed is kept");
    let w = crate::distribution::worker(app, &sink, false, 10);
    crate::distribution::drain(&w).await;
    assert_eq!(to(&sink.received(), "alice@example.com").len(), 1);

    let event = newest_event(&f).await;
    let id = event["id"].as_str().unwrap();
    let (_, page) = app.get_page(&s, "/distribution").await;
    assert!(
        page.contains(&format!("href=\"/distribution/events/{id}\"")),
        "{page}"
    );
    let (status, page) = app
        .get_page(&s, &format!("/distribution/events/{id}"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("data-address=\"alice@example.com\""),
        "{page}"
    );
    assert!(page.contains("class=\"delivery-sent\""), "{page}");
    assert!(
        page.contains("<td>Customers</td>"),
        "the list is named: {page}"
    );
    let (_, page) = app
        .get_page(&s, &format!("/distribution/events/{id}?state=failed"))
        .await;
    assert!(page.contains("id=\"no-deliveries\""), "{page}");
    let res = app
        .get_as(&s, &format!("/distribution/events/{id}/deliveries.csv"))
        .await;
    assert_eq!(res.status(), 200);
    assert_content_type(&res, "text/csv");
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("address,channel,list"));
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("alice@example.com,mail,Customers,en,sent,1,"),
        "{row}"
    );
    sink.stop().await;
}

#[tokio::test]
async fn a_disabled_webhook_is_enabled_from_the_page() {
    let f = fixture().await;
    let app = &f.app;
    let s = app.session_for(f.author).await;
    let list = store_list(app, false).await;
    let hook = store_webhook(app, list).await;
    app.store
        .record_webhook_attempt(hook, Some("HTTP 500"), 1, app.clock.now_ts())
        .await
        .unwrap();
    let (_, page) = app.get_page(&s, "/distribution").await;
    assert!(page.contains("HTTP 500"), "the reason is shown: {page}");
    assert!(page.contains(&format!("/distribution/webhooks/{hook}/enable")));
    let to_page = app
        .submit(&s, &format!("/distribution/webhooks/{hook}/enable"), &[])
        .await;
    let (_, page) = app.get_page(&s, &to_page).await;
    assert!(page.contains("The webhook is enabled again."), "{page}");
    assert!(!page.contains("HTTP 500"));
    assert!(app.store.get_webhook(hook).await.unwrap().enabled);
}

// ---------------------------------------------------------------- the matrix's resources

fn unique(prefix: &str) -> String {
    format!("{prefix} {}", uuid::Uuid::now_v7().simple())
}

/// The effects of writing a fixture through the store: audited as the system.
fn fixture_effects(app: &TestApp) -> Effects {
    let change = Change::new(
        "test.fixture",
        "distribution/test",
        Value::Null,
        Value::Null,
    );
    Effects::system(app.clock.now_ts()).with_audit(change)
}

/// A list written through the store.
async fn store_list(app: &TestApp, public: bool) -> ListId {
    let list = AudienceList {
        public,
        ..audience_list(unique("Matrix list"), 5)
    };
    app.store
        .save_list(&list, &fixture_effects(app))
        .await
        .unwrap();
    list.id
}

/// A subscriber on `list` in `state`, with the secret of their links.
async fn store_subscriber(
    app: &TestApp,
    list: ListId,
    state: SubscriptionState,
) -> (Subscriber, String) {
    let mut s = Subscriber::subscribe(
        SubscriberInput {
            email: format!("sub-{}@example.com", uuid::Uuid::now_v7().simple()),
            name: String::new(),
            kind: SubscriberKind::External,
            locale: Some(Locale::En),
            time_zone: None,
            openpgp_key: None,
        },
        app.clock.now_ts(),
    )
    .unwrap();
    s.state = state;
    let token = keikai_app::outbox::link_token();
    app.store
        .create_subscriber(
            &NewSubscription {
                subscriber: s.clone(),
                token: token.clone(),
                lists: vec![list],
            },
            &Effects::system(app.clock.now_ts()),
        )
        .await
        .unwrap();
    (s, token)
}

async fn store_webhook(app: &TestApp, list: ListId) -> uuid::Uuid {
    let w = WebhookEndpoint::new(
        list,
        &unique("Hook"),
        "https://hooks.example.com/keikai",
        "a-matrix-secret-of-some-length".to_owned(),
        app.clock.now_ts(),
    )
    .unwrap();
    app.store
        .save_webhook(&w, &fixture_effects(app))
        .await
        .unwrap();
    w.id
}

/// An event with one mail delivery: its id, the delivery's acknowledgement secret and
/// Message-ID.
async fn store_event(app: &TestApp) -> (uuid::Uuid, String, String) {
    let list = store_list(app, false).await;
    let (s, _) = store_subscriber(app, list, SubscriptionState::Active).await;
    let now = app.clock.now_ts();
    let event = DistributionEvent {
        id: uuid::Uuid::now_v7(),
        key: format!("test:{}", uuid::Uuid::now_v7()),
        kind: "early_warning".to_owned(),
        title: "Matrix event".to_owned(),
        data: json!({}),
        created_at: now,
    };
    let ack = keikai_app::outbox::link_token();
    let message_id = format!("<{}@psirt.example.com>", uuid::Uuid::now_v7().simple());
    let delivery = NewDelivery {
        id: uuid::Uuid::now_v7(),
        channel: Channel::Mail,
        recipient_id: s.id.as_uuid(),
        list_id: list,
        address: s.email.to_string(),
        locale: Locale::En,
        message_id: message_id.clone(),
        ack_token: Some(ack.clone()),
    };
    assert!(
        app.store
            .record_fanout(&event, &[delivery], &Effects::system(event.created_at))
            .await
            .unwrap()
    );
    (event.id, ack, message_id)
}

/// The path and a valid body for a distribution route (pages, the public links and the
/// API); `None` for other routes. Resources a request changes are made fresh.
pub(crate) async fn prepare(
    app: &TestApp,
    method: &str,
    template: &str,
) -> Option<(String, crate::matrix::Body)> {
    use crate::matrix::{Body, form};
    let ours = [
        "/distribution",
        "/api/v1/distribution",
        "/subscribe",
        "/unsubscribe/",
        "/ack/",
    ]
    .iter()
    .any(|p| template.starts_with(p));
    if !ours {
        return None;
    }
    let edition_name = || format!("matrix-{}", uuid::Uuid::now_v7().simple());
    let mut path = template.to_owned();
    let body = match (method, template) {
        ("GET", "/subscribe/confirm/{token}") | ("POST", "/subscribe/confirm/{token}") => {
            let list = store_list(app, true).await;
            let (_, token) = store_subscriber(app, list, SubscriptionState::Pending).await;
            path = path.replace("{token}", &token);
            Body::Empty
        }
        (_, "/unsubscribe/{token}") => {
            let list = store_list(app, true).await;
            let (_, token) = store_subscriber(app, list, SubscriptionState::Active).await;
            path = path.replace("{token}", &token);
            Body::Empty
        }
        (_, "/ack/{token}") => {
            let (_, ack, _) = store_event(app).await;
            path = path.replace("{token}", &ack);
            Body::Empty
        }
        ("POST", "/subscribe") => {
            let list = store_list(app, true).await.to_string();
            let email = format!("public-{}@example.com", uuid::Uuid::now_v7().simple());
            form(&[
                ("email", &email),
                ("language", "en"),
                ("time_zone", "UTC"),
                ("lists", &list),
            ])
        }
        (_, t) if t.contains("/events/{id}") => {
            let (id, _, _) = store_event(app).await;
            path = path.replace("{id}", &id.to_string());
            Body::Empty
        }
        (_, t) if t.contains("/webhooks/{id}/enable") => {
            let list = store_list(app, false).await;
            let id = store_webhook(app, list).await;
            path = path.replace("{id}", &id.to_string());
            Body::Empty
        }
        ("GET", _) => {
            path = path.replace("{name}", "default");
            Body::Empty
        }
        ("POST", "/distribution/lists") => form(&[
            ("name", &unique("List")),
            ("priority", "3"),
            ("triggers", "publication"),
        ]),
        ("POST", "/distribution/webhooks") => {
            let list = store_list(app, false).await.to_string();
            form(&[
                ("list", &list),
                ("name", "Matrix hook"),
                ("url", "https://hooks.example.com/matrix"),
                ("secret", "a-matrix-secret-of-some-length"),
            ])
        }
        ("POST", "/distribution/early-warnings") => {
            form(&[("title_en", &unique("Warning")), ("body_en", "Matrix.")])
        }
        ("POST", "/distribution/editions") => {
            form(&[("name", &edition_name()), ("title", "Matrix")])
        }
        ("POST", "/distribution/editions/{name}") => {
            path = path.replace("{name}", &edition_name());
            form(&[
                ("revision", "0"),
                ("title", "Matrix"),
                ("sections", "summary"),
            ])
        }
        ("POST", "/distribution/editions/{name}/preview") => {
            path = path.replace("{name}", "default");
            form(&[
                ("revision", "0"),
                ("title", "Default"),
                ("preview_lang", "ja"),
            ])
        }
        ("POST", "/distribution/subscribers/import") => form(&[
            (
                "csv",
                &format!(
                    "email,name\nimport-{}@example.com,Imported\n",
                    uuid::Uuid::now_v7().simple()
                ),
            ),
            ("dry_run", "1"),
        ]),
        ("POST", "/api/v1/distribution/lists") => {
            Body::Json(json!({"name": unique("List"), "priority": 3}))
        }
        ("PUT" | "DELETE", "/api/v1/distribution/lists/{id}") => {
            let id = store_list(app, false).await;
            path = path.replace("{id}", &id.to_string());
            if method == "PUT" {
                Body::Json(json!({"name": unique("Renamed"), "priority": 4}))
            } else {
                Body::Empty
            }
        }
        ("POST", "/api/v1/distribution/subscribers") => Body::Json(json!({
            "email": format!("api-{}@example.com", uuid::Uuid::now_v7().simple()),
        })),
        ("PATCH", "/api/v1/distribution/subscribers/{id}") => {
            let list = store_list(app, false).await;
            let (s, _) = store_subscriber(app, list, SubscriptionState::Active).await;
            path = path.replace("{id}", &s.id.to_string());
            Body::Json(json!({"name": "Renamed"}))
        }
        ("POST", "/api/v1/distribution/subscribers/import") => Body::Csv(format!(
            "email\napi-import-{}@example.com\n",
            uuid::Uuid::now_v7().simple()
        )),
        ("PUT", "/api/v1/distribution/editions/{name}") => {
            let name = edition_name();
            path = path.replace("{name}", &name);
            Body::Json(
                json!({"name": name, "title": "Matrix", "sections": ["summary"],
                "supplement": {"en": "", "ja": ""}, "ack_requested": false,
                "templates": null, "revision": 0}),
            )
        }
        ("POST", "/api/v1/distribution/editions/{name}/preview") => {
            path = path.replace("{name}", "default");
            Body::Json(json!({"locale": "ja"}))
        }
        ("POST", "/api/v1/distribution/webhooks") => {
            let list = store_list(app, false).await.to_string();
            Body::Json(json!({"list": list, "name": "Matrix hook",
                "url": "https://hooks.example.com/matrix"}))
        }
        ("POST", "/api/v1/distribution/early-warnings") => {
            Body::Json(json!({"title_en": unique("Warning"), "body_en": "Matrix."}))
        }
        ("POST", "/api/v1/distribution/bounces") => {
            let (_, _, message_id) = store_event(app).await;
            Body::Json(json!({"message_id": message_id, "reason": "5.1.1 unknown"}))
        }
        _ => panic!("no body for {method} {template}: add one to distribution_ui::prepare()"),
    };
    Some((path, body))
}
