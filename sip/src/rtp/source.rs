//! Whose RTP a call takes (issue #13: « RTP is accepted from anyone »), sans-IO.
//!
//! A port of the node's range is reachable by anybody who can send to it, and its
//! number is no secret. So a call takes media only from its caller:
//!
//! - **Before the first packet** is taken, a packet counts only if it comes from
//!   the address the SDP gave (`c=` and `m=`, offer or answer), or, where the
//!   trunk's media reaches us from another address than its SDP says (NAT), from
//!   one of the trunk's media sources ([`Sources`], `TELECONF_TRUNK_MEDIA_SOURCES`)
//!   or from the host the call's SIP came from (an IP phone of `*44` behind NAT
//!   sends both from its public address). The first packet that counts
//!   **latches** its source address and SSRC.
//! - **After that**, a packet from any other source, or from the latched source
//!   with another SSRC, is dropped and counted ([`DroppedRtp`]). Two exceptions,
//!   both the caller's own doing: a packet from the SDP address itself replaces a
//!   latch taken on a trunk media source (the SDP is the caller's word); and a
//!   new SSRC from the latched address replaces the old one once the old stream
//!   has stopped for [`HANDOVER_SILENCE`] and the new one has sent [`PROBATION`]
//!   packets in sequence (a sender starting a new stream, RFC 3550 §8.2; the
//!   probation is RFC 3550 A.1's). A packet of another SSRC in the middle of the
//!   caller's stream is never taken.
//! - **A new SDP** (re-INVITE, or the answer in an ACK) that names another address
//!   forgets the latch: the new address is expected. One that names the same
//!   address (or none: a hold) keeps the address and learns the SSRC again from
//!   the next packet, since a renegotiated stream may have a new one.
//!
//! Where our RTP goes follows the latch (symmetric RTP), the SDP address until
//! then, so a stranger who sends to the port never receives the conference.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sources::Sources;

/// How long the latched stream must have been silent before another SSRC from
/// the same address may replace it (three 20 ms frames missed).
pub const HANDOVER_SILENCE: Duration = Duration::from_millis(60);

/// Packets in sequence a new SSRC sends before it replaces the old one (RFC 3550
/// A.1's `MIN_SEQUENTIAL`).
pub const PROBATION: u8 = 2;

/// Why a packet was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// It came from another source than the caller's.
    Source,
    /// It came from the caller's source with another SSRC.
    Ssrc,
}

impl DropReason {
    /// The reason's name in logs and figures.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Source => "foreign_source",
            DropReason::Ssrc => "foreign_ssrc",
        }
    }
}

/// What became of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The caller's: take it.
    Take,
    /// Not the caller's: drop it (it is counted).
    Drop(DropReason),
}

/// Packets dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DroppedRtp {
    /// From another source than the caller's.
    pub foreign_source: u64,
    /// From the caller's source with another SSRC.
    pub foreign_ssrc: u64,
}

impl DroppedRtp {
    /// Whether nothing was dropped.
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }

    fn count(&mut self, reason: DropReason) {
        match reason {
            DropReason::Source => self.foreign_source += 1,
            DropReason::Ssrc => self.foreign_ssrc += 1,
        }
    }
}

impl std::ops::AddAssign for DroppedRtp {
    fn add_assign(&mut self, other: Self) {
        self.foreign_source += other.foreign_source;
        self.foreign_ssrc += other.foreign_ssrc;
    }
}

/// The source a call latched.
#[derive(Debug, Clone, Copy)]
struct Latched {
    from: SocketAddr,
    /// `None` after a new SDP: the next packet from `from` sets it.
    ssrc: Option<u32>,
    /// When the latched stream's last packet was taken.
    last: Instant,
    /// Another SSRC from `from` on probation: its SSRC, the sequence number
    /// expected next, and the packets in sequence so far.
    candidate: Option<(u32, u16, u8)>,
}

/// The media source of one call. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct MediaSource {
    trunk_media: Arc<Sources>,
    /// The host the call's SIP came from.
    signalling: Option<IpAddr>,
    /// Where the SDP says the caller's RTP comes from.
    sdp: Option<SocketAddr>,
    latched: Option<Latched>,
    dropped: DroppedRtp,
}

impl MediaSource {
    /// A call's source, latching on `trunk_media` where the SDP's address does
    /// not send (NAT); nothing expected yet.
    pub fn new(trunk_media: Arc<Sources>) -> Self {
        Self {
            trunk_media,
            signalling: None,
            sdp: None,
            latched: None,
            dropped: DroppedRtp::default(),
        }
    }

    /// The call's SIP came from `host`: its media may too.
    pub fn signalled_from(&mut self, host: IpAddr) {
        self.signalling = Some(host.to_canonical());
    }

