//! The live view of a running conference: who is on the line now, as the media
//! node keeps it.

use teleconf_adapters::store::{ConferenceStore, LiveStore};
use teleconf_domain::LiveParticipant;
use teleconf_domain::permissions::Action;

use super::Caller;
use super::conferences::conference_for;
use crate::error::Error;

/// Who is on the line of conference `id` now (empty when it is not running).
pub async fn list<S: ConferenceStore + LiveStore + ?Sized>(
    store: &S,
    caller: &Caller,
    id: &str,
) -> Result<Vec<LiveParticipant>, Error> {
    let conference = conference_for(store, caller, id, Action::ViewLogs).await?;
    Ok(store.live_participants(conference.id).await?)
}
