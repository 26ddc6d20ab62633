//! The rooms' leases in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use teleconf_domain::{ConferenceId, NodeId, RoomLease};

use super::MemoryStore;
use crate::error::Result;
use crate::store::rooms::{Claim, RoomStore};

#[async_trait]
impl RoomStore for MemoryStore {
    async fn claim_room(&self, lease: &RoomLease, now: DateTime<Utc>) -> Result<Claim> {
        let mut state = self.state()?;
        match state.rooms.get(&lease.conference_id) {
            Some(held) if held.is_live(now) && held.owner != lease.owner => {
                Ok(Claim::Held(held.clone()))
            }
            _ => {
                state.rooms.insert(lease.conference_id, lease.clone());
                Ok(Claim::Mine)
            }
        }
    }

    async fn release_room(&self, conference: ConferenceId, owner: &NodeId) -> Result<()> {
        let mut state = self.state()?;
        if state
            .rooms
            .get(&conference)
            .is_some_and(|held| held.owner == *owner)
        {
            state.rooms.remove(&conference);
        }
        Ok(())
    }

    async fn room_lease(&self, conference: ConferenceId) -> Result<Option<RoomLease>> {
        Ok(self.state()?.rooms.get(&conference).cloned())
    }
}
