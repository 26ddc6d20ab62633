//! A live control queued for a conference's media node.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::ConferenceControl;
use utoipa::ToSchema;

use crate::local;

/// A queued command.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ControlView {
    /// Identity.
    pub id: String,
    /// The command's name.
    pub command: String,
    /// The caller it acts on.
    pub leg_id: Option<String>,
    /// Given at, in the account's zone.
    pub issued_at: DateTime<FixedOffset>,
}

impl ControlView {
    /// The view of `control`, times on the wall clock of `tz`.
    pub fn new(control: &ConferenceControl, tz: Tz) -> Self {
        Self {
            id: control.id.to_string(),
            command: control.command.as_str().to_string(),
            leg_id: control.command.leg().map(|l| l.to_string()),
            issued_at: local(control.issued_at, tz),
        }
    }
}
