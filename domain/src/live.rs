//! Who is on the line right now: the live view of a running conference that the
//! media node keeps up to date and the API reads (issue #5).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, CallerRole, ConferenceId, LegId};

/// One caller in a running conference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveParticipant {
    /// The caller's CDR leg.
    pub leg_id: LegId,
    /// The conference.
    pub conference_id: ConferenceId,
    /// Its account.
    pub account_id: AccountId,
    /// The caller's number or name as the trunk presented it.
    pub caller_id: String,
    /// The role the code gave.
    pub role: CallerRole,
    /// When the caller was admitted.
    pub joined_at: DateTime<Utc>,
    /// Not heard (muted by themselves, or by the moderator's lecture mode).
    pub muted: bool,
}
