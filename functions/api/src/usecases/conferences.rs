//! Conferences: scheduling, changing, cancelling, and the one-time code to record
//! the intro message by phone.
//!
//! Rules beyond the domain's (end after start, at most 24 h, distinct codes): the
//! start may not be in the past; a running conference keeps its start and cannot be
//! deleted; an ended one cannot be changed or deleted. An operator sees every
//! conference of the account but the codes only of those they may modify.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::{
    ActivityStore, CdrStore, ConferenceStore, IntroCodeStore, NumberStore,
};
use teleconf_domain::intro_code::INTRO_CODE_LIFETIME;
use teleconf_domain::permissions::{Action, ConferenceRef, decide};
use teleconf_domain::{
    AccessCode, AccessCodes, ActivityKind, CallerRole, CodeChoices, Conference, ConferenceId,
    ConferenceNumber, ConferenceStatus, IntroCode, IntroGrant, Language, PhoneNumber, PromptId,
    Schedule,
};
use utoipa::ToSchema;

use super::Caller;
use super::activity::record;
use super::double_option;
use super::prompts::ensure_prompt;
use crate::error::Error;

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

/// A conference as its account sees it now: its status and the numbers that reach it.
#[derive(Debug)]
pub struct Shown {
    /// The conference.
    pub conference: Conference,
    /// The account's conference access numbers.
    pub numbers: Vec<PhoneNumber>,
    /// Where it is in its life now.
    pub status: ConferenceStatus,
}

/// The one-time code granted, and the number to key it on.
#[derive(Debug)]
pub struct IntroCodeGranted {
    /// The grant.
    pub grant: IntroGrant,
    /// The account's first conference access number.
    pub number: PhoneNumber,
}

/// The account's numbers that lead to conferences.
pub async fn access_numbers<S: NumberStore + ?Sized>(
    store: &S,
    caller: &Caller,
) -> Result<Vec<PhoneNumber>, Error> {
    Ok(PhoneNumber::for_conferences(
        store.numbers(caller.account.id).await?,
    ))
}

/// Where the conference is in its life at `now`. Open legs are counted only while
/// the conference can have callers.
pub async fn status<S: CdrStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    conference: &Conference,
) -> Result<ConferenceStatus, Error> {
    let in_play = conference.ended_at.is_none() && now >= conference.schedule.opens_at();
    let live = if in_play {
        let legs = store.legs_of_conference(conference.id).await?;
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

/// The conference `id` if the caller's account has it (not found otherwise), after
/// `action`'s check.
pub async fn conference_for<S: ConferenceStore + ?Sized>(
    store: &S,
    caller: &Caller,
    id: &str,
    action: fn(ConferenceRef) -> Action,
) -> Result<Conference, Error> {
    let id: ConferenceId = id.parse().map_err(|_| Error::NotFound("conference"))?;
    let conference = store
        .conference(id)
        .await?
        .ok_or(Error::NotFound("conference"))?;
    Error::check(
        decide(
            &caller.actor(),
            Action::ListConferences(conference.account_id),
        ),
        "conference",
    )?;
    Error::check(
        decide(&caller.actor(), action(ConferenceRef::from(&conference))),
        "conference",
    )?;
    Ok(conference)
}

/// `conference` with its status at `now` and the account's access numbers.
async fn shown<S: NumberStore + CdrStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    conference: Conference,
) -> Result<Shown, Error> {
    let numbers = access_numbers(store, caller).await?;
    let status = status(store, now, &conference).await?;
    Ok(Shown {
        conference,
        numbers,
        status,
    })
}

/// The account's conferences, by start.
pub async fn list<S: ConferenceStore + NumberStore + CdrStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
) -> Result<Vec<Shown>, Error> {
    Error::check(
        decide(&caller.actor(), Action::ListConferences(caller.account.id)),
        "conference",
    )?;
    let numbers = access_numbers(store, caller).await?;
    let mut out = Vec::new();
    for conference in store.conferences(caller.account.id).await? {
        let status = status(store, now, &conference).await?;
        out.push(Shown {
            conference,
            numbers: numbers.clone(),
            status,
        });
    }
    Ok(out)
}

/// One conference.
pub async fn get<S: ConferenceStore + NumberStore + CdrStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
) -> Result<Shown, Error> {
    let conference =
        conference_for(store, caller, id, |c| Action::ListConferences(c.account)).await?;
    shown(store, now, caller, conference).await
}

