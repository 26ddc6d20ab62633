//! Live-view commands queued for the media node (`CONF#<conference>` /
//! `CONTROL#<id>`), in the order given, expiring through `ttl`.

use async_trait::async_trait;
use teleconf_domain::ConferenceId;

use super::item::to_item;
use super::{DynamoStore, Lookup};
use crate::error::Result;
use crate::store::ControlStore;
use crate::store::keys::{self};

#[async_trait]
impl ControlStore for DynamoStore {
    async fn queue_control(&self, control: &teleconf_domain::ConferenceControl) -> Result<()> {
        let item = to_item(
            control,
            "control",
            keys::control(control.conference_id, control.id),
            &[],
        )?;
        self.put_expiring(item, control.issued_at + crate::store::CONTROL_TTL)
            .await
    }

    async fn pending_controls(
        &self,
        conference: ConferenceId,
    ) -> Result<Vec<teleconf_domain::ConferenceControl>> {
        // Ascending sort keys: UUIDv7 ids, so in the order the commands were given.
        self.query(Lookup::partition(
            keys::conference(conference).0,
            "CONTROL#",
        ))
        .await
    }

    async fn ack_control(
        &self,
        conference: ConferenceId,
        id: teleconf_domain::ControlId,
    ) -> Result<()> {
        self.delete(keys::control(conference, id)).await
    }
}
