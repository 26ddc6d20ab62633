//! A room's audio: one [`Mixer`] per conference running on the node, sans-IO (the str0m pattern:
//! time is an input, nothing here reads a clock or a socket).
//!
//! ## What each leg hears
//! Every 20 ms tick pulls one frame per leg from its [jitter buffer](jitter) and:
//! - a **contributor** — a heard role (participant, moderator), not muted, whose
//!   frame this tick is present and not silent — is added to the mix and gets the
//!   mix of the *others* (N−1), encoded for it alone;
//! - everybody else — listeners, muted talkers, talkers with nothing (or only
//!   silence) to say this tick — gets the **full mix**, encoded **once per codec**
//!   into a buffer they all share. For a talker whose frame is silent the full
//!   mix *is* its N−1 mix, since silent frames are never added.
//! - A listener's frames are buffered (for the quality figures, and so a
//!   promotion takes effect at once) but **never decoded nor mixed**; a muted
//!   talker likewise. [`Mixer::last_mix`] is what a listener hears: the recording
//!   of #5.
//!
//! ## Saturation
//! Sums are taken in `i32` (no overflow: 2^16 legs of full-scale i16 would be
//! needed) and **hard-clipped** to `i16` once, when a mix is finished; a talker's
//! N−1 mix is `sum − own` from the unclipped `i32` sum, so it is exact. Hard
//! clipping is chosen over a soft-knee limiter: in a conference two or three
//! people talk at once at speech levels far below full scale, so clipping is
//! rare, and a limiter would colour every quiet sum too. Never wraps.
//!
//! ## Ticks and time
//! [`Mixer::tick`] runs on **absolute deadlines** 20 ms apart: [`Mixer::anchor`]
//! (or else the first tick) anchors the schedule, then each deadline is the previous plus exactly 20 ms,
//! whatever the lateness of the call ([`Mixer::poll_timeout`] gives the next one),
//! so there is no drift. A call before the deadline does nothing. A tick up to
//! [`MAX_CATCH_UP_FRAMES`] frames late mixes the frame due and leaves the next
//! deadline in the past, so the shell catches up with at most that many
//! back-to-back ticks; a tick later than that **skips ahead** to the latest
//! deadline instead of bursting: it mixes one frame, drops from every jitter
//! buffer the frames of the skipped deadlines (so delay does not build up) and
//! reports how many it skipped.
//!
//! ## Cost per tick (N legs, T contributors, C ≤ 2 codecs among the others)
//! - N jitter-buffer pops (a slot check, no copy);
//! - T table decodes (160 loads each) and T accumulations into the `i32` sum;
//! - one clip of the full mix, then C shared encodes (160 table loads each);
//! - T N−1 clips + encodes (one per contributor);
//! - no heap allocation: all buffers are sized at `join` and reused (the room's
//!   leg table only grows on `join`); outputs are slices into them.
//!
//! So a room of 25 with 3 talkers costs ~3 decodes + 5 encodes per 20 ms, a few
//! microseconds (0.2–0.4 µs per participant); the socket work dominates.
//! Measured in `make bench-media`, not in tests.

pub mod jitter;

use rustc_hash::FxHashMap;
use std::time::{Duration, Instant};

use teleconf_domain::CallerRole;
use teleconf_sip::sdp::Codec;

use crate::app::CallKey;

use jitter::JitterBuffer;
pub use jitter::{FRAME_BYTES, LegStats};

/// The mixer's tick and the packetisation of every leg (`a=ptime:20`).
pub const FRAME_DURATION: Duration = Duration::from_millis(20);

/// Samples in one frame (20 ms at 8 kHz): one per G.711 byte.
pub const FRAME_SAMPLES: usize = FRAME_BYTES;

/// How many whole frames late a tick may be and still be caught up tick by tick;
/// later than that, the room skips ahead (see the module doc).
pub const MAX_CATCH_UP_FRAMES: u32 = 2;

/// A frame whose samples all lie within ±this is silence: not mixed. G.711's
/// quietest code words decode to 0 (µ-law) and ±8 (A-law).
pub const SILENCE_PEAK: u16 = 8;

/// A frame whose mean absolute sample is at most this (about −44 dBFS) is a
/// pause in speech: a phone line's background noise lies below it, speech
/// (around −20 dBFS) far above. The jitter buffer drops such a frame, not a
/// talking one, when it shrinks its delay.
pub const QUIET_MEAN_LEVEL: u32 = 200;

