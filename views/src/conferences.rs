//! A conference, and the one-time code to record its intro by phone.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::{
    CallerRole, Conference, ConferenceId, ConferenceNumber, ConferenceStatus, IntroGrant, Language,
    NumberKind, PhoneNumber, PromptId, UserId,
};
use utoipa::ToSchema;

use crate::local;

/// The codes, one per role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CodesView {
    /// Participants hear and are heard.
    pub participant: String,
    /// Listeners only hear.
    pub listener: String,
    /// Moderators also have the keypad controls.
    pub moderator: String,
}

/// An access number in a conference's details.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

impl ConferenceView {
    /// The view of `conference` in `status`, reached through `numbers`, times on
    /// the wall clock of `tz`; its codes only `with_codes` (for whom may modify it).
    pub fn new(
        conference: &Conference,
        numbers: &[PhoneNumber],
        status: ConferenceStatus,
        tz: Tz,
        with_codes: bool,
    ) -> Self {
        Self {
            id: conference.id,
            conference_number: conference.number.clone(),
            description: conference.description.clone(),
            start: local(conference.schedule.start(), tz),
            end: local(conference.schedule.end(), tz),
            record: conference.record,
            intro_prompt: conference.intro_prompt,
            language: conference.language,
            codes: with_codes.then(|| CodesView {
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
}

/// The one-time code to record the intro by phone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

impl IntroByPhone {
    /// `grant`, to be keyed on `number`, its expiry on the wall clock of `tz`.
    pub fn new(grant: &IntroGrant, number: &PhoneNumber, tz: Tz) -> Self {
        Self {
            number: number.number.to_string(),
            national: number.number.national(),
            code: grant.code.to_string(),
            expires_at: local(grant.expires_at, tz),
        }
    }
}
