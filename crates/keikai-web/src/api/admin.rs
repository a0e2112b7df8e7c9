//! Administration and the caller's account through the REST API: organisations, users and
//! memberships, the product catalogue, the audit log and API tokens — the same use cases as
//! the pages ([`keikai_app::admin`]), as JSON.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use keikai_app::admin::users::{Account, EditUser, NewAccount};
use keikai_app::admin::{account, audit, organisations, products, tokens, users};
use keikai_domain::audit::AuditEntry;
use keikai_domain::{
    ApiToken, Branch, BranchCategory, BranchId, BranchName, DisplayName, Email, Locale, Membership,
    OrgId, OrgKind, OrgName, Organisation, Password, Role, Scope, TokenId, User, UserId,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::state::WebState;

// ---------------------------------------------------------------- me

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub memberships: Vec<Membership>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<WebState>, ctx: Ctx) -> AppResult<Json<Me>> {
    let Account { user, memberships } = account::me(&state.app, &ctx.caller).await?;
    Ok(Json(Me { user, memberships }))
}

// ---------------------------------------------------------------- organisations

#[derive(Deserialize, ToSchema)]
pub struct CreateOrganisation {
    pub name: String,
    pub kind: OrgKind,
}

impl CreateOrganisation {
    pub fn command(self) -> AppResult<(OrgName, OrgKind)> {
        Ok((OrgName::parse(&self.name)?, self.kind))
    }
}

#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations",
    responses((status = 200, body = Vec<Organisation>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_orgs(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<Organisation>>> {
    Ok(Json(organisations::list(&state.app, &ctx.caller).await?))
}

#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = CreateOrganisation,
    responses((status = 201, body = Organisation), (status = 422, body = ErrorBody)))]
pub async fn create_org(
    State(state): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateOrganisation>,
) -> AppResult<(StatusCode, Json<Organisation>)> {
    let (name, kind) = body.command()?;
    let org = organisations::create(&state.app, &ctx.caller, name, kind).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations",
    params(("id" = OrgId, Path)), responses((status = 200, body = Organisation), (status = 404, body = ErrorBody)))]