/// Whether `frame`, in `codec`, is a pause in speech ([`QUIET_MEAN_LEVEL`]).
fn is_quiet(codec: Codec, frame: &[u8; FRAME_BYTES]) -> bool {
    let total: u32 = frame
        .iter()
        .map(|&code| u32::from(codec.decode_sample(code).unsigned_abs()))
        .sum();
    total <= QUIET_MEAN_LEVEL * FRAME_BYTES as u32
}

/// Why the room refused a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixerError {
    /// No leg with this key is in the room.
    #[error("leg {0:?} is not in the room")]
    UnknownLeg(CallKey),
    /// A leg with this key is already in the room.
    #[error("leg {0:?} is already in the room")]
    AlreadyJoined(CallKey),
    /// The payload is not one 20 ms G.711 frame (ptime 20 is what we answer).
    #[error("leg {leg:?} sent {len} bytes, not one {FRAME_BYTES}-byte frame")]
    BadFrameSize {
        /// The leg that sent it.
        leg: CallKey,
        /// Its length in bytes.
        len: usize,
    },
}

/// What one tick did, for the shell's counters and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    /// The deadline this tick mixed for.
    pub deadline: Instant,
    /// Deadlines skipped (not mixed) because the tick was very late.
    pub skipped_frames: u32,
    /// Legs whose frame was added to the mix this tick.
    pub contributors: usize,
    /// Encodes of the shared full mix (at most one per codec in use).
    pub shared_encodes: usize,
    /// Encodes of a talker's own N−1 mix (one per contributor).
    pub own_encodes: usize,
}

/// One leg in the room.
#[derive(Debug)]
struct Member {
    /// The shell's name for it.
    key: CallKey,
    /// Whether it is heard (participant, moderator) or only hears (listener).
    role: CallerRole,
    /// Its codec, both ways.
    codec: Codec,
    /// Muted by the moderator or by itself: heard by no one.
    muted: bool,
    /// Its received frames.
    jitter: JitterBuffer,
    /// Its frame of this tick, decoded (valid when `contributing`).
    pcm: Vec<i16>,
    /// Whether its frame was added to this tick's mix.
    contributing: bool,
    /// Its own N−1 mix, encoded (valid when `contributing`).
    own: Vec<u8>,
}

/// One conference's mixer (see the module doc).
#[derive(Debug)]
pub struct Mixer {
    /// The legs, in no particular order.
    legs: Vec<Member>,
    /// Where each leg is in `legs` (looked up at every frame pushed: keyed by
    /// the node's own keys, hashed fast).
    index: FxHashMap<CallKey, usize>,
    /// The next deadline; `None` until the first tick anchors the schedule.
    next_deadline: Option<Instant>,
    /// This tick's sum of every contributor, unclipped.
    sum: Vec<i32>,
    /// This tick's full mix, clipped: what a listener hears.
    mix: Vec<i16>,
    /// Scratch for a talker's N−1 mix before encoding.
    scratch: Vec<i16>,
    /// The full mix encoded, per codec ([`codec_slot`]).
    shared: [Vec<u8>; 2],
}

impl Default for Mixer {
    fn default() -> Self {
        Self::new()
    }
}

impl Mixer {
    /// An empty room; its schedule starts at the first [`Mixer::tick`].
    pub fn new() -> Self {
        let silence = [0; FRAME_SAMPLES];
        let shared_mix = |codec: Codec| {
            let mut encoded = Vec::with_capacity(FRAME_BYTES);
            codec.encode(&silence, &mut encoded);
            encoded
        };
        Self {
            legs: Vec::new(),
            index: FxHashMap::default(),
            next_deadline: None,
            sum: vec![0; FRAME_SAMPLES],
            mix: vec![0; FRAME_SAMPLES],
            scratch: Vec::with_capacity(FRAME_SAMPLES),
            shared: [shared_mix(Codec::Pcmu), shared_mix(Codec::Pcma)],
        }
    }

    /// Adds a leg. It hears the room from the next tick; it is heard once its
    /// frames have come through its jitter buffer (and if its role is heard).
    pub fn join(&mut self, leg: CallKey, role: CallerRole, codec: Codec) -> Result<(), MixerError> {
        if self.index.contains_key(&leg) {
            return Err(MixerError::AlreadyJoined(leg));
        }
        self.index.insert(leg, self.legs.len());
        self.legs.push(Member {
            key: leg,
            role,
            codec,
            muted: false,
            jitter: JitterBuffer::new(),
            pcm: Vec::with_capacity(FRAME_SAMPLES),
            contributing: false,
            own: Vec::with_capacity(FRAME_BYTES),
        });
        tracing::debug!(leg = leg.0, %role, ?codec, legs = self.legs.len(), "leg joined the room");
        Ok(())
    }

