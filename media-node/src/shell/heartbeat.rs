//! The node's line in the registry ([`teleconf_domain::node`]): every
//! [`NodeHeartbeat::INTERVAL`], and at once when its state changes (draining),
//! the node writes its id, the SIP address the entry reaches it at, its state and
//! its load. A write that fails is logged and the next one tries again: the SIP
//! entry keeps its last list meanwhile, and a node unheard for longer than
//! [`NodeHeartbeat::FRESH`] leaves it.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;

use teleconf_domain::{NodeHeartbeat, NodeId, NodeState};

use super::services::Services;
use super::stats::Stats;

/// Who the node is in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Its name.
    pub node_id: NodeId,
    /// Where the SIP entry sends it calls.
    pub sip: SocketAddr,
}

impl Identity {
    /// The heartbeat of the node now, in `state`, with the load `stats` holds.
    pub(super) fn heartbeat(&self, state: NodeState, stats: &Stats) -> NodeHeartbeat {
        let load = stats.load();
        let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        NodeHeartbeat {
            node_id: self.node_id.clone(),
            sip: self.sip,
            state,
            calls: count(load.calls),
            participants: count(load.participants),
            heartbeat_at: Utc::now(),
        }
    }
}

/// Writes the heartbeat until the node stops (the task is aborted then; the
/// shell writes the last one, [`NodeState::Stopped`], itself).
pub(super) async fn beat(
    services: Services,
    identity: Identity,
    stats: Arc<Stats>,
    mut state: watch::Receiver<NodeState>,
) {
    let every = NodeHeartbeat::INTERVAL.to_std().unwrap_or_default();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            changed = state.changed() => if changed.is_err() { return },
        }
        let heartbeat = identity.heartbeat(*state.borrow_and_update(), &stats);
        match services.put_heartbeat(&heartbeat).await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("node registry written again");
            }
            Ok(()) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "node registry unwritable: heartbeat retried every interval");
            }
            Err(_) => {}
        }
    }
}
