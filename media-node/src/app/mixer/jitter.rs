//! A tiny fixed jitter buffer: one per leg, a few 20 ms G.711 frames deep.
//!
//! Deliberately simple (a conference bridge on a LAN/trunk sees little jitter;
//! what matters is that the mixer never waits for a leg):
//!
//! - **Slots.** [`DEPTH`] frames, slot = `sequence % DEPTH` (a power of two, so
//!   the mapping survives the 16-bit wrap). The buffer holds the frames whose
//!   sequence numbers are in `[next, next + DEPTH)`, `next` being the next one to
//!   play. No heap: the frames live inline.
//! - **Playout delay.** Playing starts at the first tick at least
//!   [`PLAYOUT_DELAY`] after the leg's first frame arrived: that one frame of
//!   slack absorbs up to ~20 ms of arrival jitter and lets frames reordered
//!   within it be put back in order. Before playing starts, a frame older than
//!   the first one moves the play point back (if everything still fits).
//! - **Each tick** ([`JitterBuffer::pop`]): the frame `next` if it is there; if it
//!   is missing but a later frame is buffered, it is **lost**: counted, silence
//!   is played, `next` moves on; if the buffer is empty, the stream has paused
//!   (silence suppression, hold) or the frame is late: silence, `next` stays, so
//!   a late frame still plays next tick (that grows the delay by one frame, which
//!   the buffer bounds at `DEPTH`).
//! - **Dropped on arrival:** a frame older than `next` (**late**), a second copy
//!   of a buffered frame (**duplicate**). A frame too far ahead to fit pushes
//!   `next` forward, dropping the oldest frames (**overrun**, or **lost** for
//!   the missing ones). A jump of more than [`RESYNC_FRAMES`] either way (a new
//!   SSRC, a sender restart) restarts the stream at the new sequence number.
//! - **Jitter** is the RFC 3550 §6.4.1 / §A.8 interarrival estimate, in 8 kHz
//!   timestamp units; its maximum goes to the CDR quality figures (#5).

use std::time::{Duration, Instant};

/// Bytes (and samples) of one 20 ms G.711 frame at 8 kHz.
pub const FRAME_BYTES: usize = 160;

/// Frames a leg's buffer holds: also the furthest a frame may arrive out of order.
pub const DEPTH: usize = 4;

/// How long after a leg's first frame arrives its playout starts (one frame).
pub const PLAYOUT_DELAY: Duration = Duration::from_millis(20);

/// A sequence jump further than this (1 s of audio) either way restarts the stream
/// instead of counting a second of loss or dropping everything as late.
pub const RESYNC_FRAMES: u16 = 50;

/// G.711 runs at 8,000 timestamp units per second (RFC 3551 §4.5.14).
const UNITS_PER_SECOND: u128 = 8_000;

/// One leg's reception figures, for the CDR quality fields (#5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegStats {
    /// Frames handed to the room for this leg (including those then dropped).
    pub received: u64,
    /// Frames played into the mix (or that would have been, for a listener).
    pub played: u64,
    /// Frames that never arrived in time: silence was played in their place.
    pub lost: u64,
    /// Frames that arrived after their turn had passed, dropped.
    pub late: u64,
    /// Second copies of a frame already buffered, dropped.
    pub duplicate: u64,
    /// Frames thrown away because the buffer ran over (a burst, or the mixer
    /// skipping ahead after a very late tick).
    pub overrun: u64,
    /// Times the stream restarted after a sequence jump of more than
    /// [`RESYNC_FRAMES`].
    pub resyncs: u64,
    /// Highest RFC 3550 interarrival jitter seen, in 8 kHz timestamp units.
    pub max_jitter_units: u32,
}

impl LegStats {
    /// The highest interarrival jitter seen, as a duration.
    pub fn max_jitter(&self) -> Duration {
        Duration::from_micros(u64::from(self.max_jitter_units) * 125)
    }
}

/// One slot of the ring.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Whether `payload` holds a frame still to play.
    filled: bool,
    /// The frame's RTP sequence number.
    sequence: u16,
    /// The frame as received, in the leg's codec.
    payload: [u8; FRAME_BYTES],
}

const EMPTY_SLOT: Slot = Slot {
    filled: false,
    sequence: 0,
    payload: [0; FRAME_BYTES],
};

