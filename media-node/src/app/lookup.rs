//! The media node's one lookup protocol: what a call asks of the store and the
//! bucket ([`Lookup`]), and the answers ([`Answer`]). Declared once, here: the IVR
//! and the call ask, the [node](crate::node) keys each lookup by the call that asks
//! and hands it to the [shell](crate::shell) unchanged, and the shell's answer comes
//! back the same way, to the call, then to whoever asked.
//!
//! Each lookup has one answer, or none at all when the store cannot tell and the
//! asker has a better fallback than an error: an unanswered conference or intro
//! code lookup ends the IVR at its answer timeout with its goodbye, a prompt not
//! fetched plays its default after its grace. A new call's lookups and the failure
//! counters answer [`Unavailable`] instead: the caller gets 503, or the counters
//! fail closed.

use std::sync::Arc;

use chrono_tz::Tz;

use teleconf_domain::{
    AccessCodes, AccountId, CallerSource, ConferenceId, ConferenceNumber, E164, IntroCode,
    Language, PhoneNumber, PromptId, Schedule,
};

/// What a call asks of the store or the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The access number a new call dialled, for its prompts and language:
    /// answered with [`Answer::Number`].
    Number(E164),
    /// The account of the IP phone that dialled `*44`, for the language its IVR
    /// speaks: answered with [`Answer::Account`].
    Account(AccountId),
    /// The conference with this number: answered with [`Answer::Conference`].
    Conference(ConferenceNumber),
    /// What this one-time intro code opens: answered with [`Answer::IntroCode`].
    IntroCode(IntroCode),
    /// The failures counted against `caller` and, once it is known, `conference`:
    /// answered with [`Answer::Attempts`].
    Attempts {
        /// Who calls.
        caller: CallerSource,
        /// The conference keyed, once found.
        conference: Option<ConferenceId>,
    },
    /// Count one wrong entry against `caller`, and against `conference` for a
    /// wrong access code: answered with the counts now ([`Answer::Attempts`]). The
    /// failure that reaches a limit locks for [`LOCKOUT`](crate::app::ivr::LOCKOUT)
    /// and is recorded in the conference's account's activity when there is one.
    RecordFailure {
        /// Who keyed it.
        caller: CallerSource,
        /// For a wrong access code: the conference it was keyed for, and its
        /// account.
        conference: Option<(ConferenceId, AccountId)>,
    },
    /// A custom prompt's audio (S3, or the shell's cache): answered with
    /// [`Answer::Prompt`].
    Prompt(PromptId),
}

/// The answer to a [`Lookup`].
#[derive(Debug, Clone)]
pub enum Answer {
    /// To [`Lookup::Number`]: the number, `None` when no number is that one.
    Number(Result<Option<PhoneNumber>, Unavailable>),
    /// To [`Lookup::Account`]: the account's language, `None` when there is no
    /// such account.
    Account(Result<Option<Language>, Unavailable>),
    /// To [`Lookup::Conference`]: `None` when no conference has that number.
    Conference(Option<ConferenceInfo>),
    /// To [`Lookup::IntroCode`]: `None` when the code opens nothing.
    IntroCode(Option<IntroTarget>),
    /// To [`Lookup::Attempts`] and [`Lookup::RecordFailure`]: the failures counted
    /// now. The counters fail closed: a store that cannot tell refuses the call,
    /// never reads as no failures.
    Attempts(Result<Attempts, Unavailable>),
    /// To [`Lookup::Prompt`]: the prompt's 8 kHz PCM.
    Prompt(PromptId, Arc<[i16]>),
}

/// The store could not be read (or written): the answer is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

/// The conference whose intro a one-time code records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntroTarget {
    /// The code keyed (spent once the intro is kept).
    pub code: IntroCode,
    /// The conference.
    pub conference: ConferenceId,
    /// Its account.
    pub account: AccountId,
}

/// What the IVR needs to know about a conference: the answer to
/// [`Lookup::Conference`].
#[derive(Debug, Clone)]
pub struct ConferenceInfo {
    /// Identity.
    pub id: ConferenceId,
    /// The account it belongs to (a `*44` caller may reach only their own account's).
    pub account: AccountId,
    /// Its 7-digit number.
    pub number: ConferenceNumber,
    /// Planned start and end: the access window.
    pub schedule: Schedule,
    /// One code per role.
    pub codes: AccessCodes,
    /// The intro message played to each admitted caller.
    pub intro: Option<PromptId>,
    /// Callers it may hold at once.
    pub max_participants: u32,
    /// The account's time zone, for saying the opening time.
    pub time_zone: Tz,
    /// Its audio is recorded (the conference's `record`).
    pub record: bool,
}

/// The failures counted in the current windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    /// Wrong entries from this caller.
    pub by_caller: u32,
    /// Wrong codes against this conference (0 before it is known).
    pub by_conference: u32,
}
