//! Scenario tests for the room on a simulated clock. Legs are told apart by
//! "tones": each talker sends a constant level of its own, so what a leg hears,
//! decoded, is exactly the sum of the levels it should hear.

use std::collections::HashMap;

use proptest::prelude::*;
use teleconf_domain::CallerRole::{self, Listener, Moderator, Participant};

use super::*;

const A: CallKey = CallKey(1);
const B: CallKey = CallKey(2);
const C: CallKey = CallKey(3);
const L: CallKey = CallKey(10);
const L2: CallKey = CallKey(11);

/// The talkers' tones: distinct, and any sum of them stays below clipping.
const TONE_A: i16 = 1000;
const TONE_B: i16 = 3000;
const TONE_C: i16 = 9000;
/// What a listener sends: loud, and no sum of the others can make it.
const LISTENER_TONE: i16 = 20000;

/// One frame of a constant level, in `codec`.
fn frame(codec: Codec, level: i16) -> Vec<u8> {
    vec![codec.encode_sample(level); FRAME_BYTES]
}

/// The level a leg actually sends when it plays `level` through `codec`.
fn sent(codec: Codec, level: i16) -> i32 {
    i32::from(codec.decode_sample(codec.encode_sample(level)))
}

/// What a leg in `codec` hears when the mix sums to `total` (clipped, then coded).
fn heard_as(codec: Codec, total: i32) -> i16 {
    codec.decode_sample(codec.encode_sample(clip(total)))
}

/// A room on a simulated clock, with each leg's next sequence number.
struct Sim {
    room: Mixer,
    now: Instant,
    codecs: HashMap<CallKey, Codec>,
    next_sequence: HashMap<CallKey, u16>,
}

impl Sim {
    /// A room whose schedule is anchored at the simulated start.
    fn new() -> Self {
        let now = Instant::now();
        let mut room = Mixer::new();
        room.tick(now).expect("the first tick anchors the schedule");
        Self {
            room,
            now,
            codecs: HashMap::new(),
            next_sequence: HashMap::new(),
        }
    }

    fn join(&mut self, leg: CallKey, role: CallerRole, codec: Codec) {
        self.room.join(leg, role, codec).expect("new leg");
        self.codecs.insert(leg, codec);
    }

    /// `leg` sends its next frame, of a constant `level`, now.
    fn say(&mut self, leg: CallKey, level: i16) {
        let sequence = *self.next_sequence.entry(leg).or_insert(0);
        self.say_frame(leg, sequence, level);
    }

    /// `leg` sends frame `sequence`, of a constant `level`, now.
    fn say_frame(&mut self, leg: CallKey, sequence: u16, level: i16) {
        let codec = self.codecs[&leg];
        let timestamp = u32::from(sequence) * FRAME_BYTES as u32;
        self.room
            .push(self.now, leg, sequence, timestamp, &frame(codec, level))
            .expect("leg in the room, frame of 160 bytes");
        self.next_sequence.insert(leg, sequence.wrapping_add(1));
    }

    /// Jumps the clock to the next deadline and ticks.
    fn step(&mut self) -> TickReport {
        self.now = self.room.poll_timeout().expect("anchored");
        self.room.tick(self.now).expect("a deadline has come")
    }

    /// What `leg` was sent at the last tick, decoded; all 160 samples must be
    /// equal (every leg plays a constant), and that value is returned.
    fn heard(&self, leg: CallKey) -> i16 {
        let codec = self.codecs[&leg];
        let payload = self.room.output(leg).expect("leg in the room");
        assert_eq!(payload.len(), FRAME_BYTES);
        let first = codec.decode_sample(payload[0]);
        assert!(
            payload
                .iter()
                .all(|&code| codec.decode_sample(code) == first),
            "{leg:?} hears a constant"
        );
        first
    }

