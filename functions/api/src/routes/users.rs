//! Users of an account and their roles. The owner manages an account's users
//! (owner, conference_admin, conference_operator); the provider's administrator
//! manages the provider's own (provider_admin, finance). Nobody removes (or demotes)
//! the last owner, or the provider's last administrator: the store refuses it
//! atomically (two removing each other at once cannot both succeed), answered 422.
//! A password change ends every session of the user it changes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::account::validate_name;
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{AccountId, ActivityKind, Email, Role, User, UserId};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::routes::{local, record};
use crate::state::AppState;

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    /// Identity.
    #[schema(value_type = String)]
    pub id: UserId,
    /// Account.
    #[schema(value_type = String)]
    pub account_id: AccountId,
    /// Login.
    #[schema(value_type = String)]
    pub email: Email,
    /// Name.
    pub name: String,
    /// Role.
    #[schema(value_type = String, example = "conference_operator")]
    pub role: Role,
    /// Added at, in the account's zone.
    pub created_at: DateTime<FixedOffset>,
}

impl UserView {
    /// The view of `u`, times on the wall clock of `tz`.
    pub fn new(u: &User, tz: Tz) -> Self {
        Self {
            id: u.id,
            account_id: u.account_id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            created_at: local(u.created_at, tz),
        }
    }
}

/// `POST /v1/users` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login, unique across the service.
    #[schema(value_type = String)]
    pub email: Email,
    /// Name.
    pub name: String,
    /// owner, conference_admin or conference_operator; for the provider's
    /// administrator, provider_admin or finance.
    #[schema(value_type = String)]
    pub role: Role,
    /// At least 10 characters.
    pub password: String,
}

/// `PATCH /v1/users/{id}` body: only the fields to change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New login.
    #[schema(value_type = Option<String>)]
    pub email: Option<Email>,
    /// New name.
    pub name: Option<String>,
    /// New role.
    #[schema(value_type = Option<String>)]
    pub role: Option<Role>,
    /// New password (every session of the user ends).
    pub password: Option<String>,
}

/// `role` for a user of the caller's account: an account's roles for a customer's
/// owner, the provider's roles for the provider's administrator.
fn role_for(caller: &Caller, role: Role) -> ApiResult<Role> {
    if caller.user.role.same_side(role) {
        return Ok(role);
    }
    Err(ApiError::invalid(
        "role",
        if caller.user.role.is_provider() {
            "the provider's users are provider_admin or finance"
        } else {
            "an account's users are owner, conference_admin or conference_operator"
        },
    ))
}

/// The user `id` of the caller's account, after the owner-only check.
async fn managed_user(state: &AppState, caller: &Caller, id: UserId) -> ApiResult<User> {
    ApiError::check(
        decide(&caller.actor(), Action::ManageUsers(caller.account.id)),
        "user",
    )?;
    match state.store.user(id).await? {
        Some(u) if u.account_id == caller.account.id => Ok(u),
        _ => Err(ApiError::not_found("user")),
    }
}

/// Lists the account's users (owner; the provider's administrator: the provider's users).
#[utoipa::path(get, path = "/v1/users", tag = "users", responses((status = 200, body = [UserView]), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<UserView>>> {
    ApiError::check(
        decide(&caller.actor(), Action::ManageUsers(caller.account.id)),
        "user",
    )?;
    let users = state.store.users(caller.account.id).await?;
    Ok(Json(
        users
            .iter()
            .map(|u| UserView::new(u, caller.account.time_zone))
            .collect(),
    ))
}

/// Adds a user (owner; the provider's administrator adds provider_admin and finance users).
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    ApiError::check(
        decide(&caller.actor(), Action::ManageUsers(caller.account.id)),
        "user",
    )?;
    let user = User::new(
        caller.account.id,
        body.email,
        &body.name,
        role_for(&caller, body.role)?,
        &body.password,
        state.now(),
    )?;
    state.store.create_user(&user).await?;
    record(
        &state,
        &caller,
        ActivityKind::UserCreated,
        None,
        format!("{} ({})", user.email, user.role.as_str()),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(UserView::new(&user, caller.account.time_zone)),
    ))
}

/// One user (owner; the provider's administrator).
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let id = id.parse().map_err(|_| ApiError::not_found("user"))?;
    Ok(Json(UserView::new(
        &managed_user(&state, &caller, id).await?,
        caller.account.time_zone,
    )))
}

/// Changes a user's e-mail, name, role or password (owner; the provider's administrator).
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> ApiResult<Json<UserView>> {
    let id = id.parse().map_err(|_| ApiError::not_found("user"))?;
    let mut user = managed_user(&state, &caller, id).await?;
    if let Some(role) = patch.role {
        user.role = role_for(&caller, role)?;
    }
    if let Some(email) = patch.email {
        user.email = email;
    }
    if let Some(name) = patch.name {
        user.name = validate_name("name", &name, 200)?;
    }
    if let Some(password) = patch.password {
        user.change_password(&password)?;
    }
    state.store.update_user(&user).await?;
    record(
        &state,
        &caller,
        ActivityKind::UserUpdated,
        None,
        user.email.to_string(),
    )
    .await;
    Ok(Json(UserView::new(&user, caller.account.time_zone)))
}

/// Removes a user (owner; the provider's administrator); never the last owner or
/// the provider's last administrator.
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = id.parse().map_err(|_| ApiError::not_found("user"))?;
    let user = managed_user(&state, &caller, id).await?;
    state.store.delete_user(&user).await?;
    record(
        &state,
        &caller,
        ActivityKind::UserDeleted,
        None,
        user.email.to_string(),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
