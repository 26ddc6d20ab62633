//! Accounts, plans, limits and rates (provider admin; the rules:
//! [`crate::usecases::accounts`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use teleconf_views::accounts::{AccountView, CreatedAccount};
use teleconf_views::users::UserView;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::accounts::{self, AccountPatch, NewAccount};

/// Creates an account and its owner (provider admin).
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = NewAccount,
    responses((status = 201, body = CreatedAccount), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewAccount>,
) -> ApiResult<(StatusCode, Json<CreatedAccount>)> {
    let (account, owner) = accounts::create(&*state.store, state.now(), &caller, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedAccount {
            account: AccountView::from(&account),
            owner: UserView::new(&owner, account.time_zone),
        }),
    ))
}

/// Lists accounts (provider admin).
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", responses((status = 200, body = [AccountView]), (status = 403, body = ErrorBody)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AccountView>>> {
    let all = accounts::list(&*state.store, &caller).await?;
    Ok(Json(all.iter().map(AccountView::from).collect()))
}

/// One account (provider admin).
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)), responses((status = 200, body = AccountView), (status = 404, body = ErrorBody)))]
pub async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountView>> {
    let account = accounts::get(&*state.store, &caller, &id).await?;
    Ok(Json(AccountView::from(&account)))
}

/// Changes an account's name, zone, language or plan (provider admin).
#[utoipa::path(patch, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)), request_body = AccountPatch,
    responses((status = 200, body = AccountView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<AccountPatch>,
) -> ApiResult<Json<AccountView>> {
    let account = accounts::patch(&*state.store, state.now(), &caller, &id, patch).await?;
    Ok(Json(AccountView::from(&account)))
}
