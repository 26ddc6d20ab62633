//! RTP packets (RFC 3550 §5.1), read and written through `rtp-rs`.
//!
//! [`parse`] is the one door from a media port's datagrams to RTP: it accepts
//! version 2 only, lets `rtp-rs` walk the CSRC list, header extension and
//! padding, and refuses RTCP that lands on the RTP port (rtcp-mux, RFC 5761, or
//! a misrouted peer) before `rtp-rs` would mistake it for RTP. It never panics:
//! a proptest over arbitrary bytes in this file holds it to that.
//!
//! [`write`] writes the plain packets the node sends (no CSRC, extension or
//! padding) into a buffer of the sender's; [`build`] into a new vector, as the
//! tests feed packets back in.

use std::ops::RangeInclusive;

use rtp_rs::{RtpReader, RtpReaderError};

/// Values of the second header byte that are RTCP packet types, not RTP.
///
/// RFC 5761 §4: RTCP packet types 192-223 (SR 200, RR 201, SDES 202, BYE 203,
/// APP 204, RTPFB 205, PSFB 206, XR 207, …) occupy the byte where RTP has its
/// marker bit and payload type, so RTP sessions that share a port with RTCP
/// must not use payload types 64-95. A datagram whose second byte falls here
/// is RTCP (or an RTP packet no peer of ours may send).
const RTCP_PACKET_TYPES: RangeInclusive<u8> = 192..=223;

/// Length of the fixed RTP header (RFC 3550 §5.1).
const FIXED_HEADER_LEN: usize = 12;

/// Why a datagram is not an RTP packet we can read, or a packet could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// The datagram ends before its header does (the fixed 12 bytes, the CSRC
    /// list or the header extension).
    #[error("RTP datagram too short: {len} bytes, its header needs {needed}")]
    TooShort {
        /// Bytes received.
        len: usize,
        /// Bytes the header announces.
        needed: usize,
    },
    /// The version field is not 2 (RFC 3550 §5.1).
    #[error("unsupported RTP version {0}, only 2 is spoken")]
    BadVersion(u8),
    /// An RTCP packet (its packet type given) arrived where RTP was expected.
    #[error("RTCP packet type {0} on the RTP port")]
    Rtcp(u8),
    /// The header is inconsistent (for instance a padding count larger than the packet).
    #[error("malformed RTP: {0}")]
    Malformed(String),
    /// A telephone-event payload shorter than the 4 bytes of RFC 4733 §2.3.
    #[error("telephone-event payload of {0} bytes, RFC 4733 needs 4")]
    ShortEvent(usize),
    /// A payload type above 127 cannot be written in RTP's 7-bit field.
    #[error("payload type {0} does not fit RTP's 7 bits")]
    PayloadType(u8),
}

/// A read view of one RTP packet: the header fields the node uses and the
/// payload (CSRCs, header extension and padding already stepped over).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// Synchronisation source: one per sending stream; a peer may switch
    /// mid-call (sipp's `play_dtmf` does).
    pub ssrc: u32,
    /// Sequence number (wraps at 2^16).
    pub sequence: u16,
    /// Media timestamp in the payload's clock (8 kHz for G.711 and telephone-event).
    pub timestamp: u32,
    /// Payload type (0-127): the caller routes on it (audio codec, telephone-event, unknown).
    pub payload_type: u8,
    /// Marker bit: start of a talkspurt for audio, first packet of an event for RFC 4733.
    pub marker: bool,
    /// The payload, without padding.
    pub payload: &'a [u8],
}

/// Reads one RTP datagram.
///
/// Refuses anything but version 2, RTCP packet types (RFC 5761 §4), and
/// headers that run past the datagram or announce impossible padding.
pub fn parse(datagram: &[u8]) -> Result<RtpPacket<'_>, RtpError> {
    // RTCP shares the version bits with RTP; tell it apart before rtp-rs reads
    // an 8-byte receiver report as a short RTP packet or an SR as payload type 72.
    if let [first, second, ..] = datagram {
        if first >> 6 == 2 && RTCP_PACKET_TYPES.contains(second) {
            return Err(RtpError::Rtcp(*second));
        }
    }
    let reader = RtpReader::new(datagram).map_err(|e| reader_error(e, datagram.len()))?;
    Ok(RtpPacket {
        ssrc: reader.ssrc(),
        sequence: reader.sequence_number().into(),
        timestamp: reader.timestamp(),
        payload_type: reader.payload_type(),
        marker: reader.mark(),
        payload: reader.payload(),
    })
}

