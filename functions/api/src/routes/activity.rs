//! The account's recent activity, newest first.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use teleconf_domain::ActivityKind;
use teleconf_domain::permissions::{Action, decide};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, QueryParams};
use crate::routes::local;
use crate::state::AppState;

/// Most entries per request.
pub const MAX_ENTRIES: usize = 200;

/// `?limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    /// 1–200, 50 by default.
    pub limit: Option<usize>,
}

/// One entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityView {
    /// When, in the account's zone.
    pub at: DateTime<FixedOffset>,
    /// What happened.
    #[schema(value_type = String, example = "conference_created")]
    pub kind: ActivityKind,
    /// Who did it (absent for callers and the system).
    pub actor: Option<String>,
    /// The conference concerned.
    pub conference_id: Option<String>,
    /// A short description.
    pub summary: String,
}

/// The newest entries of the account's feed.
#[utoipa::path(get, path = "/v1/activity", tag = "activity", params(ActivityQuery), responses((status = 200, body = [ActivityView]), (status = 400, body = ErrorBody)))]
pub async fn list_activity(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<ActivityQuery>,
) -> ApiResult<Json<Vec<ActivityView>>> {
    ApiError::check(
        decide(&caller.actor(), Action::ViewActivity(caller.account.id)),
        "activity",
    )?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_ENTRIES).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit is 1 to {MAX_ENTRIES}"),
        ));
    }
    let entries = state
        .store
        .recent_activity(caller.account.id, limit)
        .await?;
    Ok(Json(
        entries
            .iter()
            .map(|a| ActivityView {
                at: local(a.at, caller.account.time_zone),
                kind: a.kind,
                actor: a.actor.map(|u| u.to_string()),
                conference_id: a.conference_id.map(|c| c.to_string()),
                summary: a.summary.clone(),
            })
            .collect(),
    ))
}
