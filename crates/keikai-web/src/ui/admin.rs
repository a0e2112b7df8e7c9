//! The server-rendered HTML interface. Forms post back and redirect (303) on success, or
//! re-render with the error on failure; htmx boosts links and forms when JavaScript runs.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use keikai_domain::{
    Action, BranchCategory, BranchId, BranchName, DisplayName, Email, Locale, OrgId, OrgKind,
    OrgName, Password, ProductTree, Role, Scope, UserId,
};
use keikai_store::{NewBranch, NewOrganisation, NewUser};
use serde::Deserialize;

use crate::http::auth::{
    LANG_COOKIE, PRE_SESSION_CSRF_COOKIE, SESSION_COOKIE, cookie_value, hash_password,
    random_secret, set_cookie, start_session,
};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::UiForm;
use crate::http::i18n;
use crate::http::state::AppState;
use crate::ui::layout::{Page, after_submit, render, safe_next};

// ---------------------------------------------------------------- sign-in

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate {
    page: Page,
    next: String,
    email: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    if ctx.identity.user.is_some() {
        return Redirect::to("/").into_response();
    }
    login_form(
        ctx,
        &headers,
        state.config.secure_cookies,
        q.next.as_deref().unwrap_or("/"),
        "",
        None,
        StatusCode::OK,
    )
}

