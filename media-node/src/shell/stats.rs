//! The node's figures: what it refused or dropped, by reason (RTP that was not a
//! caller's, SIP-over-TCP connections over the caps or closed by their clocks),
//! and its load (calls, rooms, participants, frames lost, RTP ports left, the CDR
//! spool's backlog). The media loop copies the node's own figures in every
//! second, the TCP tasks and the CDR queue count as they go; the loop logs the
//! refusals when they changed (at most every ten seconds), the [metrics] task
//! publishes the load, and [`Shell::stats`](super::Shell::stats) reads both.
//!
//! [metrics]: super::metrics

use std::sync::atomic::{AtomicU64, Ordering};

use teleconf_sip::connections::{Expiry, Refused};
use teleconf_sip::rtp::DroppedRtp;

use crate::node::{MediaStats, Node};

/// The figures, counted since the node started.
#[derive(Debug, Default)]
pub struct Stats {
    rtp_dropped_foreign_source: AtomicU64,
    rtp_dropped_foreign_ssrc: AtomicU64,
    tcp_refused_total_cap: AtomicU64,
    tcp_refused_per_source_cap: AtomicU64,
    tcp_closed_idle: AtomicU64,
    tcp_closed_incomplete: AtomicU64,
    untrusted_source_headers: AtomicU64,
    rooms_unleased: AtomicU64,
    rooms_owned_elsewhere: AtomicU64,
    cascades_refused: AtomicU64,
    admissions_checked_alone: AtomicU64,
    calls_shed: AtomicU64,
    calls: AtomicU64,
    rooms: AtomicU64,
    participants: AtomicU64,
    rtp_ports_left: AtomicU64,
    frames_lost: AtomicU64,
    spool_backlog: AtomicU64,
}

/// The node's load, as last copied from the media loop (every second) and the
/// CDR queue (as it goes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    /// Calls up: in the IVR or in a conference.
    pub calls: u64,
    /// Conferences with callers on this node.
    pub rooms: u64,
    /// Callers admitted to a conference.
    pub participants: u64,
    /// RTP ports free for new calls.
    pub rtp_ports_left: u64,
    /// Frames the callers never got, since the node started: the rooms'
    /// deadlines skipped ([`Node::frames_lost`]) and the RTP sends dropped on a
    /// full socket buffer.
    ///
    /// [`Node::frames_lost`]: crate::node::Node::frames_lost
    pub frames_lost: u64,
    /// CDR legs journaled in the spool and not yet written to the store.
    pub spool_backlog: u64,
}

/// A reading of [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// RTP packets the calls dropped.
    pub rtp_dropped: DroppedRtp,
    /// SIP-over-TCP connections refused: the node held its total.
    pub tcp_refused_total_cap: u64,
    /// SIP-over-TCP connections refused: their address held its share.
    pub tcp_refused_per_source_cap: u64,
    /// SIP-over-TCP connections closed after their idle time.
    pub tcp_closed_idle: u64,
    /// SIP-over-TCP connections closed on a message still incomplete.
    pub tcp_closed_incomplete: u64,
    /// SIP requests naming their source (`X-Teleconf-Source`) from outside the
    /// SIP entry: the header was ignored.
    pub untrusted_source_headers: u64,
    /// Rooms opened without a lease (the store away).
    pub rooms_unleased: u64,
    /// Rooms opened while another node held their lease.
    pub rooms_owned_elsewhere: u64,
    /// Cascade INVITEs refused (403): not from a node, or not signed right.
    pub cascades_refused: u64,
    /// Callers checked for the lock and the occupancy against this node alone
    /// while another node may hold their conference's room (its lease
    /// unreadable, or its owner silent).
    pub admissions_checked_alone: u64,
    /// New calls refused (503 with Retry-After) while the media loop was past
    /// its core.
    pub calls_shed: u64,
}

impl Stats {
    /// What is counted now.
    pub fn read(&self) -> Figures {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Figures {
            rtp_dropped: DroppedRtp {
                foreign_source: get(&self.rtp_dropped_foreign_source),
                foreign_ssrc: get(&self.rtp_dropped_foreign_ssrc),
            },
            tcp_refused_total_cap: get(&self.tcp_refused_total_cap),
            tcp_refused_per_source_cap: get(&self.tcp_refused_per_source_cap),
            tcp_closed_idle: get(&self.tcp_closed_idle),
            tcp_closed_incomplete: get(&self.tcp_closed_incomplete),
            untrusted_source_headers: get(&self.untrusted_source_headers),
            rooms_unleased: get(&self.rooms_unleased),
            rooms_owned_elsewhere: get(&self.rooms_owned_elsewhere),
            cascades_refused: get(&self.cascades_refused),
            admissions_checked_alone: get(&self.admissions_checked_alone),
            calls_shed: get(&self.calls_shed),
        }
    }

