//! Conferences: scheduling, changing, cancelling, and the one-time code to record
//! the intro message by phone.
//!
//! Rules beyond the domain's (end after start, at most 24 h, distinct codes): the
//! start may not be in the past; a running conference keeps its start and cannot be
//! deleted; an ended one cannot be changed or deleted. An operator sees every
//! conference of the account but the codes only of those they may modify.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use teleconf_domain::intro_code::INTRO_CODE_LIFETIME;
use teleconf_domain::permissions::{Action, ConferenceRef, decide};
use teleconf_domain::{
    AccessCode, AccessCodes, ActivityKind, CallerRole, CodeChoices, Conference, ConferenceId,
    ConferenceNumber, ConferenceStatus, IntroCode, IntroGrant, Language, NumberKind, PhoneNumber,
    PromptId, Schedule, UserId,
};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::routes::numbers::ensure_prompt;
use crate::routes::{double_option, local, record};
use crate::state::AppState;

/// How many fresh numbers to draw before giving up (each clash is one in ~10⁷).
const NUMBER_DRAWS: usize = 20;

/// Codes chosen by the user; the others are generated.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodesBody {
    /// 4 to 10 digits.
    #[schema(value_type = Option<String>, example = "69501")]
    pub participant: Option<AccessCode>,
    /// 4 to 10 digits.
    #[schema(value_type = Option<String>, example = "83269")]
    pub listener: Option<AccessCode>,
    /// 4 to 10 digits.
    #[schema(value_type = Option<String>)]
    pub moderator: Option<AccessCode>,
}

/// `POST /v1/conferences` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConference {
    /// « Description ».
    pub description: String,
    /// Planned start, RFC 3339 with offset; not in the past.
    pub start: DateTime<FixedOffset>,
    /// Planned end: after the start, at most 24 h later.
    pub end: DateTime<FixedOffset>,
    /// Record the conference.
    pub record: bool,
    /// An uploaded prompt played to each caller admitted.
    #[schema(value_type = Option<String>)]
    pub intro_prompt: Option<PromptId>,
    /// fr or en; the account's by default.
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
    /// Custom codes.
    pub codes: Option<CodesBody>,
}

/// `PATCH /v1/conferences/{id}` body: only the fields to change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConferencePatch {
    /// « Description ».
    pub description: Option<String>,
    /// New start.
    pub start: Option<DateTime<FixedOffset>>,
    /// New end.
    pub end: Option<DateTime<FixedOffset>>,
    /// Record or not.
    pub record: Option<bool>,
    /// A prompt id, or null to remove the intro.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub intro_prompt: Option<Option<PromptId>>,
    /// fr or en.
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
    /// Codes to change; the others are kept.
    pub codes: Option<CodesBody>,
}

/// The codes, one per role.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodesView {
    /// Participants hear and are heard.
    pub participant: String,
    /// Listeners only hear.
    pub listener: String,
    /// Moderators also have the keypad controls.
    pub moderator: String,
}

/// An access number in a conference's details.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessNumberView {
    /// E.164.
    pub number: String,
    /// As people read it.
    pub national: String,
    /// local or toll_free.
    #[schema(value_type = String)]
    pub kind: NumberKind,
}

/// A conference.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConferenceView {
    /// Identity.
    #[schema(value_type = String)]
    pub id: ConferenceId,
    /// The 7 digits callers key.
    #[schema(value_type = String, example = "3832257")]
    pub conference_number: ConferenceNumber,
    /// « Description ».
    pub description: String,
    /// Planned start, in the account's zone.
    pub start: DateTime<FixedOffset>,
    /// Planned end, in the account's zone.
    pub end: DateTime<FixedOffset>,
    /// Recorded or not.
    pub record: bool,
    /// The intro prompt.
    #[schema(value_type = Option<String>)]
    pub intro_prompt: Option<PromptId>,
    /// fr or en.
    #[schema(value_type = String)]
    pub language: Language,
    /// The codes; absent when the caller may not modify the conference.
    pub codes: Option<CodesView>,
    /// The account's conference access numbers.
    pub access_numbers: Vec<AccessNumberView>,
    /// scheduled, open, running or ended.
    #[schema(value_type = String)]
    pub status: ConferenceStatus,
    /// Who scheduled it.
    #[schema(value_type = String)]
    pub created_by: UserId,
    /// Callers it holds at most.
    pub max_participants: u32,
}

