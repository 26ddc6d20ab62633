//! The admission check's figures (issue #16): a caller who keyed a right code
//! is let in by the room's [`Occupancy`], its callers and the moderator's lock,
//! and those are the figures of the room that holds the conference, wherever
//! it is.
//!
//! - A room here that holds the conference (its lease this node's, or nobody
//!   known to hold it), or no room and no other holder: the room here's
//!   figures (none yet: empty, unlocked).
//! - A member's room (its cascade to the owner): the figures the owner's room
//!   tells after each change and as the cascade comes in
//!   ([`RoomMessage::Room`](crate::app::cascade::RoomMessage)).
//! - A conference with neither a room nor a lease known here, on a node that
//!   cascades: its first caller's check waits (the caller's IVR hears nothing
//!   new) while the shell reads the lease ([`IoOutput::FindRoom`], one store
//!   read, never on the media path). Another node's live lease → the cascade to
//!   it opens now, as a join would, and the check waits for the figures its
//!   room tells as the cascade comes in; a locked or full room refuses the
//!   caller as it would on the owner, and its CDR leg is never opened. No other
//!   holder → the room here's figures. The store unreadable → the room here's
//!   too, logged and counted ([`MediaStats::admissions_checked_alone`](super::MediaStats)).
//! - The owner silent for [`OWNER_WAIT`], or its cascade failed: the room
//!   here's figures, logged and counted, as before the cascade (the room opens
//!   here; a cascade still being set up joins it once answered; a failed one
//!   leaves it alone, its lease claimed by the heartbeat once free).
//!
//! A cascade opened for a check and needed by no caller here after all (each
//! refused, or gone while waiting) is closed as the last caller's leave closes
//! it.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use teleconf_domain::ConferenceId;

use super::rooms::Lease;
use super::{IoOutput, Node, RoomOwner, call};
use crate::app::CallKey;
use crate::app::ivr::Occupancy;
use crate::app::room::Room;

/// How long a caller's admission check waits on the room's owner (the lease
/// read, the cascade's answer, its room's figures) before the room here
/// decides: well within the IVR's own wait for an answer
/// ([`crate::app::ivr::ANSWER_TIMEOUT`]).
pub(super) const OWNER_WAIT: Duration = Duration::from_secs(3);

/// The figures a conference's admission check gets now.
enum Figures {
    /// Told by the owner's room.
    Owners(Occupancy),
    /// The room here's (empty when there is none): it holds the conference, or
    /// nobody else is known to, or the owner could not be reached.
    Here(Occupancy),
    /// The owner's, not told yet.
    Awaited,
}

impl Node {
    /// The IVR of call `key` asks `conference`'s room's occupancy.
    pub(super) fn count_callers(&mut self, now: Instant, key: CallKey, conference: ConferenceId) {
        if self.config.cascade.is_some()
            && !self.rooms.contains_key(&conference)
            && !self.leases.contains_key(&conference)
        {
            tracing::info!(%conference, "node: first caller of the conference here: who holds its room?");
            self.leases.insert(conference, Lease::Finding);
            self.io(IoOutput::FindRoom(conference));
        }
        match self.figures(conference) {
            Figures::Owners(occupancy) | Figures::Here(occupancy) => {
                self.feed(now, key, call::Input::Callers(occupancy));
            }
            Figures::Awaited => {
                self.gated.insert(key, (conference, now + OWNER_WAIT));
            }
        }
    }

    /// The shell read `conference`'s lease: `owner` holds it.
    pub(super) fn room_found(
        &mut self,
        now: Instant,
        wall_clock: DateTime<Utc>,
        conference: ConferenceId,
        owner: RoomOwner,
    ) {
        // A caller let in meanwhile (the owner too slow) made its join's claim.
        if !matches!(self.leases.get(&conference), Some(Lease::Finding)) {
            return;
        }
        self.leases.remove(&conference);
        let waiting = self.waiting(conference).len();
        match owner {
            RoomOwner::Elsewhere { node, cascade } if waiting > 0 => {
                match self.open_uplink(now, wall_clock, conference, cascade) {
                    Some(uplink) => {
                        tracing::info!(%conference, owner = %node, %cascade, "node: room held by another node: cascade to it, its first caller here checked against its room");
                        self.leases.insert(
                            conference,
                            Lease::Member {
                                uplink,
                                owner: node,
                            },
                        );
                        return;
                    }
                    None => {
                        self.admissions_checked_alone += waiting as u64;
                        tracing::warn!(%conference, owner = %node, "node: room held by another node, no cascade to it (no port left): its first caller here checked against this node alone");
                    }
                }
            }
            RoomOwner::Unknown => {
                self.admissions_checked_alone += waiting as u64;
                tracing::warn!(%conference, "node: room lease unreadable (store unreachable): its first caller here checked against this node alone");
            }
            RoomOwner::Elsewhere { .. } | RoomOwner::Here => {}
        }
        self.open_gate(now, conference);
    }

