//! The nodes' heartbeats in memory.

use async_trait::async_trait;
use teleconf_domain::{NodeHeartbeat, NodeId, NodeState};

use super::MemoryStore;
use crate::error::Result;
use crate::store::nodes::NodeStore;

#[async_trait]
impl NodeStore for MemoryStore {
    async fn put_heartbeat(&self, heartbeat: &NodeHeartbeat) -> Result<()> {
        self.state()?
            .nodes
            .insert(heartbeat.node_id.clone(), heartbeat.clone());
        Ok(())
    }

    async fn heartbeat(&self, node: &NodeId) -> Result<Option<NodeHeartbeat>> {
        Ok(self.state()?.nodes.get(node).cloned())
    }

    async fn heartbeats(&self) -> Result<Vec<NodeHeartbeat>> {
        Ok(self.state()?.nodes.values().cloned().collect())
    }

    async fn mark_reaped(&self, last: &NodeHeartbeat) -> Result<bool> {
        let mut s = self.state()?;
        match s.nodes.get_mut(&last.node_id) {
            Some(stored)
                if stored.heartbeat_at == last.heartbeat_at && stored.state == last.state =>
            {
                stored.state = NodeState::Reaped;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
