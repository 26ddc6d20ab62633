//! The account's recent activity, newest first.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use teleconf_views::activity::ActivityView;
use utoipa::IntoParams;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::QueryParams;
use crate::state::AppState;
use crate::usecases::{Caller, activity};

/// `?limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    /// 1–200, 50 by default.
    pub limit: Option<usize>,
}

/// The newest entries of the account's feed.
#[utoipa::path(get, path = "/v1/activity", tag = "activity", params(ActivityQuery), responses((status = 200, body = [ActivityView]), (status = 400, body = ErrorBody)))]
pub async fn list_activity(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<ActivityQuery>,
) -> ApiResult<Json<Vec<ActivityView>>> {
    let tz = caller.account.time_zone;
    let entries = activity::recent(&*state.store, &caller, q.limit).await?;
    Ok(Json(
        entries.iter().map(|a| ActivityView::new(a, tz)).collect(),
    ))
}
