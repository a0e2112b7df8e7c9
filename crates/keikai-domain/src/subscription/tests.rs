use super::*;
use crate::testing::{Tree, tree};

fn ts() -> Timestamp {
    "2026-12-01T00:00:00Z".parse().unwrap()
}

fn subscriber(email: &str, kind: SubscriberKind, locale: Locale) -> Subscriber {
    let mut s = Subscriber::subscribe(
        SubscriberInput {
            email: email.into(),
            name: String::new(),
            kind,
            locale: Some(locale),
            time_zone: Some("Asia/Tokyo".into()),
            openpgp_key: None,
        },
        ts(),
    )
    .unwrap();
    s.state = SubscriptionState::Active;
    s
}

fn list(name: &str, priority: u32, filter: Filter) -> AudienceList {
    AudienceList {
        id: ListId::new(),
        name: name.into(),
        priority,
        edition: name.into(),
        internal_only: false,
        filter,
        triggers: default_triggers(),
        public: false,
        description: String::new(),
    }
}

/// The subscribers by id, as `plan` takes them.
fn by_id(subscribers: &[&Subscriber]) -> HashMap<SubscriberId, Subscriber> {
    subscribers.iter().map(|s| (s.id, (*s).clone())).collect()
}

/// The plan for `e` when `s` is the one member of the one list `l`.
fn plan_one(e: &EventFacts, l: &AudienceList, s: &Subscriber, t: &Tree) -> Vec<Delivery> {
    plan(
        e,
        std::slice::from_ref(l),
        &[(l.id, s.id)],
        &by_id(&[s]),
        &t.parents,
    )
}

fn event(affected: Vec<BranchId>, score: f64) -> EventFacts {
    EventFacts {
        trigger: Trigger::Publication,
        affected,
        max_score: Some(score),
        exploited: false,
        tlp: Tlp::Clear,
        languages: [Locale::En, Locale::Ja].into(),
    }
}

#[test]
fn a_person_on_several_lists_gets_one_message_in_the_highest_priority_edition() {
    let t = tree();
    let engineers = AudienceList {
        internal_only: true,
        ..list("engineers", 1, Filter::default())
    };
    let customers = list("customers", 2, Filter::default());
    let everyone = list("everyone", 3, Filter::default());
    let alice = subscriber("alice@example.com", SubscriberKind::Internal, Locale::Ja);
    let bob = subscriber("bob@example.org", SubscriberKind::External, Locale::En);
    let members = vec![
        (everyone.id, alice.id),
        (engineers.id, alice.id),
        (customers.id, alice.id),
        (everyone.id, bob.id),
        (customers.id, bob.id),
        // External subscribers never get an internal-only list's edition.
        (engineers.id, bob.id),
    ];
    let subs = by_id(&[&alice, &bob]);
    let lists = [everyone.clone(), engineers.clone(), customers.clone()];
    let plan = plan(
        &event(vec![t.router_1], 9.8),
        &lists,
        &members,
        &subs,
        &t.parents,
    );
    assert_eq!(plan.len(), 2, "{plan:?}");
    let of = |id| plan.iter().find(|d| d.subscriber == id).unwrap();
    assert_eq!(of(alice.id).list, engineers.id);
    assert_eq!(of(alice.id).locale, Locale::Ja);
    assert_eq!(of(bob.id).list, customers.id);
}