/// Writes a plain RTP packet (no CSRC, extension or padding), as the tests
/// play a caller: [`write`] into a new vector.
///
/// Fails only for a payload type above 127.
pub fn build(
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    payload_type: u8,
    marker: bool,
    payload: &[u8],
) -> Result<Vec<u8>, RtpError> {
    let mut datagram = vec![0; FIXED_HEADER_LEN + payload.len()];
    write(
        &mut datagram,
        ssrc,
        sequence,
        timestamp,
        payload_type,
        marker,
        payload,
    )?;
    Ok(datagram)
}

/// Writes a plain RTP packet (no CSRC, extension or padding) at the start of
/// `out`, as the node sends its audio: into a buffer of its own, so that a
/// packet sent allocates nothing. Returns the packet's length.
///
/// Fails for a payload type above 127, or an `out` shorter than the packet
/// ([`RtpError::TooShort`]).
pub fn write(
    out: &mut [u8],
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    payload_type: u8,
    marker: bool,
    payload: &[u8],
) -> Result<usize, RtpError> {
    if payload_type > 0x7F {
        return Err(RtpError::PayloadType(payload_type));
    }
    let len = FIXED_HEADER_LEN + payload.len();
    let Some(packet) = out.get_mut(..len) else {
        return Err(RtpError::TooShort {
            len: out.len(),
            needed: len,
        });
    };
    let (header, body) = packet.split_at_mut(FIXED_HEADER_LEN);
    // RFC 3550 §5.1: V=2, no padding, extension nor CSRC; M and PT; then the
    // sequence number, timestamp and SSRC in network order.
    header[0] = 2 << 6;
    header[1] = (u8::from(marker) << 7) | payload_type;
    header[2..4].copy_from_slice(&sequence.to_be_bytes());
    header[4..8].copy_from_slice(&timestamp.to_be_bytes());
    header[8..12].copy_from_slice(&ssrc.to_be_bytes());
    body.copy_from_slice(payload);
    Ok(len)
}

