//! Who am I.

use axum::Json;
use teleconf_views::me::Me;

use crate::error::ErrorBody;
use crate::usecases::Caller;

/// The signed-in user.
#[utoipa::path(get, path = "/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me::new(&caller.user, &caller.account))
}
