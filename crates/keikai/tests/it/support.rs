//! `TestApp`: the real router on a real socket (port 0) with a fresh database per test.

#![allow(dead_code, reason = "each test module uses a different part")]

use std::net::SocketAddr;
use std::sync::Arc;

use keikai_domain::{
    DisplayName, Email, ManualClock, OrgId, OrgKind, OrgName, Password, Role, UserId,
};
use keikai_store::Effects;
use keikai_store::testing::TestDatabase;
use keikai_store::{NewOrganisation, NewUser, Store};
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

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
            keikai_app::auth::hash_password(&Password::parse(PASSWORD).unwrap())
                .await
                .unwrap()
        })
        .await
        .clone()
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(keikai_app::AppConfig::default()).await
    }

    pub async fn spawn_with(config: keikai_app::AppConfig) -> Self {
        Self::spawn_on(config, keikai_web::WebConfig::default()).await
    }

    pub async fn spawn_on(config: keikai_app::AppConfig, web: keikai_web::WebConfig) -> Self {
        let db = TestDatabase::create().await;
        let store = keikai_store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
        let org = NewOrganisation {
            id: OrgId::new(),
            name: OrgName::parse("Keikai PSIRT").unwrap(),
            kind: OrgKind::Own,
        };
        let admin = NewUser {
            id: UserId::new(),
            email: Email::parse(ADMIN_EMAIL).unwrap(),
            display_name: DisplayName::parse("Admin").unwrap(),
            password_hash: password_hash().await,
            locale: None,
        };
        store
            .bootstrap_admin(&org, &admin, &Effects::system(clock.now_ts()))
            .await
            .unwrap()
            .unwrap();
        let own_org = store.list_orgs().await.unwrap()[0].id;
        let application = keikai_app::App::new(store.clone(), config, clock.clone());
        let app = keikai_web::router(keikai_web::WebState::new(application, web));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self {
            base: format!("http://{addr}"),
            addr,
            store,
            clock,
            own_org,
            db,
            server,
        }
    }

    /// A fresh app with one user of `role`: the app, the user's id and e-mail address.
    pub async fn with_user(role: Role) -> (Self, UserId, String) {
        let app = Self::spawn().await;
        let (user, email) = app.user_with_role(role).await;
        (app, user, email)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client that keeps cookies and does not follow redirects (tests look at them).
    pub fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Creates an organisation of a kind, or returns our own for `OrgKind::Own`.
    pub async fn org(&self, kind: OrgKind) -> OrgId {
        if kind == OrgKind::Own {
            return self.own_org;
        }
        let name = OrgName::parse(&format!("{kind} {}", uuid::Uuid::now_v7().simple())).unwrap();
        self.store
            .create_org(
                &NewOrganisation {
                    id: OrgId::new(),
                    name,
                    kind,
                },
                &Effects::system(self.clock.now_ts()),
            )
            .await
            .unwrap()
            .id
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
        self.user_in(org, role).await
    }

    /// A user holding `role` in `org`; returns their id and e-mail address.
    pub async fn user_in(&self, org: OrgId, role: Role) -> (UserId, String) {
        let email = format!("{}-{}@example.com", role, uuid::Uuid::now_v7().simple());
        let user = self
            .store
            .create_user(
                &NewUser {
                    id: UserId::new(),
                    email: Email::parse(&email).unwrap(),
                    display_name: DisplayName::parse(role.as_str()).unwrap(),
                    password_hash: password_hash().await,
                    locale: None,
                },
                &[],
                &Effects::system(self.clock.now_ts()),
            )
            .await
            .unwrap();
        self.store
            .add_membership(user.id, org, role, &Effects::system(self.clock.now_ts()))
            .await
            .unwrap();
        (user.id, email)
    }

    /// Signs in through the login form and returns the client holding the session cookie,
    /// with the CSRF token that the session's forms carry.
    pub async fn login(&self, email: &str) -> (reqwest::Client, String) {
        let client = Self::client();
        let res = sign_in(&client, &self.base, email, PASSWORD).await;
        assert_eq!(res.status(), 303, "login of {email} failed");
        let csrf = csrf_of(&page_text(&client, self.url("/profile")).await);
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
        let body: Value = res.json().await.unwrap();
        body["secret"].as_str().unwrap().to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Signs in through the login form of the server at `base`; `client` keeps the cookies.
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let csrf = csrf_of(&page_text(client, format!("{base}/login")).await);
    client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap()
}

/// Signs out through the form (`csrf` is the session's token); must answer 303.
pub async fn sign_out(client: &reqwest::Client, base: &str, csrf: &str) {
    let res = client
        .post(format!("{base}/logout"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

/// The CSRF token in a page's first form (or its meta tag).
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .expect("no csrf meta tag in page");
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
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// A file in a multipart form: the field, the file name, its media type (if any) and bytes.
pub type FilePart<'a> = (&'a str, &'a str, Option<&'a str>, &'a [u8]);

/// A `multipart/form-data` body as a browser sends a form: the CSRF token first, then the
/// fields, then the files.
pub fn multipart(
    csrf: &str,
    fields: &[(&str, &str)],
    files: &[FilePart<'_>],
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new().text("csrf", csrf.to_owned());
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    for (field, name, media_type, bytes) in files {
        let mut part =
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name((*name).to_owned());
        if let Some(t) = media_type {
            part = part.mime_str(t).unwrap();
        }
        form = form.part((*field).to_owned(), part);
    }
    form
}

/// A form post that must be refused: its path, its fields, and what the page it answers
/// with must say.
pub type RefusedForm<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

/// A session cookie and its CSRF token, for requests sent without a cookie store.
#[derive(Debug, Clone)]
pub struct SessionCookie {
    /// The value of the `keikai_session` cookie.
    pub cookie: String,
    pub csrf: String,
}

impl SessionCookie {
    /// The `Cookie` header value that carries this session.
    pub fn header(&self) -> String {
        format!("{}={}", keikai_web::http::auth::SESSION_COOKIE, self.cookie)
    }

    /// What the store keys the session by.
    pub fn id_hash(&self) -> String {
        keikai_app::secret::sha256_hex(&self.cookie)
    }
}

impl TestApp {
    /// A form post with a browser session (the CSRF field added): status, Location, body.
    pub async fn post_form(
        &self,
        s: &SessionCookie,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, String) {
        let mut pairs: Vec<(&str, &str)> = fields.to_vec();
        pairs.push(("csrf", &s.csrf));
        let res = Self::plain_client()
            .post(self.url(path))
            .header("cookie", s.header())
            .form(&pairs)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let loc = location(&res);
        (status, loc, res.text().await.unwrap())
    }

    /// Posts a form that must be accepted (303 See Other) with a browser session; returns
    /// where it sends the browser.
    pub async fn submit(&self, s: &SessionCookie, path: &str, fields: &[(&str, &str)]) -> String {
        let (status, location, body) = self.post_form(s, path, fields).await;
        assert_eq!(status, 303, "{path} {fields:?}: {body}");
        location
    }

    /// Posts forms that must be refused, each with a browser session: each must answer
    /// `status`, with a page that says all its `says`. Returns the pages.
    pub async fn refused_forms(
        &self,
        s: &SessionCookie,
        status: u16,
        forms: &[RefusedForm<'_>],
    ) -> Vec<String> {
        let mut pages = Vec::new();
        for (path, fields, says) in forms {
            let (got, _, page) = self.post_form(s, path, fields).await;
            assert_eq!(got, status, "{path} {fields:?}: {page}");
            for needle in *says {
                assert!(
                    page.contains(needle),
                    "{path} {fields:?}: no {needle} in {page}"
                );
            }
            pages.push(page);
        }
        pages
    }

    /// Posts a multipart form with a browser session: status and body.
    pub async fn post_multipart(
        &self,
        s: &SessionCookie,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> (u16, String) {
        let res = Self::plain_client()
            .post(self.url(path))
            .header("cookie", s.header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// `GET path` with a browser session.
    pub async fn get_as(&self, s: &SessionCookie, path: &str) -> reqwest::Response {
        Self::plain_client()
            .get(self.url(path))
            .header("cookie", s.header())
            .send()
            .await
            .unwrap()
    }

    /// A page fetched with a browser session: status and body.
    pub async fn get_page(&self, s: &SessionCookie, path: &str) -> (u16, String) {
        let res = self.get_as(s, path).await;
        (res.status().as_u16(), res.text().await.unwrap())
    }
}

impl TestApp {
    /// A session for a user, written to the store as sign-in would write it. Much cheaper than
    /// [`TestApp::login`] (no password check), for tests that need many sessions.
    pub async fn session_for(&self, user: UserId) -> SessionCookie {
        let cookie = keikai_app::secret::random_secret();
        let csrf = keikai_app::secret::random_secret();
        let now = self.clock.now_ts();
        let session = keikai_store::Session {
            id_hash: keikai_app::secret::sha256_hex(&cookie),
            user_id: user,
            csrf_token: csrf.clone(),
            created_at: now,
            expires_at: now
                .checked_add(keikai_app::config::DEFAULT_SESSION_TTL)
                .unwrap(),
        };
        self.store.create_session(&session).await.unwrap();
        SessionCookie { cookie, csrf }
    }

    /// An API token written to the store directly; returns its id and secret.
    pub async fn store_token(
        &self,
        user: UserId,
        scopes: &[keikai_domain::Scope],
        expires_at: Option<jiff::Timestamp>,
    ) -> (keikai_domain::TokenId, String) {
        let secret = format!(
            "{}{}",
            keikai_domain::TokenSecret::PREFIX,
            keikai_app::secret::random_secret()
        );
        let token = self
            .store
            .create_token(
                &keikai_store::NewToken {
                    id: keikai_domain::TokenId::new(),
                    user_id: user,
                    name: "fixture".to_owned(),
                    scopes: scopes.to_vec(),
                    secret_hash: keikai_app::secret::sha256_hex(&secret),
                    expires_at,
                },
                &Effects::system(self.clock.now_ts()),
            )
            .await
            .unwrap();
        (token.id, secret)
    }

    /// A read+write API token of `user`, written to the store.
    pub async fn write_token(&self, user: UserId) -> String {
        let scopes = [keikai_domain::Scope::Read, keikai_domain::Scope::Write];
        self.store_token(user, &scopes, None).await.1
    }

    /// A read-only API token of `user`, written to the store.
    pub async fn read_token(&self, user: UserId) -> String {
        self.store_token(user, &[keikai_domain::Scope::Read], None)
            .await
            .1
    }

    /// The id of the user with this e-mail address.
    pub async fn user_id(&self, email: &str) -> UserId {
        self.store
            .credentials_by_email(&Email::parse(email).unwrap())
            .await
            .unwrap()
            .user
            .id
    }

    /// A client without a cookie store (tests set `Cookie` themselves) that does not follow
    /// redirects.
    /// `GET path` as a visitor without cookies or credentials would send it.
    pub async fn fetch(&self, path: &str) -> reqwest::Response {
        Self::plain_client()
            .get(self.url(path))
            .send()
            .await
            .unwrap()
    }

    /// [`TestApp::fetch`] with one more header (`accept-language`, `hx-request`, …).
    pub async fn fetch_with(&self, path: &str, (name, value): (&str, &str)) -> reqwest::Response {
        Self::plain_client()
            .get(self.url(path))
            .header(name, value)
            .send()
            .await
            .unwrap()
    }

    pub fn plain_client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// The pre-session CSRF token the login page hands an anonymous visitor, as a browser
    /// would hold it after opening `/login`.
    pub async fn pre_session_csrf(&self) -> String {
        let res = self.fetch("/login").await;
        assert_eq!(res.status(), 200);
        cookie_set_by(&res, keikai_web::http::auth::PRE_SESSION_CSRF_COOKIE)
            .expect("login page sets no CSRF cookie")
    }
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The value a response's `Set-Cookie` gives the cookie `name`, if it sets it.
pub fn cookie_set_by(res: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(res).iter().find_map(|c| {
        let (pair, _) = c.split_once(';').unwrap_or((c, ""));
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| v.trim().to_owned())
    })
}

/// The `Location` header of a redirect, or an empty string.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(reqwest::header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The body of `GET url` through `client` (with whatever cookies it holds).
pub async fn page_text(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// Asserts that the response's media type starts with `prefix` (`text/html`, `text/csv`, …).
pub fn assert_content_type(res: &reqwest::Response, prefix: &str) {
    let ct = res.headers()["content-type"].to_str().unwrap();
    assert!(ct.starts_with(prefix), "content type {ct}, not {prefix}");
}

/// Who sends an API request.
#[derive(Debug, Clone, Copy)]
pub enum As<'a> {
    /// A browser session; the CSRF header goes along on every request.
    Session(&'a SessionCookie),
    /// A bearer token.
    Token(&'a str),
    Nobody,
}

/// The JSON API as one caller sees it, below a path (`/api/v1/cases/7`, or nothing).
#[derive(Clone)]
pub struct Api<'a> {
    pub app: &'a TestApp,
    pub who: As<'a>,
    prefix: String,
}

impl TestApp {
    /// The API as the holder of a bearer token sees it.
    pub fn api<'a>(&'a self, token: &'a str) -> Api<'a> {
        self.api_as(As::Token(token))
    }

    pub fn api_as<'a>(&'a self, who: As<'a>) -> Api<'a> {
        Api {
            app: self,
            who,
            prefix: String::new(),
        }
    }
}

impl Api<'_> {
    /// The same caller's view below `path`: `api.under("/api/v1/cases/7").get("/history")`.
    pub fn under(&self, path: &str) -> Self {
        Api {
            prefix: format!("{}{path}", self.prefix),
            ..self.clone()
        }
    }

    /// Sends a request with an optional JSON body; returns the status and the body as text.
    pub async fn text(&self, method: &str, path: &str, body: Option<Value>) -> (u16, String) {
        let url = self.app.url(&format!("{}{path}", self.prefix));
        let mut req = TestApp::plain_client().request(method.parse().unwrap(), url);
        match self.who {
            As::Session(s) => {
                req = req
                    .header("cookie", s.header())
                    .header(keikai_web::http::auth::CSRF_HEADER, &s.csrf);
            }
            As::Token(t) => req = req.bearer_auth(t),
            As::Nobody => {}
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// Sends a request; returns the status and the body parsed (`null` when empty, a JSON
    /// string when it is not JSON).
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, text) = self.text(method, path, body).await;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("PUT", path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send("DELETE", path, None).await
    }

    /// `GET path`, which must answer 200; returns the body.
    pub async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

/// Sends a JSON request with a bearer token; returns the status and the body (as a JSON
/// string when it is not JSON).
pub async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, text) = app.api(token).text(method, path, body).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The string field `key` of each object in a JSON array.
pub fn strings<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| o[key].as_str().unwrap())
        .collect()
}

/// The string fields `a` and `b` of each object in a JSON array.
pub fn string_pairs<'a>(list: &'a Value, a: &str, b: &str) -> Vec<(&'a str, &'a str)> {
    strings(list, a).into_iter().zip(strings(list, b)).collect()
}

/// Sends every queued mail job through an SMTP sink, as `serve`'s worker would.
pub async fn send_mail(app: &TestApp, sink: &keikai_jobs::testing::SmtpSink) {
    let from =
        keikai_jobs::Address::named("Example PSIRT", Email::parse("psirt@example.com").unwrap());
    let mailer = keikai_jobs::SmtpMailer::new(sink.smtp_config(from)).unwrap();
    let worker = keikai_jobs::Worker::new(
        app.store.clone(),
        app.clock.clone(),
        keikai_jobs::WorkerConfig::default(),
    )
    .with_handler(
        keikai_jobs::MAIL_JOB_KIND,
        Arc::new(keikai_jobs::MailHandler::new(Arc::new(mailer))),
    );
    worker.run_once().await.unwrap();
}

/// Asserts that a CSAF document passes the full validation (schema, mandatory, optional and
/// informative tests).
pub fn assert_valid_csaf(doc: &Value) {
    let report = keikai_csaf::validate(
        doc,
        &keikai_csaf::ValidationOptions {
            preset: keikai_csaf::Preset::Full,
            ..Default::default()
        },
    );
    assert!(report.valid, "{:#?}", report.findings);
}

impl TestApp {
    /// The catalogue's branch named `name`.
    pub async fn branch_named(&self, name: &str) -> keikai_domain::Branch {
        self.store
            .list_branches()
            .await
            .unwrap()
            .into_iter()
            .find(|b| b.name.as_str() == name)
            .unwrap_or_else(|| panic!("no branch {name}"))
    }
}
