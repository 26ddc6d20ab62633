//! A conference recording.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::{Recording, RecordingState};
use utoipa::ToSchema;

use crate::local;

/// A recording: one file once complete; while recording, or cut short by a lost
/// media node, the segments kept, in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordingView {
    /// Identity.
    pub id: String,
    /// The conference.
    pub conference_id: String,
    /// When recording started, in the account's zone.
    pub started_at: DateTime<FixedOffset>,
    /// Length of the audio kept.
    pub duration_ms: u64,
    /// WAV size (the whole file, or the segments together).
    pub size_bytes: u64,
    /// `recording` (in progress: the segments so far), `complete` (one file), or
    /// `cut` (its media node was lost: the segments kept).
    #[schema(value_type = String)]
    pub state: RecordingState,
    /// A download link of the whole file valid 15 minutes (on
    /// `GET /v1/recordings/{id}` of a complete recording only).
    pub download_url: Option<String>,
    /// The segments kept, in order (none once complete).
    pub segments: Vec<SegmentView>,
}

/// One segment of a recording (about a minute).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SegmentView {
    /// Its place in the recording, from 0.
    pub index: u32,
    /// Length.
    pub duration_ms: u64,
    /// WAV size.
    pub size_bytes: u64,
    /// A download link valid 15 minutes (on `GET /v1/recordings/{id}` only).
    pub download_url: Option<String>,
}

/// The download links of a recording: the whole file's, and each segment's in order.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// The whole file's.
    pub whole: Option<String>,
    /// Each segment's, in the recording's order.
    pub segments: Vec<String>,
}

impl RecordingView {
    /// The view of `r`, times on the wall clock of `tz`, with its download links
    /// if given.
    pub fn new(r: &Recording, tz: Tz, links: Option<Links>) -> Self {
        let links = links.unwrap_or_default();
        let mut segment_links = links.segments.into_iter();
        Self {
            id: r.id.to_string(),
            conference_id: r.conference_id.to_string(),
            started_at: local(r.started_at, tz),
            duration_ms: r.duration_ms,
            size_bytes: r.size_bytes,
            state: r.state,
            download_url: links.whole,
            segments: r
                .segments
                .iter()
                .map(|s| SegmentView {
                    index: s.index,
                    duration_ms: s.duration_ms,
                    size_bytes: s.size_bytes,
                    download_url: segment_links.next(),
                })
                .collect(),
        }
    }
}