    /// The full mix of the last tick; must be constant, that value is returned.
    fn mix(&self) -> i16 {
        let mix = self.room.last_mix();
        assert_eq!(mix.len(), FRAME_SAMPLES);
        assert!(mix.iter().all(|&sample| sample == mix[0]));
        mix[0]
    }
}

#[test]
fn a_talker_hears_the_others_and_not_itself() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(B, Moderator, Codec::Pcmu);
    sim.say(A, TONE_A);
    sim.say(B, TONE_B);
    let report = sim.step();

    assert_eq!(report.contributors, 2);
    assert_eq!(
        sim.heard(A),
        heard_as(Codec::Pcmu, sent(Codec::Pcmu, TONE_B))
    );
    assert_eq!(
        sim.heard(B),
        heard_as(Codec::Pcmu, sent(Codec::Pcmu, TONE_A))
    );
}

#[test]
fn listener_is_never_heard() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(B, Participant, Codec::Pcmu);
    sim.join(L, Listener, Codec::Pcmu);
    sim.join(L2, Listener, Codec::Pcma);
    for _ in 0..3 {
        sim.say(A, TONE_A);
        sim.say(B, TONE_B);
        sim.say(L, LISTENER_TONE);
        sim.say(L2, LISTENER_TONE);
        let report = sim.step();

        let (a, b) = (sent(Codec::Pcmu, TONE_A), sent(Codec::Pcmu, TONE_B));
        assert_eq!(report.contributors, 2);
        assert_eq!(sim.heard(A), heard_as(Codec::Pcmu, b));
        assert_eq!(sim.heard(B), heard_as(Codec::Pcmu, a));
        assert_eq!(sim.heard(L), heard_as(Codec::Pcmu, a + b));
        assert_eq!(sim.heard(L2), heard_as(Codec::Pcma, a + b));
        assert_eq!(
            i32::from(sim.mix()),
            a + b,
            "the recording excludes listeners"
        );
    }
    let stats = sim.room.stats(L).expect("in the room");
    assert_eq!(
        (stats.received, stats.lost),
        (3, 0),
        "still counted for the CDR"
    );
}

#[test]
fn a_listener_hears_the_full_mix() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(B, Participant, Codec::Pcma);
    sim.join(C, Moderator, Codec::Pcmu);
    sim.join(L, Listener, Codec::Pcmu);
    sim.join(L2, Listener, Codec::Pcma);
    sim.say(A, TONE_A);
    sim.say(B, TONE_B);
    sim.say(C, TONE_C);
    sim.step();

    let total = sent(Codec::Pcmu, TONE_A) + sent(Codec::Pcma, TONE_B) + sent(Codec::Pcmu, TONE_C);
    assert_eq!(i32::from(sim.mix()), total);
    assert_eq!(sim.heard(L), heard_as(Codec::Pcmu, total));
    assert_eq!(sim.heard(L2), heard_as(Codec::Pcma, total));
}

#[test]
fn a_muted_talker_is_heard_by_no_one_but_still_hears_everyone() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(B, Participant, Codec::Pcmu);
    sim.join(C, Moderator, Codec::Pcmu);
    sim.join(L, Listener, Codec::Pcmu);
    sim.room.set_muted(B, true).expect("in the room");
    assert_eq!(sim.room.is_muted(B), Some(true));
    let (a, b, c) = (
        sent(Codec::Pcmu, TONE_A),
        sent(Codec::Pcmu, TONE_B),
        sent(Codec::Pcmu, TONE_C),
    );

    sim.say(A, TONE_A);
    sim.say(B, TONE_B);
    sim.say(C, TONE_C);
    sim.step();
    assert_eq!(sim.heard(A), heard_as(Codec::Pcmu, c));
    assert_eq!(sim.heard(C), heard_as(Codec::Pcmu, a));
    assert_eq!(sim.heard(B), heard_as(Codec::Pcmu, a + c), "hears everyone");
    assert_eq!(sim.heard(L), heard_as(Codec::Pcmu, a + c));
    assert_eq!(i32::from(sim.mix()), a + c);

    sim.room.set_muted(B, false).expect("in the room");
    sim.say(A, TONE_A);
    sim.say(B, TONE_B);
    sim.say(C, TONE_C);
    sim.step();
    assert_eq!(
        sim.heard(A),
        heard_as(Codec::Pcmu, b + c),
        "heard again once unmuted"
    );
    assert_eq!(sim.heard(B), heard_as(Codec::Pcmu, a + c));
}