fn reader_error(error: RtpReaderError, len: usize) -> RtpError {
    match error {
        RtpReaderError::BufferTooShort(_) => RtpError::TooShort {
            len,
            needed: FIXED_HEADER_LEN,
        },
        RtpReaderError::UnsupportedVersion(version) => RtpError::BadVersion(version),
        // rtp-rs reports a padded packet with no room for its padding count as
        // a header of exactly the datagram's length: one more byte is needed.
        RtpReaderError::HeadersTruncated { header_len, .. } => RtpError::TooShort {
            len,
            needed: header_len.max(len + 1),
        },
        RtpReaderError::PaddingLengthInvalid(count) => {
            RtpError::Malformed(format!("padding count {count} does not fit the packet"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::parse_event;
    use crate::testkit::proptest_config;
    use proptest::prelude::*;
    use proptest::test_runner::TestRunner;
    use std::cell::Cell;

    /// A µ-law packet as a softphone sends it: PT 0, 20 ms of audio (160 bytes).
    fn g711_packet() -> Vec<u8> {
        let mut datagram = vec![
            0x80, 0x00, // V=2, no padding/extension/CSRC; no marker, PT 0 (PCMU)
            0x1b, 0x39, // sequence 6969
            0x00, 0x01, 0xf4, 0x00, // timestamp 128000
            0xde, 0xad, 0xbe, 0xef, // SSRC
        ];
        datagram.extend(std::iter::repeat_n(0xff, 160)); // µ-law silence
        datagram
    }

    #[test]
    fn reads_the_header_fields_and_payload_of_a_g711_packet() {
        let datagram = g711_packet();
        let packet = parse(&datagram).unwrap();
        assert_eq!(packet.ssrc, 0xdead_beef);
        assert_eq!(packet.sequence, 6969);
        assert_eq!(packet.timestamp, 128_000);
        assert_eq!(packet.payload_type, 0);
        assert!(!packet.marker);
        assert_eq!(packet.payload.len(), 160);
        assert!(packet.payload.iter().all(|&b| b == 0xff));
    }

    #[test]
    fn reads_the_marker_bit_of_a_talkspurt_start() {
        let mut datagram = g711_packet();
        datagram[1] = 0x88; // marker + PT 8 (PCMA)
        let packet = parse(&datagram).unwrap();
        assert!(packet.marker);
        assert_eq!(packet.payload_type, 8);
    }

    #[test]
    fn refuses_a_datagram_shorter_than_the_fixed_header() {
        assert_eq!(
            parse(&g711_packet()[..11]),
            Err(RtpError::TooShort {
                len: 11,
                needed: 12
            })
        );
        assert_eq!(parse(&[]), Err(RtpError::TooShort { len: 0, needed: 12 }));
    }

    #[test]
    fn refuses_rtp_version_1() {
        let mut datagram = g711_packet();
        datagram[0] = 0x40;
        assert_eq!(parse(&datagram), Err(RtpError::BadVersion(1)));
    }

    #[test]
    fn refuses_rtcp_packet_types_200_to_204_on_the_rtp_port() {
        // A receiver report with one report block, as a misrouted peer sends it.
        let mut report = vec![0x81, 201, 0x00, 0x07, 0x12, 0x34, 0x56, 0x78];
        report.extend([0u8; 24]);
        for packet_type in 200..=204 {
            report[1] = packet_type;
            assert_eq!(parse(&report), Err(RtpError::Rtcp(packet_type)));
        }
        // An 8-byte receiver report with no block is RTCP, not a short RTP packet.
        assert_eq!(parse(&report[..8]), Err(RtpError::Rtcp(204)));
    }

    #[test]
    fn steps_over_the_csrc_list_and_header_extension_to_the_payload() {
        let datagram = [
            0x92, 0x00, 0x00, 0x01, // V=2, X=1, CC=2; PT 0; seq 1
            0x00, 0x00, 0x00, 0xa0, // timestamp 160
            0x00, 0x00, 0x00, 0x2a, // SSRC 42
            0x00, 0x00, 0x00, 0x01, // CSRC 1
            0x00, 0x00, 0x00, 0x02, // CSRC 2
            0xbe, 0xde, 0x00, 0x01, // one-byte extension profile, 1 word
            0x10, 0x7f, 0x00, 0x00, // audio level element
            0xaa, 0xbb, // payload
        ];
        let packet = parse(&datagram).unwrap();
        assert_eq!(packet.ssrc, 42);
        assert_eq!(packet.timestamp, 160);
        assert_eq!(packet.payload, &[0xaa, 0xbb]);
    }

    #[test]
    fn drops_the_padding_from_the_payload() {
        let mut datagram = g711_packet()[..12].to_vec();
        datagram[0] |= 0x20; // P=1
        datagram.extend([1, 2, 3, 0, 0, 3]); // 3 payload bytes, 3 of padding
        assert_eq!(parse(&datagram).unwrap().payload, &[1, 2, 3]);
    }

    #[test]
    fn refuses_a_csrc_list_or_extension_that_runs_past_the_datagram() {
        let mut datagram = g711_packet()[..16].to_vec();
        datagram[0] = 0x83; // CC=3: 12 bytes of CSRC, only 4 present
        assert_eq!(
            parse(&datagram),
            Err(RtpError::TooShort {
                len: 16,
                needed: 24
            })
        );
        datagram[0] = 0x90; // X=1, extension header announces 0xffff words
        datagram[12..16].copy_from_slice(&[0xbe, 0xde, 0xff, 0xff]);
        assert!(matches!(parse(&datagram), Err(RtpError::TooShort { .. })));
    }

    #[test]
    fn refuses_padding_longer_than_the_packet() {
        let mut datagram = g711_packet()[..12].to_vec();
        datagram[0] |= 0x20;
        datagram.extend([1, 2, 200]);
        assert!(matches!(parse(&datagram), Err(RtpError::Malformed(_))));
        datagram[14] = 0; // a padding count of zero is no padding at all
        assert!(matches!(parse(&datagram), Err(RtpError::Malformed(_))));
    }

    #[test]
    fn builds_what_it_parses() {
        let datagram = build(7, 65_535, u32::MAX, 101, true, &[1, 0x8a, 0, 160]).unwrap();
        assert_eq!(&datagram[..2], &[0x80, 0xe5]);
        assert_eq!(
            parse(&datagram).unwrap(),
            RtpPacket {
                ssrc: 7,
                sequence: 65_535,
                timestamp: u32::MAX,
                payload_type: 101,
                marker: true,
                payload: &[1, 0x8a, 0, 160],
            }
        );
    }

    #[test]
    fn refuses_to_build_a_payload_type_above_127() {
        assert_eq!(
            build(1, 1, 1, 128, false, &[]),
            Err(RtpError::PayloadType(128))
        );
    }

    #[test]
    fn refuses_to_write_into_a_buffer_shorter_than_the_packet() {
        let mut out = [0; 20];
        assert_eq!(
            write(&mut out, 1, 1, 1, 0, false, &[0xFF; 9]),
            Err(RtpError::TooShort {
                len: 20,
                needed: 21
            })
        );
        assert_eq!(write(&mut out, 1, 1, 1, 0, false, &[0xFF; 8]), Ok(20));
    }

    proptest! {
        #![proptest_config(proptest_config(500))]

        /// The header written by hand is the one `rtp-rs` builds.
        #[test]
        fn writes_what_rtp_rs_builds(
            ssrc: u32,
            sequence: u16,
            timestamp: u32,
            payload_type in 0u8..128,
            marker: bool,
            payload in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let expected = rtp_rs::RtpPacketBuilder::new()
                .payload_type(payload_type)
                .marked(marker)
                .sequence(rtp_rs::Seq::from(sequence))
                .timestamp(timestamp)
                .ssrc(ssrc)
                .payload(&payload)
                .build()
                .unwrap();
            let mut out = [0; 256];
            let len = write(&mut out, ssrc, sequence, timestamp, payload_type, marker, &payload).unwrap();
            prop_assert_eq!(&out[..len], &expected[..]);
        }
    }

    /// Bytes a media port may receive: anything at all, and datagrams that
    /// claim version 2 so the fuzz reaches the CSRC, extension and padding paths.
    fn datagrams() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..96),
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..96)).prop_map(
                |(first, rest)| {
                    let mut datagram = vec![0x80 | (first & 0x3f)];
                    datagram.extend(rest);
                    datagram
                }
            ),
        ]
    }

    /// The RTP and RFC 4733 decoder never panics, and what it accepts is
    /// consistent: the payload lies inside the datagram and the payload type
    /// fits 7 bits. Prints the number of inputs it ran (run with
    /// `--nocapture`); `PROPTEST_CASES=1000000` gives the million-input run.
    #[test]
    fn the_rtp_and_telephone_event_decoders_never_panic_on_arbitrary_bytes() {
        let ran = Cell::new(0u64);
        let started = std::time::Instant::now(); // measures the test, not protocol time
        let mut runner = TestRunner::new(proptest_config(2_000));
        let outcome = runner.run(&datagrams(), |datagram| {
            ran.set(ran.get() + 1);
            let _ = parse_event(&datagram);
            if let Ok(packet) = parse(&datagram) {
                prop_assert!(packet.payload_type <= 0x7f);
                prop_assert!(packet.payload.len() + FIXED_HEADER_LEN <= datagram.len());
                let _ = parse_event(packet.payload);
            }
            Ok(())
        });
        println!(
            "rtp decoder fuzz: {} inputs in {:.1?}",
            ran.get(),
            started.elapsed()
        );
        if let Err(failure) = outcome {
            panic!("{failure}");
        }
    }

    proptest! {
        #![proptest_config(proptest_config(2_000))]

        #[test]
        fn every_built_packet_parses_back_to_its_fields(
            ssrc: u32,
            sequence: u16,
            timestamp: u32,
            payload_type in 0u8..=0x7f,
            marker: bool,
            payload in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let datagram = build(ssrc, sequence, timestamp, payload_type, marker, &payload).unwrap();
            let parsed = parse(&datagram);
            if marker && (64..=95).contains(&payload_type) {
                // RFC 5761 §4: these look like RTCP and are refused.
                prop_assert!(matches!(parsed, Err(RtpError::Rtcp(_))));
            } else {
                prop_assert_eq!(parsed, Ok(RtpPacket {
                    ssrc, sequence, timestamp, payload_type, marker, payload: &payload,
                }));
            }
        }
    }
}
