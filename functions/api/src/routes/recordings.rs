//! Conference recordings: metadata and a short-lived download link (never a
//! permanent public URL; the rules: [`crate::usecases::recordings`]).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use teleconf_views::recordings::RecordingView;
use utoipa::IntoParams;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::QueryParams;
use crate::state::AppState;
use crate::usecases::{Caller, recordings};

/// `?conference_id=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordingQuery {
    /// Only this conference's recordings.
    pub conference_id: Option<String>,
}

/// Lists the recordings the caller may hear.
#[utoipa::path(get, path = "/v1/recordings", tag = "recordings", params(RecordingQuery),
    responses((status = 200, body = [RecordingView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_recordings(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<RecordingQuery>,
) -> ApiResult<Json<Vec<RecordingView>>> {
    let tz = caller.account.time_zone;
    let all = recordings::list(&*state.store, &caller, q.conference_id.as_deref()).await?;
    Ok(Json(
        all.iter()
            .map(|r| RecordingView::new(r, tz, None))
            .collect(),
    ))
}

/// One recording, with its download links (the whole file, or each segment kept).
#[utoipa::path(get, path = "/v1/recordings/{id}", tag = "recordings", params(("id" = String, Path)),
    responses((status = 200, body = RecordingView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_recording(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RecordingView>> {
    let (recording, links) = recordings::get(&*state.store, &*state.blobs, &caller, &id).await?;
    Ok(Json(RecordingView::new(
        &recording,
        caller.account.time_zone,
        Some(links),
    )))
}