#[test]
fn three_talkers_each_hear_the_other_two() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(B, Participant, Codec::Pcma);
    sim.join(C, Moderator, Codec::Pcmu);
    sim.say(A, TONE_A);
    sim.say(B, TONE_B);
    sim.say(C, TONE_C);
    let report = sim.step();

    let (a, b, c) = (
        sent(Codec::Pcmu, TONE_A),
        sent(Codec::Pcma, TONE_B),
        sent(Codec::Pcmu, TONE_C),
    );
    assert_eq!(report.contributors, 3);
    assert_eq!(report.own_encodes, 3);
    assert_eq!(report.shared_encodes, 0, "nobody needs the full mix");
    assert_eq!(sim.heard(A), heard_as(Codec::Pcmu, b + c));
    assert_eq!(sim.heard(B), heard_as(Codec::Pcma, a + c));
    assert_eq!(sim.heard(C), heard_as(Codec::Pcmu, a + b));
}

#[test]
fn the_shared_mix_is_encoded_once_per_codec() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(B, Moderator, Codec::Pcmu);
    let silent_talker = CallKey(20);
    sim.join(silent_talker, Participant, Codec::Pcmu);
    let ulaw_listeners: Vec<CallKey> = (30..35).map(CallKey).collect();
    let alaw_listeners: Vec<CallKey> = (40..43).map(CallKey).collect();
    for &leg in &ulaw_listeners {
        sim.join(leg, Listener, Codec::Pcmu);
    }
    for &leg in &alaw_listeners {
        sim.join(leg, Listener, Codec::Pcma);
    }
    sim.say(A, TONE_A);
    sim.say(B, TONE_B);
    sim.say(silent_talker, 0);
    let report = sim.step();

    assert_eq!(report.contributors, 2, "a silent frame is not mixed");
    assert_eq!(report.own_encodes, 2, "one N-1 encode per speaking talker");
    assert_eq!(report.shared_encodes, 2, "one full-mix encode per codec");
    let buffer = |leg: CallKey| sim.room.output(leg).expect("in the room").as_ptr();
    let ulaw_shared = buffer(ulaw_listeners[0]);
    let alaw_shared = buffer(alaw_listeners[0]);
    assert_ne!(ulaw_shared, alaw_shared);
    for &leg in ulaw_listeners.iter().chain([&silent_talker]) {
        assert_eq!(buffer(leg), ulaw_shared, "{leg:?} shares the µ-law mix");
    }
    for &leg in &alaw_listeners {
        assert_eq!(buffer(leg), alaw_shared, "{leg:?} shares the A-law mix");
    }
    assert_ne!(buffer(A), ulaw_shared);
    assert_ne!(buffer(B), ulaw_shared);

    // Only µ-law listeners left: one shared encode.
    for &leg in &alaw_listeners {
        sim.room.leave(leg).expect("in the room");
    }
    sim.say(A, TONE_A);
    assert_eq!(sim.step().shared_encodes, 1);
}

