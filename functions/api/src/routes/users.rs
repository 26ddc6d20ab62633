//! Users of an account and their roles (the rules: [`crate::usecases::users`]);
//! removing or demoting the last owner answers 422.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use teleconf_views::users::UserView;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::users::{self, NewUser, UserPatch};

/// Lists the account's users (owner; the provider's administrator: the provider's users).
#[utoipa::path(get, path = "/v1/users", tag = "users", responses((status = 200, body = [UserView]), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<UserView>>> {
    let tz = caller.account.time_zone;
    let all = users::list(&*state.store, &caller).await?;
    Ok(Json(all.iter().map(|u| UserView::new(u, tz)).collect()))
}

/// Adds a user (owner; the provider's administrator adds provider_admin and finance users).
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let user = users::create(&*state.store, state.now(), &caller, body).await?;
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
    let user = users::get(&*state.store, &caller, &id).await?;
    Ok(Json(UserView::new(&user, caller.account.time_zone)))
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
    let user = users::patch(&*state.store, state.now(), &caller, &id, patch).await?;
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
    users::delete(&*state.store, state.now(), &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
