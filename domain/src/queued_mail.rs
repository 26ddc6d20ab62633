//! Mail the scheduler queues for the mailer at a moment of a conference's life (the
//! attendance report once it has ended). Each kind is queued at most once per
//! conference: its key is the conference and the kind, written conditionally in the
//! same transaction as the transition that calls for it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, ConferenceId};

/// Which mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueuedMailKind {
    /// Every leg of the conference, to its creator, once it has ended.
    AttendanceReport,
}

impl QueuedMailKind {
    /// The name in keys and idempotency keys.
    pub fn as_str(self) -> &'static str {
        match self {
            QueuedMailKind::AttendanceReport => "attendance_report",
        }
    }
}

/// One queued mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMail {
    /// The conference it is about.
    pub conference_id: ConferenceId,
    /// Its account.
    pub account_id: AccountId,
    /// Which mail.
    pub kind: QueuedMailKind,
    /// When the scheduler queued it.
    pub queued_at: DateTime<Utc>,
}
