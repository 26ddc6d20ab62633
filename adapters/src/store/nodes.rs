//! The media nodes' registry ([`teleconf_domain::node`]): one heartbeat item per
//! node (`NODE#<node id>` / `NODE`), overwritten by the node every
//! [`NodeHeartbeat::INTERVAL`](teleconf_domain::NodeHeartbeat::INTERVAL); every
//! node's is read at once through `gsi2pk = NODES` (the SIP entry's dispatcher
//! sync, the reaper). An item outlives its node's last heartbeat by
//! [`NODE_TTL`], then the table's TTL removes it.

use async_trait::async_trait;

use crate::error::Result;
use teleconf_domain::{NodeHeartbeat, NodeId};

/// How long a node's item outlives its last heartbeat.
pub const NODE_TTL: chrono::TimeDelta = chrono::TimeDelta::days(2);

/// The media nodes' heartbeats.
#[async_trait]
pub trait NodeStore: Send + Sync {
    /// Writes the node's heartbeat, replacing its last one.
    async fn put_heartbeat(&self, heartbeat: &NodeHeartbeat) -> Result<()>;
    /// The node's last heartbeat, if it has one.
    async fn heartbeat(&self, node: &NodeId) -> Result<Option<NodeHeartbeat>>;
    /// Every node's last heartbeat, by node id.
    async fn heartbeats(&self) -> Result<Vec<NodeHeartbeat>>;
    /// Marks a lost node [`NodeState::Reaped`](teleconf_domain::NodeState::Reaped),
    /// only if its stored heartbeat is still `last` (a node that came back and
    /// wrote a newer one stays as it said): true if this call marked it.
    async fn mark_reaped(&self, last: &NodeHeartbeat) -> Result<bool>;
}
