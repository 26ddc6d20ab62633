//! RFC 4733 telephone events: the 4-byte payload (§2.3) and the sixteen DTMF
//! keys it names (§3.2, event codes 0-15).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     event     |E|R| volume    |          duration             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Turning a stream of these into key presses is [`crate::rtp::DtmfReceiver`]'s job.

use std::fmt;

use super::RtpError;

/// Length of one event in a telephone-event payload (RFC 4733 §2.3).
pub const EVENT_LEN: usize = 4;

/// One telephone-event report (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TelephoneEvent {
    /// Event code (§2.3.1): 0-15 are the DTMF keys (§3.2), higher codes are
    /// tones and signals the IVR does not use.
    pub event: u8,
    /// E bit (§2.3.2): this packet reports the end of the event; senders send
    /// the end packet three times (§2.5.1.4).
    pub end: bool,
    /// Power level in -dBm0, 0-63 (§2.3.4). The R bit (§2.3.3) is ignored.
    pub volume: u8,
    /// Duration so far, in timestamp units from the event's RTP timestamp (§2.3.5).
    pub duration: u16,
}

impl TelephoneEvent {
    /// The DTMF key this event is, if it is one (codes 0-15).
    pub fn digit(&self) -> Option<Digit> {
        Digit::from_event(self.event)
    }

    /// The 4 bytes of this event (the R bit clear, the volume cut to 6 bits),
    /// for a node that sends DTMF and for tests that play a caller.
    pub fn to_bytes(&self) -> [u8; EVENT_LEN] {
        let [high, low] = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3f),
            high,
            low,
        ]
    }
}

/// Reads a telephone-event payload (RFC 4733 §2.3).
///
/// A payload shorter than 4 bytes is refused. A longer one carries several
/// events packed into one packet (§2.5.1.5, used by senders that pack short
/// events back to back) or trailing bytes from a careless sender: only the
/// first event is read. No peer this node meets (sipp, baresip, Asterisk,
/// FreeSWITCH) packs events, and RFC 2198 redundancy comes under its own
/// payload type, not this one.
pub fn parse_event(payload: &[u8]) -> Result<TelephoneEvent, RtpError> {
    match payload {
        [event, flags, high, low, ..] => Ok(TelephoneEvent {
            event: *event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([*high, *low]),
        }),
        _ => Err(RtpError::ShortEvent(payload.len())),
    }
}

/// A telephone keypad key: the DTMF events 0-15 of RFC 4733 §3.2, in event-code order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Digit {
    /// `0` (event 0).
    Zero = 0,
    /// `1` (event 1).
    One = 1,
    /// `2` (event 2).
    Two = 2,
    /// `3` (event 3).
    Three = 3,
    /// `4` (event 4).
    Four = 4,
    /// `5` (event 5).
    Five = 5,
    /// `6` (event 6).
    Six = 6,
    /// `7` (event 7).
    Seven = 7,
    /// `8` (event 8).
    Eight = 8,
    /// `9` (event 9).
    Nine = 9,
    /// `*` (event 10).
    Star = 10,
    /// `#` (event 11), the IVR's "end of input".
    Pound = 11,
    /// `A` (event 12), found on some business and military keypads.
    A = 12,
    /// `B` (event 13).
    B = 13,
    /// `C` (event 14).
    C = 14,
    /// `D` (event 15).
    D = 15,
}

impl Digit {
    /// Every key, indexed by its event code.
    pub const ALL: [Digit; 16] = [
        Digit::Zero,
        Digit::One,
        Digit::Two,
        Digit::Three,
        Digit::Four,
        Digit::Five,
        Digit::Six,
        Digit::Seven,
        Digit::Eight,
        Digit::Nine,
        Digit::Star,
        Digit::Pound,
        Digit::A,
        Digit::B,
        Digit::C,
        Digit::D,
    ];

    /// The key for an RFC 4733 event code; codes above 15 are not keys.
    pub fn from_event(code: u8) -> Option<Digit> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// The RFC 4733 event code of this key.
    pub fn event_code(self) -> u8 {
        self as u8
    }

    /// The character printed on the key: `0`-`9`, `*`, `#`, `A`-`D`.
    pub fn as_char(self) -> char {
        char::from(b"0123456789*#ABCD"[usize::from(self.event_code())])
    }

    /// The key printed with this character (`a`-`d` accepted for `A`-`D`).
    pub fn from_char(c: char) -> Option<Digit> {
        match c {
            '0'..='9' => Digit::from_event(c as u8 - b'0'),
            '*' => Some(Digit::Star),
            '#' => Some(Digit::Pound),
            'A'..='D' => Digit::from_event(c as u8 - b'A' + 12),
            'a'..='d' => Digit::from_event(c as u8 - b'a' + 12),
            _ => None,
        }
    }
}

impl fmt::Display for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_event_end_bit_volume_and_duration() {
        // The last packet of sipp's dtmf_2833_1.pcap: key 1, E set, -10 dBm0, 2240 units.
        assert_eq!(
            parse_event(&[0x01, 0x8a, 0x08, 0xc0]),
            Ok(TelephoneEvent {
                event: 1,
                end: true,
                volume: 10,
                duration: 2240,
            })
        );
    }

    #[test]
    fn ignores_the_reserved_bit() {
        let event = parse_event(&[0x0b, 0x4a, 0x00, 0xa0]).unwrap();
        assert!(!event.end);
        assert_eq!(event.volume, 10);
        assert_eq!(event.digit(), Some(Digit::Pound));
    }

    #[test]
    fn refuses_a_payload_shorter_than_four_bytes() {
        for len in 0..4 {
            assert_eq!(
                parse_event(&[5, 0x80, 0, 0][..len]),
                Err(RtpError::ShortEvent(len))
            );
        }
    }

    #[test]
    fn reads_the_first_event_of_a_payload_that_carries_several() {
        let payload = [3, 0x8a, 0x03, 0x20, 4, 0x0a, 0x00, 0xa0];
        let event = parse_event(&payload).unwrap();
        assert_eq!((event.event, event.end, event.duration), (3, true, 800));
    }

    #[test]
    fn event_codes_0_to_15_are_the_sixteen_keys_in_keypad_order() {
        let keys: String = (0..=15)
            .map(|code| Digit::from_event(code).unwrap().as_char())
            .collect();
        assert_eq!(keys, "0123456789*#ABCD");
        assert_eq!(Digit::from_event(16), None); // flash is not a key
        assert_eq!(Digit::from_event(255), None);
    }

    #[test]
    fn keys_read_from_their_characters() {
        for digit in Digit::ALL {
            assert_eq!(Digit::from_char(digit.as_char()), Some(digit));
            assert_eq!(digit.to_string(), digit.as_char().to_string());
        }
        assert_eq!(Digit::from_char('d'), Some(Digit::D));
        assert_eq!(Digit::from_char('E'), None);
        assert_eq!(Digit::from_char(' '), None);
    }

    proptest! {
        #![proptest_config(crate::testkit::proptest_config(2_000))]

        #[test]
        fn every_written_event_reads_back(event: u8, end: bool, volume in 0u8..64, duration: u16) {
            let written = TelephoneEvent { event, end, volume, duration };
            prop_assert_eq!(parse_event(&written.to_bytes()), Ok(written));
        }
    }
}
