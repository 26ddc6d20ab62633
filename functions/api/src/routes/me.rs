//! Who am I.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ErrorBody;
use crate::extract::Caller;
use crate::routes::accounts::AccountView;
use crate::routes::users::UserView;

/// The signed-in user and their account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The user.
    pub user: UserView,
    /// Their account.
    pub account: AccountView,
}

/// The signed-in user.
#[utoipa::path(get, path = "/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        user: UserView::new(&caller.user, caller.account.time_zone),
        account: AccountView::from(&caller.account),
    })
}
