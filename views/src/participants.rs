//! Who is on the line of a running conference.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::{CallerRole, LiveParticipant};
use utoipa::ToSchema;

use crate::local;

/// One caller on the line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParticipantView {
    /// The caller's CDR leg.
    pub leg_id: String,
    /// The caller's number or name as the trunk presented it.
    pub caller_id: String,
    /// participant, listener or moderator.
    #[schema(value_type = String)]
    pub role: CallerRole,
    /// Not heard (muted by themselves or the moderator's lecture mode).
    pub muted: bool,
    /// Joined at, in the account's zone.
    pub joined_at: DateTime<FixedOffset>,
}

impl ParticipantView {
    /// The view of `p`, times on the wall clock of `tz`.
    pub fn new(p: &LiveParticipant, tz: Tz) -> Self {
        Self {
            leg_id: p.leg_id.to_string(),
            caller_id: p.caller_id.clone(),
            role: p.role,
            muted: p.muted,
            joined_at: local(p.joined_at, tz),
        }
    }
}
