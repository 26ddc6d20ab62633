//! Live controls of a running conference (its moderators): queued for the media
//! node that runs it, which applies them within a second.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use teleconf_adapters::store::{CdrStore, ConferenceStore, ControlStore, LiveStore};
use teleconf_domain::permissions::Action;
use teleconf_domain::{ConferenceControl, ConferenceStatus, ControlCommand, LegId};
use utoipa::ToSchema;

use super::Caller;
use super::conferences::{conference_for, status};
use crate::error::Error;

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

/// Queues `body`'s command for the conference `id`: only while it runs, and for
/// one caller only one on the line.
pub async fn queue<S>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
    body: ControlBody,
) -> Result<ConferenceControl, Error>
where
    S: ConferenceStore + CdrStore + LiveStore + ControlStore + ?Sized,
{
    let conference = conference_for(store, caller, id, Action::ModifyConference).await?;
    let command = ControlCommand::parse(&body.command, body.leg_id)?;
    if status(store, now, &conference).await? != ConferenceStatus::Running {
        return Err(Error::state(
            None,
            "the conference is not running: nobody is on the line",
        ));
    }
    if let Some(leg) = command.leg() {
        let live = store.live_participants(conference.id).await?;
        if !live.iter().any(|p| p.leg_id == leg) {
            return Err(Error::invalid("leg_id", "this caller is not on the line"));
        }
    }
    let control = ConferenceControl::new(
        conference.id,
        conference.account_id,
        command,
        caller.user.id,
        now,
    );
    store.queue_control(&control).await?;
    tracing::info!(conference = %conference.id, command = command.as_str(), "live control queued");
    Ok(control)
}