    /// Answers the checks of `conference` waiting, once their figures are
    /// known; then closes what no caller here needs.
    pub(super) fn open_gate(&mut self, now: Instant, conference: ConferenceId) {
        let occupancy = match self.figures(conference) {
            Figures::Awaited => return,
            Figures::Owners(occupancy) => occupancy,
            Figures::Here(occupancy) => {
                let waiting = self.waiting(conference).len();
                if waiting > 0
                    && matches!(self.leases.get(&conference), Some(Lease::Elsewhere { .. }))
                {
                    self.admissions_checked_alone += waiting as u64;
                    tracing::warn!(%conference, "node: the cascade to the room's owner failed: its callers here checked against this node alone");
                }
                occupancy
            }
        };
        for key in self.waiting(conference) {
            self.gated.remove(&key);
            self.feed(now, key, call::Input::Callers(occupancy));
        }
        self.settle(now, conference);
    }

    /// When the first check waiting on an owner's figures gives up, if any:
    /// seldom more than a few wait, and none mostly (asked after every packet).
    pub(super) fn gate_deadline(&self) -> Option<Instant> {
        if self.gated.is_empty() {
            return None;
        }
        self.gated.values().map(|(_, until)| *until).min()
    }

    /// The checks whose owner was silent too long get the room here's figures.
    pub(super) fn gate_timeout(&mut self, now: Instant) {
        // Asked at every timeout (each room's frame): nothing to look at, mostly.
        if self.gated.is_empty() {
            return;
        }
        let due: Vec<(CallKey, ConferenceId)> = self
            .gated
            .iter()
            .filter(|(_, (_, until))| *until <= now)
            .map(|(key, (conference, _))| (*key, *conference))
            .collect();
        for (key, conference) in due {
            self.gated.remove(&key);
            self.admissions_checked_alone += 1;
            let span = self.call_span(key).cloned();
            let entered = span.as_ref().map(tracing::Span::enter);
            tracing::warn!(%conference, wait = ?OWNER_WAIT, "node: the room's owner did not answer in time: the caller checked against this node alone");
            drop(entered);
            let here = self.figures_here(conference);
            self.feed(now, key, call::Input::Callers(here));
            self.settle(now, conference);
        }
    }

    /// Call `key` is gone: its check waits no more.
    pub(super) fn ungate(&mut self, now: Instant, key: CallKey) {
        if let Some((conference, _)) = self.gated.remove(&key) {
            self.settle(now, conference);
        }
    }

    /// No room of `conference` here and no caller waiting to enter one: the
    /// cascade the check opened is closed (as the last caller's leave closes
    /// it), and what the lease read found is forgotten.
    fn settle(&mut self, now: Instant, conference: ConferenceId) {
        let waits = self
            .gated
            .values()
            .any(|(waits_for, _)| *waits_for == conference);
        if self.rooms.contains_key(&conference) || waits {
            return;
        }
        match self.leases.get(&conference) {
            Some(&Lease::Member { uplink, .. }) => {
                tracing::info!(%conference, "node: no caller let in here after all: the cascade opened for the check closed");
                self.leases.remove(&conference);
                self.close_uplink(now, uplink);
            }
            Some(Lease::Elsewhere { .. }) => {
                self.leases.remove(&conference);
            }
            _ => {}
        }
    }

    /// What `conference`'s admission check gets now.
    fn figures(&self, conference: ConferenceId) -> Figures {
        match self.leases.get(&conference) {
            Some(Lease::Finding) => Figures::Awaited,
            Some(Lease::Member { uplink, .. }) => match self.uplinks.get(uplink) {
                Some(uplink) => uplink.room.map_or(Figures::Awaited, Figures::Owners),
                None => Figures::Here(self.figures_here(conference)),
            },
            _ => Figures::Here(self.figures_here(conference)),
        }
    }

    /// The room here's figures (none: empty, unlocked).
    fn figures_here(&self, conference: ConferenceId) -> Occupancy {
        self.rooms
            .get(&conference)
            .map_or_else(Occupancy::default, Room::occupancy)
    }

    /// The calls whose check of `conference` waits, oldest call first.
    fn waiting(&self, conference: ConferenceId) -> Vec<CallKey> {
        let mut waiting: Vec<CallKey> = self
            .gated
            .iter()
            .filter(|(_, (waits_for, _))| *waits_for == conference)
            .map(|(key, _)| *key)
            .collect();
        waiting.sort_unstable_by_key(|key| key.0);
        waiting
    }
}
