//! The media nodes' registry (issue #16): each node says every few seconds that
//! it is alive, where the SIP entry reaches it, whether it takes new calls and how
//! loaded it is. The SIP entry's dispatcher list is made of the active nodes with a
//! fresh heartbeat ([`NodeHeartbeat::is_dispatchable`]); a node whose heartbeat
//! stopped without it saying it stopped is a lost node.
//!
//! A conference's room lives on one node, the holder of its [`RoomLease`]: the
//! first node to admit a caller of the conference claims it (absent, expired or
//! already its own), renews it with its heartbeat and releases it when its room
//! empties; a node that finds another's live lease joins that room through a
//! cascade to the owner's [`RoomLease::cascade`] address.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::ConferenceId;

/// A media node's name in the registry: 1 to 64 ASCII letters, digits, `.`,
/// `_` or `-` (an ECS task id, a host name, `node-a`), so it fits a key and a
/// dispatcher line as it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeId(String);

impl NodeId {
    /// The longest name.
    pub const MAX_LEN: usize = 64;

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for NodeId {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let ok = !text.is_empty()
            && text.len() <= Self::MAX_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(text.to_string()))
        } else {
            Err(Error::invalid(
                "node_id",
                format!(
                    "expects 1 to {} ASCII letters, digits, '.', '_' or '-', got {text:?}",
                    Self::MAX_LEN
                ),
            ))
        }
    }
}

impl TryFrom<String> for NodeId {
    type Error = Error;

    fn try_from(text: String) -> Result<Self> {
        text.parse()
    }
}

impl From<NodeId> for String {
    fn from(id: NodeId) -> Self {
        id.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a node takes new calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Takes new calls.
    Active,
    /// Told to stop: keeps its calls, takes no new one (OPTIONS and INVITE 503).
    Draining,
    /// Exited cleanly, every call ended and every CDR written.
    Stopped,
    /// Lost (its heartbeat stopped without it saying it stopped): the scheduler's
    /// reaper closed its open legs. A node that comes back overwrites this with
    /// its next heartbeat.
    Reaped,
}

/// A node's last word in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHeartbeat {
    /// Which node.
    pub node_id: NodeId,
    /// Where the SIP entry sends it calls (its private address and SIP port).
    pub sip: SocketAddr,
    /// Whether it takes new calls.
    pub state: NodeState,
    /// Calls up (in the IVR or a conference).
    pub calls: u32,
    /// Callers admitted to a conference: what the fleet scales on.
    pub participants: u32,
    /// When the node wrote this.
    pub heartbeat_at: DateTime<Utc>,
}

impl NodeHeartbeat {
    /// How often a node writes its heartbeat.
    pub const INTERVAL: TimeDelta = TimeDelta::seconds(5);
    /// A heartbeat older than this is not fresh: the node may be gone (three
    /// heartbeats missed).
    pub const FRESH: TimeDelta = TimeDelta::seconds(15);
    /// A serving node unheard for longer than this is lost: its open legs are
    /// closed for it (six heartbeats missed, well past a store hiccup).
    pub const LOST_AFTER: TimeDelta = TimeDelta::seconds(30);

    /// Whether the SIP entry may send it new calls at `now`: active, and heard
    /// from within [`Self::FRESH`] (a heartbeat from the future, a clock a little
    /// ahead, counts as fresh).
    pub fn is_dispatchable(&self, now: DateTime<Utc>) -> bool {
        self.state == NodeState::Active && now - self.heartbeat_at <= Self::FRESH
    }

    /// Whether the node is lost at `now`: it was serving (active or draining) and
    /// has not been heard from for longer than `limit` (the reaper's, by default
    /// [`Self::LOST_AFTER`]). A stopped node said it stopped; a reaped one was
    /// dealt with.
    pub fn is_lost(&self, now: DateTime<Utc>, limit: TimeDelta) -> bool {
        matches!(self.state, NodeState::Active | NodeState::Draining)
            && now - self.heartbeat_at > limit
    }
}

/// Which node holds a conference's room, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomLease {
    /// The conference.
    pub conference_id: ConferenceId,
    /// The node that holds its room.
    pub owner: NodeId,
    /// Where the other nodes open their cascade to the owner (its SIP address).
    pub cascade: SocketAddr,
    /// The lease is the owner's until then; renewed by every heartbeat.
    pub expires_at: DateTime<Utc>,
}