pub async fn get_org(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Organisation>> {
    let id = ctx.id(&id)?;
    Ok(Json(organisations::get(&state.app, &ctx.caller, id).await?))
}

// ---------------------------------------------------------------- users

#[derive(Deserialize, ToSchema)]
pub struct MembershipInput {
    pub org_id: OrgId,
    pub role: Role,
}

impl From<MembershipInput> for Membership {
    fn from(m: MembershipInput) -> Self {
        Self {
            org_id: m.org_id,
            role: m.role,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateUser {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub locale: Option<Locale>,
    #[serde(default)]
    pub memberships: Vec<MembershipInput>,
}

impl CreateUser {
    pub fn command(self) -> AppResult<NewAccount> {
        Ok(NewAccount {
            email: Email::parse(&self.email)?,
            display_name: DisplayName::parse(&self.display_name)?,
            password: Password::parse(&self.password)?,
            locale: self.locale,
            memberships: self.memberships.into_iter().map(Membership::from).collect(),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserWithMemberships {
    pub user: User,
    pub memberships: Vec<Membership>,
}

impl From<Account> for UserWithMemberships {
    fn from(a: Account) -> Self {
        Self {
            user: a.user,
            memberships: a.memberships,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<User>), (status = 404, body = ErrorBody)))]
pub async fn list_users(State(state): State<WebState>, ctx: Ctx) -> AppResult<Json<Vec<User>>> {
    Ok(Json(users::list(&state.app, &ctx.caller).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserWithMemberships), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateUser>,
) -> AppResult<(StatusCode, Json<UserWithMemberships>)> {
    let created = users::create(&state.app, &ctx.caller, body.command()?).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = UserId, Path)), responses((status = 200, body = UserWithMemberships), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<UserWithMemberships>> {
    let id = ctx.id(&id)?;
    Ok(Json(users::get(&state.app, &ctx.caller, id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/memberships", tag = "users", request_body = MembershipInput,
    params(("id" = UserId, Path)), responses((status = 200, body = UserWithMemberships), (status = 422, body = ErrorBody)))]
pub async fn add_membership(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MembershipInput>,
) -> AppResult<Json<UserWithMemberships>> {
    let id = ctx.id(&id)?;
    let account = users::add_membership(&state.app, &ctx.caller, id, body.into()).await?;
    Ok(Json(account.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUser {
    /// `true` disables the account: it cannot sign in and its sessions end; its API tokens
    /// stop working until it is enabled again.
    pub disabled: Option<bool>,
    pub display_name: Option<String>,
}

impl UpdateUser {
    pub fn command(self) -> AppResult<EditUser> {
        Ok(EditUser {
            disabled: self.disabled,
            display_name: self
                .display_name
                .as_deref()
                .map(DisplayName::parse)
                .transpose()?,
        })
    }
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUser,
    params(("id" = UserId, Path)), responses((status = 200, body = UserWithMemberships), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> AppResult<Json<UserWithMemberships>> {
    let id = ctx.id(&id)?;
    let account = users::edit(&state.app, &ctx.caller, id, body.command()?).await?;
    Ok(Json(account.into()))
}

// ---------------------------------------------------------------- product tree

#[derive(Deserialize, ToSchema)]
pub struct CreateBranch {
    pub parent_id: Option<BranchId>,
    pub category: BranchCategory,
    pub name: String,
}

impl CreateBranch {
    pub fn command(self) -> AppResult<products::AddBranch> {
        Ok(products::AddBranch {
            parent: self.parent_id,
            category: self.category,
            name: BranchName::parse(&self.name)?,
        })
    }
}

#[derive(Deserialize, ToSchema)]
pub struct RenameBranch {
    pub name: String,
}

#[utoipa::path(get, path = "/api/v1/branches", tag = "products",
    responses((status = 200, body = Vec<Branch>), (status = 404, body = ErrorBody)))]
pub async fn list_branches(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<Branch>>> {
    Ok(Json(products::list(&state.app, &ctx.caller).await?))
}

#[utoipa::path(post, path = "/api/v1/branches", tag = "products", request_body = CreateBranch,
    responses((status = 201, body = Branch), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_branch(
    State(state): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateBranch>,
) -> AppResult<(StatusCode, Json<Branch>)> {
    let branch = products::add(&state.app, &ctx.caller, body.command()?).await?;
    Ok((StatusCode::CREATED, Json(branch)))
}

#[utoipa::path(get, path = "/api/v1/branches/{id}", tag = "products",
    params(("id" = BranchId, Path)), responses((status = 200, body = Branch), (status = 404, body = ErrorBody)))]
pub async fn get_branch(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Branch>> {
    let id = ctx.id(&id)?;
    Ok(Json(products::get(&state.app, &ctx.caller, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/branches/{id}", tag = "products", request_body = RenameBranch,
    params(("id" = BranchId, Path)), responses((status = 200, body = Branch), (status = 404, body = ErrorBody)))]
pub async fn rename_branch(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenameBranch>,
) -> AppResult<Json<Branch>> {
    let id = ctx.id(&id)?;
    let name = BranchName::parse(&body.name)?;
    Ok(Json(
        products::rename(&state.app, &ctx.caller, id, name).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/branches/{id}", tag = "products",
    params(("id" = BranchId, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_branch(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let id = ctx.id(&id)?;
    products::delete(&state.app, &ctx.caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Entries after this sequence number (default 0: from the start).
    pub after: Option<i64>,
    /// At most this many (default 500, at most 5000).
    pub limit: Option<u32>,
}

/// The audit log in order, page by page: for export and outside verification (each entry
/// carries its hash and the previous entry's).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 404, body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<WebState>,
    ctx: Ctx,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<AuditEntry>>> {
    ctx.signed_in()?;
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(audit::DEFAULT_PAGE);
    Ok(Json(
        audit::page(&state.app, &ctx.caller, after, limit).await?,
    ))
}

/// The catalogue in the shape of a CSAF 2.0 `product_tree`.
#[utoipa::path(get, path = "/api/v1/product-tree", tag = "products",
    responses((status = 200, description = "a CSAF 2.0 product_tree object", body = Object), (status = 404, body = ErrorBody)))]
pub async fn product_tree(State(state): State<WebState>, ctx: Ctx) -> AppResult<Response> {
    let tree = products::tree(&state.app, &ctx.caller).await?;
    Ok(Json(tree).into_response())
}

// ---------------------------------------------------------------- tokens

#[derive(Deserialize, ToSchema)]
pub struct CreateToken {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// RFC 3339; no expiry when absent.
    pub expires_at: Option<String>,
}

impl CreateToken {
    pub fn command(self) -> AppResult<tokens::IssueToken> {
        let expires_at = match &self.expires_at {
            None => None,
            Some(s) => Some(s.parse::<Timestamp>().map_err(|e| {
                AppError::invalid(
                    "expires_at",
                    format!("expires_at: \"{s}\" is not an RFC 3339 time: {e}"),
                )
            })?),
        };
        Ok(tokens::IssueToken {
            name: self.name,
            scopes: self.scopes,
            expires_at,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// Shown once; only its hash is kept.
    pub secret: String,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "account",
    responses((status = 200, body = Vec<ApiToken>), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<WebState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<ApiToken>>> {
    Ok(Json(tokens::list(&state.app, &ctx.caller).await?))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "account", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<WebState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateToken>,
) -> AppResult<(StatusCode, Json<CreatedToken>)> {
    let tokens::Issued { token, secret } =
        tokens::issue(&state.app, &ctx.caller, body.command()?).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "account",
    params(("id" = TokenId, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<WebState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let id = ctx.id(&id)?;
    tokens::revoke(&state.app, &ctx.caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
