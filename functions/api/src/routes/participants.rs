//! The live view of a running conference: who is on the line now, with their
//! role, mute state, join time and caller ID, as the media node keeps it.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use teleconf_domain::permissions::Action;
use teleconf_domain::{CallerRole, LiveParticipant};
use utoipa::ToSchema;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::routes::conferences::conference_for;
use crate::routes::local;
use crate::state::AppState;

/// One caller on the line.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantView {
    /// The caller's CDR leg.
    pub leg_id: String,
    /// The caller's number or name as the trunk presented it.
    pub caller_id: String,
    /// participant, listener or moderator.
    #[schema(value_type = String)]
    pub role: CallerRole,
    /// Not heard (muted by themselves or the moderator's lecture mode).
    pub muted: bool,
    /// Joined at, in the account's zone.
    pub joined_at: DateTime<FixedOffset>,
}

fn view(p: &LiveParticipant, tz: chrono_tz::Tz) -> ParticipantView {
    ParticipantView {
        leg_id: p.leg_id.to_string(),
        caller_id: p.caller_id.clone(),
        role: p.role,
        muted: p.muted,
        joined_at: local(p.joined_at, tz),
    }
}

/// Who is on the line now, oldest first (empty when the conference is not running).
#[utoipa::path(get, path = "/v1/conferences/{id}/participants", tag = "conferences", params(("id" = String, Path)),
    responses((status = 200, body = [ParticipantView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_participants(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ParticipantView>>> {
    let conference = conference_for(&state, &caller, &id, Action::ViewLogs).await?;
    let tz = caller.account.time_zone;
    let live = state.store.live_participants(conference.id).await?;
    Ok(Json(live.iter().map(|p| view(p, tz)).collect()))
}
