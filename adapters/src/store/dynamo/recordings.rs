//! Recording metadata (`REC#<id>`), by account or conference through `gsi1`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use teleconf_domain::{AccountId, ConferenceId, NodeId, Recording, RecordingId, RecordingState};

use super::item::{Item, to_item};
use super::{DynamoStore, Lookup};
use crate::aws::classify;
use crate::error::Result;
use crate::store::RecordingStore;
use crate::store::keys::{self, GSI1PK, GSI1SK, GSI2PK, GSI2SK};

/// The recording's item; while it records and names its node, it is also among
/// that node's recordings in `gsi2` (a finished one, written whole, leaves it).
fn recording_item(r: &Recording) -> Result<Item> {
    let mut index = vec![
        (GSI1PK, keys::by_account(r.account_id)),
        (GSI1SK, keys::recording_by_conference(r.conference_id, r.id)),
    ];
    if let (RecordingState::Recording, Some(node)) = (r.state, &r.node) {
        index.push((GSI2PK, keys::recordings_of_node(node)));
        index.push((GSI2SK, r.id.to_string()));
    }
    to_item(r, "recording", keys::recording(r.id), &index)
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

    async fn recordings_of_node(&self, node: &NodeId) -> Result<Vec<Recording>> {
        self.query(Lookup::by_month(keys::recordings_of_node(node)))
            .await
    }

    async fn cut_recording(&self, recording: &Recording) -> Result<bool> {
        let cut = Recording {
            state: RecordingState::Cut,
            ..recording.clone()
        };
        let condition = (
            "#state = :recording".into(),
            Some([("#state".into(), "state".into())].into()),
            Some([(":recording".into(), AttributeValue::S("recording".into()))].into()),
        );
        self.put_if(recording_item(&cut)?, condition).await
    }
}
