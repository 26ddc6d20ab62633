//! The live view's controls: a moderator of the account mutes, unmutes or removes a
//! caller, locks or unlocks the conference, or mutes everyone (lecture mode). The
//! command is queued under the conference (`ControlStore`); the media node that
//! holds the conference applies it as it applies the same keypad commands, and
//! records the activity entry when it does.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use teleconf_domain::permissions::Action;
use teleconf_domain::{ConferenceControl, ConferenceStatus, ControlCommand, LegId};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::routes::conferences::{conference_for, status};
use crate::routes::local;
use crate::state::AppState;

/// `POST /v1/conferences/{id}/controls` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlBody {
    /// mute, unmute, remove (one caller: give `leg_id`), lock, unlock, mute_all, unmute_all.
    pub command: String,
    /// The caller's leg, for mute, unmute and remove.
    #[schema(value_type = Option<String>)]
    pub leg_id: Option<LegId>,
}

/// A queued command.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlView {
    /// Identity.
    pub id: String,
    /// The command's name.
    pub command: String,
    /// The caller it acts on.
    pub leg_id: Option<String>,
    /// Given at, in the account's zone.
    pub issued_at: DateTime<FixedOffset>,
}

/// Queues a live control for the conference's media node (moderators of the account).
#[utoipa::path(post, path = "/v1/conferences/{id}/controls", tag = "conferences", params(("id" = String, Path)), request_body = ControlBody,
    responses((status = 202, body = ControlView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn control_conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ControlBody>,
) -> ApiResult<(StatusCode, Json<ControlView>)> {
    let conference = conference_for(&state, &caller, &id, Action::ModifyConference).await?;
    let command = ControlCommand::parse(&body.command, body.leg_id)?;
    if status(&state, &conference).await? != ConferenceStatus::Running {
        return Err(ApiError::state(
            None,
            "the conference is not running: nobody is on the line",
        ));
    }
    if let Some(leg) = command.leg() {
        let live = state.store.live_participants(conference.id).await?;
        if !live.iter().any(|p| p.leg_id == leg) {
            return Err(ApiError::invalid(
                "leg_id",
                "this caller is not on the line",
            ));
        }
    }
    let control = ConferenceControl::new(
        conference.id,
        conference.account_id,
        command,
        caller.user.id,
        state.now(),
    );
    state.store.queue_control(&control).await?;
    tracing::info!(conference = %conference.id, command = command.as_str(), "live control queued");
    Ok((
        StatusCode::ACCEPTED,
        Json(ControlView {
            id: control.id.to_string(),
            command: command.as_str().to_string(),
            leg_id: command.leg().map(|l| l.to_string()),
            issued_at: local(control.issued_at, caller.account.time_zone),
        }),
    ))
}
