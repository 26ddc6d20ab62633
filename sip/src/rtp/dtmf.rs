//! Key presses from a caller: RFC 4733 telephone events, and SIP INFO as a fallback.
//!
//! # Telephone events (RFC 4733 §2.5)
//!
//! A sender reports one key press as a train of packets that all carry the RTP
//! timestamp of the press's start (§2.5.1.2): the first with the marker bit,
//! then one per packet time with a growing duration, then the end packet (E
//! bit) sent three times (§2.5.1.4). [`DtmfReceiver`] identifies a press by
//! `(SSRC, RTP timestamp)` and reports its [`Digit`] exactly once:
//!
//! - **on the first end packet** of the press; its retransmissions and any late
//!   or duplicated packet of a press already reported are ignored (§2.5.2);
//! - **when the next press begins** (a new timestamp or a new SSRC) while the
//!   previous one never showed an end packet: all its end packets were lost, so
//!   the previous digit is reported first, then the new press is followed;
//! - **after [`END_TIMEOUT`] without any packet** of a press that has not ended:
//!   the end packets were lost and nothing followed ([`DtmfReceiver::on_timeout`]).
//!
//! Reporting on the end rather than on the first packet follows the key as the
//! caller released it and gives one rule for every loss pattern; the cost is
//! the length of the press (~100-250 ms) of extra latency, nothing for an IVR.
//!
//! A key held longer than the 16-bit duration field can say (§2.5.1.3, ~8 s at
//! 8 kHz) continues in a new segment stamped where the previous one stopped,
//! with no end bit on the segment before (§2.5.2.3): it stays one press.
//!
//! Identities of finished presses are remembered for the last
//! [`REMEMBERED_PRESSES`] presses, far more than any reordering can span. A
//! sender that reuses an identity for a new press is not told apart from a
//! duplicate: replaying the same capture twice with sipp's `play_pcap_audio`
//! (sipp's `dtmf_2833_*.pcap` all share one SSRC and each digit one timestamp)
//! gives one digit, not two. Real phones and sipp's `play_dtmf` never do that.
//!
//! # SIP INFO (fallback)
//!
//! Peers that do not negotiate telephone-event send keys in INFO requests:
//! `application/dtmf-relay` (`Signal=5` / `Duration=160` lines, the Cisco
//! format RFC 2976 INFO carries) or `application/dtmf` (the key alone). See
//! [`digit_from_info`]. Each INFO is one press; the SIP transaction layer
//! already absorbs retransmitted requests.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{Digit, RtpPacket, TelephoneEvent, parse_event};

/// How long a press that has not ended may go without a packet before it is
/// taken as ended and reported (its end packets all lost, nothing after it).
///
/// RFC 4733 §2.5.2 leaves it to the receiver to end an event whose end
/// packets never came, some packet times after the last packet; senders
/// update every 20-50 ms, so 500 ms is ten packet times of the slowest, with
/// room for jitter, and still quick beside the IVR's 5 s inter-digit timeout.
pub const END_TIMEOUT: Duration = Duration::from_millis(500);

/// How many finished presses are remembered so their late packets are ignored.
pub const REMEMBERED_PRESSES: usize = 32;

/// Least duration (timestamp units) a segment must have reached for a later
/// segment of the same key to continue it (RFC 4733 §2.5.1.3): segments end at
/// the field's maximum, 0xFFFF; this leaves room for that last packet being lost.
const LONG_SEGMENT_MIN: u16 = 0xF000;

/// What tells one press from another: all its packets share SSRC and timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PressId {
    ssrc: u32,
    timestamp: u32,
}

/// The latest press: followed while it lasts, kept after it is reported so
/// its retransmitted end packets and a following segment are recognised.
#[derive(Debug)]
struct Press {
    /// Identity of the press's current segment.
    id: PressId,
    /// The key.
    digit: Digit,
    /// Longest duration reported in the current segment.
    longest: u16,
    /// When its last packet arrived.
    last_packet: Instant,
    /// Whether its digit has been reported.
    reported: bool,
}

impl Press {
    /// When the press is taken as ended if no packet comes (unless reported).
    fn deadline(&self) -> Instant {
        self.last_packet
            .checked_add(END_TIMEOUT)
            .unwrap_or(self.last_packet)
    }