    /// A new SDP from the caller names `sdp` as its media address (`None`: it
    /// names none, `c=0.0.0.0`).
    pub fn expect(&mut self, sdp: Option<SocketAddr>) {
        match sdp {
            Some(sdp) if self.sdp != Some(sdp) => {
                if self.latched.is_some() {
                    tracing::debug!(%sdp, "rtp: the caller's media moved; latch forgotten");
                }
                self.sdp = Some(sdp);
                self.latched = None;
            }
            _ => {
                if let Some(latched) = &mut self.latched {
                    latched.ssrc = None;
                    latched.candidate = None;
                }
            }
        }
    }

    /// Whether a packet from `from` with `ssrc` and sequence number `seq`,
    /// received at `now`, is the caller's. A dropped one is counted.
    pub fn check(&mut self, now: Instant, from: SocketAddr, ssrc: u32, seq: u16) -> Verdict {
        let verdict = self.judge(now, from, ssrc, seq);
        if let Verdict::Drop(reason) = verdict {
            self.dropped.count(reason);
        }
        verdict
    }

    /// Whether a packet from `from` with `ssrc`, received at `now`, continues
    /// the latched stream: taken as [`Self::check`] would take it. `false`
    /// changes nothing: [`Self::check`] judges the packet.
    pub fn continues(&mut self, now: Instant, from: SocketAddr, ssrc: u32) -> bool {
        match &mut self.latched {
            Some(latched) if latched.from == from && latched.ssrc == Some(ssrc) => {
                latched.last = now;
                latched.candidate = None;
                true
            }
            _ => false,
        }
    }

    fn judge(&mut self, now: Instant, from: SocketAddr, ssrc: u32, seq: u16) -> Verdict {
        if self.continues(now, from, ssrc) {
            return Verdict::Take;
        }
        let from_sdp = self.sdp == Some(from);
        let Some(latched) = &mut self.latched else {
            let host = from.ip().to_canonical();
            if from_sdp || self.signalling == Some(host) || self.trunk_media.contains(host) {
                self.latch(now, from, ssrc);
                return Verdict::Take;
            }
            return Verdict::Drop(DropReason::Source);
        };
        if latched.from != from {
            if from_sdp {
                self.latch(now, from, ssrc);
                return Verdict::Take;
            }
            return Verdict::Drop(DropReason::Source);
        }
        match latched.ssrc {
            None => {
                latched.ssrc = Some(ssrc);
                latched.last = now;
                Verdict::Take
            }
            // Another SSRC than the latched one (`continues` took its own).
            Some(_) => {
                let in_sequence = match latched.candidate {
                    Some((candidate, next, count)) if candidate == ssrc && next == seq => count + 1,
                    _ => 1,
                };
                let stopped = now.saturating_duration_since(latched.last) >= HANDOVER_SILENCE;
                if stopped && in_sequence >= PROBATION {
                    tracing::info!(%from, ssrc, "rtp: the caller started a new stream");
                    latched.ssrc = Some(ssrc);
                    latched.last = now;
                    latched.candidate = None;
                    return Verdict::Take;
                }
                latched.candidate = Some((ssrc, seq.wrapping_add(1), in_sequence));
                Verdict::Drop(DropReason::Ssrc)
            }
        }
    }

    fn latch(&mut self, now: Instant, from: SocketAddr, ssrc: u32) {
        tracing::debug!(%from, ssrc, "rtp: source latched");
        self.latched = Some(Latched {
            from,
            ssrc: Some(ssrc),
            last: now,
            candidate: None,
        });
    }

    /// The source latched, if any: where our RTP goes.
    pub fn latched(&self) -> Option<SocketAddr> {
        self.latched.map(|latched| latched.from)
    }

    /// Packets dropped so far.
    pub fn dropped(&self) -> DroppedRtp {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("an address")
    }

    const SDP: &str = "192.0.2.10:6000";
    const NAT: &str = "198.51.100.20:41000";
    const STRANGER: &str = "203.0.113.66:6000";

    /// A source expecting [`SDP`], with the trunk's media on 198.51.100.0/24.
    fn source() -> MediaSource {
        let trunk_media = Arc::new("198.51.100.0/24".parse().expect("sources"));
        let mut source = MediaSource::new(trunk_media);
        source.expect(Some(addr(SDP)));
        source
    }

    #[test]
    fn the_sdp_address_latches_and_a_stranger_is_dropped_and_counted() {
        let now = Instant::now();
        let mut source = source();
        assert_eq!(
            source.check(now, addr(STRANGER), 1, 1),
            Verdict::Drop(DropReason::Source),
            "before the caller's first packet"
        );
        assert_eq!(source.latched(), None, "a stranger never latches");
        assert_eq!(source.check(now, addr(SDP), 7, 1), Verdict::Take);
        assert_eq!(source.latched(), Some(addr(SDP)));
        assert_eq!(
            source.check(now, addr(STRANGER), 7, 2),
            Verdict::Drop(DropReason::Source),
            "even with the caller's SSRC"
        );
        assert_eq!(
            source.check(now, addr("192.0.2.10:6002"), 7, 2),
            Verdict::Drop(DropReason::Source),
            "another port of the caller's host"
        );
        assert_eq!(
            source.dropped(),
            DroppedRtp {
                foreign_source: 3,
                foreign_ssrc: 0
            }
        );
    }

