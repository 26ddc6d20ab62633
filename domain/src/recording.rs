//! Conference recordings: the mix, as an 8 kHz WAV in S3.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::BlobKey;
use crate::{AccountId, ConferenceId, RecordingId};

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
    /// Length of the audio.
    pub duration_ms: u64,
    /// Size of the WAV file.
    pub size_bytes: u64,
}

impl Recording {
    /// Where the WAV is in the bucket.
    pub fn key(&self) -> BlobKey {
        BlobKey::recording(self.account_id, self.conference_id, self.id)
    }
}
