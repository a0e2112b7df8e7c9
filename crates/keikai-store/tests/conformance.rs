//! One suite for every backend: each test gets a fresh database from `TestDatabase`, a
//! SQLite file by default, or a new PostgreSQL database when `KEIKAI_TEST_DATABASE_URL` is set
//! (`KEIKAI_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test -p keikai-store`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use keikai_domain::{
    ApiToken, BranchCategory, BranchId, BranchName, DisplayName, Email, Locale, Membership, OrgId,
    OrgKind, OrgName, Organisation, ProductTree, Role, Scope, TokenId, User, UserId,
};
use keikai_store::testing::TestDatabase;
use keikai_store::{
    Backend, Effects, NewBranch, NewOrganisation, NewToken, NewUser, Session, Store, StoreError,
};
use sqlx::Connection;

/// A fixed clock: `t(0)` is 2026-09-21T14:13:20Z.
fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + secs).unwrap()
}

/// A change Keikai makes at `t(secs)`, with no audit entries, jobs or notices.
fn fx(secs: i64) -> Effects {
    Effects::system(t(secs))
}

fn ms(millis: i64) -> SignedDuration {
    SignedDuration::from_millis(millis)
}

fn new_org(name: &str, kind: OrgKind) -> NewOrganisation {
    NewOrganisation {
        id: OrgId::new(),
        name: OrgName::parse(name).unwrap(),
        kind,
    }
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        display_name: DisplayName::parse("Test User").unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        locale: None,
    }
}

fn new_branch(parent: Option<BranchId>, category: BranchCategory, name: &str) -> NewBranch {
    NewBranch {
        id: BranchId::new(),
        parent_id: parent,
        category,
        name: BranchName::parse(name).unwrap(),
    }
}

async fn add_user(store: &Arc<dyn Store>, email: &str) -> User {
    store
        .create_user(&new_user(email), &[], &fx(0))
        .await
        .unwrap()
}

/// A new user holding `role` in `org`.
async fn add_member(store: &Arc<dyn Store>, email: &str, org: OrgId, role: Role) -> User {
    let member = [Membership { org_id: org, role }];
    store
        .create_user(&new_user(email), &member, &fx(0))
        .await
        .unwrap()
}

async fn add_org(store: &Arc<dyn Store>, name: &str, kind: OrgKind) -> Organisation {
    store
        .create_org(&new_org(name, kind), &fx(0))
        .await
        .unwrap()
}

async fn setup() -> (TestDatabase, Arc<dyn Store>) {
    let db = TestDatabase::create().await;
    let store = db.store().await;
    (db, store)
}

/// Asserts that a result is the given error variant and returns its message.
macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {{
        match $result {
            Err(e @ $pattern) => e.to_string(),
            other => panic!("expected {}, got {:?}", stringify!($pattern), other),
        }
    }};
}

#[tokio::test]
async fn organisations() {
    let (db, store) = setup().await;
    let mut made = Vec::new();
    for (name, kind) in [
        ("Beta Partner", OrgKind::Partner),
        ("Alpha Corp", OrgKind::Own),
        ("警戒株式会社", OrgKind::Customer),
        ("JPCERT/CC", OrgKind::Coordinator),
    ] {
        let new = new_org(name, kind);
        let org = store.create_org(&new, &fx(0)).await.unwrap();
        assert_eq!(org, new.created(t(0)), "as its audit entry describes it");
        assert_eq!(
            (org.name.as_str(), org.kind, org.created_at),
            (name, kind, t(0))
        );
        assert_eq!(store.get_org(org.id).await.unwrap(), org);
        made.push(org);
    }
    let orgs = store.list_orgs().await.unwrap();
    let names: Vec<&str> = orgs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        ["Alpha Corp", "Beta Partner", "JPCERT/CC", "警戒株式会社"]
    );
    assert_err!(store.get_org(OrgId::new()).await, StoreError::NotFound);

    // Stored with microsecond precision on every backend.
    let precise = Timestamp::new(1_790_000_000, 123_456_789).unwrap();
    let org = store
        .create_org(
            &new_org("Precise", OrgKind::Partner),
            &Effects::system(precise),
        )
        .await
        .unwrap();
    let micros = Timestamp::new(1_790_000_000, 123_456_000).unwrap();
    assert_eq!(org.created_at, micros);
    assert_eq!(store.get_org(org.id).await.unwrap().created_at, micros);
    db.drop_now().await;
}

#[tokio::test]
async fn users() {
    let (db, store) = setup().await;
    let mut bob = new_user("Bob@Example.com");
    bob.display_name = DisplayName::parse("山田 太郎").unwrap();
    bob.locale = Some(Locale::Ja);
    let new_bob = bob;
    let bob = store.create_user(&new_bob, &[], &fx(0)).await.unwrap();
    assert_eq!(
        bob,
        new_bob.created(t(0)),
        "as its audit entry describes it"
    );
    assert_eq!(bob.email.as_str(), "bob@example.com");
    assert_eq!(bob.display_name.as_str(), "山田 太郎");
    assert_eq!(
        (bob.locale, bob.created_at, bob.disabled_at),
        (Some(Locale::Ja), t(0), None)
    );
    assert_eq!(store.get_user(bob.id).await.unwrap(), bob);
    let alice = store
        .create_user(&new_user("alice@example.com"), &[], &fx(1))
        .await
        .unwrap();

    let msg = assert_err!(
        store
            .create_user(&new_user("BOB@example.com"), &[], &fx(2))
            .await,
        StoreError::Conflict(_)
    );
    assert!(msg.contains("\"bob@example.com\""), "{msg}");

    let emails: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email.to_string())
        .collect();
    assert_eq!(emails, ["alice@example.com", "bob@example.com"]);
    assert_eq!(store.count_users().await.unwrap(), 2);

    let creds = store.credentials_by_email(&bob.email).await.unwrap();
    assert_eq!(creds.user, bob);
    assert_eq!(creds.password_hash, new_user("x@example.com").password_hash);
    store
        .set_password_hash(bob.id, "$argon2id$new", &fx(0))
        .await
        .unwrap();
    assert_eq!(
        store
            .credentials_by_email(&bob.email)
            .await
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );
    assert_err!(
        store
            .credentials_by_email(&Email::parse("nobody@example.com").unwrap())
            .await,
        StoreError::NotFound
    );

    store
        .set_locale(alice.id, Some(Locale::En), &fx(0))
        .await
        .unwrap();
    assert_eq!(
        store.get_user(alice.id).await.unwrap().locale,
        Some(Locale::En)
    );
    store.set_locale(alice.id, None, &fx(0)).await.unwrap();
    assert_eq!(store.get_user(alice.id).await.unwrap().locale, None);

    let renamed = DisplayName::parse("鈴木 愛子").unwrap();
    store
        .set_display_name(alice.id, &renamed, &fx(0))
        .await
        .unwrap();
    assert_eq!(
        store.get_user(alice.id).await.unwrap().display_name,
        renamed
    );

    store
        .set_disabled(alice.id, Some(t(5)), &fx(0))
        .await
        .unwrap();
    assert_eq!(
        store.get_user(alice.id).await.unwrap().disabled_at,
        Some(t(5))
    );
    store.set_disabled(alice.id, None, &fx(0)).await.unwrap();
    assert_eq!(store.get_user(alice.id).await.unwrap().disabled_at, None);

    let nobody = UserId::new();
    assert_err!(store.get_user(nobody).await, StoreError::NotFound);
    assert_err!(
        store.set_password_hash(nobody, "h", &fx(0)).await,
        StoreError::NotFound
    );
    assert_err!(
        store.set_locale(nobody, None, &fx(0)).await,
        StoreError::NotFound
    );
    assert_err!(
        store.set_display_name(nobody, &renamed, &fx(0)).await,
        StoreError::NotFound
    );
    assert_err!(
        store.set_disabled(nobody, Some(t(0)), &fx(0)).await,
        StoreError::NotFound
    );
    db.drop_now().await;
}

#[tokio::test]
async fn memberships() {
    let (db, store) = setup().await;
    let user = add_user(&store, "m@example.com").await;
    let mut orgs = Vec::new();
    for kind in OrgKind::ALL {
        orgs.push(
            store
                .create_org(&new_org(&format!("{kind} org"), kind), &fx(0))
                .await
                .unwrap(),
        );
    }
    let own = orgs[0].id;
    let partner = orgs[1].id;

    // A user is created with their memberships, each checked, or not at all.
    let admin = Membership {
        org_id: own,
        role: Role::Admin,
    };
    let with = store
        .create_user(&new_user("with@example.com"), &[admin], &fx(0))
        .await
        .unwrap();
    assert_eq!(store.memberships(with.id).await.unwrap(), [admin]);
    let refused = new_user("refused@example.com");
    let wrong = Membership {
        org_id: partner,
        role: Role::Admin,
    };
    match store.create_user(&refused, &[admin, wrong], &fx(0)).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.field(), "role", "{e}"),
        other => panic!("admin of a partner accepted: {other:?}"),
    }
    assert_err!(store.get_user(refused.id).await, StoreError::NotFound);

    // The second time is a no-op.
    for _ in 0..2 {
        store
            .add_membership(user.id, own, Role::Admin, &fx(0))
            .await
            .unwrap();
    }
    assert_eq!(
        store.memberships(user.id).await.unwrap(),
        [Membership {
            org_id: own,
            role: Role::Admin
        }]
    );

    // Roles that the organisation's kind does not allow name the field at fault.
    for (org, role) in [
        (partner, Role::Admin),
        (own, Role::PartnerContact),
        (partner, Role::CustomerContact),
    ] {
        match store.add_membership(user.id, org, role, &fx(0)).await {
            Err(StoreError::Invalid(e)) => assert_eq!(e.field(), "role", "{e}"),
            other => panic!("{role} accepted: {other:?}"),
        }
    }
    let msg = assert_err!(
        store
            .add_membership(user.id, OrgId::new(), Role::Reporter, &fx(0))
            .await,
        StoreError::Reference(_)
    );
    assert!(msg.contains("organisation"), "{msg}");
    let stranger = UserId::new();
    let msg = assert_err!(
        store
            .add_membership(stranger, own, Role::Reporter, &fx(0))
            .await,
        StoreError::Reference(_)
    );
    assert!(msg.contains(&stranger.to_string()), "{msg}");

    // Every role, in every kind of organisation that allows it.
    let mut expected = Vec::new();
    for org in &orgs {
        for role in Role::ALL.into_iter().filter(|r| r.allowed_in(org.kind)) {
            store
                .add_membership(user.id, org.id, role, &fx(0))
                .await
                .unwrap();
            expected.push(Membership {
                org_id: org.id,
                role,
            });
        }
    }
    let mut got = store.memberships(user.id).await.unwrap();
    let key = |m: &Membership| (m.org_id, m.role);
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(got, expected);

    // The second time is a no-op.
    for _ in 0..2 {
        store
            .remove_membership(user.id, own, Role::Admin, &fx(0))
            .await
            .unwrap();
    }
    let left = store.memberships(user.id).await.unwrap();
    assert!(!left.iter().any(|m| m.role == Role::Admin));
    db.drop_now().await;
}