    #[test]
    fn behind_nat_a_trunk_media_source_latches_once() {
        let now = Instant::now();
        let mut source = source();
        assert_eq!(source.check(now, addr(NAT), 7, 1), Verdict::Take);
        assert_eq!(source.latched(), Some(addr(NAT)));
        assert_eq!(
            source.check(now, addr("198.51.100.21:41000"), 8, 1),
            Verdict::Drop(DropReason::Source),
            "another of the trunk's sources does not take over"
        );
        // The SDP address is the caller's own word: it replaces the NAT latch.
        assert_eq!(source.check(now, addr(SDP), 9, 1), Verdict::Take);
        assert_eq!(source.latched(), Some(addr(SDP)));
        assert_eq!(
            source.check(now, addr(NAT), 7, 2),
            Verdict::Drop(DropReason::Source)
        );
    }

    #[test]
    fn another_ssrc_in_the_middle_of_the_callers_stream_is_dropped() {
        let mut now = Instant::now();
        let mut source = source();
        assert_eq!(source.check(now, addr(SDP), 7, 1), Verdict::Take);
        for seq in 2..50u16 {
            now += Duration::from_millis(20);
            assert_eq!(source.check(now, addr(SDP), 7, seq), Verdict::Take);
            assert_eq!(
                source.check(now, addr(SDP), 666, seq),
                Verdict::Drop(DropReason::Ssrc),
                "an injected packet of its own sequence, between the caller's"
            );
        }
        assert_eq!(source.dropped().foreign_ssrc, 48);
    }

    #[test]
    fn a_new_stream_after_the_old_one_stopped_is_taken_after_its_probation() {
        let mut now = Instant::now();
        let mut source = source();
        assert_eq!(source.check(now, addr(SDP), 7, 1), Verdict::Take);
        now += HANDOVER_SILENCE;
        assert_eq!(
            source.check(now, addr(SDP), 8, 100),
            Verdict::Drop(DropReason::Ssrc),
            "on probation"
        );
        now += Duration::from_millis(20);
        assert_eq!(source.check(now, addr(SDP), 8, 101), Verdict::Take);
        assert_eq!(
            source.check(now, addr(SDP), 7, 2),
            Verdict::Drop(DropReason::Ssrc),
            "the old stream is gone"
        );
    }

    #[test]
    fn a_new_sdp_address_forgets_the_latch_and_the_same_one_learns_the_ssrc_again() {
        let now = Instant::now();
        let mut source = source();
        assert_eq!(source.check(now, addr(SDP), 7, 1), Verdict::Take);
        // A re-INVITE with the same address and a new stream: taken at once.
        source.expect(Some(addr(SDP)));
        assert_eq!(source.check(now, addr(SDP), 8, 1), Verdict::Take);
        assert_eq!(
            source.check(now, addr(SDP), 7, 2),
            Verdict::Drop(DropReason::Ssrc)
        );
        // A hold without an address keeps the latch.
        source.expect(None);
        assert_eq!(source.latched(), Some(addr(SDP)));
        // The caller moves: its new address is expected, the old one dropped.
        let moved = addr("192.0.2.99:7000");
        source.expect(Some(moved));
        assert_eq!(source.latched(), None);
        assert_eq!(
            source.check(now, addr(SDP), 8, 2),
            Verdict::Drop(DropReason::Source)
        );
        assert_eq!(source.check(now, moved, 9, 1), Verdict::Take);
        assert_eq!(source.latched(), Some(moved));
    }

    #[test]
    fn behind_nat_the_host_the_sip_came_from_latches_too() {
        let now = Instant::now();
        let mut source = MediaSource::new(Arc::new(Sources::none()));
        source.signalled_from("203.0.113.5".parse().expect("an address"));
        source.expect(Some(addr("10.0.0.20:4000")));
        assert_eq!(
            source.check(now, addr(STRANGER), 7, 1),
            Verdict::Drop(DropReason::Source)
        );
        assert_eq!(
            source.check(now, addr("203.0.113.5:51000"), 7, 1),
            Verdict::Take
        );
        assert_eq!(
            source.check(now, addr("203.0.113.5:51002"), 7, 2),
            Verdict::Drop(DropReason::Source),
            "latched once"
        );
    }

    #[test]
    fn with_no_trunk_media_sources_only_the_sdp_address_counts() {
        let now = Instant::now();
        let mut source = MediaSource::new(Arc::new(Sources::none()));
        assert_eq!(
            source.check(now, addr(SDP), 7, 1),
            Verdict::Drop(DropReason::Source),
            "nothing expected before an SDP"
        );
        source.expect(Some(addr(SDP)));
        assert_eq!(
            source.check(now, addr(NAT), 7, 1),
            Verdict::Drop(DropReason::Source)
        );
        assert_eq!(source.check(now, addr(SDP), 7, 1), Verdict::Take);
    }
}