#[test]
fn filters_decide_which_lists_an_event_reaches() {
    let t = tree();
    let routers = list(
        "routers",
        1,
        Filter {
            products: [t.router].into(),
            ..Filter::default()
        },
    );
    let critical = list(
        "critical",
        2,
        Filter {
            min_score: Some(9.0),
            ..Filter::default()
        },
    );
    let exploited = list(
        "exploited",
        3,
        Filter {
            exploited_only: true,
            ..Filter::default()
        },
    );
    let s = subscriber("s@example.org", SubscriberKind::External, Locale::En);
    let members: Vec<_> = [&routers, &critical, &exploited]
        .iter()
        .map(|l| (l.id, s.id))
        .collect();
    let lists = [routers.clone(), critical.clone(), exploited.clone()];
    let plan_for =
        |s: &Subscriber, e: &EventFacts| plan(e, &lists, &members, &by_id(&[s]), &t.parents);
    let to = |e: &EventFacts| plan_for(&s, e).first().map(|d| d.list);
    assert_eq!(to(&event(vec![t.router_1], 5.0)), Some(routers.id));
    assert_eq!(to(&event(vec![t.office_1], 9.1)), Some(critical.id));
    assert_eq!(to(&event(vec![t.office_1], 5.0)), None);
    let mut e = event(vec![t.office_1], 5.0);
    e.exploited = true;
    assert_eq!(to(&e), Some(exploited.id));
    // Nothing above the audience's TLP, whatever else matches.
    e.tlp = Tlp::Amber;
    assert_eq!(to(&e), None);
    // A subscriber's own filter narrows further; one who unsubscribed gets nothing.
    let mut picky = s.clone();
    picky.filter.min_score = Some(9.5);
    assert!(plan_for(&picky, &event(vec![t.router_1], 9.0)).is_empty());
    let mut gone = s.clone();
    gone.state = SubscriptionState::Unsubscribed;
    assert!(plan_for(&gone, &event(vec![t.router_1], 9.9)).is_empty());
}

#[test]
fn a_language_the_subscriber_does_not_read_falls_back_to_one_the_event_has() {
    let t = tree();
    let l = list("all", 1, Filter::default());
    let s = subscriber("s@example.jp", SubscriberKind::External, Locale::Ja);
    let mut e = event(vec![t.router_1], 5.0);
    e.languages = [Locale::En].into();
    let p = plan_one(&e, &l, &s, &t);
    assert_eq!(p[0].locale, Locale::En);
    // A list for Japanese readers only does not send an English-only event.
    let ja_only = list(
        "ja",
        1,
        Filter {
            languages: [Locale::Ja].into(),
            ..Filter::default()
        },
    );
    assert!(plan_one(&e, &ja_only, &s, &t).is_empty());
}

#[test]
fn subscribing_checks_address_zone_and_key() {
    let input = |email: &str, zone: &str, key: Option<&str>| SubscriberInput {
        email: email.into(),
        name: "A <b>".into(),
        kind: SubscriberKind::External,
        locale: None,
        time_zone: Some(zone.into()),
        openpgp_key: key.map(str::to_owned),
    };
    let s = Subscriber::subscribe(input("A@Example.COM", "Asia/Tokyo", None), ts()).unwrap();
    assert_eq!(s.email.as_str(), "a@example.com");
    assert_eq!(s.state, SubscriptionState::Pending);
    assert_eq!(s.locale, Locale::En);
    let e = Subscriber::subscribe(input("not an address", "UTC", None), ts()).unwrap_err();
    assert!(
        e.to_string().contains("email") || e.to_string().contains("address"),
        "{e}"
    );
    let e = Subscriber::subscribe(input("a@example.com", "Mars/Olympus", None), ts()).unwrap_err();
    assert!(e.to_string().contains("Mars/Olympus"), "{e}");
    let e = Subscriber::subscribe(
        input("a@example.com", "UTC", Some("ssh-ed25519 AAAA")),
        ts(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("openpgp_key"), "{e}");
    assert!(
        Filter {
            min_score: Some(11.0),
            ..Filter::default()
        }
        .check()
        .is_err()
    );
    assert_eq!(
        "internal".parse::<SubscriberKind>(),
        Ok(SubscriberKind::Internal)
    );
    assert!("vip".parse::<SubscriberKind>().is_err());
}

#[test]
fn a_list_receives_only_the_triggers_it_chose() {
    let t = tree();
    let summaries = AudienceList {
        triggers: [Trigger::ReleaseSummary].into(),
        ..list("summaries", 1, Filter::default())
    };
    let each = list("each", 2, Filter::default());
    let alice = subscriber("alice@example.com", SubscriberKind::External, Locale::En);
    let members = vec![(summaries.id, alice.id), (each.id, alice.id)];
    let subs = by_id(&[&alice]);
    let lists = [summaries.clone(), each.clone()];
    let publication = event(vec![t.router_1], 5.0);
    let got = plan(&publication, &lists, &members, &subs, &t.parents);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].list, each.id,
        "the summary list does not take publications"
    );
    let summary = EventFacts {
        trigger: Trigger::ReleaseSummary,
        ..publication
    };
    let got = plan(&summary, &lists, &members, &subs, &t.parents);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].list, summaries.id);
    let digest = EventFacts {
        trigger: Trigger::WeeklyDigest,
        ..summary
    };
    assert!(plan(&digest, &lists, &members, &subs, &t.parents).is_empty());
    for t in Trigger::ALL {
        assert_eq!(t.as_str().parse::<Trigger>().ok(), Some(t));
    }
}

