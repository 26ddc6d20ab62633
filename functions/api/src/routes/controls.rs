//! The live view's controls: a moderator of the account mutes, unmutes or removes a
//! caller, locks or unlocks the conference, or mutes everyone (lecture mode). The
//! command is queued under the conference (`ControlStore`); the media node that
//! holds the conference applies it as it applies the same keypad commands, and
//! records the activity entry when it does.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use teleconf_views::controls::ControlView;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::controls::{self, ControlBody};

/// Queues a live control for the conference's media node (moderators of the account).
#[utoipa::path(post, path = "/v1/conferences/{id}/controls", tag = "conferences", params(("id" = String, Path)), request_body = ControlBody,
    responses((status = 202, body = ControlView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn control_conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ControlBody>,
) -> ApiResult<(StatusCode, Json<ControlView>)> {
    let control = controls::queue(&*state.store, state.now(), &caller, &id, body).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ControlView::new(&control, caller.account.time_zone)),
    ))
}
