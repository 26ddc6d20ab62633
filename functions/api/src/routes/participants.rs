//! The live view of a running conference: who is on the line now, with their
//! role, mute state, join time and caller ID, as the media node keeps it.

use axum::Json;
use axum::extract::{Path, State};
use teleconf_views::participants::ParticipantView;

use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use crate::usecases::{Caller, participants};

/// Who is on the line now, oldest first (empty when the conference is not running).
#[utoipa::path(get, path = "/v1/conferences/{id}/participants", tag = "conferences", params(("id" = String, Path)),
    responses((status = 200, body = [ParticipantView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_participants(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ParticipantView>>> {
    let tz = caller.account.time_zone;
    let live = participants::list(&*state.store, &caller, &id).await?;
    Ok(Json(
        live.iter().map(|p| ParticipantView::new(p, tz)).collect(),
    ))
}