impl RoomLease {
    /// How long a claim or a renewal holds: three heartbeats and a margin, so
    /// one missed write (a store hiccup) never loses the room, and a lost owner's
    /// room is claimable again within this.
    pub const TERM: TimeDelta = TimeDelta::seconds(20);

    /// `owner`'s lease of `conference_id`, from `now` for [`Self::TERM`].
    pub fn new(
        conference_id: ConferenceId,
        owner: NodeId,
        cascade: SocketAddr,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            conference_id,
            owner,
            cascade,
            expires_at: now + Self::TERM,
        }
    }

    /// Whether it still holds at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat(state: NodeState, at: DateTime<Utc>) -> NodeHeartbeat {
        NodeHeartbeat {
            node_id: "node-a".parse().unwrap(),
            sip: "10.0.0.7:5060".parse().unwrap(),
            state,
            calls: 3,
            participants: 2,
            heartbeat_at: at,
        }
    }

    #[test]
    fn a_node_id_fits_a_key_and_a_dispatcher_line() {
        for good in ["node-a", "a", "ip-10-0-0-7.ec2.internal", "9f2c_1"] {
            assert_eq!(good.parse::<NodeId>().unwrap().as_str(), good);
        }
        let long = "x".repeat(NodeId::MAX_LEN + 1);
        for bad in ["", "node a", "node#1", "nœud", long.as_str()] {
            let error = bad.parse::<NodeId>().unwrap_err();
            assert!(error.to_string().starts_with("node_id:"), "{error}");
        }
    }

    #[test]
    fn only_an_active_node_heard_from_lately_is_dispatched_to() {
        let now = Utc::now();
        assert!(heartbeat(NodeState::Active, now).is_dispatchable(now));
        assert!(heartbeat(NodeState::Active, now - NodeHeartbeat::FRESH).is_dispatchable(now));
        assert!(
            heartbeat(NodeState::Active, now + TimeDelta::seconds(2)).is_dispatchable(now),
            "a clock a little ahead"
        );
        let stale = now - NodeHeartbeat::FRESH - TimeDelta::seconds(1);
        assert!(!heartbeat(NodeState::Active, stale).is_dispatchable(now));
        assert!(!heartbeat(NodeState::Draining, now).is_dispatchable(now));
        assert!(!heartbeat(NodeState::Stopped, now).is_dispatchable(now));
    }

    #[test]
    fn a_serving_node_unheard_past_the_limit_is_lost() {
        let now = Utc::now();
        let limit = NodeHeartbeat::LOST_AFTER;
        let old = now - limit - TimeDelta::seconds(1);
        assert!(heartbeat(NodeState::Active, old).is_lost(now, limit));
        assert!(heartbeat(NodeState::Draining, old).is_lost(now, limit));
        assert!(!heartbeat(NodeState::Active, now - limit).is_lost(now, limit));
        assert!(!heartbeat(NodeState::Stopped, old).is_lost(now, limit));
        assert!(!heartbeat(NodeState::Reaped, old).is_lost(now, limit));
    }

    #[test]
    fn a_room_lease_holds_for_its_term_only() {
        let now = Utc::now();
        let lease = RoomLease::new(
            ConferenceId::new(),
            "node-a".parse().unwrap(),
            "10.0.0.7:5060".parse().unwrap(),
            now,
        );
        assert!(lease.is_live(now));
        assert!(lease.is_live(now + RoomLease::TERM - TimeDelta::milliseconds(1)));
        assert!(!lease.is_live(now + RoomLease::TERM));
        let json = serde_json::to_string(&lease).unwrap();
        assert_eq!(serde_json::from_str::<RoomLease>(&json).unwrap(), lease);
    }

    #[test]
    fn a_heartbeat_reads_back_as_written() {
        let beat = heartbeat(NodeState::Draining, Utc::now());
        let json = serde_json::to_string(&beat).unwrap();
        assert!(json.contains(r#""state":"draining""#), "{json}");
        assert_eq!(serde_json::from_str::<NodeHeartbeat>(&json).unwrap(), beat);
        let bad = json.replace("node-a", "node a");
        assert!(serde_json::from_str::<NodeHeartbeat>(&bad).is_err());
    }
}
