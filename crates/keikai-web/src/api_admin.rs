//! The REST API under `/api/v1`: the same operations as the UI, as JSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use keikai_domain::{
    Action, ApiToken, Branch, BranchCategory, BranchId, BranchName, DisplayName, Email, Locale,
    Membership, OrgId, OrgKind, OrgName, Organisation, Password, Role, Scope, TokenId, TokenSecret,
    User, UserId,
};
use keikai_store::{Effects, NewBranch, NewOrganisation, NewToken, NewUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keikai_domain::audit::{AuditActor, AuditEntry, Change};

use crate::http::auth::{hash_password, random_secret, sha256_hex};
use crate::http::ctx::Ctx;
use crate::http::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{ApiJson, parse_id};
use crate::http::state::AppState;

// ---------------------------------------------------------------- me

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub memberships: Vec<Membership>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(ctx: Ctx) -> AppResult<Json<Me>> {
    let p = ctx.require(Action::ViewProfile)?;
    let user = ctx
        .identity
        .user
        .clone()
        .ok_or_else(AppError::unauthenticated)?;
    Ok(Json(Me {
        user,
        memberships: p.memberships.clone(),
    }))
}

// ---------------------------------------------------------------- organisations

#[derive(Deserialize, ToSchema)]
pub struct CreateOrganisation {
    pub name: String,
    pub kind: OrgKind,
}

#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations",
    responses((status = 200, body = Vec<Organisation>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<Organisation>>> {
    ctx.require(Action::ViewOrganisations)?;
    Ok(Json(state.store.list_orgs().await?))
}

#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = CreateOrganisation,
    responses((status = 201, body = Organisation), (status = 422, body = ErrorBody)))]
pub async fn create_org(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateOrganisation>,
) -> AppResult<(StatusCode, Json<Organisation>)> {
    ctx.require(Action::ManageOrganisations)?;
    let org = NewOrganisation {
        id: OrgId::new(),
        name: OrgName::parse(&body.name)?,
        kind: body.kind,
    };
    Ok((
        StatusCode::CREATED,
        Json(create_org_audited(&state, &ctx, &org).await?),
    ))
}

/// Creates an organisation and records it in the audit log (UI and API).
pub(crate) async fn create_org_audited(
    state: &AppState,
    ctx: &Ctx,
    org: &NewOrganisation,
) -> AppResult<Organisation> {
    let fx = ctx.effects(state);
    let subject = format!("organisation/{}", org.id);
    let change = Change::new("organisation.created", subject, (), org.created(fx.at));
    Ok(state.store.create_org(org, &fx.with_audit(change)).await?)
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations",
    params(("id" = OrgId, Path)), responses((status = 200, body = Organisation), (status = 404, body = ErrorBody)))]
pub async fn get_org(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Organisation>> {
    ctx.require(Action::ViewOrganisations)?;
    Ok(Json(state.store.get_org(parse_id(&id)?).await?))
}

// ---------------------------------------------------------------- users

#[derive(Deserialize, ToSchema)]
pub struct MembershipInput {
    pub org_id: OrgId,
    pub role: Role,
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

#[derive(Serialize, ToSchema)]
pub struct UserWithMemberships {
    pub user: User,
    pub memberships: Vec<Membership>,
}

/// Checks every membership before anything is written, so a refused role leaves no user
/// behind without it.
pub(crate) async fn create_user_with_membership(
    state: &AppState,
    ctx: &Ctx,
    new: &NewUser,
    org: OrgId,
    role: Role,
) -> AppResult<User> {
    create_user_with_memberships(state, ctx, new, &[MembershipInput { org_id: org, role }]).await
}

async fn create_user_with_memberships(
    state: &AppState,
    ctx: &Ctx,
    new: &NewUser,
    ms: &[MembershipInput],
) -> AppResult<User> {
    for (i, m) in ms.iter().enumerate() {
        check_membership(state, m.org_id, m.role, &format!("memberships[{i}].")).await?;
    }
    let memberships: Vec<Membership> = ms
        .iter()
        .map(|m| Membership {
            org_id: m.org_id,
            role: m.role,
        })
        .collect();
    // The user, their memberships and the entries recording them commit together.
    let fx = ctx.effects(state);
    let created = Change::new("user.created", user_subject(new.id), (), new.created(fx.at));
    let fx = fx
        .with_audit(created)
        .with_changes(memberships.iter().map(|m| membership_added(new.id, *m)));
    Ok(state.store.create_user(new, &memberships, &fx).await?)
}

fn user_subject(id: UserId) -> String {
    format!("user/{id}")
}

fn membership_added(user: UserId, m: Membership) -> Change {
    Change::new("user.membership_added", user_subject(user), (), m)
}

async fn add_membership_audited(
    state: &AppState,
    ctx: &Ctx,
    user: UserId,
    org: OrgId,
    role: Role,
) -> AppResult<()> {
    let m = Membership { org_id: org, role };
    let fx = ctx.effects(state).with_audit(membership_added(user, m));
    Ok(state.store.add_membership(user, org, role, &fx).await?)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<User>), (status = 404, body = ErrorBody)))]