#[test]
fn pcmu_and_pcma_legs_in_one_room_each_get_their_codec() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(B, Participant, Codec::Pcma);
    sim.join(L, Listener, Codec::Pcmu);
    sim.join(L2, Listener, Codec::Pcma);
    sim.say(A, TONE_A);
    sim.say(B, TONE_B);
    sim.step();

    let (a, b) = (sent(Codec::Pcmu, TONE_A), sent(Codec::Pcma, TONE_B));
    let output = |leg: CallKey| sim.room.output(leg).expect("in the room").to_vec();
    assert_eq!(output(A), frame(Codec::Pcmu, clip(b)), "µ-law bytes for A");
    assert_eq!(output(B), frame(Codec::Pcma, clip(a)), "A-law bytes for B");
    assert_eq!(output(L), frame(Codec::Pcmu, clip(a + b)));
    assert_eq!(output(L2), frame(Codec::Pcma, clip(a + b)));
    assert_ne!(output(L), output(L2), "the two codecs' bytes differ");
}

#[test]
fn a_lost_frame_plays_silence_and_is_counted() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(L, Listener, Codec::Pcmu);
    let a = heard_as(Codec::Pcmu, sent(Codec::Pcmu, TONE_A));

    sim.say_frame(A, 0, TONE_A);
    sim.step();
    assert_eq!(sim.heard(L), a);
    sim.say_frame(A, 2, TONE_A); // frame 1 never comes
    sim.step();
    assert_eq!(sim.heard(L), 0, "silence in place of frame 1");
    assert_eq!(sim.mix(), 0);
    sim.step();
    assert_eq!(sim.heard(L), a, "frame 2 in its turn");

    let stats = sim.room.stats(A).expect("in the room");
    assert_eq!((stats.received, stats.played, stats.lost), (2, 2, 1));

    // A pause (nothing buffered) is silence too, but not a loss.
    sim.step();
    assert_eq!(sim.heard(L), 0);
    assert_eq!(sim.room.stats(A).expect("in the room").lost, 1);
}

#[test]
fn reordered_frames_are_played_in_sequence() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(L, Listener, Codec::Pcmu);
    let level = |sequence: u16| 1000 * (i16::try_from(sequence).expect("small") + 1);
    let heard_level = |sequence: u16| heard_as(Codec::Pcmu, sent(Codec::Pcmu, level(sequence)));

    // Out of order before playout starts, even the very first frame.
    for sequence in [1, 0, 2] {
        sim.say_frame(A, sequence, level(sequence));
    }
    // Out of order in mid-stream, within the buffer's depth.
    let mut played = Vec::new();
    for _ in 0..3 {
        sim.step();
        played.push(sim.heard(L));
    }
    for sequence in [4, 3] {
        sim.say_frame(A, sequence, level(sequence));
    }
    for _ in 0..2 {
        sim.step();
        played.push(sim.heard(L));
    }

    let expected: Vec<i16> = (0..5).map(heard_level).collect();
    assert_eq!(played, expected);
    let stats = sim.room.stats(A).expect("in the room");
    assert_eq!((stats.played, stats.lost, stats.late), (5, 0, 0));
}

#[test]
fn duplicate_and_late_frames_are_dropped() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(L, Listener, Codec::Pcmu);
    let a = heard_as(Codec::Pcmu, sent(Codec::Pcmu, TONE_A));

    sim.say_frame(A, 10, TONE_A);
    sim.say_frame(A, 10, TONE_C); // the same frame again (a different payload, to tell)
    sim.step();
    assert_eq!(sim.heard(L), a, "the first copy plays");

    sim.say_frame(A, 10, TONE_C); // already played: late
    sim.say_frame(A, 9, TONE_C); // older still: late
    sim.say_frame(A, 11, TONE_A);
    sim.step();
    assert_eq!(sim.heard(L), a);
    sim.step();
    assert_eq!(sim.heard(L), 0, "nothing late was replayed");

    let stats = sim.room.stats(A).expect("in the room");
    assert_eq!(stats.received, 5);
    assert_eq!(stats.played, 2);
    assert_eq!(stats.duplicate, 1);
    assert_eq!(stats.late, 2);
    assert_eq!(stats.lost, 0);
}

