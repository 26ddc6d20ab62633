//! Conference recordings: metadata and a short-lived download link (never a
//! permanent public URL).

use std::time::Duration;

use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::{ConferenceStore, RecordingStore};
use teleconf_domain::permissions::{Action, ConferenceRef, decide};
use teleconf_domain::{Recording, RecordingId, RecordingState};
use teleconf_views::recordings::Links;

use super::Caller;
use super::conferences::conference_for;
use crate::error::Error;

/// How long a download link works.
pub const DOWNLOAD_LINK_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The recordings the caller may hear, of conference `conference` or of them all.
pub async fn list<S: ConferenceStore + RecordingStore + ?Sized>(
    store: &S,
    caller: &Caller,
    conference: Option<&str>,
) -> Result<Vec<Recording>, Error> {
    if let Some(id) = conference {
        let conference = conference_for(store, caller, id, Action::ViewRecordings).await?;
        return Ok(store
            .recordings(caller.account.id, Some(conference.id))
            .await?);
    }
    Error::check(
        decide(&caller.actor(), Action::ListConferences(caller.account.id)),
        "recording",
    )?;
    let conferences = store.conferences(caller.account.id).await?;
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
    Ok(store
        .recordings(caller.account.id, None)
        .await?
        .into_iter()
        .filter(allowed)
        .collect())
}

/// Recording `id`, with links to download it valid [`DOWNLOAD_LINK_LIFETIME`]:
/// the whole file once complete, and each segment kept.
pub async fn get<S: ConferenceStore + RecordingStore + ?Sized>(
    store: &S,
    blobs: &dyn BlobStore,
    caller: &Caller,
    id: &str,
) -> Result<(Recording, Links), Error> {
    let id: RecordingId = id.parse().map_err(|_| Error::NotFound("recording"))?;
    let recording = store
        .recording(id)
        .await?
        .ok_or(Error::NotFound("recording"))?;
    conference_for(
        store,
        caller,
        &recording.conference_id.to_string(),
        Action::ViewRecordings,
    )
    .await?;
    let whole = match recording.state {
        RecordingState::Complete => Some(
            blobs
                .download_url(&recording.key(), DOWNLOAD_LINK_LIFETIME)
                .await?,
        ),
        RecordingState::Recording | RecordingState::Cut => None,
    };
    let mut segments = Vec::with_capacity(recording.segments.len());
    for segment in &recording.segments {
        let key = recording.segment_key(segment.index);
        segments.push(blobs.download_url(&key, DOWNLOAD_LINK_LIFETIME).await?);
    }
    Ok((recording, Links { whole, segments }))
}
