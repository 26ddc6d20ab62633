//! A UDP sink on loopback that reads the RFC 4733 digits a peer sends: the media
//! address a fake answerer gives, to check what a real peer keys in.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

/// What a [`DigitSink`] received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    /// The digits keyed, in order (`0`–`9`, `*`, `#`, `A`–`D`): one per distinct event
    /// (SSRC, RTP timestamp), however many packets carried it.
    pub digits: String,
    /// Packets per RTP payload type, all types included.
    pub payload_types: BTreeMap<u8, usize>,
}

/// A bound UDP socket on 127.0.0.1.
#[derive(Debug)]
pub struct DigitSink {
    socket: UdpSocket,
    port: u16,
}

impl DigitSink {
    /// Binds a free port.
    pub async fn bind() -> std::io::Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        let port = socket.local_addr()?.port();
        Ok(Self { socket, port })
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Reads until `count` digits came as telephone-event on `payload_type`, or
    /// `limit` passed; other payload types are counted and skipped.
    pub async fn read_digits(&self, payload_type: u8, count: usize, limit: Duration) -> Received {
        let deadline = Instant::now() + limit;
        let mut received = Received::default();
        let mut seen = HashSet::new();
        let mut buf = [0u8; 2048];
        while received.digits.chars().count() < count {
            let Ok(Ok(n)) = tokio::time::timeout_at(deadline, self.socket.recv(&mut buf)).await
            else {
                break;
            };
            let Some((pt, ssrc, timestamp, payload)) = rtp(&buf[..n]) else {
                continue;
            };
            *received.payload_types.entry(pt).or_default() += 1;
            if pt != payload_type || payload.len() < 4 {
                continue;
            }
            if seen.insert((ssrc, timestamp)) {
                received.digits.push(event_char(payload[0]));
            }
        }
        received
    }
}

/// (payload type, SSRC, timestamp, payload) of an RTP packet.
fn rtp(packet: &[u8]) -> Option<(u8, u32, u32, &[u8])> {
    if packet.len() < 12 || packet[0] >> 6 != 2 {
        return None;
    }
    let be32 =
        |i: usize| u32::from_be_bytes([packet[i], packet[i + 1], packet[i + 2], packet[i + 3]]);
    let csrcs = usize::from(packet[0] & 0x0f);
    let mut start = 12 + 4 * csrcs;
    if packet[0] & 0x10 != 0 {
        let words = usize::from(u16::from_be_bytes([
            *packet.get(start + 2)?,
            *packet.get(start + 3)?,
        ]));
        start += 4 + 4 * words;
    }
    let mut end = packet.len();
    if packet[0] & 0x20 != 0 {
        end = end.checked_sub(usize::from(*packet.last()?))?;
    }
    Some((packet[1] & 0x7f, be32(8), be32(4), packet.get(start..end)?))
}

/// RFC 4733 § 3.2's DTMF events.
fn event_char(event: u8) -> char {
    match event {
        0..=9 => char::from(b'0' + event),
        10 => '*',
        11 => '#',
        12..=15 => char::from(b'A' + event - 12),
        _ => '?',
    }
}
