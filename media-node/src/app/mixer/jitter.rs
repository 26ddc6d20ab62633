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
//! - **The delay shrinks back** once the jitter that grew it has ended: over
//!   each [`QUIET_BEFORE_SHRINK`] without a stall (a tick that found nothing to
//!   play) or a frame dropped as late, the buffer notes the fewest frames it
//!   held at a tick. Held at every tick, beyond the frame due and the one frame
//!   of [`PLAYOUT_DELAY`], a frame is delay no jitter needed: the buffer drops
//!   one frame to play the next one 20 ms earlier. It picks a quiet frame (a
//!   pause in speech: the caller of [`JitterBuffer::pop`] judges), so nothing
//!   audible is cut; after [`SHRINK_WAIT`] of talk without one it drops the
//!   frame due. One frame per quiet period, so a delay of several frames comes
//!   down in steps. Jitter that comes back within a quiet period keeps the
//!   delay it needs: the fewest frames held then is the bare minimum, so it
//!   never shrinks into the next burst and grows again (no oscillation).
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

/// How long without a stall or a late frame before the buffer gives back one
/// frame of delay it did not need. Five seconds: longer than the bursts of a
/// congested uplink or a Wi-Fi scan (a few hundred milliseconds) and than the
/// gaps between them when they recur, so recurring jitter keeps its delay
/// instead of being shrunk into and re-grown; short next to a call, so one burst
/// costs its caller extra delay for seconds, not for the rest of the conference.
pub const QUIET_BEFORE_SHRINK: Duration = Duration::from_secs(5);

/// How long a due shrink waits for a quiet frame before it drops a talking one:
/// speech pauses every second or so, a tone or music may never.
pub const SHRINK_WAIT: Duration = Duration::from_secs(2);