/// The one-time code to record the intro by phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntroByPhone {
    /// The access number to dial.
    pub number: String,
    /// As people read it.
    pub national: String,
    /// Key it instead of a conference number.
    pub code: String,
    /// After this the code opens nothing.
    pub expires_at: DateTime<FixedOffset>,
}

/// The account's numbers that lead to conferences.
pub async fn access_numbers(state: &AppState, caller: &Caller) -> ApiResult<Vec<PhoneNumber>> {
    Ok(PhoneNumber::for_conferences(
        state.store.numbers(caller.account.id).await?,
    ))
}

/// Where the conference is in its life now. Open legs are counted only while the
/// conference can have callers.
pub async fn status(state: &AppState, conference: &Conference) -> ApiResult<ConferenceStatus> {
    let now = state.now();
    let in_play = conference.ended_at.is_none() && now >= conference.schedule.opens_at();
    let live = if in_play {
        let legs = state.store.legs_of_conference(conference.id).await?;
        u32::try_from(legs.iter().filter(|l| l.left_at.is_none()).count()).unwrap_or(u32::MAX)
    } else {
        0
    };
    Ok(ConferenceStatus::at(
        &conference.schedule,
        now,
        live,
        conference.ended_at.is_some(),
    ))
}

/// The view of `conference` for `caller`.
pub fn view(
    caller: &Caller,
    conference: &Conference,
    numbers: &[PhoneNumber],
    status: ConferenceStatus,
) -> ConferenceView {
    let tz = caller.account.time_zone;
    let may_modify = decide(
        &caller.actor(),
        Action::ModifyConference(ConferenceRef::from(conference)),
    )
    .is_allowed();
    ConferenceView {
        id: conference.id,
        conference_number: conference.number.clone(),
        description: conference.description.clone(),
        start: local(conference.schedule.start(), tz),
        end: local(conference.schedule.end(), tz),
        record: conference.record,
        intro_prompt: conference.intro_prompt,
        language: conference.language,
        codes: may_modify.then(|| CodesView {
            participant: conference.codes.code(CallerRole::Participant).to_string(),
            listener: conference.codes.code(CallerRole::Listener).to_string(),
            moderator: conference.codes.code(CallerRole::Moderator).to_string(),
        }),
        access_numbers: numbers
            .iter()
            .map(|n| AccessNumberView {
                number: n.number.to_string(),
                national: n.number.national(),
                kind: n.kind,
            })
            .collect(),
        status,
        created_by: conference.created_by,
        max_participants: conference.max_participants,
    }
}

/// The conference `id` if the caller's account has it (404 otherwise), after `action`'s check.
pub async fn conference_for(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: fn(ConferenceRef) -> Action,
) -> ApiResult<Conference> {
    let id: ConferenceId = id.parse().map_err(|_| ApiError::not_found("conference"))?;
    let conference = state
        .store
        .conference(id)
        .await?
        .ok_or_else(|| ApiError::not_found("conference"))?;
    ApiError::check(
        decide(
            &caller.actor(),
            Action::ListConferences(conference.account_id),
        ),
        "conference",
    )?;
    ApiError::check(
        decide(&caller.actor(), action(ConferenceRef::from(&conference))),
        "conference",
    )?;
    Ok(conference)
}