fn login_form(
    ctx: Ctx,
    headers: &HeaderMap,
    secure: bool,
    next: &str,
    email: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    // The login form has no session to bind its CSRF token to, so it uses a cookie that the
    // form must echo (double submit).
    let (csrf, new_cookie) = match cookie_value(headers, PRE_SESSION_CSRF_COOKIE) {
        Some(c) if c.len() == 43 => (c.to_owned(), None),
        _ => {
            let c = random_secret();
            (c.clone(), Some(c))
        }
    };
    let mut page = ctx.page("login-title");
    page.csrf = csrf;
    page.error = error;
    let mut res = render(
        status,
        &LoginTemplate {
            page,
            next: safe_next(next).to_owned(),
            email: email.to_owned(),
        },
    );
    if let Some(c) = new_cookie {
        let cookie = set_cookie(PRE_SESSION_CSRF_COOKIE, &c, 3600, secure, true);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    client: crate::http::state::ClientAddr,
    UiForm(form): UiForm<LoginForm>,
) -> Response {
    let outcome = crate::login::attempt(&state, &form.email, &form.password, client.0).await;
    match outcome {
        Ok(user) => {
            let now = state.clock.now();
            let (_, cookie) = match start_session(&state, &user, now).await {
                Ok(s) => s,
                Err(e) => return e.into_response(),
            };
            let mut res = Redirect::to(safe_next(&form.next)).into_response();
            let ttl = state.config.session_ttl.as_secs();
            let secure = state.config.secure_cookies;
            for c in [
                set_cookie(SESSION_COOKIE, &cookie, ttl, secure, true),
                set_cookie(PRE_SESSION_CSRF_COOKIE, "", 0, secure, true),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(crate::login::LoginError::Throttled) => {
            let msg = ctx.t("login-throttled");
            login_form(
                ctx,
                &headers,
                state.config.secure_cookies,
                &form.next,
                &form.email,
                Some(msg),
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(crate::login::LoginError::Invalid) => {
            let msg = ctx.t("login-failed");
            login_form(
                ctx,
                &headers,
                state.config.secure_cookies,
                &form.next,
                &form.email,
                Some(msg),
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(crate::login::LoginError::Store(e)) => e.into_response(),
    }
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    if let Some(s) = &ctx.identity.session {
        state.store.delete_session(&s.id_hash).await?;
    }
    let mut res = Redirect::to("/login").into_response();
    let c = set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies, true);
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct LanguageForm {
    locale: String,
    #[serde(default)]
    back: Option<String>,
}

/// The header's language switch: saved in the profile when signed in, in a cookie otherwise.
pub async fn set_language(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    UiForm(form): UiForm<LanguageForm>,
) -> AppResult<Response> {
    let locale: Locale = form.locale.parse()?;
    if let Some(user) = &ctx.identity.user {
        // Saving it changes the profile, which a read-only token may not do.
        ctx.require(Action::UpdateProfile)?;
        let fx = ctx.effects(&state);
        state.store.set_locale(user.id, Some(locale), &fx).await?;
    }
    let referer = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
        .and_then(|r| r.find('/').map(|i| r[i..].to_owned()));
    let back = form
        .back
        .filter(|b| !b.is_empty())
        .or(referer)
        .unwrap_or_else(|| "/".to_owned());
    let mut res = Redirect::to(safe_next(&back)).into_response();
    let c = set_cookie(
        LANG_COOKIE,
        locale.as_str(),
        365 * 86400,
        state.config.secure_cookies,
        false,
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

// ---------------------------------------------------------------- dashboard

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardTemplate {
    page: Page,
    welcome: String,
    products: Option<usize>,
    organisations: Option<usize>,
    users: Option<usize>,
    roles: Vec<String>,
    cases: keikai_app::cases::Counts,
    unread: Vec<String>,
}

pub async fn dashboard(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let principal = ctx.require(Action::ViewDashboard)?;
    let name = ctx
        .identity
        .user
        .as_ref()
        .map(|u| u.display_name.as_str().to_owned())
        .unwrap_or_default();
    let products = if ctx.allows(Action::ViewProducts) {
        let branches = state.store.list_branches().await?;
        Some(ProductTree::from_branches(&branches).count_products())
    } else {
        None
    };
    let organisations = if ctx.allows(Action::ViewOrganisations) {
        Some(state.store.list_orgs().await?.len())
    } else {
        None
    };
    let users = if ctx.allows(Action::ViewUsers) {
        Some(state.store.list_users().await?.len())
    } else {
        None
    };
    let mut roles: Vec<String> = principal
        .memberships
        .iter()
        .map(|m| ctx.t(&format!("role-{}", m.role)))
        .collect();
    roles.dedup();
    let cases = keikai_app::cases::counts(&state.app, &ctx.caller).await?;
    let unread = state
        .store
        .notifications(principal.user_id, true)
        .await?
        .into_iter()
        .map(|n| n.text)
        .collect();
    let tpl = DashboardTemplate {
        welcome: i18n::t_with(ctx.lang, "dashboard-welcome", &[("name", &name)]),
        page: ctx.page("dashboard-title"),
        products,
        organisations,
        users,
        roles,
        cases,
        unread,
    };
    Ok(render(StatusCode::OK, &tpl))
}

/// Marks the caller's notifications read (the dashboard's button).
pub async fn mark_notifications_read(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Response> {
    // A change to the user's own state: the same permission as editing their profile.
    let principal = ctx.require(Action::UpdateProfile)?;
    state
        .store
        .mark_notifications_read(principal.user_id, state.clock.now())
        .await?;
    Ok(Redirect::to("/").into_response())
}

// ---------------------------------------------------------------- products

struct BranchRow {
    id: String,
    name: String,
    path: String,
    category: &'static str,
    depth: usize,
    product_id: Option<String>,
    is_leaf: bool,
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsTemplate {
    page: Page,
    rows: Vec<BranchRow>,
    can_manage: bool,
    categories: Vec<&'static str>,
}

async fn products_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Action::ViewProducts)?;
    let branches = state.store.list_branches().await?;
    let tree = ProductTree::from_branches(&branches);
    let mut rows = Vec::new();
    tree.walk(&mut |node, depth, path| {
        rows.push(BranchRow {
            id: node.branch_id.to_string(),
            name: node.name.clone(),
            path: path.join(" / "),
            category: node.category.as_str(),
            depth,
            product_id: node.product.as_ref().map(|p| p.product_id.clone()),
            is_leaf: node.branches.is_empty(),
        });
    });
    let mut page = ctx.page("products-title");
    page.error = error;
    let tpl = ProductsTemplate {
        page,
        rows,
        can_manage: ctx.allows(Action::ManageProducts),
        categories: BranchCategory::ALL.iter().map(|c| c.as_str()).collect(),
    };
    Ok(render(status, &tpl))
}

pub async fn products(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    products_page(&state, &ctx, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct BranchForm {
    #[serde(default)]
    parent_id: String,
    category: String,
    name: String,
}

pub async fn create_branch(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(form): UiForm<BranchForm>,
) -> AppResult<Response> {
    ctx.require(Action::ManageProducts)?;
    let attempt = async {
        let parent_id = match form.parent_id.trim() {
            "" => None,
            s => Some(s.parse().map_err(|_| {
                AppError::invalid("parent_id", format!("\"{s}\" is not a branch id"))
            })?),
        };
        let branch = NewBranch {
            id: BranchId::new(),
            parent_id,
            category: form.category.parse()?,
            name: BranchName::parse(&form.name)?,
        };
        crate::api_admin::create_branch_audited(&state, &ctx, &branch).await
    };
    after_submit(attempt.await, "/products", |msg, status| {
        products_page(&state, &ctx, Some(msg), status)
    })
    .await
}

pub async fn delete_branch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    ctx.require(Action::ManageProducts)?;
    let id = id.parse().map_err(|_| AppError::not_found())?;
    let result = crate::api_admin::delete_branch_audited(&state, &ctx, id).await;
    after_submit(result, "/products", |msg, status| {
        products_page(&state, &ctx, Some(msg), status)
    })
    .await
}

// ---------------------------------------------------------------- organisations

struct OrgRow {
    id: String,
    name: String,
    kind_label: String,
}

#[derive(Template)]
#[template(path = "organisations.html")]
struct OrgsTemplate {
    page: Page,
    orgs: Vec<OrgRow>,
    kinds: Vec<(&'static str, String)>,
    can_manage: bool,
}

async fn org_rows(state: &AppState, ctx: &Ctx) -> AppResult<Vec<OrgRow>> {
    Ok(state
        .store
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| OrgRow {
            id: o.id.to_string(),
            name: o.name.to_string(),
            kind_label: ctx.t(&format!("kind-{}", o.kind)),
        })
        .collect())
}

async fn orgs_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Action::ViewOrganisations)?;
    let mut page = ctx.page("orgs-title");
    page.error = error;
    let tpl = OrgsTemplate {
        page,
        orgs: org_rows(state, ctx).await?,
        kinds: OrgKind::ALL
            .iter()
            .map(|k| (k.as_str(), ctx.t(&format!("kind-{k}"))))
            .collect(),
        can_manage: ctx.allows(Action::ManageOrganisations),
    };
    Ok(render(status, &tpl))
}

pub async fn organisations(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    orgs_page(&state, &ctx, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct OrgForm {
    name: String,
    kind: String,
}

pub async fn create_org(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(form): UiForm<OrgForm>,
) -> AppResult<Response> {
    ctx.require(Action::ManageOrganisations)?;
    let attempt = async {
        let org = NewOrganisation {
            id: OrgId::new(),
            name: OrgName::parse(&form.name)?,
            kind: form.kind.parse()?,
        };
        crate::api_admin::create_org_audited(&state, &ctx, &org).await
    };
    after_submit(attempt.await, "/organisations", |msg, status| {
        orgs_page(&state, &ctx, Some(msg), status)
    })
    .await
}

// ---------------------------------------------------------------- users

struct UserRow {
    id: String,
    is_self: bool,
    email: String,
    name: String,
    memberships: String,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersTemplate {
    page: Page,
    users: Vec<UserRow>,
    orgs: Vec<OrgRow>,
    roles: Vec<(&'static str, String)>,
}

async fn users_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Action::ViewUsers)?;
    let orgs = state.store.list_orgs().await?;
    let mut users = Vec::new();
    for u in state.store.list_users().await? {
        let ms = state.store.memberships(u.id).await?;
        let memberships = ms
            .iter()
            .map(|m| {
                let org = orgs
                    .iter()
                    .find(|o| o.id == m.org_id)
                    .map_or("?", |o| o.name.as_str());
                format!("{} ({org})", ctx.t(&format!("role-{}", m.role)))
            })
            .collect::<Vec<_>>()
            .join(", ");
        users.push(UserRow {
            id: u.id.to_string(),
            is_self: ctx.identity.user.as_ref().is_some_and(|me| me.id == u.id),
            email: u.email.to_string(),
            name: u.display_name.to_string(),
            memberships,
            disabled: u.disabled_at.is_some(),
        });
    }
    let mut page = ctx.page("users-title");
    page.error = error;
    let tpl = UsersTemplate {
        page,
        users,
        orgs: org_rows(state, ctx).await?,
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), ctx.t(&format!("role-{r}"))))
            .collect(),
    };
    Ok(render(status, &tpl))
}

pub async fn users(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    users_page(&state, &ctx, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct UserForm {
    email: String,
    display_name: String,
    password: String,
    org_id: String,
    role: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(form): UiForm<UserForm>,
) -> AppResult<Response> {
    ctx.require(Action::ManageUsers)?;
    let attempt = async {
        let org_id = form
            .org_id
            .parse()
            .map_err(|_| AppError::invalid("org_id", "choose an organisation"))?;
        let role: Role = form.role.parse()?;
        let new = NewUser {
            id: UserId::new(),
            email: Email::parse(&form.email)?,
            display_name: DisplayName::parse(&form.display_name)?,
            password_hash: hash_password(&Password::parse(&form.password)?).await?,
            locale: None,
        };
        crate::api_admin::create_user_with_membership(&state, &ctx, &new, org_id, role).await
    };
    after_submit(attempt.await, "/users", |msg, status| {
        users_page(&state, &ctx, Some(msg), status)
    })
    .await
}

/// Disables or enables an account (`disabled` true or false) from the users page.
async fn set_user_disabled(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    disabled: bool,
) -> AppResult<Response> {
    ctx.require(Action::ManageUsers)?;
    let id = id.parse().map_err(|_| AppError::not_found())?;
    after_submit(
        crate::api_admin::set_disabled(state, ctx, id, disabled).await,
        "/users",
        |msg, status| users_page(state, ctx, Some(msg), status),
    )
    .await
}

pub async fn disable_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    set_user_disabled(&state, &ctx, &id, true).await
}

pub async fn enable_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    set_user_disabled(&state, &ctx, &id, false).await
}

#[derive(Deserialize)]
pub struct MembershipForm {
    org_id: String,
    role: String,
}

pub async fn add_membership(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<MembershipForm>,
) -> AppResult<Response> {
    ctx.require(Action::ManageUsers)?;
    let id = id.parse().map_err(|_| AppError::not_found())?;
    let attempt = async {
        let org_id = form
            .org_id
            .parse()
            .map_err(|_| AppError::invalid("org_id", "choose an organisation"))?;
        let role: Role = form.role.parse()?;
        crate::api_admin::add_membership_checked(&state, &ctx, id, org_id, role).await
    };
    after_submit(attempt.await, "/users", |msg, status| {
        users_page(&state, &ctx, Some(msg), status)
    })
    .await
}

// ---------------------------------------------------------------- profile and tokens

struct TokenRow {
    id: String,
    name: String,
    scopes: String,
    created_at: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfileTemplate {
    page: Page,
    locale: String,
    tokens: Vec<TokenRow>,
    new_secret: Option<String>,
}

async fn profile_page(
    state: &AppState,
    ctx: &Ctx,
    new_secret: Option<String>,
    flash: Option<String>,
) -> AppResult<Response> {
    let principal = ctx.require(Action::ViewProfile)?;
    let tokens = state
        .store
        .list_tokens(principal.user_id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            name: t.name.clone(),
            scopes: t
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created_at: t.created_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
            last_used: t.last_used_at.map_or_else(
                || ctx.t("tokens-never"),
                |l| l.strftime("%Y-%m-%d %H:%M UTC").to_string(),
            ),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let mut page = ctx.page("profile-title");
    page.flash = flash;
    let locale = ctx
        .identity
        .user
        .as_ref()
        .and_then(|u| u.locale)
        .map(|l| l.as_str().to_owned())
        .unwrap_or_default();
    Ok(render(
        StatusCode::OK,
        &ProfileTemplate {
            page,
            locale,
            tokens,
            new_secret,
        },
    ))
}

pub async fn profile(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    profile_page(&state, &ctx, None, None).await
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    locale: String,
}

pub async fn update_profile(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(form): UiForm<ProfileForm>,
) -> AppResult<Response> {
    let principal = ctx.require(Action::UpdateProfile)?;
    let locale = match form.locale.as_str() {
        "" => None,
        s => Some(s.parse::<Locale>()?),
    };
    let fx = ctx.effects(&state);
    state
        .store
        .set_locale(principal.user_id, locale, &fx)
        .await?;
    Ok(Redirect::to("/profile").into_response())
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    #[serde(default)]
    write: Option<String>,
}

pub async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    UiForm(form): UiForm<TokenForm>,
) -> AppResult<Response> {
    let principal = ctx.require(Action::CreateToken)?;
    let mut scopes = vec![Scope::Read];
    if form.write.is_some() {
        scopes.push(Scope::Write);
    }
    let (_, secret) =
        crate::api_admin::issue_token(&state, principal.user_id, &form.name, scopes, None).await?;
    // Shown in this response only; the page is not cached.
    let mut res = profile_page(&state, &ctx, Some(secret), None).await?;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    crate::api_admin::revoke_token_of_caller(&state, &ctx, &id).await?;
    Ok(Redirect::to("/profile").into_response())
}
