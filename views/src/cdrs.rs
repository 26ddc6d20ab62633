//! Call detail records: one leg of a conference.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::{CallLeg, CallerRole, DisconnectCause};
use utoipa::ToSchema;

use crate::local;

/// One leg.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CdrView {
    /// Leg id.
    pub leg_id: String,
    /// Conference id.
    pub conference_id: String,
    /// Its number.
    pub conference_number: String,
    /// The access number dialled; null for an IP phone's `*44`, which dials none.
    pub dialled: Option<String>,
    /// The caller's number.
    pub caller_id: String,
    /// participant, listener or moderator.
    #[schema(value_type = String)]
    pub role: CallerRole,
    /// Joined at, in the account's zone.
    pub joined_at: DateTime<FixedOffset>,
    /// Left at; absent while on the line.
    pub left_at: Option<DateTime<FixedOffset>>,
    /// Seconds on the line (rounded down), once left.
    pub duration_s: Option<u64>,
    /// Why the leg ended.
    #[schema(value_type = Option<String>)]
    pub cause: Option<DisconnectCause>,
    /// Frames received from the caller, once left.
    pub packets_received: Option<u64>,
    /// Frames lost (never arrived in time), once left.
    pub packets_lost: Option<u64>,
    /// Highest interarrival jitter in milliseconds, once left.
    pub max_jitter_ms: Option<u32>,
}

impl CdrView {
    /// The view of `leg`, times on the wall clock of `tz`.
    pub fn new(leg: &CallLeg, tz: Tz) -> Self {
        Self {
            leg_id: leg.id.to_string(),
            conference_id: leg.conference_id.to_string(),
            conference_number: leg.conference_number.to_string(),
            dialled: leg.dialled.as_ref().map(ToString::to_string),
            caller_id: leg.caller_id.clone(),
            role: leg.role,
            joined_at: local(leg.joined_at, tz),
            left_at: leg.left_at.map(|t| local(t, tz)),
            duration_s: leg.duration_ms().map(|ms| ms / 1000),
            cause: leg.cause,
            packets_received: leg.quality.map(|q| q.packets_received),
            packets_lost: leg.quality.map(|q| q.packets_lost),
            max_jitter_ms: leg.quality.map(|q| q.max_jitter_ms),
        }
    }
}

/// A page of legs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CdrPage {
    /// The legs, in join order.
    pub items: Vec<CdrView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}