/// Lists the account's conferences, by start.
#[utoipa::path(get, path = "/v1/conferences", tag = "conferences", responses((status = 200, body = [ConferenceView])))]
pub async fn list_conferences(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<ConferenceView>>> {
    ApiError::check(
        decide(&caller.actor(), Action::ListConferences(caller.account.id)),
        "conference",
    )?;
    let numbers = access_numbers(&state, &caller).await?;
    let mut out = Vec::new();
    for c in state.store.conferences(caller.account.id).await? {
        let status = status(&state, &c).await?;
        out.push(view(&caller, &c, &numbers, status));
    }
    Ok(Json(out))
}

/// Schedules a conference.
#[utoipa::path(post, path = "/v1/conferences", tag = "conferences", request_body = NewConference,
    responses((status = 201, body = ConferenceView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_conference(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewConference>,
) -> ApiResult<(StatusCode, Json<ConferenceView>)> {
    ApiError::check(
        decide(&caller.actor(), Action::CreateConference(caller.account.id)),
        "conference",
    )?;
    let now = state.now();
    let schedule = Schedule::new(body.start.to_utc(), body.end.to_utc())?;
    let description = Conference::validate_description(&body.description)?;
    let choices = body.codes.unwrap_or_default();
    let codes = AccessCodes::from_choices(CodeChoices {
        participant: choices.participant,
        listener: choices.listener,
        moderator: choices.moderator,
    })?;
    if let Some(prompt) = body.intro_prompt {
        ensure_prompt(&state, caller.account.id, prompt, "intro_prompt").await?;
    }
    let mut conference = None;
    for _ in 0..NUMBER_DRAWS {
        let mut candidate = Conference::schedule(
            caller.account.id,
            ConferenceNumber::generate(),
            &description,
            schedule,
            body.record,
            body.language.unwrap_or(caller.account.language),
            codes.clone(),
            caller.user.id,
            caller.account.plan.participant_limit(),
            now,
        )?;
        candidate.intro_prompt = body.intro_prompt;
        match state.store.create_conference(&candidate).await {
            Ok(()) => {
                conference = Some(candidate);
                break;
            }
            Err(teleconf_adapters::Error::Conflict("conference_number")) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let conference = conference.ok_or_else(|| {
        ApiError::from(teleconf_adapters::Error::Unavailable(
            "no free conference number found".into(),
        ))
    })?;
    record(
        &state,
        &caller,
        ActivityKind::ConferenceCreated,
        Some(conference.id),
        conference.description.clone(),
    )
    .await;
    let numbers = access_numbers(&state, &caller).await?;
    let status = status(&state, &conference).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&caller, &conference, &numbers, status)),
    ))
}

/// One conference.
#[utoipa::path(get, path = "/v1/conferences/{id}", tag = "conferences", params(("id" = String, Path)),
    responses((status = 200, body = ConferenceView), (status = 404, body = ErrorBody)))]
pub async fn get_conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ConferenceView>> {
    let conference =
        conference_for(&state, &caller, &id, |c| Action::ListConferences(c.account)).await?;
    let numbers = access_numbers(&state, &caller).await?;
    let status = status(&state, &conference).await?;
    Ok(Json(view(&caller, &conference, &numbers, status)))
}