    /// Whether a packet with a new identity is the next segment of this press
    /// (RFC 4733 §2.5.1.3, §2.5.2.3): same source and key, the segment ran to
    /// (nearly) the longest duration, and the new timestamp is where it
    /// stopped. A segment ends without the E bit; a sender that sets it anyway
    /// is still followed when the segment reached exactly 0xFFFF and the next
    /// starts exactly there, which a new press of the same key cannot do.
    fn continues_into(&self, id: PressId, digit: Digit) -> bool {
        let advance = id.timestamp.wrapping_sub(self.id.timestamp);
        let max = u32::from(u16::MAX);
        let next_segment = if self.reported {
            self.longest == u16::MAX && advance == max
        } else {
            self.longest >= LONG_SEGMENT_MIN && (u32::from(self.longest)..=max).contains(&advance)
        };
        self.id.ssrc == id.ssrc && self.digit == digit && next_segment
    }
}

/// Turns a caller's telephone-event packets into key presses, each reported
/// once (see the module docs for when). Sans-IO: time is the `now` passed in.
///
/// After each input, ask [`poll_timeout`](Self::poll_timeout) again and call
/// [`on_timeout`](Self::on_timeout) at that instant; a deadline at or before
/// `now` means a digit is already waiting (two can become due on one packet:
/// a press whose end was lost and a press that is nothing but end packets).
#[derive(Debug)]
pub struct DtmfReceiver {
    /// The telephone-event payload type negotiated in SDP (101, 96, …).
    payload_type: u8,
    /// The latest press, if any.
    current: Option<Press>,
    /// Identities of earlier presses, newest last, at most [`REMEMBERED_PRESSES`].
    finished: VecDeque<PressId>,
    /// Digits reported but not yet handed out, with when they became due.
    ready: VecDeque<(Digit, Instant)>,
}

impl DtmfReceiver {
    /// A receiver for telephone events under the negotiated payload type.
    pub fn new(payload_type: u8) -> Self {
        Self {
            payload_type,
            current: None,
            finished: VecDeque::with_capacity(REMEMBERED_PRESSES),
            ready: VecDeque::new(),
        }
    }

    /// The telephone-event payload type this receiver reads.
    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// Feeds one RTP packet. Packets of another payload type (audio, comfort
    /// noise, sipp's type-97 filler) are none of its business and change
    /// nothing; neither do telephone-event payloads shorter than 4 bytes.
    pub fn on_packet(&mut self, now: Instant, packet: &RtpPacket<'_>) -> Option<Digit> {
        if packet.payload_type == self.payload_type {
            match parse_event(packet.payload) {
                Ok(event) => return self.on_event(now, packet.ssrc, packet.timestamp, event),
                Err(error) => {
                    tracing::debug!(ssrc = packet.ssrc, %error, "telephone-event dropped")
                }
            }
        }
        self.next_ready()
    }

    /// Feeds one telephone event read from a packet of `ssrc` stamped
    /// `rtp_timestamp`; returns a key press when one is complete. Events above
    /// 15 (tones, signals) are ignored.
    pub fn on_event(
        &mut self,
        now: Instant,
        ssrc: u32,
        rtp_timestamp: u32,
        event: TelephoneEvent,
    ) -> Option<Digit> {
        if let Some(digit) = event.digit() {
            let id = PressId {
                ssrc,
                timestamp: rtp_timestamp,
            };
            self.follow(now, id, digit, event);
        }
        self.next_ready()
    }

    /// When [`on_timeout`](Self::on_timeout) should next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if let Some(&(_, due)) = self.ready.front() {
            return Some(due);
        }
        self.current
            .as_ref()
            .filter(|press| !press.reported)
            .map(Press::deadline)
    }

    /// Lets time pass: reports a press whose packets stopped without an end
    /// [`END_TIMEOUT`] ago, or a digit already waiting. Returns one digit per
    /// call; call again while [`poll_timeout`](Self::poll_timeout) is `<= now`.
    pub fn on_timeout(&mut self, now: Instant) -> Option<Digit> {
        let expired = self
            .current
            .as_ref()
            .is_some_and(|press| !press.reported && now >= press.deadline());
        if expired {
            tracing::debug!("telephone-event without end packets: reported on timeout");
            self.report_current(now);
        }
        self.next_ready()
    }

    fn follow(&mut self, now: Instant, id: PressId, digit: Digit, event: TelephoneEvent) {
        if self.finished.contains(&id) {
            return; // a late packet of a press already over
        }
        if let Some(press) = self.current.as_mut() {
            if press.id == id {
                press.last_packet = now;
                press.longest = press.longest.max(event.duration);
            } else if press.continues_into(id, digit) {
                let segment = std::mem::replace(&mut press.id, id);
                press.longest = event.duration;
                press.last_packet = now;
                self.remember(segment);
            } else {
                // A new press: the one before is over, reported or not.
                let previous = press.id;
                if !press.reported {
                    tracing::debug!("telephone-event end packets lost: reported on the next press");
                }
                self.report_current(now);
                self.remember(previous);
                self.start(now, id, digit, event);
            }
        } else {
            self.start(now, id, digit, event);
        }
        if event.end {
            self.report_current(now);
        }
    }

    fn start(&mut self, now: Instant, id: PressId, digit: Digit, event: TelephoneEvent) {
        self.current = Some(Press {
            id,
            digit,
            longest: event.duration,
            last_packet: now,
            reported: false,
        });
    }

    /// Queues the current press's digit unless it was already.
    fn report_current(&mut self, now: Instant) {
        if let Some(press) = self.current.as_mut() {
            if !press.reported {
                press.reported = true;
                self.ready.push_back((press.digit, now));
            }
        }
    }

    fn remember(&mut self, id: PressId) {
        if self.finished.len() == REMEMBERED_PRESSES {
            self.finished.pop_front();
        }
        self.finished.push_back(id);
    }

    fn next_ready(&mut self) -> Option<Digit> {
        self.ready.pop_front().map(|(digit, _)| digit)
    }
}