    /// Removes a leg; returns its reception figures for the CDR.
    pub fn leave(&mut self, leg: CallKey) -> Result<LegStats, MixerError> {
        let position = self.index.remove(&leg).ok_or(MixerError::UnknownLeg(leg))?;
        let gone = self.legs.swap_remove(position);
        if let Some(moved) = self.legs.get(position) {
            self.index.insert(moved.key, position);
        }
        let stats = gone.jitter.stats();
        tracing::debug!(
            leg = leg.0,
            legs = self.legs.len(),
            ?stats,
            "leg left the room"
        );
        Ok(stats)
    }

    /// Mutes or unmutes a leg (moderator or self mute): a muted leg is heard by
    /// no one and still hears everyone.
    pub fn set_muted(&mut self, leg: CallKey, muted: bool) -> Result<(), MixerError> {
        self.member_mut(leg)?.muted = muted;
        Ok(())
    }

    /// Changes a leg's role (e.g. a listener promoted to participant).
    pub fn set_role(&mut self, leg: CallKey, role: CallerRole) -> Result<(), MixerError> {
        self.member_mut(leg)?.role = role;
        Ok(())
    }

    /// Changes a leg's codec (a re-INVITE picked another one); both ways.
    pub fn set_codec(&mut self, leg: CallKey, codec: Codec) -> Result<(), MixerError> {
        self.member_mut(leg)?.codec = codec;
        Ok(())
    }

    /// Whether a leg is muted (`None`: not in the room).
    pub fn is_muted(&self, leg: CallKey) -> Option<bool> {
        self.member(leg).map(|leg| leg.muted)
    }

    /// A leg's reception figures so far (`None`: not in the room).
    pub fn stats(&self, leg: CallKey) -> Option<LegStats> {
        self.member(leg).map(|leg| leg.jitter.stats())
    }

    /// Legs in the room.
    pub fn len(&self) -> usize {
        self.legs.len()
    }

    /// Whether the room has no legs.
    pub fn is_empty(&self) -> bool {
        self.legs.is_empty()
    }

    /// Hands over one received RTP payload: one 20 ms frame in the leg's codec.
    /// Frames from listeners are accepted (and counted) but never mixed.
    pub fn push(
        &mut self,
        now: Instant,
        leg: CallKey,
        sequence: u16,
        rtp_timestamp: u32,
        payload: &[u8],
    ) -> Result<(), MixerError> {
        let frame: &[u8; FRAME_BYTES] =
            payload.try_into().map_err(|_| MixerError::BadFrameSize {
                leg,
                len: payload.len(),
            })?;
        self.member_mut(leg)?
            .jitter
            .insert(now, sequence, rtp_timestamp, frame);
        Ok(())
    }

    /// Anchors the schedule: the first frame is due at `at` (unless a tick or an
    /// earlier anchor set the schedule already). Rooms anchored at different
    /// moments mix at different phases of the 20 ms period, which spreads a node's
    /// work over the period instead of piling every room on one instant.
    pub fn anchor(&mut self, at: Instant) {
        self.next_deadline.get_or_insert(at);
    }

