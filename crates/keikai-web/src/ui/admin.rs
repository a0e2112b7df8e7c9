//! The administration pages: the product catalogue, organisations and users
//! ([`keikai_app::admin`]). Each form posts back to its page: success shows the page again
//! (303), a mistake shows it with the error.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use keikai_app::admin::users::{Directory, NewAccount};
use keikai_app::admin::{organisations, products, users};
use keikai_app::{App, Caller};
use keikai_domain::{
    Action, BranchCategory, BranchId, BranchName, DisplayName, Email, Membership, OrgId, OrgKind,
    OrgName, Organisation, Password, Role,
};
use serde::Deserialize;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::UiForm;
use crate::http::state::WebState;
use crate::ui::layout::{Page, render, submit};

/// The administration pages, which their forms show again after a mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AdminPage {
    Products,
    Organisations,
    Users,
}

impl AdminPage {
    fn path(self) -> &'static str {
        match self {
            Self::Products => "/products",
            Self::Organisations => "/organisations",
            Self::Users => "/users",
        }
    }

    async fn show(
        self,
        state: &WebState,
        ctx: &Ctx,
        error: Option<String>,
        status: StatusCode,
    ) -> AppResult<Response> {
        let mut page = ctx.page(match self {
            Self::Products => "products-title",
            Self::Organisations => "orgs-title",
            Self::Users => "users-title",
        });
        page.error = error;
        match self {
            Self::Products => products_page(state, ctx, page, status).await,
            Self::Organisations => orgs_page(state, ctx, page, status).await,
            Self::Users => users_page(state, ctx, page, status).await,
        }
    }
}

/// One form's work: the command as the form gave it, then the use case that takes it. On
/// success the browser goes back to the page; a mistake shows the page again with the error.
async fn act<C, T>(
    state: &WebState,
    ctx: &Ctx,
    page: AdminPage,
    command: AppResult<C>,
    run: impl AsyncFnOnce(&App, &Caller, C) -> keikai_app::Result<T>,
) -> AppResult<Response> {
    submit(
        command,
        async |c| run(&state.app, &ctx.caller, c).await,
        |_| page.path().to_owned(),
        async |msg, status| page.show(state, ctx, Some(msg), status).await,
    )
    .await
}

/// An organisation picked in a form.
fn org_field(s: &str) -> AppResult<OrgId> {
    s.parse()
        .map_err(|_| AppError::invalid("org_id", "org_id: choose an organisation"))
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
    state: &WebState,
    ctx: &Ctx,
    page: Page,
    status: StatusCode,
) -> AppResult<Response> {
    let tree = products::tree(&state.app, &ctx.caller).await?;
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
    let tpl = ProductsTemplate {
        page,
        rows,
        can_manage: ctx.caller.allows(Action::ManageProducts),
        categories: BranchCategory::ALL.iter().map(|c| c.as_str()).collect(),
    };
    Ok(render(status, &tpl))
}

pub async fn products(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    AdminPage::Products
        .show(&state, &ctx, None, StatusCode::OK)
        .await
}

#[derive(Deserialize)]
pub struct BranchForm {
    #[serde(default)]
    parent_id: String,
    category: String,
    name: String,
}

impl BranchForm {
    fn command(&self) -> AppResult<products::AddBranch> {
        let parent = match self.parent_id.trim() {
            "" => None,
            s => Some(s.parse::<BranchId>().map_err(|_| {
                AppError::invalid(
                    "parent_id",
                    format!("parent_id: \"{s}\" is not a branch id"),
                )
            })?),
        };
        Ok(products::AddBranch {
            parent,
            category: self.category.parse()?,
            name: BranchName::parse(&self.name)?,
        })
    }
}

pub async fn create_branch(
    State(state): State<WebState>,
    ctx: Ctx,
    UiForm(form): UiForm<BranchForm>,
) -> AppResult<Response> {
    act(
        &state,
        &ctx,
        AdminPage::Products,
        form.command(),
        products::add,
    )
    .await
}

pub async fn delete_branch(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = ctx.id(&id)?;
    act(&state, &ctx, AdminPage::Products, Ok(id), products::delete).await
}

// ---------------------------------------------------------------- organisations

struct OrgRow {
    id: String,
    name: String,
    kind_label: String,
}