/// The key a SIP INFO request carries, if it carries one.
///
/// - `application/dtmf-relay`: `key=value` lines (CRLF or LF), keys without
///   regard to case, spaces around them ignored; `Signal` is the key (`0`-`9`,
///   `*`, `#`, `A`-`D`, or the event codes `10`-`15` some gateways write),
///   `Duration` is optional and unused.
/// - `application/dtmf`: the body is the key alone, same spellings.
///
/// Media-type parameters (`;charset=…`) are ignored; any other content type,
/// a body that is not UTF-8, or a missing or unreadable signal gives `None`.
pub fn digit_from_info(content_type: &str, body: &[u8]) -> Option<Digit> {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    let body = std::str::from_utf8(body).ok()?;
    if media_type.eq_ignore_ascii_case("application/dtmf-relay") {
        body.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            if key.trim().eq_ignore_ascii_case("signal") {
                signal(value)
            } else {
                None
            }
        })
    } else if media_type.eq_ignore_ascii_case("application/dtmf") {
        signal(body)
    } else {
        None
    }
}

/// A key written as its character or as its RFC 4733 event code.
fn signal(value: &str) -> Option<Digit> {
    let value = value.trim();
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Digit::from_char(c),
        _ if value.len() == 2 && value.bytes().all(|b| b.is_ascii_digit()) => {
            value.parse().ok().and_then(Digit::from_event)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::{build, parse};
    use crate::testkit::proptest_config;
    use proptest::prelude::*;

    /// The telephone-event payload type most phones offer.
    const PT: u8 = 101;
    /// One 20 ms packet time in RTP timestamp units at 8 kHz.
    const PTIME: u16 = 160;

    /// A receiver on a simulated clock, with the shell's loop: fire due
    /// timeouts, feed the datagram, fire what became due.
    struct Harness {
        rx: DtmfReceiver,
        now: Instant,
        digits: String,
    }

    impl Harness {
        fn new(payload_type: u8) -> Self {
            Self {
                rx: DtmfReceiver::new(payload_type),
                now: Instant::now(), // the origin of simulated time, never read again
                digits: String::new(),
            }
        }

        /// Advances the clock by `ms`, firing every deadline on the way.
        fn wait(&mut self, ms: u64) {
            let until = self.now + Duration::from_millis(ms);
            while let Some(deadline) = self.rx.poll_timeout().filter(|d| *d <= until) {
                self.now = self.now.max(deadline);
                let digit = self.rx.on_timeout(self.now);
                self.digits
                    .push(digit.expect("a due deadline yields a digit").as_char());
            }
            self.now = until;
        }

        /// Receives one datagram `ms` after the previous input.
        fn receive(&mut self, ms: u64, datagram: &[u8]) {
            self.wait(ms);
            if let Ok(packet) = parse(datagram) {
                if let Some(digit) = self.rx.on_packet(self.now, &packet) {
                    self.digits.push(digit.as_char());
                }
            }
            self.wait(0);
        }

        fn receive_all(&mut self, ms: u64, datagrams: &[Vec<u8>]) {
            for datagram in datagrams {
                self.receive(ms, datagram);
            }
        }
    }

    /// A caller's RTP stream, sending key presses the way baresip's telev does.
    struct Phone {
        ssrc: u32,
        payload_type: u8,
        sequence: u16,
        /// RTP timestamp of the next press.
        clock: u32,
    }

    impl Phone {
        fn new(ssrc: u32, payload_type: u8, clock: u32) -> Self {
            Self {
                ssrc,
                payload_type,
                sequence: 1000,
                clock,
            }
        }

        fn packet(&mut self, timestamp: u32, marker: bool, event: TelephoneEvent) -> Vec<u8> {
            self.sequence = self.sequence.wrapping_add(1);
            build(
                self.ssrc,
                self.sequence,
                timestamp,
                self.payload_type,
                marker,
                &event.to_bytes(),
            )
            .unwrap()
        }

        /// One press: `updates` packets with a duration growing by one packet
        /// time (marker on the first), then 3 end packets with the final
        /// duration, all stamped with the press's start; then 200 ms of gap.
        fn press(&mut self, key: char, updates: u16) -> Vec<Vec<u8>> {
            let code = Digit::from_char(key).unwrap().event_code();
            let timestamp = self.clock;
            let mut packets = Vec::new();
            for n in 1..=updates {
                let event = TelephoneEvent {
                    event: code,
                    end: false,
                    volume: 10,
                    duration: n * PTIME,
                };
                packets.push(self.packet(timestamp, n == 1, event));
            }
            for _ in 0..3 {
                let event = TelephoneEvent {
                    event: code,
                    end: true,
                    volume: 10,
                    duration: updates * PTIME,
                };
                packets.push(self.packet(timestamp, false, event));
            }
            self.clock = timestamp.wrapping_add(u32::from((updates + 3) * PTIME) + 1600);
            packets
        }
    }

    /// Splits a press into its updates and its 3 end packets.
    fn without_ends(mut packets: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        packets.truncate(packets.len() - 3);
        packets
    }

    #[test]
    fn a_press_as_baresip_sends_it_is_one_digit() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let mut call = Harness::new(PT);
        call.receive_all(20, &phone.press('5', 9));
        assert_eq!(call.digits, "5");
        call.wait(10_000);
        assert_eq!(call.digits, "5");
        assert_eq!(call.rx.poll_timeout(), None);
    }

    #[test]
    fn the_digit_is_reported_on_the_first_end_packet() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let press = phone.press('7', 5);
        let mut call = Harness::new(PT);
        call.receive_all(20, &press[..5]);
        assert_eq!(call.digits, "");
        call.receive(20, &press[5]);
        assert_eq!(call.digits, "7");
    }

    #[test]
    fn two_presses_of_the_same_key_are_two_digits() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let mut call = Harness::new(PT);
        call.receive_all(20, &phone.press('2', 6));
        call.wait(200);
        call.receive_all(20, &phone.press('2', 6));
        assert_eq!(call.digits, "22");
    }

    #[test]
    fn a_conference_number_and_pound_arrive_in_order() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let mut call = Harness::new(PT);
        for key in "3832257#".chars() {
            call.receive_all(20, &phone.press(key, 6));
            call.wait(200);
        }
        assert_eq!(call.digits, "3832257#");
    }

    #[test]
    fn duplicated_end_packets_count_once() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let press = phone.press('9', 4);
        let end = press.last().unwrap().clone();
        let mut call = Harness::new(PT);
        call.receive_all(20, &press);
        for _ in 0..5 {
            call.receive(1, &end); // a network that duplicates
        }
        assert_eq!(call.digits, "9");
    }

    #[test]
    fn lost_end_packets_then_the_next_press_give_both_digits_once() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let mut call = Harness::new(PT);
        call.receive_all(20, &without_ends(phone.press('4', 6)));
        assert_eq!(call.digits, "");
        call.receive_all(20, &phone.press('6', 6));
        assert_eq!(call.digits, "46");
        call.wait(10_000);
        assert_eq!(call.digits, "46");
    }

    #[test]
    fn the_next_press_flushes_the_unended_one_on_its_first_packet() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let mut call = Harness::new(PT);
        call.receive_all(20, &without_ends(phone.press('1', 6)));
        let next = phone.press('2', 6);
        call.receive(100, &next[0]);
        assert_eq!(call.digits, "1");
    }

    #[test]
    fn lost_end_packets_and_nothing_after_are_reported_once_on_timeout() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let mut call = Harness::new(PT);
        call.receive_all(20, &without_ends(phone.press('8', 6)));
        let last_packet = call.now;
        assert_eq!(call.rx.poll_timeout(), Some(last_packet + END_TIMEOUT));
        call.wait(499);
        assert_eq!(call.digits, "");
        call.wait(1);
        assert_eq!(call.digits, "8");
        assert_eq!(call.rx.poll_timeout(), None);
        assert_eq!(call.rx.on_timeout(call.now + END_TIMEOUT * 10), None);
        assert_eq!(call.digits, "8");
    }

    #[test]
    fn each_packet_of_a_press_pushes_its_timeout_back() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let press = without_ends(phone.press('0', 30));
        let mut call = Harness::new(PT);
        // 400 ms between packets: slow, but never END_TIMEOUT without one.
        call.receive_all(400, &press);
        assert_eq!(call.digits, "");
        call.wait(500);
        assert_eq!(call.digits, "0");
    }

    #[test]
    fn late_packets_of_a_reported_press_yield_nothing() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let first = phone.press('3', 6);
        let second = phone.press('1', 6);
        let mut call = Harness::new(PT);
        call.receive_all(20, &first);
        call.receive_all(20, &second);
        // Reordered stragglers of the first press, and a start packet of the second.
        call.receive(5, &first[2]);
        call.receive(5, &first[7]);
        call.receive(5, &second[0]);
        call.wait(5_000);
        assert_eq!(call.digits, "31");
    }

    #[test]
    fn a_press_of_nothing_but_end_packets_is_still_one_digit() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let press = phone.press('#', 6);
        let mut call = Harness::new(PT);
        call.receive_all(20, &press[6..]);
        assert_eq!(call.digits, "#");
    }

    #[test]
    fn an_end_only_press_after_an_unended_one_gives_both_in_order() {
        let mut phone = Phone::new(0x1234, PT, 8000);
        let first = without_ends(phone.press('5', 6));
        let second = phone.press('6', 6);
        let mut call = Harness::new(PT);
        call.receive_all(20, &first);
        // One packet completes two presses: the second digit waits for on_timeout.
        let now = call.now + Duration::from_millis(20);
        let packet = parse(&second[6]).unwrap();
        assert_eq!(call.rx.on_packet(now, &packet), Some(Digit::Five));
        assert_eq!(call.rx.poll_timeout(), Some(now));
        assert_eq!(call.rx.on_timeout(now), Some(Digit::Six));
        assert_eq!(call.rx.poll_timeout(), None);
    }

    #[test]
    fn presses_across_the_timestamp_wrap_are_each_one_digit() {
        // The first press starts 160 units before 2^32; its packets keep that
        // timestamp, the next press is stamped after the wrap.
        let mut phone = Phone::new(0x1234, PT, u32::MAX - 159);
        let mut call = Harness::new(PT);
        call.receive_all(20, &phone.press('1', 6));
        assert!(phone.clock < 8000, "the second press is after the wrap");
        call.receive_all(20, &without_ends(phone.press('2', 6)));
        call.receive_all(20, &phone.press('3', 6));
        assert_eq!(call.digits, "123");
    }

    #[test]
    fn a_key_held_past_the_duration_field_is_one_digit() {
        // RFC 4733 §2.5.1.3: at 0xFFFF units the press goes on in a new
        // segment stamped 0xFFFF later, with no end bit on the first one.
        let mut call = Harness::new(PT);
        let start = u32::MAX - 30_000; // and across the wrap, for good measure
        let segment = |duration: u16, end: bool| TelephoneEvent {
            event: Digit::Star.event_code(),
            end,
            volume: 10,
            duration,
        };
        let mut feed = |timestamp: u32, event: TelephoneEvent| {
            call.now += Duration::from_millis(50);
            call.rx.on_event(call.now, 77, timestamp, event)
        };
        for duration in (400..=0xFFFF).step_by(400) {
            assert_eq!(feed(start, segment(duration, false)), None);
        }
        assert_eq!(feed(start, segment(0xFFFF, false)), None);
        let next = start.wrapping_add(0xFFFF);
        for duration in (400..8000).step_by(400) {
            assert_eq!(feed(next, segment(duration, false)), None);
        }
        assert_eq!(feed(start, segment(0xFFFF, false)), None); // a late retransmission
        assert_eq!(feed(next, segment(8000, true)), Some(Digit::Star));
        assert_eq!(feed(next, segment(8000, true)), None);
    }

    #[test]
    fn a_held_key_whose_sender_ends_each_segment_is_still_one_digit() {
        let mut call = Harness::new(PT);
        let event = |duration: u16, end: bool| TelephoneEvent {
            event: Digit::Nine.event_code(),
            end,
            volume: 10,
            duration,
        };
        let mut feed = |timestamp: u32, event: TelephoneEvent| {
            call.now += Duration::from_millis(50);
            call.rx.on_event(call.now, 77, timestamp, event)
        };
        assert_eq!(feed(1_000, event(0xFF00, false)), None);
        assert_eq!(feed(1_000, event(0xFFFF, true)), Some(Digit::Nine));
        assert_eq!(feed(1_000 + 0xFFFF, event(400, false)), None);
        assert_eq!(feed(1_000 + 0xFFFF, event(800, true)), None);
        // Released, then pressed again: a new press, stamped later than 0xFFFF.
        assert_eq!(
            feed(1_000 + 0xFFFF + 2_400, event(400, true)),
            Some(Digit::Nine)
        );
    }

    #[test]
    fn a_second_ssrc_mid_call_like_sipp_play_dtmf_is_followed() {
        // Offer: PCMU 0, telephone-event 96. sipp's play_dtmf sends 400 ms of
        // type-97 filler, then the events under type 96, from a new SSRC.
        let mut call = Harness::new(96);
        let mut softphone = Phone::new(0xaaaa, 96, 16_000);
        call.receive_all(20, &softphone.press('1', 6));
        let mut sipp = Phone::new(0xbbbb, 97, 4_000);
        for n in 0..20 {
            let filler = build(0xbbbb, n, 4_000 + u32::from(n) * 160, 97, false, &[0; 4]).unwrap();
            call.receive(20, &filler);
        }
        sipp.payload_type = 96;
        call.receive_all(20, &sipp.press('2', 5));
        call.receive_all(20, &sipp.press('3', 5));
        call.receive_all(20, &softphone.press('4', 6));
        assert_eq!(call.digits, "1234");
    }

    #[test]
    fn packets_of_other_payload_types_are_ignored() {
        let mut call = Harness::new(101);
        let mut phone = Phone::new(0x1234, 96, 8000);
        call.receive_all(20, &phone.press('5', 6));
        let audio = build(0x1234, 1, 0, 0, false, &[5, 0x8a, 0, 160]).unwrap();
        call.receive(20, &audio);
        call.wait(5_000);
        assert_eq!(call.digits, "");
    }

    #[test]
    fn events_above_15_and_short_payloads_are_ignored() {
        let mut call = Harness::new(PT);
        let flash = TelephoneEvent {
            event: 16,
            end: true,
            volume: 10,
            duration: 800,
        };
        call.receive(20, &build(1, 1, 160, PT, true, &flash.to_bytes()).unwrap());
        call.receive(20, &build(1, 2, 320, PT, true, &[5, 0x8a]).unwrap());
        call.wait(5_000);
        assert_eq!(call.digits, "");
    }

    /// sipp's `/usr/share/sip-tester/dtmf_2833_1.pcap`, the RTP of each frame:
    /// PT 101, marker on the first, SSRC 0x0e05384e, timestamp 0x33e0, key 1
    /// at -10 dBm0, the duration growing by 320 to 2240, the end packet sent
    /// three times with the same sequence number.
    const SIPP_DTMF_1: [[u8; 16]; 10] = [
        [
            0x80, 0xe5, 0x1f, 0x30, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x0a,
            0x00, 0x00,
        ],
        [
            0x80, 0x65, 0x1f, 0x31, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x0a,
            0x01, 0x40,
        ],
        [
            0x80, 0x65, 0x1f, 0x32, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x0a,
            0x02, 0x80,
        ],
        [
            0x80, 0x65, 0x1f, 0x33, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x0a,
            0x03, 0xc0,
        ],
        [
            0x80, 0x65, 0x1f, 0x34, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x0a,
            0x05, 0x00,
        ],
        [
            0x80, 0x65, 0x1f, 0x35, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x0a,
            0x06, 0x40,
        ],
        [
            0x80, 0x65, 0x1f, 0x36, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x0a,
            0x07, 0x80,
        ],
        [
            0x80, 0x65, 0x1f, 0x37, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x8a,
            0x08, 0xc0,
        ],
        [
            0x80, 0x65, 0x1f, 0x37, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x8a,
            0x08, 0xc0,
        ],
        [
            0x80, 0x65, 0x1f, 0x37, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x8a,
            0x08, 0xc0,
        ],
    ];

    /// The first and the end packet of sipp's `dtmf_2833_8.pcap` and
    /// `dtmf_2833_pound.pcap`: same SSRC, each key its own timestamp.
    const SIPP_DTMF_8: [[u8; 16]; 2] = [
        [
            0x80, 0xe5, 0x20, 0x3d, 0x00, 0x00, 0xed, 0x80, 0x0e, 0x05, 0x38, 0x4e, 0x08, 0x0a,
            0x00, 0x00,
        ],
        [
            0x80, 0x65, 0x20, 0x44, 0x00, 0x00, 0xed, 0x80, 0x0e, 0x05, 0x38, 0x4e, 0x08, 0x8a,
            0x08, 0xc0,
        ],
    ];
    const SIPP_DTMF_POUND: [[u8; 16]; 2] = [
        [
            0x80, 0xe5, 0x20, 0xf4, 0x00, 0x01, 0x69, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x0b, 0x0a,
            0x00, 0x00,
        ],
        [
            0x80, 0x65, 0x20, 0xfb, 0x00, 0x01, 0x69, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x0b, 0x8a,
            0x08, 0xc0,
        ],
    ];

    #[test]
    fn the_packets_of_sipps_dtmf_2833_pcaps_give_their_keys() {
        let mut call = Harness::new(101);
        for packet in &SIPP_DTMF_1 {
            call.receive(20, packet);
        }
        assert_eq!(call.digits, "1");
        // The capture sends the three end packets 0.04 ms apart: at once.
        for [start, end] in [&SIPP_DTMF_8, &SIPP_DTMF_POUND] {
            call.wait(300);
            call.receive(20, start);
            call.receive(140, end);
            call.receive(0, end);
            call.receive(0, end);
        }
        assert_eq!(call.digits, "18#");
    }

    #[test]
    fn a_replay_of_the_same_sipp_pcap_is_taken_for_the_same_press() {
        // The documented limit: identical SSRC and timestamp are one press.
        let mut call = Harness::new(101);
        for _ in 0..2 {
            for packet in &SIPP_DTMF_1 {
                call.receive(20, packet);
            }
            call.wait(500);
        }
        assert_eq!(call.digits, "1");
    }

    #[test]
    fn dtmf_relay_info_bodies_give_their_key() {
        let relay = "application/dtmf-relay";
        assert_eq!(
            digit_from_info(relay, b"Signal=5\r\nDuration=160\r\n"),
            Some(Digit::Five)
        );
        assert_eq!(
            digit_from_info(relay, b"Signal=5\nDuration=160\n"),
            Some(Digit::Five)
        );
        assert_eq!(
            digit_from_info(relay, b"Signal= 5\r\nDuration= 160\r\n"),
            Some(Digit::Five)
        );
        assert_eq!(digit_from_info(relay, b"signal = *\r\n"), Some(Digit::Star));
        assert_eq!(
            digit_from_info(relay, b"Duration=250\r\nSIGNAL=#"),
            Some(Digit::Pound)
        );
        assert_eq!(
            digit_from_info(relay, b"Signal=11\r\nDuration=100\r\n"),
            Some(Digit::Pound)
        );
        assert_eq!(digit_from_info(relay, b"Signal=d\r\n"), Some(Digit::D));
        assert_eq!(
            digit_from_info("Application/DTMF-Relay; charset=utf-8", b"Signal=0\r\n"),
            Some(Digit::Zero)
        );
    }

    #[test]
    fn dtmf_info_bodies_give_their_key() {
        let dtmf = "application/dtmf";
        assert_eq!(digit_from_info(dtmf, b"5"), Some(Digit::Five));
        assert_eq!(digit_from_info(dtmf, b"5\r\n"), Some(Digit::Five));
        assert_eq!(digit_from_info(dtmf, b"*"), Some(Digit::Star));
        assert_eq!(digit_from_info(dtmf, b"#"), Some(Digit::Pound));
        assert_eq!(digit_from_info(dtmf, b"10"), Some(Digit::Star));
        assert_eq!(digit_from_info(dtmf, b"11"), Some(Digit::Pound));
    }

    #[test]
    fn garbage_info_bodies_give_no_key() {
        let relay = "application/dtmf-relay";
        let dtmf = "application/dtmf";
        for body in [
            &b""[..],
            b"Signal=\r\n",
            b"Signal=55\r\n",
            b"Signal=E\r\n",
            b"Signal=16\r\n",
            b"Duration=160\r\n",
            b"Signal 5\r\n",
            b"Signals=5\r\n",
            b"\xff\xfe",
        ] {
            assert_eq!(digit_from_info(relay, body), None, "{body:?}");
        }
        for body in [&b""[..], b"55", b"x", b"Signal=5", b"5 5", b"\xc3"] {
            assert_eq!(digit_from_info(dtmf, body), None, "{body:?}");
        }
        assert_eq!(digit_from_info("application/sdp", b"Signal=5\r\n"), None);
        assert_eq!(digit_from_info("text/plain", b"5"), None);
        assert_eq!(digit_from_info("", b"5"), None);
    }

    /// One step of a caller's stream as the network delivers it.
    #[derive(Debug, Clone)]
    enum Step {
        /// A telephone event of press `press` (an index into the identities).
        Packet {
            press: usize,
            end: bool,
            duration: u16,
            after_ms: u64,
        },
        /// The shell fires what is due after `after_ms`.
        Poll { after_ms: u64 },
    }

    /// Timestamps that meet at the edges: zero, one packet, the sign bit, the wrap.
    const TIMESTAMPS: [u32; 8] = [
        0,
        160,
        8_000,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ff60,
        u32::MAX,
        1_000_000,
    ];
    const SSRCS: [u32; 2] = [0x0e05_384e, 0xbbbb];

    /// The press (SSRC, timestamp) behind index `press`; its key is `press`
    /// itself, so every digit reported names the press it came from.
    fn identity(press: usize) -> (u32, u32) {
        (SSRCS[press / 8], TIMESTAMPS[press % 8])
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        let step = prop_oneof![
            8 => (0usize..16, any::<bool>(), any::<u16>(), 0u64..700).prop_map(
                |(press, end, duration, after_ms)| Step::Packet { press, end, duration, after_ms }
            ),
            1 => (0u64..1_000).prop_map(|after_ms| Step::Poll { after_ms }),
        ];
        proptest::collection::vec(step, 0..64)
    }

    /// Fires every due deadline; a deadline at or before `now` must yield a digit.
    fn fire_due(
        rx: &mut DtmfReceiver,
        now: Instant,
        digits: &mut Vec<Digit>,
    ) -> Result<(), TestCaseError> {
        while rx.poll_timeout().is_some_and(|deadline| deadline <= now) {
            let digit = rx.on_timeout(now);
            prop_assert!(digit.is_some(), "a due deadline yielded nothing");
            digits.extend(digit);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(proptest_config(2_000))]

        /// Whatever the loss, duplication, reordering and timing: each press
        /// with at least one packet gives its digit exactly once.
        #[test]
        fn every_press_that_sent_a_packet_gives_its_digit_exactly_once(steps in steps()) {
            let mut rx = DtmfReceiver::new(PT);
            let mut now = Instant::now();
            let mut digits = Vec::new();
            let mut pressed = [false; 16];
            for step in steps {
                match step {
                    Step::Packet { press, end, duration, after_ms } => {
                        now += Duration::from_millis(after_ms);
                        let (ssrc, timestamp) = identity(press);
                        let event = TelephoneEvent { event: press as u8, end, volume: 10, duration };
                        digits.extend(rx.on_event(now, ssrc, timestamp, event));
                        pressed[press] = true;
                    }
                    Step::Poll { after_ms } => {
                        now += Duration::from_millis(after_ms);
                        fire_due(&mut rx, now, &mut digits)?;
                    }
                }
            }
            fire_due(&mut rx, now + END_TIMEOUT, &mut digits)?;
            prop_assert_eq!(rx.poll_timeout(), None);
            let mut counts = [0u32; 16];
            for digit in &digits {
                counts[usize::from(digit.event_code())] += 1;
            }
            for press in 0..16 {
                prop_assert_eq!(counts[press], u32::from(pressed[press]), "press {}", press);
            }
        }

        /// Arbitrary events, keys and timestamps from a few sources: no panic,
        /// and never more digits than distinct (SSRC, timestamp) pairs.
        #[test]
        fn arbitrary_events_never_give_more_digits_than_presses(
            events in proptest::collection::vec(
                (0usize..3, any::<u32>(), any::<u8>(), any::<bool>(), any::<u16>(), 0u64..2_000),
                0..64,
            ),
            repeat_timestamps: bool,
        ) {
            let mut rx = DtmfReceiver::new(PT);
            let mut now = Instant::now();
            let mut digits = Vec::new();
            let mut presses = Vec::new();
            for (source, timestamp, code, end, duration, after_ms) in events {
                now += Duration::from_millis(after_ms);
                // Half the runs draw timestamps from a handful, to collide often.
                let timestamp = if repeat_timestamps { timestamp % 4 * 0x5555_5555 } else { timestamp };
                let event = TelephoneEvent { event: code, end, volume: 0, duration };
                digits.extend(rx.on_event(now, source as u32, timestamp, event));
                if code <= 15 && !presses.contains(&(source, timestamp)) {
                    presses.push((source, timestamp));
                }
            }
            fire_due(&mut rx, now + END_TIMEOUT, &mut digits)?;
            prop_assert!(digits.len() <= presses.len());
            prop_assert_eq!(digits.is_empty(), presses.is_empty());
        }
    }
}
