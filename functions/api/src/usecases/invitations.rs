//! The confirmation shown on screen (the same text as the e-mail), and invitations
//! queued for the mailer: each invitee gets only the code of their role.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use teleconf_adapters::store::{
    ActivityStore, CdrStore, ConferenceStore, InvitationStore, NumberStore,
};
use teleconf_domain::messages::Branding;
use teleconf_domain::messages::Confirmation;
use teleconf_domain::permissions::Action;
use teleconf_domain::{
    ActivityKind, CallerRole, ConferenceStatus, Email, Invitation, InvitationId, Language,
};
use utoipa::ToSchema;

use super::Caller;
use super::activity::record;
use super::conferences::{access_numbers, conference_for, status};
use crate::error::Error;

/// Most invitees in one request.
pub const MAX_INVITEES: usize = 100;

/// One person to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitee {
    /// Where to send the invitation.
    #[schema(value_type = String)]
    pub email: Email,
    /// participant, listener or moderator: the only code they receive.
    #[schema(value_type = String)]
    pub role: CallerRole,
    /// fr or en; the conference's language by default.
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
}

/// `POST /v1/conferences/{id}/invitations` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationsBody {
    /// 1 to 100 invitees.
    pub invitees: Vec<Invitee>,
}

/// The confirmation text of conference `id` with every code, in `language` (the
/// conference's by default).
pub async fn confirmation<S: ConferenceStore + NumberStore + ?Sized>(
    store: &S,
    branding: &Branding,
    caller: &Caller,
    id: &str,
    language: Option<Language>,
) -> Result<String, Error> {
    let conference = conference_for(store, caller, id, Action::ModifyConference).await?;
    let numbers = access_numbers(store, caller).await?;
    Ok(Confirmation {
        conference: &conference,
        access_numbers: &numbers,
        time_zone: caller.account.time_zone,
        language: language.unwrap_or(conference.language),
        roles: &CallerRole::ALL,
        branding,
    }
    .render()
    .text)
}

/// Queues one invitation mail per invitee of conference `id` (sent by the mailer);
/// refused once it has ended.
pub async fn invite<S>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
    body: InvitationsBody,
) -> Result<Vec<Invitation>, Error>
where
    S: ConferenceStore + CdrStore + InvitationStore + ActivityStore + ?Sized,
{
    let conference = conference_for(store, caller, id, Action::ModifyConference).await?;
    if body.invitees.is_empty() || body.invitees.len() > MAX_INVITEES {
        return Err(Error::invalid(
            "invitees",
            format!("invite 1 to {MAX_INVITEES} people per request"),
        ));
    }
    if status(store, now, &conference).await? == ConferenceStatus::Ended {
        return Err(Error::state(None, "this conference has ended"));
    }
    let invitations: Vec<Invitation> = body
        .invitees
        .into_iter()
        .map(|i| Invitation {
            id: InvitationId::new(),
            account_id: conference.account_id,
            conference_id: conference.id,
            email: i.email,
            role: i.role,
            language: i.language.unwrap_or(conference.language),
            invited_by: caller.user.id,
            invited_at: now,
        })
        .collect();
    store.queue_invitations(&invitations).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::InvitationsSent,
        Some(conference.id),
        format!("{} invitation(s)", invitations.len()),
    )
    .await;
    Ok(invitations)
}