fn org_rows(ctx: &Ctx, orgs: &[Organisation]) -> Vec<OrgRow> {
    orgs.iter()
        .map(|o| OrgRow {
            id: o.id.to_string(),
            name: o.name.to_string(),
            kind_label: ctx.t(&format!("kind-{}", o.kind)),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "organisations.html")]
struct OrgsTemplate {
    page: Page,
    orgs: Vec<OrgRow>,
    kinds: Vec<(&'static str, String)>,
    can_manage: bool,
}

async fn orgs_page(
    state: &WebState,
    ctx: &Ctx,
    page: Page,
    status: StatusCode,
) -> AppResult<Response> {
    let orgs = organisations::list(&state.app, &ctx.caller).await?;
    let tpl = OrgsTemplate {
        page,
        orgs: org_rows(ctx, &orgs),
        kinds: OrgKind::ALL
            .iter()
            .map(|k| (k.as_str(), ctx.t(&format!("kind-{k}"))))
            .collect(),
        can_manage: ctx.caller.allows(Action::ManageOrganisations),
    };
    Ok(render(status, &tpl))
}

pub async fn organisations(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    AdminPage::Organisations
        .show(&state, &ctx, None, StatusCode::OK)
        .await
}

#[derive(Deserialize)]
pub struct OrgForm {
    name: String,
    kind: String,
}

impl OrgForm {
    fn command(&self) -> AppResult<(OrgName, OrgKind)> {
        Ok((OrgName::parse(&self.name)?, self.kind.parse()?))
    }
}

pub async fn create_org(
    State(state): State<WebState>,
    ctx: Ctx,
    UiForm(form): UiForm<OrgForm>,
) -> AppResult<Response> {
    act(
        &state,
        &ctx,
        AdminPage::Organisations,
        form.command(),
        async |a, who, (name, kind)| organisations::create(a, who, name, kind).await,
    )
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
    state: &WebState,
    ctx: &Ctx,
    page: Page,
    status: StatusCode,
) -> AppResult<Response> {
    let Directory {
        accounts,
        organisations,
    } = users::directory(&state.app, &ctx.caller).await?;
    let users = accounts
        .into_iter()
        .map(|a| {
            let memberships = a
                .memberships
                .iter()
                .map(|m| {
                    let org = organisations
                        .iter()
                        .find(|o| o.id == m.org_id)
                        .map_or("?", |o| o.name.as_str());
                    format!("{} ({org})", ctx.t(&format!("role-{}", m.role)))
                })
                .collect::<Vec<_>>()
                .join(", ");
            UserRow {
                id: a.user.id.to_string(),
                is_self: ctx.caller.user_id() == Some(a.user.id),
                email: a.user.email.to_string(),
                name: a.user.display_name.to_string(),
                memberships,
                disabled: a.user.disabled_at.is_some(),
            }
        })
        .collect();
    let tpl = UsersTemplate {
        page,
        users,
        orgs: org_rows(ctx, &organisations),
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), ctx.t(&format!("role-{r}"))))
            .collect(),
    };
    Ok(render(status, &tpl))
}

pub async fn users(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    AdminPage::Users
        .show(&state, &ctx, None, StatusCode::OK)
        .await
}

#[derive(Deserialize)]
pub struct UserForm {
    email: String,
    display_name: String,
    password: String,
    org_id: String,
    role: String,
}

impl UserForm {
    fn command(&self) -> AppResult<NewAccount> {
        Ok(NewAccount {
            email: Email::parse(&self.email)?,
            display_name: DisplayName::parse(&self.display_name)?,
            password: Password::parse(&self.password)?,
            locale: None,
            memberships: vec![Membership {
                org_id: org_field(&self.org_id)?,
                role: self.role.parse()?,
            }],
        })
    }
}

pub async fn create_user(
    State(state): State<WebState>,
    ctx: Ctx,
    UiForm(form): UiForm<UserForm>,
) -> AppResult<Response> {
    act(
        &state,
        &ctx,
        AdminPage::Users,
        form.command(),
        users::create,
    )
    .await
}

/// Disables or enables an account (`disabled` true or false) from the users page.
async fn set_user_disabled(
    state: &WebState,
    ctx: &Ctx,
    id: &str,
    disabled: bool,
) -> AppResult<Response> {
    let id = ctx.id(id)?;
    act(state, ctx, AdminPage::Users, Ok(id), async |a, who, id| {
        users::set_disabled(a, who, id, disabled).await
    })
    .await
}

pub async fn disable_user(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    set_user_disabled(&state, &ctx, &id, true).await
}

pub async fn enable_user(
    State(state): State<WebState>,
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

impl MembershipForm {
    fn command(&self) -> AppResult<Membership> {
        Ok(Membership {
            org_id: org_field(&self.org_id)?,
            role: self.role.parse()?,
        })
    }
}

pub async fn add_membership(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    UiForm(form): UiForm<MembershipForm>,
) -> AppResult<Response> {
    let id = ctx.id(&id)?;
    act(
        &state,
        &ctx,
        AdminPage::Users,
        form.command(),
        async |a, who, m| users::add_membership(a, who, id, m).await,
    )
    .await
}
