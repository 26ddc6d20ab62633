//! A conference recording.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::Recording;
use utoipa::ToSchema;

use crate::local;

/// A recording.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordingView {
    /// Identity.
    pub id: String,
    /// The conference.
    pub conference_id: String,
    /// When recording started, in the account's zone.
    pub started_at: DateTime<FixedOffset>,
    /// Length.
    pub duration_ms: u64,
    /// WAV size.
    pub size_bytes: u64,
    /// A download link valid 15 minutes (on `GET /v1/recordings/{id}` only).
    pub download_url: Option<String>,
}

impl RecordingView {
    /// The view of `r`, times on the wall clock of `tz`, with its download link if given.
    pub fn new(r: &Recording, tz: Tz, download_url: Option<String>) -> Self {
        Self {
            id: r.id.to_string(),
            conference_id: r.conference_id.to_string(),
            started_at: local(r.started_at, tz),
            duration_ms: r.duration_ms,
            size_bytes: r.size_bytes,
            download_url,
        }
    }
}