#[test]
fn a_new_subscriber_narrows_nothing_so_an_amber_list_reaches_them() {
    let t = tree();
    let s = Subscriber::subscribe(
        SubscriberInput {
            email: "eng@example.com".into(),
            name: String::new(),
            kind: SubscriberKind::Internal,
            locale: None,
            time_zone: None,
            openpgp_key: None,
        },
        Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    let mut s = s;
    s.state = SubscriptionState::Active;
    let amber = list(
        "engineers",
        1,
        Filter {
            max_tlp: Tlp::Amber,
            ..Filter::default()
        },
    );
    let event = EventFacts {
        tlp: Tlp::Amber,
        ..event(vec![t.router_1], 5.0)
    };
    let got = plan_one(&event, &amber, &s, &t);
    assert_eq!(
        got.len(),
        1,
        "the list allows AMBER and the person set no limit"
    );
}

#[test]
fn an_update_checks_what_it_changes_and_changes_nothing_when_one_part_is_wrong() {
    let mut s = subscriber("a@example.com", SubscriberKind::External, Locale::En);
    let before = s.clone();
    let e = s
        .update(SubscriberChanges {
            name: Some("Alice".into()),
            time_zone: Some("Mars/Olympus".into()),
            ..SubscriberChanges::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("Mars/Olympus"), "{e}");
    assert_eq!(s, before, "nothing changed");
    let e = s
        .update(SubscriberChanges {
            openpgp_key: Some("ssh-ed25519 AAAA".into()),
            ..SubscriberChanges::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains("openpgp_key"), "{e}");

    s.openpgp_key =
        Some("-----BEGIN PGP PUBLIC KEY BLOCK-----\nx\n-----END PGP PUBLIC KEY BLOCK-----".into());
    s.update(SubscriberChanges {
        name: Some("  Alice  ".into()),
        locale: Some(Locale::Ja),
        time_zone: Some(" UTC ".into()),
        openpgp_key: Some(String::new()),
        state: Some(SubscriptionState::Unsubscribed),
        filter: Some(Filter {
            exploited_only: true,
            ..s.filter.clone()
        }),
    })
    .unwrap();
    assert_eq!(
        (
            s.name.as_str(),
            s.locale,
            s.time_zone.as_str(),
            s.openpgp_key.as_deref()
        ),
        ("Alice", Locale::Ja, "UTC", None),
        "an empty key removes it"
    );
    assert_eq!(s.state, SubscriptionState::Unsubscribed);
    assert!(s.filter.exploited_only);
    assert_eq!((s.id, &s.email), (before.id, &before.email));
}

#[test]
fn a_webhook_endpoint_needs_an_http_url_with_a_host_and_no_credentials() {
    let list = ListId::new();
    let secret = || "0123456789abcdef0123".to_owned();
    for (url, want) in [
        ("hooks.example.com/x", "is not a URL"),
        ("ftp://hooks.example.com/x", "scheme \"ftp\""),
        (
            "https://user:pw@hooks.example.com/",
            "user name or password",
        ),
        ("https://[::1", "is not a URL"),
    ] {
        let e = WebhookEndpoint::new(list, "SOAR", url, secret(), ts()).unwrap_err();
        assert_eq!(e.field(), "url", "{url}");
        assert!(e.to_string().contains(want), "{url}: {e}");
    }
    let w = WebhookEndpoint::new(
        list,
        "SOAR",
        " https://hooks.example.com/k?t=1 ",
        secret(),
        ts(),
    )
    .unwrap();
    assert_eq!(w.url, "https://hooks.example.com/k?t=1");
    let e = WebhookEndpoint::new(
        list,
        "SOAR",
        "https://hooks.example.com/",
        "short".into(),
        ts(),
    )
    .unwrap_err();
    assert_eq!(e.field(), "secret");
}