#[test]
fn ticks_follow_absolute_deadlines_without_drift() {
    let start = Instant::now();
    let mut room = Mixer::new();
    assert_eq!(
        room.poll_timeout(),
        None,
        "no schedule before the first tick"
    );
    let first = room.tick(start).expect("anchors");
    assert_eq!(first.deadline, start);

    for k in 1..=200_u32 {
        let deadline = start + FRAME_DURATION * k;
        assert_eq!(
            room.poll_timeout(),
            Some(deadline),
            "deadline {k} on the grid"
        );
        assert_eq!(
            room.tick(deadline - Duration::from_millis(1)),
            None,
            "early: nothing"
        );
        let lateness = Duration::from_millis(u64::from(k % 16));
        let report = room.tick(deadline + lateness).expect("due");
        assert_eq!(report.deadline, deadline);
        assert_eq!(report.skipped_frames, 0);
    }

    // Two frames late: caught up with back-to-back ticks, still on the grid.
    let due = start + FRAME_DURATION * 201;
    let now = due + FRAME_DURATION * 2 + Duration::from_millis(5);
    let mut mixed = Vec::new();
    while let Some(report) = room.tick(now) {
        assert_eq!(report.skipped_frames, 0);
        mixed.push(report.deadline);
    }
    assert_eq!(mixed, [due, due + FRAME_DURATION, due + FRAME_DURATION * 2]);
    assert_eq!(room.poll_timeout(), Some(due + FRAME_DURATION * 3));
}

#[test]
fn a_very_late_tick_skips_ahead_instead_of_bursting() {
    let mut sim = Sim::new();
    let start = sim.now;
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(L, Listener, Codec::Pcmu);
    for _ in 0..4 {
        sim.say(A, TONE_A); // frames due at the deadlines the tick will miss
    }

    let now = start + FRAME_DURATION * 10 + Duration::from_millis(5);
    let report = sim.room.tick(now).expect("due");
    assert_eq!(report.skipped_frames, 9, "deadlines 1 to 9 skipped");
    assert_eq!(
        report.deadline,
        start + FRAME_DURATION * 10,
        "the latest deadline"
    );
    assert_eq!(sim.room.poll_timeout(), Some(start + FRAME_DURATION * 11));
    assert_eq!(sim.room.tick(now), None, "no burst of catch-up ticks");

    let stats = sim.room.stats(A).expect("in the room");
    assert_eq!(
        stats.overrun, 4,
        "frames of skipped deadlines dropped, not delayed"
    );
    assert_eq!(sim.heard(L), 0, "the dropped frames are not played late");
}

#[test]
fn loud_sums_saturate_instead_of_wrapping() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(B, Participant, Codec::Pcmu);
    sim.join(C, Participant, Codec::Pcma);
    sim.join(L, Listener, Codec::Pcmu);

    for (level, clipped) in [(30000, i16::MAX), (-30000, i16::MIN)] {
        for leg in [A, B, C] {
            sim.say(leg, level);
        }
        sim.step();
        assert_eq!(sim.mix(), clipped, "the full mix clips at full scale");
        let full_scale = heard_as(Codec::Pcmu, i32::from(clipped));
        assert_eq!(sim.heard(L), full_scale);
        assert_eq!(sim.heard(A), full_scale, "two loud others clip too");
        assert_eq!(sim.heard(C), heard_as(Codec::Pcma, i32::from(clipped)));
    }
}

