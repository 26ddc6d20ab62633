//! Invitations queued in memory.

use async_trait::async_trait;
use teleconf_domain::{ConferenceId, Invitation};

use super::MemoryStore;
use crate::error::Result;
use crate::store::InvitationStore;

#[async_trait]
impl InvitationStore for MemoryStore {
    async fn queue_invitations(&self, invitations: &[Invitation]) -> Result<()> {
        let mut s = self.state()?;
        for i in invitations {
            s.invitations.insert(i.id, i.clone());
        }
        Ok(())
    }

    async fn invitations(&self, conference: ConferenceId) -> Result<Vec<Invitation>> {
        Ok(self
            .state()?
            .invitations
            .values()
            .filter(|i| i.conference_id == conference)
            .cloned()
            .collect())
    }
}