    /// The node's load now.
    pub fn load(&self) -> Load {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Load {
            calls: get(&self.calls),
            rooms: get(&self.rooms),
            participants: get(&self.participants),
            rtp_ports_left: get(&self.rtp_ports_left),
            frames_lost: get(&self.frames_lost),
            spool_backlog: get(&self.spool_backlog),
        }
    }

    /// The node's load as the media loop reads it: the node's accessors, and the
    /// RTP sends the loop dropped (`unsent`).
    pub(super) fn set_load(&self, node: &Node, unsent: u64) {
        let set = |counter: &AtomicU64, value: usize| {
            counter.store(u64::try_from(value).unwrap_or(u64::MAX), Ordering::Relaxed);
        };
        set(&self.calls, node.calls());
        set(&self.rooms, node.rooms());
        set(&self.participants, node.participants());
        set(&self.rtp_ports_left, node.rtp_ports_left());
        self.frames_lost
            .store(node.frames_lost().saturating_add(unsent), Ordering::Relaxed);
    }

    /// A CDR leg was journaled and handed to the store's writer.
    pub(super) fn cdr_queued(&self) {
        self.spool_backlog.fetch_add(1, Ordering::Relaxed);
    }

    /// The store's writer is done with a leg (written, or refused for good).
    pub(super) fn cdr_written(&self) {
        // Counted before it is handed over, so never below zero; saturating all
        // the same, as a gauge must never wrap.
        let _ = self
            .spool_backlog
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            });
    }

    /// The node's own figures, as it counts them.
    pub(super) fn set_media(&self, media: MediaStats) {
        let set = |counter: &AtomicU64, value| counter.store(value, Ordering::Relaxed);
        set(
            &self.rtp_dropped_foreign_source,
            media.rtp_dropped.foreign_source,
        );
        set(
            &self.rtp_dropped_foreign_ssrc,
            media.rtp_dropped.foreign_ssrc,
        );
        set(
            &self.untrusted_source_headers,
            media.untrusted_source_headers,
        );
        set(&self.rooms_unleased, media.rooms_unleased);
        set(&self.rooms_owned_elsewhere, media.rooms_owned_elsewhere);
        set(&self.cascades_refused, media.cascades_refused);
        set(
            &self.admissions_checked_alone,
            media.admissions_checked_alone,
        );
        set(&self.calls_shed, media.calls_shed);
    }

    /// A connection was refused.
    pub(super) fn tcp_refused(&self, why: Refused) {
        let counter = match why {
            Refused::Total => &self.tcp_refused_total_cap,
            Refused::PerSource => &self.tcp_refused_per_source_cap,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection was closed by its clock.
    pub(super) fn tcp_expired(&self, why: Expiry) {
        let counter = match why {
            Expiry::Idle => &self.tcp_closed_idle,
            Expiry::Incomplete => &self.tcp_closed_incomplete,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Figures {
    /// Logs the figures (one line, a field per reason).
    pub(super) fn log(&self) {
        tracing::info!(
            rtp_dropped_foreign_source = self.rtp_dropped.foreign_source,
            rtp_dropped_foreign_ssrc = self.rtp_dropped.foreign_ssrc,
            tcp_refused_total_cap = self.tcp_refused_total_cap,
            tcp_refused_per_source_cap = self.tcp_refused_per_source_cap,
            tcp_closed_idle = self.tcp_closed_idle,
            tcp_closed_incomplete = self.tcp_closed_incomplete,
            untrusted_source_headers = self.untrusted_source_headers,
            rooms_unleased = self.rooms_unleased,
            rooms_owned_elsewhere = self.rooms_owned_elsewhere,
            cascades_refused = self.cascades_refused,
            admissions_checked_alone = self.admissions_checked_alone,
            calls_shed = self.calls_shed,
            "media node: refused and dropped so far"
        );
    }
}
