//! Conference recordings: the mix, as 8 kHz WAVs in S3. The node uploads one
//! segment a minute as the conference goes (so a lost node loses at most the last
//! minute), and when the conference ends normally the whole recording stitched
//! into one file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::BlobKey;
use crate::{AccountId, ConferenceId, NodeId, RecordingId};

/// Where a recording stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingState {
    /// The conference is being recorded: the segments listed are in S3 so far.
    Recording,
    /// The conference ended normally: the whole recording is one file at
    /// [`Recording::key`] (its segments were stitched into it and removed).
    Complete,
    /// The node recording it was lost: the segments listed are what was kept
    /// (everything up to the last minute that closed before the loss).
    Cut,
}

/// One minute (or so) of a recording, uploaded when it closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingSegment {
    /// Its place in the recording, from 0.
    pub index: u32,
    /// Length of its audio.
    pub duration_ms: u64,
    /// Size of its WAV file.
    pub size_bytes: u64,
}

/// A recording written whole at the end, before segments existed.
fn complete() -> RecordingState {
    RecordingState::Complete
}

/// One recording of a conference (a conference paused and resumed still makes one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    /// Identity.
    pub id: RecordingId,
    /// Owner account.
    pub account_id: AccountId,
    /// The conference recorded.
    pub conference_id: ConferenceId,
    /// When recording started.
    pub started_at: DateTime<Utc>,
    /// Length of the audio kept (the whole file, or the segments listed).
    pub duration_ms: u64,
    /// Size of the audio kept, in bytes of WAV.
    pub size_bytes: u64,
    /// Where it stands.
    #[serde(default = "complete")]
    pub state: RecordingState,
    /// The segments in S3, in order (none once complete: they are in the whole file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<RecordingSegment>,
    /// The media node recording it: while it records, the reaper finds the
    /// recording by it if that node is lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeId>,
}

impl Recording {
    /// Where the whole WAV is in the bucket (once [`RecordingState::Complete`]).
    pub fn key(&self) -> BlobKey {
        BlobKey::recording(self.account_id, self.conference_id, self.id)
    }

    /// Where segment `index` is in the bucket.
    pub fn segment_key(&self, index: u32) -> BlobKey {
        BlobKey::recording_segment(self.account_id, self.conference_id, self.id, index)
    }

    /// Whether it is over and can be heard (whole, or cut to its segments): the
    /// moment the recording-ready mail goes.
    pub fn is_ready(&self) -> bool {
        self.state != RecordingState::Recording
    }

    /// Adds a segment just uploaded: its audio counts in the recording's length.
    pub fn add_segment(&mut self, segment: RecordingSegment) {
        self.duration_ms += segment.duration_ms;
        self.size_bytes += segment.size_bytes;
        self.segments.push(segment);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_stored_before_segments_reads_as_complete() {
        let json = serde_json::json!({
            "id": RecordingId::new(), "account_id": AccountId::new(),
            "conference_id": ConferenceId::new(), "started_at": "2026-11-01T14:00:00Z",
            "duration_ms": 300, "size_bytes": 4844,
        });
        let r: Recording = serde_json::from_value(json).unwrap();
        assert_eq!(r.state, RecordingState::Complete);
        assert!(r.segments.is_empty() && r.is_ready());
    }
}
