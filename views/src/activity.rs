//! An entry of the account's activity feed.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::{Activity, ActivityKind};
use utoipa::ToSchema;

use crate::local;

/// An activity entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActivityView {
    /// When, in the account's zone.
    pub at: DateTime<FixedOffset>,
    /// What happened.
    #[schema(value_type = String, example = "conference_created")]
    pub kind: ActivityKind,
    /// Who did it (absent for callers and the system).
    pub actor: Option<String>,
    /// The conference concerned.
    pub conference_id: Option<String>,
    /// A short description.
    pub summary: String,
}

impl ActivityView {
    /// The view of `a`, times on the wall clock of `tz`.
    pub fn new(a: &Activity, tz: Tz) -> Self {
        Self {
            at: local(a.at, tz),
            kind: a.kind,
            actor: a.actor.map(|u| u.to_string()),
            conference_id: a.conference_id.map(|c| c.to_string()),
            summary: a.summary.clone(),
        }
    }
}
