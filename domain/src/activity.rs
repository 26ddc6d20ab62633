//! The account's activity feed: who did what, newest first.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, ActivityId, ConferenceId, UserId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// The account was created or changed.
    AccountChanged,
    /// A user was added.
    UserCreated,
    /// A user was changed.
    UserUpdated,
    /// A user was removed.
    UserDeleted,
    /// An access number was configured.
    NumberCreated,
    /// An access number was changed.
    NumberUpdated,
    /// An access number was removed.
    NumberDeleted,
    /// An IP phone was added (its `*44` reaches the account's conferences).
    IpPhoneAdded,
    /// An IP phone was removed.
    IpPhoneRemoved,
    /// A conference was scheduled.
    ConferenceCreated,
    /// A conference was changed.
    ConferenceUpdated,
    /// A conference was cancelled.
    ConferenceDeleted,
    /// An audio prompt was uploaded.
    PromptUploaded,
    /// Invitations were sent.
    InvitationsSent,
    /// A caller joined.
    CallJoined,
    /// A caller left.
    CallLeft,
    /// Too many wrong codes: attempts locked.
    AccessLocked,
    /// A caller was muted (by themselves or the moderator's lecture mode).
    CallerMuted,
    /// A caller was unmuted.
    CallerUnmuted,
    /// A moderator muted all participants (lecture mode).
    LectureModeOn,
    /// A moderator unmuted the participants.
    LectureModeOff,
    /// A moderator locked the conference.
    ConferenceLocked,
    /// A moderator unlocked the conference.
    ConferenceUnlocked,
    /// A moderator paused the recording.
    RecordingPaused,
    /// A moderator resumed the recording.
    RecordingResumed,
    /// A moderator removed a caller.
    CallerRemoved,
    /// Something failed and needs a human (a mail that could not be sent).
    DeliveryFailed,
}

/// One entry of the feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Identity (time-ordered).
    pub id: ActivityId,
    /// Whose feed.
    pub account_id: AccountId,
    /// When.
    pub at: DateTime<Utc>,
    /// Who did it; `None` for callers and the system.
    pub actor: Option<UserId>,
    /// What happened.
    pub kind: ActivityKind,
    /// The conference concerned, if any.
    pub conference_id: Option<ConferenceId>,
    /// A short human description ("Réunion mensuelle", "+15145550100").
    pub summary: String,
}

impl Activity {
    /// A new entry at `at`.
    pub fn new(
        account_id: AccountId,
        at: DateTime<Utc>,
        actor: Option<UserId>,
        kind: ActivityKind,
        conference_id: Option<ConferenceId>,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            id: ActivityId::new(),
            account_id,
            at,
            actor,
            kind,
            conference_id,
            summary: summary.into(),
        }
    }
}
