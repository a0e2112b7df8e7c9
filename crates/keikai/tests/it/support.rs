//! `TestApp`: the real router on a real socket (port 0) with a fresh database per test.

#![allow(dead_code, reason = "each test module uses a different part")]

use std::net::SocketAddr;
use std::sync::Arc;

use keikai_domain::{DisplayName, Email, ManualClock, OrgId, OrgKind, OrgName, Password, Role, UserId};
use keikai_store::testing::TestDatabase;
use keikai_store::{NewOrganisation, NewUser, Store};
use reqwest::header::CONTENT_TYPE;

pub const ADMIN_EMAIL: &str = "admin@keikai.test";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub own_org: OrgId,
    pub db: TestDatabase,
    server: tokio::task::JoinHandle<()>,
}

/// One hash for every test user: Argon2id is deliberately slow, and the tests make many users.
static PASSWORD_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

pub async fn password_hash() -> String {
    PASSWORD_HASH
        .get_or_init(|| async {
            keikai_web::auth::hash_password(&Password::parse(PASSWORD).unwrap()).await.unwrap()
        })
        .await
        .clone()
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(keikai_web::WebConfig::default()).await
    }

    pub async fn spawn_with(config: keikai_web::WebConfig) -> Self {
        let db = TestDatabase::create().await;
        let store = keikai_store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
        let org = NewOrganisation { name: OrgName::parse("Keikai PSIRT").unwrap(), kind: OrgKind::Own };
        let admin = NewUser {
            email: Email::parse(ADMIN_EMAIL).unwrap(),
            display_name: DisplayName::parse("Admin").unwrap(),
            password_hash: password_hash().await,
            locale: None,
        };
        store.bootstrap_admin(&org, &admin, clock.now_ts()).await.unwrap().unwrap();
        let own_org = store.list_orgs().await.unwrap()[0].id;
        let state = keikai_web::AppState::new(store.clone(), config, clock.clone());
        let app = keikai_web::router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
        });
        Self { base: format!("http://{addr}"), addr, store, clock, own_org, db, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client that keeps cookies and does not follow redirects (tests look at them).
    pub fn client() -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// Creates an organisation of a kind, or returns our own for `OrgKind::Own`.
    pub async fn org(&self, kind: OrgKind) -> OrgId {
        if kind == OrgKind::Own {
            return self.own_org;
        }
        let name = OrgName::parse(&format!("{kind} {}", uuid::Uuid::now_v7().simple())).unwrap();
        self.store.create_org(&NewOrganisation { name, kind }, self.clock.now_ts()).await.unwrap().id
    }

    /// A user holding one role, in an organisation of a kind that role fits.
    pub async fn user_with_role(&self, role: Role) -> (UserId, String) {
        let kind = match role {
            Role::Admin | Role::PsirtAnalyst | Role::ProductEngineer => OrgKind::Own,
            Role::PartnerContact => OrgKind::Partner,
            Role::CustomerContact => OrgKind::Customer,
            Role::Reporter => OrgKind::Coordinator,
        };
        let org = self.org(kind).await;
        let email = format!("{}-{}@example.com", role, uuid::Uuid::now_v7().simple());
        let user = self
            .store
            .create_user(
                &NewUser {
                    email: Email::parse(&email).unwrap(),
                    display_name: DisplayName::parse(role.as_str()).unwrap(),
                    password_hash: password_hash().await,
                    locale: None,
                },
                self.clock.now_ts(),
            )
            .await
            .unwrap();
        self.store.add_membership(user.id, org, role).await.unwrap();
        (user.id, email)
    }

    /// Signs in through the login form and returns the client holding the session cookie,
    /// with the CSRF token that the session's forms carry.
    pub async fn login(&self, email: &str) -> (reqwest::Client, String) {
        let client = Self::client();
        let page = client.get(self.url("/login")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&page);
        let res = client
            .post(self.url("/login"))
            .form(&[("csrf", csrf.as_str()), ("email", email), ("password", PASSWORD), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "login of {email} failed");
        let page = client.get(self.url("/profile")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&page);
        (client, csrf)
    }

    /// An API token of a user, made through the API with their session.
    pub async fn token(&self, email: &str, scopes: &[&str]) -> String {
        let (client, csrf) = self.login(email).await;
        let res = client
            .post(self.url("/api/v1/tokens"))
            .header("x-csrf-token", csrf)
            .json(&serde_json::json!({ "name": "test", "scopes": scopes }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let body: serde_json::Value = res.json().await.unwrap();
        body["secret"].as_str().unwrap().to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The CSRF token in a page's first form (or its meta tag).
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("no csrf meta tag in page");
    html[start..].split('"').next().unwrap().to_owned()
}

pub trait NowTs {
    fn now_ts(&self) -> jiff::Timestamp;
}

impl NowTs for ManualClock {
    fn now_ts(&self) -> jiff::Timestamp {
        keikai_domain::Clock::now(self)
    }
}

pub fn is_json(res: &reqwest::Response) -> bool {
    res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"))
}
