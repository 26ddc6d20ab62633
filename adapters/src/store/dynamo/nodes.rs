//! The nodes' heartbeats (`NODE#<node id>` / `NODE`), every node's through
//! `gsi2pk = NODES`.

use async_trait::async_trait;
use teleconf_domain::{NodeHeartbeat, NodeId};

use super::item::to_item;
use super::{DynamoStore, Lookup};
use crate::error::Result;
use crate::store::keys::{self, GSI2PK, GSI2SK};
use crate::store::nodes::{NODE_TTL, NodeStore};

#[async_trait]
impl NodeStore for DynamoStore {
    async fn put_heartbeat(&self, heartbeat: &NodeHeartbeat) -> Result<()> {
        let item = to_item(
            heartbeat,
            "node",
            keys::node(&heartbeat.node_id),
            &[
                (GSI2PK, keys::NODES.into()),
                (GSI2SK, heartbeat.node_id.to_string()),
            ],
        )?;
        self.put_expiring(item, heartbeat.heartbeat_at + NODE_TTL)
            .await
    }

    async fn heartbeat(&self, node: &NodeId) -> Result<Option<NodeHeartbeat>> {
        self.get(keys::node(node)).await
    }

    async fn heartbeats(&self) -> Result<Vec<NodeHeartbeat>> {
        self.query(Lookup::across_accounts(keys::NODES)).await
    }
}