#[test]
fn a_leg_that_leaves_is_no_longer_mixed() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(B, Participant, Codec::Pcmu);
    sim.join(C, Participant, Codec::Pcmu);
    sim.join(L, Listener, Codec::Pcmu);
    sim.say(A, TONE_A);
    sim.say(B, TONE_B);
    sim.say(C, TONE_C);
    sim.step();

    sim.say(A, TONE_A);
    sim.say(B, TONE_B);
    sim.say(C, TONE_C); // buffered, then the leg hangs up
    let stats = sim.room.leave(C).expect("in the room");
    assert_eq!((stats.received, stats.played), (2, 1));
    assert_eq!(sim.room.leave(C), Err(MixerError::UnknownLeg(C)));
    let frame = frame(Codec::Pcmu, TONE_C);
    assert_eq!(
        sim.room.push(sim.now, C, 9, 0, &frame),
        Err(MixerError::UnknownLeg(C))
    );
    sim.step();

    let (a, b) = (sent(Codec::Pcmu, TONE_A), sent(Codec::Pcmu, TONE_B));
    assert_eq!(sim.room.len(), 3);
    assert!(sim.room.outputs().all(|(leg, _)| leg != C));
    assert_eq!(sim.room.output(C), None);
    assert_eq!(sim.heard(A), heard_as(Codec::Pcmu, b));
    assert_eq!(sim.heard(L), heard_as(Codec::Pcmu, a + b));
}

#[test]
fn a_leg_joins_once_and_sends_whole_frames_only() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    assert_eq!(
        sim.room.join(A, Listener, Codec::Pcma),
        Err(MixerError::AlreadyJoined(A))
    );
    assert_eq!(
        sim.room.push(sim.now, A, 0, 0, &[0xFF; 80]),
        Err(MixerError::BadFrameSize { leg: A, len: 80 })
    );
}

#[test]
fn before_anything_is_said_everyone_hears_silence() {
    let mut sim = Sim::new();
    sim.join(A, Participant, Codec::Pcmu);
    sim.join(B, Participant, Codec::Pcma);
    // Even before the first mixing tick the shared buffers hold coded silence.
    assert_eq!(sim.heard(A), 0);
    assert_eq!(
        Codec::Pcma.decode_sample(sim.room.output(B).expect("in")[0]),
        8
    );
    sim.step();
    assert_eq!(sim.heard(A), 0);
}

/// One thing that happens to a room in the property test.
#[derive(Debug, Clone)]
enum Op {
    Join(u8, CallerRole, Codec),
    Leave(u8),
    Mute(u8, bool),
    /// Applied only to talkers: a listener is never promoted here, so every
    /// frame a listener sent stays a listener's frame.
    SetRole(u8, CallerRole),
    /// A frame: the sequence step from the leg's last one (or a wild jump), a
    /// talker level (negative), and whether the payload is a whole frame.
    Push(u8, u16, i16, bool),
    /// The clock moves on by this many milliseconds, then the shell ticks.
    Tick(u16),
}

fn role() -> impl Strategy<Value = CallerRole> {
    prop_oneof![Just(Participant), Just(Listener), Just(Moderator)]
}

fn codec() -> impl Strategy<Value = Codec> {
    prop_oneof![Just(Codec::Pcmu), Just(Codec::Pcma)]
}

