//! Conference recordings: metadata and a short-lived download link (never a
//! permanent public URL).

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use teleconf_domain::permissions::{Action, ConferenceRef, decide};
use teleconf_domain::{Recording, RecordingId};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, QueryParams};
use crate::routes::conferences::conference_for;
use crate::routes::local;
use crate::state::AppState;

/// How long a download link works.
pub const DOWNLOAD_LINK_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// `?conference_id=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordingQuery {
    /// Only this conference's recordings.
    pub conference_id: Option<String>,
}

/// A recording.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingView {
    /// Identity.
    pub id: String,
    /// The conference.
    pub conference_id: String,
    /// When recording started, in the account's zone.
    pub started_at: DateTime<FixedOffset>,
    /// Length.
    pub duration_ms: u64,
    /// WAV size.
    pub size_bytes: u64,
    /// A download link valid 15 minutes (on `GET /v1/recordings/{id}` only).
    pub download_url: Option<String>,
}

fn view(r: &Recording, caller: &Caller, download_url: Option<String>) -> RecordingView {
    RecordingView {
        id: r.id.to_string(),
        conference_id: r.conference_id.to_string(),
        started_at: local(r.started_at, caller.account.time_zone),
        duration_ms: r.duration_ms,
        size_bytes: r.size_bytes,
        download_url,
    }
}

/// Lists the recordings the caller may hear.
#[utoipa::path(get, path = "/v1/recordings", tag = "recordings", params(RecordingQuery),
    responses((status = 200, body = [RecordingView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_recordings(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<RecordingQuery>,
) -> ApiResult<Json<Vec<RecordingView>>> {
    let recordings = match &q.conference_id {
        Some(id) => {
            let conference = conference_for(&state, &caller, id, Action::ViewRecordings).await?;
            state
                .store
                .recordings(caller.account.id, Some(conference.id))
                .await?
        }
        None => {
            ApiError::check(
                decide(&caller.actor(), Action::ListConferences(caller.account.id)),
                "recording",
            )?;
            let conferences = state.store.conferences(caller.account.id).await?;
            let allowed = |r: &Recording| {
                conferences
                    .iter()
                    .find(|c| c.id == r.conference_id)
                    .is_some_and(|c| {
                        decide(
                            &caller.actor(),
                            Action::ViewRecordings(ConferenceRef::from(c)),
                        )
                        .is_allowed()
                    })
            };
            state
                .store
                .recordings(caller.account.id, None)
                .await?
                .into_iter()
                .filter(allowed)
                .collect()
        }
    };
    Ok(Json(
        recordings.iter().map(|r| view(r, &caller, None)).collect(),
    ))
}

/// One recording, with a download link.
#[utoipa::path(get, path = "/v1/recordings/{id}", tag = "recordings", params(("id" = String, Path)),
    responses((status = 200, body = RecordingView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_recording(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RecordingView>> {
    let id: RecordingId = id.parse().map_err(|_| ApiError::not_found("recording"))?;
    let recording = state
        .store
        .recording(id)
        .await?
        .ok_or_else(|| ApiError::not_found("recording"))?;
    conference_for(
        &state,
        &caller,
        &recording.conference_id.to_string(),
        Action::ViewRecordings,
    )
    .await?;
    let url = state
        .blobs
        .download_url(&recording.key(), DOWNLOAD_LINK_LIFETIME)
        .await?;
    Ok(Json(view(&recording, &caller, Some(url))))
}