/// Changes a conference.
#[utoipa::path(patch, path = "/v1/conferences/{id}", tag = "conferences", params(("id" = String, Path)), request_body = ConferencePatch,
    responses((status = 200, body = ConferenceView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<ConferencePatch>,
) -> ApiResult<Json<ConferenceView>> {
    let mut conference = conference_for(&state, &caller, &id, Action::ModifyConference).await?;
    let now = state.now();
    let status = status(&state, &conference).await?;
    if status == ConferenceStatus::Ended {
        return Err(ApiError::state(
            None,
            "this conference has ended and can no longer be changed",
        ));
    }
    if patch.start.is_some() || patch.end.is_some() {
        let start = patch
            .start
            .map(|s| s.to_utc())
            .unwrap_or(conference.schedule.start());
        let end = patch
            .end
            .map(|e| e.to_utc())
            .unwrap_or(conference.schedule.end());
        if start != conference.schedule.start() {
            if status == ConferenceStatus::Running {
                return Err(ApiError::state(
                    Some("start"),
                    "a running conference keeps its start",
                ));
            }
            if start < now {
                return Err(ApiError::invalid(
                    "start",
                    "the start cannot be in the past",
                ));
            }
        }
        if end < now {
            return Err(ApiError::invalid("end", "the end cannot be in the past"));
        }
        conference.schedule = Schedule::new(start, end)?;
    }
    if let Some(description) = patch.description {
        conference.description = Conference::validate_description(&description)?;
    }
    conference.record = patch.record.unwrap_or(conference.record);
    conference.language = patch.language.unwrap_or(conference.language);
    if let Some(intro) = patch.intro_prompt {
        if let Some(prompt) = intro {
            ensure_prompt(&state, caller.account.id, prompt, "intro_prompt").await?;
        }
        conference.intro_prompt = intro;
    }
    if let Some(codes) = patch.codes {
        let keep = |role| conference.codes.code(role).clone();
        conference.codes = AccessCodes::new(
            codes
                .participant
                .unwrap_or_else(|| keep(CallerRole::Participant)),
            codes.listener.unwrap_or_else(|| keep(CallerRole::Listener)),
            codes
                .moderator
                .unwrap_or_else(|| keep(CallerRole::Moderator)),
        )?;
    }
    state.store.update_conference(&conference).await?;
    record(
        &state,
        &caller,
        ActivityKind::ConferenceUpdated,
        Some(conference.id),
        conference.description.clone(),
    )
    .await;
    let numbers = access_numbers(&state, &caller).await?;
    let status = self::status(&state, &conference).await?;
    Ok(Json(view(&caller, &conference, &numbers, status)))
}

/// Cancels a conference that has not started.
#[utoipa::path(delete, path = "/v1/conferences/{id}", tag = "conferences", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn delete_conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let conference = conference_for(&state, &caller, &id, Action::ModifyConference).await?;
    match status(&state, &conference).await? {
        ConferenceStatus::Running => {
            return Err(ApiError::state(
                None,
                "callers are on the line: a running conference cannot be deleted",
            ));
        }
        ConferenceStatus::Ended => {
            return Err(ApiError::state(
                None,
                "an ended conference stays in the records",
            ));
        }
        ConferenceStatus::Scheduled | ConferenceStatus::Open => {}
    }
    state.store.delete_conference(&conference).await?;
    record(
        &state,
        &caller,
        ActivityKind::ConferenceDeleted,
        Some(conference.id),
        conference.description.clone(),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// A one-time code to record the conference's intro message by phone: dial the
/// access number, key the code, speak after the beep.
#[utoipa::path(post, path = "/v1/conferences/{id}/intro/by-phone", tag = "conferences", params(("id" = String, Path)),
    responses((status = 201, body = IntroByPhone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn intro_by_phone(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<IntroByPhone>)> {
    let conference = conference_for(&state, &caller, &id, Action::ModifyConference).await?;
    if status(&state, &conference).await? == ConferenceStatus::Ended {
        return Err(ApiError::state(None, "this conference has ended"));
    }
    let number = access_numbers(&state, &caller)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::state(
                Some("number"),
                "this account has no conference access number yet: the provider assigns them",
            )
        })?;
    let now = state.now();
    for _ in 0..NUMBER_DRAWS {
        let grant = IntroGrant {
            code: IntroCode::generate(),
            account_id: caller.account.id,
            conference_id: conference.id,
            granted_to: caller.user.id,
            expires_at: now + INTRO_CODE_LIFETIME,
        };
        match state.store.create_intro_grant(&grant).await {
            Ok(()) => {
                record(
                    &state,
                    &caller,
                    ActivityKind::ConferenceUpdated,
                    Some(conference.id),
                    "intro message to be recorded by phone",
                )
                .await;
                return Ok((
                    StatusCode::CREATED,
                    Json(IntroByPhone {
                        number: number.number.to_string(),
                        national: number.number.national(),
                        code: grant.code.to_string(),
                        expires_at: local(grant.expires_at, caller.account.time_zone),
                    }),
                ));
            }
            Err(teleconf_adapters::Error::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(teleconf_adapters::Error::Unavailable("no free intro code found".into()).into())
}
