//! The node's figures of what it refused or dropped, by reason: RTP that was not
//! a caller's, SIP-over-TCP connections over the caps or closed by their clocks.
//! The media loop copies the node's own figures in every second, the TCP tasks
//! count as they go; the loop logs them when they changed (at most every ten
//! seconds), and [`Shell::stats`](super::Shell::stats) reads them.

use std::sync::atomic::{AtomicU64, Ordering};

use teleconf_sip::connections::{Expiry, Refused};
use teleconf_sip::rtp::DroppedRtp;

use crate::node::MediaStats;

/// The figures, counted since the node started.
#[derive(Debug, Default)]
pub struct Stats {
    rtp_dropped_foreign_source: AtomicU64,
    rtp_dropped_foreign_ssrc: AtomicU64,
    tcp_refused_total_cap: AtomicU64,
    tcp_refused_per_source_cap: AtomicU64,
    tcp_closed_idle: AtomicU64,
    tcp_closed_incomplete: AtomicU64,
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
        }
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
            "media node: refused and dropped so far"
        );
    }
}
