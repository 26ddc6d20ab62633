//! The node's line in the registry ([`teleconf_domain::node`]): every
//! [`NodeHeartbeat::INTERVAL`], and at once when its state changes (draining),
//! the node writes its id, the SIP address the entry reaches it at, its state and
//! its load. A write that fails is logged and the next one tries again: the SIP
//! entry keeps its last list meanwhile, and a node unheard for longer than
//! [`NodeHeartbeat::FRESH`] leaves it.
//!
//! Each heartbeat also renews the lease of every room the node holds
//! ([`RoomLease::TERM`](teleconf_domain::RoomLease::TERM) from now): a renewal is
//! a claim by the holder, so a room opened while the store was away is claimed
//! here once it is back. A renewal that finds another node's live lease (this
//! node's expired, another claimed it) is logged: that room is split until its
//! callers leave. The rooms the node runs alone while another node held the
//! lease (its cascade to that owner failed: the owner lost, or handing the room
//! over as it drains) are claimed too, and the answer goes to the node: a lease
//! free again makes the room here the conference's; another owner's, a cascade
//! to it.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;

use teleconf_domain::{ConferenceId, NodeHeartbeat, NodeId, NodeState};

use super::Event;
use super::media::Inbox;
use super::services::Services;
use super::stats::Stats;
use crate::node::RoomOwner;

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

/// The rooms whose leases the heartbeat claims.
pub(super) struct Rooms {
    /// Those the node holds: renewed.
    pub(super) held: watch::Receiver<Vec<ConferenceId>>,
    /// Those here alone while another node held the lease: claimed, and the
    /// answer told to the node (it takes the room over, or cascades to the new
    /// owner).
    pub(super) alone: watch::Receiver<Vec<ConferenceId>>,
    /// Where the answers go.
    pub(super) inbox: Inbox,
}

/// Writes the heartbeat, renews the leases of the rooms held and claims those
/// alone, until the node stops (the task is aborted then; the shell writes the
/// last one, [`NodeState::Stopped`], itself).
pub(super) async fn beat(
    services: Services,
    identity: Identity,
    stats: Arc<Stats>,
    mut state: watch::Receiver<NodeState>,
    rooms: Rooms,
) {
    let Rooms { held, alone, inbox } = rooms;
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
        let rooms = held.borrow().clone();
        for conference in rooms {
            match services
                .claim_room(conference, &identity.node_id, identity.sip)
                .await
            {
                RoomOwner::Here | RoomOwner::Unknown => {}
                RoomOwner::Elsewhere { node, .. } => tracing::warn!(
                    %conference,
                    owner = %node,
                    "room lease lost to another node: the room is split until its callers leave"
                ),
            }
        }
        let rooms = alone.borrow().clone();
        for conference in rooms {
            let owner = services
                .claim_room(conference, &identity.node_id, identity.sip)
                .await;
            if owner != RoomOwner::Unknown {
                inbox.send(Event::RoomOwner { conference, owner }).await;
            }
        }
    }
}
