//! Live-view commands queued in memory, in the order given.

use async_trait::async_trait;
use chrono::Utc;
use teleconf_domain::ConferenceId;

use super::MemoryStore;
use crate::error::Result;
use crate::store::ControlStore;

#[async_trait]
impl ControlStore for MemoryStore {
    async fn queue_control(&self, control: &teleconf_domain::ConferenceControl) -> Result<()> {
        self.state()?.controls.insert(control.id, control.clone());
        Ok(())
    }

    async fn pending_controls(
        &self,
        conference: ConferenceId,
    ) -> Result<Vec<teleconf_domain::ConferenceControl>> {
        let now = Utc::now();
        Ok(self
            .state()?
            .controls
            .values()
            .filter(|c| {
                c.conference_id == conference && c.issued_at + crate::store::CONTROL_TTL > now
            })
            .cloned()
            .collect())
    }

    async fn ack_control(
        &self,
        _conference: ConferenceId,
        id: teleconf_domain::ControlId,
    ) -> Result<()> {
        self.state()?.controls.remove(&id);
        Ok(())
    }
}