/// Frames held at a tick with no jitter to absorb: the frame due and the one
/// frame of [`PLAYOUT_DELAY`].
const STEADY_HELD: usize = 2;

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
    /// Frames dropped to give back delay the jitter no longer needed (quiet
    /// ones, where one came in time).
    pub shrunk: u64,
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
    /// The quiet period under way: when it began (`None`: it begins at the next
    /// tick that plays a frame) and the fewest frames held at a tick since.
    quiet_since: Option<Instant>,
    fewest_held: usize,
    /// A shrink is due since then: the next quiet frame is dropped.
    shrink_due: Option<Instant>,
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
            quiet_since: None,
            fewest_held: usize::MAX,
            shrink_due: None,
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
            self.jittered();
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
                self.jittered();
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
    /// `quiet` says whether a frame is a pause in speech, one the buffer may drop
    /// when it shrinks its delay; it is asked only then.
    pub fn pop(
        &mut self,
        now: Instant,
        quiet: impl Fn(&[u8; FRAME_BYTES]) -> bool,
    ) -> Option<&[u8; FRAME_BYTES]> {
        let first_arrival = self.first_arrival?;
        if !self.playing {
            if now < first_arrival + PLAYOUT_DELAY {
                return None;
            }
            self.playing = true;
        }
        if !self.is_due(self.next) {
            if self.buffered > 0 {
                // A later frame is here, so this one is missing, not just paused.
                self.stats.lost += 1;
                self.next = self.next.wrapping_add(1);
            } else {
                // Paused or late: the delay may grow by this tick.
                self.jittered();
            }
            return None;
        }
        self.watch_delay(now);
        if self.shrink_due.is_some_and(|due| {
            self.buffered > STEADY_HELD
                && self.is_due(self.next.wrapping_add(1))
                && (now >= due + SHRINK_WAIT || quiet(&self.slots[slot_index(self.next)].payload))
        }) {
            // Played 20 ms earlier from now on: the frame due goes unheard.
            self.take_next();
            self.stats.shrunk += 1;
            self.shrink_due = None;
            self.restart_quiet(Some(now));
        }
        let index = self.take_next();
        self.stats.played += 1;
        Some(&self.slots[index].payload)
    }

    /// Whether the frame `sequence` is buffered.
    fn is_due(&self, sequence: u16) -> bool {
        let slot = &self.slots[slot_index(sequence)];
        slot.filled && slot.sequence == sequence
    }

    /// A tick with a frame to play, holding `buffered` frames: notes the fewest
    /// held in the quiet period, and once it has lasted [`QUIET_BEFORE_SHRINK`]
    /// makes a shrink due if a frame was held beyond need all along.
    fn watch_delay(&mut self, now: Instant) {
        let since = *self.quiet_since.get_or_insert(now);
        self.fewest_held = self.fewest_held.min(self.buffered);
        if self.buffered <= STEADY_HELD {
            // The spare frame was needed after all: no shrink.
            self.shrink_due = None;
        }
        if now >= since + QUIET_BEFORE_SHRINK {
            if self.fewest_held > STEADY_HELD {
                self.shrink_due.get_or_insert(now);
            }
            self.restart_quiet(Some(now));
        }
    }

    /// A stall or a late frame: the delay was not enough, or the stream paused.
    /// The quiet period starts again, and no shrink is due.
    fn jittered(&mut self) {
        self.restart_quiet(None);
        self.shrink_due = None;
    }

    /// A quiet period starts at `since` (`None`: at the next frame played),
    /// with no frame held counted yet.
    fn restart_quiet(&mut self, since: Option<Instant>) {
        self.quiet_since = since;
        self.fewest_held = usize::MAX;
    }

    /// Takes the buffered frame at `next` out of the buffer and moves on;
    /// returns its slot (its payload stays there until overwritten).
    fn take_next(&mut self) -> usize {
        let index = slot_index(self.next);
        self.slots[index].filled = false;
        self.buffered -= 1;
        self.next = self.next.wrapping_add(1);
        index
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
        if self.is_due(self.next) {
            self.take_next();
            self.stats.overrun += 1;
        } else {
            self.stats.lost += 1;
            self.next = self.next.wrapping_add(1);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The tick period.
    const TICK: Duration = Duration::from_millis(20);

    /// A frame whose first two bytes carry its sequence number and whose third
    /// says whether it is quiet (a pause) or talk.
    fn payload(sequence: u16, quiet: bool) -> [u8; FRAME_BYTES] {
        let mut frame = [0xA5; FRAME_BYTES];
        frame[..2].copy_from_slice(&sequence.to_be_bytes());
        frame[2] = u8::from(quiet);
        frame
    }

    fn is_quiet(frame: &[u8; FRAME_BYTES]) -> bool {
        frame[2] == 1
    }

    /// One leg on the simulated clock: frame `n` is sent at `20n` ms and arrives
    /// `late(n)` after that; the mixer ticks at `20k + 10` ms. Returns, per frame
    /// played, its sequence number and its delay from sending to playing, and
    /// the buffer.
    fn run(
        frames: u16,
        late: impl Fn(u16) -> Duration,
        quiet: impl Fn(u16) -> bool,
    ) -> (Vec<(u16, Duration)>, JitterBuffer) {
        let start = Instant::now();
        let sent = |n: u16| start + TICK * u32::from(n);
        let mut arrivals: Vec<(Instant, u16)> =
            (0..frames).map(|n| (sent(n) + late(n), n)).collect();
        arrivals.sort();
        let mut arrivals = arrivals.into_iter().peekable();
        let mut buffer = JitterBuffer::new();
        let mut played = Vec::new();
        let last = sent(frames) + Duration::from_millis(200);
        let mut tick = start + Duration::from_millis(10);
        while tick < last {
            while let Some((at, n)) = arrivals.next_if(|(at, _)| *at <= tick) {
                buffer.insert(at, n, u32::from(n) * 160, &payload(n, quiet(n)));
            }
            if let Some(frame) = buffer.pop(tick, is_quiet) {
                let n = u16::from_be_bytes([frame[0], frame[1]]);
                played.push((n, tick - sent(n)));
            }
            tick += TICK;
        }
        (played, buffer)
    }

    /// The delays of the frames played among `range`.
    fn delays(played: &[(u16, Duration)], range: std::ops::Range<u16>) -> Vec<Duration> {
        let mut delays: Vec<Duration> = played
            .iter()
            .filter(|(n, _)| range.contains(n))
            .map(|&(_, delay)| delay)
            .collect();
        delays.dedup();
        delays
    }

    /// Frames 1000 to 1003 (at 20 s) held up, then delivered at once 65 ms
    /// after the first was sent: two ticks find nothing to play.
    fn one_burst(n: u16) -> Duration {
        if (1000..1004).contains(&n) {
            Duration::from_millis(65 - 20 * u64::from(n - 1000))
        } else {
            Duration::from_millis(2)
        }
    }

    /// The first frame missing from what played (dropped).
    fn first_dropped(played: &[(u16, Duration)]) -> u16 {
        played
            .windows(2)
            .find(|pair| pair[1].0 != pair[0].0 + 1)
            .map(|pair| pair[0].0 + 1)
            .expect("a frame dropped")
    }

    #[test]
    fn the_playout_delay_shrinks_after_the_jitter_ends() {
        // Talk with a pause (a quiet frame) every 400 ms.
        let pause = |n: u16| n % 20 == 7;
        let (played, buffer) = run(3000, one_burst, pause);

        let before = delays(&played, 100..1000);
        assert_eq!(before.len(), 1, "steady before the burst: {before:?}");
        let steady = before[0];
        assert!(steady <= Duration::from_millis(40), "{steady:?}");
        let after = delays(&played, 1004..1100);
        assert_eq!(
            after,
            [steady + TICK * 2],
            "the burst grew the delay by two frames"
        );
        // Back to the steady delay, a frame at a time, each after a quiet period.
        assert_eq!(delays(&played, 2500..3000), [steady]);
        let stats = buffer.stats();
        assert_eq!(stats.shrunk, 2, "{stats:?}");
        assert_eq!(stats.lost, 0, "{stats:?}");
        let first = first_dropped(&played);
        assert!(
            first >= 1000 + 250,
            "not before a quiet period of 5 s: frame {first}"
        );
        // Only pauses were dropped: every frame missing from what played is quiet.
        let heard: Vec<u16> = played.iter().map(|&(n, _)| n).collect();
        let dropped: Vec<u16> = (100..3000).filter(|n| !heard.contains(n)).collect();
        assert_eq!(dropped.len(), 2, "{dropped:?}");
        assert!(dropped.iter().all(|&n| pause(n)), "{dropped:?}");
    }

    #[test]
    fn a_shrink_drops_a_talking_frame_only_after_waiting_for_a_pause() {
        // A tone: never quiet.
        let (played, buffer) = run(3000, one_burst, |_| false);
        assert_eq!(delays(&played, 2700..3000), delays(&played, 100..1000));
        assert_eq!(buffer.stats().shrunk, 2);
        let first = first_dropped(&played);
        assert!(
            first >= 1000 + 250 + 100,
            "a quiet period, then 2 s waiting for a pause: frame {first}"
        );
    }

    #[test]
    fn a_steady_late_pattern_does_not_make_the_delay_oscillate() {
        // Every second from the first on, a frame held up 50 ms with the two
        // after it, then delivered at once.
        let every_second = |n: u16| {
            let k = u64::from(n % 50);
            Duration::from_millis(if n >= 50 && k < 3 { 50 - 20 * k } else { 2 })
        };
        let (played, buffer) = run(3000, every_second, |n| n % 20 == 7);
        // Once grown to what the pattern needs, the delay holds: no shrink into
        // the next late frame, no growth after it.
        let steady = delays(&played, 0..50);
        assert_eq!(delays(&played, 50..3000), [steady[0] + TICK], "{steady:?}");
        let stats = buffer.stats();
        assert_eq!(stats.shrunk, 0, "{stats:?}");
        assert_eq!(stats.late + stats.lost, 0, "{stats:?}");
    }
}
