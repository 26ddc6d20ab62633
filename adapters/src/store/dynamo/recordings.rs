//! Recording metadata (`REC#<id>`), by account or conference through `gsi1`.

use async_trait::async_trait;
use teleconf_domain::{AccountId, ConferenceId, Recording, RecordingId};

use super::item::{Item, to_item};
use super::{DynamoStore, Lookup};
use crate::aws::classify;
use crate::error::Result;
use crate::store::RecordingStore;
use crate::store::keys::{self, GSI1PK, GSI1SK};

fn recording_item(r: &Recording) -> Result<Item> {
    to_item(
        r,
        "recording",
        keys::recording(r.id),
        &[
            (GSI1PK, keys::by_account(r.account_id)),
            (GSI1SK, keys::recording_by_conference(r.conference_id, r.id)),
        ],
    )
}

#[async_trait]
impl RecordingStore for DynamoStore {
    async fn put_recording(&self, recording: &Recording) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(recording_item(recording)?))
            .send()
            .await
            .map_err(|e| classify("PutItem", e))?;
        Ok(())
    }

    async fn recording(&self, id: RecordingId) -> Result<Option<Recording>> {
        self.get(keys::recording(id)).await
    }

    async fn recordings(
        &self,
        account: AccountId,
        conference: Option<ConferenceId>,
    ) -> Result<Vec<Recording>> {
        let prefix = match conference {
            None => "REC#".to_string(),
            Some(c) => format!("REC#{c}#"),
        };
        self.query(Lookup::by_account(keys::by_account(account), prefix))
            .await
    }
}
