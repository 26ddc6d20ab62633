//! The nodes' heartbeats (`NODE#<node id>` / `NODE`), every node's through
//! `gsi2pk = NODES`.

use async_trait::async_trait;
use teleconf_domain::{NodeHeartbeat, NodeId, NodeState};

use super::item::{Item, to_item};
use super::{DynamoStore, Lookup, expire};
use crate::error::Result;
use crate::store::keys::{self, GSI2PK, GSI2SK};
use crate::store::nodes::{NODE_TTL, NodeStore};

fn node_item(heartbeat: &NodeHeartbeat) -> Result<Item> {
    let mut item = to_item(
        heartbeat,
        "node",
        keys::node(&heartbeat.node_id),
        &[
            (GSI2PK, keys::NODES.into()),
            (GSI2SK, heartbeat.node_id.to_string()),
        ],
    )?;
    expire(&mut item, heartbeat.heartbeat_at + NODE_TTL);
    Ok(item)
}

#[async_trait]
impl NodeStore for DynamoStore {
    async fn put_heartbeat(&self, heartbeat: &NodeHeartbeat) -> Result<()> {
        self.put_expiring(node_item(heartbeat)?, heartbeat.heartbeat_at + NODE_TTL)
            .await
    }

    async fn heartbeat(&self, node: &NodeId) -> Result<Option<NodeHeartbeat>> {
        self.get(keys::node(node)).await
    }

    async fn heartbeats(&self) -> Result<Vec<NodeHeartbeat>> {
        self.query(Lookup::across_accounts(keys::NODES)).await
    }

    async fn mark_reaped(&self, last: &NodeHeartbeat) -> Result<bool> {
        let seen = node_item(last)?;
        let reaped = NodeHeartbeat {
            state: NodeState::Reaped,
            ..last.clone()
        };
        // The stored heartbeat is still the one read: same instant, same state.
        let condition = (
            "heartbeat_at = :at AND #state = :state".into(),
            Some([("#state".into(), "state".into())].into()),
            Some(
                [
                    (":at".into(), seen["heartbeat_at"].clone()),
                    (":state".into(), seen["state"].clone()),
                ]
                .into(),
            ),
        );
        self.put_if(node_item(&reaped)?, condition).await
    }
}
