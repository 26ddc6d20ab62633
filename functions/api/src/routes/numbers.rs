//! Access numbers (the seed's « Numéros de téléphones » form). The provider's
//! administrator assigns them to an account (`/v1/accounts/{id}/numbers`), so no
//! customer can take a number that is another's; the owner configures those the
//! account was given; every role of the account sees them (they are in every
//! confirmation). The rules: [`crate::usecases::numbers`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use teleconf_views::numbers::NumberView;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::numbers::{self, AssignedNumber, NumberPatch};

/// Lists the account's access numbers.
#[utoipa::path(get, path = "/v1/numbers", tag = "numbers", responses((status = 200, body = [NumberView])))]
pub async fn list_numbers(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<NumberView>>> {
    let tz = caller.account.time_zone;
    let all = numbers::list(&*state.store, &caller).await?;
    Ok(Json(all.iter().map(|n| NumberView::new(n, tz)).collect()))
}

/// One access number.
#[utoipa::path(get, path = "/v1/numbers/{e164}", tag = "numbers", params(("e164" = String, Path)), responses((status = 200, body = NumberView), (status = 404, body = ErrorBody)))]
pub async fn get_number(
    State(state): State<AppState>,
    caller: Caller,
    Path(e164): Path<String>,
) -> ApiResult<Json<NumberView>> {
    let n = numbers::get(&*state.store, &caller, &e164).await?;
    Ok(Json(NumberView::new(&n, caller.account.time_zone)))
}

/// Changes an access number (owner).
#[utoipa::path(patch, path = "/v1/numbers/{e164}", tag = "numbers", params(("e164" = String, Path)), request_body = NumberPatch,
    responses((status = 200, body = NumberView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch_number(
    State(state): State<AppState>,
    caller: Caller,
    Path(e164): Path<String>,
    JsonBody(p): JsonBody<NumberPatch>,
) -> ApiResult<Json<NumberView>> {
    let n = numbers::patch(&*state.store, &*state.blobs, state.now(), &caller, &e164, p).await?;
    Ok(Json(NumberView::new(&n, caller.account.time_zone)))
}

/// An account's access numbers (provider admin).
#[utoipa::path(get, path = "/v1/accounts/{id}/numbers", tag = "numbers", params(("id" = String, Path)),
    responses((status = 200, body = [NumberView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_account_numbers(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<NumberView>>> {
    let (account, all) = numbers::list_of_account(&*state.store, &caller, &id).await?;
    Ok(Json(
        all.iter()
            .map(|n| NumberView::new(n, account.time_zone))
            .collect(),
    ))
}

/// Assigns a number to an account (provider admin): routed to its conferences, in
/// its language, filtered; its owner configures the rest. 409 when the number is
/// assigned already, to this account or another.
#[utoipa::path(post, path = "/v1/accounts/{id}/numbers", tag = "numbers", params(("id" = String, Path)), request_body = AssignedNumber,
    responses((status = 201, body = NumberView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn assign_number(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AssignedNumber>,
) -> ApiResult<(StatusCode, Json<NumberView>)> {
    let (account, number) = numbers::assign(&*state.store, state.now(), &caller, &id, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(NumberView::new(&number, account.time_zone)),
    ))
}

/// Takes a number back from an account (provider admin): callers of the number
/// reach no conference of it any more.
#[utoipa::path(delete, path = "/v1/accounts/{id}/numbers/{e164}", tag = "numbers", params(("id" = String, Path), ("e164" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unassign_number(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, e164)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    numbers::unassign(&*state.store, state.now(), &caller, &id, &e164).await?;
    Ok(StatusCode::NO_CONTENT)
}