#[tokio::test]
async fn bootstrap_admin() {
    let (db, store) = setup().await;
    let own = new_org("警戒 PSIRT", OrgKind::Own);

    // Only an own organisation can hold an admin; nothing is written otherwise.
    match store
        .bootstrap_admin(
            &new_org("P", OrgKind::Partner),
            &new_user("a@example.com"),
            &fx(0),
        )
        .await
    {
        Err(StoreError::Invalid(e)) => assert_eq!(e.field(), "role"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.count_users().await.unwrap(), 0);

    let admin = store
        .bootstrap_admin(&own, &new_user("admin@example.com"), &fx(0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.email.as_str(), "admin@example.com");
    let orgs = store.list_orgs().await.unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(
        (orgs[0].name.as_str(), orgs[0].kind),
        ("警戒 PSIRT", OrgKind::Own)
    );
    assert_eq!(
        store.memberships(admin.id).await.unwrap(),
        [Membership {
            org_id: orgs[0].id,
            role: Role::Admin
        }]
    );

    assert!(
        store
            .bootstrap_admin(&own, &new_user("second@example.com"), &fx(1))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert_eq!(store.list_orgs().await.unwrap().len(), 1);
    db.drop_now().await;

    // Any existing user, admin or not, stops a bootstrap.
    let (db, store) = setup().await;
    add_user(&store, "someone@example.com").await;
    let admin = new_user("admin@example.com");
    let refused = store.bootstrap_admin(&own, &admin, &fx(1)).await;
    assert!(refused.unwrap().is_none());
    assert!(store.list_orgs().await.unwrap().is_empty());
    db.drop_now().await;
}

/// Instances starting together on one database, each with its own pool, make one admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bootstrap_makes_one_admin() {
    let (db, first) = setup().await;
    let mut stores = vec![first];
    for _ in 0..3 {
        stores.push(db.connect().await);
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(stores.len()));
    let tasks: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(i, store)| {
            let (store, barrier) = (Arc::clone(store), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .bootstrap_admin(
                        &new_org(&format!("Own {i}"), OrgKind::Own),
                        &new_user(&format!("admin{i}@example.com")),
                        &fx(0),
                    )
                    .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        if let Some(user) = task.await.unwrap().unwrap() {
            winners.push(user);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let store = &stores[0];
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert_eq!(store.list_orgs().await.unwrap().len(), 1);
    assert_eq!(store.memberships(winners[0].id).await.unwrap().len(), 1);
    for s in &stores {
        s.close().await;
    }
    db.drop_now().await;
}

#[tokio::test]
async fn sessions() {
    let (db, store) = setup().await;
    let user = add_user(&store, "s@example.com").await;
    let session = |id: &str, expires_at: Timestamp| Session {
        id_hash: id.into(),
        user_id: user.id,
        csrf_token: format!("csrf-{id}"),
        created_at: t(0),
        expires_at,
    };
    let s1 = session("h1", t(100));
    // Expires half a second after a whole second: catches timestamps compared as
    // variable-width text ("…:40.5Z" sorts before "…:40Z").
    let s2 = session("h2", t(100) + ms(500));
    store.create_session(&s1).await.unwrap();
    store.create_session(&s2).await.unwrap();

    assert_eq!(store.active_session("h1", t(50)).await.unwrap(), s1);
    assert_err!(
        store.active_session("h1", t(100)).await,
        StoreError::NotFound
    );
    assert_eq!(store.active_session("h2", t(100)).await.unwrap(), s2);
    assert_err!(
        store.active_session("h2", t(100) + ms(500)).await,
        StoreError::NotFound
    );
    assert_err!(
        store.active_session("nope", t(0)).await,
        StoreError::NotFound
    );

    store.extend_session("h1", t(200)).await.unwrap();
    assert_eq!(
        store.active_session("h1", t(150)).await.unwrap().expires_at,
        t(200)
    );
    assert_err!(
        store.extend_session("nope", t(200)).await,
        StoreError::NotFound
    );

    // A disabled user's sessions stop working at once, and work again when re-enabled.
    store
        .set_disabled(user.id, Some(t(10)), &fx(0))
        .await
        .unwrap();
    assert_err!(
        store.active_session("h1", t(20)).await,
        StoreError::NotFound
    );
    store.set_disabled(user.id, None, &fx(0)).await.unwrap();
    assert!(store.active_session("h1", t(20)).await.is_ok());

    assert_err!(store.create_session(&s1).await, StoreError::Conflict(_));
    let orphan = Session {
        user_id: UserId::new(),
        ..session("h3", t(100))
    };
    assert_err!(
        store.create_session(&orphan).await,
        StoreError::Reference(_)
    );

    store.delete_session("h2").await.unwrap();
    store.delete_session("h2").await.unwrap(); // signing out twice is fine
    assert_err!(store.active_session("h2", t(0)).await, StoreError::NotFound);

    store.create_session(&session("h4", t(10))).await.unwrap();
    store.create_session(&session("h5", t(20))).await.unwrap();
    assert_eq!(store.delete_expired_sessions(t(20)).await.unwrap(), 2);
    assert_eq!(store.delete_expired_sessions(t(20)).await.unwrap(), 0);
    store.create_session(&session("h6", t(300))).await.unwrap();
    store.create_session(&session("h7", t(300))).await.unwrap();
    // A password changed in h7 ends the others, not h7.
    assert_eq!(store.delete_other_sessions(user.id, "h7").await.unwrap(), 2); // h1 and h6
    assert!(store.active_session("h7", t(20)).await.is_ok());
    assert_err!(
        store.active_session("h6", t(20)).await,
        StoreError::NotFound
    );
    store.create_session(&session("h6", t(300))).await.unwrap();
    assert_eq!(store.delete_user_sessions(user.id).await.unwrap(), 2); // h6 and h7
    assert_err!(store.active_session("h6", t(0)).await, StoreError::NotFound);
    db.drop_now().await;
}

#[tokio::test]
async fn tokens() {
    let (db, store) = setup().await;
    let user = add_user(&store, "t@example.com").await;
    let token = |name: &str, hash: &str, scopes: Vec<Scope>, expires_at| NewToken {
        id: TokenId::new(),
        user_id: user.id,
        name: name.into(),
        scopes,
        secret_hash: hash.into(),
        expires_at,
    };
    let ci = store
        .create_token(
            &token("CI 公開", "hash-ci", vec![Scope::Read, Scope::Write], None),
            &fx(10),
        )
        .await
        .unwrap();
    assert_eq!(
        ci,
        ApiToken {
            id: ci.id,
            user_id: user.id,
            name: "CI 公開".into(),
            scopes: vec![Scope::Read, Scope::Write],
            created_at: t(10),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        }
    );
    let precise = Timestamp::new(1_790_000_100, 123_456_789).unwrap();
    let new_siem = token("siem", "hash-siem", vec![Scope::Read], Some(precise));
    let siem = store.create_token(&new_siem, &fx(20)).await.unwrap();
    assert_eq!(
        siem,
        new_siem.created(t(20)),
        "as its audit entry describes it"
    );
    assert_eq!(store.token_by_hash("hash-ci").await.unwrap(), ci);
    assert_eq!(store.get_token(siem.id).await.unwrap(), siem);
    let listed: Vec<TokenId> = store
        .list_tokens(user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, [siem.id, ci.id], "newest first");
    assert!(store.list_tokens(UserId::new()).await.unwrap().is_empty());

    assert!(siem.is_active(t(99)));
    assert!(
        !store
            .token_by_hash("hash-siem")
            .await
            .unwrap()
            .is_active(t(101))
    );

    store.touch_token(ci.id, t(30)).await.unwrap();
    assert_eq!(
        store.get_token(ci.id).await.unwrap().last_used_at,
        Some(t(30))
    );

    // A revoked token is still found by its hash, so the caller can log it as revoked.
    store.revoke_token(ci.id, &fx(40)).await.unwrap();
    store.revoke_token(ci.id, &fx(50)).await.unwrap(); // the first revocation time stays
    let revoked = store.token_by_hash("hash-ci").await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t(40)));
    assert!(!revoked.is_active(t(41)));

    assert_err!(store.token_by_hash("unknown").await, StoreError::NotFound);
    assert_err!(store.get_token(TokenId::new()).await, StoreError::NotFound);
    assert_err!(
        store.revoke_token(TokenId::new(), &fx(0)).await,
        StoreError::NotFound
    );
    assert_err!(
        store.touch_token(TokenId::new(), t(0)).await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .create_token(&token("again", "hash-ci", vec![], None), &fx(60))
            .await,
        StoreError::Conflict(_)
    );
    let mut orphan = token("orphan", "hash-orphan", vec![Scope::Read], None);
    orphan.user_id = UserId::new();
    assert_err!(
        store.create_token(&orphan, &fx(60)).await,
        StoreError::Reference(_)
    );
    let empty = store
        .create_token(&token("no scopes", "hash-empty", vec![], None), &fx(70))
        .await
        .unwrap();
    assert_eq!(store.get_token(empty.id).await.unwrap().scopes, []);
    db.drop_now().await;
}

#[tokio::test]
async fn branches() {
    use BranchCategory as C;
    let (db, store) = setup().await;
    let create = |parent, category, name: &str| {
        let store = Arc::clone(&store);
        let branch = new_branch(parent, category, name);
        async move { store.create_branch(&branch, &fx(0)).await }
    };
    let created = |parent, category, name: &str| {
        let attempt = create(parent, category, name);
        async move { attempt.await.unwrap() }
    };
    let new_vendor = new_branch(None, C::Vendor, "警戒株式会社");
    let vendor = store.create_branch(&new_vendor, &fx(0)).await.unwrap();
    assert_eq!(
        vendor,
        new_vendor.created(t(0)),
        "as its audit entry describes it"
    );
    assert_eq!(
        (vendor.parent_id, vendor.name.as_str()),
        (None, "警戒株式会社")
    );
    let family = created(Some(vendor.id), C::ProductFamily, "ルーター").await;
    let product = created(Some(family.id), C::ProductName, "ルーター X").await;
    let v1 = created(Some(product.id), C::ProductVersion, "1.0").await;
    let arch = created(Some(v1.id), C::Architecture, "arm64").await;
    assert_eq!(store.get_branch(product.id).await.unwrap(), product);

    // Placement rules, checked against the parent's category.
    for (parent, category) in [
        (None, C::ProductName),
        (Some(vendor.id), C::Vendor),
        (Some(vendor.id), C::ProductVersion),
        (Some(v1.id), C::ProductVersion),
    ] {
        match create(parent, category, "misplaced").await {
            Err(StoreError::Invalid(e)) => assert_eq!(e.field(), "category", "{e}"),
            other => panic!("{category} under {parent:?}: {other:?}"),
        }
    }
    let ghost = BranchId::new();
    let msg = assert_err!(
        create(Some(ghost), C::ProductName, "x").await,
        StoreError::Reference(_)
    );
    assert!(msg.contains(&ghost.to_string()), "{msg}");

    // Sibling names are unique, at the top level too; cousins may share a name.
    let msg = assert_err!(
        create(Some(product.id), C::ProductVersion, "1.0").await,
        StoreError::Conflict(_)
    );
    assert!(msg.contains("\"1.0\""), "{msg}");
    assert_err!(
        create(None, C::Vendor, "警戒株式会社").await,
        StoreError::Conflict(_)
    );
    let other = created(Some(family.id), C::ProductName, "ルーター Y").await;
    let other_v1 = created(Some(other.id), C::ProductVersion, "1.0").await;
    let v2 = created(Some(product.id), C::ProductVersion, "2.0").await;

    let renamed = store
        .rename_branch(v2.id, &BranchName::parse("2.0.1").unwrap(), &fx(0))
        .await
        .unwrap();
    assert_eq!(
        (renamed.id, renamed.name.as_str(), renamed.parent_id),
        (v2.id, "2.0.1", Some(product.id))
    );
    assert_eq!(store.get_branch(v2.id).await.unwrap(), renamed);
    let msg = assert_err!(
        store
            .rename_branch(v2.id, &BranchName::parse("1.0").unwrap(), &fx(0))
            .await,
        StoreError::Conflict(_)
    );
    assert!(msg.contains("\"1.0\""), "{msg}");
    assert_err!(
        store
            .rename_branch(BranchId::new(), &BranchName::parse("x").unwrap(), &fx(0))
            .await,
        StoreError::NotFound
    );

    let all = store.list_branches().await.unwrap();
    let ids: Vec<BranchId> = all.iter().map(|b| b.id).collect();
    assert_eq!(
        ids,
        [
            vendor.id,
            family.id,
            product.id,
            v1.id,
            arch.id,
            other.id,
            other_v1.id,
            v2.id
        ]
    );
    let tree = ProductTree::from_branches(&all);
    assert_eq!(tree.branches.len(), 1);
    assert_eq!(tree.branches[0].name, "警戒株式会社");

    let msg = assert_err!(
        store.delete_branch(v1.id, &fx(0)).await,
        StoreError::Conflict(_)
    );
    assert!(msg.contains("\"1.0\""), "{msg}");
    store.delete_branch(arch.id, &fx(0)).await.unwrap();
    store.delete_branch(v1.id, &fx(0)).await.unwrap();
    assert_err!(store.get_branch(v1.id).await, StoreError::NotFound);
    assert_err!(
        store.delete_branch(v1.id, &fx(0)).await,
        StoreError::NotFound
    );
    // The freed name can be used again.
    created(Some(product.id), C::ProductVersion, "1.0").await;
    db.drop_now().await;
}

#[tokio::test]
async fn rate_limit_attempts() {
    let (db, store) = setup().await;
    for at in [t(0), t(10), t(20), t(20) + ms(500)] {
        store.record_attempt("ip:192.0.2.1", at).await.unwrap();
    }
    store
        .record_attempt("email:a@example.com", t(5))
        .await
        .unwrap();
    let count = |key: &'static str, since| {
        let store = Arc::clone(&store);
        async move { store.attempts_since(key, since).await.unwrap() }
    };
    assert_eq!(
        count("ip:192.0.2.1", t(0)).await,
        4,
        "the window includes its start"
    );
    assert_eq!(count("ip:192.0.2.1", t(10)).await, 3);
    assert_eq!(count("ip:192.0.2.1", t(20)).await, 2);
    assert_eq!(count("ip:192.0.2.1", t(20) + ms(250)).await, 1);
    assert_eq!(count("ip:192.0.2.1", t(21)).await, 0);
    assert_eq!(count("email:a@example.com", t(0)).await, 1);
    assert_eq!(count("unknown", t(0)).await, 0);
    // Pruning removes only what is older than the cut-off, whatever the key.
    assert_eq!(store.prune_attempts(t(10)).await.unwrap(), 2);
    assert_eq!(count("ip:192.0.2.1", t(0)).await, 3);
    assert_eq!(count("email:a@example.com", t(0)).await, 0);
    store
        .record_attempt("email:a@example.com", t(5))
        .await
        .unwrap();
    store.clear_attempts("ip:192.0.2.1").await.unwrap();
    assert_eq!(count("ip:192.0.2.1", t(0)).await, 0);
    assert_eq!(count("email:a@example.com", t(0)).await, 1);
    db.drop_now().await;
}

#[tokio::test]
async fn schema_checks_and_migration() {
    let db = TestDatabase::create().await;
    let store = db.connect().await;
    assert_eq!(store.backend(), db.backend());
    store.ping().await.unwrap();
    let msg = assert_err!(store.check_schema().await, StoreError::Config(_));
    assert!(msg.contains("keikai db migrate"), "{msg}");
    store.migrate().await.unwrap();
    store.check_schema().await.unwrap();
    store.migrate().await.unwrap(); // nothing left to do
    store.check_schema().await.unwrap();
    store.close().await;
    db.drop_now().await;
}

const FUTURE: i64 = 99_990_101_000_000;

async fn insert_future_migration(db: &TestDatabase) {
    // A checksum of 48 zero bytes, in each backend's spelling.
    let checksum = match db.backend() {
        Backend::Sqlite => "zeroblob(48)",
        Backend::Postgres => "decode(repeat('00', 48), 'hex')",
    };
    db.execute_raw(&format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ({FUTURE}, 'from a newer Keikai', TRUE, {checksum}, 0)"
    ))
    .await;
}

/// The migrations table as sqlx creates it, without any of our migrations applied.
async fn create_migrations_table(db: &TestDatabase) {
    match db.backend() {
        Backend::Sqlite => {
            // The file does not exist yet.
            let mut conn = sqlx::SqliteConnection::connect(&format!("{}?mode=rwc", db.url))
                .await
                .unwrap();
            sqlx::query(
                "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
                 installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
                 checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
            )
            .execute(&mut conn)
            .await
            .unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query(
                "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
                 installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, \
                 checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)",
            )
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
}

#[tokio::test]
async fn databases_from_a_newer_keikai_are_refused() {
    // Migrated by us, then by a newer Keikai.
    let (db, store) = setup().await;
    insert_future_migration(&db).await;
    for result in [store.check_schema().await, store.migrate().await] {
        match result {
            Err(StoreError::TooNew { found, known }) => {
                assert_eq!(found, FUTURE);
                assert!(known > 0 && known < FUTURE, "{known}");
            }
            other => panic!("{other:?}"),
        }
    }
    store.close().await;
    db.drop_now().await;

    // Holding only a newer migration, with ours pending: migrate() must refuse before
    // applying anything.
    let db = TestDatabase::create().await;
    create_migrations_table(&db).await;
    insert_future_migration(&db).await;
    let store = db.connect().await;
    assert_err!(store.migrate().await, StoreError::TooNew { .. });
    assert_err!(store.check_schema().await, StoreError::TooNew { .. });
    assert!(
        store.count_users().await.is_err(),
        "migrate() created the users table"
    );
    store.close().await;
    db.drop_now().await;
}

mod cases {
    use super::*;
    use keikai_domain::audit::{AuditActor, ChainVerifier, Change};
    use keikai_domain::case::{
        Case, CaseIndex, CaseState, Report, ReportInput, SeverityScale, Visibility,
        VulnerabilityInput,
    };
    use keikai_domain::{CaseScope, Role};
    use keikai_store::{CaseFilter, NewAttachment, NewMessage, NewNotification};

    fn report(title: &str, user: Option<UserId>) -> Report {
        let input = ReportInput {
            title: title.into(),
            product: "Router".into(),
            description: "details".into(),
            ..Default::default()
        };
        Report::from_input(&input, user).unwrap()
    }

    pub(super) async fn open(
        store: &Arc<dyn Store>,
        title: &str,
        user: Option<UserId>,
        at: i64,
    ) -> Case {
        let scale = SeverityScale::default();
        let (case, change) = Case::open(report(title, user), t(at));
        let index = CaseIndex::of(&case, &scale);
        store
            .create_case(
                &case,
                &index,
                None,
                &[],
                &Effects::system(case.updated_at).with_audit(change),
            )
            .await
            .unwrap()
    }

    async fn save(store: &Arc<dyn Store>, case: &Case, changes: &[Change]) -> Case {
        let index = CaseIndex::of(case, &SeverityScale::default());
        store
            .save_case(
                case,
                &index,
                &Effects::new(AuditActor::System, case.updated_at).with_changes(changes.to_vec()),
            )
            .await
            .unwrap()
    }

    async fn verify(store: &Arc<dyn Store>) -> Result<u64, String> {
        let mut v = ChainVerifier::new();
        let mut after = 0;
        loop {
            let page = store.audit_page(after, 2).await.unwrap();
            if page.is_empty() {
                break;
            }
            for e in &page {
                v.push(e).map_err(|b| b.to_string())?;
                after = e.seq;
            }
        }
        let head = store.audit_head().await.unwrap();
        v.finish(head.as_ref().map(|(s, h)| (*s, h.as_str())))
            .map_err(|b| b.to_string())
    }

    #[tokio::test]
    async fn cases_are_numbered_saved_and_audited() {
        let (_db, store) = setup().await;
        let a = open(&store, "First", None, 0).await;
        let b = open(&store, "Second", None, 1).await;
        assert_eq!((a.number, b.number), (1, 2));
        assert_eq!(a.revision, 1);
        let mut got = store.case_by_number(1).await.unwrap();
        assert_eq!(got, a);
        let change = got.transition(CaseState::Triage, "", None, t(10)).unwrap();
        let saved = save(&store, &got, &[change]).await;
        assert_eq!(saved.revision, 2);
        assert_eq!(store.get_case(a.id).await.unwrap().state, CaseState::Triage);
        // A save based on the old revision is refused and changes nothing.
        let mut stale = a.clone();
        let change = stale
            .transition(CaseState::Rejected, "spam", None, t(11))
            .unwrap();
        let index = CaseIndex::of(&stale, &SeverityScale::default());
        let msg = assert_err!(
            store
                .save_case(
                    &stale,
                    &index,
                    &Effects::new(AuditActor::System, stale.updated_at).with_changes([change])
                )
                .await,
            StoreError::Conflict(_)
        );
        assert!(msg.contains("reload"), "{msg}");
        assert_eq!(store.get_case(a.id).await.unwrap().state, CaseState::Triage);
        let history = store.audit_for(&a.subject()).await.unwrap();
        let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["case.opened", "case.transition"]);
        assert_eq!(verify(&store).await, Ok(3));
        assert_err!(store.case_by_number(99).await, StoreError::NotFound);
    }

    #[tokio::test]
    async fn lists_filter_by_scope_state_deadline_and_text() {
        let (_db, store) = setup().await;
        let reporter = add_user(&store, "r@example.com").await;
        let team = add_org(&store, "Router team", OrgKind::Own).await;
        let mut mine = open(&store, "認証回避の脆弱性", Some(reporter.id), 0).await;
        let other = open(&store, "Heap overflow in ＰＡＲＳＥＲ", None, 1).await;
        let change = mine.assign(&team, "look", t(2)).unwrap();
        let scale = SeverityScale::default();
        let input = VulnerabilityInput {
            title: "Auth bypass".into(),
            cvss_v3: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
            ..Default::default()
        };
        let (_, c2) = mine.save_vulnerability(None, &input, &scale, t(2)).unwrap();
        save(&store, &mine, &[change, c2]).await;

        let list = |f: CaseFilter| {
            let store = store.clone();
            async move {
                store
                    .list_cases(&f)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|c| c.number)
                    .collect::<Vec<_>>()
            }
        };
        let all = CaseFilter::new(CaseScope::All);
        assert_eq!(store.count_cases(&all).await.unwrap(), 2);
        let mut f = all.clone();
        f.scope = CaseScope::Reporter(reporter.id);
        assert_eq!(list(f).await, [mine.number]);
        let mut f = all.clone();
        f.scope = CaseScope::Teams(vec![team.id]);
        assert_eq!(list(f).await, [mine.number]);
        let mut f = all.clone();
        f.scope = CaseScope::Teams(vec![OrgId::new()]);
        assert!(list(f).await.is_empty());
        // Japanese substring, full-width Latin folded, and case.
        for (q, want) in [
            ("認証回避", vec![mine.number]),
            ("回避", vec![mine.number]),
            ("parser", vec![other.number]),
            ("HEAP parser", vec![other.number]),
            ("heap 認証", vec![]),
            ("auth bypass", vec![mine.number]),
            ("100%", vec![]),
        ] {
            let mut f = all.clone();
            f.text = Some(q.into());
            assert_eq!(list(f).await, want, "{q}");
        }
        let mut f = all.clone();
        f.severity = Some("Critical".into());
        assert_eq!(list(f).await, [mine.number]);
        // Critical: acknowledge within 24 h of t(0); the other case (unrated) has 72 h.
        let mut f = all.clone();
        f.deadline_before = Some(t(25 * 3600));
        assert_eq!(list(f).await, [mine.number]);
        let mut f = all.clone();
        f.deadline_before = Some(t(80 * 3600));
        assert_eq!(list(f).await.len(), 2);
        let mut f = all.clone();
        f.state = Some(CaseState::Triage);
        assert!(list(f).await.is_empty());
        let mut f = all.clone();
        f.team = Some(team.id);
        assert_eq!(list(f).await, [mine.number]);
    }

    #[tokio::test]
    async fn internal_notes_and_reporter_messages_never_mix() {
        let (_db, store) = setup().await;
        let case = open(&store, "Case", None, 0).await;
        let note = NewMessage {
            case_id: case.id,
            visibility: Visibility::Internal,
            author: None,
            from_reporter: false,
            body: "INTERNAL-MARKER".into(),
            attachments: vec![NewAttachment {
                file_name: "internal.txt".into(),
                content_type: "text/plain".into(),
                bytes: b"secret".to_vec(),
            }],
        };
        let change = Change::new("case.note", case.subject(), (), "note");
        let noted = Effects::new(AuditActor::System, t(1)).with_audit(change.clone());
        store.add_message(&note, None, &noted).await.unwrap();
        let reply = NewMessage {
            visibility: Visibility::Reporter,
            body: "Thanks".into(),
            from_reporter: true,
            attachments: vec![NewAttachment {
                file_name: "poc.py".into(),
                content_type: "text/plain".into(),
                bytes: b"print(1)".to_vec(),
            }],
            ..note.clone()
        };
        let replied = Effects::new(AuditActor::Reporter, t(2)).with_audit(change.clone());
        store.add_message(&reply, None, &replied).await.unwrap();
        let side = store
            .list_messages(case.id, Some(Visibility::Reporter))
            .await
            .unwrap();
        assert_eq!(side.len(), 1);
        assert_eq!(side[0].body, "Thanks");
        assert_eq!(side[0].attachments.len(), 1);
        assert_eq!(side[0].attachments[0].file_name, "poc.py");
        let both = store.list_messages(case.id, None).await.unwrap();
        assert_eq!(both.len(), 2);
        let internal = &both[0].attachments[0];
        assert_eq!(internal.visibility, Visibility::Internal);
        let (meta, bytes) = store.get_attachment(internal.id).await.unwrap();
        assert_eq!(bytes, b"secret");
        assert_eq!(meta.size, 6);
        assert_eq!(
            meta.sha256,
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
    }

    #[tokio::test]
    async fn a_report_is_stored_with_its_files_or_not_at_all() {
        let (_db, store) = setup().await;
        let scale = SeverityScale::default();
        let (case, change) = Case::open(report("With files", None), t(0));
        let index = CaseIndex::of(&case, &scale);
        let message = NewMessage {
            case_id: case.id,
            visibility: Visibility::Reporter,
            author: None,
            from_reporter: true,
            body: "files".into(),
            attachments: vec![NewAttachment {
                file_name: "poc.txt".into(),
                content_type: "text/plain".into(),
                bytes: b"poc".to_vec(),
            }],
        };
        let m_change = Change::new("case.message_added", case.subject(), (), "files");
        let effects = Effects::system(case.updated_at).with_changes([change, m_change]);
        // A message for another case fails inside the transaction: nothing is kept.
        let stray = NewMessage {
            case_id: keikai_domain::CaseId::new(),
            ..message.clone()
        };
        let err = store
            .create_case(&case, &index, None, std::slice::from_ref(&stray), &effects)
            .await;
        assert!(err.is_err());
        assert_eq!(
            store
                .count_cases(&CaseFilter::new(CaseScope::All))
                .await
                .unwrap(),
            0
        );
        assert_eq!(store.audit_head().await.unwrap(), None);
        let saved = store
            .create_case(
                &case,
                &index,
                None,
                std::slice::from_ref(&message),
                &effects,
            )
            .await
            .unwrap();
        // The counter is a row in the same transaction, so the refused attempt left no gap.
        assert_eq!(saved.number, 1);
        let messages = store.list_messages(case.id, None).await.unwrap();
        assert_eq!(messages[0].attachments[0].file_name, "poc.txt");
        assert_eq!(verify(&store).await, Ok(2));
    }

    #[tokio::test]
    async fn notifications_are_written_with_the_case() {
        let (_db, store) = setup().await;
        let org = add_org(&store, "PSIRT", OrgKind::Own).await;
        let analyst = add_member(&store, "a@example.com", org.id, Role::PsirtAnalyst).await;
        add_member(&store, "e@example.com", org.id, Role::ProductEngineer).await;
        let on_call = store
            .internal_users_with_roles(&[Role::Admin, Role::PsirtAnalyst])
            .await
            .unwrap();
        assert_eq!(
            on_call.iter().map(|u| u.id).collect::<Vec<_>>(),
            [analyst.id]
        );
        let mut case = open(&store, "Case", None, 0).await;
        let change = case.declare_emergency("exploited", t(1)).unwrap();
        let index = CaseIndex::of(&case, &SeverityScale::default());
        let notify = [NewNotification {
            user_id: analyst.id,
            case_id: Some(case.id),
            kind: "emergency".into(),
            text: "Case 1".into(),
        }];
        store
            .save_case(
                &case,
                &index,
                &Effects::new(AuditActor::System, case.updated_at)
                    .with_changes([change])
                    .with_notices(notify.to_vec()),
            )
            .await
            .unwrap();
        let n = store.notifications(analyst.id, true).await.unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].case_id, Some(case.id));
        assert_eq!(
            store
                .mark_notifications_read(analyst.id, t(2))
                .await
                .unwrap(),
            1
        );
        assert!(
            store
                .notifications(analyst.id, true)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.notifications(analyst.id, false).await.unwrap().len(),
            1
        );
        let mut f = CaseFilter::new(CaseScope::All);
        f.emergency = Some(true);
        assert_eq!(store.count_cases(&f).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn the_audit_log_refuses_edits_and_reveals_tampering() {
        let (db, store) = setup().await;
        for i in 0..4 {
            open(&store, &format!("Case {i}"), None, i).await;
        }
        assert_eq!(verify(&store).await, Ok(4));
        // The schema refuses updates and deletes outright.
        let err = db
            .try_execute_raw("UPDATE audit_log SET actor = 'x' WHERE seq = 2")
            .await
            .unwrap_err();
        assert!(err.contains("append-only"), "{err}");
        assert!(
            db.try_execute_raw("DELETE FROM audit_log WHERE seq = 4")
                .await
                .is_err()
        );
        // Someone who removes the guard first is still caught by the chain.
        let unguard = match db.backend() {
            Backend::Sqlite => {
                "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
            }
            Backend::Postgres => "DROP TRIGGER audit_log_no_change ON audit_log;",
        };
        db.execute_raw(unguard).await;
        db.execute_raw("UPDATE audit_log SET after_json = '{}' WHERE seq = 2")
            .await;
        let err = verify(&store).await.unwrap_err();
        assert!(err.starts_with("entry 2:"), "{err}");
        db.execute_raw("DELETE FROM audit_log WHERE seq = 2").await;
        let err = verify(&store).await.unwrap_err();
        assert!(err.contains("entry 3: expected sequence number 2"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_keep_numbers_unique_and_the_chain_whole() {
        let (db, store) = setup().await;
        // Two stores on one database, as two instances would be.
        let other = db.connect().await;
        let mut tasks = Vec::new();
        for i in 0..20 {
            let s = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            tasks.push(tokio::spawn(async move {
                open(&s, &format!("Case {i}"), None, i).await.number
            }));
        }
        let mut numbers = Vec::new();
        for t in tasks {
            numbers.push(t.await.unwrap());
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=20).collect::<Vec<i64>>());
        assert_eq!(verify(&store).await, Ok(20));
    }
}

mod advisories {
    use super::*;
    use keikai_domain::advisory::{Advisory, AdvisoryState, Text, Verdict};
    use keikai_domain::audit::AuditActor;
    use keikai_domain::release::{Release, ReleaseKind, ReleaseSchedule};
    use keikai_store::{AdvisoryFilter, NewArtifact};

    fn text(title: &str) -> Text {
        Text {
            title: title.into(),
            summary: format!("{title} summary"),
            description: "description".into(),
            impact: "impact".into(),
            faqs: Vec::new(),
        }
    }

    pub(super) async fn draft(store: &Arc<dyn Store>, title: &str, author: UserId) -> Advisory {
        let seq = store.next_advisory_seq(2026).await.unwrap();
        let (a, change) = Advisory::draft(
            keikai_domain::advisory::tracking_id("TEST", 2026, seq),
            Locale::En,
            text(title),
            author,
            t(0),
        )
        .unwrap();
        store
            .create_advisory(
                &a,
                &Effects::new(AuditActor::User(author), a.updated_at).with_audit(change.clone()),
            )
            .await
            .unwrap()
    }

    fn with_vulnerability(a: &mut Advisory) {
        use keikai_domain::case::{ProductStatus, ProductStatusKind};
        a.content
            .vulnerabilities
            .push(keikai_domain::advisory::Vulnerability {
                id: keikai_domain::VulnerabilityId::new(),
                title: "Overflow".into(),
                cve: None,
                cwe: None,
                scores: Vec::new(),
                exploited: false,
                publicly_disclosed: false,
                product_statuses: vec![
                    ProductStatus::new(BranchId::new(), ProductStatusKind::KnownAffected, None)
                        .unwrap(),
                ],
                remediations: Vec::new(),
            });
    }

    pub(super) async fn release(store: &Arc<dyn Store>, at: i64) -> Release {
        let schedule = ReleaseSchedule::parse("10:00", "Asia/Tokyo").unwrap();
        let r = Release::plan(ReleaseKind::OutOfBand, t(at), "OOB", &schedule, t(0)).unwrap();
        let change = keikai_domain::audit::Change::new(
            "release.planned",
            r.subject(),
            serde_json::Value::Null,
            serde_json::Value::Null,
        );
        store
            .create_release(&r, &Effects::system(t(0)).with_audit(change.clone()))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn advisories_are_numbered_per_year_saved_and_listed() {
        let (_db, store) = setup().await;
        let author = add_user(&store, "author@example.com").await.id;
        let a = draft(&store, "Overflow in the parser", author).await;
        let b = draft(&store, "認証回避の脆弱性", author).await;
        assert_eq!(a.tracking_id, "TEST-2026-0001");
        assert_eq!(b.tracking_id, "TEST-2026-0002");
        assert_eq!(store.next_advisory_seq(2027).await.unwrap(), 1);
        assert_eq!(
            store
                .advisory_by_tracking_id("TEST-2026-0002")
                .await
                .unwrap(),
            b
        );
        let mut edited = store.get_advisory(a.id).await.unwrap();
        let change = edited
            .edit_text(
                Locale::En,
                text("Overflow in the PARSER"),
                &[],
                author,
                t(5),
            )
            .unwrap();
        let saved = store
            .save_advisory(
                &edited,
                &Effects::new(AuditActor::User(author), edited.updated_at)
                    .with_changes([change.clone()]),
            )
            .await
            .unwrap();
        assert_eq!(saved.revision, 2);
        let msg = assert_err!(
            store
                .save_advisory(
                    &edited,
                    &Effects::new(AuditActor::User(author), edited.updated_at)
                        .with_changes([change])
                )
                .await,
            StoreError::Conflict(_)
        );
        assert!(msg.contains("reload"), "{msg}");
        let found = store
            .list_advisories(&AdvisoryFilter {
                text: Some("回避".into()),
                limit: 10,
                ..AdvisoryFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, b.id);
        // Nothing is public before publication, whatever the search.
        let public = publicly_listed(&store, None).await;
        assert!(public.is_empty());
        let history = store.audit_for(&a.subject()).await.unwrap();
        let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["advisory.created", "advisory.edited"]);
    }

    /// The first ten advisories public search lists for `text` (all public ones when `None`).
    async fn publicly_listed(store: &Arc<dyn Store>, text: Option<&str>) -> Vec<Advisory> {
        let filter = AdvisoryFilter {
            public_only: true,
            text: text.map(Into::into),
            limit: 10,
            ..AdvisoryFilter::default()
        };
        store.list_advisories(&filter).await.unwrap()
    }

    /// Prepares an approved advisory scheduled for a new release.
    async fn scheduled(store: &Arc<dyn Store>) -> (Advisory, Release) {
        let author = add_user(store, "a@example.com").await.id;
        let reviewer = add_user(store, "r@example.com").await.id;
        let mut a = draft(store, "Overflow", author).await;
        with_vulnerability(&mut a);
        a.review(reviewer, Verdict::Approve, "", t(1)).unwrap();
        let r = release(store, 100).await;
        let change = a.schedule(r.id(), t(2)).unwrap();
        let a = store
            .save_advisory(
                &a,
                &Effects::new(AuditActor::User(reviewer), a.updated_at).with_changes([change]),
            )
            .await
            .unwrap();
        (a, r)
    }

    /// Publishes `r` with `a` and its `files` at `t(at)` in one write, as a release manager
    /// who read them both: the release marked published and the advisory published in it.
    async fn publish(
        store: &Arc<dyn Store>,
        a: &Advisory,
        r: &Release,
        at: i64,
        files: Vec<NewArtifact>,
    ) -> Result<(), StoreError> {
        let (mut a, mut r) = (a.clone(), r.clone());
        let c1 = r.mark_published(t(at)).unwrap();
        let c2 = a.publish(r.id(), t(at)).unwrap();
        let fx = Effects::system(r.published_at().unwrap()).with_changes([c1, c2]);
        store.publish_release(&r, &[(a, files)], &fx).await
    }

    fn files(tag: &str) -> Vec<NewArtifact> {
        vec![NewArtifact {
            name: "doc.json".into(),
            content_type: "application/json".into(),
            bytes: format!("{{\"v\":\"{tag}\"}}").into_bytes(),
        }]
    }

    #[tokio::test]
    async fn a_release_is_published_once_with_its_artifacts() {
        let (_db, store) = setup().await;
        let (a, r) = scheduled(&store).await;
        assert!(store.due_releases(t(99)).await.unwrap().is_empty());
        let due = store.due_releases(t(100)).await.unwrap();
        assert_eq!(due.len(), 1);
        let listed = store
            .list_advisories(&AdvisoryFilter {
                release: Some(r.id()),
                state: Some(AdvisoryState::Scheduled),
                limit: 10,
                ..AdvisoryFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        publish(&store, &a, &r, 100, files("one")).await.unwrap();
        // A second publisher that read the same release is refused and writes nothing.
        assert_err!(
            publish(&store, &a, &r, 101, files("two")).await,
            StoreError::Conflict(_)
        );
        assert!(store.due_releases(t(200)).await.unwrap().is_empty());
        let (meta, bytes) = store.artifact(a.id, 1, "doc.json").await.unwrap();
        assert_eq!(bytes, b"{\"v\":\"one\"}");
        assert_eq!(meta.size, 11);
        assert_eq!(meta.sha256.len(), 64);
        assert_eq!(store.list_artifacts(None).await.unwrap().len(), 1);
        let public = publicly_listed(&store, Some("overflow")).await;
        assert_eq!(public.len(), 1);
        assert_eq!(public[0].versions.len(), 1);
        let published = store.get_release(r.id()).await.unwrap();
        assert_eq!(published.published_at(), Some(t(100)));
    }

    #[tokio::test]
    async fn a_failed_publication_leaves_nothing_behind() {
        let (_db, store) = setup().await;
        let (a, r) = scheduled(&store).await;
        // Two files of one name: the second insert fails, so the whole release rolls back.
        let mut twice = files("x");
        twice.extend(files("y"));
        assert_err!(
            publish(&store, &a, &r, 100, twice).await,
            StoreError::Conflict(_)
        );
        assert_eq!(store.due_releases(t(100)).await.unwrap().len(), 1);
        assert_eq!(
            store.get_advisory(a.id).await.unwrap().state,
            AdvisoryState::Scheduled
        );
        assert!(store.list_artifacts(None).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn artifacts_are_immutable() {
        let (db, store) = setup().await;
        let (a, r) = scheduled(&store).await;
        publish(&store, &a, &r, 100, files("one")).await.unwrap();
        assert!(
            db.try_execute_raw("UPDATE artifacts SET name = 'x'")
                .await
                .is_err()
        );
        assert!(db.try_execute_raw("DELETE FROM artifacts").await.is_err());
        assert_eq!(store.list_artifacts(Some(a.id)).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn the_first_setting_written_wins() {
        let (db, store) = setup().await;
        let other = db.connect().await;
        assert_eq!(store.setting("key").await.unwrap(), None);
        let fx = |who: &str| {
            Effects::system(t(1)).with_audit(keikai_domain::audit::Change::new(
                "test.setting",
                "key",
                (),
                who,
            ))
        };
        let head = store.audit_head().await.unwrap();
        let (one, two) = (fx("one"), fx("two"));
        let (x, y) = tokio::join!(
            store.put_setting_if_absent("key", "one", &one),
            other.put_setting_if_absent("key", "two", &two)
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x, y);
        assert_eq!(store.setting("key").await.unwrap(), Some(x.clone()));
        // Only the winner's effects were written.
        let entries = store.audit_for("key").await.unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].after, serde_json::json!(x).to_string());
        assert_ne!(store.audit_head().await.unwrap(), head);
    }

    #[tokio::test]
    async fn only_public_latest_versions_are_served() {
        let (_db, store) = setup().await;
        let (a, r) = scheduled(&store).await;
        assert_err!(
            store
                .public_artifact(&a.tracking_id, None, "doc.json")
                .await,
            StoreError::NotFound
        );
        publish(&store, &a, &r, 100, files("one")).await.unwrap();
        let (_, bytes) = store
            .public_artifact(&a.tracking_id, None, "doc.json")
            .await
            .unwrap();
        assert_eq!(bytes, b"{\"v\":\"one\"}");
        store
            .public_artifact(&a.tracking_id, Some(1), "doc.json")
            .await
            .unwrap();
        store
            .public_latest_artifact_by_name("doc.json")
            .await
            .unwrap();
        assert_err!(
            store
                .public_artifact(&a.tracking_id, Some(2), "doc.json")
                .await,
            StoreError::NotFound
        );

        // An advisory published as TLP:AMBER is never public.
        let author = add_user(&store, "amber@example.com").await.id;
        let reviewer = add_user(&store, "amber-r@example.com").await.id;
        let mut b = draft(&store, "Partner only", author).await;
        with_vulnerability(&mut b);
        b.content.tlp = keikai_domain::advisory::Tlp::Amber;
        b.review(reviewer, Verdict::Approve, "", t(1)).unwrap();
        let r2 = release(&store, 300).await;
        b.schedule(r2.id(), t(2)).unwrap();
        let b = store
            .save_advisory(&b, &Effects::system(b.updated_at))
            .await
            .unwrap();
        let amber_files = vec![NewArtifact {
            name: "amber.json".into(),
            content_type: "application/json".into(),
            bytes: b"{}".to_vec(),
        }];
        publish(&store, &b, &r2, 300, amber_files).await.unwrap();
        assert_err!(
            store
                .public_artifact(&b.tracking_id, None, "amber.json")
                .await,
            StoreError::NotFound
        );
        assert_err!(
            store.public_latest_artifact_by_name("amber.json").await,
            StoreError::NotFound
        );
        let public = publicly_listed(&store, None).await;
        assert_eq!(public.len(), 1, "only the TLP:CLEAR one");
    }
}

mod partners {
    use super::advisories::{draft, release};
    use super::*;
    use keikai_domain::audit::{AuditActor, Change};
    use keikai_domain::partner::{
        AccessKind, Agreement, AgreementInput, Alert, AlertGroups, AlertInput, Audience,
        PartnerEdition, PartnerEditionInput, PartnerType, ProductScope, Question, Tiers,
    };
    use keikai_domain::release::Release;
    use keikai_store::{AccessRecord, AlertAck, NewNotification, PackageDelivery};

    fn change(action: &'static str) -> Change {
        Change::new(
            action,
            "partner/test",
            serde_json::Value::Null,
            serde_json::Value::Null,
        )
    }

    /// A change by `user` at `at`.
    fn by(user: UserId, at: Timestamp) -> Effects {
        Effects::new(AuditActor::User(user), at).with_audit(change("x"))
    }

    async fn partner(store: &Arc<dyn Store>, name: &str, tier: &str) -> Agreement {
        let org = add_org(store, name, OrgKind::Partner).await;
        let a = Agreement::record(
            org.id,
            AgreementInput {
                partner_type: PartnerType::Csirt,
                tier: tier.into(),
                scope: ProductScope::All,
                signed_at: t(0),
                expires_at: t(1_000_000),
            },
            &Tiers::default(),
            t(0),
            None,
        )
        .unwrap();
        store
            .save_agreement(
                &a,
                &Effects::system(t(0)).with_audit(change("partner.agreement")),
            )
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn agreements_are_saved_optimistically_and_listed() {
        let (_db, store) = setup().await;
        let a = partner(&store, "Example CERT", "1").await;
        assert_eq!(a.revision, 1);
        assert_eq!(store.agreement(a.org_id).await.unwrap(), Some(a.clone()));
        // A second "new" agreement for the same organisation is a conflict, not an overwrite.
        let fresh = Agreement {
            revision: 0,
            ..a.clone()
        };
        assert_err!(
            store
                .save_agreement(&fresh, &Effects::system(t(1)).with_audit(change("x")))
                .await,
            StoreError::Conflict(_)
        );
        let mut revoked = a.clone();
        revoked.revoke(UserId::new(), "ended", t(5)).unwrap();
        let saved = store
            .save_agreement(&revoked, &Effects::system(t(5)).with_audit(change("x")))
            .await
            .unwrap();
        assert_eq!(saved.revision, 2);
        // The stale copy is refused.
        assert_err!(
            store
                .save_agreement(&a, &Effects::system(t(6)).with_audit(change("x")))
                .await,
            StoreError::Conflict(_)
        );
        assert!(
            !store
                .agreement(a.org_id)
                .await
                .unwrap()
                .unwrap()
                .is_valid(t(6))
        );
        assert_eq!(store.list_agreements().await.unwrap().len(), 1);
        assert_eq!(store.agreement(OrgId::new()).await.unwrap(), None);
        let nobody = Agreement {
            org_id: OrgId::new(),
            revision: 0,
            ..a
        };
        assert_err!(
            store
                .save_agreement(&nobody, &Effects::system(t(6)).with_audit(change("x")))
                .await,
            StoreError::Reference(_)
        );
    }

    #[tokio::test]
    async fn partner_editions_questions_and_alerts_round_trip() {
        let (_db, store) = setup().await;
        let author = add_user(&store, "author@example.com").await;
        let asker = add_user(&store, "asker@example.org").await;
        let advisory = draft(&store, "Overflow", author.id).await;
        let r = release(&store, 100_000).await;
        let edition = PartnerEdition::write(
            advisory.id,
            PartnerEditionInput {
                indicators: vec!["sha256:00ff".into()],
                ..PartnerEditionInput::default()
            },
            author.id,
            t(1),
            None,
        )
        .unwrap();
        let saved = store
            .save_partner_edition(&edition, &by(author.id, t(1)))
            .await
            .unwrap();
        assert_eq!(saved.revision, 1);
        assert_eq!(
            store.partner_edition(advisory.id).await.unwrap(),
            Some(saved.clone())
        );
        assert_err!(
            store
                .save_partner_edition(&edition, &by(author.id, t(2)))
                .await,
            StoreError::Conflict(_)
        );

        let a = partner(&store, "Example CERT", "1").await;
        let q = Question::ask(
            r.id(),
            advisory.id,
            a.org_id,
            asker.id,
            "Which ports?",
            t(3),
        )
        .unwrap();
        let q = store
            .create_question(&q, &by(asker.id, q.asked_at))
            .await
            .unwrap();
        let mut answered = q.clone();
        answered
            .answer(author.id, "445 only.", Audience::Everyone, t(4))
            .unwrap();
        store
            .save_question(&answered, &by(author.id, t(4)))
            .await
            .unwrap();
        assert_err!(
            store.save_question(&answered, &by(author.id, t(4))).await,
            StoreError::Conflict(_)
        );
        let listed = store.list_questions(Some(r.id())).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].answers.len(), 1);
        assert_eq!(store.list_questions(None).await.unwrap().len(), 1);
        assert!(
            store
                .list_questions(Some(keikai_domain::ReleaseId::new()))
                .await
                .unwrap()
                .is_empty()
        );

        let alert = Alert::send(
            AlertInput {
                title: "Worm".into(),
                body: "Patch now.".into(),
                tlp: keikai_domain::advisory::Tlp::Amber,
                groups: AlertGroups {
                    tiers: ["1".to_owned()].into(),
                    ..AlertGroups::default()
                },
            },
            &Tiers::default(),
            std::slice::from_ref(&a),
            author.id,
            t(5),
        )
        .unwrap();
        let alert = store
            .create_alert(&alert, &by(author.id, alert.sent_at))
            .await
            .unwrap();
        assert_eq!(store.get_alert(alert.id).await.unwrap(), alert);
        assert_eq!(store.list_alerts().await.unwrap(), vec![alert.clone()]);
        let ack = AlertAck {
            alert_id: alert.id,
            user_id: asker.id,
            org_id: a.org_id,
            at: t(6),
        };
        let mut seen = AccessRecord::new(t(6), asker.id, a.org_id, AccessKind::AcknowledgeAlert);
        seen.alert_id = Some(alert.id);
        // A failure after the acknowledgement (a notice for nobody) keeps neither it nor its
        // line in the trail.
        let poisoned = by(asker.id, t(6)).with_notices([NewNotification {
            user_id: UserId::new(),
            case_id: None,
            kind: "test".into(),
            text: "nobody".into(),
        }]);
        assert_err!(
            store.acknowledge_alert(&ack, &seen, &poisoned).await,
            StoreError::Reference(_)
        );
        assert!(store.alert_acks(alert.id).await.unwrap().is_empty());
        assert!(store.list_access(None, 10).await.unwrap().is_empty());

        assert!(
            store
                .acknowledge_alert(&ack, &seen, &by(asker.id, t(6)))
                .await
                .unwrap()
        );
        let again = AccessRecord::new(t(7), asker.id, a.org_id, AccessKind::AcknowledgeAlert);
        assert!(
            !store
                .acknowledge_alert(
                    &AlertAck {
                        at: t(7),
                        ..ack.clone()
                    },
                    &again,
                    &by(asker.id, t(7))
                )
                .await
                .unwrap()
        );
        assert_eq!(store.alert_acks(alert.id).await.unwrap(), vec![ack]);
        // Both visits are in the trail, the repeated one too.
        assert_eq!(store.list_access(None, 10).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn the_access_trail_is_append_only_and_filtered_by_organisation() {
        let (db, store) = setup().await;
        let user = add_user(&store, "p@example.org").await;
        let a = partner(&store, "Example CERT", "1").await;
        let b = partner(&store, "Other CERT", "2").await;
        let mut first = AccessRecord::new(t(1), user.id, a.org_id, AccessKind::Download);
        first.detail = "file.json".into();
        store.log_access(&first, &by(user.id, t(1))).await.unwrap();
        let second = AccessRecord::new(t(2), user.id, b.org_id, AccessKind::ViewPackage);
        store.log_access(&second, &by(user.id, t(2))).await.unwrap();
        assert_eq!(
            store.list_access(None, 10).await.unwrap(),
            vec![second.clone(), first.clone()]
        );
        assert_eq!(
            store.list_access(Some(a.org_id), 10).await.unwrap(),
            vec![first]
        );
        for sql in [
            "UPDATE partner_access SET detail = 'x'",
            "DELETE FROM partner_access",
        ] {
            assert!(db.try_execute_raw(sql).await.is_err(), "{sql}");
        }
    }

    #[tokio::test]
    async fn partner_contacts_are_listed_with_their_organisations_in_one_query() {
        let (_db, store) = setup().await;
        let a = partner(&store, "Example CERT", "1").await.org_id;
        let b = partner(&store, "Other CERT", "2").await.org_id;
        let both = add_user(&store, "both@example.org").await;
        let gone = add_user(&store, "gone@example.org").await;
        let only_b = add_user(&store, "b@example.org").await;
        for (user, org) in [(&both, a), (&both, b), (&gone, a), (&only_b, b)] {
            store
                .add_membership(user.id, org, Role::PartnerContact, &fx(1))
                .await
                .unwrap();
        }
        // Someone of ours, and a disabled contact, are no partner contacts to write to.
        let own = add_org(&store, "Ourselves", OrgKind::Own).await;
        add_member(&store, "analyst@example.com", own.id, Role::PsirtAnalyst).await;
        store
            .set_disabled(gone.id, Some(t(2)), &fx(2))
            .await
            .unwrap();
        let got: Vec<(OrgId, String)> = store
            .partner_contacts()
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.org_id, c.user.email.to_string()))
            .collect();
        let mut want = vec![
            (b, "b@example.org".to_owned()),
            (a, "both@example.org".to_owned()),
            (b, "both@example.org".to_owned()),
        ];
        want.sort_by(|x, y| (&x.1, x.0).cmp(&(&y.1, y.0)));
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn releases_to_deliver_are_the_planned_and_the_recent_ones() {
        let (_db, store) = setup().await;
        let planned = release(&store, 100_000).await;
        let mut old = release(&store, 1_000).await;
        let mut recent = release(&store, 50_000).await;
        for r in [&mut old, &mut recent] {
            let change = r.mark_published(t(60_000)).unwrap();
            store
                .publish_release(r, &[], &Effects::system(t(60_000)).with_audit(change))
                .await
                .unwrap();
        }
        let ids = |rs: Vec<Release>| rs.iter().map(Release::id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.releases_to_deliver(t(40_000)).await.unwrap()),
            vec![recent.id(), planned.id()]
        );
        assert_eq!(
            ids(store.releases_to_deliver(t(200_000)).await.unwrap()),
            vec![planned.id()]
        );
    }

    #[tokio::test]
    async fn a_package_delivery_is_claimed_once() {
        let (_db, store) = setup().await;
        let r = release(&store, 100_000).await;
        let d = PackageDelivery {
            release_id: r.id(),
            tier: "1".into(),
            delivered_at: t(10),
            recipients: 3,
        };
        let job = |n: u32| {
            keikai_store::NewJob::new(
                "mail",
                format!("partner-package-test-{n}"),
                serde_json::json!({}),
                t(10),
            )
        };
        let one = Effects::system(d.delivered_at).with_jobs([job(1)]);
        let two = Effects::system(d.delivered_at).with_jobs([job(2)]);
        let (x, y) = tokio::join!(
            store.record_package_delivery(&d, &one),
            store.record_package_delivery(&d, &two)
        );
        assert!(x.unwrap() ^ y.unwrap(), "exactly one claim wins");
        // Only the winner's mail was queued.
        let queued = store
            .list_jobs(&keikai_store::JobFilter {
                kind_prefix: Some("mail".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(queued.len(), 1, "{queued:?}");
        let other = PackageDelivery {
            tier: "2".into(),
            ..d.clone()
        };
        assert!(
            store
                .record_package_delivery(&other, &Effects::system(other.delivered_at))
                .await
                .unwrap()
        );
        assert_eq!(
            store.package_deliveries(r.id()).await.unwrap(),
            vec![d, other]
        );
    }
}

mod jobs {
    use std::collections::HashSet;

    use super::*;
    use keikai_domain::JobId;
    use keikai_store::{Job, JobCounts, JobFilter, JobState, NewJob};
    use serde_json::json;

    const MIN: SignedDuration = SignedDuration::from_secs(60);

    fn job(kind: &str, key: &str, run_at: Timestamp) -> NewJob {
        NewJob::new(kind, key, json!({ "key": key, "text": "警戒" }), run_at)
    }

    async fn by_key(store: &Arc<dyn Store>, key: &str) -> Job {
        store.get_job_by_key(key).await.unwrap()
    }

    /// Inserts `jobs` as effects of their own at `t(at)`; gives how many were new.
    async fn enqueue(store: &Arc<dyn Store>, at: i64, jobs: &[NewJob]) -> u64 {
        store
            .commit(&Effects::system(t(at)).with_jobs(jobs.to_vec()))
            .await
            .unwrap()
    }

    /// Claims up to `limit` due `mail` jobs for `worker` at `t(at)`, with a minute's lease.
    async fn claim_mail(store: &Arc<dyn Store>, worker: &str, at: i64, limit: u32) -> Vec<Job> {
        store
            .claim_jobs(worker, &["mail"], t(at), MIN, limit)
            .await
            .unwrap()
    }

    /// Finished runs of a kind go; queued and running ones, and other kinds, stay.
    #[tokio::test]
    async fn finished_jobs_of_a_kind_are_pruned() {
        let (db, store) = setup().await;
        let jobs = [
            job("schedule.tick", "s1", t(0)),
            job("schedule.tick", "s2", t(0)),
            job("schedule.tick", "s3", t(0)),
            job("mail", "m1", t(0)),
        ];
        enqueue(&store, 0, &jobs).await;
        let kinds = ["schedule.tick", "mail"];
        let claimed = store.claim_jobs("w", &kinds, t(1), MIN, 10).await.unwrap();
        let id = |key: &str| claimed.iter().find(|j| j.key == key).unwrap().id;
        store.complete_job(id("s1"), "w", t(2)).await.unwrap();
        store
            .fail_job(id("s2"), "w", "failed", None, t(2))
            .await
            .unwrap();
        store.complete_job(id("m1"), "w", t(2)).await.unwrap();
        // Not yet finished before t(2): nothing goes.
        assert_eq!(store.prune_jobs("schedule.", t(2)).await.unwrap(), 0);
        assert_eq!(store.prune_jobs("schedule.", t(3)).await.unwrap(), 2);
        assert_err!(store.get_job_by_key("s1").await, StoreError::NotFound);
        assert_err!(store.get_job_by_key("s2").await, StoreError::NotFound);
        assert_eq!(by_key(&store, "s3").await.state, JobState::Running);
        assert_eq!(by_key(&store, "m1").await.state, JobState::Done);
        db.drop_now().await;
    }

    #[tokio::test]
    async fn enqueueing_is_idempotent() {
        let (db, store) = setup().await;
        let first = [job("mail", "m1", t(0)), job("mail.partner", "m2", t(0))];
        assert_eq!(enqueue(&store, 0, &first).await, 2);
        // The same keys again (a retried request, another instance): nothing new, and the
        // stored jobs keep their first payload and time.
        let mut again = first.to_vec();
        again[0].payload = json!({ "changed": true });
        again[0].run_at = t(99);
        again.push(job("webhook", "w1", t(5)));
        assert_eq!(enqueue(&store, 1, &again).await, 1);
        // A key twice in one batch counts once.
        let twice = [job("mail", "m3", t(0)), job("mail", "m3", t(0))];
        assert_eq!(enqueue(&store, 1, &twice).await, 1);

        let m1 = by_key(&store, "m1").await;
        assert_eq!(m1.kind, "mail");
        assert_eq!(m1.payload, json!({ "key": "m1", "text": "警戒" }));
        assert_eq!(
            (m1.state, m1.attempts, m1.run_at, m1.created_at),
            (JobState::Queued, 0, t(0), t(0))
        );
        assert_eq!(
            (m1.locked_by, m1.locked_until, m1.last_error),
            (None, None, None)
        );
        assert_eq!(store.get_job(m1.id).await.unwrap().key, "m1");
        assert_err!(store.get_job_by_key("nope").await, StoreError::NotFound);
        assert_err!(store.get_job(JobId::new()).await, StoreError::NotFound);

        assert_eq!(
            store.count_jobs_by_state(None).await.unwrap(),
            JobCounts {
                queued: 4,
                ..JobCounts::default()
            }
        );
        assert_eq!(
            store
                .count_jobs_by_state(Some("mail"))
                .await
                .unwrap()
                .queued,
            3
        );
        assert_eq!(
            store
                .count_jobs_by_state(Some("mail.partner"))
                .await
                .unwrap()
                .queued,
            1
        );
        assert_eq!(
            store.count_jobs_by_state(Some("Mail")).await.unwrap(),
            JobCounts::default(),
            "prefixes are case-sensitive on every backend"
        );
        let keys = |jobs: Vec<Job>| jobs.into_iter().map(|j| j.key).collect::<Vec<_>>();
        let filter = |prefix: Option<&str>, state, limit| JobFilter {
            kind_prefix: prefix.map(str::to_owned),
            state,
            limit,
        };
        // Newest first.
        assert_eq!(
            keys(store.list_jobs(&filter(None, None, 10)).await.unwrap()),
            ["m3", "w1", "m2", "m1"]
        );
        assert_eq!(
            keys(
                store
                    .list_jobs(&filter(Some("mail"), None, 2))
                    .await
                    .unwrap()
            ),
            ["m3", "m2"]
        );
        assert!(
            store
                .list_jobs(&filter(None, Some(JobState::Done), 10))
                .await
                .unwrap()
                .is_empty()
        );

        // A batch is one transaction: an invalid job leaves the others out too.
        let bad = [job("mail", "m4", t(0)), job("mail", " ", t(0))];
        let msg = assert_err!(
            store
                .commit(&Effects::system(t(2)).with_jobs(bad.to_vec()))
                .await,
            StoreError::Invalid(_)
        );
        assert!(msg.contains("idempotency key"), "{msg}");
        assert_err!(store.get_job_by_key("m4").await, StoreError::NotFound);
        assert_err!(
            store
                .commit(&Effects::system(t(2)).with_jobs([job("", "m5", t(0))]))
                .await,
            StoreError::Invalid(_)
        );
        db.drop_now().await;
    }

    #[tokio::test]
    async fn claim_complete_retry_and_bury() {
        let (db, store) = setup().await;
        let jobs = [
            job("mail", "now", t(0)),
            job("mail", "later", t(100)),
            job("webhook", "hook", t(0)),
        ];
        enqueue(&store, 0, &jobs).await;

        // Only the kinds asked for, only what is due.
        let claimed = claim_mail(&store, "w1", 10, 10).await;
        assert_eq!(claimed.len(), 1);
        let c = &claimed[0];
        assert_eq!(c.key, "now");
        assert_eq!(
            (c.state, c.attempts, c.locked_by.as_deref(), c.locked_until),
            (JobState::Running, 1, Some("w1"), Some(t(70)))
        );
        assert_eq!(by_key(&store, "now").await, *c);
        // Nothing twice, nothing without a kind.
        assert!(claim_mail(&store, "w1", 10, 10).await.is_empty());
        assert!(
            store
                .claim_jobs("w1", &[], t(1000), MIN, 10)
                .await
                .unwrap()
                .is_empty()
        );
        store.complete_job(c.id, "w1", t(20)).await.unwrap();
        let done = by_key(&store, "now").await;
        assert_eq!(
            (
                done.state,
                done.finished_at,
                done.updated_at,
                done.locked_until
            ),
            (JobState::Done, Some(t(20)), t(20), None)
        );
        // Completing twice is refused: the job is no longer running.
        assert_err!(
            store.complete_job(c.id, "w1", t(21)).await,
            StoreError::Conflict(_)
        );
        assert_err!(
            store.complete_job(JobId::new(), "w1", t(21)).await,
            StoreError::NotFound
        );

        // A job due later is claimed at its time, not before.
        assert!(claim_mail(&store, "w1", 99, 10).await.is_empty());
        let later = store
            .claim_jobs("w1", &["mail", "webhook"], t(100), MIN, 1)
            .await
            .unwrap();
        assert_eq!(later.len(), 1, "the limit holds");
        assert_eq!(later[0].key, "hook", "oldest run_at first");
        let later = store
            .claim_jobs("w1", &["mail", "webhook"], t(100), MIN, 10)
            .await
            .unwrap();
        assert_eq!(later[0].key, "later");

        // A retry waits for its time, then runs again with the attempt counted.
        store
            .fail_job(later[0].id, "w1", "451 try again", Some(t(200)), t(101))
            .await
            .unwrap();
        let queued = by_key(&store, "later").await;
        assert_eq!(
            (
                queued.state,
                queued.run_at,
                queued.attempts,
                queued.last_error.as_deref(),
                queued.locked_until
            ),
            (JobState::Queued, t(200), 1, Some("451 try again"), None)
        );
        assert!(claim_mail(&store, "w2", 199, 10).await.is_empty());
        let again = claim_mail(&store, "w2", 200, 10).await;
        assert_eq!((again[0].key.as_str(), again[0].attempts), ("later", 2));
        // Failing for good: dead, with the reason kept.
        store
            .fail_job(again[0].id, "w2", "550 no such user", None, t(201))
            .await
            .unwrap();
        let dead = by_key(&store, "later").await;
        assert_eq!(
            (dead.state, dead.last_error.as_deref(), dead.finished_at),
            (JobState::Dead, Some("550 no such user"), Some(t(201)))
        );
        assert!(
            claim_mail(&store, "w2", 100_000, 10).await.is_empty(),
            "dead jobs are never claimed"
        );
        assert_err!(
            store
                .fail_job(again[0].id, "w2", "again", None, t(202))
                .await,
            StoreError::Conflict(_)
        );
        assert_eq!(
            store.count_jobs_by_state(None).await.unwrap(),
            JobCounts {
                queued: 0,
                running: 1,
                done: 1,
                dead: 1
            }
        );
        assert_err!(
            store
                .claim_jobs("w1", &["mail"], t(0), SignedDuration::ZERO, 1)
                .await,
            StoreError::Invalid(_)
        );
        db.drop_now().await;
    }

    #[tokio::test]
    async fn an_expired_lease_passes_the_job_to_another_worker() {
        let (db, store) = setup().await;
        enqueue(&store, 0, &[job("mail", "m", t(0))]).await;
        let mine = claim_mail(&store, "w1", 0, 10).await;
        assert_eq!(mine.len(), 1);
        // While the lease holds, no one else gets it.
        assert!(claim_mail(&store, "w2", 59, 10).await.is_empty());
        // w1 stalls past its lease; w2 takes the job over.
        let theirs = claim_mail(&store, "w2", 60, 10).await;
        assert_eq!(theirs.len(), 1);
        assert_eq!(theirs[0].id, mine[0].id);
        assert_eq!(
            (theirs[0].attempts, theirs[0].locked_by.as_deref()),
            (2, Some("w2"))
        );
        // The old worker's outcome is refused, whichever it is.
        let msg = assert_err!(
            store.complete_job(mine[0].id, "w1", t(61)).await,
            StoreError::Conflict(_)
        );
        assert!(msg.contains("w2") && msg.contains("w1"), "{msg}");
        assert_err!(
            store
                .fail_job(mine[0].id, "w1", "late", Some(t(100)), t(61))
                .await,
            StoreError::Conflict(_)
        );
        assert_eq!(by_key(&store, "m").await.state, JobState::Running);
        store.complete_job(theirs[0].id, "w2", t(62)).await.unwrap();
        assert_eq!(by_key(&store, "m").await.state, JobState::Done);
        db.drop_now().await;
    }

    #[tokio::test]
    async fn a_batch_is_completed_in_one_call_for_the_jobs_its_worker_holds() {
        let (db, store) = setup().await;
        let batch: Vec<NewJob> = (0..5)
            .map(|i| job("mail", &format!("b-{i}"), t(0)))
            .collect();
        enqueue(&store, 0, &batch).await;
        let mine = claim_mail(&store, "w1", 0, 3).await;
        let theirs = claim_mail(&store, "w2", 0, 10).await;
        assert_eq!((mine.len(), theirs.len()), (3, 2));
        assert_eq!(store.complete_jobs(&[], "w1", t(1)).await.unwrap(), 0);
        // w1 names its own jobs, one of w2's and an unknown one: only its own are done.
        let mut ids: Vec<JobId> = mine.iter().map(|j| j.id).collect();
        ids.push(theirs[0].id);
        ids.push(JobId::new());
        assert_eq!(store.complete_jobs(&ids, "w1", t(2)).await.unwrap(), 3);
        for j in &mine {
            let done = store.get_job(j.id).await.unwrap();
            assert_eq!((done.state, done.finished_at), (JobState::Done, Some(t(2))));
        }
        assert_eq!(
            store.get_job(theirs[0].id).await.unwrap().state,
            JobState::Running
        );
        // Done already: nothing more.
        assert_eq!(store.complete_jobs(&ids, "w1", t(3)).await.unwrap(), 0);
        db.drop_now().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_claimers_never_get_the_same_job() {
        let (db, store) = setup().await;
        const JOBS: usize = 200;
        let batch: Vec<NewJob> = (0..JOBS)
            .map(|i| job("mail", &format!("job-{i:03}"), t(i as i64 % 7)))
            .collect();
        assert_eq!(
            store
                .commit(&Effects::system(t(0)).with_jobs(batch.to_vec()))
                .await
                .unwrap(),
            JOBS as u64
        );
        let mut claimers = Vec::new();
        for w in 0..4 {
            let store = store.clone();
            claimers.push(tokio::spawn(async move {
                let worker = format!("w{w}");
                let mut got = Vec::new();
                loop {
                    let jobs = claim_mail(&store, &worker, 10, 7).await;
                    if jobs.is_empty() {
                        break;
                    }
                    for j in jobs {
                        assert_eq!(j.locked_by.as_deref(), Some(worker.as_str()));
                        got.push(j.id);
                    }
                    tokio::task::yield_now().await;
                }
                got
            }));
        }
        let mut all = Vec::new();
        for c in claimers {
            all.extend(c.await.unwrap());
        }
        let distinct: HashSet<JobId> = all.iter().copied().collect();
        assert_eq!(all.len(), JOBS, "every job claimed once");
        assert_eq!(distinct.len(), JOBS, "no job claimed twice");
        let counts = store.count_jobs_by_state(Some("mail")).await.unwrap();
        assert_eq!((counts.running, counts.queued), (JOBS as u64, 0));
        for j in store
            .list_jobs(&JobFilter {
                limit: 1000,
                ..JobFilter::default()
            })
            .await
            .unwrap()
        {
            assert_eq!(j.attempts, 1, "{}", j.key);
        }
        db.drop_now().await;
    }
}

mod distribution {
    use super::*;
    use keikai_domain::audit::Change;
    use keikai_domain::subscription::{
        AudienceList, Filter, Subscriber, SubscriberInput, SubscriberKind, SubscriptionState,
        WebhookEndpoint, default_triggers,
    };
    use keikai_domain::{ListId, Locale};
    use keikai_store::{
        Channel, DeliveryState, DistributionEvent, NewDelivery, NewJob, NewSubscription,
    };
    use serde_json::json;

    fn change() -> Change {
        Change::new(
            "test",
            "distribution",
            serde_json::Value::Null,
            serde_json::Value::Null,
        )
    }

    /// Saves the edition "eng" read at `expected`, as a change at `t(at)`.
    async fn save_eng(
        store: &Arc<dyn Store>,
        data: &serde_json::Value,
        expected: i64,
        at: i64,
    ) -> Result<i64, StoreError> {
        let fx = Effects::system(t(at)).with_audit(change());
        store.save_edition("eng", data, expected, &fx).await
    }

    pub(super) fn list(name: &str, priority: u32) -> AudienceList {
        AudienceList {
            id: ListId::new(),
            name: name.to_owned(),
            priority,
            edition: "default".to_owned(),
            internal_only: false,
            filter: Filter::default(),
            triggers: default_triggers(),
            public: false,
            description: String::new(),
        }
    }

    pub(super) fn subscription(email: &str, lists: &[ListId]) -> NewSubscription {
        let mut s = Subscriber::subscribe(
            SubscriberInput {
                email: email.to_owned(),
                name: "名前".to_owned(),
                kind: SubscriberKind::External,
                locale: Some(Locale::Ja),
                time_zone: Some("Asia/Tokyo".to_owned()),
                openpgp_key: None,
            },
            t(0),
        )
        .unwrap();
        s.state = SubscriptionState::Active;
        NewSubscription {
            subscriber: s,
            token: format!("token-{email}"),
            lists: lists.to_vec(),
        }
    }

    fn delivery(recipient: uuid::Uuid, list: ListId, n: u32) -> NewDelivery {
        let id = uuid::Uuid::now_v7();
        NewDelivery {
            id,
            channel: Channel::Mail,
            recipient_id: recipient,
            list_id: list,
            address: format!("r{n}@example.com"),
            locale: Locale::En,
            message_id: format!("<{id}@example.com>"),
            ack_token: Some(format!("ack-{id}")),
        }
    }

    #[tokio::test]
    async fn subscribers_lists_and_imports() {
        let (_db, store) = setup().await;
        let a = list("a", 2);
        let b = list("b", 1);
        for l in [&a, &b] {
            store
                .save_list(l, &Effects::system(t(0)).with_audit(change()))
                .await
                .unwrap();
        }
        let mut dup = list("a", 3);
        dup.id = ListId::new();
        assert_err!(
            store
                .save_list(&dup, &Effects::system(t(0)).with_audit(change()))
                .await,
            StoreError::Conflict(_)
        );
        let lists = store.list_lists().await.unwrap();
        assert_eq!(
            lists.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            ["b", "a"],
            "by priority"
        );
        let rows = [
            subscription("x@example.com", &[a.id]),
            subscription("y@example.com", &[a.id, b.id]),
        ];
        let counts = store
            .import_subscribers(&rows, &Effects::system(t(1)).with_audit(change()))
            .await
            .unwrap();
        assert_eq!((counts.created, counts.updated), (2, 0));
        // Again, with x also on b: nobody twice, x gains b.
        let again = [subscription("x@example.com", &[b.id])];
        let counts = store
            .import_subscribers(&again, &Effects::system(t(2)).with_audit(change()))
            .await
            .unwrap();
        assert_eq!((counts.created, counts.updated), (0, 1));
        let x = store
            .subscriber_by_email(&Email::parse("X@example.com").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(x.lists.len(), 2);
        assert_eq!(x.subscriber.name, "名前");
        assert_eq!(store.count_subscribers(None).await.unwrap(), 2);
        assert_eq!(store.count_subscribers(Some(b.id)).await.unwrap(), 2);
        let page = store.list_subscribers(Some(a.id), 10, 0).await.unwrap();
        assert_eq!(page.len(), 2);
        assert_eq!(
            store
                .subscriber_by_token("token-y@example.com")
                .await
                .unwrap()
                .subscriber
                .id,
            rows[1].subscriber.id
        );
        // A pending subscription is not in the audience; unsubscribing removes one.
        let mut y = rows[1].subscriber.clone();
        y.state = SubscriptionState::Unsubscribed;
        store.save_subscriber(&y, None, &fx(3)).await.unwrap();
        let audience = store.audience().await.unwrap();
        assert_eq!(audience.subscribers.len(), 1);
        assert_eq!(audience.members.len(), 4);
        assert_eq!(audience.subscribers[0].lists.len(), 2);
        // Self-service: the address is taken.
        assert_err!(
            store
                .create_subscriber(&subscription("x@example.com", &[]), &fx(4))
                .await,
            StoreError::Conflict(_)
        );
        store
            .delete_list(a.id, &Effects::system(t(5)).with_audit(change()))
            .await
            .unwrap();
        assert_eq!(store.count_subscribers(Some(a.id)).await.unwrap(), 0);
        assert_err!(store.get_list(a.id).await, StoreError::NotFound);
    }

    #[tokio::test]
    async fn a_fan_out_is_recorded_once_and_a_recipient_once() {
        let (_db, store) = setup().await;
        let l = list("all", 1);
        store
            .save_list(&l, &Effects::system(t(0)).with_audit(change()))
            .await
            .unwrap();
        let event = DistributionEvent {
            id: uuid::Uuid::now_v7(),
            key: "advisory:EXA-2026-0001:v1".to_owned(),
            kind: "publication".to_owned(),
            title: "警戒".to_owned(),
            data: json!({"x": 1}),
            created_at: t(10),
        };
        let r1 = uuid::Uuid::now_v7();
        let r2 = uuid::Uuid::now_v7();
        let deliveries: Vec<NewDelivery> = vec![delivery(r1, l.id, 1), delivery(r2, l.id, 2)];
        let jobs: Vec<NewJob> = deliveries
            .iter()
            .map(|d| {
                NewJob::new(
                    "distribution.mail",
                    format!("delivery:{}", d.id),
                    json!({"delivery": d.id}),
                    t(10),
                )
            })
            .collect();
        assert!(
            store
                .record_fanout(
                    &event,
                    &deliveries,
                    &Effects::system(event.created_at).with_jobs(jobs.to_vec())
                )
                .await
                .unwrap()
        );
        // The same event again writes nothing.
        let mut again = event.clone();
        again.id = uuid::Uuid::now_v7();
        let more = vec![delivery(uuid::Uuid::now_v7(), l.id, 3)];
        assert!(
            !store
                .record_fanout(&again, &more, &Effects::system(again.created_at))
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .count_jobs_by_state(Some("distribution"))
                .await
                .unwrap()
                .queued,
            2
        );
        // One recipient twice in an event breaks the no-duplicates rule: nothing is written.
        let other = DistributionEvent {
            id: uuid::Uuid::now_v7(),
            key: "release:x".to_owned(),
            ..event.clone()
        };
        let twice = vec![delivery(r1, l.id, 1), delivery(r1, l.id, 1)];
        assert_err!(
            store
                .record_fanout(&other, &twice, &Effects::system(other.created_at))
                .await,
            StoreError::Conflict(_)
        );
        assert!(store.event_by_key("release:x").await.unwrap().is_none());

        let stored = store.event_by_key(&event.key).await.unwrap().unwrap();
        assert_eq!(stored.data, json!({"x": 1}));
        assert_eq!(store.list_events(10).await.unwrap().len(), 1);
        let d1 = deliveries[0].id;
        store
            .mark_delivery(d1, DeliveryState::Queued, Some("451 busy"), 1, t(11))
            .await
            .unwrap();
        store
            .mark_delivery(d1, DeliveryState::Sent, None, 2, t(12))
            .await
            .unwrap();
        // A late, repeated run cannot undo "sent"; a bounce can.
        store
            .mark_delivery(d1, DeliveryState::Queued, Some("late"), 3, t(13))
            .await
            .unwrap();
        let d = store.get_delivery(d1).await.unwrap();
        assert_eq!(
            (d.state, d.attempts, d.sent_at),
            (DeliveryState::Sent, 2, Some(t(12)))
        );
        store
            .mark_delivery(d1, DeliveryState::Bounced, Some("5.1.1"), 2, t(14))
            .await
            .unwrap();
        assert_eq!(
            store.get_delivery(d1).await.unwrap().state,
            DeliveryState::Bounced
        );
        let ack = deliveries[1].ack_token.clone().unwrap();
        let before = store.delivery_by_ack_token(&ack).await.unwrap();
        assert_eq!((before.id, before.acked_at), (deliveries[1].id, None));
        assert_err!(
            store.delivery_by_ack_token("nope").await,
            StoreError::NotFound
        );
        let acked = store.acknowledge_delivery(&ack, t(15)).await.unwrap();
        assert_eq!(acked.acked_at, Some(t(15)));
        let acked = store.acknowledge_delivery(&ack, t(16)).await.unwrap();
        assert_eq!(
            acked.acked_at,
            Some(t(15)),
            "the first acknowledgement counts"
        );
        assert_err!(
            store.acknowledge_delivery("nope", t(16)).await,
            StoreError::NotFound
        );
        let c = store.delivery_counts(event.id).await.unwrap();
        assert_eq!(
            (c.queued, c.bounced, c.acknowledged, c.total()),
            (1, 1, 1, 2)
        );
        assert_eq!(
            store
                .list_deliveries(event.id, Some(DeliveryState::Queued), 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .delivery_by_message_id(&deliveries[1].message_id)
                .await
                .unwrap()
                .id,
            deliveries[1].id
        );
    }

    #[tokio::test]
    async fn editions_save_optimistically_and_webhooks_are_disabled_after_failures() {
        let (_db, store) = setup().await;
        let r1 = save_eng(&store, &json!({"a": 1}), 0, 0).await.unwrap();
        assert_eq!(r1, 1);
        assert_err!(
            save_eng(&store, &json!({"a": 2}), 0, 1).await,
            StoreError::Conflict(_)
        );
        save_eng(&store, &json!({"a": 3}), 1, 2).await.unwrap();
        let e = store.get_edition("eng").await.unwrap().unwrap();
        assert_eq!((e.revision, e.data), (2, json!({"a": 3})));
        assert_eq!(store.list_editions().await.unwrap().len(), 1);

        let l = list("soc", 1);
        store
            .save_list(&l, &Effects::system(t(0)).with_audit(change()))
            .await
            .unwrap();
        let w = WebhookEndpoint::new(
            l.id,
            "SOAR",
            "https://soar.example.com/hook",
            "0123456789abcdef0123".to_owned(),
            t(0),
        )
        .unwrap();
        store
            .save_webhook(&w, &Effects::system(t(0)).with_audit(change()))
            .await
            .unwrap();
        assert!(
            !store
                .record_webhook_attempt(w.id, Some("500"), 3, t(1))
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_webhook_attempt(w.id, None, 3, t(2))
                .await
                .unwrap()
        );
        for n in 0..2 {
            assert!(
                !store
                    .record_webhook_attempt(w.id, Some("500"), 3, t(3 + n))
                    .await
                    .unwrap()
            );
        }
        assert!(
            store
                .record_webhook_attempt(w.id, Some("HTTP 503"), 3, t(9))
                .await
                .unwrap()
        );
        let got = store.get_webhook(w.id).await.unwrap();
        assert!(!got.enabled);
        assert_eq!(got.consecutive_failures, 3);
        assert!(got.disabled_reason.unwrap().contains("HTTP 503"));
        assert!(store.audience().await.unwrap().webhooks.is_empty());
        assert_eq!(store.list_webhooks().await.unwrap().len(), 1);
    }
}

/// A write and its effects commit together or not at all. Each test gives a write effects
/// whose audit entry, job and first notice are valid and whose last notice names a user that
/// does not exist: its foreign key fails after the change, the audit entry and the job were
/// written inside the transaction, so nothing of them may remain.
mod atomicity {
    use super::*;
    use keikai_domain::audit::{AuditActor, Change};
    use keikai_domain::case::{Case, CaseIndex, SeverityScale, Visibility};
    use keikai_domain::subscription::SubscriptionState;
    use keikai_store::{NewJob, NewMessage, NewNotification};

    const JOB: &str = "atomicity:job";

    /// A store with a user (`witness`) whom the valid notice names.
    async fn world() -> (TestDatabase, Arc<dyn Store>, UserId) {
        let (db, store) = setup().await;
        let witness = add_user(&store, "witness@example.com").await.id;
        (db, store, witness)
    }

    fn notice(user_id: UserId) -> NewNotification {
        NewNotification {
            user_id,
            case_id: None,
            kind: "test".into(),
            text: "atomicity".into(),
        }
    }

    /// Valid but for the last notice.
    fn poisoned(witness: UserId) -> Effects {
        Effects::new(AuditActor::User(witness), t(50))
            .with_audit(Change::new("test.poisoned", "test/1", (), ()))
            .with_jobs([NewJob::new("mail", JOB, serde_json::json!({}), t(50))])
            .with_notices([notice(witness), notice(UserId::new())])
    }

    /// Runs `write` (built with `poisoned`), expects the foreign key to refuse it, and checks
    /// that no audit entry, job or notice of it remains. The caller checks the state.
    async fn refused<T: std::fmt::Debug>(
        store: &Arc<dyn Store>,
        witness: UserId,
        write: impl Future<Output = Result<T, StoreError>>,
    ) {
        let head = store.audit_head().await.unwrap();
        assert_err!(write.await, StoreError::Reference(_));
        assert_eq!(
            store.audit_head().await.unwrap(),
            head,
            "an audit entry remained"
        );
        assert_err!(store.get_job_by_key(JOB).await, StoreError::NotFound);
        assert!(
            store
                .notifications(witness, false)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn an_organisation() {
        let (db, store, witness) = world().await;
        let org = new_org("Gone", OrgKind::Partner);
        refused(&store, witness, store.create_org(&org, &poisoned(witness))).await;
        assert_err!(store.get_org(org.id).await, StoreError::NotFound);
        db.drop_now().await;
    }

    #[tokio::test]
    async fn a_user_and_their_memberships() {
        let (db, store, witness) = world().await;
        let own = add_org(&store, "PSIRT", OrgKind::Own).await;
        let user = new_user("gone@example.com");
        let admin = Membership {
            org_id: own.id,
            role: Role::Admin,
        };
        let fx = poisoned(witness);
        refused(&store, witness, store.create_user(&user, &[admin], &fx)).await;
        assert_err!(store.get_user(user.id).await, StoreError::NotFound);
        assert!(store.memberships(user.id).await.unwrap().is_empty());
        db.drop_now().await;
    }

    #[tokio::test]
    async fn a_branch() {
        let (db, store, witness) = world().await;
        let poison = poisoned(witness);
        let vendor = new_branch(None, BranchCategory::Vendor, "Vendor");
        refused(&store, witness, store.create_branch(&vendor, &poison)).await;
        assert_err!(store.get_branch(vendor.id).await, StoreError::NotFound);
        let kept = store.create_branch(&vendor, &fx(0)).await.unwrap();
        refused(&store, witness, store.delete_branch(kept.id, &poison)).await;
        assert_eq!(store.get_branch(kept.id).await.unwrap(), kept);
        db.drop_now().await;
    }

    #[tokio::test]
    async fn a_token() {
        let (db, store, witness) = world().await;
        let poison = poisoned(witness);
        let token = NewToken {
            id: TokenId::new(),
            user_id: witness,
            name: "ci".into(),
            scopes: vec![Scope::Read],
            secret_hash: "hash".into(),
            expires_at: None,
        };
        refused(&store, witness, store.create_token(&token, &poison)).await;
        assert_err!(store.get_token(token.id).await, StoreError::NotFound);
        store.create_token(&token, &fx(0)).await.unwrap();
        refused(&store, witness, store.revoke_token(token.id, &poison)).await;
        assert_eq!(store.get_token(token.id).await.unwrap().revoked_at, None);
        db.drop_now().await;
    }

    #[tokio::test]
    async fn a_subscriber_and_their_confirmation_mail() {
        let (db, store, witness) = world().await;
        let list = distribution::list("a", 1);
        store.save_list(&list, &fx(0)).await.unwrap();
        let sub = distribution::subscription("s@example.com", &[list.id]);
        store.create_subscriber(&sub, &fx(0)).await.unwrap();
        let before = store.get_subscriber(sub.subscriber.id).await.unwrap();
        let mut again = sub.subscriber.clone();
        again.state = SubscriptionState::Pending;
        let fx = poisoned(witness);
        refused(
            &store,
            witness,
            store.save_subscriber(&again, Some(&[]), &fx),
        )
        .await;
        assert_eq!(store.get_subscriber(again.id).await.unwrap(), before);
        db.drop_now().await;
    }

    #[tokio::test]
    async fn effects_alone() {
        let (db, store, witness) = world().await;
        refused(&store, witness, store.commit(&poisoned(witness))).await;
        db.drop_now().await;
    }

    /// A stored case, and a change of it to save.
    async fn case_and_change(store: &Arc<dyn Store>) -> (Case, Case, CaseIndex) {
        let case = cases::open(store, "Case", None, 0).await;
        let mut changed = case.clone();
        changed.title = "Changed".into();
        let index = CaseIndex::of(&changed, &SeverityScale::default());
        (case, changed, index)
    }

    #[tokio::test]
    async fn a_message_and_the_acknowledgement_it_starts() {
        let (db, store, witness) = world().await;
        let (case, acknowledged, index) = case_and_change(&store).await;
        let message = NewMessage {
            case_id: case.id,
            visibility: Visibility::Reporter,
            author: Some(witness),
            from_reporter: false,
            body: "Thank you".into(),
            attachments: Vec::new(),
        };
        let fx = poisoned(witness);
        let write = store.add_message(&message, Some((&acknowledged, &index)), &fx);
        refused(&store, witness, write).await;
        assert!(store.list_messages(case.id, None).await.unwrap().is_empty());
        assert_eq!(store.get_case(case.id).await.unwrap(), case);
        db.drop_now().await;
    }

    #[tokio::test]
    async fn a_case() {
        let (db, store, witness) = world().await;
        let (case, renamed, index) = case_and_change(&store).await;
        refused(
            &store,
            witness,
            store.save_case(&renamed, &index, &poisoned(witness)),
        )
        .await;
        assert_eq!(store.get_case(case.id).await.unwrap(), case);
        db.drop_now().await;
    }
}
