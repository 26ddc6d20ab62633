//! The confirmation shown on screen (the same text as the e-mail), and invitations
//! queued for the mailer: each invitee gets only the code of their role.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use teleconf_domain::messages::Confirmation;
use teleconf_domain::permissions::Action;
use teleconf_domain::{
    ActivityKind, CallerRole, ConferenceStatus, Email, Invitation, InvitationId, Language,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody, QueryParams};
use crate::routes::conferences::{access_numbers, conference_for, status};
use crate::routes::record;
use crate::state::AppState;

/// Most invitees in one request.
pub const MAX_INVITEES: usize = 100;

/// `?lang=` of the confirmation.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LangQuery {
    /// fr or en; the conference's language by default.
    #[param(value_type = Option<String>)]
    pub lang: Option<Language>,
}

/// The confirmation text with every code, as shown after scheduling.
#[utoipa::path(get, path = "/v1/conferences/{id}/confirmation", tag = "conferences", params(("id" = String, Path), LangQuery),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn confirmation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<LangQuery>,
) -> ApiResult<impl IntoResponse> {
    let conference = conference_for(&state, &caller, &id, Action::ModifyConference).await?;
    let numbers = access_numbers(&state, &caller).await?;
    let rendered = Confirmation {
        conference: &conference,
        access_numbers: &numbers,
        time_zone: caller.account.time_zone,
        language: q.lang.unwrap_or(conference.language),
        roles: &CallerRole::ALL,
        branding: &state.branding,
    }
    .render();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        rendered.text,
    ))
}

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

/// What was queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// How many mails are queued.
    pub queued: usize,
    /// Their ids, in the request's order.
    #[schema(value_type = Vec<String>)]
    pub invitation_ids: Vec<InvitationId>,
}

/// Queues one invitation mail per invitee (sent by the mailer).
#[utoipa::path(post, path = "/v1/conferences/{id}/invitations", tag = "conferences", params(("id" = String, Path)), request_body = InvitationsBody,
    responses((status = 202, body = Queued), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<InvitationsBody>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    let conference = conference_for(&state, &caller, &id, Action::ModifyConference).await?;
    if body.invitees.is_empty() || body.invitees.len() > MAX_INVITEES {
        return Err(ApiError::invalid(
            "invitees",
            format!("invite 1 to {MAX_INVITEES} people per request"),
        ));
    }
    if status(&state, &conference).await? == ConferenceStatus::Ended {
        return Err(ApiError::state(None, "this conference has ended"));
    }
    let now = state.now();
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
    state.store.queue_invitations(&invitations).await?;
    record(
        &state,
        &caller,
        ActivityKind::InvitationsSent,
        Some(conference.id),
        format!("{} invitation(s)", invitations.len()),
    )
    .await;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            queued: invitations.len(),
            invitation_ids: invitations.iter().map(|i| i.id).collect(),
        }),
    ))
}
