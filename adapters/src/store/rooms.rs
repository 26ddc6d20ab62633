//! Which node holds each conference's room ([`RoomLease`], issue #16): one item
//! per conference (`ROOM#<conference id>` / `ROOM`), claimed by a conditional
//! write (absent, expired, or already the claimant's: a renewal is a claim by
//! the holder), released by a conditional delete (the holder's only). The media
//! node reads it at a conference's first admission on that node, never on the
//! media path. An expired item is left for the next claim (or the table's TTL,
//! [`ROOM_TTL`] after its expiry).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use teleconf_domain::{ConferenceId, NodeId, RoomLease};

/// How long an expired lease's item stays before the table's TTL removes it.
pub const ROOM_TTL: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The lease is the claimant's now (new, taken over from an expired holder,
    /// or renewed).
    Mine,
    /// Another node holds a live lease: this one.
    Held(RoomLease),
}

/// The rooms' leases.
#[async_trait]
pub trait RoomStore: Send + Sync {
    /// Writes `lease` if there is no lease of its conference, or it expired at
    /// `now`, or it is `lease.owner`'s already; otherwise returns the live
    /// lease of the other node.
    async fn claim_room(&self, lease: &RoomLease, now: DateTime<Utc>) -> Result<Claim>;
    /// Removes the lease of `conference` if `owner` holds it (a lease another
    /// node took over is left alone; no lease at all is not an error).
    async fn release_room(&self, conference: ConferenceId, owner: &NodeId) -> Result<()>;
    /// The lease of `conference`, live or not, if there is one.
    async fn room_lease(&self, conference: ConferenceId) -> Result<Option<RoomLease>>;
}