pub async fn list_users(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<User>>> {
    ctx.require(Action::ViewUsers)?;
    Ok(Json(state.store.list_users().await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserWithMemberships), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateUser>,
) -> AppResult<(StatusCode, Json<UserWithMemberships>)> {
    ctx.require(Action::ManageUsers)?;
    let new = NewUser {
        id: UserId::new(),
        email: Email::parse(&body.email)?,
        display_name: DisplayName::parse(&body.display_name)?,
        password_hash: hash_password(&Password::parse(&body.password)?).await?,
        locale: body.locale,
    };
    let user = create_user_with_memberships(&state, &ctx, &new, &body.memberships).await?;
    let memberships = state.store.memberships(user.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(UserWithMemberships { user, memberships }),
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = UserId, Path)), responses((status = 200, body = UserWithMemberships), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<UserWithMemberships>> {
    ctx.require(Action::ViewUsers)?;
    let id: UserId = parse_id(&id)?;
    let user = state.store.get_user(id).await?;
    let memberships = state.store.memberships(id).await?;
    Ok(Json(UserWithMemberships { user, memberships }))
}

/// Checks that the organisation exists and that the role fits its kind; errors name the
/// field as `{prefix}org_id` or `{prefix}role`.
async fn check_membership(state: &AppState, org: OrgId, role: Role, prefix: &str) -> AppResult<()> {
    let org = match state.store.get_org(org).await {
        Ok(o) => o,
        Err(keikai_store::StoreError::NotFound) => {
            return Err(AppError::invalid(
                format!("{prefix}org_id"),
                format!("no organisation {org}"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    role.check_allowed_in(org.kind)
        .map_err(|e| AppError::invalid(format!("{prefix}role"), e.to_string()))
}

/// Adds a membership after checking the user and organisation exist and the role fits.
pub(crate) async fn add_membership_checked(
    state: &AppState,
    ctx: &Ctx,
    user: UserId,
    org: OrgId,
    role: Role,
) -> AppResult<()> {
    state.store.get_user(user).await?;
    check_membership(state, org, role, "").await?;
    add_membership_audited(state, ctx, user, org, role).await
}

#[utoipa::path(post, path = "/api/v1/users/{id}/memberships", tag = "users", request_body = MembershipInput,
    params(("id" = UserId, Path)), responses((status = 200, body = UserWithMemberships), (status = 422, body = ErrorBody)))]
pub async fn add_membership(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MembershipInput>,
) -> AppResult<Json<UserWithMemberships>> {
    ctx.require(Action::ManageUsers)?;
    let id: UserId = parse_id(&id)?;
    add_membership_checked(&state, &ctx, id, body.org_id, body.role).await?;
    let user = state.store.get_user(id).await?;
    let memberships = state.store.memberships(id).await?;
    Ok(Json(UserWithMemberships { user, memberships }))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUser {
    /// `true` disables the account: it cannot sign in and its sessions end; its API tokens
    /// stop working until it is enabled again.
    pub disabled: Option<bool>,
    pub display_name: Option<String>,
}

/// Disabling ends the user's sessions at once. Administrators cannot disable themselves, so
/// that the last administrator cannot lock everyone out by mistake.
pub(crate) async fn set_disabled(
    state: &AppState,
    ctx: &Ctx,
    id: UserId,
    disabled: bool,
) -> AppResult<User> {
    let user = state.store.get_user(id).await?;
    if disabled && ctx.identity.user.as_ref().is_some_and(|me| me.id == id) {
        return Err(AppError::invalid(
            "disabled",
            "you cannot disable your own account",
        ));
    }
    let mut fx = ctx.effects(state);
    let at = disabled.then(|| user.disabled_at.unwrap_or(fx.at));
    if at != user.disabled_at {
        let action = if disabled {
            "user.disabled"
        } else {
            "user.enabled"
        };
        fx.audit.push(Change::new(
            action,
            user_subject(id),
            serde_json::json!({ "disabled_at": user.disabled_at }),
            serde_json::json!({ "disabled_at": at }),
        ));
    }
    state.store.set_disabled(id, at, &fx).await?;
    if disabled {
        state.store.delete_user_sessions(id).await?;
    }
    Ok(state.store.get_user(id).await?)
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUser,
    params(("id" = UserId, Path)), responses((status = 200, body = UserWithMemberships), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> AppResult<Json<UserWithMemberships>> {
    ctx.require(Action::ManageUsers)?;
    let id: UserId = parse_id(&id)?;
    let name = body
        .display_name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()?;
    let before = state.store.get_user(id).await?;
    if let Some(d) = body.disabled {
        set_disabled(&state, &ctx, id, d).await?;
    }
    if let Some(name) = name.filter(|n| *n != before.display_name) {
        let change = Change::new(
            "user.renamed",
            user_subject(id),
            serde_json::json!({ "display_name": before.display_name }),
            serde_json::json!({ "display_name": name }),
        );
        let fx = ctx.effects(&state).with_audit(change);
        state.store.set_display_name(id, &name, &fx).await?;
    }
    let user = state.store.get_user(id).await?;
    let memberships = state.store.memberships(id).await?;
    Ok(Json(UserWithMemberships { user, memberships }))
}

// ---------------------------------------------------------------- product tree

#[derive(Deserialize, ToSchema)]
pub struct CreateBranch {
    pub parent_id: Option<BranchId>,
    pub category: BranchCategory,
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RenameBranch {
    pub name: String,
}

#[utoipa::path(get, path = "/api/v1/branches", tag = "products",
    responses((status = 200, body = Vec<Branch>), (status = 404, body = ErrorBody)))]
pub async fn list_branches(
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<Branch>>> {
    ctx.require(Action::ViewProducts)?;
    Ok(Json(state.store.list_branches().await?))
}

#[utoipa::path(post, path = "/api/v1/branches", tag = "products", request_body = CreateBranch,
    responses((status = 201, body = Branch), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_branch(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateBranch>,
) -> AppResult<(StatusCode, Json<Branch>)> {
    ctx.require(Action::ManageProducts)?;
    let new = NewBranch {
        id: BranchId::new(),
        parent_id: body.parent_id,
        category: body.category,
        name: BranchName::parse(&body.name)?,
    };
    Ok((
        StatusCode::CREATED,
        Json(create_branch_audited(&state, &ctx, &new).await?),
    ))
}

fn branch_subject(id: BranchId) -> String {
    format!("branch/{id}")
}

/// Adds a catalogue entry and records it (UI and API).
pub(crate) async fn create_branch_audited(
    state: &AppState,
    ctx: &Ctx,
    new: &NewBranch,
) -> AppResult<Branch> {
    let fx = ctx.effects(state);
    let change = Change::new(
        "branch.created",
        branch_subject(new.id),
        (),
        new.created(fx.at),
    );
    Ok(state
        .store
        .create_branch(new, &fx.with_audit(change))
        .await?)
}

/// Removes a catalogue entry and records it (UI and API).
pub(crate) async fn delete_branch_audited(
    state: &AppState,
    ctx: &Ctx,
    id: BranchId,
) -> AppResult<()> {
    let before = state.store.get_branch(id).await?;
    let change = Change::new("branch.deleted", branch_subject(id), &before, ());
    let fx = ctx.effects(state).with_audit(change);
    Ok(state.store.delete_branch(id, &fx).await?)
}

#[utoipa::path(get, path = "/api/v1/branches/{id}", tag = "products",
    params(("id" = BranchId, Path)), responses((status = 200, body = Branch), (status = 404, body = ErrorBody)))]
pub async fn get_branch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<Json<Branch>> {
    ctx.require(Action::ViewProducts)?;
    Ok(Json(state.store.get_branch(parse_id(&id)?).await?))
}

#[utoipa::path(patch, path = "/api/v1/branches/{id}", tag = "products", request_body = RenameBranch,
    params(("id" = BranchId, Path)), responses((status = 200, body = Branch), (status = 404, body = ErrorBody)))]
pub async fn rename_branch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenameBranch>,
) -> AppResult<Json<Branch>> {
    ctx.require(Action::ManageProducts)?;
    let id: BranchId = parse_id(&id)?;
    let name = BranchName::parse(&body.name)?;
    let before = state.store.get_branch(id).await?;
    let after = Branch {
        name: name.clone(),
        ..before.clone()
    };
    let change = Change::new("branch.renamed", branch_subject(id), &before, &after);
    let fx = ctx.effects(&state).with_audit(change);
    Ok(Json(state.store.rename_branch(id, &name, &fx).await?))
}

#[utoipa::path(delete, path = "/api/v1/branches/{id}", tag = "products",
    params(("id" = BranchId, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_branch(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    ctx.require(Action::ManageProducts)?;
    delete_branch_audited(&state, &ctx, parse_id(&id)?).await?;
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
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
) -> AppResult<Json<Vec<AuditEntry>>> {
    ctx.require(Action::ViewAudit)?;
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    Ok(Json(
        state.store.audit_page(q.after.unwrap_or(0), limit).await?,
    ))
}

/// The catalogue in the shape of a CSAF 2.0 `product_tree`.
#[utoipa::path(get, path = "/api/v1/product-tree", tag = "products",
    responses((status = 200, description = "a CSAF 2.0 product_tree object", body = Object), (status = 404, body = ErrorBody)))]
pub async fn product_tree(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    ctx.require(Action::ViewProducts)?;
    let branches = state.store.list_branches().await?;
    Ok(Json(keikai_domain::ProductTree::from_branches(&branches)).into_response())
}

// ---------------------------------------------------------------- tokens

#[derive(Deserialize, ToSchema)]
pub struct CreateToken {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// RFC 3339; no expiry when absent.
    pub expires_at: Option<String>,
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
    State(state): State<AppState>,
    ctx: Ctx,
) -> AppResult<Json<Vec<ApiToken>>> {
    let p = ctx.require(Action::ListOwnTokens)?;
    Ok(Json(state.store.list_tokens(p.user_id).await?))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "account", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CreateToken>,
) -> AppResult<(StatusCode, Json<CreatedToken>)> {
    let p = ctx.require(Action::CreateToken)?;
    if body.scopes.is_empty() {
        return Err(AppError::invalid(
            "scopes",
            "name at least one scope (read, write)",
        ));
    }
    let now = state.clock.now();
    let expires_at = match &body.expires_at {
        None => None,
        Some(s) => {
            let t: Timestamp = s.parse().map_err(|e| {
                AppError::invalid(
                    "expires_at",
                    format!("\"{s}\" is not an RFC 3339 time: {e}"),
                )
            })?;
            if t <= now {
                return Err(AppError::invalid(
                    "expires_at",
                    format!("{s} is in the past"),
                ));
            }
            Some(t)
        }
    };
    let (token, secret) =
        issue_token(&state, p.user_id, &body.name, body.scopes, expires_at).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "account",
    params(("id" = TokenId, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    revoke_token_of_caller(&state, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a token for a user; returns it with its secret, which is not kept anywhere.
pub(crate) async fn issue_token(
    state: &AppState,
    user: UserId,
    name: &str,
    scopes: Vec<Scope>,
    expires_at: Option<Timestamp>,
) -> AppResult<(ApiToken, String)> {
    let secret = format!("{}{}", TokenSecret::PREFIX, random_secret());
    let new = NewToken {
        id: TokenId::new(),
        user_id: user,
        name: keikai_domain::token::parse_token_name(name)?,
        scopes,
        secret_hash: sha256_hex(&secret),
        expires_at,
    };
    // Tokens are only ever made by their owner; the record holds no secret.
    let fx = Effects::new(AuditActor::User(user), state.clock.now());
    let change = Change::new(
        "token.issued",
        format!("token/{}", new.id),
        (),
        new.created(fx.at),
    );
    let token = state
        .store
        .create_token(&new, &fx.with_audit(change))
        .await?;
    Ok((token, secret))
}

/// Revokes a token if the caller owns it (or administers users).
pub(crate) async fn revoke_token_of_caller(state: &AppState, ctx: &Ctx, id: &str) -> AppResult<()> {
    // Signed-in first, so that an anonymous caller cannot tell which token ids exist.
    ctx.require(Action::ListOwnTokens)?;
    let id: TokenId = parse_id(id)?;
    let token = state.store.get_token(id).await?;
    ctx.require(Action::RevokeToken {
        owner: token.user_id,
    })?;
    let change = Change::new("token.revoked", format!("token/{id}"), &token, ());
    let fx = ctx.effects(state).with_audit(change);
    Ok(state.store.revoke_token(id, &fx).await?)
}