/// Schedules a conference under a fresh conference number.
pub async fn create<S>(
    store: &S,
    blobs: &dyn BlobStore,
    now: DateTime<Utc>,
    caller: &Caller,
    body: NewConference,
) -> Result<Shown, Error>
where
    S: ConferenceStore + NumberStore + CdrStore + ActivityStore + ?Sized,
{
    Error::check(
        decide(&caller.actor(), Action::CreateConference(caller.account.id)),
        "conference",
    )?;
    let schedule = Schedule::new(body.start.to_utc(), body.end.to_utc())?;
    let description = Conference::validate_description(&body.description)?;
    let choices = body.codes.unwrap_or_default();
    let codes = AccessCodes::from_choices(CodeChoices {
        participant: choices.participant,
        listener: choices.listener,
        moderator: choices.moderator,
    })?;
    if let Some(prompt) = body.intro_prompt {
        ensure_prompt(blobs, caller.account.id, prompt, "intro_prompt").await?;
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
        match store.create_conference(&candidate).await {
            Ok(()) => {
                conference = Some(candidate);
                break;
            }
            Err(teleconf_adapters::Error::Conflict("conference_number")) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let conference = conference.ok_or_else(|| {
        teleconf_adapters::Error::Unavailable("no free conference number found".into())
    })?;
    record(
        store,
        now,
        caller,
        ActivityKind::ConferenceCreated,
        Some(conference.id),
        conference.description.clone(),
    )
    .await;
    shown(store, now, caller, conference).await
}

/// Changes a conference: not once ended; a running one keeps its start; neither
/// end nor a new start in the past.
pub async fn patch<S>(
    store: &S,
    blobs: &dyn BlobStore,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
    patch: ConferencePatch,
) -> Result<Shown, Error>
where
    S: ConferenceStore + NumberStore + CdrStore + ActivityStore + ?Sized,
{
    let mut conference = conference_for(store, caller, id, Action::ModifyConference).await?;
    let status = status(store, now, &conference).await?;
    if status == ConferenceStatus::Ended {
        return Err(Error::state(
            None,
            "this conference has ended and can no longer be changed",
        ));
    }
    if patch.start.is_some() || patch.end.is_some() {
        conference.schedule = rescheduled(&conference, status, now, &patch)?;
    }
    if let Some(description) = patch.description {
        conference.description = Conference::validate_description(&description)?;
    }
    conference.record = patch.record.unwrap_or(conference.record);
    conference.language = patch.language.unwrap_or(conference.language);
    if let Some(intro) = patch.intro_prompt {
        if let Some(prompt) = intro {
            ensure_prompt(blobs, caller.account.id, prompt, "intro_prompt").await?;
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
    store.update_conference(&conference).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::ConferenceUpdated,
        Some(conference.id),
        conference.description.clone(),
    )
    .await;
    shown(store, now, caller, conference).await
}

/// The schedule `patch` asks for, within the lifecycle rules.
fn rescheduled(
    conference: &Conference,
    status: ConferenceStatus,
    now: DateTime<Utc>,
    patch: &ConferencePatch,
) -> Result<Schedule, Error> {
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
            return Err(Error::state(
                Some("start"),
                "a running conference keeps its start",
            ));
        }
        if start < now {
            return Err(Error::invalid("start", "the start cannot be in the past"));
        }
    }
    if end < now {
        return Err(Error::invalid("end", "the end cannot be in the past"));
    }
    Ok(Schedule::new(start, end)?)
}

/// Cancels a conference that has not started.
pub async fn delete<S>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
) -> Result<(), Error>
where
    S: ConferenceStore + CdrStore + ActivityStore + ?Sized,
{
    let conference = conference_for(store, caller, id, Action::ModifyConference).await?;
    match status(store, now, &conference).await? {
        ConferenceStatus::Running => {
            return Err(Error::state(
                None,
                "callers are on the line: a running conference cannot be deleted",
            ));
        }
        ConferenceStatus::Ended => {
            return Err(Error::state(
                None,
                "an ended conference stays in the records",
            ));
        }
        ConferenceStatus::Scheduled | ConferenceStatus::Open => {}
    }
    store.delete_conference(&conference).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::ConferenceDeleted,
        Some(conference.id),
        conference.description.clone(),
    )
    .await;
    Ok(())
}

/// A one-time code to record the conference's intro message by phone: dial the
/// access number, key the code, speak after the beep.
pub async fn grant_intro_code<S>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
) -> Result<IntroCodeGranted, Error>
where
    S: ConferenceStore + NumberStore + CdrStore + IntroCodeStore + ActivityStore + ?Sized,
{
    let conference = conference_for(store, caller, id, Action::ModifyConference).await?;
    if status(store, now, &conference).await? == ConferenceStatus::Ended {
        return Err(Error::state(None, "this conference has ended"));
    }
    let number = access_numbers(store, caller)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::state(
                Some("number"),
                "this account has no conference access number yet: the provider assigns them",
            )
        })?;
    for _ in 0..NUMBER_DRAWS {
        let grant = IntroGrant {
            code: IntroCode::generate(),
            account_id: caller.account.id,
            conference_id: conference.id,
            granted_to: caller.user.id,
            expires_at: now + INTRO_CODE_LIFETIME,
        };
        match store.create_intro_grant(&grant).await {
            Ok(()) => {
                record(
                    store,
                    now,
                    caller,
                    ActivityKind::ConferenceUpdated,
                    Some(conference.id),
                    "intro message to be recorded by phone",
                )
                .await;
                return Ok(IntroCodeGranted { grant, number });
            }
            Err(teleconf_adapters::Error::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(teleconf_adapters::Error::Unavailable("no free intro code found".into()).into())
}