    /// When the next tick is due; `None` until the first tick anchors the
    /// schedule (the shell then ticks at once). May be in the past while the
    /// room catches up with a late tick.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_deadline
    }

    /// Mixes one frame if a deadline has come (else `None`, nothing changes).
    /// Then [`Mixer::outputs`] gives each leg's payload and [`Mixer::last_mix`]
    /// the full mix. See the module doc for lateness and skipping.
    pub fn tick(&mut self, now: Instant) -> Option<TickReport> {
        let mut deadline = *self.next_deadline.get_or_insert(now);
        if now < deadline {
            return None;
        }
        let behind = (now - deadline).as_nanos() / FRAME_DURATION.as_nanos();
        let behind = u32::try_from(behind).unwrap_or(u32::MAX);
        let mut skipped_frames = 0;
        if behind > MAX_CATCH_UP_FRAMES {
            skipped_frames = behind;
            deadline += FRAME_DURATION * behind;
            for leg in &mut self.legs {
                leg.jitter.skip(behind);
            }
            tracing::warn!(
                skipped_frames,
                legs = self.legs.len(),
                "mixer tick very late: skipped ahead"
            );
        }
        self.next_deadline = Some(deadline + FRAME_DURATION);

        let contributors = self.sum_contributors(now);
        let (shared_encodes, own_encodes) = self.encode_outputs();
        Some(TickReport {
            deadline,
            skipped_frames,
            contributors,
            shared_encodes,
            own_encodes,
        })
    }

    /// The payload each leg must be sent for the last tick, in its codec: a
    /// talker's own N−1 mix, or the shared full mix of its codec (the same slice
    /// for every such leg). Empty before the first tick.
    pub fn outputs(&self) -> impl Iterator<Item = (CallKey, &[u8])> + '_ {
        self.legs.iter().map(|leg| (leg.key, self.output_of(leg)))
    }

    /// The payload for one leg (`None`: not in the room).
    pub fn output(&self, leg: CallKey) -> Option<&[u8]> {
        self.member(leg).map(|leg| self.output_of(leg))
    }

    /// The full mix of the last tick, as linear PCM: what a listener hears, for
    /// the recorder (#5). Silence before the first tick.
    pub fn last_mix(&self) -> &[i16] {
        &self.mix
    }

    /// Pops every leg's frame, decodes and sums the contributors' ones.
    fn sum_contributors(&mut self, now: Instant) -> usize {
        self.sum.fill(0);
        let mut contributors = 0;
        for leg in &mut self.legs {
            leg.contributing = false;
            let codec = leg.codec;
            let frame = leg.jitter.pop(now, |frame| is_quiet(codec, frame));
            let Some(frame) = frame else { continue };
            if !leg.role.is_heard() || leg.muted {
                continue;
            }
            // Judged on the code words, so that a silent leg (most of a
            // room) is never decoded.
            if frame
                .iter()
                .all(|&code| codec.decode_sample(code).unsigned_abs() <= SILENCE_PEAK)
            {
                continue;
            }
            leg.pcm.clear();
            codec.decode(frame, &mut leg.pcm);
            leg.contributing = true;
            contributors += 1;
            for (total, &sample) in self.sum.iter_mut().zip(&leg.pcm) {
                *total += i32::from(sample);
            }
        }
        for (mixed, &total) in self.mix.iter_mut().zip(&self.sum) {
            *mixed = clip(total);
        }
        contributors
    }

    /// Encodes each contributor's N−1 mix and the shared full mix once per codec
    /// that someone else needs. Returns (shared encodes, own encodes).
    fn encode_outputs(&mut self) -> (usize, usize) {
        let mut needs_shared = [false; 2];
        let mut own_encodes = 0;
        for leg in &mut self.legs {
            if !leg.contributing {
                needs_shared[codec_slot(leg.codec)] = true;
                continue;
            }
            self.scratch.clear();
            self.scratch.extend(
                self.sum
                    .iter()
                    .zip(&leg.pcm)
                    .map(|(&total, &own)| clip(total - i32::from(own))),
            );
            leg.own.clear();
            leg.codec.encode(&self.scratch, &mut leg.own);
            own_encodes += 1;
        }
        let mut shared_encodes = 0;
        for codec in [Codec::Pcmu, Codec::Pcma] {
            if needs_shared[codec_slot(codec)] {
                let encoded = &mut self.shared[codec_slot(codec)];
                encoded.clear();
                codec.encode(&self.mix, encoded);
                shared_encodes += 1;
            }
        }
        (shared_encodes, own_encodes)
    }

    /// The payload for `leg` after the last tick.
    fn output_of<'a>(&'a self, leg: &'a Member) -> &'a [u8] {
        if leg.contributing {
            &leg.own
        } else {
            &self.shared[codec_slot(leg.codec)]
        }
    }

    fn member(&self, leg: CallKey) -> Option<&Member> {
        self.index.get(&leg).map(|&position| &self.legs[position])
    }

    fn member_mut(&mut self, leg: CallKey) -> Result<&mut Member, MixerError> {
        let position = *self.index.get(&leg).ok_or(MixerError::UnknownLeg(leg))?;
        Ok(&mut self.legs[position])
    }
}

/// Hard clip of an `i32` sum to `i16` (see "Saturation" in the module doc).
#[inline]
fn clip(total: i32) -> i16 {
    total.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// Where a codec's shared mix lives in [`Mixer::shared`].
fn codec_slot(codec: Codec) -> usize {
    match codec {
        Codec::Pcmu => 0,
        Codec::Pcma => 1,
    }
}

#[cfg(test)]
mod tests;