/// The jitter buffer of one leg (see the module doc).
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    /// The ring of frames, indexed by `sequence % DEPTH`.
    slots: [Slot; DEPTH],
    /// Filled slots.
    buffered: usize,
    /// Sequence number to play next; meaningful once a frame has arrived.
    next: u16,
    /// When the first frame arrived (`None`: nothing received yet).
    first_arrival: Option<Instant>,
    /// Whether playout has started (the playout delay has passed).
    playing: bool,
    /// RFC 3550 A.8: the previous frame's transit time, in timestamp units.
    last_transit: Option<u32>,
    /// RFC 3550 A.8: the jitter estimate, scaled by 16.
    jitter_x16: u64,
    /// The figures for the CDR.
    stats: LegStats,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl JitterBuffer {
    /// An empty buffer that has received nothing.
    pub fn new() -> Self {
        Self {
            slots: [EMPTY_SLOT; DEPTH],
            buffered: 0,
            next: 0,
            first_arrival: None,
            playing: false,
            last_transit: None,
            jitter_x16: 0,
            stats: LegStats::default(),
        }
    }

    /// The figures so far.
    pub fn stats(&self) -> LegStats {
        self.stats
    }

    /// Takes one received frame. `payload` is exactly [`FRAME_BYTES`] long.
    pub fn insert(
        &mut self,
        now: Instant,
        sequence: u16,
        rtp_timestamp: u32,
        payload: &[u8; FRAME_BYTES],
    ) {
        self.stats.received += 1;
        let Some(first_arrival) = self.first_arrival else {
            self.first_arrival = Some(now);
            self.next = sequence;
            self.update_jitter(now, now, rtp_timestamp);
            self.store(sequence, payload);
            return;
        };
        self.update_jitter(first_arrival, now, rtp_timestamp);

        let ahead = sequence.wrapping_sub(self.next) as i16;
        if ahead.unsigned_abs() > RESYNC_FRAMES {
            self.clear();
            self.stats.resyncs += 1;
            self.next = sequence;
            self.store(sequence, payload);
        } else if ahead < 0 {
            if !self.playing && self.fits_from(sequence) {
                // Reordered before playout began: play from this older frame.
                self.next = sequence;
                self.store(sequence, payload);
            } else {
                self.stats.late += 1;
            }
        } else {
            let ahead = ahead as usize;
            if ahead >= DEPTH {
                // Too far ahead: move the window so that this frame is its last.
                for _ in 0..=ahead - DEPTH {
                    self.discard_next();
                }
            }
            self.store(sequence, payload);
        }
    }

    /// The frame for this tick, or `None` for silence (see the module doc).
    pub fn pop(&mut self, now: Instant) -> Option<&[u8; FRAME_BYTES]> {
        let first_arrival = self.first_arrival?;
        if !self.playing {
            if now < first_arrival + PLAYOUT_DELAY {
                return None;
            }
            self.playing = true;
        }
        let index = slot_index(self.next);
        let slot = &self.slots[index];
        if slot.filled && slot.sequence == self.next {
            self.slots[index].filled = false;
            self.buffered -= 1;
            self.next = self.next.wrapping_add(1);
            self.stats.played += 1;
            Some(&self.slots[index].payload)
        } else {
            if self.buffered > 0 {
                // A later frame is here, so this one is missing, not just paused.
                self.stats.lost += 1;
                self.next = self.next.wrapping_add(1);
            }
            None
        }
    }

    /// The mixer skipped `frames` ticks: drop what would have played in them,
    /// so the leg's delay does not grow by the skipped time.
    pub fn skip(&mut self, frames: u32) {
        for _ in 0..frames {
            if self.buffered == 0 {
                break;
            }
            self.discard_next();
        }
    }

    /// Drops the frame at `next` (counted as overrun, or as lost if missing).
    fn discard_next(&mut self) {
        let index = slot_index(self.next);
        if self.slots[index].filled && self.slots[index].sequence == self.next {
            self.slots[index].filled = false;
            self.buffered -= 1;
            self.stats.overrun += 1;
        } else {
            self.stats.lost += 1;
        }
        self.next = self.next.wrapping_add(1);
    }

    /// Whether every buffered frame is within `DEPTH` of `sequence`.
    fn fits_from(&self, sequence: u16) -> bool {
        self.slots
            .iter()
            .filter(|slot| slot.filled)
            .all(|slot| usize::from(slot.sequence.wrapping_sub(sequence)) < DEPTH)
    }

    /// Puts a frame in its slot, unless that copy is already there.
    fn store(&mut self, sequence: u16, payload: &[u8; FRAME_BYTES]) {
        let slot = &mut self.slots[slot_index(sequence)];
        if slot.filled {
            // Only `sequence` itself can be in its slot: the window is DEPTH wide.
            self.stats.duplicate += 1;
            return;
        }
        slot.filled = true;
        slot.sequence = sequence;
        slot.payload = *payload;
        self.buffered += 1;
    }

    /// Empties every slot.
    fn clear(&mut self) {
        for slot in &mut self.slots {
            slot.filled = false;
        }
        self.buffered = 0;
    }

    /// RFC 3550 §A.8, integer form: `J += |D| - J/16`, kept scaled by 16.
    fn update_jitter(&mut self, origin: Instant, now: Instant, rtp_timestamp: u32) {
        let elapsed = now.saturating_duration_since(origin).as_nanos();
        let arrival = (elapsed * UNITS_PER_SECOND / 1_000_000_000) as u32;
        // Differences of wrapping 32-bit clocks, read as signed (RFC 3550 §A.8).
        let transit = arrival.wrapping_sub(rtp_timestamp);
        if let Some(last) = self.last_transit {
            let d = u64::from((transit.wrapping_sub(last) as i32).unsigned_abs());
            self.jitter_x16 = self.jitter_x16 + d - ((self.jitter_x16 + 8) >> 4);
            let jitter = u32::try_from(self.jitter_x16 >> 4).unwrap_or(u32::MAX);
            self.stats.max_jitter_units = self.stats.max_jitter_units.max(jitter);
        }
        self.last_transit = Some(transit);
    }
}

/// The slot of a sequence number.
fn slot_index(sequence: u16) -> usize {
    usize::from(sequence) % DEPTH
}