fn op() -> impl Strategy<Value = Op> {
    let leg = 0..6_u8;
    prop_oneof![
        2 => (leg.clone(), role(), codec()).prop_map(|(leg, role, codec)| Op::Join(leg, role, codec)),
        1 => leg.clone().prop_map(Op::Leave),
        1 => (leg.clone(), any::<bool>()).prop_map(|(leg, muted)| Op::Mute(leg, muted)),
        1 => (leg.clone(), role()).prop_map(|(leg, role)| Op::SetRole(leg, role)),
        6 => (
            leg,
            prop_oneof![4 => 0..4_u16, 1 => any::<u16>()],
            -2000..=-100_i16,
            prop::bool::weighted(0.95),
        )
            .prop_map(|(leg, step, level, whole)| Op::Push(leg, step, level, whole)),
        4 => prop_oneof![4 => 0..30_u16, 1 => 30..400_u16].prop_map(Op::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Listeners send a loud positive level, talkers only negative ones, and
    /// there are at most 5 talkers of at most 2000: any sum that holds a
    /// listener's frame is above +2000, any sum without one is ≤ 0.
    #[test]
    fn random_rooms_never_panic_and_never_leak_a_listener(ops in prop::collection::vec(op(), 1..200)) {
        let mut room = Mixer::new();
        let mut now = Instant::now();
        let mut members: HashMap<u8, (CallerRole, Codec, u16)> = HashMap::new();
        for op in ops {
            match op {
                Op::Join(leg, role, codec) => {
                    let joined = room.join(CallKey(leg.into()), role, codec);
                    prop_assert_eq!(joined.is_ok(), !members.contains_key(&leg));
                    members.entry(leg).or_insert((role, codec, 0));
                }
                Op::Leave(leg) => {
                    let left = room.leave(CallKey(leg.into()));
                    prop_assert_eq!(left.is_ok(), members.remove(&leg).is_some());
                }
                Op::Mute(leg, muted) => {
                    let done = room.set_muted(CallKey(leg.into()), muted);
                    prop_assert_eq!(done.is_ok(), members.contains_key(&leg));
                }
                Op::SetRole(leg, role) => {
                    if let Some(member) = members.get_mut(&leg).filter(|m| m.0.is_heard()) {
                        member.0 = role;
                        room.set_role(CallKey(leg.into()), role).expect("member");
                    }
                }
                Op::Push(leg, step, level, whole) => {
                    let Some(member) = members.get_mut(&leg) else {
                        let pushed = room.push(now, CallKey(leg.into()), 0, 0, &[0xFF; FRAME_BYTES]);
                        prop_assert_eq!(pushed, Err(MixerError::UnknownLeg(CallKey(leg.into()))));
                        continue;
                    };
                    let level = if member.0 == Listener { LISTENER_TONE } else { level };
                    member.2 = member.2.wrapping_add(step);
                    let mut payload = frame(member.1, level);
                    if !whole {
                        payload.pop();
                    }
                    let timestamp = u32::from(member.2).wrapping_mul(FRAME_BYTES as u32);
                    let pushed = room.push(now, CallKey(leg.into()), member.2, timestamp, &payload);
                    prop_assert_eq!(pushed.is_ok(), whole);
                }
                Op::Tick(millis) => {
                    now += Duration::from_millis(millis.into());
                    let mut ticks = 0;
                    while let Some(report) = room.tick(now) {
                        ticks += 1;
                        prop_assert!(ticks <= MAX_CATCH_UP_FRAMES + 1, "no burst");
                        prop_assert!(report.shared_encodes <= 2);
                        prop_assert!(room.last_mix().iter().all(|&s| s <= 0), "mix holds a listener");
                        prop_assert_eq!(room.outputs().count(), room.len());
                        for (leg, payload) in room.outputs() {
                            prop_assert_eq!(payload.len(), FRAME_BYTES);
                            let (_, codec, _) = members[&u8::try_from(leg.0).expect("small key")];
                            for &code in payload {
                                let sample = codec.decode_sample(code);
                                prop_assert!(
                                    sample <= i16::try_from(SILENCE_PEAK).expect("small"),
                                    "{:?} hears a listener ({})", leg, sample
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_room_anchored_at_its_first_admission_keeps_that_phase_whatever_the_ticks() {
    let start = Instant::now();
    let opened = start + Duration::from_millis(7);
    let mut room = Mixer::new();
    room.anchor(opened);
    room.anchor(opened + Duration::from_millis(3));
    assert_eq!(room.poll_timeout(), Some(opened), "the first anchor holds");
    // The shell's 20 ms grid (start + k·20 ms) does not move the room's frames.
    assert_eq!(room.tick(start), None, "before its deadline: nothing");
    let first = room.tick(start + FRAME_DURATION).expect("due since +7 ms");
    assert_eq!(first.deadline, opened);
    assert_eq!(room.poll_timeout(), Some(opened + FRAME_DURATION));
    let next = room
        .tick(opened + FRAME_DURATION + Duration::from_micros(50))
        .expect("on its own deadline");
    assert_eq!(next.deadline, opened + FRAME_DURATION);
}
