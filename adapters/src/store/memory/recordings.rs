//! Recording metadata in memory.

use async_trait::async_trait;
use teleconf_domain::{AccountId, ConferenceId, NodeId, Recording, RecordingId, RecordingState};

use super::MemoryStore;
use crate::error::Result;
use crate::store::RecordingStore;

#[async_trait]
impl RecordingStore for MemoryStore {
    async fn put_recording(&self, recording: &Recording) -> Result<()> {
        self.state()?
            .recordings
            .insert(recording.id, recording.clone());
        Ok(())
    }

    async fn recording(&self, id: RecordingId) -> Result<Option<Recording>> {
        Ok(self.state()?.recordings.get(&id).cloned())
    }

    async fn recordings(
        &self,
        account: AccountId,
        conference: Option<ConferenceId>,
    ) -> Result<Vec<Recording>> {
        let mut list: Vec<Recording> = self
            .state()?
            .recordings
            .values()
            .filter(|r| r.account_id == account && conference.is_none_or(|c| r.conference_id == c))
            .cloned()
            .collect();
        list.sort_by_key(|r| (r.conference_id, r.id));
        Ok(list)
    }

    async fn recordings_of_node(&self, node: &NodeId) -> Result<Vec<Recording>> {
        let mut list: Vec<Recording> = self
            .state()?
            .recordings
            .values()
            .filter(|r| r.state == RecordingState::Recording && r.node.as_ref() == Some(node))
            .cloned()
            .collect();
        list.sort_by_key(|r| r.id);
        Ok(list)
    }

    async fn cut_recording(&self, recording: &Recording) -> Result<bool> {
        let mut s = self.state()?;
        match s.recordings.get_mut(&recording.id) {
            Some(stored) if stored.state == RecordingState::Recording => {
                *stored = Recording {
                    state: RecordingState::Cut,
                    ..recording.clone()
                };
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
