//! The account's IP phones (owner): the sources whose `*44` reaches the account's
//! conference IVR (seed: « un téléphone IP dans le MÊME compte que la conférence »).
//! A source is the address the phone's SIP requests come from, or its SIP identity
//! as the trunk asserts it; one source belongs to one account (409 otherwise). The
//! media nodes read the list within `TELECONF_IP_PHONES_REFRESH_SECS`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use teleconf_views::ip_phones::IpPhoneView;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::ip_phones::{self, NewIpPhone};

/// Lists the account's IP phones (owner).
#[utoipa::path(get, path = "/v1/ip-phones", tag = "ip-phones", responses((status = 200, body = [IpPhoneView]), (status = 403, body = ErrorBody)))]
pub async fn list_ip_phones(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<IpPhoneView>>> {
    let tz = caller.account.time_zone;
    let phones = ip_phones::list(&*state.store, &caller).await?;
    Ok(Json(
        phones.iter().map(|p| IpPhoneView::new(p, tz)).collect(),
    ))
}

/// Adds an IP phone whose `*44` reaches the account's conferences (owner); 409 when
/// this or another account has the source already.
#[utoipa::path(post, path = "/v1/ip-phones", tag = "ip-phones", request_body = NewIpPhone,
    responses((status = 201, body = IpPhoneView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_ip_phone(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewIpPhone>,
) -> ApiResult<(StatusCode, Json<IpPhoneView>)> {
    let phone = ip_phones::add(&*state.store, state.now(), &caller, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(IpPhoneView::new(&phone, caller.account.time_zone)),
    ))
}

/// Removes an IP phone (owner): its `*44` is refused once the media nodes have
/// read the list again.
#[utoipa::path(delete, path = "/v1/ip-phones/{source}", tag = "ip-phones", params(("source" = String, Path, description = "the source, percent-encoded")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_ip_phone(
    State(state): State<AppState>,
    caller: Caller,
    Path(source): Path<String>,
) -> ApiResult<StatusCode> {
    ip_phones::remove(&*state.store, state.now(), &caller, &source).await?;
    Ok(StatusCode::NO_CONTENT)
}
