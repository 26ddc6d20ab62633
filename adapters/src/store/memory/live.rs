//! Callers on the line, in memory.

use async_trait::async_trait;
use teleconf_domain::{ConferenceId, LegId, LiveParticipant};

use super::MemoryStore;
use crate::error::Result;
use crate::store::LiveStore;

#[async_trait]
impl LiveStore for MemoryStore {
    async fn put_live(&self, participant: &LiveParticipant) -> Result<()> {
        self.state()?.live.insert(
            (participant.conference_id, participant.leg_id),
            participant.clone(),
        );
        Ok(())
    }

    async fn remove_live(&self, conference: ConferenceId, leg: LegId) -> Result<()> {
        self.state()?.live.remove(&(conference, leg));
        Ok(())
    }

    async fn live_participants(&self, conference: ConferenceId) -> Result<Vec<LiveParticipant>> {
        let mut live: Vec<LiveParticipant> = self
            .state()?
            .live
            .values()
            .filter(|p| p.conference_id == conference)
            .cloned()
            .collect();
        live.sort_by_key(|p| (p.joined_at, p.leg_id));
        Ok(live)
    }
}
